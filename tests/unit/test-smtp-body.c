/* The message sink in front of a delivery (smtpd/body.c): trace fields
 * first, Date/Message-ID for submission, bare LF stored as CRLF, line
 * checks; fed in every split down to one byte at a time. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "smtpd/body.h"
#include "tests/unit/unit.h"

static int sink_buf(void *arg, const char *p, size_t n)
{
	return buf_append(arg, p, n) < 0 ? (errno = ENOSPC, -1) : 0;
}

struct result {
	struct buf out;
	struct smtp_body b;
};

/* Runs `in` through a body in steps of `step`. */
static void run(struct result *r, const char *in, size_t len, size_t step,
		bool submission, bool normalize)
{
	size_t pos = 0;

	buf_init(&r->out, BUF_UNLIMITED);
	smtp_body_init(&r->b, sink_buf, &r->out, "Return-Path: <a@b>\r\n", 20);
	r->b.add_date_msgid = submission;
	r->b.normalize_lf = normalize;
	r->b.check_lines = true;
	r->b.max_line = 1000;
	r->b.hostname = "mx.lab.test";
	r->b.id = "S1.1";
	while (pos < len) {
		size_t n = len - pos < step ? len - pos : step;

		ck_assert_int_eq(smtp_body_write(&r->b, in + pos, n), 0);
		pos += n;
	}
	ck_assert_int_eq(smtp_body_finish(&r->b), 0);
}

static void done(struct result *r)
{
	smtp_body_free(&r->b);
	buf_free(&r->out);
}

#define ALL_STEPS(in) for (size_t step = 1; step <= strlen(in); step++)

START_TEST(test_prefix_then_message)
{
	const char *in = "Subject: x\r\nMessage-ID: <m@x>\r\n\r\nbody\r\n";

	ALL_STEPS(in) {
		struct result r;

		run(&r, in, strlen(in), step, false, true);
		ck_assert_str_eq(r.out.data, "Return-Path: <a@b>\r\n"
				 "Subject: x\r\nMessage-ID: <m@x>\r\n\r\nbody\r\n");
		ck_assert_str_eq(r.b.msgid, "<m@x>");
		ck_assert(r.b.has_msgid && !r.b.has_date);
		ck_assert(!r.b.bare_lf && !r.b.bare_cr && !r.b.long_line);
		ck_assert_uint_eq(r.b.size, strlen(in));
		done(&r);
	}
}
END_TEST

START_TEST(test_submission_adds_fields)
{
	const char *in = "Subject: x\r\n\r\nbody with\r\nDate: in the body\r\n";

	ALL_STEPS(in) {
		struct result r;
		const char *p;

		run(&r, in, strlen(in), step, true, true);
		p = r.out.data + 20;
		ck_assert_msg(strncmp(p, "Date: ", 6) == 0, "%s", p);
		p = strstr(p, "\r\n") + 2;
		ck_assert_msg(strncmp(p, "Message-ID: <", 13) == 0, "%s", p);
		ck_assert_ptr_nonnull(strstr(p, ".S1.1."));
		p = strstr(p, "@mx.lab.test>\r\n");
		ck_assert_ptr_nonnull(p);
		ck_assert_str_eq(p + 15, in);
		done(&r);
	}
	/* present (any case): nothing added; a header with no body too */
	{
		const char *in2 = "DATE: Mon, 1 Jan 2024 00:00:00 +0000\r\nmessage-id: <a@b>\r\n";
		struct result r;

		run(&r, in2, strlen(in2), 7, true, true);
		ck_assert_str_eq(r.out.data + 20, in2);
		done(&r);
	}
}
END_TEST

START_TEST(test_bare_lf_normalized)
{
	const char *in = "Subject: x\n\nline 1\nline 2\r\nline 3\n";

	ALL_STEPS(in) {
		struct result r;

		run(&r, in, strlen(in), step, false, true);
		ck_assert_str_eq(r.out.data, "Return-Path: <a@b>\r\n"
				 "Subject: x\r\n\r\nline 1\r\nline 2\r\nline 3\r\n");
		ck_assert(r.b.bare_lf);
		done(&r);
	}
	ALL_STEPS(in) {
		struct result r;

		run(&r, in, strlen(in), step, false, false);
		ck_assert_str_eq(r.out.data + 20, in);
		done(&r);
	}
}
END_TEST

START_TEST(test_line_checks)
{
	struct result r;
	char *big = malloc(1100);

	run(&r, "a\rb\r\n", 5, 2, false, true);
	ck_assert(r.b.bare_cr);
	done(&r);
	run(&r, "ab\r", 3, 1, false, true);
	ck_assert(r.b.bare_cr);
	done(&r);
	run(&r, "a\0b\r\n", 5, 1, false, true);
	ck_assert(r.b.has_nul);
	done(&r);
	memset(big, 'x', 1100);
	memcpy(big + 998, "\r\n", 2);	/* 1000 with CRLF: fine */
	run(&r, big, 1000, 333, false, true);
	ck_assert(!r.b.long_line);
	done(&r);
	memset(big, 'x', 1100);
	run(&r, big, 1100, 333, false, true);	/* no line end: long */
	ck_assert(r.b.long_line);
	done(&r);
	free(big);
}
END_TEST

START_TEST(test_huge_header_not_held)
{
	size_t n = BODY_HEAD_MAX + 5000, i;
	char *in = malloc(n + 1);
	struct result r;

	for (i = 0; i < n; i++)
		in[i] = i % 50 == 49 ? '\n' : 'h';
	in[n] = '\0';
	run(&r, in, n, 4096, true, false);
	/* flushed as it came: no fields added, everything kept */
	ck_assert_uint_eq(r.out.len, 20 + n);
	ck_assert(memcmp(r.out.data + 20, in, n) == 0);
	done(&r);
	free(in);
}
END_TEST

/* An empty message (DATA then "."): no header block was ever held, so the
 * field scan must not do arithmetic on its NULL buffer (issue 10: clang's
 * UBSan reports "applying zero offset to null pointer"; GCC's does not
 * check that, so build with `make check SAN=1 CC=clang` to see it). */
START_TEST(test_empty_message)
{
	struct result r;

	run(&r, "", 0, 1, true, true);
	ck_assert(strncmp(r.out.data, "Return-Path: <a@b>\r\nDate: ", 26) == 0);
	ck_assert_ptr_nonnull(strstr(r.out.data, "\r\nMessage-ID: <"));
	ck_assert(r.b.has_date == false && r.b.has_msgid == false);
	done(&r);
	run(&r, "", 0, 1, false, false);
	ck_assert_str_eq(r.out.data, "Return-Path: <a@b>\r\n");
	done(&r);
}
END_TEST

START_TEST(test_rfc5322_date)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);

	smtp_rfc5322_date(&b, 0);
	ck_assert_str_eq(b.data, "Thu, 1 Jan 1970 00:00:00 +0000");
	buf_clear(&b);
	smtp_rfc5322_date(&b, 1795408000);
	ck_assert_str_eq(b.data, "Mon, 23 Nov 2026 04:26:40 +0000");
	buf_free(&b);
}
END_TEST

/* Found by tests/fuzz/fuzz-smtp-session.c: an empty body ("DATA" then
 * "." at once) scanned a header that was never allocated (NULL + 0: clang's
 * UBSan, as `make fuzz` builds, reports it; gcc's does not, so under
 * `make check SAN=1` this passes either way). */
START_TEST(test_empty_message_fuzz_case)
{
	struct result r;
	const char *p;

	run(&r, "", 0, 1, true, true);
	p = r.out.data + 20;
	ck_assert_msg(strncmp(p, "Date: ", 6) == 0, "%s", p);
	p = strstr(p, "\r\n") + 2;
	ck_assert_msg(strncmp(p, "Message-ID: <", 13) == 0, "%s", p);
	ck_assert(!r.b.has_date && !r.b.has_msgid);
	ck_assert_uint_eq(r.b.size, 0);
	done(&r);
	run(&r, "", 0, 1, false, true);
	ck_assert_str_eq(r.out.data, "Return-Path: <a@b>\r\n");
	done(&r);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("smtp-body");
	TCase *tc = tcase_create("body");

	tcase_add_test(tc, test_prefix_then_message);
	tcase_add_test(tc, test_submission_adds_fields);
	tcase_add_test(tc, test_bare_lf_normalized);
	tcase_add_test(tc, test_line_checks);
	tcase_add_test(tc, test_huge_header_not_held);
	tcase_add_test(tc, test_rfc5322_date);
	tcase_add_test(tc, test_empty_message);
	tcase_add_test(tc, test_empty_message_fuzz_case);
	suite_add_tcase(s, tc);
	return s;
}
