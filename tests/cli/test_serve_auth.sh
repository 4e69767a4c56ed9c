#!/usr/bin/env bash
# sipwarden serve: what the wire tells an attacker (unknown user and wrong
# password answered alike), what `why` and `events` tell the administrator,
# and the command line (--help, --check-config).
. "$(dirname "$0")/serve_lib.sh"

# --help, --check-config
expect_exit 0 "serve --help" -- "$SIPWARDEN" serve --help
expect_match "help shows the usage" "$OUT" '^usage: sipwarden serve'
expect_match "help documents --check-config and the exit codes" "$OUT" 'exit codes'
cat >"$T/good.conf" <<'EOF'
[registrar]
domain = example.com
min_expires = 30
[auth]
nonce_lifetime = 2
EOF
expect_exit 0 "--check-config of a valid file exits 0" -- timeout 10 "$SIPWARDEN" serve --check-config --config "$T/good.conf"
expect_match "and prints the configuration" "$OUT" 'nonce_lifetime = 2'
expect_match "and says OK" "$OUT" 'configuration OK'
printf '[registrar]\ndomain = example.com\n\n[auth]\nnonce_lifetim = 2\n' >"$T/bad.conf"
expect_exit 1 "--check-config of a file with an unknown key exits 1" -- timeout 10 "$SIPWARDEN" serve --check-config --config "$T/bad.conf"
expect_match "names file:line and the key" "$ERR" "bad\\.conf:5: .*nonce_lifetim"
printf '[registrar]\ndomain = example.com\nmin_expires = 600\nmax_expires = 300\n' >"$T/minmax.conf"
expect_exit 1 "--check-config: min_expires above max_expires exits 1" -- timeout 10 "$SIPWARDEN" serve --check-config --config "$T/minmax.conf"
expect_match "and says why" "$ERR" 'min_expires.*max_expires'
expect_exit 1 "--check-config without any domain exits 1" -- timeout 10 "$SIPWARDEN" serve --check-config
expect_exit 0 "--check-config: flags complete the file" -- timeout 10 "$SIPWARDEN" serve --check-config --config "$T/good.conf" --min-expires 45
expect_match "the flag wins" "$OUT" 'min_expires = 45'
expect_exit 2 "an unknown flag is a usage error" -- timeout 10 "$SIPWARDEN" serve --frobnicate

# enumeration: the answer to a digest from an unknown user and to one with a
# wrong password differ only in nonce, To tag and Date. Both REGISTER the
# same AOR with the same Call-ID, From tag and CSeq; only the digest
# username (and so the response) differs, and the Via branch and port.
SW_DB="$T/auth.db"
sw_user add alice@127.0.0.1 --password secret >/dev/null
sw_start auth || { finish; exit 1; }
norm() {
	sed -E -e 's/nonce="[^"]*"/nonce="N"/g' -e 's/;tag=[0-9a-f]+\r$/;tag=T\r/' \
		-e 's/^Date: .*/Date: D/' -e 's/branch=[^;,]*/branch=B/' \
		-e 's/127\.0\.0\.1:[0-9]+/127.0.0.1:P/g' -e 's/rport=[0-9]+/rport=P/' "$1"
}
for who in wrongpw unknown; do
	au=alice; [ $who = unknown ] && au=nosuchuser
	"${SIPCAT[@]}" --out "$T/enum-$who" 127.0.0.1 "$SW_PORT" register --user alice --domain 127.0.0.1 \
		--auth-user "$au" --password not-the-password --call-id enum@test --from-tag 1234 --expires 300 \
		>"$T/enum-$who.out"
done
if [ -s "$T/enum-wrongpw.2" ] && [ -s "$T/enum-unknown.2" ]; then
	head -n1 "$T/enum-unknown.2" | grep -q '^SIP/2.0 401 ' && ok "unknown user: 401" || not_ok "unknown user: $(head -n1 "$T/enum-unknown.2")"
	head -n1 "$T/enum-wrongpw.2" | grep -q '^SIP/2.0 401 ' && ok "wrong password: 401" || not_ok "wrong password: $(head -n1 "$T/enum-wrongpw.2")"
	if d=$(diff <(norm "$T/enum-wrongpw.2") <(norm "$T/enum-unknown.2")); then
		ok "the two 401s are identical but for nonce, tag, Date (and the echoed branch and port)"
	else
		not_ok "the two 401s differ: $d"
	fi
	[ "$(wc -c <"$T/enum-wrongpw.2")" = "$(wc -c <"$T/enum-unknown.2")" ] &&
		ok "the two 401s have the same length" ||
		not_ok "lengths differ: $(wc -c <"$T/enum-wrongpw.2") vs $(wc -c <"$T/enum-unknown.2")"
	d=$(diff <(grep -v '^Via' "$T/enum-wrongpw.2" | sed -E 's/nonce="[^"]*"/N/g; s/;tag=[0-9a-f]+\r$//; s/^Date: .*//') \
		<(grep -v '^Via' "$T/enum-unknown.2" | sed -E 's/nonce="[^"]*"/N/g; s/;tag=[0-9a-f]+\r$//; s/^Date: .*//'))
	[ -z "$d" ] && ok "outside Via, only nonce, tag and Date differ" || not_ok "differ outside Via: $d"
	d=$(diff <(norm "$T/enum-wrongpw.1") <(norm "$T/enum-unknown.1"))
	[ -z "$d" ] && ok "the first 401s (no credentials) are alike too" || not_ok "first 401s differ: $d"
else
	not_ok "no second answer: $(cat "$T/enum-wrongpw.out" "$T/enum-unknown.out")"
fi
# RFC 3581 §4: a request with rport gets rport=<source port> and received
# in the top Via of the response
if grep -Eq '^Via: .*;rport=[0-9]+' "$T/enum-unknown.1" && grep -Eq '^Via: .*;received=127\.0\.0\.1' "$T/enum-unknown.1"; then
	ok "rport: the response's Via carries rport=PORT and received"
else
	known_bug "rport: the response's Via echoes ';rport' without the source port and received (RFC 3581 4): $(grep '^Via' "$T/enum-unknown.1" | tr -d '\r')"
fi
# while the administrator sees the difference
wait_match "why alice: wrong-password" '"cause":"wrong-password"' \
	"$SIPWARDEN" why alice@127.0.0.1 --json --db "$SW_DB"
wait_match "events: unknown-user for nosuchuser" '"auth_user":"nosuchuser".*"cause":"unknown-user"|"cause":"unknown-user".*"auth_user":"nosuchuser"' \
	"$SIPWARDEN" events --cause unknown-user --db "$SW_DB" --json
OUT=$("$SIPWARDEN" why alice@127.0.0.1 --db "$SW_DB")
expect_match "why (text) explains wrong-password in words" "$OUT" 'wrong-password'
expect_match "why (text) shows the source address" "$OUT" '127\.0\.0\.1'
expect_match "the server log line names the cause" "$(cat "$T/auth.log")" '"cause":"unknown-user"'
expect_match "the server log has the auth username" "$(cat "$T/auth.log")" '"auth_user":"nosuchuser"'

# a user disabled while the server runs is refused within a second (403)
sw_user disable alice@127.0.0.1 >/dev/null
sleep 1.3
OUT=$("${SIPCAT[@]}" 127.0.0.1 "$SW_PORT" register --user alice --domain 127.0.0.1 --password secret --expires 300)
expect_match "disabled while running: 403" "$OUT" 'RESP 2 SIP/2.0 403'
wait_match "why alice: account-disabled" '"cause":"account-disabled"' \
	"$SIPWARDEN" why alice@127.0.0.1 --json --last 1 --db "$SW_DB"
sw_user enable alice@127.0.0.1 >/dev/null
sleep 1.3
OUT=$("${SIPCAT[@]}" 127.0.0.1 "$SW_PORT" register --user alice --domain 127.0.0.1 --password secret --expires 300)
expect_match "enabled again: 200" "$OUT" 'RESP 2 SIP/2.0 200'
# a password changed while the server runs (the credential cache follows the
# store's change log): the old one fails, the new one works, within a second
sw_user passwd alice@127.0.0.1 --password n3w-secret >/dev/null
sleep 1.3
OUT=$("${SIPCAT[@]}" 127.0.0.1 "$SW_PORT" register --user alice --domain 127.0.0.1 --password secret --expires 300)
expect_match "password changed while running: the old one gets 401" "$OUT" 'RESP 2 SIP/2.0 401'
OUT=$("${SIPCAT[@]}" 127.0.0.1 "$SW_PORT" register --user alice --domain 127.0.0.1 --password n3w-secret --expires 300)
expect_match "and the new one 200" "$OUT" 'RESP 2 SIP/2.0 200'
sw_user passwd alice@127.0.0.1 --password secret >/dev/null
sleep 1.3
# another user's AOR: 403 auth-user-mismatch; another domain: 404
sw_user add bob@127.0.0.1 --password bobpw >/dev/null
sleep 1.3
OUT=$("${SIPCAT[@]}" 127.0.0.1 "$SW_PORT" register --user alice --auth-user bob --domain 127.0.0.1 --password bobpw --expires 300)
expect_match "bob registering alice: 403" "$OUT" 'RESP 2 SIP/2.0 403'
wait_match "why bob: auth-user-mismatch" '"cause":"auth-user-mismatch"' \
	"$SIPWARDEN" why bob@127.0.0.1 --json --db "$SW_DB"
OUT=$("${SIPCAT[@]}" 127.0.0.1 "$SW_PORT" register --user alice --domain 127.0.0.1 --ruri sip:elsewhere.example --password secret)
expect_match "a domain not served: 404" "$OUT" 'RESP 1 SIP/2.0 404'
# RFC 5626 keep-alive over TCP: a double CRLF ping gets a CRLF pong, and the
# connection still carries requests
OUT=$(python3 - "$SW_PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
s.sendall(b"\r\n\r\n")
print(repr(s.recv(16)))
PY
)
expect_match "TCP: CRLFCRLF ping answered with a CRLF pong" "$OUT" "^b'\\\\r\\\\n'$"
sw_alive "server still answers"
sw_stop

# max_contacts: a third contact is refused with 403, why says too-many-contacts
printf '[registrar]\nmax_contacts = 2\n' >"$T/max2.conf"
SW_PORT= SW_DB="$T/max2.db"
sw_user add alice@127.0.0.1 --password secret >/dev/null
sw_start max2 --config "$T/max2.conf" || { finish; exit 1; }
OUT=$("${SIPCAT[@]}" 127.0.0.1 "$SW_PORT" register --user alice --domain 127.0.0.1 --password secret --expires 300 \
	--contact '<sip:alice@127.0.0.1:1>' --contact '<sip:alice@127.0.0.1:2>')
expect_match "two contacts with max_contacts = 2: 200" "$OUT" 'RESP 2 SIP/2.0 200'
OUT=$("${SIPCAT[@]}" 127.0.0.1 "$SW_PORT" register --user alice --domain 127.0.0.1 --password secret --expires 300 \
	--contact '<sip:alice@127.0.0.1:3>')
expect_match "a third one: 403" "$OUT" 'RESP 2 SIP/2.0 403'
wait_match "why alice: too-many-contacts" '"cause":"too-many-contacts"' \
	"$SIPWARDEN" why alice@127.0.0.1 --json --last 1 --db "$SW_DB"
n=$("$SIPWARDEN" registrations alice@127.0.0.1 --json --db "$SW_DB" | json_q 'len(j)')
[ "$n" = 2 ] && ok "still two bindings" || not_ok "$n bindings"
sw_stop
finish
