#!/bin/bash
# sipwarden check over TLS against real TLS servers nobody here wrote:
# Kamailio from Debian with its tls module (kamailio-tls-modules) as the
# registrar, and `openssl s_server` for handshakes that must fail. A test CA
# and the server certificates are made here with `openssl req`/`openssl
# x509`; the doctor is pointed at the test CA with SSL_CERT_FILE (OpenSSL's
# default store otherwise). Cases: a valid chain and name (REGISTER over
# TLS, exit 0), an untrusted issuer, a self-signed certificate, a name the
# certificate does not carry, no shared cipher, TLS to a plain TCP SIP
# port, nothing listening. Loopback only, random ports 55000-56999; every
# process started here is stopped on exit.
. "$(dirname "${BASH_SOURCE[0]}")/serve_lib.sh"
. "$TOOLS/kamailio_lib.sh"

tls_port() { free_port 55000 56999; }
ids() { json_q '",".join(f["id"] for f in j["findings"])' <"$1"; }
jq_() { json_q "$2" <"$1"; }
CHECK=("$SIPWARDEN" check --timeout 2)

if ! command -v kamailio >/dev/null || ! KMOD=$(kam_moddir) || [ ! -e "$KMOD/tls.so" ] ||
	[ ! -e "$KMOD/db_sqlite.so" ]; then
	echo "# SKIP kamailio, kamailio-sqlite-modules or kamailio-tls-modules not installed (make deps)"
	exit 0
fi

# ---- a CA, a server certificate it signed, a self-signed one ----------------
C="$T/pki"
mkdir -p "$C"
mkcert() { # mkcert NAME SUBJECT SAN CA: a P-256 key and a certificate signed by CA
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$C/$1.key" \
		-out "$C/$1.csr" -subj "$2" 2>/dev/null &&
		printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$3" >"$C/$1.ext" &&
		openssl x509 -req -in "$C/$1.csr" -CA "$C/$4.pem" -CAkey "$C/$4.key" -CAcreateserial \
			-out "$C/$1.pem" -days 2 -extfile "$C/$1.ext" 2>/dev/null
}
mkca() { # mkca NAME SUBJECT
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$C/$1.key" \
		-out "$C/$1.pem" -days 2 -subj "$2" -addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}
if mkca ca "/CN=sipwarden test CA" && mkca otherca "/CN=some other CA" &&
	mkcert srv "/CN=sip.test" "DNS:sip.test,IP:127.0.0.1" ca &&
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$C/self.key" \
		-out "$C/self.pem" -days 2 -subj "/CN=127.0.0.1" -addext subjectAltName=IP:127.0.0.1 2>/dev/null; then
	ok "test CA and certificates made with openssl"
else
	not_ok "openssl could not make the test certificates"; finish; exit 1
fi
TRUST=(env SSL_CERT_FILE="$C/ca.pem" SSL_CERT_DIR="$C/nodir")
DISTRUST=(env SSL_CERT_FILE="$C/otherca.pem" SSL_CERT_DIR="$C/nodir")

# ---- Kamailio with TLS -------------------------------------------------------
kam_cfg "$T/kamailio.cfg"
kam_users "$T/kam.db" 127.0.0.1 alice:secret
cat >"$T/tls.cfg" <<EOF
[server:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
certificate = $C/srv.pem
private_key = $C/srv.key
EOF
KP=$(tls_port); KT=$(tls_port)
while [ "$KT" = "$KP" ]; do KT=$(tls_port); done
kam_start tls -l "tcp:127.0.0.1:$KP" -l "tls:127.0.0.1:$KT" -A "DBURL=\"sqlite:///$T/kam.db\"" \
	-A WITH_TLS -A "TLSCFG=\"$T/tls.cfg\"" || { finish; exit 1; }

expect_exit 0 "valid chain and name: registration over TLS works" -- "${TRUST[@]}" "${CHECK[@]}" \
	"sip:alice@127.0.0.1:$KT" --password secret --transport tls --json
printf '%s' "$OUT" >"$T/ok.json"
expect_match "valid: registered and unregistered over TLS, no findings" \
	"$(jq_ "$T/ok.json" '(j["registered"], j["unregistered"], j["transport"], len(j["findings"]))')" \
	"^\(True, True, 'TLS 127.0.0.1:$KT', 0\)$"
expect_match "valid: Kamailio bound the contact with transport=tls" "$(jq_ "$T/ok.json" '" ".join(j["bindings"])')" "transport=tls"
expect_match "valid: the verified certificate is in the steps" "$(jq_ "$T/ok.json" '"|".join(j["steps"])')" \
	"handshake done, TLSv1\.[23] .*verified for 127\.0\.0\.1; certificate subject CN = sip\.test, issuer CN = sipwarden test CA"

expect_exit 0 "sips: URI means TLS (port given)" -- "${TRUST[@]}" "${CHECK[@]}" "sips:alice@127.0.0.1:$KT" --password secret --json
expect_match "sips: used TLS" "$(printf '%s' "$OUT" | json_q 'j["transport"]')" "^TLS 127.0.0.1:$KT$"

expect_exit 1 "wrong password over TLS: exit 1" -- "${TRUST[@]}" "${CHECK[@]}" "sip:alice@127.0.0.1:$KT" --password nope --transport tls --json
printf '%s' "$OUT" >"$T/wrong.json"
expect_match "wrong password over TLS: credentials-rejected" "$(ids "$T/wrong.json")" "^credentials-rejected$"

expect_exit 1 "issuer not trusted: exit 1" -- "${DISTRUST[@]}" "${CHECK[@]}" "sip:alice@127.0.0.1:$KT" --password secret --transport tls --json
printf '%s' "$OUT" >"$T/untrusted.json"
expect_match "issuer not trusted: tls-failed" "$(ids "$T/untrusted.json")" "^tls-failed$"
expect_match "issuer not trusted: the verification error is named" "$(jq_ "$T/untrusted.json" 'j["findings"][0]["observed"]')" \
	"certificate verify failed: unable to get local issuer certificate"
expect_match "issuer not trusted: the certificate is shown" "$(jq_ "$T/untrusted.json" 'j["findings"][0]["evidence"][0]')" \
	"subject CN = sip.test, issuer CN = sipwarden test CA, names DNS:sip.test, IP:127.0.0.1"

# the certificate names sip.test and 127.0.0.1, not localhost
expect_exit 1 "name not in the certificate: exit 1" -- "${TRUST[@]}" "${CHECK[@]}" sip:alice@127.0.0.1 --proxy "localhost:$KT" --password secret --transport tls --json
printf '%s' "$OUT" >"$T/name.json"
expect_match "name not in the certificate: tls-failed" "$(ids "$T/name.json")" "^tls-failed$"
expect_match "name not in the certificate: hostname mismatch" "$(jq_ "$T/name.json" 'j["findings"][0]["observed"]')" \
	"certificate verify failed: hostname mismatch"
expect_match "name not in the certificate: the name checked is said" "$(jq_ "$T/name.json" '"|".join(j["findings"][0]["evidence"])')" \
	'checked for "localhost"'

expect_exit 1 "TLS to Kamailio's plain TCP port: exit 1" -- "${TRUST[@]}" "${CHECK[@]}" "sip:alice@127.0.0.1:$KP" --password secret --transport tls --json
printf '%s' "$OUT" >"$T/plain.json"
expect_match "TLS to a plain TCP port: tls-failed" "$(ids "$T/plain.json")" "^tls-failed$"
expect_match "TLS to a plain TCP port: a handshake failure" "$(jq_ "$T/plain.json" 'j["findings"][0]["observed"]')" "handshake failure"
kam_stop
ok "kamailio stopped"

# ---- openssl s_server: a self-signed certificate, no shared cipher -----------
SP=$(tls_port)
openssl s_server -accept "127.0.0.1:$SP" -cert "$C/self.pem" -key "$C/self.key" -quiet </dev/null >"$T/s_self.log" 2>&1 &
bg_track $!
SC=$(tls_port)
while [ "$SC" = "$SP" ]; do SC=$(tls_port); done
openssl s_server -accept "127.0.0.1:$SC" -cert "$C/srv.pem" -key "$C/srv.key" -tls1_3 \
	-ciphersuites TLS_AES_128_CCM_8_SHA256 -quiet </dev/null >"$T/s_cipher.log" 2>&1 &
bg_track $!
for _ in $(seq 1 50); do
	ss -Hltn "sport = :$SP" | grep -q . && ss -Hltn "sport = :$SC" | grep -q . && break
	sleep 0.1
done

expect_exit 1 "self-signed certificate: exit 1" -- "${TRUST[@]}" "${CHECK[@]}" "sip:alice@127.0.0.1:$SP" --password x --transport tls --json
printf '%s' "$OUT" >"$T/self.json"
expect_match "self-signed: tls-failed" "$(ids "$T/self.json")" "^tls-failed$"
expect_match "self-signed: named" "$(jq_ "$T/self.json" 'j["findings"][0]["observed"]')" "certificate verify failed: self-signed certificate"

expect_exit 1 "no shared cipher: exit 1" -- "${TRUST[@]}" "${CHECK[@]}" "sip:alice@127.0.0.1:$SC" --password x --transport tls --json
printf '%s' "$OUT" >"$T/cipher.json"
expect_match "no shared cipher: tls-failed" "$(ids "$T/cipher.json")" "^tls-failed$"
expect_match "no shared cipher: handshake failure alert" "$(jq_ "$T/cipher.json" 'j["findings"][0]["observed"]')" "handshake failure: .*alert handshake failure"

# ---- nothing listening -----------------------------------------------------------
P0=$(tls_port)
expect_exit 1 "TLS port with nothing: exit 1" -- "${TRUST[@]}" "${CHECK[@]}" "sip:alice@127.0.0.1:$P0" --password x --transport tls --json
printf '%s' "$OUT" >"$T/none.json"
expect_match "TLS port with nothing: no-response (not a TLS failure)" "$(ids "$T/none.json")" "^no-response$"
expect_match "TLS port with nothing: connection refused" "$(jq_ "$T/none.json" '"|".join(j["findings"][0]["evidence"])')" \
	"TLS 127.0.0.1:$P0: connection refused"

finish
