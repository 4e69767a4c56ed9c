/* Cross-field validation and printing of the effective configuration. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
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

/* "udp:127.0.0.1:5060", "tcp:[::1]:5060" (the form listen = takes). */
static const char *listen_text(const struct sw_listen *l, char *out, size_t cap)
{
	static const char *const tp[] = { "udp", "tcp", "tls" };
	char addr[64];
	sw_sockaddr_format((const struct sockaddr *)&l->addr, addr, sizeof(addr));
	snprintf(out, cap, "%s:%s", (unsigned)l->tp < 3 ? tp[l->tp] : "?", addr);
	return out;
}

int sw_config_validate(const struct sw_config *c, char *why, size_t why_cap)
{
	char a[80];
	if (c->nlisten == 0 || c->nlisten > SW_CONFIG_MAX_LISTEN)
		return fail(why, why_cap, "no listen address: set 'listen' in [server] or pass --listen");
	for (unsigned i = 0; i < c->nlisten; i++) {
		const struct sw_listen *l = &c->listen[i];
		for (unsigned j = 0; j < i; j++)
			if (c->listen[j].tp == l->tp &&
			    sw_sockaddr_equal((const struct sockaddr *)&c->listen[j].addr,
					      (const struct sockaddr *)&l->addr))
				return fail(why, why_cap, "listen address %s is given twice",
					    listen_text(l, a, sizeof(a)));
		if (l->tp == SW_TP_TLS && (!c->tls_certificate[0] || !c->tls_private_key[0]))
			return fail(why, why_cap, "listen address %s needs 'certificate' and "
				    "'private_key' in [tls]", listen_text(l, a, sizeof(a)));
	}
	if (c->tls_require_client_cert && !c->tls_ca[0])
		return fail(why, why_cap, "require_client_certificate needs 'ca' in [tls]: the CAs the "
			    "client certificates must chain to");
	if (c->ndomains == 0 || c->ndomains > SW_CONFIG_MAX_DOMAINS)
		return fail(why, why_cap, "no domain to serve: set 'domain' in [registrar] or pass --domain");
	for (size_t i = 0; i < sw__config_nkeys; i++) {
		const struct sw__ckey *k = &sw__config_keys[i];
		uint32_t v;
		if (k->kind != SW__CK_UINT)
			continue;
		memcpy(&v, (const char *)c + k->off, sizeof(v));
		if (v < k->min || v > k->max)
			return fail(why, why_cap, "%s (%u) is out of range (%u..%u)", k->name, v, k->min,
				    k->max);
	}
	if (c->overload_retry_after > c->overload_retry_after_max)
		return fail(why, why_cap, "[overload] retry_after (%u) is above retry_after_max (%u)",
			    c->overload_retry_after, c->overload_retry_after_max);
	if (c->min_expires > c->max_expires)
		return fail(why, why_cap, "min_expires (%u) is above max_expires (%u)", c->min_expires,
			    c->max_expires);
	if (c->default_expires < c->min_expires || c->default_expires > c->max_expires)
		return fail(why, why_cap, "default_expires (%u) must be between min_expires (%u) "
			    "and max_expires (%u)", c->default_expires, c->min_expires, c->max_expires);
	if (c->nalgorithms == 0 || c->nalgorithms > SW_ALG__COUNT)
		return fail(why, why_cap, "algorithms: at least one digest algorithm must be offered");
	for (unsigned i = 0; i < c->nalgorithms; i++)
		if ((unsigned)c->algorithms[i] >= SW_ALG__COUNT)
			return fail(why, why_cap, "algorithms: invalid value %u", (unsigned)c->algorithms[i]);
	if (c->qop_mask & ~(SW_QOP_BIT(SW_QOP_AUTH) | SW_QOP_BIT(SW_QOP_AUTH_INT)))
		return fail(why, why_cap, "qop: invalid set 0x%x", c->qop_mask);
	if (!c->db[0])
		return fail(why, why_cap, "db: no database path");
	if (c->ban.ban_time > c->ban.ban_max_time)
		return fail(why, why_cap, "ban_time (%u) is above ban_max_time (%u)", c->ban.ban_time,
			    c->ban.ban_max_time);
	if (c->http_listen[0]) {
		struct sockaddr_storage ss;
		socklen_t sl;
		if (sw_config_http_addr(c, &ss, &sl))
			return fail(why, why_cap, "http_listen: '%s' is not ADDR:PORT", c->http_listen);
		if (!sw_addr_is_loopback((const struct sockaddr *)&ss) && !c->http_token_file[0])
			return fail(why, why_cap, "http_listen %s is not a loopback address: set http_token_file "
				    "(a file holding the token clients send as 'Authorization: Bearer TOKEN')",
				    c->http_listen);
	}
	if ((unsigned)c->log_format > SW_LOG_JOURNAL)
		return fail(why, why_cap, "format: invalid log format %u", (unsigned)c->log_format);
	return 0;
}

bool sw_config_has_tls(const struct sw_config *c)
{
	for (unsigned i = 0; i < c->nlisten; i++)
		if (c->listen[i].tp == SW_TP_TLS)
			return true;
	return false;
}

void sw_config_tls_files(const struct sw_config *c, struct sw_tls_files *f)
{
	*f = (struct sw_tls_files){ .certificate = c->tls_certificate, .key = c->tls_private_key,
				    .ca = c->tls_ca, .require_client_cert = c->tls_require_client_cert,
				    .ciphers = c->tls_ciphers };
}

int sw_config_check_files(const struct sw_config *c, time_t now, char *info, size_t info_cap, char *why,
			  size_t why_cap)
{
	if (info_cap)
		info[0] = '\0';
	if (!sw_config_has_tls(c))
		return 0;
	struct sw_tls_files f;
	sw_config_tls_files(c, &f);
	char reason[1024];
	if (sw_tls_check(&f, now, info, info_cap, reason, sizeof(reason)))
		return fail(why, why_cap, "[tls] %s", reason);
	return 0;
}

static void print_key(const struct sw_config *c, const struct sw__ckey *k, struct sw_buf *b)
{
	const char *field = (const char *)c + k->off;
	char a[80];
	switch (k->kind) {
	case SW__CK_LISTEN:
		for (unsigned i = 0; i < c->nlisten; i++)
			sw_buf_addf(b, "listen = %s\n", listen_text(&c->listen[i], a, sizeof(a)));
		if (!c->nlisten)
			sw_buf_adds(b, "; listen = (none)\n");
		return;
	case SW__CK_DOMAIN:
		for (unsigned i = 0; i < c->ndomains; i++)
			sw_buf_addf(b, "domain = %s\n", c->domains[i]);
		if (!c->ndomains)
			sw_buf_adds(b, "; domain = (none)\n");
		return;
	case SW__CK_UINT: {
		uint32_t v;
		memcpy(&v, field, sizeof(v));
		sw_buf_addf(b, "%s = %u\n", k->name, v);
		return;
	}
	case SW__CK_BOOL: {
		bool v;
		memcpy(&v, field, sizeof(v));
		sw_buf_addf(b, "%s = %s\n", k->name, v ? "yes" : "no");
		return;
	}
	case SW__CK_HOSTPORT:
		if (!field[0])
			sw_buf_addf(b, "; %s = (off)\n", k->name);
		else
			sw_buf_addf(b, "%s = %s\n", k->name, field);
		return;
	case SW__CK_PATH:
	case SW__CK_TEXT:
		if (k->off == offsetof(struct sw_config, secret_file)) {
			char path[SW_CONFIG_PATH_MAX + 16];
			sw_config_secret_path(c, path, sizeof(path));
			sw_buf_addf(b, "%s = %s\n", k->name, path);
		} else {
			sw_buf_addf(b, "%s = %s\n", k->name, field);
		}
		return;
	case SW__CK_ALGS:
		sw_buf_addf(b, "%s = ", k->name);
		for (unsigned i = 0; i < c->nalgorithms; i++)
			sw_buf_addf(b, "%s%s", i ? ", " : "", sw_digest_alg_name(c->algorithms[i]));
		sw_buf_addc(b, '\n');
		return;
	case SW__CK_QOP:
		if (!c->qop_mask)
			sw_buf_addf(b, "%s = none\n", k->name);
		else if (c->qop_mask == (SW_QOP_BIT(SW_QOP_AUTH) | SW_QOP_BIT(SW_QOP_AUTH_INT)))
			sw_buf_addf(b, "%s = auth, auth-int\n", k->name);
		else
			sw_buf_addf(b, "%s = %s\n", k->name,
				    c->qop_mask & SW_QOP_BIT(SW_QOP_AUTH) ? "auth" : "auth-int");
		return;
	case SW__CK_LOGFMT:
		sw_buf_addf(b, "%s = %s\n", k->name, sw_log_format_name(c->log_format));
		return;
	case SW__CK_PREFIXES:
		for (unsigned i = 0; i < c->ban.nallow; i++) {
			sw_prefix_format(&c->ban.allow[i], a, sizeof(a));
			sw_buf_addf(b, "%s = %s\n", k->name, a);
		}
		if (!c->ban.nallow)
			sw_buf_addf(b, "; %s = (none)\n", k->name);
		return;
	case SW__CK_BANACTION:
		sw_buf_addf(b, "%s = %s\n", k->name, c->ban.reject ? "403" : "drop");
		return;
	}
}

int sw_config_print(const struct sw_config *c, struct sw_buf *out)
{
	const char *section = NULL;
	for (size_t i = 0; i < sw__config_nkeys; i++) {
		const struct sw__ckey *k = &sw__config_keys[i];
		if (!section || strcmp(section, k->section)) {
			sw_buf_addf(out, "%s[%s]\n", section ? "\n" : "", k->section);
			section = k->section;
		}
		print_key(c, k, out);
	}
	return sw_buf_status(out);
}
