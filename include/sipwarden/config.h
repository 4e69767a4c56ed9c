/* sipwarden — the configuration of `sipwarden serve`: defaults, the INI
 * file (sipwarden.conf(5)), command-line overrides, cross-field validation
 * and printing the effective configuration. See docs/internals/config.md.
 *
 * Layers, lowest first: sw_config_defaults(), then sw_config_load() of the
 * file, then sw_config_set() for each command-line flag, then
 * sw_config_validate(). A scalar set by a higher layer replaces the value; a
 * list (listen, domain) given by a higher layer replaces the lower layer's
 * whole list, and repeated entries within one layer add up.
 *
 * Every function that changes a struct sw_config changes it only on
 * success. No function here keeps state of its own; a struct sw_config is
 * plain data and may be copied. */
#ifndef SIPWARDEN_CONFIG_H
#define SIPWARDEN_CONFIG_H

#include "sipwarden/common.h"
#include "sipwarden/buf.h"
#include "sipwarden/auth.h"
#include "sipwarden/transport.h"
#include "sipwarden/store.h"
#include "sipwarden/ban.h"
#include "sipwarden/tls.h"

#define SW_CONFIG_MAX_LISTEN 16
#define SW_CONFIG_MAX_DOMAINS 64
#define SW_CONFIG_PATH_MAX 1024
#define SW_CONFIG_DOMAIN_MAX 256      /* capacity of one domain, NUL included */
#define SW_CONFIG_UA_MAX 128
#define SW_CONFIG_HTTP_MAX 80         /* "[v6 address]:port", NUL included */
/* The largest configuration file read (bytes). */
#define SW_CONFIG_FILE_MAX (1024 * 1024)

enum sw_log_format { SW_LOG_AUTO = 0, SW_LOG_JSON, SW_LOG_TEXT, SW_LOG_JOURNAL };

struct sw_config {
	/* [server] */
	struct sw_listen listen[SW_CONFIG_MAX_LISTEN];
	unsigned nlisten;            /* default: udp:127.0.0.1:5060, tcp:127.0.0.1:5060 */
	unsigned workers;            /* 0 (default): one per CPU core */
	uint32_t max_message_size;   /* bytes, 1024..65536, default 65536 */
	char user_agent[SW_CONFIG_UA_MAX]; /* Server header; "" = none; default "sipwarden/VERSION" */
	char http_listen[SW_CONFIG_HTTP_MAX]; /* "ADDR:PORT" of /metrics and the web page; "" (default): off */
	char http_token_file[SW_CONFIG_PATH_MAX]; /* the bearer token; required off loopback */

	/* [registrar] */
	char domains[SW_CONFIG_MAX_DOMAINS][SW_CONFIG_DOMAIN_MAX]; /* lower case */
	unsigned ndomains;           /* default none: must be given */
	uint32_t min_expires;        /* default 60 */
	uint32_t max_expires;        /* default 3600 */
	uint32_t default_expires;    /* default 3600, within [min, max] */
	unsigned max_contacts;       /* per AOR, default 10 */
	bool allow_register_others;  /* may register other AORs of its domain; default no */

	/* [proxy] */
	bool accept_foreign_callers; /* from other domains to our users, unchallenged; default yes */
	bool reveal_unknown_callee;  /* 404 for a callee who does not exist; default no (480) */
	uint32_t timer_c;            /* seconds a ringing branch may last, default 180 */

	/* [auth] */
	enum sw_digest_alg algorithms[SW_ALG__COUNT]; /* offered, in order */
	unsigned nalgorithms;        /* default MD5, SHA-256 */
	unsigned qop_mask;           /* SW_QOP_BIT() set; 0 = "none"; default auth */
	bool allow_no_qop;           /* accept RFC 2069 answers although qop is offered */
	uint32_t nonce_lifetime;     /* seconds, default 300 */
	bool one_time_nonces;        /* default no */
	char secret_file[SW_CONFIG_PATH_MAX]; /* "" (default): <dir of db>/nonce.secret */

	/* [store] */
	char db[SW_CONFIG_PATH_MAX]; /* default ./var/sipwarden.db; or "memory:" */
	uint32_t event_retention_rows; /* default 100000 */
	uint32_t event_retention_days; /* default 30 */

	/* [tcp] */
	unsigned tcp_max_connections; /* default 1024 */
	uint32_t tcp_idle_timeout;   /* seconds, default 300 */
	unsigned tcp_max_per_source; /* open connections from one address, default 100 */
	uint32_t tcp_first_byte_timeout; /* seconds, default 10 */
	uint32_t tcp_message_timeout; /* seconds, default 10 */

	/* [tls] (needed by tls: listen addresses) */
	char tls_certificate[SW_CONFIG_PATH_MAX]; /* PEM chain; default "" */
	char tls_private_key[SW_CONFIG_PATH_MAX]; /* PEM key; default "" */
	char tls_ca[SW_CONFIG_PATH_MAX]; /* PEM CAs for client certificates; default "" (none asked) */
	bool tls_require_client_cert; /* with ca: refuse a client without one; default no */
	char tls_ciphers[SW_CONFIG_UA_MAX]; /* TLS 1.2 suites (OpenSSL syntax); default SW_TLS_CIPHERS */
	uint32_t tls_handshake_timeout; /* seconds, default 10 */

	/* [ban] the brute-force and scanner defence (sipwarden.conf(5) gives the
	 * defaults and why); allow is a list like listen */
	struct sw_ban_cfg ban;

	/* [overload] UDP overload control: 503 + Retry-After for new work */
	bool overload_enabled;       /* default yes */
	uint32_t overload_queue_delay; /* ms, default 50 */
	uint32_t overload_retry_after; /* s, default 5 */
	uint32_t overload_retry_after_max; /* s, default 300 */

	/* [log] */
	enum sw_log_format log_format; /* auto (default): the journal when stdout is
					  systemd's journal stream, else JSON when it is not a TTY */
	bool log_first_challenges;   /* a line for each first challenge (no-credentials); default no */
	uint32_t log_max_bytes_per_second; /* default 65536 */

	/* Bookkeeping for the layers (see above): true when the next listen /
	 * domain entry replaces the list instead of adding to it. Set by
	 * sw_config_defaults() and at the end of every sw_config_load(). */
	bool listen_replace;
	bool domains_replace;
};

/* Fills c with the defaults. version: put in the Server header as
 * "sipwarden/VERSION"; NULL gives "sipwarden". */
void sw_config_defaults(struct sw_config *c, const char *version);

/* Reads the INI file at path over *c: keys present replace values, absent
 * keys keep theirs. On error *c is unchanged and why gets a one-line reason
 * ("FILE:LINE: key 'x': reason", "FILE:LINE: unknown section [x]", "FILE:
 * cannot read: ..."). Returns 0, SW_EINVAL (syntax, unknown section or key,
 * bad value, a non-list key given twice, file too large) or SW_EIO (cannot
 * open or read). Does not validate across keys: see sw_config_validate(). */
int sw_config_load(struct sw_config *c, const char *path, char *why, size_t why_cap);

/* Sets one key from the command line (or anywhere): name is a key of the
 * file ("min_expires"), optionally "section.key", with '-' for '_' and an
 * optional leading "--" ("--min-expires"); value as in the file. listen and
 * domain add entries (the first after a load replaces the list). Returns 0
 * or SW_EINVAL with why = "NAME: reason" (NAME as given). */
int sw_config_set(struct sw_config *c, const char *name, const char *value, char *why,
		  size_t why_cap);

/* Cross-field checks: at least one listen address and no duplicate, at least
 * one domain, min_expires <= default_expires <= max_expires, algorithms not
 * empty, db not empty, tls: listeners have a certificate and a key. This is
 * what `serve --check-config` reports. 0 or SW_EINVAL with why. */
int sw_config_validate(const struct sw_config *c, char *why, size_t why_cap);

/* Writes the effective configuration as a loadable INI file (every key,
 * secret_file resolved). Returns sw_buf_status(out). */
int sw_config_print(const struct sw_config *c, struct sw_buf *out);

/* ==== what the other modules take from the configuration ================ */

/* The nonce secret file: secret_file, or "nonce.secret" next to the
 * database; "" for db = memory: (keep an ephemeral secret). 0 or
 * SW_ENOSPC. */
int sw_config_secret_path(const struct sw_config *c, char *out, size_t cap);
/* The store spec for sw_store_open(): "sqlite:DB" or "memory:". 0 or
 * SW_ENOSPC. */
int sw_config_store_spec(const struct sw_config *c, char *out, size_t cap);
/* Retention limits into store options (other fields untouched). */
void sw_config_store_opts(const struct sw_config *c, struct sw_store_opts *o);
/* sw_auth_cfg_default(o, realm) with the configured algorithms, qop,
 * allow_no_qop, nonce lifetime and one-time nonces. */
void sw_config_auth_cfg(const struct sw_config *c, const char *realm, struct sw_auth_cfg *o);
/* The TLS files of the configuration (pointers into c). */
void sw_config_tls_files(const struct sw_config *c, struct sw_tls_files *f);
/* True when a listen address is tls:. */
bool sw_config_has_tls(const struct sw_config *c);
/* What `serve --check-config` checks beyond sw_config_validate(): the
 * files named by the configuration (today the TLS certificate, key and CA:
 * sw_tls_check at now). Writes a one-line summary per file set to info. 0
 * or SW_EINVAL with why. */
int sw_config_check_files(const struct sw_config *c, time_t now, char *info, size_t info_cap, char *why,
			  size_t why_cap);
/* The HTTP listener's address from http_listen ("127.0.0.1:8080",
 * "[::1]:8080"). 0, or SW_EINVAL when http_listen is empty or bad. */
int sw_config_http_addr(const struct sw_config *c, struct sockaddr_storage *out, socklen_t *len);
/* Is this address a loopback one (127.0.0.0/8, ::1, ::ffff:127.x)? */
bool sw_addr_is_loopback(const struct sockaddr *sa);
/* "auto", "json", "text". */
const char *sw_log_format_name(enum sw_log_format f);

#endif
