# Helpers for CLI test scripts: each check prints "ok - ..." or "not ok - ...".
# $SIPWARDEN is the binary under test (set by tests/run.sh).
: "${SIPWARDEN:=./sipwarden}"
: "${SW_CORPUS:=../shared/corpus}"
TESTDATA="$(cd "$(dirname "${BASH_SOURCE[0]}")/../data" && pwd)"
_fails=0

ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1"; _fails=$((_fails + 1)); }

# expect_exit CODE DESC -- CMD...   runs CMD, captures stdout in $OUT, stderr in $ERR
expect_exit() {
	local want=$1 desc=$2; shift 3
	OUT=$("$@" 2>/tmp/sw_cli_err.$$); local rc=$?
	ERR=$(cat /tmp/sw_cli_err.$$); rm -f /tmp/sw_cli_err.$$
	if [ "$rc" -eq "$want" ]; then ok "$desc"; else not_ok "$desc (exit $rc, wanted $want; stderr: ${ERR:0:300})"; fi
}

# expect_match DESC TEXT REGEX
expect_match() {
	if printf '%s' "$2" | grep -Eq -- "$3"; then ok "$1"; else not_ok "$1 (no match for /$3/ in: ${2:0:400})"; fi
}

finish() { [ "$_fails" -eq 0 ]; }
