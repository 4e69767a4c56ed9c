/* The doctor's report: findings (each naming a cause), what was done, and
 * its rendering as text and JSON. The explanation and the fix come from the
 * causes table; a finding adds what was observed, the SIP lines that show
 * it, and the specifics. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "sipwarden/doctor.h"

static void vappend(char *dst, size_t cap, const char *sep, const char *fmt, va_list ap)
{
	size_t n = strlen(dst);
	if (n && sep && n + strlen(sep) < cap) {
		memcpy(dst + n, sep, strlen(sep) + 1);
		n += strlen(sep);
	}
	if (n + 1 < cap)
		vsnprintf(dst + n, cap - n, fmt, ap);
}

struct sw_doctor_finding *sw_doctor_find(struct sw_doctor_report *r, enum sw_cause c)
{
	for (unsigned i = 0; i < r->nfindings; i++)
		if (r->findings[i].cause == c)
			return &r->findings[i];
	return NULL;
}

struct sw_doctor_finding *sw_doctor_add(struct sw_doctor_report *r, enum sw_cause c,
					const char *fmt, ...)
{
	struct sw_doctor_finding *f = sw_doctor_find(r, c);
	if (f)
		return f;
	if (r->nfindings >= SW_DOCTOR_MAX_FINDINGS)
		return NULL;
	f = &r->findings[r->nfindings++];
	memset(f, 0, sizeof(*f));
	f->cause = c;
	const struct sw_cause_info *ci = sw_cause_get(c);
	f->severity = ci ? ci->severity : SW_SEV_ERROR;
	f->problem = f->severity == SW_SEV_ERROR;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->observed, sizeof(f->observed), fmt, ap);
	va_end(ap);
	return f;
}

void sw_doctor_evidence(struct sw_doctor_finding *f, const char *fmt, ...)
{
	if (!f)
		return;
	va_list ap;
	va_start(ap, fmt);
	vappend(f->evidence, sizeof(f->evidence), "\n", fmt, ap);
	va_end(ap);
}

void sw_doctor_detail(struct sw_doctor_finding *f, const char *fmt, ...)
{
	if (!f)
		return;
	va_list ap;
	va_start(ap, fmt);
	vappend(f->detail, sizeof(f->detail), " ", fmt, ap);
	va_end(ap);
}

void sw_doctor_note(struct sw_doctor_report *r, const char *fmt, ...)
{
	if (r->nnotes >= SW_DOCTOR_MAX_NOTES)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->notes[r->nnotes++], sizeof(r->notes[0]), fmt, ap);
	va_end(ap);
}

void sw_doctor_cannot_run(struct sw_doctor_report *r, const char *fmt, ...)
{
	r->cannot_run = true;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->cannot_run_why, sizeof(r->cannot_run_why), fmt, ap);
	va_end(ap);
}

int sw_doctor_exit_code(const struct sw_doctor_report *r)
{
	if (r->cannot_run)
		return 3;
	if (!r->registered)
		return 1;
	for (unsigned i = 0; i < r->nfindings; i++)
		if (r->findings[i].problem)
			return 1;
	return 0;
}

/* Findings by importance: problems first, then by severity, then in the
 * order they were found. */
static unsigned order(const struct sw_doctor_report *r, unsigned idx[SW_DOCTOR_MAX_FINDINGS])
{
	unsigned n = 0;
	for (int pass = 0; pass < 4; pass++)
		for (unsigned i = 0; i < r->nfindings; i++) {
			const struct sw_doctor_finding *f = &r->findings[i];
			int rank = f->problem ? 0 : f->severity == SW_SEV_ERROR ? 1
				 : f->severity == SW_SEV_WARNING ? 2 : 3;
			if (rank == pass)
				idx[n++] = i;
		}
	return n;
}

static const char *verdict(const struct sw_doctor_report *r)
{
	switch (sw_doctor_exit_code(r)) {
	case 0: return "works";
	case 3: return "could-not-run";
	default: return r->registered ? "works-with-problems" : "fails";
	}
}

static void indent_lines(struct sw_buf *b, const char *prefix, const char *text)
{
	const char *p = text;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		sw_buf_adds(b, prefix);
		sw_buf_add(b, p, n);
		sw_buf_addc(b, '\n');
		p += n + (nl != NULL);
	}
}

void sw_doctor_render_text(struct sw_buf *b, const struct sw_doctor_report *r)
{
	sw_buf_addf(b, "sipwarden check %s\n", r->aor);
	if (r->cannot_run)
		sw_buf_addf(b, "\nThe check could not run: %s\n", r->cannot_run_why);
	else if (r->registered)
		sw_buf_addf(b, "\nRegistration works%s over %s: the server granted %u s.\n",
			    sw_doctor_exit_code(r) ? ", with problems," : "", r->used, r->granted);
	else
		sw_buf_adds(b, "\nRegistration does not work.\n");

	unsigned idx[SW_DOCTOR_MAX_FINDINGS];
	unsigned n = order(r, idx);
	for (unsigned k = 0; k < n; k++) {
		const struct sw_doctor_finding *f = &r->findings[idx[k]];
		const struct sw_cause_info *ci = sw_cause_get(f->cause);
		sw_buf_addf(b, "\n[%s] %s: %s\n", f->problem ? "problem" : sw_severity_name(f->severity),
			    sw_cause_id(f->cause), f->observed);
		if (f->evidence[0])
			indent_lines(b, "    | ", f->evidence);
		if (ci)
			sw_buf_addf(b, "  why: %s\n", ci->explain);
		if (f->detail[0])
			sw_buf_addf(b, "  %s\n", f->detail);
		if (ci && ci->fix_class != SW_FIX_NONE)
			sw_buf_addf(b, "  fix: %s\n", ci->fix);
	}

	if (r->challenged)
		sw_buf_addf(b, "\nchallenge: realm \"%s\", algorithms %s, qop %s%s%s\n", r->realm,
			    r->algorithms, r->qop[0] ? r->qop : "(none)",
			    r->opaque[0] ? ", opaque " : "", r->opaque);
	if (r->auth_user_ok[0])
		sw_buf_addf(b, "accepted auth username: %s\n", r->auth_user_ok);
	if (r->nbindings) {
		sw_buf_adds(b, "bindings the server returned:\n");
		for (unsigned i = 0; i < r->nbindings; i++)
			sw_buf_addf(b, "  %s\n", r->bindings[i]);
	}
	if (r->registered)
		sw_buf_addf(b, "%s\n", r->unregistered ? "unregistered again (Expires: 0)"
			    : "the registration was left in place");
	if (r->nnotes) {
		sw_buf_adds(b, "\nsteps:\n");
		for (unsigned i = 0; i < r->nnotes; i++)
			sw_buf_addf(b, "  %s\n", r->notes[i]);
	}
}

static void json_cstr(struct sw_buf *b, const char *s)
{
	sw_buf_add_json_str(b, s, strlen(s));
}

static void json_lines(struct sw_buf *b, const char *text)
{
	sw_buf_addc(b, '[');
	const char *p = text;
	bool first = true;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (!first)
			sw_buf_addc(b, ',');
		first = false;
		sw_buf_add_json_str(b, p, n);
		p += n + (nl != NULL);
	}
	sw_buf_addc(b, ']');
}

void sw_doctor_render_json(struct sw_buf *b, const struct sw_doctor_report *r)
{
	sw_buf_adds(b, "{\"aor\":");
	json_cstr(b, r->aor);
	sw_buf_addf(b, ",\"verdict\":\"%s\",\"exit_code\":%d,\"registered\":%s", verdict(r),
		    sw_doctor_exit_code(r), r->registered ? "true" : "false");
	if (r->cannot_run) {
		sw_buf_adds(b, ",\"cannot_run\":");
		json_cstr(b, r->cannot_run_why);
	}
	if (r->registered) {
		sw_buf_addf(b, ",\"granted_expires\":%u,\"unregistered\":%s,\"transport\":", r->granted,
			    r->unregistered ? "true" : "false");
		json_cstr(b, r->used);
	}
	sw_buf_adds(b, ",\"bindings\":[");
	for (unsigned i = 0; i < r->nbindings; i++) {
		if (i)
			sw_buf_addc(b, ',');
		json_cstr(b, r->bindings[i]);
	}
	sw_buf_adds(b, "],\"challenge\":");
	if (r->challenged) {
		sw_buf_adds(b, "{\"realm\":");
		json_cstr(b, r->realm);
		sw_buf_adds(b, ",\"algorithms\":");
		json_cstr(b, r->algorithms);
		sw_buf_adds(b, ",\"qop\":");
		json_cstr(b, r->qop);
		sw_buf_adds(b, ",\"opaque\":");
		json_cstr(b, r->opaque);
		sw_buf_addc(b, '}');
	} else {
		sw_buf_adds(b, "null");
	}
	if (r->auth_user_ok[0]) {
		sw_buf_adds(b, ",\"accepted_auth_user\":");
		json_cstr(b, r->auth_user_ok);
	}
	sw_buf_adds(b, ",\"findings\":[");
	unsigned idx[SW_DOCTOR_MAX_FINDINGS];
	unsigned n = order(r, idx);
	for (unsigned k = 0; k < n; k++) {
		const struct sw_doctor_finding *f = &r->findings[idx[k]];
		const struct sw_cause_info *ci = sw_cause_get(f->cause);
		if (k)
			sw_buf_addc(b, ',');
		/* "cause" as in analyze, why and events; "id" is its old name,
		 * kept for one release */
		sw_buf_adds(b, "{\"cause\":");
		json_cstr(b, sw_cause_id(f->cause));
		sw_buf_adds(b, ",\"id\":");
		json_cstr(b, sw_cause_id(f->cause));
		sw_buf_addf(b, ",\"severity\":\"%s\",\"problem\":%s,\"observed\":",
			    sw_severity_name(f->severity), f->problem ? "true" : "false");
		json_cstr(b, f->observed);
		sw_buf_adds(b, ",\"evidence\":");
		json_lines(b, f->evidence);
		sw_buf_adds(b, ",\"explanation\":");
		json_cstr(b, ci ? ci->explain : "");
		sw_buf_adds(b, ",\"detail\":");
		json_cstr(b, f->detail);
		sw_buf_adds(b, ",\"fix_class\":");
		json_cstr(b, ci ? sw_fix_class_id(ci->fix_class) : "none");
		sw_buf_adds(b, ",\"fix\":");
		json_cstr(b, ci ? ci->fix : "");
		sw_buf_addc(b, '}');
	}
	sw_buf_adds(b, "],\"steps\":");
	sw_buf_addc(b, '[');
	for (unsigned i = 0; i < r->nnotes; i++) {
		if (i)
			sw_buf_addc(b, ',');
		json_cstr(b, r->notes[i]);
	}
	sw_buf_adds(b, "]}\n");
}
