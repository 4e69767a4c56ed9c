#!/usr/bin/env bash
# No acknowledged registration is lost: sipp registers 500 users at a steady
# rate (each call its own contact), the server is killed with SIGKILL in the
# middle, restarted on the same database, and every contact that any 200 OK
# listed (read from sipp's message trace) must be in `registrations --json`
# with the expiry that 200 OK announced.
. "$(dirname "$0")/serve_lib.sh"
RATE=${SW_DUR_RATE:-200}
CALLS=${SW_DUR_CALLS:-1500}
KILL_AFTER=${SW_DUR_KILL_AFTER:-3}

SW_DB="$T/dur.db"
python3 -c '
import sys
for i in range(500):
    print(f"user{i}@127.0.0.1,pw-{i}-secret")' >"$T/users.txt"
expect_exit 0 "user import of 500 users" -- "$SIPWARDEN" user import "$T/users.txt" --db "$SW_DB"
python3 -c '
print("SEQUENTIAL")
for i in range(500):
    print(f"user{i};127.0.0.1;[authentication username=user{i} password=pw-{i}-secret]")' >"$T/users.csv"

sw_start dur || { finish; exit 1; }
LP=$(free_port)
timeout 60 sipp "127.0.0.1:$SW_PORT" -i 127.0.0.1 -p "$LP" -nostdin -sf "$SIPP_DIR/register_users.xml" \
	-inf "$T/users.csv" -r "$RATE" -m "$CALLS" -l 300 -recv_timeout 2000 -timeout 25 \
	-trace_msg -message_file "$T/dur.msg" >"$T/sipp.out" 2>&1 </dev/null &
SP=$!
bg_track "$SP"
sleep "$KILL_AFTER"
sw_kill9
ok "server killed with SIGKILL after ${KILL_AFTER}s of $RATE registrations/s"
for i in $(seq 1 300); do kill -0 "$SP" 2>/dev/null || break; sleep 0.1; done
kill -TERM "$SP" 2>/dev/null
wait "$SP" 2>/dev/null

# every contact listed by a 200 OK, with its absolute expiry (receive time +
# the expires it was given)
python3 - "$T/dur.msg" >"$T/acked.json" <<'PY'
import json, re, sys, calendar, time
acked, n200, calls = {}, 0, set()
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
for block in re.split(r"\n-{20,} ", text):
    m = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.(\d+)\n(\w+) message received", block)
    if not m or "SIP/2.0 200 OK" not in block:
        continue
    n200 += 1
    t = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S")) + float("0." + m.group(2))
    to = re.search(r"(?m)^To: <sip:([^>]*)>", block).group(1)
    for c, e in re.findall(r"(?m)^Contact: <([^>]*)>;expires=(\d+)", block):
        acked[c] = {"aor": to, "expires": t + int(e)}
print(json.dumps({"n200": n200, "contacts": acked}))
PY
n200=$(json_q 'j["n200"]' <"$T/acked.json")
nc=$(json_q 'len(j["contacts"])' <"$T/acked.json")
sent=$(grep -c 'message sent' "$T/dur.msg")
[ "$n200" -ge 50 ] && ok "sipp got $n200 200 OKs before the kill ($nc contacts acknowledged)" ||
	not_ok "only $n200 200 OKs before the kill: $(tail -c 800 "$T/sipp.out")"
[ "$n200" -lt "$CALLS" ] && ok "the kill came in the middle of the run ($n200 of $CALLS calls answered)" ||
	not_ok "every call was answered before the kill: raise the rate or the calls"

SW_NAME=dur2
sw_start dur2 || { finish; exit 1; }
"$SIPWARDEN" registrations --json --db "$SW_DB" >"$T/after.json"
while IFS= read -r line; do
	case $line in
	"ok - "*) ok "${line#ok - }" ;;
	"not ok - "*) not_ok "${line#not ok - }" ;;
	*) echo "$line" ;;
	esac
done < <(python3 - "$T/acked.json" "$T/after.json" <<'PY'
import json, sys
acked = json.load(open(sys.argv[1]))["contacts"]
after = {b["contact"]: b for b in json.load(open(sys.argv[2]))}
missing = [c for c in acked if c not in after]
wrong = [(c, acked[c]["expires"], after[c]["expires"]) for c in acked
         if c in after and abs(after[c]["expires"] - acked[c]["expires"]) > 2]
aor = [c for c in acked if c in after and after[c]["aor"] != acked[c]["aor"]]
print(("ok" if not missing else "not ok") +
      f" - every acknowledged contact survived kill -9 ({len(acked) - len(missing)} of {len(acked)}; missing: {missing[:5]})")
print(("ok" if not wrong else "not ok") +
      f" - each with the expiry its 200 OK announced, within 2 s (off: {wrong[:5]})")
print(("ok" if not aor else "not ok") + f" - each under its AOR (wrong: {aor[:5]})")
print(f"# {len(after)} bindings after the restart, {len(acked)} acknowledged")
PY
)
# the restarted server serves the same database: a user registers again
printf 'SEQUENTIAL\nuser7;127.0.0.1;[authentication username=user7 password=pw-7-secret]\n' >"$T/one.csv"
sipp_run again -sf "$SIPP_DIR/register_users.xml" -inf "$T/one.csv" -m 1
sipp_expect "after the restart, user7 registers again" 0 again
sw_alive "restarted server answers"
sw_stop
finish
