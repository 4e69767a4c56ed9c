/* sipwarden — the SIP message library: parser, typed accessors, printer.
 *
 * Zero-copy: every sw_str points into the buffer given to sw_msg_parse(),
 * which must outlive the struct sw_msg. The parser never writes to that
 * buffer and never allocates. Header values are parsed only when an
 * accessor asks for them. See docs/internals/msg.md. */
#ifndef SIPWARDEN_MSG_H
#define SIPWARDEN_MSG_H

#include "sipwarden/common.h"
#include "sipwarden/buf.h"

#define SW_MSG_MAX_SIZE_DEFAULT 65536u
#define SW_MSG_MAX_HEADER_LEN_DEFAULT 8192u
/* Capacity of struct sw_msg's header table (the hard upper bound of
 * sw_parse_opts.max_headers). */
#define SW_MSG_MAX_HEADERS 160u

enum sw_hdr_id {
	SW_HDR_OTHER = 0,
	SW_HDR_ACCEPT,
	SW_HDR_ALLOW,
	SW_HDR_ALLOW_EVENTS,
	SW_HDR_AUTHORIZATION,
	SW_HDR_CALL_ID,
	SW_HDR_CONTACT,
	SW_HDR_CONTENT_ENCODING,
	SW_HDR_CONTENT_LENGTH,
	SW_HDR_CONTENT_TYPE,
	SW_HDR_CSEQ,
	SW_HDR_DATE,
	SW_HDR_EVENT,
	SW_HDR_EXPIRES,
	SW_HDR_FROM,
	SW_HDR_MAX_FORWARDS,
	SW_HDR_MIN_EXPIRES,
	SW_HDR_PATH,
	SW_HDR_PROXY_AUTHENTICATE,
	SW_HDR_PROXY_AUTHORIZATION,
	SW_HDR_PROXY_REQUIRE,
	SW_HDR_RECORD_ROUTE,
	SW_HDR_REFER_TO,
	SW_HDR_REQUIRE,
	SW_HDR_RETRY_AFTER,
	SW_HDR_ROUTE,
	SW_HDR_SERVER,
	SW_HDR_SUBJECT,
	SW_HDR_SUPPORTED,
	SW_HDR_TO,
	SW_HDR_UNSUPPORTED,
	SW_HDR_USER_AGENT,
	SW_HDR_VIA,
	SW_HDR_WARNING,
	SW_HDR_WWW_AUTHENTICATE,
	SW_HDR__COUNT
};

enum sw_method {
	SW_METHOD_OTHER = 0,
	SW_METHOD_ACK,
	SW_METHOD_BYE,
	SW_METHOD_CANCEL,
	SW_METHOD_INFO,
	SW_METHOD_INVITE,
	SW_METHOD_MESSAGE,
	SW_METHOD_NOTIFY,
	SW_METHOD_OPTIONS,
	SW_METHOD_PRACK,
	SW_METHOD_PUBLISH,
	SW_METHOD_REFER,
	SW_METHOD_REGISTER,
	SW_METHOD_SUBSCRIBE,
	SW_METHOD_UPDATE,
};

/* Where and what went wrong. `status` is the SIP response a server should
 * answer with (400, 505, 513...), 0 when the input should just be dropped. */
struct sw_perr {
	int code;          /* SW_EPARSE, SW_EAGAIN, SW_ETOOBIG... */
	unsigned status;   /* suggested SIP status for a reply */
	const char *at;    /* where in the input, or NULL */
	unsigned line;     /* 1-based, 0 when unknown */
	unsigned col;      /* 1-based, 0 when unknown */
	sw_str header;     /* name of the header at fault, if any */
	const char *what;  /* static text: what was expected or found */
};

struct sw_parse_opts {
	size_t max_size;        /* 0: SW_MSG_MAX_SIZE_DEFAULT */
	unsigned max_headers;   /* 0: SW_MSG_MAX_HEADERS */
	size_t max_header_len;  /* 0: SW_MSG_MAX_HEADER_LEN_DEFAULT */
	/* Stream (TCP/TLS): a missing Content-Length means an empty body and a
	 * short input gives SW_EAGAIN. Datagram (default): no Content-Length
	 * means the body is the rest; a Content-Length past the end is an error;
	 * bytes past the body are ignored. */
	bool stream;
};

struct sw_hdr {
	sw_str name;      /* as written (compact or long, any case) */
	sw_str value;     /* trimmed; may contain folded CRLF+WSP */
	uint16_t id;      /* enum sw_hdr_id */
	uint16_t next;    /* index of the next header with the same id, or SW_HDR_NONE */
	uint32_t line;    /* 1-based line of the header name */
};
#define SW_HDR_NONE 0xffffu

struct sw_msg; /* below, after the typed headers it keeps */

/* ---- whole messages ---------------------------------------------------- */

/* Parses the start line, splits the headers and frames the body. Linear in
 * len. Returns 0, or a negative code with *err filled (err may be NULL). */
int sw_msg_parse(struct sw_msg *m, const char *buf, size_t len,
		 const struct sw_parse_opts *opts, struct sw_perr *err);

/* Validates what a registrar or proxy relies on (RFC 3261 §8.1.1, §8.2,
 * §20): mandatory headers present and single where they must be; Via, From,
 * To, Contact, CSeq, Call-ID, Max-Forwards, Expires, Min-Expires, Date and
 * the auth headers parse; CSeq method matches; Request-URI is a URI; the
 * version is SIP/2.0 (else status 505). Returns 0 or SW_EPARSE/SW_EVERSION. */
int sw_msg_check(const struct sw_msg *m, struct sw_perr *err);
/* What a proxy needs of a response it relays (RFC 3261 §16.7): as
 * sw_msg_check, but its Contact, Route and Record-Route values are the
 * endpoints' business and pass on unread, as other proxies pass them.
 * A request gets the whole check. */
int sw_msg_check_relay(const struct sw_msg *m, struct sw_perr *err);

/* Fills err->line and err->col from err->at, for a message buffer. */
void sw_perr_locate(struct sw_perr *err, const char *buf, size_t len);
/* "line 3, column 7 (Via): expected a transport" into out; returns out. */
const char *sw_perr_format(const struct sw_perr *err, char *out, size_t cap);

/* ---- headers ----------------------------------------------------------- */

const struct sw_hdr *sw_msg_hdr(const struct sw_msg *m, enum sw_hdr_id id);
const struct sw_hdr *sw_msg_hdr_next(const struct sw_msg *m, const struct sw_hdr *h);
/* By name, case-insensitive; compact forms match their long name. */
const struct sw_hdr *sw_msg_hdr_by_name(const struct sw_msg *m, const char *name);
/* The id of a header name (long or compact form), SW_HDR_OTHER if unknown. */
enum sw_hdr_id sw_hdr_lookup(const char *name, size_t len);
/* Canonical long name of a known header id ("Call-ID"), NULL for OTHER. */
const char *sw_hdr_name(enum sw_hdr_id id);
enum sw_method sw_method_lookup(const char *name, size_t len);

/* Iterates over the comma-separated elements of every header of one id, in
 * message order. Commas inside quoted strings and <...> do not split. */
struct sw_hdr_iter {
	const struct sw_msg *m;
	unsigned idx;         /* current header index, SW_HDR_NONE at the end */
	const char *pos;      /* next byte to read in that header's value */
};
void sw_hdr_iter_init(struct sw_hdr_iter *it, const struct sw_msg *m, enum sw_hdr_id id);
/* 1 and *elem (trimmed) while elements remain, 0 at the end. Empty elements
 * are returned as empty slices so that callers can reject them. */
int sw_hdr_iter_next(struct sw_hdr_iter *it, sw_str *elem, const struct sw_hdr **hdr);

/* ---- parameters (";name=value" lists) ---------------------------------- */

/* Takes the next parameter off *rest (which starts at a ';' or is empty).
 * name and value are trimmed of LWS; value.p is NULL for a flag parameter;
 * a quoted value keeps its quotes. Returns 1, 0 at the end, SW_EPARSE. */
int sw_param_next(sw_str *rest, sw_str *name, sw_str *value);
/* Case-insensitive lookup. Returns true when present. */
bool sw_param_get(sw_str params, const char *name, sw_str *value);

/* ---- URIs (RFC 3261 §19.1, RFC 3966 tel) -------------------------------- */

enum sw_uri_scheme { SW_URI_OTHER = 0, SW_URI_SIP, SW_URI_SIPS, SW_URI_TEL };

struct sw_uri {
	enum sw_uri_scheme scheme;
	sw_str scheme_str;
	sw_str user;          /* escaped as written; includes ;params of the user part */
	sw_str password;
	sw_str host;          /* IPv6 references keep their brackets */
	int port;             /* -1 when absent */
	bool host_ipv6;
	sw_str params;        /* ";transport=tcp;lr" (leading ';'), empty if none */
	sw_str headers;       /* after '?', escaped */
	sw_str opaque;        /* other schemes: everything after "scheme:" */
	sw_str raw;
};

int sw_uri_parse(struct sw_uri *u, sw_str s, struct sw_perr *err);
/* RFC 3261 §19.1.4 comparison: case rules, %HH escapes, parameters. */
bool sw_uri_equal(const struct sw_uri *a, const struct sw_uri *b);
/* Decodes %HH escapes into out (not NUL-terminated); returns the length or
 * SW_ENOSPC / SW_EPARSE for a broken escape. */
int sw_uri_unescape(sw_str in, char *out, size_t cap);

/* ---- typed headers ----------------------------------------------------- */

struct sw_via {
	sw_str protocol;      /* "SIP" */
	sw_str version;       /* "2.0" */
	sw_str transport;     /* "UDP", "TCP", ... */
	sw_str host;          /* IPv6 references keep their brackets */
	int port;             /* -1 when absent */
	sw_str params;
	sw_str branch, received, maddr;
	bool has_rport;
	int rport;            /* -1: "rport" without a value */
	int ttl;              /* -1 when absent */
	sw_str raw;
};

struct sw_addr {
	bool star;            /* Contact: * */
	sw_str display;       /* as written, with quotes when quoted */
	bool bracketed;       /* name-addr form <...> */
	struct sw_uri uri;
	sw_str params;        /* header parameters after the URI */
	sw_str tag;
	bool has_expires;
	uint32_t expires;
	bool has_q;
	uint16_t q;           /* q-value in thousandths (0..1000) */
	sw_str raw;
};

struct sw_cseq {
	uint32_t num;         /* <= 2^31 - 1 */
	sw_str method;
	enum sw_method method_id;
};


/* Authorization / Proxy-Authorization / WWW-Authenticate /
 * Proxy-Authenticate (RFC 3261 §25, RFC 7616). Quoted values are given
 * without their quotes but with any backslash escapes left in place
 * (sw_str_unquote() removes them); quoted_mask records which were quoted. */
struct sw_auth {
	sw_str scheme;        /* "Digest" */
	bool is_digest;
	sw_str username, username_ext, realm, domain, nonce, uri, response;
	sw_str algorithm, cnonce, opaque, qop, nc, stale, userhash, charset;
	sw_str params;        /* the whole parameter list, for unknown params */
	sw_str next;          /* further challenges in the same header value */
	uint32_t quoted_mask; /* bit SW_AUTH_P_* set when that value was quoted */
	sw_str raw;
};
enum {
	SW_AUTH_P_USERNAME = 1u << 0, SW_AUTH_P_REALM = 1u << 1, SW_AUTH_P_NONCE = 1u << 2,
	SW_AUTH_P_URI = 1u << 3, SW_AUTH_P_RESPONSE = 1u << 4, SW_AUTH_P_ALGORITHM = 1u << 5,
	SW_AUTH_P_CNONCE = 1u << 6, SW_AUTH_P_OPAQUE = 1u << 7, SW_AUTH_P_QOP = 1u << 8,
	SW_AUTH_P_NC = 1u << 9, SW_AUTH_P_STALE = 1u << 10, SW_AUTH_P_DOMAIN = 1u << 11,
	SW_AUTH_P_USERHASH = 1u << 12, SW_AUTH_P_CHARSET = 1u << 13, SW_AUTH_P_USERNAME_EXT = 1u << 14,
};

struct sw_msg {
	const char *buf;
	size_t len;           /* bytes of this message, headers + body */
	bool is_request;
	/* request line */
	sw_str method;
	enum sw_method method_id;
	sw_str ruri;
	/* status line */
	unsigned status;
	sw_str reason;
	sw_str version;       /* "SIP/2.0" */
	sw_str body;
	bool has_content_length;
	unsigned nhdrs;
	uint16_t first[SW_HDR__COUNT];  /* first header of each id, or SW_HDR_NONE */
	uint16_t count[SW_HDR__COUNT];  /* header lines of each id */
	/* The top Via, From, To, Request-URI and first credentials as the
	 * accessors below parsed them: a proxy asks for each many times per
	 * message, and each is parsed once (a failure is not kept, so a later
	 * call fills its err too). Bits SW_MSG_MEMO_*; sw_msg_parse clears
	 * them. A copy cut after its used headers (lib/trace keeps those) has
	 * no room for the memo: SW_MSG_MEMO_OFF. */
	unsigned memo;
	struct sw_hdr hdrs[SW_MSG_MAX_HEADERS];
	struct sw_via memo_via;
	struct sw_addr memo_from, memo_to;
	struct sw_uri memo_ruri;
	struct sw_auth memo_auth[2]; /* the first Authorization, Proxy-Authorization */
};
enum { SW_MSG_MEMO_VIA = 1u, SW_MSG_MEMO_FROM = 2u, SW_MSG_MEMO_TO = 4u, SW_MSG_MEMO_RURI = 8u,
       SW_MSG_MEMO_AUTH = 16u, SW_MSG_MEMO_PAUTH = 32u, SW_MSG_MEMO_OFF = 1u << 31 };

int sw_via_parse(struct sw_via *v, sw_str elem, struct sw_perr *err);
/* From/To/Contact/Route element. allow_star for Contact. */
int sw_addr_parse(struct sw_addr *a, sw_str elem, bool allow_star, struct sw_perr *err);
int sw_cseq_parse(struct sw_cseq *c, sw_str value, struct sw_perr *err);
/* A decimal delta-seconds / count up to max (e.g. 255 for Max-Forwards). */
int sw_uint_parse(uint32_t *out, sw_str value, uint32_t max, struct sw_perr *err);
int sw_auth_parse(struct sw_auth *a, sw_str value, struct sw_perr *err);
/* sw_auth_parse of header h of m (its first value); the first
 * Authorization and the first Proxy-Authorization of a message are parsed
 * once (the memo), since the check, the verifier and a proxy's forwarding
 * each read them. */
int sw_msg_auth(const struct sw_msg *m, const struct sw_hdr *h, struct sw_auth *a, struct sw_perr *err);
/* Looks up any parameter (known or not) of a parsed auth header; the value
 * is unquoted as for the named fields. */
bool sw_auth_param(const struct sw_auth *a, const char *name, sw_str *value);
/* RFC 1123 date with "GMT" (RFC 3261 §20.17). */
int sw_date_parse(sw_str value, struct sw_perr *err);

/* Removes the quotes and backslash escapes of a quoted-string (or copies a
 * token as is). Returns the length written, or SW_ENOSPC / SW_EPARSE. */
int sw_str_unquote(sw_str in, char *out, size_t cap);

/* ---- message-level shortcuts (first value; err gets line/column) -------- */

int sw_msg_top_via(const struct sw_msg *m, struct sw_via *v, struct sw_perr *err);
int sw_msg_from(const struct sw_msg *m, struct sw_addr *a, struct sw_perr *err);
int sw_msg_to(const struct sw_msg *m, struct sw_addr *a, struct sw_perr *err);
int sw_msg_cseq(const struct sw_msg *m, struct sw_cseq *c, struct sw_perr *err);
int sw_msg_call_id(const struct sw_msg *m, sw_str *call_id, struct sw_perr *err);
/* SW_ENOTFOUND when the header is absent. */
int sw_msg_expires(const struct sw_msg *m, uint32_t *out, struct sw_perr *err);
int sw_msg_min_expires(const struct sw_msg *m, uint32_t *out, struct sw_perr *err);
int sw_msg_max_forwards(const struct sw_msg *m, uint32_t *out, struct sw_perr *err);
/* Retry-After's delta-seconds (RFC 3261 §20.33; a comment or parameters after
 * it are ignored). */
int sw_msg_retry_after(const struct sw_msg *m, uint32_t *out, struct sw_perr *err);
int sw_msg_ruri(const struct sw_msg *m, struct sw_uri *u, struct sw_perr *err);

/* ---- printer ----------------------------------------------------------- */

/* Status line and the headers RFC 3261 §8.2.6 copies from the request: every
 * Via in order, From, To (adding ";tag=to_tag" when the request's To has no
 * tag and to_tag is given), Call-ID, CSeq. reason NULL: the standard phrase.
 * Add headers with sw_print_header(), finish with sw_print_end(). */
int sw_print_response_start(struct sw_buf *b, const struct sw_msg *req, unsigned status,
			    const char *reason, sw_str to_tag);
/* The same, filling in the top Via as a server does for the address it saw:
 * ";received=ADDR" when received.p (replacing any), and "rport=PORT" for a
 * valueless rport when rport >= 0 (RFC 3261 §18.2.1, RFC 3581 §4). */
int sw_print_response_start_via(struct sw_buf *b, const struct sw_msg *req, unsigned status,
				 const char *reason, sw_str to_tag, sw_str received, int rport);
/* One Via value with ";received=ADDR" (when received.p) and a valueless
 * rport filled in (when rport >= 0), as a proxy forwards the top Via. */
void sw_print_via_received(struct sw_buf *b, sw_str elem, sw_str received, int rport);
void sw_print_request_line(struct sw_buf *b, sw_str method, sw_str ruri);
void sw_print_status_line(struct sw_buf *b, unsigned status, const char *reason);
void sw_print_header(struct sw_buf *b, const char *name, sw_str value);
void sw_print_headerf(struct sw_buf *b, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Content-Length, the blank line and the body. 0 or SW_ENOSPC. */
int sw_print_end(struct sw_buf *b, sw_str body);
/* Re-prints a parsed message in canonical form: long header names, folded
 * lines joined with one space, Content-Length recomputed. */
int sw_print_msg(struct sw_buf *b, const struct sw_msg *m);
/* The standard reason phrase of a status code ("Unauthorized"). */
const char *sw_reason_phrase(unsigned status);
/* The message as JSON: start line, each header with its parsed fields (or
 * its parse error), body length. err, when given, is reported as "error". */
void sw_msg_to_json(struct sw_buf *b, const struct sw_msg *m, const struct sw_perr *err);
/* A parsed URI as a JSON object. */
void sw_uri_to_json(struct sw_buf *b, const struct sw_uri *u);

/* A random token for tags and branches: n chars of [0-9a-z] from the OS
 * random source, NUL-terminated (out has n+1 bytes). */
int sw_random_token(char *out, size_t n);

#endif
