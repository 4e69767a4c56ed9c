/* The configuration: defaults and the table of keys (one value is parsed
 * in value.c, a file is read in load.c, checked in check.c). */
#include <stdio.h>
#include <string.h>
#include "config/config_int.h"

/* Every number field is written through a uint32_t pointer. */
_Static_assert(_Generic((uint32_t)0, unsigned: 1, default: 0), "uint32_t must be unsigned int");

#define F(field) offsetof(struct sw_config, field), sizeof(((struct sw_config *)0)->field)
#define WEEK (7u * 86400u)

/* The order here is the order of sw_config_print() and of the man page. */
const struct sw__ckey sw__config_keys[] = {
	{ "server", "listen", SW__CK_LISTEN, F(listen), 0, 0 },
	{ "server", "workers", SW__CK_UINT, F(workers), 0, 1024 },
	{ "server", "max_message_size", SW__CK_UINT, F(max_message_size), 1024, 65536 },
	{ "server", "user_agent", SW__CK_TEXT, F(user_agent), 0, 0 },
	{ "server", "http_listen", SW__CK_HOSTPORT, F(http_listen), 0, 0 },
	{ "server", "http_token_file", SW__CK_PATH, F(http_token_file), 0, 0 },
	{ "registrar", "domain", SW__CK_DOMAIN, F(domains), 0, 0 },
	{ "registrar", "min_expires", SW__CK_UINT, F(min_expires), 1, WEEK },
	{ "registrar", "max_expires", SW__CK_UINT, F(max_expires), 1, WEEK },
	{ "registrar", "default_expires", SW__CK_UINT, F(default_expires), 1, WEEK },
	{ "registrar", "max_contacts", SW__CK_UINT, F(max_contacts), 1, 1000 },
	{ "registrar", "allow_register_others", SW__CK_BOOL, F(allow_register_others), 0, 0 },
	{ "proxy", "accept_foreign_callers", SW__CK_BOOL, F(accept_foreign_callers), 0, 0 },
	{ "proxy", "reveal_unknown_callee", SW__CK_BOOL, F(reveal_unknown_callee), 0, 0 },
	{ "proxy", "timer_c", SW__CK_UINT, F(timer_c), 1, 3600 },
	{ "auth", "algorithms", SW__CK_ALGS, F(algorithms), 0, 0 },
	{ "auth", "qop", SW__CK_QOP, F(qop_mask), 0, 0 },
	{ "auth", "allow_no_qop", SW__CK_BOOL, F(allow_no_qop), 0, 0 },
	{ "auth", "nonce_lifetime", SW__CK_UINT, F(nonce_lifetime), 1, 86400 },
	{ "auth", "one_time_nonces", SW__CK_BOOL, F(one_time_nonces), 0, 0 },
	{ "auth", "secret_file", SW__CK_PATH, F(secret_file), 0, 0 },
	{ "store", "db", SW__CK_PATH, F(db), 1, 0 },
	{ "store", "event_retention_rows", SW__CK_UINT, F(event_retention_rows), 1, 1000000000 },
	{ "store", "event_retention_days", SW__CK_UINT, F(event_retention_days), 1, 3650 },
	{ "tcp", "max_connections", SW__CK_UINT, F(tcp_max_connections), 1, 1000000 },
	{ "tcp", "idle_timeout", SW__CK_UINT, F(tcp_idle_timeout), 1, 86400 },
	{ "tcp", "max_connections_per_source", SW__CK_UINT, F(tcp_max_per_source), 1, 1000000 },
	{ "tcp", "first_byte_timeout", SW__CK_UINT, F(tcp_first_byte_timeout), 1, 3600 },
	{ "tcp", "message_timeout", SW__CK_UINT, F(tcp_message_timeout), 1, 3600 },
	{ "tls", "certificate", SW__CK_PATH, F(tls_certificate), 0, 0 },
	{ "tls", "private_key", SW__CK_PATH, F(tls_private_key), 0, 0 },
	{ "tls", "ca", SW__CK_PATH, F(tls_ca), 0, 0 },
	{ "tls", "require_client_certificate", SW__CK_BOOL, F(tls_require_client_cert), 0, 0 },
	{ "tls", "ciphers", SW__CK_TEXT, F(tls_ciphers), 1, 0 },
	{ "tls", "handshake_timeout", SW__CK_UINT, F(tls_handshake_timeout), 1, 3600 },
	{ "ban", "enabled", SW__CK_BOOL, F(ban.enabled), 0, 0 },
	{ "ban", "action", SW__CK_BANACTION, F(ban.reject), 0, 0 },
	{ "ban", "window", SW__CK_UINT, F(ban.window), 1, 86400 },
	{ "ban", "user_failures", SW__CK_UINT, F(ban.user_failures), 1, 100000 },
	{ "ban", "distinct_users", SW__CK_UINT, F(ban.distinct_users), 2, SW_BAN_USERS_MAX },
	{ "ban", "flood_window", SW__CK_UINT, F(ban.flood_window), 1, 3600 },
	{ "ban", "flood_requests", SW__CK_UINT, F(ban.flood_requests), 1, 1000000 },
	{ "ban", "known_for", SW__CK_UINT, F(ban.known_for), 0, WEEK },
	{ "ban", "ban_time", SW__CK_UINT, F(ban.ban_time), 1, WEEK },
	{ "ban", "ban_max_time", SW__CK_UINT, F(ban.ban_max_time), 1, 4 * WEEK },
	{ "ban", "allow", SW__CK_PREFIXES, F(ban.allow), 0, 0 },
	{ "overload", "enabled", SW__CK_BOOL, F(overload_enabled), 0, 0 },
	{ "overload", "queue_delay", SW__CK_UINT, F(overload_queue_delay), 1, 10000 },
	{ "overload", "retry_after", SW__CK_UINT, F(overload_retry_after), 1, 86400 },
	{ "overload", "retry_after_max", SW__CK_UINT, F(overload_retry_after_max), 1, 86400 },
	{ "log", "format", SW__CK_LOGFMT, F(log_format), 0, 0 },
	{ "log", "first_challenges", SW__CK_BOOL, F(log_first_challenges), 0, 0 },
	{ "log", "max_bytes_per_second", SW__CK_UINT, F(log_max_bytes_per_second), 1024, 1u << 30 },
};
const size_t sw__config_nkeys = sizeof(sw__config_keys) / sizeof(sw__config_keys[0]);
_Static_assert(sizeof(sw__config_keys) / sizeof(sw__config_keys[0]) <= SW__CONFIG_KEYS_MAX,
	       "raise SW__CONFIG_KEYS_MAX");

const char *const sw__config_sections[] = { "server", "registrar", "proxy", "auth", "store", "tcp", "tls",
					    "ban", "overload", "log" };
const size_t sw__config_nsections = sizeof(sw__config_sections) / sizeof(sw__config_sections[0]);

void sw_config_defaults(struct sw_config *c, const char *version)
{
	memset(c, 0, sizeof(*c));
	sw_listen_parse("udp:127.0.0.1:5060", &c->listen[0], NULL, 0);
	sw_listen_parse("tcp:127.0.0.1:5060", &c->listen[1], NULL, 0);
	c->nlisten = 2;
	c->workers = 0;
	c->max_message_size = 65536;
	if (version && *version)
		snprintf(c->user_agent, sizeof(c->user_agent), "sipwarden/%s", version);
	else
		snprintf(c->user_agent, sizeof(c->user_agent), "sipwarden");
	c->min_expires = 60;
	c->max_expires = 3600;
	c->default_expires = 3600;
	c->max_contacts = 10;
	c->accept_foreign_callers = true; /* calls from trunks arrive, as with Kamailio's stock config */
	c->timer_c = 180;
	/* MD5 alone by default: baresip 1.0 (Debian 12) gives up when a second
	 * challenge offers SHA-256; add it in the file for RFC 8760 clients */
	c->algorithms[0] = SW_ALG_MD5;
	c->nalgorithms = 1;
	c->qop_mask = SW_QOP_BIT(SW_QOP_AUTH);
	c->nonce_lifetime = SW_NONCE_LIFETIME_DEFAULT;
	snprintf(c->db, sizeof(c->db), "./var/sipwarden.db");
	c->event_retention_rows = 100000;
	c->event_retention_days = 30;
	c->tcp_max_connections = 1024;
	c->tcp_idle_timeout = 300;
	c->tcp_max_per_source = 100;
	c->tcp_first_byte_timeout = 10;
	c->tcp_message_timeout = 10;
	snprintf(c->tls_ciphers, sizeof(c->tls_ciphers), "%s", SW_TLS_CIPHERS);
	c->tls_handshake_timeout = 10;
	sw_ban_cfg_default(&c->ban);
	c->overload_enabled = true;
	c->overload_queue_delay = 50;
	c->overload_retry_after = 5;
	c->overload_retry_after_max = 300;
	c->log_format = SW_LOG_AUTO;
	c->log_max_bytes_per_second = 65536;
	c->listen_replace = true;
	c->domains_replace = true;
}

const char *sw_log_format_name(enum sw_log_format f)
{
	switch (f) {
	case SW_LOG_AUTO: return "auto";
	case SW_LOG_JSON: return "json";
	case SW_LOG_TEXT: return "text";
	case SW_LOG_JOURNAL: return "journal";
	}
	return "?";
}

const char *sw__config_section(const char *name, size_t len)
{
	for (size_t i = 0; i < sw__config_nsections; i++)
		if (strlen(sw__config_sections[i]) == len && !strncasecmp(sw__config_sections[i], name, len))
			return sw__config_sections[i];
	return NULL;
}

/* Other names of a key, accepted on reading and never printed: the TLS
 * files as the flat names other servers' configurations use, in [server]
 * next to listen or in [tls]. */
static const struct {
	const char *name, *section, *key;
} aliases[] = {
	{ "tls_certificate", "tls", "certificate" },
	{ "tls_key", "tls", "private_key" },
	{ "tls_private_key", "tls", "private_key" },
	{ "tls_ca", "tls", "ca" },
};

const struct sw__ckey *sw__config_key(const char *section, const char *name)
{
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (!strcasecmp(name, aliases[i].name) &&
		    (!section || !strcasecmp(section, "server") || !strcasecmp(section, "tls"))) {
			section = aliases[i].section;
			name = aliases[i].key;
			break;
		}
	for (size_t i = 0; i < sw__config_nkeys; i++) {
		const struct sw__ckey *k = &sw__config_keys[i];
		if ((!section || !strcasecmp(k->section, section)) && !strcasecmp(k->name, name))
			return k;
	}
	return NULL;
}

/* ==== what other modules take ============================================= */

static bool is_memory(const char *db) { return !strcmp(db, "memory:"); }

int sw_config_store_spec(const struct sw_config *c, char *out, size_t cap)
{
	int n;
	if (is_memory(c->db) || !strncmp(c->db, "sqlite:", 7))
		n = snprintf(out, cap, "%s", c->db);
	else
		n = snprintf(out, cap, "sqlite:%s", c->db);
	return n < 0 || (size_t)n >= cap ? SW_ENOSPC : 0;
}

int sw_config_secret_path(const struct sw_config *c, char *out, size_t cap)
{
	int n;
	if (c->secret_file[0]) {
		n = snprintf(out, cap, "%s", c->secret_file);
	} else if (is_memory(c->db)) {
		n = snprintf(out, cap, "%s", "");
	} else {
		const char *db = c->db;
		if (!strncmp(db, "sqlite:", 7))
			db += 7;
		const char *slash = strrchr(db, '/');
		if (!slash)
			n = snprintf(out, cap, "nonce.secret");
		else
			n = snprintf(out, cap, "%.*s/nonce.secret", (int)(slash - db), db);
	}
	return n < 0 || (size_t)n >= cap ? SW_ENOSPC : 0;
}

void sw_config_store_opts(const struct sw_config *c, struct sw_store_opts *o)
{
	o->events_max_rows = c->event_retention_rows;
	o->events_max_age = c->event_retention_days * 86400u;
}

void sw_config_auth_cfg(const struct sw_config *c, const char *realm, struct sw_auth_cfg *o)
{
	sw_auth_cfg_default(o, realm);
	memcpy(o->algs, c->algorithms, c->nalgorithms * sizeof(c->algorithms[0]));
	o->nalgs = c->nalgorithms;
	o->qop_mask = c->qop_mask;
	o->allow_no_qop = c->allow_no_qop;
	o->nonce_lifetime = c->nonce_lifetime;
	o->one_time = c->one_time_nonces;
}
