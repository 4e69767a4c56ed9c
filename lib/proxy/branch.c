/* The client side of a proxy transaction (RFC 3261 §17.1.1, §17.1.2, RFC
 * 6026) and the response context (§16.7): branches in q groups, the best
 * final response, 2xx forwarded at once, 6xx and 2xx cancel the others,
 * CANCEL only after a provisional (§9.1), 401/407 challenges aggregated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proxy/ptx.h"

#define BRANCH_PREFIX "z9hG4bKswp"

static bool pending(const struct sw_px_branch *b)
{
	return b->st == PX_CLI_CALLING || b->st == PX_CLI_PROCEEDING;
}

void sw__px_branch_free(struct sw_px_branch *b)
{
	free(b->req);
	free(b->ack);
	free(b->cancel);
	b->req = b->ack = b->cancel = NULL;
}

static uint64_t token_of(const struct sw_ptx *t, unsigned bi)
{
	return (uint64_t)t->id << 32 | (uint64_t)(t->gen & 0xffffffu) << 8 | bi;
}

static int branch_id(const struct sw_px *px, const struct sw_ptx *t, unsigned bi, char *out, size_t cap)
{
	struct sw_buf b; /* BRANCH_PREFIX "%02x%08x%08x.%u", for every branch without printf */
	sw_buf_init(&b, out, cap);
	sw_buf_adds(&b, BRANCH_PREFIX);
	sw_buf_add_xint(&b, sw__px_worker((struct sw_px *)px) & 0xffu, 2);
	sw_buf_add_xint(&b, t->id, 8);
	sw_buf_add_xint(&b, t->gen, 8);
	sw_buf_addc(&b, '.');
	sw_buf_add_uint(&b, bi);
	sw_buf_cstr(&b);
	return b.overflow ? (int)cap : (int)b.len;
}

static bool hex_field(const char *p, unsigned n, uint32_t *out)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < n; i++) {
		char c = p[i];
		unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0') : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10) : 16;
		if (d > 15)
			return false;
		v = v << 4 | d;
	}
	*out = v;
	return true;
}

/* Parses our branch: worker, id, generation and branch index (the loop
 * value after them is not needed here). */
static int branch_parse(sw_str br, unsigned *worker, uint32_t *id, uint32_t *gen, unsigned *bi)
{
	size_t n = sizeof(BRANCH_PREFIX) - 1, i;
	uint32_t w;
	if (br.len < n + 20 || memcmp(br.p, BRANCH_PREFIX, n) || !hex_field(br.p + n, 2, &w) ||
	    !hex_field(br.p + n + 2, 8, id) || !hex_field(br.p + n + 10, 8, gen) || br.p[n + 18] != '.')
		return -1;
	*worker = w;
	*bi = 0;
	for (i = n + 19; i < br.len && i < n + 21 && br.p[i] >= '0' && br.p[i] <= '9'; i++)
		*bi = *bi * 10 + (unsigned)(br.p[i] - '0');
	if (i == n + 19 || (i < br.len && br.p[i] != '-') || *bi >= SW_PX_MAX_TARGETS)
		return -1;
	return 0;
}

int sw_px_branch_worker(const struct sw_msg *resp)
{
	struct sw_via v;
	unsigned worker, bi;
	uint32_t id, gen;
	if (sw_msg_top_via(resp, &v, NULL) || branch_parse(v.branch, &worker, &id, &gen, &bi))
		return -1;
	return (int)worker;
}

/* The response without its top Via value (ours). NULL when out of memory. */
static char *strip_top_via(const struct sw_msg *m, size_t *len)
{
	const struct sw_hdr *h = sw_msg_hdr(m, SW_HDR_VIA);
	if (!h)
		return NULL;
	const char *line = h->name.p, *vend = h->value.p + h->value.len, *end = vend;
	const char *stop = m->buf + m->len;
	while (end < stop && *end != '\n')
		end++;
	if (end < stop)
		end++;
	struct sw_hdr_iter it;
	sw_str first;
	sw_hdr_iter_init(&it, m, SW_HDR_VIA);
	sw_hdr_iter_next(&it, &first, NULL);
	const char *rest = first.p + first.len;
	while (rest < vend && (*rest == ' ' || *rest == '\t' || *rest == ','))
		rest++;
	size_t head = (size_t)(line - m->buf), tail = (size_t)(stop - end);
	size_t mid = rest < vend ? 5 + (size_t)(vend - rest) + 2 : 0;
	char *out = malloc(head + mid + tail + 1);
	if (!out)
		return NULL;
	memcpy(out, m->buf, head);
	size_t o = head;
	if (mid) { /* the other Via values of the same line stay */
		memcpy(out + o, "Via: ", 5);
		memcpy(out + o + 5, rest, (size_t)(vend - rest));
		memcpy(out + o + 5 + (vend - rest), "\r\n", 2);
		o += mid;
	}
	memcpy(out + o, end, tail);
	o += tail;
	out[o] = '\0';
	*len = o;
	return out;
}

/* ACK or CANCEL for a branch (§17.1.1.3, §9.1): the request line and Via,
 * Route, From, Call-ID of the forwarded request, To from the response for
 * an ACK, CSeq with the new method. */
static char *make_ack_cancel(const struct sw_px_branch *b, const char *method, const struct sw_msg *resp,
			     size_t *len)
{
	struct sw_msg m;
	if (sw_msg_parse(&m, b->req, b->len, NULL, NULL))
		return NULL;
	char buf[8192];
	struct sw_buf o;
	sw_buf_init(&o, buf, sizeof(buf));
	sw_print_request_line(&o, sw_str_from(method, strlen(method)), m.ruri);
	struct sw_hdr_iter it;
	sw_str via;
	sw_hdr_iter_init(&it, &m, SW_HDR_VIA);
	if (sw_hdr_iter_next(&it, &via, NULL))
		sw_print_header(&o, "Via", via);
	for (const struct sw_hdr *h = sw_msg_hdr(&m, SW_HDR_ROUTE); h; h = sw_msg_hdr_next(&m, h))
		sw_print_header(&o, "Route", h->value);
	sw_print_header(&o, "Max-Forwards", SW_STR_LIT("70"));
	const struct sw_hdr *from = sw_msg_hdr(&m, SW_HDR_FROM);
	const struct sw_hdr *to = sw_msg_hdr(resp ? resp : &m, SW_HDR_TO);
	const struct sw_hdr *cid = sw_msg_hdr(&m, SW_HDR_CALL_ID);
	struct sw_cseq cs;
	if (!from || !to || !cid || sw_msg_cseq(&m, &cs, NULL))
		return NULL;
	sw_print_header(&o, "From", from->value);
	sw_print_header(&o, "To", to->value);
	sw_print_header(&o, "Call-ID", cid->value);
	sw_print_headerf(&o, "CSeq", "%u %s", cs.num, method);
	if (sw_print_end(&o, SW_STR_NULL))
		return NULL;
	*len = o.len;
	return sw__px_dup(o.p, o.len);
}

static void send_cancel(struct sw_px *px, struct sw_ptx *t, unsigned bi, uint64_t now)
{
	struct sw_px_branch *b = &t->br[bi];
	if (b->cancel || !pending(b))
		return;
	if (!(b->cancel = make_ack_cancel(b, "CANCEL", NULL, &b->cancel_len)))
		return;
	const struct sw_px_io *io = sw__px_io(px);
	io->send(io->ctx, &t->targets[b->target].flow, b->cancel, b->cancel_len, token_of(t, bi));
	if (t->targets[b->target].flow.tp == SW_TP_UDP) {
		b->ce_int = SW_T1;
		b->ce_due = now + SW_T1;
	}
	b->cf_due = now + 64u * SW_T1;
}

/* Cancels a pending INVITE branch now, or once it has sent a provisional. */
static void cancel_branch(struct sw_px *px, struct sw_ptx *t, unsigned bi, uint64_t now)
{
	struct sw_px_branch *b = &t->br[bi];
	if (!t->invite || !pending(b))
		return;
	if (b->st == PX_CLI_PROCEEDING)
		send_cancel(px, t, bi, now);
	else
		b->cancel_wanted = true;
}

static void cancel_others(struct sw_px *px, struct sw_ptx *t, unsigned except, uint64_t now)
{
	for (unsigned i = 0; i < t->nbranches; i++)
		if (i != except)
			cancel_branch(px, t, i, now);
	t->next_target = t->ntargets; /* no further group */
}

/* Lower is better (§16.7 step 6): 6xx, then 3xx, 4xx, 5xx; a response made
 * up here (timeout, unreachable) after a real one of the same class. */
static unsigned rank(unsigned status, bool local)
{
	unsigned cls = status / 100;
	unsigned r = cls == 6 ? 0 : cls == 3 ? 1 : cls == 4 ? 2 : 3;
	return r * 2 + local;
}

static void add_challenges(struct sw_ptx *t, const struct sw_msg *m)
{
	for (unsigned i = 0; i < m->nhdrs; i++) {
		const struct sw_hdr *h = &m->hdrs[i];
		if (h->id != SW_HDR_WWW_AUTHENTICATE && h->id != SW_HDR_PROXY_AUTHENTICATE)
			continue;
		const char *name = sw_hdr_name(h->id);
		size_t add = strlen(name) + 2 + h->value.len + 2;
		char *n = realloc(t->challenges, t->challenges_len + add + 1);
		if (!n)
			return;
		t->challenges = n;
		t->challenges_len += (size_t)sprintf(n + t->challenges_len, "%s: %.*s\r\n", name, (int)h->value.len,
						     h->value.p);
	}
}

/* A final response of a branch joins the context. resp NULL: made up here. */
static void branch_final(struct sw_px *px, struct sw_ptx *t, unsigned bi, unsigned status,
			 const struct sw_msg *resp, uint64_t now)
{
	(void)bi;
	if (resp && (status == 401 || status == 407))
		add_challenges(t, resp);
	if (!t->best_status || rank(status, !resp) < rank(t->best_status, !t->best)) {
		free(t->best);
		t->best = NULL;
		t->best_status = status;
		if (resp)
			t->best = strip_top_via(resp, &t->best_len);
	}
	if (status >= 600)
		cancel_others(px, t, bi, now);
}

static void start_group(struct sw_px *px, struct sw_ptx *t, uint64_t now);

/* The best final response goes upstream, rewritten where §16.7 says so. */
static void send_best(struct sw_px *px, struct sw_ptx *t, uint64_t now)
{
	const struct sw_px_io *io = sw__px_io(px);
	unsigned status = t->best_status ? t->best_status : 480;
	char buf[65536];
	struct sw_buf b;
	sw_buf_init(&b, buf, sizeof(buf));
	struct sw_msg m;
	bool have = t->best && sw_msg_parse(&m, t->best, t->best_len, NULL, NULL) == 0;
	if (status == 503) { /* §16.7 step 6: a 503 becomes 500 */
		status = 500;
		have = false;
	}
	if (have && (status == 401 || status == 407) && t->challenges) {
		/* every challenge of every branch (§16.7 step 7) */
		sw_buf_addf(&b, "SIP/2.0 %03u %.*s\r\n", m.status, (int)m.reason.len, m.reason.p);
		for (unsigned i = 0; i < m.nhdrs; i++) {
			const struct sw_hdr *h = &m.hdrs[i];
			if (h->id == SW_HDR_WWW_AUTHENTICATE || h->id == SW_HDR_PROXY_AUTHENTICATE ||
			    h->id == SW_HDR_CONTENT_LENGTH)
				continue;
			sw_buf_add(&b, h->name.p, h->name.len);
			sw_buf_adds(&b, ": ");
			sw_buf_add_str(&b, h->value);
			sw_buf_adds(&b, "\r\n");
		}
		sw_buf_add(&b, t->challenges, t->challenges_len);
		sw_print_end(&b, m.body);
	} else if (have) {
		sw_buf_add(&b, t->best, t->best_len);
	} else if (io->local(io->ctx, t, status, &b)) {
		return;
	}
	if (b.overflow)
		return;
	sw__px_send_upstream(px, t, status, b.p, b.len, now);
	if (io->final)
		io->final(io->ctx, t, status, have ? &m : NULL);
}

/* Nothing pending: the next q group, or the final response. */
static void check_done(struct sw_px *px, struct sw_ptx *t, uint64_t now)
{
	for (unsigned i = 0; i < t->nbranches; i++)
		if (pending(&t->br[i]))
			return;
	if (t->got_2xx || t->final_sent)
		return;
	if (!t->cancelled && t->best_status < 600 && t->next_target < t->ntargets) {
		start_group(px, t, now);
		for (unsigned i = 0; i < t->nbranches; i++)
			if (pending(&t->br[i]))
				return;
		if (t->next_target < t->ntargets)
			return check_done(px, t, now);
	}
	if (t->cancelled && !t->best_status)
		t->best_status = 487;
	send_best(px, t, now);
}

static void branch_failed(struct sw_px *px, struct sw_ptx *t, unsigned bi, unsigned status, uint64_t now)
{
	struct sw_px_branch *b = &t->br[bi];
	b->st = PX_CLI_TERMINATED;
	b->status = status;
	b->a_due = b->b_due = b->c_due = b->d_due = b->ce_due = b->cf_due = 0;
	branch_final(px, t, bi, status, NULL, now);
}

static void start_branch(struct sw_px *px, struct sw_ptx *t, unsigned target, uint64_t now)
{
	const struct sw_px_io *io = sw__px_io(px);
	if (t->nbranches >= t->ntargets) /* t->br has one per target */
		return;
	unsigned bi = t->nbranches++;
	struct sw_px_branch *b = &t->br[bi];
	memset(b, 0, sizeof(*b));
	b->target = target;
	char id[64], buf[65536];
	branch_id(px, t, bi, id, sizeof(id));
	struct sw_buf o;
	sw_buf_init(&o, buf, sizeof(buf));
	if (io->build(io->ctx, t, target, id, &o) || o.overflow || !(b->req = sw__px_dup(o.p, o.len))) {
		branch_failed(px, t, bi, 500, now);
		return;
	}
	b->len = o.len;
	b->st = PX_CLI_CALLING;
	const struct sw_flow *f = &t->targets[target].flow;
	if (io->send(io->ctx, f, b->req, b->len, token_of(t, bi))) {
		branch_failed(px, t, bi, 480, now); /* §16.9: a transport error is a 503; 480 upstream */
		b->status = 1;                      /* marks "unreachable" for the TU */
		return;
	}
	if (f->tp == SW_TP_UDP) {
		b->a_int = SW_T1;
		b->a_due = now + SW_T1;
	}
	b->b_due = now + 64u * SW_T1;
	if (t->invite)
		b->c_due = now + t->timer_c;
}

/* The next group: every target of the next q value, in parallel. */
static void start_group(struct sw_px *px, struct sw_ptx *t, uint64_t now)
{
	if (t->next_target >= t->ntargets)
		return;
	uint16_t q = t->targets[t->next_target].q;
	while (t->next_target < t->ntargets && t->targets[t->next_target].q == q)
		start_branch(px, t, t->next_target++, now);
	sw__px_schedule(px, t);
}

void sw_px_start(struct sw_px *px, struct sw_ptx *t, uint64_t now)
{
	if (t->ntargets && !t->br && !(t->br = calloc(t->ntargets, sizeof(*t->br))))
		t->ntargets = 0; /* out of memory: answered 480 below */
	/* highest q first; equal q keep their order (insertion sort, few targets) */
	for (unsigned i = 1; i < t->ntargets; i++) {
		struct sw_px_target x = t->targets[i];
		unsigned j = i;
		for (; j > 0 && t->targets[j - 1].q < x.q; j--)
			t->targets[j] = t->targets[j - 1];
		t->targets[j] = x;
	}
	start_group(px, t, now);
	check_done(px, t, now);
	if (!sw__px_maybe_end(px, t))
		sw__px_schedule(px, t);
}

void sw_px_cancel(struct sw_px *px, struct sw_ptx *t, uint64_t now)
{
	if (t->final_sent)
		return;
	t->cancelled = true;
	t->next_target = t->ntargets;
	for (unsigned i = 0; i < t->nbranches; i++)
		cancel_branch(px, t, i, now);
	check_done(px, t, now);
	if (!sw__px_maybe_end(px, t))
		sw__px_schedule(px, t);
}

static void forward_response(struct sw_px *px, struct sw_ptx *t, const struct sw_msg *m, uint64_t now)
{
	size_t len;
	char *out = strip_top_via(m, &len);
	if (!out)
		return;
	bool first_final = m->status >= 200 && !t->final_sent;
	sw__px_send_upstream(px, t, m->status, out, len, now);
	free(out);
	const struct sw_px_io *io = sw__px_io(px);
	if (((first_final && t->final_sent) || m->status < 200) && io->final)
		io->final(io->ctx, t, m->status, m);
}

int sw_px_response(struct sw_px *px, const struct sw_msg *m, uint64_t now)
{
	struct sw_via v;
	struct sw_cseq cs;
	unsigned worker, bi;
	uint32_t id, gen;
	if (sw_msg_top_via(m, &v, NULL) || branch_parse(v.branch, &worker, &id, &gen, &bi) ||
	    worker != (sw__px_worker(px) & 0xffu) || sw_msg_cseq(m, &cs, NULL))
		return 0;
	struct sw_ptx *t = sw__px_by_id(px, id, gen);
	if (!t || bi >= t->nbranches)
		return 0;
	struct sw_px_branch *b = &t->br[bi];
	unsigned s = m->status;
	if (cs.method_id == SW_METHOD_CANCEL) { /* the answer to our CANCEL */
		if (s >= 200) {
			b->cancel_done = true;
			b->ce_due = b->cf_due = 0;
		}
		sw__px_schedule(px, t);
		return 1;
	}
	const struct sw_px_io *io = sw__px_io(px);
	if (s < 200) {
		if (!pending(b))
			return 1;
		if (b->st == PX_CLI_CALLING) {
			b->st = PX_CLI_PROCEEDING;
			if (t->invite)
				b->a_due = b->b_due = 0; /* §17.1.1.2: no more retransmissions */
			else
				b->a_int = SW_T2;
		}
		if (t->invite)
			b->c_due = s > 100 ? now + t->timer_c : b->c_due; /* §16.7 step 2 */
		if (!b->status)
			b->status = s;
		b->rang |= s > 100;
		if (b->cancel_wanted)
			send_cancel(px, t, bi, now);
		else if (s > 100)
			forward_response(px, t, m, now);
	} else if (s < 300) {
		if (t->invite) {
			if (b->st != PX_CLI_ACCEPTED) {
				b->st = PX_CLI_ACCEPTED; /* RFC 6026 Timer M */
				b->a_due = b->b_due = b->c_due = b->ce_due = b->cf_due = 0;
				b->d_due = now + 64u * SW_T1;
				b->status = s;
			}
		} else if (pending(b)) {
			b->st = PX_CLI_COMPLETED;
			b->a_due = b->b_due = 0;
			b->d_due = t->targets[b->target].flow.tp == SW_TP_UDP ? now + SW_T4 : now;
			b->status = s;
		} else {
			return 1; /* a retransmission of a non-INVITE final */
		}
		bool first = !t->got_2xx;
		t->got_2xx = true;
		forward_response(px, t, m, now); /* every 2xx, at once (§16.7 step 5) */
		if (first)
			cancel_others(px, t, bi, now);
	} else {
		if (b->st == PX_CLI_COMPLETED) { /* a retransmission: the ACK again */
			if (b->ack)
				io->send(io->ctx, &t->targets[b->target].flow, b->ack, b->ack_len, token_of(t, bi));
			return 1;
		}
		if (!pending(b))
			return 1;
		b->st = PX_CLI_COMPLETED;
		b->status = b->timed_out ? 408 : s;
		b->a_due = b->b_due = b->c_due = 0;
		bool udp = t->targets[b->target].flow.tp == SW_TP_UDP;
		if (t->invite) { /* hop-by-hop ACK (§17.1.1.3), Timer D */
			b->ack = make_ack_cancel(b, "ACK", m, &b->ack_len);
			if (b->ack)
				io->send(io->ctx, &t->targets[b->target].flow, b->ack, b->ack_len, token_of(t, bi));
			b->d_due = udp ? now + 32000u : now;
		} else {
			b->d_due = udp ? now + SW_T4 : now;
		}
		if (b->timed_out) /* the 487 of our Timer C CANCEL: the caller hears 408, as from Kamailio */
			branch_final(px, t, bi, 408, NULL, now);
		else
			branch_final(px, t, bi, s, m, now);
	}
	check_done(px, t, now);
	if (!sw__px_maybe_end(px, t))
		sw__px_schedule(px, t);
	return 1;
}

void sw_px_transport_error(struct sw_px *px, uint64_t token, uint64_t now)
{
	unsigned bi = token & 0xffu;
	struct sw_ptx *t = sw__px_slot(px, (uint32_t)(token >> 32));
	/* only the generation's low 24 bits travel in the token */
	if (!t || (t->gen & 0xffffffu) != ((token >> 8) & 0xffffffu) || bi >= t->nbranches)
		return;
	struct sw_px_branch *b = &t->br[bi];
	if (!pending(b))
		return;
	branch_failed(px, t, bi, 480, now);
	b->status = 1;
	check_done(px, t, now);
	if (!sw__px_maybe_end(px, t))
		sw__px_schedule(px, t);
}

void sw__px_branch_timers(struct sw_px *px, struct sw_ptx *t, uint64_t now)
{
	const struct sw_px_io *io = sw__px_io(px);
	for (unsigned i = 0; i < t->nbranches; i++) {
		struct sw_px_branch *b = &t->br[i];
		const struct sw_flow *f = &t->targets[b->target].flow;
		if (b->a_due && now >= b->a_due && pending(b)) { /* A / E */
			io->send(io->ctx, f, b->req, b->len, token_of(t, i));
			b->a_int = t->invite ? b->a_int * 2 : (b->a_int * 2 < SW_T2 ? b->a_int * 2 : SW_T2);
			b->a_due = now + b->a_int;
		}
		if (b->b_due && now >= b->b_due && pending(b)) { /* B / F */
			branch_failed(px, t, i, 408, now);
			continue;
		}
		if (b->c_due && now >= b->c_due && pending(b)) { /* Timer C */
			b->c_due = 0;
			if (b->st == PX_CLI_PROCEEDING) {
				b->timed_out = true;
				send_cancel(px, t, i, now); /* 487 will come, and count as 408 */
			} else {
				branch_failed(px, t, i, 408, now);
				continue;
			}
		}
		if (b->ce_due && now >= b->ce_due && !b->cancel_done && b->cancel) {
			io->send(io->ctx, f, b->cancel, b->cancel_len, token_of(t, i));
			b->ce_int = b->ce_int * 2 < SW_T2 ? b->ce_int * 2 : SW_T2;
			b->ce_due = now + b->ce_int;
		}
		if (b->cf_due && now >= b->cf_due) { /* the CANCEL went unanswered: give up */
			b->ce_due = b->cf_due = 0;
			b->cancel_done = true;
			if (pending(b)) {
				branch_failed(px, t, i, 408, now);
				continue;
			}
		}
		if (b->d_due && now >= b->d_due) { /* D / K / M */
			b->d_due = 0;
			b->st = PX_CLI_TERMINATED;
		}
	}
	check_done(px, t, now);
}
