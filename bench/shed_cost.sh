#!/usr/bin/env bash
# What one shed request (503 + Retry-After) costs the server's CPU.
#   bench/shed_cost.sh [--quota PCT] [--rate R] [--seconds S] [--perf FILE] [BINARY]
# `sipwarden serve --workers 1` (as bench/overload.sh: 10,000 users, [ban]
# off, database under $TMPDIR) in a cgroup with a CPU quota of PCT % of one
# core (default 25) pinned to CPU 0; build/release/bench/bench_shed on CPU 1
# sends new REGISTERs at R/s (default 40000, far past what the quota answers,
# so that the queue stands and nearly every request is shed) for S seconds
# (default 10) and never retries. Prints the server's CPU time (the sum of
# its threads' schedstat) over the answers the sender got: the cost of one
# answer, nearly all of them 503s. --perf FILE also records a profile of the
# server (perf record -g) for the middle of the run. Loopback only; needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
QUOTA=25 RATE=40000 SECS=10 PERF= bin=
while [ $# -gt 0 ]; do
	case $1 in
	--quota) QUOTA=$2; shift ;;
	--rate) RATE=$2; shift ;;
	--seconds) SECS=$2; shift ;;
	--perf) PERF=$(realpath "$2"); shift ;;
	-h|--help) sed -n '2,12p' "$0"; exit 0 ;;
	*) bin=$(realpath "$1") ;;
	esac
	shift
done
if [ -z "$bin" ]; then
	make -s all >/dev/null
	bin=$PWD/sipwarden
fi
make -s V=release bench-bins >/dev/null
blaster=$PWD/build/release/bench/bench_shed
PORT=${PORT:-25180}
tmp=$(mktemp -d)
server= cg=
cleanup() {
	[ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
	[ -n "$cg" ] && rmdir "$cg" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
	grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control || echo +cpu >/sys/fs/cgroup/cgroup.subtree_control
	cg=/sys/fs/cgroup/sw-shedcost-$$
	mkdir "$cg"
	echo "$((QUOTA * 1000)) 100000" >"$cg/cpu.max"
else
	cg=/sys/fs/cgroup/cpu/sw-shedcost-$$
	mkdir "$cg"
	echo 100000 >"$cg/cpu.cfs_period_us"
	echo "$((QUOTA * 1000))" >"$cg/cpu.cfs_quota_us"
fi
for i in $(seq 0 9999); do printf 'user%05d@127.0.0.1,pw-user%05d\n' "$i" "$i"; done >"$tmp/users.csv"
"$bin" user import "$tmp/users.csv" --db "$tmp/db" >/dev/null
printf '[ban]\nenabled = no\n' >"$tmp/serve.conf"
(echo "$BASHPID" >"$cg/cgroup.procs"
 exec taskset -c 0 "$bin" serve --config "$tmp/serve.conf" --db "$tmp/db" --domain 127.0.0.1 \
	--listen "udp:127.0.0.1:$PORT" --workers 1 >"$tmp/serve.log" 2>"$tmp/serve.err") &
server=$!
sleep 1
cpu_ns() { cat /proc/"$server"/task/*/schedstat | awk '{s += $1} END {printf "%.0f\n", s}'; }
c0=$(cpu_ns)
if [ -n "$PERF" ]; then
	(sleep $((SECS / 3)); perf record -q -g -o "$PERF" -p "$server" -- sleep $((SECS / 3)) >/dev/null 2>&1) &
	perfjob=$!
fi
out=$(taskset -c 1 "$blaster" "127.0.0.1:$PORT" "$RATE" "$SECS")
c1=$(cpu_ns)
[ -n "$PERF" ] && wait "$perfjob"
read -r _ sent _ n503 _ n401 _ nother <<<"$out"
shed=$(grep -o '"overload":{"worker":0,"shed":[0-9]*' "$tmp/serve.log" | awk -F: '{s += $NF} END {print s + 0}')
ev=$(grep -c '"cause":"server-overloaded"' "$tmp/serve.log" || true)
awk -v c=$((c1 - c0)) -v s="$sent" -v a="$n503" -v b="$n401" -v o="$nother" -v sh="$shed" -v q="$QUOTA" \
	-v t="$SECS" -v e="$ev" 'BEGIN {
	n = a + b + o
	printf "quota %d %%, %d s: sent %d, answered %d (503 %d, 401 %d, other %d); server shed %d (log)\n", q, t, s, n, a, b, o, sh
	printf "server CPU %.3f s: %.2f us per answer; server-overloaded log lines %d\n", c / 1e9, c / 1e3 / (n ? n : 1), e }'
