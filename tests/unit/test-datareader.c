#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/datareader.h"
#include "tests/unit/unit.h"

static int sink_buf(void *arg, const char *p, size_t n)
{
	return buf_append(arg, p, n) < 0 ? (errno = ENOSPC, -1) : 0;
}

/* Feeds `in` in steps of `step` bytes; returns bytes consumed when done, or
 * (size_t)-1 when the body never ended. */
static size_t feed(struct data_reader *dr, const char *in, size_t len, size_t step)
{
	size_t pos = 0;

	while (pos < len) {
		size_t n = len - pos < step ? len - pos : step, used;

		if (dr_feed(dr, in + pos, n, &used))
			return pos + used;
		ck_assert_uint_eq(used, n);
		pos += n;
	}
	return (size_t)-1;
}

/* Every split of `in` gives body `want` and ends after `end` bytes. */
static void check(const char *in, size_t len, const char *want, size_t want_len,
		  size_t end)
{
	for (size_t step = 1; step <= len; step++) {
		struct buf out = BUF_INIT(BUF_UNLIMITED);
		struct data_reader dr;

		dr_init(&dr, 1 << 20, 1000, sink_buf, &out);
		ck_assert_uint_eq(feed(&dr, in, len, step), end);
		ck_assert_msg(out.len == want_len && memcmp(buf_cstr(&out), want, want_len) == 0,
			      "step %zu: got '%s'", step, buf_cstr(&out));
		buf_free(&out);
	}
}
#define CHECK(in, want, end) check(in, sizeof(in) - 1, want, sizeof(want) - 1, end)

START_TEST(test_plain_body)
{
	CHECK("Subject: x\r\n\r\nhello\r\n.\r\n", "Subject: x\r\n\r\nhello\r\n", 24);
}
END_TEST

START_TEST(test_empty_body)
{
	CHECK(".\r\n", "", 3);
}
END_TEST

START_TEST(test_dot_unstuffing)
{
	/* RFC 5321 4.5.2 */
	CHECK("..\r\n.\r\n", ".\r\n", 7);
	CHECK("a\r\n...x\r\n.\r\n", "a\r\n..x\r\n", 12);
	CHECK(".x\r\n.\r\n", "x\r\n", 7);
}
END_TEST

START_TEST(test_rest_is_left)
{
	const char in[] = "body\r\n.\r\nQUIT\r\n";
	struct buf out = BUF_INIT(BUF_UNLIMITED);
	struct data_reader dr;
	size_t used;

	dr_init(&dr, 100, 1000, sink_buf, &out);
	ck_assert(dr_feed(&dr, in, sizeof(in) - 1, &used));
	ck_assert_uint_eq(used, 9);
	ck_assert_str_eq(buf_cstr(&out), "body\r\n");
	buf_free(&out);
}
END_TEST

START_TEST(test_no_smuggling)
{
	/* A "." between bare line ends is not the end of the body. */
	const char in1[] = "a\r\n.\nMAIL FROM:<x>\r\n.\r\n";
	const char in2[] = "a\n.\r\nRCPT TO:<y>\r\n.\r\n";
	const char in3[] = "a\r.\r\nb\r\n.\r\n";
	struct buf out = BUF_INIT(BUF_UNLIMITED);
	struct data_reader dr;

	dr_init(&dr, 1000, 1000, sink_buf, &out);
	ck_assert_uint_eq(feed(&dr, in1, sizeof(in1) - 1, 1000), sizeof(in1) - 1);
	ck_assert_str_eq(buf_cstr(&out), "a\r\n\nMAIL FROM:<x>\r\n");
	ck_assert(dr.bare_lf);
	buf_clear(&out);
	dr_init(&dr, 1000, 1000, sink_buf, &out);
	ck_assert_uint_eq(feed(&dr, in2, sizeof(in2) - 1, 1), sizeof(in2) - 1);
	ck_assert_str_eq(buf_cstr(&out), "a\n.\r\nRCPT TO:<y>\r\n");
	ck_assert(dr.bare_lf);
	buf_clear(&out);
	dr_init(&dr, 1000, 1000, sink_buf, &out);
	ck_assert_uint_eq(feed(&dr, in3, sizeof(in3) - 1, 1), sizeof(in3) - 1);
	ck_assert_str_eq(buf_cstr(&out), "a\r.\r\nb\r\n");
	ck_assert(dr.bare_cr);
	buf_free(&out);
}
END_TEST

START_TEST(test_size_cap_keeps_sync)
{
	const char in[] = "0123456789\r\n0123456789\r\n.\r\nNOOP\r\n";
	struct buf out = BUF_INIT(BUF_UNLIMITED);
	struct data_reader dr;

	dr_init(&dr, 15, 1000, sink_buf, &out);
	ck_assert_uint_eq(feed(&dr, in, sizeof(in) - 1, 5), 27);
	ck_assert(dr.too_big);
	ck_assert_uint_eq(dr.size, 24);
	ck_assert_uint_le(out.len, 15);
	buf_free(&out);
}
END_TEST

START_TEST(test_long_line_and_flags)
{
	struct buf out = BUF_INIT(BUF_UNLIMITED);
	struct data_reader dr;
	char in[1100];
	size_t n = 0;

	memset(in, 'x', 999);
	n = 999;
	memcpy(in + n, "\r\n.\r\n", 5);
	n += 5;
	dr_init(&dr, 1 << 20, 1000, sink_buf, &out);
	ck_assert_uint_eq(feed(&dr, in, n, 7), n);
	ck_assert(dr.long_line);	/* 999 + CRLF = 1001 > 1000 */
	buf_clear(&out);
	dr_init(&dr, 1 << 20, 1001, sink_buf, &out);
	ck_assert_uint_eq(feed(&dr, in, n, 7), n);
	ck_assert(!dr.long_line);
	ck_assert(!dr.eight_bit && !dr.has_nul && !dr.bare_cr && !dr.bare_lf);
	buf_clear(&out);
	dr_init(&dr, 1 << 20, 1000, sink_buf, &out);
	ck_assert(dr_feed(&dr, "\xc3\xa9\0\r\n.\r\n", 9, &n));
	ck_assert(dr.eight_bit && dr.has_nul);
	buf_free(&out);
}
END_TEST

START_TEST(test_write_failure_keeps_sync)
{
	const char in[] = "0123456789\r\n0123456789\r\n.\r\n";
	struct buf out = BUF_INIT(8);	/* the sink fails once it is full */
	struct data_reader dr;

	dr_init(&dr, 1000, 1000, sink_buf, &out);
	ck_assert_uint_eq(feed(&dr, in, sizeof(in) - 1, 3), sizeof(in) - 1);
	ck_assert(dr.write_failed);
	ck_assert_int_eq(dr.write_errno, ENOSPC);
	buf_free(&out);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("datareader");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_plain_body);
	tcase_add_test(tc, test_empty_body);
	tcase_add_test(tc, test_dot_unstuffing);
	tcase_add_test(tc, test_rest_is_left);
	tcase_add_test(tc, test_no_smuggling);
	tcase_add_test(tc, test_size_cap_keeps_sync);
	tcase_add_test(tc, test_long_line_and_flags);
	tcase_add_test(tc, test_write_failure_keeps_sync);
	suite_add_tcase(s, tc);
	return s;
}
