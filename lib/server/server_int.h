/* Server internals shared by server.c (the loop) and send.c (sending). */
#ifndef SW_SERVER_INT_H
#define SW_SERVER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include "sipwarden/server.h"

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
};

struct post { void (*fn)(struct sw_worker *, void *); void *arg; };

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
	/* UDP responses gathered for one sendmmsg per batch (one socket) */
	struct mmsghdr out[BATCH];
	struct iovec out_iov[BATCH];
	struct sockaddr_storage out_to[BATCH];
	char obuf[OUTBOX_BYTES];
	size_t nout, out_used;
	int out_fd;
	struct sw_server_stats stats;
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
	atomic_int stopping;        /* lock-free: set from a signal handler */
};

uint64_t sw__now_ms(void);
int sw__conn_write(struct sw_worker *w, struct conn *c, const char *buf, size_t len);
void sw__conn_close(struct sw_worker *w, struct conn *c);
void sw__outbox_flush(struct sw_worker *w);
/* The worker running on this thread, if any. */
extern __thread struct sw_worker *sw__self;

#endif
