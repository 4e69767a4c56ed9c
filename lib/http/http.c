/* The HTTP listener (libmicrohttpd, its own threads): the token, the Host
 * check, routing to the static page, /metrics and the API, JSON errors, and
 * the thread that samples the decision counters for the chart. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include "sipwarden/config.h"
#include "sipwarden/metrics.h"
#include "http/http_int.h"

/* The page loads nothing from elsewhere and runs no inline script: whatever
 * SIP traffic put in a user agent or a user name cannot run as code. */
static const char csp[] = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
			  "img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

void sw__out_add(struct out *o, const char *p, size_t n)
{
	if (o->oom)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 4096;
		while (cap < o->len + n + 1)
			cap *= 2;
		char *q = realloc(o->p, cap);
		if (!q) {
			o->oom = true;
			return;
		}
		o->p = q;
		o->cap = cap;
	}
	memcpy(o->p + o->len, p, n);
	o->len += n;
	o->p[o->len] = '\0';
}

void sw__out_adds(struct out *o, const char *s) { sw__out_add(o, s, strlen(s)); }

void sw__out_buf(struct out *o, const struct sw_buf *b)
{
	if (b->overflow)
		o->oom = true; /* a record that does not fit: better an error than a cut JSON */
	else
		sw__out_add(o, b->p, b->len);
}

void sw__out_json_str(struct out *o, const char *s)
{
	char mem[2048];
	struct sw_buf b;
	sw_buf_init(&b, mem, sizeof(mem));
	sw_buf_add_json_str(&b, s, strlen(s));
	sw__out_buf(o, &b);
}

/* ---- the token ------------------------------------------------------------- */

static int read_token(struct sw_http *h, const char *path, char *why, size_t cap)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(why, cap, "http_token_file %s: %s", path, strerror(errno));
		return SW_EINVAL;
	}
	char line[SW_HTTP_TOKEN_MAX + 4] = "";
	bool got = fgets(line, sizeof(line), f) != NULL;
	fclose(f);
	size_t n = got ? strcspn(line, "\r\n") : 0;
	line[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)line[i] <= ' ' || (unsigned char)line[i] >= 0x7f) {
			snprintf(why, cap, "http_token_file %s: the token must be printable ASCII without blanks", path);
			return SW_EINVAL;
		}
	if (n < 16 || n > SW_HTTP_TOKEN_MAX) {
		snprintf(why, cap, "http_token_file %s: the first line must hold a token of 16 to %d characters "
			 "(e.g. openssl rand -hex 32 > %s)", path, SW_HTTP_TOKEN_MAX, path);
		return SW_EINVAL;
	}
	memcpy(h->token, line, n + 1);
	h->token_len = n;
	OPENSSL_cleanse(line, sizeof(line));
	return 0;
}

static bool authorized(struct sw_http *h, struct MHD_Connection *c)
{
	if (!h->token_len)
		return true;
	const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (!a || strncasecmp(a, "Bearer ", 7))
		return false;
	a += 7;
	while (*a == ' ')
		a++;
	size_t n = strlen(a);
	while (n && a[n - 1] == ' ')
		n--;
	return n == h->token_len && CRYPTO_memcmp(a, h->token, n) == 0;
}

/* Without a token the listener is on loopback, where a web page elsewhere
 * could still reach it through DNS rebinding (its own name resolving to
 * 127.0.0.1): only a Host that is an address or localhost is served. */
static bool host_ok(struct sw_http *h, struct MHD_Connection *c)
{
	if (h->token_len)
		return true;
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	if (!host)
		return true; /* HTTP/1.0 */
	char name[128];
	size_t n = strlen(host);
	if (n >= sizeof(name))
		return false;
	memcpy(name, host, n + 1);
	char *end = name[0] == '[' ? strchr(name, ']') : strrchr(name, ':');
	if (name[0] == '[') {
		if (!end)
			return false;
		*end = '\0';
		struct in6_addr a6;
		return inet_pton(AF_INET6, name + 1, &a6) == 1;
	}
	if (end)
		*end = '\0';
	struct in_addr a4;
	return !strcasecmp(name, "localhost") || inet_pton(AF_INET, name, &a4) == 1;
}

/* ---- responses ------------------------------------------------------------- */

static enum MHD_Result send_body(struct MHD_Connection *c, unsigned status, const char *type, struct out *o)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(o->len, o->p ? o->p : (char *)"",
								 o->p ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		free(o->p);
		return MHD_NO;
	}
	o->p = NULL;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Content-Security-Policy", csp);
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	if (status == 401)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"sipwarden\"");
	if (status == 405)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* {"error":"...","status":N} */
static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
	struct out o = { 0 };
	char mem[64];
	sw__out_adds(&o, "{\"error\":");
	sw__out_json_str(&o, msg);
	snprintf(mem, sizeof(mem), ",\"status\":%u}\n", status);
	sw__out_adds(&o, mem);
	if (o.oom) {
		free(o.p);
		return MHD_NO;
	}
	return send_body(c, status, "application/json", &o);
}

static enum MHD_Result send_asset(struct MHD_Connection *c, const struct sw_http_asset *a)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(a->len, (void *)a->data, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, a->type);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Content-Security-Policy", csp);
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static const struct sw_http_asset *asset(const char *url)
{
	/* the pages are one document; its script reads the path */
	if (!strcmp(url, "/") || !strcmp(url, "/user") || !strcmp(url, "/search"))
		url = "/index.html";
	for (size_t i = 0; i < sw__http_nassets; i++)
		if (!strcmp(sw__http_assets[i].path, url))
			return &sw__http_assets[i];
	return NULL;
}

static const char *conn_arg(void *ctx, const char *name)
{
	return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	(void)version;
	(void)upload;
	(void)upload_size;
	(void)con_cls;
	static _Thread_local bool named;
	if (!named) { /* what top -H shows */
		pthread_setname_np(pthread_self(), "sw-http");
		named = true;
	}
	struct sw_http *h = cls;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return send_error(c, 405, "only GET and HEAD: this interface changes nothing");
	if (!host_ok(h, c))
		return send_error(c, 403, "the Host header must be an address or localhost "
					  "(or set http_token_file)");
	const struct sw_http_asset *a = asset(url);
	if (a)
		return send_asset(c, a);
	bool api = !strncmp(url, "/api/", 5), metrics = !strcmp(url, "/metrics");
	if (!api && !metrics)
		return send_error(c, 404, "no such page");
	if (!authorized(h, c))
		return send_error(c, 401, "a valid 'Authorization: Bearer TOKEN' header is required "
					  "(the token is in http_token_file)");
	struct sw_http_req r = { .h = h, .arg = conn_arg, .ctx = c, .status = 200 };
	if (metrics) {
		sw__http_metrics(&r);
	} else if (!sw__http_api(&r, url + 5)) {
		free(r.body.p);
		return send_error(c, 404, "no such API endpoint");
	}
	if (r.body.oom) {
		r.status = 500;
		snprintf(r.error, sizeof(r.error), "out of memory");
	}
	if (r.status != 200) {
		free(r.body.p);
		return send_error(c, r.status, r.error);
	}
	return send_body(c, 200, metrics ? "text/plain; version=0.0.4; charset=utf-8" : "application/json",
			 &r.body);
}

/* ---- life ------------------------------------------------------------------ */

/* Once a second: the decision totals at each minute's start (the chart). */
static void *sampler(void *arg)
{
	struct sw_http *h = arg;
	pthread_mutex_lock(&h->stop_lock);
	while (!h->stopping) {
		sw_metrics_history_tick((int64_t)time(NULL));
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&h->stop_cond, &h->stop_lock, &ts);
	}
	pthread_mutex_unlock(&h->stop_lock);
	return NULL;
}

static int bind_socket(struct sw_http *h, char *why, size_t cap)
{
	const struct sockaddr *sa = (const struct sockaddr *)&h->cfg.addr;
	char text[80];
	sw_sockaddr_format(sa, text, sizeof(text));
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, sa, h->cfg.addrlen) || listen(fd, 64)) {
		snprintf(why, cap, "http_listen %s: %s", text, strerror(errno));
		if (fd >= 0)
			close(fd);
		return SW_EIO;
	}
	struct sockaddr_storage got;
	socklen_t gl = sizeof(got);
	if (getsockname(fd, (struct sockaddr *)&got, &gl) == 0)
		h->port = sw_sockaddr_port((const struct sockaddr *)&got);
	h->fd = fd;
	return 0;
}

int sw_http_start(struct sw_http **out, const struct sw_http_cfg *cfg, char *why, size_t why_cap)
{
	struct sw_http *h = calloc(1, sizeof(*h));
	if (!h)
		return SW_ENOMEM;
	h->cfg = *cfg;
	h->fd = -1;
	for (unsigned i = 0; i < cfg->ndomains && i < SW_HTTP_DOMAINS_MAX; i++) {
		snprintf(h->domains[i], sizeof(h->domains[i]), "%s", cfg->domains[i]);
		h->domain_ptrs[i] = h->domains[i];
	}
	h->cfg.domains = h->domain_ptrs;
	h->cfg.ndomains = cfg->ndomains < SW_HTTP_DOMAINS_MAX ? cfg->ndomains : SW_HTTP_DOMAINS_MAX;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	h->start_time = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
	pthread_mutex_init(&h->stop_lock, NULL);
	pthread_cond_init(&h->stop_cond, NULL);
	h->loopback = sw_addr_is_loopback((const struct sockaddr *)&cfg->addr);
	int rc = 0;
	if (cfg->token_file && cfg->token_file[0])
		rc = read_token(h, cfg->token_file, why, why_cap);
	else if (!h->loopback) {
		char text[80];
		sw_sockaddr_format((const struct sockaddr *)&cfg->addr, text, sizeof(text));
		snprintf(why, why_cap, "http_listen %s is not a loopback address: set http_token_file", text);
		rc = SW_EINVAL;
	}
	if (!rc)
		rc = bind_socket(h, why, why_cap);
	if (!rc) {
		unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD;
		if (cfg->addr.ss_family == AF_INET6)
			flags |= MHD_USE_IPv6;
		h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_LISTEN_SOCKET, h->fd,
					MHD_OPTION_THREAD_POOL_SIZE, 2u, MHD_OPTION_CONNECTION_LIMIT, 64u,
					MHD_OPTION_PER_IP_CONNECTION_LIMIT, 16u, MHD_OPTION_CONNECTION_TIMEOUT, 15u,
					MHD_OPTION_END);
		if (!h->d) {
			snprintf(why, why_cap, "http_listen: libmicrohttpd could not start");
			close(h->fd);
			rc = SW_EIO;
		}
	}
	if (!rc && pthread_create(&h->sampler, NULL, sampler, h) == 0) {
		h->sampler_started = true;
		pthread_setname_np(h->sampler, "sw-http-sample");
	}
	if (rc) {
		OPENSSL_cleanse(h->token, sizeof(h->token));
		pthread_mutex_destroy(&h->stop_lock);
		pthread_cond_destroy(&h->stop_cond);
		free(h);
		return rc;
	}
	*out = h;
	return 0;
}

int sw_http_port(const struct sw_http *h) { return h->port; }

void sw_http_stop(struct sw_http *h)
{
	if (!h)
		return;
	if (h->sampler_started) {
		pthread_mutex_lock(&h->stop_lock);
		h->stopping = true;
		pthread_cond_signal(&h->stop_cond);
		pthread_mutex_unlock(&h->stop_lock);
		pthread_join(h->sampler, NULL);
	}
	MHD_stop_daemon(h->d); /* closes the listening socket */
	OPENSSL_cleanse(h->token, sizeof(h->token));
	pthread_mutex_destroy(&h->stop_lock);
	pthread_cond_destroy(&h->stop_cond);
	free(h);
}
