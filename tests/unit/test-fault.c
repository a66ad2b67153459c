/* Fault injection (common/fault.h): the rules from maillab.conf and from
 * names, the greylist, and each SMTP fault through the session (with
 * "off means off": the same names and rules change nothing when
 * fault_injection is off). */
#include "tests/unit/test-smtp-drv.h"

#include "common/explain.h"
#include "common/fault.h"
#include "common/log.h"
#include "smtpd/explain.h"

static struct drv d;

/* what the fake I/O layer was asked to wait, and the held job */
static unsigned int after_ms;
static work_fn *after_done;
static void *after_arg;

static void record_after(struct proto_io *io, unsigned int ms, work_fn *done,
			 void *arg)
{
	(void)io;
	after_ms = ms;
	after_done = done;
	after_arg = arg;
}

static void setup(void)
{
	log_open(NULL, false);
	drv_setup(&d);
	fault_greylist_reset();
	after_ms = 0;
	after_done = NULL;
}

static void teardown(void)
{
	drv_teardown(&d);
}

/* maillab.conf holds `text` (over the defaults) */
static void configure(const char *text)
{
	char err[256];

	config_free(&d.cfg);
	config_defaults(&d.cfg, d.dir);
	free(d.cfg.hostname);
	d.cfg.hostname = xstrdup("mx.lab.test");

	ck_assert_msg(config_parse(&d.cfg, "maillab.conf", text, err,
				   sizeof(err)) == 0, "%s", err);
}

static void bad_config(const char *text, const char *why)
{
	char err[256];

	ck_assert_int_eq(config_parse(&d.cfg, "maillab.conf", text, err,
				      sizeof(err)), -1);
	ck_assert_msg(strstr(err, why) != NULL, "error [%s] lacks [%s]", err, why);
}

static void greet(void)
{
	drv_open(&d, SVC_SMTP);
	drv_output(&d);
	ck_reply(drv_send(&d, "EHLO client.example\r\n"), "250");
}

static const char *MSG = "DATA\r\n";
static const char *BODY = "Subject: hi\r\n\r\nhello\r\n.\r\n";

/* --- rules --- */

START_TEST(test_parse_rules)
{
	struct fault f;
	struct buf b = BUF_INIT(BUF_UNLIMITED);
	char err[256];

	ck_assert_int_eq(fault_parse("smtp", "rcpt", "451", &f, err, sizeof(err)), 0);
	ck_assert_int_eq(f.kind, FAULT_REPLY);
	ck_assert_uint_eq(f.arg, 451);
	ck_assert_str_eq(f.cmd, "RCPT");
	ck_assert_int_eq(fault_parse("SMTP", "RCPT", "greylist3", &f, err,
				     sizeof(err)), 0);
	ck_assert_int_eq(f.kind, FAULT_GREYLIST);
	ck_assert_uint_eq(f.arg, 3);
	ck_assert_int_eq(fault_parse("imap", "any", "delay250", &f, err,
				     sizeof(err)), 0);
	ck_assert_str_eq(f.cmd, "*");
	fault_describe(&f, &b);
	ck_assert_str_eq(buf_cstr(&b), "imap * delay250");
	ck_assert_int_eq(fault_parse("smtp", "data-end", "drop", &f, err,
				     sizeof(err)), 0);
	ck_assert_str_eq(f.cmd, "DATA-END");
	ck_assert_int_eq(fault_parse("pop3", "PASS", "in-use", &f, err,
				     sizeof(err)), 0);
	ck_assert_int_eq(fault_parse("imap", "LOGIN", "unavailable", &f, err,
				     sizeof(err)), 0);
	/* each refusal says why */
	ck_assert_int_eq(fault_parse("ftp", "RCPT", "451", &f, err, sizeof(err)), -1);
	ck_assert_int_eq(fault_parse("smtp", "RCPT", "250", &f, err, sizeof(err)), -1);
	ck_assert_int_eq(fault_parse("smtp", "RCPT", "delay0", &f, err, sizeof(err)), -1);
	ck_assert_int_eq(fault_parse("smtp", "RCPT", "delay60001", &f, err,
				     sizeof(err)), -1);
	ck_assert_int_eq(fault_parse("smtp", "MAIL", "greylist2", &f, err,
				     sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "smtp RCPT"));
	ck_assert_int_eq(fault_parse("smtp", "PASS", "in-use", &f, err,
				     sizeof(err)), -1);
	ck_assert_int_eq(fault_parse("pop3", "LOGIN", "unavailable", &f, err,
				     sizeof(err)), -1);
	ck_assert_int_eq(fault_parse("smtp", "R@PT", "451", &f, err, sizeof(err)), -1);
	ck_assert_int_eq(fault_parse("smtp", "RCPT", "delay12x", &f, err,
				     sizeof(err)), -1);
	buf_free(&b);
}
END_TEST

START_TEST(test_config_keys)
{
	ck_assert(!d.cfg.fault_injection);
	ck_assert_uint_eq(d.cfg.n_faults, 0);
	configure("fault_injection = on\n"
		  "fault smtp RCPT = greylist2\n"
		  "fault  pop3   retr = drop\n"
		  "fault imap * = delay100\n");
	ck_assert(d.cfg.fault_injection);
	ck_assert_uint_eq(d.cfg.n_faults, 3);
	ck_assert_str_eq(d.cfg.faults[0], "smtp RCPT greylist2");
	ck_assert_str_eq(d.cfg.faults[1], "pop3 RETR drop");
	ck_assert_str_eq(d.cfg.faults[2], "imap * delay100");
	bad_config("fault = 451\n", "needs a protocol and a command");
	bad_config("fault smtp = 451\n", "PROTOCOL COMMAND");
	bad_config("fault smtp RCPT = 451 452\n", "one action per line");
	bad_config("fault smtp RCPT = 250\n", "not an action");
	bad_config("fault_injection = maybe\n", "bad boolean");
}
END_TEST

START_TEST(test_name_suffix)
{
	struct fault_session fs;
	char name[64];

	configure("fault_injection = on\n");
	drv_open(&d, SVC_POP3);	/* only io matters */
	fault_session_init(&fs, &d.io);
	snprintf(name, sizeof(name), "bob+fault.pass.in-use.retr.drop");
	ck_assert_int_eq(fault_take_name(&fs, &d.io, name), 2);
	ck_assert_str_eq(name, "bob");
	ck_assert_ptr_nonnull(fault_find(&fs, "pass", FAULT_KIND_BIT(FAULT_IN_USE),
					 0, false));
	ck_assert_ptr_null(fault_find(&fs, "USER", ~0u, 0, false));
	/* a suffix that does not parse leaves the name as it was */
	snprintf(name, sizeof(name), "bob+fault.pass");
	ck_assert_int_eq(fault_take_name(&fs, &d.io, name), -1);
	ck_assert_str_eq(name, "bob+fault.pass");
	snprintf(name, sizeof(name), "bob+fault.rcpt.greylist1");
	ck_assert_int_eq(fault_take_name(&fs, &d.io, name), -1);
	/* an address keeps its domain */
	fault_session_free(&fs);
	drv_close(&d);
	drv_open(&d, SVC_SMTP);
	fault_session_init(&fs, &d.io);
	snprintf(name, sizeof(name), "bob+FAULT.rcpt.451@lab.test");
	ck_assert_int_eq(fault_take_name(&fs, &d.io, name), 1);
	ck_assert_str_eq(name, "bob@lab.test");
	/* a quoted local part keeps its closing quote */
	snprintf(name, sizeof(name), "\"bob+fault.rcpt.451\"@lab.test");
	fault_strip_name(name);
	ck_assert_str_eq(name, "\"bob\"@lab.test");
	fault_forget_named(&fs);
	ck_assert_ptr_null(fault_find(&fs, "RCPT", ~0u, 0, false));
	fault_session_free(&fs);
}
END_TEST

START_TEST(test_off_means_off)
{
	struct fault_session fs;
	char name[64];

	/* rules written, injection off: none is loaded, no suffix is taken */
	configure("fault smtp RCPT = 451\nfault smtp * = drop\n");
	drv_open(&d, SVC_SMTP);
	fault_session_init(&fs, &d.io);
	snprintf(name, sizeof(name), "bob+fault.rcpt.451@lab.test");
	ck_assert_int_eq(fault_take_name(&fs, &d.io, name), 0);
	ck_assert_str_eq(name, "bob+fault.rcpt.451@lab.test");
	ck_assert_ptr_null(fault_find(&fs, "RCPT", ~0u, 0, false));
	fault_session_free(&fs);
	drv_output(&d);
	ck_reply(drv_send(&d, "EHLO c\r\n"), "250");
	ck_reply(drv_send(&d, "MAIL FROM:<x+fault.mail.550@example.com>\r\n"), "250 2.1.0");
	/* the sub-address is delivered to bob as always */
	ck_reply(drv_send(&d, "RCPT TO:<bob+fault.rcpt.451@lab.test>\r\n"), "250 2.1.5");
	ck_reply(drv_send(&d, MSG), "354");
	ck_reply(drv_send(&d, BODY), "250 2.0.0");
	ck_assert_int_eq(drv_count(&d, "bob", "new"), 1);
}
END_TEST

START_TEST(test_greylist_table)
{
	ck_assert_uint_eq(fault_greylist("192.0.2.1", "a@x", "b@y", 2), 1);
	ck_assert_uint_eq(fault_greylist("192.0.2.1", "a@x", "b@y", 2), 2);
	ck_assert_uint_eq(fault_greylist("192.0.2.1", "a@x", "b@y", 2), 0);
	ck_assert_uint_eq(fault_greylist("192.0.2.1", "a@x", "b@y", 2), 0);
	/* another triple starts over; the parts do not run together */
	ck_assert_uint_eq(fault_greylist("192.0.2.1", "a@xb", "@y", 2), 1);
	ck_assert_uint_eq(fault_greylist("192.0.2.2", "a@x", "b@y", 2), 1);
}
END_TEST

/* --- SMTP --- */

START_TEST(test_smtp_rcpt_reply_from_config)
{
	configure("fault_injection = on\nfault smtp RCPT = 452\n"
		  "fault smtp MAIL = 550\n");
	greet();
	ck_reply(drv_send(&d, "MAIL FROM:<a@example.com>\r\n"), "550 5.3.0 Injected fault");
	ck_assert_int_eq(d.s->state, SMTP_READY);
	/* the same config for another protocol changes nothing there */
	drv_close(&d);
	configure("fault_injection = on\nfault smtp RCPT = 452\n");
	greet();
	ck_reply(drv_send(&d, "MAIL FROM:<a@example.com>\r\n"), "250");
	ck_reply(drv_send(&d, "RCPT TO:<bob@lab.test>\r\n"), "452 4.3.0 Injected fault");
	ck_reply(drv_send(&d, "RSET\r\n"), "250");
	ck_reply(drv_send(&d, "QUIT\r\n"), "221");
}
END_TEST

START_TEST(test_smtp_greylist)
{
	configure("fault_injection = on\nfault smtp RCPT = greylist2\n");
	for (int attempt = 1; attempt <= 3; attempt++) {
		greet();
		ck_reply(drv_send(&d, "MAIL FROM:<a@example.com>\r\n"), "250");
		if (attempt <= 2) {
			ck_reply(drv_send(&d, "RCPT TO:<bob@lab.test>\r\n"),
				 "451 4.7.1 <bob@lab.test>: Greylisted");
			/* another recipient is its own triple */
			ck_reply(drv_send(&d, "RSET\r\n"), "250");
			drv_close(&d);
			continue;
		}
		ck_reply(drv_send(&d, "RCPT TO:<bob@lab.test>\r\n"), "250 2.1.5");
		ck_reply(drv_send(&d, MSG), "354");
		ck_reply(drv_send(&d, BODY), "250 2.0.0");
	}
	ck_assert_int_eq(drv_count(&d, "bob", "new"), 1);
}
END_TEST

START_TEST(test_smtp_rcpt_by_name)
{
	configure("fault_injection = on\n");
	greet();
	ck_reply(drv_send(&d, "MAIL FROM:<a@example.com>\r\n"), "250");
	ck_reply(drv_send(&d, "RCPT TO:<bob+fault.rcpt.451@lab.test>\r\n"),
		 "451 4.3.0 Injected fault");
	/* the rest of the transaction has the fault too; RSET ends it */
	ck_reply(drv_send(&d, "RCPT TO:<alice@lab.test>\r\n"), "451 4.3.0");
	ck_reply(drv_send(&d, "RSET\r\n"), "250");
	ck_reply(drv_send(&d, "MAIL FROM:<a@example.com>\r\n"), "250");
	ck_reply(drv_send(&d, "RCPT TO:<alice@lab.test>\r\n"), "250 2.1.5");
	/* a suffix that does not parse is an address like any other */
	ck_reply(drv_send(&d, "RCPT TO:<nobody+fault.rcpt@lab.test>\r\n"), "550 5.1.1");
	/* a greylist by name; the recipient is known without the suffix */
	ck_reply(drv_send(&d, "RCPT TO:<bob+fault.rcpt.greylist1@lab.test>\r\n"),
		 "451 4.7.1 <bob@lab.test>");
	ck_reply(drv_send(&d, "RCPT TO:<bob+fault.rcpt.greylist1@lab.test>\r\n"),
		 "250 2.1.5 Recipient <bob@lab.test> OK");
	/* a quoted local part */
	ck_reply(drv_send(&d, "RSET\r\n"), "250");
	ck_reply(drv_send(&d, "MAIL FROM:<a@example.com>\r\n"), "250");
	ck_reply(drv_send(&d, "RCPT TO:<\"bob+fault.rcpt.greylist1\"@lab.test>\r\n"),
		 "451 4.7.1 <\"bob\"@lab.test>");
}
END_TEST

START_TEST(test_smtp_drop_after_data)
{
	configure("fault_injection = on\n");
	greet();
	ck_reply(drv_send(&d, "MAIL FROM:<a@example.com>\r\n"), "250");
	ck_reply(drv_send(&d, "RCPT TO:<bob+fault.data-end.drop@lab.test>\r\n"), "250");
	ck_reply(drv_send(&d, MSG), "354");
	/* no reply at all, the connection closes, nothing is delivered
	 * and no half message is left in tmp/ */
	ck_assert_str_eq(drv_send(&d, BODY), "");
	ck_assert(d.io.close);
	ck_assert_int_eq(drv_count(&d, "bob", "new"), 0);
	ck_assert_int_eq(drv_count(&d, "bob", "tmp"), 0);
	ck_assert_int_le(drv_count(&d, ".tmp", "."), 0);
	drv_close(&d);
	/* the next session delivers */
	greet();
	ck_reply(drv_send(&d, "MAIL FROM:<a@example.com>\r\n"), "250");
	ck_reply(drv_send(&d, "RCPT TO:<bob@lab.test>\r\n"), "250");
	ck_reply(drv_send(&d, MSG), "354");
	ck_reply(drv_send(&d, BODY), "250 2.0.0");
	ck_assert_int_eq(drv_count(&d, "bob", "new"), 1);
}
END_TEST

START_TEST(test_smtp_data_end_reply_and_bye)
{
	configure("fault_injection = on\nfault smtp DATA-END = 554\n"
		  "fault smtp NOOP = bye\n");
	greet();
	ck_reply(drv_send(&d, "MAIL FROM:<a@example.com>\r\n"), "250");
	ck_reply(drv_send(&d, "RCPT TO:<bob@lab.test>\r\n"), "250");
	ck_reply(drv_send(&d, MSG), "354");
	ck_reply(drv_send(&d, BODY), "554 5.3.0 Injected fault");
	ck_assert_int_eq(drv_count(&d, "bob", "new"), 0);
	ck_assert_int_eq(drv_count(&d, "bob", "tmp"), 0);
	ck_assert_int_le(drv_count(&d, ".tmp", "."), 0);
	/* the transaction is over: a new one may start */
	ck_reply(drv_send(&d, "MAIL FROM:<a@example.com>\r\n"), "250");
	ck_reply(drv_send(&d, "NOOP\r\n"), "421 4.3.0");
	ck_assert(d.io.close);
}
END_TEST

START_TEST(test_smtp_delay_waits_for_timer)
{
	const char *r;

	configure("fault_injection = on\nfault smtp RCPT = delay1500\n");
	greet();
	d.io.after = record_after;
	ck_reply(drv_send(&d, "MAIL FROM:<a@example.com>\r\n"), "250");
	/* the reply waits for the I/O layer's timer, nothing sleeps */
	ck_assert_str_eq(drv_send(&d, "RCPT TO:<bob@lab.test>\r\n"), "");
	ck_assert_uint_eq(after_ms, 1500);
	ck_assert_ptr_nonnull(after_done);
	after_done(after_arg);
	r = drv_output(&d);
	ck_reply(r, "250 2.1.5 Recipient <bob@lab.test> OK");
	/* other commands are not delayed */
	after_done = NULL;
	ck_reply(drv_send(&d, MSG), "354");
	ck_assert_ptr_null(after_done);
}
END_TEST

/* A BDAT chunk follows its command whatever happens: a reply rule for
 * BDAT does not apply (its chunk would be read as commands). */
START_TEST(test_smtp_bdat_keeps_framing)
{
	char cmd[64];
	const char *body = "Subject: hi\r\n\r\nhello\r\n";

	configure("fault_injection = on\nfault smtp BDAT = 451\n");
	greet();
	ck_reply(drv_send(&d, "MAIL FROM:<a@example.com>\r\n"), "250");
	ck_reply(drv_send(&d, "RCPT TO:<bob@lab.test>\r\n"), "250");
	snprintf(cmd, sizeof(cmd), "BDAT %zu LAST\r\n%s", strlen(body), body);
	ck_reply(drv_send(&d, cmd), "250 2.0.0");
	ck_reply(drv_send(&d, "NOOP\r\n"), "250");
	ck_assert_int_eq(drv_count(&d, "bob", "new"), 1);
}
END_TEST

START_TEST(test_smtp_mail_by_sender_name)
{
	configure("fault_injection = on\n");
	greet();
	ck_reply(drv_send(&d, "MAIL FROM:<a+fault.mail.421@example.com>\r\n"),
		 "421 4.3.0 mx.lab.test Injected fault");
	ck_assert(d.io.close);
}
END_TEST

/* --- the greeting, AUTH names, BDAT LAST --- */

START_TEST(test_parse_greeting_rules)
{
	struct fault_session fs;
	struct fault f;
	char err[256], name[64];

	ck_assert_int_eq(fault_parse("smtp", "greeting", "554", &f, err, sizeof(err)), 0);
	ck_assert_str_eq(f.cmd, FAULT_GREETING);
	ck_assert_int_eq(fault_parse("smtp", "GREETING", "421", &f, err, sizeof(err)), 0);
	ck_assert_int_eq(fault_parse("smtp", "GREETING", "delay900", &f, err,
				     sizeof(err)), 0);
	ck_assert_int_eq(fault_parse("pop3", "GREETING", "451", &f, err, sizeof(err)), 0);
	ck_assert_int_eq(fault_parse("imap", "GREETING", "unavailable", &f, err,
				     sizeof(err)), 0);
	ck_assert_int_eq(fault_parse("imap", "GREETING", "drop", &f, err, sizeof(err)), 0);
	/* RFC 5321 3.1, 3.8: only 554 or 421 stand for an SMTP greeting */
	ck_assert_int_eq(fault_parse("smtp", "GREETING", "451", &f, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "cannot answer a greeting"));
	ck_assert_int_eq(fault_parse("pop3", "GREETING", "in-use", &f, err,
				     sizeof(err)), -1);
	bad_config("fault_injection = on\nfault smtp GREETING = 550\n",
		   "cannot answer a greeting");
	/* a name comes after the greeting */
	configure("fault_injection = on\n");
	drv_open(&d, SVC_SMTP);
	fault_session_init(&fs, &d.io);
	snprintf(name, sizeof(name), "bob+fault.greeting.drop@lab.test");
	ck_assert_int_eq(fault_take_name(&fs, &d.io, name), -1);
	/* "*" is every command, not the greeting */
	configure("fault_injection = on\nfault smtp * = 554\n");
	fault_session_free(&fs);
	fault_session_init(&fs, &d.io);
	ck_assert_ptr_null(fault_find(&fs, FAULT_GREETING, ~0u, 0, false));
	ck_assert_ptr_nonnull(fault_find(&fs, "HELO", ~0u, 0, false));
	fault_session_free(&fs);
}
END_TEST

START_TEST(test_smtp_greeting_554_waits_for_quit)
{
	configure("fault_injection = on\nfault smtp GREETING = 554\n");
	drv_open(&d, SVC_SMTP);
	/* RFC 2034 3: no enhanced code in a greeting */
	ck_reply(drv_output(&d), "554 mx.lab.test Injected fault: no SMTP service here");
	ck_assert(!d.io.close);
	/* RFC 5321 3.1: 503 to every command until QUIT */
	ck_reply(drv_send(&d, "EHLO client.example\r\n"),
		 "503 5.5.1 Bad sequence of commands: no SMTP service here");
	ck_reply(drv_send(&d, "MAIL FROM:<a@example.com>\r\n"), "503 5.5.1");
	ck_reply(drv_send(&d, "FOO\r\n"), "503 5.5.1");
	ck_reply(drv_send(&d, "QUIT\r\n"), "221");
	ck_assert(d.io.close);
	drv_close(&d);
	/* "*" rules leave the greeting alone */
	configure("fault_injection = on\nfault smtp * = 554\n");
	drv_open(&d, SVC_SMTP);
	ck_reply(drv_output(&d), "220 mx.lab.test ESMTP");
	ck_reply(drv_send(&d, "EHLO client.example\r\n"), "554 5.3.0 Injected fault");
	drv_close(&d);
	/* off: the same rule is not even loaded */
	configure("fault smtp GREETING = 554\n");
	greet();
}
END_TEST

START_TEST(test_smtp_greeting_421_and_drop)
{
	configure("fault_injection = on\nfault smtp GREETING = 421\n");
	drv_open(&d, SVC_SMTP);
	ck_reply(drv_output(&d), "421 mx.lab.test Injected fault: service not available");
	ck_assert(d.io.close);
	drv_close(&d);
	configure("fault_injection = on\nfault smtp GREETING = bye\n");
	drv_open(&d, SVC_SMTP);
	ck_reply(drv_output(&d), "421 mx.lab.test Injected fault");
	ck_assert(d.io.close);
	drv_close(&d);
	configure("fault_injection = on\nfault smtp GREETING = drop\n");
	drv_open(&d, SVC_SMTP);
	ck_assert_str_eq(drv_output(&d), "");
	ck_assert(d.io.close);
}
END_TEST

/* drv_open, with the I/O layer's timer recorded instead of run at once */
static void open_with_timer(enum service_id svc)
{
	io_init_test(&d.io, &d.cfg, svc);
	d.io.users = d.users;
	d.io.after = record_after;
	d.s = smtp_protocol.open(&d.io);
	d.set = *d.s->set;
	d.s->set = &d.set;
	lr_init(&d.lr, d.io.max_line, d.io.bare_lf_ends_line);
	d.opened = true;
	d.out_seen = 0;
}

START_TEST(test_smtp_greeting_delay)
{
	configure("fault_injection = on\nfault smtp GREETING = delay2500\n");
	open_with_timer(SVC_SMTP);
	ck_assert_str_eq(drv_output(&d), "");
	ck_assert_uint_eq(after_ms, 2500);
	after_done(after_arg);
	ck_reply(drv_output(&d), "220 mx.lab.test ESMTP");
	ck_reply(drv_send(&d, "EHLO client.example\r\n"), "250");
	drv_close(&d);
	/* a delay, then a refusal */
	configure("fault_injection = on\nfault smtp GREETING = delay300\n"
		  "fault smtp GREETING = 421\n");
	after_done = NULL;
	open_with_timer(SVC_SMTP);
	ck_assert_str_eq(drv_output(&d), "");
	ck_assert_ptr_nonnull(after_done);
	after_done(after_arg);
	ck_reply(drv_output(&d), "421 mx.lab.test Injected fault");
	ck_assert(d.io.close);
}
END_TEST

/* AUTH PLAIN with the fault suffix in the user name (RFC 4616 authcid) */
START_TEST(test_smtp_auth_name)
{
	configure("fault_injection = on\n");
	drv_open(&d, SVC_SUBMISSION);
	d.io.loopback = true;	/* AUTH without TLS (common/auth.h) */
	drv_output(&d);
	ck_reply(drv_send(&d, "EHLO client.example\r\n"), "250");
	/* "\0alice+fault.auth.451\0alice-secret-1": AUTH itself answers */
	ck_reply(drv_send(&d, "AUTH PLAIN AGFsaWNlK2ZhdWx0LmF1dGguNDUxAGFsaWNlLXNlY3JldC0x\r\n"),
		 "451 4.3.0 Injected fault");
	ck_assert_int_eq(d.s->state, SMTP_READY);
	ck_assert_ptr_null(d.s->user);
	drv_close(&d);
	/* "\0alice+fault.mail.451\0alice-secret-1": logged in as alice; the
	 * fault lasts for the session, past the end of a transaction */
	drv_open(&d, SVC_SUBMISSION);
	d.io.loopback = true;
	drv_output(&d);
	ck_reply(drv_send(&d, "EHLO client.example\r\n"), "250");
	ck_reply(drv_send(&d, "AUTH PLAIN AGFsaWNlK2ZhdWx0Lm1haWwuNDUxAGFsaWNlLXNlY3JldC0x\r\n"),
		 "235 2.7.0");
	ck_assert_str_eq(d.s->user, "alice");
	ck_reply(drv_send(&d, "MAIL FROM:<alice@lab.test>\r\n"), "451 4.3.0 Injected fault");
	ck_reply(drv_send(&d, "RSET\r\n"), "250");
	ck_reply(drv_send(&d, "MAIL FROM:<alice@lab.test>\r\n"), "451 4.3.0");
	drv_close(&d);
	/* "\0alice+fault.data-end.drop\0alice-secret-1" */
	drv_open(&d, SVC_SUBMISSION);
	d.io.loopback = true;
	drv_output(&d);
	ck_reply(drv_send(&d, "EHLO client.example\r\n"), "250");
	ck_reply(drv_send(&d, "AUTH PLAIN AGFsaWNlK2ZhdWx0LmRhdGEtZW5kLmRyb3AAYWxpY2Utc2VjcmV0LTE=\r\n"),
		 "235 2.7.0");
	ck_reply(drv_send(&d, "MAIL FROM:<alice@lab.test>\r\n"), "250");
	ck_reply(drv_send(&d, "RCPT TO:<bob@lab.test>\r\n"), "250");
	ck_reply(drv_send(&d, MSG), "354");
	ck_assert_str_eq(drv_send(&d, BODY), "");
	ck_assert(d.io.close);
	ck_assert_int_eq(drv_count(&d, "bob", "new"), 0);
	drv_close(&d);
	/* off: the suffix is part of the name, which does not exist */
	configure("fault_injection = off\n");
	drv_open(&d, SVC_SUBMISSION);
	d.io.loopback = true;
	drv_output(&d);
	ck_reply(drv_send(&d, "EHLO client.example\r\n"), "250");
	ck_reply(drv_send(&d, "AUTH PLAIN AGFsaWNlK2ZhdWx0LmF1dGguNDUxAGFsaWNlLXNlY3JldC0x\r\n"),
		 "535 5.7.8");
}
END_TEST

static void bdat_message(const char *rcpt)
{
	char cmd[128];
	const char *head = "Subject: hi\r\n", *rest = "\r\nhello\r\n";

	ck_reply(drv_send(&d, "MAIL FROM:<a@example.com>\r\n"), "250");
	snprintf(cmd, sizeof(cmd), "RCPT TO:<%s>\r\n", rcpt);
	ck_reply(drv_send(&d, cmd), "250");
	snprintf(cmd, sizeof(cmd), "BDAT %zu\r\n%s", strlen(head), head);
	ck_reply(drv_send(&d, cmd), "250 2.0.0");
	snprintf(cmd, sizeof(cmd), "BDAT %zu LAST\r\n%s", strlen(rest), rest);
	drv_send(&d, cmd);
}

/* DATA-END is also the end of BDAT's LAST chunk (RFC 3030 2) */
START_TEST(test_smtp_data_end_at_bdat_last)
{
	configure("fault_injection = on\nfault smtp DATA-END = 554\n");
	greet();
	bdat_message("bob@lab.test");
	ck_reply(buf_cstr(&d.reply), "554 5.3.0 Injected fault");
	ck_assert_int_eq(drv_count(&d, "bob", "new"), 0);
	ck_assert_int_eq(drv_count(&d, "bob", "tmp"), 0);
	/* the transaction is over; the session goes on */
	ck_reply(drv_send(&d, "NOOP\r\n"), "250");
	drv_close(&d);
	/* by name: drop */
	configure("fault_injection = on\n");
	greet();
	bdat_message("bob+fault.data-end.drop@lab.test");
	ck_assert_str_eq(buf_cstr(&d.reply), "");
	ck_assert(d.io.close);
	ck_assert_int_eq(drv_count(&d, "bob", "new"), 0);
	ck_assert_int_eq(drv_count(&d, "bob", "tmp"), 0);
	drv_close(&d);
	/* a delay holds the 250 back; the message is stored once, whole */
	configure("fault_injection = on\nfault smtp DATA-END = delay800\n");
	greet();
	d.io.after = record_after;
	bdat_message("bob@lab.test");
	ck_assert_str_eq(buf_cstr(&d.reply), "");
	ck_assert_uint_eq(after_ms, 800);
	after_done(after_arg);
	ck_reply(drv_output(&d), "250 2.0.0 Message accepted");
	ck_assert_int_eq(drv_count(&d, "bob", "new"), 1);
}
END_TEST

/* trace show --explain: the note and the reply after it are marked */
START_TEST(test_explain_marks_injected)
{
	struct explain_session es = { .ex = &smtp_explainer };
	struct explain_line out;

	explain_feed(&es, EXPLAIN_SERVER, "220 mx ESMTP maillab", &out);
	ck_assert(!out.fault);
	explain_feed(&es, EXPLAIN_CLIENT, "RCPT TO:<bob@lab.test>", &out);
	explain_feed(&es, EXPLAIN_EVENT, "fault injected: smtp RCPT greylist2 "
		     "(at RCPT): 451 4.7.1, attempt 1 of 2 refused", &out);
	ck_assert(out.fault);
	ck_assert_uint_eq(out.n_rows, 1);
	ck_assert_ptr_nonnull(strstr(out.rows[0]->text, "on purpose"));
	explain_feed(&es, EXPLAIN_SERVER, "451 4.7.1 <bob@lab.test>: Greylisted, "
		     "try again later", &out);
	ck_assert(out.fault);
	ck_assert_ptr_nonnull(strstr(out.rows[0]->text, "Greylisted"));
	explain_feed(&es, EXPLAIN_CLIENT, "RCPT TO:<bob@lab.test>", &out);
	explain_feed(&es, EXPLAIN_SERVER, "250 2.1.5 Recipient OK", &out);
	ck_assert(!out.fault);
	explain_feed(&es, EXPLAIN_EVENT, "fault requested by name bob@lab.test: "
		     "smtp RCPT 451", &out);
	ck_assert(out.fault);
	explain_feed(&es, EXPLAIN_SERVER, "250 2.1.5 Recipient OK", &out);
	ck_assert(!out.fault);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("fault");
	TCase *tc = tcase_create("fault");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_parse_rules);
	tcase_add_test(tc, test_config_keys);
	tcase_add_test(tc, test_name_suffix);
	tcase_add_test(tc, test_off_means_off);
	tcase_add_test(tc, test_greylist_table);
	tcase_add_test(tc, test_smtp_rcpt_reply_from_config);
	tcase_add_test(tc, test_smtp_greylist);
	tcase_add_test(tc, test_smtp_rcpt_by_name);
	tcase_add_test(tc, test_smtp_drop_after_data);
	tcase_add_test(tc, test_smtp_data_end_reply_and_bye);
	tcase_add_test(tc, test_smtp_delay_waits_for_timer);
	tcase_add_test(tc, test_smtp_bdat_keeps_framing);
	tcase_add_test(tc, test_smtp_mail_by_sender_name);
	tcase_add_test(tc, test_explain_marks_injected);
	tcase_add_test(tc, test_parse_greeting_rules);
	tcase_add_test(tc, test_smtp_greeting_554_waits_for_quit);
	tcase_add_test(tc, test_smtp_greeting_421_and_drop);
	tcase_add_test(tc, test_smtp_greeting_delay);
	tcase_add_test(tc, test_smtp_auth_name);
	tcase_add_test(tc, test_smtp_data_end_at_bdat_last);
	suite_add_tcase(s, tc);
	return s;
}
