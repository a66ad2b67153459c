/* IMAP4rev2 (RFC 9051) beside IMAP4rev1: each behaviour ENABLE IMAP4rev2
 * switches (Appendix E), shown on an IMAP4rev1 session and an IMAP4rev2
 * session of the same mailbox; the bad inputs (ENABLE twice, unknown
 * capabilities, the syntax of one version in a session of the other);
 * and two small fixes: FETCH 1:* in an empty mailbox answers BAD as
 * Dovecot does, COPY into the selected mailbox reports its EXISTS. */
#include "tests/unit/imap-client.h"

static struct instance inst;
static struct client a, b;	/* a: IMAP4rev1, b: IMAP4rev2 */

static const char msg1[] =
	"From: Alice <alice@lab.test>\r\n"
	"Subject: one\r\n"
	"\r\n"
	"first\r\n";

static void setup(void)
{
	instance_start(&inst, &a);
	client_login(&b, &inst);
	say(&b, "e ENABLE IMAP4rev2\r\n");
	ASSERT_IS(&b, "* ENABLED IMAP4rev2\r\ne OK ENABLE completed\r\n");
}

static void teardown(void)
{
	client_close(&b);
	instance_stop(&inst, &a);
}

/* The session still serves a normal client. */
static void still_works(struct client *c)
{
	say(c, "w NOOP\r\n");
	ASSERT_HAS(c, "w OK NOOP completed");
	say(c, "w2 LIST \"\" INBOX\r\n");
	ASSERT_HAS(c, "* LIST (");
	ASSERT_HAS(c, "w2 OK LIST completed");
}

START_TEST(test_capability_and_enable)
{
	say(&a, "c CAPABILITY\r\n");
	ASSERT_HAS(&a, "* CAPABILITY IMAP4rev1 IMAP4rev2 ");
	/* RFC 5161 3.2: only what this ENABLE turned on is listed */
	say(&b, "e2 ENABLE IMAP4rev2\r\n");
	ASSERT_IS(&b, "* ENABLED\r\ne2 OK ENABLE completed\r\n");
	say(&b, "e3 ENABLE imap4rev2 CONDSTORE\r\n");
	ASSERT_IS(&b, "* ENABLED CONDSTORE\r\ne3 OK ENABLE completed\r\n");
	/* RFC 5161 3.1: unknown names are ignored */
	say(&a, "e4 ENABLE X-NOSUCH IMAP4rev3\r\n");
	ASSERT_IS(&a, "* ENABLED\r\ne4 OK ENABLE completed\r\n");
	say(&a, "e5 ENABLE\r\n");
	ASSERT_HAS(&a, "e5 BAD");
	/* the unknown names turned nothing on: still IMAP4rev1 */
	append(&a, "INBOX", "", msg1);
	say(&a, "s SELECT INBOX\r\n");
	ASSERT_HAS(&a, "* 1 RECENT\r\n");
	/* ENABLE is not valid before authentication (RFC 9051 6.3.1) */
	client_close(&a);
	client_open(&a, &inst);
	say(&a, "e6 ENABLE IMAP4rev2\r\n");
	ASSERT_HAS(&a, "e6 BAD");
	say(&a, "1 LOGIN alice secret\r\n");
	ASSERT_HAS(&a, "1 OK");
	still_works(&a);
	still_works(&b);
}
END_TEST

START_TEST(test_select)
{
	append(&a, "INBOX", "", msg1);
	append(&a, "INBOX", "", msg1);
	/* EXAMINE shows \Recent without taking it (RFC 3501 6.3.2) */
	say(&a, "s EXAMINE INBOX\r\n");
	ASSERT_HAS(&a, "* 2 RECENT\r\n");
	ASSERT_HAS(&a, "* OK [UNSEEN 1]");
	ASSERT_NOT(&a, "* LIST");
	say(&b, "s SELECT INBOX\r\n");
	ASSERT_HAS(&b, "* 2 EXISTS\r\n");
	/* RFC 9051 Appendix E items 10-12 */
	ASSERT_NOT(&b, "RECENT");
	ASSERT_NOT(&b, "[UNSEEN");
	ASSERT_HAS(&b, "* LIST (\\HasNoChildren) \"/\" INBOX\r\n");
	ASSERT_HAS(&b, "s OK [READ-WRITE]");
	/* item 9: [CLOSED] when another mailbox is selected */
	say(&b, "x EXAMINE Trash\r\n");
	ASSERT_HAS(&b, "* OK [CLOSED]");
	ASSERT_HAS(&b, "* LIST (\\HasNoChildren \\Trash) \"/\" Trash\r\n");
	ASSERT_HAS(&b, "x OK [READ-ONLY]");
	still_works(&b);
}
END_TEST

START_TEST(test_recent_flag)
{
	append(&a, "INBOX", "", msg1);
	/* b selects first, so the message is \Recent in b's session; an
	 * IMAP4rev2 client never sees the flag */
	say(&b, "s SELECT INBOX\r\n");
	say(&b, "f FETCH 1 FLAGS\r\n");
	ASSERT_HAS(&b, "* 1 FETCH (FLAGS ())\r\n");
	append(&a, "INBOX", "", msg1);
	say(&a, "s SELECT INBOX\r\n");
	ASSERT_HAS(&a, "* 1 RECENT\r\n");
	say(&a, "f FETCH 2 FLAGS\r\n");
	ASSERT_HAS(&a, "* 2 FETCH (FLAGS (\\Recent))\r\n");
}
END_TEST

START_TEST(test_updates)
{
	struct client c;

	append(&a, "INBOX", "", msg1);
	say(&a, "s SELECT INBOX\r\n");
	say(&b, "s SELECT INBOX\r\n");
	client_login(&c, &inst);
	append(&c, "INBOX", "", msg1);
	client_close(&c);
	say(&a, "n NOOP\r\n");
	ASSERT_HAS(&a, "* 2 EXISTS\r\n* 2 RECENT\r\n");
	say(&b, "n NOOP\r\n");
	ASSERT_HAS(&b, "* 2 EXISTS\r\n");
	ASSERT_NOT(&b, "RECENT");
	/* item 21: every unsolicited FETCH has the UID */
	say(&a, "st STORE 1 +FLAGS (\\Flagged)\r\n");
	say(&b, "n2 NOOP\r\n");
	ASSERT_HAS(&b, "* 1 FETCH (UID 1 FLAGS (\\Flagged))\r\n");
	say(&b, "st STORE 2 +FLAGS (\\Seen)\r\n");
	say(&a, "n2 NOOP\r\n");
	ASSERT_HAS(&a, "* 2 FETCH (FLAGS (\\Seen \\Recent))\r\n");
	still_works(&b);
}
END_TEST

START_TEST(test_search_esearch)
{
	append(&a, "INBOX", "", msg1);
	append(&a, "INBOX", "", msg1);
	say(&a, "s SELECT INBOX\r\n");
	say(&b, "s SELECT INBOX\r\n");
	say(&a, "q SEARCH ALL\r\n");
	ASSERT_HAS(&a, "* SEARCH 1 2\r\n");
	/* item 4 and 6.4.4: ESEARCH, ALL when no RETURN was given */
	say(&b, "q SEARCH ALL\r\n");
	ASSERT_IS(&b, "* ESEARCH (TAG \"q\") ALL 1:2\r\nq OK SEARCH completed\r\n");
	say(&b, "u UID SEARCH 2\r\n");
	ASSERT_HAS(&b, "* ESEARCH (TAG \"u\") UID ALL 2\r\n");
	say(&b, "n SEARCH FLAGGED\r\n");
	ASSERT_IS(&b, "* ESEARCH (TAG \"n\")\r\nn OK SEARCH completed\r\n");
	say(&b, "c SEARCH RETURN (COUNT) ALL\r\n");
	ASSERT_HAS(&b, "* ESEARCH (TAG \"c\") COUNT 2\r\n");
	/* SORT keeps its own response (RFC 5256 is no part of RFC 9051) */
	say(&b, "o SORT (ARRIVAL) UTF-8 ALL\r\n");
	ASSERT_HAS(&b, "* SORT 1 2\r\n");
	still_works(&b);
}
END_TEST

/* Extensions folded into IMAP4rev2 (Appendix E item 2) answer the same
 * in both: BINARY's FETCH side, MOVE with COPYUID (item 7), TRYCREATE
 * (item 8), UNSELECT, NAMESPACE. */
START_TEST(test_folded_extensions)
{
	append(&a, "INBOX", "", msg1);
	say(&b, "s SELECT INBOX\r\n");
	say(&b, "f FETCH 1 (BINARY.SIZE[1] BINARY.PEEK[1])\r\n");
	ASSERT_HAS(&b, "BINARY.SIZE[1] 7");
	ASSERT_HAS(&b, "BINARY[1] {7}\r\nfirst\r\n");
	say(&b, "m UID MOVE 1 nosuch\r\n");
	ASSERT_HAS(&b, "m NO [TRYCREATE]");
	say(&b, "m2 UID MOVE 1 Trash\r\n");
	ASSERT_HAS(&b, "* OK [COPYUID ");
	ASSERT_HAS(&b, "* 1 EXPUNGE\r\n");
	ASSERT_HAS(&b, "m2 OK MOVE completed");
	say(&b, "n NAMESPACE\r\n");
	ASSERT_HAS(&b, "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n");
	say(&b, "u UNSELECT\r\n");
	ASSERT_HAS(&b, "u OK UNSELECT completed");
	still_works(&b);
}
END_TEST

START_TEST(test_status)
{
	append(&a, "INBOX", "(\\Deleted) ", msg1);
	append(&a, "INBOX", "", msg1);
	/* item 3: DELETED and SIZE */
	say(&b, "t STATUS INBOX (MESSAGES DELETED SIZE)\r\n");
	ASSERT_HAS(&b, "* STATUS INBOX (MESSAGES 2 DELETED 1 SIZE ");
	ASSERT_HAS(&b, "t OK STATUS completed");
	/* item 12 and Appendix A: no RECENT data for IMAP4rev2 */
	say(&b, "r STATUS INBOX (MESSAGES RECENT)\r\n");
	ASSERT_HAS(&b, "r BAD No STATUS RECENT in IMAP4rev2");
	say(&b, "r2 LIST \"\" INBOX RETURN (STATUS (RECENT))\r\n");
	ASSERT_HAS(&b, "r2 BAD");
	say(&a, "r STATUS INBOX (RECENT)\r\n");
	ASSERT_HAS(&a, "* STATUS INBOX (RECENT 2)\r\n");
	still_works(&b);
}
END_TEST

START_TEST(test_utf8_names)
{
	/* a UTF-8 name is IMAP4rev2 syntax: an IMAP4rev1 session refuses
	 * it (RFC 3501 5.1.3) */
	say(&a, "c CREATE \"\xc3\x9c" "ber\"\r\n");
	ASSERT_HAS(&a, "c NO Mailbox name is not valid modified UTF-7");
	say(&a, "c2 CREATE \"&ANw-ber\"\r\n");
	ASSERT_HAS(&a, "c2 OK");
	/* the same folder is "Über" for IMAP4rev2 (RFC 9051 5.1) */
	say(&b, "l LIST \"\" \"*ber\"\r\n");
	ASSERT_HAS(&b, "* LIST (\\HasNoChildren) \"/\" \"\xc3\x9c" "ber\"\r\n");
	say(&b, "c CREATE \"Gr\xc3\xb6\xc3\x9f" "e & mehr\"\r\n");
	ASSERT_HAS(&b, "c OK");
	say(&a, "l LIST \"\" \"Gr*\"\r\n");
	ASSERT_HAS(&a, "\"Gr&APYA3w-e &- mehr\"\r\n");
	say(&b, "l LIST \"\" \"Gr\xc3\xb6*\"\r\n");
	ASSERT_HAS(&b, "\"Gr\xc3\xb6\xc3\x9f" "e & mehr\"\r\n");
	/* the name written by an IMAP4rev1 client in modified UTF-7 is
	 * plain text to an IMAP4rev2 one */
	say(&b, "l2 LIST \"\" \"&ANw-ber\"\r\n");
	ASSERT_IS(&b, "l2 OK LIST completed\r\n");
	append(&b, "\"\xc3\x9c" "ber\"", "", msg1);
	say(&b, "t STATUS \"\xc3\x9c" "ber\" (MESSAGES)\r\n");
	ASSERT_HAS(&b, "* STATUS \"\xc3\x9c" "ber\" (MESSAGES 1)\r\n");
	say(&b, "s SELECT \"\xc3\x9c" "ber\"\r\n");
	ASSERT_HAS(&b, "* LIST (\\HasNoChildren) \"/\" \"\xc3\x9c" "ber\"\r\n");
	ASSERT_HAS(&b, "s OK [READ-WRITE]");
	say(&a, "t STATUS &ANw-ber (MESSAGES)\r\n");
	ASSERT_HAS(&a, "* STATUS &ANw-ber (MESSAGES 1)\r\n");
	/* bytes that are no UTF-8 */
	say(&b, "x CREATE \"bad\xff\xfe\"\r\n");
	ASSERT_HAS(&b, "x NO Mailbox name is not valid UTF-8");
	say(&b, "x2 COPY 1 \"\xc3\"\r\n");
	ASSERT_HAS(&b, "x2 NO Mailbox name is not valid UTF-8");
	still_works(&a);
	still_works(&b);
}
END_TEST

START_TEST(test_nonexistent)
{
	say(&a, "c CREATE p/q\r\n");
	ASSERT_HAS(&a, "c OK");
	say(&a, "d DELETE p\r\n");
	ASSERT_HAS(&a, "d OK");
	/* RFC 3501 6.3.8 for IMAP4rev1; RFC 9051 7.3.1 (\NonExistent
	 * implies \Noselect) for IMAP4rev2 */
	say(&a, "l LIST \"\" p\r\n");
	ASSERT_HAS(&a, "* LIST (\\Noselect \\HasChildren) \"/\" p\r\n");
	say(&b, "l LIST \"\" p\r\n");
	ASSERT_HAS(&b, "* LIST (\\NonExistent \\HasChildren) \"/\" p\r\n");
	say(&b, "l2 LIST \"\" p RETURN (STATUS (MESSAGES))\r\n");
	ASSERT_NOT(&b, "* STATUS");
	say(&b, "s SELECT p\r\n");
	ASSERT_HAS(&b, "s NO");
	still_works(&b);
}
END_TEST

START_TEST(test_copy_exists)
{
	append(&a, "INBOX", "", msg1);
	say(&a, "s SELECT INBOX\r\n");
	/* the EXISTS comes with the tagged reply, as with Dovecot */
	say(&a, "c COPY 1 INBOX\r\n");
	ASSERT_HAS(&a, "* 2 EXISTS\r\n* 2 RECENT\r\nc OK [COPYUID ");
	say(&a, "c2 COPY 1 Trash\r\n");
	ASSERT_NOT(&a, "EXISTS");
	ASSERT_HAS(&a, "c2 OK [COPYUID ");
	/* an expunge made elsewhere comes first: COPY is not one of the
	 * commands that hold EXPUNGE back (RFC 3501 7.4.1) */
	say(&b, "s SELECT INBOX\r\n");
	say(&b, "x STORE 2 +FLAGS.SILENT (\\Deleted)\r\n");
	say(&b, "x2 EXPUNGE\r\n");
	ASSERT_HAS(&b, "x2 OK");
	say(&a, "c3 COPY 1 INBOX\r\n");
	ASSERT_HAS(&a, "* 2 EXPUNGE\r\n* 2 EXISTS\r\n");
	ASSERT_HAS(&a, "c3 OK [COPYUID ");
	/* IMAP4rev2: no RECENT with it */
	say(&b, "c COPY 1 INBOX\r\n");
	ASSERT_HAS(&b, "* 3 EXISTS\r\nc OK [COPYUID ");
	say(&a, "n NOOP\r\n");
	ASSERT_HAS(&a, "* 3 EXISTS\r\n");
	say(&a, "f FETCH 1:* (UID)\r\n");
	ASSERT_HAS(&a, "* 3 FETCH (UID 4)\r\n");
	still_works(&a);
}
END_TEST

START_TEST(test_fetch_empty_mailbox)
{
	say(&a, "s SELECT INBOX\r\n");
	ASSERT_HAS(&a, "* 0 EXISTS\r\n");
	/* RFC 3501 9 (seq-number): "*" in an empty mailbox is BAD; Dovecot
	 * 2.3 answers "BAD Error in IMAP command FETCH: Invalid messageset"
	 * to each of these */
	say(&a, "f FETCH 1:* FLAGS\r\n");
	ASSERT_IS(&a, "f BAD No messages in the mailbox\r\n");
	say(&a, "f2 STORE 1:* +FLAGS (\\Seen)\r\n");
	ASSERT_IS(&a, "f2 BAD No messages in the mailbox\r\n");
	say(&a, "f3 COPY 1:* Trash\r\n");
	ASSERT_IS(&a, "f3 BAD No messages in the mailbox\r\n");
	/* ... and OK with nothing to these, as Dovecot */
	say(&a, "u UID FETCH 1:* FLAGS\r\n");
	ASSERT_IS(&a, "u OK FETCH completed\r\n");
	say(&a, "q SEARCH 1:*\r\n");
	ASSERT_IS(&a, "* SEARCH\r\nq OK SEARCH completed\r\n");
	append(&a, "INBOX", "", msg1);
	say(&a, "f4 FETCH 1:* FLAGS\r\n");
	ASSERT_HAS(&a, "* 1 FETCH (FLAGS (\\Recent))\r\n");
	ASSERT_HAS(&a, "f4 OK");
}
END_TEST

Suite *unit_suite(void)
{
	Suite *suite = suite_create("imap-rev2");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_capability_and_enable);
	tcase_add_test(tc, test_select);
	tcase_add_test(tc, test_recent_flag);
	tcase_add_test(tc, test_updates);
	tcase_add_test(tc, test_search_esearch);
	tcase_add_test(tc, test_folded_extensions);
	tcase_add_test(tc, test_status);
	tcase_add_test(tc, test_utf8_names);
	tcase_add_test(tc, test_nonexistent);
	tcase_add_test(tc, test_copy_exists);
	tcase_add_test(tc, test_fetch_empty_mailbox);
	suite_add_tcase(suite, tc);
	return suite;
}
