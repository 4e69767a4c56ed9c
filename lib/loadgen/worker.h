/* Shared inside lib/loadgen between the registration load's loop
 * (engine.c) and its set-up and run (run.c): one thread's state. */
#ifndef SIPWARDEN_LG_WORKER_H
#define SIPWARDEN_LG_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include "lg_int.h"

#define BATCH 64u
#define RBUF 4096u

struct worker {
	const struct sw_lg_cfg *cfg;
	volatile int *stop;
	struct sw__lg_ctx c;
	int fd;
	struct sw__slot *slots;
	uint32_t nslots, *freel, nfree;
	struct sw__timers tm;
	/* the users of this thread: first, first + stride, ... (nusers of them) */
	uint32_t first, stride, nusers;
	uint64_t quota;              /* 0: unlimited */
	double rate;                 /* per second; 0: no pacing */
	uint64_t t0, half_ns, last_event, last_start;
	bool stopping;               /* no more starts: completions no longer count as goodput */
	struct sw_lg_stats st;
	struct mmsghdr smsg[BATCH];
	struct iovec siov[BATCH];
	unsigned nsend;
	struct mmsghdr rmsg[BATCH];
	struct iovec riov[BATCH];
	char (*rbuf)[RBUF];
	struct sw_msg m;
	/* TCP: bytes waiting to be written, and the framing of what comes */
	char *obuf;
	size_t olen, ocap;
	struct sw_stream rs;
	char *rsbuf;
	pthread_t th;
	int err;
	/* for the progress display: copies of the counters, and the end */
	_Atomic uint64_t pub_started, pub_completed, pub_failed;
	atomic_bool finished;
};

#define TCP_RBUF (256u * 1024u)

static inline uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The thread's loop (pthread start routine); w->err says how it ended. */
void *sw__lg_worker_main(void *arg);

#endif
