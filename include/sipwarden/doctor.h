/* sipwarden — the doctor behind `sipwarden check`: acts as a SIP client
 * against any registrar and explains, with a cause id from the causes
 * table, why registration works or fails. See docs/internals/doctor.md.
 *
 * The steps (RFC 3263 resolution, OPTIONS reachability, REGISTER with the
 * challenge read and answered, network findings, unregistration) write into
 * one struct sw_doctor_report; the library never prints. The steps that talk
 * SIP do so through struct sw_doctor_io, so that the classification can be
 * fed canned responses. */
#ifndef SIPWARDEN_DOCTOR_H
#define SIPWARDEN_DOCTOR_H

#include <sys/socket.h>
#include "sipwarden/common.h"
#include "sipwarden/buf.h"
#include "sipwarden/causes.h"
#include "sipwarden/transport.h"

#define SW_DOCTOR_TP_AUTO (-1)
#define SW_DOCTOR_EXPIRES_DEFAULT 3600u
#define SW_DOCTOR_TIMEOUT_MS_DEFAULT 4000u
/* The largest padded OPTIONS of the UDP size probe. */
#define SW_DOCTOR_FRAG_MAX 4096u

struct sw_doctor_cfg {
	const char *user;        /* user part of the AOR (as written, escaped) */
	const char *domain;      /* host part of the AOR (no port) */
	int domain_port;         /* port of the AOR URI, -1 when absent */
	const char *password;    /* the password, or NULL ... */
	const char *ha1;         /* ... the MD5 HA1 in hex, or NULL (no credentials) */
	const char *auth_user;   /* digest username; NULL: the user part */
	const char *proxy;       /* "HOST[:PORT]" to send to instead of resolving */
	int transport;           /* SW_DOCTOR_TP_AUTO or an enum sw_transport */
	uint32_t expires;        /* 0: SW_DOCTOR_EXPIRES_DEFAULT */
	unsigned timeout_ms;     /* per transaction; 0: SW_DOCTOR_TIMEOUT_MS_DEFAULT */
	bool keep;               /* leave the registration in place */
	bool no_frag_probe;      /* skip the padded-OPTIONS size probe */
	/* Called before each step that waits on the network (may be NULL). */
	void (*progress)(void *arg, const char *what);
	void *progress_arg;
};

#define SW_DOCTOR_MAX_FINDINGS 16u
#define SW_DOCTOR_MAX_NOTES 48u
#define SW_DOCTOR_MAX_BINDINGS 8u

struct sw_doctor_finding {
	enum sw_cause cause;
	enum sw_severity severity;  /* the doctor's judgement in this context */
	bool problem;               /* counts for exit code 1 */
	char observed[512];         /* one line: what was seen */
	char evidence[1536];        /* the relevant SIP lines, '\n'-separated */
	char detail[768];           /* specifics beyond the table's explanation */
};

struct sw_doctor_report {
	char aor[256];
	/* What was done, in order ("UDP 127.0.0.1:5060: OPTIONS answered 200"). */
	char notes[SW_DOCTOR_MAX_NOTES][512]; /* long enough for a TLS certificate verdict */
	unsigned nnotes;
	struct sw_doctor_finding findings[SW_DOCTOR_MAX_FINDINGS];
	unsigned nfindings;
	/* the challenge to the REGISTER without credentials */
	bool challenged;
	char realm[256], algorithms[128], qop[64], opaque[256];
	char auth_user_ok[256];     /* the digest username that was accepted */
	/* the outcome */
	bool registered;
	uint32_t granted;           /* expires granted to our contact */
	char bindings[SW_DOCTOR_MAX_BINDINGS][256];
	unsigned nbindings;
	bool unregistered;
	char used[96];              /* "UDP 127.0.0.1:5060" */
	bool cannot_run;            /* the check itself could not run (exit 3) */
	char cannot_run_why[256];
};

/* ---- running the whole check (lib/doctor/doctor.c) ---------------------- */

/* Runs every step against the real network. Fills r (zeroed first).
 * Returns 0, or SW_EINVAL for a bad configuration. The verdict is in r:
 * sw_doctor_exit_code() turns it into 0, 1 or 3. */
int sw_doctor_run(const struct sw_doctor_cfg *cfg, struct sw_doctor_report *r);

/* ---- one SIP round trip (lib/doctor/conn.c for the real network) -------- */

enum sw_doctor_xres {
	SW_DX_ANSWER = 0,   /* a final response is in resp */
	SW_DX_TIMEOUT,      /* nothing within the timeout (after retransmissions) */
	SW_DX_REFUSED,      /* ICMP port unreachable (UDP) or connection refused */
	SW_DX_CLOSED,       /* the connection was closed (TCP) */
	SW_DX_TLS_FAILED,   /* TLS handshake or certificate failure (opening only) */
};

struct sw_doctor_io {
	/* Sends the request req and waits for its final response (1xx are
	 * skipped; responses to other requests ignored). Returns an enum
	 * sw_doctor_xres, or a negative SW_E* code. *rlen is the response
	 * length; resp has cap bytes. */
	int (*exchange)(void *self, const char *req, size_t len, char *resp, size_t cap,
			size_t *rlen);
	void *self;
	enum sw_transport tp;
	char local_host[64];     /* our address as the socket sees it */
	int local_port;
	char peer[80];           /* "127.0.0.1:5060" */
	size_t last_sent;        /* bytes of the last request (set by the doctor) */
	char tls[400];           /* TLS: protocol, cipher and the verified certificate */
};

/* Where to go (lib/doctor/resolve.c). */
struct sw_doctor_target {
	enum sw_transport tp;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char how[96];            /* "SRV _sip._udp.example.com", "--proxy", "A example.com" */
	/* TLS: the name the certificate must carry (RFC 5922 §4: the domain
	 * of the URI, or the --proxy host, not the SRV target), also sent as
	 * SNI unless it is an IP address */
	char name[256];
};

/* A real connection to one target: a connected UDP socket (so that ICMP
 * port unreachable comes back as SW_DX_REFUSED), a TCP connection (opened
 * within timeout_ms), or a TLS connection over it: handshake within
 * timeout_ms, SNI t->name, the chain verified against the default trust
 * store (OpenSSL's, so SSL_CERT_FILE / SSL_CERT_DIR apply) and the
 * certificate's names against t->name (host name or IP address). Returns
 * an enum sw_doctor_xres (ANSWER meaning open; SW_DX_TLS_FAILED with the
 * reason on the first line of why and the server certificate's subject,
 * issuer and names, when one came, on the following lines), or
 * SW_EIO/SW_EINVAL. Close with sw_doctor_conn_close(). */
int sw_doctor_conn_open(struct sw_doctor_io *io, const struct sw_doctor_target *t, unsigned timeout_ms,
			char *why, size_t whycap);
void sw_doctor_conn_close(struct sw_doctor_io *io);

/* ---- the steps, usable with any io (unit tests feed canned answers) ------ */
#define SW_DOCTOR_MAX_TARGETS 16u
/* RFC 3263 for cfg (or cfg->proxy). Fills up to SW_DOCTOR_MAX_TARGETS
 * targets and notes each in r; adds dns-failed when nothing resolves.
 * Returns the number of targets (0 when none). */
int sw_doctor_resolve(const struct sw_doctor_cfg *cfg, struct sw_doctor_target *t, unsigned cap,
		      struct sw_doctor_report *r);

/* OPTIONS over one connection (lib/doctor/probe.c). Returns an enum
 * sw_doctor_xres; *status gets the answer's status code. Notes it in r. */
int sw_doctor_options(struct sw_doctor_io *io, const struct sw_doctor_cfg *cfg, size_t pad,
		      unsigned *status, struct sw_doctor_report *r);

/* Steps 3, 4 and 6: REGISTER without credentials, the challenge read and
 * answered, the final answer classified, retries (stale, 423, 407,
 * auth-user variants), the network findings of the answers, and the
 * unregistration unless cfg->keep (lib/doctor/register.c). Returns 0, or
 * a negative code when the check could not run (r->cannot_run is set). */
int sw_doctor_register(struct sw_doctor_io *io, const struct sw_doctor_cfg *cfg,
		       struct sw_doctor_report *r);

/* Network findings (lib/doctor/network.c). */
/* nat-detected when the top Via of resp carries received/rport differing
 * from what we sent (sent_host, sent_port). Returns true when added. */
bool sw_doctor_check_nat(const char *resp, size_t len, const char *sent_host, int sent_port,
			 struct sw_doctor_report *r);
/* sip-alg-suspected when the 200 to our REGISTER shows our Via sent-by or
 * our Contact (found by the canary token) other than as sent. */
bool sw_doctor_check_alg(const char *resp, size_t len, const char *sent_via, const char *sent_contact,
			 const char *canary, struct sw_doctor_report *r);
/* The padded-OPTIONS size probe over UDP; need is the size of the
 * authenticated REGISTER (0 when unknown). Adds udp-fragmentation when
 * answers stop below need (or below SW_DOCTOR_FRAG_MAX when need is 0 and
 * answers stop after some came). Returns the largest answered size. */
size_t sw_doctor_probe_sizes(struct sw_doctor_io *io, const struct sw_doctor_cfg *cfg, size_t need,
			     struct sw_doctor_report *r);

/* ---- the report (lib/doctor/report.c) ------------------------------------ */

/* Adds a finding (severity from the causes table; problem when it is an
 * error). Returns it for further editing, or NULL when the report is full.
 * The same cause is not added twice: the existing one is returned. */
struct sw_doctor_finding *sw_doctor_add(struct sw_doctor_report *r, enum sw_cause c,
					const char *observed_fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The finding of cause c, or NULL. */
struct sw_doctor_finding *sw_doctor_find(struct sw_doctor_report *r, enum sw_cause c);
/* Appends one evidence line / detail text (printf style). */
void sw_doctor_evidence(struct sw_doctor_finding *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sw_doctor_detail(struct sw_doctor_finding *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Appends a line to what was done. */
void sw_doctor_note(struct sw_doctor_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Marks the check as unable to run. */
void sw_doctor_cannot_run(struct sw_doctor_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* 0 registration works, 1 a problem was found, 3 the check could not run. */
int sw_doctor_exit_code(const struct sw_doctor_report *r);
/* The report, findings ordered by importance (errors first). */
void sw_doctor_render_text(struct sw_buf *b, const struct sw_doctor_report *r);
/* One JSON object: aor, verdict, exit_code, registered, granted_expires,
 * bindings, challenge, steps, findings [{id, severity, problem, observed,
 * evidence [lines], explanation, detail, fix_class, fix}]. */
void sw_doctor_render_json(struct sw_buf *b, const struct sw_doctor_report *r);

#endif
