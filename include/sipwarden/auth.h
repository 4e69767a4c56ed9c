/* sipwarden — SIP digest authentication: the digest math (RFC 7616, RFC 8760),
 * stateless signed nonces, the nonce secret, nonce-count tracking, challenge
 * building, request verification returning a cause, and the offline
 * diagnosis of a wrong response. See docs/internals/auth.md.
 *
 * Threads: a struct sw_digest_ctx or struct sw_verifier belongs to one thread
 * at a time (one per worker). The in-memory nonce-count tracker is
 * thread-safe and may be shared by several verifiers. */
#ifndef SIPWARDEN_AUTH_H
#define SIPWARDEN_AUTH_H

#include "sipwarden/common.h"
#include "sipwarden/buf.h"
#include "sipwarden/causes.h"
#include "sipwarden/msg.h"

/* ==== digest math (lib/auth/digest.c) ==================================== */

enum sw_digest_hash { SW_HASH_MD5 = 0, SW_HASH_SHA256, SW_HASH_SHA512_256, SW_HASH__COUNT };

/* The algorithm= values. The hash is alg % SW_HASH__COUNT; the -sess
 * variants follow the three plain ones. */
enum sw_digest_alg {
	SW_ALG_MD5 = 0,
	SW_ALG_SHA256,
	SW_ALG_SHA512_256,
	SW_ALG_MD5_SESS,
	SW_ALG_SHA256_SESS,
	SW_ALG_SHA512_256_SESS,
	SW_ALG__COUNT
};

enum sw_qop { SW_QOP_NONE = 0, SW_QOP_AUTH, SW_QOP_AUTH_INT };
/* qop sets (offered, or bound in a nonce) are masks of SW_QOP_BIT(). */
#define SW_QOP_BIT(q) (1u << (q))

#define SW_DIGEST_MAX_BYTES 32u
#define SW_DIGEST_HEX_MAX 64u

static inline enum sw_digest_hash sw_digest_alg_hash(enum sw_digest_alg a)
{
	return (enum sw_digest_hash)((unsigned)a % SW_HASH__COUNT);
}
static inline bool sw_digest_alg_sess(enum sw_digest_alg a) { return (unsigned)a >= SW_HASH__COUNT; }

/* Hex length of a hash value of this algorithm: 32 (MD5) or 64. */
size_t sw_digest_hex_len(enum sw_digest_alg a);
/* "MD5", "SHA-256-sess"... */
const char *sw_digest_alg_name(enum sw_digest_alg a);
/* Parses an algorithm= value (case-insensitive). An absent value (p NULL)
 * means MD5 (RFC 2617). Returns 0 or SW_EPARSE for an unknown name. */
int sw_digest_alg_parse(sw_str name, enum sw_digest_alg *out);
/* "auth" / "auth-int" (case-insensitive). 0 or SW_EPARSE. */
int sw_qop_parse(sw_str s, enum sw_qop *out);
/* "", "auth", "auth-int". */
const char *sw_qop_name(enum sw_qop q);

/* Reusable hashing state (an EVP context and the fetched algorithms). Not
 * thread-safe; create one per thread. Every function below that takes a
 * ctx also accepts NULL and then uses a temporary one (slower). */
struct sw_digest_ctx;
int sw_digest_ctx_new(struct sw_digest_ctx **out);
void sw_digest_ctx_free(struct sw_digest_ctx *dc);

/* hex = lower-case hex of H(parts[0] ":" parts[1] ":" ... parts[n-1]); hex
 * must hold sw_digest_hex_len(alg) + 1 bytes. 0 or SW_ECRYPTO/SW_ENOMEM. */
int sw_digest_hash_join(struct sw_digest_ctx *dc, enum sw_digest_hash h, const sw_str *parts,
			size_t n, char *hex);

/* The stored credential: HA1 = H(username ":" realm ":" password), never
 * the -sess form. */
int sw_digest_ha1(struct sw_digest_ctx *dc, enum sw_digest_hash h, sw_str username,
		  sw_str realm, sw_str password, char *hex);
/* RFC 7616 §3.4.4: userhash = H(username ":" realm). */
int sw_digest_userhash(struct sw_digest_ctx *dc, enum sw_digest_hash h, sw_str username,
		       sw_str realm, char *hex);

/* Everything a request-digest depends on. All slices are as sent, hashed
 * verbatim (nc is not normalised). */
struct sw_digest_params {
	enum sw_digest_alg alg;
	sw_str ha1;          /* stored HA1 hex (lower case), sw_digest_hex_len() chars */
	sw_str nonce;
	sw_str cnonce;       /* qop present, or -sess */
	sw_str nc;           /* qop present */
	enum sw_qop qop;
	/* When qop_str.p is set it is hashed instead of sw_qop_name(qop): lets
	 * the diagnosis reproduce a client that hashed the whole qop list. */
	sw_str qop_str;
	sw_str method;
	sw_str uri;          /* the digest uri= value */
	sw_str body;         /* auth-int: the message body (may be empty) */
};

struct sw_digest_result {
	char ha1[SW_DIGEST_HEX_MAX + 1];      /* the session HA1 for -sess */
	char ha2[SW_DIGEST_HEX_MAX + 1];
	char response[SW_DIGEST_HEX_MAX + 1];
};

/* Computes HA1 (session HA1 for -sess), HA2 and the request-digest:
 *   HA2 = H(method ":" uri [":" H(body)])       (auth-int adds H(body))
 *   response = H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2), or
 *            = H(HA1 ":" nonce ":" HA2) without qop (RFC 2069).
 * Returns 0, SW_EINVAL when p->ha1 is not a hex string of the right length,
 * or SW_ECRYPTO. out is written only on success. */
int sw_digest_response(struct sw_digest_ctx *dc, const struct sw_digest_params *p,
		       struct sw_digest_result *out);

/* ==== the nonce secret (lib/auth/secret.c) =============================== */

#define SW_KEY_BYTES 32u

struct sw_key {
	uint16_t id;
	unsigned char bytes[SW_KEY_BYTES];
	uint64_t created;            /* unix seconds */
};

/* The current key signs new nonces; the previous one (after a rotation) is
 * still accepted until prev_retired + one nonce lifetime. */
struct sw_secret {
	struct sw_key cur;
	bool has_prev;
	struct sw_key prev;
	uint64_t prev_retired;       /* when prev stopped signing */
};

/* A fresh secret from the OS random source (getrandom). 0 or SW_EIO. */
int sw_secret_generate(struct sw_secret *s, uint64_t now);
/* Makes a new current key; the old one becomes prev. 0 or SW_EIO. */
int sw_secret_rotate(struct sw_secret *s, uint64_t now);
/* Drops prev once now >= prev_retired + lifetime. */
void sw_secret_expire(struct sw_secret *s, uint64_t now, uint32_t lifetime);
/* Reads a key file. Refuses (SW_EINVAL) a file that group or others may
 * read; SW_ENOTFOUND when absent; SW_EPARSE when malformed; SW_EIO. */
int sw_secret_load(const char *path, struct sw_secret *s);
/* Writes a key file atomically (temporary file, mode 0600, fsync, rename).
 * 0 or SW_EIO. */
int sw_secret_save(const char *path, const struct sw_secret *s);
/* Loads path, or generates and saves a new secret when it does not exist
 * (*created tells which; may be NULL). */
int sw_secret_open(const char *path, uint64_t now, struct sw_secret *s, bool *created);
/* Derives a 32-byte sub-key for one purpose: HMAC-SHA256(cur, label). */
int sw_secret_derive(const struct sw_key *k, const char *label, unsigned char out[SW_KEY_BYTES]);
/* Overwrites the key material. */
void sw_secret_wipe(struct sw_secret *s);

/* ==== keyed MACs (lib/auth/hmac.c) ======================================= */

/* HMAC-SHA256 under one key, with the key schedule computed once: for
 * tokens signed many times (the proxy's Record-Route flow tokens). One
 * thread at a time. */
struct sw_hmac;
int sw_hmac_new(struct sw_hmac **out, const unsigned char *key, size_t len);
/* out = HMAC(key, a || b), 32 bytes. 0 or SW_ECRYPTO. */
int sw_hmac_compute(struct sw_hmac *h, const void *a, size_t alen, const void *b, size_t blen,
		    unsigned char out[32]);
void sw_hmac_free(struct sw_hmac *h);

/* ==== nonces (lib/auth/nonce.c) =========================================== */

/* base64url of version(1) key-id(2) issued(4) random(8) algorithm(1)
 * qop-mask(1) and a 16-byte HMAC-SHA256 tag. */
#define SW_NONCE_LEN 44u
#define SW_NONCE_VERSION 1u
#define SW_NONCE_LIFETIME_DEFAULT 300u
#define SW_NONCE_DRIFT_DEFAULT 10u

enum sw_nonce_status { SW_NONCE_FRESH = 0, SW_NONCE_STALE, SW_NONCE_INVALID };

struct sw_nonce_info {
	uint16_t key_id;
	uint64_t issued;             /* unix seconds */
	enum sw_digest_alg alg;      /* the algorithm this nonce was offered with */
	unsigned qop_mask;           /* SW_QOP_BIT() set offered with it */
};

/* Signs and checks nonces with the keys of a secret. One per thread. */
struct sw_nonce_ctx;
/* lifetime 0: SW_NONCE_LIFETIME_DEFAULT; drift: how far in the future an
 * issue time may be (clock differences between nodes). Copies the keys. */
int sw_nonce_ctx_new(struct sw_nonce_ctx **out, const struct sw_secret *s, uint32_t lifetime,
		     uint32_t drift);
void sw_nonce_ctx_free(struct sw_nonce_ctx *nc);
/* Installs new keys (after sw_secret_rotate). 0 or SW_ECRYPTO. */
int sw_nonce_ctx_set_secret(struct sw_nonce_ctx *nc, const struct sw_secret *s);
uint32_t sw_nonce_ctx_lifetime(const struct sw_nonce_ctx *nc);

/* Writes a new nonce (SW_NONCE_LEN chars + NUL) bound to alg and qop_mask.
 * 0 or SW_ECRYPTO / SW_EIO (random source). */
int sw_nonce_mint(struct sw_nonce_ctx *nc, uint64_t now, enum sw_digest_alg alg,
		  unsigned qop_mask, char out[SW_NONCE_LEN + 1]);
/* FRESH, STALE (older than the lifetime) or INVALID (bad encoding, version,
 * MAC or key id, or issued more than drift seconds in the future). *info is
 * filled for FRESH and STALE (may be NULL). Constant-time MAC comparison. */
enum sw_nonce_status sw_nonce_verify(struct sw_nonce_ctx *nc, sw_str nonce, uint64_t now,
				     struct sw_nonce_info *info);

/* ==== nonce-count tracking (lib/auth/nctrack.c) ========================== */

/* FORGOTTEN: a full tracker dropped what it knew of this (older) nonce, so
 * it cannot tell a replay: the client must take a new one (stale=true). */
enum sw_nc_verdict { SW_NC_NEW = 0, SW_NC_RETRANSMISSION, SW_NC_REPLAY, SW_NC_FORGOTTEN };

/* One verified use of a nonce. Retransmission = same nc, cnonce, response
 * and Via branch as the last accepted use. */
struct sw_nc_use {
	sw_str nonce;
	uint32_t nc;                 /* 0 when the answer had no qop */
	sw_str cnonce, response, branch;
	uint64_t expires;            /* forget the nonce after this (unix s) */
	bool one_time;               /* accept each nonce once */
};

/* The interface a store implements (memory here; a shared store later). */
struct sw_nc_ops {
	/* Records u if it is new; returns a verdict (>= 0) or a negative
	 * SW_E* code (the verifier then refuses the request). */
	int (*check)(void *self, const struct sw_nc_use *u, uint64_t now);
	void (*destroy)(void *self);
};
struct sw_nc_tracker {
	const struct sw_nc_ops *ops;
	void *self;
};

/* An in-memory, thread-safe tracker holding at most max_nonces nonces
 * (0: 1,000,000); expired entries are dropped as the table is used. When
 * full, check returns SW_ENOSPC. */
int sw_nc_memory_new(struct sw_nc_tracker *out, size_t max_nonces);
/* Number of nonces currently held (memory tracker only). */
size_t sw_nc_memory_count(const struct sw_nc_tracker *t);
static inline void sw_nc_tracker_destroy(struct sw_nc_tracker *t)
{
	if (t && t->ops && t->ops->destroy)
		t->ops->destroy(t->self);
}

/* ==== challenges and verification (challenge.c, verify.c) ================= */

struct sw_auth_cfg {
	const char *realm;
	/* Offered algorithms, one challenge header each, in this order. Many
	 * phones only read the first header, hence MD5 first by default. */
	enum sw_digest_alg algs[SW_ALG__COUNT];
	unsigned nalgs;
	unsigned qop_mask;           /* SW_QOP_BIT(SW_QOP_AUTH) by default */
	bool proxy;                  /* Proxy-Authenticate / Proxy-Authorization (407) */
	bool allow_no_qop;           /* accept RFC 2069 answers without qop */
	bool one_time;               /* each nonce accepted once */
	bool userhash;               /* offer userhash=true */
	uint32_t nonce_lifetime;     /* 0: default */
	uint32_t nonce_drift;
	/* Does a digest uri that is not the Request-URI name this server (one of
	 * its domains, or an address and port it listens on)? Such a uri is
	 * accepted and noted (sipp's default answers with the server's address).
	 * NULL: the realm, the Request-URI's host, or any IP address literal. */
	bool (*uri_is_ours)(void *arg, const struct sw_uri *u);
	void *uri_arg;
};

/* realm, MD5 then SHA-256, qop=auth, 401, default lifetime and drift. */
void sw_auth_cfg_default(struct sw_auth_cfg *c, const char *realm);

/* Where the verifier finds credentials. get_ha1 writes the stored HA1 (lower
 * hex, NUL-terminated, SW_DIGEST_HEX_MAX + 1 bytes available) of username
 * (or of the user whose userhash it is) in realm for one hash; returns 0,
 * SW_ENOTFOUND for an unknown user, or another negative code on failure. */
struct sw_cred_source {
	int (*get_ha1)(void *arg, sw_str username, bool is_userhash, sw_str realm,
		       enum sw_digest_hash h, char *ha1);
	void *arg;
};

struct sw_verifier;

/* Creates a verifier for cfg, signing nonces with secret. nc may be NULL (no
 * replay protection) and is not owned. 0, SW_EINVAL or SW_ENOMEM/ECRYPTO. */
int sw_verifier_new(struct sw_verifier **out, const struct sw_auth_cfg *cfg,
		    const struct sw_secret *secret, struct sw_nc_tracker *nc);
void sw_verifier_free(struct sw_verifier *v);
/* After a key rotation. */
int sw_verifier_set_secret(struct sw_verifier *v, const struct sw_secret *secret);
const struct sw_auth_cfg *sw_verifier_cfg(const struct sw_verifier *v);

/* One challenge value (no header name) for alg with the given nonce:
 * Digest realm="..", nonce="..", opaque="..", algorithm=.., qop="..",
 * [stale=true], [userhash=true]. */
void sw_challenge_value(const struct sw_verifier *v, enum sw_digest_alg alg, sw_str nonce,
			bool stale, struct sw_buf *out);
/* Complete header lines ("WWW-Authenticate: ...\r\n" or Proxy-...), one per
 * offered algorithm in configured order, each with a fresh nonce. The
 * output does not depend on who asked: only the nonces differ between two
 * calls. 0, SW_ENOSPC, or an error from sw_nonce_mint. */
int sw_challenge_build(struct sw_verifier *v, uint64_t now, bool stale, struct sw_buf *out);

/* What the verifier needs from a request (slices into it). */
struct sw_verify_in {
	const struct sw_auth *auth;  /* the parsed credentials; NULL: none sent */
	sw_str method;
	sw_str ruri;                 /* Request-URI as written */
	sw_str body;                 /* for qop=auth-int */
	sw_str branch;               /* top Via branch, for retransmissions */
};

struct sw_verify_result {
	enum sw_cause cause;
	bool stale;                  /* challenge again with stale=true */
	unsigned status;             /* suggested reply: 200, 400, 401 or 407 */
	enum sw_digest_alg alg;      /* the algorithm of the answer (when known) */
	sw_str username;             /* as sent, when known */
	const char *detail;          /* static text with the specifics; never NULL */
};

/* Verifies the credentials of a request. Returns exactly one cause (also in
 * res->cause): ok, no-credentials, malformed-authorization, realm-mismatch,
 * algorithm-unsupported, nonce-invalid, algorithm-mismatch, qop-invalid,
 * uri-mismatch, unknown-user, username-has-domain, wrong-password,
 * stale-nonce, nonce-replay or store-unavailable. Unknown users go through
 * the same hashing (a dummy HA1 derived from the secret) and the wire answer
 * (status, challenge) is the same as for a wrong password. */
enum sw_cause sw_auth_verify_parts(struct sw_verifier *v, const struct sw_verify_in *in,
				   uint64_t now, const struct sw_cred_source *creds,
				   struct sw_verify_result *res);
/* The same for a parsed request: picks the Authorization (or
 * Proxy-Authorization) header for our realm, the top Via branch, the body. */
enum sw_cause sw_auth_verify(struct sw_verifier *v, const struct sw_msg *req, uint64_t now,
			     const struct sw_cred_source *creds, struct sw_verify_result *res);

/* ==== offline diagnosis of a wrong response (lib/auth/diagnose.c) ======== */

enum sw_mistake {
	SW_MISTAKE_NONE = 0,         /* the response is right as sent */
	SW_MISTAKE_REALM,            /* HA1 over another realm */
	SW_MISTAKE_URI,              /* hashed the Request-URI, not the digest uri */
	SW_MISTAKE_USERNAME_DOMAIN,  /* username with/without @domain in HA1 */
	SW_MISTAKE_QOP_LIST,         /* hashed the qop list instead of one token */
	SW_MISTAKE_QOP_TOKEN,        /* sent a qop list but hashed one token */
	SW_MISTAKE_NO_QOP,           /* sent qop but computed an RFC 2069 response */
	SW_MISTAKE_ALGORITHM,        /* hashed with another algorithm */
	SW_MISTAKE_UNKNOWN,          /* nothing explains it: likely the password */
};

struct sw_diagnose_in {
	const struct sw_auth *auth;  /* the credentials as sent */
	sw_str method;
	sw_str ruri;                 /* Request-URI, when known */
	sw_str body;
	sw_str password;             /* either the password ... */
	sw_str ha1;                  /* ... or the HA1 (for the declared algorithm's hash) */
	sw_str challenge_realm;      /* optional candidates for realm variants */
	sw_str to_host, from_host;
};

struct sw_diagnosis {
	bool match;                  /* the response is right as sent */
	enum sw_mistake mistake;
	enum sw_cause cause;         /* ok, or the cause the mistake maps to */
	char what[320];              /* "the phone hashed realm 'asterisk'" */
	char expected[SW_DIGEST_HEX_MAX + 1]; /* the right response as sent */
	char ha1[SW_DIGEST_HEX_MAX + 1], ha2[SW_DIGEST_HEX_MAX + 1];
	unsigned tried;              /* variants computed */
};

/* Checks the response of an Authorization against a password (or HA1) and,
 * when wrong, tries the known client mistakes in a fixed order and names the
 * first that reproduces the response. 0, or SW_EINVAL when a required field
 * (username, realm, nonce, uri, response) is missing / the HA1 is not hex,
 * SW_EPARSE for an unknown algorithm or qop, SW_ECRYPTO. */
int sw_digest_diagnose(struct sw_digest_ctx *dc, const struct sw_diagnose_in *in,
		       struct sw_diagnosis *out);
/* Stable short name of a mistake ("realm", "qop-list", ...). */
const char *sw_mistake_id(enum sw_mistake m);

#endif
