/* The IMAP session (imapd/imap.h) driven through a test proto_io: lines and
 * literals in, replies out, no socket. */
#include "common/base64.h"
#include "tests/unit/imap-harness.h"

static struct instance inst;
static struct proto_io io;
static void *sess;
static char *got;	/* output of the last say(), malloc'd */

/* The capabilities every state has, and those after login. */
#define CAPS_ANY "IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID"
#define CAPS_AUTHED CAPS_ANY " ENABLE IDLE NAMESPACE UNSELECT CHILDREN UIDPLUS MOVE" \
	" SPECIAL-USE CREATE-SPECIAL-USE LIST-EXTENDED LIST-STATUS STATUS=SIZE" \
	" MULTIAPPEND BINARY CATENATE CONDSTORE QRESYNC QUOTA QUOTA=RES-STORAGE" \
	" QUOTA=RES-MESSAGE COMPRESS=DEFLATE NOTIFY" \
	" SORT SORT=DISPLAY THREAD=ORDEREDSUBJECT THREAD=REFERENCES" \
	" ESEARCH SEARCHRES ESORT CONTEXT=SEARCH CONTEXT=SORT"

static void open_session(void)
{
	if (sess != NULL)
		imap_protocol.close(sess);
	io.close = false;
	io.mode = INPUT_LINE;
	io.bytes_sink = NULL;
	sess = imap_protocol.open(&io);
}

static void setup(void)
{
	instance_create(&inst);
	inst.cfg.auth_max_failures = 3;
	inst.cfg.max_literal_size = 100000;
	inst.cfg.max_imap_line = 2000;
	io_init_test(&io, &inst.cfg, SVC_IMAP);
	io.users = inst.db;
	sess = NULL;
	got = NULL;
}

static void teardown(void)
{
	if (sess != NULL)
		imap_protocol.close(sess);
	free(got);
	io_free(&io);
	instance_free(&inst);
}

static void feed(const char *data, size_t len)
{
	imap_test_feed(&io, sess, data, len);
}

/* Sends wire text and returns everything the session queued meanwhile. */
static const char *say(const char *wire)
{
	free(got);
	buf_clear(&io.out);
	feed(wire, strlen(wire));
	got = strdup(buf_cstr(&io.out));
	buf_clear(&io.out);
	return got;
}

static bool has(const char *s)
{
	return got != NULL && strstr(got, s) != NULL;
}

#define ASSERT_HAS(s) ck_assert_msg(has(s), "no \"%s\" in:\n%s", s, got)
#define ASSERT_NOT(s) ck_assert_msg(!has(s), "\"%s\" in:\n%s", s, got)

static void login(void)
{
	open_session();
	say("l1 LOGIN alice secret\r\n");
	ASSERT_HAS("l1 OK [CAPABILITY IMAP4rev1");
}

START_TEST(test_greeting_capability)
{
	open_session();
	ck_assert_str_eq(buf_cstr(&io.out), "* OK [CAPABILITY " CAPS_ANY " "
			 "STARTTLS AUTH=PLAIN AUTH=LOGIN] maillab IMAP4rev1 "
			 "server ready\r\n");
	ck_assert_uint_eq(io.max_line, 2000);
	ck_assert_uint_eq(io.idle_timeout, inst.cfg.timeout_imap_preauth);
	say("a CAPABILITY\r\n");
	ck_assert_str_eq(got, "* CAPABILITY " CAPS_ANY " STARTTLS "
			 "AUTH=PLAIN AUTH=LOGIN\r\na OK CAPABILITY completed\r\n");
	say("b capability extra\r\n");
	ASSERT_HAS("b BAD");
	say("c NOOP\r\n");
	ck_assert_str_eq(got, "c OK NOOP completed\r\n");
	say("d LOGOUT\r\n");
	ck_assert_str_eq(got, "* BYE Logging out\r\nd OK LOGOUT completed\r\n");
	ck_assert(io.close);
}
END_TEST

START_TEST(test_logindisabled)
{
	io.loopback = false;
	open_session();
	ck_assert_str_eq(buf_cstr(&io.out), "* OK [CAPABILITY " CAPS_ANY " "
			 "STARTTLS LOGINDISABLED] maillab IMAP4rev1 server "
			 "ready\r\n");
	say("a LOGIN alice secret\r\n");
	ASSERT_HAS("a NO [PRIVACYREQUIRED]");
	say("b AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\n");
	ASSERT_HAS("b NO [PRIVACYREQUIRED]");
	say("c STARTTLS\r\n");
	ck_assert_str_eq(got, "c OK Begin TLS negotiation now\r\n");
	ck_assert(io.starttls);
	/* after the handshake: no STARTTLS, passwords allowed */
	io.starttls = false;
	io.tls = true;
	imap_protocol.tls_done(sess);
	say("d CAPABILITY\r\n");
	ASSERT_HAS("* CAPABILITY " CAPS_ANY " AUTH=PLAIN AUTH=LOGIN\r\n");
	say("e STARTTLS\r\n");
	ASSERT_HAS("e BAD");
	say("f LOGIN alice secret\r\n");
	ASSERT_HAS("f OK");
}
END_TEST

START_TEST(test_login)
{
	open_session();
	say("a LOGIN alice wrong\r\n");
	ck_assert_str_eq(got, "a NO [AUTHENTICATIONFAILED] Authentication "
			 "failed\r\n");
	ck_assert(!io.close);
	/* a literal password and a quoted user name */
	say("b LOGIN \"alice\" {6}\r\n");
	ck_assert_str_eq(got, "+ Ready for literal data\r\n");
	say("secret\r\n");
	ck_assert_str_eq(got, "b OK [CAPABILITY " CAPS_AUTHED "] Logged in\r\n");
	ck_assert_uint_eq(io.idle_timeout, inst.cfg.timeout_imap);
	say("c LOGIN alice secret\r\n");
	ASSERT_HAS("c BAD Command not valid in this state");
	say("d CAPABILITY\r\n");
	ck_assert_str_eq(got, "* CAPABILITY " CAPS_AUTHED "\r\n"
			 "d OK CAPABILITY completed\r\n");
}
END_TEST

START_TEST(test_login_failures_disconnect)
{
	open_session();
	say("a LOGIN alice x\r\n");
	ASSERT_HAS("a NO [AUTHENTICATIONFAILED]");
	say("b LOGIN alice y\r\n");
	ASSERT_HAS("b NO [AUTHENTICATIONFAILED]");
	ck_assert(!io.close);
	say("c LOGIN nobody z\r\n");
	ASSERT_HAS("c NO [AUTHENTICATIONFAILED]");
	ASSERT_HAS("* BYE Too many authentication failures");
	ck_assert(io.close);
}
END_TEST

START_TEST(test_authenticate)
{
	struct buf b64 = BUF_INIT(BUF_UNLIMITED);
	char line[256];

	open_session();
	/* SASL-IR */
	base64_encode(&b64, "\0alice\0wrong", 12);
	snprintf(line, sizeof(line), "a AUTHENTICATE PLAIN %s\r\n", buf_cstr(&b64));
	say(line);
	ASSERT_HAS("a NO [AUTHENTICATIONFAILED]");
	/* cancelled */
	say("b AUTHENTICATE PLAIN\r\n");
	ck_assert_str_eq(got, "+ \r\n");
	ck_assert_uint_eq(imap_protocol.trace_visible(sess, "AGFsaWNl", 8), 0);
	say("*\r\n");
	ck_assert_str_eq(got, "b BAD Authentication cancelled\r\n");
	say("c AUTHENTICATE X-UNKNOWN\r\n");
	ASSERT_HAS("c NO Unsupported authentication mechanism");
	/* LOGIN mechanism, step by step */
	say("d AUTHENTICATE LOGIN\r\n");
	ck_assert_str_eq(got, "+ VXNlcm5hbWU6\r\n");
	say("YWxpY2U=\r\n");
	ck_assert_str_eq(got, "+ UGFzc3dvcmQ6\r\n");
	say("c2VjcmV0\r\n");
	ASSERT_HAS("d OK [CAPABILITY " CAPS_AUTHED "] Logged in");
	buf_free(&b64);
}
END_TEST

START_TEST(test_authenticate_plain_ir)
{
	struct buf b64 = BUF_INIT(BUF_UNLIMITED);
	char line[256];

	open_session();
	base64_encode(&b64, "\0alice\0secret", 13);
	snprintf(line, sizeof(line), "a AUTHENTICATE PLAIN %s\r\n", buf_cstr(&b64));
	ck_assert_uint_eq(imap_protocol.trace_visible(sess, line, strlen(line) - 2),
			  strlen("a AUTHENTICATE PLAIN "));
	say(line);
	ASSERT_HAS("a OK [CAPABILITY");
	buf_free(&b64);
}
END_TEST

START_TEST(test_trace_hides_login_password)
{
	const char *l = "a LOGIN alice secret";

	open_session();
	ck_assert_uint_eq(imap_protocol.trace_visible(sess, l, strlen(l)),
			  strlen("a LOGIN alice "));
	say("b LOGIN alice {6}\r\n");
	/* the line after the literal may hold the password */
	ck_assert_uint_eq(imap_protocol.trace_visible(sess, " x", 2), 0);
	say("secret\r\n");
	l = "c NOOP";
	ck_assert_uint_eq(imap_protocol.trace_visible(sess, l, strlen(l)), 6);
}
END_TEST

START_TEST(test_wrong_state_and_unknown)
{
	open_session();
	say("a SELECT INBOX\r\n");
	ck_assert_str_eq(got, "a BAD Command not valid before login\r\n");
	say("b FETCH 1 FLAGS\r\n");
	ASSERT_HAS("b BAD");
	say("c UID FETCH 1 FLAGS\r\n");
	ASSERT_HAS("c BAD");
	say("d FROBNICATE\r\n");
	ck_assert_str_eq(got, "d BAD Unknown command\r\n");
	say("e\r\n");
	ck_assert_str_eq(got, "e BAD Missing command\r\n");
	say("\r\n");
	ck_assert_str_eq(got, "* BAD Invalid tag\r\n");
	say("+x NOOP\r\n");
	ck_assert_str_eq(got, "* BAD Invalid tag\r\n");
	say("f LOGIN \"alice secret\r\n");
	ck_assert_str_eq(got, "f BAD Unterminated quoted string\r\n");
	say("g UID\r\n");
	ASSERT_HAS("g BAD");
	ck_assert(!io.close);
	login();
	say("h FETCH 1 FLAGS\r\n");
	ck_assert_str_eq(got, "h BAD Command not valid in this state\r\n");
	say("i UID NOOP\r\n");
	ASSERT_HAS("i BAD Unknown command");
}
END_TEST

START_TEST(test_too_many_errors)
{
	inst.cfg.max_errors = 3;
	open_session();
	say("a X\r\nb X\r\n");
	ck_assert(!io.close);
	say("c NOOP\r\nd X\r\ne X\r\n");
	ck_assert(!io.close);
	say("f X\r\n");
	ASSERT_HAS("* BYE Too many invalid commands");
	ck_assert(io.close);
}
END_TEST

START_TEST(test_overlong)
{
	open_session();
	buf_clear(&io.out);
	/* the I/O layer skipped a line over io->max_line */
	imap_protocol.overlong(sess);
	ck_assert_str_eq(buf_cstr(&io.out), "* BAD Command line too long\r\n");
	say("a NOOP\r\n");
	ck_assert_str_eq(got, "a OK NOOP completed\r\n");
	/* the same in the middle of a command: the tag is known */
	say("b LOGIN {5}\r\n");
	say("alice");
	imap_protocol.overlong(sess);
	ck_assert_str_eq(buf_cstr(&io.out), "b BAD Command line too long\r\n");
	ck_assert_int_eq(io.mode, INPUT_LINE);
	say("c NOOP\r\n");
	ck_assert_str_eq(got, "c OK NOOP completed\r\n");
}
END_TEST

START_TEST(test_command_too_long_over_literals)
{
	char line[1600];

	open_session();
	say("a LOGIN {3}\r\n");
	ck_assert_str_eq(got, "+ Ready for literal data\r\n");
	/* 11 + 1504 bytes of command text so far: under the limit of 2000 */
	memset(line, 'x', sizeof(line));
	memcpy(line, "abc ", 4);
	memcpy(line + 4 + 1499, " {3}\r\n", 7);
	line[4 + 1499 + 7] = '\0';
	say(line);
	ck_assert_str_eq(got, "+ Ready for literal data\r\n");
	/* one more line of 600 passes it: refused with the command's tag */
	memset(line, 'y', 600);
	memcpy(line, "def", 3);
	memcpy(line + 600, "\r\n", 3);
	say(line);
	ck_assert_str_eq(got, "a BAD Command line too long\r\n");
	say("b NOOP\r\n");
	ck_assert_str_eq(got, "b OK NOOP completed\r\n");
}
END_TEST

START_TEST(test_literal_too_big)
{
	open_session();
	/* synchronising: refused without reading it */
	say("a LOGIN alice {100001}\r\n");
	ck_assert_str_eq(got, "a NO [TOOBIG] Literal too big\r\n");
	ck_assert_int_eq(io.mode, INPUT_LINE);
	say("b NOOP\r\n");
	ck_assert_str_eq(got, "b OK NOOP completed\r\n");
	/* non-synchronising: read and thrown away, then the reply */
	{
		char wire[12000];
		size_t n;

		/* before login the limit is 8 KiB whatever the configuration */
		n = (size_t)snprintf(wire, sizeof(wire), "c LOGIN alice {8193+}\r\n");
		memset(wire + n, 'z', 8193);
		n += 8193;
		n += (size_t)snprintf(wire + n, sizeof(wire) - n, "\r\nd NOOP\r\n");
		buf_clear(&io.out);
		feed(wire, n);
		ck_assert_str_eq(buf_cstr(&io.out), "c NO [TOOBIG] Literal too big\r\n"
				 "d OK NOOP completed\r\n");
	}
	say("e LOGIN alice {8192}\r\n");
	ck_assert_str_eq(got, "+ Ready for literal data\r\n");
	{
		char pw[8195];

		memset(pw, 'p', 8192);
		memcpy(pw + 8192, "\r\n", 3);
		say(pw);
		ASSERT_HAS("e NO [AUTHENTICATIONFAILED]");
	}
	/* after login, the configured limit */
	say("f LOGIN alice secret\r\n");
	say("g SELECT {9000}\r\n");
	ck_assert_str_eq(got, "+ Ready for literal data\r\n");
	imap_protocol.close(sess);
	sess = NULL;
	open_session();
	say("h LOGIN alice secret\r\n");
	say("i SELECT {100001}\r\n");
	ck_assert_str_eq(got, "i NO [TOOBIG] Literal too big\r\n");
}
END_TEST

START_TEST(test_nul_in_line)
{
	open_session();
	buf_clear(&io.out);
	imap_protocol.line(sess, "a NO\0OP", 7, LINE_HAS_NUL);
	ck_assert_str_eq(buf_cstr(&io.out), "a BAD NUL, CR or LF inside a "
			 "command line\r\n");
}
END_TEST

START_TEST(test_pipelined_10000)
{
	struct buf wire = BUF_INIT(BUF_UNLIMITED);
	size_t oks = 0;
	const char *p;

	open_session();
	for (int i = 0; i < 10000; i++)
		buf_printf(&wire, "t%d NOOP\r\n", i);
	buf_clear(&io.out);
	feed(wire.data, wire.len);
	for (p = buf_cstr(&io.out); (p = strstr(p, " OK NOOP completed\r\n")) != NULL;
	     p++)
		oks++;
	ck_assert_uint_eq(oks, 10000);
	ck_assert(strstr(buf_cstr(&io.out), "t9999 OK NOOP completed\r\n") != NULL);
	ck_assert(!io.close);
	buf_free(&wire);
}
END_TEST

START_TEST(test_timeout_shutdown)
{
	open_session();
	buf_clear(&io.out);
	imap_protocol.timeout(sess);
	ck_assert_str_eq(buf_cstr(&io.out), "* BYE Autologout; idle for too long\r\n");
	ck_assert(io.close);
	io.close = false;
	buf_clear(&io.out);
	imap_protocol.shutdown(sess);
	ck_assert_str_eq(buf_cstr(&io.out), "* BYE Server shutting down\r\n");
	ck_assert(io.close);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *suite = suite_create("imap-session");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_greeting_capability);
	tcase_add_test(tc, test_logindisabled);
	tcase_add_test(tc, test_login);
	tcase_add_test(tc, test_login_failures_disconnect);
	tcase_add_test(tc, test_authenticate);
	tcase_add_test(tc, test_authenticate_plain_ir);
	tcase_add_test(tc, test_trace_hides_login_password);
	tcase_add_test(tc, test_wrong_state_and_unknown);
	tcase_add_test(tc, test_too_many_errors);
	tcase_add_test(tc, test_overlong);
	tcase_add_test(tc, test_command_too_long_over_literals);
	tcase_add_test(tc, test_literal_too_big);
	tcase_add_test(tc, test_nul_in_line);
	tcase_add_test(tc, test_pipelined_10000);
	tcase_add_test(tc, test_timeout_shutdown);
	suite_add_tcase(suite, tc);
	return suite;
}
