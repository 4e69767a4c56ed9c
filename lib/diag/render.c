/* Renders causes for people (text) and for scripts (JSON). */
#include <string.h>
#include "sipwarden/causes.h"

void sw_cause_render_text(struct sw_buf *b, const struct sw_cause_info *ci)
{
	sw_buf_addf(b, "%s (%s)\n", ci->id, sw_severity_name(ci->severity));
	sw_buf_adds(b, "  seen by: ");
	sw_observers_render(b, ci->observers, ", ");
	sw_buf_addf(b, "\n  what:    %s\n", ci->explain);
	sw_buf_addf(b, "  fix:     %s: %s\n", sw_fix_class_title(ci->fix_class), ci->fix);
}

static void json_key_str(struct sw_buf *b, const char *key, const char *val, bool comma)
{
	if (comma)
		sw_buf_addc(b, ',');
	sw_buf_add_json_str(b, key, strlen(key));
	sw_buf_addc(b, ':');
	sw_buf_add_json_str(b, val, strlen(val));
}

void sw_cause_render_json(struct sw_buf *b, const struct sw_cause_info *ci)
{
	sw_buf_addc(b, '{');
	json_key_str(b, "id", ci->id, false);
	json_key_str(b, "severity", sw_severity_name(ci->severity), true);
	sw_buf_adds(b, ",\"observers\":[");
	static const char *const names[] = { "server", "doctor", "analyzer" };
	bool first = true;
	for (unsigned i = 0; i < 3; i++) {
		if (!(ci->observers & (1u << i)))
			continue;
		sw_buf_addf(b, "%s\"%s\"", first ? "" : ",", names[i]);
		first = false;
	}
	sw_buf_addc(b, ']');
	json_key_str(b, "explanation", ci->explain, true);
	json_key_str(b, "fix_class", sw_fix_class_id(ci->fix_class), true);
	json_key_str(b, "fix_class_title", sw_fix_class_title(ci->fix_class), true);
	json_key_str(b, "fix", ci->fix, true);
	sw_buf_addc(b, '}');
}

void sw_causes_render_json(struct sw_buf *b)
{
	sw_buf_addc(b, '[');
	for (unsigned i = 0; i < SW_CAUSE__COUNT; i++) {
		const struct sw_cause_info *ci = sw_cause_get((enum sw_cause)i);
		if (!ci)
			continue;
		if (i)
			sw_buf_addc(b, ',');
		sw_cause_render_json(b, ci);
	}
	sw_buf_addc(b, ']');
}
