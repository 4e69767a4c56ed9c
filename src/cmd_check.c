/* sipwarden check: the 401 doctor. Argument handling and output only; the
 * checks live in lib/doctor. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sipwarden/doctor.h"
#include "sipwarden/msg.h"
#include "commands.h"

static const char usage_text[] =
	"usage: sipwarden check sip:USER@DOMAIN [--password P | --password-stdin | --ha1 HEX]\n"
	"                       [--auth-user NAME] [--proxy HOST[:PORT]]\n"
	"                       [--transport udp|tcp|tls|auto] [--expires N]\n"
	"                       [--timeout SECONDS] [--keep] [--json]\n"
	"\n"
	"Registers USER@DOMAIN the way a careful SIP engineer would, and says in\n"
	"plain words what is wrong and what to do. Every finding names a cause id\n"
	"of 'sipwarden causes'. In order, stopping where later steps cannot tell\n"
	"more:\n"
	"  1. where to go: --proxy, else RFC 3263 (NAPTR, SRV, A/AAAA) for DOMAIN\n"
	"  2. OPTIONS over UDP and TCP (and TLS): ICMP port unreachable is told\n"
	"     apart from silence; UDP silent while TCP answers is udp-blocked-tcp-ok;\n"
	"     a TLS handshake or certificate failure is tls-failed with the reason\n"
	"  3. REGISTER without credentials: the challenge (realm, algorithms, qop)\n"
	"  4. the answer to the challenge, its final response classified; retries\n"
	"     with a stale nonce, with the server's Min-Expires after 423, with\n"
	"     Proxy-Authorization after 407, and with the other auth usernames\n"
	"     (USER, --auth-user, USER@DOMAIN) after a rejection\n"
	"  5. NAT (Via received/rport), a SIP ALG (Via/Contact rewritten), UDP\n"
	"     fragmentation (padded OPTIONS up to 4096 bytes)\n"
	"  6. unregisters (Expires: 0) unless --keep\n"
	"Digests are only sent to the address that challenged.\n"
	"\n"
	"  --password P       the password (visible to other users of this machine:\n"
	"                     prefer --password-stdin)\n"
	"  --password-stdin   read the password from the first line of standard input\n"
	"  --ha1 HEX          the MD5 HA1 (32 hex digits) instead of the password\n"
	"  --auth-user NAME   the digest (auth) username, when it is not USER\n"
	"  --proxy HOST[:PORT] send to HOST instead of resolving DOMAIN\n"
	"  --transport T      udp, tcp, tls or auto (default auto: UDP and TCP are\n"
	"                     probed, and TLS when NAPTR/SRV publish it; the first of\n"
	"                     UDP, TCP, TLS that answers is used). A sips: address or\n"
	"                     ;transport=tls means tls. TLS (port 5061 unless given)\n"
	"                     verifies the certificate chain against OpenSSL's default\n"
	"                     trust store (SSL_CERT_FILE, SSL_CERT_DIR) and its names\n"
	"                     against DOMAIN, or the --proxy host; failures are\n"
	"                     tls-failed with the reason\n"
	"  --expires N        registration interval to ask for (default 3600)\n"
	"  --timeout SECONDS  per transaction, UDP retransmissions included (default 4)\n"
	"  --keep             leave the registration in place\n"
	"  --json             the report as one JSON object\n"
	"\n"
	"exit codes: 0 registration works, 1 a problem was found (the findings say\n"
	"which), 2 usage error, 3 the check itself could not run.\n";

struct opts {
	const char *target, *password, *ha1, *auth_user, *proxy, *transport, *expires, *timeout;
	bool pw_stdin, keep, json;
};

static int usage_error(const char *fmt, const char *arg)
{
	fputs("sipwarden check: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\n(see 'sipwarden check --help')\n", stderr);
	return 2;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct { const char *name; size_t off; } valued[] = {
#define O(n, f) { n, offsetof(struct opts, f) }
		O("--password", password), O("--ha1", ha1), O("--auth-user", auth_user),
		O("--proxy", proxy), O("--transport", transport), O("--expires", expires),
		O("--timeout", timeout),
#undef O
	};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h"))
			return 1;
		if (!strcmp(a, "--password-stdin")) {
			o->pw_stdin = true;
			continue;
		}
		if (!strcmp(a, "--keep")) {
			o->keep = true;
			continue;
		}
		if (!strcmp(a, "--json")) {
			o->json = true;
			continue;
		}
		if (a[0] != '-') {
			if (o->target)
				return usage_error("unexpected argument '%s'", a);
			o->target = a;
			continue;
		}
		size_t k;
		for (k = 0; k < sizeof(valued) / sizeof(valued[0]); k++)
			if (!strcmp(a, valued[k].name))
				break;
		if (k == sizeof(valued) / sizeof(valued[0]))
			return usage_error("unknown option '%s'", a);
		if (i + 1 >= argc)
			return usage_error("%s needs a value", a);
		const char **slot = (const char **)((char *)o + valued[k].off);
		if (*slot)
			return usage_error("%s given twice", a);
		*slot = argv[++i];
	}
	return 0;
}

static void on_progress(void *arg, const char *what)
{
	(void)arg;
	fprintf(stderr, "\r\033[K... %s", what);
	fflush(stderr);
}

static bool hex32(const char *s)
{
	if (strlen(s) != 32)
		return false;
	for (size_t i = 0; i < 32; i++)
		if (!strchr("0123456789abcdef", s[i]))
			return false;
	return true;
}

int cmd_check(int argc, char **argv)
{
	struct opts o = { 0 };
	int rc = parse_args(argc, argv, &o);
	if (rc == 1) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (rc)
		return rc;
	if (!o.target)
		return usage_error("%s", "which account? give sip:USER@DOMAIN");
	if (!!o.password + o.pw_stdin + !!o.ha1 > 1)
		return usage_error("%s", "give one of --password, --password-stdin, --ha1");

	struct sw_uri u;
	if (sw_uri_parse(&u, sw_str_from(o.target, strlen(o.target)), NULL) ||
	    (u.scheme != SW_URI_SIP && u.scheme != SW_URI_SIPS) || !u.user.len || !u.host.len)
		return usage_error("'%s' is not a sip:USER@DOMAIN address", o.target);
	char user[256], domain[256];
	if (u.user.len >= sizeof(user) || u.host.len >= sizeof(domain))
		return usage_error("'%s' is too long", o.target);
	sw_str_cpy(user, sizeof(user), u.user);
	sw_str_cpy(domain, sizeof(domain), u.host);

	struct sw_doctor_cfg cfg = {
		.user = user, .domain = domain, .domain_port = u.port, .password = o.password,
		.auth_user = o.auth_user, .proxy = o.proxy, .transport = SW_DOCTOR_TP_AUTO,
		.keep = o.keep,
	};
	/* RFC 3263 §4.1: sips: and ;transport= of the URI choose the transport */
	sw_str tpp;
	if (u.scheme == SW_URI_SIPS)
		cfg.transport = SW_TP_TLS;
	else if (sw_param_get(u.params, "transport", &tpp))
		cfg.transport = sw_str_ieq(tpp, "tls") ? SW_TP_TLS : sw_str_ieq(tpp, "tcp") ? SW_TP_TCP
			      : sw_str_ieq(tpp, "udp") ? SW_TP_UDP : SW_DOCTOR_TP_AUTO;
	if (o.transport) {
		if (!strcmp(o.transport, "udp"))
			cfg.transport = SW_TP_UDP;
		else if (!strcmp(o.transport, "tcp"))
			cfg.transport = SW_TP_TCP;
		else if (!strcmp(o.transport, "tls"))
			cfg.transport = SW_TP_TLS;
		else if (strcmp(o.transport, "auto"))
			return usage_error("--transport must be udp, tcp, tls or auto, not '%s'", o.transport);
	}
	if (o.expires) {
		char *end;
		unsigned long v = strtoul(o.expires, &end, 10);
		if (!*o.expires || *end || o.expires[0] == '-' || v < 1 || v > 2147483647ul)
			return usage_error("--expires must be 1..2147483647 seconds, not '%s'", o.expires);
		cfg.expires = (uint32_t)v;
	}
	cfg.timeout_ms = SW_DOCTOR_TIMEOUT_MS_DEFAULT;
	if (o.timeout) {
		char *end;
		double v = strtod(o.timeout, &end);
		if (!*o.timeout || *end || !(v >= 0.1 && v <= 300))
			return usage_error("--timeout must be 0.1..300 seconds, not '%s'", o.timeout);
		cfg.timeout_ms = (unsigned)(v * 1000.0 + 0.5);
	}
	if (o.ha1) {
		if (!hex32(o.ha1))
			return usage_error("%s", "--ha1 must be the MD5 HA1: 32 lower-case hex digits");
		cfg.ha1 = o.ha1;
	}
	char pw[1024];
	if (o.pw_stdin) {
		if (!fgets(pw, sizeof(pw), stdin))
			return usage_error("%s", "--password-stdin: nothing on standard input");
		pw[strcspn(pw, "\r\n")] = 0;
		cfg.password = pw;
	}
	bool tty = isatty(2);
	if (tty)
		cfg.progress = on_progress;

	struct sw_doctor_report *r = calloc(1, sizeof(*r));
	size_t cap = 256 * 1024;
	char *out = malloc(cap);
	if (!r || !out) {
		free(r);
		free(out);
		fputs("sipwarden check: out of memory\n", stderr);
		return 3;
	}
	int err = sw_doctor_run(&cfg, r);
	if (tty)
		fputs("\r\033[K", stderr);
	if (err) {
		fprintf(stderr, "sipwarden check: %s\n", sw_strerror(err));
		rc = 3;
	} else {
		struct sw_buf b;
		sw_buf_init(&b, out, cap);
		if (o.json)
			sw_doctor_render_json(&b, r);
		else
			sw_doctor_render_text(&b, r);
		fwrite(b.p, 1, b.len, stdout);
		rc = sw_doctor_exit_code(r);
	}
	memset(pw, 0, sizeof(pw));
	free(r);
	free(out);
	return rc;
}
