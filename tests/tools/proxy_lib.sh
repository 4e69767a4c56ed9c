# Helpers of the tests/cli/test_proxy_*.sh scripts, sourced after tests/cli/serve_lib.sh:
# sipp callees (tests/sipp/proxy_callee.xml with a proxy_uas_*.xml as its out-of-call
# scenario) started in the background and waited for, sipp callers run in the foreground,
# checks over their message traces (tests/tools/sipp_trace.py) and over the server's
# events and calls. Every process started here is stopped on exit (bg_track).
# The script sets PX_LOW and PX_HIGH, its own port range, before calling anything here.
: "${PX_LOW:?set PX_LOW}" "${PX_HIGH:?set PX_HIGH}"
SIPP_TRACE=(python3 "$TOOLS/sipp_trace.py")
declare -A PX_PID PX_PORT PX_RC

# px_pick KIND [N]: free ports in PX_LOW-PX_HIGH that this script has not handed out before
# (they are listed in $T/ports.used, so that two picks never collide before either is bound)
#   port   one port free for UDP and TCP
#   media  an even P with P and P+2 free for UDP (sipp binds audio on -mp P, video on P+2)
#   block  a P with P .. P+N-1 all free for UDP and TCP
#   eblock the same with P even (baresip rounds the start of its rtp_ports down to even)
# px_need_sipp: skips the rest of the test (exit 0) without sipp
px_need_sipp() {
	command -v sipp >/dev/null && return
	echo "# SKIP: sipp not installed (scripts/deps.sh installs sip-tester)"
	finish; exit
}

px_pick() {
	python3 - "$PX_LOW" "$PX_HIGH" "$T/ports.used" "$1" "${2:-1}" <<'PY'
import os, random, socket, sys
low, high, used_file, kind, n = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
used = set()
if os.path.exists(used_file):
    used = {int(x) for x in open(used_file).read().split() if x.isdigit()}
def free(q, kinds):
    if q in used or not low <= q <= high:
        return False
    for kind in kinds:
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind(("127.0.0.1", q))
        except OSError:
            return False
        finally:
            s.close()
    return True
both = (socket.SOCK_DGRAM, socket.SOCK_STREAM)
for _ in range(500):
    if kind == "media":
        p = random.randint(low // 2, (high - 2) // 2) * 2
        ports = [p, p + 1, p + 2, p + 3]
        ok = free(p, (socket.SOCK_DGRAM,)) and free(p + 2, (socket.SOCK_DGRAM,))
    elif kind in ("block", "eblock"):
        p = random.randint(low, high - n + 1)
        if kind == "eblock" and p % 2:
            p -= 1
        ports = list(range(p, p + n))
        ok = all(free(q, both) for q in ports)
    else:
        p = random.randint(low, high)
        ports = [p]
        ok = free(p, both)
    if ok:
        with open(used_file, "a") as f:
            f.write(" ".join(map(str, ports)) + "\n")
        print(p)
        sys.exit(0)
sys.exit(1)
PY
}
px_port() { px_pick port; }
px_media_port() { px_pick media; }
px_block() { px_pick block "$1"; }
px_eblock() { px_pick eblock "$1"; }

# px_tname u1|t1: udp|tcp, as the server's registrations name the transport
px_tname() { [ "$1" = t1 ] && echo tcp || echo udp; }

# callee_start NAME USER PASSWORD UAS [Q] [TRANSPORT] [sipp args...]
# A phone registered as USER (contact q=Q, default 1.0) over TRANSPORT (u1 UDP, default;
# t1 TCP) that answers calls with tests/sipp/UAS.xml; waits (5 s at most) until the server
# lists its binding. Its -trace_msg is $T/NAME.msg, its log $T/NAME.log. Extra sipp args,
# e.g. -set answer_ms 1000, -set wait_ticks 50 (default 400: it waits 40 s for its call),
# -set no_call 1 (a phone that is not to be called).
callee_start() {
	local name=$1 user=$2 pass=$3 uas=$4 q=${5:-1.0} tr=${6:-u1}
	shift 4; [ $# -gt 0 ] && shift; [ $# -gt 0 ] && shift
	local lp mp i
	lp=$(px_port) && mp=$(px_media_port) || { not_ok "$name: no free port"; return 1; }
	printf 'SEQUENTIAL\n%s;127.0.0.1;%s\n' "$user" "$q" >"$T/$name.csv"
	timeout 120 sipp "127.0.0.1:$SW_PORT" -t "$tr" -sf "$SIPP_DIR/proxy_callee.xml" \
		-oocsf "$SIPP_DIR/$uas.xml" -inf "$T/$name.csv" -au "$user" -ap "$pass" \
		-i 127.0.0.1 -p "$lp" -mp "$mp" -m 1 -set wait_ticks 400 "$@" -nostdin \
		-trace_msg -message_file "$T/$name.msg" -trace_logs -log_file "$T/$name.log" \
		-trace_err -error_file "$T/$name.errs" >"$T/$name.out" 2>&1 </dev/null &
	PX_PID[$name]=$!
	PX_PORT[$name]=$lp
	bg_track "${PX_PID[$name]}"
	local alive=1
	for i in $(seq 1 50); do
		if "$SIPWARDEN" registrations "$user@127.0.0.1" --json --db "$SW_DB" 2>/dev/null |
			grep -q "\"port\":$lp,\"transport\":\"$(px_tname "$tr")\""; then
			return 0
		fi
		[ -n "$alive" ] || break  # it quit (e.g. wait_ticks 0): looked once more
		kill -0 "${PX_PID[$name]}" 2>/dev/null || alive=
		sleep 0.1
	done
	not_ok "callee $name ($user, port $lp) did not register: $(px_tail "$name")"
	return 1
}

# callee_wait NAME [SECONDS]: waits (default 45 s; 3 s when the last caller failed, as its
# call is over) for the callee to exit; its exit status in PX_RC[NAME] (124: still running,
# then stopped)
callee_wait() {
	local name=$1 max=${2:-45} pid=${PX_PID[$1]} i
	[ "${PX_LAST_RC:-0}" -ne 0 ] && [ "$max" -gt 3 ] && max=3
	for i in $(seq 1 $((max * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		PX_RC[$name]=124
		return
	fi
	wait "$pid"; PX_RC[$name]=$?
}

# callee_ok DESC NAME [SECONDS]: the callee ran its call to the end and exited 0
callee_ok() {
	callee_wait "$2" "${3:-45}"
	if [ "${PX_RC[$2]}" -eq 0 ]; then ok "$1"; else
		not_ok "$1 (callee $2 exit ${PX_RC[$2]}: $(px_tail "$2"))"
	fi
}

# px_tail NAME: the last SIP lines of NAME's trace and its errors, for a failure message
px_tail() {
	local f=$T/$1
	printf '%s' "$("${SIPP_TRACE[@]}" "$f.msg" 2>/dev/null | tail -n 8 | tr '\n' ';')"
	printf ' log: %s' "$(tail -n 4 "$f.log" 2>/dev/null | tr '\n' ';')"
	printf ' errors: %s' "$(grep -v 'out-of-call\|^The following' "$f.errs" 2>/dev/null | tr -d '\r' | head -c 400 | tr '\n' ' ')"
}

# caller_run NAME SCENARIO USER PASSWORD CALLEE [CALLEE_DOMAIN] [TRANSPORT] [sipp args...]
# One call with tests/sipp/SCENARIO.xml from USER (the From and the digest credentials) to
# CALLEE@CALLEE_DOMAIN (default 127.0.0.1) over TRANSPORT (u1, default, or t1), bounded by
# 60 s; sipp's exit status in SIPP_RC, its caller port in CALLER_PORT; trace $T/NAME.msg.
# It sends to the server ($SW_PORT), or to PX_TARGET (host:port) when that is set; the From
# domain is PX_FROM_DOMAIN (default 127.0.0.1), the digest username PX_AU (default USER);
# PX_CALLS calls (default 1; give the rate with -r R in the sipp args); PX_FIELD4, when set,
# is the CSV's fifth field ([field4]).
caller_run() {
	local name=$1 scen=$2 user=$3 pass=$4 callee=$5 cdom=${6:-127.0.0.1} tr=${7:-u1}
	shift 5; [ $# -gt 0 ] && shift; [ $# -gt 0 ] && shift
	local mp
	CALLER_PORT=$(px_port) && mp=$(px_media_port) || { not_ok "$name: no free port"; SIPP_RC=99; return 1; }
	printf 'SEQUENTIAL\n%s;%s;%s;%s%s\n' "$user" "${PX_FROM_DOMAIN:-127.0.0.1}" "$callee" "$cdom" \
		"${PX_FIELD4:+;$PX_FIELD4}" >"$T/$name.csv"
	timeout 60 sipp "${PX_TARGET:-127.0.0.1:$SW_PORT}" -t "$tr" -sf "$SIPP_DIR/$scen.xml" -inf "$T/$name.csv" \
		-au "${PX_AU:-$user}" -ap "$pass" -i 127.0.0.1 -p "$CALLER_PORT" -mp "$mp" -m "${PX_CALLS:-1}" "$@" -nostdin \
		-trace_msg -message_file "$T/$name.msg" -trace_logs -log_file "$T/$name.log" \
		-trace_err -error_file "$T/$name.errs" >"$T/$name.out" 2>&1 </dev/null
	SIPP_RC=$?
	PX_LAST_RC=$SIPP_RC
}

# caller_ok DESC NAME: the caller's scenario ran to its end (sipp exit 0)
caller_ok() {
	if [ "$SIPP_RC" -eq 0 ]; then ok "$1"; else not_ok "$1 (sipp exit $SIPP_RC: $(px_tail "$2"))"; fi
}

# final_is DESC NAME CODE: proxy_call_reject.xml ended on a final CODE
final_is() {
	local got
	got=$(grep -Eo '^final [0-9]+' "$T/$2.log" 2>/dev/null | tail -n 1)
	if [ "$SIPP_RC" -eq 0 ] && [ "$got" = "final $3" ]; then ok "$1"; else
		not_ok "$1 (wanted final $3, got '${got:-none}', sipp exit $SIPP_RC: $(px_tail "$2"))"
	fi
}

# trace_match DESC NAME REGEX [sipp_trace.py args...]: the selected lines of NAME's trace
# match REGEX (grep -E, on all of them joined by newlines)
trace_match() {
	local desc=$1 name=$2 re=$3 out; shift 3
	out=$("${SIPP_TRACE[@]}" "$T/$name.msg" "$@" 2>&1)
	if printf '%s\n' "$out" | grep -Eq -- "$re"; then ok "$desc"; else
		not_ok "$desc (no /$re/ in: ${out:0:500})"
	fi
}

# trace_nomatch DESC NAME REGEX [sipp_trace.py args...]: and none matches
trace_nomatch() {
	local desc=$1 name=$2 re=$3 out; shift 3
	out=$("${SIPP_TRACE[@]}" "$T/$name.msg" "$@" 2>&1)
	if printf '%s\n' "$out" | grep -Eiq -- "$re"; then
		not_ok "$desc (found /$re/: $(printf '%s\n' "$out" | grep -Ei -m2 -- "$re" | head -c 400))"
	else ok "$desc"; fi
}

# trace_count NAME [sipp_trace.py args...]: how many messages are selected
trace_count() { local n=$1; shift; "${SIPP_TRACE[@]}" "$T/$n.msg" --count "$@" 2>/dev/null || echo 0; }

# trace_time NAME [args]: time of the first selected message (empty when none)
trace_time() { local n=$1; shift; "${SIPP_TRACE[@]}" "$T/$n.msg" --time "$@" 2>/dev/null | head -n 1; }

# event_match DESC REGEX PYEXPR [events args...]: waits up to 3 s until an event of
# `sipwarden events --json ARGS` for which the Python expression PYEXPR over `e` holds,
# shown as JSON, matches REGEX
event_match() {
	local desc=$1 re=$2 expr=$3 i out; shift 3
	for i in $(seq 1 30); do
		out=$("$SIPWARDEN" events --json --limit 0 "$@" --db "$SW_DB" 2>&1 | python3 -c '
import json, sys
try:
    j = json.load(sys.stdin)
except Exception as x:
    print("not JSON: %s" % x); sys.exit(0)
for e in j:
    if eval(sys.argv[1]):
        print(json.dumps(e, separators=(",", ":")))' "$expr")
		if printf '%s' "$out" | grep -Eq -- "$re"; then ok "$desc"; return 0; fi
		sleep 0.1
	done
	not_ok "$desc (no /$re/ among events where $expr: ${out:0:500}; the newest events: $("$SIPWARDEN" events --json --limit 5 "$@" --db "$SW_DB" 2>&1 | head -c 600))"
	return 1
}

# calls_json: sipwarden calls --json on the database
calls_json() { "$SIPWARDEN" calls --json --db "$SW_DB"; }

# ev_invite DESC CAUSE [REGEX]: an INVITE event from this caller's port with this cause
ev_invite() {
	event_match "$1" "${3:-\"cause\":\"$2\"}" "e.get('method')=='INVITE' and e.get('port')==$CALLER_PORT and e.get('cause')=='$2'" --method INVITE
}

# calls_has DESC PYEXPR: waits up to 3 s for a call of calls --json where PYEXPR over `c`
# holds (the server writes the calls out once a second)
calls_has() {
	local desc=$1 expr=$2 i out
	for i in $(seq 1 30); do
		out=$(calls_json 2>&1)
		if printf '%s' "$out" | python3 -c '
import json, sys
j = json.load(sys.stdin)
sys.exit(0 if any(eval(sys.argv[1]) for c in j) else 1)' "$expr" 2>/dev/null; then ok "$desc"; return; fi
		sleep 0.1
	done
	not_ok "$desc (no call where $expr in: ${out:0:800})"
}
