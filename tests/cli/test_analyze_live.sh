#!/usr/bin/env bash
# sipwarden analyze on captures made here (issue 6, "Captures made by the
# tests themselves"): dumpcap records the loopback while sipp talks to
# `sipwarden serve` in known fault scenarios; the verdict `analyze` gives for
# each capture must name the scenario's cause. Needs dumpcap able to capture
# on lo (root or the capture capabilities) and sipp; skipped otherwise.
. "$(dirname "$0")/serve_lib.sh"
. "$(dirname "$0")/capture_lib.sh"

if ! command -v sipp >/dev/null; then echo "# skip: sipp missing"; exit 0; fi
if ! why=$(cap_usable); then echo "# skip: $why"; exit 0; fi

cat >"$T/serve.conf" <<'CONF'
[auth]
nonce_lifetime = 2
CONF
SW_DB="$T/live.db"
SW_PORT=$(free_port 50000 54999) || { not_ok "no free port"; finish; exit 1; }
for u in alice:secret bob:bobpw carol:carolpw dave:davepw; do
	sw_user add "${u%%:*}@127.0.0.1" --password "${u#*:}" >/dev/null || not_ok "user add ${u%%:*}"
	users_csv "$T/${u%%:*}.csv" "${u%%:*}"
done
sw_start live --config "$T/serve.conf" --min-expires 60 || { finish; exit 1; }
echo 'alice@127.0.0.1,secret' >"$T/creds"

# 1. wrong password: without credentials only "rejected"; with the real
# password analyze proves the answer was computed with another one
cap_start wrongpw 4
sipp_run wrongpw -sf "$SIPP_DIR/register_rejected.xml" -inf "$T/alice.csv" -au alice -ap not-the-secret -m 1
cap_stop
sipp_expect "wrong password: sipp sees the digest answer challenged again" 0 wrongpw
expect_causes "capture, wrong password" credentials-rejected "$T/wrongpw.pcapng"
expect_causes "capture, wrong password, --credentials" wrong-password --credentials "$T/creds" "$T/wrongpw.pcapng"
expect_exit 1 "text output, --credentials" -- analyze --credentials "$T/creds" "$T/wrongpw.pcapng"
expect_match "the text shows alice's REGISTER flow" "$OUT" 'flow 1: REGISTER alice@127\.0\.0\.1, 127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:'"$SW_PORT"
expect_match "the text verdict line" "$OUT" 'verdict: wrong-password'

# the right password: ok, and proved with --credentials
cap_start goodpw 4
sipp_run goodpw -sf "$SIPP_DIR/register_auth.xml" -inf "$T/alice.csv" -au alice -ap secret -m 1
cap_stop
sipp_expect "right password: 200" 0 goodpw
expect_causes "capture, right password" ok "$T/goodpw.pcapng"
expect_causes "capture, right password, --credentials" ok --credentials "$T/creds" "$T/goodpw.pcapng"
expect_match "the flow is proved with --credentials" "$(printf '%s' "$OUT" | json_q 'j["flows"][0]["proved"]')" '^True$'

# 2. the challenge is never answered
cap_start noanswer 2
sipp_run noanswer -sf "$SIPP_DIR/analyze_noanswer.xml" -inf "$T/bob.csv" -m 1
cap_stop
sipp_expect "no answer: REGISTER gets 401, sipp stops there" 0 noanswer
expect_causes "capture, unanswered challenge" challenge-not-answered "$T/noanswer.pcapng"

# 3. 423 Interval Too Brief (Expires: 10 < --min-expires 60), no retry
cap_start brief 4
sipp_run brief -sf "$SIPP_DIR/analyze_423.xml" -inf "$T/carol.csv" -au carol -ap carolpw -m 1
cap_stop
sipp_expect "Expires: 10 gets 423 with Min-Expires: 60" 0 brief
expect_causes "capture, 423" expires-too-brief "$T/brief.pcapng"

# 4. stale nonce (nonce_lifetime = 2), both at once in one capture:
# dave answers the expired challenge, gets 401 stale=true and gives up
# (stale-nonce); bob (register_stale.xml) retries with the new nonce and gets
# 200, so his second flow ends ok: analyze names stale-nonce only when the
# client did not retry, a stale challenge followed by success is the normal
# nonce turnover (lib/trace/verdict.c), so both of bob's flows are ok.
cap_start stale 14 # dave 6 packets, bob 8
( sipp_run stale_retry -sf "$SIPP_DIR/register_stale.xml" -inf "$T/bob.csv" -au bob -ap bobpw -m 1
  echo "$SIPP_RC" >"$T/stale_retry.rc" ) &
sipp_run stale -sf "$SIPP_DIR/analyze_stale.xml" -inf "$T/dave.csv" -au dave -ap davepw -m 1
wait $!
cap_stop
sipp_expect "stale: the old answer gets 401 stale=true, sipp stops there" 0 stale
SIPP_RC=$(cat "$T/stale_retry.rc" 2>/dev/null || echo 99)
sipp_expect "stale then retry: 401 stale=true, the retry 200" 0 stale_retry
expect_causes "capture, stale nonce, not retried" "ok stale-nonce" --user dave@127.0.0.1 "$T/stale.pcapng"
expect_match "the evidence is the stale challenge" \
	"$(printf '%s' "$OUT" | json_q '[e["note"] for e in j["flows"][1]["evidence"]]')" 'stale=true'
expect_causes "capture, stale nonce, retried" "ok ok" --user bob@127.0.0.1 "$T/stale.pcapng"

# all captures at once: each cause counted once per flow
expect_exit 1 "all captures together" -- analyze --json "$T"/{wrongpw,goodpw,noanswer,brief,stale}.pcapng
expect_match "by_cause over all captures" "$(printf '%s' "$OUT" | json_q 'sorted(j["summary"]["by_cause"].items())')" \
	"^\[\('challenge-not-answered', 1\), \('credentials-rejected', 1\), \('expires-too-brief', 1\), \('ok', 4\), \('stale-nonce', 1\)\]$"

sw_stop
finish
