/* What Dovecot's imaptest groups check beyond RFC 3501 (tests/interop/):
 * LIST-EXTENDED (RFC 5258; the cases of its "listext" group), LIST-STATUS
 * (RFC 5819), STATUS=SIZE (RFC 8438), MULTIAPPEND (RFC 3502), BINARY
 * (RFC 3516) and CATENATE (RFC 4469), through a
 * test session on a temporary instance. */

#include "tests/unit/maildir-helpers.h"
#include "tests/unit/imap-client.h"

static struct instance inst;
static struct client a;

/* 50 bytes and 53 bytes on the wire */
static const char msg1[] =
	"From: Alice <alice@lab.test>\r\n"
	"Subject: one\r\n"
	"\r\n"
	"first\r\n";
static const char msg2[] =
	"From: Alice <alice@lab.test>\r\n"
	"Subject: two\r\n"
	"\r\n"
	"second!!\r\n";

static void setup(void)
{
	instance_start(&inst, &a);
}

static void teardown(void)
{
	instance_stop(&inst, &a);
}

/* The folders and subscriptions of imaptest's listext group. */
static void make_tree(void)
{
	static const char *const create[] = {
		"t/test1", "t/test2/", "t/test2/test1", "t/test3",
		"t/test4/test5", "t/test4/test52", "t/test6", "t/test7/test7",
		"t/test8/test8", "t/test8/test9",
	};
	static const char *const subscribe[] = {
		"t/test1", "t/test2/test1", "t/test6", "t/test7/test7",
		"t/test8/test8", "t/test8/test9",
	};
	char line[128];

	for (size_t i = 0; i < sizeof(create) / sizeof(create[0]); i++) {
		snprintf(line, sizeof(line), "c CREATE %s\r\n", create[i]);
		say(&a, line);
		ASSERT_HAS(&a, "c OK");
	}
	for (size_t i = 0; i < sizeof(subscribe) / sizeof(subscribe[0]); i++) {
		snprintf(line, sizeof(line), "s SUBSCRIBE %s\r\n", subscribe[i]);
		say(&a, line);
		ASSERT_HAS(&a, "s OK");
	}
	say(&a, "d DELETE t/test6\r\n");
	ASSERT_HAS(&a, "d OK");
}

START_TEST(test_capabilities)
{
	say(&a, "c CAPABILITY\r\n");
	ASSERT_HAS(&a, " LIST-EXTENDED LIST-STATUS STATUS=SIZE MULTIAPPEND BINARY CATENATE");
}
END_TEST

START_TEST(test_patterns_and_errors)
{
	make_tree();
	/* several patterns (RFC 5258 3) */
	say(&a, "m LIST \"\" (t/*2 t/test3)\r\n");
	ck_assert_str_eq(a.got,
			 "* LIST (\\HasChildren) \"/\" t/test2\r\n"
			 "* LIST (\\HasNoChildren) \"/\" t/test3\r\n"
			 "* LIST (\\HasNoChildren) \"/\" t/test4/test52\r\n"
			 "m OK LIST completed\r\n");
	/* unknown options, RECURSIVEMATCH alone or with REMOTE only */
	say(&a, "e1 LIST (imaptest) \"\" \"\"\r\n");
	ASSERT_HAS(&a, "e1 BAD");
	say(&a, "e2 LIST (recursivematch) \"\" \"\"\r\n");
	ASSERT_HAS(&a, "e2 BAD");
	say(&a, "e3 LIST (recursivematch remote) \"\" \"\"\r\n");
	ASSERT_HAS(&a, "e3 BAD");
	say(&a, "e4 LIST \"\" \"\" return (imaptest)\r\n");
	ASSERT_HAS(&a, "e4 BAD");
	say(&a, "e5 LIST \"\" (t/test1\r\n");
	ASSERT_HAS(&a, "e5 BAD");
	say(&a, "e6 LIST \"\" ()\r\n");
	ASSERT_HAS(&a, "e6 BAD");
	say(&a, "e7 LIST \"\" * RETURN (STATUS (MESSAGES NOSUCH))\r\n");
	ASSERT_HAS(&a, "e7 BAD");
	{
		/* at most 64 patterns */
		struct buf line = BUF_INIT(BUF_UNLIMITED);

		buf_puts(&line, "e8 LIST \"\" (");
		for (int i = 0; i < 65; i++)
			buf_printf(&line, "%sp%d", i ? " " : "", i);
		buf_puts(&line, ")\r\n");
		say(&a, buf_cstr(&line));
		ck_assert_str_eq(a.got, "e8 BAD Too many LIST patterns\r\n");
		buf_free(&line);
	}
	say(&a, "r LIST (remote) \"\" t\r\n");
	ck_assert_str_eq(a.got, "* LIST (\\HasChildren) \"/\" t\r\n"
			 "r OK LIST completed\r\n");
	/* the session still works */
	say(&a, "n NOOP\r\n");
	ck_assert_str_eq(a.got, "n OK NOOP completed\r\n");
}
END_TEST

START_TEST(test_subscribed)
{
	make_tree();
	/* subscribed names, one of them no longer a folder (RFC 5258 3.1) */
	say(&a, "s LIST (SUBSCRIBED) \"\" t/*\r\n");
	ck_assert_str_eq(a.got,
			 "* LIST (\\HasNoChildren \\Subscribed) \"/\" t/test1\r\n"
			 "* LIST (\\HasNoChildren \\Subscribed) \"/\" t/test2/test1\r\n"
			 "* LIST (\\HasNoChildren \\Subscribed) \"/\" t/test7/test7\r\n"
			 "* LIST (\\HasNoChildren \\Subscribed) \"/\" t/test8/test8\r\n"
			 "* LIST (\\HasNoChildren \\Subscribed) \"/\" t/test8/test9\r\n"
			 "* LIST (\\NonExistent \\Subscribed) \"/\" t/test6\r\n"
			 "s OK LIST completed\r\n");
	/* RETURN (SUBSCRIBED) over the ordinary selection (3.4) */
	say(&a, "r LIST \"\" t/% RETURN (CHILDREN SUBSCRIBED)\r\n");
	ASSERT_HAS(&a, "* LIST (\\HasNoChildren \\Subscribed) \"/\" t/test1\r\n");
	ASSERT_HAS(&a, "* LIST (\\HasChildren) \"/\" t/test2\r\n");
	ASSERT_NOT(&a, "t/test6");
	/* without it, no \Subscribed */
	say(&a, "p LIST \"\" t/test1\r\n");
	ck_assert_str_eq(a.got, "* LIST (\\HasNoChildren) \"/\" t/test1\r\n"
			 "p OK LIST completed\r\n");
}
END_TEST

START_TEST(test_recursivematch)
{
	make_tree();
	/* a parent whose subscribed child the pattern does not reach comes
	 * with CHILDINFO (RFC 5258 3.5) */
	say(&a, "a LIST (SUBSCRIBED RECURSIVEMATCH) \"\" t/test2% RETURN (CHILDREN)\r\n");
	ck_assert_str_eq(a.got, "* LIST (\\HasChildren) \"/\" t/test2 "
			 "(\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n"
			 "a OK LIST completed\r\n");
	/* ... but not when that child is listed itself */
	say(&a, "b LIST (SUBSCRIBED RECURSIVEMATCH) \"\" t*test7\r\n");
	ck_assert_str_eq(a.got, "* LIST (\\HasNoChildren \\Subscribed) \"/\" "
			 "t/test7/test7\r\nb OK LIST completed\r\n");
	say(&a, "c LIST (SUBSCRIBED RECURSIVEMATCH) \"\" t*test8\r\n");
	ck_assert_str_eq(a.got, "* LIST (\\HasChildren) \"/\" t/test8 "
			 "(\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n"
			 "* LIST (\\HasNoChildren \\Subscribed) \"/\" t/test8/test8\r\n"
			 "c OK LIST completed\r\n");
	say(&a, "d LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (t/test2 t/test2/test1)\r\n");
	ck_assert_str_eq(a.got, "* LIST (\\HasNoChildren \\Subscribed) \"/\" "
			 "t/test2/test1\r\nd OK LIST completed\r\n");
	/* a level that exists only in a subscribed name */
	say(&a, "s SUBSCRIBE ghost/child\r\n");
	say(&a, "e LIST (SUBSCRIBED RECURSIVEMATCH) \"\" ghost\r\n");
	ck_assert_str_eq(a.got, "* LIST (\\NonExistent) \"/\" ghost "
			 "(\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n"
			 "e OK LIST completed\r\n");
}
END_TEST

START_TEST(test_list_status_and_size)
{
	char want[512];

	say(&a, "c CREATE Box\r\n");
	append(&a, "Box", "", msg1);
	append(&a, "Box", "(\\Seen) ", msg2);
	/* RFC 8438: SIZE is the sum of the RFC822.SIZEs */
	say(&a, "s STATUS Box (SIZE MESSAGES UNSEEN)\r\n");
	snprintf(want, sizeof(want), "* STATUS Box (SIZE %zu MESSAGES 2 "
		 "UNSEEN 1)\r\ns OK STATUS completed\r\n",
		 strlen(msg1) + strlen(msg2));
	ck_assert_str_eq(a.got, want);
	say(&a, "e STATUS NoSuchBox (SIZE)\r\n");
	ASSERT_HAS(&a, "e NO");
	say(&a, "f STATUS Box (SIZE\r\n");
	ASSERT_HAS(&a, "f BAD");
	/* RFC 5819: STATUS after each selectable mailbox listed, none for
	 * a \Noselect one */
	say(&a, "c CREATE t/x\r\n");
	say(&a, "d DELETE t\r\n");
	ASSERT_HAS(&a, "d OK");
	say(&a, "l LIST \"\" (Box t t/x) RETURN (STATUS (MESSAGES SIZE))\r\n");
	snprintf(want, sizeof(want),
		 "* LIST (\\HasNoChildren) \"/\" Box\r\n"
		 "* STATUS Box (MESSAGES 2 SIZE %zu)\r\n"
		 "* LIST (\\Noselect \\HasChildren) \"/\" t\r\n"
		 "* LIST (\\HasNoChildren) \"/\" t/x\r\n"
		 "* STATUS t/x (MESSAGES 0 SIZE 0)\r\n"
		 "l OK LIST completed\r\n", strlen(msg1) + strlen(msg2));
	ck_assert_str_eq(a.got, want);
}
END_TEST

START_TEST(test_multiappend)
{
	char line[256];

	say(&a, "c CREATE Box\r\n");
	/* two messages, each with its own flags and date (RFC 3502 6.3.11) */
	snprintf(line, sizeof(line), "m APPEND Box (\\Seen) {%zu}\r\n",
		 strlen(msg1));
	say(&a, line);
	ASSERT_HAS(&a, "+ Ready");
	snprintf(line, sizeof(line), "%s (\\Flagged kw) "
		 "\"01-Feb-2026 10:00:00 +0000\" {%zu}\r\n", msg1, strlen(msg2));
	say(&a, line);
	ASSERT_HAS(&a, "+ Ready");
	say(&a, msg2);
	say(&a, "\r\n");
	ASSERT_HAS(&a, "m OK [APPENDUID ");
	ASSERT_HAS(&a, " 1:2] APPEND completed");
	say(&a, "s SELECT Box\r\n");
	ASSERT_HAS(&a, "* 2 EXISTS");
	say(&a, "f FETCH 1:2 (FLAGS INTERNALDATE BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\n");
	ASSERT_HAS(&a, "* 1 FETCH (FLAGS (\\Seen \\Recent) ");
	ASSERT_HAS(&a, "Subject: one");
	ASSERT_HAS(&a, "* 2 FETCH (FLAGS (\\Flagged \\Recent kw) INTERNALDATE "
		   "\"01-Feb-2026 10:00:00 +0000\"");
	ASSERT_HAS(&a, "Subject: two");
	/* non-synchronising literals (RFC 7888) for all three */
	say(&a, "n APPEND Box {3+}\r\nabc {3+}\r\ndef {3+}\r\nghi\r\n");
	ASSERT_HAS(&a, " 3:5] APPEND completed");
}
END_TEST

START_TEST(test_multiappend_all_or_nothing)
{
	say(&a, "c CREATE Box\r\n");
	/* the second message is too big: the first is not appended either */
	inst.cfg.max_message_size = 10;
	say(&a, "a APPEND Box {3}\r\n");
	ASSERT_HAS(&a, "+ Ready");
	say(&a, "abc {11}\r\n");
	ck_assert_str_eq(a.got, "a NO [TOOBIG] Message too big\r\n");
	/* a bad flag in the second: BAD, nothing appended */
	say(&a, "b APPEND Box {3+}\r\nabc (\\Recent) {3+}\r\ndef\r\n");
	ASSERT_HAS(&a, "b BAD");
	/* to a missing mailbox: NO [TRYCREATE] */
	say(&a, "d APPEND NoSuch {3+}\r\nabc {3+}\r\ndef\r\n");
	ASSERT_HAS(&a, "d NO [TRYCREATE]");
	/* more than four times the message limit in one command */
	say(&a, "e APPEND Box {10+}\r\n0123456789 {10+}\r\n0123456789 "
	    "{10+}\r\n0123456789 {10+}\r\n0123456789 {1+}\r\nx\r\n");
	ASSERT_HAS(&a, "e NO [LIMIT]");
	{
		/* at most 256 messages (their 257 bytes are below the
		 * total limit now) */
		struct buf line = BUF_INIT(BUF_UNLIMITED);

		inst.cfg.max_message_size = 1000;
		buf_puts(&line, "h APPEND Box");
		for (int i = 0; i < 257; i++)
			buf_puts(&line, " {1+}\r\nx");
		buf_puts(&line, "\r\n");
		say(&a, buf_cstr(&line));
		ck_assert_str_eq(a.got, "h NO [LIMIT] Too many messages in one "
				 "APPEND\r\n");
		buf_free(&line);
	}
	say(&a, "s STATUS Box (MESSAGES)\r\n");
	ASSERT_HAS(&a, "* STATUS Box (MESSAGES 0)");
	/* the session still works */
	say(&a, "g APPEND Box {3+}\r\nabc {3+}\r\ndef\r\n");
	ASSERT_HAS(&a, " 1:2] APPEND completed");
}
END_TEST

/* A multipart with a base64, a quoted-printable, an unknown-encoding and
 * a binary part holding a bare CR (after imaptest's fetch-binary-mime). */
static const char mime_msg[] =
	"From: user@domain.org\r\n"
	"Mime-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=\"b\"\r\n"
	"\r\n"
	"--b\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"\r\n"
	"  aGVs  \r\n"
	" bG8gd29y\r\n"
	"bGQ=\r\n"
	"--b\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n"
	"\r\n"
	"hello  \r\n"
	"foo\t=\r\n"
	"bar =62\r\n"
	"--b\r\n"
	"Content-Transfer-Encoding: x-uuencode\r\n"
	"\r\n"
	"begin\r\n"
	"--b\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"\r\n"
	"YWIAYw1k\r\n"
	"--b--\r\n";

START_TEST(test_binary_fetch)
{
	char want[256];

	say(&a, "c CREATE Box\r\n");
	append(&a, "Box", "", mime_msg);
	say(&a, "s SELECT Box\r\n");
	/* base64 and quoted-printable decoded (RFC 3516 4.2) */
	say(&a, "f FETCH 1 (BINARY.SIZE[1] BINARY.PEEK[1] BINARY.PEEK[2])\r\n");
	ck_assert_str_eq(a.got, "* 1 FETCH (BINARY.SIZE[1] 11 BINARY[1] {11}\r\n"
			 "hello world BINARY[2] {16}\r\nhello\r\nfoo\tbar b)\r\n"
			 "f OK FETCH completed\r\n");
	/* a NUL: literal8; a partial counts decoded octets */
	{
		static const char cmd[] =
			"g FETCH 1 (BINARY.PEEK[4] BINARY.PEEK[4]<1.3>)\r\n";
		static const char want8[] =
			"* 1 FETCH (BINARY[4] ~{6}\r\nab\0c\rd "
			"BINARY[4]<1> ~{3}\r\nb\0c)\r\ng OK FETCH completed\r\n";

		buf_clear(&a.io.out);
		client_feed(&a, cmd, strlen(cmd));
		ck_assert_uint_eq(a.io.out.len, sizeof(want8) - 1);
		ck_assert_int_eq(memcmp(a.io.out.data, want8, sizeof(want8) - 1), 0);
		buf_clear(&a.io.out);
	}
	/* BINARY[] is the message as it is; no such part: NIL */
	say(&a, "h FETCH 1 (BINARY.SIZE[] BINARY.PEEK[9] BINARY.SIZE[1.2])\r\n");
	snprintf(want, sizeof(want), "* 1 FETCH (BINARY.SIZE[] %zu BINARY[9] "
		 "NIL BINARY.SIZE[1.2] NIL)\r\nh OK FETCH completed\r\n",
		 strlen(mime_msg));
	ck_assert_str_eq(a.got, want);
	/* an encoding it cannot undo: NO [UNKNOWN-CTE] */
	say(&a, "i FETCH 1 BINARY.PEEK[3]\r\n");
	ASSERT_HAS(&a, "i NO [UNKNOWN-CTE]");
	/* BINARY without PEEK sets \Seen, BINARY.SIZE does not */
	say(&a, "j FETCH 1 BINARY.SIZE[2]\r\n");
	ASSERT_NOT(&a, "\\Seen");
	say(&a, "k FETCH 1 BINARY[2]\r\n");
	ASSERT_HAS(&a, "FLAGS (\\Seen \\Recent)");
	/* bad syntax */
	say(&a, "l FETCH 1 BINARY[1.MIME]\r\n");
	ASSERT_HAS(&a, "l BAD");
	say(&a, "m FETCH 1 BINARY.SIZE[1]<0.1>\r\n");
	ASSERT_HAS(&a, "m BAD");
	say(&a, "n FETCH 1 BINARY[1\r\n");
	ASSERT_HAS(&a, "n BAD");
	say(&a, "o FETCH 1 BINARY.PEEK[0]\r\n");
	ASSERT_HAS(&a, "o BAD");
	say(&a, "p NOOP\r\n");
	ck_assert_str_eq(a.got, "p OK NOOP completed\r\n");
}
END_TEST

START_TEST(test_binary_append)
{
	say(&a, "c CREATE Box\r\n");
	/* literal8 (RFC 3516 4.4), here without NUL: stored */
	say(&a, "a APPEND Box ~{7+}\r\nab\r\n\xe4\r\n\r\n");
	ASSERT_HAS(&a, "a OK [APPENDUID ");
	/* a NUL in an ordinary literal is not IMAP (RFC 3501 9, CHAR8) */
	say(&a, "");
	client_feed(&a, "n APPEND Box {3+}\r\na\0b\r\n", 24);
	free(a.got);
	a.got = strdup(buf_cstr(&a.io.out));
	ASSERT_HAS(&a, "n BAD NUL in a message literal");
	/* a NUL in a header cannot be made storable: refused, nothing
	 * stored */
	say(&a, "");
	client_feed(&a, "b APPEND Box ~{16+}\r\nSubject: a\0b\r\n\r\n\r\n", 40);
	free(a.got);
	a.got = strdup(buf_cstr(&a.io.out));
	ASSERT_HAS(&a, "b NO [UNKNOWN-CTE]");
	say(&a, "s STATUS Box (MESSAGES)\r\n");
	ASSERT_HAS(&a, "* STATUS Box (MESSAGES 1)");
	{
		/* a binary part with NUL bytes is stored in base64 (RFC 3516
		 * 4.4); BINARY gives the bytes back, BODY the base64 text;
		 * the text part is left as it was */
		static const char msg[] =
			"c APPEND Box ~{184+}\r\n"
			"Content-Type: multipart/mixed; boundary=\"b\"\r\n"
			"\r\n"
			"--b\r\n"
			"Content-Type: text/plain\r\n"
			"\r\n"
			"text\r\n"
			"--b\r\n"
			"Content-Type: application/octet-stream\r\n"
			"Content-Transfer-Encoding: binary\r\n"
			"\r\n"
			"\0-\xe4\n\r\n\n\r\n"
			"--b--\r\n\r\n";
		static const char want8[] =
			"* 2 FETCH (BINARY.SIZE[2] 7 BINARY[2] ~{7}\r\n"
			"\0-\xe4\n\r\n\n BODY[1] {4}\r\ntext)\r\n"
			"f OK FETCH completed\r\n";
		static const char fetch[] =
			"f FETCH 2 (BINARY.SIZE[2] BINARY.PEEK[2] BODY.PEEK[1])\r\n";

		buf_clear(&a.io.out);
		client_feed(&a, msg, sizeof(msg) - 1);
		ck_assert_msg(strstr(a.io.out.data, "c OK [APPENDUID ") != NULL,
			      "%s", a.io.out.data);
		say(&a, "s SELECT Box\r\n");
		buf_clear(&a.io.out);
		client_feed(&a, fetch, strlen(fetch));
		ck_assert_uint_eq(a.io.out.len, sizeof(want8) - 1);
		ck_assert_int_eq(memcmp(a.io.out.data, want8,
					sizeof(want8) - 1), 0);
		say(&a, "g FETCH 2 (BODY.PEEK[2.MIME] BODY.PEEK[2])\r\n");
		ASSERT_HAS(&a, "Content-Transfer-Encoding: base64\r\n\r\n");
		ASSERT_NOT(&a, "binary");
		ASSERT_HAS(&a, "BODY[2] {14}\r\nAC3kCg0KCg==\r\n)");
	}
	/* literal8 where a message is not expected: BAD */
	say(&a, "d SELECT ~{3+}\r\nBox\r\n");
	ASSERT_HAS(&a, "d BAD");
	say(&a, "e NOOP\r\n");
	ASSERT_HAS(&a, "e OK");
}
END_TEST

START_TEST(test_catenate)
{
	char line[512];
	const char *uv;

	say(&a, "c CREATE \"Src Box\"\r\n");
	say(&a, "c CREATE Dst\r\n");
	append(&a, "\"Src Box\"", "", msg1);
	say(&a, "x EXAMINE \"Src Box\"\r\n");
	uv = strstr(a.got, "[UIDVALIDITY ");
	ck_assert_ptr_nonnull(uv);
	/* TEXT and URL parts (RFC 4469 5), the mailbox %-encoded, sections
	 * and a partial (RFC 5092) */
	say(&a, "a APPEND Dst (\\Seen) CATENATE (URL \"/Src%20Box/;UID=1/;"
	    "SECTION=HEADER\" TEXT {6+}\r\nbody1\n URL "
	    "\"/Src%20Box/;uid=1/;section=TEXT/;partial=1.3\")\r\n");
	ASSERT_HAS(&a, "a OK [APPENDUID ");
	snprintf(line, sizeof(line), "b APPEND Dst CATENATE (URL "
		 "\"/Src%%20Box;UIDVALIDITY=%u/;UID=1\") CATENATE (TEXT {3+}\r\n"
		 "x\r\n)\r\n", (unsigned)strtoul(uv + 13, NULL, 10));
	say(&a, line);
	ASSERT_HAS(&a, " 2:3] APPEND completed");
	say(&a, "s SELECT Dst\r\n");
	say(&a, "f FETCH 1:3 BODY.PEEK[]\r\n");
	ASSERT_HAS(&a, "* 1 FETCH (BODY[] {56}\r\nFrom: Alice <alice@lab.test>\r\n"
		   "Subject: one\r\n\r\nbody1\r\nirs)");
	snprintf(line, sizeof(line), "* 2 FETCH (BODY[] {%zu}\r\n%s)",
		 strlen(msg1), msg1);
	ASSERT_HAS(&a, line);
	ASSERT_HAS(&a, "* 3 FETCH (BODY[] {3}\r\nx\r\n)");
	/* URLs that name nothing: NO [BADURL], nothing appended */
	say(&a, "e1 APPEND Dst CATENATE (URL \"/Src%20Box;UIDVALIDITY=1/;UID=1\")\r\n");
	ASSERT_HAS(&a, "e1 NO [BADURL /Src%20Box;UIDVALIDITY=1/;UID=1]");
	say(&a, "e2 APPEND Dst CATENATE (TEXT {2+}\r\nhi URL \"/Src%20Box/;UID=9\")\r\n");
	ASSERT_HAS(&a, "e2 NO [BADURL");
	say(&a, "e3 APPEND Dst CATENATE (URL \"/Src%20Box/;UID=1/;SECTION=7\")\r\n");
	ASSERT_HAS(&a, "e3 NO [BADURL");
	say(&a, "e4 APPEND Dst CATENATE (URL \"imap://localhost/Src%20Box/;UID=1\")\r\n");
	ASSERT_HAS(&a, "e4 NO [BADURL");
	say(&a, "e5 APPEND Dst CATENATE (URL \"/Src%2/;UID=1\")\r\n");
	ASSERT_HAS(&a, "e5 NO [BADURL");
	say(&a, "e6 APPEND Dst CATENATE (URL \"/NoBox/;UID=1\")\r\n");
	ASSERT_HAS(&a, "e6 NO [BADURL");
	/* no way out of the user's folders */
	say(&a, "e6b APPEND Dst CATENATE (URL \"/..%2F..%2Falice/;UID=1\")\r\n");
	ASSERT_HAS(&a, "e6b NO [BADURL");
	say(&a, "e6c APPEND Dst CATENATE (URL \"/..%2FSrc Box/;UID=1\")\r\n");
	ASSERT_HAS(&a, "e6c NO Bad CATENATE URL");
	say(&a, "e6d APPEND Dst CATENATE (URL \"/Src%00Box/;UID=1\")\r\n");
	ASSERT_HAS(&a, "e6d NO [BADURL");
	say(&a, "e7 APPEND Dst CATENATE (URL \"/Src%20Box/;UID=1/;PARTIAL=999\")\r\n");
	ck_assert_str_eq(a.got, "e7 NO Cannot append an empty message\r\n");
	/* a missing target is [TRYCREATE] before any URL is looked at */
	say(&a, "e8 APPEND NoSuch CATENATE (URL \"/x/;UID=1\")\r\n");
	ASSERT_HAS(&a, "e8 NO [TRYCREATE]");
	/* bad syntax: BAD */
	say(&a, "e9 APPEND Dst CATENATE (TEXT \"quoted\")\r\n");
	ASSERT_HAS(&a, "e9 BAD");
	say(&a, "e10 APPEND Dst CATENATE (FOO \"x\")\r\n");
	ASSERT_HAS(&a, "e10 BAD");
	say(&a, "e11 APPEND Dst CATENATE ()\r\n");
	ASSERT_HAS(&a, "e11 BAD");
	{
		/* a TEXT literal8 with a NUL in a body: stored in base64 */
		static const char cmd[] = "t APPEND Dst CATENATE (TEXT ~{21+}\r\n"
			"Subject: s\r\n\r\nab\0cd\r\n)\r\n";

		buf_clear(&a.io.out);
		client_feed(&a, cmd, sizeof(cmd) - 1);
		ck_assert_msg(strstr(a.io.out.data, "t OK [APPENDUID ") != NULL,
			      "%s", a.io.out.data);
		say(&a, "u FETCH 4 (BODY.PEEK[HEADER] BINARY.SIZE[1])\r\n");
		ASSERT_HAS(&a, "Content-Transfer-Encoding: base64\r\n");
		ASSERT_HAS(&a, "BINARY.SIZE[1] 7)");
	}
	/* too big in all */
	inst.cfg.max_message_size = 60;
	say(&a, "e12 APPEND Dst CATENATE (URL \"/Src%20Box/;UID=1\" "
	    "URL \"/Src%20Box/;UID=1\")\r\n");
	ASSERT_HAS(&a, "e12 NO [TOOBIG]");
	say(&a, "n STATUS Dst (MESSAGES)\r\n");
	ASSERT_HAS(&a, "* STATUS Dst (MESSAGES 4)");
}
END_TEST

Suite *unit_suite(void)
{
	Suite *suite = suite_create("imap-interop");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_capabilities);
	tcase_add_test(tc, test_patterns_and_errors);
	tcase_add_test(tc, test_subscribed);
	tcase_add_test(tc, test_recursivematch);
	tcase_add_test(tc, test_list_status_and_size);
	tcase_add_test(tc, test_multiappend);
	tcase_add_test(tc, test_multiappend_all_or_nothing);
	tcase_add_test(tc, test_binary_fetch);
	tcase_add_test(tc, test_binary_append);
	tcase_add_test(tc, test_catenate);
	suite_add_tcase(suite, tc);
	return suite;
}
