/* What `maillab lab check` reads from a session (cli/lab-evidence.c):
 * replies paired with their commands in the three protocols, SMTP
 * pipelining included, and a check's PASS/FAIL lines and count. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/lab.h"
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

static const char *reply_text(const struct trace_session *ts, ssize_t cmd)
{
	ssize_t r;

	ck_assert_int_ge(cmd, 0);
	r = lab_reply(ts, (size_t)cmd);
	return r < 0 ? NULL : ts->lines[r].text;
}

START_TEST(test_smtp_pipelined_replies)
{
	struct trace_session ts;
	ssize_t mail, rcpt, data, body;

	/* the client pipelines MAIL, RCPT and DATA (RFC 2920); the replies
	 * come in order after the multi-line EHLO reply */
	load_text(&ts, "submission",
		  "10:00:00.000 S: 220 hi\n"
		  "10:00:00.001 C: ehlo x\n"
		  "10:00:00.002 S: 250-hi\n"
		  "10:00:00.002 S: 250 PIPELINING\n"
		  "10:00:00.003 C: MAIL FROM:<a@b>\n"
		  "10:00:00.003 C: RCPT TO:<nobody@lab.test>\n"
		  "10:00:00.003 C: DATA\n"
		  "10:00:00.004 S: 250 2.1.0 ok\n"
		  "10:00:00.004 S: 550 5.1.1 unknown\n"
		  "10:00:00.004 S: 554 5.5.1 No valid recipients\n"
		  "10:00:00.005 C: RSET\n"
		  "10:00:00.005 S: 250 2.0.0 Reset OK\n"
		  "10:00:00.006 C: MAIL FROM:<a@b>\n"
		  "10:00:00.006 S: 250 2.1.0 ok\n"
		  "10:00:00.007 C: RCPT TO:<bob@lab.test>\n"
		  "10:00:00.007 S: 250 2.1.5 ok\n"
		  "10:00:00.008 C: DATA\n"
		  "10:00:00.008 S: 354 go\n"
		  "10:00:00.009 *: C: <message body, 10 bytes>\n"
		  "10:00:00.010 S: 250 2.0.0 accepted\n");
	ck_assert_str_eq(lab_protocol(&ts), "smtp");
	ck_assert_str_eq(reply_text(&ts, lab_command(&ts, 0, "EHLO", NULL)),
			 "250 PIPELINING");
	mail = lab_command(&ts, 0, "MAIL", "from:");
	rcpt = lab_command(&ts, 0, "RCPT", "TO:<nobody");
	data = lab_command(&ts, 0, "DATA", NULL);
	ck_assert_str_eq(reply_text(&ts, mail), "250 2.1.0 ok");
	ck_assert_str_eq(reply_text(&ts, rcpt), "550 5.1.1 unknown");
	ck_assert_str_eq(reply_text(&ts, data), "554 5.5.1 No valid recipients");
	ck_assert(lab_reply_is(&ts, (size_t)lab_command(&ts, (size_t)data + 1,
							"DATA", NULL), "354"));
	body = lab_smtp_accepted(&ts);
	ck_assert_int_eq(body, 18);
	ck_assert_str_eq(reply_text(&ts, body), "250 2.0.0 accepted");
	ck_assert_int_eq(lab_command(&ts, 0, "RCPT", "TO:<carol"), -1);
	ck_assert_int_eq(lab_tls_at(&ts), -1);
	trace_session_free(&ts);

	/* a reply that never came */
	load_text(&ts, "smtp",
		  "10:00:00.000 S: 220 hi\n"
		  "10:00:00.001 C: EHLO x\n");
	ck_assert_ptr_null(reply_text(&ts, 1));
	ck_assert_int_eq(lab_smtp_accepted(&ts), -1);
	trace_session_free(&ts);
}
END_TEST

START_TEST(test_pop3_and_imap_replies)
{
	struct trace_session ts;
	ssize_t idle;

	load_text(&ts, "pop3",
		  "10:00:00.000 S: +OK ready\n"
		  "10:00:00.001 C: USER bob\n"
		  "10:00:00.001 S: +OK send your password\n"
		  "10:00:00.002 C: PASS <redacted>\n"
		  "10:00:00.003 *: auth ok user=bob\n"
		  "10:00:00.003 S: +OK 1 message\n"
		  "10:00:00.004 C: RETR 1\n"
		  "10:00:00.004 S: +OK 20 octets\n"
		  "10:00:00.004 S: Subject: x\n"
		  "10:00:00.004 S: .\n"
		  "10:00:00.005 C: DELE 9\n"
		  "10:00:00.005 S: -ERR no such message\n");
	ck_assert_str_eq(ts.user, "bob");
	ck_assert(lab_reply_is(&ts, (size_t)lab_command(&ts, 0, "retr", NULL), "+OK"));
	ck_assert(lab_reply_is(&ts, (size_t)lab_command(&ts, 0, "DELE", NULL), "-ERR"));
	trace_session_free(&ts);

	/* untagged data and another tag come before a command's completion */
	load_text(&ts, "imaps",
		  "10:00:00.000 S: * OK ready\n"
		  "10:00:00.001 C: a1 login bob <redacted>\n"
		  "10:00:00.002 S: a1 OK Logged in\n"
		  "10:00:00.003 C: a2 IDLE\n"
		  "10:00:00.003 S: + idling\n"
		  "10:00:00.004 S: * 3 EXISTS\n"
		  "10:00:00.005 C: DONE\n"
		  "10:00:00.005 S: a2 OK IDLE terminated\n"
		  "10:00:00.006 C: a3 STORE 1 +FLAGS (\\\\Seen)\n"
		  "10:00:00.006 S: * 1 FETCH (FLAGS (\\\\Seen))\n"
		  "10:00:00.006 S: a3 NO [CANNOT] no\n");
	ck_assert_str_eq(lab_protocol(&ts), "imap");
	ck_assert(lab_reply_is(&ts, (size_t)lab_command(&ts, 0, "LOGIN", NULL), "OK"));
	idle = lab_command(&ts, 0, "IDLE", NULL);
	ck_assert_str_eq(reply_text(&ts, idle), "a2 OK IDLE terminated");
	ck_assert(lab_reply_is(&ts, (size_t)lab_command(&ts, 0, "STORE", "1 +FLAGS"),
			       "NO"));
	/* the continuation line "DONE" is no command */
	ck_assert_int_eq(lab_command(&ts, 0, "DONE", NULL), -1);
	trace_session_free(&ts);
}
END_TEST

START_TEST(test_check_lines_and_exchange_hints)
{
	struct lab_check c = { .dir = "/nonexistent", .bob = "bob" };
	struct lab_sessions s;
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	FILE *saved = stdout;

	s.n = 1;
	s.all = xcalloc(1, sizeof(*s.all));
	load_text(&s.all[0], "smtp",
		  "10:00:00.000 S: 220 hi\n"
		  "10:00:00.001 C: EHLO x\n"
		  "10:00:00.002 S: 250 hi\n"
		  "10:00:00.003 C: RCPT TO:<bob@lab.test>\n"
		  "10:00:00.004 S: 503 5.5.1 Bad sequence of commands: send MAIL first\n");
	snprintf(s.all[0].id, sizeof(s.all[0].id), "S17");
	stdout = mem;
	lab_step_exchange(&c, &s, "smtp", NULL, "EHLO", NULL, "250", "EHLO ok",
			  "never");
	lab_step_exchange(&c, &s, "smtp", NULL, "RCPT", NULL, "250", "RCPT ok",
			  "never");
	lab_step_exchange(&c, &s, "smtp", NULL, "MAIL", NULL, "250", "MAIL ok",
			  "no MAIL was sent");
	lab_step(&c, true, "%s", "done");
	fflush(stdout);
	stdout = saved;
	fclose(mem);
	ck_assert_str_eq(text,
			 "PASS  step 1: EHLO ok (session S17)\n"
			 "FAIL  step 2: RCPT ok: your 'RCPT TO:<bob@lab.test>' got "
			 "'503 5.5.1 Bad sequence of commands: send MAIL first' in session S17\n"
			 "FAIL  step 3: no MAIL was sent\n"
			 "PASS  step 4: done\n");
	ck_assert_int_eq(c.step, 4);
	ck_assert_int_eq(c.failed, 2);
	free(text);
	lab_sessions_free(&s);
	ck_assert_ptr_null(s.all);
	ck_assert_ptr_nonnull(lab_find(7));
	ck_assert_uint_eq(lab_find(7)->n_instances, 2);
	ck_assert_ptr_null(lab_find(9));
}
END_TEST

/* --user NAME on a shared instance: which sessions are NAME's. */
START_TEST(test_sessions_of_a_student)
{
	static const char *const texts[][2] = {
		/* 0: logged in as ann over IMAP */
		{ "imap", "10:00:00.000 *: connection from 127.0.0.2 to imap\n"
		  "10:00:00.001 C: a1 LOGIN ann <redacted>\n"
		  "10:00:00.002 *: auth ok user=ann\n" },
		/* 1: ben's client sent to ben (+detail) from 127.0.0.3 */
		{ "smtp", "10:00:01.000 *: connection from 127.0.0.3 to smtp\n"
		  "10:00:01.001 C: MAIL FROM:<x@example.com>\n"
		  "10:00:01.002 C: RCPT TO: <Ben+lab6@lab.test>\n" },
		/* 2: names nobody, from ann's machine */
		{ "smtp", "10:00:02.000 *: connection from 127.0.0.2 to smtp\n"
		  "10:00:02.001 C: EHLO x\n" },
		/* 3: names nobody, from a third machine */
		{ "smtp", "10:00:03.000 *: connection from 127.0.0.9 to smtp\n"
		  "10:00:03.001 C: EHLO y\n" },
		/* 4: a POP3 USER ann that never logged in, from 127.0.0.4 */
		{ "pop3", "10:00:04.000 *: connection from 127.0.0.4 to pop3\n"
		  "10:00:04.001 C: USER ann\n" },
		/* 5: annie is not ann */
		{ "smtp", "10:00:05.000 *: connection from 127.0.0.2 to smtp\n"
		  "10:00:05.001 C: RCPT TO:<annie@lab.test>\n" },
	};
	const size_t n = sizeof(texts) / sizeof(texts[0]);
	struct lab_sessions s;

	for (int who = 0; who < 2; who++) {
		s.n = n;
		s.all = xcalloc(n, sizeof(*s.all));
		for (size_t i = 0; i < n; i++) {
			load_text(&s.all[i], texts[i][0], texts[i][1]);
			snprintf(s.all[i].id, sizeof(s.all[i].id), "S%zu", i);
		}
		lab_sessions_of(&s, who == 0 ? "ann" : "ben");
		if (who == 0) {
			ck_assert_uint_eq(s.n, 3);
			ck_assert_str_eq(s.all[0].id, "S0");
			ck_assert_str_eq(s.all[1].id, "S2");
			ck_assert_str_eq(s.all[2].id, "S4");
		} else {
			ck_assert_uint_eq(s.n, 1);
			ck_assert_str_eq(s.all[0].id, "S1");
		}
		lab_sessions_free(&s);
	}
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("lab");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_smtp_pipelined_replies);
	tcase_add_test(tc, test_pop3_and_imap_replies);
	tcase_add_test(tc, test_check_lines_and_exchange_hints);
	tcase_add_test(tc, test_sessions_of_a_student);
	suite_add_tcase(s, tc);
	return s;
}
