#!/usr/bin/env bash
# sipwarden serve against attackers' tools and for 50 phones behind one NAT
# address: Debian's svcrack (SIPVicious) does not find a password that is
# the last word of its 1,000-word dictionary and its source is banned within
# user_failures failures, while a phone from another address keeps
# registering; svwar finds no extension; a flood of unauthenticated requests
# is banned; of 50 phones behind one address, the one with a wrong password
# is banned and the 49 others keep registering; `sipwarden ban add/del/list`
# act on a running server within a second, and bans survive a restart.
# Loopback only, ports 40000-44999.
. "$(dirname "$0")/serve_lib.sh"

for tool in svcrack svwar sipp; do
	command -v "$tool" >/dev/null || { not_ok "$tool is not installed (scripts/deps.sh)"; finish; exit 1; }
done

# the command line
expect_exit 0 "ban --help" -- "$SIPWARDEN" ban --help
expect_match "help shows list, add and del" "$OUT" 'sipwarden ban del ADDR'
expect_match "help documents the exit codes" "$OUT" '^exit codes: 0 done'
expect_exit 2 "ban without an action is a usage error" -- "$SIPWARDEN" ban
expect_exit 2 "a network with host bits set is a usage error" -- "$SIPWARDEN" ban add 10.0.0.1/8 --db "$T/x.db"
expect_exit 2 "a bad duration is a usage error" -- "$SIPWARDEN" ban add 10.0.0.1 --for soon --db "$T/x.db"

# probe SRC: one OPTIONS from SRC (a loopback address); prints the status
# code, or "none" when nothing came back within 0.5 s
probe() {
	python3 - "$1" "$SW_PORT" <<'PY'
import random, socket, sys
src, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
lp = s.getsockname()[1]
b = "z9hG4bK%08x" % random.getrandbits(32)
msg = ("OPTIONS sip:127.0.0.1:%d SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=%s;rport\r\n"
       "From: <sip:probe@%s>;tag=%s\r\nTo: <sip:127.0.0.1>\r\nCall-ID: %s\r\nCSeq: 1 OPTIONS\r\n"
       "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n") % (port, src, lp, b, src, b, b)
s.sendto(msg.encode(), ("127.0.0.1", port))
s.settimeout(0.5)
try:
    print(s.recv(65536).split(b" ")[1].decode())
except socket.timeout:
    print("none")
PY
}

# flood SRC N: N REGISTERs without credentials from SRC, each a new transaction
flood() {
	python3 - "$1" "$SW_PORT" "$2" <<'PY'
import socket, sys
src, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
lp = s.getsockname()[1]
s.settimeout(0.2)
answered = 0
for i in range(n):
    msg = ("REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=z9hG4bKfl%d;rport\r\n"
           "From: <sip:%d@127.0.0.1>;tag=f%d\r\nTo: <sip:%d@127.0.0.1>\r\nCall-ID: flood-%d\r\n"
           "CSeq: 1 REGISTER\r\nContact: <sip:%d@%s:%d>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
           ) % (src, lp, i, 3000 + i, i, 3000 + i, i, 3000 + i, src, lp)
    s.sendto(msg.encode(), ("127.0.0.1", port))
    try:
        s.recv(65536)
        answered += 1
    except socket.timeout:
        pass
print(answered)
PY
}

# sipp_from NAME SRC ARGS...: sipp from the loopback address SRC
sipp_from() {
	local name=$1 src=$2; shift 2
	timeout 90 sipp "127.0.0.1:$SW_PORT" -i "$src" -p "$(free_port 40000 44999)" -nostdin -trace_msg \
		-message_file "$T/$name.msg" -trace_err -error_file "$T/$name.errs" "$@" \
		>"$T/$name.out" 2>&1 </dev/null
	SIPP_RC=$?
}

# count_ok NAME: 200 OKs sipp received
count_ok() { grep -c '^SIP/2.0 200' "$T/$1.msg" 2>/dev/null || true; }

SW_DB="$T/ban.db"
sw_user add 1000@127.0.0.1 --password 'zebra-7731' >/dev/null
sw_user add phone@127.0.0.1 --password 'phone-pw' >/dev/null
{ echo SEQUENTIAL; for i in $(seq 0 49); do
	echo "u$((2000 + i));127.0.0.1;[authentication username=u$((2000 + i)) password=pw-$i]"; done; } >"$T/office.csv"
head -n 50 "$T/office.csv" >"$T/good49.csv"  # SEQUENTIAL and u2000..u2048
printf 'SEQUENTIAL\nu2049;127.0.0.1;[authentication username=u2049 password=wrong]\n' >"$T/bad.csv"
printf 'SEQUENTIAL\nphone;127.0.0.1;[authentication username=phone password=phone-pw]\n' >"$T/phone.csv"
for i in $(seq 0 49); do printf 'u%d@127.0.0.1,pw-%d\n' $((2000 + i)) "$i"; done >"$T/import.csv"
"$SIPWARDEN" user import "$T/import.csv" --db "$SW_DB" >/dev/null
SW_PORT=$(free_port 40000 44999) || { not_ok "no free port in 40000-44999"; finish; exit 1; }
sw_start ban || { finish; exit 1; }

# 1. svcrack from 127.0.0.1 with the password last in 1,000 words, while a
#    phone registers from 127.0.0.2 every 0.3 s (10 times: max_contacts, as
#    each registration adds a contact)
{ for i in $(seq 1 999); do echo "guess$i"; done; echo 'zebra-7731'; } >"$T/dict.txt"
sipp_from phone 127.0.0.2 -sf "$SIPP_DIR/register_users.xml" -inf "$T/phone.csv" -r 3 -m 10 \
	-recv_timeout 3000 -timeout 30 &
PHONE=$!
bg_track "$PHONE"
timeout 120 svcrack -u 1000 -d "$T/dict.txt" -p "$SW_PORT" -b 127.0.0.1 -P "$(free_port 40000 44999)" \
	--maximumtime 3 127.0.0.1 >"$T/svcrack.out" 2>&1 </dev/null
wait "$PHONE"; PHONE_RC=$?
if grep -q 'zebra-7731' "$T/svcrack.out"; then
	not_ok "svcrack found the password: $(tail -c 300 "$T/svcrack.out")"
else
	ok "svcrack does not find the password ($(grep -Eo 'found nothing|[0-9]+ passwords?' "$T/svcrack.out" | head -n1))"
fi
wait_match "the source is banned for user_failures" '^127\.0\.0\.1 .*limit user_failures: 10 failed authentications' \
	"$SIPWARDEN" ban list --db "$SW_DB"
# (the log aggregates repeats per address and second: count the events)
wait_match "within 10 failures: 10 wrong-password decisions at most" '^([0-9]|10)$' \
	bash -c "'$SIPWARDEN' events --cause wrong-password --limit 0 --json --db '$SW_DB' | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'"
if [ "$PHONE_RC" -eq 0 ] && [ "$(count_ok phone)" -eq 10 ]; then
	ok "the phone on 127.0.0.2 registered 10 times out of 10 during the attack"
else
	not_ok "the phone on 127.0.0.2 during the attack: sipp exit $PHONE_RC, $(count_ok phone) of 10 registered"
fi
wait_match "'events' shows the ban with the limit and the scanner hint" \
	'detail: limit user_failures: .*; banned for 10m .*hint: User-Agent .friendly-scanner. is SIPVicious' \
	"$SIPWARDEN" events --cause source-banned --db "$SW_DB"
wait_match "'why' shows it for the attacked user" 'source-banned' "$SIPWARDEN" why 1000@127.0.0.1 --db "$SW_DB"
expect_match "the log line says it" "$(grep source-banned "$T/ban.log" | head -n1)" \
	'"source":"127\.0\.0\.1:.*"cause":"source-banned","detail":"limit user_failures'
expect_match "the banned source gets nothing" "$(probe 127.0.0.1)" '^none$'
TCP=$(python3 - "$SW_PORT" <<'PY'
import socket, sys
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
s.settimeout(3)
s.connect(("127.0.0.1", port))
lp = s.getsockname()[1]
s.sendall(("OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:%d;branch=z9hG4bKtcpban\r\n"
           "From: <sip:p@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: tcpban\r\nCSeq: 1 OPTIONS\r\n"
           "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n" % lp).encode())
try:
    print("closed" if s.recv(100) == b"" else "answered")
except socket.timeout:
    print("open")
PY
)
expect_match "over TCP, its connection is closed without an answer" "$TCP" '^closed$'
expect_match "another address is answered" "$(probe 127.0.0.2)" '^200$'

# 2. svmap finds the server (that is fine); svwar from the banned address finds no
#    extension (from a clean address: at the end, once 127.0.0.1 is no longer banned)
timeout 60 svmap -p "$SW_PORT" -b 127.0.0.3 -P "$(free_port 40000 44999)" 127.0.0.1 >"$T/svmap.out" 2>&1 </dev/null
expect_match "svmap finds the server" "$(cat "$T/svmap.out")" '127\.0\.0\.1:[0-9]+ +\| sipwarden'
timeout 60 svwar -e 900-1100 -m REGISTER --force -p "$SW_PORT" -b 127.0.0.1 -P "$(free_port 40000 44999)" \
	--maximumtime 3 127.0.0.1 >"$T/svwar1.out" 2>&1 </dev/null
if grep -Eq '\| *1000 *\|' "$T/svwar1.out"; then
	not_ok "svwar from the banned address enumerated something: $(tail -c 400 "$T/svwar1.out")"
else
	ok "svwar from the banned address finds no extension"
fi

# 3. a flood of unauthenticated requests from one unknown address
N=$(flood 127.0.0.4 220)
wait_match "a flood of 220 unauthenticated requests is banned at flood_requests" \
	'^127\.0\.0\.4 .*limit flood_requests: 200 requests' "$SIPWARDEN" ban list --db "$SW_DB"
if [ "$N" -ge 199 ] && [ "$N" -le 201 ]; then ok "the flood got answers until the ban ($N of 220)"; else
	not_ok "the flood got $N answers of 220 (wanted ~200)"; fi

# 4. fifty phones behind 127.0.0.5, one with a wrong password
sipp_from good1 127.0.0.5 -sf "$SIPP_DIR/register_users.xml" -inf "$T/good49.csv" -r 20 -m 49 \
	-recv_timeout 3000 -timeout 40
if [ "$SIPP_RC" -eq 0 ]; then ok "49 phones behind 127.0.0.5 register"; else
	not_ok "49 phones behind 127.0.0.5: sipp exit $SIPP_RC, $(count_ok good1) registered"; fi
sipp_from bad 127.0.0.5 -sf "$SIPP_DIR/register_users.xml" -inf "$T/bad.csv" -r 10 -m 15 \
	-recv_timeout 1000 -timeout 30
wait_match "the failing phone's user is banned from 127.0.0.5, not the address" \
	'^127\.0\.0\.5 user=u2049 .*limit user_failures.*only this user is banned' "$SIPWARDEN" ban list --db "$SW_DB"
if "$SIPWARDEN" ban list --db "$SW_DB" | grep -Eq '^127\.0\.0\.5 +until'; then
	not_ok "the whole address 127.0.0.5 is banned"
else
	ok "the address 127.0.0.5 as a whole is not banned"
fi
sipp_from good2 127.0.0.5 -sf "$SIPP_DIR/register_users.xml" -inf "$T/good49.csv" -r 20 -m 49 \
	-recv_timeout 3000 -timeout 40
if [ "$SIPP_RC" -eq 0 ] && [ "$(count_ok good2)" -eq 49 ]; then
	ok "after the ban the 49 others still register (49 of 49)"
else
	not_ok "after the ban: sipp exit $SIPP_RC, $(count_ok good2) of 49 registered"
fi
sipp_from bad2 127.0.0.5 -sf "$SIPP_DIR/register_users.xml" -inf "$T/bad.csv" -m 1 -recv_timeout 1500 -timeout 10
if grep -c '^SIP/2.0 401' "$T/bad2.msg" | grep -qx 1; then
	ok "the banned user's answer to the challenge gets nothing (one 401, to the request without credentials)"
else
	not_ok "the banned user from 127.0.0.5: $(grep -E '^SIP/2.0' "$T/bad2.msg" | tr '\r\n' '  ')"
fi

# 5. ban add/del/list on the running server, within a second
expect_match "127.0.0.6 is answered before" "$(probe 127.0.0.6)" '^200$'
expect_exit 0 "ban add 127.0.0.6 --for 1h" -- "$SIPWARDEN" ban add 127.0.0.6 --for 1h --db "$SW_DB"
sleep 1
expect_match "a second later the server drops 127.0.0.6" "$(probe 127.0.0.6)" '^none$'
expect_exit 0 "ban add 127.0.0.96/27 (a network)" -- "$SIPWARDEN" ban add 127.0.0.96/27 --db "$SW_DB"
sleep 1
expect_match "a second later an address of the network is dropped" "$(probe 127.0.0.100)" '^none$'
expect_match "and one outside it is answered" "$(probe 127.0.0.130)" '^200$'
expect_exit 0 "ban list --json" -- "$SIPWARDEN" ban list --json --db "$SW_DB"
expect_match "lists the network, the address with its time left, the automatic bans" \
	"$(printf '%s' "$OUT" | json_q 'sorted((b["address"], b["prefix"], b["remaining_s"] is not None) for b in j)')" \
	"\('127\.0\.0\.1', 32, True\), \('127\.0\.0\.4', 32, True\), \('127\.0\.0\.5', 32, True\), \('127\.0\.0\.6', 32, True\), \('127\.0\.0\.96', 27, False\)"
expect_exit 0 "ban del 127.0.0.6" -- "$SIPWARDEN" ban del 127.0.0.6 --db "$SW_DB"
sleep 1
expect_match "a second later 127.0.0.6 is answered again" "$(probe 127.0.0.6)" '^200$'
expect_exit 1 "ban del of an address without a ban exits 1" -- "$SIPWARDEN" ban del 127.0.0.6 --db "$SW_DB"
expect_exit 0 "ban add 127.0.0.6 again, until deleted" -- "$SIPWARDEN" ban add 127.0.0.6 --db "$SW_DB"
sleep 1
expect_match "the first refusal of a ban added by hand is an event that says so" \
	"$(probe 127.0.0.6; sleep 0.5; "$SIPWARDEN" events --cause source-banned --json --db "$SW_DB")" \
	'"source":"127\.0\.0\.6".*banned until deleted: added by the administrator'
sw_stop

# 6. a restart: the bans are still in force before any request, and with
#    action = 403 a banned source is told so; SIGHUP applies a new allowlist (the server is started here, as
#    sw_start's readiness probe comes from 127.0.0.1, banned)
printf '[ban]\naction = 403\n' >"$T/403.conf"
"$SIPWARDEN" serve --config "$T/403.conf" --db "$SW_DB" --domain 127.0.0.1 --listen "udp:127.0.0.1:$SW_PORT" \
	--listen "tcp:127.0.0.1:$SW_PORT" --workers 2 >>"$T/ban.log" 2>>"$T/ban.err" &
SW_PID=$!
bg_track "$SW_PID"
for i in $(seq 1 50); do [ "$(probe 127.0.0.2)" = 200 ] && break; done
expect_match "the restarted server answers" "$(probe 127.0.0.2)" '^200$'
expect_match "after a restart svcrack's address is still banned (403 with action = 403)" "$(probe 127.0.0.1)" '^403$'
expect_match "so is the address added by hand" "$(probe 127.0.0.6)" '^403$'
expect_match "and the network" "$(probe 127.0.0.97)" '^403$'
printf '[ban]\naction = 403\nallow = 127.0.0.6\n' >"$T/403.conf"
kill -HUP "$SW_PID"
sleep 1.5
expect_match "SIGHUP with allow = 127.0.0.6: the banned address is answered" "$(probe 127.0.0.6)" '^200$'
expect_match "the reload says [ban] changed" "$(cat "$T/ban.err")" 'configuration reloaded \(.*\[ban\]\)'
expect_exit 0 "ban del 127.0.0.1" -- "$SIPWARDEN" ban del 127.0.0.1 --db "$SW_DB"
sleep 1
expect_match "a second after ban del the restarted server answers 127.0.0.1" "$(probe 127.0.0.1)" '^200$'

# svwar from an address that is not banned finds no extension, through REGISTER (every one
# is challenged alike, 401) nor INVITE (a local From is challenged, 407, whether the callee
# exists or not). svwar 0.3.3 ignores -b (its scanner is never given the binding address),
# so it sends from 127.0.0.1: hence here, after ban del. It compares each extension's
# answer with a random one's and stops at the first answer it cannot class, so the range
# starts at the existing 1000: a different answer for it would list it. Its answers must be
# in its output, or "found nothing" would prove nothing.
for m in REGISTER:401 INVITE:407; do
	timeout 60 svwar -e 1000-1010 -m "${m%%:*}" --force -p "$SW_PORT" -P "$(free_port 40000 44999)" \
		--maximumtime 3 127.0.0.1 >"$T/svwar-${m%%:*}.out" 2>&1 </dev/null
	if ! grep -q "SIP/2.0 ${m##*:} " "$T/svwar-${m%%:*}.out"; then
		not_ok "svwar -m ${m%%:*} got no ${m##*:} (did it run?): $(tail -c 400 "$T/svwar-${m%%:*}.out")"
	elif grep -Eq '\| *1000 *\|' "$T/svwar-${m%%:*}.out" || ! grep -q 'found nothing' "$T/svwar-${m%%:*}.out"; then
		not_ok "svwar -m ${m%%:*} enumerated something: $(tail -c 400 "$T/svwar-${m%%:*}.out")"
	else
		ok "svwar -m ${m%%:*} from an address not banned finds no extension (every request got the same ${m##*:})"
	fi
done
sw_stop
finish
