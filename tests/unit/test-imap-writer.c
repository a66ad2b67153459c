/* The IMAP response writer (imapd/writer.h): atom, quoted or literal. */
#include <stdint.h>
#include <string.h>

#include "imapd/parser.h"
#include "imapd/writer.h"
#include "tests/unit/unit.h"

static struct buf out = BUF_INIT(BUF_UNLIMITED);

static void teardown(void)
{
	buf_free(&out);
}

static const char *astring(const char *p, size_t len)
{
	buf_clear(&out);
	imap_write_astring(&out, p, len);
	return buf_cstr(&out);
}

static const char *string(const char *s)
{
	buf_clear(&out);
	imap_write_cstring(&out, s);
	return buf_cstr(&out);
}

START_TEST(test_astring_forms)
{
	ck_assert_str_eq(astring("INBOX", 5), "INBOX");
	ck_assert_str_eq(astring("Work/2026", 9), "Work/2026");
	ck_assert_str_eq(astring("", 0), "\"\"");
	ck_assert_str_eq(astring("NIL", 3), "\"NIL\"");
	ck_assert_str_eq(astring("nil", 3), "\"nil\"");
	ck_assert_str_eq(astring("a b", 3), "\"a b\"");
	ck_assert_str_eq(astring("a(b", 3), "\"a(b\"");
	ck_assert_str_eq(astring("a{b", 3), "\"a{b\"");
	ck_assert_str_eq(astring("50%", 3), "\"50%\"");
	ck_assert_str_eq(astring("a*", 2), "\"a*\"");
	ck_assert_str_eq(astring("a]", 2), "\"a]\"");
	/* a quote, a backslash, CR, LF, NUL, a control or 8-bit byte: literal */
	ck_assert_str_eq(astring("a\"b", 3), "{3}\r\na\"b");
	ck_assert_str_eq(astring("a\\b", 3), "{3}\r\na\\b");
	ck_assert_str_eq(astring("a\rb", 3), "{3}\r\na\rb");
	ck_assert_str_eq(astring("a\nb", 3), "{3}\r\na\nb");
	ck_assert_str_eq(astring("a\tb", 3), "{3}\r\na\tb");
	ck_assert_str_eq(astring("caf\xc3\xa9", 5), "{5}\r\ncaf\xc3\xa9");
	ck_assert_str_eq(astring("\x7f", 1), "{1}\r\n\x7f");
	astring("a\0b", 3);
	ck_assert_uint_eq(out.len, 8);
	ck_assert_mem_eq(out.data, "{3}\r\na\0b", 8);
}
END_TEST

START_TEST(test_string_never_atom)
{
	ck_assert_str_eq(string("hello"), "\"hello\"");
	ck_assert_str_eq(string("Re: [list] hi (2)"), "\"Re: [list] hi (2)\"");
	ck_assert_str_eq(string("say \"hi\""), "{8}\r\nsay \"hi\"");
	ck_assert_str_eq(string(""), "\"\"");
	buf_clear(&out);
	imap_write_ncstring(&out, NULL);
	ck_assert_str_eq(buf_cstr(&out), "NIL");
	buf_clear(&out);
	imap_write_ncstring(&out, "NIL");
	ck_assert_str_eq(buf_cstr(&out), "\"NIL\"");
	buf_clear(&out);
	imap_write_nstring(&out, "abc", 2);
	ck_assert_str_eq(buf_cstr(&out), "\"ab\"");
}
END_TEST

/* Whatever the writer emits, the parser reads back as the same bytes. */
START_TEST(test_round_trip)
{
	static const char *const samples[] = {
		"plain", "", "two words", "q\"uote", "back\\slash", "cr\rlf\n",
		"\xff\xfe", "NIL", "(paren)", "{5}", "tab\there", "]",
	};
	struct buf back = BUF_INIT(BUF_UNLIMITED);

	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		struct imap_parser p;

		astring(samples[i], strlen(samples[i]));
		imap_parser_init(&p, out.data, out.len);
		ck_assert_int_eq(imap_parse_astring(&p, &back), 0);
		ck_assert(imap_parse_at_end(&p));
		ck_assert_str_eq(buf_cstr(&back), samples[i]);
		string(samples[i]);
		imap_parser_init(&p, out.data, out.len);
		ck_assert_int_eq(imap_parse_string(&p, &back, NULL), 0);
		ck_assert(imap_parse_at_end(&p));
		ck_assert_str_eq(buf_cstr(&back), samples[i]);
	}
	buf_free(&back);
}
END_TEST

START_TEST(test_mailbox_flags_dates)
{
	const char *kw[] = { "$Junk", "Work" };

	buf_clear(&out);
	imap_write_mailbox(&out, "INBOX");
	buf_putc(&out, ' ');
	imap_write_mailbox(&out, "My Folder");
	ck_assert_str_eq(buf_cstr(&out), "INBOX \"My Folder\"");

	buf_clear(&out);
	imap_write_flags(&out, 0, 0, NULL, 0);
	ck_assert_str_eq(buf_cstr(&out), "()");
	buf_clear(&out);
	imap_write_flags(&out, IMAP_FLAG_SEEN | IMAP_FLAG_DELETED |
			 IMAP_FLAG_DRAFT | IMAP_FLAG_ANSWERED |
			 IMAP_FLAG_FLAGGED, 1, kw, 2);
	ck_assert_str_eq(buf_cstr(&out), "(\\Seen \\Answered \\Flagged "
			 "\\Deleted \\Draft \\Recent $Junk Work)");
	buf_clear(&out);
	imap_write_flags(&out, 0, 1, NULL, 0);
	ck_assert_str_eq(buf_cstr(&out), "(\\Recent)");

	buf_clear(&out);
	imap_write_datetime(&out, 837596665);
	ck_assert_str_eq(buf_cstr(&out), "\"17-Jul-1996 09:44:25 +0000\"");
	buf_clear(&out);
	imap_write_datetime(&out, 0);
	ck_assert_str_eq(buf_cstr(&out), "\"01-Jan-1970 00:00:00 +0000\"");
	/* and the parser reads it back */
	{
		struct imap_parser p;
		int64_t t;

		buf_clear(&out);
		imap_write_datetime(&out, 1700000000);
		imap_parser_init(&p, out.data, out.len);
		ck_assert_int_eq(imap_parse_datetime(&p, &t), 0);
		ck_assert_int_eq(t, 1700000000);
	}
}
END_TEST

START_TEST(test_numbers)
{
	buf_clear(&out);
	imap_write_number(&out, 0);
	buf_putc(&out, ' ');
	imap_write_number(&out, 4294967295u);
	buf_putc(&out, ' ');
	imap_write_number(&out, UINT64_MAX);
	ck_assert_str_eq(buf_cstr(&out), "0 4294967295 18446744073709551615");
	buf_clear(&out);
	imap_write_literal(&out, "ab", 2);
	ck_assert_str_eq(buf_cstr(&out), "{2}\r\nab");
}
END_TEST

Suite *unit_suite(void)
{
	Suite *suite = suite_create("imap-writer");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_astring_forms);
	tcase_add_test(tc, test_string_never_atom);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_mailbox_flags_dates);
	tcase_add_test(tc, test_numbers);
	suite_add_tcase(suite, tc);
	return suite;
}
