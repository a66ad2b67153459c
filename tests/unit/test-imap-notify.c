/* NOTIFY (RFC 5465) through test sessions on a temporary instance: the
 * STATUS indicator, events of other mailboxes (STATUS), of the selected
 * one (EXISTS, FETCH, EXPUNGE), of the folder list (LIST), delivered
 * between commands and in IDLE, NOTIFY NONE, and the bad input. */
#include "tests/unit/imap-pair.h"

#include "imapd/notify.h"
#include "maildir/notify.h"
#include "tests/unit/maildir-helpers.h"

static void setup(void)
{
	pair_start(true);
}

static void teardown(void)
{
	pair_stop();
}

/* What the session pushed once the store's notification was dispatched
 * (conn.c does this when the inotify descriptor is readable): no
 * command of its own ran. */
static const char *pushed(struct client *c)
{
	maildir_notify_dispatch();
	free(c->got);
	c->got = strdup(buf_cstr(&c->io.out));
	buf_clear(&c->io.out);
	return c->got;
}

/* The session still serves a normal command. */
START_TEST(test_status_indicator)
{
	say(&a, "c CREATE Other\r\n");
	append(&a, "Other", "", msg1);
	/* RFC 5465 3.1: the items each event needs, before the OK */
	say(&a, "n NOTIFY SET STATUS (MAILBOXES Other (MessageExpunge))\r\n");
	ASSERT_HAS(&a, "* STATUS Other (MESSAGES 1)\r\nn OK NOTIFY completed");
	say(&a, "n NOTIFY SET STATUS (MAILBOXES Other (MessageNew))\r\n");
	ASSERT_HAS(&a, "* STATUS Other (MESSAGES 1 UIDNEXT 2 UIDVALIDITY ");
	say(&a, "n NOTIFY SET STATUS (MAILBOXES (Other) (FlagChange))\r\n");
	ASSERT_HAS(&a, "* STATUS Other (UIDVALIDITY ");
	ASSERT_HAS(&a, " HIGHESTMODSEQ ");
	ASSERT_NOT(&a, "MESSAGES");
	/* without the indicator: none */
	say(&a, "n NOTIFY SET (MAILBOXES Other (MessageNew MessageExpunge "
	    "FlagChange))\r\n");
	ck_assert_str_eq(a.got, "n OK NOTIFY completed\r\n");
	/* PERSONAL: every mailbox but the selected one */
	say(&a, "s SELECT INBOX\r\n");
	say(&a, "n notify set status (personal (MessageNew MessageExpunge))\r\n");
	ASSERT_HAS(&a, "* STATUS Other (MESSAGES 1 UIDNEXT 2 UIDVALIDITY ");
	ASSERT_NOT(&a, "* STATUS INBOX");
	ASSERT_HAS(&a, "n OK NOTIFY completed");
}
END_TEST

START_TEST(test_other_mailbox_events)
{
	say(&a, "c CREATE Other\r\n");
	say(&a, "c CREATE Quiet\r\n");
	say(&a, "n NOTIFY SET (MAILBOXES Other (MessageNew MessageExpunge "
	    "FlagChange))\r\n");
	ASSERT_HAS(&a, "n OK");
	/* RFC 5465 5.2: another session's APPEND, between commands */
	append(&b, "Other", "", msg1);
	pushed(&a);
	ASSERT_HAS(&a, "* STATUS Other (MESSAGES 1 UIDNEXT 2 ");
	/* a mailbox not named: nothing */
	append(&b, "Quiet", "", msg1);
	ck_assert_str_eq(pushed(&a), "");
	/* RFC 5465 5.1: a flag change */
	say(&b, "s SELECT Other\r\n");
	say(&b, "f STORE 1 +FLAGS (\\Flagged)\r\n");
	pushed(&a);
	ASSERT_HAS(&a, "* STATUS Other (UIDVALIDITY ");
	ASSERT_HAS(&a, " HIGHESTMODSEQ ");
	/* RFC 5465 5.3: an expunge */
	say(&b, "d STORE 1 +FLAGS.SILENT (\\Deleted)\r\n");
	pushed(&a);
	say(&b, "e EXPUNGE\r\n");
	pushed(&a);
	ASSERT_HAS(&a, "* STATUS Other (MESSAGES 0 UIDNEXT 2 ");
	/* a delivery (SMTP) into INBOX, under PERSONAL */
	say(&a, "n NOTIFY SET (PERSONAL (MessageNew MessageExpunge))\r\n");
	ck_assert_int_eq(deliver_text(inst.mail, "alice", NULL, msg1), 0);
	pushed(&a);
	ASSERT_HAS(&a, "* STATUS INBOX (MESSAGES 1 UIDNEXT 2)\r\n");
	still_serves(&a);
}
END_TEST

START_TEST(test_selected_events)
{
	say(&a, "s SELECT INBOX\r\n");
	say(&a, "n NOTIFY SET (SELECTED (MessageNew MessageExpunge "
	    "FlagChange))\r\n");
	ASSERT_HAS(&a, "n OK");
	say(&b, "s SELECT INBOX\r\n");
	append(&b, "INBOX", "", msg1);
	pushed(&a);
	ASSERT_HAS(&a, "* 1 EXISTS\r\n");
	say(&b, "n NOOP\r\n");
	say(&b, "f STORE 1 +FLAGS (\\Flagged)\r\n");
	pushed(&a);
	ASSERT_HAS(&a, "* 1 FETCH (FLAGS (\\Flagged");
	say(&b, "d STORE 1 +FLAGS.SILENT (\\Deleted)\r\n");
	pushed(&a);
	say(&b, "e EXPUNGE\r\n");
	pushed(&a);
	ASSERT_HAS(&a, "* 1 EXPUNGE\r\n");
	/* the selected mailbox is not reported as STATUS */
	ASSERT_NOT(&a, "STATUS");
	still_serves(&a);
	/* SELECTED NONE (the default): nothing between commands */
	say(&a, "n NOTIFY SET (PERSONAL (MessageNew MessageExpunge))\r\n");
	append(&b, "INBOX", "", msg1);
	ck_assert_str_eq(pushed(&a), "");
	say(&a, "o NOOP\r\n");
	ASSERT_HAS(&a, "* 1 EXISTS");
}
END_TEST

START_TEST(test_message_new_fetch)
{
	say(&a, "s SELECT INBOX\r\n");
	say(&a, "n NOTIFY SET (SELECTED (MessageNew (UID "
	    "BODY.PEEK[HEADER.FIELDS (Subject)]) MessageExpunge))\r\n");
	ASSERT_HAS(&a, "n OK");
	append(&b, "INBOX", "", msg1);
	/* RFC 5465 5.2: EXISTS, then the FETCH asked for */
	pushed(&a);
	ASSERT_HAS(&a, "* 1 EXISTS\r\n");
	ASSERT_HAS(&a, "* 1 FETCH (UID 1 BODY[HEADER.FIELDS (SUBJECT)] {16}\r\n"
		   "Subject: one\r\n\r\n)\r\n");
	/* it did not set \Seen */
	say(&a, "f FETCH 1 FLAGS\r\n");
	ASSERT_NOT(&a, "\\Seen");
	still_serves(&a);
}
END_TEST

START_TEST(test_rev2_session)
{
	/* RFC 9051 Appendix E items 16 and 21: a client that enabled
	 * IMAP4rev2 gets UTF-8 names in STATUS and the UID in every
	 * unsolicited FETCH */
	say(&a, "c CREATE Entw&APw-rfe\r\n");
	ASSERT_HAS(&a, "c OK");
	say(&a, "e ENABLE IMAP4rev2\r\n");
	ASSERT_HAS(&a, "e OK");
	say(&a, "n NOTIFY SET STATUS (MAILBOXES \"Entw\xc3\xbcrfe\" "
	    "(MessageNew MessageExpunge))\r\n");
	ASSERT_HAS(&a, "* STATUS \"Entw\xc3\xbcrfe\" (MESSAGES 0 ");
	ASSERT_HAS(&a, "n OK NOTIFY completed");
	say(&a, "s SELECT INBOX\r\n");
	say(&a, "n NOTIFY SET (SELECTED (MessageNew (FLAGS) MessageExpunge))\r\n");
	ASSERT_HAS(&a, "n OK");
	append(&b, "INBOX", "", msg1);
	pushed(&a);
	ASSERT_HAS(&a, "* 1 EXISTS\r\n");
	ASSERT_HAS(&a, "* 1 FETCH (UID 1 ");
	still_serves(&a);
}
END_TEST
/* RFC 5465 6.1.2: SELECTED-DELAYED holds back only the expunges, until a
 * command that may report them (RFC 3501 7.4.1): new messages and flag
 * changes go out at once, as with SELECTED (Dovecot does the same). */
START_TEST(test_selected_delayed)
{
	append(&a, "INBOX", "", msg1);
	append(&a, "INBOX", "", msg1);
	say(&a, "s SELECT INBOX\r\n");
	say(&a, "n NOTIFY SET (SELECTED-DELAYED (MessageNew MessageExpunge "
	    "FlagChange))\r\n");
	ASSERT_HAS(&a, "n OK");
	say(&b, "s SELECT INBOX\r\n");
	say(&b, "d STORE 1 +FLAGS.SILENT (\\Deleted)\r\n");
	pushed(&a);
	ASSERT_HAS(&a, "* 1 FETCH (FLAGS (\\Deleted");
	say(&b, "e EXPUNGE\r\n");
	ck_assert_str_eq(pushed(&a), "");
	/* a new message between commands: the expunged one keeps its
	 * number, so the new one is 3 */
	append(&b, "INBOX", "", msg1);
	pushed(&a);
	ck_assert_msg(strncmp(a.got, "* 3 EXISTS\r\n", 12) == 0, "%s", a.got);
	ASSERT_NOT(&a, "EXPUNGE");
	say(&b, "f UID STORE 3 +FLAGS (\\Flagged)\r\n");
	pushed(&a);
	ASSERT_HAS(&a, "* 3 FETCH (FLAGS (\\Flagged");
	/* FETCH, STORE and SEARCH may not report it (RFC 3501 7.4.1) */
	say(&a, "f FETCH 1:* UID\r\n");
	ASSERT_HAS(&a, "* 1 FETCH (UID 1)\r\n");
	ASSERT_NOT(&a, "EXPUNGE");
	/* NOOP may */
	say(&a, "o NOOP\r\n");
	ck_assert_msg(strncmp(a.got, "* 1 EXPUNGE\r\n* 2 EXISTS\r\n", 25) == 0,
		      "%s", a.got);
	/* and IDLE: what is held goes out as it starts, later expunges
	 * at once */
	say(&b, "d STORE 1 +FLAGS.SILENT (\\Deleted)\r\n");
	say(&b, "e EXPUNGE\r\n");
	pushed(&a);
	ASSERT_NOT(&a, "EXPUNGE");
	say(&a, "i IDLE\r\n");
	ASSERT_HAS(&a, "+ idling\r\n* 1 EXPUNGE\r\n");
	say(&b, "d STORE 1 +FLAGS.SILENT (\\Deleted)\r\n");
	say(&b, "e EXPUNGE\r\n");
	pushed(&a);
	ASSERT_HAS(&a, "* 1 EXPUNGE\r\n");
	say(&a, "DONE\r\n");
	ASSERT_HAS(&a, "i OK IDLE terminated");
	still_serves(&a);
}
END_TEST

/* RFC 7162 3.2.10: no HIGHESTMODSEQ while an expunge is held back (a
 * client resyncing from it would never learn of the expunge). */
START_TEST(test_selected_delayed_condstore)
{
	append(&a, "INBOX", "", msg1);
	append(&a, "INBOX", "", msg1);
	say(&a, "c ENABLE CONDSTORE\r\n");
	say(&a, "s SELECT INBOX\r\n");
	say(&a, "n NOTIFY SET (SELECTED-DELAYED (MessageNew MessageExpunge))\r\n");
	ASSERT_HAS(&a, "n OK");
	say(&b, "s SELECT INBOX\r\n");
	say(&b, "d STORE 1 +FLAGS.SILENT (\\Deleted)\r\n");
	say(&b, "e EXPUNGE\r\n");
	append(&b, "INBOX", "", msg1);
	pushed(&a);
	ASSERT_HAS(&a, "* 3 EXISTS\r\n");
	ASSERT_NOT(&a, "HIGHESTMODSEQ");
	ASSERT_NOT(&a, "EXPUNGE");
	say(&a, "o NOOP\r\n");
	ASSERT_HAS(&a, "* 1 EXPUNGE\r\n");
	ASSERT_HAS(&a, "* OK [HIGHESTMODSEQ ");
	still_serves(&a);
}
END_TEST

START_TEST(test_mailbox_name_events)
{
	say(&a, "n NOTIFY SET (PERSONAL (MailboxName SubscriptionChange))\r\n");
	ASSERT_HAS(&a, "n OK");
	/* RFC 5465 5.4 */
	say(&b, "c CREATE Projects\r\n");
	pushed(&a);
	ASSERT_HAS(&a, "* LIST (\\HasNoChildren) \"/\" Projects\r\n");
	/* RFC 5465 5.5 */
	say(&b, "u SUBSCRIBE Projects\r\n");
	pushed(&a);
	ASSERT_HAS(&a, "* LIST (\\HasNoChildren \\Subscribed) \"/\" Projects\r\n");
	say(&b, "u UNSUBSCRIBE Projects\r\n");
	pushed(&a);
	ASSERT_HAS(&a, "* LIST (\\HasNoChildren) \"/\" Projects\r\n");
	/* a rename: the new name with OLDNAME, nothing for the old name */
	say(&b, "r RENAME Projects Plans\r\n");
	ASSERT_HAS(&b, "r OK");
	ck_assert_str_eq(pushed(&a), "* LIST (\\HasNoChildren) \"/\" Plans "
			 "(\"OLDNAME\" (Projects))\r\n");
	say(&b, "r RENAME Plans Projects\r\n");
	pushed(&a);
	say(&b, "d DELETE Projects\r\n");
	pushed(&a);
	ASSERT_HAS(&a, "* LIST (\\NonExistent) \"/\" Projects\r\n");
	/* a mailbox made later is watched for message events too */
	say(&a, "n NOTIFY SET (PERSONAL (MessageNew MessageExpunge "
	    "MailboxName))\r\n");
	say(&b, "c CREATE Later\r\n");
	pushed(&a);
	ASSERT_HAS(&a, "\"/\" Later\r\n");
	append(&b, "Later", "", msg1);
	pushed(&a);
	ASSERT_HAS(&a, "* STATUS Later (MESSAGES 1 UIDNEXT 2)\r\n");
	still_serves(&a);
}
END_TEST

/* RFC 5465 5.4: each mailbox a RENAME moves (children too) is one LIST
 * of its new name with OLDNAME, both names written as the client writes
 * names: quoted when needed, modified UTF-7, or UTF-8 after ENABLE
 * IMAP4rev2 (RFC 9051 Appendix E). */
START_TEST(test_rename_oldname)
{
	struct client c;

	say(&b, "c CREATE \"Old Box/Entw&APw-rfe\"\r\n");
	ASSERT_HAS(&b, "c OK");
	say(&a, "n NOTIFY SET (PERSONAL (MailboxName))\r\n");
	ASSERT_HAS(&a, "n OK");
	client_login(&c, &inst);
	say(&c, "e ENABLE IMAP4rev2\r\n");
	say(&c, "n NOTIFY SET (SUBTREE \"Old Box\" (MailboxName))\r\n");
	ASSERT_HAS(&c, "n OK");
	say(&b, "r RENAME \"Old Box\" New\r\n");
	ASSERT_HAS(&b, "r OK");
	pushed(&a);
	ASSERT_HAS(&a, "* LIST (\\HasChildren) \"/\" New "
		   "(\"OLDNAME\" (\"Old Box\"))\r\n");
	ASSERT_HAS(&a, "* LIST (\\HasNoChildren) \"/\" New/Entw&APw-rfe "
		   "(\"OLDNAME\" (\"Old Box/Entw&APw-rfe\"))\r\n");
	ASSERT_NOT(&a, "NonExistent");
	/* watched by the old name only: still told */
	pushed(&c);
	ASSERT_HAS(&c, "* LIST (\\HasNoChildren) \"/\" \"New/Entw\xc3\xbcrfe\" "
		   "(\"OLDNAME\" (\"Old Box/Entw\xc3\xbcrfe\"))\r\n");
	/* a delete and a create are not a rename */
	say(&b, "d DELETE New/Entw&APw-rfe\r\n");
	say(&b, "c CREATE Fresh\r\n");
	pushed(&a);
	ASSERT_HAS(&a, "* LIST (\\NonExistent) \"/\" New/Entw&APw-rfe\r\n");
	ASSERT_HAS(&a, "* LIST (\\HasNoChildren) \"/\" Fresh\r\n");
	ASSERT_NOT(&a, "OLDNAME");
	still_serves(&a);
	still_serves(&c);
	client_close(&c);
}
END_TEST

/* RFC 5465 5: the server SHOULD NOT tell the client what it did itself
 * (e.g. its own CREATE); others' changes made meanwhile are told. */
START_TEST(test_own_changes)
{
	say(&a, "c CREATE Other\r\n");
	say(&a, "n NOTIFY SET (PERSONAL (MessageNew MessageExpunge FlagChange "
	    "MailboxName SubscriptionChange))\r\n");
	ASSERT_HAS(&a, "n OK");
	say(&a, "c CREATE Mine/Sub\r\n");
	ASSERT_IS(&a, "c OK CREATE completed\r\n");
	ck_assert_str_eq(pushed(&a), "");
	say(&a, "u SUBSCRIBE Mine/Sub\r\n");
	ck_assert_str_eq(pushed(&a), "");
	say(&a, "r RENAME Mine Ours\r\n");
	ASSERT_HAS(&a, "r OK");
	ck_assert_str_eq(pushed(&a), "");
	append(&a, "Ours/Sub", "", msg1);
	ck_assert_str_eq(pushed(&a), "");
	/* COPY and MOVE into a watched mailbox */
	say(&a, "s SELECT Ours/Sub\r\n");
	say(&a, "k COPY 1 Other\r\n");
	ASSERT_HAS(&a, "k OK [COPYUID ");
	ck_assert_str_eq(pushed(&a), "");
	/* what it does in the selected mailbox is not told after it */
	say(&a, "f STORE 1 +FLAGS (\\Flagged)\r\n");
	say(&a, "m MOVE 1 Other\r\n");
	ASSERT_HAS(&a, "m OK");
	pushed(&a);
	say(&a, "x CLOSE\r\n");
	ck_assert_str_eq(pushed(&a), "");
	/* another session's change at the same time is still told */
	say(&b, "c CREATE Theirs\r\n");
	say(&a, "d DELETE Ours/Sub\r\n");
	ASSERT_IS(&a, "d OK DELETE completed\r\n");
	pushed(&a);
	ASSERT_IS(&a, "* LIST (\\HasNoChildren) \"/\" Theirs\r\n");
	append(&b, "Other", "", msg1);
	pushed(&a);
	ASSERT_HAS(&a, "* STATUS Other (MESSAGES 3 UIDNEXT 4 ");
	still_serves(&a);
}
END_TEST

/* In the selected mailbox the client's own changes come once, in the
 * replies to its commands (RFC 3501 7.4.1), never again as events; its
 * own APPEND gets no MessageNew FETCH (RFC 5465 5.2). */
START_TEST(test_own_selected_changes)
{
	append(&a, "INBOX", "", msg1);
	say(&a, "s SELECT INBOX\r\n");
	say(&a, "n NOTIFY SET (SELECTED (MessageNew (UID FLAGS) MessageExpunge "
	    "FlagChange))\r\n");
	ASSERT_HAS(&a, "n OK");
	say(&a, "f STORE 1 +FLAGS (\\Flagged)\r\n");
	ASSERT_HAS(&a, "* 1 FETCH (FLAGS (\\Flagged");
	ck_assert_str_eq(pushed(&a), "");
	append(&a, "INBOX", "", msg1);
	ASSERT_HAS(&a, "* 2 EXISTS\r\n");
	ASSERT_NOT(&a, "FETCH");
	ck_assert_str_eq(pushed(&a), "");
	say(&a, "d STORE 1 +FLAGS.SILENT (\\Deleted)\r\n");
	ASSERT_IS(&a, "d OK STORE completed\r\n");
	say(&a, "e EXPUNGE\r\n");
	ASSERT_HAS(&a, "* 1 EXPUNGE\r\n");
	ck_assert_str_eq(pushed(&a), "");
	/* another session's, as before */
	append(&b, "INBOX", "", msg1);
	pushed(&a);
	ASSERT_HAS(&a, "* 2 EXISTS\r\n");
	ASSERT_HAS(&a, "* 2 FETCH (UID 3 FLAGS (");
	still_serves(&a);
}
END_TEST

START_TEST(test_idle_and_none)
{
	say(&a, "c CREATE Other\r\n");
	say(&a, "s SELECT INBOX\r\n");
	say(&a, "n NOTIFY SET (SELECTED (MessageNew MessageExpunge)) "
	    "(MAILBOXES Other (MessageNew MessageExpunge))\r\n");
	say(&a, "i IDLE\r\n");
	ck_assert_str_eq(a.got, "+ idling\r\n");
	/* RFC 5465 4: during IDLE the same events */
	append(&b, "Other", "", msg1);
	pushed(&a);
	ASSERT_HAS(&a, "* STATUS Other (MESSAGES 1 UIDNEXT 2)\r\n");
	append(&b, "INBOX", "", msg1);
	pushed(&a);
	ASSERT_HAS(&a, "* 1 EXISTS\r\n");
	say(&a, "DONE\r\n");
	ASSERT_HAS(&a, "i OK IDLE terminated");
	/* NOTIFY NONE: nothing any more */
	say(&a, "n NOTIFY NONE\r\n");
	ASSERT_HAS(&a, "n OK NOTIFY completed");
	append(&b, "Other", "", msg1);
	append(&b, "INBOX", "", msg1);
	ck_assert_str_eq(pushed(&a), "");
	/* and IDLE is plain RFC 2177 IDLE again */
	say(&a, "i IDLE\r\n");
	ASSERT_HAS(&a, "* 2 EXISTS");
	say(&a, "DONE\r\n");
	still_serves(&a);
}
END_TEST

/* After COMPRESS's OK every byte is compressed (RFC 4978 3): nothing
 * goes out between that OK and the switch, which the I/O layer makes. */
START_TEST(test_nothing_before_compress)
{
	say(&a, "c CREATE Other\r\n");
	say(&a, "n NOTIFY SET (MAILBOXES Other (MessageNew MessageExpunge))\r\n");
	say(&a, "z COMPRESS DEFLATE\r\n");
	ASSERT_HAS(&a, "z OK");
	ck_assert(a.io.compress);
	append(&b, "Other", "", msg1);
	ck_assert_str_eq(pushed(&a), "");
}
END_TEST

/* A NOTIFY that fails leaves the state as it was. */
static void refused(const char *cmd, const char *reply)
{
	say(&a, cmd);
	ASSERT_HAS(&a, reply);
	ASSERT_NOT(&a, "OK NOTIFY");
	still_serves(&a);
}

START_TEST(test_bad_input)
{
	char line[4096];
	size_t n;

	say(&a, "c CREATE Other\r\n");
	/* unknown filter, garbage, missing parts, unbalanced */
	refused("x NOTIFY SET (NOWHERE (MessageNew MessageExpunge))\r\n",
		"x BAD Unknown NOTIFY mailbox filter");
	refused("x NOTIFY garbage\r\n", "x BAD Expected NOTIFY SET or NOTIFY NONE");
	refused("x NOTIFY\r\n", "x BAD");
	refused("x NOTIFY SET\r\n", "x BAD");
	refused("x NOTIFY SET (PERSONAL (MessageNew MessageExpunge)\r\n", "x BAD");
	refused("x NOTIFY SET (PERSONAL ())\r\n", "x BAD");
	refused("x NOTIFY SET (PERSONAL (MessageNew)) junk\r\n", "x BAD");
	refused("x NOTIFY NONE extra\r\n", "x BAD");
	refused("x NOTIFY SET (SUBTREE (MessageNew MessageExpunge))\r\n", "x BAD");
	/* RFC 5465 3.1: unknown and unsupported events are NO [BADEVENT] */
	refused("x NOTIFY SET (PERSONAL (Teleport))\r\n",
		"x NO [BADEVENT (MessageNew MessageExpunge FlagChange "
		"MailboxName SubscriptionChange)]");
	refused("x NOTIFY SET (PERSONAL (MessageNew MessageExpunge "
		"AnnotationChange))\r\n", "x NO [BADEVENT (");
	refused("x NOTIFY SET (PERSONAL (MailboxMetadataChange))\r\n",
		"x NO [BADEVENT (");
	refused("x NOTIFY SET (PERSONAL (ServerMetadataChange))\r\n",
		"x NO [BADEVENT (");
	/* RFC 5465 5: MessageNew without MessageExpunge, FlagChange alone */
	refused("x NOTIFY SET (SELECTED (MessageNew))\r\n",
		"x BAD MessageNew and MessageExpunge must be given together");
	refused("x NOTIFY SET (SELECTED (MessageExpunge))\r\n", "x BAD");
	refused("x NOTIFY SET (SELECTED-DELAYED (FlagChange))\r\n",
		"x BAD FlagChange needs MessageNew and MessageExpunge");
	/* RFC 5465 6.1 */
	refused("x NOTIFY SET (SELECTED (MailboxName))\r\n",
		"x BAD Only message events are allowed for the selected mailbox");
	refused("x NOTIFY SET (SELECTED (MessageNew MessageExpunge)) "
		"(SELECTED-DELAYED NONE)\r\n",
		"x BAD Only one SELECTED or SELECTED-DELAYED group is allowed");
	/* RFC 5465 5.2: fetch attributes for the selected mailbox, that
	 * do not set \Seen */
	refused("x NOTIFY SET (PERSONAL (MessageNew (UID) MessageExpunge))\r\n",
		"x BAD MessageNew fetch attributes are for the selected");
	refused("x NOTIFY SET (SELECTED (MessageNew (BODY[]) "
		"MessageExpunge))\r\n", "x BAD MessageNew fetch attributes "
		"must not set \\Seen");
	refused("x NOTIFY SET (SELECTED (MessageNew (NOSUCH) "
		"MessageExpunge))\r\n", "x BAD");
	/* too many names */
	n = (size_t)snprintf(line, sizeof(line), "x NOTIFY SET (MAILBOXES (");
	for (int i = 0; i <= NOTIFY_MAX_NAMES; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%sm%d",
				      i > 0 ? " " : "", i);
	snprintf(line + n, sizeof(line) - n, ") (MessageNew))\r\n");
	refused(line, "x NO [NOTIFICATIONOVERFLOW]");
	/* a name that is no mailbox is ignored (RFC 5465 3.1) */
	say(&a, "m NOTIFY SET STATUS (MAILBOXES (Missing Other) (MessageNew "
	    "MessageExpunge))\r\n");
	ASSERT_HAS(&a, "* STATUS Other (");
	ASSERT_NOT(&a, "Missing");
	ASSERT_HAS(&a, "m OK NOTIFY completed");
	/* the last good NOTIFY is still in force after refused ones */
	refused("x NOTIFY SET (NOWHERE (MessageNew))\r\n", "x BAD");
	append(&b, "Other", "", msg1);
	pushed(&a);
	ASSERT_HAS(&a, "* STATUS Other (MESSAGES 1 UIDNEXT 2)\r\n");
	still_serves(&a);
}
END_TEST

START_TEST(test_not_authenticated)
{
	struct client c;

	client_open(&c, &inst);
	say(&c, "x NOTIFY NONE\r\n");
	ASSERT_HAS(&c, "x BAD Command not valid before login");
	say(&c, "y CAPABILITY\r\n");
	ASSERT_HAS(&c, "y OK");
	ASSERT_NOT(&c, "NOTIFY");
	client_close(&c);
	say(&a, "y CAPABILITY\r\n");
	ASSERT_HAS(&a, " NOTIFY");
}
END_TEST

Suite *unit_suite(void)
{
	Suite *suite = suite_create("imap-notify");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_status_indicator);
	tcase_add_test(tc, test_other_mailbox_events);
	tcase_add_test(tc, test_selected_events);
	tcase_add_test(tc, test_message_new_fetch);
	tcase_add_test(tc, test_rev2_session);
	tcase_add_test(tc, test_selected_delayed);
	tcase_add_test(tc, test_selected_delayed_condstore);
	tcase_add_test(tc, test_mailbox_name_events);
	tcase_add_test(tc, test_rename_oldname);
	tcase_add_test(tc, test_own_changes);
	tcase_add_test(tc, test_own_selected_changes);
	tcase_add_test(tc, test_idle_and_none);
	tcase_add_test(tc, test_nothing_before_compress);
	tcase_add_test(tc, test_bad_input);
	tcase_add_test(tc, test_not_authenticated);
	suite_add_tcase(suite, tc);
	return suite;
}
