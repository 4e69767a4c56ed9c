/* The server's TLS context: loading the certificate chain, the key and the
 * client CAs with a precise reason for each way they can be wrong, checking
 * them for `serve --check-config`, and swapping the context on SIGHUP (a
 * session holds a reference to the context it was made from, so
 * established connections keep theirs). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include "sipwarden/tls.h"

struct sw_tls {
	pthread_mutex_t lock;        /* guards ctx and summary against a reload */
	SSL_CTX *ctx;
	char summary[512];
};

/* What one set of files holds once read. */
struct loaded {
	X509 *leaf;
	STACK_OF(X509) *chain;       /* the intermediates after the leaf */
	EVP_PKEY *key;
};

static void loaded_free(struct loaded *l)
{
	X509_free(l->leaf);
	sk_X509_pop_free(l->chain, X509_free);
	EVP_PKEY_free(l->key);
	memset(l, 0, sizeof(*l));
}

/* The last OpenSSL error as text ("" when none); clears the queue. */
static const char *ossl_reason(void)
{
	static __thread char buf[160];
	unsigned long e = ERR_peek_last_error();
	buf[0] = '\0';
	if (e) {
		const char *r = ERR_reason_error_string(e);
		snprintf(buf, sizeof(buf), ": %s", r ? r : "unknown OpenSSL error");
	}
	ERR_clear_error();
	return buf;
}

static void name_of(const X509_NAME *n, char *out, size_t cap)
{
	out[0] = '\0';
	BIO *b = BIO_new(BIO_s_mem());
	if (!b)
		return;
	X509_NAME_print_ex(b, n, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
	int len = BIO_read(b, out, (int)cap - 1);
	out[len > 0 ? len : 0] = '\0';
	BIO_free(b);
}

static void time_of(const ASN1_TIME *t, char *out, size_t cap)
{
	struct tm tm;
	if (!t || ASN1_TIME_to_tm(t, &tm) != 1 || !strftime(out, cap, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(out, cap, "?");
}

static void summary_of(X509 *x, char *out, size_t cap)
{
	char subj[200], iss[200], until[40];
	name_of(X509_get_subject_name(x), subj, sizeof(subj));
	name_of(X509_get_issuer_name(x), iss, sizeof(iss));
	time_of(X509_get0_notAfter(x), until, sizeof(until));
	snprintf(out, cap, "subject %s, issuer %s, valid until %s", subj, iss, until);
}

/* No passphrase can be typed into a server: an encrypted key fails. */
static int no_passphrase(char *buf, int size, int rw, void *u)
{
	(void)buf, (void)size, (void)rw, (void)u;
	return -1;
}

static int load(const struct sw_tls_files *f, struct loaded *l, char *why, size_t cap)
{
	memset(l, 0, sizeof(*l));
	ERR_clear_error();
	BIO *b = BIO_new_file(f->certificate, "r");
	if (!b) {
		snprintf(why, cap, "certificate %s: cannot read: %s", f->certificate, strerror(errno));
		ERR_clear_error();
		return SW_EIO;
	}
	l->leaf = PEM_read_bio_X509(b, NULL, no_passphrase, NULL);
	l->chain = sk_X509_new_null();
	X509 *x;
	while (l->leaf && l->chain && (x = PEM_read_bio_X509(b, NULL, no_passphrase, NULL)))
		if (!sk_X509_push(l->chain, x))
			X509_free(x);
	BIO_free(b);
	ERR_clear_error(); /* the end of the file reads as an error */
	if (!l->leaf || !l->chain) {
		snprintf(why, cap, "certificate %s: no PEM certificate in the file", f->certificate);
		goto fail;
	}
	b = BIO_new_file(f->key, "r");
	if (!b) {
		snprintf(why, cap, "private key %s: cannot read: %s", f->key, strerror(errno));
		goto fail;
	}
	l->key = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL);
	BIO_free(b);
	if (!l->key) {
		snprintf(why, cap, "private key %s: no usable PEM private key (an encrypted key cannot be "
			 "used: there is no passphrase prompt)%s", f->key, ossl_reason());
		goto fail;
	}
	if (X509_check_private_key(l->leaf, l->key) != 1) {
		char subj[200];
		name_of(X509_get_subject_name(l->leaf), subj, sizeof(subj));
		snprintf(why, cap, "private key %s does not match the certificate %s (subject %s): "
			 "they are not one key pair", f->key, f->certificate, subj);
		ERR_clear_error();
		goto fail;
	}
	return 0;
fail:
	loaded_free(l);
	return SW_EINVAL;
}

/* Not yet valid or expired at now (the leaf, then each intermediate). */
static int check_dates(const struct sw_tls_files *f, const struct loaded *l, time_t now, char *why, size_t cap)
{
	for (int i = -1; i < sk_X509_num(l->chain); i++) {
		X509 *x = i < 0 ? l->leaf : sk_X509_value(l->chain, i);
		char subj[200], when[40];
		name_of(X509_get_subject_name(x), subj, sizeof(subj));
		const char *what = i < 0 ? "certificate" : "intermediate certificate";
		if (X509_cmp_time(X509_get0_notAfter(x), &now) <= 0) {
			time_of(X509_get0_notAfter(x), when, sizeof(when));
			snprintf(why, cap, "%s %s (subject %s) expired on %s: renew it", what, f->certificate, subj,
				 when);
			return SW_EINVAL;
		}
		if (X509_cmp_time(X509_get0_notBefore(x), &now) > 0) {
			time_of(X509_get0_notBefore(x), when, sizeof(when));
			snprintf(why, cap, "%s %s (subject %s) is not valid before %s: check the clock", what,
				 f->certificate, subj, when);
			return SW_EINVAL;
		}
	}
	return 0;
}

static bool has(const char *s)
{
	return s && s[0];
}

/* The chain verifies from the leaf, through the file's intermediates, to a
 * CA of the default store or of f->ca. */
static int check_chain(const struct sw_tls_files *f, const struct loaded *l, time_t now, char *why, size_t cap)
{
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *xc = X509_STORE_CTX_new();
	int rc = SW_ENOMEM;
	if (!st || !xc || X509_STORE_set_default_paths(st) != 1)
		goto out;
	ERR_clear_error(); /* a missing system directory is no error */
	rc = SW_EINVAL;
	if (has(f->ca) && X509_STORE_load_file(st, f->ca) != 1) {
		snprintf(why, cap, "ca %s: cannot read a PEM certificate from it%s", f->ca, ossl_reason());
		goto out;
	}
	if (X509_STORE_CTX_init(xc, st, l->leaf, l->chain) != 1)
		goto out;
	X509_STORE_CTX_set_purpose(xc, X509_PURPOSE_SSL_SERVER);
	X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(xc), now);
	if (X509_verify_cert(xc) == 1) {
		rc = 0;
		goto out;
	}
	int err = X509_STORE_CTX_get_error(xc);
	X509 *at = X509_STORE_CTX_get_current_cert(xc);
	char subj[200] = "?", iss[200] = "?";
	if (at) {
		name_of(X509_get_subject_name(at), subj, sizeof(subj));
		name_of(X509_get_issuer_name(at), iss, sizeof(iss));
	}
	if (err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY || err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT)
		snprintf(why, cap, "certificate %s: the chain is incomplete: the issuer (%s) of %s is neither "
			 "in the file nor a trusted CA: append the missing intermediate certificate to the "
			 "file after the server's own; if it is your own root CA, the phones need it (a root "
			 "is never sent), and [tls] ca lets this check use it (it also has the server ask "
			 "phones for a certificate)",
			 f->certificate, iss, subj);
	else if (err == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT || err == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN)
		snprintf(why, cap, "certificate %s: the chain ends at a self-signed certificate (%s) that is "
			 "not trusted: if it is your own CA, the phones need it, and [tls] ca lets this check "
			 "use it (it also has the server ask phones for a certificate)", f->certificate, subj);
	else
		snprintf(why, cap, "certificate %s: the chain does not verify at %s: %s", f->certificate, subj,
			 X509_verify_cert_error_string(err));
out:
	ERR_clear_error();
	X509_STORE_CTX_free(xc);
	X509_STORE_free(st);
	return rc;
}

int sw_tls_check(const struct sw_tls_files *f, time_t now, char *info, size_t info_cap, char *why,
		 size_t why_cap)
{
	struct loaded l;
	int rc = load(f, &l, why, why_cap);
	if (rc)
		return rc;
	rc = check_dates(f, &l, now, why, why_cap);
	if (!rc)
		rc = check_chain(f, &l, now, why, why_cap);
	if (!rc && info_cap)
		summary_of(l.leaf, info, info_cap);
	loaded_free(&l);
	return rc;
}

/* An SSL_CTX for the server from loaded files. */
static int make_ctx(const struct sw_tls_files *f, const struct loaded *l, SSL_CTX **out, char *why, size_t cap)
{
	SSL_CTX *c = SSL_CTX_new(TLS_server_method());
	if (!c) {
		snprintf(why, cap, "cannot create a TLS context%s", ossl_reason());
		return SW_ENOMEM;
	}
	SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
	/* no renegotiation (a CPU sink for an attacker), our order of suites */
	SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
	/* writes like send(): part of the bytes, retried from a buffer that
	 * moves; the chain sent is the file's, not one OpenSSL completes from
	 * the client CAs (what --check-config verified is what clients get) */
	SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
			    SSL_MODE_RELEASE_BUFFERS | SSL_MODE_NO_AUTO_CHAIN);
	const char *ciphers = has(f->ciphers) ? f->ciphers : SW_TLS_CIPHERS;
	if (SSL_CTX_set_cipher_list(c, ciphers) != 1) {
		snprintf(why, cap, "ciphers '%s': no cipher OpenSSL knows%s", ciphers, ossl_reason());
		goto fail;
	}
	if (SSL_CTX_use_certificate(c, l->leaf) != 1 || SSL_CTX_use_PrivateKey(c, l->key) != 1) {
		snprintf(why, cap, "certificate %s: OpenSSL refuses it%s", f->certificate, ossl_reason());
		goto fail;
	}
	for (int i = 0; i < sk_X509_num(l->chain); i++)
		if (SSL_CTX_add1_chain_cert(c, sk_X509_value(l->chain, i)) != 1) {
			snprintf(why, cap, "certificate %s: intermediate %d refused%s", f->certificate, i + 1,
				 ossl_reason());
			goto fail;
		}
	static const unsigned char sid[] = "sipwarden";
	SSL_CTX_set_session_id_context(c, sid, sizeof(sid) - 1);
	if (has(f->ca)) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(f->ca);
		if (!names || SSL_CTX_load_verify_locations(c, f->ca, NULL) != 1) {
			sk_X509_NAME_pop_free(names, X509_NAME_free);
			snprintf(why, cap, "ca %s: cannot read a PEM certificate from it%s", f->ca, ossl_reason());
			goto fail;
		}
		SSL_CTX_set_client_CA_list(c, names);
		/* a client certificate is verified when presented (required with
		 * require_client_certificate); digest authentication still decides */
		SSL_CTX_set_verify(c, SSL_VERIFY_PEER | (f->require_client_cert ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
				   NULL);
	}
	ERR_clear_error();
	*out = c;
	return 0;
fail:
	SSL_CTX_free(c);
	return SW_EINVAL;
}

static int build(const struct sw_tls_files *f, const time_t *now, SSL_CTX **ctx, char *summary, size_t scap,
		 char *why, size_t cap)
{
	struct loaded l;
	int rc = load(f, &l, why, cap);
	if (rc)
		return rc;
	if (now)
		rc = check_dates(f, &l, *now, why, cap);
	if (!rc)
		rc = make_ctx(f, &l, ctx, why, cap);
	if (!rc)
		summary_of(l.leaf, summary, scap);
	loaded_free(&l);
	return rc;
}

int sw_tls_new(struct sw_tls **out, const struct sw_tls_files *f, char *why, size_t why_cap)
{
	struct sw_tls *t = calloc(1, sizeof(*t));
	if (!t)
		return SW_ENOMEM;
	int rc = build(f, NULL, &t->ctx, t->summary, sizeof(t->summary), why, why_cap);
	if (rc) {
		free(t);
		return rc;
	}
	pthread_mutex_init(&t->lock, NULL);
	*out = t;
	return 0;
}

int sw_tls_reload(struct sw_tls *t, const struct sw_tls_files *f, time_t now, char *why, size_t why_cap)
{
	SSL_CTX *ctx;
	char summary[sizeof(t->summary)];
	int rc = build(f, &now, &ctx, summary, sizeof(summary), why, why_cap);
	if (rc)
		return rc;
	pthread_mutex_lock(&t->lock);
	SSL_CTX *old = t->ctx;
	t->ctx = ctx;
	memcpy(t->summary, summary, sizeof(summary));
	pthread_mutex_unlock(&t->lock);
	SSL_CTX_free(old); /* sessions made from it hold their own reference */
	return 0;
}

void sw_tls_free(struct sw_tls *t)
{
	if (!t)
		return;
	SSL_CTX_free(t->ctx);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

void sw_tls_describe(struct sw_tls *t, char *out, size_t cap)
{
	pthread_mutex_lock(&t->lock);
	snprintf(out, cap, "%s", t->summary);
	pthread_mutex_unlock(&t->lock);
}

struct ssl_st *sw_tls_session(struct sw_tls *t, int fd)
{
	pthread_mutex_lock(&t->lock);
	SSL *s = SSL_new(t->ctx);
	pthread_mutex_unlock(&t->lock);
	if (!s)
		return NULL;
	if (SSL_set_fd(s, fd) != 1) {
		SSL_free(s);
		return NULL;
	}
	SSL_set_accept_state(s);
	return s;
}
