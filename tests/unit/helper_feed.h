/* Test helpers: parse at a guard page, feed a stream one byte at a time. */
#ifndef SW_TEST_HELPER_FEED_H
#define SW_TEST_HELPER_FEED_H

#include "sipwarden/msg.h"

/* Copies data so that its last byte is the last byte before a PROT_NONE
 * page, then parses it there: any over-read crashes. The copy stays mapped
 * (and m valid) until the next call or sw_test_guard_release(). */
int sw_test_parse_guarded(const char *data, size_t len, const struct sw_parse_opts *o,
			  struct sw_msg *m, struct sw_perr *e);
void sw_test_guard_release(void);

/* Feeds data as a TCP stream would: every prefix, each at a guard page.
 * Returns 0 when each proper prefix of the first message gives SW_EAGAIN
 * (or an error that the whole input also gives) and the whole input gives
 * the same result as a one-shot stream parse; -1 otherwise. */
int sw_test_feed_bytewise(const char *data, size_t len);

/* Reads a file into a malloc'd buffer; NULL on error. */
char *sw_test_read_file(const char *path, size_t *len);
/* $SW_CORPUS or "../shared/corpus". */
const char *sw_test_corpus(void);

#endif
