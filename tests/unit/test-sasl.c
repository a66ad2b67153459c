#include <stdio.h>
#include <string.h>

#include "common/base64.h"
#include "common/sasl.h"
#include "tests/unit/unit.h"

static struct sasl s;
static struct buf encoded = BUF_INIT(BUF_UNLIMITED);

static void setup(void)
{
	sasl_init(&s);
}

static void teardown(void)
{
	sasl_reset(&s);
	buf_free(&encoded);
}

/* base64 of n bytes at p, valid until the next call */
static const char *b64(const char *p, size_t n)
{
	buf_clear(&encoded);
	base64_encode(&encoded, p, n);
	return buf_cstr(&encoded);
}

static enum sasl_result step_str(const char *line)
{
	return sasl_step(&s, line, strlen(line));
}

START_TEST(test_plain_initial_response)
{
	/* RFC 4616 4: "\0tim\0tanstaaftanstaaf" */
	ck_assert_int_eq(sasl_start(&s, "PLAIN", "AHRpbQB0YW5zdGFhZnRhbnN0YWFm"),
			 SASL_VERIFY);
	ck_assert_str_eq(sasl_user(&s), "tim");
	ck_assert_str_eq(sasl_password(&s), "tanstaaftanstaaf");
	ck_assert(!sasl_in_progress(&s));
	sasl_reset(&s);
	/* the password is gone after the reset */
	ck_assert_str_eq(sasl_password(&s), "");
	ck_assert_str_eq(sasl_user(&s), "");
}
END_TEST

START_TEST(test_plain_authzid)
{
	/* authzid equal to authcid is fine, case-insensitive mechanism */
	ck_assert_int_eq(sasl_start(&s, "plain", b64("alice\0alice\0pw", 14)),
			 SASL_VERIFY);
	ck_assert_str_eq(sasl_user(&s), "alice");
	ck_assert_str_eq(sasl_password(&s), "pw");
	/* anything else would be acting as another user */
	ck_assert_int_eq(sasl_start(&s, "PLAIN", b64("bob\0alice\0pw", 12)),
			 SASL_FAILED);
	ck_assert_str_eq(sasl_failure(&s),
			 "PLAIN: authorization identity differs");
	ck_assert_str_eq(sasl_password(&s), "");
	ck_assert_int_eq(sasl_start(&s, "PLAIN", b64("alicex\0alice\0pw", 15)),
			 SASL_FAILED);
	ck_assert_int_eq(sasl_start(&s, "PLAIN", b64("alic\0alice\0pw", 13)),
			 SASL_FAILED);
}
END_TEST

/* The same credentials given as an initial response or after the empty
 * challenge (no SASL-IR) give the same result. */
START_TEST(test_plain_split)
{
	const char *resp = b64("\0alice\0secret", 13);
	char copy[64];

	snprintf(copy, sizeof(copy), "%s", resp);
	ck_assert_int_eq(sasl_start(&s, "PLAIN", NULL), SASL_CHALLENGE);
	ck_assert_str_eq(sasl_challenge(&s), "");
	ck_assert(sasl_in_progress(&s));
	ck_assert_int_eq(step_str(copy), SASL_VERIFY);
	ck_assert_str_eq(sasl_user(&s), "alice");
	ck_assert_str_eq(sasl_password(&s), "secret");
	ck_assert(!sasl_in_progress(&s));

	ck_assert_int_eq(sasl_start(&s, "PLAIN", copy), SASL_VERIFY);
	ck_assert_str_eq(sasl_user(&s), "alice");
	ck_assert_str_eq(sasl_password(&s), "secret");
}
END_TEST

START_TEST(test_plain_bad_base64)
{
	ck_assert_int_eq(sasl_start(&s, "PLAIN", "AGFsaWNlAHB3!"), SASL_BAD_BASE64);
	ck_assert(!sasl_in_progress(&s));
	ck_assert_int_eq(sasl_start(&s, "PLAIN", "AGFsaWNlAHB3 "), SASL_BAD_BASE64);
	ck_assert_int_eq(sasl_start(&s, "PLAIN", "AGFsaWNlAHB"), SASL_BAD_BASE64);
	ck_assert_int_eq(sasl_start(&s, "PLAIN", NULL), SASL_CHALLENGE);
	ck_assert_int_eq(step_str("not base64"), SASL_BAD_BASE64);
	ck_assert(!sasl_in_progress(&s));
	/* line breaks inside are not base64 either */
	ck_assert_int_eq(sasl_start(&s, "PLAIN", NULL), SASL_CHALLENGE);
	ck_assert_int_eq(step_str("AGFsaWNl\r\nAHB3"), SASL_BAD_BASE64);
}
END_TEST

START_TEST(test_plain_missing_nuls)
{
	ck_assert_int_eq(sasl_start(&s, "PLAIN", b64("alicepw", 7)),
			 SASL_FAILED);
	ck_assert_str_eq(sasl_failure(&s), "PLAIN: missing NUL");
	ck_assert_int_eq(sasl_start(&s, "PLAIN", b64("\0alicepw", 8)),
			 SASL_FAILED);
	ck_assert_str_eq(sasl_failure(&s), "PLAIN: missing NUL");
	ck_assert_int_eq(sasl_start(&s, "PLAIN", b64("alice\0pw", 8)),
			 SASL_FAILED);
	/* a third NUL would have to be inside the password */
	ck_assert_int_eq(sasl_start(&s, "PLAIN", b64("\0alice\0p\0w", 10)),
			 SASL_FAILED);
	ck_assert(!sasl_in_progress(&s));
}
END_TEST

START_TEST(test_plain_empty_fields)
{
	ck_assert_int_eq(sasl_start(&s, "PLAIN", b64("\0\0pw", 4)),
			 SASL_FAILED);
	ck_assert_str_eq(sasl_failure(&s), "PLAIN: empty user");
	ck_assert_int_eq(sasl_start(&s, "PLAIN", b64("\0alice\0", 7)),
			 SASL_FAILED);
	ck_assert_str_eq(sasl_failure(&s), "PLAIN: empty password");
	ck_assert_int_eq(sasl_start(&s, "PLAIN", b64("\0\0", 2)), SASL_FAILED);
}
END_TEST

START_TEST(test_plain_too_long)
{
	char msg[SASL_RESPONSE_MAX + 16];
	size_t n;

	/* authcid of 256 bytes */
	memset(msg, 'a', sizeof(msg));
	msg[0] = '\0';
	msg[SASL_NAME_MAX + 2] = '\0';
	ck_assert_int_eq(sasl_start(&s, "PLAIN", b64(msg, SASL_NAME_MAX + 5)),
			 SASL_FAILED);
	/* 255 is accepted (RFC 4616 2) */
	msg[SASL_NAME_MAX + 1] = '\0';
	msg[SASL_NAME_MAX + 2] = 'p';
	ck_assert_int_eq(sasl_start(&s, "PLAIN", b64(msg, SASL_NAME_MAX + 5)),
			 SASL_VERIFY);
	ck_assert_uint_eq(strlen(sasl_user(&s)), SASL_NAME_MAX);
	/* a password over the limit */
	memset(msg, 'p', sizeof(msg));
	memcpy(msg, "\0u\0", 3);
	n = 3 + SASL_PASSWORD_MAX + 1;
	ck_assert_int_eq(sasl_start(&s, "PLAIN", b64(msg, n)), SASL_FAILED);
	ck_assert_int_eq(sasl_start(&s, "PLAIN", b64(msg, n - 1)), SASL_VERIFY);
	ck_assert_uint_eq(strlen(sasl_password(&s)), SASL_PASSWORD_MAX);
	/* a whole response over the limit */
	ck_assert_int_eq(sasl_start(&s, "PLAIN", b64(msg, sizeof(msg))),
			 SASL_FAILED);
	ck_assert_str_eq(sasl_failure(&s), "response too long");
}
END_TEST

START_TEST(test_empty_initial_response)
{
	/* RFC 4954 4: "=" is an empty initial response, not a request for
	 * a challenge; for PLAIN it cannot hold credentials */
	ck_assert_int_eq(sasl_start(&s, "PLAIN", "="), SASL_FAILED);
	ck_assert(!sasl_in_progress(&s));
	ck_assert_int_eq(sasl_start(&s, "LOGIN", "="), SASL_FAILED);
	ck_assert_str_eq(sasl_failure(&s), "LOGIN: empty user");
	/* the empty string (not "=") is bad base64 nowhere, but empty */
	ck_assert_int_eq(sasl_start(&s, "PLAIN", ""), SASL_FAILED);
	/* "==" is not base64 */
	ck_assert_int_eq(sasl_start(&s, "PLAIN", "=="), SASL_BAD_BASE64);
}
END_TEST

START_TEST(test_login_two_steps)
{
	ck_assert_int_eq(sasl_start(&s, "LOGIN", NULL), SASL_CHALLENGE);
	ck_assert_str_eq(sasl_challenge(&s), "VXNlcm5hbWU6");	/* Username: */
	ck_assert_int_eq(step_str("Ym9i"), SASL_CHALLENGE);	/* bob */
	ck_assert_str_eq(sasl_challenge(&s), "UGFzc3dvcmQ6");	/* Password: */
	ck_assert(sasl_in_progress(&s));
	ck_assert_int_eq(step_str("aHVudGVyMg=="), SASL_VERIFY);	/* hunter2 */
	ck_assert_str_eq(sasl_user(&s), "bob");
	ck_assert_str_eq(sasl_password(&s), "hunter2");
	ck_assert_str_eq(sasl_challenge(&s), "");
	/* no more steps after the exchange */
	ck_assert_int_eq(step_str("Ym9i"), SASL_FAILED);
}
END_TEST

START_TEST(test_login_initial_response)
{
	/* "AUTH LOGIN Ym9i": the user name as the initial response */
	ck_assert_int_eq(sasl_start(&s, "login", "Ym9i"), SASL_CHALLENGE);
	ck_assert_str_eq(sasl_challenge(&s), "UGFzc3dvcmQ6");
	ck_assert_int_eq(step_str("aHVudGVyMg=="), SASL_VERIFY);
	ck_assert_str_eq(sasl_user(&s), "bob");
	ck_assert_str_eq(sasl_password(&s), "hunter2");
}
END_TEST

START_TEST(test_login_bad_input)
{
	ck_assert_int_eq(sasl_start(&s, "LOGIN", NULL), SASL_CHALLENGE);
	ck_assert_int_eq(step_str(""), SASL_FAILED);
	ck_assert_str_eq(sasl_failure(&s), "LOGIN: empty user");
	ck_assert_int_eq(sasl_start(&s, "LOGIN", NULL), SASL_CHALLENGE);
	ck_assert_int_eq(step_str("Ym9i"), SASL_CHALLENGE);
	ck_assert_int_eq(step_str(""), SASL_FAILED);
	ck_assert_str_eq(sasl_failure(&s), "LOGIN: empty password");
	ck_assert_int_eq(sasl_start(&s, "LOGIN", NULL), SASL_CHALLENGE);
	ck_assert_int_eq(step_str("Ym9i"), SASL_CHALLENGE);
	ck_assert_int_eq(step_str("aHVu%GVyMg=="), SASL_BAD_BASE64);
	ck_assert_str_eq(sasl_user(&s), "");
	/* a NUL inside a LOGIN user name */
	ck_assert_int_eq(sasl_start(&s, "LOGIN", NULL), SASL_CHALLENGE);
	ck_assert_int_eq(step_str(b64("b\0b", 3)), SASL_FAILED);
}
END_TEST

START_TEST(test_cancel)
{
	ck_assert_int_eq(sasl_start(&s, "PLAIN", NULL), SASL_CHALLENGE);
	ck_assert_int_eq(step_str("*"), SASL_CANCELLED);
	ck_assert(!sasl_in_progress(&s));
	ck_assert_int_eq(sasl_start(&s, "LOGIN", NULL), SASL_CHALLENGE);
	ck_assert_int_eq(step_str("Ym9i"), SASL_CHALLENGE);
	ck_assert_int_eq(step_str("*"), SASL_CANCELLED);
	ck_assert_str_eq(sasl_user(&s), "");
	/* "*" only alone */
	ck_assert_int_eq(sasl_start(&s, "PLAIN", NULL), SASL_CHALLENGE);
	ck_assert_int_eq(step_str("* "), SASL_BAD_BASE64);
}
END_TEST

START_TEST(test_unknown_mechanism)
{
	ck_assert_int_eq(sasl_start(&s, "CRAM-MD5", NULL), SASL_NO_MECH);
	ck_assert_int_eq(sasl_start(&s, "", NULL), SASL_NO_MECH);
	ck_assert_int_eq(sasl_start(&s, "PLAINX", "AGEAYg=="), SASL_NO_MECH);
	ck_assert(!sasl_in_progress(&s));
	ck_assert(sasl_mech_supported("Plain"));
	ck_assert(sasl_mech_supported("LOGIN"));
	ck_assert(!sasl_mech_supported("GSSAPI"));
	ck_assert_int_eq(step_str("AGEAYg=="), SASL_FAILED);
}
END_TEST

/* Every byte-length prefix of a PLAIN response: bad base64 or a clean
 * result, never a crash (and no leak under the sanitizers). */
START_TEST(test_prefixes)
{
	char resp[64];
	size_t n, len;
	enum sasl_result r;

	snprintf(resp, sizeof(resp), "%s", b64("alice\0alice\0pw", 14));
	len = strlen(resp);
	for (n = 0; n <= len; n++) {
		ck_assert_int_eq(sasl_start(&s, "PLAIN", NULL), SASL_CHALLENGE);
		r = sasl_step(&s, resp, n);
		if (n % 4 != 0)
			ck_assert_int_eq(r, SASL_BAD_BASE64);
		else if (n < len)
			ck_assert_int_eq(r, SASL_FAILED);
		else
			ck_assert_int_eq(r, SASL_VERIFY);
	}
}
END_TEST

Suite *unit_suite(void)
{
	Suite *su = suite_create("sasl");
	TCase *tc = tcase_create("sasl");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_plain_initial_response);
	tcase_add_test(tc, test_plain_authzid);
	tcase_add_test(tc, test_plain_split);
	tcase_add_test(tc, test_plain_bad_base64);
	tcase_add_test(tc, test_plain_missing_nuls);
	tcase_add_test(tc, test_plain_empty_fields);
	tcase_add_test(tc, test_plain_too_long);
	tcase_add_test(tc, test_empty_initial_response);
	tcase_add_test(tc, test_login_two_steps);
	tcase_add_test(tc, test_login_initial_response);
	tcase_add_test(tc, test_login_bad_input);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_unknown_mechanism);
	tcase_add_test(tc, test_prefixes);
	suite_add_tcase(su, tc);
	return su;
}
