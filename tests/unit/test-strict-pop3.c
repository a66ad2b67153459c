/* Strict mode in POP3 (common/strict.h, pop3d/strict.c): each rule a
 * client can break is named in the trace with its RFC section, and the
 * replies are the same as with strict mode off. */
#include <dirent.h>
#include <string.h>

#include "pop3d/pop3.h"
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

#define POP3(...) \
	(&(struct sd_scenario){ &pop3_protocol, SVC_POP3, false, { __VA_ARGS__, NULL } })

#define LOGIN "USER alice\r\n", "PASS " SD_PASSWORD "\r\n"

START_TEST(test_clean_session)
{
	sd_expect_clean(&in, POP3(LOGIN, "STAT\r\n", "LIST\r\n", "RETR 1\r\n",
				  "QUIT\r\n"));
	/* PIPELINING is offered (RFC 2449 6.6) */
	sd_expect_clean(&in, POP3("USER alice\r\nPASS " SD_PASSWORD "\r\nSTAT\r\n",
				  "QUIT\r\n"));
}
END_TEST

START_TEST(test_command_before_login)
{
	sd_expect_rule(&in, POP3("RETR 1\r\n", "QUIT\r\n"), "pop3-not-logged-in");
	sd_expect_rule(&in, POP3("STAT\r\n", "QUIT\r\n"), "pop3-not-logged-in");
	sd_expect_reply(&in, POP3("STAT\r\n"),
			"-ERR STAT is not valid in the AUTHORIZATION state");
}
END_TEST

START_TEST(test_login_command_after_login)
{
	sd_expect_rule(&in, POP3(LOGIN, "USER alice\r\n", "QUIT\r\n"),
		       "pop3-already-logged-in");
}
END_TEST

START_TEST(test_pass_without_user)
{
	sd_expect_rule(&in, POP3("PASS " SD_PASSWORD "\r\n", "QUIT\r\n"),
		       "pop3-pass-without-user");
	sd_expect_reply(&in, POP3("PASS x\r\n"), "-ERR PASS needs a USER command first");
}
END_TEST

START_TEST(test_unknown_command)
{
	sd_expect_rule(&in, POP3("HELO\r\n", "QUIT\r\n"), "pop3-unknown-command");
}
END_TEST

START_TEST(test_bare_lf)
{
	/* answered as usual: `nc` without -C sends bare LF */
	sd_expect_rule(&in, POP3("USER alice\n", "QUIT\r\n"), "pop3-bare-lf");
	sd_expect_reply(&in, POP3("USER alice\n"), "+OK");
}
END_TEST

START_TEST(test_line_too_long)
{
	char line[300];

	memset(line, 'a', sizeof(line));
	memcpy(line, "USER ", 5);
	memcpy(line + sizeof(line) - 3, "\r\n", 3);
	sd_expect_rule(&in, POP3(line, "QUIT\r\n"), "pop3-line-too-long");
	sd_expect_reply(&in, POP3(line), "-ERR line too long");
}
END_TEST

START_TEST(test_no_such_message)
{
	sd_expect_rule(&in, POP3(LOGIN, "RETR 7\r\n", "QUIT\r\n"), "pop3-no-such-message");
	sd_expect_rule(&in, POP3(LOGIN, "LIST 0\r\n", "QUIT\r\n"), "pop3-no-such-message");
	sd_expect_reply(&in, POP3(LOGIN, "RETR 7\r\n"), "-ERR no such message");
}
END_TEST

START_TEST(test_deleted_message)
{
	sd_expect_rule(&in, POP3(LOGIN, "DELE 1\r\n", "RETR 1\r\n", "RSET\r\n", "QUIT\r\n"),
		       "pop3-message-deleted");
}
END_TEST

/* RFC 2449 6.6: a pipelined STAT after a PASS that fails finds the
 * AUTHORIZATION state; the client could not know. */
START_TEST(test_pipelined_state_is_no_mistake)
{
	sd_expect_clean(&in, POP3("USER alice\r\nPASS wrong\r\nSTAT\r\n", "QUIT\r\n"));
	sd_expect_rule(&in, POP3("USER alice\r\n", "PASS wrong\r\n", "STAT\r\n",
				 "QUIT\r\n"), "pop3-not-logged-in");
}
END_TEST

START_TEST(test_no_quit)
{
	sd_expect_rule(&in, POP3(LOGIN, "STAT\r\n"), "pop3-no-quit");
	sd_expect_clean(&in, POP3(LOGIN, "QUIT\r\n"));
}
END_TEST

START_TEST(test_no_quit_keeps_deleted_messages)
{
	static const char *const subs[] = { "new", "cur" };
	int files = 0;

	sd_expect_rule(&in, POP3(LOGIN, "DELE 1\r\n"), "pop3-no-quit-dele-lost");
	/* and that is what happened: the message is still there */
	for (size_t i = 0; i < 2; i++) {
		struct buf d = BUF_INIT(BUF_UNLIMITED);
		struct dirent *e;
		DIR *dir;

		buf_printf(&d, "%s/alice/%s", in.mail_root, subs[i]);
		dir = opendir(buf_cstr(&d));
		ck_assert_ptr_nonnull(dir);
		while ((e = readdir(dir)) != NULL)
			files += e->d_name[0] != '.';
		closedir(dir);
		buf_free(&d);
	}
	ck_assert_int_eq(files, 1);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("strict-pop3");
	TCase *tc = tcase_create("rules");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_clean_session);
	tcase_add_test(tc, test_command_before_login);
	tcase_add_test(tc, test_login_command_after_login);
	tcase_add_test(tc, test_pass_without_user);
	tcase_add_test(tc, test_unknown_command);
	tcase_add_test(tc, test_bare_lf);
	tcase_add_test(tc, test_line_too_long);
	tcase_add_test(tc, test_no_such_message);
	tcase_add_test(tc, test_deleted_message);
	tcase_add_test(tc, test_pipelined_state_is_no_mistake);
	tcase_add_test(tc, test_no_quit);
	tcase_add_test(tc, test_no_quit_keeps_deleted_messages);
	suite_add_tcase(s, tc);
	return s;
}
