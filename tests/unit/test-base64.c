#include <string.h>

#include "common/base64.h"
#include "tests/unit/unit.h"

static const struct {
	const char *plain, *coded;
} vectors[] = {	/* RFC 4648 10 */
	{ "", "" },
	{ "f", "Zg==" },
	{ "fo", "Zm8=" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

START_TEST(test_rfc_vectors)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);
	size_t i;

	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		buf_clear(&b);
		ck_assert_int_eq(base64_encode(&b, vectors[i].plain,
					       strlen(vectors[i].plain)), 0);
		ck_assert_str_eq(buf_cstr(&b), vectors[i].coded);
		ck_assert_uint_eq(base64_encoded_len(strlen(vectors[i].plain)),
				  strlen(vectors[i].coded));
		buf_clear(&b);
		ck_assert_int_eq(base64_decode(&b, vectors[i].coded,
					       strlen(vectors[i].coded)), 0);
		ck_assert_str_eq(buf_cstr(&b), vectors[i].plain);
		ck_assert_uint_eq(b.len, strlen(vectors[i].plain));
	}
	buf_free(&b);
}
END_TEST

START_TEST(test_binary_roundtrip)
{
	struct buf enc = BUF_INIT(BUF_UNLIMITED), dec = BUF_INIT(BUF_UNLIMITED);
	unsigned char all[256];
	size_t n;

	for (n = 0; n < sizeof(all); n++)
		all[n] = (unsigned char)n;
	for (n = 0; n <= sizeof(all); n++) {
		buf_clear(&enc);
		buf_clear(&dec);
		ck_assert_int_eq(base64_encode(&enc, all, n), 0);
		ck_assert_int_eq(base64_decode(&dec, enc.data, enc.len), 0);
		ck_assert_uint_eq(dec.len, n);
		ck_assert_int_eq(memcmp(dec.data, all, n), 0);
	}
	buf_free(&enc);
	buf_free(&dec);
}
END_TEST

START_TEST(test_nul_bytes)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);

	/* RFC 4616 example: "\0tim\0tanstaaftanstaaf" */
	ck_assert_int_eq(base64_decode(&b, "AHRpbQB0YW5zdGFhZnRhbnN0YWFm", 28), 0);
	ck_assert_uint_eq(b.len, 21);
	ck_assert_int_eq(memcmp(b.data, "\0tim\0tanstaaftanstaaf", 21), 0);
	buf_free(&b);
}
END_TEST

static int decode_str(const char *s)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);
	int ret;

	buf_puts(&b, "keep");
	ret = base64_decode(&b, s, strlen(s));
	/* on failure the buffer is left as it was */
	if (ret < 0)
		ck_assert_str_eq(buf_cstr(&b), "keep");
	buf_free(&b);
	return ret;
}

START_TEST(test_bad_characters)
{
	ck_assert_int_eq(decode_str("Zm9v!mFy"), -1);
	ck_assert_int_eq(decode_str("Zm9v YmFy"), -1);
	ck_assert_int_eq(decode_str("Zm9vYmFy\r\n"), -1);
	ck_assert_int_eq(decode_str("Zm9v\nYmFy"), -1);
	ck_assert_int_eq(decode_str(" Zm9v"), -1);
	ck_assert_int_eq(decode_str("Zm9-"), -1);	/* base64url */
	ck_assert_int_eq(decode_str("Zm9_"), -1);
	ck_assert_int_eq(decode_str("Zm\x80v"), -1);
	ck_assert_int_eq(decode_str("*"), -1);
}
END_TEST

START_TEST(test_bad_padding)
{
	ck_assert_int_eq(decode_str("Zg"), -1);		/* missing padding */
	ck_assert_int_eq(decode_str("Zg="), -1);
	ck_assert_int_eq(decode_str("Zm9vY"), -1);
	ck_assert_int_eq(decode_str("Zg==="), -1);
	ck_assert_int_eq(decode_str("Z==="), -1);
	ck_assert_int_eq(decode_str("===="), -1);
	ck_assert_int_eq(decode_str("="), -1);
	ck_assert_int_eq(decode_str("Zg==Zg=="), -1);	/* padding inside */
	ck_assert_int_eq(decode_str("Zm=v"), -1);
	ck_assert_int_eq(decode_str("Zh=="), -1);	/* non-zero spare bits */
	ck_assert_int_eq(decode_str("Zm9="), -1);
	ck_assert_int_eq(decode_str("Zm8="), 0);
	ck_assert_int_eq(decode_str("Zg=="), 0);
}
END_TEST

START_TEST(test_empty)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);

	ck_assert_int_eq(base64_decode(&b, "", 0), 0);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(buf_cstr(&b), "");
	ck_assert_int_eq(base64_encode(&b, "", 0), 0);
	ck_assert_uint_eq(b.len, 0);
	buf_free(&b);
}
END_TEST

START_TEST(test_buffer_max)
{
	struct buf b = BUF_INIT(5);

	ck_assert_int_eq(base64_encode(&b, "foo", 3), 0);
	ck_assert_int_eq(base64_encode(&b, "foo", 3), -1);
	ck_assert_str_eq(buf_cstr(&b), "Zm9v");
	buf_clear(&b);
	ck_assert_int_eq(base64_decode(&b, "Zm9vYmFy", 8), -1);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(base64_decode(&b, "Zm9vYg==", 8), 0);
	ck_assert_str_eq(buf_cstr(&b), "foob");
	buf_free(&b);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("base64");
	TCase *tc = tcase_create("base64");

	tcase_add_test(tc, test_rfc_vectors);
	tcase_add_test(tc, test_binary_roundtrip);
	tcase_add_test(tc, test_nul_bytes);
	tcase_add_test(tc, test_bad_characters);
	tcase_add_test(tc, test_bad_padding);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_buffer_max);
	suite_add_tcase(s, tc);
	return s;
}
