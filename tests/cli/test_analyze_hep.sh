#!/usr/bin/env bash
# sipwarden analyze --hep (issue 14): Kamailio from Debian with siptrace
# sending HEPv3 (hep_version 3, trace_mode 1: every message it receives and
# sends) to `analyze --hep udp:127.0.0.1:PORT` while sipp registers with a
# wrong password, then with the right one; the failed flow must be printed
# as it is judged (before the run ends) with its cause, and the summary must
# count both flows. Then malformed HEP packets, a packet without the
# required key, and the key check. Loopback ports 37000-37999. Prints
# "# SKIP" and exits 0 only when sipp or Kamailio (with siptrace and
# db_sqlite) is missing.
. "$(dirname "${BASH_SOURCE[0]}")/serve_lib.sh"
. "$TOOLS/kamailio_lib.sh"

if ! command -v sipp >/dev/null; then echo "# SKIP sipp missing"; exit 0; fi
if ! command -v kamailio >/dev/null || ! KMOD=$(kam_moddir) || [ ! -e "$KMOD/db_sqlite.so" ] ||
	[ ! -e "$KMOD/siptrace.so" ]; then
	echo "# SKIP kamailio, its sqlite modules or siptrace not installed (make deps)"
	exit 0
fi
hport() { free_port 37000 37999; }
CORP="$(cd "$(dirname "${BASH_SOURCE[0]}")/../tools/corpus" && pwd)"

kam_cfg "$T/kamailio.cfg"
kam_users "$T/kam.db" 127.0.0.1 alice:secret
HP=$(hport) SW_PORT=$(hport)
kam_start hep -l "udp:127.0.0.1:$SW_PORT" -A "DBURL=\"sqlite:///$T/kam.db\"" -A "HEPURI=\"sip:127.0.0.1:$HP\"" ||
	{ finish; exit 1; }
echo 'alice@127.0.0.1,secret' >"$T/creds"

# the analyzer, 12 s at most; flows idle 2 s are judged; one judged flow
# kept for the reports (--keep 1): the summary still counts all
"$SIPWARDEN" analyze --hep "udp:127.0.0.1:$HP" --duration 12 --idle 2 --keep 1 --json --credentials "$T/creds" \
	>"$T/live.out" 2>"$T/live.err" &
AP=$!
bg_track "$AP"
for i in $(seq 1 50); do grep -q 'receiving HEPv3' "$T/live.err" && break; sleep 0.1; done
expect_match "analyze --hep listens" "$(cat "$T/live.err")" 'receiving HEPv3 on udp:127.0.0.1:'
printf 'SEQUENTIAL\nalice;127.0.0.1;3600\n' >"$T/alice.csv"
reg() { # NAME SCENARIO PASSWORD
	local lp; lp=$(hport)
	timeout 20 sipp "127.0.0.1:$SW_PORT" -i 127.0.0.1 -p "$lp" -nostdin -sf "$CORP/$2" -inf "$T/alice.csv" \
		-au alice -ap "$3" -m 1 -timeout 10 >"$T/$1.sipp" 2>&1 </dev/null
}
reg wrong reg_refused.xml not-the-secret
[ $? -eq 0 ] && ok "sipp: the wrong password is refused" || not_ok "sipp wrong password: $(tail -c 300 "$T/wrong.sipp")"
# printed as it is judged: within the idle time, long before the 12 s end
for i in $(seq 1 60); do grep -q '"cause":"wrong-password"' "$T/live.out" && break; sleep 0.1; done
expect_match "the failed flow is printed while the run goes on: wrong-password, proven" \
	"$(head -n 1 "$T/live.out")" '"aor":"alice@127.0.0.1".*"cause":"wrong-password","certainty":"proven"'
kill -0 "$AP" 2>/dev/null && ok "analyze --hep still runs after printing it" || not_ok "analyze --hep ended early"
reg right reg_ok.xml secret
[ $? -eq 0 ] && ok "sipp: the right password registers" || not_ok "sipp right password: $(tail -c 300 "$T/right.sipp")"

# malformed HEP: counted and dropped; the receiver goes on
python3 - "$HP" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for p in (b"HEP3", b"HEP3\x00\x05", b"HEP3\xff\xff" + b"\x00" * 20, b"HEP3\x00\x0c\x00\x00\x00\x0f\x00\x02", b"EEP\x02" + b"\x00" * 30):
    s.sendto(p, ("127.0.0.1", int(sys.argv[1])))
PY
wait "$AP"
rc=$?
[ "$rc" -eq 1 ] && ok "analyze --hep: exit 1 (failures found)" || not_ok "analyze --hep: exit $rc: $(tail -c 300 "$T/live.err")"
expect_match "the summary counts the failed and the good registration (one forgotten)" "$(tail -n 1 "$T/live.out")" \
	'"summary":\{"auth_flows":2,"failed":1,"by_cause":\{"ok":1,"wrong-password":1\}\}'
expect_match "malformed packets are counted" "$(tail -n 1 "$T/live.out")" '"malformed":5,'
expect_match "one line per failed flow, then the summary" "$(wc -l <"$T/live.out")" '^ *2$'

# a required key: Kamailio's packets carry none, so all are dropped
"$SIPWARDEN" analyze --hep "udp:127.0.0.1:$HP" --hep-key s3cret --duration 4 --idle 1 --json \
	>"$T/key.out" 2>"$T/key.err" &
AP=$!
bg_track "$AP"
for i in $(seq 1 50); do grep -q 'receiving HEPv3' "$T/key.err" && break; sleep 0.1; done
reg wrong2 reg_refused.xml not-the-secret
wait "$AP"
expect_match "--hep-key: packets without the key are dropped" "$(tail -n 1 "$T/key.out")" '"auth_flows":0,.*"bad_key":[1-9]'

expect_exit 2 "--hep with a file is a usage error" -- "$SIPWARDEN" analyze --hep "udp:127.0.0.1:$HP" x.pcap
expect_exit 2 "--hep needs udp:" -- "$SIPWARDEN" analyze --hep "tcp:127.0.0.1:$HP"
kam_stop
finish
