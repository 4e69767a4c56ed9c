#!/usr/bin/env bash
# Runs every test: the cmocka unit/corpus programs of the sanitized build,
# the ThreadSanitizer ones of build/tsan, the CLI scripts in tests/cli/
# against the sanitized binary ($SIPWARDEN_TSAN: the ThreadSanitizer one),
# then the fuzz targets for FUZZ_SECONDS each (30; `make fuzz`: 60). Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
B=${B:-build/asan}
export SIPWARDEN="$PWD/$B/sipwarden"
export SW_CORPUS="${SW_CORPUS:-$PWD/../shared/corpus}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
passed=0 failed=0 failed_names=()
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

# run_cmocka PREFIX DIR: every cmocka program in DIR; a crash, a sanitizer
# abort or a data race report (exit 66) counts as a failure
run_cmocka() {
	local t name out rc p f
	for t in "$2"/*; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		name="$1$(basename "$t")"
		out="$log/${name//:/_}.out"
		t0=$SECONDS
		timeout 600 "$t" >"$out" 2>&1
		rc=$?
		p=$(grep -Eo '^\[  PASSED  \] [0-9]+' "$out" | awk '{s+=$4} END {print s+0}')
		f=$(grep -Eo '^\[  FAILED  \] [0-9]+' "$out" | awk '{s+=$4} END {print s+0}')
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
		passed=$((passed + p)); failed=$((failed + f))
		if [ "$f" -ne 0 ]; then
			failed_names+=("$name"); echo "FAIL $name (exit $rc, $((SECONDS - t0)) s)"; tail -n 60 "$out"
		else
			echo "ok   $name ($p tests, $((SECONDS - t0)) s)"
		fi
	done
}
run_cmocka "" "$B/tests"
# ThreadSanitizer builds of the tests of what threads share (make V=tsan tsan-bins)
TSAN_OPTIONS="halt_on_error=1" run_cmocka "tsan:" build/tsan/tests
[ -x build/tsan/sipwarden ] && export SIPWARDEN_TSAN="$PWD/build/tsan/sipwarden"

for s in tests/cli/test_*.sh; do
	[ -f "$s" ] || continue
	name=$(basename "$s" .sh)
	out="$log/$name.out"
	t0=$SECONDS
	timeout 900 bash "$s" >"$out" 2>&1
	rc=$?
	p=$(grep -c '^ok ' "$out"); f=$(grep -c '^not ok ' "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	passed=$((passed + p)); failed=$((failed + f))
	if [ "$f" -ne 0 ]; then
		failed_names+=("$name"); echo "FAIL $name (exit $rc, $((SECONDS - t0)) s)"; grep -v '^ok ' "$out" | tail -n 40
	else
		echo "ok   $name ($p checks, $((SECONDS - t0)) s)"
	fi
done

if [ "${SKIP_FUZZ:-0}" != 1 ] && compgen -G "build/fuzz/fuzz/fuzz_*" >/dev/null; then
	out="$log/fuzz.out"
	FUZZ_SECONDS=${FUZZ_SECONDS:-30} tests/fuzz.sh >"$out" 2>&1
	p=$(grep -c '^ok ' "$out"); f=$(grep -c '^not ok ' "$out")
	passed=$((passed + p)); failed=$((failed + f))
	if [ "$f" -ne 0 ]; then failed_names+=(fuzz); cat "$out" | tail -n 60; fi
	grep -E '^(ok|not ok) ' "$out"
fi

[ ${#failed_names[@]} -gt 0 ] && echo "failed: ${failed_names[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
