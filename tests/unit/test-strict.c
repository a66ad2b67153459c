/* Strict mode's shared parts (common/strict.h): the trace line, the rules
 * in the explain tables (each one used by its protocol's checks and listed
 * in labs/strict-rules.md), how `trace show --explain` and the HTML
 * diagram mark them, and the DATA reader's view of a wrong terminator. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/trace.h"
#include "common/buf.h"
#include "common/datareader.h"
#include "common/strict.h"
#include "common/trace.h"
#include "common/xalloc.h"
#include "imapd/explain.h"
#include "pop3d/explain.h"
#include "smtpd/explain.h"
#include "tests/unit/unit.h"

static const struct explainer *const explainers[] = {
	&smtp_explainer, &pop3_explainer, &imap_explainer,
};
#define N_EXPLAINERS (sizeof(explainers) / sizeof(explainers[0]))

static char *read_all(const char *path)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);
	char chunk[8192];
	size_t n;
	FILE *f = fopen(path, "r");

	ck_assert_msg(f != NULL, "cannot read %s (run from the source tree)", path);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	return b.data != NULL ? buf_steal(&b) : xstrdup("");
}

START_TEST(test_every_rule_is_in_the_lab_guide)
{
	char *guide = read_all("labs/strict-rules.md");
	struct buf missing = BUF_INIT(BUF_UNLIMITED);

	for (size_t x = 0; x < N_EXPLAINERS; x++) {
		const struct explainer *ex = explainers[x];
		size_t rules = 0;

		for (size_t i = 0; i < ex->n_entries; i++) {
			const struct explain_entry *e = &ex->entries[i];
			char want[96];

			if (!strict_is_rule(ex, e))
				continue;
			rules++;
			ck_assert_msg(strncmp(e->rfc, "RFC ", 4) == 0,
				      "rule %s has no RFC section", e->key);
			snprintf(want, sizeof(want), "| `%s` |", e->key);
			if (strstr(guide, want) == NULL)
				buf_printf(&missing, " %s", e->key);
		}
		ck_assert_msg(rules >= 10, "%s: only %zu rules in the table",
			      ex->protocol, rules);
	}
	ck_assert_msg(missing.len == 0, "labs/strict-rules.md does not list:%s",
		      buf_cstr(&missing));
	buf_free(&missing);
	free(guide);
}
END_TEST

/* Every rule row is used by its protocol's checks (PROTOd/strict.c), and
 * every rule they name has a row (a typo would write a line with no
 * explanation). */
START_TEST(test_rules_and_checks_match)
{
	for (size_t x = 0; x < N_EXPLAINERS; x++) {
		const struct explainer *ex = explainers[x];
		struct buf dir = BUF_INIT(BUF_UNLIMITED), prefix = BUF_INIT(64);
		char *code, *p;

		buf_printf(&dir, "%sd", ex->protocol);
		buf_printf(&prefix, "%s/strict.c", buf_cstr(&dir));
		code = read_all(buf_cstr(&prefix));
		buf_clear(&prefix);
		for (size_t i = 0; i < ex->n_entries; i++) {
			char quoted[96];

			if (!strict_is_rule(ex, &ex->entries[i]))
				continue;
			snprintf(quoted, sizeof(quoted), "\"%s\"", ex->entries[i].key);
			ck_assert_msg(strstr(code, quoted) != NULL,
				      "rule %s is never noted by %s/", quoted,
				      buf_cstr(&dir));
		}
		buf_printf(&prefix, "\"%s-", ex->protocol);
		for (p = strstr(code, buf_cstr(&prefix)); p != NULL;
		     p = strstr(p + 1, buf_cstr(&prefix))) {
			size_t n = strspn(p + 1, "abcdefghijklmnopqrstuvwxyz0123456789-");
			char key[96];

			if (p[1 + n] != '"' || n >= sizeof(key))
				continue;
			memcpy(key, p + 1, n);
			key[n] = '\0';
			ck_assert_msg(explain_find(ex, key) != NULL,
				      "%s/ notes rule \"%s\", which %s/explain.c has no "
				      "row for", buf_cstr(&dir), key, buf_cstr(&dir));
		}
		free(code);
		buf_free(&dir);
		buf_free(&prefix);
	}
}
END_TEST

/* The trace line, with strict mode on, and nothing with it off. */
START_TEST(test_note_writes_the_rule)
{
	char *dir = unit_tmpdir(), *text;
	struct buf path = BUF_INIT(BUF_UNLIMITED);
	struct config cfg;
	struct proto_io io;

	config_defaults(&cfg, dir);
	io_init_test(&io, &cfg, SVC_SMTP);
	io.trace = trace_open(dir, "smtp", "t1");
	ck_assert_ptr_nonnull(io.trace);
	strict_note(&io, &smtp_explainer, "smtp-bare-lf");	/* off */
	cfg.strict = true;
	strict_note(&io, &smtp_explainer, "smtp-bare-lf");
	trace_close(&io.trace);
	/* no trace, no harm */
	strict_note(&io, &smtp_explainer, "smtp-bare-lf");
	buf_printf(&path, "%s/smtp-t1.log", dir);
	text = read_all(buf_cstr(&path));
	ck_assert_msg(strstr(text, " *: strict: smtp-bare-lf: the line ended in a "
			     "bare LF; SMTP lines end in CRLF (RFC 5321 2.3.8)\n") != NULL,
		      "%s", text);
	/* one line: the one written with strict mode on */
	ck_assert_ptr_null(strstr(strstr(text, "strict:") + 1, "strict:"));
	free(text);
	buf_free(&path);
	io_free(&io);
	config_free(&cfg);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_explain_marks_the_line)
{
	struct explain_session es;
	struct explain_line out;

	memset(&es, 0, sizeof(es));
	es.ex = &pop3_explainer;
	explain_feed(&es, EXPLAIN_EVENT, "strict: pop3-no-quit-dele-lost: the "
		     "client closed ... (RFC 1939 6)", &out);
	ck_assert(out.broken_rule);
	ck_assert_uint_eq(out.n_rows, 1);
	ck_assert_str_eq(out.rows[0]->key, "pop3-no-quit-dele-lost");
	ck_assert_ptr_nonnull(strstr(out.rows[0]->text, "NOT deleted"));
	/* an ordinary event is not a broken rule */
	explain_feed(&es, EXPLAIN_EVENT, "client closed its side", &out);
	ck_assert(!out.broken_rule);
	/* a rule the table does not know is still marked */
	explain_feed(&es, EXPLAIN_EVENT, "strict: pop3-nonsense: x", &out);
	ck_assert(out.broken_rule);
	ck_assert_uint_eq(out.n_rows, 0);
}
END_TEST

static const char session_text[] =
	"12:00:00.000 *: trace started 2026-12-05 smtp abc\n"
	"12:00:00.001 *: connection from 127.0.0.1 to smtp\n"
	"12:00:00.002 S: 220 mx.lab.test ESMTP maillab\n"
	"12:00:00.003 C: EHLO client.example\n"
	"12:00:00.003 *: strict: smtp-bare-lf: the line ended in a bare LF; SMTP "
	"lines end in CRLF (RFC 5321 2.3.8)\n"
	"12:00:00.004 S: 500 5.5.2 Bare LF received: lines must end with CRLF "
	"(RFC 5321 2.3.8)\n"
	"12:00:00.005 *: client closed its side\n"
	"12:00:00.005 *: strict: smtp-no-quit: the client closed the connection "
	"without QUIT (RFC 5321 4.1.1.10)\n"
	"12:00:00.006 *: session ended\n";

static void load_session(struct trace_session *ts)
{
	char *copy = xstrdup(session_text), *line, *next;

	memset(ts, 0, sizeof(*ts));
	snprintf(ts->service, sizeof(ts->service), "smtp");
	for (line = copy; line != NULL && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		trace_session_add_line(ts, line);
	}
	free(copy);
}

static char *render(bool html)
{
	struct trace_session ts;
	char *page = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&page, &len);

	load_session(&ts);
	if (html)
		ck_assert_int_eq(trace_show_html(&ts, out), 0);
	else
		ck_assert_int_eq(trace_show_text(&ts, true, out), 0);
	fclose(out);
	trace_session_free(&ts);
	return page;
}

START_TEST(test_trace_show_marks_broken_rules)
{
	char *text = render(false);
	const char *rule = strstr(text, "!! BROKEN RULE smtp-bare-lf: the line "
				  "ended in a bare LF");

	const char *line = strstr(text, "*: strict: smtp-bare-lf");
	const char *reply = strstr(text, "S: 500 5.5.2");

	ck_assert_msg(rule != NULL && line != NULL && reply != NULL, "%s", text);
	/* under the strict line, before the reply */
	ck_assert(line < rule && rule < reply);
	ck_assert_ptr_nonnull(strstr(text, "!! BROKEN RULE smtp-no-quit: "));
	ck_assert_ptr_nonnull(strstr(text, "[RFC 5321 4.1.1.10]"));
	free(text);
}
END_TEST

START_TEST(test_html_marks_broken_rules)
{
	char *page = render(true), *p;
	int strict_events = 0, badges = 0;

	for (p = page; (p = strstr(p, "<g class=\"event strict\">")) != NULL; p++)
		strict_events++;
	for (p = page; (p = strstr(p, ">RULE</text>")) != NULL; p++)
		badges++;
	ck_assert_int_eq(strict_events, 2);
	ck_assert_int_eq(badges, 2);
	ck_assert_ptr_nonnull(strstr(page, "Broken rule (strict mode):"));
	ck_assert_ptr_nonnull(strstr(page, "svg .event.strict rect{"));
	free(page);
}
END_TEST

/* --- the DATA reader: a terminator sent with bare LFs --- */

static bool feed_bytewise(const char *body, struct data_reader *dr)
{
	size_t used;

	for (const char *p = body; *p != '\0'; p++) {
		if (dr_feed(dr, p, 1, &used))
			return true;
	}
	return false;
}

static int discard(void *arg, const char *p, size_t n)
{
	(void)arg;
	(void)p;
	(void)n;
	return 0;
}

START_TEST(test_datareader_notes_a_wrong_end)
{
	static const struct {
		const char *body;
		bool bad_end;
	} cases[] = {
		{ "hi\n.\n\r\n.\r\n", true },
		{ "hi\r\n.\n\r\n.\r\n", true },
		{ "hi\n.\r\n.\r\n", true },
		{ ".\n\r\n.\r\n", true },
		{ "hi\r\n.\r\n", false },
		{ "hi\n.x\r\n.\r\n", false },	/* a line starting with a dot */
		{ "a\n..\r\n.\r\n", false },
		{ "\r\n.\r\n", false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int whole = 0; whole < 2; whole++) {
			struct data_reader dr;
			size_t used;
			bool done;

			dr_init(&dr, 1 << 20, 1000, discard, NULL);
			done = whole ? dr_feed(&dr, cases[i].body,
					       strlen(cases[i].body), &used) :
				feed_bytewise(cases[i].body, &dr);
			ck_assert_msg(done, "case %zu did not end", i);
			ck_assert_msg(dr.bad_end == cases[i].bad_end,
				      "case %zu (%s): bad_end %d", i,
				      whole ? "whole" : "bytewise", dr.bad_end);
		}
	}
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("strict");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_every_rule_is_in_the_lab_guide);
	tcase_add_test(tc, test_rules_and_checks_match);
	tcase_add_test(tc, test_note_writes_the_rule);
	tcase_add_test(tc, test_explain_marks_the_line);
	tcase_add_test(tc, test_trace_show_marks_broken_rules);
	tcase_add_test(tc, test_html_marks_broken_rules);
	tcase_add_test(tc, test_datareader_notes_a_wrong_end);
	suite_add_tcase(s, tc);
	return s;
}
