/* Quota limits: the size and count syntax (common/quota.h), the limits in
 * users.db, the students file of `user add --from-file` (cli/roster.h). */
#include <stdlib.h>
#include <string.h>

#include "cli/roster.h"
#include "common/log.h"
#include "common/quota.h"
#include "common/users.h"
#include "tests/unit/unit.h"

static char err[512];

START_TEST(test_sizes_good)
{
	static const struct { const char *text; uint64_t bytes; } good[] = {
		{ "1024", 1024 }, { "1K", 1024 }, { "1k", 1024 },
		{ "500K", 500 * 1024 }, { "20M", 20ULL << 20 },
		{ "3g", 3ULL << 30 }, { "2T", 2ULL << 40 },
		{ "1500", 1500 }, { "16777215T", 16777215ULL << 40 },
		{ "18446744073709551615", UINT64_MAX },
	};
	uint64_t b;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_msg(quota_parse_size(good[i].text, &b, err,
					       sizeof(err)) == 0, "%s: %s",
			      good[i].text, err);
		ck_assert_uint_eq(b, good[i].bytes);
	}
}
END_TEST

/* Each bad size is refused with its own reason. */
START_TEST(test_sizes_bad)
{
	static const struct { const char *text, *reason; } bad[] = {
		{ "", "empty" },
		{ "-5", "negative" }, { "-1K", "negative" },
		{ "18446744073709551616", "too large" },
		{ "99999999999999999999999", "too large" },
		{ "16777216T", "too large" }, { "17179869184G", "too large" },
		{ "10X", "unit" }, { "10KB", "unit" }, { "10 K", "unit" },
		{ "10K ", "unit" }, { "1.5M", "unit" }, { "0x10", "unit" },
		{ " 10", "not a number" }, { "+10", "not a number" },
		{ "K", "not a number" }, { "none", "not a number" },
		{ "0", "less than 1K" }, { "1023", "less than 1K" },
		{ "0K", "less than 1K" },
	};
	uint64_t b = 7;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(quota_parse_size(bad[i].text, &b, err,
					       sizeof(err)) == -1, "%s accepted",
			      bad[i].text);
		ck_assert_msg(strstr(err, bad[i].reason) != NULL,
			      "%s: '%s' lacks '%s'", bad[i].text, err,
			      bad[i].reason);
	}
	ck_assert_uint_eq(b, 7);
}
END_TEST

START_TEST(test_counts)
{
	uint64_t n;

	ck_assert_int_eq(quota_parse_count("100", &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 100);
	ck_assert_int_eq(quota_parse_count("0", &n, err, sizeof(err)), -1);
	ck_assert_int_eq(quota_parse_count("-3", &n, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "negative"));
	ck_assert_int_eq(quota_parse_count("10K", &n, err, sizeof(err)), -1);
	ck_assert_int_eq(quota_parse_count("18446744073709551616", &n, err,
					   sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "too large"));
}
END_TEST

START_TEST(test_format_and_kib)
{
	static const struct { uint64_t bytes; const char *text; } f[] = {
		{ 0, "none" }, { 1024, "1K" }, { 1536, "1536" },
		{ 20ULL << 20, "20M" }, { 1536ULL << 10, "1536K" },
		{ 5ULL << 40, "5T" },
	};
	char out[32];
	uint64_t back;

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		quota_format_size(f[i].bytes, out, sizeof(out));
		ck_assert_str_eq(out, f[i].text);
		if (f[i].bytes != 0) {
			ck_assert_int_eq(quota_parse_size(out, &back, err,
							  sizeof(err)), 0);
			ck_assert_uint_eq(back, f[i].bytes);
		}
	}
	ck_assert_uint_eq(quota_kib(0), 0);
	ck_assert_uint_eq(quota_kib(1), 1);
	ck_assert_uint_eq(quota_kib(1024), 1);
	ck_assert_uint_eq(quota_kib(1025), 2);
	ck_assert_uint_eq(quota_kib(UINT64_MAX), (UINT64_MAX >> 10) + 1);
}
END_TEST

START_TEST(test_exceeded)
{
	struct user_quota none = { 0, 0 }, q = { 10000, 3 };

	ck_assert(!quota_exceeded(&none, UINT64_MAX, UINT64_MAX, UINT64_MAX, 1));
	ck_assert(!quota_exceeded(&q, 0, 0, 10000, 1));
	ck_assert(quota_exceeded(&q, 0, 0, 10001, 1));
	ck_assert(quota_exceeded(&q, 9999, 0, 2, 1));
	ck_assert(!quota_exceeded(&q, 9999, 2, 1, 1));
	ck_assert(quota_exceeded(&q, 9999, 3, 1, 1));	/* messages */
	ck_assert(quota_exceeded(&q, 20000, 0, 0, 0));	/* already over */
	ck_assert(!quota_exceeded(&q, 10000, 3, 0, 0));
	ck_assert(quota_exceeded(&q, 10000, 0, 1, 0));	/* full: RCPT */
	ck_assert(quota_exceeded(&q, 0, 0, UINT64_MAX, 0));
}
END_TEST

/* --- the limits in users.db --- */

START_TEST(test_userdb_quota)
{
	char *dir = unit_tmpdir();
	struct userdb *db;
	struct user_quota q = { 5 << 20, 100 }, got;

	log_open(NULL, false);
	db = userdb_open(dir, err, sizeof(err));
	ck_assert_msg(db != NULL, "%s", err);
	ck_assert_int_eq(userdb_add(db, "alice", "secret", err, sizeof(err)), 0);
	ck_assert_int_eq(userdb_quota(db, "alice", &got), 1);
	ck_assert_uint_eq(got.storage, 0);
	ck_assert_uint_eq(got.messages, 0);
	ck_assert_int_eq(userdb_quota(db, "nobody", &got), 0);
	ck_assert_int_eq(userdb_set_quota(db, "nobody", &q, err, sizeof(err)), -1);
	ck_assert_int_eq(userdb_set_quota(db, "alice", &q, err, sizeof(err)), 0);
	ck_assert_int_eq(userdb_quota(db, "alice", &got), 1);
	ck_assert_uint_eq(got.storage, 5 << 20);
	ck_assert_uint_eq(got.messages, 100);
	/* a new password keeps the limits, and the password works */
	ck_assert_int_eq(userdb_passwd(db, "alice", "other", err, sizeof(err)), 0);
	ck_assert_int_eq(userdb_quota(db, "alice", &got), 1);
	ck_assert_uint_eq(got.storage, 5 << 20);
	ck_assert_int_eq(userdb_verify(db, "alice", "other"), 1);
	q.storage = 0;
	q.messages = 0;
	ck_assert_int_eq(userdb_set_quota(db, "alice", &q, err, sizeof(err)), 0);
	ck_assert_int_eq(userdb_quota(db, "alice", &got), 1);
	ck_assert_uint_eq(got.storage, 0);
	ck_assert_int_eq(userdb_verify(db, "alice", "other"), 1);
	userdb_close(&db);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

/* --- the students file --- */

static size_t parse(const char *text, size_t len, struct roster *r)
{
	return roster_parse(text, len, "st.txt", r);
}

START_TEST(test_roster_good)
{
	static const char text[] =
		"# class of 2026\n"
		"alice\n"
		"\n"
		"   bob  \t# the one at the back\n"
		"carol.d\r\n"
		"\t\r\n"
		"dave_1";	/* no newline at the end */
	struct roster r;

	ck_assert_uint_eq(parse(text, sizeof(text) - 1, &r), 0);
	ck_assert_uint_eq(r.n, 4);
	ck_assert_str_eq(r.v[0].name, "alice");
	ck_assert_uint_eq(r.v[0].line, 2);
	ck_assert_str_eq(r.v[1].name, "bob");
	ck_assert_str_eq(r.v[2].name, "carol.d");
	ck_assert_uint_eq(r.v[2].line, 5);
	ck_assert_str_eq(r.v[3].name, "dave_1");
	ck_assert_uint_eq(r.v[3].line, 7);
	roster_free(&r);
	ck_assert_uint_eq(parse("", 0, &r), 0);
	ck_assert_uint_eq(r.n, 0);
	roster_free(&r);
}
END_TEST

/* Every bad line is reported with its number; the good ones are kept. */
START_TEST(test_roster_bad)
{
	static const char text[] =
		"alice\n"				/* 1 */
		"Bob\n"					/* 2 upper case */
		"alice\r\n"				/* 3 duplicate */
		"a b\n"					/* 4 two names */
		"x123456789x123456789x123456789x123456789x123456789x123456789x1234\n"
		"-dash\n"				/* 6 */
		"caf\xc3\xa9\n"				/* 7 UTF-8 */
		"nul\0byte\n"				/* 8 */
		"ok\r\r\n"				/* 9 a CR left inside */
		"semi;colon";				/* 10 */
	struct roster r;

	ck_assert_uint_eq(parse(text, sizeof(text) - 1, &r), 9);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_str_eq(r.v[0].name, "alice");
	ck_assert_ptr_nonnull(strstr(buf_cstr(&r.errors), "st.txt:2: invalid name"));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&r.errors),
				     "st.txt:3: duplicate of line 1: 'alice'"));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&r.errors),
				     "st.txt:4: more than one name"));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&r.errors),
				     "st.txt:5: name longer than 64"));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&r.errors), "st.txt:6: invalid"));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&r.errors), "st.txt:7: invalid"));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&r.errors), "st.txt:8: invalid"));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&r.errors), "st.txt:9: invalid"));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&r.errors), "st.txt:10: invalid"));
	/* client text is escaped in the messages */
	ck_assert_ptr_null(strchr(buf_cstr(&r.errors), '\r'));
	roster_free(&r);
}
END_TEST

START_TEST(test_roster_too_many)
{
	struct buf text = BUF_INIT(BUF_UNLIMITED);
	struct roster r;

	for (int i = 0; i <= ROSTER_MAX_NAMES; i++)
		buf_printf(&text, "s%d\n", i);
	ck_assert_uint_eq(parse(text.data, text.len, &r), 1);
	ck_assert_uint_eq(r.n, ROSTER_MAX_NAMES);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&r.errors), "more than 5000"));
	roster_free(&r);
	buf_free(&text);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("quota");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_sizes_good);
	tcase_add_test(tc, test_sizes_bad);
	tcase_add_test(tc, test_counts);
	tcase_add_test(tc, test_format_and_kib);
	tcase_add_test(tc, test_exceeded);
	tcase_add_test(tc, test_userdb_quota);
	tcase_add_test(tc, test_roster_good);
	tcase_add_test(tc, test_roster_bad);
	tcase_add_test(tc, test_roster_too_many);
	suite_add_tcase(s, tc);
	return s;
}
