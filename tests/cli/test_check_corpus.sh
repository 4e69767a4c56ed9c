#!/usr/bin/env bash
# sipwarden check against each Kamailio configuration of the corpus
# (issue 14; tests/tools/corpus/stock.sh, kamailio_lib.sh): Debian's stock
# kamailio.cfg WITH_AUTH, the same with nonce_count, the tests' registrar
# with stale=true and without, the htable registrar (404 for other
# domains), and a challenge realm other than the domain. For each: the right
# password works with no finding, a wrong one fails with credentials-rejected;
# for three of them an interval below min_expires and a foreign domain get
# the finding the server's behaviour shows. Loopback ports 36000-36999.
# Prints "# SKIP" and exits 0 only when Kamailio or its sqlite/htable modules
# are missing.
. "$(dirname "${BASH_SOURCE[0]}")/serve_lib.sh"
. "$TOOLS/kamailio_lib.sh"
. "$TOOLS/corpus/stock.sh"

if ! command -v kamailio >/dev/null || ! KMOD=$(kam_moddir) || [ ! -e "$KMOD/db_sqlite.so" ] ||
	[ ! -e "$KMOD/htable.so" ] || [ ! -r /etc/kamailio/kamailio.cfg ]; then
	echo "# SKIP kamailio, its sqlite/htable modules or its stock config missing (make deps)"
	exit 0
fi
# findings NAME ARGS...: `check --json` against the server; "verdict: cause,cause"
findings() {
	local name=$1; shift
	"$SIPWARDEN" check "$@" --proxy "127.0.0.1:$KP" --transport udp --timeout 2 --json >"$T/$name.json" 2>"$T/$name.err"
	json_q 'j["verdict"] + ": " + ",".join(sorted(f["cause"] for f in j["findings"]))' <"$T/$name.json" 2>&1
}
# server NAME KIND [defines...]: the corpus generator's configurations
server() {
	local name=$1 kind=$2 d
	shift 2
	KP=$(free_port 36000 36999)
	rm -f "$T/k.db"
	kam_users "$T/k.db" 127.0.0.1 alice:secret
	sqlite3 "$T/k.db" "INSERT INTO htable (key_name, key_type, value_type, key_value) VALUES ('alice', 0, 0, 'secret');"
	case $kind in
	stock) stock_cfg "$T/kamailio.cfg" "$T" ;;
	stocknc) stock_cfg "$T/kamailio.cfg" "$T" nc ;;
	kam) kam_cfg "$T/kamailio.cfg" ;;
	htable) htable_cfg "$T/kamailio.cfg" ;;
	esac
	local defs=(-A "DBURL=\"sqlite:///$T/k.db\"")
	case $kind in stock*) defs+=(-A WITH_MYSQL -A WITH_AUTH --alias=127.0.0.1) ;; esac
	for d in "$@"; do defs+=(-A "$d"); done
	kam_start "$name" -l "udp:127.0.0.1:$KP" "${defs[@]}"
}
# basic NAME RIGHT-WANT [WRONG-WANT]: right password, then a wrong one
basic() {
	expect_match "$1, right password" "$(findings "$1-right" sip:alice@127.0.0.1 --password secret)" "^$2\$"
	expect_match "$1, wrong password" "$(findings "$1-wrong" sip:alice@127.0.0.1 --password typo)" \
		"^${3:-fails: credentials-rejected}\$"
}

server stock stock && {
	basic stock 'works: '
	# min_expires without 423 (mode 0): the interval is raised silently
	expect_match "stock, 30 s asked" "$(findings stock-short sip:alice@127.0.0.1 --password secret --expires 30)" '^works: $'
	# the right answer for a domain it does not serve: 403 Not relaying
	expect_match "stock, foreign domain" "$(findings stock-foreign sip:alice@example.org --password secret)" \
		'^fails: refused-after-valid-digest$'
	kam_stop
}
server stocknc stocknc && { basic stocknc 'works: '; kam_stop; }
server kam kam && {
	basic kam 'works: '
	expect_match "kam, 30 s asked: 423, then Min-Expires" "$(findings kam-short sip:alice@127.0.0.1 --password secret --expires 30)" \
		'^works-with-problems: expires-too-brief$'
	# challenged for realm example.org, the HA1 is stored for 127.0.0.1
	expect_match "kam, foreign domain" "$(findings kam-foreign sip:alice@example.org --password secret)" \
		'^fails: credentials-rejected$'
	kam_stop
}
server kamnostale kam NO_STALE_FLAG && { basic kamnostale 'works: '; kam_stop; }
server htable htable && {
	basic htable 'works: '
	expect_match "htable, 30 s asked" "$(findings htable-short sip:alice@127.0.0.1 --password secret --expires 30)" \
		'^works-with-problems: expires-too-brief$'
	expect_match "htable, foreign domain: 404" "$(findings htable-foreign sip:alice@example.org --password secret)" \
		'^fails: domain-unknown$'
	kam_stop
}
# a challenge realm other than the domain: the right password is refused,
# and the doctor names the realm as the likely reason
server kamrealm kam 'REALM="sipwarden.test"' && {
	basic kamrealm 'fails: credentials-rejected,realm-mismatch' 'fails: credentials-rejected,realm-mismatch'
	kam_stop
}
finish
