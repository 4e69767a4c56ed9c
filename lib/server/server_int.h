/* What the files of lib/server share: the count of open TCP connections per
 * source address (srclimit.c), shared by every worker since the kernel
 * spreads one source's connections over the workers' listeners. */
#ifndef SW_SERVER_INT_H
#define SW_SERVER_INT_H

#include <stdbool.h>
#include <sys/socket.h>

struct sw__srclimit;

int sw__srclimit_new(struct sw__srclimit **out);
void sw__srclimit_free(struct sw__srclimit *l);
/* Counts one more connection from the address of sa, unless max are open
 * already (false: refuse it). Any thread. */
bool sw__srclimit_take(struct sw__srclimit *l, const struct sockaddr *sa, unsigned max);
/* One connection from sa closed (after a successful take). */
void sw__srclimit_give(struct sw__srclimit *l, const struct sockaddr *sa);

#endif
