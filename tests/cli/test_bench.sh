#!/usr/bin/env bash
# sipwarden bench against a real `sipwarden serve` on a random loopback port
# (40000-49999) with 300 imported users: exact counts (checked against
# `sipwarden registrations`), induced failures (wrong passwords for a known
# subset), OPTIONS, a silent target (Timer F, retransmissions, bounded
# time), --max, usage errors. Every load is a few seconds.
. "$(dirname "$0")/serve_lib.sh"

# ports of this script's own range
bench_port() { free_port 40000 49999; }

PAT='user%05d@127.0.0.1:pw-user%05d'
B() { "$SIPWARDEN" bench "$@"; }
# jf FIELD-EXPR: evaluates over the JSON in $OUT
jf() { printf '%s' "$OUT" | json_q "$1" 2>/dev/null; }
# expect_eq DESC GOT WANT
expect_eq() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (got '$2', wanted '$3')"; fi; }

# ---- usage and could-not-run, no server needed
expect_exit 0 "--help exits 0" -- B --help
expect_match "--help documents the exit codes" "$OUT" 'exit codes: 0'
expect_exit 2 "no --target: usage error" -- B --user-pattern "$PAT"
expect_exit 2 "no users: usage error" -- B --target 127.0.0.1:5060
expect_exit 2 "--rate and --max together: usage error" -- B --target 127.0.0.1:5060 --user-pattern "$PAT" --rate 10 --max
expect_exit 3 "TCP with nothing listening: exit 3" -- B --target "127.0.0.1:$(bench_port)" --user-pattern "$PAT" --transport tcp
expect_match "and says the connection was refused" "$ERR" 'refused'
expect_exit 2 "--transport sctp: exit 2" -- B --target 127.0.0.1:5060 --user-pattern "$PAT" --transport sctp
expect_match "and says which transports there are" "$ERR" 'udp or tcp'
expect_exit 2 "a pattern with %s is refused" -- B --target 127.0.0.1:5060 --user-pattern 'u%s@d:p'
expect_exit 2 "unknown scenario: usage error" -- B --target 127.0.0.1:5060 --user-pattern "$PAT" --scenario invite
expect_exit 2 "--target without a port: usage error" -- B --target 127.0.0.1 --user-pattern "$PAT"
expect_exit 2 "--server-pid without --scenario call: usage error" -- B --target 127.0.0.1:5060 --user-pattern "$PAT" --server-pid $$
expect_exit 2 "--server-pid of no process: usage error" -- B --target 127.0.0.1:5060 --user-pattern "$PAT" --scenario call --server-pid 4194303
expect_match "and names it" "$ERR" 'no process 4194303'
expect_exit 2 "--server-pid not a number: usage error" -- B --target 127.0.0.1:5060 --user-pattern "$PAT" --scenario call --server-pid "$$,x"
expect_exit 3 "an unreadable users file: exit 3" -- B --target 127.0.0.1:5060 --users-file "$T/none.csv"
printf 'alice@127.0.0.1,x\nbroken line\n' >"$T/bad.csv"
expect_exit 3 "a malformed users file: exit 3 with the line" -- B --target 127.0.0.1:5060 --users-file "$T/bad.csv"
expect_match "the line number is named" "$ERR" 'bad.csv:2:'
expect_exit 3 "an unresolvable target: exit 3" -- timeout 30 "$SIPWARDEN" bench --target no-such-host.invalid:5060 --user-pattern "$PAT"

# ---- a silent target: Timer F with T1 = 50 ms (F = 3.2 s, 6 retransmissions each)
SILENT=$(bench_port)
start=$(date +%s%N)
expect_exit 1 "nothing listening: exit 1" -- B --target "127.0.0.1:$SILENT" --user-pattern "$PAT" --users 20 \
	--count 20 --rate 100 --t1 50 --json
el=$((($(date +%s%N) - start) / 1000000))
expect_eq "nothing listening: 20 timeouts" "$(jf 'j["timeouts"]')" 20
expect_eq "nothing listening: 20 failed, 0 completed" "$(jf '(j["failed"], j["completed"])')" "(20, 0)"
expect_eq "nothing listening: 6 retransmissions each (50, 100, ... 1600 ms)" "$(jf 'j["retransmissions"]')" 120
expect_eq "nothing listening: 140 requests sent" "$(jf 'j["requests"]')" 140
[ "$el" -ge 3000 ] && [ "$el" -lt 6000 ] && ok "Timer F ends it after 3.2 s + 0.2 s of starts (${el} ms)" ||
	not_ok "nothing listening took ${el} ms (wanted 3.2-6 s)"
# default T1: --duration 1 stops the starts, 4 s of drain, then 'unfinished'
start=$(date +%s%N)
expect_exit 1 "nothing listening, default T1, --duration 1: exit 1" -- B --target "127.0.0.1:$SILENT" \
	--user-pattern "$PAT" --users 50 --count 100000 --rate 50 --duration 1 --json
el=$((($(date +%s%N) - start) / 1000000))
[ "$el" -lt 7000 ] && ok "bounded: stopped after ${el} ms (1 s + 4 s drain)" || not_ok "took ${el} ms"
n=$(jf 'j["started"]'); u=$(jf 'j["unfinished"]')
[ -n "$n" ] && [ "$n" -ge 45 ] && [ "$n" -le 55 ] && [ "$u" = "$n" ] && ok "about 50 started in 1 s, all unfinished ($n, $u)" ||
	not_ok "started $n, unfinished $u"

# ---- a real server with 300 users
for i in $(seq 0 299); do printf 'user%05d@127.0.0.1,pw-user%05d\n' "$i" "$i"; done >"$T/users.csv"
SW_DB="$T/bench.db"
"$SIPWARDEN" user import "$T/users.csv" --db "$SW_DB" >/dev/null || not_ok "user import"
SW_PORT=$(bench_port)
# the runs with wrong passwords (hundreds of users failing from one address)
# are what the ban table stops: measure the load generator, not the bans
printf '[ban]\nenabled = no\n' >"$T/noban.conf"
sw_start bench --config "$T/noban.conf" || { finish; exit 1; }
TGT="127.0.0.1:$SW_PORT"
REGS() { "$SIPWARDEN" registrations --json --db "$SW_DB"; }

expect_exit 0 "100 registrations of users 0-99: exit 0" -- B --target "$TGT" --user-pattern "$PAT" --users 300 --count 100 --rate 500 --json
expect_eq "completed 100, failed 0" "$(jf '(j["completed"], j["failed"])')" "(100, 0)"
nb=$(REGS | json_q 'len(j)')
expect_eq "the server holds exactly 100 bindings" "$nb" 100
expect_eq "... of users 0-99, made by the bench" "$(REGS | json_q 'sorted(b["aor"] for b in j)[-1] + " " + str(set(b["user_agent"] for b in j))')" \
	"user00099@127.0.0.1 {'sipwarden-bench'}"

expect_exit 0 "--count 2000 --rate 500 register-auth: exit 0" -- B --target "$TGT" --user-pattern "$PAT" --users 300 --count 2000 --rate 500 --json
expect_eq "completed == 2000" "$(jf 'j["completed"]')" 2000
expect_eq "failed == 0, nothing unmatched" "$(jf '(j["failed"], j["stray"], j["malformed"])')" "(0, 0, 0)"
expect_eq "JSON has the fields" "$(jf 'all(k in j for k in ("completed","failed","retransmissions","rate")) and sorted(j["latency_ms"])')" \
	"['max', 'mean', 'n', 'p50', 'p90', 'p99', 'p999']"
expect_eq "latency percentiles are ordered" "$(jf '0 < j["latency_ms"]["p50"] <= j["latency_ms"]["p90"] <= j["latency_ms"]["p99"] <= j["latency_ms"]["p999"] <= j["latency_ms"]["max"]')" True
expect_eq "two legs of 2000 each" "$(jf '[l["n"] for l in j["legs"]]')" "[2000, 2000]"
expect_eq "4000 requests, 4000 responses (plus retransmissions)" \
	"$(jf 'j["requests"] - j["retransmissions"], j["responses"] >= 4000')" "(4000, True)"
r=$(jf 'j["rate"]')
expect_eq "the rate was held at about 500/s" "$(jf '450 <= j["rate"] <= 520 and j["rate_held"]')" True
expect_eq "the server now holds the 300 users' bindings (one each: the Contact has no port)" "$(REGS | json_q 'len(j)')" 300

# text report
expect_exit 0 "text report: exit 0" -- B --target "$TGT" --user-pattern "$PAT" --users 300 --count 200 --rate 1000
expect_match "text report: completed per second" "$OUT" 'completed registrations/s: [0-9]+'
expect_match "text report: latency of the first leg" "$OUT" 'REGISTER -> 401 +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +200'
expect_match "text report: latency of the second leg" "$OUT" 'REGISTER\+auth -> 200 +[0-9.]+'
expect_match "text report: latency of the whole registration" "$OUT" 'whole registration +[0-9.]+'
expect_match "text report: 200 completed" "$OUT" '200 started, 200 completed, 0 failed'

# induced failures: 30 of 300 users with a wrong password
awk -F, 'NR % 10 == 1 { print $1 ",wrong" ; next } { print }' "$T/users.csv" >"$T/mixed.csv"
expect_exit 1 "30 wrong passwords of 300: exit 1" -- B --target "$TGT" --users-file "$T/mixed.csv" --count 300 --rate 1000 --json
expect_eq "270 completed, 30 failed" "$(jf '(j["completed"], j["failed"])')" "(270, 30)"
expect_eq "the 30 failures are 401s, no timeouts" "$(jf '(j["failures_by_status"], j["timeouts"])')" "({'401': 30}, 0)"
expect_exit 1 "a wrong password pattern: exit 1" -- B --target "$TGT" --user-pattern 'user%05d@127.0.0.1:nope%05d' --users 300 --count 200 --rate 1000 --json

expect_eq "every registration failed with 401" "$(jf '(j["completed"], j["failed"], j["failures_by_status"])')" "(0, 200, {'401': 200})"

# unknown users get the same 401
expect_exit 1 "unknown users: exit 1, 401" -- B --target "$TGT" --user-pattern 'ghost%d@127.0.0.1:x' --users 10 --count 10 --rate 1000 --json
expect_eq "10 failures by 401" "$(jf 'j["failures_by_status"]')" "{'401': 10}"

# register without auth: this server challenges, so 401 is the failure
expect_exit 1 "scenario register against an authenticating server: exit 1" -- B --target "$TGT" --user-pattern "$PAT" --users 300 --count 50 --rate 1000 --scenario register --json
expect_eq "50 failures by 401" "$(jf '(j["completed"], j["failures_by_status"])')" "(0, {'401': 50})"

# OPTIONS
expect_exit 0 "options scenario: exit 0" -- B --target "$TGT" --user-pattern "$PAT" --users 300 --count 1000 --rate 1000 --scenario options --json
expect_eq "1000 OPTIONS completed, one leg" "$(jf '(j["completed"], j["failed"], j["scenario"], j["legs"][0]["n"], j["legs"][1]["n"])')" \
	"(1000, 0, 'options', 1000, 0)"

# calls with the server's CPU read around them (not its callees' registrations)
expect_exit 0 "call scenario with --server-pid: exit 0" -- B --target "$TGT" --user-pattern "$PAT" --users 20 --count 40 --rate 200 --scenario call --server-pid "$SW_PID,$SW_PID" --json
expect_eq "40 calls completed" "$(jf 'j["completed"]')" 40
expect_eq "the server's CPU time and CPU per call are reported, and agree" "$(jf 'j["server_cpu_s"] >= 0 and abs(j["server_cpu_us_per_call"] - j["server_cpu_s"] * 1e6 / 40) <= 0.1')" True
expect_exit 0 "and without it: exit 0" -- B --target "$TGT" --user-pattern "$PAT" --users 20 --count 4 --rate 100 --scenario call --json
expect_eq "no server CPU figure without --server-pid" "$(jf '"server_cpu_s" in j')" False

# two threads
expect_exit 0 "--threads 2: exit 0" -- B --target "$TGT" --user-pattern "$PAT" --users 300 --count 600 --rate 600 --threads 2 --json
expect_eq "--threads 2: 600 completed" "$(jf '(j["completed"], j["threads"])')" "(600, 2)"
expect_eq "--threads 2: still 300 bindings (one contact per user)" "$(REGS | json_q 'len(j)')" 300

# --max: bounded by --duration, reports the steps
start=$(date +%s%N)
OUT=$(B --target "$TGT" --user-pattern "$PAT" --users 300 --max --duration 5 --json 2>"$T/max.err"); rc=$?
el=$((($(date +%s%N) - start) / 1000000))
[ "$rc" -le 1 ] && ok "--max ran (exit $rc)" || not_ok "--max exit $rc: $(cat "$T/max.err")"
expect_eq "--max: steps and max_rate in the JSON" "$(jf 'len(j["steps"]) >= 1 and "max_rate" in j and j["steps"][0]["rate"] == 1000')" True
[ "$el" -lt 15000 ] && ok "--max --duration 5 stopped after ${el} ms" || not_ok "--max took ${el} ms"

sw_alive "the server still answers after the load"
# ---- TCP: one connection per thread, requests pipelined, no retransmissions
expect_exit 0 "TCP: 300 registrations over 2 threads: exit 0" -- B --target "$TGT" --user-pattern "$PAT" --users 300 \
	--count 300 --rate 1000 --threads 2 --transport tcp --json
expect_eq "TCP: completed 300, failed 0, no retransmissions, transport tcp" \
	"$(jf '(j["completed"], j["failed"], j["retransmissions"], j["transport"])')" "(300, 0, 0, 'tcp')"
expect_eq "TCP: 600 requests, 600 responses, nothing unmatched" \
	"$(jf '(j["requests"], j["responses"], j["stray"], j["malformed"])')" "(600, 600, 0, 0)"
expect_eq "TCP: 300 more bindings, made over TCP with Contact ;transport=tcp (the UDP ones stay)" \
	"$(REGS | json_q 'len(j), sum(b["transport"] == "tcp" and b["contact"].endswith(";transport=tcp") for b in j)')" "(600, 300)"
expect_exit 1 "TCP: 30 wrong passwords of 300: exit 1" -- B --target "$TGT" --users-file "$T/mixed.csv" --count 300 \
	--rate 1000 --transport tcp --json
expect_eq "TCP: 270 completed, 30 failed with 401, no timeouts" \
	"$(jf '(j["completed"], j["failed"], j["failures_by_status"], j["timeouts"])')" "(270, 30, {'401': 30}, 0)"

sw_stop
finish
