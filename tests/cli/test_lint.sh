#!/usr/bin/env bash
# sipwarden lint: exit codes, summary line, reasons with line/column, --json.
. "$(dirname "$0")/lib.sh"
C="$SW_CORPUS/rfc4475"

expect_exit 0 "valid REGISTER exits 0" -- "$SIPWARDEN" lint "$C/cparam01.dat"
expect_match "summary names method, URI, headers and body" "$OUT" '^REGISTER sip:example.com — 8 headers, body 0 bytes$'
expect_exit 0 "INVITE with SDP" -- "$SIPWARDEN" lint "$C/wsinv.dat"
expect_match "body length counted" "$OUT" 'body 150 bytes'
expect_exit 0 "trailing datagram bytes are ignored" -- "$SIPWARDEN" lint "$C/dblreq.dat"
expect_match "and said" "$OUT" 'trailing bytes ignored'

expect_exit 1 "SIP/7.0 is invalid" -- "$SIPWARDEN" lint "$C/badvers.dat"
expect_match "version reason and 505" "$OUT" 'line 1, column [0-9]+: unsupported SIP version.*'
expect_match "505 suggested" "$OUT" 'would answer 505 Version Not Supported'
expect_exit 1 "CSeq mismatch" -- "$SIPWARDEN" lint "$C/mismatch01.dat"
expect_match "CSeq reason names the header" "$OUT" 'line 6, column 9 \(CSeq\): the CSeq method does not match'
expect_exit 1 "unterminated quote" -- "$SIPWARDEN" lint "$C/quotbal.dat"
expect_match "To reason" "$OUT" '\(To\): the quoted display name does not end'

# stdin, and a message copied from a log with bare LF line ends
msg=$'OPTIONS sip:bob@example.com SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\nFrom: <sip:a@example.com>;tag=1\nTo: <sip:bob@example.com>\nCall-ID: abc\nCSeq: 1 OPTIONS\nContent-Length: 0\n\n'
OUT=$(printf '%s' "$msg" | "$SIPWARDEN" lint -); rc=$?
[ $rc -eq 0 ] && ok "stdin with bare LF is accepted" || not_ok "stdin with bare LF (exit $rc: $OUT)"
expect_match "stdin summary" "$OUT" '^OPTIONS sip:bob@example.com — 6 headers, body 0 bytes$'
OUT=$(printf 'garbage\r\n\r\n' | "$SIPWARDEN" lint -); rc=$?
[ $rc -eq 1 ] && ok "garbage on stdin exits 1" || not_ok "garbage on stdin (exit $rc)"
expect_match "garbage reason" "$OUT" '^invalid: line 1, column 8: '

# --json
expect_exit 0 "--json on a valid message" -- "$SIPWARDEN" lint --json "$C/esc01.dat"
if printf '%s' "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["valid"] and d["method"]=="INVITE" and d["body_length"]==150; h=[x for x in d["headers"] if x["name"]=="Contact"][0]; assert h["parsed"][0]["uri"]["host"]=="host5.example.net", h' 2>/tmp/sw_json_err; then
	ok "--json is valid JSON with parsed fields"
else
	not_ok "--json output: $(cat /tmp/sw_json_err)"
fi
expect_exit 1 "--json on an invalid message" -- "$SIPWARDEN" lint --json "$C/badinv01.dat"
if printf '%s' "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert not d["valid"]; e=d["error"]; assert e["header"]=="Via" and e["line"]==7 and e["status"]==400, e' 2>/tmp/sw_json_err; then
	ok "--json reports the error with line, header and status"
else
	not_ok "--json error: $(cat /tmp/sw_json_err) $OUT"
fi
rm -f /tmp/sw_json_err

# usage
expect_exit 2 "no file is a usage error" -- "$SIPWARDEN" lint
expect_exit 2 "unknown option is a usage error" -- "$SIPWARDEN" lint --bogus x
expect_exit 2 "missing file" -- "$SIPWARDEN" lint /nonexistent/file
expect_match "missing file reason" "$ERR" 'cannot open /nonexistent/file'
expect_exit 0 "--help" -- "$SIPWARDEN" lint --help
expect_match "--help documents exit codes" "$OUT" 'exit codes: 0 valid, 1 invalid'
expect_exit 2 "unknown command" -- "$SIPWARDEN" frobnicate
expect_exit 0 "top-level --help" -- "$SIPWARDEN" --help
expect_match "top-level help lists lint" "$OUT" 'lint'

# a truncated message on a stream is incomplete, not a crash
head -c 200 "$C/wsinv.dat" > /tmp/sw_trunc.$$
expect_exit 1 "truncated message with --stream" -- "$SIPWARDEN" lint --stream /tmp/sw_trunc.$$
expect_match "incomplete reason" "$OUT" 'incomplete'
rm -f /tmp/sw_trunc.$$
finish
