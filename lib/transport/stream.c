/* Stream framing: splits a TCP/TLS byte stream into SIP messages by
 * Content-Length (RFC 3261 §18.3), consuming keep-alive CRLFs (RFC 5626 §4.4.1). */
#include <string.h>
#include "sipwarden/msg.h"
#include "sipwarden/transport.h"

void sw_stream_init(struct sw_stream *s, char *buf, size_t cap)
{
	s->buf = buf;
	s->cap = cap;
	s->len = 0;
	s->msg_len = 0;
	s->pings = 0;
}

int sw_stream_next(struct sw_stream *s, const char **msg, size_t *len)
{
	/* drop the message handed out last time */
	if (s->msg_len) {
		memmove(s->buf, s->buf + s->msg_len, s->len - s->msg_len);
		s->len -= s->msg_len;
		s->msg_len = 0;
	}
	/* keep-alives (RFC 5626 §4.4.1): "\r\n\r\n" is a ping, a lone "\r\n" a
	 * pong. A short run of line ends at the end of the buffer may still grow
	 * into a ping: wait for the next byte before deciding. */
	size_t skip = 0;
	while (s->len - skip >= 4 && !memcmp(s->buf + skip, "\r\n\r\n", 4)) {
		s->pings++;
		skip += 4;
	}
	size_t run = 0;
	while (skip + run < s->len && (s->buf[skip + run] == '\r' || s->buf[skip + run] == '\n'))
		run++;
	if (skip + run < s->len || run >= 4) /* 4 stray line ends cannot be a ping */
		skip += run;
	if (skip) {
		memmove(s->buf, s->buf + skip, s->len - skip);
		s->len -= skip;
	}
	if (s->len == 0 || s->buf[0] == '\r' || s->buf[0] == '\n')
		return 0;
	struct sw_parse_opts o = { .stream = true, .max_size = s->cap };
	struct sw_msg *m = NULL;
	/* a struct sw_msg is large: framing needs only its length, so parse into
	 * a per-thread one instead of the stack */
	static _Thread_local struct sw_msg tm;
	m = &tm;
	int rc = sw_msg_parse(m, s->buf, s->len, &o, NULL);
	if (rc == SW_EAGAIN) {
		if (s->len == s->cap)
			return SW_ETOOBIG;
		return 0;
	}
	if (rc == SW_ETOOBIG)
		return SW_ETOOBIG;
	if (rc)
		return SW_EPARSE;
	*msg = s->buf;
	*len = m->len;
	s->msg_len = m->len;
	return 1;
}
