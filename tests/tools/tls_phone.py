#!/usr/bin/env python3
"""tls_phone: SIP phones over TLS with Python's ssl module, for tests.

    tls_phone.py PORT [--ca FILE] [--cert CERT KEY] register USER PASSWORD
    tls_phone.py PORT [--ca FILE] [--sips] call CALLER PW CALLEE PW
    tls_phone.py PORT [--ca FILE] invite CALLER PW REQUEST-URI
    tls_phone.py PORT [--ca FILE] hold SECONDS
    tls_phone.py PORT [--ca FILE] handshake

The server is 127.0.0.1:PORT, domain 127.0.0.1; the client verifies the
server's certificate against --ca (no --ca: the system's store) and the
name 127.0.0.1, as a phone configured with a CA file does.

register: REGISTER -> 401 -> REGISTER with an MD5 digest; prints
"REGISTER <status>". call: both register (the callee keeps its connection),
the caller INVITEs the callee, which must get the INVITE on the connection
it registered on; 180, 200 with SDP, ACK, BYE, 200. Prints one line per
step ("INVITE-RECEIVED Via: ... Record-Route: ...", "CALL 200", "ACK",
"BYE 200"); --sips calls sips:CALLEE. invite: an INVITE (answering the 407)
to REQUEST-URI; prints "INVITE <final status>". hold: handshakes, prints "CERT <subject CN>", waits SECONDS,
then sends OPTIONS on the same connection and prints "OPTIONS <status>".
handshake: prints "CERT <subject CN>". A TLS failure prints "TLS-ERROR
<reason>" and exits 3; a SIP step that fails exits 1.
"""
import argparse
import hashlib
import random
import socket
import ssl
import sys
import time

HOST = "127.0.0.1"


def die(msg, code=1):
    print(msg, flush=True)
    sys.exit(code)


class Phone:
    def __init__(self, port, ca, user=None, pw=None, cert=None):
        ctx = ssl.create_default_context(cafile=ca) if ca else ssl.create_default_context()
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if cert:
            ctx.load_cert_chain(cert[0], cert[1])
        raw = socket.create_connection((HOST, port), timeout=5)
        try:
            self.s = ctx.wrap_socket(raw, server_hostname=HOST)
        except (ssl.SSLError, OSError) as e:
            die("TLS-ERROR %s" % e, 3)
        self.user, self.pw, self.buf = user, pw, b""
        self.lport = self.s.getsockname()[1]
        self.tag = "%08x" % random.getrandbits(32)
        self.cseq = 0

    def cn(self):
        for rdn in self.s.getpeercert()["subject"]:
            for k, v in rdn:
                if k == "commonName":
                    return v
        return "?"

    def send(self, text):
        try:
            self.s.sendall(text.encode())
        except OSError as e:  # the server's alert may be waiting: it says why
            try:
                self.s.settimeout(2)
                self.s.recv(1)
            except ssl.SSLError as alert:
                e = alert
            except OSError:
                pass
            die("TLS-ERROR %s" % e, 3)

    def recv(self, timeout=5):
        """One whole SIP message: (start line, headers [(name, value)], body)."""
        end = time.time() + timeout
        while True:
            head, sep, rest = self.buf.partition(b"\r\n\r\n")
            if sep:
                lines = head.decode().split("\r\n")
                hdrs = [tuple(x.strip() for x in ln.split(":", 1)) for ln in lines[1:] if ":" in ln]
                clen = int(next((v for k, v in hdrs if k.lower() in ("content-length", "l")), "0"))
                if len(rest) >= clen:
                    self.buf = rest[clen:]
                    return lines[0], hdrs, rest[:clen].decode()
            left = end - time.time()
            if left <= 0:
                die("TIMEOUT waiting for a message")
            self.s.settimeout(left)
            try:
                d = self.s.recv(65536)
            except socket.timeout:
                continue
            except ssl.SSLError as e:  # TLS 1.3: a refused client certificate shows here
                die("TLS-ERROR %s" % e, 3)
            if not d:
                die("CLOSED by the server")
            self.buf += d

    def response(self, timeout=5):
        while True:
            start, hdrs, body = self.recv(timeout)
            code = int(start.split()[1])
            if code >= 200:
                return code, hdrs, body

    def via(self, branch):
        return "Via: SIP/2.0/TLS %s:%d;rport;branch=z9hG4bK%s\r\n" % (HOST, self.lport, branch)

    def request(self, method, ruri, to, extra="", body="", call_id=None, cseq=None, to_tag=""):
        self.cseq += 1
        self.branch = "%x" % random.getrandbits(48)
        text = ("%s %s SIP/2.0\r\n%sMax-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=%s\r\nTo: <%s>%s\r\n"
                "Call-ID: %s\r\nCSeq: %d %s\r\nContact: <sip:%s@%s:%d;transport=tls>\r\n%s"
                "Content-Length: %d\r\n\r\n%s") % (
            method, ruri, self.via(self.branch), self.user or "probe", HOST, self.tag,
            to, to_tag, call_id or self.call_id, cseq or self.cseq, method, self.user or "probe", HOST,
            self.lport, extra, len(body), body)
        self.send(text)

    def authorize(self, hdrs, method, uri, proxy):
        name = "proxy-authenticate" if proxy else "www-authenticate"
        ch = next(v for k, v in hdrs if k.lower() == name)
        p = dict((kv.split("=", 1)[0].strip(), kv.split("=", 1)[1].strip().strip('"'))
                 for kv in ch[len("Digest "):].split(","))
        ha1 = hashlib.md5(("%s:%s:%s" % (self.user, p["realm"], self.pw)).encode()).hexdigest()
        ha2 = hashlib.md5(("%s:%s" % (method, uri)).encode()).hexdigest()
        cn = "%x" % random.getrandbits(32)
        resp = hashlib.md5(("%s:%s:00000001:%s:auth:%s" % (ha1, p["nonce"], cn, ha2)).encode()).hexdigest()
        return ('%s: Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", '
                'algorithm=MD5, qop=auth, nc=00000001, cnonce="%s"%s\r\n') % (
            "Proxy-Authorization" if proxy else "Authorization", self.user, p["realm"], p["nonce"], uri,
            resp, cn, ', opaque="%s"' % p["opaque"] if "opaque" in p else "")

    def register(self):
        self.call_id = "reg-%x" % random.getrandbits(48)
        aor = "sip:%s@%s" % (self.user, HOST)
        self.request("REGISTER", "sip:" + HOST, aor, "Expires: 300\r\n")
        code, hdrs, _ = self.response()
        if code == 401:
            self.request("REGISTER", "sip:" + HOST, aor, "Expires: 300\r\n" +
                         self.authorize(hdrs, "REGISTER", "sip:" + HOST, False))
            code, hdrs, _ = self.response()
        return code


SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
CTYPE = "Content-Type: application/sdp\r\n"


def ack_final(a, ruri, hdrs):
    """The ACK of a non-2xx final (§17.1.1.3: the INVITE's branch, the response's To)."""
    to = next(v for k, v in hdrs if k.lower() in ("to", "t"))
    a.send(("ACK %s SIP/2.0\r\n%sMax-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=%s\r\nTo: %s\r\n"
            "Call-ID: %s\r\nCSeq: %d ACK\r\nContent-Length: 0\r\n\r\n") % (
        ruri, a.via(a.branch), a.user, HOST, a.tag, to, a.call_id, a.cseq))


def invite(a, ruri):
    """INVITE ruri, answering the 407; returns after the 407 was answered."""
    a.call_id = "call-%x" % random.getrandbits(48)
    a.request("INVITE", ruri, ruri, CTYPE, SDP)
    code, hdrs, _ = a.response()
    if code != 407:
        die("INVITE got %d, wanted 407 first" % code)
    ack_final(a, ruri, hdrs)
    a.request("INVITE", ruri, ruri, CTYPE + a.authorize(hdrs, "INVITE", ruri, True), SDP)


def call(a, b, scheme):
    ruri = "%s:%s@%s" % (scheme, b.user, HOST)
    sdp, ctype = SDP, CTYPE
    invite(a, ruri)
    start, hdrs, body = b.recv(10)
    if not start.startswith("INVITE "):
        die("the callee got %s instead of the INVITE" % start)
    vias = [v for k, v in hdrs if k.lower() in ("via", "v")]
    rrs = [v for k, v in hdrs if k.lower() == "record-route"]
    print("INVITE-RECEIVED Via: %s Record-Route: %s" % (vias[0], ", ".join(rrs)), flush=True)
    head = "".join("%s: %s\r\n" % (k, v) for k, v in hdrs
                   if k.lower() in ("via", "v", "from", "f", "call-id", "i", "cseq", "record-route"))
    to = next(v for k, v in hdrs if k.lower() in ("to", "t")) + ";tag=" + b.tag
    contact = "Contact: <sip:%s@%s:%d;transport=tls>\r\n" % (b.user, HOST, b.lport)
    b.send("SIP/2.0 180 Ringing\r\n%sTo: %s\r\n%sContent-Length: 0\r\n\r\n" % (head, to, contact))
    b.send("SIP/2.0 200 OK\r\n%sTo: %s\r\n%s%sContent-Length: %d\r\n\r\n%s" % (
        head, to, contact, ctype, len(sdp), sdp))
    while True:
        start, hdrs, _ = a.recv(10)
        code = int(start.split()[1])
        if code >= 200:
            break
    print("CALL %d" % code, flush=True)
    if code != 200:
        sys.exit(1)
    # the route set: the 200's Record-Route reversed; the request goes on our connection
    rr = [v for k, v in hdrs if k.lower() == "record-route"]
    route = "".join("Route: %s\r\n" % v for v in reversed(", ".join(rr).split(", "))) if rr else ""
    to_hdr = next(v for k, v in hdrs if k.lower() in ("to", "t"))
    remote = "sip:%s@%s:%d;transport=tls" % (b.user, HOST, b.lport)
    invite_cseq = a.cseq
    a.send(("ACK %s SIP/2.0\r\n%sMax-Forwards: 70\r\n%sFrom: <sip:%s@%s>;tag=%s\r\nTo: %s\r\n"
            "Call-ID: %s\r\nCSeq: %d ACK\r\nContent-Length: 0\r\n\r\n") % (
        remote, a.via("ack%x" % random.getrandbits(32)), route, a.user, HOST, a.tag, to_hdr, a.call_id,
        invite_cseq))
    start, _, _ = b.recv(10)
    if not start.startswith("ACK "):
        die("the callee got %s instead of the ACK" % start)
    print("ACK", flush=True)
    a.send(("BYE %s SIP/2.0\r\n%sMax-Forwards: 70\r\n%sFrom: <sip:%s@%s>;tag=%s\r\nTo: %s\r\n"
            "Call-ID: %s\r\nCSeq: %d BYE\r\nContent-Length: 0\r\n\r\n") % (
        remote, a.via("bye%x" % random.getrandbits(32)), route, a.user, HOST, a.tag, to_hdr, a.call_id,
        invite_cseq + 1))
    start, hdrs, _ = b.recv(10)
    if not start.startswith("BYE "):
        die("the callee got %s instead of the BYE" % start)
    head = "".join("%s: %s\r\n" % (k, v) for k, v in hdrs
                   if k.lower() in ("via", "v", "from", "f", "to", "t", "call-id", "i", "cseq"))
    b.send("SIP/2.0 200 OK\r\n%sContent-Length: 0\r\n\r\n" % head)
    code, _, _ = a.response(10)
    print("BYE %d" % code, flush=True)
    sys.exit(0 if code == 200 else 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--ca")
    ap.add_argument("--sips", action="store_true")
    ap.add_argument("--cert", nargs=2, metavar=("CERT", "KEY"), help="a client certificate")
    ap.add_argument("cmd", choices=["register", "call", "invite", "hold", "handshake"])
    ap.add_argument("args", nargs="*")
    o = ap.parse_args()
    if o.cmd == "register":
        p = Phone(o.port, o.ca, o.args[0], o.args[1], o.cert)
        code = p.register()
        print("REGISTER %d" % code, flush=True)
        sys.exit(0 if code == 200 else 1)
    if o.cmd == "call":
        a = Phone(o.port, o.ca, o.args[0], o.args[1])
        b = Phone(o.port, o.ca, o.args[2], o.args[3])
        for p in (a, b):
            code = p.register()
            if code != 200:
                die("REGISTER of %s: %d" % (p.user, code))
        call(a, b, "sips" if o.sips else "sip")
    if o.cmd == "invite":
        a = Phone(o.port, o.ca, o.args[0], o.args[1])
        invite(a, o.args[2])
        code, hdrs, _ = a.response(10)
        print("INVITE %d" % code, flush=True)
        if code >= 300:
            ack_final(a, o.args[2], hdrs)
        sys.exit(0)
    p = Phone(o.port, o.ca)
    print("CERT %s" % p.cn(), flush=True)
    if o.cmd == "hold":
        time.sleep(float(o.args[0]))
        p.call_id = "hold-%x" % random.getrandbits(48)
        p.request("OPTIONS", "sip:" + HOST, "sip:" + HOST)
        code, _, _ = p.response()
        print("OPTIONS %d" % code, flush=True)
        sys.exit(0 if code == 200 else 1)


if __name__ == "__main__":
    main()
