/* ENVELOPE, BODY and BODYSTRUCTURE (RFC 3501 7.4.2) of the MIME corpus.
 * The expected values were written by hand from the RFC: sizes count the
 * CRLF wire form of each body, without the CRLF that belongs to the next
 * boundary (RFC 2046 5.1.1); lines count line ends, as Dovecot does. */
#include "imapd/bodystruct.h"
#include "tests/unit/mime-corpus.h"

static const char *structure(const char *lf_text, bool extended)
{
	static char out[4096];
	struct msg m;
	struct buf b = BUF_INIT(BUF_UNLIMITED);

	msg_load(&m, lf_text);
	imap_write_bodystructure(&b, m.p, extended);
	snprintf(out, sizeof(out), "%s", buf_cstr(&b));
	buf_free(&b);
	msg_done(&m);
	return out;
}

static const char *envelope(const char *lf_text, uint32_t env)
{
	static char out[4096];
	struct msg m;
	struct buf b = BUF_INIT(BUF_UNLIMITED);

	msg_load(&m, lf_text);
	imap_write_envelope(&b, m.p, env);
	snprintf(out, sizeof(out), "%s", buf_cstr(&b));
	buf_free(&b);
	msg_done(&m);
	return out;
}

START_TEST(test_plain)
{
	/* body: "Hi Bob,\r\n" (9) + "are we still on for Friday?\r\n" (29) */
	ck_assert_str_eq(structure(plain_msg, true),
		"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
		"38 2 NIL NIL NIL NIL)");
	ck_assert_str_eq(structure(plain_msg, false),
		"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 38 2)");
	/* sender and reply-to default to from (RFC 3501 7.4.2) */
	ck_assert_str_eq(envelope(plain_msg, 0),
		"(\"Fri, 21 Nov 2025 12:30:00 +0100\" \"Lunch on Friday?\" "
		"((\"Alice Example\" NIL \"alice\" \"example.org\")) "
		"((\"Alice Example\" NIL \"alice\" \"example.org\")) "
		"((\"Alice Example\" NIL \"alice\" \"example.org\")) "
		"((\"Bob\" NIL \"bob\" \"example.net\")"
		"(\"Carol C.\" NIL \"carol\" \"example.com\")) "
		"NIL NIL NIL \"<lunch.1@example.org>\")");
}
END_TEST

START_TEST(test_alternative)
{
	/* part 1 "Caf=C3=A9 news" (14, no line end before the boundary);
	 * part 2 "<p>Caf=C3=A9 news</p>\r\n" (23, one line end) */
	ck_assert_str_eq(structure(alt_msg, true),
		"((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL "
		"\"quoted-printable\" 14 0 NIL NIL NIL NIL)"
		"(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL "
		"\"quoted-printable\" 23 1 NIL NIL NIL NIL) "
		"\"alternative\" (\"boundary\" \"=_alt_42\") NIL NIL NIL)");
	ck_assert_str_eq(structure(alt_msg, false),
		"((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL "
		"\"quoted-printable\" 14 0)(\"text\" \"html\" (\"charset\" "
		"\"utf-8\") NIL NIL \"quoted-printable\" 23 1) \"alternative\")");
	ck_assert_str_eq(envelope(alt_msg, 0),
		"(NIL \"Newsletter\" ((NIL NIL \"alice\" \"example.org\")) "
		"((NIL NIL \"alice\" \"example.org\")) "
		"((NIL NIL \"alice\" \"example.org\")) "
		"((NIL NIL \"bob\" \"example.net\")) NIL NIL NIL NIL)");
}
END_TEST

START_TEST(test_attachment_extension_data)
{
	/* body-fld-md5, body-fld-dsp with its parameters, a language list
	 * and the location of a non-text part; no line count for it */
	ck_assert_str_eq(structure(attach_msg, true),
		"((\"text\" \"plain\" (\"charset\" \"iso-8859-1\") NIL NIL "
		"\"8bit\" 19 0 NIL NIL NIL NIL)"
		"(\"application\" \"pdf\" (\"name\" \"report.pdf\") "
		"\"<part2@example.org>\" \"Quarterly report\" \"base64\" 22 "
		"\"Q2hlY2sgSW50ZWdyaXR5IQ==\" (\"attachment\" (\"filename\" "
		"\"report.pdf\" \"size\" \"12\")) (\"en\" \"de\") "
		"\"http://example.org/report.pdf\") "
		"\"mixed\" (\"boundary\" \"mixed-b\") NIL NIL NIL)");
	ck_assert_str_eq(structure(attach_msg, false),
		"((\"text\" \"plain\" (\"charset\" \"iso-8859-1\") NIL NIL "
		"\"8bit\" 19 0)(\"application\" \"pdf\" (\"name\" \"report.pdf\") "
		"\"<part2@example.org>\" \"Quarterly report\" \"base64\" 22) "
		"\"mixed\")");
}
END_TEST

START_TEST(test_message_rfc822)
{
	/* the embedded message: 291 octets, 15 line ends; its envelope and
	 * structure inside the message/rfc822 part; text parts without a
	 * charset parameter get "us-ascii" (RFC 2045 5.2, as Dovecot) */
	const char *inner_env =
		"(\"Thu, 20 Nov 2025 09:00:00 -0500\" \"Lunch\" "
		"((\"Carol\" NIL \"carol\" \"example.com\")) "
		"((\"Carol\" NIL \"carol\" \"example.com\")) "
		"((\"Carol\" NIL \"carol\" \"example.com\")) "
		"((NIL NIL \"alice\" \"example.org\")) NIL NIL \"<x@y>\" NIL)";
	char want[2048];

	snprintf(want, sizeof(want),
		 "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 10 0 NIL NIL NIL NIL)"
		 "(\"message\" \"rfc822\" NIL NIL \"forwarded\" \"7bit\" 291 %s "
		 "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 6 0 NIL NIL NIL NIL)"
		 "(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 13 0 NIL NIL NIL NIL) "
		 "\"alternative\" (\"boundary\" \"inner\") NIL NIL NIL) 15 "
		 "NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"outer\") NIL NIL NIL)",
		 inner_env);
	ck_assert_str_eq(structure(nested_msg, true), want);
	snprintf(want, sizeof(want),
		 "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 10 0)"
		 "(\"message\" \"rfc822\" NIL NIL \"forwarded\" \"7bit\" 291 %s "
		 "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 6 0)"
		 "(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 13 0) \"alternative\") 15) "
		 "\"mixed\")", inner_env);
	ck_assert_str_eq(structure(nested_msg, false), want);
	ck_assert_str_eq(envelope(nested_msg, 1), inner_env);
}
END_TEST

/* Strings that cannot be quoted become literals (RFC 3501 4.3). */
START_TEST(test_unquotable_strings)
{
	const char *env = envelope(
		"From: \"A \\\"Q\\\" B\" <a@b.example>\n"
		"Subject: caf\xc3\xa9 \"quoted\" back\\slash\n"
		"\n"
		"x\n", 0);

	ck_assert_msg(strstr(env, "{25}\r\ncaf\xc3\xa9 \"quoted\" back\\slash ") != NULL,
		      "%s", env);
	ck_assert_msg(strstr(env, "(({7}\r\nA \"Q\" B NIL \"a\" \"b.example\"))") != NULL,
		      "%s", env);
}
END_TEST

START_TEST(test_text_default_charset)
{
	/* RFC 2045 5.2: a text part whose Content-Type names no charset is
	 * us-ascii; like Dovecot, the parameter is added at the end of the
	 * list.  Other types get no such default. */
	ck_assert_str_eq(structure("Content-Type: text/plain\n\nhi\n", false),
		"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
		"\"7bit\" 4 1)");
	ck_assert_str_eq(structure("Content-Type: TEXT/html; format=flowed\n"
				   "\nhi\n", false),
		"(\"TEXT\" \"html\" (\"format\" \"flowed\" \"charset\" "
		"\"us-ascii\") NIL NIL \"7bit\" 4 1)");
	ck_assert_str_eq(structure("Content-Type: text/plain; CharSet=utf-8\n"
				   "\nhi\n", false),
		"(\"text\" \"plain\" (\"CharSet\" \"utf-8\") NIL NIL "
		"\"7bit\" 4 1)");
	ck_assert_str_eq(structure("Content-Type: application/octet-stream\n"
				   "\nhi\n", false),
		"(\"application\" \"octet-stream\" NIL NIL NIL \"7bit\" 4)");
}
END_TEST

Suite *unit_suite(void)
{
	Suite *suite = suite_create("imap-bodystruct");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_plain);
	tcase_add_test(tc, test_alternative);
	tcase_add_test(tc, test_attachment_extension_data);
	tcase_add_test(tc, test_message_rfc822);
	tcase_add_test(tc, test_unquotable_strings);
	tcase_add_test(tc, test_text_default_charset);
	suite_add_tcase(suite, tc);
	return suite;
}
