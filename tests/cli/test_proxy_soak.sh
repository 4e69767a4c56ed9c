#!/usr/bin/env bash
# 100,000 authenticated calls through the proxy (sipwarden bench --scenario call:
# INVITE -> 407 -> ACK -> INVITE with digest -> 100/180/200 -> ACK -> BYE -> 200,
# 16 datagrams each, 1,000 calls/s) and the server's memory stays flat: after a
# warm-up of 25,000 calls, its live heap less SQLite's bounded page caches
# (SIGUSR1's status line: mallinfo2's bytes in use, and sqlite3_memory_used)
# read after phases of 25,000 calls (each followed by 36 s of quiet, in
# which every transaction ends and the nonces expire: nonce_lifetime = 10 s
# here) grows by less than 100 bytes per call in at least one of the last
# two phases (a leak of any per-call allocation of the proxy grows it in
# both: a transaction is 600 bytes, its context 1.3 kB; a table that doubles
# at a new peak steps once) and by less than 16 MB in all,
# while the store's recycled write jobs (up to 1,024 of 1.6 kB) and queued
# events vary by a few MB from one reading to the next; no transaction is
# left at the stop; the server stops cleanly. The RSS is printed, not judged: it also counts the allocator's
# free lists. The bench removes its callees' bindings after each phase (as
# phones do when they shut down), so every call rings one device.
# Ports 46000-46999. About 4 minutes.
. "$(dirname "${BASH_SOURCE[0]}")/serve_lib.sh"
# The server is the clang build when make test built it: the production
# allocator, whose live-heap count (mallinfo2) is exact; the sanitized build's
# count moved by tens of bytes per call from run to run here (ASan's own
# caches), and its leak check runs in every other proxy test.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
[ -x "$ROOT/build/clang/sipwarden" ] && SIPWARDEN=$ROOT/build/clang/sipwarden

USERS=200
python3 - "$T/users.csv" "$USERS" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        f.write("soak%05d@127.0.0.1,pw-soak%05d\n" % (i, i))
PY
SW_DB=$T/soak.db
"$SIPWARDEN" user import "$T/users.csv" --db "$SW_DB" >/dev/null || not_ok "user import"
cat >"$T/soak.conf" <<'EOF'
[auth]
nonce_lifetime = 10
EOF
SW_PORT=$(free_port 46000 46999)
sw_start soak --config "$T/soak.conf" || exit 1

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$SW_PID/status"; }
heap() { # the server's live heap bytes (SIGUSR1 writes a status line)
	local n before
	before=$(grep -c 'status: heap in use' "$T/soak.err")
	kill -USR1 "$SW_PID"
	for n in $(seq 1 30); do
		[ "$(grep -c 'status: heap in use' "$T/soak.err")" -gt "$before" ] && break
		sleep 0.1
	done
	# the heap without SQLite's page caches, which grow with the event log up to their bound
	grep 'status: heap in use' "$T/soak.err" | tail -n 1 |
		sed 's/.*heap in use \([0-9]*\) bytes (SQLite \([0-9]*\)).*/\1 \2/' | awk '{print $1 - $2}'
}
calls() { # calls COUNT RATE: bench's JSON in $T/bench.json
	timeout 200 "$SIPWARDEN" bench --target "127.0.0.1:$SW_PORT" --scenario call \
		--user-pattern 'soak%05d@127.0.0.1:pw-soak%05d' --users "$USERS" --count "$1" --rate "$2" \
		--duration 180 --json >"$T/bench.json" 2>"$T/bench.err"
}
completed() { json_q 'j["completed"]' <"$T/bench.json" 2>/dev/null; }

# A warms up (the allocator, the tables, the nonce tracker, SQLite's page
# cache); B, C and D are the same load, each followed by 36 s of quiet in
# which every transaction ends (Timers J, L, M: 32 s)
phase() { # phase NAME COUNT
	calls "$2" 1000
	local c
	c=$(completed)
	[ "$c" = "$2" ] && ok "$1: $2 calls completed" || not_ok "$1: $2 calls completed (got ${c:-none}: $(tail -c 300 "$T/bench.err"))"
	sleep 36
}
phase A 25000
phase B 25000
h1=$(heap) rss1=$(rss_kb)
phase C 25000
h2=$(heap) rss2=$(rss_kb)
phase D 25000
h3=$(heap) rss3=$(rss_kb)
echo "# live heap (without SQLite) after 50,000 calls and quiet: $h1 B, after 75,000: $h2 B, after 100,000: $h3 B; RSS $rss1 -> $rss2 -> $rss3 kB"
# A leak grows the heap in both intervals; a table that doubles at a new
# peak (the transaction slots, the nonce tracker) steps once, then stops
per=$(awk -v a="$h1" -v b="$h2" -v c="$h3" 'BEGIN {x = (b - a) / 25000; y = (c - b) / 25000; printf "%.1f", x < y ? x : y}')
if [ -n "$h1" ] && [ -n "$h2" ] && [ -n "$h3" ] && awk -v p="$per" 'BEGIN {exit !(p < 100)}'; then
	ok "memory flat: the live heap grew $per bytes per call in the flatter of the last two 25,000-call phases"
else
	not_ok "memory flat: the live heap grew ${per:-?} bytes per call in the flatter of the last two phases ($h1 -> $h2 -> $h3)"
fi
if [ -n "$h3" ] && [ $((h3 - h1)) -lt $((16 << 20)) ]; then
	ok "memory bounded: $(( (h3 - h1) >> 10 )) kB more after 100,000 calls than after 50,000 (less than 16 MB)"
else
	not_ok "memory bounded: the live heap grew from $h1 to $h3 B between 50,000 and 100,000 calls"
fi

n=$("$SIPWARDEN" calls --json --limit 0 --db "$SW_DB" | json_q 'len(j)')
[ "$n" = 1024 ] && ok "the calls table keeps the last 1,024 calls" || not_ok "the calls table keeps the last 1,024 calls (got $n)"
sw_stop
grep -q 'stopped (0 proxy transactions still open)' "$T/soak.err" && ok "every transaction had ended: none open at the stop" ||
	not_ok "every transaction had ended: $(grep 'stopped' "$T/soak.err")"
finish
