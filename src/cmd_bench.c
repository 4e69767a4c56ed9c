/* sipwarden bench: a SIP load generator (REGISTER with digest, REGISTER,
 * OPTIONS). Argument handling, the --max rate search and output; the load
 * itself is lib/loadgen. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sipwarden/loadgen.h"
#include "commands.h"
#include "util.h"

static const char usage_text[] =
	"usage: sipwarden bench --target HOST:PORT\n"
	"                       (--users-file FILE | --user-pattern 'user%05d@DOMAIN:pw-user%05d'\n"
	"                        [--users N])\n"
	"                       [--count N] [--rate R | --max] [--duration S] [--threads T]\n"
	"                       [--transport udp|tcp] [--scenario register-auth|register|options|call]\n"
	"                       [--t1 MS] [--inflight N] [--server-pid PID[,PID...]] [--json] [--html FILE]\n"
	"\n"
	"Loads a SIP registrar and measures it: completed registrations per second,\n"
	"failures by status and timeouts, retransmissions, latency percentiles of\n"
	"each leg and of the whole registration. Sends only to --target.\n"
	"\n"
	"  --target HOST:PORT   the server (name or address; [v6]:PORT)\n"
	"  --users-file FILE    users as for 'sipwarden user import': user@domain,password\n"
	"  --user-pattern P     users from a pattern: %d / %05d is the user's index,\n"
	"                       0 .. N-1; the first ':' after the '@' starts the password\n"
	"  --users N            how many users the pattern makes (default 10000)\n"
	"  --count N            registrations in all, round-robin over the users\n"
	"                       (default: one per user)\n"
	"  --rate R             start R registrations per second (default 1000); the report\n"
	"                       says when the generator could not hold the rate\n"
	"  --max                find the highest rate with >= 99.9 % success and no growing\n"
	"                       retransmissions (and completions keeping up with the\n"
	"                       starts): 2-second steps from 1000/s, doubling, then\n"
	"                       bisecting; all within --duration\n"
	"  --duration S         no registration starts after S seconds (default 60); open\n"
	"                       ones then get min(Timer F, 4 s) to finish, or count as\n"
	"                       failures ('unfinished')\n"
	"  --drain S            wait at most S seconds for open registrations after the\n"
	"                       last start (default min(Timer F, 4 s))\n"
	"  --threads T          sending threads, each with its own socket (default 1)\n"
	"  --transport T        udp (default) or tcp: one connection per thread, requests\n"
	"                       pipelined on it, no retransmissions (Timer F still applies)\n"
	"  --scenario S         register-auth (default): REGISTER -> 401 -> REGISTER with\n"
	"                       digest (the offered algorithm, qop=auth when offered;\n"
	"                       digest uri = Request-URI = sip:DOMAIN) -> 200;\n"
	"                       register: REGISTER -> 200 (no auth); options: OPTIONS -> 200;\n"
	"                       call (against an authenticating proxy, UDP, one thread):\n"
	"                       every user registers from a callee socket that answers as a\n"
	"                       phone (180, 200 with SDP; 200 to BYE), then user i calls\n"
	"                       user i+1: INVITE -> 407 -> ACK -> INVITE with digest ->\n"
	"                       100/180/200 -> ACK -> BYE along the Record-Route -> 200\n"
	"                       (--count calls; legs: setup INVITE -> 200, BYE -> 200)\n"
	"  --server-pid PID[,PID...]  call scenario, server on this machine: read the CPU\n"
	"                       time of its processes (/proc/PID/stat) just before the first\n"
	"                       call and after the last, so that its users' registrations\n"
	"                       are not counted; reported as server CPU per completed call\n"
	"  --t1 MS              RFC 3261 T1 (default 500): retransmissions after T1, 2T1 ...\n"
	"                       up to T2 = 4 s, Timer F = 64*T1 ends a transaction\n"
	"  --inflight N         open registrations per thread at most (default 16384)\n"
	"  --json               print one JSON object (completed, failed, retransmissions,\n"
	"                       rate, latency_ms {p50,p90,p99,p999,max}, legs, ...)\n"
	"  --html FILE          also write the report as a self-contained HTML page: the\n"
	"                       latency distribution and the rate over time as charts\n"
	"                       (with --max: of the highest rate that passed)\n"
	"\n"
	"On a terminal, progress (time, started, completed, failed) is shown on\n"
	"standard error while the load runs; nothing otherwise.\n"
	"\n"
	"A 503 with Retry-After is honoured as a phone would (RFC 3261 §21.5.4): the\n"
	"registration waits that long, then starts again (same Call-ID, next CSeq);\n"
	"such 503s are counted apart ('503 with Retry-After'), not as failures. The\n"
	"goodput is what completed while registrations were still starting.\n"
	"\n"
	"exit codes: 0 every registration started completed (--max: a rate was found),\n"
	"1 failures occurred (final error status, Timer F, unfinished), 2 usage error,\n"
	"3 could not run (cannot resolve the target, open a socket, read the users).\n";

struct opts {
	const char *target, *users_file, *pattern, *transport, *scenario, *html;
	unsigned long users, threads, t1, inflight;
	const char *server_pids;
	unsigned long long count;
	double rate, duration, drain;
	bool max, json, have_users, have_rate;
	FILE *html_f;                /* --html, opened before the run */
};

static volatile int stop_flag;
static int progress_width; /* of the progress line on stderr, to clear it */

static void on_progress(void *arg, const struct sw_lg_progress *p)
{
	(void)arg;
	int n = fprintf(stderr, "\r  %.1f s: %llu started, %llu completed, %llu failed", p->elapsed_s,
			(unsigned long long)p->started, (unsigned long long)p->completed,
			(unsigned long long)p->failed);
	if (n > progress_width)
		progress_width = n;
}

static void progress_clear(void)
{
	if (progress_width)
		fprintf(stderr, "\r%*s\r", progress_width, "");
	progress_width = 0;
}
static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int usage_error(const char *fmt, const char *arg)
{
	fputs("sipwarden bench: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\n(see 'sipwarden bench --help')\n", stderr);
	return 2;
}

static bool parse_ull(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

/* --server-pid PID[,PID...]: processes of this machine */
static int parse_pids(const char *list, struct sw_lg_cfg *cfg)
{
	char item[32];
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ",");
		unsigned long long v;
		if (n == 0 || n >= sizeof(item) || cfg->nserver_pids == SW_LG_MAX_PIDS)
			return usage_error("--server-pid needs up to 64 process ids separated by commas, not '%s'",
					   list);
		memcpy(item, p, n);
		item[n] = '\0';
		if (!parse_ull(item, 4194304, &v) || !v)
			return usage_error("--server-pid needs process ids, not '%s'", list);
		if (kill((pid_t)v, 0) && errno == ESRCH)
			return usage_error("--server-pid: no process %s on this machine", item);
		cfg->server_pids[cfg->nserver_pids++] = (int)v;
		p += n;
		if (*p == ',' && *++p == '\0')
			return usage_error("--server-pid needs process ids, not '%s'", list);
	}
	return 0;
}

static bool parse_pos_double(const char *s, double *out)
{
	char *end;
	if (!s || !*s)
		return false;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end || !(v > 0) || !isfinite(v))
		return false;
	*out = v;
	return true;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		unsigned long long v;
		if (!strcmp(a, "--help") || !strcmp(a, "-h"))
			return 1;
		if (!strcmp(a, "--max")) {
			o->max = true;
			continue;
		}
		if (!strcmp(a, "--json")) {
			o->json = true;
			continue;
		}
		if (i + 1 >= argc)
			return usage_error("unknown argument or missing value: '%s'", a);
		const char *val = argv[++i];
		if (!strcmp(a, "--target"))
			o->target = val;
		else if (!strcmp(a, "--users-file"))
			o->users_file = val;
		else if (!strcmp(a, "--user-pattern"))
			o->pattern = val;
		else if (!strcmp(a, "--transport"))
			o->transport = val;
		else if (!strcmp(a, "--scenario"))
			o->scenario = val;
		else if (!strcmp(a, "--html"))
			o->html = val;
		else if (!strcmp(a, "--users")) {
			if (!parse_ull(val, 100000000ull, &v) || !v)
				return usage_error("--users needs a number from 1 to 100000000, not '%s'", val);
			o->users = (unsigned long)v;
			o->have_users = true;
		} else if (!strcmp(a, "--count")) {
			if (!parse_ull(val, 1000000000000ull, &v) || !v)
				return usage_error("--count needs a positive number, not '%s'", val);
			o->count = v;
		} else if (!strcmp(a, "--threads")) {
			if (!parse_ull(val, 256, &v) || !v)
				return usage_error("--threads needs a number from 1 to 256, not '%s'", val);
			o->threads = (unsigned long)v;
		} else if (!strcmp(a, "--t1")) {
			if (!parse_ull(val, 10000, &v) || v < 10)
				return usage_error("--t1 needs milliseconds from 10 to 10000, not '%s'", val);
			o->t1 = (unsigned long)v;
		} else if (!strcmp(a, "--server-pid")) {
			o->server_pids = val;
		} else if (!strcmp(a, "--inflight")) {
			if (!parse_ull(val, 1000000, &v) || !v)
				return usage_error("--inflight needs a number from 1 to 1000000, not '%s'", val);
			o->inflight = (unsigned long)v;
		} else if (!strcmp(a, "--rate")) {
			if (!parse_pos_double(val, &o->rate) || o->rate > 1e7)
				return usage_error("--rate needs a positive number of registrations per second, not '%s'", val);
			o->have_rate = true;
		} else if (!strcmp(a, "--duration")) {
			if (!parse_pos_double(val, &o->duration) || o->duration > 86400)
				return usage_error("--duration needs seconds (up to 86400), not '%s'", val);
		} else if (!strcmp(a, "--drain")) {
			if (!parse_pos_double(val, &o->drain) || o->drain > 3600)
				return usage_error("--drain needs seconds (up to 3600), not '%s'", val);
		} else
			return usage_error("unknown argument '%s'", a);
	}
	return 0;
}

/* HOST:PORT or [V6]:PORT. 0, 2 (usage) or 3 (cannot resolve). */
static int resolve(const char *target, struct sw_lg_cfg *cfg)
{
	char host[256];
	const char *colon = strrchr(target, ':'), *h = target;
	size_t hl;
	if (!colon || !colon[1])
		return usage_error("--target needs HOST:PORT, not '%s'", target);
	hl = (size_t)(colon - target);
	if (hl >= 2 && target[0] == '[' && target[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (!hl || hl >= sizeof(host))
		return usage_error("--target needs HOST:PORT, not '%s'", target);
	memcpy(host, h, hl);
	host[hl] = '\0';
	unsigned long long port;
	if (!parse_ull(colon + 1, 65535, &port) || !port)
		return usage_error("--target: bad port in '%s'", target);
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICSERV }, *res;
	int rc = getaddrinfo(host, colon + 1, &hints, &res);
	if (rc) {
		fprintf(stderr, "sipwarden bench: cannot resolve '%s': %s\n", host, gai_strerror(rc));
		return 3;
	}
	memcpy(&cfg->target, res->ai_addr, res->ai_addrlen);
	cfg->target_len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int load_users(const struct opts *o, struct sw_lg_users *u)
{
	int err;
	if (o->users_file) {
		size_t len;
		char *text = sw_cli_read_file(o->users_file, 1u << 30, &len);
		if (!text)
			return 3;
		unsigned line = 0;
		err = sw_lg_users_from_text(u, text, len, &line);
		free(text);
		if (err == SW_EPARSE && line) {
			fprintf(stderr, "sipwarden bench: %s:%u: expected user@domain,password\n",
				o->users_file, line);
			return 3;
		}
		if (err) {
			fprintf(stderr, "sipwarden bench: %s: %s\n", o->users_file,
				err == SW_EPARSE ? "no users in the file" : sw_strerror(err));
			return 3;
		}
		return 0;
	}
	struct sw_userpat p;
	char why[160];
	if (sw_userpat_parse(o->pattern, &p, why, sizeof(why)))
		return usage_error("--user-pattern: %s", why);
	err = sw_lg_users_from_pattern(u, &p, o->have_users ? o->users : 10000);
	if (err) {
		fprintf(stderr, "sipwarden bench: cannot expand the user pattern: %s\n", sw_strerror(err));
		return err == SW_EINVAL ? 2 : 3;
	}
	return 0;
}

static int emit(const struct sw_buf *b)
{
	if (sw_buf_status(b)) {
		fprintf(stderr, "sipwarden bench: report too large\n");
		return 3;
	}
	fwrite(b->p, 1, b->len, stdout);
	fflush(stdout);
	return 0;
}

/* The --html page of st into o->html_f; 0 or 3. */
static int write_html(const struct opts *o, const struct sw_lg_cfg *cfg, const struct sw_lg_stats *st)
{
	size_t cap = 4u << 20;
	char *mem = malloc(cap);
	if (!mem) {
		fputs("sipwarden bench: out of memory\n", stderr);
		return 3;
	}
	struct sw_buf b;
	sw_buf_init(&b, mem, cap);
	sw_lg_report_html(&b, cfg, st);
	bool ok = !sw_buf_status(&b) && fwrite(b.p, 1, b.len, o->html_f) == b.len;
	free(mem);
	if (fflush(o->html_f) || !ok) {
		fprintf(stderr, "sipwarden bench: cannot write %s: %s\n", o->html,
			sw_buf_status(&b) ? "report too large" : strerror(errno));
		return 3;
	}
	return 0;
}

static int report_error(int err)
{
	fprintf(stderr, "sipwarden bench: cannot run: %s%s%s\n", sw_strerror(err),
		err == SW_EIO ? ": " : "", err == SW_EIO ? strerror(errno) : "");
	return 3;
}

/* One step of --max passes when >= 99.9 % completed, the rate was held,
 * completions kept up (>= 95 % of the rate over the step), and the second
 * half of the step saw no more retransmissions than the first plus 0.1 % of
 * its registrations. */
static bool step_passes(const struct sw_lg_stats *st)
{
	if (!st->started || !st->rate_held)
		return false;
	if ((double)st->completed < 0.999 * (double)st->started)
		return false;
	/* completions keep up with the starts (no queue building up) */
	if (st->rate < 0.95 * st->target_rate)
		return false;
	return (double)st->retx_half[1] <= (double)st->retx_half[0] + 0.001 * (double)st->started;
}

static int run_max(struct sw_lg_cfg *cfg, const struct opts *o, struct sw_buf *b,
		   struct sw_lg_stats *st, struct sw_lg_stats *best)
{
	double budget = o->duration > 0 ? o->duration : 60.0, used = 0;
	double step_s = 2.0, good = 0, bad = 0, r = 1000;
	unsigned long long left = o->count ? o->count : ULLONG_MAX;
	unsigned steps = 0;
	bool have_best = false;
	if (o->json)
		sw_buf_adds(b, "{\"steps\":[");
	else
		sw_buf_addf(b, "%-10s %10s %10s %8s %8s %10s %s\n", "rate", "completed", "failed",
			    "retrans", "p99 ms", "reg/s", "verdict");
	while (!stop_flag && used + step_s <= budget && left > 0) {
		cfg->rate = r;
		cfg->count = (uint64_t)(r * step_s);
		if (cfg->count > left)
			cfg->count = left;
		cfg->duration_ms = (uint32_t)(step_s * 1000 + 500);
		int err = sw_lg_run(cfg, &stop_flag, st);
		progress_clear();
		if (err)
			return report_error(err);
		left -= st->started;
		used += st->elapsed_s > step_s ? st->elapsed_s : step_s;
		bool pass = step_passes(st);
		const char *verdict = pass ? "ok" :
				      st->behind ? "in-flight limit reached: the server falls behind" :
				      !st->rate_held ? "the generator could not hold the rate" :
				      (double)st->completed < 0.999 * (double)st->started ? "failures" :
				      st->rate < 0.95 * r ? "completions fall behind the starts" :
				      "growing retransmissions";
		if (o->json)
			sw_buf_addf(b, "%s{\"rate\":%.0f,\"completed\":%llu,\"failed\":%llu,"
				    "\"retransmissions\":%llu,\"p99_ms\":%.3f,\"achieved\":%.1f,\"pass\":%s}",
				    steps ? "," : "", r, (unsigned long long)st->completed,
				    (unsigned long long)st->failed, (unsigned long long)st->retransmissions,
				    (double)sw_hist_percentile(&st->total, 99) / 1000.0, st->rate,
				    pass ? "true" : "false");
		else
			sw_buf_addf(b, "%-10.0f %10llu %10llu %8llu %8.3f %10.0f %s\n", r,
				    (unsigned long long)st->completed, (unsigned long long)st->failed,
				    (unsigned long long)st->retransmissions,
				    (double)sw_hist_percentile(&st->total, 99) / 1000.0, st->rate, verdict);
		steps++;
		if (pass) {
			good = r;
			*best = *st;
			have_best = true;
		} else {
			bad = r;
		}
		if (!bad)
			r = good * 2;
		else if (bad - good <= 0.05 * (good ? good : bad) || (!good && bad <= 100))
			break;
		else
			r = good ? (good + bad) / 2 : bad / 2;
		r = floor(r);
		if (r < 1)
			break;
	}
	if (o->json) {
		sw_buf_addf(b, "],\"max_rate\":%.0f,\"at_max\":", good);
		if (have_best) {
			cfg->rate = good;
			sw_lg_report_json(b, cfg, best);
		} else {
			sw_buf_adds(b, "null");
		}
		sw_buf_adds(b, "}\n");
	} else if (have_best) {
		sw_buf_addf(b, "\nhighest rate with >= 99.9 %% success and no growing retransmissions: %.0f/s\n\n", good);
		cfg->rate = good;
		sw_lg_report_text(b, cfg, best);
	} else {
		sw_buf_adds(b, "\nno rate passed (from 1000/s down)\n");
	}
	int rc = emit(b);
	if (!rc && o->html_f) {
		if (have_best)
			rc = write_html(o, cfg, best);
		else
			fprintf(stderr, "sipwarden bench: no rate passed: %s has no report\n", o->html);
	}
	return rc ? rc : have_best ? 0 : 1;
}

int cmd_bench(int argc, char **argv)
{
	struct opts o = { 0 };
	struct sw_lg_users users = { 0 };
	struct sw_lg_cfg cfg = { 0 };
	struct sw_lg_stats *st = NULL, *best = NULL;
	char *mem = NULL;
	int rc = parse_args(argc, argv, &o);
	if (rc == 1) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (rc)
		return rc;
	if (!o.target)
		return usage_error("%s", "--target HOST:PORT is required");
	if (!o.users_file == !o.pattern)
		return usage_error("%s", "give --users-file or --user-pattern (one of them)");
	if (o.users_file && o.have_users)
		return usage_error("%s", "--users goes with --user-pattern");
	if (o.max && o.have_rate)
		return usage_error("%s", "give --rate or --max, not both");
	if (o.transport && strcmp(o.transport, "udp") && strcmp(o.transport, "tcp"))
		return usage_error("--transport must be udp or tcp, not '%s'", o.transport);
	cfg.tcp = o.transport && !strcmp(o.transport, "tcp");
	if (o.scenario && sw_lg_scenario_parse(o.scenario, &cfg.scenario))
		return usage_error("--scenario must be register-auth, register, options or call, not '%s'",
				   o.scenario);
	if (cfg.scenario == SW_LG_CALL && cfg.tcp)
		return usage_error("%s", "--scenario call runs over UDP only");
	if (o.server_pids && cfg.scenario != SW_LG_CALL)
		return usage_error("%s", "--server-pid goes with --scenario call");
	if (o.server_pids && (rc = parse_pids(o.server_pids, &cfg)))
		return rc;
	if ((rc = resolve(o.target, &cfg)))
		return rc;
	if ((rc = load_users(&o, &users)))
		return rc;

	if (o.html && !(o.html_f = fopen(o.html, "w"))) {
		fprintf(stderr, "sipwarden bench: cannot write %s: %s\n", o.html, strerror(errno));
		rc = 3;
		goto out;
	}
	if (isatty(STDERR_FILENO))
		cfg.progress = on_progress;
	cfg.users = &users;
	cfg.count = o.count ? o.count : users.n;
	cfg.rate = o.have_rate ? o.rate : 1000;
	cfg.duration_ms = (uint32_t)((o.duration > 0 ? o.duration : 60.0) * 1000.0);
	cfg.drain_ms = (uint32_t)(o.drain * 1000.0);
	cfg.threads = (unsigned)(o.threads ? o.threads : 1);
	cfg.t1_ms = (uint32_t)o.t1;
	cfg.max_inflight = (unsigned)o.inflight;


	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	size_t cap = 1u << 20;
	st = malloc(sizeof(*st));
	best = malloc(sizeof(*best));
	mem = malloc(cap);
	if (!st || !best || !mem) {
		rc = report_error(SW_ENOMEM);
		goto out;
	}
	struct sw_buf b;
	sw_buf_init(&b, mem, cap);
	if (o.max) {
		rc = run_max(&cfg, &o, &b, st, best);
		goto out;
	}
	int err = sw_lg_run(&cfg, &stop_flag, st);
	progress_clear();
	if (err) {
		rc = report_error(err);
		goto out;
	}
	if (o.json) {
		sw_lg_report_json(&b, &cfg, st);
		sw_buf_addc(&b, '\n');
	} else {
		sw_lg_report_text(&b, &cfg, st);
	}
	rc = emit(&b);
	if (!rc && o.html_f)
		rc = write_html(&o, &cfg, st);
	if (!rc)
		rc = st->failed || st->completed != st->started ? 1 : 0;
out:
	if (o.html_f)
		fclose(o.html_f);
	free(mem);
	free(st);
	free(best);
	sw_lg_users_free(&users);
	return rc;
}
