/* What the files of lib/http share: the listener's state, the growing
 * output of one response, and the request as the endpoints see it. */
#ifndef SW_HTTP_INT_H
#define SW_HTTP_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include "sipwarden/buf.h"
#include "sipwarden/http.h"

#define SW_HTTP_TOKEN_MAX 256
#define SW_HTTP_DOMAINS_MAX 64

struct sw_http {
	struct sw_http_cfg cfg;
	char domains[SW_HTTP_DOMAINS_MAX][256];
	const char *domain_ptrs[SW_HTTP_DOMAINS_MAX];
	char token[SW_HTTP_TOKEN_MAX + 1]; /* "" when none */
	size_t token_len;
	bool loopback;
	int fd;                         /* the listening socket (libmicrohttpd closes it) */
	int port;
	struct MHD_Daemon *d;
	double start_time;
	pthread_t sampler;
	bool sampler_started;
	pthread_mutex_t stop_lock;
	pthread_cond_t stop_cond;
	bool stopping;
};

/* A response body that grows (heap); oom once an allocation failed. */
struct out {
	char *p;
	size_t len, cap;
	bool oom;
};
void sw__out_add(struct out *o, const char *p, size_t n);
void sw__out_adds(struct out *o, const char *s);
/* Appends what b holds (a record rendered into a stack buffer). */
void sw__out_buf(struct out *o, const struct sw_buf *b);
void sw__out_json_str(struct out *o, const char *s);

/* One API request: a lookup of its query arguments, and the answer. */
struct sw_http_req {
	struct sw_http *h;
	const char *(*arg)(void *ctx, const char *name); /* decoded, NULL when absent */
	void *ctx;
	unsigned status;                /* 200 unless an endpoint fails */
	char error[256];                /* the reason when status != 200 */
	struct out body;                /* JSON */
};

/* api.c: runs the endpoint of path (under /api/) into r; false when there
 * is none (404). */
bool sw__http_api(struct sw_http_req *r, const char *path);
/* The Prometheus exposition into r->body (text). */
void sw__http_metrics(struct sw_http_req *r);

/* The embedded static files of the web page (generated from lib/http/www
 * at build time by scripts/embed-assets.sh). */
struct sw_http_asset {
	const char *path;               /* "/app.js" */
	const char *type;               /* Content-Type */
	const unsigned char *data;
	size_t len;
};
extern const struct sw_http_asset sw__http_assets[];
extern const size_t sw__http_nassets;

#endif
