/* IMAP mailbox commands (RFC 3501 6.3, 6.4) through test sessions on a
 * temporary instance: SELECT, APPEND, FETCH, STORE, SEARCH, COPY, EXPUNGE,
 * folders, and updates between two sessions. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include "tests/unit/imap-client.h"

#include "maildir/deliver.h"

static struct instance inst;
static struct client a, b;

static const char msg1[] =
	"From: Alice <alice@lab.test>\r\n"
	"To: bob@lab.test\r\n"
	"Subject: hello world\r\n"
	"Date: Mon, 2 Feb 2026 10:00:00 +0000\r\n"
	"Message-ID: <1@lab.test>\r\n"
	"\r\n"
	"first body line\r\n"
	"the word banana\r\n";

static const char msg2[] =
	"From: bob@lab.test\r\n"
	"Subject: =?UTF-8?Q?caf=C3=A9?= menu\r\n"
	"Date: Tue, 3 Mar 2026 10:00:00 +0000\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=XX\r\n"
	"\r\n"
	"--XX\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n"
	"\r\n"
	"Cr=C3=A8me br=C3=BBl=C3=A9e\r\n"
	"--XX\r\n"
	"Content-Type: text/html\r\n"
	"\r\n"
	"<p>hi</p>\r\n"
	"--XX--\r\n";

/* Moves every file of alice's INBOX from one subdirectory to another. */
/* Sets alice's INBOX cur/ ten seconds back, so that the next sync takes
 * its mtime as settled (maildir/sync.c) and move_files can hide behind
 * it. */
static void backdate_cur(void)
{
	char dir[4800];
	struct timespec ts[2];

	snprintf(dir, sizeof(dir), "%s/alice/cur", inst.mail);
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= 10;
	ts[1] = ts[0];
	ck_assert_int_eq(utimensat(AT_FDCWD, dir, ts, 0), 0);
}

/* Moves the files of alice's INBOX from one subdirectory to another and
 * puts both directories' times back: the index still lists the messages
 * while their files cannot be read, the race of a FETCH with another
 * agent removing files before any sync saw it (the sync at the end of
 * each command goes by cur/'s mtime and would make it an expunge). */
static void move_files(const char *from, const char *to)
{
	char path[4800], dst[4800], from_dir[4800], to_dir[4800];
	struct stat st_from, st_to;
	struct timespec ts[2];
	struct dirent *de;
	DIR *d;

	snprintf(from_dir, sizeof(from_dir), "%s/alice/%s", inst.mail, from);
	snprintf(to_dir, sizeof(to_dir), "%s/alice/%s", inst.mail, to);
	ck_assert_int_eq(stat(from_dir, &st_from), 0);
	ck_assert_int_eq(stat(to_dir, &st_to), 0);
	snprintf(path, sizeof(path), "%s/alice/%s", inst.mail, from);
	d = opendir(path);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/alice/%s/%s", inst.mail, from,
			 de->d_name);
		snprintf(dst, sizeof(dst), "%s/alice/%s/%s", inst.mail, to,
			 de->d_name);
		ck_assert_int_eq(rename(path, dst), 0);
	}
	closedir(d);
	ts[0] = st_from.st_atim;
	ts[1] = st_from.st_mtim;
	ck_assert_int_eq(utimensat(AT_FDCWD, from_dir, ts, 0), 0);
	ts[0] = st_to.st_atim;
	ts[1] = st_to.st_mtim;
	ck_assert_int_eq(utimensat(AT_FDCWD, to_dir, ts, 0), 0);
}

static void setup(void)
{
	/* default literal limit, unlike instance_start() */
	instance_create(&inst);
	client_login(&a, &inst);
	memset(&b, 0, sizeof(b));
}

static void teardown(void)
{
	if (b.sess != NULL)
		client_close(&b);
	instance_stop(&inst, &a);
}

START_TEST(test_select_empty)
{
	say(&a, "s SELECT INBOX\r\n");
	ASSERT_HAS(&a, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n");
	ASSERT_HAS(&a, "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted "
		   "\\Seen \\Draft \\*)]");
	ASSERT_HAS(&a, "* 0 EXISTS\r\n* 0 RECENT\r\n");
	ASSERT_HAS(&a, "* OK [UIDVALIDITY ");
	ASSERT_HAS(&a, "* OK [UIDNEXT 1]");
	ASSERT_HAS(&a, "s OK [READ-WRITE] SELECT completed\r\n");
	/* sequence numbers on an empty mailbox */
	say(&a, "f FETCH 1:* FLAGS\r\n");
	ASSERT_HAS(&a, "f BAD");
	say(&a, "g FETCH * FLAGS\r\n");
	ASSERT_HAS(&a, "g BAD");
	say(&a, "u UID FETCH *:* FLAGS\r\n");
	ck_assert_str_eq(a.got, "u OK FETCH completed\r\n");
	say(&a, "v SEARCH ALL\r\n");
	ck_assert_str_eq(a.got, "* SEARCH\r\nv OK SEARCH completed\r\n");
	say(&a, "x SELECT nosuch\r\n");
	ASSERT_HAS(&a, "x NO [NONEXISTENT]");
	/* a failed SELECT leaves the selected state */
	say(&a, "y NOOP\r\n");
	say(&a, "z FETCH 1 FLAGS\r\n");
	ASSERT_HAS(&a, "z BAD Command not valid in this state");
}
END_TEST

START_TEST(test_append_fetch)
{
	append(&a, "INBOX", "(\\Flagged $Work) \"02-Feb-2026 10:00:00 +0000\" ",
	       msg1);
	append(&a, "INBOX", "", msg2);
	say(&a, "s SELECT INBOX\r\n");
	ASSERT_HAS(&a, "* 2 EXISTS\r\n* 2 RECENT\r\n");
	ASSERT_HAS(&a, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work)");
	ASSERT_HAS(&a, "* OK [UNSEEN 1]");
	say(&a, "f FETCH 1 (FLAGS UID RFC822.SIZE INTERNALDATE)\r\n");
	{
		char want[256];

		snprintf(want, sizeof(want), "* 1 FETCH (UID 1 FLAGS (\\Flagged "
			 "\\Recent $Work) INTERNALDATE \"02-Feb-2026 10:00:00 +0000\" "
			 "RFC822.SIZE %zu)\r\nf OK FETCH completed\r\n",
			 strlen(msg1));
		ck_assert_str_eq(a.got, want);
	}
	say(&a, "e FETCH 1 ENVELOPE\r\n");
	ASSERT_HAS(&a, "* 1 FETCH (ENVELOPE (\"Mon, 2 Feb 2026 10:00:00 +0000\" "
		   "\"hello world\" ((\"Alice\" NIL \"alice\" \"lab.test\")) "
		   "((\"Alice\" NIL \"alice\" \"lab.test\")) "
		   "((\"Alice\" NIL \"alice\" \"lab.test\")) "
		   "((NIL NIL \"bob\" \"lab.test\")) NIL NIL NIL \"<1@lab.test>\"))");
	/* a PEEK does not set \Seen; the header fields come back filtered */
	say(&a, "h FETCH 1 BODY.PEEK[HEADER.FIELDS (Subject)]\r\n");
	ck_assert_str_eq(a.got, "* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {24}\r\n"
			 "Subject: hello world\r\n\r\n)\r\nh OK FETCH completed\r\n");
	/* once fetched, the header and the structure come from the index's
	 * cache: they are served even with the files moved away */
	say(&a, "h1 FETCH 1:2 BODYSTRUCTURE\r\n");
	backdate_cur();
	say(&a, "n NOOP\r\n");
	move_files("cur", "tmp");
	say(&a, "h2 FETCH 1 BODY.PEEK[HEADER.FIELDS (Subject)]\r\n");
	ck_assert_str_eq(a.got, "* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {24}\r\n"
			 "Subject: hello world\r\n\r\n)\r\nh2 OK FETCH completed\r\n");
	say(&a, "h3 FETCH 2 (BODY.PEEK[HEADER.FIELDS.NOT (Subject Date From MIME-Version)] BODYSTRUCTURE)\r\n");
	/* the file is gone and the cache cannot answer it all: the message
	 * is still answered, with NIL for what needs the file, and FETCH
	 * succeeds with EXPUNGEISSUED (RFC 2180 4.1, RFC 5530 3; as Dovecot) */
	ck_assert_str_eq(a.got, "* 2 FETCH (BODYSTRUCTURE (\"text\" \"plain\" "
			 "NIL NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL) "
			 "BODY[HEADER.FIELDS.NOT (SUBJECT DATE FROM MIME-VERSION)] NIL)\r\n"
			 "h3 OK [EXPUNGEISSUED] Some messages were already expunged\r\n");
	say(&a, "h4 FETCH 2 BODYSTRUCTURE\r\n");
	ASSERT_HAS(&a, "* 2 FETCH (BODYSTRUCTURE ((\"text\" \"plain\"");
	ASSERT_HAS(&a, "h4 OK");
	say(&a, "h5 FETCH 1 BODY.PEEK[TEXT]\r\n");
	ck_assert_str_eq(a.got, "* 1 FETCH (BODY[TEXT] NIL)\r\n"
			 "h5 OK [EXPUNGEISSUED] Some messages were already expunged\r\n");
	say(&a, "h6 FETCH 1 (UID FLAGS ENVELOPE BODY BINARY.SIZE[1] BINARY.PEEK[] RFC822.SIZE)\r\n");
	{
		char want[512];

		snprintf(want, sizeof(want), "* 1 FETCH (UID 1 FLAGS (\\Flagged "
			 "\\Recent $Work) RFC822.SIZE %zu ENVELOPE (NIL NIL NIL NIL "
			 "NIL NIL NIL NIL NIL NIL) BODY (\"text\" \"plain\" NIL NIL "
			 "NIL \"7bit\" 0 0) BINARY.SIZE[1] 0 BINARY[] NIL)\r\n"
			 "h6 OK [EXPUNGEISSUED] Some messages were already expunged\r\n",
			 strlen(msg1));
		ck_assert_str_eq(a.got, want);
	}
	move_files("tmp", "cur");
	say(&a, "p FETCH 1 BODY[TEXT]<6.4>\r\n");
	ck_assert_str_eq(a.got, "* 1 FETCH (FLAGS (\\Seen \\Flagged \\Recent $Work) "
			 "BODY[TEXT]<6> {4}\r\nbody)\r\np OK FETCH completed\r\n");
	say(&a, "q FETCH 1 BODY[]<4294967295.10>\r\n");
	ck_assert_str_eq(a.got, "* 1 FETCH (BODY[]<4294967295> {0}\r\n)\r\n"
			 "q OK FETCH completed\r\n");
	say(&a, "r FETCH 1:* BODY.PEEK[99.99]\r\n");
	ASSERT_HAS(&a, "* 1 FETCH (BODY[99.99] NIL)");
	ASSERT_HAS(&a, "* 2 FETCH (BODY[99.99] NIL)");
	ASSERT_HAS(&a, "r OK");
	say(&a, "m FETCH 2 (BODY.PEEK[1] BODY.PEEK[2.MIME] BODYSTRUCTURE)\r\n");
	ASSERT_HAS(&a, "BODY[1] {27}\r\nCr=C3=A8me br=C3=BBl=C3=A9e BODY");
	ASSERT_HAS(&a, "BODY[2.MIME] {27}\r\nContent-Type: text/html\r\n\r\n)");
	ASSERT_HAS(&a, "BODYSTRUCTURE ((\"text\" \"plain\" (\"charset\" \"utf-8\") "
		   "NIL NIL \"quoted-printable\" 27 0 NIL NIL NIL NIL)");
	ASSERT_HAS(&a, " \"mixed\" (\"boundary\" \"XX\") NIL NIL NIL)");
	/* again, now from the parse cached in the index: the same */
	say(&a, "m2 FETCH 2 BODYSTRUCTURE\r\n");
	ASSERT_HAS(&a, "* 2 FETCH (BODYSTRUCTURE ((\"text\" \"plain\" (\"charset\" "
		   "\"utf-8\") NIL NIL \"quoted-printable\" 27 0 NIL NIL NIL NIL)"
		   "(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 9 0 "
		   "NIL NIL NIL NIL) "
		   "\"mixed\" (\"boundary\" \"XX\") NIL NIL NIL))\r\n");
	say(&a, "u UID FETCH 2 (RFC822.HEADER)\r\n");
	ASSERT_HAS(&a, "* 2 FETCH (UID 2 RFC822.HEADER {");
	say(&a, "all FETCH 1 ALL\r\n");
	ASSERT_HAS(&a, "FLAGS (");
	ASSERT_HAS(&a, "ENVELOPE (");
	say(&a, "full FETCH 2 FULL\r\n");
	ASSERT_HAS(&a, " BODY ((");
}
END_TEST

START_TEST(test_append_errors)
{
	say(&a, "a APPEND nosuch {3}\r\n");
	ASSERT_HAS(&a, "+ Ready");
	say(&a, "abc\r\n");
	ASSERT_HAS(&a, "a NO [TRYCREATE]");
	say(&a, "b APPEND INBOX {0}\r\n");
	ck_assert_str_eq(a.got, "b NO Cannot append an empty message\r\n");
	inst.cfg.max_message_size = 10;
	say(&a, "c APPEND INBOX {11}\r\n");
	ck_assert_str_eq(a.got, "c NO [TOOBIG] Message too big\r\n");
	say(&a, "d APPEND INBOX {11+}\r\n0123456789x\r\ne NOOP\r\n");
	ck_assert_str_eq(a.got, "d NO [TOOBIG] Message too big\r\n"
			 "e OK NOOP completed\r\n");
	/* a second message is MULTIAPPEND (RFC 3502, test-imap-interop.c) */
	say(&a, "m APPEND INBOX {3}\r\n");
	say(&a, "abc {3}\r\n");
	ASSERT_HAS(&a, "+ Ready");
	say(&a, "def\r\n");
	ASSERT_HAS(&a, "m OK [APPENDUID ");
	say(&a, "n APPEND INBOX {3}\r\n");
	say(&a, "ghi\r\n");
	ASSERT_HAS(&a, "n OK [APPENDUID ");
	say(&a, "f APPEND INBOX (\\Recent) {3}\r\n");
	ASSERT_HAS(&a, "+ Ready");
	say(&a, "abc\r\n");
	ASSERT_HAS(&a, "f BAD");
}
END_TEST

START_TEST(test_store_search_expunge)
{
	append(&a, "INBOX", "", msg1);
	append(&a, "INBOX", "", msg2);
	append(&a, "INBOX", "(\\Seen) ", msg1);
	say(&a, "s SELECT INBOX\r\n");
	say(&a, "a STORE 1 +FLAGS (\\Deleted $Junk)\r\n");
	/* a new keyword: the mailbox's flags are announced again (7.2.6) */
	ck_assert_str_eq(a.got, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen "
			 "\\Draft $Junk)\r\n* OK [PERMANENTFLAGS (\\Answered \\Flagged "
			 "\\Deleted \\Seen \\Draft $Junk \\*)] Flags permitted\r\n"
			 "* 1 FETCH (FLAGS (\\Deleted \\Recent $Junk))\r\n"
			 "a OK STORE completed\r\n");
	say(&a, "a2 STORE 1 +FLAGS ($Junk)\r\n");
	ck_assert_str_eq(a.got, "* 1 FETCH (FLAGS (\\Deleted \\Recent $Junk))\r\n"
			 "a2 OK STORE completed\r\n");
	say(&a, "b STORE 2 FLAGS.SILENT \\Answered\r\n");
	ck_assert_str_eq(a.got, "b OK STORE completed\r\n");
	say(&a, "c UID STORE 3 -FLAGS (\\Seen)\r\n");
	ck_assert_str_eq(a.got, "* 3 FETCH (UID 3 FLAGS (\\Recent))\r\n"
			 "c OK STORE completed\r\n");
	say(&a, "d STORE 1 FLAGS (\\Recent)\r\n");
	ASSERT_HAS(&a, "d BAD");
	say(&a, "e STORE 4 FLAGS (\\Seen)\r\n");
	ASSERT_HAS(&a, "e BAD");

	say(&a, "f SEARCH DELETED\r\n");
	ck_assert_str_eq(a.got, "* SEARCH 1\r\nf OK SEARCH completed\r\n");
	say(&a, "g SEARCH OR ANSWERED KEYWORD $Junk\r\n");
	ASSERT_HAS(&a, "* SEARCH 1 2\r\n");
	say(&a, "h SEARCH BODY banana\r\n");
	ASSERT_HAS(&a, "* SEARCH 1 3\r\n");
	say(&a, "i SEARCH CHARSET UTF-8 SUBJECT {5}\r\n");
	say(&a, "caf\xc3\xa9\r\n");
	/* the subject is RFC 2047 encoded; search sees it decoded */
	ASSERT_HAS(&a, "* SEARCH 2\r\n");
	say(&a, "j SEARCH TEXT \"br\xc3\xbbl\"\r\n");
	ASSERT_HAS(&a, "* SEARCH 2\r\n");
	/* case-insensitive beyond ASCII: CR\xc3\x88ME matches Cr\xc3\xa8me */
	say(&a, "j2 SEARCH CHARSET UTF-8 BODY {6}\r\n");
	say(&a, "CR\xc3\x88ME\r\n");
	ASSERT_HAS(&a, "* SEARCH 2\r\n");
	say(&a, "j3 SEARCH SUBJECT \"HELLO WORLD\"\r\n");
	ASSERT_HAS(&a, "* SEARCH 1 3\r\n");
	say(&a, "k SEARCH CHARSET KOI8-R ALL\r\n");
	ASSERT_HAS(&a, "k NO [BADCHARSET (UTF-8 US-ASCII)]");
	say(&a, "l UID SEARCH NOT DELETED SENTSINCE 1-Mar-2026\r\n");
	ASSERT_HAS(&a, "* SEARCH 2\r\n");
	say(&a, "m SEARCH LARGER 300 UNSEEN\r\n");
	ASSERT_HAS(&a, "* SEARCH 2\r\n");
	say(&a, "n SEARCH FROM alice NOT 1\r\n");
	ASSERT_HAS(&a, "* SEARCH 3\r\n");
	say(&a, "o SEARCH HEADER Message-ID \"\" 2:*\r\n");
	ASSERT_HAS(&a, "* SEARCH 3\r\n");
	say(&a, "p SEARCH RECENT NEW SINCE 1-Jan-2000\r\n");
	ASSERT_HAS(&a, "* SEARCH 1 2 3\r\n");

	say(&a, "x EXPUNGE\r\n");
	ck_assert_str_eq(a.got, "* 1 EXPUNGE\r\n* 2 EXISTS\r\n* 2 RECENT\r\n"
			 "x OK EXPUNGE completed\r\n");
	say(&a, "y FETCH 1:* UID\r\n");
	ck_assert_str_eq(a.got, "* 1 FETCH (UID 2)\r\n* 2 FETCH (UID 3)\r\n"
			 "y OK FETCH completed\r\n");
	say(&a, "z STORE 1:* +FLAGS (\\Deleted)\r\n");
	say(&a, "zz CLOSE\r\n");
	ck_assert_str_eq(a.got, "zz OK CLOSE completed\r\n");
	say(&a, "st STATUS INBOX (MESSAGES UIDNEXT UNSEEN)\r\n");
	ck_assert_str_eq(a.got, "* STATUS INBOX (MESSAGES 0 UIDNEXT 4 UNSEEN 0)\r\n"
			 "st OK STATUS completed\r\n");
}
END_TEST

START_TEST(test_examine_readonly)
{
	append(&a, "INBOX", "", msg1);
	say(&a, "e EXAMINE INBOX\r\n");
	ASSERT_HAS(&a, "* OK [PERMANENTFLAGS ()]");
	ASSERT_HAS(&a, "e OK [READ-ONLY] EXAMINE completed");
	say(&a, "f FETCH 1 BODY[]\r\n");
	ASSERT_NOT(&a, "\\Seen");
	say(&a, "g STORE 1 +FLAGS (\\Seen)\r\n");
	ASSERT_HAS(&a, "g NO [READ-ONLY]");
	say(&a, "h EXPUNGE\r\n");
	ASSERT_HAS(&a, "h NO [READ-ONLY]");
	/* EXAMINE leaves \Recent to the next SELECT */
	say(&a, "s SELECT INBOX\r\n");
	ASSERT_HAS(&a, "* 1 RECENT");
}
END_TEST

START_TEST(test_copy)
{
	append(&a, "INBOX", "(\\Flagged) ", msg1);
	say(&a, "s SELECT INBOX\r\n");
	say(&a, "c COPY 1 Trash\r\n");
	/* with the COPYUID of RFC 4315 (UIDVALIDITY, source, target UIDs) */
	ck_assert_msg(strncmp(a.got, "c OK [COPYUID ", 14) == 0, "%s", a.got);
	ASSERT_HAS(&a, " 1 1] COPY completed\r\n");
	say(&a, "d COPY 1 Nowhere\r\n");
	ASSERT_HAS(&a, "d NO [TRYCREATE]");
	say(&a, "e UID COPY 99 Trash\r\n");
	ASSERT_HAS(&a, "e OK");
	say(&a, "f STATUS Trash (MESSAGES)\r\n");
	ASSERT_HAS(&a, "* STATUS Trash (MESSAGES 1)");
	say(&a, "g EXAMINE Trash\r\n");
	say(&a, "h FETCH 1 FLAGS\r\n");
	ASSERT_HAS(&a, "\\Flagged");
}
END_TEST

START_TEST(test_folders)
{
	say(&a, "a CREATE Work/2026/Q1\r\n");
	ck_assert_str_eq(a.got, "a OK CREATE completed\r\n");
	say(&a, "b LIST \"\" *\r\n");
	ASSERT_HAS(&a, "* LIST (\\HasNoChildren) \"/\" INBOX\r\n");
	ASSERT_HAS(&a, "* LIST (\\HasChildren) \"/\" Work\r\n");
	ASSERT_HAS(&a, "* LIST (\\HasNoChildren) \"/\" Work/2026/Q1\r\n");
	say(&a, "c LIST \"\" %\r\n");
	ASSERT_NOT(&a, "Work/2026");
	ASSERT_HAS(&a, "\"/\" Work\r\n");
	say(&a, "d LIST Work/ %\r\n");
	ASSERT_HAS(&a, "\"/\" Work/2026\r\n");
	ASSERT_NOT(&a, "Q1");
	say(&a, "e LIST \"\" \"\"\r\n");
	ck_assert_str_eq(a.got, "* LIST (\\Noselect) \"/\" \"\"\r\ne OK LIST completed\r\n");
	say(&a, "f CREATE Work\r\n");
	ASSERT_HAS(&a, "f NO [ALREADYEXISTS]");
	say(&a, "g CREATE INBOX\r\n");
	ASSERT_HAS(&a, "g NO");
	say(&a, "h CREATE \"a..b\"\r\n");
	ASSERT_HAS(&a, "h NO [CANNOT]");
	say(&a, "i CREATE \"/abs\"\r\n");
	ASSERT_HAS(&a, "i NO [CANNOT]");
	say(&a, "j CREATE \"a*b\"\r\n");
	ASSERT_HAS(&a, "j NO [CANNOT]");
	say(&a, "k CREATE \"a%b\"\r\n");
	ASSERT_HAS(&a, "k NO [CANNOT]");
	say(&a, "l CREATE &Jjo\r\n");
	ASSERT_HAS(&a, "l NO Mailbox name is not valid modified UTF-7");
	say(&a, "m CREATE Caf&AOk-/\r\n");
	ck_assert_str_eq(a.got, "m OK CREATE completed\r\n");

	/* a selectable parent loses its messages, stays as \Noselect */
	say(&a, "n DELETE Work/2026\r\n");
	ck_assert_str_eq(a.got, "n OK DELETE completed\r\n");
	say(&a, "o LIST \"\" Work/*\r\n");
	ASSERT_HAS(&a, "* LIST (\\Noselect \\HasChildren) \"/\" Work/2026\r\n");
	say(&a, "p DELETE Work/2026\r\n");
	ASSERT_HAS(&a, "p NO [CANNOT]");
	say(&a, "q DELETE INBOX\r\n");
	ASSERT_HAS(&a, "q NO");
	say(&a, "r RENAME Work Play\r\n");
	ck_assert_str_eq(a.got, "r OK RENAME completed\r\n");
	say(&a, "s LIST \"\" *\r\n");
	ASSERT_HAS(&a, "\"/\" Play/2026/Q1\r\n");
	ASSERT_NOT(&a, "Work");
	say(&a, "t SUBSCRIBE Play\r\n");
	ck_assert_str_eq(a.got, "t OK SUBSCRIBE completed\r\n");
	say(&a, "u LSUB \"\" *\r\n");
	ASSERT_HAS(&a, "* LSUB () \"/\" Play\r\n");
	ASSERT_HAS(&a, "* LSUB () \"/\" Sent\r\n");
	say(&a, "v UNSUBSCRIBE Play\r\n");
	say(&a, "w LSUB \"\" P%\r\n");
	ASSERT_NOT(&a, "Play");
	say(&a, "x STATUS Play/2026/Q1 (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN)\r\n");
	ASSERT_HAS(&a, "* STATUS Play/2026/Q1 (MESSAGES 0 RECENT 0 UIDNEXT 1 UIDVALIDITY ");
	say(&a, "y STATUS INBOX (FOO)\r\n");
	ASSERT_HAS(&a, "y BAD");
}
END_TEST

START_TEST(test_rename_inbox)
{
	append(&a, "INBOX", "", msg1);
	say(&a, "r RENAME INBOX Old\r\n");
	ck_assert_str_eq(a.got, "r OK RENAME completed\r\n");
	say(&a, "s STATUS INBOX (MESSAGES)\r\n");
	ASSERT_HAS(&a, "(MESSAGES 0)");
	say(&a, "t STATUS Old (MESSAGES)\r\n");
	ASSERT_HAS(&a, "(MESSAGES 1)");
}
END_TEST

/* Changes by one session reach the other as untagged replies, and never
 * an EXPUNGE during FETCH, STORE or SEARCH (RFC 3501 7.4.1). */
START_TEST(test_two_sessions)
{
	append(&a, "INBOX", "", msg1);
	append(&a, "INBOX", "", msg2);
	client_open(&b, &inst);
	say(&b, "1 LOGIN alice secret\r\n");
	say(&a, "s SELECT INBOX\r\n");
	say(&b, "s SELECT INBOX\r\n");
	ASSERT_HAS(&b, "* 2 EXISTS\r\n* 0 RECENT\r\n");

	/* flags set in a are seen in b */
	say(&a, "a STORE 2 +FLAGS (\\Flagged)\r\n");
	say(&b, "n NOOP\r\n");
	ck_assert_str_eq(b.got, "* 2 FETCH (FLAGS (\\Flagged))\r\n"
			 "n OK NOOP completed\r\n");

	/* a delivery (as SMTP makes it) shows as EXISTS */
	{
		char err[256];
		struct maildir_delivery *d = maildir_delivery_begin(inst.mail, err,
								    sizeof(err));
		struct maildir_rcpt rcpt = { "alice", NULL };

		ck_assert_ptr_nonnull(d);
		ck_assert_int_eq(maildir_delivery_write(d, msg1, strlen(msg1)), 0);
		ck_assert_int_eq(maildir_delivery_commit(d, &rcpt, 1, err,
							 sizeof(err)), 0);
		maildir_delivery_free(&d);
	}
	say(&b, "n2 NOOP\r\n");
	ASSERT_HAS(&b, "* 3 EXISTS\r\n");

	/* an expunge in a: b hears of it at NOOP, not during FETCH */
	say(&a, "b STORE 1 +FLAGS.SILENT (\\Deleted)\r\n");
	say(&a, "c EXPUNGE\r\n");
	ASSERT_HAS(&a, "* 1 EXPUNGE\r\n");
	say(&b, "f FETCH 1:* UID\r\n");
	ASSERT_NOT(&b, "EXPUNGE");
	ASSERT_HAS(&b, "f OK");
	say(&b, "g SEARCH ALL\r\n");
	ASSERT_NOT(&b, "EXPUNGE");
	say(&b, "h STORE 3 +FLAGS (\\Seen)\r\n");
	ASSERT_NOT(&b, "EXPUNGE");
	say(&b, "i NOOP\r\n");
	ASSERT_HAS(&b, "* 1 EXPUNGE\r\n");
	say(&b, "j FETCH 1:* UID\r\n");
	ASSERT_HAS(&b, "* 1 FETCH (UID 2)\r\n* 2 FETCH (UID 3)\r\n");
	/* and a UID command may carry it */
	say(&a, "k STORE 1 +FLAGS.SILENT (\\Deleted)\r\n");
	say(&a, "l EXPUNGE\r\n");
	say(&b, "m UID FETCH 1:* UID\r\n");
	/* b was selected when message 3 arrived: it is recent there */
	ck_assert_str_eq(b.got, "* 1 EXPUNGE\r\n* 1 EXISTS\r\n* 1 RECENT\r\n"
			 "* 1 FETCH (UID 3)\r\nm OK FETCH completed\r\n");
}
END_TEST

/* A keyword defined by another session: the next update carries a fresh
 * FLAGS list before the FETCH FLAGS that uses it (RFC 3501 7.2.6). */
START_TEST(test_keyword_from_other_session)
{
	append(&a, "INBOX", "", msg1);
	client_open(&b, &inst);
	say(&b, "1 LOGIN alice secret\r\n");
	say(&a, "s SELECT INBOX\r\n");
	say(&b, "s SELECT INBOX\r\n");
	ASSERT_NOT(&b, "Urgent");
	say(&a, "a STORE 1 +FLAGS (Urgent)\r\n");
	ASSERT_HAS(&a, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen "
		   "\\Draft Urgent)\r\n");
	say(&b, "n NOOP\r\n");
	ck_assert_str_eq(b.got,
		"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft "
		"Urgent)\r\n"
		"* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen "
		"\\Draft Urgent \\*)] Flags permitted\r\n"
		"* 1 FETCH (FLAGS (Urgent))\r\n"
		"n OK NOOP completed\r\n");
	/* a flag change with no new keyword: no FLAGS list */
	say(&a, "b STORE 1 +FLAGS (\\Seen)\r\n");
	say(&b, "n2 NOOP\r\n");
	ck_assert_str_eq(b.got, "* 1 FETCH (FLAGS (\\Seen Urgent))\r\n"
			 "n2 OK NOOP completed\r\n");
}
END_TEST

/* APPENDs a message of `size` bytes (lines of x) and SELECTs INBOX. */
static void append_big(size_t size)
{
	char *big = malloc(size + 1), line[128];

	memcpy(big, "Subject: big\r\n\r\n", 16);
	for (size_t i = 16; i < size; i++)
		big[i] = (i % 80 == 78) ? '\r' : (i % 80 == 79) ? '\n' : 'x';
	big[size] = '\0';
	inst.cfg.max_message_size = size;
	snprintf(line, sizeof(line), "ap APPEND INBOX {%zu}\r\n", size);
	say(&a, line);
	say(&a, big);
	say(&a, "\r\n");
	ASSERT_HAS(&a, "ap OK");
	say(&a, "s SELECT INBOX\r\n");
	free(big);
}

/* A big body goes out in pieces as the client reads. */
START_TEST(test_fetch_streams)
{
	size_t size = 3 * 1024 * 1024, first;

	append_big(size);
	buf_clear(&a.io.out);
	imap_protocol.line(a.sess, "f FETCH 1 BODY.PEEK[]", 21, 0);
	ck_assert(a.io.more_output);
	first = a.io.out.len;
	ck_assert_uint_lt(first, 512 * 1024);
	/* the client reads: each call adds a bounded piece */
	while (a.io.more_output) {
		size_t before = a.io.out.len;

		buf_clear(&a.io.out);
		a.io.more_output = false;
		imap_protocol.resume_output(a.sess);
		ck_assert_uint_lt(a.io.out.len, 512 * 1024);
		(void)before;
	}
	ck_assert(strstr(buf_cstr(&a.io.out), "f OK FETCH completed\r\n") != NULL);
}
END_TEST

/* A command line that comes while a FETCH is still being written, with a
 * full budget of it unread: the FETCH is completed first (it spun there,
 * each call returning at once because the output already held its
 * budget), then the command runs. */
START_TEST(test_fetch_line_while_pending)
{
	size_t size = 3 * 1024 * 1024;
	const char *out, *ok;

	append_big(size);
	buf_clear(&a.io.out);
	imap_protocol.line(a.sess, "f FETCH 1 BODY.PEEK[]", 21, 0);
	ck_assert(a.io.more_output);
	ck_assert_uint_ge(a.io.out.len, 256 * 1024);
	a.io.more_output = false;
	imap_protocol.line(a.sess, "n NOOP", 6, 0);
	out = buf_cstr(&a.io.out);
	ok = strstr(out, ")\r\nf OK FETCH completed\r\nn OK NOOP completed\r\n");
	ck_assert_ptr_nonnull(ok);
	ck_assert_uint_gt((size_t)(ok - out), size);
	ck_assert_ptr_nonnull(strstr(out, "* 1 FETCH (BODY[] {3145728}\r\n"));
}
END_TEST

/* A file from other software with bare LF line ends goes out with CRLF,
 * in pieces and in <partial> windows, with sizes that match. */
START_TEST(test_bare_lf_file)
{
	char path[4400], want[256];
	const char *text = "Subject: lf\n\nline one\nline two\n";
	FILE *f;

	snprintf(path, sizeof(path), "%s/alice/new/1700000000.M1P1Q1.test",
		 inst.mail);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	say(&a, "s SELECT INBOX\r\n");
	ASSERT_HAS(&a, "* 1 EXISTS");
	say(&a, "f FETCH 1 (RFC822.SIZE BODY.PEEK[])\r\n");
	snprintf(want, sizeof(want), "* 1 FETCH (RFC822.SIZE 35 BODY[] {35}\r\n"
		 "Subject: lf\r\n\r\nline one\r\nline two\r\n)\r\n"
		 "f OK FETCH completed\r\n");
	ck_assert_str_eq(a.got, want);
	say(&a, "g FETCH 1 BODY.PEEK[TEXT]<9.6>\r\n");
	ck_assert_str_eq(a.got, "* 1 FETCH (BODY[TEXT]<9> {6}\r\n\nline )\r\n"
			 "g OK FETCH completed\r\n");
	say(&a, "h FETCH 1 BODYSTRUCTURE\r\n");
	ASSERT_HAS(&a, "\"7bit\" 20 2 NIL NIL NIL NIL)");
	/* the header alone (no MIME parse on this path) */
	say(&a, "j FETCH 1 (BODY.PEEK[HEADER] BODY.PEEK[HEADER.FIELDS.NOT (X)])\r\n");
	ck_assert_str_eq(a.got, "* 1 FETCH (BODY[HEADER] {15}\r\nSubject: lf\r\n\r\n "
			 "BODY[HEADER.FIELDS.NOT (X)] {15}\r\nSubject: lf\r\n\r\n)\r\n"
			 "j OK FETCH completed\r\n");
}
END_TEST

/* Date keys on the internal date and on the Date: header, sizes, UIDs
 * and nesting (RFC 3501 6.4.4). */
START_TEST(test_search_dates)
{
	append(&a, "INBOX", "\"01-Jan-2026 23:59:59 +0000\" ", msg1);
	append(&a, "INBOX", "\"02-Feb-2026 00:00:00 +0000\" ", msg2);
	append(&a, "INBOX", "\"03-Mar-2026 12:00:00 -0500\" ", msg1);
	say(&a, "s SELECT INBOX\r\n");
	say(&a, "a SEARCH BEFORE 2-Feb-2026\r\n");
	ck_assert_str_eq(a.got, "* SEARCH 1\r\na OK SEARCH completed\r\n");
	say(&a, "b SEARCH ON 2-Feb-2026\r\n");
	ASSERT_HAS(&a, "* SEARCH 2\r\n");
	say(&a, "c SEARCH SINCE 2-Feb-2026\r\n");
	ASSERT_HAS(&a, "* SEARCH 2 3\r\n");
	say(&a, "d SEARCH ON 3-Mar-2026\r\n");
	ASSERT_HAS(&a, "* SEARCH 3\r\n");
	/* Date: of msg1 is 2 Feb, of msg2 3 Mar */
	say(&a, "e SEARCH SENTON 2-Feb-2026\r\n");
	ASSERT_HAS(&a, "* SEARCH 1 3\r\n");
	say(&a, "f SEARCH SENTBEFORE 3-Mar-2026\r\n");
	ASSERT_HAS(&a, "* SEARCH 1 3\r\n");
	say(&a, "g SEARCH SENTSINCE 3-Mar-2026\r\n");
	ASSERT_HAS(&a, "* SEARCH 2\r\n");
	say(&a, "h SEARCH SMALLER 300\r\n");
	ASSERT_HAS(&a, "* SEARCH 1 3\r\n");
	say(&a, "i SEARCH OR (ON 1-Jan-2026) (NOT SINCE 1-Mar-2026) UID 2:*\r\n");
	ASSERT_HAS(&a, "* SEARCH 2\r\n");
	say(&a, "j UID SEARCH UID 3:1 NOT 2\r\n");
	ASSERT_HAS(&a, "* SEARCH 1 3\r\n");
	say(&a, "k SEARCH *\r\n");
	ASSERT_HAS(&a, "* SEARCH 3\r\n");
	say(&a, "l SEARCH 5:*\r\n");
	ASSERT_HAS(&a, "* SEARCH 3\r\n");
	say(&a, "m SEARCH (OR SEEN (UNSEEN)) TO bob HEADER X-None \"\"\r\n");
	ck_assert_str_eq(a.got, "* SEARCH\r\nm OK SEARCH completed\r\n");
}
END_TEST

/* A big file with bare LF: converted to CRLF piece by piece, the literal
 * exactly as long as announced and as RFC822.SIZE. */
START_TEST(test_big_bare_lf)
{
	char path[4400], *p;
	size_t lines = 20000, raw, wire = 0, announced = 0, got = 0;
	struct buf all = BUF_INIT(BUF_UNLIMITED);
	FILE *f;

	snprintf(path, sizeof(path), "%s/alice/new/1700000001.M1P1Q2.test",
		 inst.mail);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("Subject: big lf\n\n", f);
	for (size_t i = 0; i < lines; i++)
		fprintf(f, "%05zu 0123456789012345678901234567890123456789\n", i);
	fclose(f);
	raw = 17 + lines * 47;
	wire = raw + 2 + lines;
	say(&a, "s SELECT INBOX\r\n");
	say(&a, "z FETCH 1 RFC822.SIZE\r\n");
	{
		char want[64];

		snprintf(want, sizeof(want), "RFC822.SIZE %zu)", wire);
		ASSERT_HAS(&a, want);
	}
	buf_clear(&a.io.out);
	imap_protocol.line(a.sess, "f FETCH 1 BODY.PEEK[]", 21, 0);
	for (;;) {
		buf_append(&all, a.io.out.data, a.io.out.len);
		buf_clear(&a.io.out);
		if (!a.io.more_output)
			break;
		a.io.more_output = false;
		imap_protocol.resume_output(a.sess);
	}
	p = strstr(all.data, "BODY[] {");
	ck_assert_ptr_nonnull(p);
	announced = strtoul(p + 8, &p, 10);
	ck_assert_uint_eq(announced, wire);
	p += 3;		/* "}\r\n" */
	got = (size_t)(strstr(p, ")\r\nf OK FETCH completed\r\n") - p);
	ck_assert_uint_eq(got, wire);
	ck_assert(strncmp(p, "Subject: big lf\r\n\r\n00000 ", 24) == 0);
	ck_assert_ptr_null(memmem(p, got, "9\n", 2));
	ck_assert_ptr_nonnull(memmem(p, got, "19999 0123456789012345678901234567890123456789\r\n", 48));
	buf_free(&all);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *suite = suite_create("imap-mailbox");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_select_empty);
	tcase_add_test(tc, test_append_fetch);
	tcase_add_test(tc, test_append_errors);
	tcase_add_test(tc, test_store_search_expunge);
	tcase_add_test(tc, test_examine_readonly);
	tcase_add_test(tc, test_copy);
	tcase_add_test(tc, test_folders);
	tcase_add_test(tc, test_rename_inbox);
	tcase_add_test(tc, test_two_sessions);
	tcase_add_test(tc, test_keyword_from_other_session);
	tcase_add_test(tc, test_fetch_streams);
	tcase_add_test(tc, test_fetch_line_while_pending);
	tcase_add_test(tc, test_bare_lf_file);
	tcase_add_test(tc, test_search_dates);
	tcase_add_test(tc, test_big_bare_lf);
	suite_add_tcase(suite, tc);
	return suite;
}
