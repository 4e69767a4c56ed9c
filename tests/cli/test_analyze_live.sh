#!/usr/bin/env bash
# sipwarden analyze on captures made here (issue 6, "Captures made by the
# tests themselves"): dumpcap records the loopback while sipp talks to
# `sipwarden serve` in known fault scenarios; the verdict `analyze` gives for
# each capture must name the scenario's cause. Needs dumpcap able to capture
# on lo (root or the capture capabilities) and sipp; skipped otherwise.
. "$(dirname "$0")/serve_lib.sh"

if ! command -v dumpcap >/dev/null || ! command -v sipp >/dev/null; then
	echo "# skip: dumpcap or sipp missing"; exit 0
fi
if ! timeout 5 dumpcap -i lo -f "udp port 9" -a duration:1 -w "$T/probe.pcapng" -q >/dev/null 2>&1; then
	echo "# skip: dumpcap cannot capture on lo"; exit 0
fi

# cap_start NAME COUNT: dumpcap on lo, the server's UDP port, into
# $T/NAME.pcapng until it has COUNT packets (20 s at most); waits up to 5 s
# until it says it captures. Stopping it with SIGINT right after the scenario
# loses the packets still in the kernel's capture buffer (the last one, often),
# so it stops by itself on the scenario's packet count.
cap_start() {
	CAP_NAME=$1
	dumpcap -i lo -f "udp port $SW_PORT" -a duration:20 -c "$2" -w "$T/$1.pcapng" -q \
		>/dev/null 2>"$T/$1.dumpcap" &
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

# cap_stop: waits up to 3 s for dumpcap to reach its count and exit, then
# stops it with SIGINT (it writes out what it has; a missing packet shows in
# the checks that follow)
cap_stop() {
	local i
	for i in $(seq 1 30); do kill -0 "$CAP_PID" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$CAP_PID" 2>/dev/null; then
		echo "# dumpcap $CAP_NAME: packet count not reached within 3 s, SIGINT"
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
