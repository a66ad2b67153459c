/* A session's lines, walked with its protocol's explainer, as the list of
 * arrows, events and state changes that `trace show` prints and draws.
 * Message data (a RETR body, a FETCH literal) becomes one arrow with its
 * size. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/trace.h"
#include "common/buf.h"
#include "common/xalloc.h"

static const struct explain_entry body_row = {
	"message data",
	"The message's text (headers, blank line, body); only its size is shown "
	"here.", "RFC 5322 2.1",
};

static struct show_item *add_item(struct show_list *list, enum show_kind kind,
				  char who, const char *time, char *text)
{
	struct show_item *it;

	if (list->n == list->cap) {
		list->cap = list->cap ? list->cap * 2 : 64;
		list->items = xreallocarray(list->items, list->cap,
					    sizeof(*list->items));
	}
	it = &list->items[list->n++];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	it->who = who;
	it->time = time;
	it->text = text;
	if (kind == SHOW_ARROW)
		list->n_arrows++;
	return it;
}

/* The line as it was sent: the trace doubles a backslash (log_escape);
 * control bytes stay escaped (\r, \x00). */
static char *display_text(const char *text)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);

	for (const char *p = text; *p != '\0'; p++) {
		if (p[0] == '\\' && p[1] == '\\')
			p++;
		else if (p[0] == '\\' && p[1] != '\0')
			buf_putc(&b, *p++);
		buf_putc(&b, *p);
	}
	return buf_steal(&b);
}

static char *state_label(const struct explain_session *es)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);

	buf_puts(&b, es->ex->state_name(es));
	if (es->tls)
		buf_puts(&b, " \xc2\xb7 TLS");
	if (es->user[0] != '\0')
		buf_printf(&b, " \xc2\xb7 user %s", es->user);
	return buf_steal(&b);
}

struct body_run {
	const char *time;
	char who;
	size_t octets;
	size_t lines;
};

static void flush_body(struct show_list *list, struct body_run *run)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);
	struct show_item *it;

	if (run->lines == 0)
		return;
	buf_printf(&b, "<message data, %zu octets, not shown>", run->octets);
	it = add_item(list, SHOW_ARROW, run->who, run->time, buf_steal(&b));
	it->elided = true;
	it->ex.rows[0] = &body_row;
	it->ex.n_rows = 1;
	memset(run, 0, sizeof(*run));
}

/* An event line: some stand for data sent (arrows), the rest are notes. */
static void add_event(struct show_list *list, const struct trace_line *l,
		      const struct explain_line *ex)
{
	struct show_item *it;

	if (strncmp(l->text, "trace started", 13) == 0)
		return;		/* the header says it */
	if (strncmp(l->text, "C: <", 4) == 0) {
		it = add_item(list, SHOW_ARROW, 'C', l->time, xstrdup(l->text + 3));
		it->elided = true;
	} else if (strstr(l->text, "more bytes from the server") != NULL) {
		it = add_item(list, SHOW_ARROW, 'S', l->time,
			      xstrdup(l->text + strspn(l->text, ". ")));
		it->elided = true;
	} else {
		it = add_item(list, SHOW_EVENT, '*', l->time, xstrdup(l->text));
	}
	it->ex = *ex;
}

void show_build(const struct trace_session *ts, struct show_list *list)
{
	const struct explainer *exr = trace_explainer(ts->service);
	struct explain_session es;
	struct body_run run = { 0 };
	char *label = NULL, *now;

	memset(list, 0, sizeof(*list));
	memset(&es, 0, sizeof(es));
	es.ex = exr;
	for (size_t i = 0; i < ts->n_lines; i++) {
		const struct trace_line *l = &ts->lines[i];
		struct explain_line ex = { 0 };

		if (exr != NULL)
			explain_feed(&es, l->who == 'C' ? EXPLAIN_CLIENT :
				     l->who == 'S' ? EXPLAIN_SERVER : EXPLAIN_EVENT,
				     l->text, &ex);
		if (ex.body) {
			if (run.lines++ == 0) {
				run.time = l->time;
				run.who = l->who;
			}
			run.octets += explain_raw_len(l->text) + 2;
			continue;
		}
		flush_body(list, &run);
		if (l->who == '*')
			add_event(list, l, &ex);
		else
			add_item(list, SHOW_ARROW, l->who, l->time,
				 display_text(l->text))->ex = ex;
		if (exr == NULL)
			continue;
		now = state_label(&es);
		if (label == NULL || strcmp(now, label) != 0) {
			/* The greeting's state is the first one shown. */
			add_item(list, SHOW_STATE, 0, l->time, now);
			label = now;
		} else {
			free(now);
		}
	}
	flush_body(list, &run);
}

void show_free(struct show_list *list)
{
	for (size_t i = 0; i < list->n; i++)
		free(list->items[i].text);
	free(list->items);
	memset(list, 0, sizeof(*list));
}
