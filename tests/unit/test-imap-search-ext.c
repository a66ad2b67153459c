/* SEARCH on parsed addresses (RFC 3501 6.4.4), SORT and THREAD (RFC
 * 5256, RFC 5957), ESEARCH (RFC 4731), SEARCHRES (RFC 5182) and ESORT
 * (RFC 5267 3) through
 * test sessions on a temporary instance. */
#include "tests/unit/imap-client.h"

static struct instance inst;
static struct client a;

static void setup(void)
{
	instance_start(&inst, &a);
}

static void teardown(void)
{
	instance_stop(&inst, &a);
}

/* The messages of imaptest's search-addresses test (Dovecot's). */
static const char *const address_msgs[] = {
	"From: user-from@domain.org\r\nTo: user-to@domain.org\r\n"
	"Cc: user-cc@domain.org\r\nBcc: user-bcc@domain.org\r\n\r\nbody\r\n",
	"From: RealFrom <user-from@domain.org>\r\n"
	"To: RealTo <user-to@domain.org>\r\nCc: RealCc <user-cc@domain.org>\r\n"
	"Bcc: RealBcc <user-bcc@domain.org>\r\n\r\nbody2\r\n",
	"From: <user-from (comment)@ (comment) domain.org>\r\n"
	"To: <user-to@domain.org>\r\nCc: <user-cc@domain.org>\r\n"
	"Bcc: <user-bcc@domain.org>\r\n\r\nbody3\r\n",
	"From: user-from@domain.org (RealFrom)\r\n"
	"To: user-to@domain.org (RealTo)\r\nCc: user-cc@domain.org (RealCc)\r\n"
	"Bcc: user-bcc@domain.org (RealBcc)\r\n\r\nbody4\r\n",
	"From: user-from1@domain.org, user-from2@domain.org\r\n"
	"Cc: user-cc@domain.org\r\n\r\nbody5\r\n",
	"From: RealFrom <user-from@domain.org>\r\n"
	"To: groupname: groupuser1@domain.org, groupuser2@domain.org;,\r\n"
	"  groupname2: groupuser3@domain.org;\r\n\r\nbody6\r\n",
	"From: =?utf-8?q?J=C3=BCrgen?= <jurgen@domain.org>\r\n"
	"To: groupname:;\r\n\r\nbody7\r\n",
};

static void load_addresses(void)
{
	for (size_t i = 0; i < sizeof(address_msgs) / sizeof(*address_msgs); i++)
		append(&a, "INBOX", "", address_msgs[i]);
	say(&a, "s SELECT INBOX\r\n");
	ASSERT_HAS(&a, "s OK");
}

START_TEST(test_search_addresses)
{
	static const struct {
		const char *cmd, *reply;
	} cases[] = {
		/* the comment inside the address no longer hides it */
		{ "FROM user-from@domain.org", "* SEARCH 1 2 3 4 6\r\n" },
		{ "TO user-to@domain.org", "* SEARCH 1 2 3 4\r\n" },
		{ "CC user-cc@domain.org", "* SEARCH 1 2 3 4 5\r\n" },
		{ "BCC user-bcc@domain.org", "* SEARCH 1 2 3 4\r\n" },
		/* display names, also from a comment, and decoded */
		{ "FROM realfrom", "* SEARCH 2 4 6\r\n" },
		{ "BCC realbcc", "* SEARCH 2 4\r\n" },
		{ "FROM \"J\xc3\xbcrgen <jurgen@\"", "* SEARCH 7\r\n" },
		/* substrings of the address and the name */
		{ "FROM ser-fro", "* SEARCH 1 2 3 4 5 6\r\n" },
		{ "CC ealc", "* SEARCH 2 4\r\n" },
		{ "FROM user-from2", "* SEARCH 5\r\n" },
		/* groups: their names and members */
		{ "TO groupname", "* SEARCH 6 7\r\n" },
		{ "TO groupname2", "* SEARCH 6\r\n" },
		{ "TO groupuser3", "* SEARCH 6\r\n" },
		{ "TO groupuser4", "* SEARCH\r\n" },
		/* the empty string: the field exists */
		{ "TO \"\"", "* SEARCH 1 2 3 4 6 7\r\n" },
		{ "HEADER FROM \"\"", "* SEARCH 1 2 3 4 5 6 7\r\n" },
		/* the comment is text of the header, not of the address */
		{ "FROM comment", "* SEARCH\r\n" },
		{ "HEADER FROM comment", "* SEARCH 3\r\n" },
	};
	char line[256];

	load_addresses();
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		snprintf(line, sizeof(line), "t SEARCH %s\r\n", cases[i].cmd);
		say(&a, line);
		ck_assert_msg(strstr(a.got, cases[i].reply) == a.got &&
			      strstr(a.got, "t OK SEARCH completed") != NULL,
			      "%s gave:\n%s", cases[i].cmd, a.got);
	}
}
END_TEST

static void load_conversation(void)
{
	append(&a, "INBOX", "\"22-Feb-2008 10:00:00 +0000\" ",
	       "Message-ID: <1@x>\r\nFrom: Zed <zed@x>\r\nSubject: hello\r\n"
	       "\r\nbody\r\n");
	append(&a, "INBOX", "\"22-Feb-2008 09:00:00 +0000\" ",
	       "Message-ID: <2@x>\r\nIn-Reply-To: <1@x>\r\n"
	       "From: adam@x\r\nSubject: Re: hello\r\n"
	       "Date: Fri, 22 Feb 2008 11:00:00 +0000\r\n\r\nbody two\r\n");
	append(&a, "INBOX", "\"22-Feb-2008 08:00:00 +0000\" ",
	       "Message-ID: <3@x>\r\nFrom: <bob (b)@x>\r\n"
	       "Subject: [list] another\r\n\r\nb\r\n");
	say(&a, "s SELECT INBOX\r\n");
	ASSERT_HAS(&a, "s OK");
}

START_TEST(test_sort_thread)
{
	load_conversation();
	say(&a, "c CAPABILITY\r\n");
	ASSERT_HAS(&a, " SORT SORT=DISPLAY THREAD=ORDEREDSUBJECT "
		   "THREAD=REFERENCES");
	say(&a, "t SORT (SUBJECT) UTF-8 ALL\r\n");
	ASSERT_IS(&a, "* SORT 3 1 2\r\nt OK SORT completed\r\n");
	say(&a, "t sort (reverse arrival) us-ascii all\r\n");
	ASSERT_IS(&a, "* SORT 1 2 3\r\nt OK SORT completed\r\n");
	say(&a, "t SORT (FROM) UTF-8 NOT FROM adam\r\n");
	ASSERT_IS(&a, "* SORT 3 1\r\nt OK SORT completed\r\n");
	say(&a, "t UID SORT (DATE REVERSE SIZE) UTF-8 1:*\r\n");
	ASSERT_IS(&a, "* SORT 3 1 2\r\nt OK SORT completed\r\n");
	say(&a, "t SORT (DISPLAYFROM) UTF-8 ALL\r\n");
	ASSERT_IS(&a, "* SORT 2 3 1\r\nt OK SORT completed\r\n");
	say(&a, "t SORT (SIZE) UTF-8 DELETED\r\n");
	ASSERT_IS(&a, "* SORT\r\nt OK SORT completed\r\n");
	say(&a, "t THREAD REFERENCES UTF-8 ALL\r\n");
	ASSERT_IS(&a, "* THREAD (3)(1 2)\r\nt OK THREAD completed\r\n");
	say(&a, "t UID THREAD ORDEREDSUBJECT US-ASCII ALL\r\n");
	ASSERT_IS(&a, "* THREAD (3)(1 2)\r\nt OK THREAD completed\r\n");
	say(&a, "t THREAD REFERENCES UTF-8 2:3\r\n");
	ASSERT_IS(&a, "* THREAD (3)(2)\r\nt OK THREAD completed\r\n");
	say(&a, "t THREAD REFERENCES UTF-8 SEEN\r\n");
	ASSERT_IS(&a, "* THREAD\r\nt OK THREAD completed\r\n");
}
END_TEST

/* ESORT (RFC 5267 3): SORT's answer as ESEARCH, in sort order */
START_TEST(test_esort)
{
	load_conversation();
	say(&a, "c CAPABILITY\r\n");
	ASSERT_HAS(&a, " ESORT");
	ASSERT_HAS(&a, " CONTEXT=SORT");
	say(&a, "t SORT RETURN (MIN MAX COUNT ALL) (SUBJECT) UTF-8 ALL\r\n");
	ASSERT_IS(&a, "* ESEARCH (TAG \"t\") MIN 3 MAX 2 ALL 3,1:2 COUNT 3\r\n"
		  "t OK SORT completed\r\n");
	/* ranges only where the order ascends (3.2) */
	say(&a, "t SORT RETURN (ALL) (REVERSE DATE) UTF-8 ALL\r\n");
	ASSERT_IS(&a, "* ESEARCH (TAG \"t\") ALL 2,1,3\r\n"
		  "t OK SORT completed\r\n");
	say(&a, "t UID SORT RETURN () (REVERSE ARRIVAL) UTF-8 ALL\r\n");
	ASSERT_IS(&a, "* ESEARCH (TAG \"t\") UID ALL 1:3\r\n"
		  "t OK SORT completed\r\n");
	say(&a, "t SORT RETURN (COUNT) (SUBJECT) UTF-8 DELETED\r\n");
	ASSERT_IS(&a, "* ESEARCH (TAG \"t\") COUNT 0\r\n"
		  "t OK SORT completed\r\n");
	/* SAVE from SORT, then "$" */
	say(&a, "t SORT RETURN (SAVE) (SUBJECT) UTF-8 FROM adam\r\n");
	ASSERT_IS(&a, "t OK SORT completed\r\n");
	say(&a, "t SEARCH $\r\n");
	ASSERT_IS(&a, "* SEARCH 2\r\nt OK SEARCH completed\r\n");
	say(&a, "t SORT RETURN (SAVE MIN) (SUBJECT) UTF-8 ALL\r\n");
	ASSERT_IS(&a, "* ESEARCH (TAG \"t\") MIN 3\r\nt OK SORT completed\r\n");
	say(&a, "t SEARCH $\r\n");
	ASSERT_IS(&a, "* SEARCH 3\r\nt OK SEARCH completed\r\n");
	/* a failed SORT with SAVE empties "$" */
	say(&a, "t SORT RETURN (SAVE) (SUBJECT) KOI8-R ALL\r\n");
	ASSERT_HAS(&a, "t NO [BADCHARSET");
	say(&a, "t SEARCH $\r\n");
	ASSERT_IS(&a, "* SEARCH\r\nt OK SEARCH completed\r\n");
	say(&a, "t SORT RETURN (SAVE) (SUBJECT) UTF-8 ALL\r\n");
	say(&a, "t SORT RETURN (SAVE UPDATE) (SUBJECT) UTF-8 ALL\r\n");
	ASSERT_IS(&a, "t BAD RETURN (UPDATE) with SAVE\r\n");
	say(&a, "t SEARCH $\r\n");
	ASSERT_IS(&a, "* SEARCH\r\nt OK SEARCH completed\r\n");
	say(&a, "t SORT RETURN (MIN) SUBJECT UTF-8 ALL\r\n");
	ASSERT_HAS(&a, "t BAD ");
	say(&a, "t SORT RETURN (MIN)(SUBJECT) UTF-8 ALL\r\n");
	ASSERT_HAS(&a, "t BAD ");
	say(&a, "t SORT (SUBJECT) UTF-8 ALL\r\n");
	ASSERT_IS(&a, "* SORT 3 1 2\r\nt OK SORT completed\r\n");
}
END_TEST

/* A header past the first read (16 KiB) is read from the whole file. */
START_TEST(test_sort_big_header)
{
	struct buf big = BUF_INIT(BUF_UNLIMITED);

	append(&a, "INBOX", "", "Subject: b\r\n\r\nsmall\r\n");
	buf_puts(&big, "X-Padding: start\r\n");
	while (big.len < 40000)
		buf_puts(&big, " padding padding padding padding padding\r\n");
	buf_puts(&big, "Subject: z\r\nMessage-ID: <big@x>\r\n\r\nbody\r\n");
	append(&a, "INBOX", "", buf_cstr(&big));
	append(&a, "INBOX", "", "Subject: c\r\nIn-Reply-To: <big@x>\r\n\r\nx\r\n");
	buf_free(&big);
	say(&a, "s SELECT INBOX\r\n");
	say(&a, "t SORT (SUBJECT) UTF-8 ALL\r\n");
	ASSERT_IS(&a, "* SORT 1 3 2\r\nt OK SORT completed\r\n");
	say(&a, "t THREAD REFERENCES UTF-8 ALL\r\n");
	ASSERT_IS(&a, "* THREAD (1)(2 3)\r\nt OK THREAD completed\r\n");
}
END_TEST

/* Bad SORT and THREAD commands: each refused, the session goes on. */
START_TEST(test_sort_thread_bad)
{
	static const struct {
		const char *cmd, *reply;
	} cases[] = {
		{ "SORT (NAME) UTF-8 ALL", "b BAD Unknown sort key" },
		{ "SORT (REVERSE) UTF-8 ALL", "b BAD " },
		{ "SORT () UTF-8 ALL", "b BAD Unknown sort key" },
		{ "SORT (SUBJECT) ALL", "b BAD " },
		{ "SORT (SUBJECT)", "b BAD " },
		{ "SORT SUBJECT UTF-8 ALL", "b BAD " },
		{ "SORT (SUBJECT UTF-8 ALL", "b BAD " },
		{ "SORT (SUBJECT) KOI8-R ALL",
		  "b NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset" },
		{ "SORT (SUBJECT) UTF-8 CHARSET UTF-8 ALL",
		  "b BAD CHARSET is given before the criteria" },
		{ "SORT (SUBJECT) UTF-8 NOSUCHKEY", "b BAD Unknown search key" },
		{ "THREAD JWZ UTF-8 ALL", "b BAD Unknown thread algorithm" },
		{ "THREAD REFERENCES ALL", "b BAD " },
		{ "THREAD", "b BAD " },
		{ "THREAD REFERENCES EBCDIC ALL",
		  "b NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset" },
		{ "UID THREAD REFERENCES UTF-8 ALL junk", "b BAD " },
	};
	char line[256];

	load_conversation();
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		snprintf(line, sizeof(line), "b %s\r\n", cases[i].cmd);
		say(&a, line);
		ck_assert_msg(strncmp(a.got, cases[i].reply,
				      strlen(cases[i].reply)) == 0,
			      "%s gave:\n%s", cases[i].cmd, a.got);
		say(&a, "n SORT (ARRIVAL) UTF-8 ALL\r\n");
		ASSERT_IS(&a, "* SORT 3 2 1\r\nn OK SORT completed\r\n");
	}
	/* not before SELECT */
	say(&a, "u UNSELECT\r\n");
	say(&a, "b SORT (ARRIVAL) UTF-8 ALL\r\n");
	ASSERT_HAS(&a, "b BAD Command not valid in this state");
}
END_TEST

static void load_six(void)
{
	char msg[128];

	for (int i = 1; i <= 7; i++) {
		snprintf(msg, sizeof(msg), "Subject: m%d\r\n\r\nbody\r\n", i);
		append(&a, "INBOX", "", msg);
	}
	say(&a, "s SELECT INBOX\r\n");
	say(&a, "s STORE 4 +FLAGS \\Deleted\r\n");
	say(&a, "s EXPUNGE\r\n");
	ASSERT_HAS(&a, "* 4 EXPUNGE\r\n");
	/* now 6 messages, UIDs 1 2 3 5 6 7 */
}

/* imaptest's esearch script, as Dovecot answers it */
START_TEST(test_esearch)
{
	static const struct {
		const char *cmd, *reply;
	} cases[] = {
		{ "SEARCH RETURN (ALL) ALL", "* ESEARCH (TAG \"t\") ALL 1:6" },
		{ "SEARCH RETURN () ALL", "* ESEARCH (TAG \"t\") ALL 1:6" },
		{ "SEARCH RETURN (MIN) ALL", "* ESEARCH (TAG \"t\") MIN 1" },
		{ "SEARCH RETURN (MAX) ALL", "* ESEARCH (TAG \"t\") MAX 6" },
		{ "SEARCH RETURN (COUNT) ALL", "* ESEARCH (TAG \"t\") COUNT 6" },
		{ "search return (min max count all) all",
		  "* ESEARCH (TAG \"t\") MIN 1 MAX 6 ALL 1:6 COUNT 6" },
		{ "UID SEARCH RETURN (ALL) ALL",
		  "* ESEARCH (TAG \"t\") UID ALL 1:3,5:7" },
		{ "UID SEARCH RETURN (MIN MAX) ALL",
		  "* ESEARCH (TAG \"t\") UID MIN 1 MAX 7" },
		{ "UID SEARCH RETURN (COUNT) ALL",
		  "* ESEARCH (TAG \"t\") UID COUNT 6" },
		{ "UID SEARCH RETURN (ALL) SEEN",
		  "* ESEARCH (TAG \"t\") UID ALL 2,5" },
		{ "SEARCH RETURN (ALL) 1000", "* ESEARCH (TAG \"t\")\r\n" },
		{ "SEARCH RETURN (MIN MAX) 1000",
		  "* ESEARCH (TAG \"t\")\r\n" },
		{ "SEARCH RETURN (COUNT) 1000",
		  "* ESEARCH (TAG \"t\") COUNT 0\r\n" },
		{ "UID SEARCH RETURN () 1000", "* ESEARCH (TAG \"t\") UID\r\n" },
		{ "SEARCH RETURN (ALL) CHARSET UTF-8 SUBJECT m",
		  "* ESEARCH (TAG \"t\") ALL 1:6" },
		/* the plain form is unchanged */
		{ "SEARCH ALL", "* SEARCH 1 2 3 4 5 6\r\n" },
	};
	char line[256];

	load_six();
	say(&a, "s STORE 2,4 +FLAGS \\Seen\r\n");
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		snprintf(line, sizeof(line), "t %s\r\n", cases[i].cmd);
		say(&a, line);
		ck_assert_msg(strncmp(a.got, cases[i].reply,
				      strlen(cases[i].reply)) == 0 &&
			      strstr(a.got, "t OK SEARCH completed") != NULL,
			      "%s gave:\n%s", cases[i].cmd, a.got);
	}
}
END_TEST

START_TEST(test_searchres)
{
	load_six();
	/* before any SAVE, "$" is empty */
	say(&a, "a FETCH $ UID\r\n");
	ASSERT_IS(&a, "a OK FETCH completed\r\n");
	say(&a, "a SEARCH $\r\n");
	ASSERT_IS(&a, "* SEARCH\r\na OK SEARCH completed\r\n");
	/* SAVE alone: no ESEARCH */
	say(&a, "b SEARCH RETURN (SAVE) SUBJECT m2\r\n");
	ASSERT_IS(&a, "b OK SEARCH completed\r\n");
	say(&a, "c FETCH $ (UID)\r\n");
	ASSERT_IS(&a, "* 2 FETCH (UID 2)\r\nc OK FETCH completed\r\n");
	/* UID SEARCH saves, a non-UID command uses it by number */
	say(&a, "d UID SEARCH RETURN (SAVE COUNT) UID 3:6\r\n");
	ASSERT_IS(&a, "* ESEARCH (TAG \"d\") UID COUNT 3\r\n"
		  "d OK SEARCH completed\r\n");
	say(&a, "e FETCH $ (UID)\r\n");
	ASSERT_IS(&a, "* 3 FETCH (UID 3)\r\n* 4 FETCH (UID 5)\r\n"
		  "* 5 FETCH (UID 6)\r\ne OK FETCH completed\r\n");
	say(&a, "f UID FETCH $ (FLAGS)\r\n");
	ASSERT_HAS(&a, "* 4 FETCH (UID 5 FLAGS (");
	ASSERT_NOT(&a, "* 2 FETCH");
	ASSERT_HAS(&a, "f OK FETCH completed");
	say(&a, "g STORE $ +FLAGS.SILENT (\\Flagged)\r\n");
	ASSERT_IS(&a, "g OK STORE completed\r\n");
	say(&a, "h SEARCH FLAGGED\r\n");
	ASSERT_IS(&a, "* SEARCH 3 4 5\r\nh OK SEARCH completed\r\n");
	/* "$" inside criteria, and a SAVE that refers to the old "$" */
	say(&a, "i SEARCH RETURN (SAVE) $ SUBJECT m6\r\n");
	ASSERT_IS(&a, "i OK SEARCH completed\r\n");
	say(&a, "j UID SEARCH UID $\r\n");
	ASSERT_IS(&a, "* SEARCH 6\r\nj OK SEARCH completed\r\n");
	/* into the selected mailbox: its EXISTS comes with the reply */
	say(&a, "k COPY $ INBOX\r\n");
	ASSERT_HAS(&a, "* 7 EXISTS\r\n");
	ASSERT_HAS(&a, "k OK [COPYUID ");
	say(&a, "l SEARCH OR $ 1\r\n");
	ASSERT_IS(&a, "* SEARCH 1 5\r\nl OK SEARCH completed\r\n");
	/* MIN and MAX alone save only those (RFC 5182 2.1) */
	say(&a, "m SEARCH RETURN (SAVE MIN MAX) ALL\r\n");
	ASSERT_IS(&a, "* ESEARCH (TAG \"m\") MIN 1 MAX 7\r\n"
		  "m OK SEARCH completed\r\n");
	say(&a, "n SEARCH $\r\n");
	ASSERT_IS(&a, "* SEARCH 1 7\r\nn OK SEARCH completed\r\n");
	/* with PARTIAL, "$" holds the range it returned (RFC 9394 3.1), with
	 * MIN/MAX when asked too, also beside COUNT; in SORT's order */
	say(&a, "pa SEARCH RETURN (SAVE PARTIAL 2:3) ALL\r\n");
	ASSERT_IS(&a, "* ESEARCH (TAG \"pa\") PARTIAL (2:3 2:3)\r\n"
		  "pa OK SEARCH completed\r\n");
	say(&a, "n SEARCH $\r\n");
	ASSERT_IS(&a, "* SEARCH 2 3\r\nn OK SEARCH completed\r\n");
	say(&a, "pb SEARCH RETURN (SAVE COUNT PARTIAL 6:9) ALL\r\n");
	ASSERT_IS(&a, "* ESEARCH (TAG \"pb\") COUNT 7 PARTIAL (6:9 6:7)\r\n"
		  "pb OK SEARCH completed\r\n");
	say(&a, "n SEARCH $\r\n");
	ASSERT_IS(&a, "* SEARCH 6 7\r\nn OK SEARCH completed\r\n");
	say(&a, "pc SEARCH RETURN (SAVE MIN MAX PARTIAL 3:4) ALL\r\n");
	ASSERT_IS(&a, "* ESEARCH (TAG \"pc\") MIN 1 MAX 7 PARTIAL (3:4 3:4)\r\n"
		  "pc OK SEARCH completed\r\n");
	say(&a, "n SEARCH $\r\n");
	ASSERT_IS(&a, "* SEARCH 1 3 4 7\r\nn OK SEARCH completed\r\n");
	say(&a, "pd SEARCH RETURN (SAVE MIN PARTIAL 1:2) ALL\r\n");
	say(&a, "n SEARCH $\r\n");
	ASSERT_IS(&a, "* SEARCH 1 2\r\nn OK SEARCH completed\r\n");
	say(&a, "pe SEARCH RETURN (SAVE PARTIAL 8:9) ALL\r\n");
	ASSERT_IS(&a, "* ESEARCH (TAG \"pe\") PARTIAL (8:9 NIL)\r\n"
		  "pe OK SEARCH completed\r\n");
	say(&a, "n SEARCH $\r\n");
	ASSERT_IS(&a, "* SEARCH\r\nn OK SEARCH completed\r\n");
	/* subjects m1 m2 m3 m5 m6 m7 m6: reversed, 6 (m7) then 5 (m6) */
	say(&a, "pf SORT RETURN (SAVE PARTIAL 1:2) (REVERSE SUBJECT) UTF-8 ALL\r\n");
	ASSERT_IS(&a, "* ESEARCH (TAG \"pf\") PARTIAL (1:2 6,5)\r\n"
		  "pf OK SORT completed\r\n");
	say(&a, "n SEARCH $\r\n");
	ASSERT_IS(&a, "* SEARCH 5 6\r\nn OK SEARCH completed\r\n");
	say(&a, "m SEARCH RETURN (SAVE MIN MAX) ALL\r\n");
	/* an expunged message leaves "$": the copy is now number 6 */
	say(&a, "o STORE 1 +FLAGS.SILENT \\Deleted\r\n");
	say(&a, "p EXPUNGE\r\n");
	say(&a, "q SEARCH $\r\n");
	ASSERT_IS(&a, "* SEARCH 6\r\nq OK SEARCH completed\r\n");
	say(&a, "r MOVE $ INBOX\r\n");
	ASSERT_HAS(&a, "r OK");
	/* a new SELECT empties it */
	say(&a, "s SEARCH RETURN (SAVE) ALL\r\n");
	say(&a, "t SELECT INBOX\r\n");
	say(&a, "u SEARCH $\r\n");
	ASSERT_IS(&a, "* SEARCH\r\nu OK SEARCH completed\r\n");
}
END_TEST

/* Malformed RETURN options and failed SAVEs (RFC 5182 2.1: "$" is then
 * empty); the session goes on. */
START_TEST(test_esearch_bad)
{
	static const struct {
		const char *cmd, *reply;
	} cases[] = {
		{ "SEARCH RETURN (SAVE) CHARSET KOI8-R ALL",
		  "b NO [BADCHARSET (UTF-8 US-ASCII)]" },
		{ "SEARCH RETURN (SAVE FOO) ALL", "b BAD Unknown RETURN option" },
		{ "SEARCH RETURN (SAVE) NOSUCHKEY", "b BAD Unknown search key" },
		{ "SEARCH RETURN (MIN", "b BAD " },
		{ "SEARCH RETURN MIN ALL", "b BAD " },
		{ "SEARCH RETURN (MIN)ALL", "b BAD " },
		{ "SEARCH RETURN (MIN  MAX) ALL", "b BAD " },
		{ "SEARCH RETURN ( MIN) ALL", "b BAD " },
		{ "SEARCH RETURN (MIN)", "b BAD " },
		{ "SEARCH RETURN", "b BAD " },
		{ "SEARCH $,1", "b BAD " },
		{ "SEARCH 1,$", "b BAD " },
		{ "FETCH $:3 UID", "b BAD " },
		{ "FETCH $$ UID", "b BAD " },
	};
	char line[256];

	load_six();
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		say(&a, "a SEARCH RETURN (SAVE) 2\r\n");
		snprintf(line, sizeof(line), "b %s\r\n", cases[i].cmd);
		say(&a, line);
		ck_assert_msg(strncmp(a.got, cases[i].reply,
				      strlen(cases[i].reply)) == 0,
			      "%s gave:\n%s", cases[i].cmd, a.got);
		say(&a, "c SEARCH $\r\n");
		ck_assert_msg(strcmp(a.got, i < 3 ? "* SEARCH\r\nc OK SEARCH completed\r\n" :
				     "* SEARCH 2\r\nc OK SEARCH completed\r\n") == 0,
			      "after %s:\n%s", cases[i].cmd, a.got);
	}
}
END_TEST

Suite *unit_suite(void)
{
	Suite *suite = suite_create("imap-search-ext");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_search_addresses);
	tcase_add_test(tc, test_sort_thread);
	tcase_add_test(tc, test_sort_thread_bad);
	tcase_add_test(tc, test_sort_big_header);
	tcase_add_test(tc, test_esort);
	tcase_add_test(tc, test_esearch);
	tcase_add_test(tc, test_searchres);
	tcase_add_test(tc, test_esearch_bad);
	suite_add_tcase(suite, tc);
	return suite;
}
