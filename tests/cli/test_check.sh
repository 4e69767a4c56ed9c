#!/bin/bash
# sipwarden check (the 401 doctor) against a real `sipwarden serve` started
# here on random loopback ports 30000-39999: works, wrong password, unknown
# user, disabled account, 423 with Min-Expires, realm differing from the
# domain, UDP silent/refused vs TCP refused, UDP blocked while TCP answers,
# DNS failure, usage errors. Every finding is checked by its cause id in the
# JSON output.
. "$(dirname "${BASH_SOURCE[0]}")/serve_lib.sh"

# ports of this script's own range
check_port() { free_port 30000 39999; }

# ids FILE: the finding ids of a JSON report, comma-separated
ids() { json_q '",".join(f["cause"] for f in j["findings"])' <"$1"; }
jq_() { json_q "$2" <"$1"; }
CHECK=("$SIPWARDEN" check)

# ---- usage ----------------------------------------------------------------
expect_exit 0 "check --help" -- "${CHECK[@]}" --help
expect_match "help names the exit codes" "$OUT" "3 the check itself could not run"
expect_match "help describes TLS verification" "$OUT" "SSL_CERT_FILE"
expect_exit 2 "no account is a usage error" -- "${CHECK[@]}"
expect_exit 2 "not a SIP URI" -- "${CHECK[@]}" alice@example.com --password x
expect_exit 2 "unknown option" -- "${CHECK[@]}" sip:alice@127.0.0.1 --frobnicate
expect_exit 2 "bad transport" -- "${CHECK[@]}" sip:alice@127.0.0.1 --transport sctp
expect_exit 2 "bad expires" -- "${CHECK[@]}" sip:alice@127.0.0.1 --expires 0
expect_exit 2 "bad timeout" -- "${CHECK[@]}" sip:alice@127.0.0.1 --timeout x
expect_exit 2 "bad ha1" -- "${CHECK[@]}" sip:alice@127.0.0.1 --ha1 1234
expect_exit 2 "two password sources" -- "${CHECK[@]}" sip:alice@127.0.0.1 --password a --ha1 0123456789abcdef0123456789abcdef

# ---- DNS --------------------------------------------------------------------
expect_exit 1 "unresolvable proxy: exit 1" -- "${CHECK[@]}" sip:alice@example.com --proxy no-such-host.invalid --password x --json
printf '%s' "$OUT" >"$T/dns.json"
expect_match "unresolvable proxy: dns-failed" "$(ids "$T/dns.json")" "^dns-failed$"
expect_match "the old key id is kept beside cause for one release" "$(jq_ "$T/dns.json" 'all(f["id"] == f["cause"] for f in j["findings"])')" "^True$"

# ---- nothing listening --------------------------------------------------------
P0=$(check_port)
expect_exit 1 "UDP port with nothing: exit 1" -- "${CHECK[@]}" "sip:alice@127.0.0.1:$P0" --password x --transport udp --timeout 1 --json
printf '%s' "$OUT" >"$T/udp0.json"
expect_match "UDP port with nothing: no-response" "$(ids "$T/udp0.json")" "^no-response$"
expect_match "UDP port with nothing: ICMP port unreachable told" "$OUT" "ICMP port unreachable"
expect_exit 1 "TCP port with nothing: exit 1" -- "${CHECK[@]}" "sip:alice@127.0.0.1:$P0" --password x --transport tcp --timeout 1 --json
printf '%s' "$OUT" >"$T/tcp0.json"
expect_match "TCP port with nothing: no-response" "$(ids "$T/tcp0.json")" "^no-response$"
expect_match "TCP port with nothing: connection refused" "$OUT" "connection refused"
# a UDP socket that reads nothing: silence, not port unreachable
python3 -c 'import socket,sys,time
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("127.0.0.1",int(sys.argv[1]))); time.sleep(20)' "$P0" &
bg_track $!
sleep 0.3
START=$(date +%s%N)
expect_exit 1 "silent UDP port: exit 1" -- "${CHECK[@]}" "sip:alice@127.0.0.1:$P0" --password x --transport udp --timeout 1.5 --json
END=$(date +%s%N)
printf '%s' "$OUT" >"$T/silent.json"
expect_match "silent UDP port: no-response" "$(ids "$T/silent.json")" "^no-response$"
expect_match "silent UDP port: told as silence" "$(jq_ "$T/silent.json" 'j["findings"][0]["observed"]')" "0 target\(s\) refused.*1 silent"
MS=$(( (END - START) / 1000000 ))
if [ "$MS" -ge 1400 ] && [ "$MS" -lt 6000 ]; then ok "silent UDP port: bounded by --timeout (${MS} ms)"; else not_ok "silent UDP port took ${MS} ms"; fi

# ---- a real registrar ---------------------------------------------------------
SW_PORT=$(check_port)
SW_DB="$T/main.db"
sw_user add alice@127.0.0.1 --password secret >/dev/null
sw_user add bob@127.0.0.1 --password b0b --disabled >/dev/null
sw_start main || exit 1
AOR="sip:alice@127.0.0.1:$SW_PORT"

expect_exit 0 "right password: exit 0" -- "${CHECK[@]}" "$AOR" --password secret
expect_match "right password: works, granted expires" "$OUT" "Registration works over UDP 127.0.0.1:$SW_PORT: the server granted 3600 s"
expect_match "right password: the challenge is shown" "$OUT" 'challenge: realm "127.0.0.1", algorithms MD5(, SHA-256)?, qop auth'
expect_match "right password: unregistered" "$OUT" "unregistered again"
OUT=$("$SIPWARDEN" registrations alice@127.0.0.1 --json --db "$SW_DB" 2>&1)
expect_match "no binding left after the check" "$(printf '%s' "$OUT" | json_q 'len(j) if isinstance(j, list) else len(j.get("bindings", []))')" "^0$"

echo secret >"$T/pw"
expect_exit 0 "--password-stdin, --json, --expires 120" -- bash -c "'$SIPWARDEN' check '$AOR' --password-stdin --json --expires 120 <'$T/pw'"
printf '%s' "$OUT" >"$T/ok.json"
expect_match "JSON: registered, 120 s granted, unregistered" \
	"$(jq_ "$T/ok.json" '(j["registered"], j["granted_expires"], j["unregistered"], j["verdict"], j["exit_code"], j["challenge"]["realm"])')" \
	"^\(True, 120, True, 'works', 0, '127.0.0.1'\)$"
expect_match "JSON: no findings" "$(jq_ "$T/ok.json" 'len(j["findings"])')" "^0$"

expect_exit 0 "--keep leaves the binding" -- "${CHECK[@]}" "$AOR" --password secret --keep --transport tcp --json
printf '%s' "$OUT" >"$T/keep.json"
expect_match "--keep over TCP: JSON says so" "$(jq_ "$T/keep.json" '(j["unregistered"], j["transport"])')" "^\(False, 'TCP 127.0.0.1:$SW_PORT'\)$"
OUT=$("$SIPWARDEN" registrations alice@127.0.0.1 --db "$SW_DB" 2>&1)
expect_match "--keep: the binding is listed by the server" "$OUT" "transport=tcp"

HA1=$("$SIPWARDEN" digest --algorithm MD5 --username alice --realm 127.0.0.1 --password secret --method REGISTER --uri x --nonce y --verbose 2>/dev/null | sed -n 's/^HA1[: =]*//p' | head -1)
if [ -n "$HA1" ]; then
	expect_exit 0 "--ha1 works" -- "${CHECK[@]}" "$AOR" --ha1 "$HA1"
fi

expect_exit 1 "wrong password: exit 1" -- "${CHECK[@]}" "$AOR" --password wrong --json
printf '%s' "$OUT" >"$T/wrong.json"
expect_match "wrong password: credentials-rejected" "$(ids "$T/wrong.json")" "^credentials-rejected$"
expect_match "wrong password: auth-user variants tried" "$(jq_ "$T/wrong.json" 'j["findings"][0]["detail"]')" 'alice@127.0.0.1": rejected too'
expect_match "wrong password: evidence has the 401" "$(jq_ "$T/wrong.json" '"|".join(j["findings"][0]["evidence"])')" "SIP/2.0 401 Unauthorized"

expect_exit 1 "unknown user: exit 1" -- "${CHECK[@]}" "sip:nobody@127.0.0.1:$SW_PORT" --password secret --json
printf '%s' "$OUT" >"$T/unknown.json"
expect_match "unknown user: credentials-rejected" "$(ids "$T/unknown.json")" "^credentials-rejected$"

expect_exit 1 "disabled account: exit 1" -- "${CHECK[@]}" "sip:bob@127.0.0.1:$SW_PORT" --password b0b --json
printf '%s' "$OUT" >"$T/disabled.json"
expect_match "disabled account: 403 after a valid digest" "$(ids "$T/disabled.json")" "^refused-after-valid-digest$"

expect_exit 1 "unknown domain: exit 1" -- "${CHECK[@]}" sip:alice@other.test --proxy "127.0.0.1:$SW_PORT" --password secret --json
printf '%s' "$OUT" >"$T/domain.json"
expect_match "unknown domain: domain-unknown" "$(ids "$T/domain.json")" "^domain-unknown$"

expect_exit 1 "TLS to serve's plain TCP port: exit 1" -- "${CHECK[@]}" "$AOR" --password secret --transport tls --timeout 2 --json
printf '%s' "$OUT" >"$T/tls.json"
expect_match "TLS to a plain TCP port: tls-failed" "$(ids "$T/tls.json")" "^tls-failed$"
expect_match "TLS to a plain TCP port: closed during the handshake" "$(jq_ "$T/tls.json" 'j["findings"][0]["observed"]')" \
	"handshake failure: the server closed the connection during the handshake"

expect_match "the server logged the doctor's wrong password" "$(cat "$T/main.log")" "wrong-password"
sw_stop

# ---- 423: min_expires 300, the check asks for 60 --------------------------------
SW_PORT=$(check_port)
SW_DB="$T/main.db"
sw_start minexp --min-expires 300 || exit 1
expect_exit 1 "expires below Min-Expires: exit 1" -- "${CHECK[@]}" "sip:alice@127.0.0.1:$SW_PORT" --password secret --expires 60 --json
printf '%s' "$OUT" >"$T/423.json"
expect_match "423: expires-too-brief" "$(ids "$T/423.json")" "^expires-too-brief$"
expect_match "423: retried with Min-Expires and registered" "$(jq_ "$T/423.json" '(j["registered"], j["granted_expires"], j["unregistered"])')" "^\(True, 300, True\)$"
expect_match "423: the interval to configure is named" "$(jq_ "$T/423.json" 'j["findings"][0]["detail"]')" "registration interval of 300 s"
sw_stop

# ---- realm differing from the user's domain: the user typed the domain in
# upper case; domains compare without case, digest realms with it -----------
SW_PORT=$(check_port)
SW_DB="$T/realm.db"
sw_user add carol@example.test --password c4rol >/dev/null
sw_start realm --domain example.test || exit 1
expect_exit 0 "realm differs in case only: registration works" -- "${CHECK[@]}" sip:carol@EXAMPLE.test --proxy "127.0.0.1:$SW_PORT" --password c4rol --json
printf '%s' "$OUT" >"$T/realm.json"
expect_match "realm differs: realm-mismatch warning" "$(ids "$T/realm.json")" "^realm-mismatch$"
expect_match "realm differs: both are named" "$(jq_ "$T/realm.json" 'j["findings"][0]["observed"]')" '"example.test".*"EXAMPLE.test"'
expect_match "realm differs: a warning, not a problem" "$(jq_ "$T/realm.json" '(j["findings"][0]["severity"], j["findings"][0]["problem"])')" "^\('warning', False\)$"
expect_exit 1 "realm differs + wrong password: exit 1" -- "${CHECK[@]}" sip:carol@EXAMPLE.test --proxy "127.0.0.1:$SW_PORT" --password nope --json
printf '%s' "$OUT" >"$T/realm2.json"
expect_match "realm differs + rejected: named as the likely cause" "$(jq_ "$T/realm2.json" '[f["detail"] for f in j["findings"] if f["cause"]=="credentials-rejected"][0]')" "Likely cause: the realm"
sw_stop

# ---- UDP unanswered, TCP answers ------------------------------------------------------
SW_PORT=$(check_port)
SW_DB="$T/main.db"
"$SIPWARDEN" serve --db "$SW_DB" --domain 127.0.0.1 --listen "tcp:127.0.0.1:$SW_PORT" --workers 1 >"$T/tcponly.log" 2>"$T/tcponly.err" &
SW_PID=$!; SW_NAME=tcponly
bg_track "$SW_PID"
for _ in $(seq 1 50); do
	"${SIPCAT[@]}" --tcp --timeout 0.2 127.0.0.1 "$SW_PORT" options >/dev/null 2>&1 && break
	sleep 0.1
done
expect_exit 1 "UDP closed, TCP open: exit 1" -- "${CHECK[@]}" "sip:alice@127.0.0.1:$SW_PORT" --password secret --timeout 1 --json
printf '%s' "$OUT" >"$T/tcponly.json"
expect_match "UDP closed, TCP open: udp-blocked-tcp-ok" "$(ids "$T/tcponly.json")" "^udp-blocked-tcp-ok$"
expect_match "UDP closed, TCP open: registered over TCP" "$(jq_ "$T/tcponly.json" '(j["registered"], j["transport"])')" "^\(True, 'TCP 127.0.0.1:$SW_PORT'\)$"
expect_match "UDP closed, TCP open: port unreachable told" "$(jq_ "$T/tcponly.json" 'j["findings"][0]["observed"]')" "port unreachable"
sw_stop

finish
