# Captures made by the tests themselves (issue 6), sourced by
# tests/cli/test_analyze_live.sh and test_analyze_kamailio.sh after
# serve_lib.sh (uses $T, bg_track, ok, not_ok, expect_exit, json_q):
# dumpcap records one scenario into $T/NAME.pcapng and `sipwarden analyze
# --json` must name the scenario's causes. The port decoded as SIP and
# filtered on is $SW_PORT.

# cap_usable: dumpcap exists and can capture on lo (root or the capture
# capabilities); says why not on stdout otherwise
cap_usable() {
	if ! command -v dumpcap >/dev/null; then echo "dumpcap missing"; return 1; fi
	if ! timeout 5 dumpcap -i lo -f "udp port 9" -a duration:1 -w "$T/probe.pcapng" -q >/dev/null 2>&1; then
		echo "dumpcap cannot capture on lo"; return 1
	fi
}

# cap_start NAME COUNT [IFACE [FILTER]]: dumpcap on IFACE (default lo) with
# the capture filter FILTER (default: UDP to or from $SW_PORT) into
# $T/NAME.pcapng until it has COUNT packets (20 s at most), in the network
# namespace $CAP_NETNS when set; waits up to 5 s until it says it captures.
# Stopping it with SIGINT right after the scenario loses the packets still in
# the kernel's capture buffer (the last one, often), so it stops by itself on
# the scenario's packet count.
cap_start() {
	CAP_NAME=$1
	local ns=()
	[ -n "${CAP_NETNS:-}" ] && ns=(ip netns exec "$CAP_NETNS")
	# ip netns exec execs dumpcap itself: $! is dumpcap
	"${ns[@]}" dumpcap -i "${3:-lo}" -f "${4:-udp port $SW_PORT}" -a duration:20 -c "$2" \
		-w "$T/$1.pcapng" -q >/dev/null 2>"$T/$1.dumpcap" &
	CAP_PID=$!
	bg_track "$CAP_PID"
	local i
	for i in $(seq 1 50); do
		grep -q 'Capturing on' "$T/$1.dumpcap" && break
		kill -0 "$CAP_PID" 2>/dev/null || break
		sleep 0.1
	done
	grep -q 'Capturing on' "$T/$1.dumpcap" || not_ok "dumpcap $1 does not capture: $(tail -c 300 "$T/$1.dumpcap")"
	sleep 0.3 # margin after the message, before the first packet
}

# cap_stop [SECONDS]: waits up to SECONDS (default 3) for dumpcap to reach
# its count and exit, then stops it with SIGINT (it writes out what it has;
# a missing packet shows in the checks that follow)
cap_stop() {
	local i
	for i in $(seq 1 $((${1:-3} * 10))); do kill -0 "$CAP_PID" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$CAP_PID" 2>/dev/null; then
		echo "# dumpcap $CAP_NAME: packet count not reached within ${1:-3} s, SIGINT"
		kill -INT "$CAP_PID" 2>/dev/null
		for i in $(seq 1 50); do kill -0 "$CAP_PID" 2>/dev/null || break; sleep 0.1; done
	fi
	if kill -0 "$CAP_PID" 2>/dev/null; then
		kill -KILL "$CAP_PID"
		not_ok "dumpcap $CAP_NAME did not stop within 5 s of SIGINT"
	fi
	wait "$CAP_PID" 2>/dev/null
}

# analyze ARGS...: `sipwarden analyze` with the server's port decoded as SIP
analyze() { "$SIPWARDEN" analyze --port "$SW_PORT" "$@"; }

# causes: the verdict causes of the flows of the JSON on stdin, in order
causes() { json_q '" ".join(f["verdict"]["cause"] for f in j["flows"])'; }

# expect_causes DESC WANT [analyze args...]: `analyze --json` gives flows
# with exactly these causes, and exit 0 if all are ok, else 1
expect_causes() {
	local desc=$1 want=$2 rc=1 got; shift 2
	if [ -z "$(printf '%s' "$want" | tr ' ' '\n' | grep -vx ok)" ]; then rc=0; fi
	expect_exit $rc "$desc: exit $rc" -- analyze --json "$@"
	got=$(printf '%s' "$OUT" | causes 2>&1)
	[ "$got" = "$want" ] && ok "$desc: $want" || not_ok "$desc: causes '$got', wanted '$want'"
}
