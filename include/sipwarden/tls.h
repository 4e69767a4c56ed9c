/* sipwarden — the server side of TLS (OpenSSL): the certificate, key and
 * client-certificate trust of `serve`'s tls: listeners, checked with precise
 * reasons, and swapped on SIGHUP without touching established connections.
 * See docs/internals/server.md (TLS). */
#ifndef SIPWARDEN_TLS_H
#define SIPWARDEN_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include "sipwarden/common.h"

struct ssl_st;

/* The files of a TLS listener. */
struct sw_tls_files {
	const char *certificate;     /* PEM: the server's certificate, then its intermediates */
	const char *key;             /* PEM private key, not encrypted */
	const char *ca;              /* PEM CAs that client certificates must chain to; NULL/"": none */
	bool require_client_cert;    /* with ca: a client without a certificate is refused */
	const char *ciphers;         /* OpenSSL cipher list for TLS 1.2; NULL/"": SW_TLS_CIPHERS */
};

/* TLS 1.2's default suites: forward secrecy and AEAD only (TLS 1.3 uses
 * OpenSSL's defaults, which are all of that kind). */
#define SW_TLS_CIPHERS "ECDHE+AESGCM:ECDHE+CHACHA20"

/* Everything `serve --check-config` checks: both files readable PEM, the key
 * unencrypted and matching the certificate, the certificate (and each
 * intermediate) valid at `now`, and the chain verifying against OpenSSL's
 * default store (the system's; SSL_CERT_FILE/SSL_CERT_DIR) plus ca, with
 * the intermediates of the file. On success writes a summary to info
 * ("subject CN=sip.example.com, issuer CN=..., valid until 2027-01-01
 * 00:00:00 UTC"); else the reason to why. 0 or SW_EINVAL/SW_EIO. */
int sw_tls_check(const struct sw_tls_files *f, time_t now, char *info, size_t info_cap, char *why,
		 size_t why_cap);

/* A server TLS context whose certificate can be replaced while running. */
struct sw_tls;

/* Loads the files (readable, key matching; an expired certificate is
 * accepted here: see sw_tls_check). 0 or SW_EINVAL/SW_EIO/SW_ENOMEM with
 * why. */
int sw_tls_new(struct sw_tls **out, const struct sw_tls_files *f, char *why, size_t why_cap);
/* Loads the files again (as sw_tls_new, and a certificate expired at `now`
 * is refused) and makes them the ones new connections get; on failure the
 * running ones stay and why says why. Any thread. */
int sw_tls_reload(struct sw_tls *t, const struct sw_tls_files *f, time_t now, char *why, size_t why_cap);
void sw_tls_free(struct sw_tls *t);
/* The current certificate in one line (as sw_tls_check's info). */
void sw_tls_describe(struct sw_tls *t, char *out, size_t cap);
/* A server-side TLS session on the connected socket fd with the current
 * certificate (its handshake is the caller's). NULL when out of memory.
 * Any thread. */
struct ssl_st *sw_tls_session(struct sw_tls *t, int fd);

#endif
