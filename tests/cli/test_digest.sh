#!/usr/bin/env bash
# sipwarden digest: calculator (RFC vectors) and --verify with mistake naming.
. "$(dirname "$0")/lib.sh"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

# --- calculator: RFC 2617 §3.5 and RFC 7616 §3.9.1
expect_exit 0 "RFC 2617 response" -- "$SIPWARDEN" digest --username Mufasa --realm testrealm@host.com \
	--password "Circle Of Life" --method GET --uri /dir/index.html \
	--nonce dcd98b7102dd2f0e8b11d0f600bfb0c093 --qop auth --nc 00000001 --cnonce 0a4f113b
expect_match "RFC 2617 value" "$OUT" '^6629fae49393a05397450978507c4ef1$'
expect_exit 0 "RFC 7616 SHA-256 verbose" -- "$SIPWARDEN" digest --algorithm SHA-256 --username Mufasa \
	--realm http-auth@example.org --password "Circle of Life" --method GET --uri /dir/index.html \
	--nonce 7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v --qop auth --nc 00000001 \
	--cnonce f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ --verbose
expect_match "SHA-256 response" "$OUT" 'response: 753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1'
expect_match "verbose HA1" "$OUT" 'HA1: [0-9a-f]{64}'
expect_match "verbose HA2" "$OUT" 'HA2: [0-9a-f]{64}'
expect_exit 0 "--ha1 instead of password, JSON" -- "$SIPWARDEN" digest --ha1 939e7578ed9e3c518a452acee763bce9 \
	--method GET --uri /dir/index.html --nonce dcd98b7102dd2f0e8b11d0f600bfb0c093 --qop auth \
	--nc 00000001 --cnonce 0a4f113b --json
expect_match "JSON response" "$OUT" '"response":"6629fae49393a05397450978507c4ef1"'
# auth-int with a body file (corpus vector smith-3.5)
if [ -f "$SW_CORPUS/digest/bodies/draft-smith-sdp.txt" ]; then
	v=$(sed -n '/^id: smith-3.5-authint-md5$/,/^$/p' "$SW_CORPUS/digest/vectors.txt")
	g() { printf '%s\n' "$v" | sed -n "s/^$1: //p"; }
	expect_exit 0 "auth-int with --body-file" -- "$SIPWARDEN" digest --username "$(g username)" \
		--realm "$(g realm)" --password "$(g password)" --method "$(g method)" --uri "$(g uri)" \
		--nonce "$(g nonce)" --qop auth-int --nc "$(g nc)" --cnonce "$(g cnonce)" \
		--body-file "$SW_CORPUS/digest/bodies/draft-smith-sdp.txt"
	expect_match "auth-int response" "$OUT" "^$(g response)\$"
fi
expect_exit 2 "missing --nonce" -- "$SIPWARDEN" digest --username a --realm r --password p --method M --uri u
expect_exit 2 "qop without nc" -- "$SIPWARDEN" digest --username a --realm r --password p --method M --uri u --nonce n --qop auth
expect_exit 2 "unknown algorithm" -- "$SIPWARDEN" digest --algorithm SHA-1 --username a --realm r --password p --method M --uri u --nonce n
expect_exit 2 "short --ha1" -- "$SIPWARDEN" digest --ha1 abcd --method M --uri u --nonce n
expect_exit 2 "unknown option" -- "$SIPWARDEN" digest --frobnicate
expect_exit 0 "--help" -- "$SIPWARDEN" digest --help
expect_match "--help documents exit codes" "$OUT" 'exit codes: 0 .*1 it does not'

# --- verifier: a REGISTER whose phone hashed realm "asterisk"
calc() { "$SIPWARDEN" digest --username "$1" --realm "$2" --password s3cret --method REGISTER \
	--uri "$3" --nonce abc123 --qop auth --nc 00000001 --cnonce xyz --algorithm "${4:-MD5}"; }
reg() { # user realm uri response [qop]
	printf 'REGISTER sip:pbx.example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.2:5060;branch=z9hG4bK1\r\nMax-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=1\r\nTo: <sip:alice@example.com>\r\nCall-ID: c1\r\nCSeq: 2 REGISTER\r\nContact: <sip:alice@192.0.2.2>\r\nAuthorization: Digest username="%s", realm="%s", nonce="abc123", uri="%s", response="%s", qop=%s, nc=00000001, cnonce="xyz", algorithm=MD5\r\nContent-Length: 0\r\n\r\n' "$1" "$2" "$3" "$4" "${5:-auth}"
}
reg alice voip sip:pbx.example.com "$(calc alice voip sip:pbx.example.com)" >"$T/ok.sip"
expect_exit 0 "verify: right response" -- "$SIPWARDEN" digest --verify "$T/ok.sip" --password s3cret
expect_match "verify says match" "$OUT" '^match: the response is right'
expect_exit 1 "verify: wrong password" -- "$SIPWARDEN" digest --verify "$T/ok.sip" --password nope
expect_match "wrong password named" "$OUT" 'cause: +wrong-password'

reg alice voip sip:pbx.example.com "$(calc alice asterisk sip:pbx.example.com)" >"$T/asterisk.sip"
expect_exit 1 "verify: realm asterisk" -- "$SIPWARDEN" digest --verify "$T/asterisk.sip" --password s3cret
expect_match "names realm asterisk" "$OUT" "the phone hashed realm 'asterisk'"
expect_match "maps to realm-mismatch" "$OUT" 'cause: +realm-mismatch'
reg alice voip sip:pbx.example.com "$(calc alice example.com sip:pbx.example.com)" >"$T/todomain.sip"
expect_exit 1 "verify: To domain as realm" -- "$SIPWARDEN" digest --verify "$T/todomain.sip" --password s3cret
expect_match "names the To domain" "$OUT" "hashed realm 'example.com'"
reg alice voip sip:pbx.example.com "$(calc alice hidden sip:pbx.example.com)" >"$T/chal.sip"
expect_exit 1 "verify: challenge realm" -- "$SIPWARDEN" digest --verify "$T/chal.sip" --password s3cret --challenge-realm hidden
expect_match "names the challenge realm" "$OUT" "hashed realm 'hidden'"
reg alice voip sip:10.0.0.1 "$(calc alice voip sip:pbx.example.com)" >"$T/uri.sip"
expect_exit 1 "verify: Request-URI hashed" -- "$SIPWARDEN" digest --verify "$T/uri.sip" --password s3cret --json
expect_match "JSON names uri mistake" "$OUT" '"match":false,.*"mistake":"uri","cause":"uri-mismatch"'
reg alice voip sip:pbx.example.com "$(calc alice@example.com voip sip:pbx.example.com)" >"$T/user.sip"
expect_exit 1 "verify: username@domain" -- "$SIPWARDEN" digest --verify "$T/user.sip" --password s3cret
expect_match "names username" "$OUT" "hashed username 'alice@example.com' but sent 'alice'"
reg alice voip sip:pbx.example.com "$(calc alice voip sip:pbx.example.com SHA-256)" >"$T/alg.sip"
expect_exit 1 "verify: other algorithm" -- "$SIPWARDEN" digest --verify "$T/alg.sip" --password s3cret
expect_match "names algorithm" "$OUT" "hashed with SHA-256 but declared algorithm=MD5"

# just the header line, from stdin, with --method / --request-uri
grep '^Authorization' "$T/uri.sip" >"$T/hdr.txt"
expect_exit 1 "header line needs the Request-URI for the uri check" -- \
	bash -c "\"$SIPWARDEN\" digest --verify - --password s3cret --method REGISTER --request-uri sip:pbx.example.com <\"$T/hdr.txt\""
expect_match "header line: uri mistake" "$OUT" "hashed the Request-URI 'sip:pbx.example.com'"
expect_exit 2 "header line without --method" -- "$SIPWARDEN" digest --verify "$T/hdr.txt" --password s3cret
ha1=$("$SIPWARDEN" digest --username alice --realm voip --password s3cret --method X --uri y --nonce z --json | sed 's/.*"ha1":"\([0-9a-f]*\)".*/\1/')
expect_exit 0 "verify with --ha1" -- "$SIPWARDEN" digest --verify "$T/ok.sip" --ha1 "$ha1"
expect_exit 2 "verify without password or ha1" -- "$SIPWARDEN" digest --verify "$T/ok.sip"
expect_exit 2 "verify with both" -- "$SIPWARDEN" digest --verify "$T/ok.sip" --password a --ha1 "$ha1"
printf 'garbage\n' >"$T/bad.txt"
expect_exit 2 "verify: not a message" -- "$SIPWARDEN" digest --verify "$T/bad.txt" --password x
expect_exit 2 "verify: missing file" -- "$SIPWARDEN" digest --verify "$T/none.sip" --password x
finish
