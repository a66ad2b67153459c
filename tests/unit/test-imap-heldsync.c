/* The updates with FETCH (before its data), STORE and SEARCH (at their
 * end) by sequence number:
 * another session's new messages (EXISTS, RECENT) and flag changes
 * (FETCH FLAGS, with MODSEQ under CONDSTORE) are told, its expunges wait
 * for a command that may report them (RFC 3501 7.4.1; RFC 9051 7.5.1),
 * so the numbers the client holds stay valid; the UID commands report
 * them.  As Dovecot does (MAILBOX_SYNC_FLAG_NO_EXPUNGES). */
#include <stdlib.h>

#include "tests/unit/imap-pair.h"

static void setup(void)
{
	pair_start(true);
	for (int i = 0; i < 3; i++)
		append(&a, "INBOX", "", msg1);
}

static void teardown(void)
{
	pair_stop();
}

/* b flags message 2, expunges message 1 and delivers a fourth. */
static void other_session_changes(void)
{
	say(&b, "s SELECT INBOX\r\n");
	say(&b, "f STORE 2 +FLAGS.SILENT (\\Flagged)\r\n");
	ASSERT_HAS(&b, "f OK");
	say(&b, "d STORE 1 +FLAGS.SILENT (\\Deleted)\r\n");
	say(&b, "e EXPUNGE\r\n");
	ASSERT_HAS(&b, "* 1 EXPUNGE");
	append(&b, "INBOX", "", msg1);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p != NULL;
	     p = strstr(p + 1, needle))
		n++;
	return n;
}

START_TEST(test_fetch)
{
	say(&a, "s SELECT INBOX\r\n");
	other_session_changes();
	say(&a, "f FETCH 1 UID\r\n");
	/* the expunged message is still 1 (and still counts as recent for
	 * this session); the new one is 4, recent for b */
	ASSERT_IS(&a, "* 4 EXISTS\r\n"
		  "* 3 RECENT\r\n"
		  "* 2 FETCH (FLAGS (\\Flagged \\Recent))\r\n"
		  "* 1 FETCH (UID 1)\r\n"
		  "f OK FETCH completed\r\n");
	/* told once */
	say(&a, "g FETCH 4 UID\r\n");
	ASSERT_IS(&a, "* 4 FETCH (UID 4)\r\ng OK FETCH completed\r\n");
	/* NOOP may report the expunge */
	say(&a, "n NOOP\r\n");
	ASSERT_IS(&a, "* 1 EXPUNGE\r\n* 3 EXISTS\r\n* 2 RECENT\r\n"
		  "n OK NOOP completed\r\n");
	still_serves(&a);
}
END_TEST

/* UID FETCH may send EXPUNGE (RFC 3501 7.4.1), before its data. */
START_TEST(test_uid_fetch)
{
	say(&a, "s SELECT INBOX\r\n");
	other_session_changes();
	say(&a, "f UID FETCH 1:* FLAGS\r\n");
	ASSERT_HAS(&a, "* 1 EXPUNGE\r\n");
	ASSERT_HAS(&a, "* 3 EXISTS\r\n");
	ASSERT_HAS(&a, "* 3 FETCH (UID 4 FLAGS ())\r\n");
	ASSERT_NOT(&a, "UID 1 ");
	say(&a, "n NOOP\r\n");
	ASSERT_IS(&a, "n OK NOOP completed\r\n");
}
END_TEST

/* A held expunge goes out with IDLE's start, as with NOOP. */
START_TEST(test_idle_after_fetch)
{
	say(&a, "s SELECT INBOX\r\n");
	other_session_changes();
	say(&a, "f FETCH 1:* UID\r\n");
	ASSERT_HAS(&a, "* 3 FETCH (UID 3)\r\n");
	ASSERT_HAS(&a, "* 4 EXISTS\r\n");
	ASSERT_NOT(&a, "EXPUNGE");
	say(&a, "i IDLE\r\n");
	ASSERT_HAS(&a, "+ idling\r\n");
	ASSERT_HAS(&a, "* 1 EXPUNGE\r\n");
	say(&a, "DONE\r\n");
	ASSERT_HAS(&a, "i OK");
	still_serves(&a);
}
END_TEST

START_TEST(test_store)
{
	say(&a, "s SELECT INBOX\r\n");
	other_session_changes();
	say(&a, "t STORE 3 +FLAGS (\\Seen)\r\n");
	ASSERT_HAS(&a, "* 3 FETCH (FLAGS (\\Seen \\Recent))\r\n");
	ASSERT_HAS(&a, "* 4 EXISTS\r\n");
	ASSERT_HAS(&a, "* 2 FETCH (FLAGS (\\Flagged");
	ASSERT_NOT(&a, "EXPUNGE");
	/* its own change is not told again by the sync */
	ck_assert_uint_eq(count(a.got, "* 3 FETCH"), 1);
	/* a STORE on the held message: nothing to change */
	say(&a, "u STORE 1 +FLAGS (\\Seen)\r\n");
	ASSERT_HAS(&a, "u OK");
	ASSERT_NOT(&a, "EXPUNGE");
	/* UID STORE may report it */
	say(&a, "v UID STORE 3 +FLAGS.SILENT (\\Answered)\r\n");
	ASSERT_HAS(&a, "* 1 EXPUNGE\r\n");
	ASSERT_HAS(&a, "v OK");
	still_serves(&a);
}
END_TEST

START_TEST(test_search)
{
	say(&a, "s SELECT INBOX\r\n");
	other_session_changes();
	say(&a, "r SEARCH FLAGGED\r\n");
	ASSERT_IS(&a, "* SEARCH\r\n"
		  "* 4 EXISTS\r\n"
		  "* 3 RECENT\r\n"
		  "* 2 FETCH (FLAGS (\\Flagged \\Recent))\r\n"
		  "r OK SEARCH completed\r\n");
	say(&a, "r2 SEARCH FLAGGED\r\n");
	ASSERT_IS(&a, "* SEARCH 2\r\nr2 OK SEARCH completed\r\n");
	say(&a, "r3 UID SEARCH ALL\r\n");
	ASSERT_HAS(&a, "* 1 EXPUNGE\r\n");
	ASSERT_HAS(&a, "* SEARCH 2 3 4\r\n");
	still_serves(&a);
}
END_TEST

/* SORT and COPY by number as well (Dovecot: SORT as SEARCH; COPY may
 * expunge, RFC 3501 7.4.1, but holding is the safe side) */
START_TEST(test_sort_copy)
{
	say(&a, "k CREATE Keep\r\n");
	say(&a, "s SELECT INBOX\r\n");
	other_session_changes();
	say(&a, "o SORT (ARRIVAL) UTF-8 FLAGGED\r\n");
	ASSERT_HAS(&a, "* SORT\r\n");
	ASSERT_HAS(&a, "* 4 EXISTS\r\n");
	ASSERT_HAS(&a, "* 2 FETCH (FLAGS (\\Flagged \\Recent))\r\n");
	ASSERT_NOT(&a, "EXPUNGE");
	say(&a, "c COPY 4 Keep\r\n");
	ASSERT_HAS(&a, "c OK [COPYUID ");
	ASSERT_NOT(&a, "EXPUNGE");
	say(&a, "n NOOP\r\n");
	ASSERT_HAS(&a, "* 1 EXPUNGE\r\n");
	still_serves(&a);
}
END_TEST

static unsigned long long number_after(const char *text, const char *key)
{
	const char *p = strstr(text, key);

	ck_assert_msg(p != NULL, "no %s in %s", key, text);
	return strtoull(p + strlen(key), NULL, 10);
}

/* RFC 5162 erratum 1810 (for QRESYNC, now RFC 7162): a MODSEQ above a held
 * expunge's is followed by a HIGHESTMODSEQ below it, so that a client
 * taking the highest MODSEQ it saw cannot skip the expunge; the real
 * one comes with the expunge. */
START_TEST(test_condstore)
{
	unsigned long long before, flag, told, after;

	say(&a, "c ENABLE CONDSTORE\r\n");
	say(&a, "s SELECT INBOX\r\n");
	before = number_after(a.got, "[HIGHESTMODSEQ ");
	say(&b, "s SELECT INBOX\r\n");
	say(&b, "d STORE 1 +FLAGS.SILENT (\\Deleted)\r\n");
	say(&b, "e EXPUNGE\r\n");
	say(&b, "f UID STORE 2 +FLAGS.SILENT (\\Flagged)\r\n");
	say(&a, "f FETCH 2 FLAGS\r\n");
	flag = number_after(a.got, "* 2 FETCH (FLAGS (\\Flagged \\Recent) MODSEQ (");
	told = number_after(a.got, "* OK [HIGHESTMODSEQ ");
	ASSERT_NOT(&a, "EXPUNGE");
	ck_assert_uint_gt(flag, before);
	ck_assert_uint_eq(told, before);
	/* the FETCH data's MODSEQ too is followed by one */
	{
		char tail[160];

		snprintf(tail, sizeof(tail), "\r\n* 2 FETCH (FLAGS (\\Flagged "
			 "\\Recent) MODSEQ (%llu))\r\n* OK [HIGHESTMODSEQ %llu] "
			 "Highest\r\nf OK FETCH completed\r\n", flag, before);
		ck_assert_msg(strlen(a.got) > strlen(tail) &&
			      strcmp(a.got + strlen(a.got) - strlen(tail),
				     tail) == 0, "%s", a.got);
	}
	/* nothing new: no HIGHESTMODSEQ */
	say(&a, "g FETCH 3 FLAGS\r\n");
	ASSERT_NOT(&a, "HIGHESTMODSEQ");
	say(&a, "n NOOP\r\n");
	ASSERT_HAS(&a, "* 1 EXPUNGE\r\n");
	after = number_after(a.got, "* OK [HIGHESTMODSEQ ");
	ck_assert_uint_ge(after, flag);
	still_serves(&a);
}
END_TEST

/* With QRESYNC: no VANISHED after FETCH; UID FETCH sends it. */
START_TEST(test_qresync)
{
	say(&a, "c ENABLE QRESYNC\r\n");
	say(&a, "s SELECT INBOX\r\n");
	other_session_changes();
	say(&a, "f FETCH 1 FLAGS\r\n");
	ASSERT_NOT(&a, "VANISHED");
	ASSERT_HAS(&a, "* 4 EXISTS\r\n");
	ASSERT_HAS(&a, "* 2 FETCH (UID 2 FLAGS (\\Flagged \\Recent) MODSEQ (");
	say(&a, "u UID FETCH 1:* FLAGS\r\n");
	ASSERT_HAS(&a, "* VANISHED 1\r\n");
	ASSERT_NOT(&a, "EXPUNGE");
	still_serves(&a);
}
END_TEST

/* IMAP4rev2: no RECENT, UID in the unsolicited FETCH (RFC 9051
 * Appendix E items 12 and 21). */
START_TEST(test_rev2)
{
	say(&a, "c ENABLE IMAP4rev2\r\n");
	say(&a, "s SELECT INBOX\r\n");
	other_session_changes();
	say(&a, "f FETCH 1 FLAGS\r\n");
	ASSERT_HAS(&a, "* 4 EXISTS\r\n");
	ASSERT_NOT(&a, "RECENT");
	ASSERT_NOT(&a, "EXPUNGE");
	ASSERT_HAS(&a, "* 2 FETCH (UID 2 FLAGS (\\Flagged))\r\n");
	say(&a, "n NOOP\r\n");
	ASSERT_HAS(&a, "* 1 EXPUNGE\r\n");
	still_serves(&a);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *suite = suite_create("imap-heldsync");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_fetch);
	tcase_add_test(tc, test_uid_fetch);
	tcase_add_test(tc, test_idle_after_fetch);
	tcase_add_test(tc, test_store);
	tcase_add_test(tc, test_search);
	tcase_add_test(tc, test_sort_copy);
	tcase_add_test(tc, test_condstore);
	tcase_add_test(tc, test_qresync);
	tcase_add_test(tc, test_rev2);
	suite_add_tcase(suite, tc);
	return suite;
}
