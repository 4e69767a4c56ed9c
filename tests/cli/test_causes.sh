#!/usr/bin/env bash
# sipwarden causes: list, one id, JSON, errors.
. "$(dirname "$0")/lib.sh"

expect_exit 0 "causes lists the table" -- "$SIPWARDEN" causes
expect_match "list has wrong-password" "$OUT" '^wrong-password +error +'
expect_match "list has stale-without-flag" "$OUT" '^stale-without-flag '
n=$(printf '%s\n' "$OUT" | grep -cE '^[a-z0-9-]+ +(info|warning|error) ')
[ "$n" -ge 33 ] && ok "at least the 33 design ids listed ($n)" || not_ok "only $n causes listed"

expect_exit 0 "causes ID" -- "$SIPWARDEN" causes realm-mismatch
expect_match "ID shows severity" "$OUT" '^realm-mismatch \(error\)'
expect_match "ID shows observers" "$OUT" 'seen by: server, analyzer'
expect_match "ID shows the classic fix" "$OUT" 'fix: +Verify credentials: '

expect_exit 0 "causes --json ID" -- "$SIPWARDEN" causes --json udp-blocked-tcp-ok
expect_match "JSON object" "$OUT" '^\{"id":"udp-blocked-tcp-ok","severity":"error","observers":\["doctor"\],.*"fix_class":"check-network"'

expect_exit 0 "causes --json" -- "$SIPWARDEN" causes --json
if command -v python3 >/dev/null; then
	cnt=$(printf '%s' "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d) if all({"id","severity","observers","explanation","fix_class","fix"} <= set(x) for x in d) else -1)')
	[ "${cnt:-0}" -ge 33 ] && ok "JSON array parses, $cnt complete entries" || not_ok "JSON array invalid ($cnt)"
fi

expect_exit 1 "unknown id exits 1" -- "$SIPWARDEN" causes no-such-cause
expect_match "unknown id says so" "$ERR" "no cause 'no-such-cause'"
expect_exit 2 "bad option exits 2" -- "$SIPWARDEN" causes --bogus
expect_exit 2 "two ids exit 2" -- "$SIPWARDEN" causes ok wrong-password
expect_exit 0 "--help" -- "$SIPWARDEN" causes --help
expect_match "--help documents exit codes" "$OUT" 'exit codes: 0 .*1 unknown id, 2 usage'
finish
