/* sipwarden lint FILE|- : parse one SIP message and say what is wrong. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sipwarden/msg.h"
#include "commands.h"
#include "util.h"

static const char usage_text[] =
	"usage: sipwarden lint [--json] [--stream] FILE|-\n"
	"\n"
	"Reads one SIP message (a file, or - for standard input) and checks it\n"
	"against RFC 3261: framing, start line, every header a registrar relies on.\n"
	"A message copied from a log with bare LF line ends is accepted.\n"
	"\n"
	"  --json     print the parsed message as JSON (start line, each header\n"
	"             with its parsed fields, body length)\n"
	"  --stream   frame as on TCP (a missing Content-Length means no body)\n"
	"\n"
	"exit codes: 0 valid, 1 invalid (the reason is printed with line and\n"
	"column), 2 usage error or unreadable file.\n";

int cmd_lint(int argc, char **argv)
{
	bool json = false, stream = false;
	const char *path = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage_text, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--stream")) {
			stream = true;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "sipwarden lint: unknown option '%s'\n%s", argv[i], usage_text);
			return 2;
		} else if (!path) {
			path = argv[i];
		} else {
			fprintf(stderr, "sipwarden lint: one message at a time\n%s", usage_text);
			return 2;
		}
	}
	if (!path) {
		fputs(usage_text, stderr);
		return 2;
	}
	size_t len;
	char *data = sw_cli_read_file(path, SW_MSG_MAX_SIZE_DEFAULT * 4, &len);
	if (!data)
		return 2;
	struct sw_msg *m = malloc(sizeof(*m));
	if (!m) {
		free(data);
		fprintf(stderr, "sipwarden lint: out of memory\n");
		return 2;
	}
	struct sw_parse_opts opts = { .stream = stream };
	struct sw_perr err;
	int rc = sw_msg_parse(m, data, len, &opts, &err);
	if (rc == SW_EAGAIN) {
		err = (struct sw_perr){ .code = rc, .what = "the message is incomplete (ends before the end of its headers or body)" };
	}
	if (!rc)
		rc = sw_msg_check(m, &err);
	int exit_code = rc ? 1 : 0;
	if (json) {
		char *out = malloc(1u << 20);
		if (out) {
			struct sw_buf b;
			sw_buf_init(&b, out, 1u << 20);
			sw_cli_msg_json(&b, m, rc ? &err : NULL);
			fwrite(b.p, 1, b.len, stdout);
			fputc('\n', stdout);
			free(out);
		}
	} else if (rc) {
		char text[512];
		printf("invalid: %s\n", sw_perr_format(&err, text, sizeof(text)));
		if (err.status)
			printf("a server would answer %u %s\n", err.status, sw_reason_phrase(err.status));
	} else {
		if (m->is_request)
			printf("%.*s %.*s", (int)m->method.len, m->method.p, (int)m->ruri.len, m->ruri.p);
		else
			printf("%u %.*s", m->status, (int)m->reason.len, m->reason.p);
		printf(" \xe2\x80\x94 %u headers, body %zu bytes", m->nhdrs, m->body.len);
		if (m->len < len) {
			size_t rest = len - m->len;
			/* trailing line ends are not worth a word */
			const char *t = data + m->len;
			size_t k = 0;
			while (k < rest && (t[k] == '\r' || t[k] == '\n'))
				k++;
			if (k < rest)
				printf(" (%zu trailing bytes ignored)", rest);
		}
		putchar('\n');
	}
	free(m);
	free(data);
	return exit_code;
}
