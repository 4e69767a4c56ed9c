/* Shared inside lib/loadgen by the call scenario's caller (call.c) and
 * callee (callee.c). */
#ifndef SIPWARDEN_LG_CALL_INT_H
#define SIPWARDEN_LG_CALL_INT_H

#include <time.h>
#include "lg_int.h"

#define MSG_CAP 3072u
#define SDP "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" \
	    "m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"

enum cstate { C_FREE = 0, C_INVITE, C_AUTH, C_BYE };

struct call {
	enum cstate st;
	uint32_t gen, user;
	bool provisional;
	uint8_t sends;
	uint64_t start_ns, leg_ns, next_ns;
	uint32_t interval_ms;
	uint16_t len, ack_len;
	char req[MSG_CAP];         /* the request being retransmitted */
	char ack[1024];            /* the ACK of the 2xx, sent again on a retransmitted 2xx */
};

struct run {
	const struct sw_lg_cfg *cfg;
	struct sw_lg_stats *st;
	struct sw_digest_ctx *dc;
	int cfd, efd;              /* caller and callee (UAS) sockets */
	char caddr[64], eaddr[64]; /* "127.0.0.1:PORT" */
	char host[64];             /* the target "HOST:PORT" for Request-URIs */
	char run_id[9];
	struct call *calls;
	uint32_t ncalls, *freel, nfree;
	uint64_t rnd;
	uint64_t t0;               /* the first start (the timeline's origin) */
	struct sw_msg m;
};

static inline uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline const struct sw_lg_user *user(const struct run *r, uint32_t i)
{
	return &r->cfg->users->v[i % r->cfg->users->n];
}

/* Copies every header of id from m into b. */
static inline void copy_hdrs(struct sw_buf *b, const struct sw_msg *m, enum sw_hdr_id id)
{
	for (const struct sw_hdr *h = sw_msg_hdr(m, id); h; h = sw_msg_hdr_next(m, h))
		sw_print_header(b, sw_hdr_name(id), h->value);
}

/* Sends one datagram on fd (caller or callee socket), counted as a request. */
void sw__call_send(struct run *r, int fd, const char *buf, size_t len);
/* Drains a socket into fn; returns the number of datagrams, -1 when fn failed. */
int sw__call_drain(struct run *r, int fd, int (*fn)(struct run *, const char *, size_t, void *), void *arg);
/* Registers every user from the callee socket (cseq 1), or removes their
 * bindings (cseq 3); SW_EIO when the server does not answer in time. */
int sw__call_register_all(struct run *r, unsigned cseq);
/* Drains the callee socket: answers requests, counts 200s to REGISTER. */
int sw__call_drain_callee(struct run *r, uint32_t *registered, char *scratch);

#endif
