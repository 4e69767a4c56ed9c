/* Worker threads and their event loops: UDP with recvmmsg, the TCP
 * listeners (the connections are in tcp.c), a cross-thread post queue. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "sipwarden/server.h"
#include "server/server_int.h"

uint64_t sw__now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int sw__add_fd(struct sw_worker *w, int fd, uint32_t events, uint64_t tag)
{
	struct epoll_event ev = { .events = events, .data.u64 = tag };
	return epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) ? SW_EIO : 0;
}

static void worker_close_fds(struct sw_worker *w, unsigned nlisten)
{
	for (unsigned i = 0; i < nlisten; i++) {
		if (w->udp && w->udp[i] >= 0)
			close(w->udp[i]);
		if (w->lsn && w->lsn[i] >= 0)
			close(w->lsn[i]);
	}
	if (w->ep >= 0)
		close(w->ep);
	if (w->wake >= 0)
		close(w->wake);
}


static const char *tp_name(enum sw_transport tp)
{
	return tp == SW_TP_UDP ? "udp" : tp == SW_TP_TCP ? "tcp" : "tls";
}

/* What overload control reads per datagram: its receive time and the
 * socket's drop counter (best effort: without them nothing is shed). A
 * larger receive buffer as root (SO_RCVBUFFORCE passes net.core.rmem_max),
 * so that a standing queue is judged here rather than cut by the kernel. */
static void udp_overload_opts(int fd)
{
	int one = 1, size = 8 << 20;
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
}

static int worker_init(struct sw_server *s, struct sw_worker *w, unsigned index, char *why, size_t cap)
{
	unsigned n = s->cfg.nlisten;
	w->srv = s;
	w->index = index;
	uint64_t seed;
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = sw__now_ms() ^ ((uint64_t)index << 32);
	sw__ovl_init(&w->ovl, &s->cfg, seed);
	w->ep = epoll_create1(EPOLL_CLOEXEC);
	w->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	w->udp = malloc(n * sizeof(int));
	w->lsn = malloc(n * sizeof(int));
	/* any worker may hold every connection (the kernel's reuseport hash
	 * does not share them out evenly); tcp_open caps them in all */
	w->nslots = s->cfg.tcp_max_connections;
	w->conns = calloc(w->nslots, sizeof(*w->conns));
	w->rbuf = malloc((size_t)BATCH * (s->cfg.max_message + 1));
	pthread_mutex_init(&w->lock, NULL);
	if (w->ep < 0 || w->wake < 0 || !w->udp || !w->lsn || !w->conns || !w->rbuf) {
		snprintf(why, cap, "out of memory or descriptors: %s", strerror(errno));
		return SW_ENOMEM;
	}
	for (unsigned i = 0; i < n; i++)
		w->udp[i] = w->lsn[i] = -1;
	for (unsigned i = 0; i < n; i++) {
		const struct sw_listen *l = &s->listen[i];
		char addr[80];
		sw_sockaddr_format((const struct sockaddr *)&l->addr, addr, sizeof(addr));
		int rc = 0;
		if (l->tp == SW_TP_UDP) {
			rc = sw_udp_open(l, true, &w->udp[i]);
			if (!rc && s->cfg.overload_enabled)
				udp_overload_opts(w->udp[i]);
			if (!rc)
				rc = sw__add_fd(w, w->udp[i], EPOLLIN, EV(EV_UDP, i));
		} else if (l->tp == SW_TP_TLS && !s->cfg.tls) {
			snprintf(why, cap, "tls:%s: no certificate", addr);
			return SW_EINVAL;
		} else {
			rc = sw_tcp_listen(l, true, &w->lsn[i]);
			if (!rc)
				rc = sw__add_fd(w, w->lsn[i], EPOLLIN, EV(EV_LISTEN, i));
		}
		if (rc) {
			snprintf(why, cap, "%s:%s: %s", tp_name(l->tp), addr, strerror(errno));
			return SW_EIO;
		}
	}
	for (unsigned k = 0; k < BATCH; k++) {
		w->iov[k].iov_base = w->rbuf + (size_t)k * (s->cfg.max_message + 1);
		w->iov[k].iov_len = s->cfg.max_message + 1;
		w->msgs[k].msg_hdr.msg_iov = &w->iov[k];
		w->msgs[k].msg_hdr.msg_iovlen = 1;
	}
	return sw__add_fd(w, w->wake, EPOLLIN, EV(EV_WAKE, 0));
}

int sw_server_new(struct sw_server **out, const struct sw_server_cfg *cfg, sw_message_fn on_message,
		  sw_tick_fn on_tick, void *app, char *why, size_t why_cap)
{
	if (!cfg->nlisten || cfg->nlisten > 32 || !on_message) {
		snprintf(why, why_cap, "nothing to listen on");
		return SW_EINVAL;
	}
	struct sw_server *s = calloc(1, sizeof(*s));
	if (!s)
		return SW_ENOMEM;
	s->cfg = *cfg;
	memcpy(s->listen, cfg->listen, cfg->nlisten * sizeof(*cfg->listen));
	s->cfg.listen = s->listen;
	if (!s->cfg.max_message)
		s->cfg.max_message = 65536;
	if (!s->cfg.tcp_max_connections)
		s->cfg.tcp_max_connections = 1024;
	if (!s->cfg.tcp_idle_timeout)
		s->cfg.tcp_idle_timeout = 300;
	if (!s->cfg.tcp_max_per_source)
		s->cfg.tcp_max_per_source = 100;
	if (!s->cfg.tcp_first_byte_timeout)
		s->cfg.tcp_first_byte_timeout = 10;
	if (!s->cfg.tcp_message_timeout)
		s->cfg.tcp_message_timeout = 10;
	if (!s->cfg.tls_handshake_timeout)
		s->cfg.tls_handshake_timeout = 10;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	s->nworkers = cfg->workers ? cfg->workers : (cpus > 0 ? (unsigned)cpus : 1);
	s->on_message = on_message;
	if (getrandom(&s->boot, sizeof(s->boot), 0) != sizeof(s->boot))
		s->boot = (uint32_t)sw__now_ms();
	s->on_tick = on_tick;
	s->app = app;
	s->w = calloc(s->nworkers, sizeof(*s->w));
	if (!s->w || sw__srclimit_new(&s->per_source)) {
		free(s->w);
		free(s);
		return SW_ENOMEM;
	}
	for (unsigned i = 0; i < s->nworkers; i++)
		s->w[i].ep = s->w[i].wake = -1;
	/* SO_REUSEPORT would let us share a port with another server (which then
	 * gets half the traffic): bind once without it first to find out. */
	for (unsigned i = 0; i < cfg->nlisten; i++) {
		const struct sw_listen *l = &s->listen[i];
		int fd = -1, rc = l->tp == SW_TP_UDP ? sw_udp_open(l, false, &fd) : sw_tcp_listen(l, false, &fd);
		if (rc) {
			char addr[80];
			sw_sockaddr_format((const struct sockaddr *)&l->addr, addr, sizeof(addr));
			snprintf(why, why_cap, "%s:%s: %s", tp_name(l->tp), addr, strerror(errno));
			sw_server_free(s);
			return SW_EIO;
		}
		if (fd >= 0)
			close(fd);
	}
	for (unsigned i = 0; i < s->nworkers; i++) {
		int rc = worker_init(s, &s->w[i], i, why, why_cap);
		if (rc) {
			sw_server_free(s);
			return rc;
		}
	}
	*out = s;
	return 0;
}

static void run_posts(struct sw_worker *w, bool woken);


void sw_server_free(struct sw_server *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < s->nworkers; i++) {
		struct sw_worker *w = &s->w[i];
		if (w->wake >= 0)
			run_posts(w, true); /* completions posted after the workers stopped */
		for (unsigned k = 0; w->conns && k < w->nslots; k++)
			if (w->conns[k])
				sw__conn_close(w, w->conns[k]);
		worker_close_fds(w, s->cfg.nlisten);
		free(w->udp);
		free(w->lsn);
		free(w->conns);
		free(w->rbuf);
		free(w->posts);
		pthread_mutex_destroy(&w->lock);
	}
	free(s->w);
	sw__srclimit_free(s->per_source);
	free(s);
}

unsigned sw_server_workers(const struct sw_server *s) { return s->nworkers; }
void sw_worker_set_data(struct sw_server *s, unsigned index, void *data) { s->w[index].data = data; }
void *sw_worker_data(struct sw_worker *w) { return w->data; }
unsigned sw_worker_index(const struct sw_worker *w) { return w->index; }

/* The receive time (CLOCK_REALTIME ns, 0 when absent) and the drop
 * counter the kernel attached to datagram k. */
static void udp_meta(struct sw_worker *w, unsigned k, uint64_t *rx_ns, uint32_t *drops)
{
	struct msghdr *h = &w->msgs[k].msg_hdr;
	*rx_ns = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;
			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			*rx_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		} else if (c->cmsg_type == SO_RXQ_OVFL) {
			memcpy(drops, CMSG_DATA(c), sizeof(*drops));
		}
	}
}

static void on_udp(struct sw_worker *w, unsigned li)
{
	struct sw_server *s = w->srv;
	bool ovl = w->ovl.enabled;
	for (int round = 0; round < 8; round++) {
		for (unsigned k = 0; k < BATCH; k++) {
			w->msgs[k].msg_hdr.msg_name = &w->from[k];
			w->msgs[k].msg_hdr.msg_namelen = sizeof(w->from[k]);
			w->msgs[k].msg_hdr.msg_flags = 0;
			w->msgs[k].msg_hdr.msg_control = ovl ? w->ctl[k].b : NULL;
			w->msgs[k].msg_hdr.msg_controllen = ovl ? sizeof(w->ctl[k].b) : 0;
		}
		int n = recvmmsg(w->udp[li], w->msgs, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			if (ovl)
				sw__ovl_drained(&w->ovl);
			return;
		}
		uint64_t now_ns = ovl ? sw__ovl_now() : 0; /* one clock read per batch */
		for (int k = 0; k < n; k++) {
			w->stats.received++;
			/* a datagram larger than the cap is handed over cut to the cap and
			 * flagged, so that the application can answer 513 */
			size_t len = w->msgs[k].msg_len;
			bool truncated = len > s->cfg.max_message || (w->msgs[k].msg_hdr.msg_flags & MSG_TRUNC);
			if (truncated) {
				w->stats.framing_errors++;
				len = s->cfg.max_message;
			}
			struct sw_peer p = { .tp = SW_TP_UDP, .addrlen = w->msgs[k].msg_hdr.msg_namelen,
					     .fd = w->udp[li], .local = &s->listen[li], .truncated = truncated };
			memcpy(&p.addr, &w->from[k], p.addrlen);
			if (ovl) {
				uint64_t rx_ns;
				uint32_t drops = w->ovl.drops_seen;
				udp_meta(w, (unsigned)k, &rx_ns, &drops);
				p.shed = sw__ovl_judge(&w->ovl, now_ns, rx_ns, drops, w->iov[k].iov_base, len, &p.retry_after);
			}
			s->on_message(s->app, w, &p, w->iov[k].iov_base, len);
		}
		sw__outbox_flush(w);
		if (n < BATCH) {
			if (ovl)
				sw__ovl_drained(&w->ovl);
			return;
		}
	}
}


/* The worker running on this thread, if any. */
__thread struct sw_worker *sw__self;

static void run_posts(struct sw_worker *w, bool woken)
{
	uint64_t v;
	while (woken && read(w->wake, &v, sizeof(v)) > 0)
		;
	w->own_posts = false;
	pthread_mutex_lock(&w->lock);
	struct post *list = w->posts;
	size_t n = w->nposts;
	w->posts = NULL;
	w->nposts = w->cap_posts = 0;
	pthread_mutex_unlock(&w->lock);
	for (size_t i = 0; i < n; i++)
		list[i].fn(w, list[i].arg);
	free(list);
	sw__outbox_flush(w);
}

int sw_worker_post(struct sw_worker *w, void (*fn)(struct sw_worker *, void *), void *arg)
{
	pthread_mutex_lock(&w->lock);
	if (w->nposts == w->cap_posts) {
		size_t cap = w->cap_posts ? w->cap_posts * 2 : 64;
		struct post *p = realloc(w->posts, cap * sizeof(*p));
		if (!p) {
			pthread_mutex_unlock(&w->lock);
			return SW_ENOMEM;
		}
		w->posts = p;
		w->cap_posts = cap;
	}
	w->posts[w->nposts++] = (struct post){ fn, arg };
	/* one wake-up per batch: the worker drains the whole queue; none when
	 * the worker posts to itself (it runs its posts before it sleeps) */
	bool first = w->nposts == 1;
	if (w == sw__self)
		w->own_posts = true;
	pthread_mutex_unlock(&w->lock);
	if (first && w != sw__self) {
		uint64_t one = 1;
		ssize_t r = write(w->wake, &one, sizeof(one));
		(void)r;
	}
	return 0;
}


/* The counters for sw_server_stats from other threads: copied under the
 * post queue's lock with each tick (the workers count without locks). */
static void publish_stats(struct sw_worker *w)
{
	pthread_mutex_lock(&w->lock);
	w->shown = w->stats;
	pthread_mutex_unlock(&w->lock);
}

static void *worker_main(void *arg)
{
	struct sw_worker *w = arg;
	struct sw_server *s = w->srv;
	struct epoll_event evs[64];
	uint64_t next_tick = sw__now_ms();
	sw__self = w;
	while (!atomic_load_explicit(&s->stopping, memory_order_relaxed)) {
		int n = epoll_wait(w->ep, evs, 64, 100);
		for (int i = 0; i < n; i++) {
			unsigned kind = (unsigned)(evs[i].data.u64 >> 56);
			unsigned idx = (unsigned)(evs[i].data.u64 & 0xffffffffu);
			if (kind == EV_UDP)
				on_udp(w, idx);
			else if (kind == EV_LISTEN)
				sw__tcp_accept(w, idx);
			else if (kind == EV_CONN)
				sw__tcp_ready(w, idx, evs[i].events);
			else if (kind == EV_WAKE)
				run_posts(w, true);
		}
		uint64_t now = sw__now_ms();
		if (now >= next_tick) {
			next_tick = now + 100;
			if (s->on_tick)
				s->on_tick(s->app, w, now);
			sw__outbox_flush(w);
			publish_stats(w);
			if (now - w->last_idle_scan >= 1000) {
				w->last_idle_scan = now;
				sw__tcp_scan(w, now);
			}
		}
		if (s->on_idle)
			s->on_idle(s->app, w);
		if (w->own_posts)
			run_posts(w, false);
	}
	run_posts(w, true); /* completions that arrived while stopping */
	publish_stats(w);
	return NULL;
}

void sw_server_set_idle(struct sw_server *s, sw_idle_fn on_idle)
{
	s->on_idle = on_idle;
}

int sw_server_run(struct sw_server *s)
{
	unsigned started = 0;
	int rc = 0;
	for (; started < s->nworkers; started++) {
		if (pthread_create(&s->w[started].thread, NULL, worker_main, &s->w[started])) {
			rc = SW_EIO;
			atomic_store(&s->stopping, 1);
			break;
		}
		char name[16]; /* what top -H and /proc/PID/task/N/comm show */
		snprintf(name, sizeof name, "sw-worker%u", started % 1000u);
		pthread_setname_np(s->w[started].thread, name);
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(s->w[i].thread, NULL);
	return rc;
}

void sw_server_stop(struct sw_server *s)
{
	int saved = errno; /* async-signal-safe: the interrupted code's errno survives */
	atomic_store(&s->stopping, 1);
	uint64_t one = 1;
	for (unsigned i = 0; i < s->nworkers; i++) {
		ssize_t r = write(s->w[i].wake, &one, sizeof(one));
		(void)r;
	}
	errno = saved;
}

void sw_server_stats(const struct sw_server *s, struct sw_server_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < s->nworkers; i++) {
		pthread_mutex_lock(&s->w[i].lock);
		struct sw_server_stats copy = s->w[i].shown;
		pthread_mutex_unlock(&s->w[i].lock);
		const struct sw_server_stats *t = &copy;
		out->received += t->received;
		out->sent += t->sent;
		out->send_errors += t->send_errors;
		out->tcp_accepted += t->tcp_accepted;
		out->tcp_refused += t->tcp_refused;
		out->tcp_closed += t->tcp_closed;
		out->framing_errors += t->framing_errors;
		out->tcp_refused_source += t->tcp_refused_source;
		out->tcp_timed_out += t->tcp_timed_out;
		out->tls_handshakes += t->tls_handshakes;
		out->tls_failed += t->tls_failed;
		out->tls_handshake_timed_out += t->tls_handshake_timed_out;
		out->shed += s->w[i].ovl.shed;
		out->kernel_drops += s->w[i].ovl.kernel_drops;
	}
}
