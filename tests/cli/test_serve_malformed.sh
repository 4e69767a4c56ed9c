#!/usr/bin/env bash
# sipwarden serve against malformed input: every RFC 4475 invalid request sent
# byte for byte over UDP gets the RFC's answer with a reason phrase naming the
# problem (or, when the start line itself is broken, no answer), the
# valid-syntax cases get their application answer, and junk (garbage, an
# empty datagram, a response, an oversized message) never stops the server.
#
# The corpus messages carry no rport, so the answer goes to the source
# address and the port of the top Via (RFC 3261 18.2.2; 5060 when none): the
# client binds 127.0.0.N:VIAPORT, an address of its own on loopback.
. "$(dirname "$0")/serve_lib.sh"
C="$SW_CORPUS/rfc4475"
[ -d "$C" ] || { not_ok "no corpus at $C"; finish; exit 1; }

SW_DB="$T/mal.db"
sw_user add alice@127.0.0.1 --password secret >/dev/null
sw_start mal --domain 127.0.0.1 --domain example.com || { finish; exit 1; }

# a loopback address of our own whose ports 5060 and 5050 are free
SRC=
for i in $(seq 1 20); do
	a="127.0.$((RANDOM % 250 + 2)).$((RANDOM % 250 + 2))"
	if python3 -c 'import socket,sys
for p in (5060, 5050):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], p)); s.close()' "$a" 2>/dev/null; then
		SRC=$a; break
	fi
done
[ -n "$SRC" ] || { not_ok "no loopback address with ports 5060/5050 free"; finish; exit 1; }

# case FILE STATUS REASON-REGEX: STATUS "none" means no answer within 1 s
case_() {
	local f=$1 want=$2 re=$3 name; name=$(basename "$f" .dat)
	OUT=$("${SIPCAT[@]}" --timeout 0.7 --bind-via "$SRC" --out "$T/$name" 127.0.0.1 "$SW_PORT" send "$f")
	local rc=$?
	if [ "$want" = none ]; then
		if [ $rc -eq 3 ]; then ok "$name: no answer"
		else not_ok "$name: wanted no answer, got: $OUT"; fi
	elif [ $rc -ne 0 ]; then
		not_ok "$name: wanted $want, got no answer"
	elif printf '%s' "$OUT" | grep -Eq "^RESP 1 SIP/2.0 ($want) .*($re)"; then
		ok "$name: ${OUT#RESP 1 SIP/2.0 }"
	else
		not_ok "$name: wanted $want /$re/, got: $OUT"
	fi
	kill -0 "$SW_PID" 2>/dev/null || { not_ok "server died after $name"; finish; exit 1; }
}

# RFC 4475 3.1.2: invalid messages (lwsruri, lwsstart, trws: the start line
# itself is broken, so nothing of the message is read and nothing answered)
case_ "$C/badinv01.dat" 400 'Via'
case_ "$C/clerr.dat" 400 'Content-Length'
case_ "$C/ncl.dat" 400 'Content-Length.*negative'
case_ "$C/scalar02.dat" 400 'CSeq|Max-Forwards|Expires'
case_ "$C/quotbal.dat" 400 'quot|To'
case_ "$C/ltgtruri.dat" 400 'URI'
case_ "$C/lwsruri.dat" none
case_ "$C/lwsstart.dat" none
case_ "$C/trws.dat" none
case_ "$C/escruri.dat" 400 'Request-URI'
case_ "$C/baddate.dat" 400 'Date'
case_ "$C/regbadct.dat" 400 'Contact'
case_ "$C/badaspec.dat" '400|200' 'To|space|OK'
case_ "$C/baddn.dat" 400 'header section|empty line|display name|From|To'
case_ "$C/variants/baddn-terminated.dat" 400 'display name|From|To'
case_ "$C/badvers.dat" 505 'version|SIP/2.0'
case_ "$C/mismatch01.dat" 400 'CSeq'
case_ "$C/mismatch02.dat" 400 'CSeq'
# RFC 4475 3.3: application-layer cases
case_ "$C/insuf.dat" 400 'To|From|Call-ID|Max-Forwards|missing|required'
case_ "$C/multi01.dat" 400 'once|To|From|Call-ID|CSeq|Max-Forwards'
case_ "$C/mcl01.dat" 400 'Content-Length'
case_ "$C/unkscm.dat" 416 'Unsupported URI Scheme'
case_ "$C/novelsc.dat" 416 'Unsupported URI Scheme'
case_ "$C/esc02.dat" 405 'Method Not Allowed'
grep -qi '^Allow: .*INVITE.*REGISTER' "$T/esc02.1" 2>/dev/null && ok "esc02: the 405 carries Allow (INVITE ... REGISTER)" ||
	not_ok "esc02: no Allow in $(cat "$T/esc02.1" 2>/dev/null)"
# regaut01: an unknown Authorization scheme should be answered with a Digest
# challenge (RFC 4475 3.3.7); the verifier calls it malformed-authorization
# and the registrar answers 400 (tests/unit/test_verify.c wants that for
# Basic): reported, a design decision for the auth module
OUT=$("${SIPCAT[@]}" --timeout 1 --bind-via "$SRC" --out "$T/regaut01" 127.0.0.1 "$SW_PORT" send "$C/regaut01.dat")
if printf '%s' "$OUT" | grep -q '^RESP 1 SIP/2.0 401 ' &&
	grep -Eqi '^WWW-Authenticate: *Digest .*realm="example.com"' "$T/regaut01.1"; then
	ok "regaut01: unknown Authorization scheme: 401 with a Digest challenge"
elif printf '%s' "$OUT" | grep -q '^RESP 1 SIP/2.0 400 '; then
	known_bug "regaut01: unknown Authorization scheme answered 400, not 401 with a Digest challenge (RFC 4475 3.3.7)"
else
	not_ok "regaut01: $OUT"
fi
case_ "$C/zeromf.dat" 200 'OK'
# responses are never answered (scalarlg, bigcode: invalid; bcast: valid)
case_ "$C/scalarlg.dat" none
case_ "$C/bigcode.dat" none
case_ "$C/bcast.dat" none
sw_alive "server answers OPTIONS after the RFC 4475 cases"

# junk: garbage, an empty datagram, a lone CRLF, a response, a datagram of
# the largest UDP size, NUL bytes; none answered, the server stays up
junk() {  # DESC, bytes on stdin
	"${SIPCAT[@]}" --timeout 0.5 127.0.0.1 "$SW_PORT" send - >"$T/junk.out"
	[ $? -eq 3 ] && ok "$1: no answer" || not_ok "$1: answered $(cat "$T/junk.out")"
	kill -0 "$SW_PID" 2>/dev/null || { not_ok "server died after: $1"; finish; exit 1; }
}
head -c 3000 /dev/urandom | junk "3000 random bytes"
printf '' | junk "an empty datagram"
printf '\r\n\r\n' | junk "a CRLF keep-alive datagram"
printf '\0\0\0\0SIP/2.0\0\r\n\r\n' | junk "NUL bytes"
printf 'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKx\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:a@127.0.0.1>;tag=2\r\nCall-ID: r@x\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n' |
	junk "a response sent to the server"
python3 -c 'import sys; sys.stdout.buffer.write(b"REGISTER sip:127.0.0.1 SIP/2.0\r\nX-Pad: " + b"a" * 65400 + b"\r\n")' |
	junk "a 65 KB datagram (no end of headers)"
printf 'INVITE sip:x SIP/2.0\r\n' | junk "a start line alone"
sw_alive "server answers OPTIONS after the junk"

# Content-Length larger than the size cap: 513 (issue 4: too large -> 513)
cat >"$T/big.sip" <<'EOF'
OPTIONS sip:127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:@LOCALPORT@;branch=z9hG4bKbigcl;rport
From: <sip:a@127.0.0.1>;tag=1
To: <sip:a@127.0.0.1>
Call-ID: bigcl@test
CSeq: 1 OPTIONS
Max-Forwards: 70
Content-Length: 100000

EOF
sed -i 's/$/\r/' "$T/big.sip"
OUT=$("${SIPCAT[@]}" --timeout 1 127.0.0.1 "$SW_PORT" send "$T/big.sip")
expect_match "Content-Length: 100000 over UDP: 513" "$OUT" '^RESP 1 SIP/2.0 513 '

# TCP: garbage, then a 70 KB message: the connection may be closed, the server stays up
head -c 5000 /dev/urandom | "${SIPCAT[@]}" --tcp --timeout 0.5 127.0.0.1 "$SW_PORT" send - >/dev/null 2>&1
python3 -c 'import sys; sys.stdout.buffer.write(b"OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKbig\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:a@127.0.0.1>\r\nCall-ID: big@x\r\nCSeq: 1 OPTIONS\r\nX-Pad: " + b"a" * 70000 + b"\r\nContent-Length: 0\r\n\r\n")' >"$T/big70k.sip"
OUT=$("${SIPCAT[@]}" --tcp --timeout 1 127.0.0.1 "$SW_PORT" send "$T/big70k.sip" 2>&1)
[[ -z $OUT || $OUT =~ ^RESP\ 1\ SIP/2.0\ 513\  ]] && ok "TCP: a 70 KB message: 513 or the connection closed (${OUT:-closed})" ||
	not_ok "TCP: a 70 KB message answered: $OUT"
OUT=$("${SIPCAT[@]}" --tcp --timeout 2 127.0.0.1 "$SW_PORT" options)
expect_match "TCP: OPTIONS still answered after junk" "$OUT" '^RESP 1 SIP/2.0 200'
# every RFC 4475 message over TCP too (framing by Content-Length): server stays up
for f in "$C"/*.dat "$C"/variants/*.dat; do
	"${SIPCAT[@]}" --tcp --timeout 0.05 127.0.0.1 "$SW_PORT" send "$f" >/dev/null 2>&1
done
sw_alive "server answers OPTIONS after every RFC 4475 message over TCP"
sw_stop

# a small cap: an 8 KB datagram over a 4096-byte max_message_size
printf '[server]\nmax_message_size = 4096\n' >"$T/small.conf"
SW_DB="$T/small.db"; SW_PORT=
sw_start small --config "$T/small.conf" || { finish; exit 1; }
python3 -c 'import sys; sys.stdout.buffer.write(b"OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:@LOCALPORT@;branch=z9hG4bKbig8k;rport\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:a@127.0.0.1>\r\nCall-ID: big8k@x\r\nCSeq: 1 OPTIONS\r\nX-Pad: " + b"a" * 8000 + b"\r\nContent-Length: 0\r\n\r\n")' >"$T/big8k.sip"
OUT=$("${SIPCAT[@]}" --timeout 1 127.0.0.1 "$SW_PORT" send "$T/big8k.sip")
[[ -z $OUT || $OUT =~ ^RESP\ 1\ SIP/2.0\ 513\  ]] && ok "an 8 KB datagram over max_message_size 4096: 513 or dropped (${OUT:-dropped})" ||
	not_ok "an 8 KB datagram over max_message_size 4096 answered: $OUT"
sw_alive "server answers OPTIONS after the oversized datagram"
sw_stop
finish
