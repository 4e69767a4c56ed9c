#!/usr/bin/env python3
"""Drives one baresip through its ctrl_tcp module (JSON in netstrings, one connection) and
logs what it says, one JSON object a line, each with "t" (seconds since the start) added.

  baresip_ctrl.py --port P --out FILE [--timeout S] [--until TYPE[:N]]
                  [--at SECONDS:COMMAND[:PARAMS]]... [--on TYPE[+DELAY]:COMMAND[:PARAMS]]...

--port P        ctrl_tcp_listen port on 127.0.0.1 (connection retried for 5 s)
--out FILE      the log: events ({"event":true,"type":...}) and command responses
                ({"response":true,"ok":...,"data":...})
--timeout S     stop after S seconds (default 60); exit status 3 if --until was not met
--until TYPE:N  stop once N (default 1) events of TYPE (e.g. CALL_CLOSED) were seen
--at S:CMD:P    send command CMD with params P S seconds after connecting
--on T+D:CMD:P  send it D seconds (default 0) after the first event of type T
Exit status 0 when --until was met (or not given), 2 when baresip could not be reached.
"""
import argparse
import json
import socket
import sys
import time


def netstring(b):
    return str(len(b)).encode() + b':' + b + b','


def parse_cmd(spec):
    parts = spec.split(':', 2)
    return parts[1], (parts[2] if len(parts) > 2 else '')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--port', type=int, required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--timeout', type=float, default=60)
    ap.add_argument('--until')
    ap.add_argument('--at', action='append', default=[])
    ap.add_argument('--on', action='append', default=[])
    a = ap.parse_args()

    start = time.monotonic()
    sock = None
    while time.monotonic() - start < 5:
        try:
            sock = socket.create_connection(('127.0.0.1', a.port), timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    out = open(a.out, 'a', buffering=1)
    if sock is None:
        out.write(json.dumps({'t': 0, 'error': 'cannot connect to ctrl_tcp'}) + '\n')
        return 2
    sock.settimeout(0.1)
    t0 = time.monotonic()

    pending = []  # (due time or None, trigger type, cmd, params)
    for spec in a.at:
        when = float(spec.split(':', 1)[0])
        cmd, params = parse_cmd(spec)
        pending.append([t0 + when, None, cmd, params])
    for spec in a.on:
        trig = spec.split(':', 1)[0]
        typ, _, delay = trig.partition('+')
        cmd, params = parse_cmd(spec)
        pending.append([None, (typ, float(delay or 0)), cmd, params])
    until_type, until_n = None, 1
    if a.until:
        until_type, _, n = a.until.partition(':')
        until_n = int(n or 1)
    seen = {}
    buf = b''
    token = 0
    met = until_type is None

    def log(obj):
        obj = dict(obj)
        obj['t'] = round(time.monotonic() - t0, 3)
        out.write(json.dumps(obj, separators=(',', ':')) + '\n')

    while time.monotonic() - t0 < a.timeout:
        now = time.monotonic()
        for p in pending:
            if p[0] is not None and p[0] <= now:
                token += 1
                msg = {'command': p[2], 'params': p[3], 'token': str(token)}
                log({'sent': msg})
                try:
                    sock.sendall(netstring(json.dumps(msg).encode()))
                except OSError as e:
                    log({'error': 'send: %s' % e})
                p[0] = float('inf')
        try:
            data = sock.recv(65536)
            if not data:
                log({'error': 'ctrl_tcp connection closed'})
                break
            buf += data
        except socket.timeout:
            pass
        except OSError as e:
            log({'error': 'recv: %s' % e})
            break
        while True:
            colon = buf.find(b':')
            if colon < 0:
                break
            try:
                n = int(buf[:colon])
            except ValueError:
                log({'error': 'bad netstring', 'bytes': buf[:80].decode('latin-1')})
                buf = b''
                break
            if len(buf) < colon + 1 + n + 1:
                break
            body = buf[colon + 1:colon + 1 + n]
            buf = buf[colon + 2 + n:]
            try:
                obj = json.loads(body.decode('utf-8', 'replace'))
            except ValueError:
                obj = {'raw': body.decode('utf-8', 'replace')}
            log(obj)
            typ = obj.get('type') if obj.get('event') else None
            if typ:
                seen[typ] = seen.get(typ, 0) + 1
                for p in pending:
                    if p[1] is not None and p[1][0] == typ and p[0] is None:
                        p[0] = time.monotonic() + p[1][1]
                if typ == until_type and seen[typ] >= until_n:
                    met = True
        if met and until_type is not None:
            break
    sock.close()
    return 0 if met else 3


if __name__ == '__main__':
    sys.exit(main())
