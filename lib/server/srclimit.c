/* Open TCP connections per source address, for tcp.max_connections_per_source:
 * 64 shards by address hash, each a mutex and hash chains of (address,
 * count); an address's node is freed when its last connection closes, so
 * the memory follows the open connections (at most tcp.max_connections). */
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "sipwarden/common.h"
#include "server/server_int.h"

#define SHARDS 64u
#define BUCKETS 64u

struct node {
	struct node *next;
	uint8_t addr[16];
	unsigned count;
};

struct shard {
	pthread_mutex_t lock;
	struct node *b[BUCKETS];
};

struct sw__srclimit {
	struct shard s[SHARDS];
};

int sw__srclimit_new(struct sw__srclimit **out)
{
	struct sw__srclimit *l = calloc(1, sizeof(*l));
	if (!l)
		return SW_ENOMEM;
	for (unsigned i = 0; i < SHARDS; i++)
		pthread_mutex_init(&l->s[i].lock, NULL);
	*out = l;
	return 0;
}

void sw__srclimit_free(struct sw__srclimit *l)
{
	if (!l)
		return;
	for (unsigned i = 0; i < SHARDS; i++) {
		for (unsigned k = 0; k < BUCKETS; k++) {
			struct node *n = l->s[i].b[k];
			while (n) {
				struct node *next = n->next;
				free(n);
				n = next;
			}
		}
		pthread_mutex_destroy(&l->s[i].lock);
	}
	free(l);
}

/* The address as 16 bytes (IPv4 as IPv4-mapped IPv6) and its hash. */
static uint32_t key(const struct sockaddr *sa, uint8_t out[16])
{
	memset(out, 0, 16);
	if (sa->sa_family == AF_INET) {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	}
	uint32_t h = 2166136261u;
	for (unsigned i = 0; i < 16; i++)
		h = (h ^ out[i]) * 16777619u;
	return h ^ (h >> 15);
}

bool sw__srclimit_take(struct sw__srclimit *l, const struct sockaddr *sa, unsigned max)
{
	uint8_t a[16];
	uint32_t h = key(sa, a);
	struct shard *s = &l->s[h % SHARDS];
	struct node **head = &s->b[(h / SHARDS) % BUCKETS], *n;
	bool ok = true;
	pthread_mutex_lock(&s->lock);
	for (n = *head; n && memcmp(n->addr, a, 16); n = n->next)
		;
	if (!n && (n = calloc(1, sizeof(*n))) != NULL) {
		memcpy(n->addr, a, 16);
		n->next = *head;
		*head = n;
	}
	if (!n || n->count >= max)
		ok = false;
	else
		n->count++;
	pthread_mutex_unlock(&s->lock);
	return ok;
}

void sw__srclimit_give(struct sw__srclimit *l, const struct sockaddr *sa)
{
	uint8_t a[16];
	uint32_t h = key(sa, a);
	struct shard *s = &l->s[h % SHARDS];
	struct node **pn = &s->b[(h / SHARDS) % BUCKETS];
	pthread_mutex_lock(&s->lock);
	while (*pn && memcmp((*pn)->addr, a, 16))
		pn = &(*pn)->next;
	struct node *n = *pn;
	if (n && --n->count == 0) {
		*pn = n->next;
		free(n);
	}
	pthread_mutex_unlock(&s->lock);
}
