# Kamailio from Debian as a registrar for the doctor's tests, sourced by
# tests/cli/test_check_kamailio.sh and test_check_tls.sh after serve_lib.sh
# (uses $T, bg_track, not_ok). The config, the SQLite subscriber table and
# (for TLS) the tls.cfg are written into $T; every instance listens on
# loopback only, runs in the foreground (-DD) and is stopped by kam_stop or
# by serve_lib's exit trap.

# kam_moddir: where Debian put the modules
kam_moddir() {
	local d
	for d in /usr/lib/x86_64-linux-gnu/kamailio/modules /usr/lib/*/kamailio/modules /usr/lib/kamailio/modules; do
		[ -e "$d/registrar.so" ] && { echo "$d"; return 0; }
	done
	return 1
}

# the tables of Kamailio 5.6, shared with bench/compare-kamailio.sh
KAM_SCHEMA="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../bench/kamailio" && pwd)/schema.sql"

# kam_users DB DOMAIN USER:PASSWORD...: Kamailio 5.6's tables
# (bench/kamailio/schema.sql) with the HA1 over realm DOMAIN, as provisioned for
# that domain
kam_users() {
	python3 - "$KAM_SCHEMA" "$@" <<'PY'
import hashlib, sqlite3, sys
schema, path, dom = sys.argv[1], sys.argv[2], sys.argv[3]
db = sqlite3.connect(path)
with open(schema) as f:
    db.executescript(f.read())
for up in sys.argv[4:]:
    u, pw = up.split(":", 1)
    ha1 = hashlib.md5(("%s:%s:%s" % (u, dom, pw)).encode()).hexdigest()
    db.execute("INSERT INTO subscriber (username, domain, password, ha1) VALUES (?, ?, ?, ?)", (u, dom, pw, ha1))
db.commit()
PY
}

# kam_cfg FILE: the registrar script. Defines passed with -A choose:
#   DBURL      "sqlite:///path" of the subscriber table (required)
#   REALM      the challenge realm (default: the From domain)
#   MINEXP     registrar min_expires, answered with 423 (default 60)
#   NONCEEXP   auth nonce_expire in seconds (default 300)
#   HOLD200    microseconds to hold the 200 of an authenticated REGISTER
#              that sets a binding (default 0)
# The account "maint" is authenticated and then answered 503 with
# Retry-After, as by a registrar whose location database is down.
#   NO_STALE_FLAG  answer an expired nonce with a plain challenge, as
#              Kamailio's stock kamailio.cfg does (auth_challenge without
#              flag 16), instead of stale=true
#   WITH_TLS   load tls.so with TLSCFG "path/to/tls.cfg"
#   HEPURI     "sip:ADDR:PORT": siptrace mirrors every SIP message it
#              receives and sends there as HEPv3 (trace_mode 1)
kam_cfg() {
	cat >"$1" <<'KCFG'
#!KAMAILIO
debug=2
log_stderror=yes
children=2
tcp_children=2
auto_aliases=no
dns=no
rev_dns=no
use_dns_cache=no
server_header="Server: kamailio"

#!ifndef REALM
#!define REALM "$fd"
#!endif
#!ifndef MINEXP
#!define MINEXP 60
#!endif
#!ifndef NONCEEXP
#!define NONCEEXP 300
#!endif
#!ifndef HOLD200
#!define HOLD200 0
#!endif

#!ifdef WITH_TLS
enable_tls=yes
loadmodule "tls.so"
modparam("tls", "config", TLSCFG)
#!endif
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "cfgutils.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"
loadmodule "db_sqlite.so"
loadmodule "auth_db.so"
#!ifdef HEPURI
loadmodule "siptrace.so"
modparam("siptrace", "duplicate_uri", HEPURI)
modparam("siptrace", "hep_mode_on", 1)
modparam("siptrace", "hep_version", 3)
modparam("siptrace", "hep_capture_id", 2001)
modparam("siptrace", "trace_to_database", 0)
modparam("siptrace", "trace_mode", 1)
modparam("siptrace", "trace_on", 1)
#!endif

modparam("usrloc", "db_mode", 0)
modparam("registrar", "min_expires", MINEXP)
modparam("registrar", "min_expires_mode", 1)
modparam("registrar", "max_expires", 3600)
modparam("auth", "nonce_expire", NONCEEXP)
modparam("auth", "secret", "sipwarden-test-secret")
modparam("auth_db", "db_url", DBURL)
modparam("auth_db", "calculate_ha1", 0)
modparam("auth_db", "password_column", "ha1")
modparam("auth_db", "load_credentials", "")
modparam("auth_db", "use_domain", 0)

request_route {
	if (!mf_process_maxfwd_header("10")) {
		sl_send_reply("483", "Too Many Hops");
		exit;
	}
	if (is_method("OPTIONS")) {
		sl_send_reply("200", "OK");
		exit;
	}
	if (!is_method("REGISTER")) {
		sl_send_reply("405", "Method Not Allowed");
		exit;
	}
	# flags 1: the From user must be the auth user
	auth_check(REALM, "subscriber", "1");
	$var(rc) = $rc;
#!ifndef NO_STALE_FLAG
	if ($var(rc) == -4) {
		auth_challenge(REALM, "17");   # -4: stale nonce; 16: stale=true, 1: qop=auth
		exit;
	}
#!endif
	if ($var(rc) < 0) {
		auth_challenge(REALM, "1");
		exit;
	}
	consume_credentials();
	# the account "maint": a registrar whose location database is down
	if ($fU == "maint") {
		append_to_reply("Retry-After: 120\r\n");
		sl_send_reply("503", "Location Database Unavailable");
		exit;
	}
	if (HOLD200 > 0 && $hdr(Expires) != "0")
		usleep(HOLD200);
	if (!save("location")) {
		sl_reply_error();
	}
	exit;
}
KCFG
}

# kam_start NAME [kamailio args...]: starts Kamailio (stderr in $T/NAME.err),
# waits up to 10 s until every -l listener is bound. Sets KAM_PID.
kam_start() {
	local name=$1 run="$T/kam-$1" i a want=() ok
	shift
	mkdir -p "$run"
	for a in "$@"; do
		case $a in udp:* | tcp:* | tls:*) want+=("$a") ;; esac
	done
	timeout -k 3 120 kamailio -f "$T/kamailio.cfg" -DD -E -L "$(kam_moddir)" -m 64 -M 8 \
		-P "$run/kamailio.pid" -Y "$run" -w "$run" "$@" >"$T/$name.out" 2>"$T/$name.err" &
	KAM_PID=$!
	bg_track "$KAM_PID"
	for i in $(seq 1 100); do
		kill -0 "$KAM_PID" 2>/dev/null || break
		ok=1
		for a in "${want[@]}"; do
			local proto=${a%%:*} port=${a##*:} flag=-Hltn
			[ "$proto" = udp ] && flag=-Hlun
			ss "$flag" "sport = :$port" 2>/dev/null | grep -q . || ok=0
		done
		if [ "$ok" = 1 ]; then sleep 0.3; return 0; fi
		sleep 0.1
	done
	not_ok "kamailio $name did not start: $(grep -E 'ERROR|CRITICAL' "$T/$name.err" | tail -n 5)"
	return 1
}

# kam_stop: SIGTERM, then SIGKILL after 5 s
kam_stop() {
	local i
	kill -TERM "$KAM_PID" 2>/dev/null
	for i in $(seq 1 50); do kill -0 "$KAM_PID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$KAM_PID" 2>/dev/null
	wait "$KAM_PID" 2>/dev/null
}
