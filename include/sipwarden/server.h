/* sipwarden — the server's I/O: worker threads, each with its own epoll
 * loop, its own SO_REUSEPORT UDP socket and TCP listener per listen address,
 * and its own TCP connections. The application sees whole messages and
 * replies through the worker that received them. docs/internals/server.md */
#ifndef SIPWARDEN_SERVER_H
#define SIPWARDEN_SERVER_H

#include <sys/socket.h>
#include "sipwarden/transport.h"

struct sw_tls;

struct sw_server;
struct sw_worker;

/* Where a message came from, and so how to answer it (tp is TLS for a
 * connection accepted on a tls: listener). */
struct sw_peer {
	enum sw_transport tp;
	struct sockaddr_storage addr;  /* source address and port */
	socklen_t addrlen;
	int fd;                        /* UDP: the receiving socket */
	uint64_t conn_id;              /* TCP: the connection (0 for UDP) */
	const struct sw_listen *local; /* the listen address it arrived on */
	bool truncated;                /* larger than max_message: only its start is given */
	/* UDP overload control: new work the worker cannot take; answer it
	 * 503 with Retry-After: retry_after seconds (unless it is a
	 * retransmission of a transaction already started) */
	bool shed;
	uint32_t retry_after;
};

struct sw_server_cfg {
	const struct sw_listen *listen;
	unsigned nlisten;
	unsigned workers;              /* 0: one per online CPU */
	size_t max_message;            /* TCP framing cap and UDP buffer size */
	unsigned tcp_max_connections;  /* per server; more are refused */
	uint32_t tcp_idle_timeout;     /* seconds without a byte before closing */
	/* hostile clients (0: the default) */
	unsigned tcp_max_per_source;   /* open connections from one address; default 100 */
	uint32_t tcp_first_byte_timeout; /* seconds from accept to the first byte; default 10 */
	uint32_t tcp_message_timeout;  /* seconds from a message's first byte to its last; default 10 */
	/* tls: listeners (the same caps and timeouts as TCP, and these) */
	struct sw_tls *tls;            /* the certificate; needed when a listener is tls: */
	uint32_t tls_handshake_timeout; /* seconds from accept to the handshake's end; default 10 */
	/* UDP overload control (lib/server/overload.c) */
	bool overload_enabled;
	uint32_t overload_delay_ms;    /* queue delay that, standing, sheds new work; 0: 50 */
	uint32_t retry_after;          /* seconds, the least Retry-After of a 503; 0: 5 */
	uint32_t retry_after_max;      /* seconds, the most */
};

/* Called on a worker thread for each whole message. buf is valid only
 * during the call. */
typedef void (*sw_message_fn)(void *app, struct sw_worker *w, const struct sw_peer *from,
			      const char *buf, size_t len);
/* Called on each worker thread about ten times a second. */
typedef void (*sw_tick_fn)(void *app, struct sw_worker *w, uint64_t now_ms);
/* Called on a worker thread after it handled everything one wake-up brought
 * (and after each tick), before it waits again: where the application
 * finishes the batch's work, such as one group commit for all of it. */
typedef void (*sw_idle_fn)(void *app, struct sw_worker *w);

/* Binds every listen address for every worker. On failure writes the
 * reason ("udp:127.0.0.1:5060: Address already in use") to why. */
int sw_server_new(struct sw_server **out, const struct sw_server_cfg *cfg, sw_message_fn on_message,
		  sw_tick_fn on_tick, void *app, char *why, size_t why_cap);
/* Sets the idle callback (before sw_server_run). */
void sw_server_set_idle(struct sw_server *s, sw_idle_fn on_idle);
/* Runs the workers until sw_server_stop(); returns 0 or SW_EIO. */
int sw_server_run(struct sw_server *s);
/* Asks the workers to stop; async-signal-safe. */
void sw_server_stop(struct sw_server *s);
/* Runs what was posted to the workers after they stopped, then closes
 * everything. */
void sw_server_free(struct sw_server *s);
unsigned sw_server_workers(const struct sw_server *s);

/* Per-worker data for the application (set before sw_server_run). */
void sw_worker_set_data(struct sw_server *s, unsigned index, void *data);
void *sw_worker_data(struct sw_worker *w);
unsigned sw_worker_index(const struct sw_worker *w);

/* Sends buf to a peer: UDP to the address in `to` through its socket, TCP on
 * its connection (if still open). Worker thread only. 0 or SW_EIO/ENOTFOUND. */
int sw_worker_send(struct sw_worker *w, const struct sw_peer *to, const char *buf, size_t len);
/* Closes the connection a message came on (TCP; nothing for UDP or a
 * connection already gone), e.g. from within the message callback. Worker
 * thread only. */
void sw_worker_close(struct sw_worker *w, const struct sw_peer *p);
/* Runs fn(w, arg) on the worker's thread soon; callable from any thread
 * (e.g. a store's completion). 0 or SW_ENOMEM. */
int sw_worker_post(struct sw_worker *w, void (*fn)(struct sw_worker *w, void *arg), void *arg);

/* A flow: how to reach a peer again later, from any worker (the idea of
 * RFC 5626): the transport, the listen address it arrived on, the peer's
 * address and, for TCP, the worker and the connection. */
struct sw_flow {
	enum sw_transport tp;
	uint16_t listen;               /* index of the listen address */
	uint16_t worker;               /* TCP: the worker that owns the connection */
	uint64_t conn_id;              /* TCP: the connection; 0 when none is known */
	struct sockaddr_storage addr;
	socklen_t addrlen;
};

/* The flow a message came in on. */
void sw_worker_flow_of(const struct sw_worker *w, const struct sw_peer *p, struct sw_flow *f);
/* Sends buf on a flow from any worker's thread (worker thread only). UDP
 * leaves from this worker's socket of the flow's listen address (or of the
 * first UDP one); TCP goes on the flow's connection, handed to the worker
 * that owns it when that is another one. Returns 0 when sent or handed on,
 * SW_ENOTFOUND when the connection is gone, SW_EIO. When a handed-on
 * message cannot be sent, fail(w, arg) runs later on this worker's thread
 * (fail may be NULL). */
int sw_worker_send_flow(struct sw_worker *w, const struct sw_flow *f, const char *buf, size_t len,
			void (*fail)(struct sw_worker *w, void *arg), void *arg);
/* A flow as text, for a binding's received field: "udp 127.0.0.1 5071 l0",
 * "tcp 127.0.0.1 40312 l1 w0 c4294967297 b1a2b3c4" (b: the server run that
 * made the connection). Returns out. */
const char *sw_flow_format(const struct sw_flow *f, uint32_t boot, char *out, size_t cap);
/* Parses sw_flow_format's text; a TCP connection of another server run
 * (boot) gets conn_id 0. 0 or SW_EPARSE. */
int sw_flow_parse(const char *s, uint32_t boot, struct sw_flow *f);
/* This server run's random identifier. */
uint32_t sw_worker_boot(const struct sw_worker *w);
/* The listen addresses (index as in sw_flow.listen). */
const struct sw_listen *sw_worker_listens(const struct sw_worker *w, unsigned *n);
/* Another worker of the same server (NULL when index is out of range). */
struct sw_worker *sw_worker_sibling(struct sw_worker *w, unsigned index);

/* A worker's overload control over its last whole second (worker thread
 * only): new requests shed with 503 and admitted while overloaded, datagrams
 * the kernel dropped (receive buffer full), the Retry-After base in force;
 * second_ns (CLOCK_REALTIME) tells one second from the next. */
struct sw_overload_second {
	bool overloaded;
	uint32_t shed, admitted, kernel_drops, retry_after;
	uint64_t second_ns;
};
void sw_worker_overload(const struct sw_worker *w, struct sw_overload_second *out);
/* The application's own overload signal (worker thread): for a new request
 * while its oldest unfinished work (the registrar: durable writes) has
 * waited waiting_ms. True when that is over ten times queue_delay (T1, 500 ms,
 * by default: past it phones retransmit their answered challenges): shed
 * it, with *retry seconds of Retry-After (counted as shed); false: take it
 * (counted as admitted). Always false when overload control is off. */
bool sw_worker_shed_backlog(struct sw_worker *w, uint64_t waiting_ms, uint32_t *retry);
/* queue_delay in ms; 0 when overload control is off. */
uint32_t sw_worker_queue_delay_ms(const struct sw_worker *w);

/* Counters, summed over the workers (as of their last tick, at most 0.1 s
 * old, while running). Any thread. */
struct sw_server_stats {
	uint64_t received, sent, send_errors, tcp_accepted, tcp_refused, tcp_closed, framing_errors;
	uint64_t tcp_refused_source;   /* of tcp_refused: the source had tcp_max_per_source open */
	uint64_t tcp_timed_out;        /* closed for first_byte_timeout or message_timeout */
	uint64_t tls_handshakes, tls_failed; /* TLS handshakes done, failed */
	uint64_t tls_handshake_timed_out; /* of tcp_timed_out: in the handshake */
	uint64_t shed;                 /* UDP requests marked for 503 (overload control) */
	uint64_t kernel_drops;         /* datagrams the kernel dropped: receive buffer full */
};
void sw_server_stats(const struct sw_server *s, struct sw_server_stats *out);

#endif
