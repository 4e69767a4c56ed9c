#!/usr/bin/env python3
"""flood.py: a bounded flood of UDP datagrams at a SIP server, for the tests.

    flood.py HOST PORT --kind junk|noauth|badauth [--count N] [--seconds S]
             [--sources K] [--first-source 3]

Sends at most N datagrams (default 20000) within at most S seconds
(default 10), as fast as it can, from K loopback addresses
127.0.0.F .. 127.0.0.(F+K-1) in turn (default one, 127.0.0.3). Kinds:
  junk     random bytes, truncated SIP requests, a REGISTER with a 60 kB
           header, binary garbage after a valid start line (in turn)
  noauth   REGISTER without credentials (each a new transaction)
  badauth  REGISTER with an Authorization the server did not issue
           (nonce-invalid)
Prints "sent N in S s" and exits 0. Reads nothing back.
"""
import argparse
import os
import random
import socket
import sys
import time


def register(i, src, auth):
    lines = [
        "REGISTER sip:127.0.0.1 SIP/2.0",
        f"Via: SIP/2.0/UDP {src}:5999;branch=z9hG4bKflood{i}x{random.getrandbits(32)};rport",
        "Max-Forwards: 70",
        f"From: <sip:flood{i % 1000}@127.0.0.1>;tag=f{i}",
        f"To: <sip:flood{i % 1000}@127.0.0.1>",
        f"Call-ID: flood-{i}-{random.getrandbits(32)}@{src}",
        "CSeq: 1 REGISTER",
        f"Contact: <sip:flood{i % 1000}@{src}:5999>",
        "User-Agent: flood.py",
    ]
    if auth:
        lines.append(f'Authorization: Digest username="flood{i % 1000}", realm="127.0.0.1", '
                     'nonce="bm90LW91cnM", uri="sip:127.0.0.1", '
                     'response="00000000000000000000000000000000"')
    return ("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode()


def junk(i, src):
    k = i % 4
    if k == 0:
        return os.urandom(random.randint(1, 1400))
    if k == 1:
        whole = register(i, src, False)
        return whole[:random.randint(1, len(whole) - 1)]
    if k == 2:
        return register(i, src, False).replace(b"User-Agent: flood.py",
                                                b"X-Huge: " + b"a" * 60000)
    return b"REGISTER sip:127.0.0.1 SIP/2.0\r\n" + os.urandom(random.randint(1, 1000))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--kind", choices=["junk", "noauth", "badauth"], required=True)
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--sources", type=int, default=1)
    ap.add_argument("--first-source", type=int, default=3)
    a = ap.parse_args()
    socks = []
    for k in range(a.sources):
        src = f"127.0.0.{a.first_source + k}"
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        s.bind((src, 0))
        socks.append((s, src))
    t0 = time.monotonic()
    sent = 0
    for i in range(a.count):
        if time.monotonic() - t0 > a.seconds:
            break
        s, src = socks[i % len(socks)]
        if a.kind == "junk":
            data = junk(i, src)
        else:
            data = register(i, src, a.kind == "badauth")
        try:
            s.sendto(data, (a.host, a.port))
            sent += 1
        except (BlockingIOError, ConnectionRefusedError, OSError):
            time.sleep(0.001)
    print(f"sent {sent} in {time.monotonic() - t0:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
