#include <stdlib.h>
#include <string.h>

#include "common/linereader.h"
#include "common/proto.h"
#include "tests/unit/unit.h"

/* Feeds `in` in chunks of `step` bytes and renders every event into `out`:
 * "L<line>|" for a line (NUL shown as '0'), "O|" for overlong, plus "f<n>"
 * before the '|' when flags are set. */
static void run(struct line_reader *lr, const char *in, size_t len, size_t step,
		struct buf *out)
{
	size_t pos = 0;

	while (pos < len) {
		size_t n = len - pos < step ? len - pos : step;
		size_t off = 0;

		while (off < n) {
			size_t used;
			enum lr_result r = lr_feed(lr, in + pos + off, n - off, &used);

			off += used;
			if (r == LR_LINE) {
				buf_putc(out, 'L');
				for (size_t i = 0; i < lr->line.len; i++)
					buf_putc(out, lr->line.data[i] ? lr->line.data[i] : '0');
				if (lr->flags)
					buf_printf(out, "f%u", lr->flags);
				buf_putc(out, '|');
			} else if (r == LR_OVERLONG) {
				buf_puts(out, "O|");
			}
		}
		pos += n;
	}
}

static void check_all_steps(size_t max, bool lf_ends, const char *in, size_t len,
			    const char *expect)
{
	for (size_t step = 1; step <= len; step++) {
		struct line_reader lr;
		struct buf out = BUF_INIT(BUF_UNLIMITED);

		lr_init(&lr, max, lf_ends);
		run(&lr, in, len, step, &out);
		ck_assert_msg(strcmp(buf_cstr(&out), expect) == 0,
			      "step %zu: got '%s' want '%s'", step, buf_cstr(&out), expect);
		buf_free(&out);
		lr_free(&lr);
	}
}
#define CHECK(max, lf, in, expect) check_all_steps(max, lf, in, sizeof(in) - 1, expect)

START_TEST(test_simple_lines)
{
	CHECK(100, false, "HELO a\r\nNOOP\r\n", "LHELO a|LNOOP|");
	CHECK(100, false, "\r\n\r\n", "L|L|");
}
END_TEST

START_TEST(test_partial_line_waits)
{
	struct line_reader lr;
	size_t used;

	lr_init(&lr, 100, false);
	ck_assert_int_eq(lr_feed(&lr, "QUI", 3, &used), LR_MORE);
	ck_assert_uint_eq(used, 3);
	ck_assert(lr_pending(&lr));
	ck_assert_int_eq(lr_feed(&lr, "T\r", 2, &used), LR_MORE);
	ck_assert_int_eq(lr_feed(&lr, "\nNO", 3, &used), LR_LINE);
	ck_assert_uint_eq(used, 1);
	ck_assert_str_eq(buf_cstr(&lr.line), "QUIT");
	ck_assert(!lr_pending(&lr));
	lr_free(&lr);
}
END_TEST

START_TEST(test_bare_lf_policy)
{
	/* Strict: a bare LF is data and flagged; the line ends at CRLF. */
	CHECK(100, false, "a\nb\r\n", "La\nbf4|");
	/* Lenient: a bare LF ends the line, flagged. */
	CHECK(100, true, "a\nb\r\n", "Laf4|Lb|");
}
END_TEST

START_TEST(test_bare_cr_and_nul)
{
	CHECK(100, false, "a\rb\r\n", "La\rbf2|");
	CHECK(100, false, "a\r\r\n", "La\rf2|");
	CHECK(100, false, "a\0b\r\nc\r\n", "La0bf1|Lc|");
}
END_TEST

START_TEST(test_overlong)
{
	/* max 6 counts CRLF: 4 bytes of content fit, 5 do not. */
	CHECK(6, false, "abcd\r\n", "Labcd|");
	CHECK(6, false, "abcde\r\nok\r\n", "O|Lok|");
	CHECK(6, false, "abcdefghijklmnop\r\nok\r\n", "O|Lok|");
	/* A CR inside the overlong part does not end it. */
	CHECK(6, false, "abcdefg\rhij\nklm\r\nok\r\n", "O|Lok|");
	CHECK(6, true, "abcdefgh\nok\n", "O|Lokf4|");
}
END_TEST

START_TEST(test_overlong_does_not_buffer)
{
	struct line_reader lr;
	char chunk[4096];
	size_t used;

	memset(chunk, 'x', sizeof(chunk));
	lr_init(&lr, 512, false);
	for (int i = 0; i < 1000; i++) {
		ck_assert_int_eq(lr_feed(&lr, chunk, sizeof(chunk), &used), LR_MORE);
		ck_assert_uint_le(lr.line.cap, 1024);
	}
	ck_assert_int_eq(lr_feed(&lr, "\r\n", 2, &used), LR_OVERLONG);
	ck_assert_int_eq(lr_feed(&lr, "NOOP\r\n", 6, &used), LR_LINE);
	ck_assert_str_eq(buf_cstr(&lr.line), "NOOP");
	lr_free(&lr);
}
END_TEST

START_TEST(test_reset_discards)
{
	struct line_reader lr;
	size_t used;

	lr_init(&lr, 100, false);
	lr_feed(&lr, "RSET", 4, &used);
	lr_reset(&lr);
	ck_assert_int_eq(lr_feed(&lr, "EHLO x\r\n", 8, &used), LR_LINE);
	ck_assert_str_eq(buf_cstr(&lr.line), "EHLO x");
	lr_free(&lr);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("linereader");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_simple_lines);
	tcase_add_test(tc, test_partial_line_waits);
	tcase_add_test(tc, test_bare_lf_policy);
	tcase_add_test(tc, test_bare_cr_and_nul);
	tcase_add_test(tc, test_overlong);
	tcase_add_test(tc, test_overlong_does_not_buffer);
	tcase_add_test(tc, test_reset_discards);
	suite_add_tcase(s, tc);
	return s;
}
