/* Delivery status notifications (smtpd/dsn.h) and next-hop routing
 * without DNS (smtpd/route.h: routes, address literals, local domains). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/xalloc.h"
#include "smtpd/dsn.h"
#include "smtpd/route.h"
#include "tests/unit/unit.h"

#define ORIG "Return-Path: <x>\r\nFrom: alice@a.test\r\nSubject: s\r\n\r\nbody line\r\n"

static void sample(struct queue_env *e)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->id, sizeof(e->id), "0123456789ABCDEF");
	e->created = 1733400000;
	e->sender = xstrdup("alice@a.test");
	e->envid = xstrdup("ENV1");
	queue_env_add_rcpt(e, "bob@b.test", NULL, "rfc822;bob@b.test");
	e->rcpts[0].state = QR_FAILED;
	queue_rcpt_set_error(&e->rcpts[0], "b.test[127.0.0.1]:25: 550 5.1.1 no such\n5.1.1 user (in reply to RCPT TO)");
	queue_env_add_rcpt(e, "carol@b.test", "FAILURE,DELAY", NULL);
	e->rcpts[1].state = QR_FAILED;
	queue_rcpt_set_error(&e->rcpts[1], "4.4.7 Gave up after 9 attempts over 432000 s; last: b.test: 421 4.4.1 Connection refused");
	queue_env_add_rcpt(e, "dave@b.test", "NEVER", NULL);
	e->rcpts[2].state = QR_FAILED;
	queue_env_add_rcpt(e, "erin@b.test", NULL, NULL);
	e->rcpts[3].state = QR_SENT;
}

START_TEST(test_dsn_fields)
{
	struct queue_env e;
	struct buf out = BUF_INIT(BUF_UNLIMITED);
	const char *t;

	sample(&e);
	ck_assert(dsn_wants_failure(&e.rcpts[0]));
	ck_assert(dsn_wants_failure(&e.rcpts[1]));
	ck_assert(!dsn_wants_failure(&e.rcpts[2]));
	ck_assert_uint_eq(dsn_build(&e, "mx.a.test", ORIG, strlen(ORIG), 1733401000,
				    &out), 2);
	t = buf_cstr(&out);
	ck_assert_ptr_nonnull(strstr(t, "\r\nFrom: Mail Delivery System <MAILER-DAEMON@mx.a.test>\r\n"));
	ck_assert_ptr_nonnull(strstr(t, "\r\nTo: <alice@a.test>\r\n"));
	ck_assert_ptr_nonnull(strstr(t, "Content-Type: multipart/report; report-type=delivery-status;\r\n"));
	ck_assert_ptr_nonnull(strstr(t, "Reporting-MTA: dns; mx.a.test\r\n"));
	ck_assert_ptr_nonnull(strstr(t, "Original-Envelope-Id: ENV1\r\n"));
	ck_assert_ptr_nonnull(strstr(t, "Arrival-Date: Thu, 5 Dec 2024 12:00:00 +0000\r\n"));
	ck_assert_ptr_nonnull(strstr(t,
		"\r\n\r\nFinal-Recipient: rfc822; bob@b.test\r\n"
		"Original-Recipient: rfc822;bob@b.test\r\n"
		"Action: failed\r\nStatus: 5.1.1\r\n"
		"Diagnostic-Code: smtp; 550 5.1.1 no such 5.1.1 user\r\n"
		"Last-Attempt-Date: Thu, 5 Dec 2024 12:16:40 +0000\r\n"));
	ck_assert_ptr_nonnull(strstr(t,
		"\r\n\r\nFinal-Recipient: rfc822; carol@b.test\r\n"
		"Action: failed\r\nStatus: 4.4.7\r\n"
		"Diagnostic-Code: smtp; 421 4.4.1 Connection refused\r\n"));
	/* NEVER and the delivered recipient are not reported */
	ck_assert_ptr_null(strstr(t, "dave@b.test"));
	ck_assert_ptr_null(strstr(t, "erin@b.test"));
	/* RET absent: the header only, as text/rfc822-headers */
	ck_assert_ptr_nonnull(strstr(t, "Content-Type: text/rfc822-headers\r\n\r\n"
				     "Return-Path: <x>\r\nFrom: alice@a.test\r\nSubject: s\r\n\r\n"));
	ck_assert_ptr_null(strstr(t, "body line"));
	/* lines end in CRLF and the last boundary closes */
	for (const char *p = t; (p = strchr(p, '\n')) != NULL; p++)
		ck_assert(p[-1] == '\r');
	ck_assert_ptr_nonnull(strstr(t, "\r\n--0123456789ABCDEF.1733401000/mx.a.test--\r\n"));
	buf_free(&out);

	/* RET=FULL: the whole message */
	e.ret = xstrdup("FULL");
	buf_init(&out, BUF_UNLIMITED);
	dsn_build(&e, "mx.a.test", ORIG, strlen(ORIG), 1733401000, &out);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&out), "Content-Type: message/rfc822\r\n\r\n" ORIG));
	buf_free(&out);

	/* nobody wants one: nothing */
	e.rcpts[0].state = e.rcpts[1].state = QR_REPORTED;
	buf_init(&out, BUF_UNLIMITED);
	ck_assert_uint_eq(dsn_build(&e, "mx.a.test", ORIG, strlen(ORIG), 1, &out), 0);
	ck_assert_uint_eq(out.len, 0);
	buf_free(&out);
	queue_env_free(&e);
}
END_TEST

START_TEST(test_dsn_kinds)
{
	struct queue_env e = { 0 }, back;
	struct dsn_params dp = { "mx.a.test", 1733401000, DSN_DELAYED, 1733800000 };
	struct buf out = BUF_INIT(BUF_UNLIMITED), text = BUF_INIT(BUF_UNLIMITED);
	char id1[QUEUE_ID_LEN + 1], id2[QUEUE_ID_LEN + 1], err[128];

	snprintf(e.id, sizeof(e.id), "0123456789ABCDEF");
	e.created = 1733400000;
	e.sender = xstrdup("alice@a.test");
	e.ret = xstrdup("FULL");
	queue_env_add_rcpt(&e, "late@b.test", NULL, NULL);
	queue_env_add_rcpt(&e, "never@b.test", "NEVER", NULL);
	queue_env_add_rcpt(&e, "fail@b.test", "FAILURE", NULL);
	queue_env_add_rcpt(&e, "ok@b.test", "SUCCESS", "rfc822;OK@b.test");
	for (size_t i = 0; i < 3; i++) {
		e.rcpts[i].attempts = 2;
		queue_rcpt_set_error(&e.rcpts[i], "b.test[127.0.0.1]:25: 451 4.4.1 later");
	}
	e.rcpts[3].state = QR_SUCCEEDED;
	queue_rcpt_set_error(&e.rcpts[3], "b.test[127.0.0.1]:25: 250 2.0.0 queued as X");
	/* NOTIFY absent: FAILURE and DELAY; NEVER and FAILURE alone: no delay */
	ck_assert(dsn_covers(&e.rcpts[0], DSN_DELAYED));
	ck_assert(!dsn_covers(&e.rcpts[1], DSN_DELAYED));
	ck_assert(!dsn_covers(&e.rcpts[2], DSN_DELAYED));
	ck_assert(!dsn_wants(&e.rcpts[0], "SUCCESS"));
	ck_assert(dsn_wants(&e.rcpts[3], "success"));
	ck_assert_uint_eq(dsn_build_kind(&e, &dp, ORIG, strlen(ORIG), &out), 1);
	ck_assert_ptr_nonnull(strstr(out.data, "Subject: Delayed Mail (still being retried)\r\n"));
	ck_assert_ptr_nonnull(strstr(out.data, "Final-Recipient: rfc822; late@b.test\r\n"
				     "Action: delayed\r\nStatus: 4.4.1\r\n"
				     "Diagnostic-Code: smtp; 451 4.4.1 later\r\n"));
	ck_assert_ptr_nonnull(strstr(out.data, "Will-Retry-Until: "));
	/* RET=FULL is for failures: a delay warning returns the header */
	ck_assert_ptr_nonnull(strstr(out.data, "Content-Type: text/rfc822-headers"));
	ck_assert_ptr_null(strstr(out.data, "never@"));
	buf_clear(&out);
	dp.kind = DSN_RELAYED;
	ck_assert_uint_eq(dsn_build_kind(&e, &dp, ORIG, strlen(ORIG), &out), 1);
	ck_assert_ptr_nonnull(strstr(out.data, "Final-Recipient: rfc822; ok@b.test\r\n"
				     "Original-Recipient: rfc822;OK@b.test\r\n"
				     "Action: relayed\r\nStatus: 2.0.0\r\n"
				     "Diagnostic-Code: smtp; 250 2.0.0 queued as X\r\n"));
	ck_assert_ptr_null(strstr(out.data, "Will-Retry-Until"));
	/* the envelope keeps the new state and the warning */
	e.warned = true;
	queue_env_format(&e, &text);
	ck_assert_ptr_nonnull(strstr(text.data, "warned yes\n"));
	ck_assert_ptr_nonnull(strstr(text.data, "rcpt succeeded 0 0 ok@b.test"));
	ck_assert_int_eq(queue_env_parse(text.data, text.len, &back, err, sizeof(err)), 0);
	ck_assert(back.warned);
	ck_assert_int_eq(back.rcpts[3].state, QR_SUCCEEDED);
	ck_assert(!queue_env_finished(&back));
	queue_env_free(&back);
	/* one id per report kind */
	queue_report_id(e.id, 'd', 0, id1);
	queue_report_id(e.id, 's', 0, id2);
	ck_assert_str_ne(id1, id2);
	queue_bounce_id(e.id, 0, id2);
	ck_assert_str_ne(id1, id2);
	queue_report_id(e.id, 'f', 0, id1);
	ck_assert_str_eq(id1, id2);
	buf_free(&out);
	buf_free(&text);
	queue_env_free(&e);
}
END_TEST

START_TEST(test_routes_without_dns)
{
	struct config cfg;
	struct route r;
	char err[256];

	config_defaults(&cfg, "/srv/x");
	ck_assert_int_eq(config_parse(&cfg, "t", "domains = a.test\nport_smtp = 2525\n"
				      "route b.test = 127.0.0.1:20025\n"
				      "route c.test = [::1]\n", err, sizeof(err)), 0);
	ck_assert_uint_eq(route_lookup(&cfg, "B.test", &r), 1);
	ck_assert_str_eq(r.hops[0].addr, "127.0.0.1");
	ck_assert_int_eq(r.hops[0].port, 20025);
	ck_assert_uint_eq(route_lookup(&cfg, "c.test", &r), 1);
	ck_assert_str_eq(r.hops[0].addr, "::1");
	ck_assert_int_eq(r.hops[0].port, 25);
	/* RFC 5321 4.1.3 address literals */
	ck_assert_uint_eq(route_lookup(&cfg, "[127.0.0.2]", &r), 1);
	ck_assert_str_eq(r.hops[0].addr, "127.0.0.2");
	ck_assert_uint_eq(route_lookup(&cfg, "[IPv6:::1]", &r), 1);
	ck_assert_str_eq(r.hops[0].addr, "::1");
	ck_assert_uint_eq(route_lookup(&cfg, "[nonsense]", &r), 0);
	ck_assert(r.permanent);
	ck_assert_str_eq(r.error, "5.1.2 Bad address literal [nonsense]");
	/* a local domain (a bounce to a local sender): our own MX port */
	ck_assert_uint_eq(route_lookup(&cfg, "a.test", &r), 1);
	ck_assert_str_eq(r.hops[0].addr, "127.0.0.1");
	ck_assert_int_eq(r.hops[0].port, 2525);
	cfg.port[SVC_SMTP] = 0;
	ck_assert_uint_eq(route_lookup(&cfg, "a.test", &r), 0);
	ck_assert(!r.permanent);
	config_free(&cfg);
}
END_TEST

/* The lab DNS answers before the resolver: nothing here reaches a DNS
 * server (dns_server is a closed loopback port, for what is not lab). */
START_TEST(test_routes_lab_dns)
{
	struct config cfg;
	struct route r;
	char err[256];

	config_defaults(&cfg, "/srv/x");
	ck_assert_int_eq(config_parse(&cfg, "t", "domains = a.test\n"
				      "relay_port = 2525\ndns_server = 127.0.0.1:1\n"
				      "dns b.test = MX 20 mx2.b.test\n"
				      "dns b.test = MX 10 mx1.b.test\n"
				      "dns mx1.b.test = A 127.0.0.2\n"
				      "dns mx2.b.test = A 127.0.0.1\n"
				      "dns mx2.b.test = AAAA ::1\n"
				      "dns plain.test = AAAA ::1\n"
				      "dns null.test = MX 0 .\n"
				      "dns dangling.test = MX 10 gone.dangling.test\n"
				      "dns txtonly.test = TXT hello\n"
				      "dns r.test = A 127.0.0.3\n"
				      "route routed.test = r.test:2626\n",
				      err, sizeof(err)), 0);
	/* preference order, then each host's A before AAAA */
	ck_assert_uint_eq(route_lookup(&cfg, "b.test", &r), 3);
	ck_assert_str_eq(r.hops[0].host, "mx1.b.test");
	ck_assert_str_eq(r.hops[0].addr, "127.0.0.2");
	ck_assert_int_eq(r.hops[0].port, 2525);
	ck_assert_str_eq(r.hops[1].addr, "127.0.0.1");
	ck_assert_str_eq(r.hops[2].addr, "::1");
	/* RFC 5321 5.1: no MX, the address */
	ck_assert_uint_eq(route_lookup(&cfg, "plain.test", &r), 1);
	ck_assert_str_eq(r.hops[0].addr, "::1");
	/* RFC 7505: null MX, a permanent failure */
	ck_assert_uint_eq(route_lookup(&cfg, "null.test", &r), 0);
	ck_assert(r.permanent);
	ck_assert_str_eq(r.error, "5.1.10 Domain null.test accepts no mail (null MX, RFC 7505)");
	/* a name under a lab name without records does not exist */
	ck_assert_uint_eq(route_lookup(&cfg, "nosuch.b.test", &r), 0);
	ck_assert(r.permanent);
	ck_assert_str_eq(r.error, "5.1.2 Domain nosuch.b.test does not exist");
	ck_assert_uint_eq(route_lookup(&cfg, "dangling.test", &r), 0);
	ck_assert(r.permanent);
	ck_assert_str_eq(r.error, "5.4.4 The MX hosts of dangling.test have no address");
	ck_assert_uint_eq(route_lookup(&cfg, "txtonly.test", &r), 0);
	ck_assert(r.permanent);
	ck_assert_str_eq(r.error, "5.1.2 Domain txtonly.test has no MX and no address");
	/* a route's host may be a lab name */
	ck_assert_uint_eq(route_lookup(&cfg, "routed.test", &r), 1);
	ck_assert_str_eq(r.hops[0].addr, "127.0.0.3");
	ck_assert_int_eq(r.hops[0].port, 2626);
	/* not the lab's: the resolver, here a closed port: try again later */
	ck_assert_uint_eq(route_lookup(&cfg, "elsewhere.test", &r), 0);
	ck_assert(!r.permanent);
	config_free(&cfg);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("smtp-dsn");
	TCase *tc = tcase_create("dsn");

	tcase_add_test(tc, test_dsn_fields);
	tcase_add_test(tc, test_dsn_kinds);
	tcase_add_test(tc, test_routes_without_dns);
	tcase_add_test(tc, test_routes_lab_dns);
	suite_add_tcase(s, tc);
	return s;
}
