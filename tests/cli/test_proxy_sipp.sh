#!/usr/bin/env bash
# sipwarden serve as an authenticating proxy, with sipp phones (issue #13): calls between
# two registered users over UDP and TCP (INVITE -> 407 -> ACK -> INVITE with sipp's own
# [authentication] -> 100/180/200 -> ACK -> BYE along the Record-Route), credentials in the
# dialog, a wrong password, an offline and an unknown callee, busy, CANCEL (after 180, and
# before the callee's first provisional), the callee hanging up, Max-Forwards 0, a callee
# whose UDP port is closed or whose TCP connection is gone (and the next binding), a foreign
# domain; the callee never sees our Proxy-Authorization; events, why and calls tell what
# happened. Other requests and odd input are in test_proxy_requests.sh; forking, 6xx, the
# best response, load and Timer C in test_proxy_fork.sh. The scenarios are checked without
# the proxy by test_proxy_scenarios.sh. Ports 31000-31799.
. "$(dirname "$0")/serve_lib.sh"
PX_LOW=31000 PX_HIGH=31799
. "$TOOLS/proxy_lib.sh"
px_need_sipp
SW_DB="$T/proxy.db"
APW='al1ce-Pass'
sw_user add alice@127.0.0.1 --password "$APW" >/dev/null
# one callee user per case: bindings stay after a sipp callee has quit
for u in bob1 bob2 bob3 bob4 bob5 dave erin erin2 frank frank2 frank3 jack kate pat quinn wes xena; do
	sw_user add "$u@127.0.0.1" --password "pw-$u" >/dev/null
done
SW_PORT=$(px_port)
sw_start proxy || { finish; exit 1; }
ESC_PORT=$SW_PORT

# --- an authenticated call over UDP ------------------------------------------------
callee_start bob1 bob1 pw-bob1 proxy_uas_answer 1.0 u1
caller_run call1 proxy_call alice "$APW" bob1
caller_ok "UDP call alice -> bob1: 407, INVITE with credentials, 200, ACK, BYE 200 (caller side)" call1
callee_ok "bob1 got the INVITE, answered, got the ACK and the BYE, and no Proxy-Authorization" bob1
trace_match "the first INVITE is challenged with 407 and Proxy-Authenticate, realm 127.0.0.1" call1 \
	'^Digest .*realm="127\.0\.0\.1"' --recv --start '^SIP/2.0 407' --header Proxy-Authenticate
n=$(trace_count call1 --recv --start '^SIP/2.0 407')
OUT=$("${SIPP_TRACE[@]}" "$T/call1.msg" --recv --start '^SIP/2.0 407' --header WWW-Authenticate | tr -d '\n')
[ "$n" -ge 1 ] && [ -z "$OUT" ] && ok "the 407 carries no WWW-Authenticate (401 is for REGISTER)" ||
	not_ok "407s: $n, WWW-Authenticate in them: '${OUT:0:200}'"
OUT=$("${SIPP_TRACE[@]}" "$T/call1.msg" --recv --start '^SIP/2.0 407' --header To --header Proxy-Authenticate | head -n 1)
if [[ $OUT == *";tag="*"||"* && $OUT == *'qop="auth"'* && $OUT == *"algorithm=MD5"* && $OUT == *"opaque="* && $OUT == *"nonce="* ]]; then
	ok "the 407 has a To tag and a challenge like the 401's (nonce, opaque, algorithm, qop)"
else
	not_ok "the 407's To and Proxy-Authenticate: ${OUT:0:300}"
fi
trace_match "the callee's INVITE: Max-Forwards 70 - 1" bob1 '^69$' --recv --start '^INVITE ' --header Max-Forwards
trace_match "the callee's INVITE has a Record-Route with lr naming the proxy" bob1 \
	"127\\.0\\.0\\.1:$ESC_PORT[;>].*lr" --recv --start '^INVITE ' --header Record-Route
trace_match "the callee's INVITE: the proxy's Via on top of the caller's" bob1 \
	"^SIP/2.0/UDP 127\\.0\\.0\\.1:$ESC_PORT;branch=z9hG4bK[^ ]*( \\| |, *)SIP/2.0/UDP 127\\.0\\.0\\.1:$CALLER_PORT;" \
	--recv --start '^INVITE ' --header Via
trace_match "the callee's INVITE: the caller's Via got rport=its source port and received (RFC 3581 §4)" bob1 \
	"(\\| |, *)SIP/2.0/UDP 127\\.0\\.0\\.1:$CALLER_PORT;[^,|]*(rport=$CALLER_PORT[^,|]*received=127\\.0\\.0\\.1|received=127\\.0\\.0\\.1[^,|]*rport=$CALLER_PORT)" \
	--recv --start '^INVITE ' --header Via
trace_match "the callee's INVITE keeps the To and From of the caller's" bob1 \
	'^<sip:bob1@127\.0\.0\.1> \|\| <sip:alice@127\.0\.0\.1>;tag=' --recv --start '^INVITE ' --header To --header From
trace_match "the callee's INVITE goes to the contact it registered" bob1 \
	"^INVITE sip:bob1@127\\.0\\.0\\.1:${PX_PORT[bob1]}" --recv --start '^INVITE '
trace_match "the caller's 200 has the Record-Route (lr) and the callee's Contact" call1 \
	"lr.*\\|\\|.*sip:callee@127\\.0\\.0\\.1:${PX_PORT[bob1]}" --recv --start '^SIP/2.0 200' --header Record-Route --header Contact
trace_match "the BYE reached the callee through the proxy (Via of the proxy on top)" bob1 \
	"^SIP/2.0/UDP 127\\.0\\.0\\.1:$ESC_PORT;" --recv --start '^BYE ' --header Via
trace_match "the BYE is not challenged: 200" call1 '^SIP/2.0 200' --recv --call-id . --start '^SIP/2.0 (200|401|407)' 
OUT=$("${SIPP_TRACE[@]}" "$T/call1.msg" --recv --start '^SIP/2.0' --header CSeq | tail -n 1)
expect_match "the last answer the caller got is the BYE's 200" "$OUT" '^3 BYE$'
ev_invite "events --method INVITE: alice's INVITE with credentials, cause ok" ok
ev_invite "events --method INVITE: alice's first INVITE, no-credentials (407)" no-credentials
wait_match "why alice@127.0.0.1 shows her INVITE" '"method":"INVITE"' \
	"$SIPWARDEN" why alice@127.0.0.1 --json --last 5 --db "$SW_DB"

# --- credentials in the dialog (as baresip sends them) --------------------------------
callee_start bob2 bob2 pw-bob2 proxy_uas_answer 1.0 u1
caller_run call2 proxy_call_creds alice "$APW" bob2
caller_ok "a caller that puts Proxy-Authorization on ACK and BYE: the BYE is not challenged" call2
callee_ok "bob2: ACK and BYE arrive without the caller's Proxy-Authorization" bob2
trace_nomatch "bob2 received no Proxy-Authorization at all" bob2 '^proxy-authorization *:' --recv --raw

# --- TCP: caller, callee, both --------------------------------------------------------
callee_start bob3 bob3 pw-bob3 proxy_uas_answer 1.0 u1
caller_run call3 proxy_call alice "$APW" bob3 127.0.0.1 t1
caller_ok "TCP caller -> UDP callee: the call runs to its end (caller)" call3
callee_ok "TCP caller -> UDP callee: bob3 answered and was hung up" bob3
OUT=$("${SIPP_TRACE[@]}" "$T/bob3.msg" --recv --start '^INVITE ' --header Record-Route)
expect_match "transport changes TCP -> UDP: two Record-Route of the proxy, one for each side" "$OUT" \
	"127\\.0\\.0\\.1:$ESC_PORT[^,|]*transport=tcp.*127\\.0\\.0\\.1:$ESC_PORT|127\\.0\\.0\\.1:$ESC_PORT.*127\\.0\\.0\\.1:$ESC_PORT[^,|]*transport=tcp"
callee_start bob4 bob4 pw-bob4 proxy_uas_answer 1.0 t1
caller_run call4 proxy_call alice "$APW" bob4
caller_ok "UDP caller -> TCP callee: the call runs to its end (caller)" call4
callee_ok "UDP caller -> TCP callee: bob4 got the INVITE on the connection it registered on, ACK, BYE" bob4
trace_match "bob4's INVITE came over TCP with the proxy's TCP Via" bob4 "^SIP/2.0/TCP 127\\.0\\.0\\.1:" \
	--recv --start '^INVITE ' --header Via
callee_start bob5 bob5 pw-bob5 proxy_uas_answer 1.0 t1
caller_run call5 proxy_call_creds alice "$APW" bob5 127.0.0.1 t1
caller_ok "TCP caller -> TCP callee (credentials in the dialog): the call runs to its end" call5
callee_ok "TCP -> TCP: bob5 answered, got ACK and BYE without Proxy-Authorization" bob5

# --- wrong password ---------------------------------------------------------------------
caller_run wrong proxy_call_reject alice 'not-her-password' bob1
final_is "a wrong password: the INVITE with credentials gets 407 again" wrong 407
ev_invite "events: the INVITE with the wrong password is wrong-password" wrong-password
wait_match "why alice@127.0.0.1: her newest decision is the INVITE, wrong-password" \
	'"method":"INVITE".*"cause":"wrong-password"' \
	"$SIPWARDEN" why alice@127.0.0.1 --json --last 1 --db "$SW_DB"
OUT=$("$SIPWARDEN" why alice@127.0.0.1 --last 1 --db "$SW_DB" 2>&1 | tr '\n' ' ')
expect_match "why (text) shows the INVITE to bob1 and wrong-password" "$OUT" 'INVITE .*wrong-password.*INVITE to bob1'

# --- offline and unknown callees --------------------------------------------------------
caller_run offline proxy_call_reject alice "$APW" dave
final_is "a known callee with no binding: 480" offline 480
ev_invite "events: callee-offline for dave" callee-offline
caller_run unknown proxy_call_reject alice "$APW" nobody
final_is "an unknown callee: 480 too (no enumeration)" unknown 480
ev_invite "events: callee-unknown for nobody" callee-unknown
A=$("${SIPP_TRACE[@]}" "$T/offline.msg" --recv --start '^SIP/2.0 4' | tail -n 1)
B=$("${SIPP_TRACE[@]}" "$T/unknown.msg" --recv --start '^SIP/2.0 4' | tail -n 1)
[ -n "$A" ] && [ "$A" = "$B" ] && ok "offline and unknown: the same status line ($A)" ||
	not_ok "offline '$A' vs unknown '$B'"
HA=$("${SIPP_TRACE[@]}" "$T/offline.msg" --recv --start '^SIP/2.0 480' --raw | grep -Ei '^(retry-after|warning|reason|server|allow)' | sort | tr '\n' ';')
HB=$("${SIPP_TRACE[@]}" "$T/unknown.msg" --recv --start '^SIP/2.0 480' --raw | grep -Ei '^(retry-after|warning|reason|server|allow)' | sort | tr '\n' ';')
[ "$HA" = "$HB" ] && ok "offline and unknown: the same extra headers (${HA:-none})" || not_ok "offline [$HA] vs unknown [$HB]"

# --- busy --------------------------------------------------------------------------------
callee_start erin erin pw-erin proxy_uas_busy 1.0 u1
caller_run busy proxy_call_reject alice "$APW" erin
final_is "a busy callee: 486 forwarded to the caller" busy 486
callee_ok "erin answered 486 and got the proxy's ACK" erin

# --- CANCEL after 180 --------------------------------------------------------------------
callee_start frank frank pw-frank proxy_uas_ring 1.0 u1
caller_run cancel proxy_call_cancel alice "$APW" frank
caller_ok "CANCEL after 180: 200 for the CANCEL, 487 for the INVITE" cancel
callee_ok "frank got the CANCEL (the INVITE's branch), answered 200 and 487, got the ACK" frank
trace_nomatch "the CANCEL is not challenged" cancel '^SIP/2.0 40[17]' --recv --start '^SIP/2.0' --header CSeq --first-line
OUT=$("${SIPP_TRACE[@]}" "$T/cancel.msg" --recv --start '^SIP/2.0 (200|487)' --header CSeq | tr '\n' ';')
expect_match "the caller: 200 CANCEL, then 487 INVITE" "$OUT" '^2 CANCEL;2 INVITE;$'

# CANCEL before the callee has sent anything: the proxy holds its CANCEL until the callee's
# first provisional response (RFC 3261 §9.1), then the call ends 487
callee_start frank3 frank3 pw-frank3 proxy_uas_ring 1.0 u1 -set ring_ms 1500
caller_run cancel-early proxy_call_cancel_early alice "$APW" frank3
caller_ok "CANCEL right after the proxy's 100: 200 for the CANCEL, then 487" cancel-early
callee_ok "the slow callee got the CANCEL only after its 180, answered 487, got the ACK" frank3
t_180=$(trace_time frank3 --sent --start '^SIP/2.0 180')
t_cancel=$(trace_time frank3 --recv --start '^CANCEL ')
if [ -n "$t_180" ] && [ -n "$t_cancel" ] && python3 -c "import sys; sys.exit(0 if $t_cancel >= $t_180 else 1)"; then
	ok "the CANCEL reached the callee after its provisional response"
else
	not_ok "CANCEL at ${t_cancel:-never}, the callee's 180 at ${t_180:-never}"
fi

# --- Max-Forwards 0 ----------------------------------------------------------------------
caller_run maxfwd proxy_call_maxfwd alice "$APW" bob1
caller_ok "Max-Forwards: 0 gets 483 Too Many Hops, before any challenge" maxfwd
ev_invite "events: too-many-hops" too-many-hops

# --- a callee whose UDP port is closed -----------------------------------------------------
# (two cases at once, since each may last until Timer B, 32 s: jack's only binding is closed;
# kate's closed binding has the higher q, and her q=0.5 binding must answer next)
callee_start jack-gone jack pw-jack proxy_uas_answer 1.0 u1 -set wait_ticks 0 -set no_call 1
callee_start kate-gone kate pw-kate proxy_uas_answer 1.0 u1 -set wait_ticks 0 -set no_call 1
callee_wait jack-gone 10
callee_wait kate-gone 10
callee_start kate-lo kate pw-kate proxy_uas_answer 0.5 u1
t0=$(date +%s)
( caller_run closed proxy_call_reject alice "$APW" jack; echo "$SIPP_RC $CALLER_PORT $(date +%s)" >"$T/closed.rc" ) &
CLOSED_PID=$!
bg_track "$CLOSED_PID"
caller_run closed2 proxy_call alice "$APW" kate
caller_ok "a closed q=1.0 binding: the q=0.5 one is tried next and the call is answered" closed2
callee_ok "the q=0.5 binding answered after the closed one failed" kate-lo
wait "$CLOSED_PID"
read -r SIPP_RC CALLER_PORT t1 <"$T/closed.rc" || SIPP_RC=99
got=$(grep -Eo '^final [0-9]+' "$T/closed.log" 2>/dev/null | tail -n 1)
if [ "$SIPP_RC" -eq 0 ] && [[ $got == "final 408" || $got == "final 480" || $got == "final 503" ]]; then
	ok "a callee whose UDP port is closed: the caller gets a final answer (${got#final }, after $((t1 - t0)) s)"
else
	not_ok "closed port: wanted final 408/480/503, got '${got:-none}' (sipp exit $SIPP_RC: $(px_tail closed))"
fi
ev_invite "events: callee-unreachable for the closed port" callee-unreachable

# --- a callee whose TCP connection is gone: the branch fails at once -------------------------
callee_start wes-gone wes pw-wes proxy_uas_answer 1.0 t1 -set wait_ticks 0 -set no_call 1
callee_wait wes-gone 10
t0=$(date +%s)
caller_run tcpgone proxy_call_reject alice "$APW" wes
t1=$(date +%s)
got=$(grep -Eo '^final [0-9]+' "$T/tcpgone.log" 2>/dev/null | tail -n 1)
if [ "$SIPP_RC" -eq 0 ] && [[ $got == "final 480" || $got == "final 503" ]] && [ $((t1 - t0)) -le 10 ]; then
	ok "a callee whose TCP connection is closed: ${got#final } after $((t1 - t0)) s (no wait for Timer B)"
else
	not_ok "TCP connection gone: wanted final 480/503 within 10 s, got '${got:-none}' after $((t1 - t0)) s (sipp exit $SIPP_RC: $(px_tail tcpgone))"
fi
event_match "events: the INVITE to wes is callee-unreachable or callee-offline" '"cause":"callee-(unreachable|offline)"' \
	"e.get('method')=='INVITE' and e.get('port')==$CALLER_PORT and e.get('cause','').startswith('callee-')" --method INVITE
callee_start xena-gone xena pw-xena proxy_uas_answer 1.0 t1 -set wait_ticks 0 -set no_call 1
callee_wait xena-gone 10
callee_start xena-lo xena pw-xena proxy_uas_answer 0.5 u1
t0=$(date +%s)
caller_run tcpgone2 proxy_call alice "$APW" xena
t1=$(date +%s)
caller_ok "a closed TCP q=1.0 binding: the q=0.5 UDP one is tried next and answers" tcpgone2
callee_ok "xena's UDP binding answered" xena-lo
[ "$SIPP_RC" -eq 0 ] && [ $((t1 - t0)) -le 12 ] && ok "the call through the next binding took $((t1 - t0)) s (no wait for Timer B)" ||
	not_ok "the call through the next binding took $((t1 - t0)) s"

# --- a foreign domain ----------------------------------------------------------------------
caller_run foreign proxy_call_reject alice "$APW" bob1 example.net
final_is "alice calling bob1@example.net: 403 (no relaying)" foreign 403
trace_match "the 403's reason says we do not relay" foreign '^SIP/2.0 403 .*[Rr]elay' --recv --start '^SIP/2.0 403'
ev_invite "events: relay-denied" relay-denied

# --- the same with TCP: busy, CANCEL, offline, wrong password ------------------------------
callee_start erin2 erin2 pw-erin2 proxy_uas_busy 1.0 t1
caller_run busy-tcp proxy_call_reject alice "$APW" erin2 127.0.0.1 t1
final_is "TCP caller and callee: 486 forwarded" busy-tcp 486
callee_ok "TCP: erin2 answered 486 and got the proxy's ACK" erin2
callee_start frank2 frank2 pw-frank2 proxy_uas_ring 1.0 t1
caller_run cancel-tcp proxy_call_cancel alice "$APW" frank2 127.0.0.1 t1
caller_ok "TCP caller and callee: CANCEL after 180, 200 and 487" cancel-tcp
callee_ok "TCP: frank2 got the CANCEL, answered 200 and 487, got the ACK" frank2
caller_run offline-tcp proxy_call_reject alice "$APW" dave 127.0.0.1 t1
final_is "TCP caller, callee offline: 480" offline-tcp 480
caller_run wrong-tcp proxy_call_reject alice 'not-her-password' bob1 127.0.0.1 t1
final_is "TCP caller, wrong password: 407 again" wrong-tcp 407
ev_invite "events: wrong-password over TCP" wrong-password

# --- the callee hangs up: its BYE goes back along the Record-Route --------------------------
callee_start pat pat pw-pat proxy_uas_answer_bye 1.0 u1
caller_run rbye proxy_call_remote_bye alice "$APW" pat
caller_ok "the callee hangs up: the caller gets its BYE through the proxy, without Proxy-Authorization" rbye
callee_ok "pat's BYE was answered 200 by the caller" pat
trace_match "the callee's BYE reached the caller with the proxy's Via on top" rbye \
	"^SIP/2.0/UDP 127\\.0\\.0\\.1:$ESC_PORT;" --recv --start '^BYE ' --header Via
callee_start quinn quinn pw-quinn proxy_uas_answer_bye 1.0 u1
caller_run rbye-tcp proxy_call_remote_bye alice "$APW" quinn 127.0.0.1 t1
caller_ok "the callee (UDP) hangs up on a TCP caller: the BYE comes over the caller's connection" rbye-tcp
callee_ok "quinn's BYE was answered 200 by the TCP caller" quinn

# --- sipwarden calls ----------------------------------------------------------------------
calls_has "calls --json: alice -> bob1, ended, 200" \
	"'alice' in str(c.get('caller')) and 'bob1' in str(c.get('callee')) and str(c.get('status'))=='200' and c.get('state')=='ended'"
calls_has "calls --json: alice -> dave failed 480, cause callee-offline" \
	"'dave' in str(c.get('callee')) and str(c.get('status'))=='480' and c.get('cause')=='callee-offline'"
calls_has "calls --json: alice -> nobody failed 480, cause callee-unknown" \
	"'nobody' in str(c.get('callee')) and str(c.get('status'))=='480' and c.get('cause')=='callee-unknown'"
calls_has "calls --json: alice -> erin, 486, callee-busy" "'erin' in str(c.get('callee')) and str(c.get('status'))=='486' and c.get('cause')=='callee-busy'"
calls_has "calls --json: alice -> frank cancelled (487)" \
	"'frank' in str(c.get('callee')) and str(c.get('status'))=='487' and c.get('state')=='cancelled'"
calls_has "calls --json: alice -> jack failed, cause callee-unreachable" \
	"'jack' in str(c.get('callee')) and c.get('cause')=='callee-unreachable'"
OUT=$(calls_json 2>&1)
expect_match "every call has caller, callee, state, status and cause" "$(printf '%s' "$OUT" | python3 -c '
import json, sys
j = json.load(sys.stdin)
bad = [c for c in j if not all(k in c for k in ("caller", "callee", "state", "status", "cause"))]
print("%d calls, %d without a field" % (len(j), len(bad)))' 2>&1)" '^[1-9][0-9]* calls, 0 without'

# --- events --method filters by method -----------------------------------------------------------
OUT=$("$SIPWARDEN" events --method INVITE --json --limit 0 --db "$SW_DB" 2>&1 | python3 -c '
import json, sys
j = json.load(sys.stdin)
print(len(j), sorted({e.get("method") for e in j}))' 2>&1)
expect_match "events --method INVITE: only INVITE decisions ($OUT)" "$OUT" "^[1-9][0-9]* \['INVITE'\]$"
OUT=$("$SIPWARDEN" events --method REGISTER --json --limit 0 --db "$SW_DB" 2>&1 | python3 -c '
import json, sys
j = json.load(sys.stdin)
print(len(j), sorted({e.get("method") for e in j}))' 2>&1)
expect_match "events --method REGISTER: only REGISTER decisions ($OUT)" "$OUT" "^[1-9][0-9]* \['REGISTER'\]$"

# --- no callee ever received our credentials ------------------------------------------------
leaks=
for n in "${!PX_PID[@]}"; do
	if "${SIPP_TRACE[@]}" "$T/$n.msg" --recv --raw | grep -Eiq '^proxy-authorization *:'; then leaks="$leaks $n"; fi
done
[ -z "$leaks" ] && ok "none of the ${#PX_PID[@]} callees received a Proxy-Authorization header" || not_ok "Proxy-Authorization reached:$leaks"

sw_alive "the proxy still answers OPTIONS"
sw_stop

finish
