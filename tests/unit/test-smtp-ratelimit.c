/* Sending limits per authenticated user (smtpd/ratelimit.h): the table
 * (windows of an hour, limits of 0, many users), then sessions: 450 4.7.1
 * at MAIL after rate_messages_per_hour messages, 452 4.5.3 at RCPT past
 * rate_recipients_per_hour, counted over sessions, the MX port (no user)
 * not limited, and the session still serving afterwards. */
#include "smtpd/ratelimit.h"
#include "tests/unit/test-smtp-drv.h"

static struct drv D;

static void setup(void)
{
	rate_reset();
	drv_setup(&D);
}

static void teardown(void)
{
	drv_teardown(&D);
	rate_reset();
}

START_TEST(test_table)
{
	char name[32];

	ck_assert(rate_allows_message("alice", 2, 1000));
	rate_record("alice", 3, 1000);
	ck_assert(rate_allows_message("alice", 2, 1000));
	rate_record("alice", 1, 1500);
	ck_assert(!rate_allows_message("alice", 2, 1500));
	ck_assert(rate_allows_message("alice", 0, 1500));	/* 0: no limit */
	ck_assert(rate_allows_message("bob", 2, 1500));
	ck_assert(rate_allows_rcpts("alice", 5, 1, 1500));
	ck_assert(!rate_allows_rcpts("alice", 5, 2, 1500));
	ck_assert(!rate_allows_rcpts("bob", 5, 6, 1500));
	ck_assert(rate_allows_rcpts("alice", 0, 1000000, 1500));
	/* the window opened at 1000 lasts an hour */
	ck_assert(!rate_allows_message("alice", 2, 1000 + RATE_WINDOW - 1));
	ck_assert(rate_allows_message("alice", 2, 1000 + RATE_WINDOW));
	ck_assert(rate_allows_rcpts("alice", 5, 5, 1000 + RATE_WINDOW));
	rate_record("alice", 5, 1000 + RATE_WINDOW);
	ck_assert(!rate_allows_rcpts("alice", 5, 1, 1000 + RATE_WINDOW));
	/* many users: slots whose hour is over are reused */
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "user%d", i);
		rate_record(name, 1, 10000 + i);
		ck_assert(!rate_allows_message(name, 1, 10000 + i));
	}
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "late%d", i);
		rate_record(name, 1, 20000 + i);
	}
	ck_assert(rate_allows_message("user5", 1, 20000));
	ck_assert(!rate_allows_message("late5", 1, 20005));
}
END_TEST

/* The store: counts written while it is open come back at the next open
 * while their hour lasts; expired ones are dropped. */
START_TEST(test_store_across_restart)
{
	char *dir = unit_tmpdir(), err[256];
	time_t t0 = 1800000000;

	ck_assert_msg(rate_store_open(dir, t0, err, sizeof(err)) == 0, "%s", err);
	rate_record("alice", 3, t0);
	rate_record("alice", 2, t0 + 10);
	rate_record("bob", 1, t0 + 20);
	rate_store_close();
	rate_reset();
	ck_assert(rate_allows_message("alice", 2, t0 + 30));
	ck_assert_msg(rate_store_open(dir, t0 + 30, err, sizeof(err)) == 0, "%s", err);
	ck_assert(!rate_allows_message("alice", 2, t0 + 30));
	ck_assert(rate_allows_rcpts("alice", 6, 1, t0 + 30));
	ck_assert(!rate_allows_rcpts("alice", 5, 1, t0 + 30));
	ck_assert(!rate_allows_message("bob", 1, t0 + 30));
	ck_assert(rate_allows_message("bob", 2, t0 + 30));
	/* a new window for alice replaces the old one in the store */
	rate_record("alice", 1, t0 + RATE_WINDOW);
	rate_store_close();
	rate_reset();
	ck_assert(rate_store_open(dir, t0 + RATE_WINDOW + 25, err, sizeof(err)) == 0);
	ck_assert(!rate_allows_message("alice", 1, t0 + RATE_WINDOW + 25));
	ck_assert(rate_allows_message("alice", 2, t0 + RATE_WINDOW + 25));
	ck_assert(rate_allows_message("bob", 1, t0 + RATE_WINDOW + 25)); /* over */
	rate_store_close();
	rate_reset();
	unit_rmtree(dir);
	free(dir);
}
END_TEST

static void submission(void)
{
	drv_open(&D, SVC_SUBMISSIONS);
	D.io.tls = true;
	drv_output(&D);
	drv_send(&D, "EHLO x\r\n");
	ck_reply(drv_send(&D, "AUTH PLAIN AGFsaWNlAGFsaWNlLXNlY3JldC0x\r\n"), "235 2.7.0");
}

#define BODY "Subject: x\r\nFrom: alice@lab.test\r\n\r\nHello.\r\n.\r\n"

static void send_one(const char *rcpt)
{
	char line[128];

	ck_reply(drv_send(&D, "MAIL FROM:<alice@lab.test>\r\n"), "250 2.1.0");
	snprintf(line, sizeof(line), "RCPT TO:<%s>\r\n", rcpt);
	ck_reply(drv_send(&D, line), "250 2.1.5");
	ck_reply(drv_send(&D, "DATA\r\n"), "354 ");
	ck_reply(drv_send(&D, BODY), "250 2.0.0");
}

START_TEST(test_messages_per_hour)
{
	D.cfg.rate_messages_per_hour = 2;
	submission();
	send_one("bob@lab.test");
	drv_close(&D);
	/* a new session of the same user counts on */
	submission();
	send_one("bob@lab.test");
	ck_assert_str_eq(drv_send(&D, "MAIL FROM:<alice@lab.test>\r\n"),
			 "450 4.7.1 User alice has sent 2 messages this hour, "
			 "the limit; try again later\r\n");
	ck_reply(drv_send(&D, "RCPT TO:<bob@lab.test>\r\n"), "503 ");
	ck_reply(drv_send(&D, "NOOP\r\n"), "250 ");
	ck_assert_int_eq(drv_count(&D, "bob", "new"), 2);
	drv_close(&D);
	/* the MX port has no user: not limited */
	drv_open(&D, SVC_SMTP);
	drv_output(&D);
	drv_send(&D, "EHLO x\r\n");
	ck_reply(drv_send(&D, "MAIL FROM:<a@example.com>\r\n"), "250 2.1.0");
	ck_reply(drv_send(&D, "RCPT TO:<bob@lab.test>\r\n"), "250 2.1.5");
	ck_reply(drv_send(&D, "DATA\r\n"), "354 ");
	ck_reply(drv_send(&D, BODY), "250 2.0.0");
	ck_assert_int_eq(drv_count(&D, "bob", "new"), 3);
}
END_TEST

START_TEST(test_recipients_per_hour)
{
	D.cfg.rate_recipients_per_hour = 3;
	submission();
	ck_reply(drv_send(&D, "MAIL FROM:<alice@lab.test>\r\n"), "250 2.1.0");
	ck_reply(drv_send(&D, "RCPT TO:<bob@lab.test>\r\n"), "250 2.1.5");
	ck_reply(drv_send(&D, "RCPT TO:<alice@lab.test>\r\n"), "250 2.1.5");
	ck_reply(drv_send(&D, "DATA\r\n"), "354 ");
	ck_reply(drv_send(&D, BODY), "250 2.0.0");
	ck_reply(drv_send(&D, "MAIL FROM:<alice@lab.test>\r\n"), "250 2.1.0");
	ck_reply(drv_send(&D, "RCPT TO:<bob@lab.test>\r\n"), "250 2.1.5");
	ck_assert_str_eq(drv_send(&D, "RCPT TO:<alice@lab.test>\r\n"),
			 "452 4.5.3 User alice has reached 3 recipients this hour; "
			 "try the rest later\r\n");
	/* the recipient it had goes */
	ck_reply(drv_send(&D, "DATA\r\n"), "354 ");
	ck_reply(drv_send(&D, BODY), "250 2.0.0");
	ck_assert_int_eq(drv_count(&D, "bob", "new"), 2);
	ck_assert_int_eq(drv_count(&D, "alice", "new"), 1);
	ck_reply(drv_send(&D, "MAIL FROM:<alice@lab.test>\r\n"), "250 2.1.0");
	ck_reply(drv_send(&D, "RCPT TO:<bob@lab.test>\r\n"), "452 4.5.3");
	ck_reply(drv_send(&D, "RSET\r\n"), "250 ");
	ck_reply(drv_send(&D, "NOOP\r\n"), "250 ");
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("smtp-ratelimit");
	TCase *tc = tcase_create("ratelimit");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_table);
	tcase_add_test(tc, test_store_across_restart);
	tcase_add_test(tc, test_messages_per_hour);
	tcase_add_test(tc, test_recipients_per_hour);
	suite_add_tcase(s, tc);
	return s;
}
