/* The JSON API behind the web page: each endpoint reads what the CLI reads
 * (the store's reader connections, the location index, the ban table) and
 * renders records with the CLI's own functions, so /api/why says what
 * `sipwarden why --json` says. Every argument is checked; a bad one is a
 * 400 with the reason. Nothing here writes. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/crypto.h>
#include "sipwarden/ban.h"
#include "sipwarden/causes.h"
#include "sipwarden/metrics.h"
#include "sipwarden/registrar.h"
#include "sipwarden/store.h"
#include "http/http_int.h"

#define RECORD_MAX 16384          /* one rendered record (a binding with every field full and escaped: ~7 KB) */
#define LIST_DEFAULT 100u
#define LIST_MAX 100000u
#define FAILURES_SHOWN 20u
#define FAILURES_SCAN 20000u      /* events looked at for the latest failures */

/* Sets the error answer; true (the endpoint handled the request). */
static bool bad(struct sw_http_req *r, unsigned status, const char *msg)
{
	r->status = status;
	snprintf(r->error, sizeof(r->error), "%s", msg);
	return true;
}

static bool store_failed(struct sw_http_req *r, int err)
{
	r->status = 503;
	snprintf(r->error, sizeof(r->error), "the database cannot be read: %s", sw_store_strerror(err));
	return true;
}

/* A count argument: absent gives def; else 1..max. */
static bool count_arg(struct sw_http_req *r, const char *name, unsigned def, unsigned max, unsigned *out)
{
	const char *v = r->arg(r->ctx, name);
	*out = def;
	if (!v)
		return true;
	unsigned long n = 0;
	if (!*v || strlen(v) > 9 || strspn(v, "0123456789") != strlen(v) || (n = strtoul(v, NULL, 10)) < 1 ||
	    n > max) {
		r->status = 400;
		snprintf(r->error, sizeof(r->error), "%s must be a number from 1 to %u", name, max);
		return false;
	}
	*out = (unsigned)n;
	return true;
}

static bool aor_arg(struct sw_http_req *r, const char *name, char user[SW_STORE_USER_MAX + 1],
		    char domain[SW_STORE_DOMAIN_MAX + 1])
{
	const char *v = r->arg(r->ctx, name);
	r->status = 400;
	if (!v || !*v)
		snprintf(r->error, sizeof(r->error), "%s=USER@DOMAIN is required", name);
	else if (sw_aor_split(v, user, domain))
		snprintf(r->error, sizeof(r->error), "%s: not USER@DOMAIN", name);
	else
		r->status = 200;
	return r->status == 200;
}

/* ---- lists of records, as the CLI prints them ------------------------------ */

struct list {
	struct sw_http_req *r;
	unsigned n, max;
	int64_t now;
	bool failures_only;           /* events: severity warning or error */
	unsigned scanned;
};

static void item_start(struct list *l)
{
	sw__out_adds(&l->r->body, l->n ? ",\n  " : "\n  ");
	l->n++;
}

static void list_end(struct list *l) { sw__out_adds(&l->r->body, l->n ? "\n]" : "]"); }

static int event_item(void *arg, const struct sw_auth_event *ev)
{
	struct list *l = arg;
	if (l->failures_only) {
		enum sw_cause c;
		if (++l->scanned > FAILURES_SCAN)
			return 1;
		if (!sw_cause_find(sw_str_from(ev->cause, strlen(ev->cause)), &c) &&
		    sw_cause_get(c)->severity == SW_SEV_INFO)
			return 0;
	}
	char mem[RECORD_MAX];
	struct sw_buf b;
	sw_buf_init(&b, mem, sizeof(mem));
	sw_event_render_json(&b, ev);
	item_start(l);
	sw__out_buf(&l->r->body, &b);
	return l->max && l->n >= l->max ? 1 : 0;
}

static int binding_item(void *arg, const struct sw_binding *bd)
{
	struct list *l = arg;
	char mem[RECORD_MAX];
	struct sw_buf b;
	sw_buf_init(&b, mem, sizeof(mem));
	sw_binding_render_json(&b, bd, l->now);
	item_start(l);
	sw__out_buf(&l->r->body, &b);
	return l->max && l->n >= l->max ? 1 : 0;
}

static int ban_item(void *arg, const struct sw_ban_record *rec)
{
	struct list *l = arg;
	char mem[RECORD_MAX];
	struct sw_buf b;
	sw_buf_init(&b, mem, sizeof(mem));
	sw_ban_render_json(&b, rec, l->now);
	item_start(l);
	sw__out_buf(&l->r->body, &b);
	return l->max && l->n >= l->max ? 1 : 0;
}

/* A positive return from a callback only stops the walk. */
static int walked(int err) { return err > 0 ? 0 : err; }

static int events(struct sw_http_req *r, const struct sw_event_query *q, bool failures_only)
{
	struct list l = { .r = r, .max = q->limit, .failures_only = failures_only };
	struct sw_event_query qq = *q;
	if (failures_only)
		qq.limit = 0; /* the callback counts */
	sw__out_adds(&r->body, "[");
	int err = walked(sw_store_event_query(r->h->cfg.st, &qq, event_item, &l));
	list_end(&l);
	return err;
}

static int bindings(struct sw_http_req *r, const char *aor, unsigned max)
{
	struct list l = { .r = r, .max = max, .now = (int64_t)time(NULL) };
	sw__out_adds(&r->body, "[");
	int err = walked(sw_store_binding_list(r->h->cfg.st, aor, l.now, binding_item, &l));
	list_end(&l);
	return err;
}

static int bans(struct sw_http_req *r, bool all)
{
	struct list l = { .r = r, .now = (int64_t)time(NULL) };
	sw__out_adds(&r->body, "[");
	int err = walked(sw_store_ban_list(r->h->cfg.st, all ? 0 : l.now, ban_item, &l));
	list_end(&l);
	return err;
}

/* ---- the endpoints --------------------------------------------------------- */

/* GET /api/why?user=U@D[&last=N]: `sipwarden why U@D --json --last N`. */
static bool api_why(struct sw_http_req *r)
{
	char user[SW_STORE_USER_MAX + 1], domain[SW_STORE_DOMAIN_MAX + 1];
	unsigned last;
	if (!aor_arg(r, "user", user, domain) || !count_arg(r, "last", 10, 1000000, &last))
		return true;
	struct sw_event_query q = { .user = user, .domain = domain, .limit = last };
	int err = events(r, &q, false);
	sw__out_adds(&r->body, "\n");
	return err ? store_failed(r, err) : true;
}

/* GET /api/events?since=&cause=&source=&method=&limit=: `sipwarden events --json`. */
static bool api_events(struct sw_http_req *r)
{
	const char *since = r->arg(r->ctx, "since"), *cause = r->arg(r->ctx, "cause");
	const char *source = r->arg(r->ctx, "source"), *method = r->arg(r->ctx, "method");
	unsigned limit;
	uint64_t secs = 0;
	enum sw_cause c;
	unsigned char a[16];
	if (!count_arg(r, "limit", LIST_DEFAULT, LIST_MAX, &limit))
		return true;
	if (since && (sw_duration_parse(since, &secs) || !secs))
		return bad(r, 400, "since: not a duration (30s, 10m, 2h, 1d, 1w)");
	if (cause && sw_cause_find(sw_str_from(cause, strlen(cause)), &c))
		return bad(r, 400, "cause: unknown cause id (GET /api/causes lists them)");
	if (source && inet_pton(AF_INET, source, a) != 1 && inet_pton(AF_INET6, source, a) != 1)
		return bad(r, 400, "source: not an IPv4 or IPv6 address");
	if (method && (!*method || strlen(method) > SW_STORE_TOKEN_MAX ||
		       strspn(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != strlen(method)))
		return bad(r, 400, "method: not a SIP method name");
	struct sw_event_query q = { .cause = cause, .source_addr = source, .method = method, .limit = limit };
	if (secs)
		q.since_ms = ((int64_t)time(NULL) - (int64_t)secs) * 1000;
	int err = events(r, &q, false);
	sw__out_adds(&r->body, "\n");
	return err ? store_failed(r, err) : true;
}

/* GET /api/registrations[?aor=U@D][&limit=N]: `sipwarden registrations --json`
 * (all bindings: at most limit, default 100). */
static bool api_registrations(struct sw_http_req *r)
{
	char user[SW_STORE_USER_MAX + 1], domain[SW_STORE_DOMAIN_MAX + 1], key[SW_STORE_AOR_MAX + 2];
	unsigned limit;
	if (!count_arg(r, "limit", LIST_DEFAULT, LIST_MAX, &limit))
		return true;
	bool one = r->arg(r->ctx, "aor") != NULL;
	if (one && !aor_arg(r, "aor", user, domain))
		return true;
	if (one)
		snprintf(key, sizeof(key), "%s@%s", user, domain);
	int err = bindings(r, one ? key : NULL, limit);
	sw__out_adds(&r->body, "\n");
	return err ? store_failed(r, err) : true;
}

/* GET /api/bans[?all=1]: `sipwarden ban list --json [--all]`. */
static bool api_bans(struct sw_http_req *r)
{
	const char *all = r->arg(r->ctx, "all");
	int err = bans(r, all && !strcmp(all, "1"));
	sw__out_adds(&r->body, "\n");
	return err ? store_failed(r, err) : true;
}

/* GET /api/user?aor=U@D: the user page: the subscriber (never its
 * credentials), `why` and the bindings. */
static bool api_user(struct sw_http_req *r)
{
	char user[SW_STORE_USER_MAX + 1], domain[SW_STORE_DOMAIN_MAX + 1], key[SW_STORE_AOR_MAX + 2];
	unsigned last;
	if (!aor_arg(r, "aor", user, domain) || !count_arg(r, "last", 20, 1000, &last))
		return true;
	snprintf(key, sizeof(key), "%s@%s", user, domain);
	struct sw_subscriber *s = malloc(sizeof(*s));
	if (!s)
		return bad(r, 500, "out of memory");
	int err = sw_store_user_get(r->h->cfg.st, user, domain, s);
	char mem[RECORD_MAX];
	struct sw_buf b;
	sw_buf_init(&b, mem, sizeof(mem));
	sw_buf_adds(&b, "{\"aor\":");
	sw_buf_add_json_str(&b, key, strlen(key));
	sw_buf_adds(&b, ",\"subscriber\":");
	if (!err)
		sw_subscriber_render_json(&b, s);
	else
		sw_buf_adds(&b, "null");
	OPENSSL_cleanse(s, sizeof(*s)); /* it held the HA1s */
	free(s);
	if (err && err != SW_ENOTFOUND)
		return store_failed(r, err);
	sw__out_buf(&r->body, &b);
	sw__out_adds(&r->body, ",\"why\":");
	struct sw_event_query q = { .user = user, .domain = domain, .limit = last };
	err = events(r, &q, false);
	sw__out_adds(&r->body, ",\"bindings\":");
	if (!err)
		err = bindings(r, key, LIST_MAX);
	sw__out_adds(&r->body, "}\n");
	return err ? store_failed(r, err) : true;
}

/* GET /api/overview: registrations now, decisions per minute by cause for
 * the last hour, the latest failures of that hour, the bans in force. */
static bool api_overview(struct sw_http_req *r)
{
	struct sw_http *h = r->h;
	int64_t now = (int64_t)time(NULL);
	uint64_t subs = 0;
	int err = sw_store_user_count(h->cfg.st, &subs);
	if (err)
		return store_failed(r, err);
	size_t cap = 65536;
	char *mem = malloc(cap);
	if (!mem)
		return bad(r, 500, "out of memory");
	struct sw_buf b;
	sw_buf_init(&b, mem, cap);
	sw_buf_addf(&b, "{\"time\":%lld,\"version\":", (long long)now);
	sw_buf_add_json_str(&b, h->cfg.version ? h->cfg.version : "", h->cfg.version ? strlen(h->cfg.version) : 0);
	sw_buf_addf(&b, ",\"bindings\":%lld,\"subscribers\":%llu,\"domains\":[",
		    h->cfg.reg ? (long long)sw_registrar_bindings(h->cfg.reg) : -1LL, (unsigned long long)subs);
	for (unsigned i = 0; i < h->cfg.ndomains; i++) {
		sw_buf_adds(&b, i ? "," : "");
		sw_buf_add_json_str(&b, h->cfg.domains[i], strlen(h->cfg.domains[i]));
	}
	sw_buf_adds(&b, "],\"decisions_per_minute\":");
	sw_metrics_history_json(&b, now, 60);
	sw__out_buf(&r->body, &b);
	free(mem);
	sw__out_adds(&r->body, ",\"failures\":");
	struct sw_event_query q = { .since_ms = (now - 3600) * 1000, .limit = FAILURES_SHOWN };
	err = events(r, &q, true);
	sw__out_adds(&r->body, ",\"bans\":");
	if (!err)
		err = bans(r, false);
	sw__out_adds(&r->body, "}\n");
	return err ? store_failed(r, err) : true;
}

/* GET /api/search?q=TEXT: an address gives its events and bans; U@D the
 * user; a bare user name the subscribers of that name in each domain. */
static bool api_search(struct sw_http_req *r)
{
	const char *q = r->arg(r->ctx, "q");
	unsigned char a[16];
	char user[SW_STORE_USER_MAX + 1], domain[SW_STORE_DOMAIN_MAX + 1];
	if (!q || !*q || strlen(q) > SW_STORE_AOR_MAX)
		return bad(r, 400, "q=USER, USER@DOMAIN or an address is required");
	sw__out_adds(&r->body, "{\"query\":");
	sw__out_json_str(&r->body, q);
	int err = 0;
	if (inet_pton(AF_INET, q, a) == 1 || inet_pton(AF_INET6, q, a) == 1) {
		sw__out_adds(&r->body, ",\"kind\":\"source\",\"events\":");
		struct sw_event_query eq = { .source_addr = q, .limit = 50 };
		err = events(r, &eq, false);
		sw__out_adds(&r->body, "}\n");
		return err ? store_failed(r, err) : true;
	}
	sw__out_adds(&r->body, ",\"kind\":\"user\",\"users\":[");
	unsigned n = 0;
	if (strchr(q, '@')) {
		if (sw_aor_split(q, user, domain))
			return bad(r, 400, "not USER@DOMAIN or an address");
		char key[SW_STORE_AOR_MAX + 2];
		snprintf(key, sizeof(key), "%s@%s", user, domain);
		sw__out_json_str(&r->body, key);
		n++;
	} else {
		struct sw_subscriber *s = malloc(sizeof(*s));
		if (!s)
			return bad(r, 500, "out of memory");
		for (unsigned i = 0; i < r->h->cfg.ndomains && !err; i++) {
			char key[SW_STORE_AOR_MAX + 2];
			snprintf(key, sizeof(key), "%s@%s", q, r->h->cfg.domains[i]);
			if (sw_aor_split(key, user, domain))
				break; /* not a user name */
			int e = sw_store_user_get(r->h->cfg.st, user, domain, s);
			if (e == 0) {
				sw__out_adds(&r->body, n++ ? "," : "");
				sw__out_json_str(&r->body, key);
			} else if (e != SW_ENOTFOUND) {
				err = e;
			}
		}
		OPENSSL_cleanse(s, sizeof(*s));
		free(s);
	}
	sw__out_adds(&r->body, "]}\n");
	return err ? store_failed(r, err) : true;
}

/* GET /api/causes: `sipwarden causes --json`. */
static bool api_causes(struct sw_http_req *r)
{
	size_t cap = 256 * 1024;
	char *mem = malloc(cap);
	if (!mem)
		return bad(r, 500, "out of memory");
	struct sw_buf b;
	sw_buf_init(&b, mem, cap);
	sw_causes_render_json(&b);
	sw_buf_addc(&b, '\n');
	sw__out_buf(&r->body, &b);
	free(mem);
	return true;
}

bool sw__http_api(struct sw_http_req *r, const char *path)
{
	static const struct {
		const char *path;
		bool (*fn)(struct sw_http_req *r);
	} routes[] = {
		{ "overview", api_overview }, { "user", api_user }, { "search", api_search },
		{ "why", api_why }, { "events", api_events }, { "registrations", api_registrations },
		{ "bans", api_bans }, { "causes", api_causes },
	};
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (!strcmp(path, routes[i].path))
			return routes[i].fn(r);
	return false;
}

void sw__http_metrics(struct sw_http_req *r)
{
	struct sw_http *h = r->h;
	struct sw_metrics_live live = { .bindings = -1, .subscribers = -1, .bans_active = -1,
					.store_commits = -1, .store_events_dropped = -1,
					.start_time = h->start_time, .version = h->cfg.version };
	uint64_t subs;
	if (h->cfg.reg)
		live.bindings = (int64_t)sw_registrar_bindings(h->cfg.reg);
	if (sw_store_user_count(h->cfg.st, &subs) == 0)
		live.subscribers = (int64_t)subs;
	if (h->cfg.ban) {
		struct sw_ban_stats bs;
		sw_ban_stats(h->cfg.ban, (int64_t)time(NULL), &bs);
		live.bans_active = (int64_t)bs.active;
	}
	struct sw_store_stats ss;
	sw_store_stats(h->cfg.st, &ss);
	live.store_commits = (int64_t)ss.commits;
	live.store_events_dropped = (int64_t)ss.events_dropped;
	size_t cap = 256 * 1024;
	char *mem = malloc(cap);
	if (!mem) {
		r->body.oom = true;
		return;
	}
	struct sw_buf b;
	sw_buf_init(&b, mem, cap);
	sw_metrics_render(&b, &live);
	sw__out_buf(&r->body, &b);
	free(mem);
}
