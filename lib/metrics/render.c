/* The Prometheus text exposition (format 0.0.4) of every metric: names with
 * the sipwarden_ prefix, _total for counters, seconds for times; process_*
 * as the client libraries name them. man/sipwarden-serve.1 documents each
 * one. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "metrics/metrics_int.h"

static void head(struct sw_buf *b, const char *name, const char *type, const char *help)
{
	sw_buf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void one(struct sw_buf *b, const char *name, const char *type, const char *help, uint64_t v)
{
	head(b, name, type, help);
	sw_buf_addf(b, "%s %llu\n", name, (unsigned long long)v);
}

/* A counter whose label values map to enum sw_metric entries. */
static void labelled(struct sw_buf *b, const char *name, const char *help, const char *label,
		     const char *const *values, enum sw_metric first, unsigned n)
{
	head(b, name, "counter", help);
	for (unsigned i = 0; i < n; i++)
		sw_buf_addf(b, "%s{%s=\"%s\"} %llu\n", name, label, values[i],
			    (unsigned long long)sw_metrics_get((enum sw_metric)(first + i)));
}

static void histogram(struct sw_buf *b, const char *name, const char *help, enum sw_histogram h)
{
	head(b, name, "histogram", help);
	uint64_t cum = 0;
	for (unsigned i = 0; i <= SW_METRICS_BUCKETS; i++) {
		cum += SW__METRICS_SUM(hist[h].bucket[i]);
		if (i < SW_METRICS_BUCKETS)
			sw_buf_addf(b, "%s_bucket{le=\"%g\"} %llu\n", name, sw_metrics_bucket_bound(i),
				    (unsigned long long)cum);
		else
			sw_buf_addf(b, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cum);
	}
	sw_buf_addf(b, "%s_sum %.9f\n%s_count %llu\n", name, (double)SW__METRICS_SUM(hist[h].sum_ns) / 1e9, name,
		    (unsigned long long)cum);
}

static void sip(struct sw_buf *b)
{
	head(b, "sipwarden_requests_total", "counter", "SIP requests received and checked, by method.");
	for (unsigned m = 0; m < SW_METRICS_METHODS; m++)
		sw_buf_addf(b, "sipwarden_requests_total{method=\"%s\"} %llu\n", sw__metrics_method_name(m),
			    (unsigned long long)SW__METRICS_SUM(requests[m]));
	head(b, "sipwarden_responses_total", "counter",
	     "SIP responses sent (made here or relayed; retransmissions not counted), by class and code.");
	for (unsigned s = 0; s < STATUS_SPAN; s++) {
		uint64_t v = SW__METRICS_SUM(responses[s]);
		if (v)
			sw_buf_addf(b, "sipwarden_responses_total{class=\"%uxx\",code=\"%u\"} %llu\n",
				    (s + STATUS_MIN) / 100, s + STATUS_MIN, (unsigned long long)v);
	}
	head(b, "sipwarden_auth_decisions_total", "counter",
	     "Authentication decisions, by request method and cause id (sipwarden causes).");
	for (unsigned m = 0; m < SW_METRICS_METHODS; m++)
		for (unsigned c = 0; c < SW_CAUSE__COUNT; c++) {
			uint64_t v = SW__METRICS_SUM(auth[m][c]);
			if (v)
				sw_buf_addf(b, "sipwarden_auth_decisions_total{method=\"%s\",cause=\"%s\"} %llu\n",
					    sw__metrics_method_name(m), sw_cause_id((enum sw_cause)c),
					    (unsigned long long)v);
		}
	static const char *const reg[] = { "made", "refreshed", "removed", "expired" };
	labelled(b, "sipwarden_registrations_total",
		 "Binding changes: made (new), refreshed, removed by the phone, expired.", "event", reg,
		 SW_M_REG_MADE, 4);
	static const char *const drop[] = { "banned", "malformed", "bad_response", "stray_response",
					    "retransmission" };
	labelled(b, "sipwarden_messages_dropped_total", "SIP messages dropped without an answer, by reason.",
		 "reason", drop, SW_M_DROP_BANNED, 5);
	static const char *const lim[] = { "user_failures", "distinct_users", "flood_requests" };
	labelled(b, "sipwarden_bans_started_total", "Bans started by the server, by the limit that tripped.",
		 "limit", lim, SW_M_BAN_USER_FAILURES, 3);
	static const char *const out[] = { "answered", "failed", "cancelled" };
	labelled(b, "sipwarden_calls_total", "Calls (INVITEs) the proxy handled, by outcome.", "outcome", out,
		 SW_M_CALL_ANSWERED, 3);
}

static void transport(struct sw_buf *b)
{
	one(b, "sipwarden_tcp_connections", "gauge", "TCP connections open now, TLS ones included.",
	    (uint64_t)sw_metrics_gauge_get(SW_G_TCP_CONNECTIONS));
	one(b, "sipwarden_tls_connections", "gauge", "TLS connections open now (handshaking or established).",
	    (uint64_t)sw_metrics_gauge_get(SW_G_TLS_CONNECTIONS));
	one(b, "sipwarden_tcp_connections_accepted_total", "counter", "TCP connections accepted.",
	    sw_metrics_get(SW_M_TCP_ACCEPTED));
	static const char *const refused[] = { "max_connections", "max_connections_per_source" };
	labelled(b, "sipwarden_tcp_connections_refused_total", "TCP connections closed at once, by the cap reached.",
		 "cap", refused, SW_M_TCP_REFUSED_LIMIT, 2);
	one(b, "sipwarden_tcp_connections_timed_out_total", "counter",
	    "TCP connections closed by first_byte_timeout or message_timeout.", sw_metrics_get(SW_M_TCP_TIMED_OUT));
	head(b, "sipwarden_transactions", "gauge",
	     "Transactions held now: registrar (REGISTER, OPTIONS; answers kept for retransmissions), proxy.");
	sw_buf_addf(b, "sipwarden_transactions{kind=\"registrar\"} %lld\n",
		    (long long)sw_metrics_gauge_get(SW_G_TXN_REGISTRAR));
	sw_buf_addf(b, "sipwarden_transactions{kind=\"proxy\"} %lld\n", (long long)sw_metrics_gauge_get(SW_G_TXN_PROXY));
	one(b, "sipwarden_registrations_pending", "gauge", "REGISTERs waiting for their durable write now.",
	    (uint64_t)sw_metrics_gauge_get(SW_G_PENDING_WRITES));
	histogram(b, "sipwarden_request_duration_seconds",
		  "Time a worker spends on one received request (parse to answer or forward; without the durable wait).",
		  SW_H_REQUEST);
	histogram(b, "sipwarden_commit_wait_seconds",
		  "Time from a REGISTER's binding queued to it being durable (what its 200 OK waits for).",
		  SW_H_COMMIT_WAIT);
}

/* utime + stime, resident set, open descriptors, from /proc/self. */
static void process(struct sw_buf *b)
{
	long tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	FILE *f = fopen("/proc/self/stat", "r");
	char line[1024];
	if (f && fgets(line, sizeof(line), f) && tick > 0) {
		const char *p = strrchr(line, ')'); /* the command name may hold spaces */
		unsigned long long ut = 0, st = 0;
		if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) == 2) {
			head(b, "process_cpu_seconds_total", "counter", "User and system CPU time spent, in seconds.");
			sw_buf_addf(b, "process_cpu_seconds_total %.2f\n", (double)(ut + st) / (double)tick);
		}
	}
	if (f)
		fclose(f);
	unsigned long long size = 0, rss = 0;
	f = fopen("/proc/self/statm", "r");
	if (f && fscanf(f, "%llu %llu", &size, &rss) == 2 && page > 0)
		one(b, "process_resident_memory_bytes", "gauge", "Resident memory, in bytes.", rss * (uint64_t)page);
	if (f)
		fclose(f);
	DIR *d = opendir("/proc/self/fd");
	if (d) {
		uint64_t n = 0;
		for (struct dirent *e; (e = readdir(d));)
			n += e->d_name[0] != '.';
		closedir(d);
		one(b, "process_open_fds", "gauge", "Open file descriptors.", n ? n - 1 : 0); /* less opendir's own */
	}
}

int sw_metrics_render(struct sw_buf *b, const struct sw_metrics_live *live)
{
	sip(b);
	transport(b);
	if (live->bindings >= 0)
		one(b, "sipwarden_bindings", "gauge", "Registered bindings (contacts) now.", (uint64_t)live->bindings);
	if (live->subscribers >= 0)
		one(b, "sipwarden_subscribers", "gauge", "Subscribers provisioned now.", (uint64_t)live->subscribers);
	if (live->bans_active >= 0)
		one(b, "sipwarden_bans", "gauge", "Bans in force now.", (uint64_t)live->bans_active);
	if (live->store_commits >= 0)
		one(b, "sipwarden_store_commits_total", "counter", "Group commits of the store.",
		    (uint64_t)live->store_commits);
	if (live->store_events_dropped >= 0)
		one(b, "sipwarden_store_events_dropped_total", "counter",
		    "Auth events not recorded because the event log's queue was full.",
		    (uint64_t)live->store_events_dropped);
	process(b);
	head(b, "process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch, in seconds.");
	sw_buf_addf(b, "process_start_time_seconds %.3f\n", live->start_time);
	head(b, "sipwarden_build_info", "gauge", "Always 1; the version as a label.");
	sw_buf_addf(b, "sipwarden_build_info{version=\"%s\"} 1\n", live->version ? live->version : "unknown");
	return sw_buf_status(b);
}
