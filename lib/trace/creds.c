/* The --credentials file of `sipwarden analyze`:
 *   # comment
 *   user@domain,password
 *   user@domain,realm,ALGORITHM:HA1
 * A line is the HA1 form when it has three fields and the third is an
 * algorithm name, a colon and hex digits of that algorithm's length;
 * otherwise everything after the first comma is the password. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "sipwarden/auth.h"
#include "sipwarden/trace.h"

struct sw_creds {
	struct sw_cred *v;
	size_t n;
};

void sw_creds_free(struct sw_creds *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].user);
		free(c->v[i].domain);
		if (c->v[i].password) { /* do not leave secrets in freed memory */
			memset(c->v[i].password, 0, strlen(c->v[i].password));
			free(c->v[i].password);
		}
		free(c->v[i].realm);
		free(c->v[i].ha1);
	}
	free(c->v);
	free(c);
}

size_t sw_creds_count(const struct sw_creds *c) { return c ? c->n : 0; }

static char *dup_n(const char *p, size_t n)
{
	char *s = malloc(n + 1);
	if (s) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

static bool hex_n(const char *p, size_t n, size_t want)
{
	if (n != want)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdefABCDEF", p[i]))
			return false;
	return true;
}

/* "ALGORITHM:HA1" -> alg and lower-case hex; false when it is not that. */
static bool ha1_field(const char *p, size_t n, int *alg, char **ha1)
{
	const char *colon = memchr(p, ':', n);
	if (!colon)
		return false;
	enum sw_digest_alg a;
	if (sw_digest_alg_parse(sw_str_from(p, (size_t)(colon - p)), &a) || sw_digest_alg_sess(a))
		return false;
	const char *h = colon + 1;
	size_t hl = n - (size_t)(h - p);
	if (!hex_n(h, hl, sw_digest_hex_len(a)))
		return false;
	if (!(*ha1 = dup_n(h, hl)))
		return false;
	for (char *q = *ha1; *q; q++)
		if (*q >= 'A' && *q <= 'F')
			*q = (char)(*q - 'A' + 'a');
	*alg = (int)a;
	return true;
}

int sw_creds_parse(struct sw_creds **out, const char *text, size_t len, char *why, size_t cap)
{
	struct sw_creds *c = calloc(1, sizeof(*c));
	if (!c)
		return SW_ENOMEM;
	const char *p = text, *end = text + len;
	unsigned lineno = 0;
	int rc = 0;
	while (p < end && !rc) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *next = nl ? nl + 1 : end;
		lineno++;
		if (n && p[n - 1] == '\r')
			n--;
		size_t s = 0;
		while (s < n && (p[s] == ' ' || p[s] == '\t'))
			s++;
		if (s == n || p[s] == '#') {
			p = next;
			continue;
		}
		const char *line = p + s;
		n -= s;
		const char *c1 = memchr(line, ',', n);
		const char *at = c1 ? memchr(line, '@', (size_t)(c1 - line)) : NULL;
		if (!c1 || !at || at == line || at + 1 == c1 || c1 + 1 == line + n) {
			snprintf(why, cap, "line %u: expected user@domain,password or user@domain,realm,ALGORITHM:HA1",
				 lineno);
			rc = SW_EPARSE;
			break;
		}
		struct sw_cred cr;
		memset(&cr, 0, sizeof(cr));
		const char *rest = c1 + 1;
		size_t rl = (size_t)(line + n - rest);
		const char *c2 = memchr(rest, ',', rl);
		if (c2 && ha1_field(c2 + 1, (size_t)(rest + rl - c2 - 1), &cr.alg, &cr.ha1)) {
			if (!(cr.realm = dup_n(rest, (size_t)(c2 - rest))))
				rc = SW_ENOMEM;
		} else if (!(cr.password = dup_n(rest, rl))) {
			rc = SW_ENOMEM;
		}
		cr.user = dup_n(line, (size_t)(at - line));
		cr.domain = dup_n(at + 1, (size_t)(c1 - at - 1));
		if (!cr.user || !cr.domain)
			rc = SW_ENOMEM;
		struct sw_cred *nv = rc ? NULL : realloc(c->v, (c->n + 1) * sizeof(*nv));
		if (!nv) {
			free(cr.user);
			free(cr.domain);
			free(cr.password);
			free(cr.realm);
			free(cr.ha1);
			rc = rc ? rc : SW_ENOMEM;
			break;
		}
		c->v = nv;
		c->v[c->n++] = cr;
		p = next;
	}
	if (rc) {
		if (rc == SW_ENOMEM)
			snprintf(why, cap, "out of memory");
		sw_creds_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

int sw_creds_load(struct sw_creds **out, const char *path, char *why, size_t cap)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(why, cap, "cannot open %s: %s", path, strerror(errno));
		return SW_EIO;
	}
	char *buf = malloc(1u << 20);
	size_t n = buf ? fread(buf, 1, 1u << 20, f) : 0;
	bool big = buf && n == 1u << 20;
	fclose(f);
	if (!buf || big) {
		free(buf);
		snprintf(why, cap, buf ? "%s is larger than 1 MiB" : "out of memory", path);
		return buf ? SW_ETOOBIG : SW_ENOMEM;
	}
	int rc = sw_creds_parse(out, buf, n, why, cap);
	memset(buf, 0, n);
	free(buf);
	return rc;
}

static bool eq(const char *a, sw_str b) { return b.p && strlen(a) == b.len && !strncasecmp(a, b.p, b.len); }
static bool eq_exact(const char *a, sw_str b) { return b.p && strlen(a) == b.len && !memcmp(a, b.p, b.len); }

const struct sw_cred *sw_creds_find(const struct sw_creds *c, sw_str user, sw_str realm,
				    sw_str aor_domain)
{
	if (!c || !user.p)
		return NULL;
	const struct sw_cred *only = NULL;
	unsigned same_user = 0;
	for (size_t i = 0; i < c->n; i++) {
		const struct sw_cred *cr = &c->v[i];
		if (!eq_exact(cr->user, user))
			continue;
		if (cr->realm && !eq_exact(cr->realm, realm))
			continue; /* an HA1 is bound to its realm */
		if (eq(cr->domain, aor_domain) || eq(cr->domain, realm))
			return cr;
		only = cr;
		same_user++;
	}
	return same_user == 1 ? only : NULL;
}
