#!/usr/bin/env bash
# Runs each libFuzzer target in build/fuzz/fuzz/ for FUZZ_SECONDS (two at a
# time: the machines have two cores), seeded by fuzz/seeds.sh; prints
# "ok - fuzz <target>" or "not ok - fuzz <target>" with the crash log.
set -u
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

run_one() {
	local bin=$1 name seeds
	name=$(basename "$bin")
	seeds="$work/$name.seeds"
	mkdir -p "$seeds"
	[ -x fuzz/seeds.sh ] && fuzz/seeds.sh "$name" "$seeds" >/dev/null 2>&1
	# a hang is a failure too: -timeout per input, and an outer bound
	if timeout $((secs + 120)) "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-max_len=8192 -artifact_prefix="$work/$name-" -print_final_stats=1 "$seeds" \
		>"$work/$name.log" 2>&1; then
		echo "ok - fuzz $name ${secs}s: $(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$work/$name.log" | grep -Eo '[0-9]+$') inputs" >"$work/$name.result"
	else
		# keep the input that failed, for the fix and a regression test
		mkdir -p build/fuzz/artifacts
		cp "$work/$name"-* build/fuzz/artifacts/ 2>/dev/null
		{ echo "not ok - fuzz $name (inputs kept in build/fuzz/artifacts/)"; tail -n 60 "$work/$name.log"; } >"$work/$name.result"
	fi
}

running=0
for bin in build/fuzz/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	run_one "$bin" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait
cat "$work"/*.result 2>/dev/null
