#!/usr/bin/env bash
# Two baresip phones call each other through sipwarden serve (issue #13): each with its own
# config directory (-f DIR) and accounts file written here, answermode=auto, driven through
# its ctrl_tcp command interface (tests/tools/baresip_ctrl.py), a sine tone as microphone.
# The caller dials the callee's extension; the call is established on both sides, RTP flows
# both ways (baresip's RTP-established events, and a capture on lo when tcpdump may run),
# the caller hangs up and the BYE ends it on both sides. The callee never sees the
# Proxy-Authorization that baresip puts on INVITE, ACK and BYE. Once over UDP, once with the
# callee on TCP, once with a caller that has the server as its outbound proxy (a preloaded
# Route, which the server removes) and a callee that hangs up. Ports 33000-34999.
. "$(dirname "$0")/serve_lib.sh"
PX_LOW=33000 PX_HIGH=34999
. "$TOOLS/proxy_lib.sh"
if ! command -v baresip >/dev/null; then
	echo "# SKIP: baresip not installed (scripts/deps.sh installs it)"
	finish; exit
fi
MODS=/usr/lib/baresip/modules
for m in g711 ausine aubridge account menu ctrl_tcp; do
	[ -f "$MODS/$m.so" ] || { not_ok "baresip module $m.so missing in $MODS"; finish; exit 1; }
done
SW_DB="$T/bx.db"
sw_user add alice@127.0.0.1 --password 'al1ce-Pass' >/dev/null
sw_user add bob@127.0.0.1 --password 'b0b-Pass' >/dev/null
sw_user add carol@127.0.0.1 --password 'car0l-Pass' >/dev/null
sw_user add dave@127.0.0.1 --password 'd4ve-Pass' >/dev/null
SW_PORT=$(px_port)
sw_start bx || { finish; exit 1; }

# a capture on lo when tcpdump may open it
CAPTURE=
tcpdump_usable && CAPTURE=1
[ -n "$CAPTURE" ] || echo "# no packet capture (tcpdump missing or not permitted): RTP is checked with baresip's events alone"

declare -A BS_PID BS_SIP BS_CTRL BS_RTP BS_OFF
# bs_start NAME USER PASSWORD TRANSPORT [outbound]: a baresip registered as USER over
# TRANSPORT (udp, tcp); SIP on 127.0.0.1 (its TLS listener takes the next port), RTP in a
# block of 20 ports, ctrl_tcp on another; SIP trace (-s) in $T/NAME.out. The account is
# <sip:USER@127.0.0.1:PORT>, or with "outbound" <sip:USER@127.0.0.1> with the server as its
# outbound proxy (baresip then puts a Route to it on every request). Waits 10 s for the
# registration.
bs_start() {
	local name=$1 user=$2 pass=$3 tr=$4 ob=${5:-} d=$T/$1 i
	mkdir -p "$d"
	BS_SIP[$name]=$(px_block 2) && BS_RTP[$name]=$(px_eblock 20) && BS_CTRL[$name]=$(px_port) ||
		{ not_ok "$name: no free ports"; return 1; }
	cat >"$d/config" <<CONF
poll_method		epoll
sip_listen		127.0.0.1:${BS_SIP[$name]}
net_interface		127.0.0.1
call_local_timeout	120
audio_player		aubridge,$name
audio_source		ausine,440
ausrc_srate		48000
ausrc_channels		2
rtp_ports		${BS_RTP[$name]}-$((BS_RTP[$name] + 19))
rtp_stats		yes
module_path		$MODS
module			g711.so
module			ausine.so
module			aubridge.so
module_app		account.so
module_app		menu.so
module_app		ctrl_tcp.so
ctrl_tcp_listen		127.0.0.1:${BS_CTRL[$name]}
CONF
	if [ -n "$ob" ]; then
		echo "<sip:$user@127.0.0.1;transport=$tr>;auth_pass=$pass;outbound=\"sip:127.0.0.1:$SW_PORT;transport=$tr\";answermode=auto;regint=60" >"$d/accounts"
	else
		echo "<sip:$user@127.0.0.1:$SW_PORT;transport=$tr>;auth_pass=$pass;answermode=auto;regint=60" >"$d/accounts"
	fi
	HOME="$d" timeout --foreground 90 baresip -s -f "$d" >"$T/$name.out" 2>&1 </dev/null &
	BS_PID[$name]=$!
	bg_track "${BS_PID[$name]}"
	for i in $(seq 1 100); do
		if "$SIPWARDEN" registrations "$user@127.0.0.1" --json --db "$SW_DB" 2>/dev/null |
			grep -q "@127\\.0\\.0\\.1:${BS_SIP[$name]}[;\"].*\"transport\":\"$tr\".*\"user_agent\":\"baresip"; then
			ok "$name: baresip registers $user over $tr"
			return 0
		fi
		kill -0 "${BS_PID[$name]}" 2>/dev/null || break
		sleep 0.1
	done
	not_ok "$name: baresip did not register $user over $tr: $(sed 's/\x1b\[[0-9;]*m//g' "$T/$name.out" | grep -a -E 'reg|error|fail' | tail -n 5 | tr '\n' ';')"
	return 1
}

# bs_stop NAME: quit through its command interface, then TERM if needed
bs_stop() {
	local pid=${BS_PID[$1]} i
	python3 "$TOOLS/baresip_ctrl.py" --port "${BS_CTRL[$1]}" --out "$T/$1.quit" --timeout 2 --at 0:quit >/dev/null 2>&1
	for i in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# ev NAME TYPE [DIRECTION]: how many events of TYPE (and direction) NAME's ctrl log has
ev() {
	python3 - "$T/$1.ctrl" "$2" "${3:-}" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get('event') and e.get('type') == sys.argv[2] and (not sys.argv[3] or e.get('direction') == sys.argv[3]):
        n += 1
print(n)
PY
}

# call CASE CALLER CALLEE CALLEE_USER: CALLER dials CALLEE_USER, they talk 3 s, then the
# caller hangs up (BS_HANGUP=callee: the callee does)
call() {
	local c=$1 a=$2 b=$3 buser=$4 cap_pid=
	if [ -n "$CAPTURE" ]; then
		timeout 30 tcpdump -i lo -n -U -w "$T/$c.pcap" \
			"udp and (portrange ${BS_RTP[$a]}-$((BS_RTP[$a] + 19)) or portrange ${BS_RTP[$b]}-$((BS_RTP[$b] + 19)))" \
			>"$T/$c.tcpdump" 2>&1 </dev/null &
		cap_pid=$!
		bg_track "$cap_pid"
		sleep 0.5
	fi
	: >"$T/$a.ctrl"; : >"$T/$b.ctrl"
	BS_OFF[$a]=$(stat -c %s "$T/$a.out"); BS_OFF[$b]=$(stat -c %s "$T/$b.out")
	local ahang=(--on CALL_ESTABLISHED+3:hangup) bhang=()
	if [ "${BS_HANGUP:-caller}" = callee ]; then bhang=("${ahang[@]}"); ahang=(); fi
	python3 "$TOOLS/baresip_ctrl.py" --port "${BS_CTRL[$b]}" --out "$T/$b.ctrl" --timeout 25 --until CALL_CLOSED \
		"${bhang[@]}" &
	local lpid=$!
	sleep 0.3
	python3 "$TOOLS/baresip_ctrl.py" --port "${BS_CTRL[$a]}" --out "$T/$a.ctrl" --timeout 25 --until CALL_CLOSED \
		--at "0.2:dial:$buser" "${ahang[@]}"
	CALLER_RC=$?
	wait "$lpid"; CALLEE_RC=$?
	if [ -n "$cap_pid" ]; then
		sleep 0.3
		kill -INT "$cap_pid" 2>/dev/null
		wait "$cap_pid" 2>/dev/null
	fi
}

# checks CASE CALLER CALLEE CALLER_USER CALLEE_USER CALLEE_TRANSPORT
checks() {
	local c=$1 a=$2 b=$3 auser=$4 buser=$5 btr=$6 n1 n2 out
	[ "$CALLER_RC" -eq 0 ] && [ "$(ev "$a" CALL_ESTABLISHED outgoing)" -ge 1 ] &&
		ok "$c: the call is established on the caller's side" ||
		not_ok "$c: caller: no CALL_ESTABLISHED (exit $CALLER_RC): $(cut -c1-200 "$T/$a.ctrl" | tail -n 6 | tr '\n' ' ')"
	[ "$(ev "$b" CALL_ESTABLISHED incoming)" -ge 1 ] && ok "$c: established on the callee's side (auto answer)" ||
		not_ok "$c: callee: no CALL_ESTABLISHED: $(cut -c1-200 "$T/$b.ctrl" | tail -n 6 | tr '\n' ' ')"
	[ "$(ev "$a" CALL_RTPESTAB)" -ge 1 ] && [ "$(ev "$b" CALL_RTPESTAB)" -ge 1 ] &&
		ok "$c: both phones receive RTP (baresip's RTP-established event on each side)" ||
		not_ok "$c: RTP established: caller $(ev "$a" CALL_RTPESTAB), callee $(ev "$b" CALL_RTPESTAB)"
	if [ -n "$CAPTURE" ]; then
		out=$(tcpdump -r "$T/$c.pcap" -n 2>/dev/null | awk '{print $3, $5}')
		n1=$(printf '%s\n' "$out" | python3 -c '
import sys
a_lo, b_lo = int(sys.argv[1]), int(sys.argv[2])
ab = ba = 0
for line in sys.stdin:
    try:
        src, dst = line.split()
        sp = int(src.rsplit(".", 1)[1]); dp = int(dst.rstrip(":").rsplit(".", 1)[1])
    except (ValueError, IndexError):
        continue
    if a_lo <= sp < a_lo + 20 and b_lo <= dp < b_lo + 20: ab += 1
    if b_lo <= sp < b_lo + 20 and a_lo <= dp < a_lo + 20: ba += 1
print(ab, ba)' "${BS_RTP[$a]}" "${BS_RTP[$b]}")
		read -r n1 n2 <<<"$n1"
		[ "${n1:-0}" -ge 50 ] && [ "${n2:-0}" -ge 50 ] &&
			ok "$c: the capture on lo shows RTP both ways ($n1 caller->callee, $n2 callee->caller packets in ~3 s)" ||
			not_ok "$c: RTP in the capture: ${n1:-0} caller->callee, ${n2:-0} callee->caller"
	fi
	local hang=${BS_HANGUP:-caller} by=$a other=$b
	[ "$hang" = callee ] && { by=$b; other=$a; }
	[ "$(ev "$by" CALL_CLOSED)" -ge 1 ] && ok "$c: the $hang hung up (CALL_CLOSED)" || not_ok "$c: the $hang's call did not close"
	if [ "$CALLER_RC" -eq 0 ] && [ "$CALLEE_RC" -eq 0 ] && [ "$(ev "$other" CALL_CLOSED)" -ge 1 ]; then
		ok "$c: the BYE of the $hang ended the call on the other side"
	else
		not_ok "$c: the other side has no CALL_CLOSED (exits $CALLER_RC/$CALLEE_RC): $(cut -c1-200 "$T/$other.ctrl" | tail -n 3 | tr '\n' ' ')"
	fi
	local bl="127.0.0.1:$SW_PORT" al="127.0.0.1:$SW_PORT"  # messages from the proxy are received
	# this call's part of each SIP trace
	tail -c +$((BS_OFF[$a] + 1)) "$T/$a.out" >"$T/$c.$a.sip"
	tail -c +$((BS_OFF[$b] + 1)) "$T/$b.out" >"$T/$c.$b.sip"
	out=$("${SIPP_TRACE[@]}" "$T/$c.$b.sip" --baresip "$bl" --recv --start '^(INVITE|ACK|BYE) ')
	if [ "$hang" = callee ]; then
		expect_match "$c: the callee received the INVITE and the ACK through the proxy" "$(printf '%s' "$out" | tr '\n' '|')" \
			'^INVITE [^|]*\|ACK [^|]*\|?$'
		out=$("${SIPP_TRACE[@]}" "$T/$c.$a.sip" --baresip "$al" --recv --start '^BYE ')
		expect_match "$c: the callee's BYE reached the caller through the proxy" "$out" '^BYE '
		n2=$("${SIPP_TRACE[@]}" "$T/$c.$b.sip" --baresip "$bl" --recv --start '^SIP/2.0 40[17]' --header CSeq | grep -c BYE)
	else
		expect_match "$c: the callee received the INVITE, the ACK and the BYE through the proxy" "$(printf '%s' "$out" | tr '\n' '|')" \
			'^INVITE [^|]*\|ACK [^|]*\|BYE '
		n2=$("${SIPP_TRACE[@]}" "$T/$c.$a.sip" --baresip "$al" --recv --start '^SIP/2.0 40[17]' --header CSeq | grep -Ec 'BYE|ACK')
	fi
	[ "$n2" -eq 0 ] && ok "$c: the BYE was not challenged" || not_ok "$c: the BYE got a 401/407"
	out=$("${SIPP_TRACE[@]}" "$T/$c.$b.sip" --baresip "$bl" --recv --start '^INVITE ' --transport)
	[ "$out" = "$(echo "$btr" | tr a-z A-Z)" ] && ok "$c: the INVITE reached the callee over $btr" ||
		not_ok "$c: the INVITE reached the callee over '${out:-nothing}', wanted $btr"
	n1=$("${SIPP_TRACE[@]}" "$T/$c.$a.sip" --baresip "$al" --sent --start '^(INVITE|ACK|BYE) ' --header Proxy-Authorization | grep -c 'Digest')
	local want=3; [ "$hang" = callee ] && want=2
	[ "$n1" -ge "$want" ] && ok "$c: baresip sent Proxy-Authorization on $n1 requests (INVITE, ACK$([ "$want" = 3 ] && echo ', BYE'))" ||
		not_ok "$c: baresip sent Proxy-Authorization on only $n1 requests"
	n2=$("${SIPP_TRACE[@]}" "$T/$c.$b.sip" --baresip "$bl" --recv --raw | grep -Eic '^proxy-authorization *:')
	[ "$n2" -eq 0 ] && ok "$c: the callee never received a Proxy-Authorization" ||
		not_ok "$c: the callee received $n2 Proxy-Authorization headers"
	wait_match "$c: calls --json: $auser -> $buser ended with 200" \
		"\"caller\":\"[^\"]*$auser[^\"]*\",\"callee\":\"[^\"]*$buser[^\"]*\".*\"state\":\"ended\"" calls_flat
	wait_match "$c: events: $auser's INVITE to $buser, cause ok" \
		"\"method\":\"INVITE\".*\"cause\":\"ok\".*INVITE to $buser@" \
		"$SIPWARDEN" events --method INVITE --json --limit 3 --db "$SW_DB"
}
# calls_flat: one call a line, keys in the order caller, callee, state, status, cause
calls_flat() {
	calls_json | python3 -c '
import json, sys
for c in json.load(sys.stdin):
    print(json.dumps({k: c.get(k) for k in ("caller", "callee", "state", "status", "cause")}, separators=(",", ":")))'
}

# --- UDP to UDP ---------------------------------------------------------------------------
bs_start alice alice 'al1ce-Pass' udp && bs_start bob bob 'b0b-Pass' udp &&
	{ call udp alice bob bob; checks udp alice bob alice bob udp; }
bs_stop bob

# --- the callee on TCP --------------------------------------------------------------------
bs_start carol carol 'car0l-Pass' tcp &&
	{ call tcp alice carol carol; checks tcp alice carol alice carol tcp; }
bs_stop alice

# --- a caller with the server as its outbound proxy (a Route on every request) -------------
if bs_start dave dave 'd4ve-Pass' udp outbound; then
	BS_HANGUP=callee call outbound dave carol carol
	BS_HANGUP=callee checks outbound dave carol dave carol tcp
	n=$("${SIPP_TRACE[@]}" "$T/outbound.dave.sip" --baresip "127.0.0.1:$SW_PORT" --sent --start '^INVITE ' --header Route | grep -c "127\\.0\\.0\\.1:$SW_PORT")
	[ "$n" -ge 1 ] && ok "outbound: baresip put a Route to the server on its INVITE" ||
		not_ok "outbound: no Route on baresip's INVITE (the case does not test what it should)"
	out=$("${SIPP_TRACE[@]}" "$T/outbound.carol.sip" --baresip "127.0.0.1:$SW_PORT" --recv --start '^INVITE ' --header Route)
	[ -z "$out" ] && ok "outbound: the server removed its own Route before forwarding" ||
		not_ok "outbound: the callee's INVITE still has Route: $out"
fi
bs_stop dave
bs_stop carol

sw_alive "the proxy still answers OPTIONS"
sw_stop
finish
