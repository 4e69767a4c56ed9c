#!/usr/bin/env python3
"""sipcat: a tiny SIP send/expect client for the protocol tests.

    sipcat.py [--tcp] [--timeout S] HOST PORT send FILE [--sub K=V]... [--times N] [--out PREFIX]
    sipcat.py [--tcp] [--timeout S] HOST PORT options
    sipcat.py [--tcp] [--timeout S] HOST PORT register --user U --domain D [--password P] ...

`send` sends the bytes of FILE (or '-' for stdin), N times on one socket, and
collects every response until --timeout passes without one. `register` runs
REGISTER -> 401 -> REGISTER with a computed MD5 digest (qop=auth) and can save
or reuse the challenge (--save-challenge / --challenge) and retransmit the
authenticated request byte for byte (--retransmit).

Every response is printed as "RESP <n> <status line>" on stdout; with --out
PREFIX the raw bytes go to PREFIX.<n>. Exit: 0 at least one response, 3 none,
2 usage, 4 cannot bind.
"""
import argparse
import hashlib
import json
import os
import random
import re
import socket
import sys
import time


def parse_response(data):
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("utf-8", "replace").split("\r\n")
    status = lines[0]
    hdrs = []
    for ln in lines[1:]:
        if ":" in ln:
            k, v = ln.split(":", 1)
            hdrs.append((k.strip().lower(), v.strip()))
    return status, hdrs, body


def header(hdrs, name):
    return [v for k, v in hdrs if k == name.lower()]


class Conn:
    def __init__(self, host, port, tcp, timeout, bind=None):
        self.tcp = tcp
        self.timeout = timeout
        self.addr = (host, port)
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        if tcp:
            self.s = socket.create_connection(self.addr, timeout=timeout)
            self.buf = b""
        else:
            self.s = socket.socket(fam, socket.SOCK_DGRAM)
            self.s.bind(bind or ("::1" if fam == socket.AF_INET6 else "127.0.0.1", 0))
        self.local_port = self.s.getsockname()[1]

    def send(self, data):
        if self.tcp:
            self.s.sendall(data)
        else:
            self.s.sendto(data, self.addr)

    def recv(self, timeout=None):
        """One message, or None after timeout seconds of silence."""
        t = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + t
        if not self.tcp:
            self.s.settimeout(t)
            try:
                data, _ = self.s.recvfrom(70000)
                return data
            except (socket.timeout, ConnectionRefusedError):
                return None
        while True:
            m = self.frame()
            if m is not None:
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.s.settimeout(left)
            try:
                chunk = self.s.recv(65536)
            except socket.timeout:
                return None
            except ConnectionResetError:
                return None
            if not chunk:
                return None
            self.buf += chunk

    def frame(self):
        while self.buf.startswith(b"\r\n"):  # keep-alive pong
            self.buf = self.buf[2:]
        i = self.buf.find(b"\r\n\r\n")
        if i < 0:
            return None
        m = re.search(rb"(?im)^(?:content-length|l)[ \t]*:[ \t]*(\d+)", self.buf[:i])
        n = int(m.group(1)) if m else 0
        if len(self.buf) < i + 4 + n:
            return None
        msg, self.buf = self.buf[: i + 4 + n], self.buf[i + 4 + n:]
        return msg


class Out:
    def __init__(self, prefix):
        self.prefix = prefix
        self.n = 0

    def emit(self, data):
        self.n += 1
        status = data.split(b"\r\n", 1)[0].decode("utf-8", "replace")
        print(f"RESP {self.n} {status}", flush=True)
        if self.prefix:
            with open(f"{self.prefix}.{self.n}", "wb") as f:
                f.write(data)


def cmd_send(a, conn, out):
    data = sys.stdin.buffer.read() if a.file == "-" else open(a.file, "rb").read()
    for kv in a.sub or []:
        k, v = kv.split("=", 1)
        data = data.replace(k.encode(), v.encode())
    data = data.replace(b"@LOCALPORT@", str(conn.local_port).encode())
    for _ in range(a.times):
        conn.send(data)
        if a.gap:
            time.sleep(a.gap)
    for _ in range(a.max):
        m = conn.recv()
        if m is None:
            break
        out.emit(m)
    return 0 if out.n else 3


def build_register(a, conn, cseq, branch, auth=None, expires=None):
    tp = "TCP" if conn.tcp else "UDP"
    lp = conn.local_port
    ruri = a.ruri or f"sip:{a.domain}:{a.port}"
    lines = [
        f"REGISTER {ruri} SIP/2.0",
        f"Via: SIP/2.0/{tp} 127.0.0.1:{lp};branch={branch};rport",
        "Max-Forwards: 70",
        f"From: <sip:{a.user}@{a.domain}>;tag={a.from_tag}",
        f"To: <sip:{a.user}@{a.domain}>",
        f"Call-ID: {a.call_id}",
        f"CSeq: {cseq} REGISTER",
    ]
    contacts = a.contact if a.contact is not None else [f"<sip:{a.user}@127.0.0.1:{lp}>"]
    for c in contacts:
        if c:
            lines.append(f"Contact: {c.replace('@LOCALPORT@', str(lp))}")
    exp = a.expires if expires is None else expires
    if exp is not None:
        lines.append(f"Expires: {exp}")
    if auth:
        lines.append(auth)
    for h in a.header or []:
        lines.append(h)
    lines.append(f"User-Agent: {a.user_agent}")
    lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def parse_challenge(value):
    scheme, _, rest = value.partition(" ")
    params = dict((k.lower(), v) for k, v in re.findall(r'([A-Za-z0-9-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]+)', rest))
    return scheme, {k: v.strip('"') for k, v in params.items()}


def md5(s):
    return hashlib.md5(s.encode()).hexdigest()


def authorization(a, ch, nc):
    realm, nonce = ch["realm"], ch["nonce"]
    ruri = a.digest_uri or a.ruri or f"sip:{a.domain}:{a.port}"
    user = a.auth_user or a.user
    ha1 = md5(f"{user}:{realm}:{a.password}")
    ha2 = md5(f"REGISTER:{ruri}")
    cnonce = "%08x" % random.getrandbits(32)
    ncs = "%08x" % nc
    resp = md5(f"{ha1}:{nonce}:{ncs}:{cnonce}:auth:{ha2}")
    parts = [f'username="{user}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{ruri}"',
             f'response="{resp}"', "algorithm=MD5", f'cnonce="{cnonce}"', "qop=auth", f"nc={ncs}"]
    if "opaque" in ch:
        parts.append(f'opaque="{ch["opaque"]}"')
    return "Authorization: Digest " + ", ".join(parts)


def cmd_register(a, conn, out):
    a.call_id = a.call_id or "%016x@sipcat" % random.getrandbits(64)
    a.from_tag = a.from_tag or "%08x" % random.getrandbits(32)
    cseq = a.cseq
    br = lambda: "z9hG4bK%016x" % random.getrandbits(64)
    ch = None
    nc = 1
    if a.challenge and os.path.exists(a.challenge):
        with open(a.challenge) as f:
            saved = json.load(f)
        ch, nc = saved["challenge"], saved["nc"] + 1
    elif a.password is not None:
        conn.send(build_register(a, conn, cseq, br()))
        m = conn.recv()
        if m is None:
            return 3
        out.emit(m)
        st, hdrs, _ = parse_response(m)
        cseq += 1
        if not st.startswith("SIP/2.0 401"):
            return 0
        for v in header(hdrs, "www-authenticate"):
            scheme, p = parse_challenge(v)
            if scheme.lower() == "digest" and p.get("algorithm", "MD5").upper() == "MD5":
                ch = p
                break
        if ch is None:
            print("no MD5 digest challenge", file=sys.stderr)
            return 3
    rounds = a.rounds
    while rounds > 0:
        rounds -= 1
        auth = authorization(a, ch, nc) if ch else None
        req = build_register(a, conn, cseq, br(), auth)
        if a.save_request:
            with open(a.save_request, "wb") as f:
                f.write(req)
        for _ in range(2 if a.retransmit else 1):
            conn.send(req)
            m = conn.recv()
            if m is None:
                return 3 if out.n == 0 else 0
            out.emit(m)
        st, hdrs, _ = parse_response(m)
        cseq += 1
        nc += 1
        if st.startswith("SIP/2.0 423") and a.follow_423:
            mins = header(hdrs, "min-expires")
            a.expires = int(mins[0]) if mins else a.expires
            rounds += 1
            a.follow_423 = False
            continue
        if st.startswith("SIP/2.0 401") and a.follow_stale:
            for v in header(hdrs, "www-authenticate"):
                scheme, p = parse_challenge(v)
                if p.get("algorithm", "MD5").upper() == "MD5":
                    if p.get("stale", "").lower() == "true":
                        ch, nc = p, 1
                        rounds += 1
                        a.follow_stale = False
                    break
    if a.save_challenge and ch:
        with open(a.save_challenge, "w") as f:
            json.dump({"challenge": ch, "nc": nc - 1}, f)
    return 0 if out.n else 3


def cmd_options(a, conn, out):
    lp = conn.local_port
    tp = "TCP" if conn.tcp else "UDP"
    req = (f"OPTIONS sip:{a.host}:{a.port} SIP/2.0\r\n"
           f"Via: SIP/2.0/{tp} 127.0.0.1:{lp};branch=z9hG4bK{random.getrandbits(64):016x};rport\r\n"
           "Max-Forwards: 70\r\n"
           f"From: <sip:ping@127.0.0.1>;tag={random.getrandbits(32):08x}\r\n"
           f"To: <sip:{a.host}:{a.port}>\r\n"
           f"Call-ID: {random.getrandbits(64):016x}@sipcat\r\n"
           "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode()
    conn.send(req)
    m = conn.recv()
    if m is None:
        return 3
    out.emit(m)
    return 0 if m.startswith(b"SIP/2.0 200 ") else 1


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tcp", action="store_true")
    p.add_argument("--timeout", type=float, default=2.0)
    p.add_argument("--out", help="write each response to OUT.<n>")
    p.add_argument("--bind-via", metavar="ADDR", help="(send) bind the UDP socket to ADDR and the port of the file's top Via (5060 when none)")
    p.add_argument("host")
    p.add_argument("port", type=int)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send")
    s.add_argument("file")
    s.add_argument("--sub", action="append", help="replace K by V in the bytes")
    s.add_argument("--times", type=int, default=1)
    s.add_argument("--gap", type=float, default=0.0, help="seconds between copies")
    s.add_argument("--max", type=int, default=1, help="responses to wait for")
    sub.add_parser("options")
    r = sub.add_parser("register")
    r.add_argument("--user", required=True)
    r.add_argument("--domain", required=True)
    r.add_argument("--password")
    r.add_argument("--auth-user")
    r.add_argument("--ruri")
    r.add_argument("--digest-uri")
    r.add_argument("--contact", action="append", help="Contact value ('' for none)")
    r.add_argument("--expires", type=int)
    r.add_argument("--call-id")
    r.add_argument("--cseq", type=int, default=1)
    r.add_argument("--from-tag")
    r.add_argument("--header", action="append")
    r.add_argument("--user-agent", default="sipcat")
    r.add_argument("--rounds", type=int, default=1, help="authenticated requests to send")
    r.add_argument("--retransmit", action="store_true", help="send the authenticated request twice")
    r.add_argument("--follow-423", action="store_true")
    r.add_argument("--follow-stale", action="store_true")
    r.add_argument("--save-challenge")
    r.add_argument("--challenge", help="reuse the challenge saved in this file")
    r.add_argument("--save-request")
    a = p.parse_args()
    bind = None
    if a.bind_via:
        # answer address of a request without rport: the source address and
        # the port of the top Via (RFC 3261 18.2.2): bind there to hear it
        data = open(a.file, "rb").read()
        m = re.search(rb"(?im)^(?:via|v)[ \t]*:[ \t]*SIP[ \t]*/[^/]*/[ \t]*[A-Za-z]+[ \t]+(\[[^\]]*\]|[^;:, \t\r\n]+)(?::(\d+))?", data)
        bind = (a.bind_via, int(m.group(2)) if m and m.group(2) else 5060)
    try:
        conn = Conn(a.host, a.port, a.tcp, a.timeout, bind)
    except OSError as e:
        print(f"cannot bind {bind}: {e}", file=sys.stderr)
        sys.exit(4)
    out = Out(a.out)
    sys.exit({"send": cmd_send, "options": cmd_options, "register": cmd_register}[a.cmd](a, conn, out))


if __name__ == "__main__":
    main()
