/* The registration load's loop (run.c sets it up): one thread per
 * --threads, each with its own connected UDP socket or TCP connection (so a
 * SO_REUSEPORT server spreads them over its workers), its own slots and
 * timers. A thread's loop: fire due timers, start the registrations the
 * rate schedule asks for, send everything queued (one sendmmsg on UDP; one
 * write of the gathered bytes on TCP), drain the socket (recvmmsg; on TCP,
 * read and frame by Content-Length), then sleep in ppoll until the next
 * start or timer. Over TCP nothing is retransmitted (RFC 3261 §17.1.2.2:
 * Timer E is for unreliable transports); Timer F still ends a transaction
 * that gets no answer. Nothing is shared between threads until the end,
 * when their statistics are merged. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sipwarden/transport.h"
#include "worker.h"

/* TCP: writes what it can of the gathered bytes; the rest waits for the
 * socket to drain (POLLOUT in the loop's sleep). */
static int flush_tcp(struct worker *w)
{
	size_t off = 0;
	while (off < w->olen) {
		ssize_t n = write(w->fd, w->obuf + off, w->olen - off);
		if (n > 0) {
			off += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			break;
		} else {
			return SW_EIO;     /* the server closed or reset the connection */
		}
	}
	memmove(w->obuf, w->obuf + off, w->olen - off);
	w->olen -= off;
	return 0;
}

static int flush(struct worker *w)
{
	if (w->cfg->tcp)
		return flush_tcp(w);
	unsigned off = 0;
	while (off < w->nsend) {
		int n = sendmmsg(w->fd, w->smsg + off, w->nsend - off, 0);
		if (n < 0) {
			if (errno == EINTR || errno == ECONNREFUSED)
				continue;  /* an ICMP error from before: reported once, then cleared */
			if (errno == EAGAIN || errno == ENOBUFS) {
				struct pollfd pfd = { .fd = w->fd, .events = POLLOUT };
				poll(&pfd, 1, 10);
				continue;
			}
			w->nsend = 0;
			return SW_EIO;
		}
		off += (unsigned)n;
	}
	w->nsend = 0;
	return 0;
}

static int queue_send(struct worker *w, struct sw__slot *s)
{
	if (w->cfg->tcp) {
		if (w->olen + s->req_len > w->ocap) {
			size_t cap = w->ocap * 2 > w->olen + s->req_len ? w->ocap * 2 : w->olen + s->req_len;
			char *nb = realloc(w->obuf, cap);
			if (!nb)
				return SW_ENOMEM;
			w->obuf = nb;
			w->ocap = cap;
		}
		memcpy(w->obuf + w->olen, s->req, s->req_len);
		w->olen += s->req_len;
		w->st.requests++;
		return 0;
	}
	if (w->nsend == BATCH) {
		int err = flush(w);
		if (err)
			return err;
	}
	w->siov[w->nsend] = (struct iovec){ s->req, s->req_len };
	w->smsg[w->nsend].msg_hdr = (struct msghdr){ .msg_iov = &w->siov[w->nsend], .msg_iovlen = 1 };
	w->nsend++;
	w->st.requests++;
	return 0;
}

/* (Re)arms the timers of slot i after its s->sends-th transmission. */
static int arm(struct worker *w, uint32_t i, uint64_t now, bool with_f)
{
	struct sw__slot *s = &w->slots[i];
	int err = 0;
	if (!w->cfg->tcp) { /* no retransmissions over a reliable transport */
		unsigned lv = sw__timers_level(&w->tm, s->sends, s->provisional);
		err = sw__tq_push(&w->tm.level[lv], now, i, s->tseq);
	}
	if (!err && with_f)
		err = sw__tq_push(&w->tm.f, now, i, s->tseq);
	return err;
}

static void finish(struct worker *w, uint32_t i, uint64_t now)
{
	struct sw__slot *s = &w->slots[i];
	s->busy = false;
	s->tseq++;
	w->freel[w->nfree++] = i;
	w->last_event = now;
}

static int start_one(struct worker *w, uint64_t now)
{
	uint32_t i = w->freel[--w->nfree];
	struct sw__slot *s = &w->slots[i];
	uint64_t k = w->st.started;
	s->busy = true;
	s->gen++;
	s->tseq++;
	s->seq = k;
	s->user = w->first + (uint32_t)(k % w->nusers) * w->stride;
	s->provisional = false;
	s->sends = 1;
	s->attempt = 0;
	s->start_ns = s->leg_ns = now;
	int err = sw__lg_build_first(&w->c, s, i);
	if (!err)
		err = queue_send(w, s);
	if (!err)
		err = arm(w, i, now, true);
	w->st.started++;
	w->last_start = now;
	return err;
}

static void fail(struct worker *w, uint32_t i, uint64_t now)
{
	w->st.failed++;
	sw_lg_timeline_add(&w->st, now - w->t0, false, 1);
	finish(w, i, now);
}

static int fire_timers(struct worker *w, uint64_t now)
{
	struct sw__tq_ent e;
	uint64_t f_ns = (uint64_t)w->tm.retx.f_ms * 1000000u;
	while (sw__tq_pop_due(&w->tm.f, now, &e)) {
		struct sw__slot *s = &w->slots[e.slot];
		if (!s->busy || s->tseq != e.tseq)
			continue;
		w->st.timeouts++;
		fail(w, e.slot, now);
	}
	while (sw__wait_pop_due(&w->tm, now, &e)) {
		/* Retry-After has passed: the registration starts again, a new
		 * transaction (new branch, the next CSeq, the same Call-ID) */
		struct sw__slot *s = &w->slots[e.slot];
		if (!s->busy || s->tseq != e.tseq)
			continue;
		if (s->attempt == 127) { /* CSeq room: a phone gives up some time */
			fail(w, e.slot, now);
			continue;
		}
		s->attempt++;
		s->gen++;
		s->tseq++;
		s->provisional = false;
		s->sends = 1;
		s->leg_ns = now;
		w->st.retries_after_503++;
		int err = sw__lg_build_first(&w->c, s, e.slot);
		if (!err)
			err = queue_send(w, s);
		if (!err)
			err = arm(w, e.slot, now, true);
		if (err)
			return err;
	}
	for (unsigned lv = 0; lv < w->tm.nlevels; lv++)
		while (sw__tq_pop_due(&w->tm.level[lv], now, &e)) {
			struct sw__slot *s = &w->slots[e.slot];
			if (!s->busy || s->tseq != e.tseq || now - s->leg_ns >= f_ns)
				continue;
			if (s->sends < 255)
				s->sends++;
			w->st.retransmissions++;
			w->st.retx_half[now - w->t0 >= w->half_ns]++;
			int err = queue_send(w, s);
			if (!err)
				err = arm(w, e.slot, now, false);
			if (err)
				return err;
		}
	return 0;
}

static int on_datagram(struct worker *w, const char *buf, size_t len, uint64_t now)
{
	struct sw_via via;
	uint32_t i, gen;
	unsigned leg;
	if (sw_msg_parse(&w->m, buf, len, NULL, NULL) || w->m.is_request ||
	    sw_msg_top_via(&w->m, &via, NULL)) {
		w->st.malformed++;
		return 0;
	}
	w->st.responses++;
	if (!sw__lg_branch_decode(&w->c, via.branch, &i, &gen, &leg) || i >= w->nslots) {
		w->st.stray++;
		return 0;
	}
	struct sw__slot *s = &w->slots[i];
	if (!s->busy || s->gen != gen || s->leg != leg) {
		w->st.stray++;
		return 0;
	}
	unsigned status = w->m.status;
	uint64_t leg_us = (now - s->leg_ns) / 1000u;
	uint32_t retry_s = 0;
	enum sw__lg_verdict v = sw__lg_on_response(&w->c, s, i, &w->m, &retry_s);
	switch (v) {
	case SW__LG_IGNORE:
		return 0;
	case SW__LG_DONE:
		sw_hist_add(&w->st.leg[s->leg], leg_us);
		sw_hist_add(&w->st.total, (now - s->start_ns) / 1000u);
		w->st.completed++;
		sw_lg_timeline_add(&w->st, now - w->t0, true, 1);
		if (!w->stopping)
			w->st.completed_load++;
		finish(w, i, now);
		return 0;
	case SW__LG_RETRY_AFTER:
		w->st.overloaded++;
		s->tseq++; /* its retransmission and Timer F are off */
		w->last_event = now;
		return sw__wait_push(&w->tm, now + (uint64_t)retry_s * 1000000000u, i, s->tseq);
	case SW__LG_FAIL:
		sw_hist_add(&w->st.leg[s->leg], leg_us);
		w->st.by_status[status < 700 ? status : 699]++;
		fail(w, i, now);
		return 0;
	case SW__LG_AUTH_ERROR:
		w->st.auth_errors++;
		fail(w, i, now);
		return 0;
	case SW__LG_NEXT:
		sw_hist_add(&w->st.leg[0], leg_us);
		s->tseq++;
		s->sends = 1;
		s->provisional = false;
		s->leg_ns = now;
		int err = queue_send(w, s);
		if (!err)
			err = arm(w, i, now, true);
		return err;
	}
	return 0;
}

/* TCP: reads what the connection holds and handles every whole message. */
static int drain_tcp(struct worker *w, uint64_t *now, int *err)
{
	int any = 0;
	for (unsigned round = 0; round < 8; round++) {
		size_t room;
		char *at = sw_stream_space(&w->rs, &room);
		ssize_t n = room ? read(w->fd, at, room) : 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			if (n == 0) /* closed by the server (or a message beyond the buffer) */
				errno = room ? ECONNRESET : EMSGSIZE;
			*err = SW_EIO;
			return any;
		}
		any = 1;
		*now = now_ns();
		sw_stream_added(&w->rs, (size_t)n);
		const char *msg;
		size_t len;
		int r;
		while ((r = sw_stream_next(&w->rs, &msg, &len)) == 1)
			if ((*err = on_datagram(w, msg, len, *now)))
				return any;
		if (r < 0) {
			*err = SW_EPARSE;
			return any;
		}
	}
	return any;
}

/* Reads what the socket holds: 1 when anything came, 0 when empty. */
static int drain_socket(struct worker *w, uint64_t *now, int *err)
{
	if (w->cfg->tcp)
		return drain_tcp(w, now, err);
	int any = 0;
	for (unsigned round = 0; round < 8; round++) {
		for (unsigned k = 0; k < BATCH; k++) {
			w->riov[k] = (struct iovec){ w->rbuf[k], RBUF };
			w->rmsg[k].msg_hdr = (struct msghdr){ .msg_iov = &w->riov[k], .msg_iovlen = 1 };
		}
		int n = recvmmsg(w->fd, w->rmsg, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			if (n < 0 && (errno == ECONNREFUSED || errno == EINTR))
				continue;
			break;
		}
		any = 1;
		*now = now_ns();
		for (int k = 0; k < n; k++) {
			if (w->rmsg[k].msg_hdr.msg_flags & MSG_TRUNC) {
				w->st.malformed++;
				continue;
			}
			*err = on_datagram(w, w->rbuf[k], w->rmsg[k].msg_len, *now);
			if (*err)
				return any;
		}
		if ((unsigned)n < BATCH)
			break;
	}
	return any;
}

void *sw__lg_worker_main(void *arg)
{
	struct worker *w = arg;
	const struct sw_lg_cfg *cfg = w->cfg;
	uint64_t dur_ns = (uint64_t)(cfg->duration_ms ? cfg->duration_ms : 60000u) * 1000000u;
	uint64_t f_ms = w->tm.retx.f_ms;
	uint64_t drain_ns = (uint64_t)(cfg->drain_ms ? cfg->drain_ms : (f_ms < 4000 ? f_ms : 4000)) * 1000000u;
	uint64_t stop_at = 0, now = now_ns();
	bool stopping = false;
	int err = 0;

	for (;;) {
		now = now_ns();
		if ((err = fire_timers(w, now)))
			break;
		if (!stopping) {
			uint64_t due = w->quota ? w->quota : UINT64_MAX;
			if (w->rate > 0) {
				double d = (double)(now - w->t0) * w->rate / 1e9 + 1.0;
				if (d < (double)due)
					due = (uint64_t)d;
			}
			unsigned n = 0;
			while (w->st.started < due && n < 4 * BATCH) {
				if (!w->nfree) {
					w->st.behind++;
					break;
				}
				if ((err = start_one(w, now)))
					break;
				n++;
			}
			if (err)
				break;
			if ((w->quota && w->st.started >= w->quota) || now - w->t0 >= dur_ns ||
			    (w->stop && *w->stop)) {
				stopping = w->stopping = true;
				stop_at = now;
				if (w->stop && *w->stop && drain_ns > 1000000000u)
					drain_ns = 1000000000u;
			}
		}
		if ((err = flush(w)))
			break;
		atomic_store_explicit(&w->pub_started, w->st.started, memory_order_relaxed);
		atomic_store_explicit(&w->pub_completed, w->st.completed, memory_order_relaxed);
		atomic_store_explicit(&w->pub_failed, w->st.failed, memory_order_relaxed);
		bool got = drain_socket(w, &now, &err);
		if (err || (err = flush(w)))
			break;
		if (stopping && w->nfree == w->nslots)
			break;
		if (stopping && now - stop_at >= drain_ns) {
			w->st.unfinished = w->nslots - w->nfree;
			w->st.failed += w->st.unfinished;
			sw_lg_timeline_add(&w->st, now - w->t0, false, w->st.unfinished);
			break;
		}
		if (got)
			continue;
		/* sleep until the next start, timer or limit */
		uint64_t next = sw__timers_next(&w->tm);
		if (!stopping) {
			if (w->rate > 0 && w->nfree) {
				uint64_t t = w->t0 + (uint64_t)((double)w->st.started * 1e9 / w->rate);
				if (t < next)
					next = t;
			}
			if (w->t0 + dur_ns < next)
				next = w->t0 + dur_ns;
		} else if (stop_at + drain_ns < next) {
			next = stop_at + drain_ns;
		}
		now = now_ns();
		if (next <= now)
			continue;
		uint64_t wait = next - now;
		if (wait > 100000000u)
			wait = 100000000u;  /* look at *stop ten times a second */
		struct timespec ts = { (time_t)(wait / 1000000000u), (long)(wait % 1000000000u) };
		struct pollfd pfd = { .fd = w->fd, .events = POLLIN | (w->olen ? POLLOUT : 0) };
		ppoll(&pfd, 1, &ts, NULL);
	}
	w->st.send_s = (double)(w->last_start - w->t0) / 1e9;
	w->st.elapsed_s = (double)((w->last_event > w->t0 ? w->last_event : now) - w->t0) / 1e9;
	w->err = err;
	atomic_store(&w->finished, true);
	return NULL;
}

