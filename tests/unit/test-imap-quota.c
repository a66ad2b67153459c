/* IMAP QUOTA (RFC 9208) through a test session on a temporary instance:
 * GETQUOTAROOT, GETQUOTA, SETQUOTA, [OVERQUOTA] on APPEND and COPY (not
 * MOVE), STATUS DELETED and DELETED-STORAGE, and bad input. */
#include "common/quota.h"
#include "tests/unit/imap-client.h"

static struct instance inst;
static struct client a;

static const char msg1[] =
	"From: Alice <alice@lab.test>\r\n"
	"Subject: one\r\n"
	"\r\n"
	"first\r\n";

static void setup(void)
{
	instance_start(&inst, &a);
}

static void teardown(void)
{
	instance_stop(&inst, &a);
}

static void set_limits(uint64_t storage, uint64_t messages)
{
	struct user_quota q = { storage, messages };
	char err[256];

	ck_assert_int_eq(userdb_set_quota(inst.db, "alice", &q, err,
					   sizeof(err)), 0);
}

/* A message of exactly n bytes. */
static char *message_of(size_t n)
{
	static const char head[] = "Subject: filler\r\n\r\n";
	char *m = malloc(n + 1);

	memcpy(m, head, sizeof(head) - 1);
	memset(m + sizeof(head) - 1, 'x', n - (sizeof(head) - 1));
	m[n - 2] = '\r';
	m[n - 1] = '\n';
	m[n] = '\0';
	return m;
}

START_TEST(test_capability_and_no_limits)
{
	say(&a, "c CAPABILITY\r\n");
	ASSERT_HAS(&a, " QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE");
	/* without limits the mailbox has no quota root */
	say(&a, "q GETQUOTAROOT INBOX\r\n");
	ck_assert_str_eq(a.got, "* QUOTAROOT INBOX\r\n"
			 "q OK GETQUOTAROOT completed\r\n");
	say(&a, "g GETQUOTA \"\"\r\n");
	ASSERT_HAS(&a, "g NO [NONEXISTENT]");
	append(&a, "INBOX", "", msg1);
}
END_TEST

START_TEST(test_storage_limit)
{
	char *big = message_of(2000), line[128];

	set_limits(2048, 0);
	append(&a, "INBOX", "", msg1);
	say(&a, "q GETQUOTAROOT inbox\r\n");
	ck_assert_str_eq(a.got, "* QUOTAROOT INBOX \"\"\r\n"
			 "* QUOTA \"\" (STORAGE 1 2)\r\n"
			 "q OK GETQUOTAROOT completed\r\n");
	say(&a, "g GETQUOTA \"\"\r\n");
	ck_assert_str_eq(a.got, "* QUOTA \"\" (STORAGE 1 2)\r\n"
			 "g OK GETQUOTA completed\r\n");
	/* 2000 more bytes do not fit: refused, nothing stored */
	snprintf(line, sizeof(line), "ap APPEND INBOX {%zu}\r\n", strlen(big));
	say(&a, line);
	say(&a, big);
	say(&a, "\r\n");
	ASSERT_HAS(&a, "ap NO [OVERQUOTA] Quota exceeded");
	say(&a, "s STATUS INBOX (MESSAGES)\r\n");
	ASSERT_HAS(&a, "* STATUS INBOX (MESSAGES 1)");
	/* a copy counts again: the second copy passes the limit */
	say(&a, "x SELECT INBOX\r\n");
	ASSERT_HAS(&a, "x OK");
	set_limits(strlen(msg1) * 2 + 10, 0);
	say(&a, "c1 COPY 1 Trash\r\n");
	ASSERT_HAS(&a, "c1 OK [COPYUID");
	say(&a, "c2 COPY 1 Trash\r\n");
	ASSERT_HAS(&a, "c2 NO [OVERQUOTA]");
	say(&a, "s STATUS Trash (MESSAGES)\r\n");
	ASSERT_HAS(&a, "* STATUS Trash (MESSAGES 1)");
	/* over the limit, MOVE still works (it uses no more room) */
	set_limits(1024, 0);
	say(&a, "m MOVE 1 Junk\r\n");
	ASSERT_HAS(&a, "m OK MOVE completed");
	/* deleting gives the room back */
	say(&a, "y SELECT Trash\r\n");
	say(&a, "d STORE 1 +FLAGS.SILENT (\\Deleted)\r\n");
	say(&a, "s STATUS Trash (DELETED DELETED-STORAGE MESSAGES)\r\n");
	ASSERT_HAS(&a, "* STATUS Trash (DELETED 1 DELETED-STORAGE 1 MESSAGES 1)");
	say(&a, "e EXPUNGE\r\n");
	ASSERT_HAS(&a, "e OK");
	set_limits(2048, 0);
	append(&a, "INBOX", "", msg1);
	free(big);
}
END_TEST

START_TEST(test_message_limit)
{
	set_limits(0, 2);
	append(&a, "INBOX", "", msg1);
	append(&a, "Sent", "(\\Seen) ", msg1);
	say(&a, "q GETQUOTAROOT Sent\r\n");
	ASSERT_HAS(&a, "* QUOTA \"\" (MESSAGE 2 2)");
	say(&a, "ap APPEND INBOX {8}\r\n");
	say(&a, "x: y\r\n\r\n");
	say(&a, "\r\n");
	ASSERT_HAS(&a, "ap NO [OVERQUOTA] Quota exceeded: 2 of 2 messages");
	set_limits(1 << 20, 10);
	say(&a, "q GETQUOTA \"\"\r\n");
	ASSERT_HAS(&a, "* QUOTA \"\" (STORAGE 1 1024 MESSAGE 2 10)");
}
END_TEST

/* Bad input: each gets its reply and the session goes on. */
START_TEST(test_bad_input)
{
	say(&a, "s1 SETQUOTA \"\" (STORAGE 100)\r\n");
	ASSERT_HAS(&a, "s1 NO [NOPERM]");
	say(&a, "s2 SETQUOTA \"\" ()\r\n");
	ASSERT_HAS(&a, "s2 NO [NOPERM]");
	say(&a, "s3 SETQUOTA \"\" (STORAGE 99999999999999999999)\r\n");
	ASSERT_HAS(&a, "s3 BAD");
	say(&a, "s4 SETQUOTA \"\" (STORAGE -1)\r\n");
	ASSERT_HAS(&a, "s4 BAD");
	say(&a, "s5 SETQUOTA \"\" STORAGE 1\r\n");
	ASSERT_HAS(&a, "s5 BAD");
	say(&a, "s6 SETQUOTA\r\n");
	ASSERT_HAS(&a, "s6 BAD");
	say(&a, "g1 GETQUOTA\r\n");
	ASSERT_HAS(&a, "g1 BAD");
	say(&a, "g2 GETQUOTA \"other\"\r\n");
	ASSERT_HAS(&a, "g2 NO [NONEXISTENT]");
	say(&a, "r1 GETQUOTAROOT\r\n");
	ASSERT_HAS(&a, "r1 BAD");
	say(&a, "r2 GETQUOTAROOT Nope\r\n");
	ASSERT_HAS(&a, "r2 NO [NONEXISTENT]");
	say(&a, "r3 GETQUOTAROOT INBOX extra\r\n");
	ASSERT_HAS(&a, "r3 BAD");
	say(&a, "t STATUS INBOX (DELETED-STORAGES)\r\n");
	ASSERT_HAS(&a, "t BAD");
	say(&a, "n NOOP\r\n");
	ck_assert_str_eq(a.got, "n OK NOOP completed\r\n");
	/* not before login */
	client_close(&a);
	client_open(&a, &inst);
	say(&a, "g GETQUOTAROOT INBOX\r\n");
	ASSERT_HAS(&a, "g BAD");
}
END_TEST

Suite *unit_suite(void)
{
	Suite *suite = suite_create("imap-quota");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_capability_and_no_limits);
	tcase_add_test(tc, test_storage_limit);
	tcase_add_test(tc, test_message_limit);
	tcase_add_test(tc, test_bad_input);
	suite_add_tcase(suite, tc);
	return suite;
}
