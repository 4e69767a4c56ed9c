/* What the files of lib/ban share: the sharded table of counters and bans.
 * ban.c owns the table and the hot-path check, limits.c the counters,
 * sync.c the exchange with the store. */
#ifndef SW_BAN_INT_H
#define SW_BAN_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include "sipwarden/ban.h"

#define BAN_SHARDS 64u
#define SRC_SLOTS 256u     /* sources tracked per shard */
#define PAIR_SLOTS 512u    /* (source, user) pairs tracked per shard */
#define PROBE 8u           /* slots looked at for one key */
#define BAN_BUCKETS 256u   /* hash chains of single-address bans per shard */
#define LOG_EVERY 60       /* seconds between source-banned events of one ban */
#define V6_UNIT 64         /* an IPv6 source is counted and banned by its /64 */

/* Counters of one source address (limits.c). */
struct src {
	struct sw_prefix a;  /* bits 0: free slot */
	int64_t last;        /* last decision seen: the least recent slot is reused */
	int64_t known_until; /* a success was seen: only its failing users are limited */
	int64_t users_start; /* the window of the distinct failing users */
	int64_t flood_start;
	uint32_t flood;      /* unauthenticated requests in the flood window */
	uint32_t nusers;
	uint32_t users[SW_BAN_USERS_MAX]; /* hashes of the distinct failing users */
};

/* Failures of one (source, user). */
struct pair {
	struct sw_prefix a;
	uint32_t user;       /* hash of the username */
	int64_t last;
	int64_t start;       /* the window */
	uint32_t fails;
};

/* A ban in memory: in force, or ended and remembered for its level. */
struct entry {
	struct entry *next;
	struct sw_ban_record rec;
	struct sw_prefix net;
	uint32_t user;       /* hash of rec.user; 0: the whole address */
	bool dirty;          /* made here, not yet in the store */
	uint32_t gen;        /* the last reload that saw it in the store */
	int64_t logged;      /* the last source-banned event; 0: none yet */
	uint64_t refused;    /* requests refused since then */
};

struct shard {
	pthread_mutex_t lock;
	struct src src[SRC_SLOTS];
	struct pair pair[PAIR_SLOTS];
	struct entry *bans[BAN_BUCKETS]; /* single addresses (bits 32 or 128) */
};

/* The settings in force, replaced whole by sw_ban_reconfigure() (SIGHUP) so
 * that a reader always sees one consistent copy. A replaced copy is kept
 * until sw_ban_free(), since a worker may still be reading it (about 1.3 KB
 * per reload). */
struct cfg_box {
	struct cfg_box *older;
	struct sw_ban_cfg cfg;
};

struct sw_ban {
	_Atomic(struct cfg_box *) cfg;
	pthread_mutex_t cfg_lock;        /* one reconfiguration at a time */
	struct shard *shards;
	pthread_mutex_t nets_lock;
	struct entry *nets;              /* bans on networks (shorter prefixes) */
	atomic_size_t nbans;             /* entries held, in shards and nets */
	atomic_size_t nnets;
	atomic_size_t ndirty;
	_Atomic uint64_t started, dropped, rejected, refused_bans;
	/* sync.c, one thread */
	bool loaded;
	uint64_t version;                /* the store's ban version we have */
	uint32_t gen;
	int64_t forgot;                  /* when remembered bans were last forgotten */
};

uint32_t sw__ban_hash(const void *p, size_t n, uint32_t h);
/* The hash of a username (never 0: 0 means "no user"). */
uint32_t sw__ban_user_hash(const char *p, size_t n);
uint32_t sw__ban_addr_hash(const struct sw_prefix *a);
struct shard *sw__ban_shard(struct sw_ban *b, const struct sw_prefix *a);
/* The settings in force (valid until sw_ban_free). */
static inline const struct sw_ban_cfg *sw__ban_cfg(struct sw_ban *b)
{
	return &atomic_load_explicit(&b->cfg, memory_order_acquire)->cfg;
}
bool sw__ban_allowed(const struct sw_ban_cfg *c, const struct sw_prefix *a);
/* Narrows one address to what the limits count and ban: an IPv4 address
 * itself, an IPv6 address's /64 (a customer's network, in which an attacker
 * takes any address he likes). */
void sw__ban_unit(struct sw_prefix *a);
bool sw__ban_active(const struct entry *e, int64_t now);

/* The list an entry for net belongs to, and the lock that guards it. */
struct entry **sw__ban_list(struct sw_ban *b, const struct sw_prefix *net, pthread_mutex_t **lock);
/* The entry of (net, user) in *list, or NULL; the caller holds the lock. */
struct entry *sw__ban_find(struct entry *list, const struct sw_prefix *net, uint32_t user,
			   const char *name);
/* Links a new entry (counted); false when SW_BAN_MAX are held. */
bool sw__ban_link(struct sw_ban *b, struct entry **list, struct entry *e);
/* Unlinks and frees *pe. */
void sw__ban_unlink(struct sw_ban *b, struct entry **pe);

/* Starts (or escalates) a ban on net, for user (NULL: the whole address),
 * with reason; detail gets what to log. False when it could not be made or
 * one is already in force. */
bool sw__ban_start(struct sw_ban *b, const struct sw_prefix *net, const char *user, const char *reason,
		   int64_t now, struct sw_ban_note *note);
/* snprintf into a fixed text field: a long detail is cut, on purpose. */
void sw__ban_text(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "10m", "2h", "1d 3h": a length of time for messages. */
void sw__ban_duration(int64_t s, char *out, size_t cap);

#endif
