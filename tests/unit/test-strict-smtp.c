/* Strict mode in SMTP (common/strict.h, smtpd/strict.c): each rule a
 * client can break is named in the trace with its RFC section, and the
 * replies are the same as with strict mode off. */
#include <string.h>

#include "smtpd/smtp.h"
#include "tests/unit/test-strict-drv.h"

static struct sd_instance in;

static void setup(void)
{
	sd_setup(&in);
}

static void teardown(void)
{
	sd_teardown(&in);
}

#define SMTP(...) \
	(&(struct sd_scenario){ &smtp_protocol, SVC_SMTP, false, { __VA_ARGS__, NULL } })
#define SMTP_EARLY(...) \
	(&(struct sd_scenario){ &smtp_protocol, SVC_SMTP, true, { __VA_ARGS__, NULL } })

#define HELLO "EHLO client.example\r\n"
#define FROM "MAIL FROM:<s@sender.example>\r\n"
#define TO "RCPT TO:<alice@lab.test>\r\n"
#define MSG "Date: Sat, 5 Dec 2026 10:00:00 +0000\r\nFrom: s@sender.example\r\n" \
	"Subject: hi\r\n\r\nhello\r\n.\r\n"

START_TEST(test_clean_session)
{
	sd_expect_clean(&in, SMTP(HELLO, FROM, TO, "DATA\r\n", MSG, "QUIT\r\n"));
	/* PIPELINING after EHLO: MAIL and RCPT may go together */
	sd_expect_clean(&in, SMTP(HELLO, FROM TO, "QUIT\r\n"));
	sd_expect_clean(&in, SMTP("HELO [192.0.2.1]\r\n", "QUIT\r\n"));
}
END_TEST

START_TEST(test_bare_lf)
{
	sd_expect_rule(&in, SMTP("EHLO client.example\n", "QUIT\r\n"), "smtp-bare-lf");
	sd_expect_reply(&in, SMTP("EHLO client.example\n"), "500 5.5.2 Bare LF");
}
END_TEST

START_TEST(test_bare_cr)
{
	sd_expect_rule(&in, SMTP("EHLO client\r.example\r\n", "QUIT\r\n"), "smtp-bare-cr");
}
END_TEST

START_TEST(test_command_too_long)
{
	char line[700];

	memset(line, 'a', sizeof(line));
	memcpy(line, "NOOP ", 5);
	memcpy(line + sizeof(line) - 3, "\r\n", 3);
	sd_expect_rule(&in, SMTP(HELLO, line, "QUIT\r\n"), "smtp-command-too-long");
	sd_expect_reply(&in, SMTP(HELLO, line), "500 5.5.2 Line too long");
}
END_TEST

START_TEST(test_text_line_too_long)
{
	static char body[1200 + 64];

	memset(body, 'x', 1200);
	memcpy(body + 1200, "\r\n.\r\n", 6);
	sd_expect_rule(&in, SMTP(HELLO, FROM, TO, "DATA\r\n", body, "QUIT\r\n"),
		       "smtp-text-line-too-long");
	sd_expect_reply(&in, SMTP(HELLO, FROM, TO, "DATA\r\n", body),
			"500 5.5.2 Line too long");
}
END_TEST

START_TEST(test_unknown_command)
{
	sd_expect_rule(&in, SMTP(HELLO, "HELLO there\r\n", "QUIT\r\n"),
		       "smtp-unknown-command");
	sd_expect_reply(&in, SMTP("FOO\r\n"), "502 5.5.2");
}
END_TEST

START_TEST(test_helo_without_domain)
{
	sd_expect_rule(&in, SMTP("EHLO\r\n", "QUIT\r\n"), "smtp-helo-no-domain");
	sd_expect_rule(&in, SMTP("HELO \r\n", "QUIT\r\n"), "smtp-helo-no-domain");
	sd_expect_reply(&in, SMTP("EHLO\r\n"), "501 Syntax: EHLO hostname");
}
END_TEST

START_TEST(test_helo_not_a_domain)
{
	sd_expect_rule(&in, SMTP("HELO my_pc!\r\n", "QUIT\r\n"), "smtp-helo-not-domain");
	sd_expect_rule(&in, SMTP("EHLO 192.0.2.1\r\n", "QUIT\r\n"), "smtp-helo-not-domain");
	sd_expect_reply(&in, SMTP("HELO my_pc!\r\n"), "250 mx.lab.test Hello my_pc!");
}
END_TEST

START_TEST(test_mail_before_helo)
{
	sd_expect_rule(&in, SMTP(FROM, "QUIT\r\n"), "smtp-mail-before-helo");
	sd_expect_reply(&in, SMTP(FROM), "503 5.5.1");
}
END_TEST

START_TEST(test_rcpt_before_mail)
{
	sd_expect_rule(&in, SMTP(HELLO, TO, "QUIT\r\n"), "smtp-rcpt-before-mail");
	sd_expect_reply(&in, SMTP(HELLO, TO), "503 5.5.1 Bad sequence of commands: send MAIL first");
}
END_TEST

START_TEST(test_data_before_rcpt)
{
	sd_expect_rule(&in, SMTP(HELLO, "DATA\r\n", "QUIT\r\n"), "smtp-data-before-rcpt");
	sd_expect_rule(&in, SMTP(HELLO, FROM, "DATA\r\n", "QUIT\r\n"), "smtp-data-before-rcpt");
	sd_expect_reply(&in, SMTP(HELLO, FROM, "DATA\r\n"), "554 5.5.1 No valid recipients");
}
END_TEST

START_TEST(test_path_without_brackets)
{
	sd_expect_rule(&in, SMTP(HELLO, "MAIL FROM:s@sender.example\r\n", "QUIT\r\n"),
		       "smtp-path-no-brackets");
	sd_expect_rule(&in, SMTP(HELLO, FROM, "RCPT TO:alice@lab.test\r\n", "QUIT\r\n"),
		       "smtp-path-no-brackets");
	sd_expect_reply(&in, SMTP(HELLO, "MAIL FROM:s@sender.example\r\n"), "501 5.1.7");
}
END_TEST

START_TEST(test_space_after_colon)
{
	sd_expect_rule(&in, SMTP(HELLO, "MAIL FROM: <s@sender.example>\r\n", "QUIT\r\n"),
		       "smtp-space-after-colon");
	sd_expect_rule(&in, SMTP(HELLO, FROM, "RCPT TO: <alice@lab.test>\r\n", "QUIT\r\n"),
		       "smtp-space-after-colon");
	/* lenient: the command is accepted all the same */
	sd_expect_reply(&in, SMTP(HELLO, "MAIL FROM: <s@sender.example>\r\n"), "250 2.1.0");
}
END_TEST

START_TEST(test_data_end_not_crlf)
{
	/* LF.LF is text; the message ends at the CRLF.CRLF that follows */
	const char *body = "From: s@sender.example\nDate: Sat, 5 Dec 2026 10:00:00 +0000\n\nhi\n.\n";

	sd_expect_rule(&in, SMTP(HELLO, FROM, TO, "DATA\r\n", body, "\r\n.\r\n", "QUIT\r\n"),
		       "smtp-data-end-not-crlf");
	sd_expect_rule(&in, SMTP(HELLO, FROM, TO, "DATA\r\n", "hi\r\n.\n", "\r\n.\r\n", "QUIT\r\n"),
		       "smtp-data-end-not-crlf");
	sd_expect_rule(&in, SMTP(HELLO, FROM, TO, "DATA\r\n", "hi\n.\r\n", "\r\n.\r\n", "QUIT\r\n"),
		       "smtp-data-end-not-crlf");
	sd_expect_rule(&in, SMTP(HELLO, FROM, TO, "DATA\r\n", body, "\r\n.\r\n", "QUIT\r\n"),
		       "smtp-data-bare-lf");
}
END_TEST

START_TEST(test_message_without_date_or_from)
{
	sd_expect_rule(&in, SMTP(HELLO, FROM, TO, "DATA\r\n",
				 "From: s@sender.example\r\n\r\nhi\r\n.\r\n", "QUIT\r\n"),
		       "smtp-no-date");
	sd_expect_rule(&in, SMTP(HELLO, FROM, TO, "DATA\r\n",
				 "Date: Sat, 5 Dec 2026 10:00:00 +0000\r\n\r\nhi\r\n.\r\n",
				 "QUIT\r\n"),
		       "smtp-no-from");
	sd_expect_reply(&in, SMTP(HELLO, FROM, TO, "DATA\r\n", "hi\r\n.\r\n"), "250 2.0.0");
}
END_TEST

START_TEST(test_early_talker)
{
	sd_expect_rule(&in, SMTP_EARLY(HELLO, "QUIT\r\n"), "smtp-early-talker");
}
END_TEST

START_TEST(test_pipelining_without_extension)
{
	/* HELO offers no PIPELINING, and before EHLO's reply nothing is known */
	sd_expect_rule(&in, SMTP("HELO client.example\r\n", FROM TO, "QUIT\r\n"),
		       "smtp-pipelining-not-offered");
	sd_expect_rule(&in, SMTP(HELLO FROM, "QUIT\r\n"), "smtp-pipelining-not-offered");
}
END_TEST

START_TEST(test_pipelining_group_end)
{
	sd_expect_rule(&in, SMTP(HELLO, "NOOP\r\n" FROM, "QUIT\r\n"),
		       "smtp-pipelining-group-end");
	sd_expect_rule(&in, SMTP(HELLO, FROM TO "DATA\r\n" MSG, "QUIT\r\n"),
		       "smtp-data-before-354");
	sd_expect_reply(&in, SMTP(HELLO, FROM TO "DATA\r\n" MSG),
			"354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0");
}
END_TEST

/* RFC 2920 3.1: with PIPELINING, RCPT and DATA go out before the client
 * knows MAIL failed; their 503s are no mistake of the client's. */
START_TEST(test_pipelined_sequence_is_no_mistake)
{
	sd_expect_clean(&in, SMTP(HELLO, "MAIL FROM:<s@sender.example> FOO=1\r\n"
				  TO "DATA\r\n", "QUIT\r\n"));
	sd_expect_reply(&in, SMTP(HELLO, "MAIL FROM:<s@sender.example> FOO=1\r\n"
				  TO "DATA\r\n"), "555 5.5.4");
	/* but one command at a time, the same order is */
	sd_expect_rule(&in, SMTP(HELLO, "MAIL FROM:<s@sender.example> FOO=1\r\n",
				 TO, "QUIT\r\n"), "smtp-rcpt-before-mail");
}
END_TEST

START_TEST(test_no_quit)
{
	sd_expect_rule(&in, SMTP(HELLO), "smtp-no-quit");
	/* QUIT, or a session the server ended, is not the client's doing */
	sd_expect_clean(&in, SMTP(HELLO, "QUIT\r\n"));
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("strict-smtp");
	TCase *tc = tcase_create("rules");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_clean_session);
	tcase_add_test(tc, test_bare_lf);
	tcase_add_test(tc, test_bare_cr);
	tcase_add_test(tc, test_command_too_long);
	tcase_add_test(tc, test_text_line_too_long);
	tcase_add_test(tc, test_unknown_command);
	tcase_add_test(tc, test_helo_without_domain);
	tcase_add_test(tc, test_helo_not_a_domain);
	tcase_add_test(tc, test_mail_before_helo);
	tcase_add_test(tc, test_rcpt_before_mail);
	tcase_add_test(tc, test_data_before_rcpt);
	tcase_add_test(tc, test_path_without_brackets);
	tcase_add_test(tc, test_space_after_colon);
	tcase_add_test(tc, test_data_end_not_crlf);
	tcase_add_test(tc, test_message_without_date_or_from);
	tcase_add_test(tc, test_early_talker);
	tcase_add_test(tc, test_pipelining_without_extension);
	tcase_add_test(tc, test_pipelining_group_end);
	tcase_add_test(tc, test_pipelined_sequence_is_no_mistake);
	tcase_add_test(tc, test_no_quit);
	suite_add_tcase(s, tc);
	return s;
}
