/* `sipwarden ban list`: one ban as a line of text or a JSON object. */
#include <string.h>
#include <time.h>
#include "ban/ban_int.h"

static void add_time(struct sw_buf *b, int64_t t, bool utc, const char *fmt)
{
	char s[40];
	struct tm tm;
	time_t tt = (time_t)t;
	if (utc)
		gmtime_r(&tt, &tm);
	else
		localtime_r(&tt, &tm);
	strftime(s, sizeof(s), fmt, &tm);
	sw_buf_adds(b, s);
}

static void add_net(struct sw_buf *b, const struct sw_ban_record *r)
{
	bool v6 = strchr(r->addr, ':') != NULL;
	sw_buf_adds(b, r->addr);
	if (r->prefix != (v6 ? 128 : 32))
		sw_buf_addf(b, "/%u", r->prefix);
}

void sw_ban_render_text(struct sw_buf *b, const struct sw_ban_record *r, int64_t now, bool utc)
{
	size_t start = b->len;
	add_net(b, r);
	if (r->user[0])
		sw_buf_addf(b, " user=%s", r->user);
	while (b->len < start + 24 && !b->overflow)
		sw_buf_addc(b, ' ');
	sw_buf_addc(b, ' ');
	if (!r->until) {
		sw_buf_adds(b, "until deleted");
	} else {
		char left[32];
		add_time(b, r->until, utc, "until %Y-%m-%d %H:%M:%S");
		sw__ban_duration(r->until > now ? r->until - now : 0, left, sizeof(left));
		sw_buf_addf(b, " (%s left)", left);
	}
	sw_buf_addf(b, "  ban %u  %s\n", r->level + 1, r->reason);
}

void sw_ban_render_json(struct sw_buf *b, const struct sw_ban_record *r, int64_t now)
{
	sw_buf_adds(b, "{\"address\":");
	sw_buf_add_json_str(b, r->addr, strlen(r->addr));
	sw_buf_addf(b, ",\"prefix\":%u,\"user\":", r->prefix);
	if (r->user[0])
		sw_buf_add_json_str(b, r->user, strlen(r->user));
	else
		sw_buf_adds(b, "null");
	sw_buf_adds(b, ",\"created\":\"");
	add_time(b, r->created, true, "%Y-%m-%dT%H:%M:%SZ");
	sw_buf_adds(b, "\",\"until\":");
	if (r->until) {
		sw_buf_addc(b, '"');
		add_time(b, r->until, true, "%Y-%m-%dT%H:%M:%SZ");
		sw_buf_addf(b, "\",\"remaining_s\":%lld", (long long)(r->until > now ? r->until - now : 0));
	} else {
		sw_buf_adds(b, "null,\"remaining_s\":null");
	}
	sw_buf_addf(b, ",\"level\":%u,\"reason\":", r->level);
	sw_buf_add_json_str(b, r->reason, strlen(r->reason));
	sw_buf_addc(b, '}');
}
