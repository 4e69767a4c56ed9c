/* What the files of lib/server share: the worker and server structures
 * (server.c runs the event loops, UDP and the post queue; tcp.c the TCP
 * connections; send.c sending, and flows), and the count of open TCP
 * connections per source address (srclimit.c), shared by every worker since
 * the kernel spreads one source's connections over the workers' listeners. */
#ifndef SW_SERVER_INT_H
#define SW_SERVER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>
#include "sipwarden/server.h"
#include "sipwarden/transport.h"

struct sw__srclimit;

int sw__srclimit_new(struct sw__srclimit **out);
void sw__srclimit_free(struct sw__srclimit *l);
/* Counts one more connection from the address of sa, unless max are open
 * already (false: refuse it). Any thread. */
bool sw__srclimit_take(struct sw__srclimit *l, const struct sockaddr *sa, unsigned max);
/* One connection from sa closed (after a successful take). */
void sw__srclimit_give(struct sw__srclimit *l, const struct sockaddr *sa);

/* connio.c: a connection's bytes in and out, plain or TLS (OpenSSL over
 * the non-blocking socket, its handshake driven by the event loop).
 * recv: > 0 bytes, 0 the peer closed, SW_EAGAIN, SW_EIO. send: bytes taken
 * (>= 0), SW_EAGAIN when none, SW_EIO. handshake: 1 done, 0 under way (the
 * epoll mask asks for what it waits for), SW_EIO failed. */
struct sw_worker;
struct conn;
ssize_t sw__conn_recv(struct sw_worker *w, struct conn *c, char *buf, size_t cap);
ssize_t sw__conn_send(struct sw_worker *w, struct conn *c, const char *buf, size_t len);
int sw__conn_handshake(struct sw_worker *w, struct conn *c);
/* Sets the connection's epoll mask: always input; output while bytes wait
 * or TLS waits to write. */
void sw__conn_mask(struct sw_worker *w, struct conn *c);
/* Ends the TLS session (a close_notify when it was established). */
void sw__conn_tls_end(struct conn *c);

#define BATCH 32
#define OUTBOX_BYTES 65536u
enum { EV_UDP = 1, EV_LISTEN, EV_CONN, EV_WAKE };
#define EV(kind, idx) (((uint64_t)(kind) << 56) | (uint64_t)(idx))

struct conn {
	uint64_t id;                /* generation << 32 | slot */
	int fd;
	const struct sw_listen *local;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct sw_stream st;
	char *in;
	char *out;                  /* bytes the kernel did not take yet */
	size_t out_len, out_cap;
	uint64_t last_ms;
	uint64_t accepted_ms;       /* for the first-byte timeout; 0 once a byte came */
	uint64_t msg_start_ms;      /* a message is half received since then; 0: none */
	struct ssl_st *ssl;         /* TLS listeners: the session; NULL for TCP */
	bool handshaking;           /* TLS: accepted_ms is the handshake's start */
	bool tls_wants_out;         /* TLS: OpenSSL waits for the socket to be writable */
	uint32_t mask;              /* the epoll events asked for */
};

struct post { void (*fn)(struct sw_worker *, void *); void *arg; };

/* A worker's overload control (overload.c). */
struct sw__ovl {
	bool enabled, overloaded;
	uint64_t delay_ns;
	uint32_t retry_min, retry_max;
	uint64_t above_since;       /* first datagram over delay_ns since one under it */
	uint32_t drops_seen;        /* SO_RXQ_OVFL: the kernel's drop counter */
	uint64_t sec_start_ns;
	uint32_t sec_new, sec_shed, sec_drops;   /* this second */
	uint32_t last_shed, last_admitted, last_drops; /* the last whole second */
	uint32_t ratio_x16;         /* shed per admitted new request, x16, smoothed */
	uint64_t shed, kernel_drops;
	uint64_t rng;
};
void sw__ovl_init(struct sw__ovl *o, const struct sw_server_cfg *cfg, uint64_t seed);
/* Whether a request starts new work: not a response, ACK or CANCEL, no
 * Authorization or Proxy-Authorization, no To tag. On the raw bytes. */
bool sw__ovl_is_new(const char *buf, size_t len);
/* The clock the judge compares receive times with (CLOCK_REALTIME ns):
 * read once per batch of datagrams, not for each. */
uint64_t sw__ovl_now(void);
/* For each UDP datagram: now from sw__ovl_now(), rx_ns its kernel receive
 * time (CLOCK_REALTIME; 0 unknown), drops the socket's drop counter. True:
 * shed it, with *retry seconds of Retry-After. */
bool sw__ovl_judge(struct sw__ovl *o, uint64_t now, uint64_t rx_ns, uint32_t drops, const char *buf, size_t len,
		   uint32_t *retry);
/* A read found the socket empty: no standing queue. */
void sw__ovl_drained(struct sw__ovl *o);

struct sw_worker {
	struct sw_server *srv;
	unsigned index;
	pthread_t thread;
	int ep, wake;
	int *udp, *lsn;             /* per listen address, -1 when not that transport */
	struct conn **conns;        /* slots */
	unsigned nslots, nconns;
	uint32_t generation;
	void *data;
	pthread_mutex_t lock;       /* guards the post queue */
	struct post *posts;
	size_t nposts, cap_posts;
	bool own_posts;             /* the worker posted to itself: run them before sleeping */
	/* recvmmsg buffers */
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_storage from[BATCH];
	char *rbuf;
	/* per datagram: its receive timestamp and the socket's drop counter */
	union { struct cmsghdr align; char b[96]; } ctl[BATCH];
	struct sw__ovl ovl;
	/* UDP responses gathered for one sendmmsg per batch (one socket) */
	struct mmsghdr out[BATCH];
	struct iovec out_iov[BATCH];
	struct sockaddr_storage out_to[BATCH];
	char obuf[OUTBOX_BYTES];
	size_t nout, out_used;
	int out_fd;
	struct sw_server_stats stats;
	struct sw_server_stats shown; /* a copy of stats for other threads, under lock */
	uint64_t last_idle_scan;
};

struct sw_server {
	struct sw_server_cfg cfg;
	struct sw_listen listen[32];
	sw_message_fn on_message;
	sw_tick_fn on_tick;
	sw_idle_fn on_idle;
	void *app;
	unsigned nworkers;
	uint32_t boot;              /* random per run: flows of earlier runs are stale */
	struct sw_worker *w;
	struct sw__srclimit *per_source; /* open TCP connections per address */
	atomic_uint tcp_open;       /* open TCP connections, all workers */
	atomic_int stopping;        /* lock-free: set from a signal handler */
};

/* server.c: monotonic milliseconds; adds fd to the worker's epoll set. */
uint64_t sw__now_ms(void);
int sw__add_fd(struct sw_worker *w, int fd, uint32_t events, uint64_t tag);

/* tcp.c, on the worker's thread: accept on listener li; a connection's
 * epoll events; queue bytes on a connection (SW_EIO when it is lost or
 * holds too much); close one (its slot is freed); once a second, close the
 * idle, the silent and the slow ones. */
void sw__tcp_accept(struct sw_worker *w, unsigned li);
void sw__tcp_ready(struct sw_worker *w, unsigned slot, uint32_t events);
int sw__conn_write(struct sw_worker *w, struct conn *c, const char *buf, size_t len);
void sw__conn_close(struct sw_worker *w, struct conn *c);
void sw__tcp_scan(struct sw_worker *w, uint64_t now);

/* send.c: the UDP outbox */
void sw__outbox_flush(struct sw_worker *w);
/* The worker running on this thread, if any. */
extern __thread struct sw_worker *sw__self;

#endif
