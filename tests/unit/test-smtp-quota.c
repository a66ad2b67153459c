/* SMTP and quotas (smtpd/quota.h): 452 4.2.2 at RCPT for a full mailbox
 * (or one the declared SIZE would overfill), at the end of DATA only
 * when the message fits in none of its mailboxes; a message for a full
 * and a roomy mailbox goes to both; submission relaying is not counted. */
#include "common/quota.h"
#include "tests/unit/test-smtp-drv.h"

static struct drv D;

static void setup(void)
{
	drv_setup(&D);
}

static void teardown(void)
{
	drv_teardown(&D);
}

static void limit(const char *user, uint64_t storage, uint64_t messages)
{
	struct user_quota q = { storage, messages };
	char err[256];

	ck_assert_int_eq(userdb_set_quota(D.users, user, &q, err, sizeof(err)), 0);
}

static void mx_mail(void)
{
	drv_open(&D, SVC_SMTP);
	drv_output(&D);
	ck_reply(drv_send(&D, "EHLO client.example\r\n"), "250-mx.lab.test Hello");
	ck_reply(drv_send(&D, "MAIL FROM:<a@example.com>\r\n"), "250 2.1.0");
}

/* Messages in the user's INBOX (the quota check syncs new/ to cur/). */
static int stored(const char *user)
{
	return drv_count(&D, user, "new") + drv_count(&D, user, "cur");
}

/* A body of about n bytes. */
static char *body_of(size_t n)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);

	buf_puts(&b, "Subject: fill\r\n\r\n");
	while (b.len < n)
		buf_puts(&b, "0123456789012345678901234567890123456789\r\n");
	buf_puts(&b, ".\r\n");
	return buf_steal(&b);
}

START_TEST(test_rcpt_full)
{
	char *big = body_of(3000);

	limit("alice", 4096, 0);
	mx_mail();
	ck_reply(drv_send(&D, "RCPT TO:<alice@lab.test>\r\n"), "250 2.1.5");
	ck_reply(drv_send(&D, "DATA\r\n"), "354");
	ck_reply(drv_send(&D, big), "250 2.0.0");
	ck_assert_int_eq(stored("alice"), 1);
	/* 3000 of 4096 used: a 2000-byte SIZE does not fit, 1000 does */
	ck_reply(drv_send(&D, "MAIL FROM:<a@example.com> SIZE=2000\r\n"), "250");
	ck_reply(drv_send(&D, "RCPT TO:<alice@lab.test>\r\n"),
		 "452 4.2.2 <alice@lab.test>: Mailbox full");
	ck_reply(drv_send(&D, "RSET\r\n"), "250");
	ck_reply(drv_send(&D, "MAIL FROM:<a@example.com> SIZE=500\r\n"), "250");
	ck_reply(drv_send(&D, "RCPT TO:<alice@lab.test>\r\n"), "250 2.1.5");
	/* the message is bigger than it said: refused at the end */
	ck_reply(drv_send(&D, "DATA\r\n"), "354");
	ck_reply(drv_send(&D, big), "452 4.2.2 Mailbox full");
	ck_assert_int_eq(stored("alice"), 1);
	ck_assert_int_eq(drv_count(&D, "alice", "tmp"), 0);
	/* the session goes on: bob has no limit */
	ck_reply(drv_send(&D, "MAIL FROM:<a@example.com>\r\n"), "250");
	ck_reply(drv_send(&D, "RCPT TO:<bob@lab.test>\r\n"), "250 2.1.5");
	ck_reply(drv_send(&D, "DATA\r\n"), "354");
	ck_reply(drv_send(&D, big), "250 2.0.0");
	ck_assert_int_eq(stored("bob"), 1);
	free(big);
}
END_TEST

/* One reply covers both recipients: the message goes to both, alice
 * over her limit by this one message; her next RCPT is refused. */
START_TEST(test_data_mixed_recipients)
{
	char *big = body_of(3000);

	limit("alice", 2048, 0);
	mx_mail();
	ck_reply(drv_send(&D, "RCPT TO:<alice@lab.test>\r\n"), "250 2.1.5");
	ck_reply(drv_send(&D, "RCPT TO:<bob@lab.test>\r\n"), "250 2.1.5");
	ck_reply(drv_send(&D, "DATA\r\n"), "354");
	ck_reply(drv_send(&D, big), "250 2.0.0");
	ck_assert_int_eq(stored("alice"), 1);
	ck_assert_int_eq(stored("bob"), 1);
	ck_reply(drv_send(&D, "MAIL FROM:<a@example.com>\r\n"), "250");
	ck_reply(drv_send(&D, "RCPT TO:<alice@lab.test>\r\n"), "452 4.2.2");
	ck_reply(drv_send(&D, "RCPT TO:<bob@lab.test>\r\n"), "250 2.1.5");
	ck_reply(drv_send(&D, "QUIT\r\n"), "221");
	free(big);
}
END_TEST

START_TEST(test_message_count)
{
	char *small = body_of(10);

	limit("bob", 0, 1);
	mx_mail();
	ck_reply(drv_send(&D, "RCPT TO:<bob@lab.test>\r\n"), "250 2.1.5");
	ck_reply(drv_send(&D, "DATA\r\n"), "354");
	ck_reply(drv_send(&D, small), "250 2.0.0");
	ck_reply(drv_send(&D, "MAIL FROM:<a@example.com>\r\n"), "250");
	ck_reply(drv_send(&D, "RCPT TO:<bob+tag@lab.test>\r\n"), "452 4.2.2");
	/* BDAT takes the same path to the end */
	limit("bob", 0, 2);
	ck_reply(drv_send(&D, "RCPT TO:<bob@lab.test>\r\n"), "250 2.1.5");
	limit("bob", 0, 1);
	ck_reply(drv_send(&D, "BDAT 12 LAST\r\nSubject: x\r\n"), "452 4.2.2");
	ck_assert_int_eq(stored("bob"), 1);
	free(small);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("smtp-quota");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_rcpt_full);
	tcase_add_test(tc, test_data_mixed_recipients);
	tcase_add_test(tc, test_message_count);
	suite_add_tcase(s, tc);
	return s;
}
