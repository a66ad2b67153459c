/* The relay client's state machine (smtpd/client.h), fed scripted server
 * replies with no socket: EHLO and HELO, STARTTLS or not, PIPELINING on
 * and off, multi-line replies, 2xx/4xx/5xx per recipient, SIZE, 8BITMIME,
 * 421 and malformed replies, a lost connection, dot-stuffing, and the RSET
 * a reused idle connection begins with. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpd/client.h"
#include "tests/unit/unit.h"

static struct smtp_client C;
static struct client_result results[4];
static const char *rcpts[] = { "bob@b.test", "carol@b.test", "dave@b.test" };
static struct client_txn T;

static void setup(void)
{
	memset(results, 0, sizeof(results));
	memset(&T, 0, sizeof(T));
	T.sender = "alice@a.test";
	T.rcpts = rcpts;
	T.n_rcpts = 2;
	T.body = "Subject: x\r\n\r\nhi\r\n";
	T.body_len = strlen(T.body);
	T.results = results;
}

static void teardown(void)
{
	for (size_t i = 0; i < 4; i++)
		free(results[i].text);
	client_free(&C);
}

/* What the client wants sent (and forget it). */
static char *sent(void)
{
	static char copy[8192];

	snprintf(copy, sizeof(copy), "%s", buf_cstr(&C.out));
	buf_clear(&C.out);
	return copy;
}

/* Feeds reply lines separated by "\n"; returns the last event. */
static enum client_event feed(const char *lines)
{
	enum client_event ev = CE_NONE;
	const char *p = lines;

	while (*p != '\0') {
		size_t len = strcspn(p, "\n");

		ev = client_line(&C, p, len);
		p += len + (p[len] == '\n');
	}
	return ev;
}

/* Greeting and EHLO answered with `ehlo_reply`; CE_READY expected. */
static void ready(bool tls_possible, const char *ehlo_reply)
{
	client_init(&C, "a.test", tls_possible);
	ck_assert_int_eq(feed("220 b.test ESMTP"), CE_NONE);
	ck_assert_str_eq(sent(), "EHLO a.test\r\n");
	ck_assert_int_eq(feed(ehlo_reply), CE_READY);
	ck_assert_str_eq(sent(), "");
}

START_TEST(test_pipelining_starttls_per_rcpt)
{
	client_init(&C, "a.test", true);
	ck_assert_int_eq(feed("220-b.test ESMTP\n220 welcome"), CE_NONE);
	ck_assert_str_eq(sent(), "EHLO a.test\r\n");
	/* a multi-line reply is one reply */
	ck_assert_int_eq(feed("250-b.test\n250-PIPELINING\n250-SIZE 1000"), CE_NONE);
	ck_assert_str_eq(sent(), "");
	ck_assert_int_eq(feed("250 STARTTLS"), CE_NONE);
	ck_assert_str_eq(sent(), "STARTTLS\r\n");
	ck_assert_int_eq(feed("220 2.0.0 go ahead"), CE_TLS);
	client_tls_done(&C);
	ck_assert(C.tls);
	ck_assert_str_eq(sent(), "EHLO a.test\r\n");
	ck_assert_int_eq(feed("250-b.test\n250-PIPELINING\n250-8BITMIME\n250 SIZE 1000"),
			 CE_READY);
	ck_assert(C.pipelining && C.eightbitmime && !C.starttls);
	ck_assert_uint_eq(C.max_size, 1000);
	T.body = ".\r\nline\r\n..two\r\n";
	T.body_len = strlen(T.body);
	T.body_8bit = true;
	ck_assert_int_eq(client_start(&C, &T), CE_NONE);
	/* RFC 2920: everything up to DATA in one go */
	ck_assert_str_eq(sent(), "MAIL FROM:<alice@a.test> SIZE=16 BODY=8BITMIME\r\n"
			 "RCPT TO:<bob@b.test>\r\nRCPT TO:<carol@b.test>\r\nDATA\r\n");
	ck_assert_int_eq(feed("250 2.1.0 ok\n250 2.1.5 ok\n550-5.1.1 no such\n550 5.1.1 user"),
			 CE_NONE);
	ck_assert_int_eq(feed("354 go"), CE_NONE);
	ck_assert_str_eq(sent(), "..\r\nline\r\n...two\r\n.\r\n");
	ck_assert(C.long_wait);
	ck_assert_int_eq(feed("250 2.0.0 queued as X"), CE_TXN_DONE);
	ck_assert(!C.long_wait);
	ck_assert_int_eq(results[0].code, 250);
	ck_assert_str_eq(results[0].text, "250 2.0.0 queued as X (in reply to end of data)");
	ck_assert_int_eq(results[1].code, 550);
	ck_assert_str_eq(results[1].text,
			 "550 5.1.1 no such\n5.1.1 user (in reply to RCPT TO)");
	ck_assert(client_ready(&C));
	client_quit(&C);
	ck_assert_str_eq(sent(), "QUIT\r\n");
	ck_assert_int_eq(feed("221 2.0.0 bye"), CE_CLOSE);
	ck_assert_ptr_null(C.error);
}
END_TEST

START_TEST(test_no_pipelining_no_starttls)
{
	/* STARTTLS offered, but this side has no TLS: not used */
	ready(false, "250-b.test\n250-STARTTLS\n250 SIZE");
	ck_assert(!C.pipelining);
	T.n_rcpts = 3;
	ck_assert_int_eq(client_start(&C, &T), CE_NONE);
	ck_assert_str_eq(sent(), "MAIL FROM:<alice@a.test> SIZE=18\r\n");
	ck_assert_int_eq(feed("250 ok"), CE_NONE);
	ck_assert_str_eq(sent(), "RCPT TO:<bob@b.test>\r\n");
	ck_assert_int_eq(feed("451 4.3.0 later"), CE_NONE);
	ck_assert_str_eq(sent(), "RCPT TO:<carol@b.test>\r\n");
	ck_assert_int_eq(feed("250 ok"), CE_NONE);
	ck_assert_str_eq(sent(), "RCPT TO:<dave@b.test>\r\n");
	ck_assert_int_eq(feed("550 5.1.1 unknown"), CE_NONE);
	ck_assert_str_eq(sent(), "DATA\r\n");
	ck_assert_int_eq(feed("354 go"), CE_NONE);
	ck_assert_str_eq(sent(), "Subject: x\r\n\r\nhi\r\n.\r\n");
	ck_assert_int_eq(feed("250 done"), CE_TXN_DONE);
	ck_assert_int_eq(results[0].code, 451);
	ck_assert_int_eq(results[1].code, 250);
	ck_assert_int_eq(results[2].code, 550);
	/* the connection takes a second message */
	ck_assert(client_ready(&C));
	free(results[0].text);
	free(results[1].text);
	free(results[2].text);
	memset(results, 0, sizeof(results));
	T.n_rcpts = 1;
	ck_assert_int_eq(client_start(&C, &T), CE_NONE);
	ck_assert_str_eq(sent(), "MAIL FROM:<alice@a.test> SIZE=18\r\n");
}
END_TEST

START_TEST(test_dsn_parameters_relayed)
{
	static const char *notify[] = { "SUCCESS,FAILURE", NULL };
	static const char *orcpt[] = { NULL, "rfc822;carol@b.test" };

	T.ret = "HDRS";
	T.envid = "QQ+2B1";
	T.notify = notify;
	T.orcpt = orcpt;
	/* RFC 3461: only to a server that offers DSN */
	ready(true, "250-b.test\n250 PIPELINING");
	client_start(&C, &T);
	ck_assert_str_eq(sent(), "MAIL FROM:<alice@a.test>\r\nRCPT TO:<bob@b.test>\r\n"
			 "RCPT TO:<carol@b.test>\r\nDATA\r\n");
	client_free(&C);
	ready(true, "250-b.test\n250-DSN\n250 PIPELINING");
	client_start(&C, &T);
	ck_assert_str_eq(sent(), "MAIL FROM:<alice@a.test> RET=HDRS ENVID=QQ+2B1\r\n"
			 "RCPT TO:<bob@b.test> NOTIFY=SUCCESS,FAILURE\r\n"
			 "RCPT TO:<carol@b.test> ORCPT=rfc822;carol@b.test\r\nDATA\r\n");
}
END_TEST

START_TEST(test_helo_fallback_and_8bit)
{
	client_init(&C, "a.test", true);
	feed("220 old.test SMTP");
	ck_assert_str_eq(sent(), "EHLO a.test\r\n");
	ck_assert_int_eq(feed("502 5.5.2 what"), CE_NONE);
	ck_assert_str_eq(sent(), "HELO a.test\r\n");
	ck_assert_int_eq(feed("250 old.test"), CE_READY);
	ck_assert(!C.esmtp);
	/* RFC 6152: no 8-bit data to a server without 8BITMIME */
	T.body_8bit = true;
	ck_assert_int_eq(client_start(&C, &T), CE_TXN_DONE);
	ck_assert_str_eq(sent(), "");
	ck_assert_int_eq(results[0].code, 554);
	ck_assert_int_eq(results[1].code, 554);
	ck_assert(client_ready(&C));
	/* 7-bit goes, with no ESMTP parameters */
	free(results[0].text);
	free(results[1].text);
	T.body_8bit = false;
	ck_assert_int_eq(client_start(&C, &T), CE_NONE);
	ck_assert_str_eq(sent(), "MAIL FROM:<alice@a.test>\r\n");
}
END_TEST

START_TEST(test_size_refused)
{
	ready(true, "250-b.test\n250 SIZE 10");
	ck_assert_int_eq(client_start(&C, &T), CE_TXN_DONE);
	ck_assert_str_eq(sent(), "");
	ck_assert_int_eq(results[0].code, 552);
	ck_assert_str_eq(results[0].text,
			 "552 5.3.4 Message too big for the next hop (its SIZE limit is smaller)");
}
END_TEST

START_TEST(test_mail_refused_then_rset)
{
	ready(true, "250 b.test");
	ck_assert_int_eq(client_start(&C, &T), CE_NONE);
	sent();
	ck_assert_int_eq(feed("451 4.7.1 greylisted"), CE_TXN_DONE);
	ck_assert_int_eq(results[0].code, 451);
	ck_assert_int_eq(results[1].code, 451);
	ck_assert_str_eq(results[1].text, "451 4.7.1 greylisted (in reply to MAIL FROM)");
	ck_assert(!client_ready(&C));
	ck_assert_str_eq(sent(), "RSET\r\n");
	ck_assert_int_eq(feed("250 ok"), CE_READY);
}
END_TEST

START_TEST(test_pipelined_all_refused)
{
	ready(true, "250-b.test\n250 PIPELINING");
	ck_assert_int_eq(client_start(&C, &T), CE_NONE);
	sent();
	feed("250 ok\n550 5.1.1 no\n551 5.1.6 moved");
	/* RFC 2920 3.1: DATA fails when no recipient was accepted */
	ck_assert_int_eq(feed("554 5.5.1 no valid recipients"), CE_TXN_DONE);
	ck_assert_int_eq(results[0].code, 550);
	ck_assert_int_eq(results[1].code, 551);
	ck_assert_str_eq(sent(), "RSET\r\n");
	ck_assert_int_eq(feed("250 ok"), CE_READY);
	/* a server that says 354 anyway gets an empty message */
	free(results[0].text);
	free(results[1].text);
	memset(results, 0, sizeof(results));
	client_start(&C, &T);
	sent();
	feed("250 ok\n550 5.1.1 no\n550 5.1.1 no");
	ck_assert_int_eq(feed("354 go"), CE_NONE);
	ck_assert_str_eq(sent(), ".\r\n");
	ck_assert_int_eq(feed("554 5.5.1 nothing"), CE_TXN_DONE);
	ck_assert_int_eq(results[0].code, 550);
}
END_TEST

START_TEST(test_data_refused_and_dot_failure)
{
	ready(true, "250-b.test\n250 PIPELINING");
	client_start(&C, &T);
	sent();
	feed("250 ok\n250 ok\n250 ok");
	ck_assert_int_eq(feed("451 4.3.0 no DATA now"), CE_TXN_DONE);
	ck_assert_int_eq(results[0].code, 451);
	ck_assert_int_eq(results[1].code, 451);
	feed("250 reset");
	free(results[0].text);
	free(results[1].text);
	memset(results, 0, sizeof(results));
	client_start(&C, &T);
	sent();
	feed("250 ok\n250 ok\n250 ok\n354 go");
	sent();
	ck_assert_int_eq(feed("552 5.3.4 too big after all"), CE_TXN_DONE);
	ck_assert_int_eq(results[0].code, 552);
	ck_assert_int_eq(results[1].code, 552);
	ck_assert(client_ready(&C));
}
END_TEST

START_TEST(test_421_and_malformed)
{
	ready(true, "250 b.test");
	client_start(&C, &T);
	sent();
	feed("250 ok");
	sent();
	/* RFC 5321 3.8: 421 ends the session; the message waits */
	ck_assert_int_eq(feed("421 4.3.2 shutting down"), CE_CLOSE);
	ck_assert_int_eq(results[0].code, 421);
	ck_assert_int_eq(results[1].code, 421);
	ck_assert_str_eq(C.error, "421 4.3.2 shutting down (in reply to RCPT TO)");
	client_free(&C);

	static const char *const bad[] = {
		"hello", "25", "2500 x", "650 no", "250x", "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		client_init(&C, "a.test", true);
		ck_assert_int_eq(client_line(&C, bad[i], strlen(bad[i])), CE_CLOSE);
		ck_assert_str_eq(C.error, "421 4.5.0 Malformed reply from the server");
		client_free(&C);
	}
	/* the code changes inside a multi-line reply */
	client_init(&C, "a.test", true);
	ck_assert_int_eq(feed("220-hi"), CE_NONE);
	ck_assert_int_eq(feed("250 hi"), CE_CLOSE);
	client_free(&C);
	/* a 554 greeting: QUIT, and the session failed */
	client_init(&C, "a.test", true);
	ck_assert_int_eq(feed("554 5.7.1 go away"), CE_NONE);
	ck_assert_str_eq(sent(), "QUIT\r\n");
	ck_assert_str_eq(C.error, "554 5.7.1 go away (in reply to the greeting)");
	ck_assert_int_eq(feed("221 bye"), CE_CLOSE);
}
END_TEST

START_TEST(test_abort)
{
	ready(true, "250 b.test");
	client_start(&C, &T);
	sent();
	feed("250 ok\n250 ok");
	client_abort(&C, "connection lost");
	ck_assert_int_eq(results[0].code, 421);
	ck_assert_str_eq(results[0].text, "connection lost");
	ck_assert_int_eq(results[1].code, 421);
	ck_assert_int_eq(client_line(&C, "250 ok", 6), CE_CLOSE);
}
END_TEST

/* A connection taken again after it sat idle: its transaction begins with
 * RSET, pipelined with MAIL when the server offers PIPELINING. */
START_TEST(test_reset_before_reuse_pipelined)
{
	ready(false, "250-b.test\n250 PIPELINING");
	T.n_rcpts = 1;
	client_reset_next(&C);
	ck_assert_int_eq(client_start(&C, &T), CE_NONE);
	ck_assert_str_eq(sent(), "RSET\r\nMAIL FROM:<alice@a.test>\r\n"
			 "RCPT TO:<bob@b.test>\r\nDATA\r\n");
	ck_assert(!C.answered);
	ck_assert_int_eq(feed("250 2.0.0 reset"), CE_NONE);
	ck_assert(!C.answered);
	ck_assert_int_eq(feed("250 ok\n250 ok\n354 go"), CE_NONE);
	ck_assert(C.answered);
	ck_assert_str_eq(sent(), "Subject: x\r\n\r\nhi\r\n.\r\n");
	ck_assert_int_eq(feed("250 2.0.0 queued"), CE_TXN_DONE);
	ck_assert_int_eq(results[0].code, 250);
	/* only the one transaction began with it */
	free(results[0].text);
	results[0].text = NULL;
	ck_assert_int_eq(client_start(&C, &T), CE_NONE);
	ck_assert_str_eq(sent(), "MAIL FROM:<alice@a.test>\r\n"
			 "RCPT TO:<bob@b.test>\r\nDATA\r\n");
}
END_TEST

START_TEST(test_reset_before_reuse_one_by_one)
{
	ready(false, "250-b.test\n250 SIZE");
	T.n_rcpts = 1;
	client_reset_next(&C);
	ck_assert_int_eq(client_start(&C, &T), CE_NONE);
	ck_assert_str_eq(sent(), "RSET\r\n");
	ck_assert_int_eq(feed("250 2.0.0 reset"), CE_NONE);
	ck_assert_str_eq(sent(), "MAIL FROM:<alice@a.test> SIZE=18\r\n");
	ck_assert_int_eq(feed("250 ok"), CE_NONE);
	ck_assert_str_eq(sent(), "RCPT TO:<bob@b.test>\r\n");
}
END_TEST

/* A refused RSET: the session is not trusted (4xx, closed), and nothing
 * of the message was taken (answered stays false: it may go again over
 * another connection at once); a lost connection before any reply too. */
START_TEST(test_reset_refused_or_lost)
{
	ready(false, "250-b.test\n250 SIZE");
	T.n_rcpts = 1;
	client_reset_next(&C);
	client_start(&C, &T);
	sent();
	ck_assert_int_eq(feed("502 5.5.2 what"), CE_CLOSE);
	ck_assert(!C.answered);
	ck_assert_int_eq(results[0].code, 421);
	ck_assert_str_eq(results[0].text, "502 5.5.2 what (in reply to RSET)");
	client_free(&C);
	free(results[0].text);
	memset(results, 0, sizeof(results));

	ready(false, "250-b.test\n250 PIPELINING");
	client_reset_next(&C);
	client_start(&C, &T);
	sent();
	client_abort(&C, "421 4.4.2 Connection closed by the server");
	ck_assert(!C.answered);
	ck_assert_int_eq(results[0].code, 421);
}
END_TEST

START_TEST(test_dot_stuff)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "", "\r\n.\r\n" + 2 },
		{ "a\r\n", "a\r\n.\r\n" },
		{ "a", "a\r\n.\r\n" },
		{ ".\r\n", "..\r\n.\r\n" },
		{ "a\r\n.\r\nb\r\n", "a\r\n..\r\nb\r\n.\r\n" },
		/* a lone "." between bare LFs is a line of its own */
		{ "a\n.\nb", "a\r\n..\r\nb\r\n.\r\n" },
		{ "..x\r\n.", "...x\r\n..\r\n.\r\n" },
		{ "x.\r\ny", "x.\r\ny\r\n.\r\n" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf out = BUF_INIT(BUF_UNLIMITED);

		client_dot_stuff(cases[i].in, strlen(cases[i].in), &out);
		ck_assert_msg(strcmp(buf_cstr(&out), cases[i].out) == 0,
			      "case %zu: got \"%s\"", i, buf_cstr(&out));
		buf_free(&out);
	}
	client_init(&C, "a.test", false);
}
END_TEST

/* A smart host: STARTTLS required, then AUTH PLAIN (else LOGIN); a
 * refusal of either ends the session with a 4xx (the mail waits), and
 * no password goes out without TLS (RFC 4954 4, RFC 4616 2). */
START_TEST(test_smarthost_auth)
{
	/* PLAIN after TLS */
	client_init(&C, "a.test", true);
	client_set_smarthost(&C, true, "bob", "pw");
	feed("220 b.test ESMTP");
	sent();
	ck_assert_int_eq(feed("250-b.test\n250-AUTH LOGIN PLAIN\n250 STARTTLS"), CE_NONE);
	ck_assert_str_eq(sent(), "STARTTLS\r\n");
	ck_assert_int_eq(feed("220 go"), CE_TLS);
	client_tls_done(&C);
	ck_assert_str_eq(sent(), "EHLO a.test\r\n");
	ck_assert_int_eq(feed("250-b.test\n250 AUTH PLAIN LOGIN"), CE_NONE);
	ck_assert_int_eq(C.secret_visible, 11);
	/* base64("\0bob\0pw") */
	ck_assert_str_eq(sent(), "AUTH PLAIN AGJvYgBwdw==\r\n");
	ck_assert_int_eq(feed("235 2.7.0 ok"), CE_READY);
	client_free(&C);

	/* LOGIN when PLAIN is not offered */
	client_init(&C, "a.test", true);
	client_set_smarthost(&C, true, "bob", "pw");
	feed("220 b.test ESMTP");
	feed("250-b.test\n250 STARTTLS");
	feed("220 go");
	client_tls_done(&C);
	sent();
	ck_assert_int_eq(feed("250-b.test\n250 AUTH LOGIN"), CE_NONE);
	ck_assert_str_eq(sent(), "AUTH LOGIN\r\n");
	ck_assert_int_eq(feed("334 VXNlcm5hbWU6"), CE_NONE);
	ck_assert_str_eq(sent(), "Ym9i\r\n");
	ck_assert_int_eq(feed("334 UGFzc3dvcmQ6"), CE_NONE);
	ck_assert_str_eq(sent(), "cHc=\r\n");
	ck_assert_int_eq(feed("535 5.7.8 bad credentials"), CE_NONE);
	ck_assert_str_eq(sent(), "QUIT\r\n");
	ck_assert_str_eq(C.error, "535 5.7.8 bad credentials (in reply to AUTH)");
	ck_assert_int_eq(C.error_code, 400);
	client_free(&C);

	/* TLS required, STARTTLS not offered: no MAIL, no AUTH */
	client_init(&C, "a.test", true);
	client_set_smarthost(&C, true, "bob", "pw");
	feed("220 b.test ESMTP");
	sent();
	ck_assert_int_eq(feed("250-b.test\n250 AUTH PLAIN"), CE_NONE);
	ck_assert_str_eq(sent(), "QUIT\r\n");
	ck_assert_int_eq(C.error_code, 400);
	ck_assert_ptr_nonnull(strstr(C.error, "4.7.10 TLS is required"));
	client_free(&C);

	/* STARTTLS refused */
	client_init(&C, "a.test", true);
	client_set_smarthost(&C, true, NULL, NULL);
	feed("220 b.test ESMTP");
	feed("250-b.test\n250 STARTTLS");
	sent();
	ck_assert_int_eq(feed("454 4.7.0 not now"), CE_NONE);
	ck_assert_str_eq(sent(), "QUIT\r\n");
	client_free(&C);

	/* AUTH without required TLS, and no TLS: the password stays home */
	client_init(&C, "a.test", false);
	client_set_smarthost(&C, false, "bob", "pw");
	feed("220 b.test ESMTP");
	sent();
	ck_assert_int_eq(feed("250-b.test\n250 AUTH PLAIN"), CE_NONE);
	ck_assert_str_eq(sent(), "QUIT\r\n");
	ck_assert_ptr_nonnull(strstr(C.error, "without TLS"));
}
END_TEST

/* CHUNKING (RFC 3030): the message goes as one BDAT LAST chunk, octets
 * as they are (no dot stuffing), pipelined after the RCPTs when the
 * server pipelines; its reply is the message's. */
START_TEST(test_chunking)
{
	T.body = "Subject: x\r\n\r\n.dot\r\n";
	T.body_len = strlen(T.body);
	ready(false, "250-b.test\n250-PIPELINING\n250 CHUNKING");
	ck_assert_int_eq(client_start(&C, &T), CE_NONE);
	ck_assert_str_eq(sent(), "MAIL FROM:<alice@a.test>\r\n"
			 "RCPT TO:<bob@b.test>\r\nRCPT TO:<carol@b.test>\r\n"
			 "BDAT 20 LAST\r\nSubject: x\r\n\r\n.dot\r\n");
	ck_assert_int_eq(feed("250 ok\n250 ok\n550 5.1.1 no"), CE_NONE);
	ck_assert(C.long_wait);
	ck_assert_int_eq(feed("250 2.0.0 queued"), CE_TXN_DONE);
	ck_assert_int_eq(results[0].code, 250);
	ck_assert_int_eq(results[1].code, 550);
	ck_assert(client_ready(&C));
	client_free(&C);
	free(results[0].text);
	free(results[1].text);
	memset(results, 0, sizeof(results));

	/* without PIPELINING: one step at a time; a refused chunk: RSET */
	ready(false, "250-b.test\n250 CHUNKING");
	client_start(&C, &T);
	ck_assert_str_eq(sent(), "MAIL FROM:<alice@a.test>\r\n");
	feed("250 ok");
	ck_assert_str_eq(sent(), "RCPT TO:<bob@b.test>\r\n");
	feed("250 ok");
	ck_assert_str_eq(sent(), "RCPT TO:<carol@b.test>\r\n");
	feed("250 ok");
	ck_assert_str_eq(sent(), "BDAT 20 LAST\r\nSubject: x\r\n\r\n.dot\r\n");
	ck_assert_int_eq(feed("554 5.6.0 no thanks"), CE_TXN_DONE);
	ck_assert_str_eq(sent(), "RSET\r\n");
	ck_assert_int_eq(results[0].code, 554);
	ck_assert_int_eq(results[1].code, 554);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("smtp-client");
	TCase *tc = tcase_create("client");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_pipelining_starttls_per_rcpt);
	tcase_add_test(tc, test_smarthost_auth);
	tcase_add_test(tc, test_chunking);
	tcase_add_test(tc, test_no_pipelining_no_starttls);
	tcase_add_test(tc, test_dsn_parameters_relayed);
	tcase_add_test(tc, test_helo_fallback_and_8bit);
	tcase_add_test(tc, test_size_refused);
	tcase_add_test(tc, test_mail_refused_then_rset);
	tcase_add_test(tc, test_pipelined_all_refused);
	tcase_add_test(tc, test_data_refused_and_dot_failure);
	tcase_add_test(tc, test_421_and_malformed);
	tcase_add_test(tc, test_abort);
	tcase_add_test(tc, test_dot_stuff);
	tcase_add_test(tc, test_reset_before_reuse_pipelined);
	tcase_add_test(tc, test_reset_before_reuse_one_by_one);
	tcase_add_test(tc, test_reset_refused_or_lost);
	suite_add_tcase(s, tc);
	return s;
}
