#!/bin/bash
# sipwarden check through real NAT, a SIP ALG and a path that drops IP
# fragments, built from network namespaces (needs root: `ip netns add`):
#
#   client ns 10.77.1.2 --veth-- 10.77.1.1  router ns  10.77.2.1 --veth-- 10.77.2.2 server ns
#
# `sipwarden serve` runs in the server namespace; the doctor in the client
# namespace. Cases, each checked by cause id in the JSON output:
#   routed, no NAT             -> no finding (no false nat-detected / ALG)
#   nftables masquerade        -> nat-detected, and no false sip-alg-suspected
#   + tests/tools/sip_alg_relay.py behind a DNAT in the router (rewrites Via
#     and Contact like a SIP ALG)   -> sip-alg-suspected
#   a DNS server in the router (tests/tools/dns_stub.py) publishing UDP and
#     TLS with NAPTR/SRV; the TLS server's certificate names the SRV target,
#     not the domain              -> RFC 3263 followed, tls-failed in auto
#   client MTU 576 and the router dropping non-first fragments before
#     reassembly                    -> udp-fragmentation
# Namespaces get unique names and are deleted on exit; every process started
# here is stopped. Prints "# SKIP" and exits 0 only when namespaces cannot
# be made at all (not root, no netns support).
. "$(dirname "${BASH_SOURCE[0]}")/serve_lib.sh"

ids() { json_q '",".join(sorted(f["id"] for f in j["findings"]))' <"$1"; }
finding() { json_q "[$3 for f in j['findings'] if f['id'] == '$2'][0]" <"$1"; }

NS="sw$$"
CLI="$NS-cli" RTR="$NS-rtr" SRV="$NS-srv"
_netns_cleanup() {
	_serve_cleanup
	local n
	for n in "$CLI" "$RTR" "$SRV"; do ip netns del "$n" 2>/dev/null; done
	rm -rf "/etc/netns/$CLI"
	rmdir /etc/netns 2>/dev/null  # when no other namespace uses it
}
trap _netns_cleanup EXIT

if ! command -v ip >/dev/null || ! ip netns add "$CLI" 2>/dev/null; then
	echo "# SKIP cannot create network namespaces here (needs root and iproute2)"
	exit 0
fi
if ! command -v nft >/dev/null; then
	not_ok "nft not found: install nftables (make deps)"; finish; exit 1
fi
in_() { local n=$1; shift; ip netns exec "$n" "$@"; }

# ---- the three namespaces and the routes ---------------------------------------
setup() {
	ip netns add "$RTR" && ip netns add "$SRV" &&
		ip link add "${NS}c" netns "$CLI" type veth peer name "${NS}rc" netns "$RTR" &&
		ip link add "${NS}s" netns "$SRV" type veth peer name "${NS}rs" netns "$RTR" &&
		in_ "$CLI" ip addr add 10.77.1.2/24 dev "${NS}c" &&
		in_ "$RTR" ip addr add 10.77.1.1/24 dev "${NS}rc" &&
		in_ "$RTR" ip addr add 10.77.2.1/24 dev "${NS}rs" &&
		in_ "$SRV" ip addr add 10.77.2.2/24 dev "${NS}s" &&
		for n in "$CLI" "$RTR" "$SRV"; do in_ "$n" ip link set lo up || return 1; done &&
		in_ "$CLI" ip link set "${NS}c" up && in_ "$RTR" ip link set "${NS}rc" up &&
		in_ "$RTR" ip link set "${NS}rs" up && in_ "$SRV" ip link set "${NS}s" up &&
		in_ "$CLI" ip route add default via 10.77.1.1 &&
		in_ "$SRV" ip route add default via 10.77.2.1 &&
		in_ "$RTR" sysctl -qw net.ipv4.ip_forward=1
}
if setup; then ok "namespaces $CLI, $RTR, $SRV joined by veth"; else not_ok "netns setup failed"; finish; exit 1; fi

# ---- sipwarden serve in the server namespace -----------------------------------
SW_DB="$T/netns.db"
"$SIPWARDEN" user add alice@10.77.2.2 --password secret --db "$SW_DB" >/dev/null
"$SIPWARDEN" user add alice@sip.test --password secret --db "$SW_DB" >/dev/null
# ip netns exec itself, not the in_ function: $! must be the server (a
# backgrounded function would be a subshell that SIGTERM does not reach through)
ip netns exec "$SRV" "$SIPWARDEN" serve --db "$SW_DB" --domain 10.77.2.2 --domain sip.test --listen udp:10.77.2.2:5060 \
	--listen tcp:10.77.2.2:5060 --workers 1 >"$T/serve.log" 2>"$T/serve.err" &
SW_PID=$! SW_NAME=serve
bg_track "$SW_PID"
up=0
for _ in $(seq 1 50); do
	in_ "$SRV" ss -Hlun "sport = :5060" | grep -q . && in_ "$SRV" ss -Hltn "sport = :5060" | grep -q . && { up=1; break; }
	sleep 0.1
done
[ "$up" = 1 ] && ok "serve listens in the server namespace" || { not_ok "serve unreachable from the client namespace: $(tail -c 400 "$T/serve.err")"; finish; exit 1; }

AOR=sip:alice@10.77.2.2
check() { in_ "$CLI" "$SIPWARDEN" check "$AOR" --password secret --transport udp --timeout 1.5 --json "$@"; }

# ---- routed, no NAT: nothing to report -----------------------------------------------
expect_exit 0 "routed, no NAT: exit 0" -- check
printf '%s' "$OUT" >"$T/routed.json"
expect_match "routed, no NAT: no finding" "[$(ids "$T/routed.json")]" "^\[\]$"

# ---- masquerade in the router -------------------------------------------------------
in_ "$RTR" nft -f - <<EOF
table ip swnat {
	chain post {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "${NS}rs" ip saddr 10.77.1.0/24 masquerade
	}
}
EOF
expect_exit 0 "behind NAT: registration works (exit 0)" -- check
printf '%s' "$OUT" >"$T/nat.json"
expect_match "behind NAT: nat-detected, no sip-alg-suspected" "$(ids "$T/nat.json")" "^nat-detected$"
expect_match "nat-detected: the outside address is named" "$(finding "$T/nat.json" nat-detected 'f["observed"]')" \
	"saw this client as 10\.77\.2\.1:[0-9]+, it sent from 10\.77\.1\.2:[0-9]+"
expect_match "nat-detected: a warning with keep-alive advice" \
	"$(finding "$T/nat.json" nat-detected '(f["severity"], f["problem"], "keep-alives" in f["detail"])')" "^\('warning', False, True\)$"

# ---- a SIP ALG: the relay behind a DNAT of SIP/UDP to the server ------------------------
ip netns exec "$RTR" python3 "$TOOLS/sip_alg_relay.py" --listen 10.77.1.1:5070 --server 10.77.2.2:5060 --public 10.77.2.1 \
	--lifetime 60 >"$T/relay.log" 2>&1 &
RELAY_PID=$!
bg_track "$RELAY_PID"
for _ in $(seq 1 50); do grep -q "relay ready" "$T/relay.log" && break; sleep 0.1; done
in_ "$RTR" nft -f - <<EOF
table ip swalg {
	chain pre {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "${NS}rc" ip daddr 10.77.2.2 udp dport 5060 dnat to 10.77.1.1:5070
	}
}
EOF
expect_exit 1 "through a SIP ALG: exit 1" -- check
printf '%s' "$OUT" >"$T/alg.json"
expect_match "through a SIP ALG: sip-alg-suspected (and the NAT it is)" "$(ids "$T/alg.json")" "^nat-detected,sip-alg-suspected$"
expect_match "sip-alg-suspected: the rewritten Contact is the evidence" \
	"$(finding "$T/alg.json" sip-alg-suspected '"|".join(f["evidence"])')" \
	"sent   Contact: <sip:alice@10\.77\.1\.2:[0-9]+;.*answer Contact: <sip:alice@10\.77\.2\.1:[0-9]+;"
expect_match "sip-alg-suspected: a problem" "$(finding "$T/alg.json" sip-alg-suspected 'f["problem"]')" "^True$"
in_ "$RTR" nft delete table ip swalg
kill "$RELAY_PID" 2>/dev/null
wait "$RELAY_PID" 2>/dev/null

expect_exit 0 "ALG gone, NAT stays: exit 0 again" -- check
printf '%s' "$OUT" >"$T/nat2.json"
expect_match "ALG gone: no false sip-alg-suspected" "$(ids "$T/nat2.json")" "^nat-detected$"
in_ "$RTR" nft delete table ip swnat

# ---- RFC 3263 from a DNS server in the router: NAPTR -> SRV -> A, TLS in auto ----------
# The TLS server's certificate names only the SRV target tls.sip.test: the
# doctor must check it for the domain sip.test (RFC 5922) and refuse it.
C="$T/pki"
mkdir -p "$C"
if openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$C/ca.key" \
	-out "$C/ca.pem" -days 2 -subj "/CN=sipwarden test CA" -addext basicConstraints=critical,CA:TRUE \
	-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$C/tls.key" \
		-out "$C/tls.csr" -subj "/CN=tls.sip.test" 2>/dev/null &&
	printf 'subjectAltName=DNS:tls.sip.test\nextendedKeyUsage=serverAuth\n' >"$C/tls.ext" &&
	openssl x509 -req -in "$C/tls.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -CAcreateserial \
		-out "$C/tls.pem" -days 2 -extfile "$C/tls.ext" 2>/dev/null; then
	ok "test CA and the SRV target's certificate made"
else
	not_ok "openssl could not make the certificates"
fi
ip netns exec "$SRV" openssl s_server -accept 10.77.2.2:5061 -cert "$C/tls.pem" -key "$C/tls.key" -quiet \
	</dev/null >"$T/s_server.log" 2>&1 &
bg_track $!
ip netns exec "$RTR" python3 "$TOOLS/dns_stub.py" --listen 10.77.1.1:53 --lifetime 60 \
	"NAPTR sip.test 10 10 s SIP+D2U _sip._udp.sip.test" "NAPTR sip.test 20 10 s SIPS+D2T _sips._tcp.sip.test" \
	"SRV _sip._udp.sip.test 0 0 5060 srv.sip.test" "SRV _sips._tcp.sip.test 0 0 5061 tls.sip.test" \
	"A srv.sip.test 10.77.2.2" "A tls.sip.test 10.77.2.2" "A sip.test 10.77.2.2" >"$T/dns.log" 2>&1 &
bg_track $!
# ip netns exec bind-mounts /etc/netns/NAME/resolv.conf over /etc/resolv.conf
mkdir -p "/etc/netns/$CLI"
printf 'nameserver 10.77.1.1\noptions timeout:1 attempts:1\n' >"/etc/netns/$CLI/resolv.conf"
for _ in $(seq 1 50); do
	grep -q "dns ready" "$T/dns.log" && in_ "$SRV" ss -Hltn "sport = :5061" | grep -q . && break
	sleep 0.1
done
expect_exit 1 "DNS publishes UDP and TLS, TLS fails: exit 1" -- \
	ip netns exec "$CLI" env SSL_CERT_FILE="$C/ca.pem" SSL_CERT_DIR="$C/nodir" "$SIPWARDEN" check sip:alice@sip.test --password secret --timeout 1.5 --json
printf '%s' "$OUT" >"$T/dns.json"
expect_match "NAPTR and SRV followed, UDP and TLS targets listed" "$(json_q '"|".join(j["steps"])' <"$T/dns.json")" \
	"NAPTR sip.test: 2 SIP record\(s\).*target UDP 10\.77\.2\.2:5060 \(SRV _sip\._udp\.sip\.test\).*target TLS 10\.77\.2\.2:5061 \(SRV _sips\._tcp\.sip\.test\)"
expect_match "registered over the UDP target" "$(json_q '(j["registered"], j["transport"])' <"$T/dns.json")" "^\(True, 'UDP 10.77.2.2:5060'\)$"
expect_match "the published TLS target: tls-failed" "$(ids "$T/dns.json")" "^tls-failed$"
expect_match "tls-failed: checked for the domain, not the SRV target" \
	"$(finding "$T/dns.json" tls-failed 'f["observed"] + "|" + "|".join(f["evidence"])')" \
	"hostname mismatch.*names DNS:tls\.sip\.test.*checked for \"sip\.test\""
expect_exit 1 "sips: uses only the TLS records: exit 1" -- \
	ip netns exec "$CLI" env SSL_CERT_FILE="$C/ca.pem" SSL_CERT_DIR="$C/nodir" "$SIPWARDEN" check sips:alice@sip.test --password secret --timeout 1.5 --json
printf '%s' "$OUT" >"$T/sips.json"
expect_match "sips: only the _sips._tcp target" "$(json_q '"|".join(s for s in j["steps"] if s.startswith("target"))' <"$T/sips.json")" \
	"^target TLS 10\.77\.2\.2:5061 \(SRV _sips\._tcp\.sip\.test\)$"
expect_match "sips: tls-failed" "$(ids "$T/sips.json")" "^tls-failed$"

# ---- a small MTU and a router that drops fragments -----------------------------------------
# Before conntrack's reassembly (priority -400): non-first fragments never pass.
# The doctor's REGISTER without credentials (~450 bytes) fits in 576, the
# authenticated one (~700 bytes) does not.
in_ "$CLI" ip link set "${NS}c" mtu 576
in_ "$RTR" ip link set "${NS}rc" mtu 576
in_ "$RTR" nft -f - <<EOF
table ip swfrag {
	chain pre {
		type filter hook prerouting priority -450; policy accept;
		ip frag-off & 0x1fff != 0 counter drop
	}
}
EOF
expect_exit 1 "fragments dropped: exit 1" -- check
printf '%s' "$OUT" >"$T/frag.json"
expect_match "fragments dropped: udp-fragmentation" "$(ids "$T/frag.json")" "udp-fragmentation"
expect_match "udp-fragmentation: the sizes are named" "$(finding "$T/frag.json" udp-fragmentation 'f["observed"] + " " + f["detail"]')" \
	"requests of [0-9]+ bytes and more get no answer; [0-9]+ bytes still do.*REGISTER is [0-9]+ bytes"
DROPPED=$(in_ "$RTR" nft list table ip swfrag | grep -o 'packets [0-9]*' | awk '{print $2}')
if [ "${DROPPED:-0}" -gt 0 ]; then ok "the router dropped $DROPPED fragment(s)"; else not_ok "no fragment was dropped"; fi
in_ "$RTR" nft delete table ip swfrag

sw_stop
finish
