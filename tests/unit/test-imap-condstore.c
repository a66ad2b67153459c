/* CONDSTORE and QRESYNC (RFC 7162) through test sessions on a temporary
 * instance: MODSEQ, HIGHESTMODSEQ, CHANGEDSINCE, UNCHANGEDSINCE and
 * [MODIFIED], SEARCH MODSEQ, ENABLE QRESYNC, SELECT ... (QRESYNC ...)
 * with VANISHED (EARLIER), VANISHED for EXPUNGE, [CLOSED], and the bad
 * inputs of each. */
#include <dirent.h>
#include <unistd.h>
#include "tests/unit/imap-pair.h"

#include "maildir/deliver.h"
#include "maildir/box-int.h"
#include "maildir/lock.h"
#include "maildir/mailbox.h"
#include "maildir/notify.h"
#include "tests/unit/maildir-helpers.h"

static void setup(void)
{
	pair_start(false);
}

static void teardown(void)
{
	pair_stop();
}

/* The number right after `pat` in the last reply (asserts it is there). */
static uint64_t num_after(struct client *c, const char *pat)
{
	const char *p = strstr(c->got, pat);

	ck_assert_msg(p != NULL, "no \"%s\" in:\n%s", pat, c->got);
	return strtoull(p + strlen(pat), NULL, 10);
}

static void append_n(struct client *c, int n)
{
	for (int i = 0; i < n; i++)
		append(c, "INBOX", "", msg1);
}

/* The session still serves: a NOOP and a FETCH work. */
static void still_works(struct client *c)
{
	still_serves(c);
	say(c, "w2 FETCH 1 (UID)\r\n");
	ASSERT_HAS(c, "* 1 FETCH (UID ");
	ASSERT_HAS(c, "w2 OK");
}

START_TEST(test_enable_and_select)
{
	uint64_t h;

	append_n(&a, 2);
	say(&a, "c CAPABILITY\r\n");
	ASSERT_HAS(&a, " CONDSTORE QRESYNC");
	/* a plain SELECT says nothing of modseqs */
	say(&a, "s SELECT INBOX\r\n");
	ASSERT_NOT(&a, "HIGHESTMODSEQ");
	/* RFC 7162 3.1: the first enabling command with a mailbox selected */
	say(&a, "f FETCH 1 (MODSEQ)\r\n");
	ASSERT_HAS(&a, "* OK [HIGHESTMODSEQ ");
	h = num_after(&a, "* OK [HIGHESTMODSEQ ");
	ASSERT_HAS(&a, "* 1 FETCH (MODSEQ (");
	ck_assert_uint_le(num_after(&a, "* 1 FETCH (MODSEQ ("), h);
	say(&a, "f2 FETCH 1 (MODSEQ)\r\n");
	ASSERT_NOT(&a, "HIGHESTMODSEQ");
	/* from now on every SELECT tells it, FLAGS come with MODSEQ */
	say(&a, "s2 EXAMINE INBOX\r\n");
	ck_assert_uint_eq(num_after(&a, "* OK [HIGHESTMODSEQ "), h);
	/* [CLOSED] also without QRESYNC (as Dovecot) */
	ck_assert_msg(strncmp(a.got, "* OK [CLOSED]", 13) == 0, "%s", a.got);
	say(&a, "f3 FETCH 2 (FLAGS)\r\n");
	ASSERT_HAS(&a, "* 2 FETCH (FLAGS () MODSEQ (");
	/* STATUS HIGHESTMODSEQ */
	say(&a, "t STATUS INBOX (MESSAGES HIGHESTMODSEQ)\r\n");
	ASSERT_HAS(&a, "* STATUS INBOX (MESSAGES 2 HIGHESTMODSEQ ");
	ck_assert_uint_eq(num_after(&a, "HIGHESTMODSEQ "), h);
	/* SELECT (CONDSTORE) in a fresh session */
	client_login(&b, &inst);
	say(&b, "s SELECT INBOX (CONDSTORE)\r\n");
	ck_assert_uint_eq(num_after(&b, "* OK [HIGHESTMODSEQ "), h);
	ASSERT_HAS(&b, "s OK [READ-WRITE]");
	/* ENABLE QRESYNC: [CLOSED] when a SELECT replaces the mailbox */
	say(&b, "e ENABLE QRESYNC\r\n");
	ASSERT_HAS(&b, "* ENABLED QRESYNC\r\n");
	say(&b, "s2 SELECT INBOX\r\n");
	ck_assert_msg(strncmp(b.got, "* OK [CLOSED]", 13) == 0, "%s", b.got);
	say(&b, "u UNSELECT\r\n");
	say(&b, "s3 SELECT INBOX\r\n");
	ASSERT_NOT(&b, "[CLOSED]");
}
END_TEST

START_TEST(test_store_changedsince)
{
	uint64_t h, m1;

	append_n(&a, 3);
	say(&a, "s SELECT INBOX (CONDSTORE)\r\n");
	h = num_after(&a, "* OK [HIGHESTMODSEQ ");
	say(&a, "t STORE 1 +FLAGS (\\Seen)\r\n");
	m1 = num_after(&a, "* 1 FETCH (FLAGS (\\Seen \\Recent) MODSEQ (");
	ck_assert_uint_gt(m1, h);
	/* CHANGEDSINCE: only what changed, with MODSEQ */
	{
		char line[128];

		snprintf(line, sizeof(line), "f FETCH 1:* (FLAGS) (CHANGEDSINCE "
			 "%llu)\r\n", (unsigned long long)h);
		say(&a, line);
		ASSERT_HAS(&a, "* 1 FETCH (FLAGS (\\Seen \\Recent) MODSEQ (");
		ASSERT_NOT(&a, "* 2 FETCH");
		ASSERT_NOT(&a, "* 3 FETCH");
		ASSERT_HAS(&a, "f OK");
		snprintf(line, sizeof(line), "g UID FETCH 1:* (FLAGS) "
			 "(CHANGEDSINCE %llu)\r\n", (unsigned long long)m1);
		say(&a, line);
		ck_assert_str_eq(a.got, "g OK FETCH completed\r\n");
		/* UNCHANGEDSINCE: message 1 changed after h */
		snprintf(line, sizeof(line), "u STORE 1:2 (UNCHANGEDSINCE %llu) "
			 "+FLAGS (\\Flagged)\r\n", (unsigned long long)h);
		say(&a, line);
		ASSERT_HAS(&a, "* 2 FETCH (FLAGS (\\Flagged \\Recent) MODSEQ (");
		ASSERT_NOT(&a, "* 1 FETCH");
		ASSERT_HAS(&a, "u OK [MODIFIED 1] Conditional STORE failed");
		/* as UID STORE the set holds UIDs */
		snprintf(line, sizeof(line), "v UID STORE 1,3 (UNCHANGEDSINCE "
			 "%llu) +FLAGS.SILENT (\\Answered)\r\n",
			 (unsigned long long)h);
		say(&a, line);
		/* .SILENT still tells the new modseq (RFC 7162 3.1.3) */
		ASSERT_HAS(&a, "* 3 FETCH (UID 3 MODSEQ (");
		ASSERT_NOT(&a, "FLAGS");
		ASSERT_HAS(&a, "v OK [MODIFIED 1] Conditional STORE failed");
	}
	/* UNCHANGEDSINCE 0: every message has a modseq above 0 */
	say(&a, "z STORE 1:3 (UNCHANGEDSINCE 0) +FLAGS (\\Draft)\r\n");
	ASSERT_HAS(&a, "z OK [MODIFIED 1:3]");
	ASSERT_NOT(&a, "\\Draft");
	/* SEARCH MODSEQ and its (MODSEQ n) */
	say(&a, "r SEARCH MODSEQ 1\r\n");
	ASSERT_HAS(&a, "* SEARCH 1 2 3 (MODSEQ ");
	{
		char line[128];

		snprintf(line, sizeof(line), "r2 UID SEARCH MODSEQ "
			 "\"/flags/\\\\seen\" all %llu\r\n",
			 (unsigned long long)m1 + 1);
		say(&a, line);
		ASSERT_HAS(&a, "* SEARCH 2 3 (MODSEQ ");
		ASSERT_HAS(&a, "r2 OK");
	}
	/* ESEARCH (RFC 4731) with MODSEQ: the highest modseq of what is
	 * returned (RFC 7162 3.1.5): of message 1 alone for MIN */
	say(&a, "e1 SEARCH RETURN (MIN) MODSEQ 1\r\n");
	{
		char want[128];

		snprintf(want, sizeof(want), "* ESEARCH (TAG \"e1\") MIN 1 "
			 "MODSEQ %llu\r\n", (unsigned long long)m1);
		ASSERT_HAS(&a, want);
	}
	say(&a, "e2 SEARCH RETURN (ALL) MODSEQ 1\r\n");
	ASSERT_HAS(&a, "* ESEARCH (TAG \"e2\") ALL 1:3 MODSEQ ");
	say(&a, "e3 SEARCH RETURN (COUNT) ALL\r\n");
	ck_assert_str_eq(a.got, "* ESEARCH (TAG \"e3\") COUNT 3\r\n"
			 "e3 OK SEARCH completed\r\n");
	say(&a, "r3 SEARCH MODSEQ 9223372036854775807\r\n");
	ck_assert_str_eq(a.got, "* SEARCH\r\nr3 OK SEARCH completed\r\n");
	say(&a, "r4 SEARCH MODSEQ \"/flags/\\\\seen\" bogus 1\r\n");
	ASSERT_HAS(&a, "r4 BAD");
	still_works(&a);
}
END_TEST

START_TEST(test_bad_modseq_values)
{
	static const char *const bad[] = {
		"b1 FETCH 1 (FLAGS) (CHANGEDSINCE 0)\r\n",
		"b2 FETCH 1 (FLAGS) (CHANGEDSINCE 9223372036854775808)\r\n",
		"b3 FETCH 1 (FLAGS) (CHANGEDSINCE 18446744073709551616)\r\n",
		"b4 FETCH 1 (FLAGS) (CHANGEDSINCE 99999999999999999999999)\r\n",
		"b5 FETCH 1 (FLAGS) (CHANGEDSINCE -1)\r\n",
		"b6 FETCH 1 (FLAGS) (CHANGEDSINCE)\r\n",
		"b7 FETCH 1 (FLAGS) (CHANGEDSINCE 5 CHANGEDSINCE 6)\r\n",
		"b8 FETCH 1 (FLAGS) (VANISHED)\r\n",
		"b9 FETCH 1 (FLAGS) (CHANGEDSINCE 1 VANISHED)\r\n",
		"b10 UID FETCH 1 (FLAGS) (CHANGEDSINCE 1 VANISHED)\r\n",
		"b11 FETCH 1 (FLAGS) (FOO 1)\r\n",
		"b12 STORE 1 (UNCHANGEDSINCE 9223372036854775808) +FLAGS (\\Seen)\r\n",
		"b13 STORE 1 (UNCHANGEDSINCE) +FLAGS (\\Seen)\r\n",
		"b14 STORE 1 (FOO 1) +FLAGS (\\Seen)\r\n",
		"b15 SEARCH MODSEQ 9223372036854775808\r\n",
		"b16 SEARCH MODSEQ\r\n",
		"b17 STATUS INBOX (HIGHESTMODSEQ FOO)\r\n",
	};

	append_n(&a, 1);
	say(&a, "s SELECT INBOX\r\n");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char tag[8];

		say(&a, bad[i]);
		snprintf(tag, sizeof(tag), "b%zu BAD", i + 1);
		ASSERT_HAS(&a, tag);
		still_works(&a);
	}
	/* the largest value there is is fine */
	say(&a, "g FETCH 1 (FLAGS) (CHANGEDSINCE 9223372036854775807)\r\n");
	ASSERT_HAS(&a, "* OK [HIGHESTMODSEQ ");
	ASSERT_NOT(&a, "* 1 FETCH");
	ASSERT_HAS(&a, "g OK FETCH completed");
	say(&a, "h STORE 1 (UNCHANGEDSINCE 9223372036854775807) +FLAGS "
	    "(\\Seen)\r\n");
	ASSERT_HAS(&a, "h OK STORE completed");
	still_works(&a);
}
END_TEST

/* Session a knew the mailbox at modseq *h_r; b then changes a flag,
 * expunges UID 3 and adds a message. */
static void changes_while_away(uint32_t *uidvalidity_r, uint64_t *h_r)
{
	append_n(&a, 4);
	say(&a, "e ENABLE QRESYNC\r\n");
	say(&a, "s SELECT INBOX\r\n");
	*uidvalidity_r = (uint32_t)num_after(&a, "[UIDVALIDITY ");
	*h_r = num_after(&a, "* OK [HIGHESTMODSEQ ");
	say(&a, "u UNSELECT\r\n");
	client_login(&b, &inst);
	say(&b, "s SELECT INBOX\r\n");
	say(&b, "f STORE 2 +FLAGS.SILENT (\\Flagged)\r\n");
	say(&b, "d STORE 3 +FLAGS.SILENT (\\Deleted)\r\n");
	say(&b, "x EXPUNGE\r\n");
	ASSERT_HAS(&b, "* 3 EXPUNGE");
	append(&b, "INBOX", "", msg1);
}

START_TEST(test_qresync_select)
{
	uint32_t uv;
	uint64_t h;
	char line[256];

	changes_while_away(&uv, &h);
	snprintf(line, sizeof(line), "q SELECT INBOX (QRESYNC (%u %llu))\r\n",
		 uv, (unsigned long long)h);
	say(&a, line);
	ASSERT_HAS(&a, "* VANISHED (EARLIER) 3\r\n");
	ASSERT_HAS(&a, "* 2 FETCH (UID 2 FLAGS (\\Flagged) MODSEQ (");
	/* the new message changed since too */
	ASSERT_HAS(&a, "* 4 FETCH (UID 5 FLAGS (");
	ASSERT_NOT(&a, "* 1 FETCH");
	ASSERT_HAS(&a, "q OK [READ-WRITE]");
	/* known UIDs narrow both answers */
	snprintf(line, sizeof(line), "q2 EXAMINE INBOX (QRESYNC (%u %llu "
		 "1:2))\r\n", uv, (unsigned long long)h);
	say(&a, line);
	ck_assert_msg(strncmp(a.got, "* OK [CLOSED]", 13) == 0, "%s", a.got);
	ASSERT_NOT(&a, "VANISHED");
	ASSERT_HAS(&a, "* 2 FETCH (UID 2 ");
	ASSERT_NOT(&a, "UID 5");
	/* seq-match data: valid, and the log answers exactly anyway */
	snprintf(line, sizeof(line), "q3 EXAMINE INBOX (QRESYNC (%u %llu "
		 "1:5 (1:4 1:4)))\r\n", uv, (unsigned long long)h);
	say(&a, line);
	ASSERT_HAS(&a, "* VANISHED (EARLIER) 3\r\n");
	ASSERT_HAS(&a, "q3 OK");
	/* another UIDVALIDITY: a plain SELECT, no VANISHED, no FETCH */
	snprintf(line, sizeof(line), "q4 SELECT INBOX (QRESYNC (%u %llu))\r\n",
		 uv + 1, (unsigned long long)h);
	say(&a, line);
	ASSERT_NOT(&a, "VANISHED");
	ASSERT_NOT(&a, "FETCH");
	ASSERT_HAS(&a, "* OK [HIGHESTMODSEQ ");
	ASSERT_HAS(&a, "q4 OK [READ-WRITE]");
	still_works(&a);
	/* UID FETCH ... (CHANGEDSINCE h VANISHED) */
	snprintf(line, sizeof(line), "v UID FETCH 1:* (FLAGS) (CHANGEDSINCE "
		 "%llu VANISHED)\r\n", (unsigned long long)h);
	say(&a, line);
	ck_assert_msg(strncmp(a.got, "* VANISHED (EARLIER) 3\r\n", 24) == 0,
		      "%s", a.got);
	ASSERT_HAS(&a, "* 2 FETCH (UID 2 FLAGS (\\Flagged) MODSEQ (");
	ASSERT_NOT(&a, "* 1 FETCH");
	snprintf(line, sizeof(line), "v2 UID FETCH 4:* (FLAGS) (CHANGEDSINCE "
		 "%llu VANISHED)\r\n", (unsigned long long)h);
	say(&a, line);
	ASSERT_NOT(&a, "VANISHED");
	ASSERT_HAS(&a, "v2 OK");
}
END_TEST

START_TEST(test_qresync_bad)
{
	static const char *const bad[] = {
		"b1 SELECT INBOX (QRESYNC (%u))\r\n",
		"b2 SELECT INBOX (QRESYNC (0 5))\r\n",
		"b3 SELECT INBOX (QRESYNC (%u 0))\r\n",
		"b4 SELECT INBOX (QRESYNC (%u 9223372036854775808))\r\n",
		"b5 SELECT INBOX (QRESYNC (%u 5 1:*))\r\n",
		"b6 SELECT INBOX (QRESYNC (%u 5 1:3 (1:2 1)))\r\n",
		"b7 SELECT INBOX (QRESYNC (%u 5 1:3 (1:2 1:2))\r\n",
		"b8 SELECT INBOX (QRESYNC (%u 5 (1:* 1:2)))\r\n",
		"b9 SELECT INBOX (QRESYNC (%u 5 x))\r\n",
		"b10 SELECT INBOX (QRESYNC (%u 5) QRESYNC (%u 5))\r\n",
		"b11 SELECT INBOX (FOO)\r\n",
		"b12 SELECT INBOX ()\r\n",
		"b13 SELECT INBOX (CONDSTORE\r\n",
		"b14 SELECT INBOX (QRESYNC (%u 5 1:3 (1:2 1:2) 4))\r\n",
	};
	uint32_t uv;
	uint64_t h;
	char line[256], tag[8];

	changes_while_away(&uv, &h);
	say(&a, "s SELECT INBOX\r\n");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), bad[i], uv, uv);
		say(&a, line);
		snprintf(tag, sizeof(tag), "b%zu BAD", i + 1);
		ASSERT_HAS(&a, tag);
		/* a SELECT refused as BAD leaves the mailbox selected */
		still_works(&a);
	}
	/* QRESYNC that was not enabled (b never enabled it) */
	snprintf(line, sizeof(line), "n SELECT INBOX (QRESYNC (%u %llu))\r\n",
		 uv, (unsigned long long)h);
	say(&b, line);
	ck_assert_str_eq(b.got, "n BAD QRESYNC is not enabled\r\n");
	still_works(&b);
	say(&b, "v UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)\r\n");
	ASSERT_HAS(&b, "v BAD QRESYNC is not enabled");
	still_works(&b);
}
END_TEST

START_TEST(test_vanished_unsolicited)
{
	append_n(&a, 3);
	say(&a, "e ENABLE QRESYNC\r\n");
	say(&a, "s SELECT INBOX\r\n");
	client_login(&b, &inst);
	say(&b, "s SELECT INBOX\r\n");
	say(&b, "f STORE 1 +FLAGS.SILENT (\\Flagged)\r\n");
	say(&b, "d STORE 2 +FLAGS.SILENT (\\Deleted)\r\n");
	say(&b, "x EXPUNGE\r\n");
	say(&a, "n NOOP\r\n");
	/* RFC 7162 3.2.10, 3.2.4: VANISHED, and FETCH with UID and MODSEQ */
	ASSERT_HAS(&a, "* VANISHED 2\r\n");
	ASSERT_NOT(&a, "EXPUNGE");
	ASSERT_HAS(&a, "* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent) MODSEQ (");
	ASSERT_HAS(&a, "* 2 EXISTS");
	/* the expunge raised HIGHESTMODSEQ with no MODSEQ to show it */
	ASSERT_HAS(&a, "* OK [HIGHESTMODSEQ ");
	/* without QRESYNC b keeps EXPUNGE and plain FETCH */
	say(&a, "d STORE 1:2 +FLAGS.SILENT (\\Deleted)\r\n");
	ASSERT_HAS(&a, "* 1 FETCH (UID 1 MODSEQ (");
	say(&a, "x EXPUNGE\r\n");
	ASSERT_HAS(&a, "* VANISHED 1,3\r\n");
	say(&b, "n NOOP\r\n");
	ASSERT_HAS(&b, "* 2 EXPUNGE\r\n* 1 EXPUNGE\r\n");
}
END_TEST

/* Deletes the expunge log's "G" record of INBOX, as an index written
 * before the log has none: what was expunged before is then unknown. */
static void forget_expunge_log(void)
{
	struct maildir_store *st = NULL;
	struct maildir_box *box = NULL;
	unsigned char k[5] = { 'G' };
	char err[256];
	DBT key;
	int fd;

	ck_assert_int_eq(maildir_store_open(inst.mail, "alice", &st, err,
					    sizeof(err)), 0);
	ck_assert_int_eq(maildir_box_open(st, "INBOX", MAILDIR_BOX_READONLY,
					  &box, err, sizeof(err)), 0);
	for (int i = 0; i < 4; i++)
		k[1 + i] = (unsigned char)(box->f.id >> (24 - 8 * i));
	memset(&key, 0, sizeof(key));
	key.data = k;
	key.size = sizeof(k);
	fd = store_lock(st, err, sizeof(err));
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(st->db->del(st->db, NULL, &key, 0), 0);
	lock_index_release(fd);
	maildir_box_close(&box);
	maildir_store_close(&st);
}

START_TEST(test_qresync_without_log)
{
	uint32_t uv;
	uint64_t h, h2;
	char line[256];

	/* UID 3 expunged, then the log forgotten: h is below its floor */
	changes_while_away(&uv, &h);
	forget_expunge_log();
	/* RFC 7162 3.2.5.1: every UID below UIDNEXT the mailbox lacks */
	snprintf(line, sizeof(line), "q SELECT INBOX (QRESYNC (%u %llu))\r\n",
		 uv, (unsigned long long)h);
	say(&a, line);
	ASSERT_HAS(&a, "* VANISHED (EARLIER) 3\r\n");
	ASSERT_HAS(&a, "* 2 FETCH (UID 2 FLAGS (\\Flagged) MODSEQ (");
	/* known UIDs narrow it */
	snprintf(line, sizeof(line), "q2 SELECT INBOX (QRESYNC (%u %llu 4:9))"
		 "\r\n", uv, (unsigned long long)h);
	say(&a, line);
	ASSERT_NOT(&a, "VANISHED");
	/* seq-match (3.2.5.2): the client had UID 5 at sequence number 4,
	 * as now: nothing below UID 5 can have gone since */
	snprintf(line, sizeof(line), "q3 SELECT INBOX (QRESYNC (%u %llu 1:5 "
		 "(1:4 1:2,4:5)))\r\n", uv, (unsigned long long)h);
	say(&a, line);
	ASSERT_NOT(&a, "VANISHED");
	ASSERT_HAS(&a, "q3 OK");
	/* a pair that does not match the mailbox proves nothing */
	snprintf(line, sizeof(line), "q4 SELECT INBOX (QRESYNC (%u %llu 1:5 "
		 "(3 3)))\r\n", uv, (unsigned long long)h);
	say(&a, line);
	ASSERT_HAS(&a, "* VANISHED (EARLIER) 3\r\n");
	/* from the modseq of the first expunge logged on, the log is
	 * exact again */
	say(&a, "x STORE 1 +FLAGS.SILENT (\\Deleted)\r\n");
	h2 = num_after(&a, "* 1 FETCH (UID 1 MODSEQ (");
	say(&a, "x2 EXPUNGE\r\n");
	ASSERT_HAS(&a, "* VANISHED 1\r\n");
	say(&a, "u UNSELECT\r\n");
	snprintf(line, sizeof(line), "q5 SELECT INBOX (QRESYNC (%u %llu))\r\n",
		 uv, (unsigned long long)h2);
	say(&a, line);
	ASSERT_HAS(&a, "* VANISHED (EARLIER) 1\r\n");
	snprintf(line, sizeof(line), "q6 SELECT INBOX (QRESYNC (%u %llu))\r\n",
		 uv, (unsigned long long)h);
	say(&a, line);
	ASSERT_HAS(&a, "* VANISHED (EARLIER) 1,3\r\n");
	still_works(&a);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *suite = suite_create("imap-condstore");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_enable_and_select);
	tcase_add_test(tc, test_store_changedsince);
	tcase_add_test(tc, test_bad_modseq_values);
	tcase_add_test(tc, test_qresync_select);
	tcase_add_test(tc, test_qresync_bad);
	tcase_add_test(tc, test_vanished_unsolicited);
	tcase_add_test(tc, test_qresync_without_log);
	suite_add_tcase(suite, tc);
	return suite;
}
