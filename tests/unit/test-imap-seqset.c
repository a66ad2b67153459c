/* Sequence-set evaluation (imapd/seqset.h). */
#include <stdio.h>
#include <string.h>

#include "imapd/parser.h"
#include "imapd/seqset.h"
#include "tests/unit/unit.h"

static struct imap_seqset set, out;

static void setup(void)
{
	imap_seqset_init(&set);
	imap_seqset_init(&out);
}

static void teardown(void)
{
	imap_seqset_free(&set);
	imap_seqset_free(&out);
}

static void parse(const char *text)
{
	struct imap_parser p;

	imap_seqset_clear(&set);
	imap_parser_init(&p, text, strlen(text));
	ck_assert_int_eq(imap_parse_seqset(&p, &set), 0);
	ck_assert(imap_parse_at_end(&p));
}

/* The evaluated set as text "1:3,5". */
static const char *text_of(const struct imap_seqset *s)
{
	static char text[256];
	size_t n = 0;

	text[0] = '\0';
	for (size_t i = 0; i < s->n && n < sizeof(text) - 24; i++) {
		if (s->r[i].lo == s->r[i].hi)
			n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%u",
					      i ? "," : "", s->r[i].lo);
		else
			n += (size_t)snprintf(text + n, sizeof(text) - n,
					      "%s%u:%u", i ? "," : "",
					      s->r[i].lo, s->r[i].hi);
	}
	return text;
}

static const char *seq(const char *text, uint32_t count)
{
	parse(text);
	if (imap_seqset_eval_seq(&set, count, &out) < 0)
		return "invalid";
	return text_of(&out);
}

START_TEST(test_sequence_numbers)
{
	ck_assert_str_eq(seq("1:*", 5), "1:5");
	ck_assert_str_eq(seq("*", 5), "5");
	ck_assert_str_eq(seq("*:4", 5), "4:5");
	ck_assert_str_eq(seq("4:2", 5), "2:4");
	ck_assert_str_eq(seq("2,4:7,9", 10), "2,4:7,9");
	ck_assert_str_eq(seq("9,2,3,1", 10), "1:3,9");
	ck_assert_str_eq(seq("1:3,2:5,7,6", 10), "1:7");
	ck_assert_str_eq(seq("5,5,5", 10), "5");
	ck_assert_uint_eq(imap_seqset_count(&out), 1);
	/* outside 1..count, and anything on an empty mailbox */
	ck_assert_str_eq(seq("6", 5), "invalid");
	ck_assert_str_eq(seq("1:6", 5), "invalid");
	ck_assert_str_eq(seq("*", 0), "invalid");
	ck_assert_str_eq(seq("*:*", 0), "invalid");
	ck_assert_str_eq(seq("1:*", 0), "invalid");
	ck_assert_str_eq(seq("4294967295", 5), "invalid");
	ck_assert_str_eq(seq("1:4294967295", 4294967295u), "1:4294967295");
	ck_assert_uint_eq(imap_seqset_count(&out), 4294967295u);
}
END_TEST

static const char *uid(const char *text, const uint32_t *uids, size_t n)
{
	parse(text);
	imap_seqset_eval_uid(&set, uids, n, &out);
	return text_of(&out);
}

START_TEST(test_uids)
{
	static const uint32_t uids[] = { 3, 4, 7, 10, 11, 20 };
	size_t n = sizeof(uids) / sizeof(uids[0]);

	ck_assert_str_eq(uid("1:*", uids, n), "1:6");
	ck_assert_str_eq(uid("*", uids, n), "6");
	ck_assert_str_eq(uid("4:10", uids, n), "2:4");
	ck_assert_str_eq(uid("10:4", uids, n), "2:4");
	ck_assert_str_eq(uid("5:6", uids, n), "");
	ck_assert_str_eq(uid("1,2,8,9", uids, n), "");
	ck_assert_str_eq(uid("3,11,20", uids, n), "1,5:6");
	/* "*:15" is 15:20 here */
	ck_assert_str_eq(uid("*:15", uids, n), "6");
	/* a UID above every one still matches '*' only by value */
	ck_assert_str_eq(uid("21:*", uids, n), "6");
	ck_assert_str_eq(uid("4294967295", uids, n), "");
	ck_assert_str_eq(uid("1:4294967295", uids, n), "1:6");
	/* on an empty mailbox everything matches nothing */
	ck_assert_str_eq(uid("1:*", uids, 0), "");
	ck_assert_str_eq(uid("*:*", uids, 0), "");
	ck_assert_str_eq(uid("*", uids, 0), "");
}
END_TEST

START_TEST(test_contains)
{
	parse("2,4:7,9");
	ck_assert_int_eq(imap_seqset_eval_seq(&set, 10, &out), 0);
	ck_assert(!imap_seqset_contains(&out, 1));
	ck_assert(imap_seqset_contains(&out, 2));
	ck_assert(!imap_seqset_contains(&out, 3));
	ck_assert(imap_seqset_contains(&out, 4));
	ck_assert(imap_seqset_contains(&out, 7));
	ck_assert(!imap_seqset_contains(&out, 8));
	ck_assert(imap_seqset_contains(&out, 9));
	ck_assert(!imap_seqset_contains(&out, 10));
	ck_assert_uint_eq(imap_seqset_count(&out), 6);
	ck_assert(!imap_seqset_has_star(&set));
}
END_TEST

Suite *unit_suite(void)
{
	Suite *suite = suite_create("imap-seqset");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sequence_numbers);
	tcase_add_test(tc, test_uids);
	tcase_add_test(tc, test_contains);
	suite_add_tcase(suite, tc);
	return suite;
}
