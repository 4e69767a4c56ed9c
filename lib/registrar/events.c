/* The auth decision log: one line per decision on the log stream (JSON or
 * text) and one event in the store for `sipwarden why` / `events`. Header
 * content is untrusted: it is escaped, and the source address is its own
 * field. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "reg_int.h"

void sw__event(struct sw_req *q, const char *aor, sw_str auth_user, sw_str realm, enum sw_cause cause,
	       const char *detail)
{
	struct sw_registrar *r = q->rw->r;
	struct sw_auth_event ev;
	memset(&ev, 0, sizeof(ev));
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ev.time_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	sw_sockaddr_host((const struct sockaddr *)&q->from->addr, ev.source_addr, sizeof(ev.source_addr));
	ev.source_port = (uint16_t)sw_sockaddr_port((const struct sockaddr *)&q->from->addr);
	snprintf(ev.transport, sizeof(ev.transport), "%s", q->from->tp == SW_TP_UDP ? "udp" : q->from->tp == SW_TP_TCP ? "tcp" : "tls");
	SW_STORE_SET(ev.method, q->m->method);
	SW_STORE_SET(ev.aor, sw_str_from(aor, strlen(aor)));
	SW_STORE_SET(ev.auth_user, auth_user);
	SW_STORE_SET(ev.realm, realm);
	const struct sw_hdr *ua = sw_msg_hdr(q->m, SW_HDR_USER_AGENT);
	if (ua)
		SW_STORE_SET(ev.user_agent, ua->value);
	snprintf(ev.cause, sizeof(ev.cause), "%s", sw_cause_id(cause));
	SW_STORE_SET(ev.detail, sw_str_from(detail, strlen(detail)));
	sw_store_event_record(r->st, &ev);

	if (!r->cfg.log)
		return;
	char line[2048];
	struct sw_buf b;
	sw_buf_init(&b, line, sizeof(line) - 1);
	char when[32];
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	if (r->cfg.log_json) {
		sw_buf_addf(&b, "{\"time\":\"%s.%03ldZ\",\"source\":\"%s:%u\",\"transport\":\"%s\",\"method\":",
			    when, ts.tv_nsec / 1000000, ev.source_addr, ev.source_port, ev.transport);
		sw_buf_add_json_str(&b, ev.method, strlen(ev.method));
		sw_buf_adds(&b, ",\"aor\":");
		sw_buf_add_json_str(&b, ev.aor, strlen(ev.aor));
		sw_buf_adds(&b, ",\"auth_user\":");
		sw_buf_add_json_str(&b, ev.auth_user, strlen(ev.auth_user));
		sw_buf_adds(&b, ",\"realm\":");
		sw_buf_add_json_str(&b, ev.realm, strlen(ev.realm));
		sw_buf_adds(&b, ",\"user_agent\":");
		sw_buf_add_json_str(&b, ev.user_agent, strlen(ev.user_agent));
		sw_buf_addf(&b, ",\"cause\":\"%s\",\"detail\":", ev.cause);
		sw_buf_add_json_str(&b, ev.detail, strlen(ev.detail));
		sw_buf_addc(&b, '}');
	} else {
		/* the store field setter already replaced control characters */
		sw_buf_addf(&b, "%s %s:%u %s %s %s user=%s realm=%s cause=%s: %s", when, ev.source_addr,
			    ev.source_port, ev.transport, ev.method, ev.aor[0] ? ev.aor : "-",
			    ev.auth_user[0] ? ev.auth_user : "-", ev.realm[0] ? ev.realm : "-", ev.cause,
			    ev.detail);
	}
	if (b.overflow)
		b.len = sizeof(line) - 1;
	b.p[b.len++] = '\n';
	pthread_mutex_lock(&r->log_lock);
	fwrite(b.p, 1, b.len, r->cfg.log); /* flushed by sw_registrar_flush_log() */
	pthread_mutex_unlock(&r->log_lock);
}

void sw_registrar_flush_log(struct sw_registrar *r)
{
	if (!r->cfg.log)
		return;
	pthread_mutex_lock(&r->log_lock);
	fflush(r->cfg.log);
	pthread_mutex_unlock(&r->log_lock);
}
