/* IPv4 and IPv6 networks: parsing "ADDR[/BITS]", matching an address,
 * formatting. An IPv4-mapped IPv6 address is its IPv4 address, so that a
 * dual-stack socket and an IPv4 allowlist agree. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sipwarden/ban.h"

static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static unsigned max_bits(const struct sw_prefix *p) { return p->v6 ? 128u : 32u; }

static bool host_bits_clear(const struct sw_prefix *p)
{
	for (unsigned i = p->bits; i < max_bits(p); i++)
		if (p->addr[i / 8] & (0x80u >> (i % 8)))
			return false;
	return true;
}

/* One address from text: IPv4, IPv6, or [IPv6]. */
static int parse_addr(const char *s, size_t n, struct sw_prefix *out)
{
	char a[INET6_ADDRSTRLEN + 2];
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(a))
		return SW_EINVAL;
	memcpy(a, s, n);
	a[n] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, a, out->addr) == 1) {
		out->bits = 32;
		return 0;
	}
	if (inet_pton(AF_INET6, a, out->addr) != 1)
		return SW_EINVAL;
	if (!memcmp(out->addr, v4_mapped, 12)) {
		memmove(out->addr, out->addr + 12, 4);
		memset(out->addr + 4, 0, 12);
		out->bits = 32;
		return 0;
	}
	out->v6 = 1;
	out->bits = 128;
	return 0;
}

int sw_prefix_parse(const char *s, struct sw_prefix *out)
{
	struct sw_prefix p;
	if (!s)
		return SW_EINVAL;
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	if (parse_addr(s, n, &p))
		return SW_EINVAL;
	if (slash) {
		const char *d = slash + 1;
		unsigned bits = 0;
		if (!*d || strlen(d) > 3)
			return SW_EINVAL;
		for (; *d; d++) {
			if (*d < '0' || *d > '9')
				return SW_EINVAL;
			bits = bits * 10 + (unsigned)(*d - '0');
		}
		if (bits > max_bits(&p))
			return SW_EINVAL;
		p.bits = (uint8_t)bits;
		if (!host_bits_clear(&p))
			return SW_EINVAL;
	}
	*out = p;
	return 0;
}

int sw_prefix_from_sockaddr(const struct sockaddr *sa, struct sw_prefix *out)
{
	struct sw_prefix p;
	memset(&p, 0, sizeof(p));
	if (sa->sa_family == AF_INET) {
		memcpy(p.addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		p.bits = 32;
	} else if (sa->sa_family == AF_INET6) {
		const uint8_t *a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		if (!memcmp(a, v4_mapped, 12)) {
			memcpy(p.addr, a + 12, 4);
			p.bits = 32;
		} else {
			memcpy(p.addr, a, 16);
			p.v6 = 1;
			p.bits = 128;
		}
	} else {
		return SW_EINVAL;
	}
	*out = p;
	return 0;
}

bool sw_prefix_contains(const struct sw_prefix *net, const struct sw_prefix *one)
{
	if (net->v6 != one->v6 || net->bits > one->bits)
		return false;
	unsigned whole = net->bits / 8, rest = net->bits % 8;
	if (memcmp(net->addr, one->addr, whole))
		return false;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xffu << (8 - rest));
	return (net->addr[whole] & mask) == (one->addr[whole] & mask);
}

void sw_prefix_addr_text(const struct sw_prefix *p, char *out, size_t cap)
{
	char a[INET6_ADDRSTRLEN];
	if (!inet_ntop(p->v6 ? AF_INET6 : AF_INET, p->addr, a, sizeof(a)))
		a[0] = '\0';
	snprintf(out, cap, "%s", a);
}

void sw_prefix_format(const struct sw_prefix *p, char *out, size_t cap)
{
	char a[INET6_ADDRSTRLEN];
	sw_prefix_addr_text(p, a, sizeof(a));
	if (p->bits == max_bits(p))
		snprintf(out, cap, "%s", a);
	else
		snprintf(out, cap, "%s/%u", a, p->bits);
}

int sw_prefix_from_record(const struct sw_ban_record *r, struct sw_prefix *out)
{
	struct sw_prefix p;
	if (parse_addr(r->addr, strlen(r->addr), &p) || r->prefix > max_bits(&p))
		return SW_EINVAL;
	p.bits = r->prefix;
	if (!host_bits_clear(&p))
		return SW_EINVAL;
	*out = p;
	return 0;
}
