/* IMAP on a store whose index cannot be written (issue 10): the session
 * driven as test-imap-session.c does, while a file size limit
 * (RLIMIT_FSIZE) makes every write of the index fail as a full disk does.
 * A SELECT must still open the folder, read-only, and say so. */
#include <signal.h>
#include <sys/resource.h>

#include "tests/unit/imap-client.h"
#include "tests/unit/maildir-helpers.h"

static struct instance inst;
static struct client a;

static void setup(void)
{
	instance_create(&inst);
	inst.cfg.auth_max_failures = 3;
	inst.cfg.max_literal_size = 100000;
	inst.cfg.max_imap_line = 2000;
	memset(&a, 0, sizeof(a));
}

static void teardown(void)
{
	if (a.sess != NULL)
		client_close(&a);
	instance_free(&inst);
}

static void login(void)
{
	client_open(&a, &inst);
	say(&a, "l1 LOGIN alice secret\r\n");
	ASSERT_HAS(&a, "l1 OK [CAPABILITY IMAP4rev1");
}

static void limit_file_size(rlim_t bytes)
{
	struct rlimit rl;

	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &rl);
	rl.rlim_cur = bytes;
	setrlimit(RLIMIT_FSIZE, &rl);
}

static void unlimit_file_size(void)
{
	struct rlimit rl;

	getrlimit(RLIMIT_FSIZE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_FSIZE, &rl);
}

START_TEST(test_select_read_only_when_index_unwritable)
{
	char mail[4200], *select_reply, *fetch_reply, *store_reply;
	char *expunge_reply;

	snprintf(mail, sizeof(mail), "%s/mail", inst.dir);
	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_B), 0);
	login();
	say(&a, "a SELECT INBOX\r\n");
	ASSERT_HAS(&a, "* 2 EXISTS");
	ASSERT_HAS(&a, "a OK [READ-WRITE]");
	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);

	/* The suite runs each test in its own process.  Check records a
	 * failed assertion in a file, which the limit would stop: the
	 * replies are kept and checked once it is lifted. */
	limit_file_size(1);
	select_reply = strdup(say(&a, "b SELECT INBOX\r\n"));
	fetch_reply = strdup(say(&a, "c FETCH 2 "
				 "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\n"));
	store_reply = strdup(say(&a, "d STORE 1 +FLAGS (\\Deleted)\r\n"));
	expunge_reply = strdup(say(&a, "e EXPUNGE\r\n"));
	unlimit_file_size();

	free(a.got);
	a.got = select_reply;
	/* before: "b NO [CANNOT] Cannot open mailbox: index of INBOX: ..." */
	ASSERT_HAS(&a, "* 2 EXISTS");
	ASSERT_HAS(&a, "* OK [PERMANENTFLAGS ()]");
	ASSERT_HAS(&a, "b OK [READ-ONLY] SELECT completed, but changes cannot "
		       "be stored now");
	free(a.got);
	a.got = fetch_reply;
	ASSERT_HAS(&a, "Subject: two");
	ASSERT_HAS(&a, "c OK");
	free(a.got);
	a.got = store_reply;
	ASSERT_HAS(&a, "d NO [READ-ONLY]");
	free(a.got);
	a.got = expunge_reply;
	ASSERT_HAS(&a, "e NO [READ-ONLY]");

	say(&a, "f SELECT INBOX\r\n");
	ASSERT_HAS(&a, "* 3 EXISTS");
	ASSERT_HAS(&a, "f OK [READ-WRITE]");
	say(&a, "g STORE 1 +FLAGS (\\Deleted)\r\n");
	ASSERT_HAS(&a, "g OK");
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("imap-fullstore");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_select_read_only_when_index_unwritable);
	suite_add_tcase(s, tc);
	return s;
}
