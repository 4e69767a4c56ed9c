#!/usr/bin/env bash
# A smoke run of bench/compare-kamailio.sh (issue 7): 200 users, one short load
# step per server (sipwarden, Kamailio with auth_db, Kamailio with htable), sipp
# as a cross-check, then calls through sipwarden's proxy and Kamailio's (tm, rr,
# registrar, htable); both tables must be complete. Kamailio is installed by
# scripts/deps.sh (kamailio, kamailio-sqlite-modules): when it cannot be installed
# or started this test fails and says why, it does not skip. About 25 s.
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.."

SW=$SIPWARDEN
case $SW in /*) ;; *) SW=$PWD/$SW ;; esac

# its own temporary directory, so that "every process is gone" means its own
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
start=$(date +%s)
# (the script installs Kamailio when it is missing, and says so when it cannot)
OUT=$(SIPWARDEN=$SW TMPDIR=$work timeout 120 bench/compare-kamailio.sh --smoke 2>"$work/err")
rc=$?
ERR=$(cat "$work/err")
if command -v kamailio >/dev/null; then ok "kamailio is installed ($(kamailio -v 2>/dev/null | head -n 1))"
else not_ok "kamailio is installed (it is not, and could not be: $(printf '%s' "$ERR" | tail -n 5))"; fi
took=$(($(date +%s) - start))
if [ "$rc" -eq 0 ]; then ok "--smoke exits 0 (every server answered, the table is complete)"
else not_ok "--smoke exits 0 (exit $rc; its messages: $(printf '%s' "$ERR" | tail -n 25))"; fi
if [ "$took" -le 60 ]; then ok "--smoke took ${took} s (bounded)"; else not_ok "--smoke took ${took} s, more than 60"; fi

expect_match "the table names the three servers" "$OUT" \
	'\| sipwarden \(durable SQLite, group commit\) \| Kamailio auth_db \(HA1 from SQLite; usrloc in memory\) \| Kamailio htable \(HA1 in memory; usrloc in memory\) \| sipwarden / auth_db \| sipwarden / htable \|'
num='[0-9][0-9.]*'
expect_match "row: registrations/s, three servers and two ratios" "$OUT" \
	"^\| authenticated registrations/s [^|]*\| $num \| $num \| $num \| $num \| $num \|"
expect_match "row: server CPU per registration, every registration completed" "$OUT" \
	"^\| server CPU µs per registration [^|]*\| $num \(2000/2000\) \| $num \(2000/2000\) \| $num \(2000/2000\) \| $num \| $num \|"
expect_match "row: p99 latency" "$OUT" \
	"^\| p99 latency of the whole registration [^|]*\| $num \| $num \| $num \| $num \| $num \|"
if command -v sipp >/dev/null; then
	expect_match "row: sipp cross-check, every call succeeded" "$OUT" \
		"^\| sipp cross-check: server CPU µs per registration [^|]*\| $num \(200/200\) \| $num \(200/200\) \| $num \(200/200\) \| $num \| $num \|"
else
	not_ok "sipp is not installed (scripts/deps.sh installs sip-tester): no cross-check row"
fi
expect_match "row: memory after the bindings, bytes per binding" "$OUT" \
	"^\| server memory \(PSS\) after 200 bindings[^|]*\| $num MB; -?$num B/binding \| $num MB; -?$num B/binding \| $num MB; -?$num B/binding \| -?$num \| -?$num \|"
expect_match "the modes are stated next to the table" "$OUT" 'usrloc in memory \(db_mode 0'
expect_match "the calls table names sipwarden's proxy and Kamailio's" "$OUT" \
	'\| sipwarden \(stateful proxy, events and calls recorded\) \| Kamailio \(tm, rr, registrar lookup, pv_auth_check, HA1 in an htable\) \| sipwarden / Kamailio \|'
expect_match "calls row: calls/s, both servers and the ratio" "$OUT" "^\| calls/s [^|]*\| $num \| $num \| $num \|"
expect_match "calls row: server CPU per call, every call completed" "$OUT" \
	"^\| server CPU µs per call [^|]*\| $num \(400/400\) \| $num \(400/400\) \| $num \|"
expect_match "calls row: p99 of the call setup" "$OUT" "^\| p99 call setup[^|]*\| $num \| $num \| $num \|"
if printf '%s\n' "$OUT" | grep -q '^|.*—'; then not_ok "no cell is empty ('—')"; else ok "no cell is empty ('—')"; fi

# it stopped every process it started (each runs from its temporary directory)
if pgrep -f "$work/compare-kamailio" >/dev/null; then
	not_ok "every process it started is gone ($(pgrep -af "$work/compare-kamailio" | head -n 3))"
else
	ok "every process it started is gone"
fi
if compgen -G "$work/compare-kamailio.*" >/dev/null; then
	not_ok "its temporary directory is removed ($(ls -d "$work"/compare-kamailio.*))"
else
	ok "its temporary directory is removed"
fi

# usage
expect_exit 2 "an unknown option is a usage error" -- bench/compare-kamailio.sh --bogus
finish
