/* CONTEXT=SEARCH (RFC 5267 4): SEARCH RETURN (UPDATE), the ADDTO and
 * REMOVEFROM updates another session's changes cause, CANCELUPDATE and
 * PARTIAL, through two test sessions on one temporary instance. */
#include "tests/unit/imap-client.h"

static struct instance inst;
static struct client a, b;

static void setup(void)
{
	instance_start(&inst, &a);
	for (int i = 0; i < 3; i++)
		append(&a, "INBOX", "", "Subject: s\r\n\r\nbody\r\n");
	say(&a, "s SELECT INBOX\r\n");
	ASSERT_HAS(&a, "s OK");
	client_open(&b, &inst);
	say(&b, "1 LOGIN alice secret\r\n");
	ASSERT_HAS(&b, "1 OK");
	say(&b, "s SELECT INBOX\r\n");
	ASSERT_HAS(&b, "s OK");
}

static void teardown(void)
{
	client_close(&b);
	instance_stop(&inst, &a);
}

/* `first` comes before `second` in what the last say() produced */
static void assert_order(struct client *c, const char *first,
			 const char *second)
{
	const char *p1 = strstr(c->got, first), *p2 = strstr(c->got, second);

	ck_assert_msg(p1 != NULL && p2 != NULL && p1 < p2,
		      "\"%s\" not before \"%s\" in:\n%s", first, second, c->got);
}

START_TEST(test_updates)
{
	say(&a, "c CAPABILITY\r\n");
	ASSERT_HAS(&a, " CONTEXT=SEARCH");
	say(&a, "t1 SEARCH RETURN (UPDATE) SEEN\r\n");
	ASSERT_IS(&a, "* ESEARCH (TAG \"t1\")\r\nt1 OK SEARCH completed\r\n");
	/* the session's own STORE */
	say(&a, "s STORE 1,3 +FLAGS.SILENT (\\Seen)\r\n");
	ASSERT_IS(&a, "* ESEARCH (TAG \"t1\") ADDTO (1 1,3)\r\n"
		  "s OK STORE completed\r\n");
	/* another session's flag change, append and expunge */
	say(&b, "s STORE 1 -FLAGS.SILENT (\\Seen)\r\n");
	say(&a, "n NOOP\r\n");
	ASSERT_HAS(&a, "* 1 FETCH (FLAGS (\\Recent))\r\n");
	ASSERT_HAS(&a, "* ESEARCH (TAG \"t1\") REMOVEFROM (1 1)\r\n");
	append(&b, "INBOX", "(\\Seen) ", "Subject: new\r\n\r\nx\r\n");
	say(&a, "n NOOP\r\n");
	assert_order(&a, "* 4 EXISTS\r\n",
		     "* ESEARCH (TAG \"t1\") ADDTO (2 4)\r\n");
	say(&b, "s STORE 3 +FLAGS.SILENT (\\Deleted)\r\n");
	say(&b, "e EXPUNGE\r\n");
	ASSERT_HAS(&b, "e OK");
	/* REMOVEFROM names the message by the number the client still
	 * holds, so it comes before the EXPUNGE */
	say(&a, "n NOOP\r\n");
	assert_order(&a, "* ESEARCH (TAG \"t1\") REMOVEFROM (1 3)\r\n",
		     "* 3 EXPUNGE\r\n");
	ASSERT_HAS(&a, "n OK");
	/* a UID context, then CANCELUPDATE stops the first */
	say(&a, "t2 UID SEARCH RETURN (UPDATE ALL) SEEN\r\n");
	ASSERT_IS(&a, "* ESEARCH (TAG \"t2\") UID ALL 4\r\n"
		  "t2 OK SEARCH completed\r\n");
	say(&a, "c CANCELUPDATE \"t1\"\r\n");
	ASSERT_IS(&a, "c OK CANCELUPDATE completed\r\n");
	say(&b, "s STORE 1 +FLAGS.SILENT (\\Seen)\r\n");
	say(&a, "n NOOP\r\n");
	ASSERT_HAS(&a, "* ESEARCH (TAG \"t2\") UID ADDTO (1 1)\r\n");
	ASSERT_NOT(&a, "\"t1\"");
	/* leaving the mailbox drops the contexts */
	say(&a, "u UNSELECT\r\n");
	say(&a, "s SELECT INBOX\r\n");
	say(&b, "s STORE 1 -FLAGS.SILENT (\\Seen)\r\n");
	say(&a, "n NOOP\r\n");
	ASSERT_NOT(&a, "ESEARCH");
	say(&a, "c CANCELUPDATE \"t2\"\r\n");
	ASSERT_IS(&a, "c BAD No search context has that tag\r\n");
}
END_TEST

START_TEST(test_partial)
{
	static const struct {
		const char *cmd, *reply;
	} cases[] = {
		{ "SEARCH RETURN (PARTIAL 1:1) ALL",
		  "* ESEARCH (TAG \"t\") PARTIAL (1:1 1)\r\n" },
		{ "SEARCH RETURN (PARTIAL 3:2) ALL",
		  "* ESEARCH (TAG \"t\") PARTIAL (2:3 2:3)\r\n" },
		{ "SEARCH RETURN (PARTIAL 2:9) 1,3",
		  "* ESEARCH (TAG \"t\") PARTIAL (2:9 3)\r\n" },
		{ "SEARCH RETURN (PARTIAL 4:4) ALL",
		  "* ESEARCH (TAG \"t\") PARTIAL (4:4 NIL)\r\n" },
		{ "UID SEARCH RETURN (COUNT PARTIAL 2:2) ALL",
		  "* ESEARCH (TAG \"t\") UID COUNT 3 PARTIAL (2:2 2)\r\n" },
	};
	char line[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		snprintf(line, sizeof(line), "t %s\r\n", cases[i].cmd);
		say(&a, line);
		ASSERT_HAS(&a, cases[i].reply);
		ASSERT_HAS(&a, "t OK SEARCH completed\r\n");
	}
}
END_TEST

/* Each bad input gets BAD (or NO), and the session still serves. */
START_TEST(test_bad)
{
	static const char *const bad[] = {
		"t SEARCH RETURN (PARTIAL 1) ALL\r\n",
		"t SEARCH RETURN (PARTIAL 1:*) ALL\r\n",
		"t SEARCH RETURN (PARTIAL *:1) ALL\r\n",
		"t SEARCH RETURN (PARTIAL 0:2) ALL\r\n",
		"t SEARCH RETURN (PARTIAL 1:99999999999) ALL\r\n",
		"t SEARCH RETURN (ALL PARTIAL 1:2) ALL\r\n",
		"t SEARCH RETURN (UPDATE SAVE) ALL\r\n",
		"t SORT RETURN (UPDATE SAVE) (ARRIVAL) UTF-8 ALL\r\n",
		"t CANCELUPDATE \"unknown\"\r\n",
		"t CANCELUPDATE\r\n",
	};
	char tag[16], line[64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		say(&a, bad[i]);
		ck_assert_msg(strncmp(a.got, "t BAD ", 6) == 0, "%s -> %s",
			      bad[i], a.got);
		say(&a, "n NOOP\r\n");
		ASSERT_IS(&a, "n OK NOOP completed\r\n");
	}
	/* at most 4 contexts; a tag in use is refused */
	for (int i = 0; i < 4; i++) {
		snprintf(tag, sizeof(tag), "c%d", i);
		snprintf(line, sizeof(line), "%s SEARCH RETURN (UPDATE) ALL\r\n",
			 tag);
		say(&a, line);
		ASSERT_HAS(&a, " OK SEARCH completed");
	}
	/* RFC 5267 4.2: over the limit the result still comes, with
	 * NOUPDATE, and the command succeeds; nothing is kept */
	say(&a, "c4 SEARCH RETURN (UPDATE) ALL\r\n");
	ck_assert_msg(strncmp(a.got, "* NO [NOUPDATE \"c4\"] ", 21) == 0, "%s",
		      a.got);
	ASSERT_HAS(&a, "\r\n* ESEARCH (TAG \"c4\")");
	ASSERT_HAS(&a, "\r\nc4 OK SEARCH completed\r\n");
	say(&a, "x CANCELUPDATE \"c4\"\r\n");
	ASSERT_HAS(&a, "x BAD ");
	say(&a, "x CANCELUPDATE \"c0\" \"c1\"\r\n");
	ASSERT_IS(&a, "x OK CANCELUPDATE completed\r\n");
	say(&a, "c2 SEARCH RETURN (UPDATE) ALL\r\n");
	ASSERT_HAS(&a, "* NO [NOUPDATE \"c2\"] ");
	ASSERT_HAS(&a, "c2 OK SEARCH completed");
	say(&a, "c4 SEARCH RETURN (UPDATE) ALL\r\n");
	ASSERT_HAS(&a, "c4 OK SEARCH completed");
	/* no mailbox selected: SEARCH, UPDATE or not, and CANCELUPDATE */
	say(&b, "u UNSELECT\r\n");
	say(&b, "t SEARCH RETURN (UPDATE) ALL\r\n");
	ck_assert_msg(strncmp(b.got, "t BAD ", 6) == 0, "%s", b.got);
	say(&b, "t CANCELUPDATE \"t\"\r\n");
	ck_assert_msg(strncmp(b.got, "t BAD ", 6) == 0, "%s", b.got);
	say(&b, "n NOOP\r\n");
	ASSERT_IS(&b, "n OK NOOP completed\r\n");
}
END_TEST

Suite *unit_suite(void)
{
	Suite *suite = suite_create("imap-context");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_updates);
	tcase_add_test(tc, test_partial);
	tcase_add_test(tc, test_bad);
	suite_add_tcase(suite, tc);
	return suite;
}
