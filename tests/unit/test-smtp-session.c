/* The SMTP state machine, command by command, and the bad input of issue 4,
 * driven line by line with no socket (tests/unit/test-smtp-drv.h). */
#include "tests/unit/test-smtp-drv.h"

static struct drv D;

static void setup(void)
{
	drv_setup(&D);
}

static void teardown(void)
{
	drv_teardown(&D);
}

/* A session on the MX port that has said EHLO. */
static void mx_ehlo(void)
{
	drv_open(&D, SVC_SMTP);
	drv_output(&D);
	ck_reply(drv_send(&D, "EHLO client.example\r\n"), "250-mx.lab.test Hello");
}

/* The session still answers normally. */
static void still_serving(void)
{
	ck_assert_str_eq(drv_send(&D, "NOOP\r\n"), "250 2.0.0 OK\r\n");
}

START_TEST(test_greeting)
{
	drv_open(&D, SVC_SMTP);
	ck_assert_str_eq(drv_output(&D), "220 mx.lab.test ESMTP maillab\r\n");
	ck_assert_uint_eq(D.io.idle_timeout, D.cfg.timeout_smtp);
}
END_TEST

START_TEST(test_ehlo_extensions_mx)
{
	const char *r;

	drv_open(&D, SVC_SMTP);
	drv_output(&D);
	r = drv_send(&D, "EHLO client.example\r\n");
	ck_assert_str_eq(r,
		"250-mx.lab.test Hello client.example [127.0.0.1]\r\n"
		"250-PIPELINING\r\n"
		"250-SIZE 26214400\r\n"
		"250-8BITMIME\r\n"
		"250-SMTPUTF8\r\n"
		"250-ENHANCEDSTATUSCODES\r\n"
		"250-STARTTLS\r\n"
		"250-CHUNKING\r\n"
		"250-DSN\r\n"
		"250 HELP\r\n");
	/* MX: no AUTH before TLS, even from loopback */
	drv_close(&D);
	drv_open(&D, SVC_SMTP);
	D.io.loopback = true;
	drv_output(&D);
	ck_assert_ptr_null(strstr(drv_send(&D, "EHLO x\r\n"), "AUTH"));
	ck_assert_str_eq(drv_send(&D, "AUTH PLAIN\r\n"),
			 "538 5.7.11 Encryption required for requested authentication mechanism\r\n");
}
END_TEST

START_TEST(test_ehlo_submission_auth)
{
	const char *r;

	/* submission from loopback: AUTH offered in the clear */
	drv_open(&D, SVC_SUBMISSION);
	D.io.loopback = true;
	drv_output(&D);
	r = drv_send(&D, "ehlo client.example\r\n");
	ck_assert_ptr_nonnull(strstr(r, "250-AUTH PLAIN LOGIN\r\n"));
	drv_close(&D);
	/* from elsewhere: only after STARTTLS */
	drv_open(&D, SVC_SUBMISSION);
	drv_output(&D);
	ck_assert_ptr_null(strstr(drv_send(&D, "EHLO x\r\n"), "AUTH"));
	ck_reply(drv_send(&D, "STARTTLS\r\n"), "220 2.0.0 Ready to start TLS\r\n");
	drv_tls(&D);
	r = drv_send(&D, "EHLO x\r\n");
	ck_assert_ptr_nonnull(strstr(r, "250-AUTH PLAIN LOGIN\r\n"));
	ck_assert_ptr_null(strstr(r, "STARTTLS"));
}
END_TEST

START_TEST(test_helo)
{
	drv_open(&D, SVC_SMTP);
	drv_output(&D);
	ck_assert_str_eq(drv_send(&D, "HELO client.example\r\n"),
			 "250 mx.lab.test Hello client.example [127.0.0.1]\r\n");
	ck_assert_str_eq(drv_send(&D, "HELO\r\n"), "501 Syntax: HELO hostname\r\n");
	ck_assert_str_eq(drv_send(&D, "EHLO a b\r\n"), "501 Syntax: EHLO hostname\r\n");
	ck_assert_str_eq(drv_send(&D, "EHLO a(b)\r\n"), "501 Syntax: EHLO hostname\r\n");
	ck_reply(drv_send(&D, "EHLO [192.0.2.1]\r\n"), "250-mx.lab.test Hello [192.0.2.1]");
}
END_TEST

START_TEST(test_sequence_errors)
{
	drv_open(&D, SVC_SMTP);
	drv_output(&D);
	/* RFC 5321 4.1.4: EHLO first */
	ck_assert_str_eq(drv_send(&D, "MAIL FROM:<a@example.com>\r\n"),
			 "503 5.5.1 Bad sequence of commands: send EHLO or HELO first\r\n");
	drv_send(&D, "EHLO x\r\n");
	ck_assert_str_eq(drv_send(&D, "RCPT TO:<alice@lab.test>\r\n"),
			 "503 5.5.1 Bad sequence of commands: send MAIL first\r\n");
	ck_assert_str_eq(drv_send(&D, "DATA\r\n"),
			 "503 5.5.1 Bad sequence of commands: send MAIL first\r\n");
	ck_assert_str_eq(drv_send(&D, "MAIL FROM:<a@example.com>\r\n"),
			 "250 2.1.0 Sender <a@example.com> OK\r\n");
	/* MAIL twice */
	ck_assert_str_eq(drv_send(&D, "MAIL FROM:<b@example.com>\r\n"),
			 "503 5.5.1 Bad sequence of commands: a transaction is open (RSET ends it)\r\n");
	/* DATA with no valid recipient: 554 (RFC 5321 3.3) */
	ck_assert_str_eq(drv_send(&D, "RCPT TO:<nobody@lab.test>\r\n"),
			 "550 5.1.1 <nobody@lab.test>: User unknown\r\n");
	ck_assert_str_eq(drv_send(&D, "DATA\r\n"), "554 5.5.1 No valid recipients\r\n");
	ck_assert_str_eq(drv_send(&D, "RSET\r\n"), "250 2.0.0 Reset OK\r\n");
	ck_assert_str_eq(drv_send(&D, "MAIL FROM:<b@example.com>\r\n"),
			 "250 2.1.0 Sender <b@example.com> OK\r\n");
	/* AUTH and STARTTLS are not for the middle of a transaction */
	ck_reply(drv_send(&D, "STARTTLS\r\n"), "503 5.5.1");
	/* EHLO ends the transaction (RFC 5321 4.1.4) */
	drv_send(&D, "EHLO x\r\n");
	ck_assert_str_eq(drv_send(&D, "RCPT TO:<alice@lab.test>\r\n"),
			 "503 5.5.1 Bad sequence of commands: send MAIL first\r\n");
}
END_TEST

START_TEST(test_case_insensitive)
{
	mx_ehlo();
	ck_reply(drv_send(&D, "mail from:<a@example.com>\r\n"), "250 2.1.0");
	ck_reply(drv_send(&D, "rCpT To:<Alice@LAB.TEST>\r\n"),
		 "250 2.1.5 Recipient <Alice@LAB.TEST> OK");
	ck_reply(drv_send(&D, "noop\r\n"), "250 2.0.0");
	ck_reply(drv_send(&D, "rset\r\n"), "250 2.0.0");
}
END_TEST

START_TEST(test_unknown_commands_then_421)
{
	unsigned i;
	const char *r;

	mx_ehlo();
	/* 502 (issue 4) for unknown and for known but not implemented */
	ck_assert_str_eq(drv_send(&D, "FOO bar\r\n"), "502 5.5.2 Command unrecognized\r\n");
	ck_assert_str_eq(drv_send(&D, "TURN\r\n"), "502 5.5.1 Command not implemented\r\n");
	for (i = 2; i < D.cfg.max_errors - 1; i++)
		ck_reply(drv_send(&D, "XYZZY\r\n"), "502 5.5.2");
	r = drv_send(&D, "XYZZY\r\nNOOP\r\n");
	ck_assert_str_eq(r, "502 5.5.2 Command unrecognized\r\n"
			 "421 4.7.0 mx.lab.test Too many errors, closing connection\r\n");
	ck_assert(D.io.close);
}
END_TEST

START_TEST(test_long_command_line)
{
	char line[600];

	mx_ehlo();
	memset(line, 'a', sizeof(line));
	memcpy(line, "NOOP ", 5);
	memcpy(line + sizeof(line) - 2, "\r\n", 2);
	/* 600 > 512 octets (RFC 5321 4.5.3.1.4) */
	ck_assert_str_eq(drv_sendn(&D, line, sizeof(line)), "500 5.5.2 Line too long\r\n");
	still_serving();
	/* and past the reader's own limit (AUTH's 12288) */
	{
		size_t n = 20000;
		char *big = xmalloc(n);

		memset(big, 'b', n);
		memcpy(big + n - 2, "\r\n", 2);
		ck_assert_str_eq(drv_sendn(&D, big, n), "500 5.5.2 Line too long\r\n");
		free(big);
	}
	still_serving();
	/* exactly 512 with CRLF is fine */
	memset(line, 'a', 512);
	memcpy(line, "NOOP ", 5);
	memcpy(line + 510, "\r\n", 2);
	ck_assert_str_eq(drv_sendn(&D, line, 512), "250 2.0.0 OK\r\n");
}
END_TEST

START_TEST(test_bare_lf_nul_in_commands)
{
	mx_ehlo();
	ck_assert_str_eq(drv_send(&D, "NOOP\n"),
			 "500 5.5.2 Bare LF received: lines must end with CRLF (RFC 5321 2.3.8)\r\n");
	/* two commands joined by a bare LF: neither runs */
	ck_assert_str_eq(drv_send(&D, "MAIL FROM:<a@b.example>\nRCPT TO:<alice@lab.test>\r\n"),
			 "500 5.5.2 Bare LF received: lines must end with CRLF (RFC 5321 2.3.8)\r\n"
			 "503 5.5.1 Bad sequence of commands: send MAIL first\r\n");
	ck_assert_str_eq(drv_send(&D, "NO\rOP\r\n"),
			 "500 5.5.2 Bare CR received: lines must end with CRLF (RFC 5321 2.3.8)\r\n");
	ck_assert_str_eq(drv_sendn(&D, "NOOP\0x\r\n", 8),
			 "500 5.5.2 NUL character in command\r\n");
	still_serving();
}
END_TEST

START_TEST(test_malformed_paths)
{
	static const char *const bad[] = {
		"MAIL FROM:<a@b\r\n",
		"MAIL FROM:<<a@b>>\r\n",
		"MAIL FROM:a@b.example\r\n",
		"MAIL FROM:<a b@c.example>\r\n",
		"MAIL FROM:<a@b c.example>\r\n",
		"MAIL FROM:<a..b@c.example>\r\n",
		"MAIL FROM:<.a@c.example>\r\n",
		"MAIL FROM:<a@-c.example>\r\n",
		"MAIL FROM:<a@c.example>x\r\n",
		"MAIL FROM:<@a.example:>\r\n",
		"MAIL FROM:<\"unterminated@c.example>\r\n",
		"MAIL FROM:<a@[300.1.1.1]>\r\n",
		"MAIL FROM:<postmaster>\r\n",
	};
	char line[512];
	size_t i;

	mx_ehlo();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		D.s->errors = 0;
		ck_reply(drv_send(&D, bad[i]), "501 5.1.7 Bad sender address syntax");
	}
	/* a 300-character local part (RFC 5321 4.5.3.1.1: 64) */
	memset(line, 'x', sizeof(line));
	memcpy(line, "MAIL FROM:<", 11);
	memcpy(line + 11 + 300, "@c.example>\r\n", 14);
	ck_assert_str_eq(drv_send(&D, line),
			 "501 5.1.7 Bad sender address syntax: local part longer than 64 octets\r\n");
	ck_reply(drv_send(&D, "MAIL FROM:<>\r\n"), "250 2.1.0 Sender <> OK");
	D.s->errors = 0;
	ck_reply(drv_send(&D, "RCPT TO:<>\r\n"), "501 5.1.3 Bad recipient address syntax: null path");
	ck_reply(drv_send(&D, "RCPT TO:alice@lab.test\r\n"), "501 5.1.3");
	ck_reply(drv_send(&D, "RCPT TO:<alice@lab.test\r\n"), "501 5.1.3");
	ck_reply(drv_send(&D, "RCPT <alice@lab.test>\r\n"), "501 5.5.4 Syntax: RCPT TO:<address>");
	still_serving();
}
END_TEST

/* Issue 10: the pre-authentication overflow, as a client sends it: a
 * 60-character quoted local part and an address literal, 257-320 octets
 * in all, in RCPT TO and MAIL FROM. */
START_TEST(test_overlong_literal_path)
{
	char line[512];
	size_t total, n;

	mx_ehlo();
	for (total = 257; total <= 320; total++) {
		n = 0;
		memcpy(line, "RCPT TO:<\"", 10);
		n = 10;
		memset(line + n, 'q', 60);
		n += 60;
		memcpy(line + n, "\"@[IPv7:5", 9);
		n += 9;
		memset(line + n, '(', total - (n - 8) - 2);
		n += total - (n - 8) - 2;
		memcpy(line + n, "]>\r\n", 5);
		ck_assert_uint_eq(strlen(line), total + 8 + 2);
		D.s->errors = 0;
		ck_reply(drv_send(&D, "RSET\r\n"), "250");
		ck_reply(drv_send(&D, "MAIL FROM:<bob@example.org>\r\n"), "250");
		ck_assert_str_eq(drv_send(&D, line),
				 "501 5.1.3 Bad recipient address syntax: path longer than 256 octets\r\n");
		memmove(line + 10, line + 8, strlen(line + 8) + 1);
		memcpy(line, "MAIL FROM:", 10);
		ck_reply(drv_send(&D, "RSET\r\n"), "250");
		ck_assert_str_eq(drv_send(&D, line),
				 "501 5.1.7 Bad sender address syntax: path longer than 256 octets\r\n");
	}
	still_serving();
}
END_TEST

START_TEST(test_good_paths)
{
	mx_ehlo();
	/* quoted local parts, source routes, literals, a space after ':' */
	ck_reply(drv_send(&D, "MAIL FROM:<\"john doe\"@example.com>\r\n"),
		 "250 2.1.0 Sender <\"john doe\"@example.com> OK");
	ck_reply(drv_send(&D, "RCPT TO:<\"alice\"@lab.test>\r\n"),
		 "250 2.1.5 Recipient <\"alice\"@lab.test> OK");
	ck_reply(drv_send(&D, "RCPT TO:<\"a\\\"b\"@lab.test>\r\n"), "550 5.1.1");
	ck_reply(drv_send(&D, "RCPT TO:<@relay.example,@b.example:bob@lab.test>\r\n"),
		 "250 2.1.5 Recipient <bob@lab.test> OK");
	ck_reply(drv_send(&D, "RCPT TO: <bob@lab.test>\r\n"), "250 2.1.5");
	ck_reply(drv_send(&D, "RCPT TO:<x@[192.0.2.1]>\r\n"), "554 5.7.1");
	ck_reply(drv_send(&D, "RCPT TO:<x@[IPv6:2001:db8::1]>\r\n"), "554 5.7.1");
	/* RFC 5321 4.1.1.3: <Postmaster> with no domain, any case */
	ck_reply(drv_send(&D, "RCPT TO:<PostMaster>\r\n"), "250 2.1.5 Recipient <PostMaster> OK");
}
END_TEST

START_TEST(test_mail_parameters)
{
	mx_ehlo();
	ck_reply(drv_send(&D, "MAIL FROM:<a@example.com> SIZE=1000 BODY=8BITMIME "
			  "RET=HDRS ENVID=abc+2Bdef AUTH=<>\r\n"), "250 2.1.0");
	ck_assert_uint_eq(D.s->txn->declared_size, 1000);
	ck_assert(D.s->txn->body_8bit);
	ck_assert_str_eq(D.s->txn->ret, "HDRS");
	ck_assert_str_eq(D.s->txn->envid, "abc+2Bdef");
	ck_reply(drv_send(&D, "RCPT TO:<alice@lab.test> NOTIFY=SUCCESS,FAILURE "
			  "ORCPT=rfc822;alice@lab.test\r\n"), "250 2.1.5");
	ck_assert_str_eq(D.s->txn->rcpts[0].notify, "SUCCESS,FAILURE");
	ck_assert_str_eq(D.s->txn->rcpts[0].orcpt, "rfc822;alice@lab.test");
	ck_reply(drv_send(&D, "RCPT TO:<bob@lab.test> NOTIFY=SOMETIMES\r\n"),
		 "501 5.5.4 Invalid NOTIFY parameter");
	ck_reply(drv_send(&D, "RCPT TO:<bob@lab.test> FOO=1\r\n"),
		 "555 5.5.4 Unsupported parameter FOO");
	drv_send(&D, "RSET\r\n");
	ck_reply(drv_send(&D, "MAIL FROM:<a@example.com> XFOO\r\n"),
		 "555 5.5.4 Unsupported parameter XFOO");
	ck_reply(drv_send(&D, "MAIL FROM:<a@example.com> BODY=BINARYMIME\r\n"),
		 "501 5.5.4 Invalid value for BODY");
	ck_reply(drv_send(&D, "MAIL FROM:<a@example.com> SIZE=12x\r\n"),
		 "501 5.5.4 Invalid value for SIZE");
	ck_reply(drv_send(&D, "MAIL FROM:<a@example.com> SIZE=1 SIZE=2\r\n"),
		 "501 5.5.4 Parameter SIZE given twice");
}
END_TEST

START_TEST(test_size_declared_too_big)
{
	mx_ehlo();
	/* RFC 1870 6.2 */
	ck_assert_str_eq(drv_send(&D, "MAIL FROM:<a@example.com> SIZE=26214401\r\n"),
			 "552 5.3.4 Message size exceeds fixed maximum message size (26214400)\r\n");
	ck_reply(drv_send(&D, "MAIL FROM:<a@example.com> SIZE=99999999999999999999\r\n"),
		 "552 5.3.4");
	ck_reply(drv_send(&D, "MAIL FROM:<a@example.com> SIZE=26214400\r\n"), "250 2.1.0");
}
END_TEST

START_TEST(test_too_many_recipients)
{
	D.cfg.max_recipients = 2;
	mx_ehlo();
	drv_send(&D, "MAIL FROM:<a@example.com>\r\n");
	ck_reply(drv_send(&D, "RCPT TO:<alice@lab.test>\r\n"), "250 2.1.5");
	ck_reply(drv_send(&D, "RCPT TO:<bob@lab.test>\r\n"), "250 2.1.5");
	/* RFC 5321 4.5.3.1.10 */
	ck_assert_str_eq(drv_send(&D, "RCPT TO:<postmaster@lab.test>\r\n"),
			 "452 4.5.3 Too many recipients\r\n");
	ck_reply(drv_send(&D, "DATA\r\n"), "354 ");
}
END_TEST

START_TEST(test_relay)
{
	mx_ehlo();
	drv_send(&D, "MAIL FROM:<a@example.com>\r\n");
	ck_assert_str_eq(drv_send(&D, "RCPT TO:<someone@example.org>\r\n"),
			 "554 5.7.1 <someone@example.org>: Relay access denied\r\n");
	drv_close(&D);
	/* authenticated: accepted for the queue (test-smtp-queue.c) */
	drv_open(&D, SVC_SUBMISSIONS);
	D.io.tls = true;
	drv_output(&D);
	drv_send(&D, "EHLO x\r\n");
	ck_reply(drv_send(&D, "AUTH PLAIN AGFsaWNlAGFsaWNlLXNlY3JldC0x\r\n"), "235 2.7.0");
	drv_send(&D, "MAIL FROM:<alice@lab.test>\r\n");
	ck_assert_str_eq(drv_send(&D, "RCPT TO:<someone@example.org>\r\n"),
			 "250 2.1.5 Recipient <someone@example.org> OK\r\n");
}
END_TEST

START_TEST(test_misc_commands)
{
	const char *r;

	mx_ehlo();
	ck_assert_str_eq(drv_send(&D, "NOOP anything at all\r\n"), "250 2.0.0 OK\r\n");
	ck_assert_str_eq(drv_send(&D, "VRFY alice\r\n"),
			 "252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery\r\n");
	ck_assert_str_eq(drv_send(&D, "VRFY\r\n"), "501 5.5.4 Syntax: VRFY <address>\r\n");
	ck_assert_str_eq(drv_send(&D, "EXPN staff\r\n"), "502 5.5.1 EXPN not available\r\n");
	r = drv_send(&D, "HELP\r\n");
	ck_reply(r, "214-2.0.0 ");
	ck_assert_ptr_nonnull(strstr(r, "\r\n214 2.0.0 End of HELP\r\n"));
	ck_reply(drv_send(&D, "HELP mail\r\n"), "214 2.0.0 MAIL FROM:<address>");
	ck_reply(drv_send(&D, "RSET x\r\n"), "501 5.5.4 Syntax error: RSET takes no parameters");
	ck_reply(drv_send(&D, "DATA x\r\n"), "503 5.5.1");
	ck_assert_str_eq(drv_send(&D, "QUIT\r\nNOOP\r\n"),
			 "221 2.0.0 mx.lab.test Service closing transmission channel\r\n");
	ck_assert(D.io.close);
}
END_TEST

START_TEST(test_vrfy_expn_enabled)
{
	const char *r;

	mx_ehlo();
	D.set.vrfy = true;
	D.set.expn = true;
	ck_assert_str_eq(drv_send(&D, "VRFY alice\r\n"), "250 2.1.5 <alice@lab.test>\r\n");
	ck_assert_str_eq(drv_send(&D, "VRFY <bob@lab.test>\r\n"), "250 2.1.5 <bob@lab.test>\r\n");
	ck_assert_str_eq(drv_send(&D, "VRFY carol\r\n"),
			 "550 5.1.1 <carol@lab.test>: User unknown\r\n");
	r = drv_send(&D, "EXPN alice\r\n");
	ck_reply(r, "550 5.1.1 <alice@lab.test>: Not a mailing list");
}
END_TEST

START_TEST(test_starttls_discards_pipelined)
{
	const char *r;

	drv_open(&D, SVC_SMTP);
	drv_output(&D);
	/* RFC 3207 4.2: what follows STARTTLS in the same packet is dropped */
	r = drv_send(&D, "EHLO x\r\nSTARTTLS\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<alice@lab.test>\r\n");
	ck_assert_ptr_nonnull(strstr(r, "250 HELP\r\n220 2.0.0 Ready to start TLS\r\n"));
	ck_assert_ptr_null(strstr(r, "2.1.0"));
	/* a line that arrives before the handshake is not a command either */
	smtp_protocol.line(D.s, "MAIL FROM:<a@example.com>", 25, 0);
	ck_assert_str_eq(drv_output(&D), "");
	drv_tls(&D);
	/* forgotten: EHLO again */
	ck_assert_str_eq(drv_send(&D, "MAIL FROM:<a@example.com>\r\n"),
			 "503 5.5.1 Bad sequence of commands: send EHLO or HELO first\r\n");
	r = drv_send(&D, "EHLO x\r\n");
	ck_assert_ptr_null(strstr(r, "STARTTLS"));
	ck_assert_str_eq(drv_send(&D, "STARTTLS\r\n"), "503 5.5.1 TLS already active\r\n");
	ck_assert_str_eq(drv_send(&D, "STARTTLS now\r\n"),
			 "501 5.5.4 Syntax error: STARTTLS takes no parameters\r\n");
}
END_TEST

START_TEST(test_starttls_unavailable)
{
	drv_open(&D, SVC_SMTP);
	D.io.tls_available = false;
	drv_output(&D);
	ck_assert_ptr_null(strstr(drv_send(&D, "EHLO x\r\n"), "STARTTLS"));
	ck_assert_str_eq(drv_send(&D, "STARTTLS\r\n"),
			 "454 4.7.0 TLS not available due to temporary reason\r\n");
}
END_TEST

START_TEST(test_idle_timeout)
{
	drv_open(&D, SVC_SMTP);
	drv_output(&D);
	/* the I/O layer calls ops->timeout after io->idle_timeout seconds */
	ck_assert_uint_eq(D.io.idle_timeout, 300);
	smtp_protocol.timeout(D.s);
	ck_assert_str_eq(drv_output(&D),
			 "421 4.4.2 mx.lab.test Idle timeout, closing connection\r\n");
	ck_assert(D.io.close);
}
END_TEST

START_TEST(test_shutdown)
{
	mx_ehlo();
	smtp_protocol.shutdown(D.s);
	ck_reply(drv_output(&D), "421 4.3.2 mx.lab.test Service shutting down");
	ck_assert(D.io.close);
}
END_TEST

START_TEST(test_submission_requires_auth)
{
	drv_open(&D, SVC_SUBMISSION);
	D.io.tls = true;
	drv_output(&D);
	drv_send(&D, "EHLO x\r\n");
	/* RFC 4954 6 */
	ck_assert_str_eq(drv_send(&D, "MAIL FROM:<alice@lab.test>\r\n"),
			 "530 5.7.0 Authentication required\r\n");
	ck_reply(drv_send(&D, "AUTH PLAIN AGFsaWNlAGFsaWNlLXNlY3JldC0x\r\n"), "235 2.7.0");
	/* RFC 6409 4.1: not someone else's address */
	ck_assert_str_eq(drv_send(&D, "MAIL FROM:<bob@lab.test>\r\n"),
			 "553 5.7.1 Sender address <bob@lab.test> not owned by user alice\r\n");
	ck_assert_str_eq(drv_send(&D, "MAIL FROM:<ceo@example.com>\r\n"),
			 "553 5.7.1 Sender address <ceo@example.com> not owned by user alice\r\n");
	ck_reply(drv_send(&D, "MAIL FROM:<Alice+lists@LAB.test>\r\n"), "250 2.1.0");
	drv_send(&D, "RSET\r\n");
	ck_reply(drv_send(&D, "MAIL FROM:<alice@lab.test>\r\n"), "250 2.1.0");
	drv_send(&D, "RSET\r\n");
	D.set.sender_must_match = false;
	ck_reply(drv_send(&D, "MAIL FROM:<bob@lab.test>\r\n"), "250 2.1.0");
}
END_TEST

START_TEST(test_smtputf8_addresses)
{
	mx_ehlo();
	/* RFC 6531 3.5 */
	ck_assert_str_eq(drv_send(&D, "MAIL FROM:<j\xc3\xb6rg@example.de>\r\n"),
			 "553 5.6.7 Non-ASCII sender address needs the SMTPUTF8 parameter\r\n");
	ck_reply(drv_send(&D, "MAIL FROM:<j\xc3\xb6rg@b\xc3\xbc" "cher.example> SMTPUTF8\r\n"),
		 "250 2.1.0");
	ck_reply(drv_send(&D, "RCPT TO:<\xc3\xa9l\xc3\xa8ve@lab.test>\r\n"),
		 "550 5.1.1");
	/* invalid UTF-8 is a syntax error */
	ck_reply(drv_send(&D, "RCPT TO:<\xc3\x28@lab.test>\r\n"), "501 5.1.3");
	ck_reply(drv_send(&D, "RCPT TO:<alice@lab.test>\r\n"), "250 2.1.5");
	drv_send(&D, "RSET\r\n");
	drv_send(&D, "MAIL FROM:<a@example.com>\r\n");
	ck_reply(drv_send(&D, "RCPT TO:<\xc3\xa9l\xc3\xa8ve@lab.test>\r\n"), "553 5.6.7");
}
END_TEST

START_TEST(test_trace_visible)
{
	const char *line = "AUTH PLAIN AGFsaWNlAGFsaWNlLXNlY3JldC0x";

	drv_open(&D, SVC_SUBMISSIONS);
	D.io.tls = true;
	ck_assert_uint_eq(smtp_protocol.trace_visible(D.s, line, strlen(line)), 11);
	ck_assert_uint_eq(smtp_protocol.trace_visible(D.s, "NOOP", 4), 4);
	drv_send(&D, "EHLO x\r\n");
	drv_send(&D, "AUTH LOGIN\r\n");
	ck_assert_uint_eq(smtp_protocol.trace_visible(D.s, "YWxpY2U=", 8), 0);
}
END_TEST

/* Every reply line is "ddd" then ' ' or '-', ends in CRLF, and has no other
 * CR or LF in it. */
static void replies_well_formed(const char *out)
{
	const char *p = out, *nl;

	while (*p != '\0') {
		nl = strstr(p, "\r\n");
		ck_assert_msg(nl != NULL, "unterminated reply: %s", p);
		ck_assert_msg(nl - p >= 4 && p[0] >= '2' && p[0] <= '5' &&
			      p[1] >= '0' && p[1] <= '9' && p[2] >= '0' && p[2] <= '9' &&
			      (p[3] == ' ' || p[3] == '-'), "bad reply line: %.*s",
			      (int)(nl - p), p);
		ck_assert(memchr(p, '\n', (size_t)(nl - p)) == NULL);
		p = nl + 2;
	}
}

START_TEST(test_random_input)
{
	static const char *const pieces[] = {
		"EHLO x\r\n", "HELO y\r\n", "MAIL FROM:<a@example.com>\r\n",
		"RCPT TO:<alice@lab.test>\r\n", "RCPT TO:<bob@lab.test>\r\n",
		"DATA\r\n", "BDAT 5\r\n", "BDAT 3 LAST\r\n", "RSET\r\n",
		"NOOP\r\n", "VRFY x\r\n", "AUTH PLAIN\r\n", "AUTH LOGIN\r\n",
		"*\r\n", ".\r\n", "\r\n.\r\n", "\n.\n", "\r", "\n", "\0", ".", "<",
		">", "@", "\"", "STARTTLS\r\n", "HELP\r\n", "text line\r\n",
	};
	unsigned int seed = 4242, round;

	drv_open(&D, SVC_SMTP);
	for (round = 0; round < 3000; round++) {
		char junk[64];
		const char *r;
		size_t n;

		if (D.io.close || D.io.starttls) {
			if (D.io.starttls && !D.io.close) {
				drv_tls(&D);
			} else {
				drv_close(&D);
				drv_open(&D, SVC_SMTP);
			}
		}
		if (rand_r(&seed) % 4 == 0) {
			n = (size_t)(rand_r(&seed) % sizeof(junk));
			for (size_t i = 0; i < n; i++)
				junk[i] = (char)(rand_r(&seed) % 256);
			r = drv_sendn(&D, junk, n);
		} else {
			const char *p = pieces[rand_r(&seed) % (sizeof(pieces) / sizeof(pieces[0]))];

			r = drv_sendn(&D, p, p[0] == '\0' ? 1 : strlen(p));
		}
		replies_well_formed(r);
	}
	/* a DATA or BDAT in progress ends; the session still answers */
	drv_close(&D);
	mx_ehlo();
	still_serving();
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("smtp-session");
	TCase *tc = tcase_create("commands");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_greeting);
	tcase_add_test(tc, test_ehlo_extensions_mx);
	tcase_add_test(tc, test_ehlo_submission_auth);
	tcase_add_test(tc, test_helo);
	tcase_add_test(tc, test_sequence_errors);
	tcase_add_test(tc, test_case_insensitive);
	tcase_add_test(tc, test_unknown_commands_then_421);
	tcase_add_test(tc, test_long_command_line);
	tcase_add_test(tc, test_bare_lf_nul_in_commands);
	tcase_add_test(tc, test_malformed_paths);
	tcase_add_test(tc, test_overlong_literal_path);
	tcase_add_test(tc, test_good_paths);
	tcase_add_test(tc, test_mail_parameters);
	tcase_add_test(tc, test_size_declared_too_big);
	tcase_add_test(tc, test_too_many_recipients);
	tcase_add_test(tc, test_relay);
	tcase_add_test(tc, test_misc_commands);
	tcase_add_test(tc, test_vrfy_expn_enabled);
	tcase_add_test(tc, test_starttls_discards_pipelined);
	tcase_add_test(tc, test_starttls_unavailable);
	tcase_add_test(tc, test_idle_timeout);
	tcase_add_test(tc, test_shutdown);
	tcase_add_test(tc, test_submission_requires_auth);
	tcase_add_test(tc, test_smtputf8_addresses);
	tcase_add_test(tc, test_trace_visible);
	tcase_add_test(tc, test_random_input);
	suite_add_tcase(s, tc);
	return s;
}
