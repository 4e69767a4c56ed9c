#!/usr/bin/env bash
# sipwarden serve --http: the operator's listener. The token rule (refused
# start off loopback without a token file; 401 without or with a wrong
# bearer, 200 with it), JSON errors (404, 405, 400, a foreign Host), the JSON
# API equal to the CLI's --json, no password or HA1 in any output, and
# /metrics: valid for `promtool check metrics` after real traffic (REGISTERs,
# a wrong password, refreshes, an unregistration, calls through the proxy
# with `sipwarden bench`) with the counters at the values that traffic must
# give; with $SIPWARDEN_TSAN, the ThreadSanitizer build under load while the
# API is read. Ports: SW_HTTP_TEST_PORTS (default 62000-62999).
. "$(dirname "$0")/serve_lib.sh"
read -r PLO PHI <<<"${SW_HTTP_TEST_PORTS:-62000 62999}"

# get PATH [curl args...]: the body in $BODY, the status in $CODE
get() {
	local path=$1; shift
	CODE=$(curl -s -o "$T/body" -w '%{http_code}' --max-time 10 "$@" "http://127.0.0.1:$HP$path")
	BODY=$(cat "$T/body")
}
# json_error DESC STATUS: the last answer is STATUS with {"error":..., "status":STATUS}
json_error() {
	if [ "$CODE" = "$2" ] && printf '%s' "$BODY" | json_q "j['status'] == $2 and len(j['error']) > 0" | grep -q True; then
		ok "$1"
	else
		not_ok "$1 (HTTP $CODE: ${BODY:0:300})"
	fi
}

# ---- the configuration: off loopback a token file is required ---------------
HP=$(free_port "$PLO" "$PHI")
expect_exit 1 "--check-config: http_listen on 0.0.0.0 without http_token_file is refused" -- \
	timeout 10 "$SIPWARDEN" serve --check-config --domain 127.0.0.1 --http "0.0.0.0:$HP"
expect_match "and the reason names http_token_file" "$ERR" 'not a loopback address: set http_token_file'
expect_exit 1 "serve --http 0.0.0.0:PORT without a token file does not start" -- \
	timeout 10 "$SIPWARDEN" serve --db "$T/never.db" --domain 127.0.0.1 --listen "udp:127.0.0.1:$HP" --http "0.0.0.0:$HP"
expect_match "and says why" "$ERR" 'http_token_file'
expect_exit 2 "--http without a port is a usage error" -- \
	timeout 10 "$SIPWARDEN" serve --check-config --domain 127.0.0.1 --http 127.0.0.1
expect_match "and says what is expected" "$ERR" 'ADDR:PORT'
printf '[server]\nhttp_listen = [::1]:%s\n[registrar]\ndomain = 127.0.0.1\n' "$HP" >"$T/http.conf"
expect_exit 0 "--check-config: http_listen on ::1 needs no token" -- \
	timeout 10 "$SIPWARDEN" serve --check-config --config "$T/http.conf"
expect_match "and prints the key" "$OUT" "http_listen = \\[::1\\]:$HP"
echo short >"$T/short.token"
expect_exit 1 "a token of 5 characters is refused at start" -- \
	timeout 10 "$SIPWARDEN" serve --db "$T/never.db" --domain 127.0.0.1 --listen "udp:127.0.0.1:$HP" \
	--http "0.0.0.0:$HP" --http-token-file "$T/short.token"
expect_match "with the length rule" "$ERR" '16 to 256 characters'
expect_exit 1 "a missing token file is refused at start" -- \
	timeout 10 "$SIPWARDEN" serve --db "$T/never.db" --domain 127.0.0.1 --listen "udp:127.0.0.1:$HP" \
	--http "0.0.0.0:$HP" --http-token-file "$T/nosuch.token"
expect_match "naming the file" "$ERR" 'nosuch.token'

# ---- traffic on a loopback listener -----------------------------------------
SW_DB="$T/http.db"
sw_user add alice@127.0.0.1 --password 'alice-Secret-1' >/dev/null
sw_user add bob@127.0.0.1 --password 'bob-Secret-2' >/dev/null
printf 'call%02d@127.0.0.1,pw-call%02d\n' 0 0 1 1 2 2 3 3 >"$T/calls.csv"
"$SIPWARDEN" user import "$T/calls.csv" --db "$SW_DB" >/dev/null || not_ok "user import"
SW_PORT=$(free_port "$PLO" "$PHI")
HP=$(free_port "$PLO" "$PHI")
sw_start http --http "127.0.0.1:$HP" || { finish; exit 1; }
XSS='<img src=x onerror=alert(1)><script>alert(2)</script>'
reg() { "${SIPCAT[@]}" 127.0.0.1 "$SW_PORT" register --domain 127.0.0.1 "$@" >>"$T/reg.out" 2>&1; }
reg --user alice --password wrong-one --user-agent "$XSS" --contact '<sip:alice@127.0.0.1:5999>'
reg --user alice --password 'alice-Secret-1' --user-agent 'Phone/1.0' --contact '<sip:alice@127.0.0.1:5999>'
reg --user bob --password 'bob-Secret-2' --contact '<sip:bob@127.0.0.1:5998>' --call-id bob@t --cseq 1
reg --user bob --password 'bob-Secret-2' --contact '<sip:bob@127.0.0.1:5998>' --call-id bob@t --cseq 3
reg --user bob --password 'bob-Secret-2' --contact '<sip:bob@127.0.0.1:5998>' --call-id bob@t --cseq 5 --expires 0
[ "$(grep -c ' 200 OK' "$T/reg.out")" = 4 ] && ok "four REGISTERs answered 200" || not_ok "REGISTERs: $(cat "$T/reg.out")"
timeout 60 "$SIPWARDEN" bench --target "127.0.0.1:$SW_PORT" --scenario call --user-pattern 'call%02d@127.0.0.1:pw-call%02d' \
	--users 4 --count 4 --rate 20 --duration 20 --json >"$T/bench.json" 2>"$T/bench.err"
[ "$(json_q 'j["completed"]' <"$T/bench.json" 2>/dev/null)" = 4 ] && ok "bench: 4 calls through the proxy" ||
	not_ok "bench calls: $(tail -c 300 "$T/bench.json" "$T/bench.err")"
# a datagram too broken to answer is dropped and counted
python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.sendto(b"garbage\r\n\r\n",("127.0.0.1",int(sys.argv[1])))' "$SW_PORT"
# the event log is written within 100 ms
wait_match "the wrong password is in the event log" 'wrong-password' "$SIPWARDEN" why alice@127.0.0.1 --db "$SW_DB"

# ---- /metrics ----------------------------------------------------------------
get /metrics
[ "$CODE" = 200 ] && ok "/metrics answers 200" || not_ok "/metrics: HTTP $CODE"
cp "$T/body" "$T/metrics.txt"
if command -v promtool >/dev/null; then
	out=$(promtool check metrics <"$T/metrics.txt" 2>&1) && ok "promtool check metrics accepts the exposition" ||
		not_ok "promtool check metrics: ${out:0:600}"
else
	not_ok "promtool is not installed (Debian package prometheus; scripts/deps.sh)"
fi
metric() { # metric 'NAME{LABELS}' EXPECTED
	local v
	v=$(awk -v n="$1" '$1 == n {print $2}' "$T/metrics.txt")
	[ "$v" = "$2" ] && ok "$1 = $2" || not_ok "$1 = ${v:-absent}, expected $2"
}
metric_ge() { # metric_ge 'NAME{LABELS}' MIN
	local v
	v=$(awk -v n="$1" '$1 == n {print $2}' "$T/metrics.txt")
	awk -v v="${v:-0}" -v m="$2" 'BEGIN { exit !(v + 0 >= m + 0) }' && ok "$1 = $v (>= $2)" ||
		not_ok "$1 = ${v:-absent}, expected >= $2"
}
metric 'sipwarden_auth_decisions_total{method="REGISTER",cause="wrong-password"}' 1
# alice 1 + bob 3 + the 4 callees' REGISTERs (bench) + their removal when the bench ends
metric 'sipwarden_auth_decisions_total{method="REGISTER",cause="ok"}' 12
# the 4 calls: INVITE challenged (407), then authenticated
metric 'sipwarden_auth_decisions_total{method="INVITE",cause="no-credentials"}' 4
metric 'sipwarden_auth_decisions_total{method="INVITE",cause="ok"}' 4
metric 'sipwarden_registrations_total{event="made"}' 6
metric 'sipwarden_registrations_total{event="refreshed"}' 1
metric 'sipwarden_registrations_total{event="removed"}' 5
metric 'sipwarden_registrations_total{event="expired"}' 0
metric 'sipwarden_calls_total{outcome="answered"}' 4
metric 'sipwarden_calls_total{outcome="failed"}' 0
metric 'sipwarden_requests_total{method="INVITE"}' 8
metric 'sipwarden_requests_total{method="BYE"}' 4
metric 'sipwarden_responses_total{class="4xx",code="407"}' 4
metric_ge 'sipwarden_responses_total{class="4xx",code="401"}' 6
metric_ge 'sipwarden_responses_total{class="2xx",code="200"}' 16
metric 'sipwarden_messages_dropped_total{reason="malformed"}' 1
metric 'sipwarden_bindings' 1
metric 'sipwarden_subscribers' 6
metric 'sipwarden_bans' 0
metric 'sipwarden_registrations_pending' 0
metric 'sipwarden_tcp_connections' 0
# every REGISTER that wrote (alice 1, bob 3, the callees 4 and 4) waited for its commit
metric 'sipwarden_commit_wait_seconds_count' 12
metric_ge 'sipwarden_request_duration_seconds_count' 30
metric_ge 'process_start_time_seconds' "$(($(date +%s) - 120))"
expect_match "build info carries the version" "$(cat "$T/metrics.txt")" 'sipwarden_build_info\{version="[0-9.]+"\} 1'
# a TCP connection is a gauge while open
exec 7<>"/dev/tcp/127.0.0.1/$SW_PORT"
sleep 0.3
get /metrics
cp "$T/body" "$T/metrics.txt"
metric 'sipwarden_tcp_connections' 1
exec 7>&-

# ---- the JSON API is the CLI's --json -----------------------------------------
same_json() { # same_json DESC FILE_HTTP FILE_CLI [keys to drop]
	if python3 - "$2" "$3" "${@:4}" <<'PY'; then ok "$1"; else not_ok "$1"; fi
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
drop = set(sys.argv[3:])
clean = lambda l: [{k: v for k, v in x.items() if k not in drop} for x in l]
if clean(a) != clean(b) or not isinstance(a, list):
    print("# differ:\n#", json.dumps(a)[:400], "\n#", json.dumps(b)[:400])
    sys.exit(1)
PY
}
get '/api/why?user=alice@127.0.0.1&last=50'; cp "$T/body" "$T/why.http"
"$SIPWARDEN" why alice@127.0.0.1 --last 50 --json --db "$SW_DB" >"$T/why.cli"
same_json "/api/why = sipwarden why --json" "$T/why.http" "$T/why.cli"
get '/api/events?limit=500'; cp "$T/body" "$T/events.http"
"$SIPWARDEN" events --limit 500 --json --db "$SW_DB" >"$T/events.cli"
same_json "/api/events = sipwarden events --json" "$T/events.http" "$T/events.cli"
get '/api/events?cause=wrong-password&since=1h&method=REGISTER&source=127.0.0.1'; cp "$T/body" "$T/ev2.http"
"$SIPWARDEN" events --cause wrong-password --since 1h --method REGISTER --source 127.0.0.1 --json --db "$SW_DB" >"$T/ev2.cli"
same_json "/api/events with filters = sipwarden events with the same filters" "$T/ev2.http" "$T/ev2.cli"
get '/api/registrations?limit=1000'; cp "$T/body" "$T/reg.http"
"$SIPWARDEN" registrations --json --db "$SW_DB" >"$T/reg.cli"
same_json "/api/registrations = sipwarden registrations --json (but the seconds left)" "$T/reg.http" "$T/reg.cli" expires_in
get '/api/bans'; cp "$T/body" "$T/bans.http"
"$SIPWARDEN" ban list --json --db "$SW_DB" >"$T/bans.cli"
same_json "/api/bans = sipwarden ban list --json" "$T/bans.http" "$T/bans.cli"
get '/api/user?aor=alice@127.0.0.1'
printf '%s' "$BODY" | json_q '[e["cause"] for e in j["why"]] == ["ok", "no-credentials", "wrong-password", "no-credentials"] and j["why"][2]["fix"] != "" and j["bindings"][0]["user_agent"] == "Phone/1.0" and j["subscriber"]["disabled"] is False' | grep -q True &&
	ok "/api/user: why (newest first, with the fix), bindings and the subscriber" || not_ok "/api/user: ${BODY:0:400}"
get '/api/overview'
printf '%s' "$BODY" | json_q 'j["bindings"] == 1 and j["subscribers"] == 6 and j["failures"][0]["cause"] == "wrong-password" and j["failures"][0]["user_agent"].startswith("<img") and sum(j["decisions_per_minute"]["causes"]["wrong-password"]) == 1 and len(j["decisions_per_minute"]["minutes"]) == 60' | grep -q True &&
	ok "/api/overview: registrations now, the latest failure, decisions per minute" || not_ok "/api/overview: ${BODY:0:600}"
get '/api/search?q=alice'
printf '%s' "$BODY" | json_q 'j["kind"] == "user" and j["users"] == ["alice@127.0.0.1"]' | grep -q True &&
	ok "/api/search: a bare user name finds the subscriber" || not_ok "/api/search?q=alice: $BODY"
get '/api/search?q=127.0.0.1'
printf '%s' "$BODY" | json_q 'j["kind"] == "source" and any(e["cause"] == "wrong-password" for e in j["events"])' | grep -q True &&
	ok "/api/search: an address finds its decisions" || not_ok "/api/search?q=127.0.0.1: ${BODY:0:300}"

# ---- errors are JSON ---------------------------------------------------------
get /no/such/page; json_error "an unknown path is a JSON 404" 404
get /api/nope; json_error "an unknown API endpoint is a JSON 404" 404
get /api/overview -X POST; json_error "POST is a JSON 405" 405
get '/api/why?user=nobody'; json_error "a bad argument is a JSON 400" 400
get '/api/events?cause=no-such-cause'; json_error "an unknown cause is a JSON 400" 400
get '/api/events?limit=0'; json_error "a limit of 0 is a JSON 400" 400
get /api/overview -H 'Host: attacker.example'; json_error "a foreign Host (DNS rebinding) is a JSON 403" 403
get /; [ "$CODE" = 200 ] && printf '%s' "$BODY" | grep -q '<script src="/app.js">' && ok "/ serves the page" || not_ok "/: HTTP $CODE"
curl -s -D "$T/hdr" -o /dev/null "http://127.0.0.1:$HP/app.js"
grep -qi "^Content-Security-Policy: default-src 'none'; script-src 'self'" "$T/hdr" && ok "the page's CSP allows no inline script" ||
	not_ok "CSP header: $(cat "$T/hdr")"

# ---- never a password or an HA1 ---------------------------------------------
for p in /metrics /api/overview '/api/user?aor=alice@127.0.0.1' '/api/user?aor=bob@127.0.0.1' \
	'/api/why?user=alice@127.0.0.1' '/api/events?limit=1000' '/api/registrations' /api/bans \
	'/api/search?q=alice' '/api/search?q=127.0.0.1' /api/causes /; do
	get "$p"; printf '%s\n' "$BODY"
done >"$T/all.out"
secrets=$(python3 - <<'PY'
import hashlib
for u, p in (("alice", "alice-Secret-1"), ("bob", "bob-Secret-2")):
    s = f"{u}:127.0.0.1:{p}".encode()
    print(p)
    for h in ("md5", "sha256", "sha512_256"):
        print(hashlib.new(h, s).hexdigest())
PY
)
leaks=$(printf '%s\n' "$secrets" | grep -F -f - -i "$T/all.out" | head -c 300)
[ -z "$leaks" ] && [ "$(printf '%s\n' "$secrets" | wc -l)" = 8 ] && [ -s "$T/all.out" ] &&
	ok "no password and no HA1 (MD5, SHA-256, SHA-512-256) in any endpoint's output" || not_ok "leak: $leaks"
sw_stop

# ---- a token off loopback ---------------------------------------------------
TOKEN=$(python3 -c 'import secrets; print(secrets.token_hex(24))')
printf '%s\n' "$TOKEN" >"$T/token"
chmod 600 "$T/token"
SW_PORT=$(free_port "$PLO" "$PHI")
HP=$(free_port "$PLO" "$PHI")
sw_start tok --http "0.0.0.0:$HP" --http-token-file "$T/token" || { finish; exit 1; }
expect_match "the start line names the listener and its token" "$(cat "$T/tok.err")" "http 0.0.0.0:$HP \\(token\\)"
get /metrics; json_error "without a bearer token: 401" 401
grep -qi '^WWW-Authenticate: Bearer' <(curl -s -D - -o /dev/null "http://127.0.0.1:$HP/metrics") &&
	ok "the 401 says WWW-Authenticate: Bearer" || not_ok "no WWW-Authenticate on the 401"
get /metrics -H "Authorization: Bearer wrong-${TOKEN:6}"; json_error "with a wrong token: 401" 401
get /api/overview -H "Authorization: Basic $TOKEN"; json_error "with another scheme: 401" 401
get /metrics -H "Authorization: Bearer $TOKEN"
[ "$CODE" = 200 ] && printf '%s' "$BODY" | grep -q '^sipwarden_build_info' && ok "with the token: 200 and the metrics" ||
	not_ok "with the token: HTTP $CODE ${BODY:0:200}"
get /api/overview -H "Authorization: Bearer $TOKEN" -H 'Host: any.name.example'
[ "$CODE" = 200 ] && ok "with a token, any Host name is served (the token is the guard)" || not_ok "HTTP $CODE"
get /; [ "$CODE" = 200 ] && ok "the page itself (no data) loads without the token" || not_ok "/: HTTP $CODE"
sw_stop

# ---- ThreadSanitizer: the HTTP threads read while the workers write -----------
# (run.sh exports $SIPWARDEN_TSAN when make V=tsan tsan-bins built one)
if [ -n "${SIPWARDEN_TSAN:-}" ] && [ -x "$SIPWARDEN_TSAN" ]; then
	CLIENT=$SIPWARDEN
	SIPWARDEN=$SIPWARDEN_TSAN
	export TSAN_OPTIONS="halt_on_error=0 exitcode=66"
	SW_DB="$T/tsan.db"
	printf 't%02d@127.0.0.1,pw-t%02d\n' 0 0 1 1 2 2 3 3 4 4 5 5 6 6 7 7 >"$T/tsan.csv"
	"$CLIENT" user import "$T/tsan.csv" --db "$SW_DB" >/dev/null || not_ok "user import"
	SW_PORT=$(free_port "$PLO" "$PHI")
	HP=$(free_port "$PLO" "$PHI")
	if sw_start tsan --http "127.0.0.1:$HP"; then
		( for i in $(seq 1 30); do
			for p in /metrics /api/overview '/api/user?aor=t01@127.0.0.1' '/api/events?limit=50'; do
				curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$HP$p"
			done
			sleep 0.1
		done ) &
		scraper=$!
		bg_track "$scraper"
		timeout 60 "$CLIENT" bench --target "127.0.0.1:$SW_PORT" --scenario call --user-pattern 't%02d@127.0.0.1:pw-t%02d' \
			--users 8 --count 100 --rate 100 --duration 20 --json >"$T/tb1.json" 2>/dev/null
		timeout 60 "$CLIENT" bench --target "127.0.0.1:$SW_PORT" --user-pattern 't%02d@127.0.0.1:pw-t%02d' \
			--users 8 --count 1000 --rate 500 --duration 20 --json >"$T/tb2.json" 2>/dev/null
		wait "$scraper"
		[ "$(json_q 'j["completed"]' <"$T/tb1.json" 2>/dev/null)/$(json_q 'j["completed"]' <"$T/tb2.json" 2>/dev/null)" = 100/1000 ] &&
			ok "ThreadSanitizer build: 100 calls and 1,000 registrations while the page and /metrics are read" ||
			not_ok "ThreadSanitizer build: the load did not complete: $(head -c 200 "$T/tb1.json" "$T/tb2.json")"
		sw_stop # fails on a ThreadSanitizer report
	fi
	SIPWARDEN=$CLIENT
else
	echo "# SKIP the ThreadSanitizer part: no build/tsan (make V=tsan tsan-bins)"
fi
finish
