/* The proxy as the registrar's dispatcher sees it: every request the
 * registrar does not answer itself (all but REGISTER and OPTIONS to the
 * server) and every response come here. See docs/internals/proxy.md. */
#ifndef SW_PROXY_H
#define SW_PROXY_H

#include <stdint.h>
#include "sipwarden/msg.h"
#include "sipwarden/proxy.h"
#include "sipwarden/server.h"

/* The functions of sw_proxy_next(); arg: the struct sw_calls. */
int sw__proxy_worker_new(void *arg, struct sw_registrar_worker *rw, unsigned worker_index,
			 struct sw_proxy_worker **out);
void sw__proxy_worker_free(struct sw_proxy_worker *pw);
void sw__proxy_request(struct sw_req *q);
void sw__proxy_response(struct sw_registrar_worker *rw, struct sw_worker *w, const struct sw_msg *m,
			uint64_t now_ms);
void sw__proxy_tick(struct sw_registrar_worker *rw, struct sw_worker *w, uint64_t now_ms);
unsigned sw__proxy_transactions(const struct sw_proxy_worker *pw);

#endif
