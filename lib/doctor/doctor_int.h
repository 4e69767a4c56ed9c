/* What the files of lib/doctor share: the client's dialog state and the
 * request builder (request.c). */
#ifndef SIPWARDEN_DOCTOR_INT_H
#define SIPWARDEN_DOCTOR_INT_H

#include "sipwarden/auth.h"
#include "sipwarden/doctor.h"
#include "sipwarden/msg.h"

#define SW__DOCTOR_MSG_CAP 65536u

/* One registration dialog: the same Call-ID and From tag for every
 * REGISTER, CSeq increasing (RFC 3261 §10.2). */
struct sw__dsess {
	const struct sw_doctor_cfg *cfg;
	struct sw_doctor_io *io;
	char call_id[40];
	char from_tag[16];
	char canary[16];         /* in the Via and the Contact, to spot rewrites */
	uint32_t cseq;
	char ruri[300];          /* sip:domain[:port] */
	char via[400];           /* the Via value sent last */
	char contact[400];       /* the Contact value sent */
	char branch[40];
};

/* The credentials to answer with. */
struct sw__dcred {
	const char *username;    /* digest username */
	bool proxy;              /* Proxy-Authorization (407) */
	/* the challenge, unquoted copies */
	char realm[256], nonce[256], opaque[256];
	bool has_opaque;
	enum sw_digest_alg alg;
	enum sw_qop qop;
	bool userhash_offered;
	uint32_t nc;
};

/* Fills the fresh identifiers of a dialog. 0 or SW_EIO. */
int sw__dsess_init(struct sw__dsess *s, const struct sw_doctor_cfg *cfg, struct sw_doctor_io *io);

/* Builds a REGISTER (expires, and Authorization when cred) or, when
 * method is "OPTIONS", an OPTIONS with pad bytes of padding. Takes the
 * next CSeq and a new branch. 0, SW_ENOSPC, SW_EINVAL (bad HA1) or a
 * digest error. */
int sw__dreq_build(struct sw__dsess *s, struct sw_buf *b, const char *method, uint32_t expires,
		   const struct sw__dcred *cred, size_t pad);

/* Reads the challenges of a 401/407 (WWW- or Proxy-Authenticate) and picks
 * the first whose algorithm we can answer (with cfg->ha1: MD5 only) into
 * cred (username untouched). Fills r's challenge fields when record.
 * Returns 0, SW_ENOTFOUND (no digest challenge), SW_EPARSE. */
int sw__dchallenge_pick(const struct sw_msg *m, const struct sw_doctor_cfg *cfg,
			struct sw__dcred *cred, struct sw_doctor_report *r, bool record);

/* The response's start line as text ("SIP/2.0 401 Unauthorized"). */
void sw__dstatus_line(const struct sw_msg *m, char *out, size_t cap);
/* "Name: value" of the first header of id (empty when absent). */
void sw__dheader_line(const struct sw_msg *m, enum sw_hdr_id id, char *out, size_t cap);

#endif
