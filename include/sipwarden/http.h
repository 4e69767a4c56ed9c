/* sipwarden — the operator's HTTP listener of `sipwarden serve`
 * (libmicrohttpd): Prometheus /metrics, a live web page and the JSON API
 * behind it (the same data as the CLI's --json). Read only: it never
 * changes anything and never shows a password or an HA1. See
 * docs/internals/http.md and sipwarden-serve(1).
 *
 * Threads: its own (libmicrohttpd's, and one that samples the decision
 * counters once a second). It reads the store through the store's reader
 * connections, the registrar's location index and the ban table through
 * their thread-safe calls, and the metrics' atomics. */
#ifndef SIPWARDEN_HTTP_H
#define SIPWARDEN_HTTP_H

#include <sys/socket.h>
#include "sipwarden/common.h"

struct sw_store;
struct sw_registrar;
struct sw_ban;

struct sw_http_cfg {
	struct sockaddr_storage addr;    /* where to listen */
	socklen_t addrlen;
	const char *token_file;          /* NULL or "": no token (loopback only) */
	struct sw_store *st;
	struct sw_registrar *reg;        /* NULL: no location index (bindings gauge left out) */
	struct sw_ban *ban;              /* NULL: bans disabled */
	const char *const *domains;      /* the served domains: a search for a bare user tries each */
	unsigned ndomains;
	const char *version;
};

struct sw_http;

/* Reads the token (refusing a missing, unreadable or short one, and a
 * non-loopback address without one), binds the address and starts serving.
 * On failure writes a one-line reason to why. 0, SW_EINVAL (token or
 * address), SW_EIO (cannot bind), SW_ENOMEM. */
int sw_http_start(struct sw_http **out, const struct sw_http_cfg *cfg, char *why, size_t why_cap);
/* Stops serving (in-flight requests finish) and frees. NULL is allowed. */
void sw_http_stop(struct sw_http *h);
/* The address and port bound (to learn port 0's). */
int sw_http_port(const struct sw_http *h);

#endif
