#!/usr/bin/env bash
# Progress on a terminal, quiet otherwise: `sipwarden user import` of a large
# file (hashing, then writing) and `sipwarden bench` show "\r"-rewritten
# progress on standard error when it is a terminal (here the pseudo-terminal
# of `script` from util-linux) and write nothing there when it is not.
. "$(dirname "${BASH_SOURCE[0]}")/serve_lib.sh"

if ! command -v script >/dev/null; then
	echo "# SKIP script (util-linux) is missing"
	exit 0
fi
# on_tty CMD...: runs CMD with a terminal as stdin/stdout/stderr; its output
# (stdout and stderr together, with the terminal's \r\n) on stdout, its exit code
on_tty() { script -qec "$(printf '%q ' "$@")" /dev/null </dev/null; }

# ---- user import: 12,000 users (progress is shown from 10,000)
python3 -c 'for i in range(12000): print("u%05d@example.com,pw-%d" % (i, i))' >"$T/users.csv"
"$SIPWARDEN" user import "$T/users.csv" --db "$T/quiet.db" >"$T/quiet.out" 2>"$T/quiet.err"; rc=$?
expect_match "import, stderr not a terminal: done" "$rc $(cat "$T/quiet.out")" '^0 imported 12000 users'
expect_match "... and nothing on stderr" "$(wc -c <"$T/quiet.err")" '^0$'
on_tty "$SIPWARDEN" user import "$T/users.csv" --db "$T/tty.db" >"$T/tty.out"; rc=$?
out=$(tr '\r' '\n' <"$T/tty.out")
expect_match "import on a terminal: done" "$rc $(grep imported <<<"$out")" '^0 imported 12000 users'
expect_match "... with hashing progress" "$out" '^  import: hashing +[0-9]+% \([0-9]+ of 12000\)'
expect_match "... and writing progress" "$out" '^  import: writing +[0-9]+% \([0-9]+ of 12000\)'
n=$(grep -c '^  import: ' <<<"$out")
[ "$n" -ge 4 ] && [ "$n" -le 210 ] && ok "... at most one line per percent and phase ($n)" || not_ok "progress lines: $n"
expect_match "... and the line is cleared before the result" "$out" '^ +$'
expect_match "both databases hold the users" \
	"$("$SIPWARDEN" user list --db "$T/quiet.db" | wc -l) $("$SIPWARDEN" user list --db "$T/tty.db" | wc -l)" \
	'^1200[0-9] 1200[0-9]$'
printf 'a@example.com,x\nb@example.com,y\n' >"$T/small.csv"
on_tty "$SIPWARDEN" user import "$T/small.csv" --db "$T/small.db" >"$T/small.out"
expect_match "a small import shows no progress, even on a terminal" "$(tr '\r' '\n' <"$T/small.out" | grep -c 'import:')" '^0$'

# ---- bench: OPTIONS at 250/s for 2 s against a server
SW_PORT=$(free_port 45000 45499)
sw_start pg || exit 1
"$SIPWARDEN" bench --target "127.0.0.1:$SW_PORT" --user-pattern 'u%d@127.0.0.1:p' --users 10 \
	--scenario options --count 500 --rate 250 >"$T/b.out" 2>"$T/b.err"; rc=$?
expect_match "bench, stderr not a terminal: 500 completed" "$rc $(grep started, "$T/b.out")" '^0 .*500 completed'
expect_match "... and nothing on stderr" "$(wc -c <"$T/b.err")" '^0$'
on_tty "$SIPWARDEN" bench --target "127.0.0.1:$SW_PORT" --user-pattern 'u%d@127.0.0.1:p' --users 10 \
	--scenario options --count 500 --rate 250 >"$T/bt.out"; rc=$?
out=$(tr '\r' '\n' <"$T/bt.out")
expect_match "bench on a terminal: 500 completed" "$rc $(grep '^transactions: ' <<<"$out")" '^0 .*500 completed'
lines=$(grep -E '^  [0-9]+\.[0-9] s: [0-9]+ started, [0-9]+ completed, [0-9]+ failed' <<<"$out")
n=$(grep -c . <<<"$lines")
[ "$n" -ge 4 ] && [ "$n" -le 20 ] && ok "... with progress lines about four a second ($n in 2 s)" ||
	not_ok "bench progress lines: $n ($(head -c 300 <<<"$out"))"
mid=$(awk '$3 > 0 && $3 < 500 { print; exit }' <<<"$lines")
[ -n "$mid" ] && ok "... counting up while it runs ($mid)" || not_ok "no progress line between 0 and 500 started"
sw_stop
finish
