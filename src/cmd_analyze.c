/* sipwarden analyze: explain every authentication failure in captures and
 * logs. Argument handling and output only; the work is in lib/trace. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sipwarden/trace.h"
#include "analyze_live.h"
#include "commands.h"

static const char usage_text[] =
	"usage: sipwarden analyze FILE... [--credentials FILE] [--user AOR] [--json]\n"
	"                         [--html OUT.html] [--port N]... [--verbose]\n"
	"       sipwarden analyze --hep udp:ADDR:PORT [--hep-key KEY] [--duration S]\n"
	"                         [--idle S] [--keep N] [--credentials FILE] [--user AOR]\n"
	"                         [--json] [--html OUT.html [--html-every S]]\n"
	"       sipwarden analyze --live IFACE [--filter BPF] [--port N]... [--duration S]\n"
	"                         [--idle S] [--keep N] [--credentials FILE] [--user AOR]\n"
	"                         [--json] [--html OUT.html [--html-every S]]\n"
	"\n"
	"Reads pcap or pcapng captures (detected by content) and text logs of SIP\n"
	"messages (sngrep, Kamailio sipdump, Asterisk pjsip logger, sipp -trace_msg,\n"
	"or plain messages separated by empty lines), follows every authentication\n"
	"flow (request, 401/407, authenticated retry, final answer) and names each\n"
	"outcome with a cause id of 'sipwarden causes'.\n"
	"\n"
	"  --credentials FILE  verify every digest answer offline; lines are\n"
	"                      user@domain,password or user@domain,realm,ALGORITHM:HA1\n"
	"                      ('#' starts a comment). A wrong response is named\n"
	"                      wrong-password only when no known client mistake\n"
	"                      explains it.\n"
	"  --user AOR          only the flows of this address of record (user@domain)\n"
	"  --json              print every flow with its messages and verdict as JSON\n"
	"  --html OUT.html     also write a self-contained page with ladder diagrams\n"
	"  --port N            decode this UDP/TCP port as SIP too (besides 5060, 5061\n"
	"                      and SIP found by content); may be repeated\n"
	"  --verbose           list the successful flows too (text output)\n"
	"  --hep udp:ADDR:PORT receive HEPv3 (Kamailio siptrace, OpenSIPS, Asterisk\n"
	"                      res_hep, FreeSWITCH, sngrep) instead of reading files;\n"
	"                      each failed flow is printed as soon as it is judged\n"
	"                      (--json: one JSON object a line), the summary at the\n"
	"                      end (SIGINT, SIGTERM or --duration); malformed packets\n"
	"                      are counted and dropped\n"
	"  --hep-key KEY       drop HEP packets that do not carry this key\n"
	"  --live IFACE        capture on this interface with libpcap instead (needs\n"
	"                      the capture rights), judged and printed the same way\n"
	"  --filter BPF        --live: the capture filter (default: UDP and TCP ports\n"
	"                      5060, 5061 and each --port)\n"
	"  --duration S        stop receiving after S seconds\n"
	"  --idle S            live: judge a flow idle this long (default 32)\n"
	"  --html-every S      live: rewrite the --html page every S seconds (it is\n"
	"                      always written at the end)\n"
	"  --keep N            live: judged flows kept for the reports (default 1000);\n"
	"                      older ones are forgotten once printed, their counts\n"
	"                      stay in the summary\n"
	"\n"
	"exit codes: 0 no failure found, 1 failures found, 2 usage error,\n"
	"3 unreadable input (the reason is printed: cannot open, not a capture or\n"
	"log, unknown link type, truncated file; for a truncated capture the\n"
	"packets before the damage are still analysed and reported).\n";

static void write_stdout(void *arg, const char *p, size_t n)
{
	(void)arg;
	fwrite(p, 1, n, stdout);
}

static void write_file(void *arg, const char *p, size_t n)
{
	fwrite(p, 1, n, (FILE *)arg);
}

static void progress(void *arg, uint64_t done, uint64_t total)
{
	(void)arg;
	if (total)
		fprintf(stderr, "\r  reading: %3u%%", (unsigned)(done * 100 / total));
}

static int usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "sipwarden analyze: %s%s%s\n(see 'sipwarden analyze --help')\n", msg,
		arg ? " " : "", arg ? arg : "");
	return 2;
}

int cmd_analyze(int argc, char **argv)
{
	struct sw_trace_opts o;
	memset(&o, 0, sizeof(o));
	const char *creds_path = NULL, *html = NULL, *hep = NULL, *hep_key = NULL, *live = NULL, *filter = NULL;
	double duration = 0, idle = 32, html_every = 0;
	size_t keep = 1000;
	bool json = false, verbose = false;
	const char **files = calloc((size_t)argc + 1, sizeof(*files));
	unsigned nfiles = 0;
	if (!files)
		return 2;
	int rc = 2;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(usage_text, stdout);
			rc = 0;
			goto out;
		} else if (!strcmp(a, "--json")) {
			json = true;
		} else if (!strcmp(a, "--verbose")) {
			verbose = true;
		} else if (!strcmp(a, "--hep") || !strcmp(a, "--hep-key") || !strcmp(a, "--duration") ||
			   !strcmp(a, "--idle") || !strcmp(a, "--live") || !strcmp(a, "--filter") ||
			   !strcmp(a, "--html-every") || !strcmp(a, "--keep")) {
			if (i + 1 >= argc) {
				rc = usage_error("missing value after", a);
				goto out;
			}
			const char *v = argv[++i];
			if (!strcmp(a, "--hep")) {
				hep = v;
			} else if (!strcmp(a, "--live")) {
				live = v;
			} else if (!strcmp(a, "--filter")) {
				filter = v;
			} else if (!strcmp(a, "--keep")) {
				char *end;
				long k = strtol(v, &end, 10);
				if (*end || k < 1 || k > 10000000) {
					rc = usage_error("--keep needs a number 1-10000000, not", v);
					goto out;
				}
				keep = (size_t)k;
			} else if (!strcmp(a, "--hep-key")) {
				hep_key = v;
			} else {
				char *end;
				double d = strtod(v, &end);
				if (*end || !(d > 0 && d <= 31536000)) {
					rc = usage_error("needs seconds (more than 0, at most a year), not", v);
					goto out;
				}
				*(!strcmp(a, "--duration") ? &duration : !strcmp(a, "--idle") ? &idle : &html_every) = d;
			}
		} else if (!strcmp(a, "--credentials") || !strcmp(a, "--user") || !strcmp(a, "--html") ||
			   !strcmp(a, "--port")) {
			if (i + 1 >= argc) {
				rc = usage_error("missing value after", a);
				goto out;
			}
			const char *v = argv[++i];
			if (!strcmp(a, "--credentials")) {
				creds_path = v;
			} else if (!strcmp(a, "--user")) {
				o.user = v;
			} else if (!strcmp(a, "--html")) {
				html = v;
			} else {
				char *end;
				long p = strtol(v, &end, 10);
				if (*end || p < 1 || p > 65535) {
					rc = usage_error("--port needs a number 1-65535, not", v);
					goto out;
				}
				if (o.nports == SW_TRACE_MAX_PORTS) {
					rc = usage_error("too many --port options", NULL);
					goto out;
				}
				o.ports[o.nports++] = (uint16_t)p;
			}
		} else if (a[0] == '-' && a[1]) {
			rc = usage_error("unknown option", a);
			goto out;
		} else {
			files[nfiles++] = a;
		}
	}
	char why[512];
	struct sw_listen hl;
	if ((hep || live) && nfiles) {
		rc = usage_error("--hep and --live take no input files", NULL);
		goto out;
	}
	if (hep && live) {
		rc = usage_error("--hep or --live, not both", NULL);
		goto out;
	}
	if (html_every > 0 && (!html || (!hep && !live))) {
		rc = usage_error("--html-every needs --html and --hep or --live", NULL);
		goto out;
	}
	struct analyze_live_opts lo = { .duration = duration, .json = json, .html = html, .html_every = html_every,
					.keep = keep };
	if (hep && (strncmp(hep, "udp:", 4) || sw_listen_parse(hep, &hl, why, sizeof(why)))) {
		rc = usage_error("--hep needs udp:ADDR:PORT, not", hep);
		goto out;
	}
	if (!nfiles && !hep && !live) {
		rc = usage_error("no input file", NULL);
		goto out;
	}
	/* the default capture filter: the SIP ports, both transports (and IP
	 * fragments, whose later pieces carry no port) */
	char deffilter[1024];
	if (live && !filter) {
		int n = snprintf(deffilter, sizeof(deffilter), "port 5060 or port 5061");
		for (unsigned i = 0; i < o.nports && n > 0 && (size_t)n < sizeof(deffilter) - 16; i++)
			n += snprintf(deffilter + n, sizeof(deffilter) - (size_t)n, " or port %u", o.ports[i]);
		snprintf(deffilter + n, sizeof(deffilter) - (size_t)n, " or (ip[6:2] & 0x3fff != 0)");
		filter = deffilter;
	}
	if (hep || live)
		o.idle_us = (uint64_t)(idle * 1e6);
	struct sw_creds *creds = NULL;
	if (creds_path) {
		int e = sw_creds_load(&creds, creds_path, why, sizeof(why));
		if (e) {
			fprintf(stderr, "sipwarden analyze: --credentials %s: %s\n", creds_path, why);
			rc = e == SW_EPARSE ? 2 : 3;
			goto out;
		}
		o.creds = creds;
	}
	if (isatty(STDERR_FILENO) && !hep && !live)
		o.progress = progress;
	struct sw_trace *t;
	if (sw_trace_new(&t, &o)) {
		sw_creds_free(creds);
		fprintf(stderr, "sipwarden analyze: out of memory\n");
		rc = 3;
		goto out;
	}
	bool unreadable = false;
	struct analyze_live_counts lc = { 0 };
	if (hep && analyze_hep(t, &hl, hep, hep_key, &lo, &lc)) {
		rc = 3;
		goto done;
	}
	if (live && analyze_pcap_live(t, live, filter, &lo, &lc)) {
		rc = 3;
		goto done;
	}
	if (live)
		fprintf(stderr, "sipwarden analyze: %llu packets captured, %llu dropped by the kernel\n",
			(unsigned long long)lc.packets, (unsigned long long)lc.dropped);
	if (hep)
		fprintf(stderr, "sipwarden analyze: %llu HEP packets: %llu malformed, %llu without the key, %llu not SIP (dropped)\n",
			(unsigned long long)lc.packets, (unsigned long long)lc.malformed,
			(unsigned long long)lc.bad_key, (unsigned long long)lc.not_sip);
	for (unsigned i = 0; i < nfiles; i++) {
		why[0] = '\0';
		int e = sw_trace_read_file(t, files[i], why, sizeof(why));
		if (o.progress)
			fputs("\r                \r", stderr);
		if (e) {
			fprintf(stderr, "sipwarden analyze: %s: %s\n", files[i], why);
			unreadable = true;
		}
	}
	const struct sw_trace_stats *st = sw_trace_stats(t);
	if (unreadable && st->sip_msgs == 0 && !hep && !live) {
		rc = 3;
		goto done;
	}
	if (sw_trace_analyze(t)) {
		fprintf(stderr, "sipwarden analyze: out of memory\n");
		rc = 3;
		goto done;
	}
	if (hep || live) {
		if (json)
			analyze_live_summary(t, &lc);
		else
			sw_trace_report_text(t, verbose, write_stdout, NULL);
	} else if (json) {
		sw_trace_report_json(t, write_stdout, NULL);
	} else {
		sw_trace_report_text(t, verbose, write_stdout, NULL);
	}
	rc = st->failures ? 1 : 0;
	if (html) {
		FILE *f = fopen(html, "w");
		if (!f) {
			perror(html);
			rc = 3;
		} else {
			sw_trace_report_html(t, write_file, f);
			if (fclose(f)) {
				perror(html);
				rc = 3;
			}
		}
	}
	if (unreadable)
		rc = 3;
done:
	sw_trace_free(t);
	sw_creds_free(creds);
out:
	free(files);
	fflush(stdout);
	return rc;
}
