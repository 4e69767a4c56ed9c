/* Text logs of SIP messages. A message starts at a SIP start line
 * ("REGISTER sip:... SIP/2.0", "SIP/2.0 401 ..."), its headers end at the
 * first empty line and its body is Content-Length bytes (line ends counted
 * as CRLF). Lines between messages are read for a time and the addresses:
 *   sngrep (save as txt):  2024/01/02 10:00:00.123456 10.0.0.1:5060 -> 10.0.0.2:5060
 *   Kamailio sipdump:      time: / srcip: / srcport: / dstip: / dstport: / proto:
 *                          then "~~~~" ... the exact bytes ... "||||"
 *   Asterisk pjsip logger: <--- Received SIP request (N bytes) from UDP:1.2.3.4:5060 --->
 *                          <--- Transmitting SIP response (N bytes) to UDP:1.2.3.4:5060 --->
 *   sipp -trace_msg:       ---------- 2024-01-02 10:00:00.123456
 *                          UDP message sent (N bytes): / TCP message received [N] bytes :
 *   plain:                 messages separated by empty lines, no metadata.
 * The local side of Asterisk and sipp logs is called "local", the other side
 * "remote" when the log does not name it. Line ends may be CRLF or LF. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "trace_int.h"

struct meta_state {
	struct sw_trace_meta m;
	char srcip[48], dstip[48];
	unsigned srcport, dstport;
};

static size_t line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	return nl ? (size_t)(nl - p) : (size_t)(end - p);
}

/* Length of a line without its CR. */
static size_t trim_cr(const char *p, size_t n)
{
	return n && p[n - 1] == '\r' ? n - 1 : n;
}

static bool starts(const char *p, size_t n, const char *lit)
{
	size_t l = strlen(lit);
	return n >= l && !strncasecmp(p, lit, l);
}

static void copy_field(char *out, size_t cap, const char *p, size_t n)
{
	while (n && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n >= cap)
		n = cap - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

/* A decimal number at p (after blanks), reading at most n bytes: the
 * input is not NUL-terminated. *used gets the bytes consumed (may be NULL). */
static unsigned long dec(const char *p, size_t n, size_t *used)
{
	size_t i = 0;
	unsigned long v = 0;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	for (; i < n && isdigit((unsigned char)p[i]); i++)
		v = v < 100000000000ul ? v * 10 + (unsigned long)(p[i] - '0') : v;
	if (used)
		*used = i;
	return v;
}

/* "YYYY-MM-DD HH:MM:SS[.ffffff]" (or '/' and 'T', or a tab) anywhere in the
 * line, taken as UTC. */
static bool find_datetime(const char *p, size_t n, uint64_t *ts)
{
	for (size_t i = 0; i + 19 <= n; i++) {
		const char *s = p + i;
		if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[3]) ||
		    (s[4] != '-' && s[4] != '/') || s[7] != s[4] ||
		    (s[10] != ' ' && s[10] != 'T' && s[10] != '\t') || s[13] != ':' || s[16] != ':')
			continue;
		struct tm tm;
		memset(&tm, 0, sizeof(tm));
		tm.tm_year = (int)dec(s, 4, NULL) - 1900;
		tm.tm_mon = (int)dec(s + 5, 2, NULL) - 1;
		tm.tm_mday = (int)dec(s + 8, 2, NULL);
		tm.tm_hour = (int)dec(s + 11, 2, NULL);
		tm.tm_min = (int)dec(s + 14, 2, NULL);
		tm.tm_sec = (int)dec(s + 17, 2, NULL);
		time_t secs = timegm(&tm);
		if (secs < 0)
			continue;
		uint64_t us = 0;
		size_t j = i + 19;
		if (j < n && s[19] == '.') {
			unsigned digits = 0;
			for (j++; j < n && isdigit((unsigned char)p[j]) && digits < 6; j++, digits++)
				us = us * 10 + (uint64_t)(p[j] - '0');
			for (; digits < 6; digits++)
				us *= 10;
		}
		*ts = (uint64_t)secs * 1000000u + us;
		return true;
	}
	return false;
}

/* An "ip:port" or "[v6]:port" token ending at or starting at p. */
static size_t addr_token(const char *p, size_t n)
{
	size_t i = 0;
	while (i < n && (isalnum((unsigned char)p[i]) || strchr(".:[]-_%", p[i])))
		i++;
	return i;
}

static enum sw_transport tp_name(const char *p, size_t n)
{
	if (starts(p, n, "TCP"))
		return SW_TP_TCP;
	if (starts(p, n, "TLS") || starts(p, n, "WSS"))
		return SW_TP_TLS;
	return SW_TP_UDP;
}

/* Reads what a metadata line tells. */
static void meta_line(struct meta_state *st, const char *p, size_t n)
{
	uint64_t ts;
	const char *q;
	if (starts(p, n, "time:")) { /* Kamailio sipdump: epoch seconds */
		size_t used;
		uint64_t secs = dec(p + 5, n - 5, &used), us = 0;
		size_t k = 5 + used;
		if (k < n && p[k] == '.') {
			unsigned digits = 0;
			for (k++; k < n && isdigit((unsigned char)p[k]) && digits < 6; k++, digits++)
				us = us * 10 + (uint64_t)(p[k] - '0');
			for (; digits < 6; digits++)
				us *= 10;
		}
		if (secs)
			st->m.ts_us = secs * 1000000u + us;
		return;
	}
	if (starts(p, n, "srcip:")) {
		copy_field(st->srcip, sizeof(st->srcip), p + 6, n - 6);
		return;
	}
	if (starts(p, n, "dstip:")) {
		copy_field(st->dstip, sizeof(st->dstip), p + 6, n - 6);
		return;
	}
	if (starts(p, n, "srcport:")) {
		st->srcport = (unsigned)dec(p + 8, n - 8, NULL);
		return;
	}
	if (starts(p, n, "dstport:")) {
		st->dstport = (unsigned)dec(p + 8, n - 8, NULL);
		return;
	}
	if (starts(p, n, "proto:")) {
		size_t k = 6;
		while (k < n && p[k] == ' ')
			k++;
		st->m.tp = tp_name(p + k, n - k);
		return;
	}
	if (find_datetime(p, n, &ts))
		st->m.ts_us = ts;
	/* Asterisk pjsip: "... from UDP:1.2.3.4:5060 --->" / "... to UDP:..." */
	if ((q = memmem(p, n, "<--- ", 5)) != NULL) {
		bool rx = memmem(p, n, "Received", 8) != NULL;
		const char *w = memmem(p, n, rx ? " from " : " to ", rx ? 6 : 4);
		if (w) {
			w += rx ? 6 : 4;
			size_t rest = (size_t)(p + n - w);
			const char *colon = memchr(w, ':', rest);
			if (colon && colon - w <= 4) {
				st->m.tp = tp_name(w, rest);
				rest -= (size_t)(colon + 1 - w);
				w = colon + 1;
			}
			char addr[SW_TRACE_ADDR_MAX];
			copy_field(addr, sizeof(addr), w, addr_token(w, rest));
			snprintf(rx ? st->m.src : st->m.dst, SW_TRACE_ADDR_MAX, "%s", addr);
			snprintf(rx ? st->m.dst : st->m.src, SW_TRACE_ADDR_MAX, "local");
		}
		return;
	}
	/* sipp -trace_msg: "UDP message sent (N bytes):" */
	if ((q = memmem(p, n, " message sent", 13)) != NULL ||
	    (q = memmem(p, n, " message received", 17)) != NULL) {
		bool rx = q[9] == 'r';
		st->m.tp = tp_name(p, n);
		snprintf(st->m.src, SW_TRACE_ADDR_MAX, "%s", rx ? "remote" : "local");
		snprintf(st->m.dst, SW_TRACE_ADDR_MAX, "%s", rx ? "local" : "remote");
		return;
	}
	/* sngrep: "... A -> B" */
	if ((q = memmem(p, n, " -> ", 4)) != NULL) {
		const char *a = q;
		while (a > p && a[-1] != ' ' && a[-1] != '\t')
			a--;
		copy_field(st->m.src, SW_TRACE_ADDR_MAX, a, (size_t)(q - a));
		const char *b = q + 4;
		copy_field(st->m.dst, SW_TRACE_ADDR_MAX, b, addr_token(b, (size_t)(p + n - b)));
	}
}

static void add_message(struct sw_trace *t, struct meta_state *st, unsigned *count, const char *data,
			size_t len)
{
	if (st->srcip[0])
		snprintf(st->m.src, SW_TRACE_ADDR_MAX, strchr(st->srcip, ':') ? "[%s]:%u" : "%s:%u",
			 st->srcip, st->srcport);
	if (st->dstip[0])
		snprintf(st->m.dst, SW_TRACE_ADDR_MAX, strchr(st->dstip, ':') ? "[%s]:%u" : "%s:%u",
			 st->dstip, st->dstport);
	st->m.frame = ++*count;
	st->m.nfrags = 1;
	sw_trace_add_sip(t, &st->m, data, len);
	unsigned input = st->m.input;
	memset(st, 0, sizeof(*st));
	st->m.input = input;
}

/* Content-Length (or "l:") of a header block, -1 when absent. */
static long header_clen(const char *p, size_t n)
{
	const char *end = p + n;
	while (p < end) {
		size_t l = line_end(p, end);
		size_t k = trim_cr(p, l);
		if (starts(p, k, "Content-Length:"))
			return (long)dec(p + 15, k - 15, NULL);
		if (starts(p, k, "l:"))
			return (long)dec(p + 2, k - 2, NULL);
		p += l + (p + l < end);
	}
	return -1;
}

int sw__textlog_read(struct sw_trace *t, unsigned input, const char *text, size_t len,
		     char *why, size_t cap)
{
	const char *p = text, *end = text + len;
	struct meta_state st;
	memset(&st, 0, sizeof(st));
	st.m.input = input;
	unsigned count = 0;
	bool kamailio_body = false;
	size_t outcap = 1024;
	char *out = malloc(outcap);
	if (!out) {
		snprintf(why, cap, "out of memory");
		return SW_ENOMEM;
	}
	if (memchr(text, '\0', len < 4096 ? len : 4096)) {
		free(out);
		snprintf(why, cap, "neither a capture (pcap, pcapng) nor a text log (binary data)");
		return SW_EPARSE;
	}
	while (p < end) {
		size_t l = line_end(p, end);
		size_t k = trim_cr(p, l);
		if (k >= 20 && !strncmp(p, "~~~~~~~~~~~~~~~~~~~~", 20)) {
			kamailio_body = true;
			p += l + (p + l < end);
			continue;
		}
		if (kamailio_body) { /* the exact bytes up to the "||||" line */
			const char *q = p, *stop = NULL;
			while (q < end) {
				size_t ql = line_end(q, end);
				if (ql >= 20 && !strncmp(q, "||||||||||||||||||||", 20)) {
					stop = q;
					break;
				}
				q += ql + (q + ql < end);
			}
			if (!stop)
				stop = end;
			if (stop > p && sw__looks_like_sip(p, (size_t)(stop - p)))
				add_message(t, &st, &count, p, (size_t)(stop - p));
			kamailio_body = false;
			p = stop;
			continue;
		}
		if (!sw__looks_like_sip(p, (size_t)(end - p))) {
			meta_line(&st, p, k);
			p += l + (p + l < end);
			continue;
		}
		/* headers: up to the empty line, rewritten with CRLF */
		size_t olen = 0;
		const char *h = p;
		bool blank = false;
		while (h < end) {
			size_t hl = line_end(h, end), hk = trim_cr(h, hl);
			if (olen + hk + 4 > outcap) {
				char *n = realloc(out, (outcap + hk + 4) * 2);
				if (!n)
					goto oom;
				out = n;
				outcap = (outcap + hk + 4) * 2;
			}
			memcpy(out + olen, h, hk);
			olen += hk;
			memcpy(out + olen, "\r\n", 2);
			olen += 2;
			h += hl + (h + hl < end);
			if (hk == 0) {
				blank = true;
				break;
			}
		}
		if (!blank) {
			memcpy(out + olen, "\r\n", 2);
			olen += 2;
		}
		long clen = header_clen(out, olen);
		size_t body_start = olen;
		/* body: Content-Length bytes; without it, up to the next empty line */
		while (h < end && (clen > 0 ? (long)(olen - body_start) < clen : clen < 0)) {
			size_t hl = line_end(h, end), hk = trim_cr(h, hl);
			if (clen < 0 && (hk == 0 || sw__looks_like_sip(h, (size_t)(end - h))))
				break;
			if (olen + hk + 4 > outcap) {
				char *n = realloc(out, (outcap + hk + 4) * 2);
				if (!n)
					goto oom;
				out = n;
				outcap = (outcap + hk + 4) * 2;
			}
			memcpy(out + olen, h, hk);
			olen += hk;
			bool last = h + hl >= end;
			if (!last || hk < hl) {
				memcpy(out + olen, "\r\n", 2);
				olen += 2;
			}
			h += hl + (h + hl < end);
		}
		if (clen > 0 && (long)(olen - body_start) < clen) {
			/* a log that lost bytes of the body: pad so that the headers
			 * can still be read (the body is not used but for auth-int) */
			size_t need = (size_t)clen - (olen - body_start);
			if (need <= 65536) {
				char *n = realloc(out, olen + need + 1);
				if (!n)
					goto oom;
				out = n;
				outcap = olen + need + 1;
				memset(out + olen, ' ', need);
				olen += need;
			}
		}
		add_message(t, &st, &count, out, olen);
		p = h;
	}
	free(out);
	if (!count) {
		snprintf(why, cap, "neither a capture (pcap, pcapng) nor a text log: no SIP message found");
		return SW_EPARSE;
	}
	return 0;
oom:
	free(out);
	snprintf(why, cap, "out of memory");
	return SW_ENOMEM;
}
