/* Step 2 of the check: is anyone there? An OPTIONS over one connection
 * (RFC 3261 §11); any final answer, even 404 or 405, proves the path. */
#include <stdio.h>
#include <stdlib.h>
#include "doctor_int.h"

int sw_doctor_options(struct sw_doctor_io *io, const struct sw_doctor_cfg *cfg, size_t pad,
		      unsigned *status, struct sw_doctor_report *r)
{
	struct sw__dsess s;
	int x = sw__dsess_init(&s, cfg, io);
	char *buf = malloc(SW__DOCTOR_MSG_CAP), *resp = malloc(SW__DOCTOR_MSG_CAP);
	struct sw_msg *m = malloc(sizeof(*m));
	if (x || !buf || !resp || !m) {
		x = x ? x : SW_ENOMEM;
		goto out;
	}
	struct sw_buf b;
	sw_buf_init(&b, buf, SW__DOCTOR_MSG_CAP);
	x = sw__dreq_build(&s, &b, "OPTIONS", 0, NULL, pad);
	if (x)
		goto out;
	size_t rlen = 0;
	x = io->exchange(io->self, b.p, b.len, resp, SW__DOCTOR_MSG_CAP, &rlen);
	const char *tp = sw_transport_name(io->tp);
	if (x == SW_DX_ANSWER) {
		if (sw_msg_parse(m, resp, rlen, NULL, NULL) == 0 && !m->is_request) {
			char line[240];
			sw__dstatus_line(m, line, sizeof(line));
			*status = m->status;
			sw_doctor_note(r, "%s %s: OPTIONS answered %s", tp, io->peer, line + 8);
			sw_doctor_check_nat(resp, rlen, io->local_host, io->local_port, r);
		} else {
			*status = 0;
			sw_doctor_note(r, "%s %s: OPTIONS answered with something that does not parse", tp, io->peer);
		}
	} else if (x == SW_DX_TIMEOUT) {
		sw_doctor_note(r, "%s %s: OPTIONS got no answer (silence, retransmitted until the timeout)", tp, io->peer);
	} else if (x == SW_DX_REFUSED) {
		sw_doctor_note(r, "%s %s: OPTIONS refused (ICMP port unreachable: nothing listens there)", tp, io->peer);
	} else if (x == SW_DX_CLOSED) {
		sw_doctor_note(r, "%s %s: the connection was closed without an answer", tp, io->peer);
	} else {
		sw_doctor_note(r, "%s %s: OPTIONS could not be sent: %s", tp, io->peer, sw_strerror(x));
	}
out:
	free(buf);
	free(resp);
	free(m);
	return x;
}
