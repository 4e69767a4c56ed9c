#!/usr/bin/env bash
# sipwarden serve against sipp: the REGISTER flows of RFC 3261 §10.3 over UDP
# and TCP, each checked on the wire (the scenario's expectations), in the
# store (`registrations --json`) and in the decision log (`why`, `events`).
. "$(dirname "$0")/serve_lib.sh"

cat >"$T/serve.conf" <<'EOF'
[auth]
nonce_lifetime = 2
EOF
SW_DB="$T/reg.db"
sw_user add alice@127.0.0.1 --password secret >/dev/null || not_ok "user add alice"
sw_user add bob@127.0.0.1 --password bobpw >/dev/null || not_ok "user add bob"
sw_user add carol@127.0.0.1 --password carolpw >/dev/null || not_ok "user add carol"
sw_user add dave@127.0.0.1 --password davepw >/dev/null || not_ok "user add dave"
sw_start reg --config "$T/serve.conf" --min-expires 60 || { finish; exit 1; }
for u in alice bob carol dave mallory; do users_csv "$T/$u.csv" "$u"; done
REGS() { "$SIPWARDEN" registrations "$@" --json --db "$SW_DB"; }
WHY() { "$SIPWARDEN" why "$@" --json --db "$SW_DB"; }

# 1. the basic flow over UDP and over TCP
sipp_run udp -sf "$SIPP_DIR/register_auth.xml" -inf "$T/alice.csv" -au alice -ap secret -m 1
sipp_expect "UDP: REGISTER -> 401 -> REGISTER with digest -> 200" 0 udp
sipp_run tcp -sf "$SIPP_DIR/register_auth.xml" -inf "$T/alice.csv" -au alice -ap secret -m 1 -t t1
sipp_expect "TCP: REGISTER -> 401 -> REGISTER with digest -> 200" 0 tcp
OUT=$(REGS alice@127.0.0.1)
expect_match "the UDP binding is stored, transport udp, user agent sipp" "$OUT" \
	'"contact":"sip:alice@127.0.0.1:[0-9]+;transport=UDP".*"transport":"udp","user_agent":"sipp-test"'
expect_match "the TCP binding is stored, transport tcp" "$OUT" \
	'"contact":"sip:alice@127.0.0.1:[0-9]+;transport=TCP".*"transport":"tcp"'
wait_match "why alice: the registrations are ok" '"cause":"ok"' WHY alice@127.0.0.1

# 2. wrong password: challenged again, `why` says wrong-password
sipp_run wrongpw -sf "$SIPP_DIR/register_rejected.xml" -inf "$T/alice.csv" -au alice -ap not-the-secret -m 1
sipp_expect "wrong password: the digest answer gets 401 again" 0 wrongpw
wait_match "why alice shows wrong-password" '"cause":"wrong-password"' WHY alice@127.0.0.1 --last 1
sipp_run wrongpw_ok -sf "$SIPP_DIR/register_auth.xml" -inf "$T/alice.csv" -au alice -ap not-the-secret -m 1
sipp_expect "wrong password: register_auth.xml fails (no 200)" 1 wrongpw_ok

# 3. unknown user: the same 401, `why` and `events` say unknown-user
sipp_run unknown -sf "$SIPP_DIR/register_rejected.xml" -inf "$T/mallory.csv" -au mallory -ap whatever -m 1
sipp_expect "unknown user: the digest answer gets 401 again" 0 unknown
wait_match "why mallory shows unknown-user" '"cause":"unknown-user"' WHY mallory@127.0.0.1 --last 1
wait_match "events --cause unknown-user lists mallory" '"auth_user":"mallory"' \
	"$SIPWARDEN" events --cause unknown-user --json --db "$SW_DB"
OUT=$(REGS mallory@127.0.0.1)
expect_match "no binding for the unknown user" "$OUT" '^\[\]$'

# 4. expired nonce: stale=true, then success (nonce_lifetime = 2)
sipp_run stale -sf "$SIPP_DIR/register_stale.xml" -inf "$T/bob.csv" -au bob -ap bobpw -m 1
sipp_expect "an expired nonce gets 401 with stale=true, the retry 200" 0 stale
wait_match "why bob shows stale-nonce" '"cause":"stale-nonce"' WHY bob@127.0.0.1
wait_match "and then ok (the newest decision)" '"cause":"ok"' WHY bob@127.0.0.1 --last 1

# 5. 423 with Min-Expires, then success with it
sipp_run brief -sf "$SIPP_DIR/register_423.xml" -inf "$T/carol.csv" -au carol -ap carolpw -m 1
sipp_expect "Expires: 10 gets 423 with Min-Expires: 60; Expires: 60 gets 200" 0 brief
wait_match "why carol shows expires-too-brief" '"cause":"expires-too-brief"' WHY carol@127.0.0.1
expect_match "carol's binding expires in about 60 s" "$(REGS carol@127.0.0.1)" '"expires_in":(5[89]|60),'

# 6. several contacts with q values
sipp_run q -sf "$SIPP_DIR/register_q.xml" -inf "$T/dave.csv" -au dave -ap davepw -m 1
sipp_expect "three contacts with q: the 200 lists each with its q" 0 q
OUT=$(REGS dave@127.0.0.1)
n=$(printf '%s' "$OUT" | json_q 'len(j)')
[ "$n" = 3 ] && ok "registrations shows the three bindings" || not_ok "dave has $n bindings: $OUT"
qs=$(printf '%s' "$OUT" | json_q '" ".join("%s=%.1f" % (b["contact"].split("line=")[1], b["q"]) for b in sorted(j, key=lambda b: b["contact"]))')
[ "$qs" = "a=0.7 b=0.1 c=1.0" ] && ok "registrations shows q 0.7, 0.1, 1.0" || not_ok "q values: $qs"
OUT=$("$SIPWARDEN" registrations dave@127.0.0.1 --db "$SW_DB")
expect_match "the text listing shows q too" "$OUT" '0\.7'

# 7. Contact: * with Expires: 0 removes every binding
sipp_run star -sf "$SIPP_DIR/register_star.xml" -inf "$T/dave.csv" -au dave -ap davepw -m 1
sipp_expect "Contact: * with Expires: 0: the 200 lists no contact" 0 star
expect_match "registrations of dave is empty after *" "$(REGS dave@127.0.0.1)" '^\[\]$'

# 8. refresh: same Call-ID, higher CSeq: one binding, new expiry
sw_user add erin@127.0.0.1 --password erinpw >/dev/null
users_csv "$T/erin.csv" erin
sipp_run refresh -sf "$SIPP_DIR/register_refresh.xml" -inf "$T/erin.csv" -au erin -ap erinpw -m 1
sipp_expect "refresh with a higher CSeq: the 200 lists one contact, expires=1800" 0 refresh
OUT=$(REGS erin@127.0.0.1)
v=$(printf '%s' "$OUT" | json_q '"%d %s %d" % (len(j), j[0]["cseq"], j[0]["expires_in"]) if j else "0"')
case $v in
"1 3 179"[0-9] | "1 3 1800") ok "one binding after the refresh, CSeq 3, expires in 1800 s ($v)" ;;
*) not_ok "after the refresh: count cseq expires_in = $v: $OUT" ;;
esac

# 9. the authenticated REGISTER retransmitted byte for byte: the same
# response twice, processed once (one event, no replay)
before=$("$SIPWARDEN" events --json --limit 0 --db "$SW_DB" | json_q 'len([e for e in j if e["auth_user"]=="alice"])')
OUT=$("${SIPCAT[@]}" --out "$T/rtx" 127.0.0.1 "$SW_PORT" register --user alice --domain 127.0.0.1 \
	--password secret --expires 300 --retransmit)
expect_match "retransmission: 401 then 200 twice" "$OUT" $'RESP 2 SIP/2.0 200 OK\nRESP 3 SIP/2.0 200 OK'
cmp -s "$T/rtx.2" "$T/rtx.3" && ok "retransmission: the second 200 is byte-identical" ||
	not_ok "the responses differ: $(diff <(tr -d '\r' <"$T/rtx.2") <(tr -d '\r' <"$T/rtx.3"))"
sleep 0.3
after=$("$SIPWARDEN" events --json --limit 0 --db "$SW_DB" | json_q 'len([e for e in j if e["auth_user"]=="alice"])')
[ $((after - before)) -eq 1 ] && ok "retransmission: one event recorded for the authenticated REGISTER" ||
	not_ok "retransmission: $((after - before)) alice events recorded (wanted 1)"
OUT=$("$SIPWARDEN" events --cause nonce-replay --json --db "$SW_DB")
expect_match "retransmission: no nonce-replay event" "$OUT" '^\[\]$'
# over TCP a client never retransmits and the transaction ends with its
# response (RFC 3261 17.2.2, Timer J = 0): a duplicate is a new request with
# the same Call-ID and CSeq, refused by 10.3 step 7 (500), or answered as the
# same transaction; never a second binding.
OUT=$("${SIPCAT[@]}" --tcp --out "$T/rtxt" 127.0.0.1 "$SW_PORT" register --user alice --domain 127.0.0.1 \
	--password secret --expires 300 --retransmit --contact '<sip:alice@127.0.0.1:7;transport=tcp>')
expect_match "TCP: the authenticated REGISTER gets 200" "$OUT" $'RESP 2 SIP/2.0 200 OK'
if cmp -s "$T/rtxt.2" "$T/rtxt.3" || head -n1 "$T/rtxt.3" | grep -q '^SIP/2.0 500 '; then
	ok "TCP duplicate: the same response or 500 (out of order CSeq)"
else
	not_ok "TCP duplicate answered: $(head -n1 "$T/rtxt.3" 2>/dev/null)"
fi
n=$(REGS alice@127.0.0.1 | json_q 'len([b for b in j if b["contact"].startswith("sip:alice@127.0.0.1:7;")])')
[ "$n" = 1 ] && ok "TCP duplicate: one binding" || not_ok "TCP duplicate: $n bindings"

# 10. refresh with a lower CSeq on the same Call-ID is refused (§10.3 step 7)
OUT=$("${SIPCAT[@]}" 127.0.0.1 "$SW_PORT" register --user alice --domain 127.0.0.1 --password secret \
	--expires 300 --call-id fixed-call@test --cseq 10 --contact '<sip:alice@127.0.0.1:9>')
expect_match "Call-ID fixed, CSeq 11: 200" "$OUT" 'RESP 2 SIP/2.0 200'
OUT=$("${SIPCAT[@]}" 127.0.0.1 "$SW_PORT" register --user alice --domain 127.0.0.1 --password secret \
	--expires 300 --call-id fixed-call@test --cseq 5 --contact '<sip:alice@127.0.0.1:9>')
expect_match "same Call-ID, lower CSeq: 500" "$OUT" 'RESP 2 SIP/2.0 500'

sw_alive "server still answers OPTIONS after the REGISTER flows"
sw_stop

# 11. expiry: a 2 s registration disappears (server with --min-expires 1)
SW_DB="$T/exp.db"; SW_PORT=
sw_user add alice@127.0.0.1 --password secret >/dev/null
sw_start expiry --min-expires 1 || { finish; exit 1; }
sipp_run expiry -sf "$SIPP_DIR/register_expiry.xml" -inf "$T/alice.csv" -au alice -ap secret -m 1
sipp_expect "Expires: 2, wait 4 s: the query's 200 lists no contact" 0 expiry
expect_match "registrations is empty after expiry" "$(REGS)" '^\[\]$'
sw_stop
finish
