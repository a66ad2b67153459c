/* The `maillab trace` reader (cli/trace.h) on the cases the fuzz seeds in
 * tests/fuzz/corpus-trace/ were made for; test-fuzz-replay.c replays the
 * corpus itself through tests/fuzz/fuzz-trace.c. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/trace.h"
#include "common/buf.h"
#include "common/xalloc.h"
#include "tests/unit/unit.h"

static void load_text(struct trace_session *ts, const char *service,
		      const char *text)
{
	char *copy = xstrdup(text), *line, *next;

	memset(ts, 0, sizeof(*ts));
	snprintf(ts->service, sizeof(ts->service), "%s", service);
	for (line = copy; line != NULL && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		trace_session_add_line(ts, line);
	}
	free(copy);
}

START_TEST(test_reader_summary)
{
	struct trace_session ts;
	char outcome[64];

	/* across midnight: the duration is 14 ms, not minus a day */
	load_text(&ts, "smtp",
		  "23:59:59.990 *: trace started 2026-12-31 smtp x\n"
		  "23:59:59.990 *: connection from 192.0.2.7 to smtp\n"
		  "23:59:59.991 S: 220 hi\n"
		  "not a trace line\n"
		  "00:00:00.002 C: QUIT\n"
		  "00:00:00.003 S: 221 2.0.0 bye\n"
		  "00:00:00.004 *: session ended\n");
	ck_assert_str_eq(ts.day, "2026-12-31");
	ck_assert_str_eq(ts.peer, "192.0.2.7");
	ck_assert_uint_eq(ts.n_lines, 6);
	ck_assert_uint_eq(ts.n_dialogue, 3);
	ck_assert_int_eq(trace_session_duration(&ts), 14);
	trace_session_outcome(&ts, outcome, sizeof(outcome));
	ck_assert_str_eq(outcome, "quit");
	trace_session_free(&ts);

	load_text(&ts, "imap",
		  "12:00:00.000 S: * OK hi\n"
		  "12:00:00.001 C: a LOGIN bob <redacted>\n"
		  "12:00:00.002 *: auth failed user=bob\n"
		  "12:00:00.003 S: a NO [AUTHENTICATIONFAILED] no\n");
	trace_session_outcome(&ts, outcome, sizeof(outcome));
	ck_assert_str_eq(outcome, "open, auth failed");
	ck_assert_str_eq(ts.user, "");
	trace_session_free(&ts);

	load_text(&ts, "pop3",
		  "12:00:00.000 S: +OK hi\n"
		  "12:00:00.001 *: auth ok user=bob\n"
		  "12:00:00.002 *: idle timeout\n"
		  "12:00:00.003 S: -ERR autologout\n"
		  "12:00:00.004 *: session ended\n");
	trace_session_outcome(&ts, outcome, sizeof(outcome));
	ck_assert_str_eq(outcome, "timeout");
	ck_assert_str_eq(ts.user, "bob");
	trace_session_free(&ts);
}
END_TEST

START_TEST(test_show_elides_and_counts_arrows)
{
	struct trace_session ts;
	struct show_list list;
	size_t bodies = 0, states = 0;

	load_text(&ts, "pop3",
		  "12:00:00.000 S: +OK hi\n"
		  "12:00:00.001 C: USER bob\n"
		  "12:00:00.002 S: +OK\n"
		  "12:00:00.003 C: PASS <redacted>\n"
		  "12:00:00.004 S: +OK in\n"
		  "12:00:00.005 C: RETR 1\n"
		  "12:00:00.006 S: +OK 14 octets\n"
		  "12:00:00.006 S: Subject: x\n"
		  "12:00:00.006 S: \n"
		  "12:00:00.006 S: .\n");
	show_build(&ts, &list);
	for (size_t i = 0; i < list.n; i++) {
		if (list.items[i].elided) {
			bodies++;
			ck_assert_str_eq(list.items[i].text,
					 "<message data, 14 octets, not shown>");
		}
		states += list.items[i].kind == SHOW_STATE;
	}
	ck_assert_uint_eq(bodies, 1);
	ck_assert_uint_eq(list.n_arrows, 9);	/* 10 lines, 2 of them one */
	ck_assert_uint_eq(states, 2);		/* AUTHORIZATION, TRANSACTION */
	show_free(&list);
	trace_session_free(&ts);
}
END_TEST

/* Whether s is well-formed UTF-8 (enough for the check below: lead bytes
 * and the number of continuation bytes). */
static bool utf8_ok(const unsigned char *s)
{
	while (*s != '\0') {
		int more = *s < 0x80 ? 0 : (*s & 0xe0) == 0xc0 ? 1 :
			   (*s & 0xf0) == 0xe0 ? 2 : (*s & 0xf8) == 0xf0 ? 3 : -1;

		if (more < 0)
			return false;
		for (s++; more > 0; more--, s++)
			if ((*s & 0xc0) != 0x80)
				return false;
	}
	return true;
}

/* A long line is cut for the diagram between characters, not inside one,
 * and what the client sent cannot open an element. */
START_TEST(test_html_cuts_and_escapes)
{
	struct trace_session ts;
	struct buf line = BUF_INIT(BUF_UNLIMITED);
	char *page = NULL;
	size_t len = 0;
	FILE *out;

	buf_puts(&line, "12:00:00.000 C: <svg onload=x>");
	for (int i = 0; i < 100; i++)
		buf_puts(&line, "\xc3\xa9");
	buf_putc(&line, '\n');
	load_text(&ts, "smtp", buf_cstr(&line));
	out = open_memstream(&page, &len);
	ck_assert_int_eq(trace_show_html(&ts, out), 0);
	fclose(out);
	ck_assert(utf8_ok((const unsigned char *)page));
	ck_assert_ptr_nonnull(strstr(page, "C: &lt;svg onload=x&gt;\xc3\xa9"));
	ck_assert_ptr_nonnull(strstr(page, "\xc3\xa9\xe2\x80\xa6</text>"));
	ck_assert_ptr_null(strstr(page, "<svg onload"));
	free(page);
	buf_free(&line);
	trace_session_free(&ts);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("trace-reader");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_reader_summary);
	tcase_add_test(tc, test_show_elides_and_counts_arrows);
	tcase_add_test(tc, test_html_cuts_and_escapes);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}
