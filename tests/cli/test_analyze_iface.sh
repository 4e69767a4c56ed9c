#!/usr/bin/env bash
# sipwarden analyze --live IFACE (issue 14): libpcap on the loopback while
# sipp registers at Kamailio from Debian with a wrong password, then with
# the right one; the failed flow is printed as it is judged (before the run
# ends), the summary counts both, the --html page (rewritten every second
# with --html-every, and at the end) shows the failed flow, in headless
# Chromium at the end, and a wrong interface or filter is refused.
# Loopback ports 37000-37999. Prints "# SKIP" and exits 0 only when sipp,
# Kamailio or the capture rights are missing.
. "$(dirname "${BASH_SOURCE[0]}")/serve_lib.sh"
. "$TOOLS/kamailio_lib.sh"

if ! command -v sipp >/dev/null; then echo "# SKIP sipp missing"; exit 0; fi
if ! command -v kamailio >/dev/null || ! KMOD=$(kam_moddir) || [ ! -e "$KMOD/db_sqlite.so" ]; then
	echo "# SKIP kamailio or its sqlite modules not installed (make deps)"
	exit 0
fi
lport() { free_port 37000 37999; }
CORP="$(cd "$(dirname "${BASH_SOURCE[0]}")/../tools/corpus" && pwd)"
SW_PORT=$(lport)
if ! "$SIPWARDEN" analyze --live lo --filter "udp port $SW_PORT" --duration 0.3 >/dev/null 2>"$T/probe.err"; then
	echo "# SKIP cannot capture on lo: $(tail -n 1 "$T/probe.err")"
	exit 0
fi

kam_cfg "$T/kamailio.cfg"
kam_users "$T/kam.db" 127.0.0.1 alice:secret
kam_start live -l "udp:127.0.0.1:$SW_PORT" -A "DBURL=\"sqlite:///$T/kam.db\"" || { finish; exit 1; }
echo 'alice@127.0.0.1,secret' >"$T/creds"

"$SIPWARDEN" analyze --live lo --port "$SW_PORT" --duration 12 --idle 2 --json --credentials "$T/creds" \
	--html "$T/live.html" --html-every 1 >"$T/live.out" 2>"$T/live.err" &
AP=$!
bg_track "$AP"
for i in $(seq 1 50); do grep -q 'capturing on lo' "$T/live.err" && break; sleep 0.1; done
expect_match "analyze --live captures with the SIP ports as filter" "$(cat "$T/live.err")" \
	"capturing on lo \(filter \"port 5060 or port 5061 or port $SW_PORT or "
sleep 0.3
printf 'SEQUENTIAL\nalice;127.0.0.1;3600\n' >"$T/alice.csv"
reg() { # NAME SCENARIO PASSWORD
	local lp; lp=$(lport)
	timeout 20 sipp "127.0.0.1:$SW_PORT" -i 127.0.0.1 -p "$lp" -nostdin -sf "$CORP/$2" -inf "$T/alice.csv" \
		-au alice -ap "$3" -m 1 -timeout 10 >"$T/$1.sipp" 2>&1 </dev/null
}
reg wrong reg_refused.xml not-the-secret
[ $? -eq 0 ] && ok "sipp: the wrong password is refused" || not_ok "sipp wrong password: $(tail -c 300 "$T/wrong.sipp")"
for i in $(seq 1 60); do grep -q '"cause":"wrong-password"' "$T/live.out" && break; sleep 0.1; done
expect_match "the failed flow is printed while the capture goes on: wrong-password, proven" \
	"$(head -n 1 "$T/live.out")" '"aor":"alice@127.0.0.1".*"cause":"wrong-password","certainty":"proven"'
kill -0 "$AP" 2>/dev/null && ok "analyze --live still runs after printing it" || not_ok "analyze --live ended early"
# --html-every 1: the page is rewritten while the capture goes on
for i in $(seq 1 30); do grep -q 'class="cause">wrong-password' "$T/live.html" 2>/dev/null && break; sleep 0.1; done
expect_match "--html-every: the page shows the failed flow before the run ends" \
	"$(grep -c 'class="cause">wrong-password' "$T/live.html" 2>/dev/null) $(kill -0 "$AP" 2>/dev/null && echo running)" \
	'^[1-9][0-9]* running$'
[ -e "$T/live.html.tmp" ] && not_ok "no temporary file left" || ok "no temporary file left"
reg right reg_ok.xml secret
[ $? -eq 0 ] && ok "sipp: the right password registers" || not_ok "sipp right password: $(tail -c 300 "$T/right.sipp")"
wait "$AP"
rc=$?
[ "$rc" -eq 1 ] && ok "analyze --live: exit 1 (failures found)" || not_ok "analyze --live: exit $rc: $(tail -c 300 "$T/live.err")"
expect_match "the summary counts the failed and the good registration" "$(tail -n 1 "$T/live.out")" \
	'"summary":\{"auth_flows":2,"failed":1,"by_cause":\{"ok":1,"wrong-password":1\}\}'
expect_match "one line per failed flow, then the summary" "$(wc -l <"$T/live.out")" '^ *2$'

# the HTML report of the live run, written at the end, as a browser shows it
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
	echo "# chromium missing: the live HTML report is checked as a file only"
	expect_match "the live HTML report names the failed flow" "$(cat "$T/live.html")" 'class="cause">wrong-password'
else
	timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --user-data-dir="$(mktemp -d -p "$T")" \
		--dump-dom "file://$T/live.html" >"$T/live.dom" 2>"$T/chromium.err"
	expect_match "headless Chromium shows the live report's failed flow: alice, wrong-password" \
		"$(tr -d '\n' <"$T/live.dom")" 'alice@127\.0\.0\.1.*class="cause">wrong-password'
fi

expect_exit 3 "--live on an interface that does not exist" -- "$SIPWARDEN" analyze --live no-such-if0 --duration 1
expect_match "it says why" "$ERR" 'no-such-if0'
expect_exit 3 "--live with a filter that does not compile" -- "$SIPWARDEN" analyze --live lo --filter 'port port' --duration 1
expect_exit 2 "--live with a file is a usage error" -- "$SIPWARDEN" analyze --live lo x.pcap
expect_exit 2 "--html-every without --html is a usage error" -- "$SIPWARDEN" analyze --live lo --html-every 5
kam_stop
finish
