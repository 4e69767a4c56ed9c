#!/usr/bin/env bash
# sipwarden serve as an authenticating proxy, with sipp phones (issue #13), continued from
# test_proxy_sipp.sh: requests other than a plain call, and odd input. A replay of an
# INVITE's credentials in a new call (nonce count); credentials for another realm kept; a
# re-INVITE in the call; a strict-routed BYE; MESSAGE, OPTIONS to a user, SUBSCRIBE, PUBLISH,
# REFER and NOTIFY outside a dialog challenged with 407; PRACK routed and not challenged;
# broken responses from a callee dropped; Max-Forwards added when absent; a BYE with forged
# route tokens; callers of another domain (unchallenged in, refused when relaying);
# Proxy-Require; From not allowed. Ports 31800-32199.
. "$(dirname "$0")/serve_lib.sh"
PX_LOW=31800 PX_HIGH=32199
. "$TOOLS/proxy_lib.sh"
px_need_sipp
SW_DB="$T/req.db"
APW='al1ce-Pass'
sw_user add alice@127.0.0.1 --password "$APW" >/dev/null
# one callee user per case: bindings stay after a sipp callee has quit
for u in bob1 cid dave mia nina oscar yara zoe ann bea dina eve fay; do
	sw_user add "$u@127.0.0.1" --password "pw-$u" >/dev/null
done
SW_PORT=$(px_port)
ESC_PORT=$SW_PORT
sw_start req || { finish; exit 1; }

# a first call, whose credentials the replay below copies
callee_start bob1 bob1 pw-bob1 proxy_uas_answer 1.0 u1
caller_run call1 proxy_call alice "$APW" bob1
caller_ok "a first authenticated call alice -> bob1" call1
callee_ok "bob1 answered" bob1

# --- a replay of alice's credentials in a new call is refused (nonce count) --------------------
PA=$("${SIPP_TRACE[@]}" "$T/call1.msg" --sent --start '^INVITE ' --header Proxy-Authorization | grep Digest | tail -n 1)
callee_start cid cid pw-cid proxy_uas_answer 1.0 u1 -set wait_ticks 30 -set no_call 1
PX_FIELD4=$PA caller_run replay proxy_call_replay alice "$APW" cid
got=$(grep -Eo '^final [0-9]+' "$T/replay.log" 2>/dev/null | tail -n 1)
[ "$SIPP_RC" -eq 0 ] && [[ $got == "final 40"[137] ]] && ok "a replayed Proxy-Authorization (same nonce and nc, new call) is refused: ${got#final }" ||
	not_ok "replayed credentials: wanted 401/403/407, got '${got:-none}' (sipp exit $SIPP_RC: $(px_tail replay))"
callee_wait cid 10
[ "$(trace_count cid --recv --start '^INVITE ')" -eq 0 ] && ok "the replayed INVITE never reached the callee" ||
	not_ok "the replayed INVITE was forwarded to the callee"
event_match "events: the replayed INVITE is recorded with a cause other than ok" '"cause":"[a-z-]+"' \
	"e.get('method')=='INVITE' and e.get('port')==$CALLER_PORT and e.get('cause')!='ok'" --method INVITE

# --- credentials for another realm are not ours to remove (RFC 3261 §22.3) ------------------------
# (the callee scenario counts any Proxy-Authorization as a flaw, so its exit is not checked)
callee_start dina dina pw-dina proxy_uas_answer 1.0 u1 -set wait_ticks 100
caller_run twopa proxy_call_twopa alice "$APW" dina
caller_ok "an INVITE with credentials for our realm and for upstream.example is forwarded" twopa
callee_wait dina 20
OUT=$("${SIPP_TRACE[@]}" "$T/dina.msg" --recv --start '^INVITE ' --raw | grep -i '^proxy-authorization' | tr '\n' ' ')
expect_match "the callee got the upstream.example Proxy-Authorization" "$OUT" 'realm="upstream\.example"'
[[ $OUT != *'realm="127.0.0.1"'* ]] && ok "the callee did not get the credentials for our realm" ||
	not_ok "our realm's Proxy-Authorization reached the callee: ${OUT:0:300}"
unset 'PX_PID[dina]'   # its Proxy-Authorization is expected: left out of the check below

# --- a re-INVITE in the call comes back through the Record-Route and is not challenged ----------
callee_start eve eve pw-eve proxy_uas_reinvite 1.0 u1
caller_run reinvite proxy_call_reinvite alice "$APW" eve
caller_ok "a re-INVITE (hold) in the call: 200, ACK, then BYE" reinvite
callee_ok "eve got the re-INVITE and its ACK through the proxy, without Proxy-Authorization" eve
OUT=$("${SIPP_TRACE[@]}" "$T/reinvite.msg" --recv --start '^SIP/2.0 40[17]' --header CSeq | grep -c '3 INVITE')
[ "$OUT" -eq 0 ] && ok "the re-INVITE is not challenged" || not_ok "the re-INVITE got a 401/407"

# --- a BYE routed the strict way: the proxy restores the Request-URI (RFC 3261 §16.4) -----------
callee_start fay fay pw-fay proxy_uas_answer 1.0 u1
caller_run strict proxy_call_strict alice "$APW" fay
caller_ok "a strict-routed BYE (Request-URI = our Record-Route URI) is answered 200" strict
callee_ok "fay got the BYE" fay
trace_match "the BYE reached the callee with its Contact as Request-URI" fay \
	"^BYE sip:callee@127\\.0\\.0\\.1:${PX_PORT[fay]}" --recv --start '^BYE '

# --- MESSAGE is challenged like INVITE --------------------------------------------------------
callee_start mia mia pw-mia proxy_uas_message 1.0 u1
caller_run message proxy_message alice "$APW" mia
caller_ok "MESSAGE: 407, then with credentials delivered and answered 200" message
callee_ok "mia got the MESSAGE without Proxy-Authorization" mia
trace_match "the MESSAGE is challenged with 407 Proxy-Authenticate" message '^Digest ' \
	--recv --start '^SIP/2.0 407' --header Proxy-Authenticate
event_match "events --method MESSAGE: alice's MESSAGE, cause ok" '"cause":"ok"' \
	"e.get('method')=='MESSAGE' and e.get('port')==$CALLER_PORT and e.get('cause')=='ok'" --method MESSAGE

# --- SUBSCRIBE, PUBLISH, REFER and NOTIFY outside a dialog are challenged like INVITE ----------
for m in subscribe publish refer notify; do
	caller_run "req-$m" "proxy_$m" alice "$APW" bob1
	final_is "${m^^} from a local user without credentials: 407" "req-$m" 407
done

# --- OPTIONS to a user is challenged too --------------------------------------------------------
caller_run options proxy_options alice "$APW" dave
final_is "OPTIONS to an offline user: 407 first, then with credentials 480" options 480
trace_match "OPTIONS to a user is challenged with 407" options '^SIP/2.0 407' --recv --start '^SIP/2.0 [1-6]'

# --- reliable provisional responses: PRACK is routed and never challenged -----------------------
callee_start yara yara pw-yara proxy_uas_100rel 1.0 u1
caller_run prack proxy_call_100rel alice "$APW" yara
caller_ok "100rel: 180 with RSeq, PRACK along the Record-Route answered 200, then the call" prack
callee_ok "yara got the PRACK (RAck 1) without Proxy-Authorization, answered, got ACK and BYE" yara
OUT=$("${SIPP_TRACE[@]}" "$T/prack.msg" --recv --start '^SIP/2.0 40[17]' --header CSeq | grep -c PRACK)
[ "$OUT" -eq 0 ] && ok "the PRACK is not challenged" || not_ok "the PRACK got a 401/407"

# --- broken responses from the callee are dropped, never forwarded ------------------------------
callee_start zoe zoe pw-zoe proxy_uas_malformed 1.0 u1
caller_run broken proxy_call alice "$APW" zoe
caller_ok "a callee's broken 180 (Content-Length past the datagram) and 183 (no CSeq): the call still completes" broken
callee_ok "zoe answered after her broken responses" zoe
trace_nomatch "neither broken provisional response reached the caller" broken '^SIP/2.0 18[03]' --recv --start '^SIP/2.0'

# --- no Max-Forwards: the proxy adds 70 (RFC 3261 §16.6 step 3) ---------------------------------
callee_start ann ann pw-ann proxy_uas_answer 1.0 u1
caller_run nomf proxy_call_nomf alice "$APW" ann
caller_ok "INVITEs without Max-Forwards are forwarded" nomf
callee_ok "ann answered" ann
trace_match "the forwarded INVITE carries Max-Forwards: 70" ann '^70$' --recv --start '^INVITE ' --header Max-Forwards

# --- a BYE whose Route carries flow tokens the proxy did not sign -----------------------------
callee_start bea bea pw-bea proxy_uas_answer 1.0 u1
caller_run forged proxy_call_forged_route alice "$APW" bea
caller_ok "a BYE with forged route tokens is refused, then the real BYE ends the call" forged
got=$(grep -Eo '^forged [0-9]+' "$T/forged.log" 2>/dev/null | tail -n 1)
[[ $got == "forged 4"* ]] && ok "the forged BYE got ${got#forged } from the proxy" ||
	not_ok "the forged BYE got '${got:-no answer}' (wanted a 4xx)"
callee_ok "bea got the real BYE" bea
n=$(trace_count bea --recv --start '^BYE ')
[ "$n" -eq 1 ] && ok "the BYE with forged route tokens never reached the callee" ||
	not_ok "the callee got $n BYEs: the forged one was forwarded"

# --- a caller of another domain calling one of ours (a trunk): not challenged by default -----
callee_start nina nina pw-nina proxy_uas_answer 1.0 u1
PX_FROM_DOMAIN=example.org caller_run trunk proxy_call_trunk mallory nothing nina
caller_ok "From another domain to a local user: the call is forwarded without a challenge (default)" trunk
callee_ok "nina answered the call from mallory@example.org" nina
trace_nomatch "no 407 to the caller of another domain" trunk '^SIP/2.0 407' --recv

# another domain's user calling another domain through us: relaying refused, no challenge
PX_FROM_DOMAIN=example.org caller_run relay proxy_call_once mallory nothing bob example.net
final_is "From example.org to example.net: 403, unchallenged (no open relay)" relay 403
ev_invite "events: relay-denied for the foreign-to-foreign INVITE" relay-denied

# --- Proxy-Require, From not allowed -------------------------------------------------------------
caller_run require proxy_call_require alice "$APW" bob1
caller_ok "Proxy-Require: an unknown option gets 420 with Unsupported, before any challenge" require
PX_AU=alice caller_run fromnot proxy_call_reject oscar "$APW" bob1
final_is "alice's credentials with From oscar: 403" fromnot 403
ev_invite "events: from-not-allowed" from-not-allowed

leaks=
for n in "${!PX_PID[@]}"; do
	if "${SIPP_TRACE[@]}" "$T/$n.msg" --recv --raw | grep -Eiq '^proxy-authorization *:'; then leaks="$leaks $n"; fi
done
[ -z "$leaks" ] && ok "none of the ${#PX_PID[@]} callees received a Proxy-Authorization header" || not_ok "Proxy-Authorization reached:$leaks"
sw_alive "the proxy still answers OPTIONS"
sw_stop
finish
