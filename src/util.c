/* Helpers shared by the subcommands. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"

char *sw_cli_read_file(const char *path, size_t max, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f) {
		fprintf(stderr, "sipwarden: cannot open %s: %s\n", path, strerror(errno));
		return NULL;
	}
	char *buf = malloc(max + 1);
	if (!buf) {
		fprintf(stderr, "sipwarden: out of memory\n");
		if (f != stdin)
			fclose(f);
		return NULL;
	}
	size_t n = fread(buf, 1, max + 1, f);
	bool bad = ferror(f);
	if (f != stdin)
		fclose(f);
	if (bad) {
		fprintf(stderr, "sipwarden: cannot read %s\n", path);
		free(buf);
		return NULL;
	}
	if (n > max) {
		fprintf(stderr, "sipwarden: %s is larger than %zu bytes\n", path, max);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

void sw_cli_msg_json(struct sw_buf *b, const struct sw_msg *m, const struct sw_perr *err)
{
	sw_msg_to_json(b, m, err);
}
