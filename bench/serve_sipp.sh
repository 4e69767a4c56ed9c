#!/usr/bin/env bash
# Server CPU time per authenticated registration (REGISTER -> 401 ->
# REGISTER with digest -> 200, durable SQLite write) under sipp load.
# The server (release build, one worker) is pinned to CPU 0, sipp to CPU 1.
#   bench/serve_sipp.sh [N registrations, default 20000] [rate/s, default 2000]
# Loopback only; bounded by N and a time limit; stops what it starts.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20000}
RATE=${2:-2000}
PORT=${PORT:-25060}
make -s all >/dev/null
command -v sipp >/dev/null || { echo "sipp is missing: scripts/deps.sh installs it" >&2; exit 1; }
tmp=$(mktemp -d)
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
./sipwarden user add bench@127.0.0.1 --password benchpw --db "$tmp/db" >/dev/null
printf 'SEQUENTIAL\nbench;127.0.0.1\n' >"$tmp/users.csv"
taskset -c 0 ./sipwarden serve --db "$tmp/db" --domain 127.0.0.1 --listen "udp:127.0.0.1:$PORT" \
	--workers 1 >/dev/null 2>"$tmp/serve.err" &
server=$!
sleep 1
ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; }
hz=$(getconf CLK_TCK)
before=$(ticks)
start=$(date +%s.%N)
(cd "$tmp" && timeout $((N / RATE + 60)) taskset -c 1 sipp "127.0.0.1:$PORT" -sf "$OLDPWD/tests/sipp/register_auth.xml" \
	-inf users.csv -au bench -ap benchpw -m "$N" -r "$RATE" -l 2000 -i 127.0.0.1 -p $((PORT + 1)) \
	-nostdin -trace_stat -stf stat.csv >/dev/null 2>&1) || true
end=$(date +%s.%N)
after=$(ticks)
ok=$(tail -n 1 "$tmp/stat.csv" | awk -F';' '{print $16}')  # SuccessfulCall(C)
failed=$(tail -n 1 "$tmp/stat.csv" | awk -F';' '{print $18}') # FailedCall(C)
awk -v t=$((after - before)) -v hz="$hz" -v ok="$ok" -v f="$failed" -v s="$start" -v e="$end" -v n="$N" -v r="$RATE" 'BEGIN {
	cpu = t / hz
	printf "registrations requested %d at %d/s: %d succeeded, %d failed, %.1f s wall\n", n, r, ok, f, e - s
	if (ok > 0) printf "server CPU %.2f s = %.1f us per authenticated registration (2 requests, 1 durable write)\n", cpu, cpu * 1e6 / ok
}'
