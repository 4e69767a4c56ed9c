/* sipwarden — the non-INVITE server transaction layer (RFC 3261 §17.2.2):
 * a request is processed once; its retransmissions get the same response.
 * One table per worker thread (the kernel's SO_REUSEPORT hash sends a
 * client's datagrams to the same socket), so there are no locks. */
#ifndef SIPWARDEN_TXN_H
#define SIPWARDEN_TXN_H

#include "sipwarden/msg.h"

#define SW_TXN_KEY_MAX 256u

/* The identity of a server transaction: RFC 3261 §17.2.3 (branch with the
 * magic cookie + sent-by + method), or for RFC 2543 clients the request's
 * Call-ID, CSeq, From tag and top Via. */
struct sw_txn_key {
	uint32_t hash;
	uint16_t len;
	char bytes[SW_TXN_KEY_MAX];
};

/* Builds the key of a request; SW_EPARSE when it has no usable Via/CSeq,
 * SW_ETOOBIG when the identifying fields exceed SW_TXN_KEY_MAX. */
int sw_txn_key_make(const struct sw_msg *req, struct sw_txn_key *key);
/* The same with another method in the key: a CANCEL's key as_method
 * "INVITE" is the key of the INVITE it cancels (§9.2). */
int sw_txn_key_make_as(const struct sw_msg *req, sw_str as_method, struct sw_txn_key *key);
/* The key of an RFC 3261 transaction from its top Via (branch with the
 * magic cookie) and the CSeq method, as sw_txn_key_make builds it; SW_EPARSE
 * for an older branch (the key then needs Call-ID, CSeq and From tag). */
int sw_txn_key_make_via(const struct sw_via *v, sw_str method, struct sw_txn_key *key);

struct sw_txn_table;

/* capacity: live transactions at most (older ones are evicted first). */
int sw_txn_table_new(struct sw_txn_table **out, unsigned capacity);
void sw_txn_table_free(struct sw_txn_table *t);

enum sw_txn_state {
	SW_TXN_NEW = 0,     /* not seen: process it */
	SW_TXN_PENDING,     /* being processed (e.g. awaiting a durable write): absorb */
	SW_TXN_COMPLETED,   /* answered: send *resp again */
};

/* Looks the key up; a NEW request is entered as PENDING at time now (ms).
 * For COMPLETED, *resp and *len give the stored response (valid until the
 * table is next modified). */
enum sw_txn_state sw_txn_begin(struct sw_txn_table *t, const struct sw_txn_key *key, uint64_t now_ms,
			       const char **resp, size_t *len);
/* The state of a transaction without entering it (SW_TXN_NEW: unknown or
 * expired); nothing is allocated, nothing changes. For a request that will
 * not be processed (shed under overload) unless it is a retransmission. */
enum sw_txn_state sw_txn_peek(struct sw_txn_table *t, const struct sw_txn_key *key, uint64_t now_ms);
/* Stores the final response of a PENDING transaction; it is kept for
 * linger_ms (64*T1 = 32 s for UDP, 0 for reliable transports). */
int sw_txn_complete(struct sw_txn_table *t, const struct sw_txn_key *key, const char *resp, size_t len,
		    uint64_t now_ms, uint32_t linger_ms);
/* Forgets a transaction (e.g. processing failed before any answer). */
void sw_txn_forget(struct sw_txn_table *t, const struct sw_txn_key *key);
/* Drops completed transactions whose time has passed; returns how many. */
unsigned sw_txn_expire(struct sw_txn_table *t, uint64_t now_ms);
unsigned sw_txn_count(const struct sw_txn_table *t);

#endif
