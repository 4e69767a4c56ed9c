/* Test helpers: guard-page parsing and byte-by-byte stream feeding. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "helper_feed.h"

static void *guard_map;
static size_t guard_len;

void sw_test_guard_release(void)
{
	if (guard_map)
		munmap(guard_map, guard_len);
	guard_map = NULL;
}

static char *guard_copy(const char *data, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t pages = (len + page - 1) / page + 1;
	sw_test_guard_release();
	guard_len = (pages + 1) * page;
	guard_map = mmap(NULL, guard_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (guard_map == MAP_FAILED) {
		guard_map = NULL;
		abort();
	}
	char *guard = (char *)guard_map + pages * page;
	if (mprotect(guard, page, PROT_NONE))
		abort();
	char *dst = guard - len;
	if (len)
		memcpy(dst, data, len);
	/* the parser must not write to its input: make it read-only too */
	if (mprotect(guard_map, pages * page, PROT_READ))
		abort();
	return dst;
}

int sw_test_parse_guarded(const char *data, size_t len, const struct sw_parse_opts *o,
			  struct sw_msg *m, struct sw_perr *e)
{
	const char *p = guard_copy(data, len);
	return sw_msg_parse(m, p, len, o, e);
}

int sw_test_feed_bytewise(const char *data, size_t len)
{
	struct sw_parse_opts o = { .stream = true };
	struct sw_msg *m = malloc(sizeof(*m));
	struct sw_perr e;
	if (!m)
		abort();
	int whole = sw_msg_parse(m, data, len, &o, &e);
	size_t whole_len = m->len;
	int bad = 0;
	for (size_t n = 0; n < len && !bad; n++) {
		int rc = sw_test_parse_guarded(data, n, &o, m, &e);
		if (rc == 0) {
			/* a complete message inside the prefix: must be the same one */
			if (whole != 0 || m->len != whole_len || n < whole_len)
				bad = 1;
		} else if (rc != SW_EAGAIN && rc != whole) {
			bad = 1;
		}
	}
	sw_test_guard_release();
	free(m);
	return bad ? -1 : 0;
}

char *sw_test_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf) {
		buf[n] = '\0';
		*len = (size_t)n;
	}
	return buf;
}

const char *sw_test_corpus(void)
{
	const char *c = getenv("SW_CORPUS");
	return c && *c ? c : "../shared/corpus";
}
