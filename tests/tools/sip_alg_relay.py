#!/usr/bin/env python3
"""sip_alg_relay: a UDP relay that rewrites SIP the way a router's SIP ALG
does, for the doctor's tests (tests/cli/test_check_netns.sh).

    sip_alg_relay.py --listen HOST:PORT --server HOST:PORT --public HOST
                     [--lifetime SECONDS]

Datagrams from a client arriving on --listen are forwarded to --server from
a socket of their own bound to --public (one per client address, as a NAT
maps each inside address:port to its own outside port). On the way out, the
top Via sent-by and every Contact host:port of a request are replaced with
--public and that outside port, the way an ALG "fixes" a private address.
On the way back, the top Via sent-by of a response is put back to what the
client sent (so that the client still matches it), and nothing else is
touched: a 200 to REGISTER lists the Contact the server stored, which is
the rewritten one. Non-SIP datagrams pass unchanged. Exits after --lifetime
seconds (default 120) so that a test can never leave it behind.
"""
import argparse
import re
import select
import socket
import sys
import time

VIA_RE = re.compile(rb"^(Via|v)([ \t]*:[ \t]*SIP/2\.0/[A-Za-z]+[ \t]+)([^;, \t\r\n]+)", re.I | re.M)
CONTACT_RE = re.compile(rb"^(Contact|m)([ \t]*:.*)$", re.I | re.M)
URI_HOSTPORT_RE = re.compile(rb"(sips?:(?:[^@;>\s]+@)?)(\[[0-9a-fA-F:.]+\]|[^;>:\s]+)(:\d+)?")


def hostport(host, port):
    return ("%s:%d" % (host, port)).encode()


def split_head(data):
    """(head, sep + body): the header part up to the empty line."""
    i = data.find(b"\r\n\r\n")
    return (data, b"") if i < 0 else (data[:i], data[i:])


def rewrite_request(data, public):
    """Via sent-by and Contact URIs to public ("host:port"); returns the new
    datagram and the sent-by it replaced (None when not a SIP request)."""
    head, rest = split_head(data)
    first = head.split(b"\r\n", 1)[0]
    if not first.endswith(b"SIP/2.0") or first.startswith(b"SIP/2.0"):
        return data, None
    original = []

    def via(m):
        original.append(m.group(3))
        return m.group(1) + m.group(2) + public

    head = VIA_RE.sub(via, head, count=1)

    def contact(m):
        value = URI_HOSTPORT_RE.sub(lambda u: u.group(1) + public, m.group(2))
        return m.group(1) + value

    head = CONTACT_RE.sub(contact, head)
    return head + rest, (original[0] if original else None)


def restore_response(data, sent_by):
    """Puts the top Via sent-by of a response back to what the client sent."""
    head, rest = split_head(data)
    if not head.startswith(b"SIP/2.0 ") or sent_by is None:
        return data
    return VIA_RE.sub(lambda m: m.group(1) + m.group(2) + sent_by, head, count=1) + rest


def addr(s):
    host, _, port = s.rpartition(":")
    return host.strip("[]"), int(port)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--server", required=True)
    ap.add_argument("--public", required=True)
    ap.add_argument("--lifetime", type=float, default=120.0)
    a = ap.parse_args()
    server = addr(a.server)
    inside = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    inside.bind(addr(a.listen))
    outside = {}   # client address -> its outside socket
    client_of = {} # outside socket -> client address
    sent_by = {}   # client address -> the last sent-by it used
    end = time.monotonic() + a.lifetime
    print("relay ready", flush=True)
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return 0
        ready, _, _ = select.select([inside] + list(client_of), [], [], left)
        for s in ready:
            try:
                data, src = s.recvfrom(65535)
            except OSError:
                continue
            if s is inside:
                out = outside.get(src)
                if out is None:
                    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    out.bind((a.public, 0))
                    outside[src] = out
                    client_of[out] = src
                public = hostport(a.public, out.getsockname()[1])
                data, orig = rewrite_request(data, public)
                if orig is not None:
                    sent_by[src] = orig
                out.sendto(data, server)
            else:
                client = client_of[s]
                inside.sendto(restore_response(data, sent_by.get(client)), client)


if __name__ == "__main__":
    sys.exit(main())
