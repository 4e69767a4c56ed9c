#!/usr/bin/env bash
# systemd integration without systemd: `sipwarden serve` with NOTIFY_SOCKET
# pointing at a unix datagram socket this test listens on (READY=1,
# RELOADING=1 + MONOTONIC_USEC then READY=1 on SIGHUP, STOPPING=1, WATCHDOG=1
# with WATCHDOG_USEC); `make install` / `make uninstall` into a DESTDIR;
# `systemd-analyze verify` on the installed unit.
. "$(dirname "${BASH_SOURCE[0]}")/serve_lib.sh"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# The listener: one line per message, "<CLOCK_MONOTONIC seconds> <fields joined by |>"
NS="$T/notify.sock" NLOG="$T/notify.log"
python3 - "$NS" "$NLOG" <<'PY' &
import socket, sys, time
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(0.5)
end = time.monotonic() + 120
with open(out, "a", buffering=1) as f:
    while time.monotonic() < end:
        try:
            data = s.recv(4096)
        except socket.timeout:
            continue
        f.write("%.6f %s\n" % (time.monotonic(), data.decode().strip("\n").replace("\n", "|")))
PY
bg_track $!
for _ in $(seq 1 50); do [ -S "$NS" ] && break; sleep 0.1; done
touch "$NLOG"

# events: the messages other than the watchdog's, in order, each followed by a blank
events() { cut -d' ' -f2- "$NLOG" | grep -v '^WATCHDOG=1$' | tr '\n' ' '; }
# wait_events DESC REGEX: up to 3 s for events to match REGEX
wait_events() {
	local i
	for i in $(seq 1 30); do
		if events | grep -Eq -- "$2"; then ok "$1"; return 0; fi
		sleep 0.1
	done
	not_ok "$1 (no match for /$2/ in: $(events))"
	return 1
}

SW_PORT=$(free_port 48000 48999)
export NOTIFY_SOCKET="$NS" WATCHDOG_USEC=2000000
sw_start sd || exit 1
unset NOTIFY_SOCKET WATCHDOG_USEC
wait_events "READY=1 once the server answers OPTIONS, the first message but the watchdog's" '^READY=1 $'

sleep 2.6
pings=$(awk '$2 == "WATCHDOG=1" { print $1 }' "$NLOG")
n=$(printf '%s\n' "$pings" | grep -c .)
gap=$(printf '%s\n' "$pings" | awk 'NR > 1 { d = $1 - p; if (d > m) m = d } { p = $1 } END { printf "%.3f", m + 0 }')
if [ "$n" -ge 3 ] && awk -v g="$gap" 'BEGIN { exit !(g <= 1.2) }'; then
	ok "WATCHDOG=1 with WATCHDOG_USEC=2000000: $n pings, at most $gap s apart"
else
	not_ok "WATCHDOG=1 with WATCHDOG_USEC=2000000: $n pings, at most $gap s apart (wanted >= 3, <= 1.2 s)"
fi

kill -HUP "$SW_PID"
wait_events "SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1" \
	'^READY=1 RELOADING=1\|MONOTONIC_USEC=[0-9]+ READY=1 $'
line=$(grep -m1 'RELOADING=1|MONOTONIC_USEC=[0-9]' "$NLOG")
if [ -n "$line" ] && awk -v l="$line" 'BEGIN { split(l, a, " "); sub(/.*MONOTONIC_USEC=/, "", l);
		d = a[1] - l / 1e6; exit !(l + 0 > 0 && d >= 0 && d < 2) }'; then
	ok "MONOTONIC_USEC is the CLOCK_MONOTONIC time of the reload"
else
	not_ok "MONOTONIC_USEC is the CLOCK_MONOTONIC time of the reload ($line)"
fi
sw_alive "the server answers after the reload"

sw_stop
wait_events "SIGTERM: STOPPING=1 is the last message" 'READY=1 STOPPING=1 $'

# Without NOTIFY_SOCKET (WATCHDOG_USEC alone is ignored): as before, and silent
before=$(wc -l <"$NLOG")
WATCHDOG_USEC=1000000 sw_start plain || exit 1
sleep 1.2
sw_alive "without NOTIFY_SOCKET the server runs as before"
sw_stop
expect_match "without NOTIFY_SOCKET nothing is sent" "$(wc -l <"$NLOG")" "^$before\$"

# make install / uninstall into a DESTDIR with PREFIX=/usr
D="$T/destdir"
expected=$( { echo usr/bin/sipwarden; echo usr/etc/sipwarden/sipwarden.conf
	echo usr/lib/systemd/system/sipwarden.service
	for m in "$ROOT"/man/*.1; do echo "usr/share/man/man1/$(basename "$m")"; done
	for m in "$ROOT"/man/*.5; do echo "usr/share/man/man5/$(basename "$m")"; done; } | sort)
if nice -n 10 make -C "$ROOT" --no-print-directory install DESTDIR="$D" PREFIX=/usr >"$T/install.out" 2>&1; then
	ok "make install DESTDIR PREFIX=/usr"
else
	not_ok "make install DESTDIR PREFIX=/usr: $(tail -c 600 "$T/install.out")"
fi
got=$(cd "$D" && find . -type f | sed 's|^\./||' | sort)
if [ "$got" = "$expected" ]; then ok "make install puts the binary, $(ls "$ROOT"/man | wc -l) man pages, the config and the unit"
else not_ok "make install files: got [$(echo $got)], wanted [$(echo $expected)]"; fi
expect_match "the installed unit runs /usr/bin/sipwarden with /usr/etc/sipwarden/sipwarden.conf" \
	"$(grep '^ExecStart=' "$D/usr/lib/systemd/system/sipwarden.service")" \
	'^ExecStart=/usr/bin/sipwarden serve --config /usr/etc/sipwarden/sipwarden\.conf --db /var/lib/sipwarden/sipwarden\.db$'
expect_exit 0 "the installed binary runs" -- "$D/usr/bin/sipwarden" serve --help

# systemd-analyze verify: on a copy whose ExecStart is the installed binary,
# with the installed man pages (Documentation=man:...) on MANPATH; it exits 0
# even on a bad line, so any output is a failure
V="$T/verify"; mkdir -p "$V"
sed "s|/usr/bin/sipwarden|$D/usr/bin/sipwarden|" "$D/usr/lib/systemd/system/sipwarden.service" >"$V/sipwarden.service"
out=$(cd "$V" && MANPATH="$D/usr/share/man" systemd-analyze verify "$V/sipwarden.service" 2>&1); rc=$?
if [ "$rc" -eq 0 ] && [ -z "$out" ]; then ok "systemd-analyze verify accepts the unit"
else not_ok "systemd-analyze verify accepts the unit (exit $rc: ${out:0:600})"; fi
sed 's|^Type=notify$|Type=notfy|' "$V/sipwarden.service" >"$V/broken.service"
out=$(cd "$V" && MANPATH="$D/usr/share/man" systemd-analyze verify "$V/broken.service" 2>&1)
expect_match "systemd-analyze verify reports a misspelt Type= (the check can fail)" "$out" 'service type'

# what the unit promises: a dedicated user, the state directory, port 5060
# without root, the hardening; and systemd's own judgement of its exposure
U="$D/usr/lib/systemd/system/sipwarden.service"
for want in '^Type=notify$' '^WatchdogSec=[0-9]+' '^User=sipwarden$' '^StateDirectory=sipwarden$' \
	'^AmbientCapabilities=CAP_NET_BIND_SERVICE$' '^CapabilityBoundingSet=CAP_NET_BIND_SERVICE$' \
	'^ProtectSystem=strict$' '^PrivateTmp=yes$' '^NoNewPrivileges=yes$' '^ProtectHome=yes$' \
	'^RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX$' '^SystemCallFilter=@system-service$'; do
	grep -Eq -- "$want" "$U" && ok "the unit has ${want//[\^\$]/}" || not_ok "the unit lacks /$want/"
done
if systemd-analyze security --help 2>/dev/null | grep -q -- '--offline'; then
	sec=$(cd "$V" && timeout 60 systemd-analyze security --offline=yes "$V/sipwarden.service" 2>&1 | grep 'Overall exposure')
	lvl=$(grep -Eo '[0-9]+\.[0-9]+' <<<"$sec" | head -n 1)
	if [ -n "$lvl" ] && awk -v l="$lvl" 'BEGIN { exit !(l <= 3.0) }'; then
		ok "systemd-analyze security --offline: exposure $lvl (at most 3.0)"
	else
		not_ok "systemd-analyze security --offline: ${sec:-no verdict} (wanted at most 3.0)"
	fi
else
	echo "# SKIP systemd-analyze security has no --offline (systemd < 252)"
fi

# an administrator's config survives a second install and uninstall
echo "; changed by the admin" >>"$D/usr/etc/sipwarden/sipwarden.conf"
make -C "$ROOT" --no-print-directory install DESTDIR="$D" PREFIX=/usr >"$T/install2.out" 2>&1
expect_match "a second install keeps the existing config" "$(tail -n 1 "$D/usr/etc/sipwarden/sipwarden.conf")" 'changed by the admin'
make -C "$ROOT" --no-print-directory uninstall DESTDIR="$D" PREFIX=/usr >"$T/uninstall.out" 2>&1
got=$(cd "$D" && find . -type f | sed 's|^\./||' | sort | tr '\n' ' ')
expect_match "make uninstall removes everything but the changed config" "$got" '^usr/etc/sipwarden/sipwarden\.conf $'
cp "$ROOT/etc/sipwarden.conf" "$D/usr/etc/sipwarden/sipwarden.conf"
make -C "$ROOT" --no-print-directory uninstall DESTDIR="$D" PREFIX=/usr >"$T/uninstall2.out" 2>&1
got=$(cd "$D" && find . -type f | wc -l)
expect_match "make uninstall removes an unchanged config" "$got" '^0$'
if [ -d "$D/usr/etc/sipwarden" ]; then not_ok "... and its directory"; else ok "... and its directory"; fi
finish
