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
	suite_add_tcase(s, tc);
	return s;
}
