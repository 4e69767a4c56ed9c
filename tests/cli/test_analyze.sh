#!/usr/bin/env bash
# sipwarden analyze: exit codes, text/JSON/HTML output, credentials proving
# wrong-password vs right, the public captures.
. "$(dirname "$0")/lib.sh"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
D="$TESTDATA/analyze"
CAP="$SW_CORPUS/captures"

expect_exit 0 "--help" -- "$SIPWARDEN" analyze --help
expect_match "--help documents exit codes" "$OUT" 'exit codes: 0 no failure found, 1 failures found, 2 usage'
expect_exit 2 "no input" -- "$SIPWARDEN" analyze
expect_exit 2 "bad --port" -- "$SIPWARDEN" analyze --port 70000 "$D/not-answered.log"
expect_exit 2 "unknown option" -- "$SIPWARDEN" analyze --frobnicate "$D/not-answered.log"
expect_exit 3 "missing file" -- "$SIPWARDEN" analyze "$T/none.pcap"
expect_match "missing file reason" "$ERR" 'cannot open'
printf 'hello\n' > "$T/junk.txt"
expect_exit 3 "neither capture nor log" -- "$SIPWARDEN" analyze "$T/junk.txt"
expect_match "junk reason" "$ERR" 'no SIP message found'

expect_exit 1 "text log: failure found" -- "$SIPWARDEN" analyze "$D/not-answered.log"
expect_match "summary first" "$OUT" '^summary'
expect_match "cause named" "$OUT" 'verdict: challenge-not-answered'
expect_match "fix given" "$OUT" 'fix: '
expect_match "evidence: frame and addresses" "$OUT" '#2 2024-05-01 10:00:00.100000 10.0.0.1:5060 -> 10.0.0.2:5060'
expect_exit 0 "--user filters to another AOR" -- "$SIPWARDEN" analyze --user nobody@example.com "$D/not-answered.log"
expect_exit 1 "--json" -- "$SIPWARDEN" analyze --json "$D/not-answered.log"
if command -v python3 >/dev/null; then
	v=$(printf '%s' "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); f=d["flows"][0]; print(f["verdict"]["cause"], len(f["messages"]), f["messages"][1]["frame"], f["messages"][1]["src"])')
	expect_match "JSON: flow, messages, verdict" "$v" '^challenge-not-answered 2 2 10.0.0.1:5060$'
fi

# a flow with a digest answer computed here for a known password
nonce=n0nce
resp() { "$SIPWARDEN" digest --username erin --realm voip --password "$1" --method REGISTER \
	--uri sip:example.com --nonce $nonce --qop auth --nc 00000001 --cnonce cn; }
mklog() { # $1 response, $2 final status line
	cat <<LOG
2024/05/01 10:00:00.000001 10.0.0.2:5060 -> 10.0.0.1:5060
REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKe1
From: <sip:erin@example.com>;tag=1
To: <sip:erin@example.com>
Call-ID: cli2
CSeq: 1 REGISTER
Content-Length: 0

2024/05/01 10:00:00.100000 10.0.0.1:5060 -> 10.0.0.2:5060
SIP/2.0 401 Unauthorized
Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKe1
From: <sip:erin@example.com>;tag=1
To: <sip:erin@example.com>;tag=2
Call-ID: cli2
CSeq: 1 REGISTER
WWW-Authenticate: Digest realm="voip", nonce="$nonce", algorithm=MD5, qop="auth"
Content-Length: 0

2024/05/01 10:00:01.000000 10.0.0.2:5060 -> 10.0.0.1:5060
REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKe2
From: <sip:erin@example.com>;tag=1
To: <sip:erin@example.com>
Call-ID: cli2
CSeq: 2 REGISTER
Authorization: Digest username="erin", realm="voip", nonce="$nonce", uri="sip:example.com", response="$1", algorithm=MD5, qop=auth, nc=00000001, cnonce="cn"
Content-Length: 0

2024/05/01 10:00:01.100000 10.0.0.1:5060 -> 10.0.0.2:5060
$2
Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKe2
From: <sip:erin@example.com>;tag=1
To: <sip:erin@example.com>;tag=2
Call-ID: cli2
CSeq: 2 REGISTER
Content-Length: 0

LOG
}
printf '# test account\nerin@example.com,s3cret\n' > "$T/creds"
mklog "$(resp wrong)" "SIP/2.0 403 Forbidden" > "$T/wrong.log"
mklog "$(resp s3cret)" "SIP/2.0 200 OK" > "$T/right.log"
mklog "$(resp s3cret)" "SIP/2.0 403 Forbidden" > "$T/refused.log"
expect_exit 1 "wrong password without credentials" -- "$SIPWARDEN" analyze "$T/wrong.log"
expect_match "credentials-rejected" "$OUT" 'verdict: credentials-rejected'
expect_exit 1 "wrong password with credentials" -- "$SIPWARDEN" analyze --credentials "$T/creds" "$T/wrong.log"
expect_match "wrong-password proved" "$OUT" 'verdict: wrong-password \[proved with credentials\]'
expect_exit 0 "right password with credentials" -- "$SIPWARDEN" analyze --credentials "$T/creds" --verbose "$T/right.log"
expect_match "ok proved" "$OUT" 'verdict: ok \[proved with credentials\]'
expect_exit 1 "right password refused" -- "$SIPWARDEN" analyze --credentials "$T/creds" "$T/refused.log"
expect_match "refused-after-valid-digest" "$OUT" 'verdict: refused-after-valid-digest'
printf 'erin-no-domain,pw\n' > "$T/badcreds"
expect_exit 2 "malformed credentials file" -- "$SIPWARDEN" analyze --credentials "$T/badcreds" "$T/right.log"
expect_match "credentials line named" "$ERR" 'line 1'
expect_exit 1 "two inputs" -- "$SIPWARDEN" analyze "$T/right.log" "$D/not-answered.log"
expect_match "two inputs: summary counts both" "$OUT" 'auth flows: 2, succeeded: 1, failed: 1'

# HTML: self-contained, a ladder per failing flow
expect_exit 1 "--html" -- "$SIPWARDEN" analyze --html "$T/r.html" "$T/wrong.log"
h=$(cat "$T/r.html" 2>/dev/null)
expect_match "HTML has the ladder SVG" "$h" '<svg xmlns="http://www.w3.org/2000/svg" class="ladder"'
expect_match "HTML names the cause" "$h" 'class="cause">credentials-rejected'
if printf '%s' "$h" | grep -Eq '(src|href)="?https?:'; then not_ok "HTML loads nothing from the network"; else ok "HTML loads nothing from the network"; fi

# the public captures
if [ -f "$CAP/zeek-wireshark-register-auth-invite.pcap" ]; then
	expect_exit 1 "zeek REGISTER/INVITE capture" -- "$SIPWARDEN" analyze "$CAP/zeek-wireshark-register-auth-invite.pcap"
	# the INVITE answered 408 without authentication, and the one refused
	# 480 after it: a final error is never ok (request-refused)
	expect_match "zeek summary" "$OUT" 'auth flows: 13, succeeded: 3, failed: 10'
	expect_match "zeek request-refused" "$OUT" 'request-refused +2'
	expect_match "zeek stale-without-flag" "$OUT" 'stale-without-flag +5'
	expect_match "zeek credentials-rejected" "$OUT" 'credentials-rejected +3'
	expect_exit 0 "ndpi pcapng: clean" -- "$SIPWARDEN" analyze "$CAP/ndpi-sip_hello.pcapng"
	expect_match "ndpi: two successes" "$OUT" 'auth flows: 2, succeeded: 2, failed: 0'
	# one INVITE is refused 403 (a failure), one cancelled (487: not a failure)
	expect_exit 1 "TCP on port 6060 with --port" -- "$SIPWARDEN" analyze --port 6060 "$CAP/heplify-sip_ipv4_tcp_fragmented.pcap"
	expect_match "heplify: one failure" "$OUT" 'failed: 1;'
	expect_match "heplify: the 403" "$OUT" 'request-refused +1'
	expect_match "heplify: the cancelled call" "$OUT" 'request-cancelled +1'
	expect_match "406 messages reassembled" "$OUT" 'SIP messages: 406'
	head -c 30000 "$CAP/zeek-wireshark-register-auth-invite.pcap" > "$T/cut.pcap"
	expect_exit 3 "truncated capture" -- "$SIPWARDEN" analyze "$T/cut.pcap"
	expect_match "truncated: reason" "$ERR" 'truncated'
	expect_match "truncated: what was read is reported" "$OUT" '^summary'
	for f in "$CAP"/*.pcap* "$CAP"/synthetic/*.pcap; do
		"$SIPWARDEN" analyze --json "$f" > /dev/null 2> "$T/err"; rc=$?
		if [ $rc -le 1 ]; then ok "corpus $(basename "$f") read"; else not_ok "corpus $(basename "$f") (exit $rc: $(cat "$T/err"))"; fi
	done
fi
finish
