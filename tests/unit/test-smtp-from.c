/* Submission: the From: field must name the authenticated user
 * (smtp_from_must_match, smtpd/from-check.c), and the Received field names
 * that user only with smtp_received_auth_user (issue 10).  Driven line by
 * line with no socket (tests/unit/test-smtp-drv.h). */
#include "tests/unit/test-smtp-drv.h"

static struct drv D;

static void setup(void)
{
	drv_setup(&D);
	/* each refusal is a 5yz reply, which counts towards max_errors */
	D.cfg.max_errors = 100;
}

static void teardown(void)
{
	drv_teardown(&D);
}

/* A submission session, over TLS, logged in as alice. */
static void alice_submits(void)
{
	drv_open(&D, SVC_SUBMISSION);
	D.io.tls = true;
	drv_output(&D);
	ck_reply(drv_send(&D, "EHLO x\r\n"), "250-");
	ck_reply(drv_send(&D, "AUTH PLAIN AGFsaWNlAGFsaWNlLXNlY3JldC0x\r\n"),
		 "235 2.7.0");
}

/* Sends one message with header `hdr` to bob by DATA, in pieces of
 * `step` bytes (0: at once); the final reply. */
static const char *send_step(const char *hdr, size_t step)
{
	static char last[512];
	struct buf msg = BUF_INIT(BUF_UNLIMITED);

	ck_reply(drv_send(&D, "MAIL FROM:<alice@lab.test>\r\n"), "250 2.1.0");
	ck_reply(drv_send(&D, "RCPT TO:<bob@lab.test>\r\n"), "250 2.1.5");
	ck_reply(drv_send(&D, "DATA\r\n"), "354");
	buf_printf(&msg, "%sSubject: t\r\n\r\nbody\r\n.\r\n", hdr);
	drv_feed_step(&D, msg.data, msg.len, step);
	snprintf(last, sizeof(last), "%s", drv_output(&D));
	buf_free(&msg);
	return last;
}

static const char *send_with(const char *hdr)
{
	return send_step(hdr, 0);
}

START_TEST(test_foreign_from_refused)
{
	static const char *const bad[] = {
		"From: bob@lab.test\r\n",
		"From: Alice <bob@lab.test>\r\n",
		"From: ceo@example.com\r\n",
		"From: \"alice@lab.test\" <ceo@example.com>\r\n",
		"From: alice\r\n",
		"From: <>\r\n",
		/* several authors: all must be the user's */
		"From: alice@lab.test, bob@lab.test\r\n",
		"From: Team: alice@lab.test, ceo@example.com;\r\n",
		/* a folded field is one field */
		"From: alice@lab.test,\r\n bob@lab.test\r\n",
	};

	alice_submits();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(strncmp(send_with(bad[i]),
				      "550 5.7.1 From: address <", 25) == 0,
			      "%s-> %s", bad[i], send_with(bad[i]));
	ck_assert_str_eq(send_with("From: x@lab.test\r\n"),
		"550 5.7.1 From: address <x@lab.test> not owned by user alice\r\n");
	/* RFC 5322 3.6: one From: field, not one for the check and one to
	 * show */
	ck_assert_str_eq(send_with("From: alice@lab.test\r\nFrom: bob@lab.test\r\n"),
		"550 5.7.1 More than one From: field (RFC 5322 3.6)\r\n");
	ck_assert_int_eq(drv_count(&D, "bob", "new"), 0);
	ck_assert_int_eq(drv_count(&D, "bob", "tmp"), 0);
	/* the session goes on: the next message is taken */
	ck_reply(send_with("From: alice@lab.test\r\n"), "250 2.0.0");
	ck_assert_int_eq(drv_count(&D, "bob", "new"), 1);
}
END_TEST

START_TEST(test_own_from_accepted)
{
	static const char *const good[] = {
		"From: alice@lab.test\r\n",
		"From: Alice Example <alice@lab.test>\r\n",
		"From: \"Example, Alice\" <ALICE@LAB.TEST>\r\n",
		"From: alice+lists@lab.test (Alice)\r\n",
		"From: =?utf-8?q?Al=C3=AFce?= <alice@lab.test>\r\n",
		"From: alice@lab.test, Alice at home <alice+home@lab.test>\r\n",
		"from:alice@lab.test\r\n",
		"",	/* no From: claims no author */
	};
	int n = 0;

	alice_submits();
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_msg(strncmp(send_with(good[i]), "250 2.0.0", 9) == 0,
			      "%s-> %s", good[i], send_with(good[i]));
		n++;
	}
	ck_assert_int_eq(drv_count(&D, "bob", "new"), n);
}
END_TEST

START_TEST(test_bdat_checked_too)
{
	const char *m = "From: bob@lab.test\r\n\r\nhi\r\n";
	char cmd[64];

	alice_submits();
	drv_send(&D, "MAIL FROM:<alice@lab.test>\r\n");
	drv_send(&D, "RCPT TO:<bob@lab.test>\r\n");
	snprintf(cmd, sizeof(cmd), "BDAT %zu LAST\r\n", strlen(m));
	drv_send(&D, cmd);
	ck_reply(drv_send(&D, m), "550 5.7.1 From: address <bob@lab.test>");
	ck_assert_int_eq(drv_count(&D, "bob", "new"), 0);
	ck_reply(send_with("From: alice@lab.test\r\n"), "250 2.0.0");
}
END_TEST

START_TEST(test_huge_header_refused)
{
	struct buf hdr = BUF_INIT(BUF_UNLIMITED);

	alice_submits();
	buf_puts(&hdr, "From: alice@lab.test\r\n");
	while (hdr.len <= 2 * BODY_HEAD_MAX)
		buf_puts(&hdr, "X-Filler: 0123456789012345678901234567890123456789\r\n");
	/* held whole when it comes in one piece, not when it comes in many */
	ck_reply(send_with(buf_cstr(&hdr)), "250 2.0.0");
	ck_assert_str_eq(send_step(buf_cstr(&hdr), 1000),
		"550 5.7.1 Header too large to check the From: field\r\n");
	ck_assert_int_eq(drv_count(&D, "bob", "new"), 1);
	buf_free(&hdr);
	ck_reply(send_with("From: alice@lab.test\r\n"), "250 2.0.0");
}
END_TEST

START_TEST(test_check_off_and_mx)
{
	alice_submits();
	D.set.from_must_match = false;
	ck_reply(send_with("From: bob@lab.test\r\n"), "250 2.0.0");
	drv_close(&D);
	/* incoming mail is not the user's to vouch for */
	drv_open(&D, SVC_SMTP);
	drv_output(&D);
	drv_send(&D, "EHLO x\r\n");
	drv_send(&D, "MAIL FROM:<ceo@example.com>\r\n");
	drv_send(&D, "RCPT TO:<bob@lab.test>\r\n");
	drv_send(&D, "DATA\r\n");
	ck_reply(drv_send(&D, "From: ceo@example.com\r\n\r\nx\r\n.\r\n"),
		 "250 2.0.0");
	ck_assert_int_eq(drv_count(&D, "bob", "new"), 2);
}
END_TEST

static bool received_names_alice(void)
{
	size_t len;
	char *msg = drv_message(&D, "bob", "new", &len);
	const char *body = strstr(msg, "\r\nSubject: t\r\n");
	bool named;

	ck_assert_ptr_nonnull(body);
	named = memmem(msg, (size_t)(body - msg),
		       "(Authenticated sender: alice)", 29) != NULL;
	free(msg);
	return named;
}

START_TEST(test_received_auth_user)
{
	char path[4096];
	DIR *dir;
	struct dirent *e;

	ck_assert(!D.cfg.smtp_received_auth_user);
	alice_submits();
	ck_reply(send_with("From: alice@lab.test\r\n"), "250 2.0.0");
	ck_assert(!received_names_alice());
	/* empty bob's inbox, then again with the setting on */
	snprintf(path, sizeof(path), "%s/mail/bob/new", D.dir);
	dir = opendir(path);
	while ((e = readdir(dir)) != NULL) {
		char f[8192];

		if (e->d_name[0] == '.')
			continue;
		snprintf(f, sizeof(f), "%s/%s", path, e->d_name);
		ck_assert_int_eq(unlink(f), 0);
	}
	closedir(dir);
	D.set.received_auth_user = true;
	ck_reply(send_with("From: alice@lab.test\r\n"), "250 2.0.0");
	ck_assert(received_names_alice());
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("smtp-from");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_foreign_from_refused);
	tcase_add_test(tc, test_own_from_accepted);
	tcase_add_test(tc, test_bdat_checked_too);
	tcase_add_test(tc, test_huge_header_refused);
	tcase_add_test(tc, test_check_off_and_mx);
	tcase_add_test(tc, test_received_auth_user);
	suite_add_tcase(s, tc);
	return s;
}
