/* What the admin commands show from the store, rendered in the library so
 * it is unit-tested: auth events (`why`, `events`) with the explanation and
 * the fix from the causes table, bindings (`registrations`), subscribers
 * (`user list`); plus the small parsers those commands share. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "sipwarden/causes.h"
#include "sipwarden/store.h"

int sw_aor_split(const char *aor, char user[SW_STORE_USER_MAX + 1],
		 char domain[SW_STORE_DOMAIN_MAX + 1])
{
	if (!aor)
		return SW_EINVAL;
	if (!strncmp(aor, "sip:", 4))
		aor += 4;
	else if (!strncmp(aor, "sips:", 5))
		aor += 5;
	const char *at = strrchr(aor, '@');
	if (!at || at == aor || !at[1])
		return SW_EINVAL;
	size_t ul = (size_t)(at - aor), dl = strlen(at + 1);
	if (ul > SW_STORE_USER_MAX || dl > SW_STORE_DOMAIN_MAX)
		return SW_ETOOBIG;
	for (size_t i = 0; i < ul; i++)
		if ((unsigned char)aor[i] <= ' ' || aor[i] == 0x7f || strchr("@:\"\\<>", aor[i]))
			return SW_EINVAL;
	for (size_t i = 0; i < dl; i++) {
		char c = at[1 + i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr(".-_:[]", c)))
			return SW_EINVAL;
		domain[i] = c;
	}
	domain[dl] = '\0';
	memcpy(user, aor, ul);
	user[ul] = '\0';
	return 0;
}

int sw_duration_parse(const char *s, uint64_t *seconds)
{
	uint64_t v = 0;
	const char *p = s;
	if (!s || !*s)
		return SW_EPARSE;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > UINT64_MAX / 10 / 604800)
			return SW_EPARSE;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (p == s)
		return SW_EPARSE;
	uint64_t mul;
	switch (*p) {
	case '\0': case 's': mul = 1; break;
	case 'm': mul = 60; break;
	case 'h': mul = 3600; break;
	case 'd': mul = 86400; break;
	case 'w': mul = 604800; break;
	default: return SW_EPARSE;
	}
	if (*p && p[1])
		return SW_EPARSE;
	*seconds = v * mul;
	return 0;
}

static void add_time(struct sw_buf *b, int64_t ms, bool utc)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char s[40];
	if ((utc ? gmtime_r(&t, &tm) : localtime_r(&t, &tm)) &&
	    strftime(s, sizeof(s), "%Y-%m-%d %H:%M:%S", &tm))
		sw_buf_adds(b, s);
	else
		sw_buf_addf(b, "@%lld", (long long)t);
}

static void add_iso(struct sw_buf *b, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char s[40];
	if (gmtime_r(&t, &tm) && strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm))
		sw_buf_addf(b, "\"%s.%03dZ\"", s, (int)(ms % 1000 < 0 ? 0 : ms % 1000));
	else
		sw_buf_adds(b, "null");
}

/* addr:port, with brackets for IPv6. */
static void add_source(struct sw_buf *b, const char *addr, uint16_t port)
{
	if (!addr[0]) {
		sw_buf_adds(b, "-");
		return;
	}
	sw_buf_adds(b, strchr(addr, ':') ? "[" : "");
	sw_buf_adds(b, addr);
	sw_buf_adds(b, strchr(addr, ':') ? "]" : "");
	if (port)
		sw_buf_addf(b, ":%u", port);
}

static const char *or_dash(const char *s) { return s[0] ? s : "-"; }

void sw_event_render_text(struct sw_buf *b, const struct sw_auth_event *ev, bool utc)
{
	enum sw_cause c;
	const struct sw_cause_info *ci =
		sw_cause_find(sw_str_from(ev->cause, strlen(ev->cause)), &c) ? NULL
									   : sw_cause_get(c);
	add_time(b, ev->time_ms, utc);
	sw_buf_adds(b, "  ");
	add_source(b, ev->source_addr, ev->source_port);
	sw_buf_addf(b, " %s  %s  %s", or_dash(ev->transport), or_dash(ev->method),
		    or_dash(ev->aor));
	if (ev->auth_user[0] && ev->aor[0] && strncmp(ev->aor, ev->auth_user, strlen(ev->auth_user)))
		sw_buf_addf(b, " (auth user %s)", ev->auth_user);
	else if (ev->auth_user[0] && !ev->aor[0])
		sw_buf_addf(b, "(auth user %s)", ev->auth_user);
	sw_buf_addc(b, '\n');
	if (ci) {
		sw_buf_addf(b, "    %s (%s): %s\n", ci->id, sw_severity_name(ci->severity), ci->explain);
		if (ci->fix_class != SW_FIX_NONE)
			sw_buf_addf(b, "    fix: %s\n", ci->fix);
	} else {
		sw_buf_addf(b, "    %s\n", ev->cause);
	}
	if (ev->detail[0])
		sw_buf_addf(b, "    detail: %s\n", ev->detail);
	if (ev->user_agent[0])
		sw_buf_addf(b, "    device: %s\n", ev->user_agent);
}

static void key(struct sw_buf *b, const char *k, bool comma)
{
	sw_buf_addf(b, "%s\"%s\":", comma ? "," : "", k);
}

static void kstr(struct sw_buf *b, const char *k, const char *v)
{
	key(b, k, true);
	sw_buf_add_json_str(b, v, strlen(v));
}

void sw_event_render_json(struct sw_buf *b, const struct sw_auth_event *ev)
{
	enum sw_cause c;
	const struct sw_cause_info *ci =
		sw_cause_find(sw_str_from(ev->cause, strlen(ev->cause)), &c) ? NULL
									   : sw_cause_get(c);
	sw_buf_addf(b, "{\"id\":%llu", (unsigned long long)ev->id);
	key(b, "time", true);
	add_iso(b, ev->time_ms);
	sw_buf_addf(b, ",\"time_ms\":%lld", (long long)ev->time_ms);
	kstr(b, "source", ev->source_addr);
	sw_buf_addf(b, ",\"port\":%u", ev->source_port);
	kstr(b, "transport", ev->transport);
	kstr(b, "method", ev->method);
	kstr(b, "aor", ev->aor);
	kstr(b, "auth_user", ev->auth_user);
	kstr(b, "realm", ev->realm);
	kstr(b, "user_agent", ev->user_agent);
	kstr(b, "cause", ev->cause);
	if (ci) {
		kstr(b, "severity", sw_severity_name(ci->severity));
		kstr(b, "explanation", ci->explain);
		kstr(b, "fix", ci->fix);
	} else {
		sw_buf_adds(b, ",\"severity\":null,\"explanation\":null,\"fix\":null");
	}
	kstr(b, "detail", ev->detail);
	sw_buf_addc(b, '}');
}

static void add_expires_in(struct sw_buf *b, int64_t left)
{
	if (left <= 0)
		sw_buf_adds(b, "expired");
	else if (left < 120)
		sw_buf_addf(b, "%llds", (long long)left);
	else if (left < 7200)
		sw_buf_addf(b, "%lldm%02llds", (long long)(left / 60), (long long)(left % 60));
	else
		sw_buf_addf(b, "%lldh%02lldm", (long long)(left / 3600),
			    (long long)(left % 3600 / 60));
}

void sw_binding_render_text(struct sw_buf *b, const struct sw_binding *bd, int64_t now)
{
	sw_buf_addf(b, "%s  %s  expires in ", bd->aor, bd->contact);
	add_expires_in(b, bd->expires - now);
	sw_buf_addf(b, "  q=%u.%03u  from ", bd->q / 1000, bd->q % 1000);
	add_source(b, bd->source_addr, bd->source_port);
	sw_buf_addf(b, " %s", or_dash(bd->transport));
	if (bd->user_agent[0])
		sw_buf_addf(b, "  \"%s\"", bd->user_agent);
	sw_buf_addc(b, '\n');
}

void sw_binding_render_json(struct sw_buf *b, const struct sw_binding *bd, int64_t now)
{
	sw_buf_adds(b, "{\"aor\":");
	sw_buf_add_json_str(b, bd->aor, strlen(bd->aor));
	kstr(b, "contact", bd->contact);
	sw_buf_addf(b, ",\"expires\":%lld,\"expires_in\":%lld,\"q\":%u.%03u",
		    (long long)bd->expires, (long long)(bd->expires > now ? bd->expires - now : 0),
		    bd->q / 1000, bd->q % 1000);
	kstr(b, "source", bd->source_addr);
	sw_buf_addf(b, ",\"port\":%u", bd->source_port);
	kstr(b, "transport", bd->transport);
	kstr(b, "user_agent", bd->user_agent);
	kstr(b, "call_id", bd->call_id);
	sw_buf_addf(b, ",\"cseq\":%lu", (unsigned long)bd->cseq);
	kstr(b, "path", bd->path);
	kstr(b, "received", bd->received);
	kstr(b, "instance", bd->instance);
	sw_buf_addf(b, ",\"reg_id\":%lu,\"updated\":%lld}", (unsigned long)bd->reg_id,
		    (long long)bd->updated);
}

void sw_subscriber_render_text(struct sw_buf *b, const struct sw_subscriber *s, bool utc)
{
	sw_buf_addf(b, "%s@%s  %s  changed ", s->user, s->domain,
		    s->disabled ? "disabled" : "enabled ");
	add_time(b, s->changed * 1000, utc);
	sw_buf_addc(b, '\n');
}

void sw_subscriber_render_json(struct sw_buf *b, const struct sw_subscriber *s)
{
	sw_buf_adds(b, "{\"user\":");
	sw_buf_add_json_str(b, s->user, strlen(s->user));
	kstr(b, "domain", s->domain);
	char aor[SW_STORE_AOR_MAX + 2];
	snprintf(aor, sizeof(aor), "%s@%s", s->user, s->domain);
	kstr(b, "aor", aor);
	sw_buf_addf(b, ",\"disabled\":%s,\"created\":%lld,\"changed\":%lld}",
		    s->disabled ? "true" : "false", (long long)s->created, (long long)s->changed);
}
