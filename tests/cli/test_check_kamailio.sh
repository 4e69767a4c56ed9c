#!/bin/bash
# sipwarden check against Kamailio from Debian (kamailio,
# kamailio-sqlite-modules): a registrar nobody here wrote, started with a
# config written by tests/tools/kamailio_lib.sh (auth_db over SQLite, HA1
# provisioned for the realm 127.0.0.1, usrloc in memory) on random loopback
# ports 57000-58999. Cases: right credentials, wrong password, unknown user,
# a challenge realm other than the domain, 423 with Min-Expires, a short
# nonce lifetime (stale=true on the reused nonce, and without it as the
# stock kamailio.cfg answers), UDP closed while TCP answers, and a 503 after
# authentication. Every finding is checked by its
# cause id in the JSON output. Every process started here is stopped on exit.
. "$(dirname "${BASH_SOURCE[0]}")/serve_lib.sh"
. "$TOOLS/kamailio_lib.sh"

kport() { free_port 57000 58999; }
ids() { json_q '",".join(sorted(f["cause"] for f in j["findings"]))' <"$1"; }
jq_() { json_q "$2" <"$1"; }
# finding FILE ID EXPR: EXPR over the finding f of cause ID
finding() { json_q "[$3 for f in j['findings'] if f['id'] == '$2'][0]" <"$1"; }
CHECK=("$SIPWARDEN" check --timeout 2)

if ! command -v kamailio >/dev/null || ! KMOD=$(kam_moddir) || [ ! -e "$KMOD/db_sqlite.so" ]; then
	echo "# SKIP kamailio or kamailio-sqlite-modules not installed (make deps)"
	exit 0
fi
kam_cfg "$T/kamailio.cfg"
kam_users "$T/kam.db" 127.0.0.1 alice:secret maint:m4int
DB=(-A "DBURL=\"sqlite:///$T/kam.db\"")

# ---- UDP and TCP, min_expires 300 ---------------------------------------------
P=$(kport)
kam_start main -l "udp:127.0.0.1:$P" -l "tcp:127.0.0.1:$P" "${DB[@]}" -A MINEXP=300 || { finish; exit 1; }
AOR="sip:alice@127.0.0.1:$P"

expect_exit 0 "right password: exit 0" -- "${CHECK[@]}" "$AOR" --password secret --json
printf '%s' "$OUT" >"$T/ok.json"
expect_match "right password: registered over UDP, unregistered, no findings" \
	"$(jq_ "$T/ok.json" '(j["registered"], j["unregistered"], j["transport"], len(j["findings"]))')" \
	"^\(True, True, 'UDP 127.0.0.1:$P', 0\)$"
expect_match "right password: Kamailio's challenge read (MD5, qop auth)" \
	"$(jq_ "$T/ok.json" '(j["challenge"]["realm"], j["challenge"]["algorithms"], j["challenge"]["qop"])')" \
	"^\('127.0.0.1', 'MD5', 'auth'\)$"

expect_exit 0 "right password over TCP: exit 0" -- "${CHECK[@]}" "$AOR" --password secret --transport tcp --json
expect_match "over TCP: used TCP" "$(printf '%s' "$OUT" | json_q 'j["transport"]')" "^TCP 127.0.0.1:$P$"

expect_exit 1 "wrong password: exit 1" -- "${CHECK[@]}" "$AOR" --password wrong --json
printf '%s' "$OUT" >"$T/wrong.json"
expect_match "wrong password: credentials-rejected" "$(ids "$T/wrong.json")" "^credentials-rejected$"
expect_match "wrong password: not registered" "$(jq_ "$T/wrong.json" 'j["registered"]')" "^False$"

expect_exit 1 "unknown user: exit 1" -- "${CHECK[@]}" "sip:nobody@127.0.0.1:$P" --password secret --json
printf '%s' "$OUT" >"$T/unknown.json"
expect_match "unknown user: credentials-rejected (the wire does not tell)" "$(ids "$T/unknown.json")" "^credentials-rejected$"

expect_exit 1 "expires 60 below min_expires 300: exit 1" -- "${CHECK[@]}" "$AOR" --password secret --expires 60 --json
printf '%s' "$OUT" >"$T/423.json"
expect_match "423: expires-too-brief" "$(ids "$T/423.json")" "^expires-too-brief$"
expect_match "423: retried with Min-Expires, registered for 300 s" "$(jq_ "$T/423.json" '(j["registered"], j["granted_expires"])')" "^\(True, 300\)$"
expect_match "423: Kamailio's 423 is the evidence" "$(finding "$T/423.json" expires-too-brief '"|".join(f["evidence"])')" "423 Interval Too Brief.*Min-Expires: 300"

expect_exit 1 "503 after authentication: exit 1" -- "${CHECK[@]}" "sip:maint@127.0.0.1:$P" --password m4int --json
printf '%s' "$OUT" >"$T/503.json"
expect_match "503: server-error" "$(ids "$T/503.json")" "^server-error$"
expect_match "503: the status and reason are quoted" "$(finding "$T/503.json" server-error 'f["observed"]')" \
	'503 "Location Database Unavailable" to the answered challenge'
expect_match "503: Retry-After in the evidence and the detail" \
	"$(finding "$T/503.json" server-error '"|".join(f["evidence"]) + " " + f["detail"]')" "Retry-After: 120.*retry after 120 s"
kam_stop

# ---- a realm other than the domain: the HA1 was provisioned for 127.0.0.1 ------
P=$(kport)
kam_start realm -l "udp:127.0.0.1:$P" "${DB[@]}" -A 'REALM="voip.example.test"' || { finish; exit 1; }
expect_exit 1 "realm differs: exit 1" -- "${CHECK[@]}" "sip:alice@127.0.0.1:$P" --password secret --json
printf '%s' "$OUT" >"$T/realm.json"
expect_match "realm differs: credentials-rejected and realm-mismatch" "$(ids "$T/realm.json")" "^credentials-rejected,realm-mismatch$"
expect_match "realm differs: both names in the finding" "$(finding "$T/realm.json" realm-mismatch 'f["observed"]')" \
	'"voip.example.test" differs from the domain "127.0.0.1"'
expect_match "realm differs: a problem, named as the likely cause" \
	"$(finding "$T/realm.json" realm-mismatch 'f["problem"]') $(finding "$T/realm.json" credentials-rejected 'f["detail"]')" \
	"^True .*Likely cause: the realm"
kam_stop

# ---- nonce_expire 1 s; the 200 is held 2.1 s, so the nonce the doctor reuses
# for its unregistration (as a phone's refresh would) has expired --------------
P=$(kport)
kam_start stale -l "tcp:127.0.0.1:$P" "${DB[@]}" -A NONCEEXP=1 -A HOLD200=2100000 || { finish; exit 1; }
expect_exit 0 "short nonce lifetime: exit 0" -- "$SIPWARDEN" check "sip:alice@127.0.0.1:$P" --password secret --transport tcp --timeout 5 --json
printf '%s' "$OUT" >"$T/stale.json"
expect_match "short nonce lifetime: stale-nonce" "$(ids "$T/stale.json")" "^stale-nonce$"
expect_match "stale-nonce: Kamailio said stale=true, a retry followed" \
	"$(finding "$T/stale.json" stale-nonce '(f["problem"], "stale=true" in "|".join(f["evidence"]).lower())')" "^\(False, True\)$"
expect_match "stale-nonce: unregistered with the new nonce" "$(jq_ "$T/stale.json" 'j["unregistered"]')" "^True$"
kam_stop

# ---- the same without stale=true, as Kamailio's stock config answers ---------------
P=$(kport)
kam_start nostale -l "tcp:127.0.0.1:$P" "${DB[@]}" -A NONCEEXP=1 -A HOLD200=2100000 -A NO_STALE_FLAG || { finish; exit 1; }
expect_exit 0 "expired nonce without stale=true: exit 0" -- "$SIPWARDEN" check "sip:alice@127.0.0.1:$P" --password secret --transport tcp --timeout 5 --json
printf '%s' "$OUT" >"$T/nostale.json"
expect_match "expired nonce without stale=true: stale-without-flag" "$(ids "$T/nostale.json")" "^stale-without-flag$"
expect_match "stale-without-flag: retried, unregistered" "$(jq_ "$T/nostale.json" 'j["unregistered"]')" "^True$"
kam_stop

# ---- TCP only: the UDP port has nothing listening -------------------------------
P=$(kport)
kam_start tcponly -l "tcp:127.0.0.1:$P" "${DB[@]}" || { finish; exit 1; }
expect_exit 1 "UDP closed, TCP open: exit 1" -- "${CHECK[@]}" "sip:alice@127.0.0.1:$P" --password secret --json
printf '%s' "$OUT" >"$T/tcponly.json"
expect_match "UDP closed, TCP open: udp-blocked-tcp-ok" "$(ids "$T/tcponly.json")" "^udp-blocked-tcp-ok$"
expect_match "UDP closed, TCP open: registered over TCP" "$(jq_ "$T/tcponly.json" '(j["registered"], j["transport"])')" \
	"^\(True, 'TCP 127.0.0.1:$P'\)$"
expect_match "UDP closed: ICMP port unreachable told" "$(finding "$T/tcponly.json" udp-blocked-tcp-ok 'f["observed"]')" "port unreachable"
kam_stop

if grep -q 'CRITICAL' "$T"/{main,realm,stale,nostale,tcponly}.err 2>/dev/null; then
	echo "# kamailio CRITICAL lines: $(grep -h CRITICAL "$T"/*.err | head -n 3)"
fi
finish
