#!/usr/bin/env bash
# sipwarden serve over TLS. A test CA, server certificates (one for a reload,
# an expired one, one under an intermediate, another key) are made here with
# the openssl CLI. Checked: --check-config names an expired certificate, a key
# of another certificate, a missing intermediate and an unreadable file; the
# doctor (`sipwarden check --transport tls`), a Python ssl phone and baresip
# (with a CA file) register over TLS (the binding says tls); a call between two Python ssl phones, the
# INVITE reaching the callee on the connection it registered on, with Via
# and Record-Route saying TLS; a client without the CA fails its
# verification; SIGHUP puts a new certificate on new connections while an
# old connection stays up, and a broken file keeps the old one; client
# certificates verified when presented, then required; the TCP caps
# and a handshake timeout apply to TLS; TLS 1.1 and suites without forward
# secrecy are refused. Loopback, ports 48000-48999.
. "$(dirname "$0")/serve_lib.sh"

PHONE=(python3 "$TOOLS/tls_phone.py")
C="$T/pki"
mkdir -p "$C"
# mkcert NAME SUBJECT ISSUER [DAYS] [ca]: a P-256 key and a certificate
# signed by ISSUER: for 127.0.0.1, an intermediate CA with "ca", a phone's
# client certificate with "client"
mkcert() {
	if [ "${5:-}" = ca ]; then
		printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' >"$C/$1.ext"
	elif [ "${5:-}" = client ]; then
		printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n' >"$C/$1.ext"
	else
		printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$C/$1.ext"
	fi
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$C/$1.key" \
		-out "$C/$1.csr" -subj "$2" 2>/dev/null &&
		openssl x509 -req -in "$C/$1.csr" -CA "$C/$3.pem" -CAkey "$C/$3.key" -CAcreateserial \
			-out "$C/$1.pem" -days "${4:-2}" -extfile "$C/$1.ext" 2>/dev/null
}
if openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$C/ca.key" \
	-out "$C/ca.pem" -days 2 -subj "/CN=sipwarden test CA" -addext basicConstraints=critical,CA:TRUE \
	-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null &&
	mkcert a "/CN=sip-a" ca && mkcert b "/CN=sip-b" ca && mkcert old "/CN=sip-old" ca -1 &&
	mkcert other "/CN=sip-other" ca &&
	mkcert inter "/CN=sipwarden test intermediate" ca 2 ca &&
	mkcert leaf "/CN=sip-leaf" inter && mkcert phone "/CN=phone" ca 2 client; then
	ok "test CA and certificates made with openssl"
else
	not_ok "openssl could not make the test certificates"; finish; exit 1
fi
cat "$C/leaf.pem" "$C/inter.pem" >"$C/fullchain.pem"

# tlsconf FILE CERT KEY [more lines]: a configuration with [tls] and [tcp]
tlsconf() {
	local f=$1 cert=$2 key=$3; shift 3
	printf '[tls]\ncertificate = %s\nprivate_key = %s\nca = %s\nhandshake_timeout = 2\n%s\n' \
		"$cert" "$key" "$C/ca.pem" "$*" >"$f"
	printf '[tcp]\nmax_connections_per_source = 20\n' >>"$f"
}
check_config() { # DESC WANT-EXIT REGEX CONF: serve --check-config with a tls: listener
	expect_exit "$2" "$1" -- "$SIPWARDEN" serve --check-config --config "$4" --domain 127.0.0.1 \
		--listen tls:127.0.0.1:48999
	expect_match "$1: the message" "$OUT$ERR" "$3"
}

# ---- --check-config ------------------------------------------------------------
tlsconf "$T/good.conf" "$C/a.pem" "$C/a.key"
check_config "check-config: a valid certificate" 0 \
	'# TLS certificate: subject CN = sip-a, issuer CN = sipwarden test CA, valid until' "$T/good.conf"
expect_match "check-config: the [tls] keys are printed" "$OUT" $'ca = .*/ca.pem\nrequire_client_certificate = no\nciphers = ECDHE\\+AESGCM:ECDHE\\+CHACHA20\nhandshake_timeout = 2'
tlsconf "$T/expired.conf" "$C/old.pem" "$C/old.key"
check_config "check-config: an expired certificate, exit 1" 1 \
	'certificate .*/old.pem \(subject CN = sip-old\) expired on [0-9-]+ [0-9:]+ UTC: renew it' "$T/expired.conf"
tlsconf "$T/wrongkey.conf" "$C/a.pem" "$C/other.key"
check_config "check-config: the key of another certificate, exit 1" 1 \
	'private key .*/other.key does not match the certificate .*/a.pem \(subject CN = sip-a\)' "$T/wrongkey.conf"
tlsconf "$T/nointer.conf" "$C/leaf.pem" "$C/leaf.key"
check_config "check-config: a missing intermediate, exit 1" 1 \
	'the chain is incomplete: the issuer \(CN = sipwarden test intermediate\) of CN = sip-leaf is neither in the file nor a trusted CA: append the missing intermediate' "$T/nointer.conf"
tlsconf "$T/fullchain.conf" "$C/fullchain.pem" "$C/leaf.key"
check_config "check-config: the same with the intermediate in the file" 0 'subject CN = sip-leaf' "$T/fullchain.conf"
tlsconf "$T/missing.conf" "$C/nothere.pem" "$C/a.key"
check_config "check-config: an unreadable certificate, exit 1" 1 \
	'certificate .*/nothere.pem: cannot read: No such file or directory' "$T/missing.conf"
printf '[tls]\ncertificate = %s\nprivate_key = %s\nrequire_client_certificate = yes\n' "$C/a.pem" "$C/a.key" >"$T/req.conf"
check_config "check-config: require_client_certificate without ca, exit 1" 1 \
	'require_client_certificate needs .ca. in \[tls\]' "$T/req.conf"
# the flat names (tls_certificate, tls_key, tls_ca) in [server], and as flags
printf '[server]\ntls_certificate = %s\ntls_key = %s\ntls_ca = %s\n' "$C/a.pem" "$C/a.key" "$C/ca.pem" >"$T/flat.conf"
check_config "check-config: tls_certificate, tls_key, tls_ca in [server]" 0 'subject CN = sip-a' "$T/flat.conf"
expect_match "check-config: printed under their [tls] names" "$OUT" $'\\[tls\\]\ncertificate = .*/a.pem\nprivate_key = .*/a.key\nca = .*/ca.pem'
expect_exit 1 "serve --tls-key: the flag form, here with another certificate's key" -- "$SIPWARDEN" serve \
	--check-config --config "$T/flat.conf" --tls-key "$C/other.key" --domain 127.0.0.1 --listen tls:127.0.0.1:48999
expect_match "serve --tls-key: the reason" "$ERR" 'does not match the certificate'
expect_exit 1 "serve refuses to start with a key of another certificate" -- timeout 10 "$SIPWARDEN" serve \
	--config "$T/wrongkey.conf" --db memory: --domain 127.0.0.1 --listen tls:127.0.0.1:48998
expect_match "serve at start: the reason" "$ERR" 'does not match the certificate'

# ---- a server with a TLS listener --------------------------------------------------
cp "$C/a.pem" "$C/cur.pem"; cp "$C/a.key" "$C/cur.key"
tlsconf "$T/serve.conf" "$C/cur.pem" "$C/cur.key"
SW_DB="$T/tls.db"
sw_user add alice@127.0.0.1 --password alice-pw >/dev/null
sw_user add bob@127.0.0.1 --password bob-pw >/dev/null
SW_PORT=$(free_port 48000 48499) || { not_ok "no free port"; finish; exit 1; }
TP=$(free_port 48500 48997) || { not_ok "no free port"; finish; exit 1; }
HP=$(free_port 48500 48997) || { not_ok "no free port"; finish; exit 1; }
sw_start tls --config "$T/serve.conf" --listen "tls:127.0.0.1:$TP" --http "127.0.0.1:$HP" || { finish; exit 1; }
expect_match "the start-up lines name the TLS listener" "$(cat "$T/tls.err")" "listening on .* tls:127.0.0.1:$TP;"
expect_match "the start-up lines name the certificate" "$(cat "$T/tls.err")" "TLS certificate: subject CN = sip-a, issuer CN = sipwarden test CA"

# TLS 1.2 minimum, forward-secret AEAD suites by default (openssl s_client)
sclient() { timeout 5 openssl s_client -connect "127.0.0.1:$TP" -CAfile "$C/ca.pem" "$@" </dev/null 2>&1; }
expect_match "TLS 1.2 with an ECDHE AES-GCM suite" "$(sclient -tls1_2)" 'New, TLSv1\.2, Cipher is ECDHE-ECDSA-AES(128|256)-GCM-SHA(256|384)'
expect_match "TLS 1.2 without forward secrecy (AES128-SHA): refused" "$(sclient -tls1_2 -cipher AES128-SHA)" \
	'alert handshake failure'
expect_match "TLS 1.1: refused" "$(sclient -tls1_1 -cipher DEFAULT:@SECLEVEL=0)" 'alert protocol version'

# the TLS connections gauge of /metrics follows an open connection
tls_gauge() { curl -s "http://127.0.0.1:$HP/metrics" | awk '$1 == "sipwarden_tls_connections" {print $2}'; }
(sleep 3 | timeout 5 openssl s_client -connect "127.0.0.1:$TP" -CAfile "$C/ca.pem" >/dev/null 2>&1) &
SCP=$!
g=; for _ in $(seq 1 20); do g=$(tls_gauge); [ "$g" = 1 ] && break; sleep 0.1; done
[ "$g" = 1 ] && ok "/metrics: sipwarden_tls_connections is 1 while a TLS client is connected" ||
	not_ok "/metrics: sipwarden_tls_connections while a TLS client is connected: '${g}', wanted 1"
wait "$SCP" 2>/dev/null
g=; for _ in $(seq 1 30); do g=$(tls_gauge); [ "$g" = 0 ] && break; sleep 0.1; done
[ "$g" = 0 ] && ok "/metrics: and 0 once it has gone" || not_ok "/metrics: sipwarden_tls_connections after the client left: '${g}', wanted 0"
TRUST=(env SSL_CERT_FILE="$C/ca.pem" SSL_CERT_DIR="$C/nodir")
expect_exit 0 "the doctor registers over TLS to our listener" -- "${TRUST[@]}" "$SIPWARDEN" check \
	"sip:alice@127.0.0.1:$TP" --password alice-pw --transport tls --timeout 3 --json
expect_match "the doctor: registered over TLS, the certificate verified" \
	"$(printf '%s' "$OUT" | json_q '(j["registered"], j["transport"], "|".join(j["steps"]))')" \
	"^\(True, 'TLS 127.0.0.1:$TP', '.*handshake done, TLSv1\.3 .*verified for 127\.0\.0\.1; certificate subject CN = sip-a"
expect_exit 0 "a sips: URI means TLS to the doctor" -- "${TRUST[@]}" "$SIPWARDEN" check \
	"sips:alice@127.0.0.1:$TP" --password alice-pw --timeout 3
expect_exit 1 "the doctor without the CA: exit 1" -- env SSL_CERT_FILE=/nonexistent SSL_CERT_DIR=/nonexistent \
	"$SIPWARDEN" check "sip:alice@127.0.0.1:$TP" --password alice-pw --transport tls --timeout 3
expect_match "the doctor without the CA: tls-failed, the verification error named" "$OUT" \
	'tls-failed: TLS to 127.0.0.1:'"$TP"': certificate verify failed: unable to get local issuer certificate'

expect_exit 0 "a Python ssl phone registers over TLS" -- "${PHONE[@]}" "$TP" --ca "$C/ca.pem" register alice alice-pw
expect_match "Python ssl phone: 200" "$OUT" '^REGISTER 200$'
expect_exit 3 "a Python ssl phone without the CA fails to verify" -- "${PHONE[@]}" "$TP" register alice alice-pw
expect_match "Python ssl phone without the CA: the reason" "$OUT" 'TLS-ERROR .*CERTIFICATE_VERIFY_FAILED.*certificate verify failed'
# baresip as its users set it up for TLS: an account with transport=tls and sip_cafile
# (baresip 1.0 does not verify the server's certificate even so: seen with no CA)
if command -v baresip >/dev/null && [ -f /usr/lib/baresip/modules/account.so ]; then
	mkdir -p "$T/bs"
	printf 'poll_method epoll\nsip_listen 127.0.0.1:%s\nsip_cafile %s\nnet_interface 127.0.0.1\nmodule_path /usr/lib/baresip/modules\nmodule_app account.so\n' \
		"$(free_port 48000 48499)" "$C/ca.pem" >"$T/bs/config"
	echo "<sip:bob@127.0.0.1:$TP;transport=tls>;auth_pass=bob-pw;regint=60" >"$T/bs/accounts"
	HOME="$T/bs" timeout --foreground 30 baresip -s -f "$T/bs" >"$T/baresip.out" 2>&1 </dev/null &
	BS=$!
	bg_track "$BS"
	for _ in $(seq 1 100); do
		OUT=$("$SIPWARDEN" registrations bob@127.0.0.1 --db "$SW_DB")
		printf '%s' "$OUT" | grep -q baresip && break
		sleep 0.1
	done
	expect_match "baresip registers over TLS (binding with transport tls, its User-Agent)" "$OUT" \
		'bob@127\.0\.0\.1 .*;transport=tls .* tls +"baresip'
	kill -TERM "$BS" 2>/dev/null; wait "$BS" 2>/dev/null
else
	echo "# SKIP baresip is not installed (scripts/deps.sh installs it)"
fi
OUT=$("$SIPWARDEN" registrations alice@127.0.0.1 --db "$SW_DB" --json)
expect_match "registrations: the binding's transport is tls" "$(printf '%s' "$OUT" | json_q '",".join(sorted({b["transport"] for b in j}))')" '^tls$'
wait_match "events: the decisions over TLS say tls" '127\.0\.0\.1:[0-9]+ tls +REGISTER +alice@127\.0\.0\.1' \
	"$SIPWARDEN" events --db "$SW_DB"

# ---- a call over TLS ---------------------------------------------------------------
expect_exit 0 "a call over TLS: alice calls bob, both Python ssl phones" -- timeout 40 "${PHONE[@]}" "$TP" \
	--ca "$C/ca.pem" call alice alice-pw bob bob-pw
expect_match "the callee got the INVITE on its TLS connection, our Via says TLS" "$OUT" \
	"INVITE-RECEIVED Via: SIP/2.0/TLS 127\.0\.0\.1:$TP;branch="
expect_match "Record-Route: both entries say transport=tls" "$OUT" \
	"Record-Route: <sip:[0-9a-f]+@127\.0\.0\.1:$TP;lr;transport=tls>, <sip:[0-9a-f]+@127\.0\.0\.1:$TP;lr;transport=tls>"
expect_match "200 to the INVITE, ACK and BYE through the proxy" "$OUT" $'CALL 200\nACK\nBYE 200'
wait_match "calls: the call over TLS ended with 200" 'alice@127\.0\.0\.1 -> bob@127\.0\.0\.1 +ended \(200\)' \
	"$SIPWARDEN" calls --db "$SW_DB"

# sips: (RFC 5630): only devices registered over TLS; the routes are sips:
expect_exit 0 "a sips: call over TLS" -- timeout 40 "${PHONE[@]}" "$TP" --ca "$C/ca.pem" --sips call \
	alice alice-pw bob bob-pw
expect_match "sips: both Record-Route entries are sips: URIs" "$OUT" \
	"Record-Route: <sips:[0-9a-f]+@127\.0\.0\.1:$TP;lr>, <sips:[0-9a-f]+@127\.0\.0\.1:$TP;lr>"
expect_match "sips: the call goes through" "$OUT" $'CALL 200\nACK\nBYE 200'
sw_user add carol@127.0.0.1 --password carol-pw >/dev/null
OUT=$("${SIPCAT[@]}" --timeout 2 127.0.0.1 "$SW_PORT" register --user carol --domain 127.0.0.1 --password carol-pw 2>&1)
expect_match "carol registers over UDP" "$OUT" 'SIP/2.0 200'
expect_exit 0 "a sips: INVITE to carol (registered over UDP only)" -- timeout 20 "${PHONE[@]}" "$TP" \
	--ca "$C/ca.pem" invite alice alice-pw sips:carol@127.0.0.1
expect_match "sips: to a device not on TLS: 480, nothing forwarded" "$OUT" '^INVITE 480$'
wait_match "sips: the event says why" 'no device of the callee is registered over TLS' \
	"$SIPWARDEN" events --db "$SW_DB"

# ---- SIGHUP: a new certificate for new connections, old ones stay ------------------
"${PHONE[@]}" "$TP" --ca "$C/ca.pem" hold 3 >"$T/hold.out" 2>&1 &
HOLD=$!
bg_track "$HOLD"
sleep 1
cp "$C/b.pem" "$C/cur.pem"; cp "$C/b.key" "$C/cur.key"
kill -HUP "$SW_PID"
wait_match "SIGHUP: the new certificate is loaded (log)" 'TLS certificate loaded for new connections: subject CN = sip-b' \
	cat "$T/tls.err"
OUT=$("${PHONE[@]}" "$TP" --ca "$C/ca.pem" handshake 2>&1)
expect_match "SIGHUP: a new connection gets the new certificate" "$OUT" '^CERT sip-b$'
wait "$HOLD"
expect_match "SIGHUP: the connection made before it kept its certificate and still works" "$(cat "$T/hold.out")" \
	$'^CERT sip-a\nOPTIONS 200$'
echo "not a certificate" >"$C/cur.pem"
kill -HUP "$SW_PID"
wait_match "SIGHUP with a broken file: the old certificate stays, the reason is logged" \
	'TLS reload failed, keeping the certificate in use \(subject CN = sip-b.*\): certificate .*/cur.pem: no PEM certificate in the file' \
	cat "$T/tls.err"
OUT=$("${PHONE[@]}" "$TP" --ca "$C/ca.pem" handshake 2>&1)
expect_match "SIGHUP with a broken file: new connections still get sip-b" "$OUT" '^CERT sip-b$'
cp "$C/old.pem" "$C/cur.pem"; cp "$C/old.key" "$C/cur.key"
kill -HUP "$SW_PID"
wait_match "SIGHUP with an expired certificate: refused, the old one stays" \
	'TLS reload failed, keeping the certificate in use \(subject CN = sip-b.*expired on' cat "$T/tls.err"

# client certificates: asked for and verified when presented (ca), required
# after a reload with require_client_certificate = yes
cp "$C/b.pem" "$C/cur.pem"; cp "$C/b.key" "$C/cur.key"
expect_exit 0 "ca, not required: a phone with a client certificate of the CA registers" -- "${PHONE[@]}" "$TP" \
	--ca "$C/ca.pem" --cert "$C/phone.pem" "$C/phone.key" register alice alice-pw
tlsconf "$T/serve.conf" "$C/cur.pem" "$C/cur.key" "require_client_certificate = yes"
LOADED=$(grep -c 'TLS certificate loaded' "$T/tls.err")
kill -HUP "$SW_PID"
for _ in $(seq 1 50); do [ "$(grep -c 'TLS certificate loaded' "$T/tls.err")" -gt "$LOADED" ] && break; sleep 0.1; done
expect_exit 3 "required: a phone without a client certificate is refused" -- "${PHONE[@]}" "$TP" --ca "$C/ca.pem" \
	register alice alice-pw
expect_match "required: the phone is told a certificate is required" "$OUT" 'TLS-ERROR .*(CERTIFICATE_REQUIRED|certificate required)'
expect_exit 0 "required: a phone with one registers" -- "${PHONE[@]}" "$TP" --ca "$C/ca.pem" \
	--cert "$C/phone.pem" "$C/phone.key" register alice alice-pw
tlsconf "$T/serve.conf" "$C/cur.pem" "$C/cur.key"
kill -HUP "$SW_PID"
sleep 0.5

# ---- the TCP caps and a handshake timeout on the TLS port ----------------------------
CAPS=$(python3 - "$TP" <<'PY'
import select, socket, sys, time
port = int(sys.argv[1])
conns = []
for i in range(30):   # max_connections_per_source = 20: 10 closed at once
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.3", 0))
    s.connect(("127.0.0.1", port))
    conns.append(s)
time.sleep(0.5)
refused = 0
for s in conns:
    r, _, _ = select.select([s], [], [], 0)
    if r and s.recv(1) == b"":
        refused += 1
# the others send half a ClientHello and stall: closed at handshake_timeout (2 s)
t0 = time.time()
for s in conns:
    try:
        s.send(b"\x16\x03\x01\x00\xc8\x01\x00")
    except OSError:
        pass
closed, last = 0, 0.0
for s in conns:
    s.settimeout(max(0.1, 6 - (time.time() - t0)))
    try:
        if s.recv(1) == b"":
            closed += 1
            last = time.time() - t0
    except (socket.timeout, OSError):
        pass
print(refused, closed, "%.0f" % last)
PY
)
read -r REFUSED CLOSED LAST <<<"$CAPS"
if [ "$REFUSED" = 10 ]; then ok "TLS port: 10 of 30 connections from one address refused at max_connections_per_source (20)"
else not_ok "TLS port: $REFUSED of 30 refused at once (wanted 10)"; fi
if [ "$CLOSED" = 30 ] && [ "$LAST" -ge 2 ] && [ "$LAST" -le 4 ]; then
	ok "TLS port: the 20 stalled handshakes closed at handshake_timeout (2 s; the last after ${LAST} s)"
else
	not_ok "TLS port: $CLOSED of 30 closed (wanted 30: 10 refused and 20 timed out), the last after ${LAST} s (wanted 2-4)"
fi
kill -USR1 "$SW_PID"
wait_match "SIGUSR1: the status line counts the TLS handshakes: done, failed (clients without the CA), 20 timed out" \
	'TLS handshakes [1-9][0-9]* done [1-9][0-9]* failed 20 timed out' cat "$T/tls.err"
expect_exit 0 "the TLS listener still registers a phone" -- "${PHONE[@]}" "$TP" --ca "$C/ca.pem" register bob bob-pw
sw_alive "the server still answers OPTIONS over UDP"
sw_stop
finish
