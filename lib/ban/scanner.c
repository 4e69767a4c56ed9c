/* Scanner fingerprints: the User-Agents of well-known SIP scanners and
 * password crackers, and the shapes of SIPVicious's requests. A hint for the
 * administrator in the event detail, never a reason to ban: the limits
 * decide, since an attacker changes a User-Agent with one option. */
#include <stdio.h>
#include <string.h>
#include "sipwarden/ban.h"

/* Matched anywhere in the User-Agent, ignoring case. */
static const struct {
	const char *needle, *tool;
} agents[] = {
	{ "friendly-scanner", "SIPVicious" },
	{ "sipvicious", "SIPVicious" },
	{ "sipcli", "sipcli" },
	{ "vaxsipuseragent", "a VaxSIP-based scanner" },
	{ "pplsip", "a pplsip scanner" },
	{ "sundayddr", "the sundayddr worm" },
	{ "iwar", "iWar" },
	{ "sivus", "SiVuS" },
	{ "sip-scan", "sip-scan" },
	{ "sipscan", "a SIP scanner" },
	{ "smap", "smap" },
	{ "siparmyknife", "SIP Army Knife" },
};

static bool contains_nocase(sw_str hay, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; i + n <= hay.len; i++)
		if (sw_mem_ieq(hay.p + i, needle, n))
			return true;
	return false;
}

/* SIPVicious's Via branch: "z9hG4bK-" and a decimal random number. */
static bool vicious_branch(sw_str br)
{
	if (br.len <= 8 || br.len > 8 + 10 || memcmp(br.p, "z9hG4bK-", 8))
		return false;
	for (size_t i = 8; i < br.len; i++)
		if (br.p[i] < '0' || br.p[i] > '9')
			return false;
	return true;
}

bool sw_ban_scanner_hint(const struct sw_msg *m, char *out, size_t cap)
{
	const struct sw_hdr *ua = sw_msg_hdr(m, SW_HDR_USER_AGENT);
	for (size_t i = 0; ua && i < sizeof(agents) / sizeof(agents[0]); i++) {
		if (contains_nocase(ua->value, agents[i].needle)) {
			int n = (int)(ua->value.len > 40 ? 40 : ua->value.len);
			snprintf(out, cap, "User-Agent '%.*s' is %s's", n, ua->value.p, agents[i].tool);
			return true;
		}
	}
	const struct sw_hdr *ct = sw_msg_hdr(m, SW_HDR_CONTACT);
	if (ct && contains_nocase(ct->value, "sip:123@1.1.1.1")) {
		snprintf(out, cap, "Contact sip:123@1.1.1.1 is SIPVicious's default");
		return true;
	}
	struct sw_via v;
	if (sw_msg_top_via(m, &v, NULL) == 0 && v.branch.p && vicious_branch(v.branch)) {
		snprintf(out, cap, "the Via branch (z9hG4bK-NUMBER) is shaped like SIPVicious's");
		return true;
	}
	return false;
}
