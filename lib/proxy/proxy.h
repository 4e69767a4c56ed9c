/* The proxy as the registrar's dispatcher sees it: every request the
 * registrar does not answer itself (all but REGISTER and OPTIONS to the
 * server) and every response come here. See docs/internals/proxy.md. */
#ifndef SW_PROXY_H
#define SW_PROXY_H

#include <stdint.h>
#include "sipwarden/msg.h"
#include "sipwarden/server.h"

struct sw_req;
struct sw_registrar_worker;
struct sw_proxy_worker;

int sw__proxy_worker_new(struct sw_registrar_worker *rw, unsigned worker_index, struct sw_proxy_worker **out);
void sw__proxy_worker_free(struct sw_proxy_worker *pw);
void sw__proxy_request(struct sw_req *q);
void sw__proxy_response(struct sw_registrar_worker *rw, struct sw_worker *w, const struct sw_msg *m,
			uint64_t now_ms);
void sw__proxy_tick(struct sw_registrar_worker *rw, struct sw_worker *w, uint64_t now_ms);
unsigned sw__proxy_transactions(const struct sw_proxy_worker *pw);

/* The recent calls (calls.c), one table per server. */
struct sw_calls;
int sw_calls_new(struct sw_calls **out);
void sw_calls_free(struct sw_calls *c);
/* Writes the calls as a JSON array to path (atomically), when they changed. */
int sw_calls_snapshot(struct sw_calls *c, const char *path);

#endif
