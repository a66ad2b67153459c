/* `maillab trace show ID [--explain]`: the dialogue as text, with the
 * state the session was in and, with --explain, what each line means. */
#include <stdio.h>

#include "cli/trace.h"

#define INDENT "                "	/* under the text after "HH:MM:SS.mmm C: " */

static void print_rows(const struct explain_line *ex, FILE *out)
{
	for (size_t i = 0; i < ex->n_rows; i++) {
		const struct explain_entry *e = ex->rows[i];

		/* strict mode (common/strict.h): the client broke a rule */
		if (ex->broken_rule)
			fprintf(out, INDENT "!! BROKEN RULE %s: ", e->key);
		else
			fputs(INDENT, out);
		fprintf(out, "%s", e->text);
		if (e->rfc[0] != '\0')
			fprintf(out, " [%s]", e->rfc);
		fputc('\n', out);
	}
	if (ex->broken_rule && ex->n_rows == 0)
		fputs(INDENT "!! BROKEN RULE (not in the explanation table)\n", out);
}

int trace_show_text(const struct trace_session *ts, bool explain, FILE *out)
{
	struct show_list list;

	fprintf(out, "%s session %s from %s, %s (times UTC)\n", ts->service,
		ts->id, ts->peer[0] ? ts->peer : "?", ts->day[0] ? ts->day : "?");
	show_build(ts, &list);
	for (size_t i = 0; i < list.n; i++) {
		const struct show_item *it = &list.items[i];

		switch (it->kind) {
		case SHOW_STATE:
			fprintf(out, "%12s    -- state: %s --\n", "", it->text);
			continue;
		case SHOW_ARROW:
			fprintf(out, "%s %c: %s%s\n", it->time, it->who, it->text,
				it->ex.fault ? "   <== INJECTED FAULT" : "");
			break;
		case SHOW_EVENT:
			fprintf(out, "%s *: %s%s\n", it->time,
				it->ex.fault ? "!! " : "", it->text);
			break;
		}
		if (explain)
			print_rows(&it->ex, out);
	}
	show_free(&list);
	return ferror(out) ? 1 : 0;
}
