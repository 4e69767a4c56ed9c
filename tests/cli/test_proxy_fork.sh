#!/usr/bin/env bash
# sipwarden serve as an authenticating proxy, with sipp phones (issue #13), continued from
# test_proxy_sipp.sh: forking to several bindings of one user (different q: serial, highest
# first; equal q: in parallel, the others cancelled when one answers), a 6xx ends the search,
# the best response (4xx before 5xx, a lone 503 becomes 500), 20 calls at 10/s to one phone,
# 2xx retransmissions forwarded, Timer C on a ringing callee (timer_c = 3),
# reveal_unknown_callee and accept_foreign_callers = no, changed back by SIGHUP.
# Ports 32200-32999.
. "$(dirname "$0")/serve_lib.sh"
PX_LOW=32200 PX_HIGH=32999
. "$TOOLS/proxy_lib.sh"
px_need_sipp
SW_DB="$T/fork.db"
APW='al1ce-Pass'
sw_user add alice@127.0.0.1 --password "$APW" >/dev/null
# one user per case: bindings stay after a sipp callee has quit
for u in gina hank ivy jill rita sam tina uma vic wyn; do
	sw_user add "$u@127.0.0.1" --password "pw-$u" >/dev/null
done
SW_PORT=$(px_port)
sw_start fork || { finish; exit 1; }

# --- forking by q ------------------------------------------------------------------------
# serial: the q=1.0 binding is busy, then the q=0.5 one is tried and answers
callee_start gina-hi gina pw-gina proxy_uas_busy 1.0 u1
callee_start gina-lo gina pw-gina proxy_uas_answer 0.5 u1
caller_run serial proxy_call alice "$APW" gina
caller_ok "serial forking: the q=0.5 binding answers after the q=1.0 one is busy (caller)" serial
callee_ok "the q=1.0 binding got the INVITE first and answered 486" gina-hi
callee_ok "the q=0.5 binding got the INVITE, answered, got ACK and BYE" gina-lo
t_busy=$(trace_time gina-hi --sent --start '^SIP/2.0 486')
t_lo=$(trace_time gina-lo --recv --start '^INVITE ')
if [ -n "$t_busy" ] && [ -n "$t_lo" ] && python3 -c "import sys; sys.exit(0 if $t_lo >= $t_busy else 1)"; then
	ok "serial: the q=0.5 binding got its INVITE only after the q=1.0 one's 486"
else
	not_ok "serial: 486 at ${t_busy:-never}, INVITE to q=0.5 at ${t_lo:-never}"
fi
# serial: the q=1.0 binding answers; the q=0.5 one is never tried
callee_start hank-hi hank pw-hank proxy_uas_answer 1.0 u1 -set answer_ms 500
callee_start hank-lo hank pw-hank proxy_uas_answer 0.3 u1 -set wait_ticks 60 -set no_call 1
caller_run serial2 proxy_call alice "$APW" hank
caller_ok "serial forking: the q=1.0 binding answers (caller)" serial2
callee_ok "the q=1.0 binding answered" hank-hi
callee_wait hank-lo 15
[ "$(trace_count hank-lo --recv --start '^INVITE ')" -eq 0 ] && ok "the q=0.3 binding never got an INVITE" ||
	not_ok "the q=0.3 binding got an INVITE though the q=1.0 one answered"
# parallel: two bindings with q=1.0 ring at once; one answers, the other is cancelled
callee_start ivy-a ivy pw-ivy proxy_uas_answer 1.0 u1 -set answer_ms 1500
callee_start ivy-b ivy pw-ivy proxy_uas_ring 1.0 u1
caller_run parallel proxy_call alice "$APW" ivy
caller_ok "parallel forking: the call is answered (caller)" parallel
callee_ok "parallel: the answering binding answered, got ACK and BYE" ivy-a
callee_ok "parallel: the other binding rang, then got a CANCEL, answered 487, got the ACK" ivy-b
t_b=$(trace_time ivy-b --recv --start '^INVITE ')
t_a200=$(trace_time ivy-a --sent --start '^SIP/2.0 200')
if [ -n "$t_b" ] && [ -n "$t_a200" ] && python3 -c "import sys; sys.exit(0 if $t_b < $t_a200 else 1)"; then
	ok "parallel: both bindings rang before the first answered"
else
	not_ok "parallel: INVITE to the second at ${t_b:-never}, 200 from the first at ${t_a200:-never}"
fi
OUT=$("${SIPP_TRACE[@]}" "$T/parallel.msg" --recv --start '^SIP/2.0 200' --header CSeq | grep -c INVITE)
[ "$OUT" -ge 1 ] && ok "parallel: the caller got the 200 (the 487 of the other branch is not forwarded)" || not_ok "no 200 INVITE"
trace_nomatch "parallel: the caller never sees the cancelled branch's 487" parallel '^SIP/2.0 487' --recv --start '^SIP/2.0'

# parallel across transports: a TCP binding and a UDP one with q=1.0; the TCP one answers
callee_start jill-tcp jill pw-jill proxy_uas_answer 1.0 t1 -set answer_ms 1000
callee_start jill-udp jill pw-jill proxy_uas_ring 1.0 u1
caller_run parallel2 proxy_call alice "$APW" jill
caller_ok "parallel over TCP and UDP bindings: the call is answered (caller)" parallel2
callee_ok "the TCP binding answered on its connection, got ACK and BYE" jill-tcp
callee_ok "the UDP binding rang and was cancelled" jill-udp

# --- 6xx: a decline ends the search (RFC 3261 §16.7 step 5) ----------------------------------
# parallel: one binding declines 603 while the other rings: the ringing one is cancelled
callee_start rita-a rita pw-rita proxy_uas_decline 1.0 u1 -set answer_ms 800
callee_start rita-b rita pw-rita proxy_uas_ring 1.0 u1
caller_run decline proxy_call_reject alice "$APW" rita
final_is "parallel: 603 Decline from one binding is forwarded to the caller" decline 603
callee_ok "the declining binding got the proxy's ACK (with its INVITE's branch)" rita-a
callee_ok "the other binding, still ringing, got a CANCEL after the 603 (487, ACK)" rita-b
# serial: the q=1.0 binding declines: the q=0.5 one is never tried
callee_start sam-hi sam pw-sam proxy_uas_decline 1.0 u1
callee_start sam-lo sam pw-sam proxy_uas_answer 0.5 u1 -set wait_ticks 40 -set no_call 1
caller_run decline2 proxy_call_reject alice "$APW" sam
final_is "serial: 603 from the q=1.0 binding is final" decline2 603
callee_ok "the q=1.0 binding declined and got the ACK" sam-hi
callee_wait sam-lo 15
[ "$(trace_count sam-lo --recv --start '^INVITE ')" -eq 0 ] && ok "after a 6xx the q=0.5 binding is not tried" ||
	not_ok "the q=0.5 binding got an INVITE after the q=1.0 one declined with 603"

# --- the best response: 4xx before 5xx; a lone 503 becomes 500 (RFC 3261 §16.7 step 6) -------
callee_start tina-a tina pw-tina proxy_uas_unavailable 1.0 u1
callee_start tina-b tina pw-tina proxy_uas_busy 1.0 u1 -set answer_ms 300
caller_run best proxy_call_reject alice "$APW" tina
final_is "parallel 503 and 486: the caller gets the 486 (lowest class)" best 486
callee_ok "the 503 binding got its ACK" tina-a
callee_ok "the 486 binding got its ACK" tina-b
callee_start uma uma pw-uma proxy_uas_unavailable 1.0 u1
caller_run only503 proxy_call_reject alice "$APW" uma
final_is "a lone 503 from the callee is forwarded as 500 (a 503 would say the proxy is unavailable)" only503 500
callee_ok "the 503 binding got its ACK" uma

# --- 2xx retransmissions pass through the proxy (RFC 3261 §16.7, RFC 6026) ------------------
callee_start wyn wyn pw-wyn proxy_uas_answer 1.0 u1
caller_run slowack proxy_call_slowack alice "$APW" wyn
caller_ok "a caller that acknowledges the 200 late: the call completes" slowack
callee_ok "the callee got the late ACK and the BYE" wyn
n_sent=$("${SIPP_TRACE[@]}" "$T/wyn.msg" --sent --start '^SIP/2.0 200' --header CSeq | grep -c INVITE)
n_recv=$("${SIPP_TRACE[@]}" "$T/slowack.msg" --recv --start '^SIP/2.0 200' --header CSeq | grep -c '2 INVITE')
if [ "$n_sent" -ge 2 ] && [ "$n_recv" -ge 2 ]; then
	ok "the callee sent the 200 $n_sent times, the caller got $n_recv: retransmissions forwarded"
else
	not_ok "the callee sent the 200 $n_sent times, the caller got it $n_recv times (a 2xx retransmission must be forwarded)"
fi

# --- 20 calls, 10 a second, to one phone -----------------------------------------------------
callee_start many vic pw-vic proxy_uas_answer 1.0 u1 -set want_calls 20 -set wait_ticks 300
PX_CALLS=20 caller_run load proxy_call alice "$APW" vic 127.0.0.1 u1 -r 10
caller_ok "20 authenticated calls at 10/s: every one answered and hung up (caller)" load
callee_ok "the callee answered all 20 and got every ACK and BYE, no Proxy-Authorization" many 60
n=$(trace_count many --recv --start '^INVITE ')
[ "$n" -eq 20 ] && ok "the callee got exactly 20 INVITEs (no duplicate forwarded)" || not_ok "the callee got $n INVITEs for 20 calls"

calls_has "calls --json: alice -> ivy answered (200) though one binding was cancelled" \
	"'ivy' in str(c.get('callee')) and str(c.get('status'))=='200'"
calls_has "calls --json: alice -> rita failed 603, callee-declined" "'rita' in str(c.get('callee')) and str(c.get('status'))=='603' and c.get('cause')=='callee-declined'"
leaks=
for n in "${!PX_PID[@]}"; do
	if "${SIPP_TRACE[@]}" "$T/$n.msg" --recv --raw | grep -Eiq '^proxy-authorization *:'; then leaks="$leaks $n"; fi
done
[ -z "$leaks" ] && ok "none of the ${#PX_PID[@]} callees received a Proxy-Authorization header" || not_ok "Proxy-Authorization reached:$leaks"
sw_alive "the proxy still answers OPTIONS"
sw_stop

# --- Timer C, reveal_unknown_callee, accept_foreign_callers = no, then SIGHUP -------------
SW_PORT=$(px_port)
SW_DB="$T/timerc.db"
sw_user add alice@127.0.0.1 --password "$APW" >/dev/null
sw_user add lena@127.0.0.1 --password pw-lena >/dev/null
printf '[proxy]\ntimer_c = 3\nreveal_unknown_callee = yes\naccept_foreign_callers = no\n' >"$T/timerc.conf"
if sw_start timerc --config "$T/timerc.conf"; then
	callee_start lena lena pw-lena proxy_uas_ring 1.0 u1
	t0=$(date +%s)
	( caller_run noanswer proxy_call_reject alice "$APW" lena; echo "$SIPP_RC" >"$T/noanswer.rc" ) &
	NA_PID=$!
	bg_track "$NA_PID"
	# while it rings: calls --active lists it (the calls are written out once a second)
	listed= ringing=
	for i in $(seq 1 25); do
		OUT=$("$SIPWARDEN" calls --active --json --db "$SW_DB" 2>&1)
		[[ $OUT == *'"callee":"lena@127.0.0.1"'* ]] && listed=1
		if printf '%s' "$OUT" | grep -q '"callee":"lena@127.0.0.1".*"state":"ringing"'; then ringing=1; break; fi
		sleep 0.1
	done
	[ -n "$listed" ] && ok "calls --active --json lists the call to lena while it rings" ||
		not_ok "calls --active --json while lena rings: ${OUT:0:400}"
	[ -n "$ringing" ] && ok "calls --active: its state is ringing (the 180 was forwarded)" ||
		not_ok "calls --active while lena's phone rings (180 forwarded to the caller): state is not ringing: ${OUT:0:300}"
	wait "$NA_PID"
	read -r SIPP_RC <"$T/noanswer.rc" || SIPP_RC=99
	t1=$(date +%s)
	final_is "Timer C (timer_c = 3): the caller gets 408 when the callee never answers" noanswer 408
	[ $((t1 - t0)) -le 15 ] && ok "the 408 came after $((t1 - t0)) s (Timer C 3 s)" || not_ok "the 408 took $((t1 - t0)) s"
	callee_ok "the ringing callee got a CANCEL when Timer C fired, answered 487, got the ACK" lena
	caller_run reveal proxy_call_reject alice "$APW" nobody
	final_is "reveal_unknown_callee = yes: an unknown callee gets 404" reveal 404
	PX_FROM_DOMAIN=example.org caller_run foreign-no proxy_call_once mallory nothing alice
	final_is "accept_foreign_callers = no: a caller of another domain gets 403" foreign-no 403
	# the [proxy] keys change on SIGHUP (sipwarden.conf(5))
	printf '[proxy]\ntimer_c = 3\nreveal_unknown_callee = no\naccept_foreign_callers = yes\n' >"$T/timerc.conf"
	kill -HUP "$SW_PID"
	sleep 1
	caller_run reveal2 proxy_call_reject alice "$APW" nobody
	final_is "after SIGHUP with reveal_unknown_callee = no: the unknown callee gets 480 again" reveal2 480
	PX_FROM_DOMAIN=example.org caller_run foreign-yes proxy_call_once mallory nothing nobody
	final_is "after SIGHUP with accept_foreign_callers = yes: the caller of another domain is let in (480 for nobody)" foreign-yes 480
	sleep 1.2
	OUT=$("$SIPWARDEN" calls --active --json --db "$SW_DB" 2>&1)
	[[ $OUT != *'"callee":"lena@127.0.0.1"'* ]] && ok "after Timer C the call is no longer active" ||
		not_ok "calls --active still lists lena's call: ${OUT:0:300}"
	calls_has "calls --json: the call to lena failed 408" \
		"'lena' in str(c.get('callee')) and str(c.get('status'))=='408' and c.get('state') in ('failed', 'ended')"
	# the phone was reached and rang: callee-unreachable is for transport errors and Timer B
	# (issue #13), and its fix talks of NAT and keep-alives
	calls_has "calls --json: the unanswered call's cause is not callee-unreachable (it rang until Timer C)" \
		"'lena' in str(c.get('callee')) and str(c.get('status'))=='408' and c.get('cause') != 'callee-unreachable'"
	sw_stop
fi
finish
