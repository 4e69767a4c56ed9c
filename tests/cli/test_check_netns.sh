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
# ip netns exec itself, not the in_ function: $! must be the server (a
# backgrounded function would be a subshell that SIGTERM does not reach through)
ip netns exec "$SRV" "$SIPWARDEN" serve --db "$SW_DB" --domain 10.77.2.2 --listen udp:10.77.2.2:5060 \
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

# ---- a small MTU and a router that drops fragments -----------------------------------------
# Before conntrack's reassembly (priority -400): non-first fragments never pass.
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
