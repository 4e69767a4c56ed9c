/* One value of the configuration: numbers, booleans, lists of listeners,
 * domains and prefixes, algorithms, qop, log formats and ADDR:PORT parsed
 * and applied with a message that names the problem (sw__config_apply), and
 * the command-line overrides (sw_config_set). */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "config/config_int.h"

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
