# Sourced by tests/tools/corpus_make.sh: writes Kamailio configurations as
# people run them.
#
# stock_cfg OUT RUNDIR [nc]: Debian's /etc/kamailio/kamailio.cfg (5.6) with
# as few edits as it takes to run it here without MySQL and without root:
#  - db_sqlite.so instead of db_mysql.so (same tables, DBURL given with -A),
#  - the RPC FIFO and the ctl socket in RUNDIR instead of /run/kamailio.
# With "nc": the auth module counts nonces (nonce_count=1), which needs the
# qop=auth challenge (auth_challenge flag 1 instead of the stock 0); the
# stock challenge has no qop.
stock_cfg() {
	local out=$1 run=$2 nc=${3:-}
	sed -e 's|^loadmodule "db_mysql.so"|loadmodule "db_sqlite.so"|' \
		-e 's|^modparam("jsonrpcs", "transport", 7)|modparam("jsonrpcs", "transport", 1)\nmodparam("jsonrpcs", "fifo_name", "'"$run"'/rpc.fifo")|' \
		-e 's|^# modparam("ctl", "binrpc", .*|modparam("ctl", "binrpc", "unix:'"$run"'/ctl")|' \
		/etc/kamailio/kamailio.cfg >"$out"
	if [ "$nc" = nc ]; then
		sed -i -e 's|auth_challenge("$fd", "0");|auth_challenge("$fd", "1");|' \
			-e 's|^modparam("auth_db", "db_url", DBURL)|modparam("auth", "nonce_count", 1)\n&|' "$out"
	fi
}

# htable_cfg OUT: a small registrar that keeps its passwords in an htable
# (loaded from the same SQLite file's htable table) and checks them with
# pv_auth_check(), the way small installations without a subscriber table
# do; qop=auth, nonce_expire 30 s, min_expires 60 with 423; a request for
# another domain than 127.0.0.1 gets 404 "Domain Not Served".
htable_cfg() {
	cat >"$1" <<'KCFG'
#!KAMAILIO
debug=2
log_stderror=yes
children=2
tcp_children=2
auto_aliases=no
dns=no
rev_dns=no
server_header="Server: kamailio"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"
loadmodule "db_sqlite.so"
loadmodule "htable.so"
modparam("htable", "db_url", DBURL)
modparam("htable", "htable", "users=>size=8;dbtable=htable;")
modparam("usrloc", "db_mode", 0)
modparam("registrar", "min_expires", 60)
modparam("registrar", "min_expires_mode", 1)
modparam("auth", "nonce_expire", 30)
modparam("auth", "secret", "corpus-htable-secret")
request_route {
	if (!mf_process_maxfwd_header("10")) {
		sl_send_reply("483", "Too Many Hops");
		exit;
	}
	if (!is_method("REGISTER")) {
		sl_send_reply("405", "Method Not Allowed");
		exit;
	}
	if ($rd != "127.0.0.1") {
		sl_send_reply("404", "Domain Not Served");
		exit;
	}
	if (!pv_auth_check("$fd", "$sht(users=>$fU)", "0", "1")) {
		auth_challenge("$fd", "1");
		exit;
	}
	consume_credentials();
	if (!save("location"))
		sl_reply_error();
	exit;
}
KCFG
}
