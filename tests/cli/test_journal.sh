#!/usr/bin/env bash
# sipwarden serve's auth decision lines in the systemd journal, without
# systemd: the server runs in a mount namespace (unshare -m, as root) where
# journald's native socket /run/systemd/journal/socket is a unix datagram
# socket this test listens on, and the entries it receives are decoded (the
# native protocol: KEY=value lines, or KEY, a 64-bit length and the bytes).
# With JOURNAL_STREAM naming its standard output (as systemd sets it for a
# service) the lines go to the journal with their fields and not to
# standard output; when JOURNAL_STREAM names another stream (stdout was
# redirected) they stay JSON lines on standard output. The field builder
# itself is unit-tested (tests/unit/test_journal.c).
. "$(dirname "${BASH_SOURCE[0]}")/serve_lib.sh"

REAL="$SIPWARDEN"
SW_PORT=$(free_port 45000 45499)

# With systemd as PID 1 (not in CI containers): the real thing, a transient
# Type=notify service and journalctl selecting on CAUSE=
if [ -d /run/systemd/system ] && [ "$(id -u)" -eq 0 ] && command -v systemd-run >/dev/null; then
	unit="sipwarden-test-$$"
	if timeout 30 systemd-run --quiet --unit "$unit" -p Type=notify --collect "$REAL" serve --db "$T/unit.db" \
		--domain 127.0.0.1 --listen "udp:127.0.0.1:$SW_PORT" >"$T/run.out" 2>&1; then
		ok "systemd-run -p Type=notify: the service started (READY=1)"
		"$REAL" user add alice@127.0.0.1 --password secret --db "$T/unit.db" >/dev/null
		sleep 1.2
		"${SIPCAT[@]}" 127.0.0.1 "$SW_PORT" register --user alice --domain 127.0.0.1 --password wrong >/dev/null
		sel=""
		for _ in $(seq 1 30); do
			sel=$(journalctl -u "$unit" CAUSE=wrong-password -o json --no-pager 2>/dev/null)
			[ -n "$sel" ] && break
			sleep 0.2
		done
		expect_match "journalctl -u UNIT CAUSE=wrong-password finds the decision, with USER" "$sel" \
			'"USER" *: *"alice@127\.0\.0\.1"'
		systemctl stop "$unit" 2>/dev/null
	else
		not_ok "systemd-run -p Type=notify: $(cat "$T/run.out")"
	fi
else
	echo "# SKIP systemd is not PID 1 here: the real journal is checked only with systemd"
fi

if [ "$(id -u)" -ne 0 ] || ! unshare -m true 2>/dev/null; then
	echo "# SKIP the journal socket needs a mount namespace (root and unshare -m)"
	finish
	exit
fi

JD="$T/journal" JLOG="$T/journal.log"
mkdir -p "$JD"
python3 - "$JD/socket" "$JLOG" <<'PY' &
import json, socket, struct, sys, time
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(0.5)
end = time.monotonic() + 90
def decode(d):
    fields, i = {}, 0
    while i < len(d):
        nl = d.index(b"\n", i)
        line = d[i:nl]
        if b"=" in line:
            k, v = line.split(b"=", 1)
            i = nl + 1
        else:
            k = line
            (n,) = struct.unpack("<Q", d[nl + 1:nl + 9])
            v = d[nl + 9:nl + 9 + n]
            i = nl + 9 + n + 1
        fields[k.decode()] = v.decode("utf-8", "replace")
    return fields
with open(out, "a", buffering=1) as f:
    while time.monotonic() < end:
        try:
            data = s.recv(65536)
        except socket.timeout:
            continue
        f.write(json.dumps(decode(data), sort_keys=True) + "\n")
PY
bg_track $!
for _ in $(seq 1 50); do [ -S "$JD/socket" ] && break; sleep 0.1; done
touch "$JLOG"

# the server in a mount namespace whose /run/systemd/journal is $JD
cat >"$T/in-ns" <<EOF2
#!/bin/sh
exec unshare -m -- sh -c 'mount -t tmpfs none /run && mkdir -p /run/systemd/journal &&
	mount --bind "\$0" /run/systemd/journal && exec "\$@"' "$JD" "$REAL" "\$@"
EOF2
chmod +x "$T/in-ns"
SIPWARDEN="$T/in-ns"

# field NAME: that field of every entry, one a line
field() { python3 -c 'import json, sys
for l in open(sys.argv[1]):
    print(json.loads(l).get(sys.argv[2], "-"))' "$JLOG" "$1"; }

: >"$T/js.log"
export JOURNAL_STREAM="$(stat -c '%d:%i' "$T/js.log")"
sw_start js || exit 1
unset JOURNAL_STREAM
"$REAL" user add alice@127.0.0.1 --password secret --db "$SW_DB" >/dev/null
"${SIPCAT[@]}" 127.0.0.1 "$SW_PORT" register --user alice --domain 127.0.0.1 --password wrong >/dev/null
"${SIPCAT[@]}" 127.0.0.1 "$SW_PORT" register --user alice --domain 127.0.0.1 --password secret >/dev/null
for _ in $(seq 1 30); do [ "$(grep -c CAUSE "$JLOG")" -ge 2 ] && break; sleep 0.1; done

sel=$(python3 -c 'import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("CAUSE") == "wrong-password": print(json.dumps(e, sort_keys=True))' "$JLOG")
expect_match "JOURNAL_STREAM on stdout: the wrong password is a journal entry with CAUSE=wrong-password" "$sel" '"CAUSE": "wrong-password"'
expect_match "... METHOD=REGISTER, USER=alice@127.0.0.1, AUTH_USER=alice, REALM" "$sel" \
	'"AUTH_USER": "alice".*"METHOD": "REGISTER".*"REALM": "127\.0\.0\.1".*"USER": "alice@127\.0\.0\.1"'
expect_match "... SOURCE=127.0.0.1, SOURCE_PORT, TRANSPORT=udp" "$sel" \
	'"SOURCE": "127\.0\.0\.1", "SOURCE_PORT": "[0-9]+".*"TRANSPORT": "udp"'
expect_match "... PRIORITY=4 (warning: the device cannot register), SYSLOG_IDENTIFIER=sipwarden" "$sel" \
	'"PRIORITY": "4".*"SYSLOG_IDENTIFIER": "sipwarden"'
expect_match "... MESSAGE is the text line without the time" "$sel" \
	'"MESSAGE": "127\.0\.0\.1:[0-9]+ udp REGISTER alice@127\.0\.0\.1 user=alice realm=127\.0\.0\.1 cause=wrong-password: '
expect_match "the successful registration: CAUSE=ok with PRIORITY=6" \
	"$(paste -d' ' <(field CAUSE) <(field PRIORITY) | tr '\n' ';')" 'ok 6;'
expect_match "every entry has CAUSE, SOURCE, USER, METHOD and MESSAGE" \
	"$(for f in CAUSE SOURCE USER METHOD MESSAGE; do field $f; done | grep -c '^-$')" '^0$'
expect_match "and nothing on standard output" "$(wc -c <"$T/js.log")" '^0$'
sw_stop

# JOURNAL_STREAM set but naming another stream (stdout redirected): JSON lines
# on standard output, nothing more in the journal
before=$(wc -l <"$JLOG")
: >"$T/other.log"
export JOURNAL_STREAM="$(stat -c '%d:%i' "$T/other.log")"
unset SW_DB
sw_start redirected || exit 1
unset JOURNAL_STREAM
"$REAL" user add alice@127.0.0.1 --password secret --db "$SW_DB" >/dev/null
"${SIPCAT[@]}" 127.0.0.1 "$SW_PORT" register --user alice --domain 127.0.0.1 --password wrong >/dev/null
sw_stop
expect_match "JOURNAL_STREAM of another stream: a JSON line on standard output" \
	"$(cat "$T/redirected.log")" '"cause":"wrong-password"'
expect_match "... and no journal entry" "$(wc -l <"$JLOG")" "^$before\$"

# [log] format = journal without JOURNAL_STREAM
printf '[log]\nformat = journal\n' >"$T/journal.conf"
unset SW_DB
sw_start forced --config "$T/journal.conf" || exit 1
"$REAL" user add alice@127.0.0.1 --password secret --db "$SW_DB" >/dev/null
"${SIPCAT[@]}" 127.0.0.1 "$SW_PORT" register --user alice --domain 127.0.0.1 --password wrong >/dev/null
for _ in $(seq 1 30); do [ "$(wc -l <"$JLOG")" -gt "$before" ] && break; sleep 0.1; done
expect_match "format = journal: the entry is in the journal" "$(tail -n 1 "$JLOG")" '"CAUSE": "wrong-password"'
# the bounded log holds for the journal too: repeats from one source are one
# entry a second, then a note says how many more there were
before=$(wc -l <"$JLOG")
for i in 1 2 3 4 5 6; do
	"${SIPCAT[@]}" 127.0.0.1 "$SW_PORT" register --user alice --domain 127.0.0.1 --password "wrong$i" >/dev/null
done
for _ in $(seq 1 40); do grep -q 'more like this' "$JLOG" && break; sleep 0.1; done
sw_stop
n=$(tail -n +"$((before + 1))" "$JLOG" | grep -c '"CAUSE": "wrong-password"')
# (the first of the second may be the one just before)
[ "$n" -lt 6 ] && ok "six wrong passwords from one source: $n journal entries of their own" ||
	not_ok "six wrong passwords from one source: $n journal entries (wanted fewer than 6)"
expect_match "... and a note with how many more" "$(grep 'more like this' "$JLOG" | tail -n 1)" \
	'"MESSAGE": "[^"]*cause=wrong-password: [0-9]+ more like this from 127\.0\.0\.1 in the last second".*"PRIORITY": "5"'
expect_match "... and not on standard output" "$(wc -c <"$T/forced.log")" '^0$'
finish
