/* The registration load's set-up and run: one worker per --threads, each
 * with its socket and slots, started together, watched for progress and
 * merged at the end (the loop itself is in engine.c). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <unistd.h>
#include "sipwarden/transport.h"
#include "worker.h"

/* Calls cfg->progress four times a second until every worker finished. */
static void watch(const struct sw_lg_cfg *cfg, struct worker *w, unsigned n, uint64_t t0)
{
	for (;;) {
		struct sw_lg_progress p = { 0 };
		unsigned running = 0;
		for (unsigned i = 0; i < n; i++) {
			running += !atomic_load(&w[i].finished);
			p.started += atomic_load_explicit(&w[i].pub_started, memory_order_relaxed);
			p.completed += atomic_load_explicit(&w[i].pub_completed, memory_order_relaxed);
			p.failed += atomic_load_explicit(&w[i].pub_failed, memory_order_relaxed);
		}
		if (!running)
			return;
		p.elapsed_s = (double)(now_ns() - t0) / 1e9;
		cfg->progress(cfg->progress_arg, &p);
		struct timespec ts = { 0, 250000000 };
		nanosleep(&ts, NULL);
	}
}

static int open_socket(struct worker *w)
{
	const struct sw_lg_cfg *cfg = w->cfg;
	/* TCP connects blocking (the handshake is not part of the load), then
	 * goes non-blocking */
	int fd = socket(cfg->target.ss_family,
			(cfg->tcp ? SOCK_STREAM : SOCK_DGRAM | SOCK_NONBLOCK) | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return SW_EIO;
	if (cfg->tcp) {
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	int sz = 4 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	struct sockaddr_storage local;
	socklen_t llen = sizeof(local);
	if (connect(fd, (const struct sockaddr *)&cfg->target, cfg->target_len) ||
	    getsockname(fd, (struct sockaddr *)&local, &llen)) {
		int e = errno;
		close(fd);
		errno = e;
		return SW_EIO;
	}
	if (cfg->tcp && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)) {
		close(fd);
		return SW_EIO;
	}
	sw_sockaddr_format((const struct sockaddr *)&local, w->c.local, sizeof(w->c.local));
	char host[56];
	sw_sockaddr_host((const struct sockaddr *)&local, host, sizeof(host));
	const char *tp = cfg->tcp ? ";transport=tcp" : "";
	if (local.ss_family == AF_INET6)
		snprintf(w->c.contact_host, sizeof(w->c.contact_host), "[%s]%s", host, tp);
	else
		snprintf(w->c.contact_host, sizeof(w->c.contact_host), "%s%s", host, tp);
	w->fd = fd;
	return 0;
}

static void worker_free(struct worker *w)
{
	if (w->fd >= 0)
		close(w->fd);
	free(w->slots);
	free(w->freel);
	free(w->rbuf);
	free(w->obuf);
	free(w->rsbuf);
	sw__timers_free(&w->tm);
	sw_digest_ctx_free(w->c.dc);
}

static int worker_init(struct worker *w, const struct sw_lg_cfg *cfg, unsigned t, unsigned nt,
		       const char *run_id)
{
	w->cfg = cfg;
	w->fd = -1;
	w->c.cfg = cfg;
	w->c.thread = t;
	w->c.via_tp = cfg->tcp ? "TCP" : "UDP";
	snprintf(w->c.run_id, sizeof(w->c.run_id), "%s", run_id);
	sw_lg_stats_init(&w->st);
	sw__timers_init(&w->tm, cfg->t1_ms);
	w->first = t;
	w->stride = nt;
	w->nusers = (uint32_t)((cfg->users->n - t + nt - 1) / nt);
	if (cfg->count)
		w->quota = cfg->count / nt + (t < cfg->count % nt);
	w->rate = cfg->rate / nt;
	w->nslots = cfg->max_inflight ? cfg->max_inflight : 16384u;
	w->slots = calloc(w->nslots, sizeof(*w->slots));
	w->freel = malloc(w->nslots * sizeof(*w->freel));
	w->rbuf = malloc(BATCH * sizeof(*w->rbuf));
	if (!w->slots || !w->freel || !w->rbuf)
		return SW_ENOMEM;
	if (cfg->tcp) {
		w->ocap = 64u * 1024u;
		w->obuf = malloc(w->ocap);
		w->rsbuf = malloc(TCP_RBUF);
		if (!w->obuf || !w->rsbuf)
			return SW_ENOMEM;
		sw_stream_init(&w->rs, w->rsbuf, TCP_RBUF);
	}
	/* hand out low slot numbers first: their memory stays warm */
	for (uint32_t i = 0; i < w->nslots; i++)
		w->freel[i] = w->nslots - 1 - i;
	w->nfree = w->nslots;
	if (getrandom(&w->c.rnd, sizeof(w->c.rnd), 0) != sizeof(w->c.rnd) || !w->c.rnd)
		w->c.rnd = 0x9e3779b97f4a7c15ull ^ t;
	int err = sw_digest_ctx_new(&w->c.dc);
	if (!err)
		err = open_socket(w);
	return err;
}

int sw_lg_run(const struct sw_lg_cfg *cfg, volatile int *stop, struct sw_lg_stats *st)
{
	if (cfg->scenario == SW_LG_CALL)
		return sw__lg_call_run(cfg, stop, st);
	unsigned nt = cfg->threads ? cfg->threads : 1;
	int err = 0;
	if (!cfg->users || !cfg->users->n || cfg->users->n > UINT32_MAX || cfg->rate < 0 ||
	    !cfg->target_len)
		return SW_EINVAL;
	if (nt > cfg->users->n)
		nt = (unsigned)cfg->users->n;
	if (cfg->count && nt > cfg->count)
		nt = (unsigned)cfg->count;
	struct worker *w = calloc(nt, sizeof(*w));
	if (!w)
		return SW_ENOMEM;
	char run_id[9];
	if (sw_random_token(run_id, 8))
		snprintf(run_id, sizeof(run_id), "%08x", (unsigned)getpid());
	unsigned made = 0, started = 0;
	for (; made < nt; made++) {
		w[made].fd = -1;
		if ((err = worker_init(&w[made], cfg, made, nt, run_id))) {
			made++;
			goto out;
		}
	}
	uint64_t t0 = now_ns();
	double dur = (cfg->duration_ms ? cfg->duration_ms : 60000u) / 1e3;
	double send_s = dur;
	if (cfg->count && cfg->rate > 0 && (double)cfg->count / cfg->rate < send_s)
		send_s = (double)cfg->count / cfg->rate;
	for (; started < nt; started++) {
		w[started].t0 = t0;
		w[started].st.slot_ms = sw_lg_slot_ms(cfg);
		w[started].stop = stop;
		w[started].half_ns = (uint64_t)(send_s * 5e8);
		if (pthread_create(&w[started].th, NULL, sw__lg_worker_main, &w[started])) {
			err = SW_ENOMEM;
			break;
		}
	}
	if (cfg->progress)
		watch(cfg, w, started, t0);
	sw_lg_stats_init(st);
	st->target_rate = cfg->rate;
	st->slot_ms = sw_lg_slot_ms(cfg);
	for (unsigned i = 0; i < started; i++) {
		pthread_join(w[i].th, NULL);
		if (w[i].err && !err)
			err = w[i].err;
		sw_lg_stats_merge(st, &w[i].st);
		if (w[i].st.elapsed_s > st->elapsed_s)
			st->elapsed_s = w[i].st.elapsed_s;
		if (w[i].st.send_s > st->send_s)
			st->send_s = w[i].st.send_s;
	}
	if (st->elapsed_s > 0)
		st->rate = (double)st->completed / st->elapsed_s;
	if (st->send_s > 0 && st->started > 1)
		st->start_rate = (double)(st->started - 1) / st->send_s;
	st->rate_held = cfg->rate <= 0 || st->started <= 1 ||
		       (st->start_rate >= 0.95 * cfg->rate && !st->behind);
out:
	for (unsigned i = 0; i < made; i++)
		worker_free(&w[i]);
	free(w);
	return err;
}
