/* Loading sipwarden.conf with libinih.
 *
 * The file is read whole (at most SW_CONFIG_FILE_MAX bytes) and handed to
 * ini_parse_stream() line by line through our own reader, which
 *  - counts lines, so the handler knows where it is (the Debian build of
 *    libinih does not pass line numbers to handlers);
 *  - strips leading blanks, so indented keys are keys and never libinih's
 *    multi-line continuations (repeat a key instead);
 *  - refuses a line longer than libinih's line buffer instead of letting it
 *    be cut silently, a NUL byte, and an unknown or malformed [section]
 *    (libinih does not tell handlers about empty sections).
 * Only the first error is kept. Values are applied to a copy, so a bad file
 * leaves the caller's configuration untouched (SIGHUP reload). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ini.h>
#include "config/config_int.h"

struct load {
	struct sw_config *c;
	const char *path;
	const char *text;
	size_t len, pos;
	unsigned line;               /* the line the reader returned last */
	unsigned err_line;           /* 0: no error yet */
	char err[512];               /* the reason, without "FILE:LINE: " */
	unsigned seen[SW__CONFIG_KEYS_MAX];           /* line where each non-list key was first set */
};

static void record(struct load *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void record(struct load *l, const char *fmt, ...)
{
	if (l->err_line)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(l->err, sizeof(l->err), fmt, ap);
	va_end(ap);
	l->err_line = l->line ? l->line : 1;
}

static void trim(const char **s, const char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
		(*e)--;
}

/* "[name]" possibly followed by a comment. Returns false (and records why)
 * when it is malformed or names no section of ours. */
static bool check_section(struct load *l, const char *s, const char *e)
{
	const char *close = memchr(s, ']', (size_t)(e - s));
	if (!close) {
		record(l, "expected ']' to close the section name");
		return false;
	}
	const char *after = close + 1, *ae = e;
	trim(&after, &ae);
	if (after < ae && *after != ';' && *after != '#') {
		record(l, "unexpected text after ']'");
		return false;
	}
	const char *ns = s + 1, *ne = close;
	trim(&ns, &ne);
	if (!sw__config_section(ns, (size_t)(ne - ns))) {
		char name[48];
		size_t n = (size_t)(ne - ns) < sizeof(name) ? (size_t)(ne - ns) : sizeof(name) - 1;
		for (size_t i = 0; i < n; i++)
			name[i] = (ns[i] >= 0x20 && ns[i] < 0x7f) ? ns[i] : '?';
		name[n] = '\0';
		record(l, "unknown section [%s] (sections: server, registrar, proxy, auth, store, tcp, tls, ban, overload, log)",
		       name);
		return false;
	}
	return true;
}

/* ini_reader: the next line, without leading blanks. NULL at the end or
 * after an error found here (parsing stops; the first error wins). */
static char *reader(char *str, int num, void *stream)
{
	struct load *l = stream;
	if (l->pos >= l->len || l->err_line)
		return NULL;
	const char *s = l->text + l->pos, *end = l->text + l->len;
	const char *nl = memchr(s, '\n', (size_t)(end - s));
	const char *e = nl ? nl : end;
	l->pos = (size_t)(e - l->text) + (nl ? 1 : 0);
	l->line++;
	if (l->line == 1 && e - s >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3))
		s += 3;      /* a UTF-8 byte order mark */
	if (memchr(s, '\0', (size_t)(e - s))) {
		record(l, "NUL byte in the line");
		return NULL;
	}
	trim(&s, &e);
	size_t n = (size_t)(e - s);
	/* libinih treats a line that fills its buffer as cut: keep a byte
	 * spare for the newline it looks for and one for the NUL. */
	if (num < 3 || n > (size_t)num - 2) {
		record(l, "line too long (at most %d characters; repeat a key instead of a long list)",
		       num - 2);
		return NULL;
	}
	if (n && *s == '[' && !check_section(l, s, e))
		return NULL;
	memcpy(str, s, n);
	str[n] = '\n';
	str[n + 1] = '\0';
	return str;
}

/* ini_handler: one "name = value" of section. 1 to go on, 0 on error. */
static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct load *l = user;
	if (l->err_line)
		return 1;            /* parsing is stopping; keep the first error */
	char sect[64];
	const char *ss = section, *se = section + strlen(section);
	trim(&ss, &se);
	snprintf(sect, sizeof(sect), "%.*s", (int)(se - ss), ss);
	const struct sw__ckey *k = sw__config_key(sect, name);
	if (!k) {
		const struct sw__ckey *elsewhere = sw__config_key(NULL, name);
		if (!sect[0] && elsewhere)
			record(l, "key '%s': outside a section (put it under [%s])", name,
			       elsewhere->section);
		else if (!sect[0])
			record(l, "key '%s': outside a section, and no section has it", name);
		else if (elsewhere)
			record(l, "key '%s': belongs in [%s], not [%s]", name, elsewhere->section, sect);
		else
			record(l, "key '%s': unknown in [%s]", name, sect);
		return 0;
	}
	size_t ki = (size_t)(k - sw__config_keys);
	if (k->kind != SW__CK_LISTEN && k->kind != SW__CK_DOMAIN && k->kind != SW__CK_PREFIXES) {
		if (l->seen[ki]) {
			record(l, "key '%s': given twice (first on line %u)", k->name, l->seen[ki]);
			return 0;
		}
		l->seen[ki] = l->line;
	}
	char reason[400];
	if (sw__config_apply(l->c, k, value, reason, sizeof(reason))) {
		record(l, "key '%s': %s", k->name, reason);
		return 0;
	}
	return 1;
}

static int read_file(const char *path, char **out, size_t *len, char *why, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto io;
	struct stat st;
	if (fstat(fd, &st))
		goto io;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		goto io;
	}
	char *buf = malloc(SW_CONFIG_FILE_MAX + 1);
	if (!buf) {
		close(fd);
		snprintf(why, cap, "%s: out of memory", path);
		return SW_ENOMEM;
	}
	size_t n = 0;
	for (;;) {
		ssize_t r = read(fd, buf + n, SW_CONFIG_FILE_MAX + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			goto io;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > SW_CONFIG_FILE_MAX) {
			free(buf);
			close(fd);
			snprintf(why, cap, "%s: larger than %d bytes", path, SW_CONFIG_FILE_MAX);
			return SW_EINVAL;
		}
	}
	close(fd);
	*out = buf;
	*len = n;
	return 0;
io:
	snprintf(why, cap, "%s: cannot read: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return SW_EIO;
}

int sw_config_load(struct sw_config *c, const char *path, char *why, size_t why_cap)
{
	char dummy[1];
	if (!why || !why_cap) {
		why = dummy;
		why_cap = sizeof(dummy);
	}
	char *text = NULL;
	size_t len = 0;
	struct load *l = NULL;
	int err = read_file(path, &text, &len, why, why_cap);
	if (err)
		return err;
	err = SW_ENOMEM;
	l = calloc(1, sizeof(*l));
	struct sw_config *work = malloc(sizeof(*work));
	if (!l || !work) {
		snprintf(why, why_cap, "%s: out of memory", path);
		goto out;
	}
	*work = *c;
	/* The file is a new layer: its first listen/domain replaces the list. */
	work->listen_replace = true;
	work->domains_replace = true;
	work->ban.allow_replace = true;
	l->c = work;
	l->path = path;
	l->text = text;
	l->len = len;
	int rc = ini_parse_stream(reader, l, handler, l);
	err = SW_EINVAL;
	if (rc > 0 && (!l->err_line || (unsigned)rc < l->err_line)) {
		snprintf(why, why_cap, "%s:%d: expected 'key = value', '[section]' or a comment", path,
			 rc);
		goto out;
	}
	if (rc < 0) {
		snprintf(why, why_cap, "%s: out of memory", path);
		err = SW_ENOMEM;
		goto out;
	}
	if (l->err_line) {
		snprintf(why, why_cap, "%s:%u: %s", path, l->err_line, l->err);
		goto out;
	}
	/* Command-line flags after the file replace the file's lists. */
	work->listen_replace = true;
	work->domains_replace = true;
	work->ban.allow_replace = true;
	*c = *work;
	err = 0;
out:
	free(work);
	free(l);
	free(text);
	return err;
}
