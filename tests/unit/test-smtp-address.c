/* RFC 5321 4.1.2 paths and ESMTP parameters (smtpd/address.c). */
#include <string.h>

#include "smtpd/address.h"
#include "tests/unit/unit.h"

/* Copies src with its NUL to dst. */
static void put(char *dst, const char *src)
{
	memcpy(dst, src, strlen(src) + 1);
}

static enum smtp_path_err parse(const char *s, struct smtp_path *p, size_t *used)
{
	return smtp_path_parse(s, strlen(s), true, true, false, p, used);
}

START_TEST(test_simple)
{
	struct smtp_path p;
	size_t used;

	ck_assert_int_eq(parse("<alice@lab.test> SIZE=1", &p, &used), PATH_OK);
	ck_assert_uint_eq(used, 16);
	ck_assert_str_eq(p.local, "alice");
	ck_assert_str_eq(p.domain, "lab.test");
	ck_assert_str_eq(p.mailbox, "alice@lab.test");
	ck_assert(!p.null && !p.quoted && !p.postmaster && !p.utf8);
	ck_assert_int_eq(parse("<>", &p, &used), PATH_OK);
	ck_assert(p.null);
	ck_assert_str_eq(p.mailbox, "");
	ck_assert_int_eq(smtp_path_parse("<>", 2, false, true, false, &p, &used),
			 PATH_NULL_NOT_ALLOWED);
}
END_TEST

START_TEST(test_quoted_and_routes)
{
	struct smtp_path p;
	size_t used;

	ck_assert_int_eq(parse("<\"john doe\"@x.example>", &p, &used), PATH_OK);
	ck_assert_str_eq(p.local, "john doe");
	ck_assert_str_eq(p.mailbox, "\"john doe\"@x.example");
	ck_assert(p.quoted);
	ck_assert_int_eq(parse("<\"a\\\"b\\\\c\"@x.example>", &p, &used), PATH_OK);
	ck_assert_str_eq(p.local, "a\"b\\c");
	ck_assert_int_eq(parse("<\"a>b\"@x.example>", &p, &used), PATH_OK);
	ck_assert_str_eq(p.local, "a>b");
	ck_assert_int_eq(parse("<\"\"@x.example>", &p, &used), PATH_OK);
	ck_assert_int_eq(parse("<@a.example,@b.example:u@c.example>", &p, &used), PATH_OK);
	ck_assert_str_eq(p.mailbox, "u@c.example");
	ck_assert_int_eq(parse("<Postmaster>", &p, &used), PATH_OK);
	ck_assert(p.postmaster);
	ck_assert_int_eq(smtp_path_parse("<Postmaster>", 12, true, false, false, &p, &used),
			 PATH_SYNTAX);
	ck_assert_int_eq(parse("<\"postmaster\">", &p, &used), PATH_SYNTAX);
	ck_assert_int_eq(parse("<a.b+c!#$%&'*/=?^_`{|}~-@x.example>", &p, &used), PATH_OK);
}
END_TEST

START_TEST(test_literals)
{
	struct smtp_path p;
	size_t used;

	ck_assert_int_eq(parse("<u@[192.0.2.1]>", &p, &used), PATH_OK);
	ck_assert(p.literal);
	ck_assert_str_eq(p.domain, "[192.0.2.1]");
	ck_assert_int_eq(parse("<u@[IPv6:2001:db8::1]>", &p, &used), PATH_OK);
	ck_assert_int_eq(parse("<u@[x-tag:stuff]>", &p, &used), PATH_OK);
	ck_assert_int_eq(parse("<u@[256.0.0.1]>", &p, &used), PATH_SYNTAX);
	ck_assert_int_eq(parse("<u@[1.2.3]>", &p, &used), PATH_SYNTAX);
	ck_assert_int_eq(parse("<u@[IPv6:zz::1]>", &p, &used), PATH_SYNTAX);
	ck_assert_int_eq(parse("<u@[1.2.3.4>", &p, &used), PATH_SYNTAX);
}
END_TEST

/* Found by tests/fuzz/fuzz-smtp-address.c: an IPv6 literal with a NUL in
 * it was judged by what precedes the NUL (inet_pton stops there). */
START_TEST(test_literal_with_nul)
{
	static const char lit[] = "[IPv6:2001:db8::\0junk]";
	static const char path[] = "<u@[IPv6:2001:db8::\0\0``\0\0\x89\xc7" "1]>";
	struct smtp_path p;
	size_t used;

	ck_assert(!smtp_address_literal_valid(lit, sizeof(lit) - 1));
	ck_assert_int_eq(smtp_path_parse(path, sizeof(path) - 1, true, true,
					 true, &p, &used), PATH_SYNTAX);
	ck_assert(smtp_address_literal_valid("[IPv6:2001:db8::]", 17));
}
END_TEST

START_TEST(test_bad)
{
	static const char *const bad[] = {
		"", "<", "a@b", "<a@b", "<<a@b>>", "<a@b>>x" /* ok: stops */,
		"<a b@c>", "<a@b c>", "<a..b@c>", "<.a@c>", "<a.@c>", "<a@.c>",
		"<a@c.>", "<a@-c>", "<a@c->", "<a@c_d>", "<@a:>", "<@a,b:c@d>",
		"<a@>", "<@>", "<a>", "<\"a@b>", "<\"a\x01\"@b>", "<a\x80@b>",
		"<a@b\r>",
	};
	struct smtp_path p;
	size_t used, i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum smtp_path_err e = parse(bad[i], &p, &used);

		if (strcmp(bad[i], "<a@b>>x") == 0) {
			ck_assert_int_eq(e, PATH_OK);
			ck_assert_uint_eq(used, 5);
			continue;
		}
		ck_assert_msg(e != PATH_OK, "accepted %s", bad[i]);
	}
}
END_TEST

START_TEST(test_lengths)
{
	char s[600];
	struct smtp_path p;
	size_t used;

	/* RFC 5321 4.5.3.1.1: 64 octets of local part */
	s[0] = '<';
	memset(s + 1, 'l', 64);
	put(s + 65, "@x.example>");
	ck_assert_int_eq(parse(s, &p, &used), PATH_OK);
	memset(s + 1, 'l', 65);
	put(s + 66, "@x.example>");
	ck_assert_int_eq(parse(s, &p, &used), PATH_LOCAL_TOO_LONG);
	/* a quoted one counts its quotes */
	s[1] = '"';
	memset(s + 2, 'q', 62);
	put(s + 64, "\"@x.example>");
	ck_assert_int_eq(parse(s, &p, &used), PATH_OK);
	ck_assert_uint_eq(strlen(p.local), 62);
	memset(s + 2, 'q', 63);
	put(s + 65, "\"@x.example>");
	ck_assert_int_eq(parse(s, &p, &used), PATH_LOCAL_TOO_LONG);
	/* a label is at most 63 octets, a domain 255 */
	put(s, "<u@");
	memset(s + 3, 'd', 64);
	put(s + 67, ">");
	ck_assert_int_eq(parse(s, &p, &used), PATH_SYNTAX);
	put(s, "<u@");
	for (used = 0; used < 4; used++) {
		memset(s + 3 + used * 64, 'd', 63);
		s[3 + used * 64 + 63] = '.';
	}
	put(s + 3 + 4 * 64 - 1, ".dd>");
	ck_assert_int_eq(parse(s, &p, &used), PATH_DOMAIN_TOO_LONG);
	/* 4.5.3.1.3: the whole path at most 256 with its brackets */
	put(s, "<");
	memset(s + 1, 'l', 64);
	put(s + 65, "@");
	for (used = 0; used < 3; used++) {
		memset(s + 66 + used * 62, 'd', 61);
		s[66 + used * 62 + 61] = '.';
	}
	memset(s + 66 + 3 * 62, 'e', 4);
	put(s + 66 + 3 * 62 + 4, ">");
	ck_assert_uint_eq(strlen(s), 257);
	ck_assert_int_eq(parse(s, &p, &used), PATH_TOO_LONG);
	s[66 + 3 * 62 + 3] = '>';
	s[66 + 3 * 62 + 4] = '\0';
	ck_assert_int_eq(parse(s, &p, &used), PATH_OK);
}
END_TEST

/* Issue 10: a quoted local part and an address literal, each within its
 * own limit, made a mailbox longer than struct smtp_path holds; it was
 * copied before the whole-path check (a stack overflow before AUTH).
 * Every total length from 250 to 320 octets (past 320 the literal alone
 * is over 255). */
static size_t long_literal_path(char *s, size_t total)
{
	size_t n = 0, lit;

	s[n++] = '<';
	s[n++] = '"';
	memset(s + n, 'q', 60);
	n += 60;
	memcpy(s + n, "\"@[IPv7:5", 9);
	n += 9;
	lit = total - n - 2;
	memset(s + n, '(', lit);
	n += lit;
	s[n++] = ']';
	s[n++] = '>';
	s[n] = '\0';
	return n;
}

START_TEST(test_long_literal_path)
{
	char s[400];
	struct smtp_path p;
	size_t total, used;

	for (total = 250; total <= 320; total++) {
		ck_assert_uint_eq(long_literal_path(s, total), total);
		memset(&p, 0x5a, sizeof(p));
		if (total <= SMTP_PATH_MAX) {
			ck_assert_int_eq(parse(s, &p, &used), PATH_OK);
			ck_assert_uint_eq(used, total);
			ck_assert_uint_eq(strlen(p.mailbox), total - 2);
		} else {
			ck_assert_int_eq(parse(s, &p, &used), PATH_TOO_LONG);
			ck_assert_uint_eq(used, 0);
		}
	}
}
END_TEST

START_TEST(test_utf8)
{
	struct smtp_path p;
	size_t used;
	const char *u = "<j\xc3\xb6rg@m\xc3\xbcnchen.example>";

	ck_assert_int_eq(parse(u, &p, &used), PATH_UTF8);
	ck_assert_int_eq(smtp_path_parse(u, strlen(u), true, true, true, &p, &used), PATH_OK);
	ck_assert(p.utf8);
	ck_assert_str_eq(p.local, "j\xc3\xb6rg");
	/* overlong, surrogate, truncated */
	ck_assert_int_eq(smtp_path_parse("<\xc0\xafx@a>", 7, true, true, true, &p, &used),
			 PATH_SYNTAX);
	ck_assert_int_eq(smtp_path_parse("<\xed\xa0\x80@a>", 7, true, true, true, &p, &used),
			 PATH_SYNTAX);
	ck_assert_int_eq(smtp_path_parse("<\xe2\x82@a>", 6, true, true, true, &p, &used),
			 PATH_SYNTAX);
	ck_assert_uint_eq(smtp_utf8_seq_len((const unsigned char *)"\xf0\x9f\x98\x80", 4), 4);
	ck_assert_uint_eq(smtp_utf8_seq_len((const unsigned char *)"\xf4\x90\x80\x80", 4), 0);
}
END_TEST

START_TEST(test_params)
{
	struct smtp_param params[4];
	char s1[] = " SIZE=100  BODY=8BITMIME SMTPUTF8 ";
	char s2[] = " SIZE=1=2";
	char s3[] = " -X=1";
	char s4[] = " A B C D E";
	char s5[] = " ENVID=\xc3\xa9";
	char s6[] = " ENVID=\xc3\xa9";

	ck_assert_int_eq(smtp_params_parse(s1, false, params, 4), 3);
	ck_assert_str_eq(params[0].keyword, "SIZE");
	ck_assert_str_eq(params[0].value, "100");
	ck_assert_str_eq(params[1].value, "8BITMIME");
	ck_assert_ptr_null(params[2].value);
	ck_assert_int_eq(smtp_params_parse(s2, false, params, 4), -1);
	ck_assert_int_eq(smtp_params_parse(s3, false, params, 4), -1);
	ck_assert_int_eq(smtp_params_parse(s4, false, params, 4), -1);
	ck_assert_int_eq(smtp_params_parse(s5, false, params, 4), -1);
	ck_assert_int_eq(smtp_params_parse(s6, true, params, 4), 1);
	ck_assert(smtp_xtext_valid("a+2Bb"));
	ck_assert(!smtp_xtext_valid("a+2bb"));
	ck_assert(!smtp_xtext_valid("a+2"));
	ck_assert(!smtp_xtext_valid("a=b"));
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("smtp-address");
	TCase *tc = tcase_create("paths");

	tcase_add_test(tc, test_simple);
	tcase_add_test(tc, test_quoted_and_routes);
	tcase_add_test(tc, test_literals);
	tcase_add_test(tc, test_literal_with_nul);
	tcase_add_test(tc, test_bad);
	tcase_add_test(tc, test_lengths);
	tcase_add_test(tc, test_long_literal_path);
	tcase_add_test(tc, test_utf8);
	tcase_add_test(tc, test_params);
	suite_add_tcase(s, tc);
	return s;
}
