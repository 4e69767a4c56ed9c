/* The auth decision log: one line per decision on the log stream (JSON or
 * text) and one event in the store for `sipwarden why` / `events`. Header
 * content is untrusted: it is escaped, and the source address is its own
 * field. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "journal.h"
#include "reg_int.h"
#include "sipwarden/metrics.h"

static void add_uint(struct sw_buf *b, unsigned v, unsigned min_digits)
{
	char d[12];
	unsigned n = 0;
	do {
		d[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v || n < min_digits);
	while (n)
		sw_buf_addc(b, d[--n]);
}

/* "YYYY-MM-DDTHH:MM:SS" of t, formatted once per second per thread. */
static const char *when_utc(time_t t)
{
	static _Thread_local time_t last = -1;
	static _Thread_local char when[32];
	if (t != last) {
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		last = t;
	}
	return when;
}

static void add_json_field(struct sw_buf *b, const char *name, const char *v)
{
	sw_buf_adds(b, name);
	sw_buf_add_json_str(b, v, strlen(v));
}

void sw__event_record(struct sw_req *q, const char *aor, sw_str auth_user, sw_str realm,
		      enum sw_cause cause, const char *detail)
{
	struct sw_registrar *r = q->rw->r;
	struct sw_auth_event ev;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ev.id = 0;
	ev.time_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	sw_sockaddr_host((const struct sockaddr *)&q->from->addr, ev.source_addr, sizeof(ev.source_addr));
	/* a line only for the first decision of its kind from this address in
	 * this second (logcap.c); a 503 of overload is an event only then too:
	 * under overload the event writer must not grow with the flood */
	bool quiet = cause == SW_CAUSE_NO_CREDENTIALS && !atomic_load(&r->log_first_challenges);
	bool first = quiet || sw__logcap_first(r, ev.source_addr, cause, (int64_t)ts.tv_sec);
	if (cause == SW_CAUSE_SERVER_OVERLOADED && !first)
		return;
	char to_aor[SW_STORE_AOR_MAX + 1];
	if (!aor) { /* the To AOR, worked out only for a decision recorded */
		struct sw_addr to;
		to_aor[0] = '\0';
		if (sw_msg_to(q->m, &to, NULL) == 0 && to.uri.user.p)
			snprintf(to_aor, sizeof(to_aor), "%.*s@%.*s", (int)to.uri.user.len, to.uri.user.p,
				 (int)to.uri.host.len, to.uri.host.p);
		aor = to_aor;
	}
	ev.source_port = (uint16_t)sw_sockaddr_port((const struct sockaddr *)&q->from->addr);
	const char *tp = q->from->tp == SW_TP_UDP ? "udp" : q->from->tp == SW_TP_TCP ? "tcp" : "tls";
	memcpy(ev.transport, tp, 4);
	SW_STORE_SET(ev.method, q->m->method);
	SW_STORE_SET(ev.aor, sw_str_from(aor, strlen(aor)));
	SW_STORE_SET(ev.auth_user, auth_user);
	SW_STORE_SET(ev.realm, realm);
	const struct sw_hdr *ua = sw_msg_hdr(q->m, SW_HDR_USER_AGENT);
	SW_STORE_SET(ev.user_agent, ua ? ua->value : SW_STR_NULL);
	const char *id = sw_cause_id(cause);
	SW_STORE_SET(ev.cause, sw_str_from(id, strlen(id)));
	SW_STORE_SET(ev.detail, sw_str_from(detail, strlen(detail)));
	sw_store_event_record(r->st, &ev);
	sw_metrics_auth(q->m->method_id, cause);

	if ((!r->cfg.log && !r->cfg.log_journal) || quiet || !first)
		return;
	char line[2048];
	struct sw_buf b;
	sw_buf_init(&b, line, sizeof(line) - 1);
	const char *when = when_utc(ts.tv_sec);
	if (r->cfg.log_json && !r->cfg.log_journal) {
		sw_buf_adds(&b, "{\"time\":\"");
		sw_buf_adds(&b, when);
		sw_buf_addc(&b, '.');
		add_uint(&b, (unsigned)(ts.tv_nsec / 1000000), 3);
		sw_buf_adds(&b, "Z\",\"source\":\"");
		sw_buf_adds(&b, ev.source_addr);
		sw_buf_addc(&b, ':');
		add_uint(&b, ev.source_port, 1);
		sw_buf_adds(&b, "\",\"transport\":\"");
		sw_buf_adds(&b, ev.transport);
		sw_buf_addc(&b, '"');
		add_json_field(&b, ",\"method\":", ev.method);
		add_json_field(&b, ",\"aor\":", ev.aor);
		add_json_field(&b, ",\"auth_user\":", ev.auth_user);
		add_json_field(&b, ",\"realm\":", ev.realm);
		add_json_field(&b, ",\"user_agent\":", ev.user_agent);
		add_json_field(&b, ",\"cause\":", ev.cause);
		add_json_field(&b, ",\"detail\":", ev.detail);
		sw_buf_addc(&b, '}');
	} else {
		/* the store field setter already replaced control characters */
		if (!r->cfg.log_journal) /* the journal has the time */
			sw_buf_addf(&b, "%s ", when);
		sw_buf_addf(&b, "%s:%u %s %s %s user=%s realm=%s cause=%s: %s", ev.source_addr,
			    ev.source_port, ev.transport, ev.method, ev.aor[0] ? ev.aor : "-",
			    ev.auth_user[0] ? ev.auth_user : "-", ev.realm[0] ? ev.realm : "-", ev.cause,
			    ev.detail);
	}
	if (b.overflow)
		b.len = sizeof(line) - 1;
	if (r->cfg.log_journal) {
		if (!sw__logcap_admit(r, b.len + 1, (int64_t)ts.tv_sec))
			return; /* over the ceiling: counted, said once a second */
		struct sw_journal_entry je;
		b.p[b.len] = '\0';
		sw__journal_build(&je, &ev, b.p);
		sw__journal_send(&je); /* journald gone: nothing better to do */
		return;
	}
	b.p[b.len++] = '\n';
	sw__logcap_write(r, b.p, b.len, (int64_t)ts.tv_sec);
}

void sw__event(struct sw_req *q, const char *aor, sw_str auth_user, sw_str realm, enum sw_cause cause,
	       const char *detail)
{
	char hinted[SW_STORE_TEXT_MAX + 1];
	sw__event_record(q, aor, auth_user, realm, cause, sw__ban_hint(q, cause, detail, hinted, sizeof(hinted)));
	sw__ban_observe(q, aor, auth_user, realm, cause); /* banned.c */
}

void sw_registrar_flush_log(struct sw_registrar *r)
{
	if (!r->cfg.log && !r->cfg.log_journal)
		return;
	sw__logcap_tick(r, (int64_t)time(NULL)); /* the last second's summaries, also to the journal */
	if (!r->cfg.log)
		return;
	pthread_mutex_lock(&r->log_lock);
	fflush(r->cfg.log);
	pthread_mutex_unlock(&r->log_lock);
}
