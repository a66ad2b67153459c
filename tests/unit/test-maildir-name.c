#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "maildir/crlf.h"
#include "maildir/mutf7.h"
#include "maildir/name.h"
#include "maildir/user.h"
#include "tests/unit/unit.h"

START_TEST(test_folder_names_refused)
{
	static const char *const bad[] = {
		"", "/abs", "a//b", "a/", "..", "a/../b", "a.b", ".hidden",
		"tab\there", "nl\nx", "del\x7f", "caf\xc3\xa9", "a%b", "a*",
		"back\\slash", "&Jjo", "&AGE-", "&-&-x&Jjo-&Jjo-",
	};
	char err[128];
	char longname[MAILDIR_FOLDER_MAX + 2];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(!maildir_folder_name_valid(bad[i], err, sizeof(err)),
			      "accepted \"%s\"", bad[i]);
		ck_assert_msg(err[0] != '\0', "no reason for \"%s\"", bad[i]);
	}
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ck_assert(!maildir_folder_name_valid(longname, err, sizeof(err)));
	ck_assert_str_eq(err, "mailbox name longer than 200 bytes");
}
END_TEST

START_TEST(test_folder_names_ok_and_dirs)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);
	char err[128];

	ck_assert(maildir_folder_name_valid("Work/2026", err, sizeof(err)));
	ck_assert(maildir_folder_name_valid("A &- B", err, sizeof(err)));
	ck_assert(maildir_folder_name_valid("Entw&APw-rfe", err, sizeof(err)));
	ck_assert_int_eq(maildir_folder_dir("Work/2026", &b, err, sizeof(err)), 0);
	ck_assert_str_eq(buf_cstr(&b), ".Work.2026");
	ck_assert_int_eq(maildir_folder_dir("inbox", &b, err, sizeof(err)), 0);
	ck_assert_str_eq(buf_cstr(&b), "");
	ck_assert_int_eq(maildir_folder_dir("a/../b", &b, err, sizeof(err)), -1);
	ck_assert_int_eq(maildir_folder_from_dir(".Work.2026", &b), 0);
	ck_assert_str_eq(buf_cstr(&b), "Work/2026");
	ck_assert_int_eq(maildir_folder_from_dir("..maillab-deleted.1", &b), -1);
	ck_assert_int_eq(maildir_folder_from_dir("cur", &b), -1);
	ck_assert_int_eq(maildir_folder_from_dir(".INBOX", &b), -1);
	ck_assert_int_eq(maildir_folder_from_dir(".a..b", &b), -1);
	buf_free(&b);
}
END_TEST

START_TEST(test_user_names)
{
	char err[128];

	ck_assert(maildir_user_name_valid("alice", err, sizeof(err)));
	ck_assert(maildir_user_name_valid("bob.smith+x", err, sizeof(err)));
	ck_assert(!maildir_user_name_valid("../etc", err, sizeof(err)));
	ck_assert(!maildir_user_name_valid(".tmp", err, sizeof(err)));
	ck_assert(!maildir_user_name_valid("a/b", err, sizeof(err)));
	ck_assert(!maildir_user_name_valid("", err, sizeof(err)));
}
END_TEST

static void check_roundtrip(const char *utf8, const char *mutf7)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);

	ck_assert_int_eq(mutf7_encode(utf8, &b), 0);
	ck_assert_str_eq(buf_cstr(&b), mutf7);
	ck_assert(mutf7_valid(mutf7));
	buf_clear(&b);
	ck_assert_int_eq(mutf7_decode(mutf7, &b), 0);
	ck_assert_str_eq(buf_cstr(&b), utf8);
	buf_free(&b);
}

START_TEST(test_mutf7)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);

	/* RFC 3501 section 5.1.3 examples and friends. */
	check_roundtrip("~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
			"~peter/mail/&U,BTFw-/&ZeVnLIqe-");
	check_roundtrip("Entw\xc3\xbcrfe", "Entw&APw-rfe");
	check_roundtrip("A & B", "A &- B");
	check_roundtrip("plain", "plain");
	check_roundtrip("\xf0\x9f\x93\xa7 mail", "&2D3c5w- mail");
	check_roundtrip("\xc3\xa9", "&AOk-");
	ck_assert(!mutf7_valid("&"));
	ck_assert(!mutf7_valid("&AOk"));
	ck_assert(!mutf7_valid("&AGE-"));		/* encodes 'a' */
	ck_assert(!mutf7_valid("&2D0-"));		/* lone surrogate */
	ck_assert(!mutf7_valid("&AOk-&AOk-"));	/* two adjacent runs */
	ck_assert(!mutf7_valid("&AOl-"));		/* non-zero padding bits */
	ck_assert(!mutf7_valid("caf\xc3\xa9"));
	ck_assert_int_eq(mutf7_encode("bad\xc3", &b), -1);
	ck_assert_int_eq(mutf7_decode("&Jjo", &b), -1);
	buf_free(&b);
}
END_TEST

/* RFC 9051 section 5.1: a name that decodes to a control character, DEL
 * or a line/paragraph separator is valid mUTF-7 but may not be created. */
START_TEST(test_mutf7_controls)
{
	static const char *const bad[] = {
		"&AAA-", "&AA0ACg-", "&ABs-", "&AH8-", "&AIA-", "&AJ8-",
		"x&AIU-y", "a/&AAk-", "&AOkAGw-", "&ICg-", "&ICk-",
	};
	static const char *const ok[] = {
		"plain", "&AKA-", "&AOk-", "Entw&APw-rfe", "&2D3c5w- mail",
		"A &- B",
	};
	char err[128];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(mutf7_valid(bad[i]), "\"%s\" not mUTF-7", bad[i]);
		ck_assert_msg(mutf7_has_control(bad[i]), "missed \"%s\"", bad[i]);
		err[0] = '\0';
		ck_assert_msg(!maildir_folder_name_creatable(bad[i], err,
							     sizeof(err)),
			      "creatable \"%s\"", bad[i]);
		ck_assert_str_eq(err,
			"Control characters not allowed in new mailbox names");
		/* Still a name one may select, rename or delete. */
		ck_assert(maildir_folder_name_valid(bad[i], err, sizeof(err)));
	}
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_msg(!mutf7_has_control(ok[i]), "refused \"%s\"", ok[i]);
		ck_assert_msg(maildir_folder_name_creatable(ok[i], err,
							    sizeof(err)),
			      "\"%s\": %s", ok[i], err);
	}
	ck_assert(!mutf7_has_control("&Jjo"));	/* invalid: not our question */
	ck_assert(!maildir_folder_name_creatable("a.b", err, sizeof(err)));
}
END_TEST

START_TEST(test_flag_letters)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);
	char letters[8];

	ck_assert_uint_eq(maildir_flags_to_letters(MAILDIR_FLAGS_ALL, letters), 5);
	ck_assert_str_eq(letters, "DFRST");
	maildir_flags_to_letters(MAILDIR_FLAG_SEEN | MAILDIR_FLAG_ANSWERED, letters);
	ck_assert_str_eq(letters, "RS");
	maildir_flags_to_letters(0, letters);
	ck_assert_str_eq(letters, "");
	ck_assert_uint_eq(maildir_flags_from_name("1.M1P1Q1.h,S=5:2,FS"),
			  MAILDIR_FLAG_FLAGGED | MAILDIR_FLAG_SEEN);
	ck_assert_uint_eq(maildir_flags_from_name("1.M1P1Q1.h,S=5:2,TDx"),
			  MAILDIR_FLAG_DELETED | MAILDIR_FLAG_DRAFT);
	ck_assert_uint_eq(maildir_flags_from_name("1.M1P1Q1.h,S=5"), 0);
	maildir_name_with_flags("1.M1P1Q1.h,S=5:2,Sab", MAILDIR_FLAG_FLAGGED |
				MAILDIR_FLAG_DELETED, &b);
	ck_assert_str_eq(buf_cstr(&b), "1.M1P1Q1.h,S=5:2,FTab");
	maildir_name_with_flags("1.M1P1Q1.h,S=5", MAILDIR_FLAG_SEEN, &b);
	ck_assert_str_eq(buf_cstr(&b), "1.M1P1Q1.h,S=5:2,S");
	buf_free(&b);
}
END_TEST

START_TEST(test_unique_names)
{
	char a[256], b[256];
	struct maildir_name_info info;

	ck_assert_int_eq(maildir_name_unique(a, sizeof(a), 4096), 0);
	ck_assert_int_eq(maildir_name_unique(b, sizeof(b), 4096), 0);
	ck_assert_str_ne(a, b);
	ck_assert_ptr_nonnull(strstr(a, ",S=4096"));
	ck_assert_ptr_null(strchr(a, ':'));
	ck_assert_ptr_null(strchr(a, '/'));
	maildir_name_parse("1700000000.M123456P99Q3.host,S=1234,W=1260:2,S", &info);
	ck_assert_int_eq(info.sec, 1700000000);
	ck_assert_int_eq(info.usec, 123456);
	ck_assert(info.has_size);
	ck_assert_uint_eq(info.size, 1234);
	ck_assert(info.has_wire);
	ck_assert_uint_eq(info.wire, 1260);
	/* times no calendar can format are no delivery time (fuzz-maildir-name
	 * found a 20-digit time read as negative seconds) */
	maildir_name_parse("99999999999999999999.M99999999999999999999P1.h,S=5", &info);
	ck_assert_int_eq(info.sec, 0);
	ck_assert_int_eq(info.usec, 0);
	maildir_name_parse("253402300800.M1000000P1.h", &info);
	ck_assert_int_eq(info.sec, 0);
	ck_assert_int_eq(info.usec, 0);
	maildir_name_parse("253402300799.M999999P1.h", &info);
	ck_assert_int_eq(info.sec, 253402300799);
	ck_assert_int_eq(info.usec, 999999);
	ck_assert_int_lt(maildir_name_cmp_delivery("9.M5P1.h", "10.M1P1.h"), 0);
	ck_assert_int_lt(maildir_name_cmp_delivery("10.M1P1.h", "10.M2P1.h"), 0);
	ck_assert_uint_eq(maildir_base_len("abc:2,S"), 3);
	ck_assert_int_eq(maildir_name_unique(a, 10, 1), -1);
}
END_TEST

START_TEST(test_crlf_conversion)
{
	static const char in[] = "a\nb\r\nc\n\nd\r";
	struct buf out = BUF_INIT(BUF_UNLIMITED);
	struct maildir_crlf st = { 0 };
	size_t i;

	ck_assert_int_eq(maildir_crlf_append(&st, in, strlen(in), &out), 0);
	ck_assert_str_eq(buf_cstr(&out), "a\r\nb\r\nc\r\n\r\nd\r");
	/* Byte by byte: the CR before a chunk boundary is remembered. */
	buf_clear(&out);
	st.prev = 0;
	for (i = 0; i < strlen(in); i++)
		ck_assert_int_eq(maildir_crlf_append(&st, in + i, 1, &out), 0);
	ck_assert_str_eq(buf_cstr(&out), "a\r\nb\r\nc\r\n\r\nd\r");
	buf_free(&out);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("maildir-name");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_folder_names_refused);
	tcase_add_test(tc, test_folder_names_ok_and_dirs);
	tcase_add_test(tc, test_user_names);
	tcase_add_test(tc, test_mutf7);
	tcase_add_test(tc, test_mutf7_controls);
	tcase_add_test(tc, test_flag_letters);
	tcase_add_test(tc, test_unique_names);
	tcase_add_test(tc, test_crlf_conversion);
	suite_add_tcase(s, tc);
	return s;
}
