#!/usr/bin/env bash
# sipwarden serve against hostile TCP clients: a slowloris client holding
# hundreds of connections and trickling a byte a second does not stop a
# phone from registering over TCP, and its connections are closed at
# message_timeout; a client that opens connections until refused is refused
# at max_connections_per_source and the server stays responsive; a silent
# connection is closed at first_byte_timeout; max_connections caps them in
# all, whichever worker accepts them. Loopback, ports 40000-44999.
. "$(dirname "$0")/serve_lib.sh"

command -v sipp >/dev/null || { not_ok "sipp is not installed (scripts/deps.sh)"; finish; exit 1; }
printf '[tcp]\nmax_connections = 120\nmax_connections_per_source = 50\nfirst_byte_timeout = 2\nmessage_timeout = 3\n' >"$T/tcp.conf"
expect_exit 0 "--check-config shows the hostile-TCP settings" -- "$SIPWARDEN" serve --check-config \
	--config "$T/tcp.conf" --domain 127.0.0.1
expect_match "max_connections_per_source" "$OUT" '^max_connections_per_source = 50$'
expect_match "first_byte_timeout" "$OUT" '^first_byte_timeout = 2$'
expect_match "message_timeout" "$OUT" '^message_timeout = 3$'
SW_DB="$T/tcp.db"
sw_user add phone@127.0.0.1 --password phone-pw >/dev/null
SW_PORT=$(free_port 40000 44999) || { not_ok "no free port in 40000-44999"; finish; exit 1; }
sw_start tcp --config "$T/tcp.conf" || { finish; exit 1; }

# hostile SRC N SECONDS: opens N connections from SRC, then for SECONDS sends
# one byte a second of a REGISTER on each that is still open; prints how
# many the server closed at once (refused), how many it closed later (and
# after how long, at most), and how many stayed open
hostile() {
	python3 - "$1" "$SW_PORT" "$2" "$3" <<'PY'
import select, socket, sys, time
src, port, n, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
msg = b"REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP " + src.encode() + b";branch=z9hG4bKslow\r\n"
conns, t0 = [], time.time()
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    conns.append([s, t0, None])   # socket, opened, closed at
time.sleep(0.3)
def reap(now):
    r, _, _ = select.select([c[0] for c in conns if c[2] is None], [], [], 0)
    for c in conns:
        if c[2] is None and c[0] in r:
            try:
                data = c[0].recv(4096)
            except OSError:
                data = b""
            if not data:
                c[2] = now
reap(time.time())
refused_at_once = [c[0] for c in conns if c[2] is not None]
refused = len(refused_at_once)
k = 0
while time.time() - t0 < secs:
    for c in conns:
        if c[2] is None:
            try:
                c[0].send(msg[k % len(msg):k % len(msg) + 1])
            except OSError:
                c[2] = time.time()
    k += 1
    time.sleep(1)
    reap(time.time())
later = [c[2] - c[1] for c in conns if c[2] is not None and c[0] not in refused_at_once]
still = sum(1 for c in conns if c[2] is None)
print(refused, len(later), "%.1f" % max(later) if later else "-", still)
PY
}

# 1. slowloris from 127.0.0.1: 300 connections, a byte a second for 7 s,
#    while a phone registers over TCP from 127.0.0.2
printf 'SEQUENTIAL\nphone;127.0.0.1;[authentication username=phone password=phone-pw]\n' >"$T/phone.csv"
hostile 127.0.0.1 300 7 >"$T/slow.out" &
SLOW=$!
bg_track "$SLOW"
sleep 1.5
timeout 60 sipp "127.0.0.1:$SW_PORT" -t t1 -i 127.0.0.2 -p "$(free_port 40000 44999)" -nostdin \
	-sf "$SIPP_DIR/register_users.xml" -inf "$T/phone.csv" \
	-m 3 -r 2 -recv_timeout 3000 -timeout 20 -trace_msg -message_file "$T/phone.msg" >"$T/phone.out" 2>&1 </dev/null
PHONE_RC=$?
if [ "$PHONE_RC" -eq 0 ] && [ "$(grep -c '^SIP/2.0 200' "$T/phone.msg")" -eq 3 ]; then
	ok "a phone on 127.0.0.2 registers over TCP 3 times out of 3 during the slowloris"
else
	not_ok "the phone during the slowloris: sipp exit $PHONE_RC, $(grep -c '^SIP/2.0 200' "$T/phone.msg") of 3"
fi
wait "$SLOW"
read -r REFUSED LATER MAXT STILL <"$T/slow.out"
if [ "$REFUSED" -eq 250 ]; then ok "slowloris: 250 of 300 connections refused at max_connections_per_source (50)"; else
	not_ok "slowloris: $REFUSED of 300 refused at once (wanted 250; later $LATER, still open $STILL)"; fi
if [ "$LATER" -eq 50 ] && [ "$STILL" -eq 0 ]; then
	ok "the 50 trickling connections were closed by message_timeout (3 s; the last after ${MAXT} s)"
else
	not_ok "trickling connections: $LATER closed later (after at most ${MAXT} s), $STILL still open (wanted 50 and 0)"
fi

# 2. a client opening connections until refused, from 127.0.0.3: it stops at
#    the first connection closed at once; then those still open are counted
#    (each held connection sends a keep-alive ping, so first_byte_timeout
#    does not close it)
HELD=$(python3 - "$SW_PORT" <<'PY'
import select, socket, sys, time
port, conns, refused = int(sys.argv[1]), [], False
for i in range(1000):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.3", 0))
    s.connect(("127.0.0.1", port))
    r, _, _ = select.select([s], [], [], 0.02)
    if r and s.recv(1) == b"":
        refused = True
        break
    s.sendall(b"\r\n\r\n")   # a keep-alive ping: past first_byte_timeout, not a message
    conns.append(s)
time.sleep(0.5)
open_ = 0
for s in conns:     # still open: no EOF (a pong, "\r\n", may be waiting)
    s.setblocking(False)
    try:
        open_ += s.recv(16) != b""
    except BlockingIOError:
        open_ += 1
print("refused" if refused else "never-refused", open_)
PY
)
expect_match "a client opening connections until refused is refused, and holds exactly 50" "$HELD" '^refused 50$'
# 2b. max_connections (120) in all: 50 + 50 + 20 from three addresses, then
#     a fourth address's OPTIONS over TCP is refused while UDP is answered;
#     once they close, TCP is answered again
sleep 0.5
CAP=$(python3 - "$SW_PORT" <<'PY'
import select, socket, subprocess, sys, time
port = int(sys.argv[1])
def until_refused(src):
    held = []
    for i in range(1000):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((src, 0))
        s.connect(("127.0.0.1", port))
        r, _, _ = select.select([s], [], [], 0.02)
        if r and s.recv(1) == b"":
            return held
        s.sendall(b"\r\n\r\n")
        held.append(s)
    return held
def options(src):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(2)
    s.connect(("127.0.0.1", port))
    lp = s.getsockname()[1]
    s.sendall(("OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP %s:%d;branch=z9hG4bKcap%d\r\n"
               "From: <sip:p@%s>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: cap%d\r\nCSeq: 1 OPTIONS\r\n"
               "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n" % (src, lp, lp, src, lp)).encode())
    try:
        d = s.recv(100)
    except (socket.timeout, OSError):
        d = b""
    s.close()
    return d.split(b" ")[1].decode() if d else "refused"
groups = [until_refused(a) for a in ("127.0.0.6", "127.0.0.7", "127.0.0.8")]
time.sleep(0.3)
full = options("127.0.0.9")
for g in groups:
    for s in g:
        s.close()
time.sleep(0.5)
print(" ".join(str(len(g)) for g in groups), full, options("127.0.0.9"))
PY
)
expect_match "max_connections: 50 + 50 + 20 held, a fourth address refused over TCP, answered once they close" \
	"$CAP" '^50 50 20 refused 200$'
sw_alive "the server still answers OPTIONS over UDP"
OUT=$("${SIPCAT[@]}" --tcp --timeout 2 127.0.0.1 "$SW_PORT" options 2>&1)
expect_match "and over TCP from another address's share (127.0.0.1)" "$OUT" 'RESP 1 SIP/2.0 200'

# 3. silent connections are closed at first_byte_timeout
SILENT=$(python3 - "$SW_PORT" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
conns = []
for i in range(10):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.5", 0))
    s.connect(("127.0.0.1", port))
    s.settimeout(6)
    conns.append(s)
t0, closed, last = time.time(), 0, 0.0
for s in conns:
    try:
        if s.recv(1) == b"":
            closed += 1
            last = time.time() - t0
    except (socket.timeout, OSError):
        pass
print(closed, "%.0f" % last)
PY
)
expect_match "10 silent connections are closed after first_byte_timeout (2 s; checked each second)" "$SILENT" '^10 [234]$'
sw_stop
finish
