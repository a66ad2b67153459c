/* Header fields, the ENVELOPE's addresses, and decoding to UTF-8. */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "maildir/message.h"
#include "tests/unit/unit.h"

static const char *S(const struct msg_parse *p, msg_str_t s)
{
	const char *v = msg_str(p, s);

	return v == NULL ? "NIL" : v;
}

/* The list as "(name adl mailbox host)..." for compact assertions. */
static char *addrs(const struct msg_parse *p, struct msg_addr_list l)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);

	for (uint32_t i = 0; i < l.count; i++) {
		const struct msg_addr *a = &p->addrs[l.first + i];

		buf_printf(&b, "(%s|%s|%s|%s)", S(p, a->name), S(p, a->adl),
			   S(p, a->mailbox), S(p, a->host));
	}
	return buf_steal(&b);
}

static struct msg_parse *parse(const char *s)
{
	struct msg_parse *p = msg_parse(s, strlen(s));

	ck_assert(msg_parse_valid(p, strlen(s)));
	return p;
}

#define ASSERT_ADDRS(p, list, want) do {				\
	char *got_ = addrs((p), (list));				\
	ck_assert_str_eq(got_, (want));					\
	free(got_);							\
} while (0)

START_TEST(test_iterate_fields)
{
	const char *h = "Subject: folded\r\n  twice\r\n\tthree\r\n"
			"X-Empty:\r\n"
			"Obs-Space : v\r\n"
			"To: a@b\r\n\r\nBody: not a header\r\n";
	struct hdr_iter it;
	struct hdr_field f;
	struct buf v = BUF_INIT(BUF_UNLIMITED);

	hdr_iter_init(&it, h, 0, strlen(h));
	ck_assert(hdr_iter_next(&it, &f));
	ck_assert_uint_eq(f.name_off, 0);
	ck_assert_uint_eq(f.name_len, 7);
	ck_assert_uint_eq(f.value_off, 8);
	ck_assert_uint_eq(f.value_len, strlen(" folded\r\n  twice\r\n\tthree"));
	ck_assert_uint_eq(f.end, strlen("Subject: folded\r\n  twice\r\n\tthree\r\n"));
	hdr_unfold(h, &f, &v);
	/* RFC 5322 2.2.3: only the line ends go */
	ck_assert_str_eq(buf_cstr(&v), "folded  twice\tthree");
	ck_assert(hdr_iter_next(&it, &f));
	ck_assert(hdr_name_is(h, &f, "x-empty"));
	ck_assert_uint_eq(f.value_len, 0);
	ck_assert(hdr_iter_next(&it, &f));
	ck_assert(hdr_name_is(h, &f, "OBS-SPACE"));
	buf_clear(&v);
	hdr_unfold(h, &f, &v);
	ck_assert_str_eq(buf_cstr(&v), "v");
	ck_assert(hdr_iter_next(&it, &f));
	ck_assert(hdr_name_is(h, &f, "to"));
	ck_assert(!hdr_iter_next(&it, &f));
	ck_assert(!hdr_iter_next(&it, &f));
	ck_assert_uint_eq(hdr_block_end(h, 0, strlen(h)),
			  strstr(h, "Body:") - h);

	ck_assert(hdr_find(h, 0, strlen(h), "TO", &f));
	ck_assert_uint_eq(f.off, strstr(h, "To:") - h);
	ck_assert(!hdr_find(h, 0, strlen(h), "body", &f));
	ck_assert(!hdr_find(h, 0, strlen(h), "Subjec", &f));
	buf_free(&v);
}
END_TEST

START_TEST(test_iterate_lf_and_junk)
{
	const char *h = "A: 1\nB: 2\n 2b\n\xff\xfe: eight-bit name\n"
			"no colon here\nC: 3\n";
	struct hdr_iter it;
	struct hdr_field f;
	int n = 0;

	hdr_iter_init(&it, h, 0, strlen(h));
	while (hdr_iter_next(&it, &f))
		n++;
	/* the line without a colon ends the header */
	ck_assert_int_eq(n, 3);
	ck_assert_uint_eq(it.pos, strstr(h, "no colon") - h);
	/* a range: iteration stays inside it */
	hdr_iter_init(&it, h, 5, 9);
	ck_assert(hdr_iter_next(&it, &f));
	ck_assert_uint_eq(f.end, 14);
	ck_assert(!hdr_iter_next(&it, &f));
	/* a leading continuation line is no field */
	hdr_iter_init(&it, " x: y\n", 0, 6);
	ck_assert(!hdr_iter_next(&it, &f));
	ck_assert_uint_eq(hdr_block_end("\n\nbody", 0, 6), 1);
	ck_assert_uint_eq(hdr_block_end("", 0, 0), 0);
}
END_TEST

START_TEST(test_groups)
{
	struct msg_parse *p = parse(
		"To: Team: a@example.org, \"C. D.\" <c@example.org>;,\r\n"
		"  Undisclosed recipients:;\r\n"
		"Cc: (comment) \"Quote \\\"q\\\" \\\\ x\" <q@example.org>,\r\n"
		" <@route1,@route2:r@example.org>\r\n"
		"Bcc: bare, @broken, <>, foo@, ,,; >junk<, x@[10.0.0.1]\r\n"
		"\r\n");
	const struct msg_envelope *e = &p->envs[0];

	/* RFC 3501 7.4.2: start (NIL NIL name NIL), end (NIL NIL NIL NIL) */
	ASSERT_ADDRS(p, e->to, "(NIL|NIL|Team|NIL)"
		     "(NIL|NIL|a|example.org)(C. D.|NIL|c|example.org)"
		     "(NIL|NIL|NIL|NIL)"
		     "(NIL|NIL|Undisclosed recipients|NIL)(NIL|NIL|NIL|NIL)");
	ASSERT_ADDRS(p, e->cc, "(Quote \"q\" \\ x|NIL|q|example.org)"
		     "(NIL|@route1,@route2|r|example.org)");
	ASSERT_ADDRS(p, e->bcc, "(NIL|NIL|bare|MISSING_DOMAIN)"
		     "(NIL|NIL|MISSING_MAILBOX|broken)(NIL|NIL||)"
		     "(NIL|NIL|foo|MISSING_DOMAIN)"
		     "(junk|NIL||)"
		     "(NIL|NIL|x|[10.0.0.1])");
	ck_assert_uint_eq(e->from.count, 0);
	ck_assert_uint_eq(e->sender.count, 0);
	msg_parse_free(&p);
}
END_TEST

START_TEST(test_address_forms)
{
	struct msg_parse *p = parse(
		"From: John Q. Public <jqp@example.com>\r\n"
		"Sender: john . doe @ example . com (Johnny)\r\n"
		"Reply-To: \r\n"
		"To: unclosed group: a@b, c@d\r\n"
		"Cc: =?UTF-8?Q?J=C3=B6rg?= <j@example.de>, \"\" <e@x>\r\n"
		"Bcc: Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>\r\n"
		"\r\n");
	const struct msg_envelope *e = &p->envs[0];

	ASSERT_ADDRS(p, e->from, "(John Q. Public|NIL|jqp|example.com)");
	ASSERT_ADDRS(p, e->sender, "(Johnny|NIL|john.doe|example.com)");
	/* an empty Reply-To is the same as none */
	ASSERT_ADDRS(p, e->reply_to, "(John Q. Public|NIL|jqp|example.com)");
	/* an unclosed group is closed at the end */
	ASSERT_ADDRS(p, e->to, "(NIL|NIL|unclosed group|NIL)(NIL|NIL|a|b)"
		     "(NIL|NIL|c|d)(NIL|NIL|NIL|NIL)");
	/* encoded words stay encoded */
	ASSERT_ADDRS(p, e->cc, "(=?UTF-8?Q?J=C3=B6rg?=|NIL|j|example.de)"
		     "(NIL|NIL|e|x)");
	/* RFC 5322 appendix A.1.2 shapes ("Who?" is an obs-phrase) */
	ASSERT_ADDRS(p, e->bcc, "(Mary Smith|NIL|mary|x.test)"
		     "(NIL|NIL|jdoe|example.org)(Who?|NIL|one|y.test)");
	msg_parse_free(&p);
}
END_TEST

START_TEST(test_address_cap)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);
	struct msg_parse *p;
	int i;

	buf_puts(&b, "To: ");
	for (i = 0; i < 5000; i++)
		buf_printf(&b, "u%d@x, ", i);
	buf_puts(&b, "\r\n\r\n");
	p = msg_parse(b.data, b.len);
	ck_assert_uint_eq(p->envs[0].to.count, MSG_MAX_ADDRS);
	msg_parse_free(&p);
	buf_free(&b);
}
END_TEST

START_TEST(test_envelope_fields)
{
	struct msg_parse *p = parse(
		"Subject:   padded and\r\n folded  \r\n"
		"Subject: second subject ignored\r\n"
		"message-id: <a@b>\r\n"
		"In-Reply-To: <c@d> (comment)\r\n"
		"Date: Mon, 24 Nov 2025 10:00:00 +0000\r\n"
		"Sender: s@x\r\n"
		"From: f@x, g@x\r\n"
		"\r\nbody\r\n");
	const struct msg_envelope *e = &p->envs[0];

	ck_assert_str_eq(S(p, e->subject), "padded and folded");
	ck_assert_str_eq(S(p, e->message_id), "<a@b>");
	ck_assert_str_eq(S(p, e->in_reply_to), "<c@d> (comment)");
	ck_assert_str_eq(S(p, e->date), "Mon, 24 Nov 2025 10:00:00 +0000");
	ASSERT_ADDRS(p, e->from, "(NIL|NIL|f|x)(NIL|NIL|g|x)");
	ASSERT_ADDRS(p, e->sender, "(NIL|NIL|s|x)");
	ASSERT_ADDRS(p, e->reply_to, "(NIL|NIL|f|x)(NIL|NIL|g|x)");
	msg_parse_free(&p);
}
END_TEST

START_TEST(test_eight_bit_headers)
{
	struct msg_parse *p = parse(
		"Subject: Gr\xfc\xdf" "e aus K\xf6ln\r\n"
		"From: J\xc3\xb6rg <joerg@example.de>\r\n\r\n");
	struct buf d = BUF_INIT(BUF_UNLIMITED);
	const char *subj = S(p, p->envs[0].subject);

	/* kept as received in the envelope ... */
	ck_assert_str_eq(subj, "Gr\xfc\xdf" "e aus K\xf6ln");
	ASSERT_ADDRS(p, p->envs[0].from,
		     "(J\xc3\xb6rg|NIL|joerg|example.de)");
	/* ... and made UTF-8 for SEARCH: Latin-1 when not valid UTF-8 */
	ck_assert_int_eq(mime_decode_header(subj, strlen(subj), &d), 0);
	ck_assert_str_eq(buf_cstr(&d), "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln");
	buf_clear(&d);
	mime_decode_header("J\xc3\xb6rg", 5, &d);
	ck_assert_str_eq(buf_cstr(&d), "J\xc3\xb6rg");
	buf_free(&d);
	msg_parse_free(&p);
}
END_TEST

static void assert_decoded(const char *in, const char *want)
{
	struct buf d = BUF_INIT(BUF_UNLIMITED);

	ck_assert_int_eq(mime_decode_header(in, strlen(in), &d), 0);
	ck_assert_str_eq(buf_cstr(&d), want);
	buf_free(&d);
}

START_TEST(test_encoded_words)
{
	assert_decoded("=?ISO-8859-1?Q?Caf=E9?= =?UTF-8?B?w6lsw6g=?= and more",
		       "Caf\xc3\xa9\xc3\xa9l\xc3\xa8 and more");
	/* RFC 2047 8 examples */
	assert_decoded("(=?ISO-8859-1?Q?a?=)", "(a)");
	assert_decoded("(=?ISO-8859-1?Q?a?= b)", "(a b)");
	assert_decoded("(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)", "(ab)");
	assert_decoded("(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)", "(ab)");
	assert_decoded("(=?ISO-8859-1?Q?a_b?=)", "(a b)");
	assert_decoded("(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)", "(a b)");
	/* a UTF-8 character split over two words */
	assert_decoded("=?UTF-8?B?ww==?= =?UTF-8?B?pA==?=", "\xc3\xa4");
	assert_decoded("=?utf-8?q?=C3?= =?utf-8?q?=A4x?=", "\xc3\xa4x");
	/* RFC 2231 language suffix */
	assert_decoded("=?US-ASCII*EN?Q?Keith_Moore?=", "Keith Moore");
	/* not encoded words: kept */
	assert_decoded("=?bad", "=?bad");
	assert_decoded("=?utf-8?x?abc?=", "=?utf-8?x?abc?=");
	assert_decoded("a =?utf-8?q?b c?= d", "a =?utf-8?q?b c?= d");
	assert_decoded("", "");
	/* other charsets via iconv, unknown ones as Latin-1 */
	assert_decoded("=?KOI8-R?B?8NLJ18XU?=",
		       "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82");
	assert_decoded("=?windows-1252?Q?=80?=", "\xe2\x82\xac");
	assert_decoded("=?x-no-such-charset?Q?=E9?=", "\xc3\xa9");
	assert_decoded("=?UTF-8//TRANSLIT?Q?=E9?=", "\xc3\xa9");
	/* invalid UTF-8 inside a UTF-8 word becomes U+FFFD */
	assert_decoded("=?utf-8?q?a=FFb?=", "a\xef\xbf\xbd" "b");
}
END_TEST

static void assert_body_decoded(const char *in, enum mime_encoding enc,
				const char *cs, const char *want)
{
	struct buf d = BUF_INIT(BUF_UNLIMITED);

	ck_assert_int_eq(mime_decode_body(in, strlen(in), enc, cs, &d), 0);
	ck_assert_str_eq(buf_cstr(&d), want);
	buf_free(&d);
}

START_TEST(test_body_decoding)
{
	ck_assert_int_eq(mime_encoding_of(NULL), MIME_ENC_7BIT);
	ck_assert_int_eq(mime_encoding_of("Quoted-Printable"), MIME_ENC_QP);
	ck_assert_int_eq(mime_encoding_of("BASE64"), MIME_ENC_BASE64);
	ck_assert_int_eq(mime_encoding_of("8bit"), MIME_ENC_8BIT);
	ck_assert_int_eq(mime_encoding_of("binary"), MIME_ENC_BINARY);
	ck_assert_int_eq(mime_encoding_of("x-uuencode"), MIME_ENC_OTHER);
	/* RFC 2045 6.7: soft breaks, trailing space, bad escapes */
	assert_body_decoded("a=3Db=\r\nc  \r\nd=\nE =zz=4", MIME_ENC_QP, NULL,
			    "a=bc\r\ndE =zz=4");
	assert_body_decoded("caf=E9", MIME_ENC_QP, "iso-8859-1",
			    "caf\xc3\xa9");
	assert_body_decoded("soft = \r\nbreak", MIME_ENC_QP, NULL,
			    "soft break");
	/* base64 with line breaks and junk */
	assert_body_decoded("SGVs\r\nbG8g\r\n d29y bGQ=\r\n", MIME_ENC_BASE64,
			    "utf-8", "Hello world");
	assert_body_decoded("SGVsbG8", MIME_ENC_BASE64, NULL, "Hello");
	assert_body_decoded("!!!", MIME_ENC_BASE64, NULL, "");
	assert_body_decoded("plain \xe9t\xe9", MIME_ENC_8BIT, "latin1",
			    "plain \xc3\xa9t\xc3\xa9");
	assert_body_decoded("bad \xff utf8", MIME_ENC_8BIT, "utf-8",
			    "bad \xef\xbf\xbd utf8");
	/* a surrogate and an overlong form are not valid UTF-8 */
	assert_body_decoded("\xed\xa0\x80\xc0\xaf", MIME_ENC_8BIT, NULL,
			    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
			    "\xef\xbf\xbd\xef\xbf\xbd");
	assert_body_decoded("\xa4", MIME_ENC_7BIT, "iso-8859-15",
			    "\xe2\x82\xac");
	/* an invalid byte for the charset, not the end of the text */
	assert_body_decoded("a\x81z", MIME_ENC_8BIT, "windows-1252",
			    "a\xef\xbf\xbdz");
	/* a multibyte character cut off at the end */
	assert_body_decoded("a\x81", MIME_ENC_8BIT, "shift_jis",
			    "a\xef\xbf\xbd");
}
END_TEST

/* Hostile shapes that a naive decoder handles in quadratic time; Check's
 * timeout catches a hang, no timing is asserted. */
START_TEST(test_decode_linear)
{
	struct buf in = BUF_INIT(BUF_UNLIMITED);
	struct buf out = BUF_INIT(BUF_UNLIMITED);
	size_t i;

	for (i = 0; i < 500000; i++)
		buf_puts(&in, "=?a?q?x");
	ck_assert_int_eq(mime_decode_header(in.data, in.len, &out), 0);
	ck_assert_uint_eq(out.len, in.len);
	buf_clear(&in);
	buf_clear(&out);
	for (i = 0; i < 2000000; i++)
		buf_putc(&in, ' ');
	buf_putc(&in, 'x');
	ck_assert_int_eq(mime_decode_qp(in.data, in.len, false, &out), 0);
	ck_assert_uint_eq(out.len, in.len);
	buf_clear(&out);
	/* a long word (RFC 2047 says 75 octets; real mail ignores that) */
	buf_clear(&in);
	buf_puts(&in, "=?utf-8?q?");
	for (i = 0; i < 1000; i++)
		buf_putc(&in, 'a');
	buf_puts(&in, "?=");
	ck_assert_int_eq(mime_decode_header(in.data, in.len, &out), 0);
	ck_assert_uint_eq(out.len, 1000);
	buf_free(&in);
	buf_free(&out);
}
END_TEST

START_TEST(test_decode_max)
{
	struct buf d = BUF_INIT(4);

	ck_assert_int_eq(mime_decode_body("hello", 5, MIME_ENC_7BIT, NULL,
					  &d), -1);
	buf_free(&d);
	buf_init(&d, 4);
	ck_assert_int_eq(mime_decode_header("=?utf-8?q?hello?=", 17, &d), -1);
	buf_free(&d);
}
END_TEST

static void assert_date(const char *s, long long want, int tz)
{
	time_t t;
	int z;

	ck_assert_msg(msg_parse_date(s, strlen(s), &t, &z) == 0, "%s", s);
	ck_assert_int_eq((long long)t, want);
	ck_assert_int_eq(z, tz);
}

START_TEST(test_dates)
{
	time_t t;
	int z;

	/* 2025-11-21 11:30:00 UTC = 1763724600 */
	assert_date("Fri, 21 Nov 2025 12:30:00 +0100", 1763724600, 60);
	assert_date("21 Nov 2025 06:30:00 -0500", 1763724600, -300);
	assert_date("Fri, 21 nov 25 11:30 GMT", 1763724600, 0);
	assert_date("Fri,21 Nov 2025 03:30:00 PST (Pacific)", 1763724600,
		    -480);
	assert_date("  21 November 2025 11:30:00", 1763724600, 0);
	assert_date("Thu, 1 Jan 1970 00:00:00 +0000", 0, 0);
	assert_date("Fri 21 Nov 2025 11:30:00 +0000", 1763724600, 0);
	assert_date("21-Nov-2025 12:30:00 +0100", 1763724600, 60);
	assert_date("21 Nov 2025 11:30 +0000 (a, b)", 1763724600, 0);
	assert_date("1 Jan 99 00:00:00 +0000", 915148800, 0);
	ck_assert_int_eq(msg_parse_date("", 0, &t, &z), -1);
	ck_assert_int_eq(msg_parse_date("yesterday", 9, &t, &z), -1);
	ck_assert_int_eq(msg_parse_date("32 Jan 2020 00:00", 17, &t, &z), -1);
	ck_assert_int_eq(msg_parse_date("1 Foo 2020 00:00", 16, &t, &z), -1);
	ck_assert_int_eq(msg_parse_date("1 Jan 2020 25:00", 16, &t, &z), -1);
	ck_assert_int_eq(msg_parse_date("1 Jan 2020", 10, &t, &z), -1);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("header");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_iterate_fields);
	tcase_add_test(tc, test_iterate_lf_and_junk);
	tcase_add_test(tc, test_groups);
	tcase_add_test(tc, test_address_forms);
	tcase_add_test(tc, test_address_cap);
	tcase_add_test(tc, test_envelope_fields);
	tcase_add_test(tc, test_eight_bit_headers);
	tcase_add_test(tc, test_encoded_words);
	tcase_add_test(tc, test_body_decoding);
	tcase_add_test(tc, test_decode_max);
	tcase_add_test(tc, test_decode_linear);
	tcase_add_test(tc, test_dates);
	suite_add_tcase(s, tc);
	return s;
}
