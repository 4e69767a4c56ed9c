#!/usr/bin/env bash
# Server CPU per authenticated registration, in all and per thread, and the
# latency of the whole registration, at a fixed rate: for comparing two
# builds run alternately in one session (the machine is noisy).
#   bench/serve_threads.sh [--sipp] [--rate R] [--count N] [BINARY...]
# Default: ./sipwarden (built), `sipwarden bench` as the load, 5,000/s,
# 20,000 registrations. Per binary: 10,000 users imported into a fresh
# database, `serve --workers 1` pinned to CPU 0, every user registered once
# (warm-up), then the measured run from CPU 1 (`sipwarden bench` of the
# same binary, or sipp with tests/sipp/register_users.xml). CPU from
# /proc/PID/stat and /proc/PID/task/*/stat (threads by name).
# Loopback only; bounded by the count and a time limit; stops what it starts.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
load=bench RATE=5000 COUNT=20000 bins=()
while [ $# -gt 0 ]; do
	case $1 in
	--sipp) load=sipp ;;
	--rate) RATE=$2; shift ;;
	--count) COUNT=$2; shift ;;
	-h|--help) sed -n '2,13p' "$0"; exit 0 ;;
	*) bins+=("$(realpath "$1")") ;;
	esac
	shift
done
if [ ${#bins[@]} -eq 0 ]; then
	make -s all >/dev/null
	bins=("$repo/sipwarden")
fi
[ "$load" = sipp ] && ! command -v sipp >/dev/null && { echo "sipp is missing: scripts/deps.sh installs it" >&2; exit 1; }
PORT=${PORT:-25160}
tmp=$(mktemp -d)
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
for i in $(seq 0 9999); do printf 'user%05d@127.0.0.1,pw-user%05d\n' "$i" "$i"; done >"$tmp/users.csv"
{ echo SEQUENTIAL; for i in $(seq 0 9999); do printf 'user%05d;127.0.0.1;[authentication username=user%05d password=pw-user%05d]\n' "$i" "$i" "$i"; done; } >"$tmp/sipp.csv"
hz=$(getconf CLK_TCK)
threads() { for t in "/proc/$server"/task/*; do printf '%s:%s %s\n' "$(cat "$t/comm")" "${t##*/}" "$(awk '{print $14 + $15}' "$t/stat")"; done | sort; }

for bin in "${bins[@]}"; do
	rm -f "$tmp"/db*
	"$bin" user import "$tmp/users.csv" --db "$tmp/db" >/dev/null
	taskset -c 0 "$bin" serve --db "$tmp/db" --domain 127.0.0.1 --listen "udp:127.0.0.1:$PORT" \
		--workers 1 >/dev/null 2>"$tmp/serve.err" &
	server=$!
	sleep 1
	gen=(taskset -c 1 "$bin" bench --target "127.0.0.1:$PORT" --user-pattern 'user%05d@127.0.0.1:pw-user%05d')
	timeout 120 "${gen[@]}" --count 10000 --rate "$RATE" --json >/dev/null
	threads >"$tmp/t0"
	before=$(awk '{print $14 + $15}' "/proc/$server/stat")
	if [ "$load" = sipp ]; then
		(cd "$tmp" && timeout $((COUNT / RATE + 60)) taskset -c 1 sipp "127.0.0.1:$PORT" \
			-sf "$repo/tests/sipp/register_users.xml" -inf sipp.csv -m "$COUNT" -r "$RATE" -l "$RATE" \
			-i 127.0.0.1 -p $((PORT + 1)) -nostdin -trace_stat -stf stat.csv >/dev/null 2>&1) || true
		n=$(tail -n 1 "$tmp/stat.csv" | awk -F';' '{print $16}')
		lat="latency: see sipp"
	else
		timeout $((COUNT / RATE + 60)) "${gen[@]}" --count "$COUNT" --rate "$RATE" --json >"$tmp/b.json"
		read -r n lat < <(python3 -c "
import json, sys; j = json.load(open(sys.argv[1])); l = j['latency_ms']
print(j['completed'], 'latency ms p50 %.3f p90 %.3f p99 %.3f p99.9 %.3f' % (l['p50'], l['p90'], l['p99'], l['p999']))" "$tmp/b.json")
	fi
	after=$(awk '{print $14 + $15}' "/proc/$server/stat")
	threads >"$tmp/t1"
	per=$(join "$tmp/t0" "$tmp/t1" | awk -v n="$n" -v hz="$hz" '{ split($1, k, ":"); printf " %s=%.0f", k[1], ($3 - $2) * 1e6 / hz / n }')
	awk -v b="$bin" -v l="$load" -v n="$n" -v c="$COUNT" -v r="$RATE" -v t=$((after - before)) -v hz="$hz" -v lat="$lat" -v per="$per" 'BEGIN {
		printf "%s (%s, %d/s): %d of %d completed; server CPU %.1f us per registration;%s (us); %s\n",
			b, l, r, n, c, n ? t * 1e6 / hz / n : 0, per, lat }'
	kill -INT "$server"
	wait "$server" 2>/dev/null || true
	server=
done
