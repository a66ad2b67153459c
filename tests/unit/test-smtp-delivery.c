/* SMTP message transfer: DATA and BDAT into the Maildirs, byte for byte;
 * bad message data; aliases, sub-addresses, postmaster; AUTH. */
#include "common/dbenv.h"
#include "smtpd/aliases.h"
#include "tests/unit/test-smtp-drv.h"

static struct drv D;

static void setup(void)
{
	drv_setup(&D);
	maildir_fault_set(NULL);
}

static void teardown(void)
{
	maildir_fault_set(NULL);
	drv_teardown(&D);
}

static void mx_ehlo(void)
{
	drv_open(&D, SVC_SMTP);
	drv_output(&D);
	ck_reply(drv_send(&D, "EHLO client.example\r\n"), "250-mx.lab.test Hello");
}

/* The only message of user/sub is trace fields + `body`, exactly. */
static void expect_message(const char *user, const char *sub,
			   const char *return_path, const char *with,
			   const char *for_rcpt, const char *body, size_t body_len)
{
	size_t len;
	char *msg = drv_message(&D, user, sub, &len);
	const char *start = drv_skip_trace(msg, return_path, with, for_rcpt);
	size_t got = len - (size_t)(start - msg);

	ck_assert_msg(got == body_len && memcmp(start, body, body_len) == 0,
		      "body differs: got %zu bytes \"%.*s\"", got, (int)got, start);
	free(msg);
}

static void no_mail(const char *user)
{
	ck_assert_int_eq(drv_count(&D, user, "new"), 0);
	ck_assert_int_eq(drv_count(&D, user, "tmp"), 0);
}

/* Nothing left under the delivery's tmp directory either. */
static void no_tmp_files(void)
{
	char path[4096];
	struct dirent *e;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/mail/.tmp", D.dir);
	if ((dir = opendir(path)) == NULL)
		return;
	while ((e = readdir(dir)) != NULL)
		ck_assert_msg(e->d_name[0] == '.', "left in .tmp: %s", e->d_name);
	closedir(dir);
}

#define BODY "Subject: test\r\nFrom: a@example.com\r\n\r\nHello Alice.\r\n"

START_TEST(test_data_delivered)
{
	mx_ehlo();
	ck_reply(drv_send(&D, "MAIL FROM:<a@example.com>\r\n"), "250 2.1.0");
	ck_reply(drv_send(&D, "RCPT TO:<alice@lab.test>\r\n"), "250 2.1.5");
	ck_assert_str_eq(drv_send(&D, "DATA\r\n"), "354 End data with <CR><LF>.<CR><LF>\r\n");
	ck_assert_uint_eq(D.io.mode, INPUT_DATA);
	ck_assert_uint_eq(D.io.idle_timeout, D.cfg.timeout_smtp_data);
	ck_assert_str_eq(drv_send(&D, BODY "..dot line\r\n.\r\n"),
			 "250 2.0.0 Message accepted for delivery, id test0001.1\r\n");
	ck_assert_uint_eq(D.io.idle_timeout, D.cfg.timeout_smtp);
	expect_message("alice", "new", "a@example.com", "ESMTP", "alice@lab.test",
		       BODY ".dot line\r\n", strlen(BODY ".dot line\r\n"));
	no_mail("bob");
	no_tmp_files();
	/* the session goes on: a second message */
	ck_reply(drv_send(&D, "MAIL FROM:<>\r\n"), "250 2.1.0");
	ck_reply(drv_send(&D, "RCPT TO:<bob@lab.test>\r\nDATA\r\n"), "250 2.1.5");
	ck_assert_str_eq(drv_send(&D, "x\r\n.\r\n"),
			 "250 2.0.0 Message accepted for delivery, id test0001.2\r\n");
	expect_message("bob", "new", "", "ESMTP", "bob@lab.test", "x\r\n", 3);
}
END_TEST

START_TEST(test_helo_protocol_name)
{
	drv_open(&D, SVC_SMTP);
	drv_send(&D, "HELO client.example\r\nMAIL FROM:<a@example.com>\r\n"
		 "RCPT TO:<alice@lab.test>\r\nDATA\r\n");
	drv_output(&D);
	ck_reply(drv_send(&D, "hi\r\n.\r\n"), "250 2.0.0");
	expect_message("alice", "new", "a@example.com", "SMTP", "alice@lab.test",
		       "hi\r\n", 4);
}
END_TEST

START_TEST(test_several_recipients)
{
	size_t la, lb;
	char *a, *b;

	mx_ehlo();
	drv_send(&D, "MAIL FROM:<a@example.com>\r\n");
	ck_reply(drv_send(&D, "RCPT TO:<alice@lab.test>\r\n"), "250");
	ck_reply(drv_send(&D, "RCPT TO:<nobody@lab.test>\r\n"), "550 5.1.1");
	ck_reply(drv_send(&D, "RCPT TO:<bob@lab.test>\r\n"), "250");
	/* the same mailbox twice gets one copy */
	ck_reply(drv_send(&D, "RCPT TO:<Alice@lab.test>\r\n"), "250");
	drv_send(&D, "DATA\r\n");
	ck_reply(drv_send(&D, BODY ".\r\n"), "250 2.0.0");
	/* RFC 5321 7.2: no "for" with several recipients */
	expect_message("alice", "new", "a@example.com", "ESMTP", NULL, BODY, strlen(BODY));
	expect_message("bob", "new", "a@example.com", "ESMTP", NULL, BODY, strlen(BODY));
	a = drv_message(&D, "alice", "new", &la);
	b = drv_message(&D, "bob", "new", &lb);
	ck_assert(la == lb && memcmp(a, b, la) == 0);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_pipelined_transaction_one_write)
{
	const char *all =
		"EHLO client.example\r\n"
		"MAIL FROM:<a@example.com>\r\n"
		"RCPT TO:<alice@lab.test>\r\n"
		"RCPT TO:<nobody@lab.test>\r\n"
		"RCPT TO:<bob@lab.test>\r\n"
		"DATA\r\n"
		BODY
		".\r\n"
		"MAIL FROM:<b@example.com>\r\n"
		"RCPT TO:<bob@lab.test>\r\n"
		"DATA\r\n"
		"second\r\n"
		".\r\n"
		"QUIT\r\n";
	size_t step;

	/* RFC 2920: every reply, in order, whatever the packet boundaries */
	for (step = 0; step <= 7; step += 7) {
		const char *r;
		char *copy;

		drv_open(&D, SVC_SMTP);
		drv_output(&D);
		drv_feed_step(&D, all, strlen(all), step == 0 ? 0 : step);
		r = drv_output(&D);
		copy = xstrdup(r);
		ck_assert_msg(strstr(copy, "250 HELP\r\n"
				     "250 2.1.0 Sender <a@example.com> OK\r\n"
				     "250 2.1.5 Recipient <alice@lab.test> OK\r\n"
				     "550 5.1.1 <nobody@lab.test>: User unknown\r\n"
				     "250 2.1.5 Recipient <bob@lab.test> OK\r\n"
				     "354 End data with <CR><LF>.<CR><LF>\r\n"
				     "250 2.0.0 Message accepted for delivery, id test0001.1\r\n"
				     "250 2.1.0 Sender <b@example.com> OK\r\n"
				     "250 2.1.5 Recipient <bob@lab.test> OK\r\n"
				     "354 End data with <CR><LF>.<CR><LF>\r\n"
				     "250 2.0.0 Message accepted for delivery, id test0001.2\r\n"
				     "221 2.0.0 mx.lab.test Service closing transmission channel\r\n") != NULL,
			      "replies: %s", copy);
		free(copy);
		drv_close(&D);
	}
	ck_assert_int_eq(drv_count(&D, "alice", "new"), 2);
	ck_assert_int_eq(drv_count(&D, "bob", "new"), 4);
}
END_TEST

START_TEST(test_byte_at_a_time)
{
	const char *all = "EHLO x\r\nMAIL FROM:<a@example.com>\r\n"
		"RCPT TO:<alice@lab.test>\r\nDATA\r\n" BODY ".\r\n";

	drv_open(&D, SVC_SMTP);
	drv_output(&D);
	drv_feed_step(&D, all, strlen(all), 1);
	ck_assert_ptr_nonnull(strstr(drv_output(&D), "354 End data"));
	expect_message("alice", "new", "a@example.com", "ESMTP", "alice@lab.test",
		       BODY, strlen(BODY));
}
END_TEST

START_TEST(test_smuggling_does_not_end_data)
{
	const char *smuggle = "Subject: x\r\n\r\nbody\r\n.\nMAIL FROM:<evil@example.com>\r\n"
		"RCPT TO:<bob@lab.test>\r\nDATA\r\n\n.\r\nmore\r\n";
	/* (the dot at the start of ".\n" is taken as transparency) */
	const char *stored = "Subject: x\r\n\r\nbody\r\n\r\nMAIL FROM:<evil@example.com>\r\n"
		"RCPT TO:<bob@lab.test>\r\nDATA\r\n\r\n.\r\nmore\r\n";

	mx_ehlo();
	drv_send(&D, "MAIL FROM:<a@example.com>\r\nRCPT TO:<alice@lab.test>\r\n");
	ck_reply(drv_send(&D, "DATA\r\n"), "354");
	/* "\r\n.\n" and "\n.\r\n" are not the end of the data (RFC 5321
	 * 4.1.1.4): the "commands" after them stay message text */
	ck_assert_str_eq(drv_send(&D, smuggle), "");
	ck_assert_uint_eq(D.io.mode, INPUT_DATA);
	/* the real end: one message, its bare LFs stored as CRLF, so they
	 * cannot end the data at the next hop either */
	ck_reply(drv_send(&D, ".\r\n"), "250 2.0.0");
	expect_message("alice", "new", "a@example.com", "ESMTP", "alice@lab.test",
		       stored, strlen(stored));
	no_mail("bob");
	no_tmp_files();
	/* the strict setting refuses such a message */
	D.set.reject_bare_lf = true;
	drv_send(&D, "MAIL FROM:<a@example.com>\r\nRCPT TO:<bob@lab.test>\r\nDATA\r\n");
	ck_assert_str_eq(drv_send(&D, smuggle), "");
	ck_assert_str_eq(drv_send(&D, ".\r\n"),
			 "554 5.6.0 Message contains bare LF: lines must end with CRLF\r\n");
	no_mail("bob");
	no_tmp_files();
	ck_assert_str_eq(drv_send(&D, "NOOP\r\n"), "250 2.0.0 OK\r\n");
}
END_TEST

START_TEST(test_bare_cr_and_nul_in_data)
{
	mx_ehlo();
	drv_send(&D, "MAIL FROM:<a@example.com>\r\nRCPT TO:<alice@lab.test>\r\nDATA\r\n");
	ck_assert_str_eq(drv_send(&D, "a\rb\r\n.\r\n"),
			 "554 5.6.0 Message contains bare CR: lines must end with CRLF\r\n");
	drv_send(&D, "MAIL FROM:<a@example.com>\r\nRCPT TO:<alice@lab.test>\r\nDATA\r\n");
	ck_assert_str_eq(drv_sendn(&D, "a\0b\r\n.\r\n", 8),
			 "554 5.6.0 Message contains NUL characters\r\n");
	no_mail("alice");
}
END_TEST

START_TEST(test_lf_only_message)
{
	struct buf in = BUF_INIT(BUF_UNLIMITED), want = BUF_INIT(BUF_UNLIMITED);
	int i;

	/* a file with LF line ends (curl -T without --crlf): short lines,
	 * 3000 bytes in all, no line is too long */
	for (i = 0; i < 100; i++) {
		buf_printf(&in, "line %03d of a file with LF ends\n", i);
		buf_printf(&want, "line %03d of a file with LF ends\r\n", i);
	}
	buf_puts(&in, "\r\n.\r\n");
	buf_puts(&want, "\r\n");
	mx_ehlo();
	drv_send(&D, "MAIL FROM:<a@example.com>\r\nRCPT TO:<alice@lab.test>\r\nDATA\r\n");
	ck_reply(drv_send(&D, in.data), "250 2.0.0");
	expect_message("alice", "new", "a@example.com", "ESMTP", "alice@lab.test",
		       want.data, want.len);
	buf_free(&in);
	buf_free(&want);
}
END_TEST

START_TEST(test_long_text_line)
{
	size_t n = 1200, i;
	char *body = xmalloc(n + 16);

	for (i = 0; i < n; i++)
		body[i] = 'x';
	memcpy(body + n, "\r\n.\r\n", 6);
	mx_ehlo();
	drv_send(&D, "MAIL FROM:<a@example.com>\r\nRCPT TO:<alice@lab.test>\r\nDATA\r\n");
	/* RFC 5321 4.5.3.1.6: 1000 octets with CRLF; the reader stays in sync */
	ck_assert_str_eq(drv_send(&D, body),
			 "500 5.5.2 Line too long (limit 1000 octets)\r\n");
	no_mail("alice");
	ck_assert_str_eq(drv_send(&D, "NOOP\r\n"), "250 2.0.0 OK\r\n");
	/* reject_long_text_lines = no: accepted as sent */
	D.cfg.reject_long_text_lines = false;
	drv_send(&D, "MAIL FROM:<a@example.com>\r\nRCPT TO:<alice@lab.test>\r\nDATA\r\n");
	ck_reply(drv_send(&D, body), "250 2.0.0");
	expect_message("alice", "new", "a@example.com", "ESMTP", "alice@lab.test",
		       body, n + 2);
	free(body);
}
END_TEST

START_TEST(test_message_too_big)
{
	char body[300];

	D.cfg.max_message_size = 100;
	mx_ehlo();
	memset(body, 'y', sizeof(body));
	memcpy(body + 200, "\r\n.\r\n", 6);
	drv_send(&D, "MAIL FROM:<a@example.com>\r\nRCPT TO:<alice@lab.test>\r\nDATA\r\n");
	/* RFC 1870 6.3: undeclared, too big: 552 after the data */
	ck_assert_str_eq(drv_send(&D, body),
			 "552 5.3.4 Message size exceeds fixed maximum message size (100)\r\n");
	no_mail("alice");
	no_tmp_files();
	ck_assert_str_eq(drv_send(&D, "NOOP\r\n"), "250 2.0.0 OK\r\n");
}
END_TEST

START_TEST(test_disconnect_mid_data)
{
	mx_ehlo();
	drv_send(&D, "MAIL FROM:<a@example.com>\r\nRCPT TO:<alice@lab.test>\r\nDATA\r\n");
	drv_send(&D, "Subject: unfinished\r\n\r\nhalf a body\r\n");
	/* the I/O layer closes the session */
	drv_close(&D);
	no_mail("alice");
	no_tmp_files();
}
END_TEST

START_TEST(test_commit_failure_is_451)
{
	mx_ehlo();
	drv_send(&D, "MAIL FROM:<a@example.com>\r\nRCPT TO:<alice@lab.test>\r\n"
		 "RCPT TO:<bob@lab.test>\r\nDATA\r\n");
	maildir_fault_set("fsync-dir:EIO");
	/* DESIGN.md rule 3: temporary trouble is 4xx, nothing visible */
	ck_assert_str_eq(drv_send(&D, BODY ".\r\n"),
			 "451 4.3.0 Temporary local problem, try again later\r\n");
	maildir_fault_set(NULL);
	no_mail("alice");
	no_mail("bob");
	no_tmp_files();
	/* the file is made at the commit (on a worker), so a failure to
	 * create it is the 451 to the final dot */
	maildir_fault_set("open:ENOSPC");
	drv_send(&D, "MAIL FROM:<a@example.com>\r\nRCPT TO:<alice@lab.test>\r\n");
	ck_reply(drv_send(&D, "DATA\r\n"), "354");
	ck_assert_str_eq(drv_send(&D, BODY ".\r\n"),
			 "451 4.3.0 Temporary local problem, try again later\r\n");
	maildir_fault_set(NULL);
	no_mail("alice");
	no_tmp_files();
	ck_reply(drv_send(&D, "RSET\r\n"), "250");
}
END_TEST

START_TEST(test_bdat)
{
	const char *r;

	mx_ehlo();
	drv_send(&D, "MAIL FROM:<a@example.com>\r\nRCPT TO:<alice@lab.test>\r\n");
	/* RFC 3030: chunks of exact sizes, no dot-stuffing */
	r = drv_send(&D, "BDAT 21\r\nSubject: c\r\n\r\n.line\r\nBDAT 4 LAST\r\nen\rd");
	ck_assert_str_eq(r, "250 2.0.0 21 octets received\r\n"
			 "554 5.6.0 Message contains bare CR: lines must end with CRLF\r\n");
	no_mail("alice");
	drv_send(&D, "MAIL FROM:<a@example.com>\r\nRCPT TO:<alice@lab.test>\r\n");
	r = drv_send(&D, "BDAT 21\r\nSubject: c\r\n\r\n.line\r\nBDAT 5 LAST\r\nend\r\n");
	ck_assert_str_eq(r, "250 2.0.0 21 octets received\r\n"
			 "250 2.0.0 Message accepted for delivery, id test0001.2\r\n");
	expect_message("alice", "new", "a@example.com", "ESMTP", "alice@lab.test",
		       "Subject: c\r\n\r\n.line\r\nend\r\n", 26);
	/* BDAT 0 LAST ends a message too */
	drv_send(&D, "MAIL FROM:<a@example.com>\r\nRCPT TO:<bob@lab.test>\r\n");
	ck_assert_str_eq(drv_send(&D, "BDAT 3\r\nx\r\nBDAT 0 LAST\r\n"),
			 "250 2.0.0 3 octets received\r\n"
			 "250 2.0.0 Message accepted for delivery, id test0001.3\r\n");
	expect_message("bob", "new", "a@example.com", "ESMTP", "bob@lab.test", "x\r\n", 3);
}
END_TEST

START_TEST(test_bdat_errors)
{
	const char *r;

	D.cfg.max_message_size = 50;
	mx_ehlo();
	/* without a transaction the chunk is still read: its bytes are not
	 * commands */
	ck_assert_str_eq(drv_send(&D, "BDAT 6\r\nQUIT\r\n"),
			 "503 5.5.1 Bad sequence of commands: send MAIL and RCPT first\r\n");
	ck_assert(!D.io.close);
	drv_send(&D, "MAIL FROM:<a@example.com>\r\n");
	ck_assert_str_eq(drv_send(&D, "BDAT 6 LAST\r\nRSET\r\n"),
			 "554 5.5.1 No valid recipients\r\n");
	ck_reply(drv_send(&D, "RSET\r\n"), "250");
	drv_send(&D, "MAIL FROM:<a@example.com>\r\nRCPT TO:<alice@lab.test>\r\n");
	/* over the size: refused, and later chunks are dropped (RFC 3030 3) */
	r = drv_send(&D, "BDAT 60\r\n"
		     "123456789012345678901234567890123456789012345678901234567890"
		     "BDAT 2 LAST\r\nab");
	ck_assert_str_eq(r, "552 5.3.4 Message size exceeds fixed maximum message size (50)\r\n"
			 "503 5.5.1 Bad sequence of commands: an earlier BDAT failed, send RSET\r\n");
	ck_reply(drv_send(&D, "MAIL FROM:<a@example.com>\r\n"), "503 5.5.1");
	ck_reply(drv_send(&D, "RSET\r\n"), "250");
	drv_send(&D, "MAIL FROM:<a@example.com>\r\nRCPT TO:<alice@lab.test>\r\n");
	/* DATA after BDAT: out of sequence (RFC 3030 2) */
	drv_send(&D, "BDAT 3\r\nab\n");
	ck_reply(drv_send(&D, "DATA\r\n"), "503 5.5.1");
	no_mail("alice");
	/* a size that cannot be read: no way back into sync */
	ck_assert_str_eq(drv_send(&D, "BDAT x\r\n"),
			 "421 4.5.0 mx.lab.test Syntax: BDAT chunk-size [LAST]; cannot resynchronize\r\n");
	ck_assert(D.io.close);
}
END_TEST

START_TEST(test_submission_adds_date_msgid)
{
	size_t len;
	char *msg;
	const char *start;

	drv_open(&D, SVC_SUBMISSION);
	D.io.tls = true;
	D.io.tls_version = "TLSv1.3";
	D.io.tls_cipher = "TLS_AES_128_GCM_SHA256";
	drv_output(&D);
	drv_send(&D, "EHLO x\r\nAUTH PLAIN AGFsaWNlAGFsaWNlLXNlY3JldC0x\r\n"
		 "MAIL FROM:<alice@lab.test>\r\nRCPT TO:<bob@lab.test>\r\nDATA\r\n");
	ck_reply(drv_send(&D, "Subject: hi\r\n\r\nbody\r\n.\r\n"), "250 2.0.0");
	msg = drv_message(&D, "bob", "new", &len);
	start = drv_skip_trace(msg, "alice@lab.test", "ESMTPSA", "bob@lab.test");
	ck_assert_ptr_nonnull(strstr(msg, "\t(using TLSv1.3 with cipher TLS_AES_128_GCM_SHA256)\r\n"));
	/* RFC 6409 8.2, 8.3 */
	ck_assert_msg(strncmp(start, "Date: ", 6) == 0, "%s", start);
	start = strstr(start, "\r\n") + 2;
	ck_assert_msg(strncmp(start, "Message-ID: <", 13) == 0, "%s", start);
	ck_assert_ptr_nonnull(strstr(start, "@mx.lab.test>\r\nSubject: hi\r\n\r\nbody\r\n"));
	free(msg);
	/* present ones are kept, nothing added */
	drv_send(&D, "MAIL FROM:<alice@lab.test>\r\nRCPT TO:<alice@lab.test>\r\nDATA\r\n");
	ck_reply(drv_send(&D, "date: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
			  "Message-Id: <x@y>\r\n\r\nb\r\n.\r\n"), "250 2.0.0");
	expect_message("alice", "new", "alice@lab.test", "ESMTPSA", "alice@lab.test",
		       "date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-Id: <x@y>\r\n\r\nb\r\n",
		       strlen("date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-Id: <x@y>\r\n\r\nb\r\n"));
}
END_TEST

START_TEST(test_utf8smtp_protocol)
{
	mx_ehlo();
	drv_send(&D, "MAIL FROM:<j\xc3\xb6rg@example.de> SMTPUTF8\r\n"
		 "RCPT TO:<alice@lab.test>\r\nDATA\r\n");
	ck_reply(drv_send(&D, "Subject: gr\xc3\xbc\xc3\x9f" "e\r\n\r\n\xc3\xa9t\xc3\xa9\r\n.\r\n"),
		 "250 2.0.0");
	expect_message("alice", "new", "j\xc3\xb6rg@example.de", "UTF8SMTP",
		       "alice@lab.test", "Subject: gr\xc3\xbc\xc3\x9f" "e\r\n\r\n\xc3\xa9t\xc3\xa9\r\n",
		       strlen("Subject: gr\xc3\xbc\xc3\x9f" "e\r\n\r\n\xc3\xa9t\xc3\xa9\r\n"));
}
END_TEST

/* --- aliases, sub-addresses, postmaster --- */

static void add_alias(const char *name, const char *targets)
{
	char err[256];
	struct alias_db *a = alias_db_open(userdb_env(D.users), err, sizeof(err));

	ck_assert_msg(a != NULL, "%s", err);
	ck_assert_msg(alias_put(a, name, targets, err, sizeof(err)) == 0, "%s", err);
	alias_db_close(&a);
}

START_TEST(test_alias_fan_out)
{
	add_alias("team", "alice,bob@lab.test,nobody");
	add_alias("loop1", "loop2");
	add_alias("loop2", "alice,loop1");
	add_alias("ext", "alice,someone@example.org");
	mx_ehlo();
	drv_send(&D, "MAIL FROM:<a@example.com>\r\n");
	ck_reply(drv_send(&D, "RCPT TO:<Team@lab.test>\r\n"), "250 2.1.5 Recipient <Team@lab.test> OK");
	ck_assert_str_eq(drv_send(&D, "RCPT TO:<loop1@lab.test>\r\n"),
			 "550 5.4.6 <loop1@lab.test>: Alias loop detected\r\n");
	ck_reply(drv_send(&D, "RCPT TO:<ext@lab.test>\r\n"), "451 4.3.2");
	drv_send(&D, "DATA\r\n");
	ck_reply(drv_send(&D, BODY ".\r\n"), "250 2.0.0");
	expect_message("alice", "new", "a@example.com", "ESMTP", "Team@lab.test", BODY, strlen(BODY));
	expect_message("bob", "new", "a@example.com", "ESMTP", "Team@lab.test", BODY, strlen(BODY));
	/* EXPN when enabled */
	D.set.expn = true;
	ck_assert_str_eq(drv_send(&D, "EXPN team\r\n"),
			 "250-2.1.5 <alice@lab.test>\r\n"
			 "250-2.1.5 <bob@lab.test>\r\n"
			 "250 2.1.5 <nobody@lab.test>\r\n");
}
END_TEST

START_TEST(test_postmaster_and_abuse)
{
	mx_ehlo();
	drv_send(&D, "MAIL FROM:<a@example.com>\r\n");
	/* RFC 5321 4.5.1: always accepted; default: the first user */
	ck_reply(drv_send(&D, "RCPT TO:<postmaster>\r\n"), "250 2.1.5");
	ck_reply(drv_send(&D, "RCPT TO:<abuse@lab.test>\r\n"), "250 2.1.5");
	drv_send(&D, "DATA\r\n");
	ck_reply(drv_send(&D, BODY ".\r\n"), "250 2.0.0");
	ck_assert_int_eq(drv_count(&D, "alice", "new"), 1);
	no_mail("bob");
	/* a configured user */
	D.set.postmaster_user = "bob";
	drv_send(&D, "MAIL FROM:<a@example.com>\r\n");
	ck_reply(drv_send(&D, "RCPT TO:<POSTMASTER@lab.test>\r\n"), "250 2.1.5");
	drv_send(&D, "DATA\r\n");
	ck_reply(drv_send(&D, BODY ".\r\n"), "250 2.0.0");
	expect_message("bob", "new", "a@example.com", "ESMTP", "POSTMASTER@lab.test",
		       BODY, strlen(BODY));
	/* an alias named postmaster wins */
	add_alias("postmaster", "alice");
	drv_send(&D, "MAIL FROM:<a@example.com>\r\nRCPT TO:<postmaster@lab.test>\r\nDATA\r\n");
	ck_reply(drv_send(&D, BODY ".\r\n"), "250 2.0.0");
	ck_assert_int_eq(drv_count(&D, "alice", "new"), 2);
}
END_TEST

START_TEST(test_subaddress)
{
	char path[4096], err[128];

	snprintf(path, sizeof(path), "%s/mail", D.dir);
	ck_assert(maildir_user_create(path, "alice", err, sizeof(err)) == 0);
	mx_ehlo();
	/* no such folder: the inbox */
	drv_send(&D, "MAIL FROM:<a@example.com>\r\n");
	ck_reply(drv_send(&D, "RCPT TO:<alice+news@lab.test>\r\n"), "250 2.1.5");
	drv_send(&D, "DATA\r\n");
	ck_reply(drv_send(&D, "x\r\n.\r\n"), "250 2.0.0");
	expect_message("alice", "new", "a@example.com", "ESMTP", "alice+news@lab.test", "x\r\n", 3);
	/* an existing folder (Junk is created with every user) */
	drv_send(&D, "MAIL FROM:<a@example.com>\r\nRCPT TO:<bob+Junk@lab.test>\r\nDATA\r\n");
	ck_reply(drv_send(&D, "y\r\n.\r\n"), "250 2.0.0");
	expect_message("bob", ".Junk/new", "a@example.com", "ESMTP", "bob+Junk@lab.test", "y\r\n", 3);
	ck_assert_int_eq(drv_count(&D, "bob", "new"), 0);
	/* switched off: the inbox */
	D.set.subaddress_folders = false;
	drv_send(&D, "MAIL FROM:<a@example.com>\r\nRCPT TO:<bob+Junk@lab.test>\r\nDATA\r\n");
	ck_reply(drv_send(&D, "z\r\n.\r\n"), "250 2.0.0");
	expect_message("bob", "new", "a@example.com", "ESMTP", "bob+Junk@lab.test", "z\r\n", 3);
	ck_reply(drv_send(&D, "MAIL FROM:<a@example.com>\r\nRCPT TO:<nobody+x@lab.test>\r\n"),
		 "250 2.1.0");
	ck_reply(drv_send(&D, "RCPT TO:<+x@lab.test>\r\n"), "550 5.1.1");
}
END_TEST

/* --- AUTH --- */

static void submission_tls(void)
{
	drv_open(&D, SVC_SUBMISSION);
	D.io.tls = true;
	drv_output(&D);
	drv_send(&D, "EHLO client.example\r\n");
}

START_TEST(test_auth_plain)
{
	submission_tls();
	ck_assert_str_eq(drv_send(&D, "AUTH PLAIN\r\n"), "334 \r\n");
	ck_assert_uint_eq(D.s->state, SMTP_AUTH);
	ck_assert_str_eq(drv_send(&D, "AGFsaWNlAGFsaWNlLXNlY3JldC0x\r\n"),
			 "235 2.7.0 Authentication successful\r\n");
	ck_assert_str_eq(D.s->user, "alice");
	ck_assert_str_eq(drv_send(&D, "AUTH PLAIN AGFsaWNlAGFsaWNlLXNlY3JldC0x\r\n"),
			 "503 5.5.1 Already authenticated\r\n");
	ck_reply(drv_send(&D, "MAIL FROM:<alice@lab.test> AUTH=alice@lab.test\r\n"), "250 2.1.0");
}
END_TEST

START_TEST(test_auth_login_and_cancel)
{
	submission_tls();
	ck_assert_str_eq(drv_send(&D, "AUTH LOGIN\r\n"), "334 VXNlcm5hbWU6\r\n");
	/* RFC 4954 4: "*" cancels with 501 */
	ck_assert_str_eq(drv_send(&D, "*\r\n"), "501 5.7.0 Authentication cancelled\r\n");
	ck_assert_uint_eq(D.s->state, SMTP_READY);
	ck_assert_str_eq(drv_send(&D, "AUTH LOGIN YWxpY2U=\r\n"), "334 UGFzc3dvcmQ6\r\n");
	ck_assert_str_eq(drv_send(&D, "YWxpY2Utc2VjcmV0LTE=\r\n"),
			 "235 2.7.0 Authentication successful\r\n");
}
END_TEST

START_TEST(test_auth_errors)
{
	submission_tls();
	ck_assert_str_eq(drv_send(&D, "AUTH PLAIN not*base64\r\n"),
			 "501 5.5.2 Invalid base64 data\r\n");
	ck_assert_str_eq(drv_send(&D, "AUTH CRAM-MD5\r\n"),
			 "504 5.5.4 Unrecognized authentication type\r\n");
	ck_assert_str_eq(drv_send(&D, "AUTH\r\n"),
			 "501 5.5.4 Syntax: AUTH mechanism [initial-response]\r\n");
	/* wrong password: 535 5.7.8 (after the shared delay) */
	ck_assert_str_eq(drv_send(&D, "AUTH PLAIN AGFsaWNlAHdyb25n\r\n"),
			 "535 5.7.8 Authentication credentials invalid\r\n");
	ck_assert_ptr_null(D.s->user);
	ck_assert_str_eq(drv_send(&D, "AUTH LOGIN\r\n"), "334 VXNlcm5hbWU6\r\n");
	ck_assert_str_eq(drv_send(&D, "!!!\r\n"), "501 5.5.2 Invalid base64 data\r\n");
	/* a line too long inside the exchange */
	ck_assert_str_eq(drv_send(&D, "AUTH LOGIN\r\n"), "334 VXNlcm5hbWU6\r\n");
	{
		size_t n = 13000;
		char *big = xmalloc(n);

		memset(big, 'Q', n);
		memcpy(big + n - 2, "\r\n", 2);
		ck_assert_str_eq(drv_sendn(&D, big, n),
				 "500 5.5.6 Authentication Exchange line is too long\r\n");
		free(big);
	}
	ck_assert_uint_eq(D.s->state, SMTP_READY);
	/* a malformed PLAIN message (no NULs) counts as a failure */
	ck_assert_str_eq(drv_send(&D, "AUTH PLAIN YWxpY2U=\r\n"),
			 "535 5.7.8 Authentication credentials invalid\r\n");
	/* third failure (auth_max_failures = 3): disconnect */
	ck_assert_str_eq(drv_send(&D, "AUTH PLAIN AGFsaWNlAHdyb25n\r\n"),
			 "421 4.7.0 mx.lab.test Too many failed authentications, closing connection\r\n");
	ck_assert(D.io.close);
}
END_TEST

START_TEST(test_auth_mid_transaction)
{
	drv_open(&D, SVC_SMTP);
	D.io.tls = true;
	drv_output(&D);
	drv_send(&D, "EHLO x\r\nMAIL FROM:<a@example.com>\r\n");
	/* RFC 4954 4: not during a transaction */
	ck_reply(drv_send(&D, "AUTH PLAIN AGFsaWNlAGFsaWNlLXNlY3JldC0x\r\n"), "503 5.5.1");
	drv_send(&D, "RSET\r\n");
	ck_reply(drv_send(&D, "AUTH PLAIN AGFsaWNlAGFsaWNlLXNlY3JldC0x\r\n"), "235 2.7.0");
	drv_send(&D, "MAIL FROM:<alice@lab.test>\r\nRCPT TO:<bob@lab.test>\r\nDATA\r\n");
	ck_reply(drv_send(&D, "x\r\n.\r\n"), "250 2.0.0");
	expect_message("bob", "new", "alice@lab.test", "ESMTPSA", "bob@lab.test", "x\r\n", 3);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("smtp-delivery");
	TCase *tc = tcase_create("delivery");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_data_delivered);
	tcase_add_test(tc, test_helo_protocol_name);
	tcase_add_test(tc, test_several_recipients);
	tcase_add_test(tc, test_pipelined_transaction_one_write);
	tcase_add_test(tc, test_byte_at_a_time);
	tcase_add_test(tc, test_smuggling_does_not_end_data);
	tcase_add_test(tc, test_bare_cr_and_nul_in_data);
	tcase_add_test(tc, test_lf_only_message);
	tcase_add_test(tc, test_long_text_line);
	tcase_add_test(tc, test_message_too_big);
	tcase_add_test(tc, test_disconnect_mid_data);
	tcase_add_test(tc, test_commit_failure_is_451);
	tcase_add_test(tc, test_bdat);
	tcase_add_test(tc, test_bdat_errors);
	tcase_add_test(tc, test_submission_adds_date_msgid);
	tcase_add_test(tc, test_utf8smtp_protocol);
	tcase_add_test(tc, test_alias_fan_out);
	tcase_add_test(tc, test_postmaster_and_abuse);
	tcase_add_test(tc, test_subaddress);
	tcase_add_test(tc, test_auth_plain);
	tcase_add_test(tc, test_auth_login_and_cancel);
	tcase_add_test(tc, test_auth_errors);
	tcase_add_test(tc, test_auth_mid_transaction);
	suite_add_tcase(s, tc);
	return s;
}
