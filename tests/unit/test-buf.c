#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "tests/unit/unit.h"

START_TEST(test_append_and_cstr)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);

	ck_assert_str_eq(buf_cstr(&b), "");
	ck_assert_int_eq(buf_puts(&b, "hello"), 0);
	ck_assert_int_eq(buf_putc(&b, ' '), 0);
	ck_assert_int_eq(buf_printf(&b, "%d-%s", 42, "x"), 0);
	ck_assert_str_eq(buf_cstr(&b), "hello 42-x");
	ck_assert_uint_eq(b.len, 10);
	buf_free(&b);
}
END_TEST

START_TEST(test_max_is_hard)
{
	struct buf b = BUF_INIT(8);

	ck_assert_int_eq(buf_puts(&b, "12345678"), 0);
	ck_assert_int_eq(buf_putc(&b, '9'), -1);
	ck_assert_int_eq(buf_printf(&b, "%s", "more"), -1);
	ck_assert_str_eq(buf_cstr(&b), "12345678");
	ck_assert_int_eq(buf_reserve(&b, (size_t)-1), -1);
	buf_free(&b);
}
END_TEST

START_TEST(test_consume_truncate_steal)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);
	char *s;

	buf_puts(&b, "abcdef");
	buf_consume(&b, 2);
	ck_assert_str_eq(buf_cstr(&b), "cdef");
	buf_truncate(&b, 2);
	ck_assert_str_eq(buf_cstr(&b), "cd");
	buf_consume(&b, 100);
	ck_assert_uint_eq(b.len, 0);
	buf_append(&b, "a\0b", 3);
	ck_assert_uint_eq(b.len, 3);
	ck_assert_int_eq(memcmp(b.data, "a\0b", 3), 0);
	s = buf_steal(&b);
	ck_assert_ptr_null(b.data);
	free(s);
	s = buf_steal(&b);
	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

START_TEST(test_uvarint_round_trip_and_bad_input)
{
	static const uint64_t values[] = {
		0, 1, 127, 128, 300, 16383, 16384, UINT32_MAX, UINT64_MAX
	};
	struct buf b = BUF_INIT(BUF_UNLIMITED);
	struct byte_reader r;
	size_t i;

	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		ck_assert_int_eq(buf_put_uvarint(&b, values[i]), 0);
	ck_assert_uint_eq(b.len, 1 + 1 + 1 + 2 + 2 + 2 + 3 + 5 + 10);
	r = (struct byte_reader){ (const unsigned char *)b.data,
				  (const unsigned char *)b.data + b.len, false };
	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		ck_assert_uint_eq(byte_reader_uvarint(&r), values[i]);
	ck_assert(!r.bad);
	ck_assert_ptr_eq(r.p, r.end);
	/* cut short: the last value lacks its final byte */
	r = (struct byte_reader){ (const unsigned char *)b.data,
				  (const unsigned char *)b.data + b.len - 1, false };
	for (i = 0; i + 1 < sizeof(values) / sizeof(values[0]); i++)
		(void)byte_reader_uvarint(&r);
	ck_assert_uint_eq(byte_reader_uvarint(&r), 0);
	ck_assert(r.bad);
	/* more than 64 bits of continuation bytes */
	{
		unsigned char endless[12];

		memset(endless, 0xff, sizeof(endless));
		r = (struct byte_reader){ endless, endless + sizeof(endless), false };
		ck_assert_uint_eq(byte_reader_uvarint(&r), 0);
		ck_assert(r.bad);
	}
	buf_free(&b);
}
END_TEST

START_TEST(test_growth_large)
{
	struct buf b = BUF_INIT(1 << 20);
	char chunk[1000];

	memset(chunk, 'x', sizeof(chunk));
	for (int i = 0; i < 1048; i++)
		ck_assert_int_eq(buf_append(&b, chunk, sizeof(chunk)), 0);
	ck_assert_int_eq(buf_append(&b, chunk, sizeof(chunk)), -1);
	ck_assert_uint_eq(b.len, 1048000);
	buf_free(&b);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("buf");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_append_and_cstr);
	tcase_add_test(tc, test_max_is_hard);
	tcase_add_test(tc, test_consume_truncate_steal);
	tcase_add_test(tc, test_growth_large);
	tcase_add_test(tc, test_uvarint_round_trip_and_bad_input);
	suite_add_tcase(s, tc);
	return s;
}
