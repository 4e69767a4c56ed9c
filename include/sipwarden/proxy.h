/* sipwarden — the authenticating proxy (RFC 3261 §16) as a server puts it
 * together: the table of recent calls its workers share, and the proxy as
 * the registrar's next stage. See docs/internals/proxy.md. */
#ifndef SIPWARDEN_PROXY_H
#define SIPWARDEN_PROXY_H

#include "sipwarden/registrar.h"

/* The recent calls: the calls in progress and the last ones ended. */
struct sw_calls;
int sw_calls_new(struct sw_calls **out);
void sw_calls_free(struct sw_calls *c);
/* Writes the calls (JSON) to path, atomically, when they changed since the
 * last call; `sipwarden calls` reads it. Any one thread, about once a second. */
int sw_calls_snapshot(struct sw_calls *c, const char *path);

/* The proxy as the registrar's next stage (sw_registrar_new), recording
 * its calls in calls (not owned; it must outlive the registrar). */
void sw_proxy_next(struct sw_calls *calls, struct sw_registrar_next *out);

#endif
