/* The configuration: defaults, the table of keys, parsing one value and
 * command-line overrides (sw_config_set). */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
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

/* ==== parsing one value =================================================== */

static int fail(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *why, size_t cap, const char *fmt, ...)
{
	if (why && cap) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, cap, fmt, ap);
		va_end(ap);
	}
	return SW_EINVAL;
}

/* A value shown in a message: at most 64 bytes, non-printable bytes as '?'. */
static const char *shown(const char *s, size_t n, char out[72])
{
	size_t i;
	for (i = 0; i < n && i < 64; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (i < n) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
	return out;
}

/* No control characters; ascii_only: nothing above 0x7e either (header
 * values), else UTF-8 bytes pass (paths). */
static bool printable(const char *s, bool ascii_only)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch < 0x20 || ch == 0x7f || (ascii_only && ch > 0x7f))
			return false;
	}
	return true;
}

/* Comma-separated items with blanks around them trimmed. Returns 1 with
 * the next item, 0 at the end, SW_EINVAL for an empty item. */
struct items {
	const char *p;
	bool done;
};
static int next_item(struct items *it, const char **item, size_t *len, char *why, size_t cap)
{
	if (it->done)
		return 0;
	const char *s = it->p, *e = strchr(s, ',');
	if (!e) {
		e = s + strlen(s);
		it->done = true;
	} else {
		it->p = e + 1;
	}
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (s == e)
		return fail(why, cap, "empty item in the list");
	*item = s;
	*len = (size_t)(e - s);
	return 1;
}

static int parse_uint(const char *s, uint32_t min, uint32_t max, uint32_t *out, char *why,
		      size_t cap)
{
	char q[72];
	uint64_t v = 0;
	if (!*s)
		return fail(why, cap, "expected a number");
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return fail(why, cap, "'%s' is not a decimal number", shown(s, strlen(s), q));
		if (v <= UINT32_MAX)
			v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v < min || v > max)
		return fail(why, cap, "%s is out of range (%u..%u)", shown(s, strlen(s), q), min, max);
	*out = (uint32_t)v;
	return 0;
}

static int parse_bool(const char *s, bool *out, char *why, size_t cap)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	char q[72];
	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return fail(why, cap, "'%s' is not a boolean (yes/no, true/false, on/off, 1/0)",
		    shown(s, strlen(s), q));
}

static int parse_algs(const char *s, enum sw_digest_alg *algs, unsigned *n, char *why, size_t cap)
{
	struct items it = { s, false };
	const char *item;
	size_t len;
	unsigned count = 0;
	char q[72];
	int r;
	while ((r = next_item(&it, &item, &len, why, cap)) > 0) {
		enum sw_digest_alg a;
		if (sw_digest_alg_parse(sw_str_from(item, len), &a))
			return fail(why, cap, "unknown algorithm '%s' (MD5, SHA-256, SHA-512-256, "
				    "or one of them with -sess)", shown(item, len, q));
		for (unsigned i = 0; i < count; i++)
			if (algs[i] == a)
				return fail(why, cap, "%s is listed twice", sw_digest_alg_name(a));
		algs[count++] = a;   /* no overflow: at most SW_ALG__COUNT distinct values */
	}
	if (r < 0)
		return r;
	*n = count;
	return 0;
}

static int parse_qop(const char *s, unsigned *mask, char *why, size_t cap)
{
	if (!strcasecmp(s, "none")) {
		*mask = 0;
		return 0;
	}
	struct items it = { s, false };
	const char *item;
	size_t len;
	unsigned m = 0;
	char q[72];
	int r;
	while ((r = next_item(&it, &item, &len, why, cap)) > 0) {
		enum sw_qop v;
		if (sw_qop_parse(sw_str_from(item, len), &v) || v == SW_QOP_NONE)
			return fail(why, cap, "unknown qop '%s' (auth, auth-int, both, or none alone)",
				    shown(item, len, q));
		if (m & SW_QOP_BIT(v))
			return fail(why, cap, "%s is listed twice", sw_qop_name(v));
		m |= SW_QOP_BIT(v);
	}
	if (r < 0)
		return r;
	*mask = m;
	return 0;
}

static int parse_logfmt(const char *s, enum sw_log_format *out, char *why, size_t cap)
{
	char q[72];
	for (int f = SW_LOG_AUTO; f <= SW_LOG_JOURNAL; f++) {
		if (!strcasecmp(s, sw_log_format_name((enum sw_log_format)f))) {
			*out = (enum sw_log_format)f;
			return 0;
		}
	}
	return fail(why, cap, "'%s' is not a log format (auto, json, text, journal)", shown(s, strlen(s), q));
}

/* A host name (letters, digits, '-' in labels of 1..63), an IPv4 address
 * or an IPv6 reference in brackets, as it appears in a SIP URI. */
static bool domain_ok(const char *d, size_t n)
{
	if (n == 0 || n > SW_STORE_DOMAIN_MAX)
		return false;
	if (d[0] == '[') {
		char a[64];
		struct in6_addr v6;
		if (n < 3 || d[n - 1] != ']' || n - 2 >= sizeof(a))
			return false;
		memcpy(a, d + 1, n - 2);
		a[n - 2] = '\0';
		return inet_pton(AF_INET6, a, &v6) == 1;
	}
	size_t label = 0;
	for (size_t i = 0; i <= n; i++) {
		char ch = i < n ? d[i] : '.';
		if (ch == '.') {
			if (label == 0 || label > 63 || d[i - 1] == '-' || d[i - label] == '-')
				return false;
			label = 0;
		} else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			   (ch >= '0' && ch <= '9') || ch == '-') {
			label++;
		} else {
			return false;
		}
	}
	return true;
}

static int apply_listen(struct sw_config *c, const char *value, char *why, size_t cap)
{
	struct sw_listen got[SW_CONFIG_MAX_LISTEN];
	unsigned n = 0, have = c->listen_replace ? 0 : c->nlisten;
	struct items it = { value, false };
	const char *item;
	size_t len;
	int r;
	while ((r = next_item(&it, &item, &len, why, cap)) > 0) {
		char spec[128], q[72];
		if (have + n >= SW_CONFIG_MAX_LISTEN)
			return fail(why, cap, "more than %d listen addresses", SW_CONFIG_MAX_LISTEN);
		if (len >= sizeof(spec))
			return fail(why, cap, "bad listen address '%s': too long", shown(item, len, q));
		memcpy(spec, item, len);
		spec[len] = '\0';
		if (sw_listen_parse(spec, &got[n], why, cap))
			return SW_EINVAL;
		n++;
	}
	if (r < 0)
		return r;
	memcpy(&c->listen[have], got, n * sizeof(got[0]));
	c->nlisten = have + n;
	c->listen_replace = false;
	return 0;
}

static int apply_domain(struct sw_config *c, const char *value, char *why, size_t cap)
{
	/* Everything is checked before c changes. Duplicates (domains are
	 * case-insensitive) are skipped. */
	struct { const char *p; size_t len; } add[SW_CONFIG_MAX_DOMAINS];
	unsigned n = 0, have = c->domains_replace ? 0 : c->ndomains;
	struct items it = { value, false };
	const char *item;
	size_t len;
	char q[72];
	int r;
	while ((r = next_item(&it, &item, &len, why, cap)) > 0) {
		if (!domain_ok(item, len))
			return fail(why, cap, "'%s' is not a domain (a host name, an IPv4 address "
				    "or an [IPv6] address)", shown(item, len, q));
		bool dup = false;
		for (unsigned i = 0; i < have && !dup; i++)
			dup = strlen(c->domains[i]) == len && !strncasecmp(c->domains[i], item, len);
		for (unsigned i = 0; i < n && !dup; i++)
			dup = add[i].len == len && !strncasecmp(add[i].p, item, len);
		if (dup)
			continue;
		if (have + n >= SW_CONFIG_MAX_DOMAINS)
			return fail(why, cap, "more than %d domains", SW_CONFIG_MAX_DOMAINS);
		add[n].p = item;
		add[n].len = len;
		n++;
	}
	if (r < 0)
		return r;
	for (unsigned j = 0; j < n; j++) {
		char *d = c->domains[have + j];
		for (size_t i = 0; i < add[j].len; i++) {
			char ch = add[j].p[i];
			d[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
		}
		d[add[j].len] = '\0';
	}
	c->ndomains = have + n;
	c->domains_replace = false;
	return 0;
}

static int apply_allow(struct sw_config *c, const char *value, char *why, size_t cap)
{
	struct sw_ban_cfg *bc = &c->ban;
	struct sw_prefix got[SW_BAN_ALLOW_MAX];
	unsigned n = 0, have = bc->allow_replace ? 0 : bc->nallow;
	struct items it = { value, false };
	const char *item;
	size_t len;
	int r;
	if (!value[strspn(value, " \t")]) { /* "allow =": none (clears a lower layer's list) */
		bc->nallow = 0;
		bc->allow_replace = false;
		return 0;
	}
	while ((r = next_item(&it, &item, &len, why, cap)) > 0) {
		char text[64], q[72];
		if (have + n >= SW_BAN_ALLOW_MAX)
			return fail(why, cap, "more than %d allowlist entries", SW_BAN_ALLOW_MAX);
		if (len >= sizeof(text))
			return fail(why, cap, "'%s' is not an address or network", shown(item, len, q));
		memcpy(text, item, len);
		text[len] = '\0';
		if (sw_prefix_parse(text, &got[n]))
			return fail(why, cap, "'%s' is not an address or network (ADDR or ADDR/BITS with "
				    "no host bits set)", shown(item, len, q));
		n++;
	}
	if (r < 0)
		return r;
	memcpy(&bc->allow[have], got, n * sizeof(got[0]));
	bc->nallow = have + n;
	bc->allow_replace = false;
	return 0;
}

/* "127.0.0.1:8080", "[::1]:8080": the port is required (no default for
 * HTTP is better than a surprising one). */
static int parse_hostport(const char *s, struct sockaddr_storage *out, socklen_t *len)
{
	char spec[SW_CONFIG_HTTP_MAX + 8];
	const char *colon = strrchr(s, ':'), *bracket = strrchr(s, ']');
	if (!colon || colon == s || !colon[1] || (bracket && colon < bracket) ||
	    (!bracket && strchr(s, ':') != colon) || strlen(s) >= SW_CONFIG_HTTP_MAX)
		return SW_EINVAL;
	for (const char *p = colon + 1; *p; p++)
		if (*p < '0' || *p > '9')
			return SW_EINVAL;
	long port = strtol(colon + 1, NULL, 10);
	if (port < 1 || port > 65535)
		return SW_EINVAL;
	struct sw_listen l;
	snprintf(spec, sizeof(spec), "tcp:%s", s);
	if (sw_listen_parse(spec, &l, NULL, 0))
		return SW_EINVAL;
	*out = l.addr;
	*len = l.addrlen;
	return 0;
}

int sw_config_http_addr(const struct sw_config *c, struct sockaddr_storage *out, socklen_t *len)
{
	return c->http_listen[0] ? parse_hostport(c->http_listen, out, len) : SW_EINVAL;
}

bool sw_addr_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family != AF_INET6)
		return false;
	const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	if (IN6_IS_ADDR_LOOPBACK(a))
		return true;
	return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
}

int sw__config_apply(struct sw_config *c, const struct sw__ckey *k, const char *value,
		     char *why, size_t why_cap)
{
	char *field = (char *)c + k->off;
	char q[72];
	int err;
	switch (k->kind) {
	case SW__CK_LISTEN:
		return apply_listen(c, value, why, why_cap);
	case SW__CK_DOMAIN:
		return apply_domain(c, value, why, why_cap);
	case SW__CK_UINT: {
		uint32_t v = 0;
		if ((err = parse_uint(value, k->min, k->max, &v, why, why_cap)))
			return err;
		memcpy(field, &v, sizeof(v));
		return 0;
	}
	case SW__CK_BOOL: {
		bool v = false;
		if ((err = parse_bool(value, &v, why, why_cap)))
			return err;
		memcpy(field, &v, sizeof(v));
		return 0;
	}
	case SW__CK_PATH:
	case SW__CK_TEXT: {
		size_t n = strlen(value);
		if (k->min && n == 0)
			return fail(why, why_cap, "must not be empty");
		if (n >= k->size)
			return fail(why, why_cap, "too long (at most %zu characters)", k->size - 1);
		if (!printable(value, k->kind == SW__CK_TEXT))
			return fail(why, why_cap, "'%s' holds a control%s character", shown(value, n, q),
				    k->kind == SW__CK_TEXT ? " or non-ASCII" : "");
		memcpy(field, value, n + 1);
		return 0;
	}
	case SW__CK_ALGS: {
		enum sw_digest_alg a[SW_ALG__COUNT];
		unsigned n = 0;
		if ((err = parse_algs(value, a, &n, why, why_cap)))
			return err;
		memcpy(c->algorithms, a, n * sizeof(a[0]));
		c->nalgorithms = n;
		return 0;
	}
	case SW__CK_QOP:
		return parse_qop(value, &c->qop_mask, why, why_cap);
	case SW__CK_LOGFMT:
		return parse_logfmt(value, &c->log_format, why, why_cap);
	case SW__CK_PREFIXES:
		return apply_allow(c, value, why, why_cap);
	case SW__CK_HOSTPORT: {
		size_t n = strlen(value);
		struct sockaddr_storage ss;
		socklen_t sl;
		if (n >= k->size || (n && parse_hostport(value, &ss, &sl)))
			return fail(why, why_cap, "'%s' is not ADDR:PORT (a numeric IPv4 address or an [IPv6] "
				    "one, and a port), or empty for none", shown(value, n, q));
		memcpy(field, value, n + 1);
		return 0;
	}
	case SW__CK_BANACTION: {
		bool reject = !strcmp(value, "403");
		if (!reject && strcasecmp(value, "drop"))
			return fail(why, why_cap, "'%s' is not a ban action (drop, 403)", shown(value, strlen(value), q));
		memcpy(field, &reject, sizeof(reject));
		return 0;
	}
	}
	return fail(why, why_cap, "internal: unknown key kind");
}

/* ==== command-line overrides ============================================== */

int sw_config_set(struct sw_config *c, const char *name, const char *value, char *why,
		  size_t why_cap)
{
	char norm[96], sect[32], q[72];
	const char *n = name;
	if (n[0] == '-' && n[1] == '-')
		n += 2;
	size_t len = strlen(n);
	if (len == 0 || len >= sizeof(norm))
		return fail(why, why_cap, "%s: unknown setting", shown(name, strlen(name), q));
	for (size_t i = 0; i <= len; i++)
		norm[i] = n[i] == '-' ? '_' : n[i];
	const char *key = norm, *section = NULL;
	char *dot = strchr(norm, '.');
	if (dot) {
		size_t sl = (size_t)(dot - norm);
		if (sl >= sizeof(sect))
			sl = sizeof(sect) - 1;
		memcpy(sect, norm, sl);
		sect[sl] = '\0';
		section = sect;
		key = dot + 1;
	}
	const struct sw__ckey *k = sw__config_key(section, key);
	if (!k)
		return fail(why, why_cap, "%s: unknown setting", shown(name, strlen(name), q));
	char reason[256];
	if (sw__config_apply(c, k, value ? value : "", reason, sizeof(reason)))
		return fail(why, why_cap, "%s: %s", shown(name, strlen(name), q), reason);
	return 0;
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
