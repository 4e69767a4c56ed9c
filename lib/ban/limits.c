/* The limits: every auth decision updates the counters of its source and of
 * its (source, user), and a counter past its limit starts a ban. The
 * counters live in fixed slots (bounded memory): a key is looked for in
 * PROBE slots from its hash, and a new key takes a free slot or the least
 * recently used of them. Forgetting a quiet source costs nothing: an
 * attacker spread over many addresses still meets the limits at each. */
#include <stdio.h>
#include <string.h>
#include "sipwarden/metrics.h"
#include "ban/ban_int.h"

enum sw_ban_class sw_ban_classify(enum sw_cause cause)
{
	switch (cause) {
	case SW_CAUSE_OK:
	case SW_CAUSE_EXPIRES_TOO_BRIEF:   /* decided after the credentials verified */
	case SW_CAUSE_TOO_MANY_CONTACTS:
		return SW_BAN_SUCCESS;
	case SW_CAUSE_WRONG_PASSWORD:
	case SW_CAUSE_UNKNOWN_USER:
	case SW_CAUSE_ACCOUNT_DISABLED:
	case SW_CAUSE_AUTH_USER_MISMATCH:
	case SW_CAUSE_USERNAME_HAS_DOMAIN:
	case SW_CAUSE_REALM_MISMATCH:
	case SW_CAUSE_URI_MISMATCH:
	case SW_CAUSE_NONCE_INVALID:
	case SW_CAUSE_NONCE_REPLAY:
	case SW_CAUSE_ALGORITHM_UNSUPPORTED:
	case SW_CAUSE_ALGORITHM_MISMATCH:
	case SW_CAUSE_QOP_INVALID:
	case SW_CAUSE_MALFORMED_AUTHORIZATION:
		return SW_BAN_FAILURE;
	case SW_CAUSE_NO_CREDENTIALS:
	case SW_CAUSE_STALE_NONCE:
	case SW_CAUSE_DOMAIN_UNKNOWN:
	case SW_CAUSE_CALLEE_UNKNOWN:      /* extension scans by INVITE from another domain */
	case SW_CAUSE_RELAY_DENIED:        /* relay probes */
		return SW_BAN_UNAUTH;
	default:
		return SW_BAN_NEUTRAL;
	}
}

static bool same_addr(const struct sw_prefix *x, const struct sw_prefix *y)
{
	return x->bits && x->v6 == y->v6 && !memcmp(x->addr, y->addr, x->v6 ? 16 : 4);
}

static struct src *src_get(struct shard *s, const struct sw_prefix *a, uint32_t h)
{
	struct src *victim = NULL;
	for (unsigned i = 0; i < PROBE; i++) {
		struct src *c = &s->src[(h + i) % SRC_SLOTS];
		if (same_addr(&c->a, a))
			return c;
		if (!victim || (victim->a.bits && (!c->a.bits || c->last < victim->last)))
			victim = c;
	}
	memset(victim, 0, sizeof(*victim));
	victim->a = *a;
	return victim;
}

static struct pair *pair_get(struct shard *s, const struct sw_prefix *a, uint32_t user, uint32_t h,
			     bool create)
{
	struct pair *victim = NULL;
	h ^= user;
	for (unsigned i = 0; i < PROBE; i++) {
		struct pair *c = &s->pair[(h + i) % PAIR_SLOTS];
		if (c->user == user && same_addr(&c->a, a))
			return c;
		if (!victim || (victim->a.bits && (!c->a.bits || c->last < victim->last)))
			victim = c;
	}
	if (!create)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	victim->a = *a;
	victim->user = user;
	return victim;
}

/* Restarts a window that is over. */
static bool roll(int64_t *start, int64_t now, uint32_t len)
{
	if (*start && now - *start < (int64_t)len)
		return false;
	*start = now;
	return true;
}

/* What tripped, decided under the shard lock and acted on after it. */
struct trip {
	bool ban;
	bool user_only;      /* a known source: ban the user from it, not the address */
	enum sw_metric limit; /* which limit tripped (counted when the ban starts) */
	char user[SW_STORE_USER_MAX + 1];
	char reason[SW_STORE_TEXT_MAX + 1];
};

static void failure(const struct sw_ban_cfg *c, struct shard *s, struct src *src, const struct sw_prefix *a,
		    uint32_t h, const char *user, size_t ulen, int64_t now, struct trip *t)
{
	bool known = src->known_until > now;
	uint32_t uh = sw__ban_user_hash(user, ulen);
	struct pair *p = pair_get(s, a, uh, h, true);
	p->last = now;
	if (roll(&p->start, now, c->window))
		p->fails = 0;
	if (++p->fails >= c->user_failures) {
		t->ban = true;
		t->user_only = known;
		t->limit = SW_M_BAN_USER_FAILURES;
		SW_STORE_SET(t->user, sw_str_from(user, ulen));
		sw__ban_text(t->reason, sizeof(t->reason),
			 "limit user_failures: %u failed authentications of user '%s' in %llds "
			 "(limit %u in %us)%s", p->fails, t->user, (long long)(now - p->start), c->user_failures,
			 c->window, known ? "; the source is known (a success in the last known_for), "
					    "so only this user is banned from it" : "");
		p->fails = 0;
		return;
	}
	if (roll(&src->users_start, now, c->window))
		src->nusers = 0;
	for (uint32_t i = 0; i < src->nusers; i++)
		if (src->users[i] == uh)
			return;
	bool full = src->nusers >= SW_BAN_USERS_MAX;
	if (!full)
		src->users[src->nusers++] = uh;
	if (known) {
		/* the address is shared by good devices: never banned as a whole, but
		 * past distinct_users each further failing user is banned at its
		 * first failure (one valid account must not open a spray) */
		if (!full && src->nusers <= c->distinct_users)
			return;
		t->ban = true;
		t->user_only = true;
		t->limit = SW_M_BAN_DISTINCT_USERS;
		SW_STORE_SET(t->user, sw_str_from(user, ulen));
		sw__ban_text(t->reason, sizeof(t->reason),
			 "limit distinct_users: %u different users failed in %llds from a known address "
			 "(limit %u in %us): '%s' is banned at its first failure, the address is not",
			 src->nusers, (long long)(now - src->users_start), c->distinct_users, c->window, t->user);
		return;
	}
	if (src->nusers >= c->distinct_users) {
		t->ban = true;
		t->limit = SW_M_BAN_DISTINCT_USERS;
		sw__ban_text(t->reason, sizeof(t->reason),
			 "limit distinct_users: %u different users failed to authenticate in %llds "
			 "(limit %u in %us; the last was '%.*s')", src->nusers, (long long)(now - src->users_start),
			 c->distinct_users, c->window, (int)(ulen > 64 ? 64 : ulen), user);
		src->nusers = 0;
	}
}

static void unauthenticated(const struct sw_ban_cfg *c, struct src *src, int64_t now, struct trip *t)
{
	if (src->known_until > now)
		return;
	if (roll(&src->flood_start, now, c->flood_window))
		src->flood = 0;
	if (++src->flood >= c->flood_requests) {
		t->ban = true;
		t->limit = SW_M_BAN_FLOOD;
		sw__ban_text(t->reason, sizeof(t->reason),
			 "limit flood_requests: %u requests without valid credentials in %llds "
			 "(limit %u in %us)", src->flood, (long long)(now - src->flood_start), c->flood_requests,
			 c->flood_window);
		src->flood = 0;
	}
}

bool sw_ban_observe(struct sw_ban *b, const struct sockaddr *source, sw_str user, enum sw_cause cause,
		    int64_t now, struct sw_ban_note *note)
{
	enum sw_ban_class k = sw_ban_classify(cause);
	const struct sw_ban_cfg *c = sw__ban_cfg(b);
	struct sw_prefix a;
	note->log = false;
	if (!c->enabled || k == SW_BAN_NEUTRAL || sw_prefix_from_sockaddr(source, &a) ||
	    sw__ban_allowed(c, &a))
		return false;
	sw__ban_unit(&a);
	size_t ulen = user.p ? user.len : 0;
	if (ulen > SW_STORE_USER_MAX)
		ulen = SW_STORE_USER_MAX;
	if (k == SW_BAN_FAILURE && !ulen)
		k = SW_BAN_UNAUTH; /* no username to hold it against */
	uint32_t h = sw__ban_addr_hash(&a) / BAN_SHARDS;
	struct shard *s = sw__ban_shard(b, &a);
	struct trip t = { 0 };
	pthread_mutex_lock(&s->lock);
	struct src *src = src_get(s, &a, h);
	src->last = now;
	if (k == SW_BAN_SUCCESS) {
		src->known_until = now + (int64_t)c->known_for;
		struct pair *p = ulen ? pair_get(s, &a, sw__ban_user_hash(user.p, ulen), h, false) : NULL;
		if (p)
			p->fails = 0; /* the device has the right password now */
	} else if (k == SW_BAN_FAILURE) {
		failure(c, s, src, &a, h, user.p, ulen, now, &t);
	} else {
		unauthenticated(c, src, now, &t);
	}
	pthread_mutex_unlock(&s->lock);
	bool started = t.ban && sw__ban_start(b, &a, t.user_only ? t.user : NULL, t.reason, now, note);
	if (started)
		sw_metrics_inc(t.limit);
	return started;
}
