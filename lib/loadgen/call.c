/* The call scenario of `sipwarden bench` against an authenticating proxy:
 * every user registers (REGISTER -> 401 -> REGISTER with digest) from the
 * callee socket, which then answers as a UAS (180, 200 with Contact and SDP;
 * 200 to BYE); calls from user i to user i+1 go out on the caller socket:
 * INVITE -> 407 -> ACK -> INVITE with Proxy-Authorization -> 100/180/200 ->
 * ACK -> BYE (both along the Record-Route) -> 200: 16 datagrams through
 * the proxy. One thread; UDP; INVITE and BYE retransmitted (T1 doubling,
 * up to T2 for BYE) until an answer, 64*T1 ends a call as a timeout.
 * Legs: setup (first INVITE to its 200) and hang-up (BYE to 200). The
 * callee's side (registration, the UAS) is in callee.c. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "sipwarden/transport.h"
#include "call_int.h"

static int open_udp(struct run *r, int *fd, char *addr, size_t cap)
{
	const struct sw_lg_cfg *cfg = r->cfg;
	*fd = socket(cfg->target.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (*fd < 0 || connect(*fd, (const struct sockaddr *)&cfg->target, cfg->target_len))
		return SW_EIO;
	int big = 4 << 20;
	setsockopt(*fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	setsockopt(*fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	struct sockaddr_storage me;
	socklen_t len = sizeof(me);
	getsockname(*fd, (struct sockaddr *)&me, &len);
	sw_sockaddr_format((const struct sockaddr *)&me, addr, cap);
	return 0;
}

void sw__call_send(struct run *r, int fd, const char *buf, size_t len)
{
	if (send(fd, buf, len, MSG_DONTWAIT) == (ssize_t)len)
		r->st->requests++;
}

/* Drains a socket into fn; returns the number of datagrams. */
int sw__call_drain(struct run *r, int fd, int (*fn)(struct run *, const char *, size_t, void *), void *arg)
{
	static char buf[65536];
	int n = 0;
	for (;;) {
		ssize_t k = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		if (k <= 0)
			return n;
		buf[k] = '\0'; /* sscanf on the Call-ID stops here at the latest */
		r->st->responses++;
		n++;
		if (fn(r, buf, (size_t)k, arg) < 0)
			return -1;
	}
}

/* ---- the caller ------------------------------------------------------------ */

static void arm(struct call *c, uint64_t now, uint32_t first_ms)
{
	c->sends = 1;
	c->interval_ms = first_ms;
	c->next_ns = now + (uint64_t)first_ms * 1000000u;
}

static int invite(struct run *r, uint32_t idx, unsigned cseq, const struct sw_msg *chm)
{
	struct call *c = &r->calls[idx];
	const struct sw_lg_user *from = user(r, c->user), *to = user(r, c->user + 1);
	struct sw_buf b;
	sw_buf_init(&b, c->req, sizeof(c->req));
	sw_buf_addf(&b, "INVITE sip:%s@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%s.%u.%u.%u;rport\r\n"
		    "Max-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=%s%u\r\nTo: <sip:%s@%s>\r\n"
		    "Call-ID: c%u.%u-%s\r\nCSeq: %u INVITE\r\nContact: <sip:%s@%s>\r\n",
		    to->user, to->domain, r->caddr, r->run_id, idx, c->gen, cseq, from->user, from->domain,
		    r->run_id, c->gen, to->user, to->domain, idx, c->gen, r->run_id, cseq, from->user, r->caddr);
	if (chm) {
		const struct sw_hdr *h = sw_msg_hdr(chm, SW_HDR_PROXY_AUTHENTICATE);
		struct sw_auth ch;
		char uri[300], cn[17];
		snprintf(uri, sizeof(uri), "sip:%s@%s", to->user, to->domain);
		snprintf(cn, sizeof(cn), "%016llx", (unsigned long long)(r->rnd = r->rnd * 6364136223846793005ull + 1));
		sw_buf_adds(&b, "Proxy-Authorization: ");
		if (!h || sw_auth_parse(&ch, h->value, NULL) ||
		    sw_lg_digest_answer(r->dc, &ch, sw_str_from(from->user, strlen(from->user)),
					sw_str_from(from->password, strlen(from->password)), SW_STR_LIT("INVITE"),
					sw_str_from(uri, strlen(uri)), SW_STR_NULL, sw_str_from(cn, 16),
					SW_STR_LIT("00000001"), &b)) {
			r->st->auth_errors++;
			return -1;
		}
		sw_buf_adds(&b, "\r\n");
	}
	sw_buf_adds(&b, "Content-Type: application/sdp\r\n");
	sw_print_end(&b, SW_STR_LIT(SDP));
	if (b.overflow)
		return -1;
	c->len = (uint16_t)b.len;
	return 0;
}

static void finish(struct run *r, uint32_t idx, bool ok, unsigned status, uint64_t now)
{
	struct call *c = &r->calls[idx];
	sw_lg_timeline_add(r->st, now - r->t0, ok, 1);
	if (ok) {
		r->st->completed++;
		sw_hist_add(&r->st->leg[1], (now - c->leg_ns) / 1000u);
		sw_hist_add(&r->st->total, (now - c->start_ns) / 1000u);
	} else {
		r->st->failed++;
		if (status >= 300 && status < 700)
			r->st->by_status[status]++;
	}
	c->st = C_FREE;
	r->freel[r->nfree++] = idx;
}

/* ACK for a non-2xx final: same branch, the response's To (§17.1.1.3). */
static void ack_non2xx(struct run *r, const struct call *c, const struct sw_msg *m)
{
	struct sw_msg q;
	if (sw_msg_parse(&q, c->req, c->len, NULL, NULL))
		return;
	char buf[1024];
	struct sw_buf b;
	sw_buf_init(&b, buf, sizeof(buf));
	sw_print_request_line(&b, SW_STR_LIT("ACK"), q.ruri);
	copy_hdrs(&b, &q, SW_HDR_VIA);
	sw_buf_adds(&b, "Max-Forwards: 70\r\n");
	copy_hdrs(&b, &q, SW_HDR_FROM);
	copy_hdrs(&b, m, SW_HDR_TO);
	copy_hdrs(&b, &q, SW_HDR_CALL_ID);
	struct sw_cseq cs;
	sw_msg_cseq(&q, &cs, NULL);
	sw_buf_addf(&b, "CSeq: %u ACK\r\n", cs.num);
	sw_print_end(&b, SW_STR_NULL);
	if (!b.overflow)
		sw__call_send(r, r->cfd, b.p, b.len);
}

/* The 2xx: ACK and BYE along the route set (the Record-Route reversed) to
 * the Contact. */
static int answered(struct run *r, uint32_t idx, const struct sw_msg *m, uint64_t now)
{
	struct call *c = &r->calls[idx];
	struct sw_addr contact;
	struct sw_hdr_iter it;
	sw_str e, rr[8];
	unsigned nrr = 0;
	sw_hdr_iter_init(&it, m, SW_HDR_CONTACT);
	if (!sw_hdr_iter_next(&it, &e, NULL) || sw_addr_parse(&contact, e, false, NULL))
		return -1;
	sw_hdr_iter_init(&it, m, SW_HDR_RECORD_ROUTE);
	while (nrr < 8 && sw_hdr_iter_next(&it, &e, NULL))
		rr[nrr++] = e;
	const struct sw_lg_user *from = user(r, c->user);
	const struct sw_hdr *to = sw_msg_hdr(m, SW_HDR_TO);
	for (unsigned k = 0; k < 2; k++) {
		char buf[MSG_CAP];
		struct sw_buf b;
		sw_buf_init(&b, k ? c->req : buf, k ? sizeof(c->req) : sizeof(buf));
		sw_print_request_line(&b, k ? SW_STR_LIT("BYE") : SW_STR_LIT("ACK"), contact.uri.raw);
		sw_buf_addf(&b, "Via: SIP/2.0/UDP %s;branch=z9hG4bK%s.%u.%u.%s;rport\r\nMax-Forwards: 70\r\n",
			    r->caddr, r->run_id, idx, c->gen, k ? "bye" : "ack");
		for (unsigned i = nrr; i-- > 0;)
			sw_print_header(&b, "Route", rr[i]);
		sw_buf_addf(&b, "From: <sip:%s@%s>;tag=%s%u\r\nTo: ", from->user, from->domain, r->run_id, c->gen);
		sw_buf_add_str(&b, to->value);
		sw_buf_addf(&b, "\r\nCall-ID: c%u.%u-%s\r\nCSeq: %u %s\r\n", idx, c->gen, r->run_id, k ? 3u : 2u,
			    k ? "BYE" : "ACK");
		sw_print_end(&b, SW_STR_NULL);
		if (b.overflow)
			return -1;
		if (!k) {
			memcpy(c->ack, b.p, b.len);
			c->ack_len = (uint16_t)b.len;
		} else {
			c->len = (uint16_t)b.len;
		}
		sw__call_send(r, r->cfd, b.p, b.len);
	}
	sw_hist_add(&r->st->leg[0], (now - c->start_ns) / 1000u);
	c->st = C_BYE;
	c->provisional = false;
	c->leg_ns = now;
	arm(c, now, r->cfg->t1_ms ? r->cfg->t1_ms : 500);
	return 0;
}

static int on_caller(struct run *r, const char *buf, size_t len, void *arg)
{
	(void)arg;
	uint64_t now = now_ns();
	struct sw_msg *m = &r->m;
	struct sw_cseq cs;
	sw_str cid;
	unsigned idx, gen;
	if (sw_msg_parse(m, buf, len, NULL, NULL) || m->is_request || sw_msg_cseq(m, &cs, NULL) ||
	    sw_msg_call_id(m, &cid, NULL)) {
		r->st->malformed++;
		return 0;
	}
	if (sscanf(cid.p, "c%u.%u-", &idx, &gen) != 2 || idx >= r->ncalls || r->calls[idx].gen != gen ||
	    r->calls[idx].st == C_FREE) {
		r->st->stray++;
		return 0;
	}
	struct call *c = &r->calls[idx];
	unsigned s = m->status;
	if (cs.method_id == SW_METHOD_INVITE) {
		if (s < 200) {
			c->provisional = true;
		} else if (s < 300) {
			if (c->st == C_AUTH)
				return answered(r, idx, m, now) ? (finish(r, idx, false, 0, now), 0) : 0;
			if (c->st == C_BYE && c->ack_len) /* a retransmitted 2xx: the ACK again */
				sw__call_send(r, r->cfd, c->ack, c->ack_len);
		} else if (s == 407 && c->st == C_INVITE && cs.num == 1) {
			ack_non2xx(r, c, m);
			if (invite(r, idx, 2, m)) {
				finish(r, idx, false, 0, now);
				return 0;
			}
			c->st = C_AUTH;
			c->provisional = false;
			sw__call_send(r, r->cfd, c->req, c->len);
			arm(c, now, r->cfg->t1_ms ? r->cfg->t1_ms : 500);
		} else if ((c->st == C_AUTH && cs.num == 2) || (c->st == C_INVITE && cs.num == 1)) {
			ack_non2xx(r, c, m);
			finish(r, idx, false, s, now);
		}
	} else if (cs.method_id == SW_METHOD_BYE && c->st == C_BYE && s >= 200) {
		finish(r, idx, s < 300, s, now);
	}
	return 0;
}

static int start_call(struct run *r, uint64_t seq, uint64_t now)
{
	if (!r->nfree) {
		r->st->behind++;
		return 1;
	}
	uint32_t idx = r->freel[--r->nfree];
	struct call *c = &r->calls[idx];
	c->gen++;
	c->user = (uint32_t)(seq % r->cfg->users->n);
	c->st = C_INVITE;
	c->provisional = false;
	c->ack_len = 0;
	c->start_ns = now;
	if (invite(r, idx, 1, NULL)) {
		finish(r, idx, false, 0, now);
		return 0;
	}
	sw__call_send(r, r->cfd, c->req, c->len);
	arm(c, now, r->cfg->t1_ms ? r->cfg->t1_ms : 500);
	r->st->started++;
	return 0;
}

/* Timers A (INVITE, doubling) and E (BYE, up to T2); 64*T1 ends the call. */
static void timers(struct run *r, uint64_t now)
{
	uint64_t f_ns = 64ull * (r->cfg->t1_ms ? r->cfg->t1_ms : 500) * 1000000u;
	for (uint32_t i = 0; i < r->ncalls; i++) {
		struct call *c = &r->calls[i];
		if (c->st == C_FREE || now < c->next_ns)
			continue;
		if (now - (c->st == C_BYE ? c->leg_ns : c->start_ns) > f_ns) {
			r->st->timeouts++;
			finish(r, i, false, 0, now);
			continue;
		}
		if (c->provisional && c->st != C_BYE) {
			c->next_ns = now + f_ns;
			continue;
		}
		sw__call_send(r, r->cfd, c->req, c->len);
		r->st->retransmissions++;
		c->sends++;
		c->interval_ms = c->st == C_BYE && c->interval_ms * 2 > 4000 ? 4000 : c->interval_ms * 2;
		c->next_ns = now + (uint64_t)c->interval_ms * 1000000u;
	}
}

static int run_calls(struct run *r, volatile int *stop)
{
	const struct sw_lg_cfg *cfg = r->cfg;
	uint64_t t0 = now_ns(), last = t0, seq = 0, last_start = t0, last_timers = t0, last_progress = t0;
	r->t0 = t0;
	r->st->slot_ms = sw_lg_slot_ms(cfg);
	uint64_t dur_ns = (uint64_t)(cfg->duration_ms ? cfg->duration_ms : 60000u) * 1000000u;
	uint64_t drain_ns = (uint64_t)(cfg->drain_ms ? cfg->drain_ms : 4000u) * 1000000u;
	uint32_t reg = 0;
	char scratch[MSG_CAP];
	for (;;) {
		uint64_t now = now_ns();
		bool starting = (!cfg->count || seq < cfg->count) && now - t0 < dur_ns && !(stop && *stop);
		if (starting) {
			uint64_t due = cfg->rate > 0 ? (uint64_t)((double)seq * 1e9 / cfg->rate) : 0;
			while (starting && now - t0 >= due) {
				if (start_call(r, seq, now))
					break;
				seq++;
				last_start = now;
				starting = !cfg->count || seq < cfg->count;
				due = cfg->rate > 0 ? (uint64_t)((double)seq * 1e9 / cfg->rate) : 0;
			}
		}
		bool open = r->nfree < r->ncalls;
		if (!starting && (!open || now - last_start > drain_ns || (stop && *stop)))
			break;
		if (now - last_timers >= 10000000u) {
			timers(r, now);
			last_timers = now;
		}
		if (cfg->progress && now - last_progress >= 250000000u) {
			struct sw_lg_progress pr = { seq, r->st->completed, r->st->failed,
						     (double)(now - t0) / 1e9 };
			cfg->progress(cfg->progress_arg, &pr);
			last_progress = now;
		}
		struct pollfd p[2] = { { r->cfd, POLLIN, 0 }, { r->efd, POLLIN, 0 } };
		poll(p, 2, 1);
		if (sw__call_drain(r, r->cfd, on_caller, NULL) > 0 || sw__call_drain_callee(r, &reg, scratch) > 0)
			last = now_ns();
	}
	r->st->unfinished = r->ncalls - r->nfree;
	r->st->failed += r->st->unfinished;
	sw_lg_timeline_add(r->st, now_ns() - t0, false, r->st->unfinished);
	r->st->send_s = (double)(last_start - t0) / 1e9;
	r->st->elapsed_s = (double)(last - t0) / 1e9;
	return 0;
}

/* utime + stime of a local process in seconds (/proc/PID/stat, fields 14
 * and 15, after the parenthesised name), or -1. */
static double process_cpu(int pid)
{
	char path[64], line[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(line, 1, sizeof(line) - 1, f);
	fclose(f);
	line[n] = '\0';
	const char *p = strrchr(line, ')');
	unsigned long long ut, stime;
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &stime) != 2)
		return -1;
	long hz = sysconf(_SC_CLK_TCK);
	return hz > 0 ? (double)(ut + stime) / (double)hz : -1;
}

/* The sum over the server's processes, or -1 when none is given or one is
 * gone. */
static double server_cpu(const struct sw_lg_cfg *cfg)
{
	double sum = 0;
	for (unsigned i = 0; i < cfg->nserver_pids; i++) {
		double v = process_cpu(cfg->server_pids[i]);
		if (v < 0)
			return -1;
		sum += v;
	}
	return cfg->nserver_pids ? sum : -1;
}

int sw__lg_call_run(const struct sw_lg_cfg *cfg, volatile int *stop, struct sw_lg_stats *st)
{
	if (!cfg->users || cfg->users->n < 2 || cfg->tcp)
		return SW_EINVAL;
	struct run r = { .cfg = cfg, .st = st, .cfd = -1, .efd = -1, .rnd = (uint64_t)now_ns() | 1 };
	sw_lg_stats_init(st);
	st->target_rate = cfg->rate;
	r.ncalls = cfg->max_inflight ? cfg->max_inflight : 4096;
	r.calls = calloc(r.ncalls, sizeof(*r.calls));
	r.freel = malloc(r.ncalls * sizeof(*r.freel));
	int err = !r.calls || !r.freel ? SW_ENOMEM : sw_digest_ctx_new(&r.dc);
	if (!err && sw_random_token(r.run_id, 8))
		snprintf(r.run_id, sizeof(r.run_id), "%08x", (unsigned)getpid());
	if (!err)
		err = open_udp(&r, &r.cfd, r.caddr, sizeof(r.caddr));
	if (!err)
		err = open_udp(&r, &r.efd, r.eaddr, sizeof(r.eaddr));
	for (uint32_t i = 0; !err && i < r.ncalls; i++)
		r.freel[r.nfree++] = r.ncalls - 1 - i;
	if (!err && !(err = sw__call_register_all(&r, 1))) {
		st->requests = st->responses = 0; /* the registrations are not the load */
		double cpu0 = server_cpu(cfg);
		err = run_calls(&r, stop);
		double cpu1 = server_cpu(cfg);
		if (cpu0 >= 0 && cpu1 >= cpu0)
			st->server_cpu_s = cpu1 - cpu0;
	}
	if (!err) { /* not counted either; a server that does not answer leaves them to expire */
		struct sw_lg_stats keep = *st;
		sw__call_register_all(&r, 3);
		*st = keep;
	}
	if (!err) {
		if (st->elapsed_s > 0)
			st->rate = (double)st->completed / st->elapsed_s;
		if (st->send_s > 0 && st->started > 1)
			st->start_rate = (double)(st->started - 1) / st->send_s;
		st->rate_held = cfg->rate <= 0 || st->started <= 1 || (st->start_rate >= 0.95 * cfg->rate && !st->behind);
	}
	if (r.cfd >= 0)
		close(r.cfd);
	if (r.efd >= 0)
		close(r.efd);
	sw_digest_ctx_free(r.dc);
	free(r.calls);
	free(r.freel);
	return err;
}
