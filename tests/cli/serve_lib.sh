# Shared helpers of the tests/cli/test_serve*.sh scripts: a `sipwarden serve`
# on a free random loopback port (20000-29999) in a temp dir (under $TMPDIR,
# default /tmp) with a fresh database, waited for until it answers OPTIONS;
# stopped with SIGTERM and checked to exit 0 without a sanitizer report.
# Every process started here is stopped on exit.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
export TZ=UTC
TOOLS="$(cd "$(dirname "${BASH_SOURCE[0]}")/../tools" && pwd)"
SIPP_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../sipp" && pwd)"
SIPCAT=(python3 "$TOOLS/sipcat.py")
T=$(mktemp -d "${TMPDIR:-/tmp}/sw_serve.XXXXXX")
_bg_pids=()

_serve_cleanup() {
	local p
	for p in "${_bg_pids[@]}"; do
		kill -0 "$p" 2>/dev/null || continue
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${_bg_pids[@]}"; do
		for _ in $(seq 1 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
	[ -n "${KEEP_T:-}" ] && echo "# kept $T" || rm -rf "$T"
}
trap _serve_cleanup EXIT

# bg_track PID: stop this process on exit
bg_track() { _bg_pids+=("$1"); }

# free_port [LOW HIGH]: a random port in LOW-HIGH (default 20000-29999) free
# for both UDP and TCP on 127.0.0.1 (bound without SO_REUSEPORT, so a port
# another server holds with SO_REUSEPORT counts as taken). Each test script
# uses its own range, so that scripts never pick each other's ports.
free_port() {
	python3 - "${1:-20000}" "${2:-29999}" <<'PY'
import random, socket, sys
low, high = int(sys.argv[1]), int(sys.argv[2])
for _ in range(200):
    p = random.randint(low, high)
    ok = True
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind(("127.0.0.1", p))
        except OSError:
            ok = False
        finally:
            s.close()
    if ok:
        print(p)
        sys.exit(0)
sys.exit(1)
PY
}

# sw_user ARGS...: sipwarden user ... on the current database
sw_user() { "$SIPWARDEN" user "$@" --db "$SW_DB"; }

# sw_start NAME [serve args...]: starts a server with --db $SW_DB (default
# $T/NAME.db), domain 127.0.0.1, UDP and TCP on $SW_PORT (default: a free
# one), 2 workers; stdout in $T/NAME.log, stderr in $T/NAME.err. Waits up to
# 10 s for it to answer OPTIONS. Sets SW_PID, SW_PORT, SW_NAME.
sw_start() {
	SW_NAME=$1; shift
	: "${SW_DB:=$T/$SW_NAME.db}"
	[ -n "${SW_PORT:-}" ] || SW_PORT=$(free_port) || { not_ok "no free port"; return 1; }
	"$SIPWARDEN" serve --db "$SW_DB" --domain 127.0.0.1 --listen "udp:127.0.0.1:$SW_PORT" \
		--listen "tcp:127.0.0.1:$SW_PORT" --workers 2 "$@" >>"$T/$SW_NAME.log" 2>>"$T/$SW_NAME.err" &
	SW_PID=$!
	bg_track "$SW_PID"
	local i
	for i in $(seq 1 50); do
		if ! kill -0 "$SW_PID" 2>/dev/null; then
			not_ok "server $SW_NAME exited at start: $(tail -c 600 "$T/$SW_NAME.err")"
			return 1
		fi
		if "${SIPCAT[@]}" --timeout 0.2 127.0.0.1 "$SW_PORT" options >/dev/null 2>&1; then
			return 0
		fi
	done
	not_ok "server $SW_NAME does not answer OPTIONS on port $SW_PORT within 10 s"
	return 1
}

# sw_alive DESC: the server process still runs and answers OPTIONS (UDP)
sw_alive() {
	if kill -0 "$SW_PID" 2>/dev/null &&
		"${SIPCAT[@]}" --timeout 2 127.0.0.1 "$SW_PORT" options >/dev/null 2>&1; then
		ok "$1"
	else
		not_ok "$1 (server down or silent; stderr: $(tail -c 600 "$T/$SW_NAME.err"))"
	fi
}

# sw_stop: SIGTERM, then the server must exit 0 within 10 s with no
# sanitizer report on stderr
sw_stop() {
	local i rc
	kill -TERM "$SW_PID" 2>/dev/null
	for i in $(seq 1 100); do kill -0 "$SW_PID" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$SW_PID" 2>/dev/null; then
		kill -KILL "$SW_PID"
		not_ok "server $SW_NAME did not stop within 10 s of SIGTERM"
		wait "$SW_PID" 2>/dev/null
		return
	fi
	wait "$SW_PID"; rc=$?
	if grep -Eq 'AddressSanitizer|LeakSanitizer|ThreadSanitizer|runtime error:|UndefinedBehavior' "$T/$SW_NAME.err"; then
		not_ok "server $SW_NAME: sanitizer report: $(grep -E -m3 -A8 'Sanitizer|runtime error' "$T/$SW_NAME.err")"
	elif [ "$rc" -ne 0 ]; then
		not_ok "server $SW_NAME exited $rc after SIGTERM: $(tail -c 600 "$T/$SW_NAME.err")"
	else
		ok "server $SW_NAME stopped cleanly (exit 0, no sanitizer report)"
	fi
}

# sw_kill9: SIGKILL, no checks
sw_kill9() {
	kill -KILL "$SW_PID" 2>/dev/null
	wait "$SW_PID" 2>/dev/null
}

# sipp_run NAME [sipp args...]: sipp against the server from a free local
# port, with message trace $T/NAME.msg; exit code in $SIPP_RC
sipp_run() {
	local name=$1; shift
	local lp; lp=$(free_port)
	timeout 60 sipp "127.0.0.1:$SW_PORT" -i 127.0.0.1 -p "$lp" -nostdin -trace_msg \
		-message_file "$T/$name.msg" -trace_err -error_file "$T/$name.errs" "$@" \
		>"$T/$name.out" 2>&1 </dev/null
	SIPP_RC=$?
}

# sipp_expect DESC RC NAME: sipp exited RC (0 all calls succeeded, 1 some failed)
sipp_expect() {
	if [ "$SIPP_RC" -eq "$2" ]; then ok "$1"; else
		not_ok "$1 (sipp exit $SIPP_RC, wanted $2: $(grep -E '^(SIP/2.0 |[A-Z]+ sip)' "$T/$3.msg" | tail -n 6 | tr '\r\n' '  ') $(tail -c 300 "$T/$3.errs" 2>/dev/null))"
	fi
}

# users_csv FILE USER...: a sipp injection file, fields user;domain
users_csv() {
	local f=$1; shift
	{ echo SEQUENTIAL; for u in "$@"; do echo "$u;127.0.0.1"; done; } >"$f"
}

# tcpdump_usable: true when tcpdump exists and may capture on lo (a probe that
# keeps running until stopped could open it)
tcpdump_usable() {
	command -v tcpdump >/dev/null || return 1
	timeout 5 tcpdump -i lo -c 1 -w /dev/null 'udp port 9' >"$T/tcpdump-probe" 2>&1 </dev/null &
	local probe=$! up=1
	sleep 0.5
	if kill -0 "$probe" 2>/dev/null; then up=0; kill -INT "$probe" 2>/dev/null; fi
	wait "$probe" 2>/dev/null
	return $up
}

# wait_match DESC REGEX CMD...: retries CMD for up to 3 s until its stdout
# matches REGEX (events are committed asynchronously)
wait_match() {
	local desc=$1 re=$2 i; shift 2
	for i in $(seq 1 30); do
		OUT=$("$@" 2>&1)
		if printf '%s' "$OUT" | grep -Eq -- "$re"; then ok "$desc"; return 0; fi
		sleep 0.1
	done
	not_ok "$desc (no match for /$re/ in: ${OUT:0:400})"; return 1
}

# json_q EXPR < JSON: evaluates a Python expression over the parsed JSON `j`
json_q() { python3 -c 'import json,sys; j=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

# known_bug DESC: a check that fails because of a known server bug, reported
# and not fixed yet: a "# KNOWN BUG" line (neither ok nor not ok) unless
# SW_STRICT=1 makes it a failure
known_bug() {
	if [ "${SW_STRICT:-0}" = 1 ]; then not_ok "$1"; else echo "# KNOWN BUG: $1"; fi
}
