/* Shared by the store admin commands: --db handling and opening. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "store_cli.h"

/* mkdir -p of the directory part of path. */
static int make_parent(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	if (!slash || slash == path)
		return 0;
	size_t n = (size_t)(slash - path);
	if (n >= sizeof(dir))
		return -1;
	memcpy(dir, path, n);
	dir[n] = '\0';
	for (char *p = dir + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(dir, 0750) != 0 && errno != EEXIST)
				return -1;
			*p = c;
			if (!c)
				break;
		}
	}
	return 0;
}

struct sw_store *sw_cli_store_open(const char *cmd, const char *path, bool create)
{
	char spec[4200];
	struct sw_store *st;
	struct sw_store_opts o = { .create = create };
	if (create && make_parent(path)) {
		fprintf(stderr, "sipwarden %s: cannot create the directory of %s: %s\n", cmd, path,
			strerror(errno));
		return NULL;
	}
	snprintf(spec, sizeof(spec), "sqlite:%s", path);
	int err = sw_store_open(&st, spec, &o);
	if (err == SW_ENOTFOUND) {
		fprintf(stderr, "sipwarden %s: no database at %s (add a user or start the server "
				"first, or give --db PATH)\n", cmd, path);
		return NULL;
	}
	if (err == SW_EVERSION) {
		fprintf(stderr, "sipwarden %s: %s was written by a newer sipwarden\n", cmd, path);
		return NULL;
	}
	if (err) {
		fprintf(stderr, "sipwarden %s: cannot open %s: %s\n", cmd, path,
			sw_store_strerror(err));
		return NULL;
	}
	return st;
}

int sw_cli_db_option(const char *cmd, int argc, char **argv, int *i, const char **db)
{
	const char *a = argv[*i];
	if (!strncmp(a, "--db=", 5)) {
		*db = a + 5;
		return 1;
	}
	if (!strcmp(a, "--db")) {
		if (*i + 1 >= argc) {
			fprintf(stderr, "sipwarden %s: --db needs a PATH\n", cmd);
			return -1;
		}
		*db = argv[++*i];
		return 1;
	}
	if (!strcmp(a, "--config") || !strncmp(a, "--config=", 9)) {
		fprintf(stderr, "sipwarden %s: --config is not supported yet; give --db PATH\n",
			cmd);
		return -1;
	}
	return 0;
}

void sw_cli_put(struct sw_buf *b)
{
	if (sw_buf_status(b))
		fputs("(record too large to show)\n", stdout);
	else
		fwrite(b->p, 1, b->len, stdout);
}

int sw_cli_count(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

int sw_cli_event_show(void *arg, const struct sw_auth_event *ev)
{
	struct sw_cli_list *c = arg;
	char mem[4096];
	struct sw_buf b;
	sw_buf_init(&b, mem, sizeof(mem));
	if (c->json) {
		sw_buf_adds(&b, c->n ? ",\n  " : "\n  ");
		sw_event_render_json(&b, ev);
	} else {
		if (c->n)
			sw_buf_addc(&b, '\n');
		sw_event_render_text(&b, ev, false);
	}
	c->n++;
	sw_cli_put(&b);
	return 0;
}
