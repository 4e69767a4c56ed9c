#!/bin/sh
# Installs the Debian packages the build and the tests need, when missing.
# Runs `apt-get update` once (only if something is missing), then installs.
set -e
PKGS="build-essential clang pkg-config libssl-dev libsqlite3-dev libcmocka-dev libinih-dev libpcap-dev
libsystemd-dev systemd dpkg-dev debhelper libclang-rt-14-dev tar gzip python3 sip-tester sipsak baresip linphone-cli kamailio kamailio-sqlite-modules
kamailio-tls-modules nftables iproute2 openssl chromium sipvicious tcpdump libmicrohttpd-dev prometheus"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
		|| missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq $missing </dev/null
