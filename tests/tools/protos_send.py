#!/usr/bin/env python3
"""protos_send: sends every PROTOS c07-sip test case (cases.tar.gz of the
shared corpus) to a SIP server over UDP: each case's INVITE, then its teardown
(CANCEL), with the placeholders filled in as the unit test does and
Content-Length computed. Paced (a pause every 100 datagrams); answers are read
and counted, not judged.

    protos_send.py TARBALL HOST PORT FROM_AOR TO_AOR [--local-port P]

Prints "sent N answered M". Exit 0, or 2 on bad arguments.
"""
import argparse
import re
import socket
import tarfile
import time


def cases(path):
    with tarfile.open(path) as t:
        for m in sorted(t.getmembers(), key=lambda m: m.name):
            if m.isfile() and m.name.startswith("cases/"):
                yield m.name, t.extractfile(m).read()


def messages(raw):
    """The length-prefixed messages of one case ("454 INVITE ...")."""
    out, p = [], 0
    while p < len(raw):
        m = re.match(rb"(\d+) ", raw[p:])
        if not m:
            break
        n = int(m.group(1))
        start = p + m.end()
        out.append(raw[start:start + n])
        p = start + n
        while p < len(raw) and raw[p:p + 1] in (b"\r", b"\n"):
            p += 1
    return out


def fill(msg, subs):
    for k, v in subs.items():
        msg = msg.replace(k.encode(), v.encode())
    head, sep, body = msg.partition(b"\r\n\r\n")
    return msg.replace(b"<Content-Length>", str(len(body) if sep else 0).encode())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tarball")
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("from_aor")
    ap.add_argument("to_aor")
    ap.add_argument("--local-port", type=int, default=0)
    a = ap.parse_args()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", a.local_port))
    s.setblocking(False)
    lp = s.getsockname()[1]
    sent = answered = 0
    for n, (name, raw) in enumerate(cases(a.tarball)):
        subs = {"<To>": a.to_aor, "<From>": a.from_aor, "<From-Address>": "127.0.0.1",
                "<From-IP>": "127.0.0.1", "<Local-Port>": str(lp), "<Branch-ID>": "%07u" % n,
                "<Call-ID>": "protos-%07u" % n, "<CSeq>": "1", "<Teardown-Method>": "CANCEL"}
        for m in messages(raw):
            try:
                s.sendto(fill(m, subs)[:65000], (a.host, a.port))
                sent += 1
            except OSError:
                pass
        if n % 50 == 49:
            time.sleep(0.03)
        try:
            while True:
                s.recv(70000)
                answered += 1
        except BlockingIOError:
            pass
    end = time.time() + 2
    while time.time() < end:
        try:
            s.recv(70000)
            answered += 1
        except BlockingIOError:
            time.sleep(0.05)
    print("sent %d answered %d" % (sent, answered))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
