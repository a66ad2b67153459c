/* Strict mode in IMAP (common/strict.h, imapd/strict.c): each rule a
 * client can break is named in the trace with its RFC section, and the
 * replies are the same as with strict mode off. */
#include <string.h>

#include "imapd/imap.h"
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

#define IMAP(...) \
	(&(struct sd_scenario){ &imap_protocol, SVC_IMAP, false, { __VA_ARGS__, NULL } })

#define LOGIN "a1 LOGIN alice " SD_PASSWORD "\r\n"
#define SELECT "a2 SELECT INBOX\r\n"
#define LOGOUT "z LOGOUT\r\n"

START_TEST(test_clean_session)
{
	sd_expect_clean(&in, IMAP("a0 CAPABILITY\r\n", LOGIN, SELECT,
				  "a3 FETCH 1 (FLAGS)\r\n", "a4 IDLE\r\n",
				  "DONE\r\n", LOGOUT));
	/* a synchronising literal sent after the "+" */
	sd_expect_clean(&in, IMAP("a1 LOGIN {5}\r\n", "alice {10}\r\n",
				  SD_PASSWORD "\r\n", LOGOUT));
	/* LITERAL+: no wait needed */
	sd_expect_clean(&in, IMAP("a1 LOGIN {5+}\r\nalice {10+}\r\n" SD_PASSWORD "\r\n",
				  LOGOUT));
}
END_TEST

START_TEST(test_command_without_tag)
{
	sd_expect_rule(&in, IMAP("LOGIN alice " SD_PASSWORD "\r\n", LOGOUT), "imap-no-tag");
	sd_expect_rule(&in, IMAP("CAPABILITY\r\n", LOGOUT), "imap-no-tag");
	sd_expect_reply(&in, IMAP("CAPABILITY\r\n"), "CAPABILITY BAD Missing command");
}
END_TEST

START_TEST(test_bad_tag)
{
	sd_expect_rule(&in, IMAP("a*1 NOOP\r\n", LOGOUT), "imap-bad-tag");
	sd_expect_rule(&in, IMAP("+ NOOP\r\n", LOGOUT), "imap-bad-tag");
	sd_expect_rule(&in, IMAP(" NOOP\r\n", LOGOUT), "imap-bad-tag");
	sd_expect_reply(&in, IMAP("+ NOOP\r\n"), "* BAD Invalid tag");
}
END_TEST

START_TEST(test_unknown_command)
{
	sd_expect_rule(&in, IMAP("a1 HELLO\r\n", LOGOUT), "imap-unknown-command");
}
END_TEST

START_TEST(test_literal_without_waiting)
{
	sd_expect_rule(&in, IMAP("a1 LOGIN {5}\r\nalice {10}\r\n" SD_PASSWORD "\r\n", LOGOUT),
		       "imap-literal-no-wait");
	sd_expect_reply(&in, IMAP("a1 LOGIN {5}\r\nalice {10}\r\n" SD_PASSWORD "\r\n"),
			"a1 OK");
}
END_TEST

START_TEST(test_bare_lf)
{
	/* the line goes on to the CRLF; then it is refused */
	sd_expect_rule(&in, IMAP("a1 NOOP\n", "\r\n", LOGOUT), "imap-bare-lf");
	sd_expect_reply(&in, IMAP("a1 NOOP\n", "\r\n"), "a1 BAD NUL, CR or LF");
}
END_TEST

START_TEST(test_command_before_login)
{
	sd_expect_rule(&in, IMAP("a1 SELECT INBOX\r\n", LOGOUT), "imap-not-authenticated");
	sd_expect_rule(&in, IMAP("a1 FETCH 1 FLAGS\r\n", LOGOUT), "imap-not-authenticated");
	sd_expect_reply(&in, IMAP("a1 SELECT INBOX\r\n"), "a1 BAD Command not valid before login");
}
END_TEST

START_TEST(test_fetch_before_select)
{
	sd_expect_rule(&in, IMAP(LOGIN, "a2 FETCH 1 FLAGS\r\n", LOGOUT), "imap-not-selected");
	sd_expect_reply(&in, IMAP(LOGIN, "a2 FETCH 1 FLAGS\r\n"),
			"a2 BAD Command not valid in this state");
}
END_TEST

START_TEST(test_login_twice)
{
	sd_expect_rule(&in, IMAP(LOGIN, LOGIN, LOGOUT), "imap-already-authenticated");
}
END_TEST

START_TEST(test_done_outside_idle)
{
	sd_expect_rule(&in, IMAP(LOGIN, "DONE\r\n", LOGOUT), "imap-done-outside-idle");
	sd_expect_reply(&in, IMAP(LOGIN, "DONE\r\n"), "DONE BAD Missing command");
}
END_TEST

/* RFC 3501 5.5: a pipelined SELECT after a LOGIN that fails finds the
 * Not Authenticated state; the client could not know. */
START_TEST(test_pipelined_state_is_no_mistake)
{
	sd_expect_clean(&in, IMAP("a1 LOGIN alice wrong\r\na2 SELECT INBOX\r\n", LOGOUT));
	sd_expect_rule(&in, IMAP("a1 LOGIN alice wrong\r\n", "a2 SELECT INBOX\r\n",
				 LOGOUT), "imap-not-authenticated");
}
END_TEST

START_TEST(test_no_logout)
{
	sd_expect_rule(&in, IMAP(LOGIN, SELECT), "imap-no-logout");
	sd_expect_clean(&in, IMAP(LOGIN, LOGOUT));
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("strict-imap");
	TCase *tc = tcase_create("rules");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_clean_session);
	tcase_add_test(tc, test_command_without_tag);
	tcase_add_test(tc, test_bad_tag);
	tcase_add_test(tc, test_unknown_command);
	tcase_add_test(tc, test_literal_without_waiting);
	tcase_add_test(tc, test_bare_lf);
	tcase_add_test(tc, test_command_before_login);
	tcase_add_test(tc, test_fetch_before_select);
	tcase_add_test(tc, test_login_twice);
	tcase_add_test(tc, test_done_outside_idle);
	tcase_add_test(tc, test_pipelined_state_is_no_mistake);
	tcase_add_test(tc, test_no_logout);
	suite_add_tcase(s, tc);
	return s;
}
