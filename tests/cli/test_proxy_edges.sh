#!/usr/bin/env bash
# The proxy's refusals and protections, request by request (tests/tools/sipcat.py
# sends each one and collects what comes back): no open relay (foreign to
# foreign, a forged Record-Route token), requests from other domains to our
# users (accepted unchallenged, or refused with accept_foreign_callers = no),
# unknown and offline callees (the same 480), Proxy-Require (420), a loop
# (482), Max-Forwards 0 (483), CANCEL and ACK that match nothing, a malformed
# response from a "callee" (dropped), and the events and calls of each.
# Ports 47000-47999.
. "$(dirname "${BASH_SOURCE[0]}")/serve_lib.sh"

SW_DB=$T/edges.db
sw_user add alice@127.0.0.1 --password secret >/dev/null
sw_user add bob@127.0.0.1 --password b0b >/dev/null
SW_PORT=$(free_port 47000 47999)
sw_start edges || exit 1

# msg NAME METHOD RURI FROM [EXTRA-HEADER-LINES]: a request file, CRLF, with a
# Via naming sipcat's own port (@LOCALPORT@)
msg() {
	local name=$1 method=$2 ruri=$3 from=$4 extra=${5:-}
	{
		printf '%s %s SIP/2.0\r\n' "$method" "$ruri"
		printf 'Via: SIP/2.0/UDP 127.0.0.1:@LOCALPORT@;branch=z9hG4bK%s%s;rport\r\n' "$name" "$RANDOM"
		printf 'From: <%s>;tag=f%s\r\n' "$from" "$name"
		printf 'To: <%s>%s\r\n' "$ruri" "${TOTAG:-}"
		printf 'Call-ID: %s-%s@edges\r\nCSeq: 1 %s\r\n' "$name" "$RANDOM" "$method"
		[ -n "$extra" ] && printf '%s' "$extra"
		printf 'Max-Forwards: %s\r\nContent-Length: 0\r\n\r\n' "${MF:-70}"
	} >"$T/$name.sip"
}
# send NAME: the responses' status lines in $OUT (and each response in $T/NAME.N)
send() { OUT=$("${SIPCAT[@]}" --timeout 1 127.0.0.1 "$SW_PORT" --out "$T/$1" send "$T/$1.sip" 2>&1); }
status_is() { # status_is DESC CODE: the last final status of $OUT
	local got
	got=$(printf '%s\n' "$OUT" | grep -Eo 'SIP/2.0 [2-6][0-9][0-9].*' | tail -n 1)
	case $got in "SIP/2.0 $2"*) ok "$1 ($got)" ;; *) not_ok "$1: wanted $2, got '${got:-nothing}' ($OUT)" ;; esac
}
silent() { [ -z "$OUT" ] && ok "$1" || not_ok "$1 (got: $OUT)"; }

# 1. relaying: From and Request-URI both foreign
msg relay INVITE sip:carol@example.org sip:mallory@example.net
send relay; status_is "foreign to foreign is refused" "403 Not relaying"
wait_match "its event is relay-denied" '"cause": *"relay-denied"' \
	"$SIPWARDEN" events --method INVITE --cause relay-denied --json --db "$SW_DB"

# 2. a forged flow token in Route does not make a dialog ours
TOTAG=";tag=x1" msg forged BYE sip:carol@192.0.2.9:5060 sip:mallory@example.net \
	"Route: <sip:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff0011223344556677889900112233@127.0.0.1:$SW_PORT;lr>"$'\r\n'
send forged; status_is "a forged Record-Route token gets no relaying" "403"

# 3. from another domain to our users: accepted without a challenge (the default)
msg foreign1 INVITE sip:bob@127.0.0.1 sip:trunk@example.net
send foreign1; status_is "a foreign caller to an offline user: 480, not 407" "480 Temporarily Unavailable"
msg foreign2 INVITE sip:nobody@127.0.0.1 sip:trunk@example.net
send foreign2; status_is "a foreign caller to an unknown user: the same 480" "480 Temporarily Unavailable"
a=$(grep -v '^\(To\|From\|Via\|Call-ID\|CSeq\):' "$T/foreign1.1" | tr -d '\r'); b=$(grep -v '^\(To\|From\|Via\|Call-ID\|CSeq\):' "$T/foreign2.1" | tr -d '\r')
[ "$a" = "$b" ] && ok "offline and unknown callee: the same answer on the wire" || not_ok "offline and unknown callee differ: [$a] vs [$b]"
wait_match "the events still say which: callee-offline" 'callee-offline' \
	"$SIPWARDEN" events --method INVITE --json --db "$SW_DB"
wait_match "... and callee-unknown" 'callee-unknown' "$SIPWARDEN" events --method INVITE --json --db "$SW_DB"
wait_match "sipwarden calls lists the failed call with its cause" '"cause":"callee-offline"' \
	"$SIPWARDEN" calls --json --db "$SW_DB"

# 4. a local caller must authenticate: 407 with a Proxy-Authenticate for our realm
msg local INVITE sip:bob@127.0.0.1 sip:alice@127.0.0.1
send local; status_is "a local caller is challenged" "407"
grep -q '^Proxy-Authenticate: Digest realm="127.0.0.1"' "$T/local.1" && ok "407 carries Proxy-Authenticate for the realm" ||
	not_ok "407 carries Proxy-Authenticate for the realm ($(cat "$T/local.1"))"
msg msgreq MESSAGE sip:bob@127.0.0.1 sip:alice@127.0.0.1
send msgreq; status_is "MESSAGE from a local user is challenged too" "407"
msg sub SUBSCRIBE sip:bob@127.0.0.1 sip:alice@127.0.0.1 $'Event: presence\r\n'
send sub; status_is "SUBSCRIBE from a local user is challenged too" "407"
msg opt OPTIONS sip:bob@127.0.0.1 sip:alice@127.0.0.1
send opt; status_is "OPTIONS to a user is challenged (not answered by the server)" "407"

# 5. §16.3 checks
msg preq INVITE sip:bob@127.0.0.1 sip:trunk@example.net $'Proxy-Require: foo, bar\r\n'
send preq; status_is "Proxy-Require gets 420" "420"
grep -q '^Unsupported: foo, bar' "$T/preq.1" && ok "420 lists the Unsupported options" || not_ok "420 lists the Unsupported options ($(cat "$T/preq.1"))"
MF=0 msg mf0 INVITE sip:bob@127.0.0.1 sip:trunk@example.net
send mf0; status_is "Max-Forwards 0 gets 483" "483"
wait_match "its event is too-many-hops" 'too-many-hops' "$SIPWARDEN" events --method INVITE --json --db "$SW_DB"
# a loop: a Via of ours whose loop value is this very request's (§16.6 item 8)
msg loop INVITE sip:bob@127.0.0.1 sip:trunk@example.net
cid=$(sed -n 's/^Call-ID: \(.*\)\r$/\1/p' "$T/loop.sip")
lh=$(python3 - "sip:bob@127.0.0.1" "floop" "$cid" 1 <<'PY'
import sys
ruri, ftag, cid, cseq = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
h = 2166136261
for s in (ruri, ftag, cid):
    for c in s.encode():
        h = ((h ^ c) * 16777619) & 0xffffffff
h = ((h ^ cseq) * 16777619) & 0xffffffff
print("%08x" % h)
PY
)
# (a second Via, below sipcat's own, as our forwarded copy would carry it)
sed -i "s|^Max-Forwards:|Via: SIP/2.0/UDP 127.0.0.1:$SW_PORT;branch=z9hG4bKswp000000000100000001.0-$lh\r\nMax-Forwards:|" "$T/loop.sip"
send loop; status_is "a request that comes back unchanged gets 482" "482"

# 6. CANCEL and ACK that match nothing; a response that belongs to nobody
msg cancel CANCEL sip:bob@127.0.0.1 sip:alice@127.0.0.1
send cancel; status_is "CANCEL without its INVITE gets 481" "481"
TOTAG=";tag=zz" msg ack ACK sip:bob@127.0.0.1 sip:alice@127.0.0.1
send ack; silent "a stray ACK gets no answer"
printf 'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:%s;branch=z9hG4bKswp00deadbeef00000001.0-00000000\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:b@b>;tag=2\r\nCall-ID: stray\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n' "$SW_PORT" >"$T/stray.sip"
send stray; silent "a response that matches no transaction is dropped"
printf 'SIP/2.0 200 OK\r\nVia: garbage\r\n\r\n' >"$T/bad.sip"
send bad; silent "a malformed response is dropped"
sw_alive "the server is alive after all of it"

# 7. RFC 3327: a phone registered through an edge proxy (Path) is reached
# through it: the INVITE goes to the Path's address with the Path as its Route
EDGE=$(free_port 47000 47999)
python3 - "$EDGE" "$T/edge.sip" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.settimeout(0.2)
end = time.time() + 8
with open(sys.argv[2], "wb") as out:
    while time.time() < end:
        try:
            data = s.recv(70000)
        except socket.timeout:
            continue
        if data.startswith(b"INVITE"):
            out.write(data)
            break
PY
edge_pid=$!
bg_track "$edge_pid"
sleep 0.3
"${SIPCAT[@]}" 127.0.0.1 "$SW_PORT" register --user bob --domain 127.0.0.1 --password b0b \
	--contact "<sip:bob@192.0.2.77:5060>" --header "Path: <sip:edge@127.0.0.1:$EDGE;lr>" >/dev/null 2>&1
msg viapath INVITE sip:bob@127.0.0.1 sip:trunk@example.net
send viapath
wait "$edge_pid"
if grep -q '^INVITE sip:bob@192.0.2.77:5060 SIP/2.0' "$T/edge.sip" 2>/dev/null &&
	grep -q "^Route: <sip:edge@127.0.0.1:$EDGE;lr>" "$T/edge.sip"; then
	ok "a binding with a Path is reached through the edge, the Path as the first Route"
else
	not_ok "a binding with a Path is reached through the edge ($(tr '\r' ' ' <"$T/edge.sip" 2>/dev/null | head -c 600))"
fi

# 8. accept_foreign_callers = no
sw_stop
printf '[proxy]\naccept_foreign_callers = no\n' >"$T/strict.conf"
SW_PORT=$(free_port 47000 47999)
sw_start edges2 --config "$T/strict.conf" || exit 1
msg foreign3 INVITE sip:bob@127.0.0.1 sip:trunk@example.net
send foreign3; status_is "with accept_foreign_callers = no, a foreign caller is refused" "403"
sw_stop
finish
