#!/usr/bin/env bash
# Overload: goodput of `sipwarden serve` at a multiple of its capacity.
#   bench/overload.sh [--quota PCT] [--factor F] [--of-sustained] [--seconds S]
#                     [--capacity R] [--config FILE] [--db-dir DIR] [BINARY]
# The server (`serve --workers 1`, [ban] off since every phone is 127.0.0.1,
# 10,000 users) runs in a cgroup with a CPU quota of PCT % of one core
# (default 25; cgroup v2 cpu.max or v1 cpu.cfs_quota_us; needs root) pinned
# to CPU 0, so that the generator (`sipwarden bench` on CPU 1) is never the
# bottleneck. Steps: every user registered once (warm-up); the capacity
# (`bench --max`, or --capacity R), and what the server completes when that
# rate is held for S seconds (its sustained capacity); then registrations
# start at F times that (default 3; --of-sustained: F times the sustained
# capacity, which --max's 2-second steps overstate by 10-35 %) for S
# seconds (default 15), the phones honouring 503 + Retry-After, and the run
# drains for up to 60 s more. Prints goodput (what
# completed while registrations were starting, per second) over capacity,
# the 503s, the failures that are not 503s, what was still in flight at the
# end, retransmissions, and the server's own counts (shed, kernel drops, log
# bytes). The database goes to DIR (default: a temporary directory under
# $TMPDIR; /dev/shm takes the disk's fsync stalls out of the measurement).
# Loopback only; bounded in time; stops what it starts.
set -euo pipefail
cd "$(dirname "$0")/.."
QUOTA=25 FACTOR=3 SECONDS_=15 CAP= CONF= DBDIR= OF_SUST= bin=
while [ $# -gt 0 ]; do
	case $1 in
	--quota) QUOTA=$2; shift ;;
	--factor) FACTOR=$2; shift ;;
	--of-sustained) OF_SUST=1 ;;
	--seconds) SECONDS_=$2; shift ;;
	--capacity) CAP=$2; shift ;;
	--config) CONF=$(realpath "$2"); shift ;;
	--db-dir) DBDIR=$2; shift ;;
	-h|--help) sed -n '2,21p' "$0"; exit 0 ;;
	*) bin=$(realpath "$1") ;;
	esac
	shift
done
if [ -z "$bin" ]; then
	make -s all >/dev/null
	bin=$PWD/sipwarden
fi
PORT=${PORT:-25180}
tmp=$(mktemp -d)
db=$(mktemp -d "${DBDIR:-$tmp}/db.XXXXXX")/db
server= cg=
cleanup() {
	[ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
	[ -n "$cg" ] && rmdir "$cg" 2>/dev/null
	[ -n "${KEEP:-}" ] && cp "$tmp/serve.log" "$tmp/over.json" "$KEEP"/ 2>/dev/null
	rm -rf "$tmp" "$(dirname "$db")"
}
trap cleanup EXIT

# a cgroup with the quota: v2 (cpu.max) or v1 (cpu.cfs_quota_us)
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
	grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control || echo +cpu >/sys/fs/cgroup/cgroup.subtree_control
	cg=/sys/fs/cgroup/sw-overload-$$
	mkdir "$cg"
	echo "$((QUOTA * 1000)) 100000" >"$cg/cpu.max"
elif [ -d /sys/fs/cgroup/cpu ]; then
	cg=/sys/fs/cgroup/cpu/sw-overload-$$
	mkdir "$cg"
	echo 100000 >"$cg/cpu.cfs_period_us"
	echo "$((QUOTA * 1000))" >"$cg/cpu.cfs_quota_us"
else
	echo "no cgroup cpu controller: cannot limit the server's CPU" >&2
	exit 1
fi

for i in $(seq 0 9999); do printf 'user%05d@127.0.0.1,pw-user%05d\n' "$i" "$i"; done >"$tmp/users.csv"
"$bin" user import "$tmp/users.csv" --db "$db" >/dev/null
{ [ -n "$CONF" ] && cat "$CONF"; printf '[ban]\nenabled = no\n'; } >"$tmp/serve.conf"
(echo "$BASHPID" >"$cg/cgroup.procs"
 exec taskset -c 0 "$bin" serve --config "$tmp/serve.conf" --db "$db" --domain 127.0.0.1 \
	--listen "udp:127.0.0.1:$PORT" --workers 1 >"$tmp/serve.log" 2>"$tmp/serve.err") &
server=$!
sleep 1
gen=(taskset -c 1 "$bin" bench --target "127.0.0.1:$PORT" --user-pattern 'user%05d@127.0.0.1:pw-user%05d')
timeout 60 "${gen[@]}" --rate 2000 --json >/dev/null || true
if [ -z "$CAP" ]; then
	timeout 120 "${gen[@]}" --max --duration 60 >"$tmp/max.txt" 2>&1 || true
	CAP=$(sed -n 's/^highest rate .*: \([0-9]*\)\/s$/\1/p' "$tmp/max.txt")
	[ -n "$CAP" ] || { cat "$tmp/max.txt" >&2; echo "no capacity found" >&2; exit 1; }
fi
# the same rate held for as long as the overload lasts: what the server
# completes then is its sustained capacity (a 2-second step of --max can
# run ahead of the durable writes)
timeout $((SECONDS_ + 120)) "${gen[@]}" --rate "$CAP" --count $((CAP * SECONDS_)) --duration "$SECONDS_" \
	--drain 10 --json >"$tmp/cap.json" || true
SUST=$(python3 -c 'import json,sys; print("%.0f" % json.load(open(sys.argv[1]))["goodput"])' "$tmp/cap.json")
SUST503=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["overloaded_503"])' "$tmp/cap.json")
RATE=$(awk -v c="${OF_SUST:+$SUST}" -v m="$CAP" -v f="$FACTOR" 'BEGIN { printf "%d", (c ? c : m) * f }')
log0=$(stat -c %s "$tmp/serve.log")
hz=$(getconf CLK_TCK)
cpu0=$(awk '{print $14 + $15}' "/proc/$server/stat")
timeout $((SECONDS_ + 120)) "${gen[@]}" --rate "$RATE" --count $((RATE * SECONDS_)) --duration "$SECONDS_" \
	--drain 60 --inflight 400000 --json >"$tmp/over.json" || true
cpu1=$(awk '{print $14 + $15}' "/proc/$server/stat")
log1=$(stat -c %s "$tmp/serve.log")
python3 - "$tmp/over.json" "$tmp/serve.log" "$CAP" "$RATE" "$QUOTA" "$SECONDS_" $((log1 - log0)) \
	$(((cpu1 - cpu0) * 1000 / hz)) "$SUST" "$SUST503" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
cap, rate, quota, secs, logb, cpu_ms, sust, sust503 = (float(a) for a in sys.argv[3:11])
shed = admitted = drops = 0
for line in open(sys.argv[2], errors="replace"):
    if '"overload":' in line:
        o = json.loads(line)["overload"]
        shed += o["shed"]; admitted += o["admitted"]; drops += o["kernel_drops"]
other = j["failed"] - j["unfinished"]
print(f"server CPU quota {quota:.0f} % of one core; capacity (bench --max) {cap:.0f} registrations/s; "
      f"that rate held for {secs:.0f} s completed {sust:.0f}/s (sustained capacity; {sust503:.0f} 503s "
      f"in that step: when not 0, it was itself overloaded and understates the capacity)")
print(f"overload: {rate:.0f} new registrations/s ({rate / cap:.1f} x capacity, {rate / max(sust, 1):.2f} x "
      f"sustained capacity) for {secs:.0f} s: {j['started']} started")
print(f"goodput while starting: {j['goodput']:.0f}/s = {j['goodput'] / cap:.3f} of capacity, "
      f"{j['goodput'] / max(sust, 1):.3f} of sustained capacity "
      f"({j['completed_while_starting']} completed in {j['send_s']:.2f} s)")
print(f"completed in all: {j['completed']} (in {j['elapsed_s']:.1f} s, drain included)")
print(f"503 + Retry-After received: {j['overloaded_503']}; started again after the wait: {j['retries_after_503']}")
print(f"failed for another reason: {other} (by status {j['failures_by_status']}, timeouts {j['timeouts']}); "
      f"still in flight at the end: {j['unfinished']}")
print(f"retransmissions: {j['retransmissions']} (first/second half {j['retransmissions_by_half']})")
print(f"server: shed {shed} (logged per second), admitted while overloaded {admitted}, kernel drops {drops}; "
      f"CPU {cpu_ms / 1000:.1f} s; log grew {logb / 1e6:.2f} MB")
print(f"p50/p99 of a whole registration: {j['latency_ms']['p50']:.1f} / {j['latency_ms']['p99']:.1f} ms")
EOF
