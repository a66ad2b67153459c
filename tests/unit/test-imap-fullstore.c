/* IMAP on a store whose index cannot be written (issue 10): the session
 * driven as test-imap-session.c does, while a file size limit
 * (RLIMIT_FSIZE) makes every write of the index fail as a full disk does.
 * A SELECT must still open the folder, read-only, and say so. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "common/log.h"
#include "common/users.h"
#include "imapd/imap.h"
#include "maildir/user.h"
#include "tests/unit/maildir-helpers.h"
#include "tests/unit/unit.h"

static char *dir;
static struct config cfg;
static struct proto_io io;
static struct userdb *db;
static void *sess;
static char *got;	/* output of the last say(), malloc'd */

static void open_session(void)
{
	if (sess != NULL)
		imap_protocol.close(sess);
	io.close = false;
	io.mode = INPUT_LINE;
	io.bytes_sink = NULL;
	sess = imap_protocol.open(&io);
}

static void setup(void)
{
	char err[512], mail[4200];

	log_open(NULL, false);
	dir = unit_tmpdir();
	config_defaults(&cfg, dir);
	cfg.auth_max_failures = 3;
	cfg.max_literal_size = 100000;
	cfg.max_imap_line = 2000;
	db = userdb_open(dir, err, sizeof(err));
	ck_assert_msg(db != NULL, "%s", err);
	ck_assert_int_eq(userdb_add(db, "alice", "secret", err, sizeof(err)), 0);
	snprintf(mail, sizeof(mail), "%s/mail", dir);
	ck_assert_int_eq(maildir_user_create(mail, "alice", err, sizeof(err)), 0);
	io_init_test(&io, &cfg, SVC_IMAP);
	io.users = db;
	sess = NULL;
	got = NULL;
}

static void teardown(void)
{
	if (sess != NULL)
		imap_protocol.close(sess);
	free(got);
	io_free(&io);
	userdb_close(&db);
	config_free(&cfg);
	unit_rmtree(dir);
	free(dir);
}

static void drain(void)
{
	while (io.more_output && !io.close) {
		io.more_output = false;
		imap_protocol.resume_output(sess);
	}
}

/* Feeds wire bytes as conn.c would: lines in INPUT_LINE mode, exactly
 * io.bytes_wanted bytes (to io.bytes_sink when set) in INPUT_BYTES. */
static void feed(const char *data, size_t len)
{
	size_t pos = 0;

	while (!io.close) {
		if (io.mode == INPUT_BYTES) {
			size_t want = io.bytes_wanted;
			bool sink = io.bytes_sink != NULL;

			if (want > len - pos)
				break;	/* the test sends all of it later */
			if (sink)
				io.bytes_sink(io.bytes_sink_arg, data + pos, want);
			io.mode = INPUT_LINE;
			imap_protocol.bytes(sess, sink ? "" : data + pos,
					    sink ? 0 : want);
			pos += want;
		} else {
			const char *nl = memmem(data + pos, len - pos, "\r\n", 2);
			char *line;
			size_t n;

			if (nl == NULL)
				break;
			n = (size_t)(nl - (data + pos));
			line = strndup(data + pos, n);
			imap_protocol.line(sess, line, n, 0);
			free(line);
			pos += n + 2;
		}
		drain();
	}
}

/* Sends wire text and returns everything the session queued meanwhile. */
static const char *say(const char *wire)
{
	free(got);
	buf_clear(&io.out);
	feed(wire, strlen(wire));
	got = strdup(buf_cstr(&io.out));
	buf_clear(&io.out);
	return got;
}

static bool has(const char *s)
{
	return got != NULL && strstr(got, s) != NULL;
}

#define ASSERT_HAS(s) ck_assert_msg(has(s), "no \"%s\" in:\n%s", s, got)
#define ASSERT_NOT(s) ck_assert_msg(!has(s), "\"%s\" in:\n%s", s, got)

static void login(void)
{
	open_session();
	say("l1 LOGIN alice secret\r\n");
	ASSERT_HAS("l1 OK [CAPABILITY IMAP4rev1");
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

	snprintf(mail, sizeof(mail), "%s/mail", dir);
	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_B), 0);
	login();
	say("a SELECT INBOX\r\n");
	ASSERT_HAS("* 2 EXISTS");
	ASSERT_HAS("a OK [READ-WRITE]");
	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);

	/* The suite runs each test in its own process.  Check records a
	 * failed assertion in a file, which the limit would stop: the
	 * replies are kept and checked once it is lifted. */
	limit_file_size(1);
	select_reply = strdup(say("b SELECT INBOX\r\n"));
	fetch_reply = strdup(say("c FETCH 2 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\n"));
	store_reply = strdup(say("d STORE 1 +FLAGS (\\Deleted)\r\n"));
	expunge_reply = strdup(say("e EXPUNGE\r\n"));
	unlimit_file_size();

	free(got);
	got = select_reply;
	/* before: "b NO [CANNOT] Cannot open mailbox: index of INBOX: ..." */
	ASSERT_HAS("* 2 EXISTS");
	ASSERT_HAS("* OK [PERMANENTFLAGS ()]");
	ASSERT_HAS("b OK [READ-ONLY] SELECT completed, but changes cannot "
		   "be stored now");
	free(got);
	got = fetch_reply;
	ASSERT_HAS("Subject: two");
	ASSERT_HAS("c OK");
	free(got);
	got = store_reply;
	ASSERT_HAS("d NO [READ-ONLY]");
	free(got);
	got = expunge_reply;
	ASSERT_HAS("e NO [READ-ONLY]");

	say("f SELECT INBOX\r\n");
	ASSERT_HAS("* 3 EXISTS");
	ASSERT_HAS("f OK [READ-WRITE]");
	say("g STORE 1 +FLAGS (\\Deleted)\r\n");
	ASSERT_HAS("g OK");
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
