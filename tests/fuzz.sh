#!/usr/bin/env bash
# Runs each libFuzzer target in build/fuzz/fuzz/ for FUZZ_SECONDS, seeded
# from fuzz/seeds.sh; prints "ok - <target>" or "not ok - <target>".
set -u
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-60}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
for bin in build/fuzz/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	seeds="$work/$name.seeds"; mkdir -p "$seeds"
	fuzz/seeds.sh "$name" "$seeds"
	if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
		-artifact_prefix="$work/$name-" -print_final_stats=1 "$seeds" >"$work/$name.log" 2>&1; then
		echo "ok - fuzz $name ${secs}s: $(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$work/$name.log" | grep -Eo '[0-9]+$') runs"
	else
		echo "not ok - fuzz $name"
		tail -n 50 "$work/$name.log"
	fi
done
