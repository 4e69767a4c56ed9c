#!/usr/bin/env bash
# sipwarden against Kamailio under the identical load, one table (issue 7).
#
#   bench/compare-kamailio.sh [--quick | --smoke] [--users N] [--server-cpus LIST]
#                             [--gen-cpus LIST] [--no-sipp] [--calls-only]
#
# Servers, each started on 127.0.0.1 (a random free UDP port) in turn:
#   sipwarden      its defaults: durable SQLite (WAL, synchronous=FULL), group commit
#   kam-authdb     Kamailio 5.6: HA1 read by auth_db from SQLite, usrloc in memory
#   kam-htable     Kamailio 5.6: HA1 in an htable loaded from SQLite at start,
#                  pv_auth_check (its fastest), usrloc in memory
# All: REGISTER -> 401 (MD5, qop=auth) -> REGISTER with digest -> 200, the same N
# users (default 10,000) user00000@127.0.0.1 / pw-user00000 ..., one UDP worker per
# server core (sipwarden --workers N, Kamailio -n N). The server is pinned to the
# first half of the CPUs, the generator (`sipwarden bench`, sipp as a cross-check)
# to the other half. Server CPU = utime+stime of all its processes (/proc/PID/stat);
# memory = PSS summed over all its processes (/proc/PID/smaps_rollup).
#
# Rows: max sustained authenticated registrations/s (`sipwarden bench --max`);
# server CPU per registration and p99 latency at 5,000 reg/s; the same CPU measured
# with sipp at 5,000 reg/s; memory after 100,000 and 1,000,000 registered bindings
# (one binding per user: a server restarted with 1,000,000 users provisioned).
#   --quick   skips the 1,000,000-binding row (about 4 minutes)
#   --smoke   tiny: 200 users, one 2-second step at 1,000/s per server, sipp 1 s,
#             memory after 200 bindings (< 30 s); exit 0 when every server answered
#             every registration and the table is complete
# Then calls (issue 13), in a second table: sipwarden as an authenticating
# stateful proxy against Kamailio 5.6 with tm, rr, registrar lookup and
# pv_auth_check over HA1 in an htable (bench/kamailio/proxy.cfg), both driven by
# `sipwarden bench --scenario call` (INVITE -> 407 -> ACK -> INVITE with digest
# -> 100/180/200 -> ACK -> BYE -> 200 through the proxy, 16 datagrams; the
# callees registered by the bench): server CPU µs per call at 1,500 calls/s (the median of three
# steps; the bench reads the server's CPU time once its callees have registered and again before
# they unregister: `bench --server-pid`; the figure with those registrations is shown too),
# p99 of the call setup (first INVITE to its 200) at 500 calls/s, and the
# highest call rate with >= 99.9 % completed (3-s steps from 500/s, doubling,
# then bisecting). --calls-only runs just this table (about 2 minutes).
# The full run takes about 14 minutes. Loopback only; every run has a count and
# a time limit; every process started here is stopped on exit.
#
# Kamailio is installed from Debian when missing (kamailio,
# kamailio-sqlite-modules). SIPWARDEN=path selects the binary (default: ./sipwarden,
# built with `make all`).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

MODE=full USERS=10000 SIPP=1 SCPUS="" GCPUS="" CALLS_ONLY=0
while [ $# -gt 0 ]; do
	case $1 in
	--quick) MODE=quick ;;
	--smoke) MODE=smoke ;;
	--users) USERS=$2; shift ;;
	--server-cpus) SCPUS=$2; shift ;;
	--gen-cpus) GCPUS=$2; shift ;;
	--no-sipp) SIPP=0 ;;
	--calls-only) CALLS_ONLY=1 ;;
	-h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "compare-kamailio: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done

die() { echo "compare-kamailio: $*" >&2; exit 1; }
log() { echo "# $*" >&2; }

# ---- what each mode runs
RATE=5000         # the fixed-rate step: CPU per registration and p99
STEP_S=5          # seconds of that step
MAX_S=24          # --max search budget
SIPP_RATE=5000 SIPP_S=4
B1=100000 B2=1000000   # bindings rows
CALL_RATE=1500 CALL_S=4 CALL_P99_RATE=500 CALL_MAX=1 CALL_USERS=1000 CALL_REPS=3
if [ "$MODE" = quick ]; then B2=0; fi
if [ "$MODE" = smoke ]; then
	USERS=200 RATE=1000 STEP_S=2 MAX_S=0 SIPP_RATE=200 SIPP_S=1 B1=200 B2=0
	CALL_RATE=200 CALL_S=2 CALL_P99_RATE=100 CALL_MAX=0 CALL_USERS=200 CALL_REPS=1
fi
[ "$USERS" -ge 1 ] 2>/dev/null || die "--users wants a positive number"

# ---- CPUs: server gets the first half, the generator the rest
ncpu=$(nproc)
if [ -z "$SCPUS" ]; then
	if [ "$ncpu" -ge 2 ]; then SCPUS="0-$((ncpu / 2 - 1))"; GCPUS="${GCPUS:-$((ncpu / 2))-$((ncpu - 1))}"
	else SCPUS=0; GCPUS=${GCPUS:-0}; fi
fi
[ -n "$GCPUS" ] || die "--server-cpus needs --gen-cpus"
cpus_in() { # count the CPUs of a taskset list such as 0-3,6
	local n=0 part a b
	for part in ${1//,/ }; do
		a=${part%-*} b=${part#*-}; n=$((n + b - a + 1))
	done
	echo $n
}
WORKERS=$(cpus_in "$SCPUS")

# ---- tools
command -v python3 >/dev/null || die "python3 is needed (provisioning, JSON)"
python3 -c 'import sqlite3, hashlib, json' || die "python3 lacks sqlite3/hashlib/json"
command -v taskset >/dev/null || die "taskset (util-linux) is needed"
if [ -z "${SIPWARDEN:-}" ]; then
	make -s all >/dev/null || die "make all failed"
	SIPWARDEN=$ROOT/sipwarden
fi
[ -x "$SIPWARDEN" ] || die "no sipwarden binary at $SIPWARDEN"
if [ "$SIPP" = 1 ] && ! command -v sipp >/dev/null; then
	log "sipp is missing (scripts/deps.sh installs sip-tester): the sipp row is left out"
	SIPP=0
fi

KMODS=/usr/lib/x86_64-linux-gnu/kamailio/modules
kam_ok() { command -v kamailio >/dev/null && [ -e "$(kam_moddir)/db_sqlite.so" ]; }
kam_moddir() {
	local d
	for d in "$KMODS" /usr/lib/*/kamailio/modules /usr/lib/kamailio/modules /usr/local/lib*/kamailio/modules; do
		[ -e "$d/registrar.so" ] && { echo "$d"; return; }
	done
	echo "$KMODS"
}
if ! kam_ok; then
	log "installing kamailio and kamailio-sqlite-modules from Debian"
	SUDO=""
	[ "$(id -u)" -ne 0 ] && SUDO="sudo"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-cache show kamailio-sqlite-modules >/dev/null 2>&1; then
		$SUDO apt-get update -qq || log "apt-get update failed"
	fi
	$SUDO apt-get install -y -qq kamailio kamailio-sqlite-modules </dev/null >&2 ||
		die "could not install kamailio kamailio-sqlite-modules (apt-get install failed)"
	kam_ok || die "kamailio is installed but db_sqlite.so was not found"
fi
KVER=$(kamailio -v 2>/dev/null | sed -n 's/^version: kamailio \([^ ]*\).*/\1/p')

# ---- bookkeeping: every process started here is stopped on exit
TMP=$(mktemp -d "${TMPDIR:-/tmp}/compare-kamailio.XXXXXX")
SERVER_PID=""
tree_pids() { # PID and all its descendants
	local p c
	for p in "$@"; do
		[ -d "/proc/$p" ] || continue
		echo "$p"
		for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do tree_pids "$c"; done
	done
}
stop_server() {
	[ -n "$SERVER_PID" ] || return 0
	local pids i
	pids=$(tree_pids "$SERVER_PID")
	# shellcheck disable=SC2086
	[ -n "$pids" ] && kill -TERM $pids 2>/dev/null
	for i in $(seq 200); do   # Kamailio frees 1,000,000 bindings for a while
		pids=$(tree_pids "$SERVER_PID"); [ -z "$pids" ] && break
		sleep 0.1
	done
	# shellcheck disable=SC2086
	[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
	wait "$SERVER_PID" 2>/dev/null
	SERVER_PID=""
}
cleanup() {
	stop_server
	# any kamailio that was ours and still runs (pid files in our runtime dirs)
	local f p
	for f in "$TMP"/*/kamailio.pid; do
		[ -f "$f" ] || continue
		p=$(cat "$f"); [ -n "$p" ] && kill -KILL "$p" 2>/dev/null
	done
	local j
	for j in $(jobs -p); do kill "$j" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	python3 - <<'PY'
import random, socket, sys
for _ in range(200):
    p = random.randint(20000, 59999)
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", p)); s.close()
    except OSError:
        continue
    print(p); sys.exit(0)
sys.exit(1)
PY
}
server_pids() { tree_pids "$SERVER_PID" | tail -n +2; }   # without the timeout wrapper
cpu_ticks() { # utime+stime of the server and its processes, in clock ticks
	local p t=0 v
	for p in $(server_pids); do
		v=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null) && t=$((t + v))
	done
	echo $t
}
pss_kb() { # PSS summed over the server's processes, kB
	local p t=0 v
	for p in $(server_pids); do
		v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null) && t=$((t + ${v:-0}))
	done
	echo $t
}
HZ=$(getconf CLK_TCK)
jget() { # jget JSON EXPR   (EXPR in Python over j)
	python3 -c 'import json,sys; j=json.loads(sys.argv[1]); v=eval(sys.argv[2]); print("" if v is None else v)' "$1" "$2" 2>/dev/null
}

# ---- users: one CSV (sipwarden import and bench --users-file), one SQLite db
# for Kamailio (subscriber for auth_db, htable for the htable setup)
DOMAIN=127.0.0.1
provision() { # provision DIR COUNT
	mkdir -p "$1"
	python3 - "$1" "$2" "$DOMAIN" "$ROOT/bench/kamailio/schema.sql" <<'PY' || die "provisioning failed"
import hashlib, sqlite3, sys
d, n, dom, schema = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
rows = []
with open(d + "/users.csv", "w") as f:
    for i in range(n):
        u = "user%05d" % i
        pw = "pw-" + u
        f.write("%s@%s,%s\n" % (u, dom, pw))
        rows.append((u, dom, hashlib.md5(("%s:%s:%s" % (u, dom, pw)).encode()).hexdigest()))
db = sqlite3.connect(d + "/kamailio.db")
db.execute("PRAGMA journal_mode=DELETE")
with open(schema) as f:  # the schema of Kamailio 5.6
    db.executescript(f.read())
db.executemany("INSERT INTO subscriber (username, domain, ha1) VALUES (?, ?, ?)", rows)
db.executemany("INSERT INTO htable (key_name, key_type, value_type, key_value) VALUES (?, 0, 0, ?)",
               ((u, h) for u, _, h in rows))
db.commit()
PY
}

# ---- servers
SERVERS="sipwarden kam-authdb kam-htable"
declare -A LABEL=(
	[sipwarden]="sipwarden (durable SQLite, group commit)"
	[kam-authdb]="Kamailio auth_db (HA1 from SQLite; usrloc in memory)"
	[kam-htable]="Kamailio htable (HA1 in memory; usrloc in memory)"
)
PORT=""
# start_server NAME USERDIR TIME_LIMIT: sets SERVER_PID, PORT; 1 when it never bound
start_server() {
	local name=$1 ud=$2 limit=$3 run="$TMP/run-$1-$RANDOM" i
	mkdir -p "$run"
	PORT=$(free_port) || die "no free port"
	case $name in
	sipwarden)
		cp "$ud/sipwarden.db" "$run/sw.db" || return 1
		timeout -k 3 "$limit" taskset -c "$SCPUS" "$SIPWARDEN" serve --db "$run/sw.db" \
			--domain "$DOMAIN" --listen "udp:127.0.0.1:$PORT" --workers "$WORKERS" \
			>/dev/null 2>"$run/stderr" &
		;;
	kam-*)
		local def=WITH_AUTHDB users nb=10
		[ "$name" = kam-htable ] && def=WITH_HTABLE
		users=$(wc -l <"$ud/users.csv")
		while [ $((1 << nb)) -lt "$users" ] && [ "$nb" -lt 20 ]; do nb=$((nb + 1)); done
		# shared memory ~2.5 kB per user (htable + usrloc); private memory holds the
		# whole SQLite result while the htable loads (~0.5 kB per row)
		local shm=256 pkg=32
		[ "$users" -gt 20000 ] && shm=$((256 + users / 400)) pkg=$((64 + users / 1000))
		local cfgfile=registrar.cfg
		[ "$name" = kam-proxy ] && cfgfile=proxy.cfg def=WITH_HTABLE
		timeout -k 3 "$limit" taskset -c "$SCPUS" kamailio -f "$ROOT/bench/kamailio/$cfgfile" \
			-DD -E -n "$WORKERS" -l "udp:127.0.0.1:$PORT" -A "$def" \
			-A "DBURL=\"sqlite:///$ud/kamailio.db\"" \
			-A "HTSPEC=\"ha1=>size=$nb;autoexpire=0;dbtable=htable;\"" \
			-m "$shm" -M "$pkg" -P "$run/kamailio.pid" -Y "$run" -w "$run" -L "$(kam_moddir)" \
			>/dev/null 2>"$run/stderr" &
		;;
	esac
	SERVER_PID=$!
	for i in $(seq 300); do
		if ss -Hlun "sport = :$PORT" 2>/dev/null | grep -q .; then
			sleep 0.3   # workers forked, htable loaded
			return 0
		fi
		[ -d "/proc/$SERVER_PID" ] || break
		sleep 0.1
	done
	log "$name did not start on udp:127.0.0.1:$PORT; its stderr:"
	tail -n 15 "$run/stderr" >&2
	stop_server
	return 1
}

# bench ARGS... : sipwarden bench on the generator CPUs, JSON on stdout
bench() {
	local budget=$1; shift
	timeout -k 3 "$budget" taskset -c "$GCPUS" "$SIPWARDEN" bench --target "127.0.0.1:$PORT" --json "$@" 2>/dev/null
}

declare -A R   # results: R[name,key]
FAIL=0

run_load() { # run_load NAME USERDIR
	local name=$1 ud=$2 out t0 t1 limit
	limit=$((MAX_S + STEP_S + SIPP_S + 180))
	start_server "$name" "$ud" "$limit" || { FAIL=1; return; }
	log "$name: load on udp:127.0.0.1:$PORT, server CPUs $SCPUS ($WORKERS worker(s)), generator CPUs $GCPUS"
	# 0. every user registered once, so that what follows measures refreshes
	out=$(bench 60 --users-file "$ud/users.csv" --count "$USERS" --rate "$RATE" --duration 20)
	[ "$(jget "$out" 'j["completed"]')" = "$USERS" ] || log "$name: warm-up: $(jget "$out" 'j["completed"]') of $USERS registered"
	# 1. fixed rate: CPU per registration and p99
	local count=$((RATE * STEP_S))
	t0=$(cpu_ticks)
	out=$(bench $((STEP_S + 30)) --users-file "$ud/users.csv" --count "$count" --rate "$RATE" --duration $((STEP_S + 2)))
	t1=$(cpu_ticks)
	local done_=$(jget "$out" 'j["completed"]')
	R[$name,step_ok]="${done_:-0}/$count"
	if [ -n "$done_" ] && [ "$done_" -gt 0 ]; then
		R[$name,cpu]=$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v n="$done_" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}')
		R[$name,p99]=$(jget "$out" '"%.2f" % j["latency_ms"]["p99"]')
		R[$name,steprate]=$(jget "$out" '"%.0f" % j["rate"]')
	fi
	[ "${done_:-0}" = "$count" ] || { log "$name: ${done_:-0} of $count registrations completed at $RATE/s"; FAIL=1; }
	# 2. sipp at a rate it sustains, as a cross-check of the CPU figure
	if [ "$SIPP" = 1 ]; then
		local n=$((SIPP_RATE * SIPP_S)) sp=$(free_port)
		python3 - "$ud/users.csv" "$TMP/sipp_users.csv" <<'PY'
import sys
with open(sys.argv[1]) as f, open(sys.argv[2], "w") as o:
    o.write("SEQUENTIAL\n")
    for line in f:
        ua, pw = line.rstrip("\n").split(",", 1)
        u, d = ua.split("@")
        o.write("%s;%s;[authentication username=%s password=%s]\n" % (u, d, u, pw))
PY
		rm -f "$TMP/sipp_stat.csv"
		t0=$(cpu_ticks)
		(cd "$TMP" && timeout -k 3 $((SIPP_S + 40)) taskset -c "$GCPUS" sipp "127.0.0.1:$PORT" \
			-sf "$ROOT/tests/sipp/register_users.xml" -inf sipp_users.csv -m "$n" -r "$SIPP_RATE" \
			-l 5000 -i 127.0.0.1 -p "$sp" -nostdin -trace_stat -stf sipp_stat.csv \
			-timeout $((SIPP_S + 30))s >/dev/null 2>&1)
		t1=$(cpu_ticks)
		local ok_
		ok_=$(tail -n 1 "$TMP/sipp_stat.csv" 2>/dev/null | awk -F';' '{print $16}')
		R[$name,sipp_ok]="${ok_:-0}/$n"
		if [ -n "$ok_" ] && [ "$ok_" -gt 0 ]; then
			R[$name,sipp]=$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v n="$ok_" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}')
		fi
		[ "${ok_:-0}" = "$n" ] || log "$name: sipp: ${ok_:-0} of $n calls succeeded"
	fi
	# 3. max (last: a saturated server keeps a queue for a while) sustained rate
	if [ "$MAX_S" -gt 0 ]; then
		out=$(bench $((MAX_S + 30)) --users-file "$ud/users.csv" --max --duration "$MAX_S" --count 100000000)
		R[$name,max]=$(jget "$out" '"%.0f" % j["max_rate"]')
		[ -n "${R[$name,max]}" ] || log "$name: --max found no rate"
	else
		R[$name,max]=${R[$name,steprate]:-}
	fi
	stop_server
}

run_bindings() { # run_bindings NAME USERDIR: memory at B1 and B2 bindings
	local name=$1 ud=$2 base out fill limit n
	fill=${R[$name,max]:-$RATE}
	fill=$((fill * 7 / 10)); [ "$fill" -gt 10000 ] && fill=10000; [ "$fill" -lt 1000 ] && fill=1000
	[ "$MODE" = smoke ] && fill=$RATE
	local total=$((B2 > 0 ? B2 : B1))
	limit=$((total / fill * 2 + 200))
	start_server "$name" "$ud" "$limit" || { FAIL=1; return; }
	base=$(pss_kb)
	R[$name,pss0]=$base
	R[$name,nproc]=$(server_pids | wc -l)
	local prev=0 b
	for b in $B1 $B2; do
		[ "$b" -gt 0 ] || continue
		n=$((b - prev))
		sed -n "$((prev + 1)),${b}p" "$ud/users.csv" >"$TMP/batch.csv"
		log "$name: registering users $prev..$((b - 1)) at $fill/s"
		out=$(bench $((n / fill * 2 + 60)) --users-file "$TMP/batch.csv" --count "$n" --rate "$fill" --duration $((n / fill * 2 + 10)))
		local c=$(jget "$out" 'j["completed"]')
		R[$name,bind$b]=$((${R[$name,bind$prev]:-0} + ${c:-0}))
		sleep 1
		R[$name,pss$b]=$(pss_kb)
		[ "${c:-0}" = "$n" ] || { log "$name: ${c:-0} of $n new bindings registered"; [ "$MODE" = smoke ] && FAIL=1; }
		prev=$b
	done
	stop_server
}

# ---- table helpers
ratio() { # sipwarden / other
	awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "—"; else printf "%.2f", a / b }'
}
cell() { [ -n "$1" ] && echo "$1" || echo "—"; }
mem_cell() { # kB, bindings, base kB
	[ -n "$1" ] && [ -n "$2" ] && [ "$2" -gt 0 ] || { echo "—"; return; }
	awk -v k="$1" -v n="$2" -v b="$3" 'BEGIN {printf "%.1f MB; %.0f B/binding", k / 1024, (k - b) * 1024 / n}'
}
per_binding() { awk -v k="$1" -v n="$2" -v b="$3" 'BEGIN { if (n > 0) printf "%.1f", (k - b) * 1024 / n }'; }
fmtn() { echo "$1" | sed ':a; s/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/; ta'; }
row() { # row LABEL SW AUTHDB HTABLE [RATIO_SW RATIO_AUTHDB RATIO_HTABLE]
	printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$(cell "$2")" "$(cell "$3")" "$(cell "$4")" \
		"$(ratio "${5-$2}" "${6-$3}")" "$(ratio "${5-$2}" "${7-$4}")"
}
MISSING=0
need() { for k in "$@"; do [ -n "${R[$k]:-}" ] || MISSING=$((MISSING + 1)); done; }

# call_step NAME RATE SECONDS: one fixed-rate step of calls; sets CS_OK (completed/started),
# CS_CPU (server CPU µs per completed call), CS_P99 (setup p99, ms), CS_DONE, CS_COUNT
call_step() {
	local n=$(($2 * $3)) t0 t1 out pids
	pids=$(server_pids | paste -sd, -)
	t0=$(cpu_ticks)
	out=$(bench $(($3 + 60)) --user-pattern 'user%05d@127.0.0.1:pw-user%05d' --users "$CALL_USERS" \
		--scenario call --count "$n" --rate "$2" --duration $(($3 + 2)) ${pids:+--server-pid "$pids"})
	t1=$(cpu_ticks)
	CS_DONE=$(jget "$out" 'j["completed"]') CS_COUNT=$n
	CS_OK="${CS_DONE:-0}/$n"
	CS_CPU="" CS_P99="" CS_CPU_ALL=""
	if [ -n "$CS_DONE" ] && [ "$CS_DONE" -gt 0 ]; then
		# the calls alone (the bench reads the server's CPU time after its callees have
		# registered and before they unregister), and the whole step with those
		# registrations, as measured before
		CS_CPU=$(jget "$out" '"%.1f" % j["server_cpu_us_per_call"]')
		CS_CPU_ALL=$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v n="$CS_DONE" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}')
		CS_P99=$(jget "$out" '"%.2f" % j["legs"][0]["p99"]')
	fi
}

run_calls() { # run_calls NAME USERDIR
	local name=$1 ud=$2
	start_server "$name" "$ud" 600 || { FAIL=1; return; }
	log "$name: calls on udp:127.0.0.1:$PORT"
	call_step "$name" "$CALL_P99_RATE" "$CALL_S"
	R[$name,cp99]=$CS_P99
	[ "${CS_DONE:-0}" = "$CS_COUNT" ] || { log "$name: $CS_OK calls completed at $CALL_P99_RATE/s"; FAIL=1; }
	# the CPU step three times, the median kept: one 4-s step moved by up to 25 % from
	# the next on this shared machine
	local cpus=() alls=() k
	for k in $(seq 1 "$CALL_REPS"); do
		call_step "$name" "$CALL_RATE" "$CALL_S"
		cpus+=("${CS_CPU:-0}")
		alls+=("${CS_CPU_ALL:-0}")
		[ "${CS_DONE:-0}" = "$CS_COUNT" ] || { log "$name: $CS_OK calls completed at $CALL_RATE/s"; FAIL=1; }
	done
	R[$name,ccpu]=$(printf '%s\n' "${cpus[@]}" | sort -g | sed -n "$(((CALL_REPS + 1) / 2))p") R[$name,cok]=$CS_OK
	R[$name,ccpu_all]=$(printf '%s\n' "${alls[@]}" | sort -g | sed -n "$(((CALL_REPS + 1) / 2))p")
	log "$name: server CPU µs per call at $CALL_RATE/s, $CALL_REPS step(s): ${cpus[*]} (median ${R[$name,ccpu]});" \
		"with the callees' registrations: ${alls[*]} (median ${R[$name,ccpu_all]})"
	if [ "$CALL_MAX" = 1 ]; then # doubling from 500/s, then bisecting: >= 99.9 % completed
		local lo=0 hi=0 r=500 i
		while [ "$r" -le 64000 ]; do
			call_step "$name" "$r" 3
			if [ -n "$CS_DONE" ] && [ $((CS_DONE * 1000)) -ge $((CS_COUNT * 999)) ]; then lo=$r; r=$((r * 2))
			else hi=$r; break; fi
		done
		for i in 1 2 3; do
			[ "$hi" -gt 0 ] || break
			r=$(((lo + hi) / 2))
			call_step "$name" "$r" 3
			if [ -n "$CS_DONE" ] && [ $((CS_DONE * 1000)) -ge $((CS_COUNT * 999)) ]; then lo=$r; else hi=$r; fi
		done
		R[$name,cmax]=$lo
	else
		R[$name,cmax]=$CALL_RATE
	fi
	stop_server
}

call_table() {
	local S=sipwarden K=kam-proxy
	echo
	echo "calls: INVITE -> 407 -> ACK -> INVITE with digest -> 100/180/200 -> ACK -> BYE -> 200 through the proxy (16 datagrams), $(fmtn "$CALL_USERS") users registered by sipwarden bench --scenario call (UDP, one generator thread)"
	echo
	echo "| | sipwarden (stateful proxy, events and calls recorded) | Kamailio (tm, rr, registrar lookup, pv_auth_check, HA1 in an htable) | sipwarden / Kamailio |"
	echo "|---|---|---|---|"
	crow() { printf '| %s | %s | %s | %s |\n' "$1" "$(cell "$2")" "$(cell "$3")" "$(ratio "${4-$2}" "${5-$3}")"; }
	if [ "$CALL_MAX" = 1 ]; then
		crow "max calls/s with ≥ 99.9 % completed (3-s steps)" "${R[$S,cmax]:-}" "${R[$K,cmax]:-}"
	else
		crow "calls/s (one ${CALL_S}-s step at $(fmtn $CALL_RATE)/s)" "${R[$S,cmax]:-}" "${R[$K,cmax]:-}"
	fi
	need "$S,cmax" "$K,cmax"
	crow "server CPU µs per call at $(fmtn $CALL_RATE) calls/s, the calls alone (completed)" \
		"${R[$S,ccpu]:+${R[$S,ccpu]} (${R[$S,cok]})}" "${R[$K,ccpu]:+${R[$K,ccpu]} (${R[$K,cok]})}" \
		"${R[$S,ccpu]:-}" "${R[$K,ccpu]:-}"
	need "$S,ccpu" "$K,ccpu"
	crow "the same with the callees' registrations before and their removal after the calls" \
		"${R[$S,ccpu_all]:-}" "${R[$K,ccpu_all]:-}"
	crow "p99 call setup, first INVITE to its 200, at $(fmtn $CALL_P99_RATE) calls/s (ms)" "${R[$S,cp99]:-}" "${R[$K,cp99]:-}"
	need "$S,cp99" "$K,cp99"
	echo
	echo "sipwarden records every auth decision as an event and every call in its calls table; Kamailio records neither."
}

# ---- provisioning
CALLDIR="$TMP/users-calls"
provision_calls() {
	provision "$CALLDIR" "$CALL_USERS"
	"$SIPWARDEN" user import "$CALLDIR/users.csv" --db "$CALLDIR/sipwarden.db" >/dev/null ||
		die "sipwarden user import failed"
}
if [ "$CALLS_ONLY" = 1 ]; then
	provision_calls
	START=$(date +%s)
	for s in sipwarden kam-proxy; do run_calls "$s" "$CALLDIR"; done
	MISSING=0
	echo "sipwarden vs Kamailio $KVER on $(uname -m), $ncpu CPUs; server CPUs $SCPUS ($WORKERS UDP worker(s)), generator CPUs $GCPUS; $(date -u '+%F %H:%M') UTC, $(($(date +%s) - START)) s"
	call_table
	[ "$FAIL" -eq 0 ] && [ "$MISSING" -eq 0 ] || { echo "INCOMPLETE: $MISSING cell(s) missing or a server failed (see above)" >&2; exit 1; }
	exit 0
fi
LOADDIR="$TMP/users-load"
log "provisioning $USERS users (sipwarden: user import; Kamailio: SQLite subscriber + htable)"
provision "$LOADDIR" "$USERS"
"$SIPWARDEN" user import "$LOADDIR/users.csv" --db "$LOADDIR/sipwarden.db" >/dev/null ||
	die "sipwarden user import failed"
BDIR="$LOADDIR"
BUSERS=$((B2 > 0 ? B2 : B1))
if [ "$BUSERS" -ne "$USERS" ]; then
	BDIR="$TMP/users-bind"
	log "provisioning $BUSERS users for the bindings rows"
	provision "$BDIR" "$BUSERS"
	"$SIPWARDEN" user import "$BDIR/users.csv" --db "$BDIR/sipwarden.db" >/dev/null ||
		die "sipwarden user import failed"
fi

START=$(date +%s)
for s in $SERVERS; do run_load "$s" "$LOADDIR"; done
for s in $SERVERS; do run_bindings "$s" "$BDIR"; done
provision_calls
for s in sipwarden kam-proxy; do run_calls "$s" "$CALLDIR"; done
ELAPSED=$(($(date +%s) - START))

# ---- the table

S=sipwarden A=kam-authdb H=kam-htable
echo
[ "$MODE" = smoke ] && echo "SMOKE RUN ($USERS users, one ${STEP_S}-s step per server): the figures mean nothing, the table's shape does"
echo "sipwarden vs Kamailio $KVER on $(uname -m), $ncpu CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)); server CPUs $SCPUS ($WORKERS UDP worker(s)), generator CPUs $GCPUS"
echo "load: REGISTER -> 401 (MD5, qop=auth) -> REGISTER with digest -> 200, $(fmtn "$USERS") users, sipwarden bench (UDP, RFC 3261 timers); $(date -u '+%F %H:%M') UTC, ${ELAPSED} s"
echo
echo "| | ${LABEL[$S]} | ${LABEL[$A]} | ${LABEL[$H]} | sipwarden / auth_db | sipwarden / htable |"
echo "|---|---|---|---|---|---|"
if [ "$MAX_S" -gt 0 ]; then
	row "max sustained authenticated registrations/s (bench --max, ≥ 99.9 % ok)" "${R[$S,max]:-}" "${R[$A,max]:-}" "${R[$H,max]:-}"
else
	row "authenticated registrations/s (one ${STEP_S}-s step at $(fmtn $RATE)/s)" "${R[$S,max]:-}" "${R[$A,max]:-}" "${R[$H,max]:-}"
fi
need "$S,max" "$A,max" "$H,max"
row "server CPU µs per registration at $(fmtn $RATE) reg/s (bench; completed)" \
	"${R[$S,cpu]:+${R[$S,cpu]} (${R[$S,step_ok]})}" "${R[$A,cpu]:+${R[$A,cpu]} (${R[$A,step_ok]})}" \
	"${R[$H,cpu]:+${R[$H,cpu]} (${R[$H,step_ok]})}" "${R[$S,cpu]:-}" "${R[$A,cpu]:-}" "${R[$H,cpu]:-}"
need "$S,cpu" "$A,cpu" "$H,cpu"
row "p99 latency of the whole registration at $(fmtn $RATE) reg/s (ms)" "${R[$S,p99]:-}" "${R[$A,p99]:-}" "${R[$H,p99]:-}"
need "$S,p99" "$A,p99" "$H,p99"
if [ "$SIPP" = 1 ]; then
	row "sipp cross-check: server CPU µs per registration at $(fmtn $SIPP_RATE) reg/s (succeeded)" \
		"${R[$S,sipp]:+${R[$S,sipp]} (${R[$S,sipp_ok]})}" "${R[$A,sipp]:+${R[$A,sipp]} (${R[$A,sipp_ok]})}" \
		"${R[$H,sipp]:+${R[$H,sipp]} (${R[$H,sipp_ok]})}" "${R[$S,sipp]:-}" "${R[$A,sipp]:-}" "${R[$H,sipp]:-}"
	need "$S,sipp" "$A,sipp" "$H,sipp"
fi
for b in $B1 $B2; do
	[ "$b" -gt 0 ] || continue
	row "server memory (PSS) after $(fmtn "$b") bindings; bytes per binding over the start" \
		"$(mem_cell "${R[$S,pss$b]:-}" "${R[$S,bind$b]:-0}" "${R[$S,pss0]:-0}")" \
		"$(mem_cell "${R[$A,pss$b]:-}" "${R[$A,bind$b]:-0}" "${R[$A,pss0]:-0}")" \
		"$(mem_cell "${R[$H,pss$b]:-}" "${R[$H,bind$b]:-0}" "${R[$H,pss0]:-0}")" \
		"$(per_binding "${R[$S,pss$b]:-0}" "${R[$S,bind$b]:-0}" "${R[$S,pss0]:-0}")" \
		"$(per_binding "${R[$A,pss$b]:-0}" "${R[$A,bind$b]:-0}" "${R[$A,pss0]:-0}")" \
		"$(per_binding "${R[$H,pss$b]:-0}" "${R[$H,bind$b]:-0}" "${R[$H,pss0]:-0}")"
	need "$S,pss$b" "$A,pss$b" "$H,pss$b"
done
call_table
echo
echo "Modes: sipwarden with its defaults — every 200 OK after its binding is durable in SQLite (WAL,"
echo "synchronous=FULL, group commit); Kamailio's usrloc in memory (db_mode 0: bindings are lost on restart)."
echo "Ratios: sipwarden / Kamailio; above 1 is better for sipwarden in the first row, below 1 in the others."
echo "Memory: PSS summed over the server's processes (sipwarden ${R[$S,nproc]:-?}, Kamailio ${R[$H,nproc]:-${R[$A,nproc]:-?}}, shared memory counted once),"
echo "in a server started with $(fmtn "$BUSERS") users provisioned; bytes per binding = (PSS - PSS at start) / bindings."
if [ "$FAIL" -ne 0 ] || [ "$MISSING" -ne 0 ]; then
	echo "INCOMPLETE: $MISSING cell(s) missing; a server did not start or did not answer every registration (see above)" >&2
	exit 1
fi
exit 0
