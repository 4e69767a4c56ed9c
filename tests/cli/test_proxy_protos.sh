#!/usr/bin/env bash
# The PROTOS c07-sip suite (4,527 INVITE test cases with their CANCELs, from
# the shared corpus) sent through the proxy over UDP, twice: from another
# domain (forwarded unchallenged to an offline user: the whole request path,
# 480s) and from a local user (the 407 gate). The sanitized server must keep
# answering, record decisions for the well-formed cases, and stop cleanly
# with no sanitizer report. Bans are off here: the suite is one address
# sending thousands of unauthenticated requests, which they would stop.
# Ports 49000-49499. About 20 s.
. "$(dirname "${BASH_SOURCE[0]}")/serve_lib.sh"

TARBALL=$SW_CORPUS/parser-suites/protos-c07-sip/cases.tar.gz
if [ ! -f "$TARBALL" ]; then
	not_ok "the PROTOS suite is in the corpus ($TARBALL)"
	finish
	exit 1
fi
SW_DB=$T/protos.db
sw_user add bob@127.0.0.1 --password b0b >/dev/null
sw_user add alice@127.0.0.1 --password secret >/dev/null
printf '[ban]\nenabled = no\n' >"$T/protos.conf"
SW_PORT=$(free_port 49000 49499)
sw_start protos --config "$T/protos.conf" || exit 1
send() { python3 "$TOOLS/protos_send.py" "$TARBALL" 127.0.0.1 "$SW_PORT" "$1" bob@127.0.0.1; }

OUT=$(send trunk@example.net)
expect_match "all cases sent from another domain, answers came back" "$OUT" '^sent 9054 answered [1-9][0-9]*$'
sw_alive "the server still answers after the first pass"
OUT=$(send alice@127.0.0.1)
expect_match "all cases sent from a local user, answers came back" "$OUT" '^sent 9054 answered [1-9][0-9]*$'
sw_alive "the server still answers after the second pass"
n=$("$SIPWARDEN" events --method INVITE --cause callee-offline --limit 0 --json --db "$SW_DB" | json_q 'len(j)')
[ "${n:-0}" -ge 2000 ] && ok "the well-formed cases were judged: $n callee-offline decisions" ||
	not_ok "the well-formed cases were judged: ${n:-0} callee-offline decisions (wanted >= 2000)"
n=$("$SIPWARDEN" events --method INVITE --cause no-credentials --limit 0 --json --db "$SW_DB" | json_q 'len(j)')
[ "${n:-0}" -ge 2000 ] && ok "from the local user they were challenged: $n no-credentials decisions" ||
	not_ok "from the local user they were challenged: ${n:-0} no-credentials decisions (wanted >= 2000)"
sw_stop
finish
