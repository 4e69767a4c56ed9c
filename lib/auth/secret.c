/* The nonce secret: generated from the OS random source at first use, kept
 * in a small text file with mode 0600, rotated with the previous key kept
 * for one nonce lifetime so that outstanding nonces stay valid.
 *
 * File format (one key per line, '#' comments):
 *   sipwarden-secret 1
 *   cur <id> <created> <64 hex>
 *   prev <id> <created> <retired> <64 hex>      (optional)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include "auth/auth_int.h"

#define MAX_FILE 4096

static int random_bytes(void *p, size_t n)
{
	unsigned char *q = p;
	while (n) {
		ssize_t r = getrandom(q, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return SW_EIO;
		}
		q += r;
		n -= (size_t)r;
	}
	return 0;
}

static int new_key(struct sw_key *k, uint16_t id, uint64_t now)
{
	k->id = id;
	k->created = now;
	return random_bytes(k->bytes, sizeof(k->bytes));
}

int sw_secret_generate(struct sw_secret *s, uint64_t now)
{
	struct sw_secret t;
	uint16_t id;
	memset(&t, 0, sizeof(t));
	int err = random_bytes(&id, sizeof(id));
	if (!err)
		err = new_key(&t.cur, id, now);
	if (!err)
		*s = t;
	OPENSSL_cleanse(&t, sizeof(t));
	return err;
}

int sw_secret_rotate(struct sw_secret *s, uint64_t now)
{
	struct sw_key k;
	/* A different id from both keys, so that a nonce names its key. */
	uint16_t id = (uint16_t)(s->cur.id + 1);
	if (s->has_prev && id == s->prev.id)
		id++;
	int err = new_key(&k, id, now);
	if (err)
		return err;
	s->prev = s->cur;
	s->has_prev = true;
	s->prev_retired = now;
	s->cur = k;
	OPENSSL_cleanse(&k, sizeof(k));
	return 0;
}

void sw_secret_expire(struct sw_secret *s, uint64_t now, uint32_t lifetime)
{
	if (s->has_prev && now >= s->prev_retired + lifetime) {
		OPENSSL_cleanse(&s->prev, sizeof(s->prev));
		s->has_prev = false;
		s->prev_retired = 0;
	}
}

void sw_secret_wipe(struct sw_secret *s)
{
	OPENSSL_cleanse(s, sizeof(*s));
}

int sw_secret_derive(const struct sw_key *k, const char *label, unsigned char out[SW_KEY_BYTES])
{
	struct sw__hmac h;
	int err = sw__hmac_init(&h);
	if (err)
		return err;
	err = sw__hmac_setkey(&h, k->bytes, sizeof(k->bytes));
	if (!err)
		err = sw__hmac(&h, label, strlen(label), NULL, 0, out);
	sw__hmac_free(&h);
	return err;
}

static int unhex(const char *p, unsigned char *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v = 0;
		for (int j = 0; j < 2; j++) {
			char c = p[2 * i + (size_t)j];
			v <<= 4;
			if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
			else return SW_EPARSE;
		}
		out[i] = (unsigned char)v;
	}
	return 0;
}

/* "<id> <created> [<retired>] <hex>" */
static int parse_key(const char *line, struct sw_key *k, uint64_t *retired)
{
	char hex[2 * SW_KEY_BYTES + 2];
	unsigned id;
	unsigned long long created, ret = 0;
	int n, got;
	if (retired)
		got = sscanf(line, "%u %llu %llu %65s%n", &id, &created, &ret, hex, &n);
	else
		got = sscanf(line, "%u %llu %65s%n", &id, &created, hex, &n);
	if (got != (retired ? 4 : 3) || id > 0xffff || strlen(hex) != 2 * SW_KEY_BYTES)
		return SW_EPARSE;
	k->id = (uint16_t)id;
	k->created = created;
	if (retired)
		*retired = ret;
	int err = unhex(hex, k->bytes, SW_KEY_BYTES);
	OPENSSL_cleanse(hex, sizeof(hex));
	return err;
}

static int parse_file(char *text, struct sw_secret *s)
{
	bool magic = false, cur = false;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (!magic) {
			if (strcmp(line, "sipwarden-secret 1"))
				return SW_EPARSE;
			magic = true;
		} else if (!strncmp(line, "cur ", 4) && !cur) {
			if (parse_key(line + 4, &s->cur, NULL))
				return SW_EPARSE;
			cur = true;
		} else if (!strncmp(line, "prev ", 5) && !s->has_prev) {
			if (parse_key(line + 5, &s->prev, &s->prev_retired))
				return SW_EPARSE;
			s->has_prev = true;
		} else {
			return SW_EPARSE;
		}
	}
	return cur ? 0 : SW_EPARSE;
}

int sw_secret_load(const char *path, struct sw_secret *s)
{
	char text[MAX_FILE + 1];
	struct sw_secret t;
	struct stat st;
	int err = SW_EIO;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? SW_ENOTFOUND : SW_EIO;
	memset(&t, 0, sizeof(t));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		goto out;
	if (st.st_mode & 077) {
		err = SW_EINVAL;    /* readable by others: refuse, like ssh does */
		goto out;
	}
	size_t len = 0;
	for (;;) {
		ssize_t r = read(fd, text + len, MAX_FILE + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto out;
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > MAX_FILE) {
			err = SW_ETOOBIG;
			goto out;
		}
	}
	text[len] = '\0';
	err = parse_file(text, &t);
	if (!err)
		*s = t;
out:
	OPENSSL_cleanse(text, sizeof(text));
	OPENSSL_cleanse(&t, sizeof(t));
	close(fd);
	return err;
}

static void add_key_hex(struct sw_buf *b, const struct sw_key *k)
{
	sw_buf_add_hex(b, k->bytes, sizeof(k->bytes));
	sw_buf_addc(b, '\n');
}

/* exclusive: never replace an existing file (link instead of rename);
 * SW_EAGAIN when another process created it first. */
static int save(const char *path, const struct sw_secret *s, bool exclusive)
{
	char text[MAX_FILE], tmp[4096];
	struct sw_buf b;
	int err = SW_EIO;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= sizeof(tmp))
		return SW_EINVAL;
	sw_buf_init(&b, text, sizeof(text));
	sw_buf_adds(&b, "# sipwarden nonce secret: keep private (mode 0600); "
			"every node of a cluster needs the same file\nsipwarden-secret 1\n");
	sw_buf_addf(&b, "cur %u %llu ", s->cur.id, (unsigned long long)s->cur.created);
	add_key_hex(&b, &s->cur);
	if (s->has_prev) {
		sw_buf_addf(&b, "prev %u %llu %llu ", s->prev.id,
			    (unsigned long long)s->prev.created, (unsigned long long)s->prev_retired);
		add_key_hex(&b, &s->prev);
	}
	if (sw_buf_status(&b))
		goto out;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		goto out;
	size_t off = 0;
	while (off < b.len) {
		ssize_t w = write(fd, text + off, b.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	bool ok = off == b.len && fchmod(fd, 0600) == 0 && fsync(fd) == 0;
	if (close(fd))
		ok = false;
	if (ok && exclusive) {
		if (link(tmp, path) == 0)
			err = 0;
		else if (errno == EEXIST)
			err = SW_EAGAIN;
		unlink(tmp);
	} else if (ok && rename(tmp, path) == 0) {
		err = 0;
	} else {
		unlink(tmp);
	}
out:
	OPENSSL_cleanse(text, sizeof(text));
	return err;
}

int sw_secret_save(const char *path, const struct sw_secret *s)
{
	return save(path, s, false);
}

int sw_secret_open(const char *path, uint64_t now, struct sw_secret *s, bool *created)
{
	int err = sw_secret_load(path, s);
	if (err != SW_ENOTFOUND) {
		if (!err && created)
			*created = false;
		return err;
	}
	struct sw_secret t;
	err = sw_secret_generate(&t, now);
	if (!err)
		err = save(path, &t, true);
	if (err == SW_EAGAIN) {          /* lost the race: use the winner's */
		sw_secret_wipe(&t);
		err = sw_secret_load(path, s);
		if (!err && created)
			*created = false;
		return err;
	}
	if (!err) {
		*s = t;
		if (created)
			*created = true;
	}
	sw_secret_wipe(&t);
	return err;
}
