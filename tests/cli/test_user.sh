#!/usr/bin/env bash
# sipwarden user / registrations / why / events: exit codes, messages, JSON,
# HA1 only in the database (never the password), import all-or-nothing.
. "$(dirname "$0")/lib.sh"
export TZ=UTC
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
DB="$T/deep/var/sw.db"
U() { "$SIPWARDEN" user "$@" --db "$DB"; }
py() { python3 - "$DB" "$@"; }

expect_exit 0 "user --help" -- "$SIPWARDEN" user --help
expect_match "help names every action" "$OUT" 'user import FILE'
expect_exit 2 "no action is a usage error" -- "$SIPWARDEN" user
expect_exit 2 "unknown action" -- U frobnicate alice@example.com
expect_exit 2 "--config is not supported yet" -- "$SIPWARDEN" user list --config /etc/x.conf
expect_exit 1 "list without a database" -- U list
expect_match "says there is no database" "$ERR" 'no database at'

expect_exit 0 "add with --password" -- U add alice@Example.COM --password 'Wonderland-1'
expect_match "add reports the AOR (domain lower-cased)" "$OUT" '^added alice@example.com$'
[ -f "$DB" ] && ok "database and its directory created" || not_ok "no database at $DB"
[ "$(stat -c %a "$DB")" = 600 ] && ok "database is mode 0600" || not_ok "mode $(stat -c %a "$DB")"
expect_exit 1 "adding twice fails" -- U add alice@example.com --password x
expect_match "and says why" "$ERR" 'alice@example.com already exists'
expect_exit 2 "not USER@DOMAIN" -- U add alice --password x
expect_exit 2 "a space in the user" -- U add 'al ice@example.com' --password x
expect_exit 2 "two password options" -- U add bob@example.com --password x --generate
expect_exit 2 "no password and no terminal" -- U add bob@example.com </dev/null
expect_exit 2 "empty password from stdin" -- U add bob@example.com --password-stdin </dev/null

# HA1 = MD5(user:domain:password), SHA-256 likewise; read back from the file.
ha1_ok() {  # user domain password
	py "$@" <<'PY'
import sqlite3, sys, hashlib
db, u, d, pw = sys.argv[1:5]
row = sqlite3.connect(db).execute(
    "SELECT ha1_md5, ha1_sha256, ha1_sha512_256 FROM subscribers WHERE user=? AND domain=?", (u, d)).fetchone()
s = f"{u}:{d}:{pw}".encode()
assert row[0] == hashlib.md5(s).hexdigest(), row
assert row[1] == hashlib.sha256(s).hexdigest(), row
assert len(row[2]) == 64
PY
}
ha1_ok alice example.com 'Wonderland-1' && ok "stored HA1 is H(user:domain:password)" || not_ok "HA1 of alice"

OUT=$(printf 'Looking-Glass-2\n' | U passwd alice@example.com --password-stdin); rc=$?
[ $rc -eq 0 ] && ok "passwd --password-stdin" || not_ok "passwd exit $rc"
ha1_ok alice example.com 'Looking-Glass-2' && ok "HA1 follows the new password" || not_ok "HA1 after passwd"
expect_exit 1 "passwd of an unknown user" -- U passwd nobody@example.com --password x
expect_match "says no user" "$ERR" 'no user nobody@example.com'

expect_exit 0 "add --generate" -- U add bob@example.com --generate
GEN=$OUT
expect_match "prints only a strong password" "$GEN" '^[A-Za-z0-9]{20}$'
ha1_ok bob example.com "$GEN" && ok "generated password is the stored one" || not_ok "HA1 of bob"

expect_exit 0 "disable" -- U disable bob@example.com
expect_exit 0 "list" -- U list
expect_match "bob listed disabled" "$OUT" 'bob@example.com +disabled'
expect_match "alice listed enabled" "$OUT" 'alice@example.com +enabled'
expect_exit 0 "enable" -- U enable bob@example.com
expect_exit 1 "enable an unknown user" -- U enable nobody@example.com
expect_exit 0 "list --json" -- U list --json
if printf '%s' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert [x["aor"] for x in d] == ["alice@example.com", "bob@example.com"], d
assert not d[1]["disabled"] and d[0]["created"] > 1600000000
assert not any("ha1" in k for x in d for k in x)' 2>/tmp/sw_json_err.$$; then
	ok "--json lists users without credentials"
else
	not_ok "--json: $(cat /tmp/sw_json_err.$$)"
fi
rm -f /tmp/sw_json_err.$$
expect_exit 0 "del" -- U del bob@example.com
expect_exit 1 "del again" -- U del bob@example.com

# import: any bad line -> nothing imported, each reported with its number
printf '# a comment\n\nc1@ex.com,pw1\nno comma here\nc2@ex.com,\nc1@ex.com,again\n' >"$T/bad.csv"
expect_exit 1 "import with bad lines fails" -- U import "$T/bad.csv"
expect_match "line 4 reported" "$ERR" 'bad.csv:4: expected user@domain,password'
expect_match "line 5 reported" "$ERR" 'bad.csv:5: empty password'
expect_match "duplicate reported" "$ERR" 'bad.csv:6: c1@ex.com is already on line 3'
expect_match "nothing imported" "$ERR" 'nothing imported'
expect_exit 0 "list after a failed import" -- U list --json
[ "$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ] \
	&& ok "failed import left the users as they were" || not_ok "users after failed import: $OUT"

python3 -c '
import sys
with open(sys.argv[1], "w") as f:
    f.write("# 5000 users\r\n")
    for i in range(5000):
        f.write(f"u{i:04d}@bulk.example,pw,{i}\r\n")
    f.write("alice@example.com,Third-Password-3\n")' "$T/big.csv"
expect_exit 0 "import of 5001 users" -- U import "$T/big.csv"
expect_match "counts added and updated" "$OUT" '^imported 5001 users \(5000 added, 1 updated\) in [0-9.]+ s$'
echo "# $OUT"
ha1_ok u4999 bulk.example 'pw,4999' && ok "password is the rest of the line (commas kept)" \
	|| not_ok "HA1 of u4999"
ha1_ok alice example.com 'Third-Password-3' && ok "import updates an existing user" \
	|| not_ok "HA1 of alice after import"

# no password in the database file or its WAL, ever
if cat "$DB"* | grep -aqE 'Wonderland-1|Looking-Glass-2|Third-Password-3|pw,4999'; then
	not_ok "a plaintext password is in the database"
else
	ok "no plaintext password in the database"
fi
if [ -n "$GEN" ] && cat "$DB"* | grep -aq "$GEN"; then not_ok "generated password stored"; else ok "generated password not stored"; fi

# The read-side commands. Nothing recorded yet:
expect_exit 1 "why without a database" -- "$SIPWARDEN" why a@b.c --db "$T/none.db"
expect_exit 0 "why with no events" -- "$SIPWARDEN" why alice@example.com --db "$DB"
expect_match "says nothing recorded" "$OUT" 'no authentication decisions recorded for alice@example.com'
expect_exit 2 "why needs USER@DOMAIN" -- "$SIPWARDEN" why --db "$DB"
expect_exit 2 "why --last 0" -- "$SIPWARDEN" why alice@example.com --last 0 --db "$DB"
expect_exit 0 "registrations with none" -- "$SIPWARDEN" registrations --db "$DB"
expect_match "says none" "$OUT" 'no current registrations'
expect_exit 0 "events --json with none" -- "$SIPWARDEN" events --json --db "$DB"
expect_match "empty array" "$OUT" '^\[\]$'
expect_exit 2 "events --since bad" -- "$SIPWARDEN" events --since 10x --db "$DB"
expect_exit 2 "events --cause unknown" -- "$SIPWARDEN" events --cause no-such-cause --db "$DB"

# What a server would have written (the store API is unit-tested in
# test_store; here the rows stand in for `sipwarden serve`).
py <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
evdb = sqlite3.connect(sys.argv[1] + "-events")   # the event log beside the database
now = int(time.time())
ev = "INSERT INTO auth_events(time_ms, source_addr, source_port, transport, method, aor, auth_user, realm, user_agent, cause, detail) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
evdb.execute(ev, ((now - 7200) * 1000, "192.0.2.7", 5060, "udp", "REGISTER", "alice@example.com", "alice", "example.com", "Yealink", "no-credentials", ""))
evdb.execute(ev, ((now - 60) * 1000, "192.0.2.7", 5060, "udp", "REGISTER", "alice@example.com", "alice", "example.com", "Yealink", "wrong-password", "response does not match"))
evdb.execute(ev, ((now - 30) * 1000, "2001:db8::7", 5070, "tcp", "REGISTER", "bob@example.com", "bob", "example.com", "Zoiper", "unknown-user", ""))
evdb.execute(ev, ((now - 10) * 1000, "192.0.2.7", 5060, "udp", "REGISTER", "alice@example.com", "alice", "example.com", "Yealink", "ok", ""))
b = "INSERT INTO bindings VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
db.execute(b, ("alice@example.com", "sip:alice@192.0.2.7:5060", now + 3600, 1000, "c1", 2, "192.0.2.7", 5060, "udp", "Yealink T46", "", "", "", 0, now))
db.execute(b, ("alice@example.com", "sip:alice@198.51.100.1", now - 5, 500, "c2", 2, "198.51.100.1", 5060, "udp", "", "", "", "", 0, now))
db.commit()
evdb.commit()
PY

expect_exit 0 "why" -- "$SIPWARDEN" why alice@example.com --db "$DB"
first=$(printf '%s\n' "$OUT" | grep -E '^[0-9]{4}-' | head -1)
expect_match "newest first: time, source, transport, method, AOR" "$first" '^[0-9-]{10} [0-9:]{8}  192\.0\.2\.7:5060 udp  REGISTER  alice@example\.com$'
expect_match "cause with its severity and explanation" "$OUT" 'wrong-password \(error\): '
expect_match "the fix" "$OUT" '    fix: '
expect_match "the detail" "$OUT" 'detail: response does not match'
[ "$(printf '%s\n' "$OUT" | grep -cE '^[0-9]{4}-')" = 3 ] && ok "only alice's three decisions" || not_ok "why shows: $OUT"
expect_exit 0 "why --last 1 --json" -- "$SIPWARDEN" why alice@example.com --last 1 --json --db "$DB"
if printf '%s' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert len(d) == 1 and d[0]["cause"] == "ok" and d[0]["source"] == "192.0.2.7", d
assert d[0]["explanation"] and d[0]["time"].endswith("Z")' 2>/tmp/sw_json_err.$$; then
	ok "why --json: newest decision with explanation"
else
	not_ok "why --json: $(cat /tmp/sw_json_err.$$)"
fi
rm -f /tmp/sw_json_err.$$

expect_exit 0 "events --since 10m" -- "$SIPWARDEN" events --since 10m --db "$DB"
[ "$(printf '%s\n' "$OUT" | grep -cE '^[0-9]{4}-')" = 3 ] && ok "the 2 h old one is left out" || not_ok "events --since: $OUT"
expect_exit 0 "events --cause" -- "$SIPWARDEN" events --cause unknown-user --db "$DB"
expect_match "IPv6 source in brackets" "$OUT" '\[2001:db8::7\]:5070 tcp  REGISTER  bob@example.com'
expect_exit 0 "events --source ADDR:PORT" -- "$SIPWARDEN" events --source 192.0.2.7:5060 --json --db "$DB"
[ "$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 3 ] \
	&& ok "--source matches the address" || not_ok "events --source: $OUT"

expect_exit 0 "registrations" -- "$SIPWARDEN" registrations --db "$DB"
expect_match "current binding with time left, q, source" "$OUT" '^alice@example.com  sip:alice@192.0.2.7:5060  expires in (59m[0-9]{2}s|60m00s)  q=1.000  from 192.0.2.7:5060 udp  "Yealink T46"$'
[ "$(printf '%s\n' "$OUT" | wc -l)" = 1 ] && ok "expired binding not shown" || not_ok "registrations: $OUT"
expect_exit 0 "registrations AOR --json" -- "$SIPWARDEN" registrations sip:alice@EXAMPLE.com --json --db "$DB"
if printf '%s' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert len(d) == 1 and d[0]["contact"] == "sip:alice@192.0.2.7:5060" and 3500 < d[0]["expires_in"] <= 3600, d' 2>/tmp/sw_json_err.$$; then
	ok "registrations --json"
else
	not_ok "registrations --json: $(cat /tmp/sw_json_err.$$)"
fi
rm -f /tmp/sw_json_err.$$

finish
