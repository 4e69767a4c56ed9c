#!/usr/bin/env python3
"""dns_stub: a tiny authoritative DNS server over UDP for the doctor's
RFC 3263 tests (tests/cli/test_check_netns.sh), answering from records given
on the command line:

    dns_stub.py --listen HOST:PORT [--lifetime SECONDS] RECORD...

    RECORD  "A name 10.0.0.1"
            "SRV name priority weight port target"
            "NAPTR name order preference flags service replacement"

A question with records of its type gets them (TTL 5); a known name without
that type gets an empty NOERROR answer; an unknown name NXDOMAIN. Names are
compared without case. Exits after --lifetime seconds (default 120).
"""
import argparse
import select
import socket
import struct
import sys
import time

TYPES = {"A": 1, "SRV": 33, "NAPTR": 35}


def enc_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def charstr(s):
    b = s.encode()
    return bytes([len(b)]) + b


def rdata(kind, f):
    if kind == "A":
        return socket.inet_aton(f[0])
    if kind == "SRV":
        return struct.pack("!HHH", int(f[0]), int(f[1]), int(f[2])) + enc_name(f[3])
    if kind == "NAPTR":
        return (struct.pack("!HH", int(f[0]), int(f[1])) + charstr(f[2]) + charstr(f[3]) + charstr("")
                + enc_name(f[4]))
    raise ValueError(kind)


def parse_question(q):
    """(name, type, end offset) of the first question."""
    i, labels = 12, []
    while q[i]:
        n = q[i]
        labels.append(q[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    qtype, _ = struct.unpack("!HH", q[i + 1:i + 5])
    return ".".join(labels).lower(), qtype, i + 5


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--lifetime", type=float, default=120.0)
    ap.add_argument("records", nargs="*")
    a = ap.parse_args()
    zone = {}  # (name, type) -> [rdata]
    names = set()
    for r in a.records:
        f = r.split()
        kind, name = f[0].upper(), f[1].lower().rstrip(".")
        zone.setdefault((name, TYPES[kind]), []).append(rdata(kind, f[2:]))
        names.add(name)
    host, _, port = a.listen.rpartition(":")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, int(port)))
    print("dns ready", flush=True)
    end = time.monotonic() + a.lifetime
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return 0
        if not select.select([s], [], [], left)[0]:
            continue
        q, src = s.recvfrom(4096)
        try:
            name, qtype, qend = parse_question(q)
        except (IndexError, struct.error):
            continue
        answers = zone.get((name, qtype), [])
        rcode = 0 if name in names else 3
        flags = 0x8400 | (q[2] & 0x01) << 8 | rcode  # QR, AA, RD copied
        resp = q[:2] + struct.pack("!HHHHH", flags, 1, len(answers), 0, 0) + q[12:qend]
        for rd in answers:
            resp += enc_name(name) + struct.pack("!HHIH", qtype, 1, 5, len(rd)) + rd
        s.sendto(resp, src)


if __name__ == "__main__":
    sys.exit(main())
