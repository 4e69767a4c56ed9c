/* Shared inside lib/config: the table of keys and how one value is applied. */
#ifndef SIPWARDEN_CONFIG_INT_H
#define SIPWARDEN_CONFIG_INT_H

#include "sipwarden/config.h"

enum sw__ckind {
	SW__CK_LISTEN,    /* list of sw_listen */
	SW__CK_DOMAIN,    /* list of domains */
	SW__CK_UINT,      /* unsigned / uint32_t within [min, max] */
	SW__CK_BOOL,
	SW__CK_PATH,      /* char[SW_CONFIG_PATH_MAX]; may be empty unless min = 1 */
	SW__CK_TEXT,      /* printable ASCII, char[size] */
	SW__CK_ALGS,
	SW__CK_QOP,
	SW__CK_LOGFMT,
	SW__CK_PREFIXES,  /* the ban allowlist: list of sw_prefix */
	SW__CK_BANACTION, /* "drop" or "403" into a bool (true: 403) */
	SW__CK_HOSTPORT,  /* "ADDR:PORT" (numeric, [v6]) or "" into char[size] */
};

struct sw__ckey {
	const char *section;
	const char *name;
	enum sw__ckind kind;
	size_t off;                  /* offsetof(struct sw_config, field) */
	size_t size;                 /* sizeof the field */
	uint32_t min, max;           /* SW__CK_UINT range; PATH/TEXT: min 1 = not empty */
};

/* An upper bound of the number of keys (for per-key arrays). */
#define SW__CONFIG_KEYS_MAX 64
extern const struct sw__ckey sw__config_keys[];
extern const size_t sw__config_nkeys;
extern const char *const sw__config_sections[];
extern const size_t sw__config_nsections;

/* The key of section (case-insensitive); NULL when unknown. */
const struct sw__ckey *sw__config_key(const char *section, const char *name);
/* The section name as in the table, or NULL when unknown. */
const char *sw__config_section(const char *name, size_t len);

/* Applies one value of key k to c. Lists honour listen_replace /
 * domains_replace and clear them. On error returns SW_EINVAL, writes the
 * reason (no key name) to why and leaves c unchanged. */
int sw__config_apply(struct sw_config *c, const struct sw__ckey *k, const char *value,
		     char *why, size_t why_cap);

#endif
