/* The users a load run registers: expanded from a pattern
 * ("user%05d@DOMAIN:pw-user%05d") or read from a `user import` file. The
 * pattern has its own tiny formatter (only %[0][width]d and %%), so a user's
 * pattern never reaches printf. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sipwarden/loadgen.h"

static void set_why(char *why, size_t cap, const char *text)
{
	if (why && cap)
		snprintf(why, cap, "%s", text);
}

/* Checks that every '%' starts %%, or %[0][width]d with width < 20. */
static int check_template(const char *t, char *why, size_t cap)
{
	for (const char *p = t; *p; p++) {
		if (*p != '%')
			continue;
		p++;
		if (*p == '%')
			continue;
		if (*p == '0')
			p++;
		unsigned w = 0;
		while (*p >= '0' && *p <= '9') {
			w = w * 10 + (unsigned)(*p - '0');
			if (w >= 20) {
				set_why(why, cap, "a field width in the pattern is too large");
				return SW_EINVAL;
			}
			p++;
		}
		if (*p != 'd') {
			set_why(why, cap, "the pattern may only hold %d, %05d-style numbers and %%");
			return SW_EINVAL;
		}
	}
	return 0;
}

int sw_userpat_parse(const char *pattern, struct sw_userpat *out, char *why, size_t why_cap)
{
	const char *at = strchr(pattern, '@');
	if (!at || at == pattern) {
		set_why(why, why_cap, "the pattern needs USER@DOMAIN:PASSWORD");
		return SW_EINVAL;
	}
	const char *colon = strchr(at, ':');
	if (!colon || colon == at + 1) {
		set_why(why, why_cap, "the pattern needs USER@DOMAIN:PASSWORD (no ':' after the domain)");
		return SW_EINVAL;
	}
	size_t alen = (size_t)(colon - pattern), plen = strlen(colon + 1);
	if (alen >= sizeof(out->aor) || plen >= sizeof(out->pw)) {
		set_why(why, why_cap, "the pattern is too long");
		return SW_EINVAL;
	}
	struct sw_userpat p;
	memcpy(p.aor, pattern, alen);
	p.aor[alen] = '\0';
	memcpy(p.pw, colon + 1, plen + 1);
	if (check_template(p.aor, why, why_cap) || check_template(p.pw, why, why_cap))
		return SW_EINVAL;
	if (memchr(at, '%', (size_t)(colon - at))) {
		set_why(why, why_cap, "the domain of the pattern cannot hold a number");
		return SW_EINVAL;
	}
	*out = p;
	return 0;
}

int sw_userpat_format(const char *t, unsigned long i, char *out, size_t cap)
{
	size_t n = 0;
	for (const char *p = t; *p; p++) {
		char num[32];
		size_t len;
		if (*p != '%') {
			num[0] = *p;
			len = 1;
		} else if (p[1] == '%') {
			num[0] = '%';
			len = 1;
			p++;
		} else {
			p++;
			bool zero = *p == '0';
			if (zero)
				p++;
			unsigned w = 0;
			while (*p >= '0' && *p <= '9')
				w = w * 10 + (unsigned)(*p++ - '0');
			if (*p != 'd' || w >= 20)
				return SW_EINVAL;
			char digits[24];
			int d = snprintf(digits, sizeof(digits), "%lu", i);
			len = 0;
			for (int k = d; k < (int)w; k++)
				num[len++] = zero ? '0' : ' ';
			memcpy(num + len, digits, (size_t)d);
			len += (size_t)d;
		}
		if (n + len >= cap)
			return SW_ENOSPC;
		memcpy(out + n, num, len);
		n += len;
	}
	if (n >= cap)
		return SW_ENOSPC;
	out[n] = '\0';
	return 0;
}

void sw_lg_users_free(struct sw_lg_users *u)
{
	if (!u)
		return;
	free(u->v);
	free(u->mem);
	u->v = NULL;
	u->mem = NULL;
	u->n = 0;
}

/* Splits "user@domain" (in place) and records one user. */
static int add_user(struct sw_lg_user *u, char *aor, char *pw)
{
	char *at = strchr(aor, '@');
	if (!at || at == aor || !at[1])
		return SW_EINVAL;
	*at = '\0';
	u->user = aor;
	u->domain = at + 1;
	u->password = pw;
	return 0;
}

int sw_lg_users_from_pattern(struct sw_lg_users *out, const struct sw_userpat *p, size_t n)
{
	struct sw_lg_users u = { 0 };
	int err = SW_ENOMEM;
	if (n == 0)
		return SW_EINVAL;
	/* each expanded string is at most its template plus 20 digits per number */
	size_t alen = strlen(p->aor) + 64, plen = strlen(p->pw) + 64;
	u.v = calloc(n, sizeof(*u.v));
	u.mem = malloc(n * (alen + plen));
	if (!u.v || !u.mem)
		goto out;
	for (size_t i = 0; i < n; i++) {
		char *a = u.mem + i * (alen + plen), *w = a + alen;
		err = sw_userpat_format(p->aor, i, a, alen);
		if (!err)
			err = sw_userpat_format(p->pw, i, w, plen);
		if (!err)
			err = add_user(&u.v[i], a, w);
		if (err)
			goto out;
	}
	u.n = n;
	err = 0;
out:
	if (err)
		sw_lg_users_free(&u);
	else
		*out = u;
	return err;
}

int sw_lg_users_from_text(struct sw_lg_users *out, const char *text, size_t len,
			  unsigned *bad_line)
{
	struct sw_lg_users u = { 0 };
	int err = SW_ENOMEM;
	size_t lines = 1;
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	u.mem = malloc(len + 1);
	u.v = calloc(lines, sizeof(*u.v));
	if (!u.mem || !u.v)
		goto out;
	memcpy(u.mem, text, len);
	u.mem[len] = '\0';
	char *p = u.mem, *end = u.mem + len;
	unsigned line = 0;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *e = nl ? nl : end;
		line++;
		*e = '\0';
		if (e > p && e[-1] == '\r')
			e[-1] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p && *p != '#') {
			char *comma = strchr(p, ',');
			err = SW_EPARSE;
			if (comma)
				*comma = '\0';
			if (!comma || add_user(&u.v[u.n], p, comma + 1)) {
				if (bad_line)
					*bad_line = line;
				goto out;
			}
			u.n++;
		}
		p = e + 1;
	}
	err = u.n ? 0 : SW_EPARSE;
	if (err && bad_line)
		*bad_line = 0;
out:
	if (err)
		sw_lg_users_free(&u);
	else
		*out = u;
	return err;
}
