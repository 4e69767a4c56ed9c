#!/usr/bin/env bash
# The decision log under attack stays bounded and still useful: a flood of
# REGISTERs with credentials the server never issued (nonce-invalid: one
# decision each) and without credentials (the routine first challenge, not
# logged by default) from one address gives a few lines per second that
# name the address and count the rest; from 60 addresses with
# max_bytes_per_second = 4096, the log grows by about that much per second
# and a line says how many lines were left out. Ports 49900-49999.
. "$(dirname "$0")/serve_lib.sh"

SW_PORT=$(free_port 49900 49999) || { not_ok "no free port in 49900-49999"; finish; exit 1; }
# no bans, and no overload control: every request is judged (a slow
# sanitizer build would otherwise shed some with 503)
printf '[ban]\nenabled = no\n[overload]\nenabled = no\n' >"$T/cap.conf"
sw_start cap --config "$T/cap.conf" || { finish; exit 1; }
FLOOD=(python3 "$TOOLS/flood.py" 127.0.0.1 "$SW_PORT")
N=8000

"${FLOOD[@]}" --kind badauth --count $N --seconds 8 >"$T/bad.out"
"${FLOOD[@]}" --kind noauth --count $N --seconds 8 >"$T/noauth.out"
sleep 1.5 # the summaries come when their second is over
bytes=$(wc -c <"$T/cap.log")
secs=$(python3 -c "import re,sys; print(sum(float(re.search(r'in ([0-9.]+) s', open(f).read()).group(1)) for f in sys.argv[1:]))" "$T/bad.out" "$T/noauth.out")
echo "# $(cat "$T/bad.out") with bad credentials, $(cat "$T/noauth.out") without; log $bytes bytes"
# one line per (address, cause) and second, plus one summary: well under 2 kB a second
limit=$(python3 -c "print(int((float('$secs') + 3) * 2000))")
[ "$bytes" -lt "$limit" ] && ok "log bounded: $bytes bytes for $((2 * N)) requests in $secs s (< $limit)" ||
	not_ok "log too large: $bytes bytes for $((2 * N)) requests (limit $limit)"
python3 - "$T/cap.log" "$N" >"$T/sum.out" <<'EOF'
import json, sys
lines = written = repeated = noauth = 0
for l in open(sys.argv[1]):
    j = json.loads(l)
    if j.get("source", "").startswith("127.0.0.3") and j.get("cause") == "nonce-invalid":
        if "repeated" in j:
            repeated += j["repeated"]
            assert "more like this from 127.0.0.3 in the last second" in j["detail"], j
        else:
            written += 1
    if j.get("cause") == "no-credentials":
        noauth += 1
print(written, repeated, noauth)
EOF
read -r written repeated noauth <"$T/sum.out"
# every decision the server made (the kernel may drop datagrams of a flood
# that a slow build cannot keep up with) is a line or counted in one
made=$("$SIPWARDEN" events --db "$SW_DB" --cause nonce-invalid --limit 0 --json | json_q 'len(j)')
if [ "$((written + repeated))" -eq "${made:-0}" ] && [ "${made:-0}" -ge $((N / 2)) ]; then
	ok "every bad-credentials decision is a line or counted in one: $written lines + $repeated repeated = $made decisions (of $N sent)"
else
	not_ok "lines $written + repeated $repeated != $made decisions (of $N sent)"
fi
[ "$written" -le 12 ] && ok "at most one line per second for them ($written)" || not_ok "$written lines for one source and cause"
[ "$noauth" -eq 0 ] && ok "routine first challenges are not logged by default" || not_ok "$noauth no-credentials lines"
# they are still events in the store
wait_match "the first challenges are still events" 'no-credentials' \
	"$SIPWARDEN" events --db "$SW_DB" --cause no-credentials --limit 1
sw_stop

# many addresses, a small ceiling, first challenges logged
printf '[ban]\nenabled = no\n[overload]\nenabled = no\n[log]\nfirst_challenges = yes\nmax_bytes_per_second = 4096\n' >"$T/cap2.conf"
SW_DB=$T/cap2.db
sw_start cap2 --config "$T/cap2.conf" || { finish; exit 1; }
"${FLOOD[@]}" --kind noauth --count 1 >/dev/null # one first challenge, before any ceiling
sleep 1.1
"${FLOOD[@]}" --kind badauth --count 6000 --seconds 6 --sources 60 --first-source 20 >"$T/bad2.out"
"${FLOOD[@]}" --kind noauth --count 6000 --seconds 6 --sources 60 --first-source 20 >"$T/noauth2.out"
sleep 1.5
bytes=$(wc -c <"$T/cap2.log")
# per second of writing: at most the ceiling and the line about what it left
# out (the lines carry the second they were written in, or the one before)
secs=$(python3 -c "import json,sys; print(len({json.loads(l)['time'][:19] for l in open(sys.argv[1])}))" "$T/cap2.log")
limit=$(((secs + 2) * (4096 + 400)))
[ "$bytes" -le "$limit" ] && ok "the ceiling holds: $bytes bytes over $secs seconds with max_bytes_per_second = 4096 (<= $limit)" ||
	not_ok "log over the ceiling: $bytes bytes over $secs seconds (limit $limit)"
expect_match "a line says how many were left out" "$(cat "$T/cap2.log")" \
	'"log_suppressed":[0-9]+,"bytes":[0-9]+,"detail":"[0-9]+ log lines \([0-9]+ bytes\) over the ceiling of 4096 bytes per second not written"'
expect_match "first challenges are logged when asked" "$(cat "$T/cap2.log")" '"cause":"no-credentials"'
sw_stop
finish
