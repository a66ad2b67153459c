/* CONTEXT=SORT (RFC 5267 4): SORT RETURN (PARTIAL lo:hi) in sort order,
 * SORT RETURN (UPDATE) and the ADDTO and REMOVEFROM updates, whose
 * positions are in the sort order, after another session's delivery and
 * expunge; CANCELUPDATE; bad input.  Two test sessions on one temporary
 * instance. */
#include "tests/unit/imap-pair.h"

/* INBOX: three "s", then "m" (4) and "c" (5): by SUBJECT 5,4,1,2,3. */
static void setup(void)
{
	static const char *const subjects[] = { "s", "s", "s", "m", "c" };
	char msg[64];

	pair_start(true);
	for (size_t i = 0; i < sizeof(subjects) / sizeof(*subjects); i++) {
		snprintf(msg, sizeof(msg), "Subject: %s\r\n\r\nbody\r\n",
			 subjects[i]);
		append(&a, "INBOX", "", msg);
	}
	say(&a, "s SELECT INBOX\r\n");
	ASSERT_HAS(&a, "s OK");
	say(&b, "s SELECT INBOX\r\n");
	ASSERT_HAS(&b, "s OK");
}

static void teardown(void)
{
	pair_stop();
}

/* `first` comes before `second` in what the last say() produced */
static void assert_order(struct client *c, const char *first,
			 const char *second)
{
	const char *p1 = strstr(c->got, first), *p2 = strstr(c->got, second);

	ck_assert_msg(p1 != NULL && p2 != NULL && p1 < p2,
		      "\"%s\" not before \"%s\" in:\n%s", first, second,
		      c->got);
}

static void deliver(const char *subject)
{
	char msg[64];

	snprintf(msg, sizeof(msg), "Subject: %s\r\n\r\nx\r\n", subject);
	append(&b, "INBOX", "", msg);
}

START_TEST(test_capability)
{
	say(&a, "c CAPABILITY\r\n");
	ASSERT_HAS(&a, " ESORT CONTEXT=SEARCH CONTEXT=SORT");
}
END_TEST

/* RFC 5267 4.4: positions lo..hi of the sorted result, the range given
 * in either order, NIL when none of them exists. */
START_TEST(test_partial)
{
	static const struct {
		const char *cmd, *reply;
	} cases[] = {
		{ "SORT RETURN (PARTIAL 1:2) (SUBJECT) UTF-8 ALL",
		  "* ESEARCH (TAG \"t\") PARTIAL (1:2 5,4)\r\n" },
		{ "SORT RETURN (PARTIAL 4:2) (SUBJECT) UTF-8 ALL",
		  "* ESEARCH (TAG \"t\") PARTIAL (2:4 4,1:2)\r\n" },
		{ "SORT RETURN (PARTIAL 3:3) (REVERSE SUBJECT) UTF-8 ALL",
		  "* ESEARCH (TAG \"t\") PARTIAL (3:3 3)\r\n" },
		{ "SORT RETURN (PARTIAL 4:99) (SUBJECT) UTF-8 ALL",
		  "* ESEARCH (TAG \"t\") PARTIAL (4:99 2:3)\r\n" },
		{ "SORT RETURN (PARTIAL 6:7) (SUBJECT) UTF-8 ALL",
		  "* ESEARCH (TAG \"t\") PARTIAL (6:7 NIL)\r\n" },
		{ "SORT RETURN (PARTIAL 1:5) (SUBJECT) UTF-8 DELETED",
		  "* ESEARCH (TAG \"t\") PARTIAL (1:5 NIL)\r\n" },
		{ "UID SORT RETURN (COUNT PARTIAL 1:2) (REVERSE SUBJECT) "
		  "UTF-8 ALL",
		  "* ESEARCH (TAG \"t\") UID COUNT 5 PARTIAL (1:2 1:2)\r\n" },
		{ "SORT RETURN (MIN PARTIAL 2:2) (SUBJECT) UTF-8 1:4",
		  "* ESEARCH (TAG \"t\") MIN 4 PARTIAL (2:2 1)\r\n" },
	};
	char line[256], want[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		snprintf(line, sizeof(line), "t %s\r\n", cases[i].cmd);
		snprintf(want, sizeof(want), "%st OK SORT completed\r\n",
			 cases[i].reply);
		say(&a, line);
		ck_assert_msg(strcmp(a.got, want) == 0, "%s -> %s",
			      cases[i].cmd, a.got);
	}
}
END_TEST

/* RFC 5267 4.3: a delivery puts each run of new messages at its place
 * in the sort order, after EXISTS; an expunge takes them out, by the
 * numbers the client still holds, before the EXPUNGE lines. */
START_TEST(test_updates)
{
	say(&a, "t1 SORT RETURN (UPDATE ALL) (SUBJECT) UTF-8 ALL\r\n");
	ASSERT_IS(&a, "* ESEARCH (TAG \"t1\") ALL 5,4,1:3\r\n"
		  "t1 OK SORT completed\r\n");
	deliver("d");	/* 6 */
	deliver("e");	/* 7 */
	deliver("a");	/* 8 */
	deliver("z");	/* 9 */
	/* now A8 C5 D6 E7 M4 S1 S2 S3 Z9 */
	say(&a, "n NOOP\r\n");
	assert_order(&a, "* 9 EXISTS\r\n",
		     "* ESEARCH (TAG \"t1\") ADDTO (1 8 3 6:7 9 9)\r\n");
	ASSERT_HAS(&a, "n OK");
	say(&b, "s STORE 4,6 +FLAGS.SILENT (\\Deleted)\r\n");
	say(&b, "e EXPUNGE\r\n");
	ASSERT_HAS(&b, "e OK");
	/* D6 was 3rd; once it is out M4 is 4th */
	say(&a, "n NOOP\r\n");
	assert_order(&a, "* ESEARCH (TAG \"t1\") REMOVEFROM (3 6 4 4)\r\n",
		     "* 6 EXPUNGE\r\n");
	assert_order(&a, "* 6 EXPUNGE\r\n", "* 4 EXPUNGE\r\n");
	ASSERT_NOT(&a, "ADDTO");
	/* now seqs 1-3 S (UIDs 1-3), 4 C (5), 5 E (7), 6 A (8), 7 Z (9) */
	say(&a, "t2 UID SORT RETURN (UPDATE) (REVERSE SUBJECT) UTF-8 SEEN\r\n");
	ASSERT_IS(&a, "* ESEARCH (TAG \"t2\") UID\r\n"
		  "t2 OK SORT completed\r\n");
	say(&a, "s STORE 1,4 +FLAGS.SILENT (\\Seen)\r\n");
	ASSERT_IS(&a, "* ESEARCH (TAG \"t2\") UID ADDTO (1 1,5)\r\n"
		  "s OK STORE completed\r\n");
	say(&b, "s STORE 7 +FLAGS.SILENT (\\Seen)\r\n");
	say(&a, "n NOOP\r\n");
	ASSERT_HAS(&a, "* ESEARCH (TAG \"t2\") UID ADDTO (1 9)\r\n");
	say(&b, "s STORE 1 -FLAGS.SILENT (\\Seen)\r\n");
	say(&a, "n NOOP\r\n");
	ASSERT_HAS(&a, "* ESEARCH (TAG \"t2\") UID REMOVEFROM (2 1)\r\n");
	/* the sort context t1 saw no change of its result */
	ASSERT_NOT(&a, "\"t1\"");
	say(&a, "c CANCELUPDATE \"t1\" \"t2\"\r\n");
	ASSERT_IS(&a, "c OK CANCELUPDATE completed\r\n");
	deliver("b");
	say(&a, "n NOOP\r\n");
	ASSERT_HAS(&a, "* 8 EXISTS\r\n");
	ASSERT_NOT(&a, "ESEARCH");
}
END_TEST

/* UPDATE with PARTIAL: the window first, then updates of the whole
 * result; a sequence-number context follows its own session's STORE. */
START_TEST(test_partial_update)
{
	say(&a, "t SORT RETURN (UPDATE PARTIAL 1:2) (REVERSE SUBJECT) UTF-8 "
	    "UNSEEN\r\n");
	ASSERT_IS(&a, "* ESEARCH (TAG \"t\") PARTIAL (1:2 1:2)\r\n"
		  "t OK SORT completed\r\n");
	say(&a, "s STORE 2,4 +FLAGS.SILENT (\\Seen)\r\n");
	ASSERT_IS(&a, "* ESEARCH (TAG \"t\") REMOVEFROM (2 2 3 4)\r\n"
		  "s OK STORE completed\r\n");
	say(&a, "s STORE 2:4 -FLAGS.SILENT (\\Seen)\r\n");
	ASSERT_IS(&a, "* ESEARCH (TAG \"t\") ADDTO (2 2 4 4)\r\n"
		  "s OK STORE completed\r\n");
}
END_TEST

/* A client's copy of a UID SORT result (RFC 5267 4.3). */
#define LIST_MAX 256
struct list {
	uint32_t v[LIST_MAX];
	size_t n;
};

/* A sequence-set of UIDs in its order ("3,1:2") from *sp on. */
static size_t parse_set(const char **sp, uint32_t *out)
{
	const char *s = *sp;
	size_t n = 0;

	for (;;) {
		char *end;
		unsigned long lo = strtoul(s, &end, 10), hi = lo;

		ck_assert_msg(end > s, "no number at %s", s);
		s = end;
		if (*s == ':') {
			hi = strtoul(s + 1, &end, 10);
			s = end;
		}
		ck_assert_msg(lo <= hi, "descending range before %s", s);
		for (unsigned long x = lo; x <= hi; x++) {
			ck_assert(n < LIST_MAX);
			out[n++] = (uint32_t)x;
		}
		if (*s != ',')
			break;
		s++;
	}
	*sp = s;
	return n;
}

/* Applies the pairs of "* ESEARCH (TAG "r") UID <what> (...)" in got,
 * left to right; a REMOVEFROM must name the messages at its position. */
static void apply(const char *got, const char *what, struct list *l)
{
	bool removing = strcmp(what, "REMOVEFROM") == 0;
	uint32_t set[LIST_MAX];
	char key[64];
	const char *s;

	snprintf(key, sizeof(key), "* ESEARCH (TAG \"r\") UID %s (", what);
	if ((s = strstr(got, key)) == NULL)
		return;
	for (s += strlen(key); *s != ')'; s += *s == ' ') {
		char *end;
		size_t pos = strtoul(s, &end, 10), k;

		ck_assert_msg(pos >= 1 && *end == ' ', "bad pair in %s", got);
		s = end + 1;
		k = parse_set(&s, set);
		if (removing) {
			ck_assert_msg(pos - 1 + k <= l->n, "%s", got);
			for (size_t i = 0; i < k; i++)
				ck_assert_msg(l->v[pos - 1 + i] == set[i],
					      "%s", got);
			memmove(l->v + pos - 1, l->v + pos - 1 + k,
				(l->n - (pos - 1 + k)) * sizeof(*l->v));
			l->n -= k;
		} else {
			ck_assert_msg(pos - 1 <= l->n && l->n + k <= LIST_MAX,
				      "%s", got);
			memmove(l->v + pos - 1 + k, l->v + pos - 1,
				(l->n - (pos - 1)) * sizeof(*l->v));
			memcpy(l->v + pos - 1, set, k * sizeof(*set));
			l->n += k;
		}
	}
}

/* The result as a fresh UID SORT RETURN (ALL) gives it. */
static void fresh(struct list *l)
{
	const char *s;

	say(&a, "f UID SORT RETURN (ALL) (REVERSE SUBJECT SIZE) UTF-8 "
	    "UNSEEN\r\n");
	ASSERT_HAS(&a, "f OK SORT completed");
	l->n = 0;
	if ((s = strstr(a.got, " UID ALL ")) != NULL) {
		s += strlen(" UID ALL ");
		l->n = parse_set(&s, l->v);
	}
}

/* Another session's random deliveries, flag changes and expunges: the
 * result the client keeps by applying the updates is, after each round,
 * the one a fresh SORT gives. */
START_TEST(test_updates_random)
{
	static const char *const subjects[] = { "a", "b", "c", "Re: b" };
	unsigned seed = 12345;
	size_t count = 5;
	struct list held, want;
	char line[128], msg[128];
	const char *s;

	say(&a, "r UID SORT RETURN (UPDATE ALL) (REVERSE SUBJECT SIZE) UTF-8 "
	    "UNSEEN\r\n");
	s = strstr(a.got, " UID ALL ");
	ck_assert(s != NULL);
	s += strlen(" UID ALL ");
	held.n = parse_set(&s, held.v);
	for (int round = 0; round < 60; round++) {
		for (int ops = 1 + (int)((seed >> 8) % 3); ops > 0; ops--) {
			unsigned op, seq;

			seed = seed * 1103515245u + 12345u;
			op = (seed >> 16) % 4;
			seq = 1 + (unsigned)((seed >> 4) % count);
			if (op == 0 || count < 2) {
				snprintf(msg, sizeof(msg),
					 "Subject: %s\r\n\r\n%.*s\r\n",
					 subjects[(seed >> 20) % 4],
					 (int)((seed >> 24) % 8), "xxxxxxxx");
				append(&b, "INBOX", (seed & 64) ? "(\\Seen) " :
				       "", msg);
				count++;
				continue;
			}
			snprintf(line, sizeof(line),
				 "s STORE %u %cFLAGS.SILENT (%s)\r\n", seq,
				 op == 2 ? '-' : '+',
				 op == 3 ? "\\Deleted" : "\\Seen");
			say(&b, line);
			if (op == 3) {
				say(&b, "e EXPUNGE\r\n");
				ASSERT_HAS(&b, "e OK");
				count--;
			}
		}
		say(&a, "n NOOP\r\n");
		apply(a.got, "REMOVEFROM", &held);
		apply(a.got, "ADDTO", &held);
		fresh(&want);
		ck_assert_uint_eq(held.n, want.n);
		ck_assert_msg(memcmp(held.v, want.v,
				     held.n * sizeof(*held.v)) == 0,
			      "round %d: the updates give another order",
			      round);
	}
}
END_TEST

/* Each bad input gets BAD (or NO), and the session still serves. */
START_TEST(test_bad)
{
	static const char *const bad[] = {
		"t SORT RETURN (PARTIAL 1) (SUBJECT) UTF-8 ALL\r\n",
		"t SORT RETURN (PARTIAL 1:*) (SUBJECT) UTF-8 ALL\r\n",
		"t SORT RETURN (PARTIAL *:1) (SUBJECT) UTF-8 ALL\r\n",
		"t SORT RETURN (PARTIAL 0:2) (SUBJECT) UTF-8 ALL\r\n",
		"t SORT RETURN (PARTIAL 2:0) (SUBJECT) UTF-8 ALL\r\n",
		"t SORT RETURN (PARTIAL 1:99999999999) (SUBJECT) UTF-8 ALL\r\n",
		"t SORT RETURN (PARTIAL 1:2:3) (SUBJECT) UTF-8 ALL\r\n",
		"t SORT RETURN (PARTIAL -1:2) (SUBJECT) UTF-8 ALL\r\n",
		"t SORT RETURN (PARTIAL) (SUBJECT) UTF-8 ALL\r\n",
		"t SORT RETURN (PARTIAL 1,2) (SUBJECT) UTF-8 ALL\r\n",
		"t SORT RETURN (ALL PARTIAL 1:2) (SUBJECT) UTF-8 ALL\r\n",
		"t SORT RETURN (UPDATE SAVE) (SUBJECT) UTF-8 ALL\r\n",
		"t SORT RETURN (UPDATE) SUBJECT UTF-8 ALL\r\n",
		"t SORT RETURN (UPDATE) (SUBJECT) UTF-8\r\n",
		"t CANCELUPDATE \"t\"\r\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		say(&a, bad[i]);
		ck_assert_msg(strncmp(a.got, "t BAD ", 6) == 0, "%s -> %s",
			      bad[i], a.got);
		say(&a, "n NOOP\r\n");
		ASSERT_IS(&a, "n OK NOOP completed\r\n");
	}
	/* a tag in use by a context, SEARCH or SORT, is refused */
	say(&a, "c0 SEARCH RETURN (UPDATE) ALL\r\n");
	ASSERT_HAS(&a, "c0 OK");
	say(&a, "c0 SORT RETURN (UPDATE) (SUBJECT) UTF-8 ALL\r\n");
	ASSERT_HAS(&a, "* NO [NOUPDATE \"c0\"] ");
	ASSERT_HAS(&a, "* ESEARCH (TAG \"c0\")");
	ASSERT_HAS(&a, "c0 OK SORT completed");
	for (int i = 1; i < 4; i++) {
		char line[64];

		snprintf(line, sizeof(line),
			 "c%d SORT RETURN (UPDATE) (SIZE) UTF-8 ALL\r\n", i);
		say(&a, line);
		ASSERT_HAS(&a, " OK SORT completed");
	}
	say(&a, "c4 SORT RETURN (UPDATE) (SIZE) UTF-8 ALL\r\n");
	ASSERT_HAS(&a, "* NO [NOUPDATE \"c4\"] ");
	ASSERT_HAS(&a, "c4 OK SORT completed");
	/* a failed UPDATE keeps nothing: CANCELUPDATE does not know it */
	say(&a, "x CANCELUPDATE \"c4\"\r\n");
	ASSERT_HAS(&a, "x BAD ");
	say(&a, "x CANCELUPDATE \"c0\" \"c1\" \"c2\" \"c3\"\r\n");
	ASSERT_IS(&a, "x OK CANCELUPDATE completed\r\n");
	/* no mailbox selected */
	say(&b, "u UNSELECT\r\n");
	say(&b, "t SORT RETURN (UPDATE) (SUBJECT) UTF-8 ALL\r\n");
	ck_assert_msg(strncmp(b.got, "t BAD ", 6) == 0, "%s", b.got);
	say(&b, "n NOOP\r\n");
	ASSERT_IS(&b, "n OK NOOP completed\r\n");
}
END_TEST

Suite *unit_suite(void)
{
	Suite *suite = suite_create("imap-sort-context");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_capability);
	tcase_add_test(tc, test_partial);
	tcase_add_test(tc, test_updates);
	tcase_add_test(tc, test_partial_update);
	tcase_add_test(tc, test_updates_random);
	tcase_add_test(tc, test_bad);
	suite_add_tcase(suite, tc);
	return suite;
}
