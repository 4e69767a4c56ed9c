#!/usr/bin/env bash
# sipwarden analyze on captures made here against a registrar nobody here
# wrote (issue 6): dumpcap records the loopback while sipp talks to Kamailio
# from Debian (kamailio, kamailio-sqlite-modules; config, SQLite subscriber
# table and HA1 written by tests/tools/kamailio_lib.sh, random loopback
# ports 59000-59999) in known fault scenarios: wrong and right password
# (proved with --credentials), an unanswered challenge, a 503 after the
# answered challenge (server-error, Retry-After), 423, a stale nonce
# (nonce_expire 1 s; with stale=true, and without it as the stock
# kamailio.cfg answers), a challenge realm other than the domain the HA1 was
# provisioned for (a right answer refused), and a phone answering for a
# realm of its own (realm-mismatch). Then sipsak with a wrong and the right
# password against `sipwarden serve`, and a REGISTER larger than the MTU of a veth pair between two
# network namespaces, sent in IP fragments (reassembled: ok; the server side
# dropping the non-first fragments: udp-fragmentation). Every verdict is
# checked by its cause id in `analyze --json`. Every process started here is
# stopped, the namespaces deleted, on exit. Prints "# SKIP" and exits 0 only
# when dumpcap, sipp or Kamailio cannot run here.
. "$(dirname "${BASH_SOURCE[0]}")/serve_lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/capture_lib.sh"
. "$TOOLS/kamailio_lib.sh"

if ! command -v sipp >/dev/null; then echo "# SKIP sipp missing"; exit 0; fi
if ! why=$(cap_usable); then echo "# SKIP $why"; exit 0; fi
if ! command -v kamailio >/dev/null || ! KMOD=$(kam_moddir) || [ ! -e "$KMOD/db_sqlite.so" ]; then
	echo "# SKIP kamailio or kamailio-sqlite-modules not installed (make deps)"
	exit 0
fi
START=$SECONDS
NS="swak$$" # the namespaces of the fragmentation case, deleted on exit
CLI="$NS-c" SRV="$NS-s"
_analyze_cleanup() {
	_serve_cleanup
	ip netns del "$CLI" 2>/dev/null
	ip netns del "$SRV" 2>/dev/null
}
trap _analyze_cleanup EXIT
kport() { free_port 59000 59999; }
# json_flows EXPR: EXPR over the JSON of the last analyze ($OUT)
json_flows() { printf '%s' "$OUT" | json_q "$1"; }

kam_cfg "$T/kamailio.cfg"
kam_users "$T/kam.db" 127.0.0.1 alice:secret carol:carolpw dave:davepw maint:m4int
DB=(-A "DBURL=\"sqlite:///$T/kam.db\"")
for u in alice bob carol dave maint; do users_csv "$T/$u.csv" "$u"; done
echo 'alice@127.0.0.1,secret' >"$T/creds"

# ---- Kamailio: min_expires 60, nonce_expire 1 s ---------------------------------
SW_PORT=$(kport)
kam_start main -l "udp:127.0.0.1:$SW_PORT" "${DB[@]}" -A NONCEEXP=1 || { finish; exit 1; }

# 1. wrong password: on the wire only "rejected"; with the real password
# analyze proves the answer was computed with another one
cap_start kwrong 4
sipp_run kwrong -sf "$SIPP_DIR/register_rejected.xml" -inf "$T/alice.csv" -au alice -ap not-the-secret -m 1
cap_stop
sipp_expect "Kamailio, wrong password: the answer is challenged again" 0 kwrong
expect_causes "capture, Kamailio, wrong password" credentials-rejected "$T/kwrong.pcapng"
expect_causes "capture, Kamailio, wrong password, --credentials" wrong-password --credentials "$T/creds" "$T/kwrong.pcapng"
expect_match "the wrong password is proved" "$(json_flows 'j["flows"][0]["proved"]')" '^True$'

# the right password: ok, and proved
cap_start kgood 4
sipp_run kgood -sf "$SIPP_DIR/register_auth.xml" -inf "$T/alice.csv" -au alice -ap secret -m 1
cap_stop
sipp_expect "Kamailio, right password: 200" 0 kgood
expect_causes "capture, Kamailio, right password" ok "$T/kgood.pcapng"
expect_causes "capture, Kamailio, right password, --credentials" ok --credentials "$T/creds" "$T/kgood.pcapng"
expect_match "the right password is proved" "$(json_flows 'j["flows"][0]["proved"]')" '^True$'

# 2. the challenge is never answered
cap_start knoanswer 2
sipp_run knoanswer -sf "$SIPP_DIR/analyze_noanswer.xml" -inf "$T/bob.csv" -m 1
cap_stop
sipp_expect "Kamailio, no answer: 401, sipp stops there" 0 knoanswer
expect_causes "capture, Kamailio, unanswered challenge" challenge-not-answered "$T/knoanswer.pcapng"

# 2b. the challenge answered, then 503 with Retry-After (the config's "maint"
# account: a registrar whose location database is down): the server failed,
# the credentials were not judged
cap_start k503 4
sipp_run k503 -sf "$SIPP_DIR/analyze_503.xml" -inf "$T/maint.csv" -au maint -ap m4int -m 1
cap_stop
sipp_expect "Kamailio, 503 after the challenge was answered" 0 k503
expect_causes "capture, Kamailio, 503: server-error" server-error "$T/k503.pcapng"
expect_match "503: the status line and Retry-After in the detail" "$(json_flows 'j["flows"][0]["verdict"]["detail"]')" \
	'503 Location Database Unavailable.*to the request with credentials; it asks to retry after 120 s'

# 3. Expires: 10 below min_expires 60: Kamailio's 423, no retry
cap_start kbrief 4
sipp_run kbrief -sf "$SIPP_DIR/analyze_423.xml" -inf "$T/carol.csv" -au carol -ap carolpw -m 1
cap_stop
sipp_expect "Kamailio, Expires: 10 gets 423 with Min-Expires: 60" 0 kbrief
expect_causes "capture, Kamailio, 423" expires-too-brief "$T/kbrief.pcapng"

# 4. stale nonce: dave registers, waits 3 s and answers the old challenge
# again; Kamailio (nonce_expire 1 s) says 401 stale=true and dave gives up
cap_start kstale 6
sipp_run kstale -sf "$SIPP_DIR/analyze_stale.xml" -inf "$T/dave.csv" -au dave -ap davepw -m 1
cap_stop
sipp_expect "Kamailio, stale: the old answer gets 401 stale=true" 0 kstale
expect_causes "capture, Kamailio, stale nonce, not retried" "ok stale-nonce" "$T/kstale.pcapng"
kam_stop

# ---- Kamailio challenging with realm voip.example.test; the HA1 was
# provisioned for the domain 127.0.0.1 ---------------------------------------------
SW_PORT=$(kport)
kam_start realm -l "udp:127.0.0.1:$SW_PORT" "${DB[@]}" -A 'REALM="voip.example.test"' || { finish; exit 1; }
cap_start krealm 4
sipp_run krealm -sf "$SIPP_DIR/register_rejected.xml" -inf "$T/alice.csv" -au alice -ap secret -m 1
cap_stop
sipp_expect "Kamailio, realm differs: the right password is challenged again" 0 krealm
expect_causes "capture, Kamailio, realm differs" credentials-rejected "$T/krealm.pcapng"
# the client answered right for the realm it was asked about: analyze
# proves the answer right and cannot name a client mistake; the server's HA1
# (over 127.0.0.1) is what refuses it, which the detail says
expect_causes "capture, Kamailio, realm differs, --credentials" refused-after-valid-digest --credentials "$T/creds" "$T/krealm.pcapng"
expect_match "the detail names the challenge realm and the domain" "$(json_flows 'j["flows"][0]["verdict"]["detail"]')" \
	'challenge realm "voip\.example\.test" is not the domain "127\.0\.0\.1"'

# a phone with the realm hard-coded to its domain answers for 127.0.0.1
cap_start krealm2 4
sipp_run krealm2 -sf "$SIPP_DIR/analyze_realm.xml" -inf "$T/alice.csv" -m 1
cap_stop
sipp_expect "Kamailio, answer for another realm: challenged again" 0 krealm2
expect_causes "capture, Kamailio, answer for another realm" realm-mismatch "$T/krealm2.pcapng"
expect_match "the evidence is the answer's realm" "$(json_flows '[e["note"] for e in j["flows"][0]["evidence"]]')" \
	'answer: realm="127\.0\.0\.1"'
expect_causes "capture, Kamailio, answer for another realm, --credentials" realm-mismatch --credentials "$T/creds" "$T/krealm2.pcapng"
kam_stop

# ---- the same expired nonce answered as Kamailio's stock kamailio.cfg does:
# a new challenge without stale=true (auth_challenge without flag 16) ------
SW_PORT=$(kport)
kam_start nostale -l "udp:127.0.0.1:$SW_PORT" "${DB[@]}" -A NONCEEXP=1 -A NO_STALE_FLAG || { finish; exit 1; }
cap_start knostale 6
sipp_run knostale -sf "$SIPP_DIR/analyze_stale.xml" -inf "$T/dave.csv" -au dave -ap davepw -m 1
cap_stop
sipp_expect "Kamailio, expired nonce without stale=true: sipp misses stale=true and stops" 1 knostale
echo 'dave@127.0.0.1,davepw' >"$T/dave.creds"
expect_causes "capture, Kamailio, expired nonce without stale=true" "ok stale-without-flag" "$T/knostale.pcapng"
# the reason is a plain "Unauthorized": the nonce the server accepted 3 s
# before, refused now with a new one, is what names it
expect_match "the evidence is the earlier, accepted use of the nonce" \
	"$(json_flows '[e["note"] for e in j["flows"][1]["evidence"]]')" 'the server accepted it'
expect_causes "capture, Kamailio, expired nonce without stale=true, --credentials" "ok stale-without-flag" --credentials "$T/dave.creds" "$T/knostale.pcapng"
kam_stop

# ---- sipsak against sipwarden serve ------------------------------------------------
# sipsak -U registers (usrloc mode); -u alice: its digest username would
# otherwise be "alice@" (see test_serve_clients.sh)
if command -v sipsak >/dev/null; then
	SW_DB="$T/serve.db" SW_PORT=$(kport)
	sw_user add alice@127.0.0.1 --password secret >/dev/null || not_ok "user add alice"
	sw_start sipsak || { finish; exit 1; }
	sipsak_reg() { # NAME PASSWORD: one registration, exit code in $SIPSAK_RC
		local lp; lp=$(kport)
		timeout 20 sipsak -U -C "sip:alice@127.0.0.1:$lp" -x 120 -s "sip:alice@127.0.0.1:$SW_PORT" \
			-u alice -a "$2" -i >"$T/$1.out" 2>&1 </dev/null
		SIPSAK_RC=$?
	}
	cap_start swrong 4
	sipsak_reg swrong wrong-secret
	cap_stop
	[ "$SIPSAK_RC" -ne 0 ] && ok "sipsak, wrong password: fails (exit $SIPSAK_RC)" || not_ok "sipsak with a wrong password succeeded"
	expect_causes "capture, sipsak, wrong password" credentials-rejected "$T/swrong.pcapng"
	expect_causes "capture, sipsak, wrong password, --credentials" wrong-password --credentials "$T/creds" "$T/swrong.pcapng"
	expect_match "the text names sipsak's flow and the verdict" "$("$SIPWARDEN" analyze --port "$SW_PORT" --credentials "$T/creds" "$T/swrong.pcapng")" \
		'verdict: wrong-password'
	cap_start sgood 4
	sipsak_reg sgood secret
	cap_stop
	[ "$SIPSAK_RC" -eq 0 ] && ok "sipsak, right password: registers" || not_ok "sipsak, right password: exit $SIPSAK_RC: $(tail -c 400 "$T/sgood.out")"
	expect_causes "capture, sipsak, right password, --credentials" ok --credentials "$T/creds" "$T/sgood.pcapng"
	expect_match "sipsak's right password is proved" "$(json_flows 'j["flows"][0]["proved"]')" '^True$'
	sw_stop
else
	echo "# SKIP sipsak: not installed (scripts/deps.sh installs it)"
fi

# ---- a REGISTER larger than the MTU, in IP fragments ---------------------------------
#   client ns 10.79.1.2 (sipp) --veth, MTU 1280-- 10.79.1.1 server ns (sipwarden serve)
# dumpcap on the server's veth; each REGISTER carries 3000 bytes of padding,
# so it leaves the client in 3 fragments. Reassembled by the server: the flow
# is ok, and analyze reassembles it too. Then the server's side drops every
# non-first fragment before reassembly (nftables, prerouting priority -450):
# nothing comes back, udp-fragmentation.
in_() { local n=$1; shift; ip netns exec "$n" "$@"; }
netns_setup() {
	ip netns add "$CLI" 2>/dev/null && ip netns add "$SRV" &&
		ip link add "${NS}c" netns "$CLI" mtu 1280 type veth peer name "${NS}s" netns "$SRV" mtu 1280 &&
		in_ "$CLI" ip addr add 10.79.1.2/24 dev "${NS}c" && in_ "$SRV" ip addr add 10.79.1.1/24 dev "${NS}s" &&
		in_ "$CLI" ip link set lo up && in_ "$SRV" ip link set lo up &&
		in_ "$CLI" ip link set "${NS}c" up && in_ "$SRV" ip link set "${NS}s" up
}
if ! command -v ip >/dev/null || ! command -v nft >/dev/null || ! netns_setup; then
	echo "# SKIP fragmentation: cannot create network namespaces here (needs root, iproute2 and nftables)"
else
	ok "namespaces $CLI, $SRV joined by a veth pair with MTU 1280"
	SW_DB="$T/frag.db" SW_PORT=5060
	"$SIPWARDEN" user add alice@10.79.1.1 --password secret --db "$SW_DB" >/dev/null || not_ok "user add alice@10.79.1.1"
	# ip netns exec itself, so that $! is the server
	ip netns exec "$SRV" "$SIPWARDEN" serve --db "$SW_DB" --domain 10.79.1.1 --listen udp:10.79.1.1:5060 \
		--workers 1 >"$T/frag.log" 2>"$T/frag.err" &
	SW_PID=$! SW_NAME=frag
	bg_track "$SW_PID"
	for _ in $(seq 1 50); do in_ "$SRV" ss -Hlun "sport = :5060" | grep -q . && break; sleep 0.1; done
	echo 'SEQUENTIAL' >"$T/frag.csv"; echo 'alice;10.79.1.1' >>"$T/frag.csv"
	echo 'alice@10.79.1.1,secret' >"$T/frag.creds"
	PAD=$(printf '%03000d' 0 | tr 0 x)
	frag_sipp() { # NAME [sipp args...]: sipp in the client namespace
		local name=$1; shift
		in_ "$CLI" timeout 20 sipp 10.79.1.1:5060 -i 10.79.1.2 -p 5070 -nostdin -trace_msg \
			-message_file "$T/$name.msg" -trace_err -error_file "$T/$name.errs" \
			-sf "$SIPP_DIR/analyze_large.xml" -inf "$T/frag.csv" -au alice -ap secret -key pad "$PAD" -m 1 "$@" \
			>"$T/$name.out" 2>&1 </dev/null
		SIPP_RC=$?
	}
	# 3 + 1 + 3 + 1 packets
	CAP_NETNS=$SRV cap_start frag 8 "${NS}s" "ip host 10.79.1.2"
	frag_sipp frag
	cap_stop
	sipp_expect "large REGISTER in fragments: 401, then 200" 0 frag
	expect_causes "capture, fragmented REGISTER reassembled" ok --credentials "$T/frag.creds" "$T/frag.pcapng"
	expect_match "the flow holds both REGISTERs whole" \
		"$(json_flows '(len(j["flows"][0]["messages"]), j["flows"][0]["proved"])')" '^\(4, True\)$'
	expect_match "both REGISTERs were reassembled from 3 fragments each" \
		"$(json_flows '(j["stats"]["ip_fragments"], j["stats"]["reassembled"], [m["fragments"] for m in j["flows"][0]["messages"]])')" \
		'^\(6, 2, \[3, 1, 3, 1\]\)$'

	in_ "$SRV" nft -f - <<'NFT'
table ip swakfrag {
	chain pre {
		type filter hook prerouting priority -450; policy accept;
		ip frag-off & 0x1fff != 0 counter drop
	}
}
NFT
	# the first REGISTER's 3 fragments; sipp gives up after 2 s
	CAP_NETNS=$SRV cap_start fragdrop 3 "${NS}s" "ip host 10.79.1.2"
	frag_sipp fragdrop -timeout 2 -timeout_error
	cap_stop
	[ "$SIPP_RC" -ne 0 ] && ok "fragments dropped: sipp gets no answer (exit $SIPP_RC)" || not_ok "fragments dropped: sipp succeeded"
	expect_causes "capture, fragments dropped on the way" udp-fragmentation "$T/fragdrop.pcapng"
	expect_match "the evidence names the fragments" "$(json_flows '[e["note"] for e in j["flows"][0]["evidence"]]')" \
		'in 3 IP fragments, no answer'
	expect_match "nftables dropped the non-first fragments" "$(in_ "$SRV" nft list table ip swakfrag)" 'packets [1-9]'
	sw_stop
fi

echo "# run time $((SECONDS - START)) s"
finish
