/* sipwarden serve: the authenticating registrar. Reads the configuration,
 * opens the store and the nonce secret, binds the listeners and runs the
 * workers until SIGINT/SIGTERM. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "sipwarden/ban.h"
#include "sipwarden/config.h"
#include "sipwarden/http.h"
#include "sipwarden/proxy.h"
#include "sipwarden/registrar.h"
#include "sipwarden/server.h"
#include "sipwarden/tls.h"
#include "sipwarden/version.h"
#include "commands.h"
#include "notify.h"

static const char usage_text[] =
	"usage: sipwarden serve [--config FILE] [--listen udp|tcp|tls:ADDR[:PORT]]...\n"
	"                       [--db PATH] [--domain DOMAIN]... [--min-expires N]\n"
	"                       [--max-expires N] [--workers N] [--http ADDR:PORT]\n"
	"                       [--http-token-file FILE] [--tls-certificate FILE]\n"
	"                       [--tls-key FILE] [--tls-ca FILE] [--check-config]\n"
	"\n"
	"Runs the authenticating SIP registrar and proxy: phones register, and\n"
	"calls and other requests between them are challenged (407) and\n"
	"forwarded to the callee's registered devices. Flags override the config file\n"
	"(see sipwarden.conf(5)); a --listen or --domain flag replaces the list.\n"
	"Default: UDP and TCP on 127.0.0.1:5060, database ./var/sipwarden.db.\n"
	"One log line per authentication decision goes to standard output (JSON\n"
	"when it is not a terminal); `sipwarden why USER@DOMAIN` reads them back.\n"
	"Under attack the log stays bounded: repeats of a cause from one address\n"
	"get one line a second and a count, at most [log] max_bytes_per_second,\n"
	"routine first challenges only with [log] first_challenges = yes. Under\n"
	"overload a UDP worker answers new requests 503 with Retry-After and keeps\n"
	"taking those that complete work ([overload] in sipwarden.conf(5)).\n"
	"Password crackers, scanners and floods are banned by source address\n"
	"([ban] in sipwarden.conf(5); `sipwarden ban` lists, adds and deletes bans).\n"
	"\n"
	"  --http ADDR:PORT         serve Prometheus /metrics, the operator's web page\n"
	"                           and its JSON API (/api/...) there (http_listen);\n"
	"                           off by default\n"
	"  --http-token-file FILE   the bearer token HTTP clients must send; required\n"
	"                           when ADDR is not a loopback address\n"
	"  --tls-certificate FILE   the certificate chain (PEM) a tls: listener presents\n"
	"  --tls-key FILE           its private key ([tls] certificate, private_key)\n"
	"  --tls-ca FILE            CAs whose client certificates are accepted ([tls] ca)\n"
	"  --check-config           validate the configuration and the files it names\n"
	"                           (TLS: readable, key matching, not expired, chain\n"
	"                           complete), print it, and exit\n"
	"\n"
	"SIGINT/SIGTERM stop cleanly (queued writes are committed and answered);\n"
	"SIGHUP re-reads the configuration: the expires limits, max_contacts and\n"
	"allow_register_others, the [proxy] settings, [ban] and the TLS certificate\n"
	"and key (for new connections; a bad file keeps the old ones) change at\n"
	"once, the rest after a restart. SIGUSR1 writes a status line (heap in\n"
	"use, SQLite's part, bindings, connections, TLS handshakes) to standard\n"
	"error. `sipwarden calls` lists the calls in progress and the last ones\n"
	"ended. Under systemd (Type=notify, NOTIFY_SOCKET)\n"
	"it reports readiness, reloads, the stop and watchdog pings with sd_notify,\n"
	"and the log lines go to the journal with fields (CAUSE=, SOURCE=, USER=,\n"
	"METHOD=...: `journalctl -u sipwarden CAUSE=wrong-password`).\n"
	"\n"
	"exit codes: 0 stopped cleanly (or the configuration is valid), 1 could not\n"
	"start (or the configuration is invalid, with the reason), 2 usage error.\n";

static struct sw_server *running;
static atomic_int reload_requested; /* set by SIGHUP, taken by the housekeeping thread */
static atomic_int status_requested; /* set by SIGUSR1, likewise */

static int build_config(int argc, char **argv, struct sw_config *cfg, char *why, size_t cap);
static void registrar_settings(const struct sw_config *cfg, struct sw_registrar_cfg *rc);

static void on_signal(int sig)
{
	(void)sig;
	if (running)
		sw_server_stop(running);
}

struct housekeeper {
	struct sw_registrar *reg;
	struct sw_calls *calls;      /* the proxy's recent calls */
	struct sw_ban *ban;          /* NULL: [ban] enabled = no */
	struct sw_store *st;
	struct sw_tls *tls;          /* NULL: no tls: listener */
	struct sw_server *srv;
	atomic_int stop;
	int argc;
	char **argv;
	const struct sw_config *running;
	char calls_path[SW_CONFIG_PATH_MAX + 16]; /* "" for a memory: store */
};

static void reload(struct housekeeper *h)
{
	static struct sw_config cfg;
	char why[1024];
	if (build_config(h->argc, h->argv, &cfg, why, sizeof(why))) {
		fprintf(stderr, "sipwarden serve: reload failed, keeping the running configuration: %s\n", why);
		return;
	}
	struct sw_registrar_cfg rc = { 0 };
	registrar_settings(&cfg, &rc);
	sw_registrar_reconfigure(h->reg, &rc);
	if (h->ban)
		sw_ban_reconfigure(h->ban, &cfg.ban);
	if (h->tls) {
		struct sw_tls_files f;
		sw_config_tls_files(&cfg, &f);
		char info[512];
		if (sw_tls_reload(h->tls, &f, time(NULL), why, sizeof(why)) == 0) {
			sw_tls_describe(h->tls, info, sizeof(info));
			fprintf(stderr, "sipwarden serve: TLS certificate loaded for new connections: %s\n", info);
		} else {
			sw_tls_describe(h->tls, info, sizeof(info));
			fprintf(stderr, "sipwarden serve: TLS reload failed, keeping the certificate in use (%s): "
				"%s\n", info, why);
		}
	}
	const struct sw_config *old = h->running;
	bool restart = cfg.nlisten != old->nlisten || memcmp(cfg.listen, old->listen, sizeof(cfg.listen)) ||
		       strcmp(cfg.db, old->db) || cfg.ndomains != old->ndomains ||
		       memcmp(cfg.domains, old->domains, sizeof(cfg.domains)) || cfg.workers != old->workers ||
		       strcmp(cfg.http_listen, old->http_listen) || strcmp(cfg.http_token_file, old->http_token_file);
	fprintf(stderr, "sipwarden serve: configuration reloaded (expires limits, max_contacts, "
			"allow_register_others, [log] first_challenges and max_bytes_per_second, [ban])%s\n",
		restart ? "; listen addresses, database, domains, workers and http take effect after a restart" : "");
}

static void *housekeeping(void *arg)
{
	struct housekeeper *h = arg;
	while (!atomic_load(&h->stop)) {
		if (atomic_exchange(&reload_requested, 0)) {
			notify_reloading();
			reload(h);
			notify_ready(); /* also when the reload failed: the old configuration runs */
		}
		if (atomic_exchange(&status_requested, 0)) {
			struct sw_server_stats ss;
			sw_server_stats(h->srv, &ss);
			fprintf(stderr, "sipwarden serve: status: heap in use %zu bytes (SQLite %zu), %zu bindings, "
				"connections %llu accepted %llu refused %llu timed out, TLS handshakes %llu done "
				"%llu failed %llu timed out\n",
				sw_heap_in_use(), sw_store_sqlite_memory(), sw_registrar_bindings(h->reg),
				(unsigned long long)ss.tcp_accepted, (unsigned long long)ss.tcp_refused,
				(unsigned long long)ss.tcp_timed_out, (unsigned long long)ss.tls_handshakes,
				(unsigned long long)ss.tls_failed, (unsigned long long)ss.tls_handshake_timed_out);
		}
		sw_registrar_housekeeping(h->reg, (int64_t)time(NULL));
		if (h->calls_path[0])
			sw_calls_snapshot(h->calls, h->calls_path);
		for (int i = 0; i < 10 && !atomic_load(&h->stop); i++) {
			usleep(100000);
			notify_watchdog();
			sw_registrar_flush_log(h->reg);
			if (h->ban) /* `sipwarden ban` changes take effect within a second */
				sw_ban_sync(h->ban, h->st, (int64_t)time(NULL));
		}
	}
	return NULL;
}

/* Creates the directory that will hold path (one level, like ./var). */
static void make_parent(const char *path)
{
	char dir[SW_CONFIG_PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return;
	*slash = '\0';
	mkdir(dir, 0700);
}

static const char *const value_flags[] = { "--listen", "--db", "--domain", "--min-expires",
					   "--max-expires", "--workers", "--http", "--http-token-file",
					   "--tls-certificate", "--tls-key", "--tls-ca", NULL };

/* Defaults, then the config file, then the flags, then validation: at
 * start and again on SIGHUP. Returns 0, 1 (invalid) or 2 (usage). */
static int build_config(int argc, char **argv, struct sw_config *cfg, char *why, size_t cap)
{
	const char *config_path = NULL;
	sw_config_defaults(cfg, SIPWARDEN_VERSION);
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			config_path = argv[++i];
	if (config_path && sw_config_load(cfg, config_path, why, cap))
		return 1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--config")) {
			i++;
			continue;
		}
		if (!strcmp(argv[i], "--check-config"))
			continue;
		bool known = false;
		for (const char *const *f = value_flags; *f; f++)
			known |= !strcmp(argv[i], *f);
		if (!known) {
			snprintf(why, cap, "unknown option '%s'", argv[i]);
			return 2;
		}
		if (i + 1 >= argc) {
			snprintf(why, cap, "%s needs a value", argv[i]);
			return 2;
		}
		if (sw_config_set(cfg, strcmp(argv[i], "--http") ? argv[i] : "http_listen", argv[i + 1], why, cap))
			return 2;
		i++;
	}
	if (sw_config_validate(cfg, why, cap)) {
		char reason[1024];
		snprintf(reason, sizeof(reason), "invalid configuration: %s", why);
		snprintf(why, cap, "%s", reason);
		return 1;
	}
	return 0;
}

static void registrar_settings(const struct sw_config *cfg, struct sw_registrar_cfg *rc)
{
	rc->min_expires = cfg->min_expires;
	rc->max_expires = cfg->max_expires;
	rc->default_expires = cfg->default_expires;
	rc->max_contacts = cfg->max_contacts;
	rc->allow_register_others = cfg->allow_register_others;
	rc->accept_foreign_callers = cfg->accept_foreign_callers;
	rc->reveal_unknown_callee = cfg->reveal_unknown_callee;
	rc->timer_c = cfg->timer_c;
	rc->log_first_challenges = cfg->log_first_challenges;
	rc->log_max_bytes = cfg->log_max_bytes_per_second;
}

/* The operator's HTTP listener (sipwarden-serve(1)); its own threads read
 * the store, the location index and the bans. */
static int start_http(const struct sw_config *cfg, struct sw_store *st, struct sw_registrar *reg,
		      struct sw_ban *ban, struct sw_http **out, char *why, size_t cap)
{
	struct sw_http_cfg hc = { .token_file = cfg->http_token_file, .st = st, .reg = reg, .ban = ban,
				  .ndomains = cfg->ndomains, .version = SIPWARDEN_VERSION };
	const char *domains[SW_CONFIG_MAX_DOMAINS];
	for (unsigned i = 0; i < cfg->ndomains; i++)
		domains[i] = cfg->domains[i];
	hc.domains = domains;
	if (sw_config_http_addr(cfg, &hc.addr, &hc.addrlen)) {
		snprintf(why, cap, "http_listen '%s' is not ADDR:PORT", cfg->http_listen);
		return SW_EINVAL;
	}
	return sw_http_start(out, &hc, why, cap);
}

static void on_usr1(int sig)
{
	(void)sig;
	atomic_store(&status_requested, 1);
}

static void on_hup(int sig)
{
	(void)sig;
	atomic_store(&reload_requested, 1);
}

int cmd_serve(int argc, char **argv)
{
	/* transactions come and go by the thousand: keep freed memory at the top
	 * of the heaps instead of trimming and growing them again (mprotect and
	 * page faults were 3 % of a call's CPU) */
	mallopt(M_TOP_PAD, 16 << 20);
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	static struct sw_config cfg;
	char why[1024];
	bool check = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage_text, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--check-config")) {
			check = true;
		} else {
			bool takes_value = !strcmp(argv[i], "--config");
			for (const char *const *f = value_flags; *f; f++)
				takes_value |= !strcmp(argv[i], *f);
			i += takes_value; /* skip a value, even one spelt like a flag */
		}
	}
	int brc = build_config(argc, argv, &cfg, why, sizeof(why));
	if (brc) {
		fprintf(stderr, "sipwarden serve: %s\n", why);
		if (brc == 2)
			fputs(usage_text, stderr);
		return brc;
	}
	char tls_info[512];
	if (check && sw_config_check_files(&cfg, time(NULL), tls_info, sizeof(tls_info), why, sizeof(why))) {
		fprintf(stderr, "sipwarden serve: invalid configuration: %s\n", why);
		return 1;
	}
	if (check) {
		static char text[65536];
		struct sw_buf b;
		sw_buf_init(&b, text, sizeof(text));
		sw_config_print(&cfg, &b);
		fwrite(b.p, 1, b.len, stdout);
		if (tls_info[0])
			printf("# TLS certificate: %s\n", tls_info);
		printf("# configuration OK\n");
		return 0;
	}

	struct sw_tls *tls = NULL;
	if (sw_config_has_tls(&cfg)) {
		struct sw_tls_files f;
		sw_config_tls_files(&cfg, &f);
		if (sw_tls_new(&tls, &f, why, sizeof(why))) {
			fprintf(stderr, "sipwarden serve: [tls] %s\n", why);
			return 1;
		}
		/* an expired or unverifiable certificate still starts UDP and TCP */
		if (sw_config_check_files(&cfg, time(NULL), tls_info, sizeof(tls_info), why, sizeof(why)))
			fprintf(stderr, "sipwarden serve: warning: %s\n", why);
	}

	char spec[SW_CONFIG_PATH_MAX + 16], secret_path[SW_CONFIG_PATH_MAX];
	sw_config_store_spec(&cfg, spec, sizeof(spec));
	sw_config_secret_path(&cfg, secret_path, sizeof(secret_path));
	if (strncmp(spec, "memory:", 7) != 0)
		make_parent(cfg.db);
	struct sw_store_opts so = { .create = true };
	sw_config_store_opts(&cfg, &so);
	/* the workers commit their own batches (sw_registrar_on_idle): no
	 * thread hand-off and wake-up per registration */
	so.caller_commits = true;
	struct sw_store *st = NULL;
	int rc = sw_store_open(&st, spec, &so);
	if (rc) {
		fprintf(stderr, "sipwarden serve: cannot open the database %s: %s\n", cfg.db, sw_strerror(rc));
		sw_tls_free(tls);
		return 1;
	}
	static struct sw_secret secret;
	bool created = false;
	if (secret_path[0]) {
		make_parent(secret_path);
		rc = sw_secret_open(secret_path, (uint64_t)time(NULL), &secret, &created);
	} else {
		rc = sw_secret_generate(&secret, (uint64_t)time(NULL));
	}
	if (rc) {
		fprintf(stderr, "sipwarden serve: cannot open the nonce secret %s: %s\n", secret_path, sw_strerror(rc));
		sw_store_close(st);
		sw_tls_free(tls);
		return 1;
	}

	struct sw_registrar_cfg rc_cfg = {
		.ndomains = cfg.ndomains, .server_name = cfg.user_agent,
		.log = stdout,
		.log_json = cfg.log_format == SW_LOG_JSON || (cfg.log_format == SW_LOG_AUTO && !isatty(1)),
		/* auto: the journal, with fields, when stdout is systemd's journal stream */
		.log_journal = cfg.log_format == SW_LOG_JOURNAL ||
			       (cfg.log_format == SW_LOG_AUTO && sw_journal_stream_is(1)),
	};
	registrar_settings(&cfg, &rc_cfg);
	rc_cfg.listen = cfg.listen;
	rc_cfg.nlisten = cfg.nlisten;
	for (unsigned i = 0; i < cfg.ndomains; i++)
		rc_cfg.domains[i] = cfg.domains[i];
	sw_config_auth_cfg(&cfg, NULL, &rc_cfg.auth);
	struct sw_ban *ban = NULL;
	if (cfg.ban.enabled && (rc = sw_ban_new(&ban, &cfg.ban)) == 0 &&
	    (rc = sw_ban_sync(ban, st, (int64_t)time(NULL))) != 0) /* the bans in force, before any request */
		snprintf(why, sizeof(why), "cannot read the bans from the database: %s", sw_strerror(rc));
	else if (rc)
		snprintf(why, sizeof(why), "cannot set up the bans: %s", sw_strerror(rc));
	rc_cfg.ban = ban;
	struct sw_registrar *reg = NULL;
	struct sw_calls *calls = NULL;
	struct sw_registrar_next proxy;
	if (!rc && (rc = sw_calls_new(&calls)) != 0)
		snprintf(why, sizeof(why), "cannot set up the proxy: %s", sw_strerror(rc));
	if (!rc) {
		sw_proxy_next(calls, &proxy);
		rc = sw_registrar_new(&reg, &rc_cfg, &proxy, st, &secret, why, sizeof(why));
	}
	if (rc) {
		fprintf(stderr, "sipwarden serve: %s\n", why);
		sw_calls_free(calls);
		sw_store_close(st);
		sw_ban_free(ban);
		sw_tls_free(tls);
		return 1;
	}
	struct sw_server_cfg scfg = { .listen = cfg.listen, .nlisten = cfg.nlisten, .workers = cfg.workers,
				      .max_message = cfg.max_message_size,
				      .tcp_max_connections = cfg.tcp_max_connections,
				      .tcp_idle_timeout = cfg.tcp_idle_timeout,
				      .tcp_max_per_source = cfg.tcp_max_per_source,
				      .tcp_first_byte_timeout = cfg.tcp_first_byte_timeout,
				      .tcp_message_timeout = cfg.tcp_message_timeout,
				      .tls = tls, .tls_handshake_timeout = cfg.tls_handshake_timeout,
				      .overload_enabled = cfg.overload_enabled,
				      .overload_delay_ms = cfg.overload_queue_delay,
				      .retry_after = cfg.overload_retry_after,
				      .retry_after_max = cfg.overload_retry_after_max };
	struct sw_server *srv = NULL;
	rc = sw_server_new(&srv, &scfg, sw_registrar_on_message, sw_registrar_on_tick, reg, why, sizeof(why));
	if (!rc)
		sw_server_set_idle(srv, sw_registrar_on_idle);
	struct sw_registrar_worker **rws = NULL;
	if (!rc) {
		rws = calloc(sw_server_workers(srv), sizeof(*rws));
		for (unsigned i = 0; !rc && i < sw_server_workers(srv); i++) {
			rc = rws ? sw_registrar_worker_new(reg, i, &rws[i]) : SW_ENOMEM;
			if (!rc)
				sw_worker_set_data(srv, i, rws[i]);
		}
		if (rc)
			snprintf(why, sizeof(why), "cannot set up the workers: %s", sw_strerror(rc));
	}
	struct sw_http *http = NULL;
	if (!rc && cfg.http_listen[0])
		rc = start_http(&cfg, st, reg, ban, &http, why, sizeof(why));
	if (rc) {
		fprintf(stderr, "sipwarden serve: %s\n", why);
		goto out;
	}

	fprintf(stderr, "sipwarden serve: listening on");
	for (unsigned i = 0; i < cfg.nlisten; i++) {
		char a[80];
		sw_sockaddr_format((const struct sockaddr *)&cfg.listen[i].addr, a, sizeof(a));
		static const char *const tp[] = { "udp", "tcp", "tls" };
		fprintf(stderr, " %s:%s", tp[cfg.listen[i].tp], a);
	}
	fprintf(stderr, "; domain%s", cfg.ndomains > 1 ? "s" : "");
	for (unsigned i = 0; i < cfg.ndomains; i++)
		fprintf(stderr, " %s", cfg.domains[i]);
	fprintf(stderr, "; database %s; %u worker%s", cfg.db, sw_server_workers(srv),
		sw_server_workers(srv) > 1 ? "s" : "");
	if (http)
		fprintf(stderr, "; http %s%s", cfg.http_listen, cfg.http_token_file[0] ? " (token)" : "");
	fputc('\n', stderr);
	if (tls) {
		sw_tls_describe(tls, tls_info, sizeof(tls_info));
		fprintf(stderr, "sipwarden serve: TLS certificate: %s\n", tls_info);
	}

	running = srv;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct housekeeper hk = { .reg = reg, .calls = calls, .ban = ban, .st = st, .tls = tls, .srv = srv, .argc = argc, .argv = argv, .running = &cfg };
	if (strncmp(spec, "memory:", 7) != 0)
		snprintf(hk.calls_path, sizeof(hk.calls_path), "%s-calls.json", cfg.db);
	pthread_t hk_thread;
	notify_watchdog_init();
	bool hk_started = pthread_create(&hk_thread, NULL, housekeeping, &hk) == 0;
	if (hk_started)
		pthread_setname_np(hk_thread, "sw-housekeeping");
	notify_ready(); /* the sockets are bound (sw_server_new) and the store is open */
	rc = sw_server_run(srv);
	notify_stopping(); /* the workers have stopped; the store's last commits follow */
	sw_http_stop(http);
	atomic_store(&hk.stop, 1);
	if (hk_started)
		pthread_join(hk_thread, NULL);
	if (ban) /* the bans started in the last moments */
		sw_ban_sync(ban, st, (int64_t)time(NULL));
	running = NULL;
	unsigned open_txn = 0;
	for (unsigned i = 0; i < sw_server_workers(srv); i++)
		open_txn += sw_registrar_worker_transactions(rws[i]);
	fprintf(stderr, "sipwarden serve: stopped (%u proxy transaction%s still open)\n", open_txn,
		open_txn == 1 ? "" : "s");
out:;
	unsigned nworkers = srv ? sw_server_workers(srv) : 0;
	/* the store first: it commits what is queued and posts the completions,
	 * which freeing the server then runs (the last 200 OKs still leave, and
	 * their events go to the store, closed last) */
	if (st)
		sw_store_flush(st);
	sw_server_free(srv);
	sw_store_close(st);
	for (unsigned i = 0; rws && i < nworkers; i++)
		sw_registrar_worker_free(rws[i]);
	free(rws);
	sw_registrar_free(reg);
	sw_calls_free(calls);
	sw_ban_free(ban);
	sw_tls_free(tls);
	sw_secret_wipe(&secret);
	return rc ? 1 : 0;
}
