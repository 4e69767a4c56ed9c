#!/usr/bin/env bash
# The sipp scenarios of the proxy tests (tests/sipp/proxy_*.xml) checked without the proxy,
# so that test_proxy_sipp.sh's failures are the proxy's and not the scenarios':
# - each callee scenario (proxy_callee.xml registering through `sipwarden serve`, which only
#   needs to be a registrar here, with a proxy_uas_*.xml answering) is called straight by
#   proxy_selftest_uac.xml playing a proxy, over UDP and TCP;
# - each caller scenario (proxy_call*.xml) calls proxy_selftest_proxy.xml, a sipp server that
#   plays an authenticating proxy and its callee in one.
# Ports 30000-30999.
. "$(dirname "$0")/serve_lib.sh"
PX_LOW=30000 PX_HIGH=30999
. "$TOOLS/proxy_lib.sh"
px_need_sipp
SW_DB="$T/scen.db"
sw_user add bob@127.0.0.1 --password 'b0b-Pass' >/dev/null
SW_PORT=$(px_port)
sw_start scen || { finish; exit 1; }

# --- callee scenarios, called straight ----------------------------------
# direct NAME UAS TRANSPORT [selftest_uac args...]: a callee, and the self-test "proxy" calling it
direct() {
	local name=$1 uas=$2 tr=$3; shift 3
	callee_start "$name" bob 'b0b-Pass' "$uas" 1.0 "$tr" -set wait_ticks 150 || return 1
	PX_TARGET="127.0.0.1:${PX_PORT[$name]}" caller_run "$name-uac" proxy_selftest_uac bob x bob 127.0.0.1 "$tr" "$@"
}
for tr in u1 t1; do
	direct "answer-$tr" proxy_uas_answer "$tr"
	caller_ok "$tr: proxy_uas_answer.xml answers 100/180/200, takes ACK and BYE (uac side)" "answer-$tr-uac"
	callee_ok "$tr: proxy_uas_answer.xml ran to its end and proxy_callee.xml exits 0" "answer-$tr"
	trace_match "$tr: its 180 and 200 copy the INVITE's Record-Route" "answer-$tr" \
		'^<sip:127\.0\.0\.1:[0-9]+;lr>$' --sent --start '^SIP/2.0 (180|200)' --header Record-Route
done
direct busy proxy_uas_busy u1
caller_ok "proxy_uas_busy.xml answers 486 and takes the ACK (uac side)" busy-uac
callee_ok "proxy_uas_busy.xml ran to its end" busy
for uas in decline unavailable; do
	direct "$uas" "proxy_uas_$uas" u1
	caller_ok "proxy_uas_$uas.xml refuses after 180 and takes the ACK (uac side)" "$uas-uac"
	callee_ok "proxy_uas_$uas.xml ran to its end" "$uas"
done
direct ring proxy_uas_ring u1 -set cancel 1
caller_ok "proxy_uas_ring.xml rings, answers the CANCEL 200 and the INVITE 487 with both Via (uac side)" ring-uac
callee_ok "proxy_uas_ring.xml ran to its end" ring
# the checks of the callee scenarios fail the callee when the request carries credentials
direct leak proxy_uas_answer u1 -set creds 1
callee_wait leak 20
if [ "${PX_RC[leak]}" -eq 1 ] && grep -q 'FLAW: the INVITE .* carries a Proxy-Authorization' "$T/leak.log"; then
	ok "a callee that receives a Proxy-Authorization fails (exit 1) and says so"
else
	not_ok "a callee that receives a Proxy-Authorization: exit ${PX_RC[leak]}, log: $(tr '\n' ';' <"$T/leak.log")"
fi
# a callee nobody calls fails, unless it is told no call is coming
callee_start lonely bob 'b0b-Pass' proxy_uas_answer 1.0 u1 -set wait_ticks 5
callee_wait lonely 10
[ "${PX_RC[lonely]}" -eq 1 ] && ok "a callee that is never called exits 1" ||
	not_ok "a callee that is never called exits ${PX_RC[lonely]}"
callee_start quiet bob 'b0b-Pass' proxy_uas_answer 1.0 u1 -set wait_ticks 5 -set no_call 1
callee_ok "with -set no_call 1 it exits 0" quiet 10

# --- caller scenarios, against a sipp playing proxy and callee ------------
# fake NAME SCENARIO CALLEE TRANSPORT: the self-test proxy on a free port, then the caller
fake() {
	local name=$1 scen=$2 callee=$3 tr=$4 fp mp
	fp=$(px_port) && mp=$(px_media_port) || { not_ok "no free port"; return 1; }
	timeout 30 sipp -t "$tr" -sf "$SIPP_DIR/proxy_selftest_proxy.xml" -i 127.0.0.1 -p "$fp" -mp "$mp" -m 1 \
		-nostdin -trace_msg -message_file "$T/$name-fp.msg" -trace_err -error_file "$T/$name-fp.errs" \
		>"$T/$name-fp.out" 2>&1 </dev/null &
	local pid=$!
	bg_track "$pid"
	sleep 0.3
	PX_TARGET="127.0.0.1:$fp" caller_run "$name" "$scen" alice secret "$callee" 127.0.0.1 "$tr"
	wait "$pid"; FP_RC=$?
}
for tr in u1 t1; do
	fake "call-$tr" proxy_call bob "$tr"
	caller_ok "$tr: proxy_call.xml: 407, credentials, 200, ACK and BYE along the reversed Record-Route" "call-$tr"
	[ "$FP_RC" -eq 0 ] && ok "$tr: the self-test proxy saw the credentials, the ACK and the BYE as expected" ||
		not_ok "$tr: self-test proxy exit $FP_RC: $(grep -v '^The following' "$T/call-$tr-fp.errs" | head -c 600)"
done
fake creds proxy_call_creds bob u1
caller_ok "proxy_call_creds.xml runs the same call" creds
OUT=$("${SIPP_TRACE[@]}" "$T/creds.msg" --sent --start '^(ACK|BYE) ' --header Proxy-Authorization | grep -c 'Digest .*username="alice"')
[ "$OUT" -eq 2 ] && ok "proxy_call_creds.xml sends Proxy-Authorization on the ACK and the BYE" ||
	not_ok "proxy_call_creds.xml: $OUT of the ACK and the BYE carry Proxy-Authorization"

OUT=$("${SIPP_TRACE[@]}" "$T/creds.msg" --sent --start '^INVITE' --header Proxy-Authorization | tail -n 1)
expect_match "sipp's default digest uri is the server's address (not the Request-URI)" "$OUT" 'uri="sip:127\.0\.0\.1:[0-9]+"'
fake busy-call proxy_call_reject busy u1
final_is "proxy_call_reject.xml ends on the 486" busy-call 486
fake wrong-call proxy_call_reject wrongpw u1
final_is "proxy_call_reject.xml ends on a second 407" wrong-call 407
fake cancel-call proxy_call_cancel ring u1
caller_ok "proxy_call_cancel.xml: 180, CANCEL, 200 and 487, ACK" cancel-call
[ "$FP_RC" -eq 0 ] && ok "the self-test proxy got the CANCEL and the ACK" || not_ok "self-test proxy exit $FP_RC"
fake mf-call proxy_call_maxfwd bob u1
caller_ok "proxy_call_maxfwd.xml: Max-Forwards 0 gets 483" mf-call

sw_alive "the registrar still answers"
sw_stop
finish
