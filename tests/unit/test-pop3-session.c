/* The POP3 state machine driven through a test io (no socket): every
 * command, every bad input of issue 5, against a temporary instance with a
 * real user database and Maildir store. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/base64.h"
#include "common/linereader.h"
#include "common/log.h"
#include "common/users.h"
#include "common/xalloc.h"
#include "maildir/deliver.h"
#include "maildir/mailbox.h"
#include "maildir/user.h"
#include "pop3d/pop3.h"
#include "tests/unit/unit.h"

static const struct protocol *P = &pop3_protocol;
static char *dir, *mail_root;
static struct config cfg;
static struct userdb *db;

/* one client: its io, its session, and what it was last sent */
struct client {
	struct proto_io io;
	void *sess;
	char *reply;
};
static struct client c1, c2;

/* failure delays the fake I/O layer was asked for */
static unsigned int delays[16];
static size_t n_delays;

static void record_after(struct proto_io *io, unsigned int ms, work_fn *done,
			 void *arg)
{
	(void)io;
	if (n_delays < sizeof(delays) / sizeof(delays[0]))
		delays[n_delays++] = ms;
	done(arg);
}

static void client_open(struct client *c, enum service_id svc)
{
	io_init_test(&c->io, &cfg, svc);
	c->io.users = db;
	c->io.after = record_after;
	c->sess = P->open(&c->io);
	free(c->reply);
	c->reply = xstrdup(buf_cstr(&c->io.out));
	buf_clear(&c->io.out);
}

static void client_close(struct client *c)
{
	if (c->sess != NULL)
		P->close(c->sess);
	c->sess = NULL;
	io_free(&c->io);
	free(c->reply);
	c->reply = NULL;
}

/* What the I/O layer does after each unit: ask for more output while the
 * protocol wants to send more. */
static void pump(struct client *c)
{
	int rounds = 0;

	while (c->io.more_output && !c->io.close) {
		c->io.more_output = false;
		P->resume_output(c->sess);
		ck_assert_int_lt(++rounds, 100000);
	}
}

static const char *take_reply(struct client *c)
{
	free(c->reply);
	c->reply = xstrdup(buf_cstr(&c->io.out));
	buf_clear(&c->io.out);
	return c->reply;
}

/* Sends one line (without CRLF) and returns every reply it produced. */
static const char *csend(struct client *c, const char *line)
{
	P->line(c->sess, line, strlen(line), 0);
	pump(c);
	return take_reply(c);
}

static const char *send1(const char *line)
{
	return csend(&c1, line);
}

/* Feeds raw bytes through the real line reader, as conn.c does, and
 * returns all replies. */
static const char *feed(struct client *c, const char *bytes, size_t n)
{
	struct line_reader lr;
	size_t off = 0;

	lr_init(&lr, c->io.max_line, c->io.bare_lf_ends_line);
	while (off < n) {
		size_t used;
		enum lr_result r = lr_feed(&lr, bytes + off, n - off, &used);

		off += used;
		if (r == LR_LINE)
			P->line(c->sess, buf_cstr(&lr.line), lr.line.len,
				lr.flags);
		else if (r == LR_OVERLONG)
			P->overlong(c->sess);
		pump(c);
		if (lr.max != c->io.max_line) {
			lr_free(&lr);
			lr_init(&lr, c->io.max_line, c->io.bare_lf_ends_line);
		}
	}
	lr_free(&lr);
	return take_reply(c);
}

#define ck_starts(s, prefix) \
	ck_assert_msg(strncmp((s), (prefix), strlen(prefix)) == 0, \
		      "[%s] does not start with [%s]", (s), (prefix))
#define ck_has(s, part) \
	ck_assert_msg(strstr((s), (part)) != NULL, "[%s] lacks [%s]", (s), (part))
#define ck_lacks(s, part) \
	ck_assert_msg(strstr((s), (part)) == NULL, "[%s] has [%s]", (s), (part))

static void deliver(const char *user, const char *text)
{
	char err[512];
	struct maildir_delivery *d = maildir_delivery_begin(mail_root, err,
							    sizeof(err));
	struct maildir_rcpt r = { user, NULL };

	ck_assert_msg(d != NULL, "%s", err);
	ck_assert_int_eq(maildir_delivery_write(d, text, strlen(text)), 0);
	ck_assert_msg(maildir_delivery_commit(d, &r, 1, err, sizeof(err)) == 0,
		      "%s", err);
	maildir_delivery_free(&d);
}

/* A file another program dropped into new/ (bare LF line ends). */
static void drop_file(const char *user, const char *name, const char *text)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/new/%s", mail_root, user, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* Files in INBOX (cur/ and new/), and how many of them are \Seen. */
static int inbox_files(const char *user, int *seen_r)
{
	static const char *const subs[] = { "cur", "new" };
	int n = 0, seen = 0;

	for (size_t i = 0; i < 2; i++) {
		char path[4096];
		DIR *d;
		struct dirent *e;

		snprintf(path, sizeof(path), "%s/%s/%s", mail_root, user,
			 subs[i]);
		d = opendir(path);
		ck_assert_ptr_nonnull(d);
		while ((e = readdir(d)) != NULL) {
			const char *flags;

			if (e->d_name[0] == '.')
				continue;
			n++;
			flags = strstr(e->d_name, ":2,");
			if (flags != NULL && strchr(flags + 3, 'S') != NULL)
				seen++;
		}
		closedir(d);
	}
	if (seen_r != NULL)
		*seen_r = seen;
	return n;
}

static const char *MSG1 = "From: a@b\r\nSubject: one\r\n\r\nbody one\r\n";
static const char *MSG2 = "From: a@b\r\nSubject: two\r\n\r\n.dot line\r\nl2\r\nl3\r\n";
static const char *MSG3 = "From: a@b\r\nSubject: three\r\n\r\nthree\r\n";

static void setup(void)
{
	char err[512];

	log_open(NULL, false);
	dir = unit_tmpdir();
	config_defaults(&cfg, dir);
	cfg.auth_max_failures = 3;
	cfg.auth_fail_delay_ms = 1000;
	db = userdb_open(dir, err, sizeof(err));
	ck_assert_msg(db != NULL, "%s", err);
	ck_assert_int_eq(userdb_add(db, "alice", "secret pw", err, sizeof(err)), 0);
	ck_assert_int_eq(userdb_add(db, "bob", "bobpw", err, sizeof(err)), 0);
	{
		struct buf b = BUF_INIT(BUF_UNLIMITED);

		buf_printf(&b, "%s/mail", dir);
		mail_root = buf_steal(&b);
	}
	ck_assert_msg(maildir_user_create(mail_root, "alice", err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert_msg(maildir_user_create(mail_root, "bob", err, sizeof(err)) == 0,
		      "%s", err);
	n_delays = 0;
	client_open(&c1, SVC_POP3);
}

static void teardown(void)
{
	client_close(&c1);
	client_close(&c2);
	userdb_close(&db);
	config_free(&cfg);
	unit_rmtree(dir);
	free(dir);
	free(mail_root);
}

static void login(struct client *c)
{
	ck_starts(csend(c, "USER alice"), "+OK");
	ck_starts(csend(c, "PASS secret pw"), "+OK");
}

/* ---- AUTHORIZATION ---- */

START_TEST(test_greeting_and_limits)
{
	ck_starts(c1.reply, "+OK ");
	ck_assert(strstr(c1.reply, "\r\n") == c1.reply + strlen(c1.reply) - 2);
	ck_lacks(c1.reply, "<");	/* no APOP timestamp */
	ck_assert_uint_eq(c1.io.max_line, 255);
	ck_assert_uint_eq(c1.io.idle_timeout, 600);
	ck_assert_str_eq(P->busy_reply, "-ERR [SYS/TEMP] too many connections\r\n");
}
END_TEST

START_TEST(test_capa_authorization)
{
	const char *r = send1("CAPA");

	ck_starts(r, "+OK");
	ck_has(r, "\r\nTOP\r\n");
	ck_has(r, "\r\nUIDL\r\n");
	ck_has(r, "\r\nUSER\r\n");
	ck_has(r, "\r\nSASL PLAIN LOGIN\r\n");
	ck_has(r, "\r\nRESP-CODES\r\n");
	ck_has(r, "\r\nAUTH-RESP-CODE\r\n");
	ck_has(r, "\r\nPIPELINING\r\n");
	ck_has(r, "\r\nSTLS\r\n");
	ck_has(r, "\r\nEXPIRE NEVER\r\n");
	ck_has(r, "\r\nIMPLEMENTATION maillab\r\n");
	ck_assert_str_eq(r + strlen(r) - 5, "\r\n.\r\n");
	ck_starts(send1("CAPA x"), "-ERR");
}
END_TEST

START_TEST(test_user_pass_login)
{
	ck_starts(send1("user alice"), "+OK");
	ck_assert_str_eq(send1("PASS secret pw"), "+OK alice has 0 messages (0 octets)\r\n");
	/* TRANSACTION: CAPA no longer offers ways to log in */
	ck_lacks(send1("CAPA"), "USER");
	ck_starts(send1("USER alice"), "-ERR");	/* wrong state */
	ck_starts(send1("STLS"), "-ERR");
	ck_starts(send1("AUTH PLAIN"), "-ERR");
}
END_TEST

START_TEST(test_login_with_address)
{
	ck_starts(send1("USER Alice@lab.test"), "+OK");
	ck_starts(send1("PASS secret pw"), "+OK alice has");
}
END_TEST

START_TEST(test_pass_without_user)
{
	ck_starts(send1("PASS secret pw"), "-ERR");
	ck_starts(send1("PASS"), "-ERR");
	ck_starts(send1("USER alice"), "+OK");
	ck_starts(send1("PASS"), "-ERR syntax");
	ck_assert_uint_eq(n_delays, 0);		/* nothing was checked */
	login(&c1);
}
END_TEST

START_TEST(test_user_syntax)
{
	ck_starts(send1("USER"), "-ERR");
	ck_starts(send1("USER a b"), "-ERR");
	ck_starts(send1("USER  alice"), "-ERR");
	ck_starts(send1("USER alice "), "-ERR");
}
END_TEST

START_TEST(test_wrong_password_delay_then_disconnect)
{
	const char *r;

	ck_starts(send1("USER alice"), "+OK");
	ck_assert_str_eq(send1("PASS wrong"), "-ERR [AUTH] invalid user name or password\r\n");
	ck_assert(!c1.io.close);
	/* the user must be given again after a failure */
	ck_starts(send1("PASS secret pw"), "-ERR");
	ck_starts(send1("USER alice"), "+OK");
	ck_starts(send1("PASS wrong"), "-ERR [AUTH]");
	ck_assert(!c1.io.close);
	ck_starts(send1("USER nobody"), "+OK");		/* does not tell */
	r = send1("PASS wrong");
	ck_starts(r, "-ERR [AUTH]");
	ck_assert(c1.io.close);
	/* a growing delay before each failure */
	ck_assert_uint_eq(n_delays, 3);
	ck_assert_uint_eq(delays[0], 1000);
	ck_assert_uint_eq(delays[1], 2000);
	ck_assert_uint_eq(delays[2], 4000);
	/* nothing more is read */
	ck_assert_str_eq(send1("USER alice"), "");
}
END_TEST

START_TEST(test_apop_not_offered)
{
	ck_starts(send1("APOP alice c4c9334bac560ecc979e58001b3e22fb"), "-ERR");
	login(&c1);
}
END_TEST

/* MD5(timestamp + secret) in hex, as an APOP client computes it. */
static void apop_digest(const char *ts, const char *secret, char out[33])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_eq(EVP_DigestInit_ex(ctx, EVP_md5(), NULL), 1);
	ck_assert_int_eq(EVP_DigestUpdate(ctx, ts, strlen(ts)), 1);
	ck_assert_int_eq(EVP_DigestUpdate(ctx, secret, strlen(secret)), 1);
	ck_assert_int_eq(EVP_DigestFinal_ex(ctx, md, &len), 1);
	EVP_MD_CTX_free(ctx);
	ck_assert_uint_eq(len, 16);
	for (unsigned int i = 0; i < len; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* The "<...>" of a greeting, into ts[256]. */
static void greeting_timestamp(const char *greeting, char *ts)
{
	const char *lt = strchr(greeting, '<'), *gt = strchr(greeting, '>');

	ck_assert_ptr_nonnull(lt);
	ck_assert_ptr_nonnull(gt);
	ck_assert_uint_lt((size_t)(gt - lt) + 1, 256);
	memcpy(ts, lt, (size_t)(gt - lt) + 1);
	ts[gt - lt + 1] = '\0';
}

/* RFC 1939 7 APOP with pop3_apop = yes */
START_TEST(test_apop)
{
	char err[256], ts[256], ts2[256], digest[33], line[512], pid[32];
	const char *r;

	cfg.pop3_apop = true;
	ck_assert_int_eq(userdb_set_apop_secret(db, "alice", "secret pw", err,
						sizeof(err)), 0);
	client_close(&c1);
	client_open(&c1, SVC_POP3);
	/* RFC 1939 7: <process-ID.clock@hostname>, new in every greeting */
	ck_starts(c1.reply, "+OK ");
	greeting_timestamp(c1.reply, ts);
	snprintf(pid, sizeof(pid), "<%ld.", (long)getpid());
	ck_starts(ts, pid);
	snprintf(line, sizeof(line), "%s>", cfg.hostname);
	ck_assert_str_eq(strchr(ts, '@') + 1, line);
	client_open(&c2, SVC_POP3);
	greeting_timestamp(c2.reply, ts2);
	ck_assert_str_ne(ts, ts2);

	/* syntax */
	ck_starts(send1("APOP alice"), "-ERR syntax");
	ck_starts(send1("APOP alice abc"), "-ERR syntax");
	ck_starts(send1("APOP alice c4c9334bac560ecc979e58001b3e22fg"), "-ERR syntax");
	ck_assert_uint_eq(n_delays, 0);
	/* the digest for another session's timestamp is refused */
	apop_digest(ts2, "secret pw", digest);
	snprintf(line, sizeof(line), "APOP alice %s", digest);
	ck_assert_str_eq(send1(line), "-ERR [AUTH] invalid user name or password\r\n");
	ck_assert_uint_eq(n_delays, 1);		/* delayed like a wrong password */
	/* a user without a stored secret */
	apop_digest(ts, "bobpw", digest);
	snprintf(line, sizeof(line), "APOP bob %s", digest);
	ck_starts(send1(line), "-ERR [AUTH]");
	ck_assert_uint_eq(n_delays, 2);
	/* right, also off loopback without TLS: the password is not sent */
	c1.io.loopback = false;
	ck_starts(send1("USER alice"), "-ERR [AUTH]");
	apop_digest(ts, "secret pw", digest);
	snprintf(line, sizeof(line), "APOP Alice@lab.test %s", digest);
	/* the trace shows the name, not the digest */
	ck_assert_uint_eq(P->trace_visible(c1.sess, line, strlen(line)),
			  strlen("APOP Alice@lab.test "));
	r = send1(line);
	ck_assert_str_eq(r, "+OK alice has 0 messages (0 octets)\r\n");
	ck_starts(send1("APOP alice x"), "-ERR APOP is not valid");
	ck_starts(send1("QUIT"), "+OK");

	/* too many failures close the connection */
	client_close(&c2);
	client_open(&c2, SVC_POP3);
	greeting_timestamp(c2.reply, ts2);
	apop_digest(ts2, "wrong", digest);
	snprintf(line, sizeof(line), "APOP alice %s", digest);
	ck_starts(csend(&c2, line), "-ERR [AUTH]");
	ck_starts(csend(&c2, line), "-ERR [AUTH]");
	ck_assert(!c2.io.close);
	ck_starts(csend(&c2, line), "-ERR [AUTH]");
	ck_assert(c2.io.close);
}
END_TEST

START_TEST(test_quit_in_authorization)
{
	ck_starts(send1("QUIT"), "+OK");
	ck_assert(c1.io.close);
}
END_TEST

START_TEST(test_wrong_state_commands)
{
	static const char *const cmds[] = {
		"STAT", "LIST", "LIST 1", "RETR 1", "DELE 1", "NOOP", "RSET",
		"TOP 1 1", "UIDL", "UIDL 1",
	};

	deliver("alice", MSG1);
	cfg.max_errors = 100;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		ck_starts(send1(cmds[i]), "-ERR");
	ck_assert(!c1.io.close);
	login(&c1);
	ck_starts(send1("PASS x"), "-ERR");
	ck_starts(send1("APOP a b"), "-ERR");
	ck_starts(send1("STAT"), "+OK 1 ");
}
END_TEST

START_TEST(test_unknown_and_empty)
{
	ck_assert_str_eq(send1("HELO"), "-ERR unknown command\r\n");
	ck_starts(send1(""), "-ERR");
	ck_starts(send1("US"), "-ERR");
	ck_starts(send1("noop"), "-ERR");	/* known, wrong state */
}
END_TEST

START_TEST(test_too_many_errors_disconnects)
{
	for (unsigned int i = 1; i < cfg.max_errors; i++) {
		ck_starts(send1("XYZZY"), "-ERR");
		ck_assert(!c1.io.close);
	}
	ck_has(send1("XYZZY"), "too many errors");
	ck_assert(c1.io.close);
}
END_TEST

START_TEST(test_nul_and_bare_cr)
{
	P->line(c1.sess, "NO\0OP", 5, LINE_HAS_NUL);
	ck_starts(take_reply(&c1), "-ERR");
	P->line(c1.sess, "CA\rPA", 5, LINE_BARE_CR);
	ck_starts(take_reply(&c1), "-ERR");
	/* bare LF ends a line, for nc without -C */
	ck_starts(feed(&c1, "CAPA\n", 5), "+OK");
}
END_TEST

START_TEST(test_overlong_line_stays_in_sync)
{
	char line[400];
	struct buf in = BUF_INIT(BUF_UNLIMITED);
	const char *r;

	memset(line, 'A', sizeof(line));
	buf_append(&in, "USER ", 5);
	buf_append(&in, line, sizeof(line));
	buf_puts(&in, "\r\nCAPA\r\nUSER alice\r\nPASS secret pw\r\nSTAT\r\n");
	r = feed(&c1, in.data, in.len);
	ck_starts(r, "-ERR line too long");
	ck_has(r, "\r\n+OK capability list follows\r\n");
	ck_has(r, "\r\n+OK alice has 0 messages (0 octets)\r\n+OK 0 0\r\n");
	buf_free(&in);
	/* exactly 255 octets with CRLF is allowed (RFC 2449 4) */
	memset(line, 'x', sizeof(line));
	memcpy(line, "NOOP ", 5);
	line[253] = '\r';
	line[254] = '\n';
	ck_lacks(feed(&c1, line, 255), "too long");
	line[253] = 'x';
	line[254] = '\r';
	line[255] = '\n';
	ck_has(feed(&c1, line, 256), "too long");
}
END_TEST

START_TEST(test_pipelining)
{
	const char *in = "USER alice\r\nPASS secret pw\r\nSTAT\r\nLIST\r\nUIDL\r\nRETR 1\r\nDELE 1\r\nSTAT\r\nQUIT\r\n";
	const char *r;

	deliver("alice", MSG1);
	r = feed(&c1, in, strlen(in));
	ck_starts(r, "+OK send your password\r\n+OK alice has 1 messages");
	ck_has(r, "\r\n+OK 1 37\r\n+OK 1 messages (37 octets)\r\n1 37\r\n.\r\n+OK unique-id");
	ck_has(r, "\r\n+OK 37 octets\r\nFrom: a@b\r\nSubject: one\r\n\r\nbody one\r\n.\r\n+OK message 1 deleted\r\n+OK 0 0\r\n+OK maillab POP3 server signing off (0 messages left)\r\n");
	ck_assert(c1.io.close);
	ck_assert_int_eq(inbox_files("alice", NULL), 0);
}
END_TEST

/* ---- AUTH (RFC 5034) ---- */

static char *b64(const char *p, size_t n)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);

	base64_encode(&b, p, n);
	return buf_steal(&b);
}

START_TEST(test_auth_plain_initial)
{
	char *ir = b64("\0alice\0secret pw", 16);
	struct buf cmd = BUF_INIT(BUF_UNLIMITED);

	buf_printf(&cmd, "AUTH PLAIN %s", ir);
	ck_assert_uint_eq(P->trace_visible(c1.sess, cmd.data, cmd.len), 11);
	ck_starts(send1(cmd.data), "+OK alice has 0 messages");
	buf_free(&cmd);
	free(ir);
}
END_TEST

START_TEST(test_auth_plain_continuation)
{
	char *resp = b64("\0alice\0secret pw", 16);

	ck_assert_str_eq(send1("AUTH PLAIN"), "+ \r\n");
	ck_assert_uint_eq(P->trace_visible(c1.sess, resp, strlen(resp)), 0);
	ck_starts(send1(resp), "+OK alice has");
	free(resp);
}
END_TEST

START_TEST(test_auth_login)
{
	char *u = b64("alice", 5), *p = b64("secret pw", 9);

	ck_assert_str_eq(send1("AUTH login"), "+ VXNlcm5hbWU6\r\n");
	ck_assert_str_eq(send1(u), "+ UGFzc3dvcmQ6\r\n");
	ck_starts(send1(p), "+OK alice has");
	free(u);
	free(p);
}
END_TEST

START_TEST(test_auth_wrong_password)
{
	char *ir = b64("\0alice\0nope", 11);
	struct buf cmd = BUF_INIT(BUF_UNLIMITED);

	buf_printf(&cmd, "AUTH PLAIN %s", ir);
	ck_starts(send1(cmd.data), "-ERR [AUTH]");
	ck_assert_uint_eq(n_delays, 1);
	login(&c1);
	buf_free(&cmd);
	free(ir);
}
END_TEST

START_TEST(test_auth_bad_base64_and_cancel)
{
	ck_starts(send1("AUTH PLAIN !!!!"), "-ERR");
	ck_assert_str_eq(send1("AUTH PLAIN"), "+ \r\n");
	ck_starts(send1("not*base64"), "-ERR");
	ck_assert_str_eq(send1("AUTH PLAIN"), "+ \r\n");
	ck_assert_str_eq(send1("*"), "-ERR authentication cancelled\r\n");
	ck_assert_str_eq(send1("AUTH LOGIN"), "+ VXNlcm5hbWU6\r\n");
	ck_starts(send1("*"), "-ERR");
	/* malformed credentials count as a failure, with the delay */
	{
		char *ir = b64("alice", 5);
		struct buf cmd = BUF_INIT(BUF_UNLIMITED);

		buf_printf(&cmd, "AUTH PLAIN %s", ir);
		ck_starts(send1(cmd.data), "-ERR [AUTH]");
		ck_assert_uint_eq(n_delays, 1);
		buf_free(&cmd);
		free(ir);
	}
	ck_assert(!c1.io.close);
	/* after all that, still in sync */
	login(&c1);
}
END_TEST

START_TEST(test_auth_mechanisms)
{
	ck_assert_str_eq(send1("AUTH"), "+OK supported mechanisms follow\r\nPLAIN\r\nLOGIN\r\n.\r\n");
	ck_starts(send1("AUTH CRAM-MD5"), "-ERR");
	ck_starts(send1("AUTH PLAIN a b"), "-ERR");
}
END_TEST

START_TEST(test_auth_long_sasl_response)
{
	/* a SASL response longer than 255 octets is taken (the command
	 * line itself is limited, not the exchange) */
	char pw[300], cred[320];
	char *resp;
	struct buf in = BUF_INIT(BUF_UNLIMITED);
	char err[256];

	memset(pw, 'p', sizeof(pw) - 1);
	pw[sizeof(pw) - 1] = '\0';
	ck_assert_int_eq(userdb_passwd(db, "alice", pw, err, sizeof(err)), 0);
	cred[0] = '\0';
	memcpy(cred + 1, "alice", 5);
	cred[6] = '\0';
	memcpy(cred + 7, pw, strlen(pw));
	resp = b64(cred, 7 + strlen(pw));
	ck_assert_uint_gt(strlen(resp), 255);
	buf_printf(&in, "AUTH PLAIN\r\n%s\r\nSTAT\r\n", resp);
	ck_has(feed(&c1, in.data, in.len), "+ \r\n+OK alice has 0 messages (0 octets)\r\n+OK 0 0\r\n");
	ck_assert_uint_eq(c1.io.max_line, 255);
	buf_free(&in);
	free(resp);
}
END_TEST

START_TEST(test_auth_overlong_response)
{
	struct buf in = BUF_INIT(BUF_UNLIMITED);
	const char *r;

	buf_puts(&in, "AUTH PLAIN\r\n");
	for (int i = 0; i < 5000; i++)
		buf_putc(&in, 'A');
	buf_puts(&in, "\r\nCAPA\r\n");
	r = feed(&c1, in.data, in.len);
	ck_starts(r, "+ \r\n-ERR authentication response too long\r\n+OK capability");
	ck_assert_uint_eq(c1.io.max_line, 255);
	ck_assert_uint_eq(n_delays, 0);
	login(&c1);
	buf_free(&in);
}
END_TEST

/* ---- STLS (RFC 2595) and the plaintext policy ---- */

START_TEST(test_stls_discards_garbage)
{
	ck_assert_str_eq(send1("STLS"), "+OK begin TLS negotiation\r\n");
	ck_assert(c1.io.starttls);
	/* what the client sends before the handshake is never acted on */
	ck_assert_str_eq(send1("USER alice"), "");
	ck_assert_str_eq(send1("PASS secret pw"), "");
	ck_assert_str_eq(send1("STAT"), "");
	c1.io.starttls = false;
	c1.io.tls = true;
	P->tls_done(c1.sess);
	ck_assert_str_eq(take_reply(&c1), "");
	/* still AUTHORIZATION, USER forgotten, no second STLS */
	ck_starts(send1("PASS secret pw"), "-ERR");
	ck_lacks(send1("CAPA"), "STLS");
	ck_starts(send1("STLS"), "-ERR");
	login(&c1);
}
END_TEST

START_TEST(test_plaintext_refused_off_loopback)
{
	const char *r;

	c1.io.loopback = false;
	r = send1("CAPA");
	ck_lacks(r, "USER");
	ck_lacks(r, "SASL");
	ck_has(r, "STLS");
	ck_starts(send1("USER alice"), "-ERR [AUTH]");
	ck_starts(send1("AUTH PLAIN"), "-ERR [AUTH]");
	ck_assert_uint_eq(n_delays, 0);
	/* after TLS it is fine */
	ck_starts(send1("STLS"), "+OK");
	c1.io.starttls = false;
	c1.io.tls = true;
	P->tls_done(c1.sess);
	r = send1("CAPA");
	ck_has(r, "USER");
	login(&c1);
}
END_TEST

START_TEST(test_plaintext_allowed_by_config)
{
	cfg.allow_plaintext_auth = true;
	c1.io.loopback = false;
	login(&c1);
}
END_TEST

START_TEST(test_pop3s_has_no_stls)
{
	client_close(&c1);
	client_open(&c1, SVC_POP3S);
	c1.io.tls = true;
	c1.io.loopback = false;
	ck_lacks(send1("CAPA"), "STLS");
	ck_starts(send1("STLS"), "-ERR");
	login(&c1);
}
END_TEST

START_TEST(test_trace_hides_secrets)
{
	const char *l = "PASS secret pw";

	ck_assert_uint_eq(P->trace_visible(c1.sess, l, strlen(l)), 5);
	l = "USER alice";
	ck_assert_uint_eq(P->trace_visible(c1.sess, l, strlen(l)), strlen(l));
}
END_TEST

/* ---- TRANSACTION ---- */

START_TEST(test_stat_list_uidl)
{
	const char *r;
	char uid1[32], uid2[32];

	deliver("alice", MSG1);
	deliver("alice", MSG2);
	login(&c1);
	ck_assert_str_eq(send1("STAT"), "+OK 2 83\r\n");
	ck_assert_str_eq(send1("LIST"), "+OK 2 messages (83 octets)\r\n1 37\r\n2 46\r\n.\r\n");
	ck_assert_str_eq(send1("LIST 2"), "+OK 2 46\r\n");
	r = send1("UIDL");
	ck_assert_int_eq(sscanf(r, "+OK unique-id listing follows\r\n1 %31s\r\n2 %31s\r\n.\r\n",
				uid1, uid2), 2);
	ck_assert_uint_eq(strlen(uid1), 16);
	ck_assert_str_ne(uid1, uid2);
	r = send1("UIDL 2");
	ck_starts(r, "+OK 2 ");
	ck_has(r, uid2);
	/* the same ids in the next session */
	ck_starts(send1("QUIT"), "+OK");
	client_close(&c1);
	client_open(&c1, SVC_POP3);
	login(&c1);
	r = send1("UIDL");
	ck_has(r, uid1);
	ck_has(r, uid2);
}
END_TEST

START_TEST(test_retr_and_top)
{
	deliver("alice", MSG2);
	login(&c1);
	ck_assert_str_eq(send1("RETR 1"),
			 "+OK 46 octets\r\nFrom: a@b\r\nSubject: two\r\n\r\n..dot line\r\nl2\r\nl3\r\n.\r\n");
	ck_assert_str_eq(send1("TOP 1 0"),
			 "+OK top of message follows\r\nFrom: a@b\r\nSubject: two\r\n\r\n.\r\n");
	ck_assert_str_eq(send1("TOP 1 2"),
			 "+OK top of message follows\r\nFrom: a@b\r\nSubject: two\r\n\r\n..dot line\r\nl2\r\n.\r\n");
	ck_assert_str_eq(send1("TOP 1 99999999999999999999999999"),
			 "+OK top of message follows\r\nFrom: a@b\r\nSubject: two\r\n\r\n..dot line\r\nl2\r\nl3\r\n.\r\n");
	ck_starts(send1("TOP 1 -1"), "-ERR");
	ck_starts(send1("TOP 1 +1"), "-ERR");
	ck_starts(send1("TOP 1"), "-ERR");
	ck_starts(send1("TOP 1 1 1"), "-ERR");
	ck_starts(send1("TOP 2 1"), "-ERR");
	ck_starts(send1("NOOP"), "+OK");
}
END_TEST

START_TEST(test_bad_message_numbers)
{
	static const char *const bad[] = {
		"RETR 0", "RETR -1", "RETR abc", "RETR 3", "RETR 1x",
		"RETR 18446744073709551617", "RETR 99999999999999999999999999",
		"RETR", "RETR 1 2", "RETR  1", "RETR +1", "RETR 0x1",
		"LIST 0", "LIST -1", "LIST x", "LIST 3", "LIST 1 2",
		"DELE 0", "DELE -1", "DELE 3", "DELE x", "DELE",
		"UIDL 0", "UIDL 3", "UIDL x", "TOP 0 1", "TOP x 1",
		"STAT 1", "NOOP x", "RSET 1", "QUIT now",
	};

	deliver("alice", MSG1);
	deliver("alice", MSG3);
	login(&c1);
	cfg.max_errors = 1000;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(strncmp(send1(bad[i]), "-ERR", 4) == 0,
			      "%s: %s", bad[i], c1.reply);
	ck_assert_str_eq(send1("RETR 02"),
			 "+OK 36 octets\r\nFrom: a@b\r\nSubject: three\r\n\r\nthree\r\n.\r\n");
	ck_assert_str_eq(send1("STAT"), "+OK 2 73\r\n");
}
END_TEST

START_TEST(test_deleted_messages)
{
	deliver("alice", MSG1);
	deliver("alice", MSG2);
	login(&c1);
	ck_assert_str_eq(send1("DELE 1"), "+OK message 1 deleted\r\n");
	ck_assert_str_eq(send1("DELE 1"), "-ERR message 1 is deleted\r\n");
	ck_starts(send1("RETR 1"), "-ERR");
	ck_starts(send1("TOP 1 0"), "-ERR");
	ck_starts(send1("LIST 1"), "-ERR");
	ck_starts(send1("UIDL 1"), "-ERR");
	/* numbers do not move */
	ck_assert_str_eq(send1("LIST"), "+OK 1 messages (46 octets)\r\n2 46\r\n.\r\n");
	ck_assert_str_eq(send1("STAT"), "+OK 1 46\r\n");
	ck_assert_str_eq(send1("RSET"), "+OK maildrop has 2 messages (83 octets)\r\n");
	ck_starts(send1("RETR 1"), "+OK 37 octets");
	ck_assert_str_eq(send1("STAT"), "+OK 2 83\r\n");
}
END_TEST

START_TEST(test_quit_deletes_and_marks_seen)
{
	const char *r;
	int seen;

	deliver("alice", MSG1);
	deliver("alice", MSG2);
	deliver("alice", MSG3);
	login(&c1);
	ck_starts(send1("RETR 1"), "+OK");
	ck_starts(send1("RETR 2"), "+OK");
	ck_starts(send1("TOP 3 0"), "+OK");
	ck_starts(send1("DELE 2"), "+OK");
	ck_assert_str_eq(send1("QUIT"), "+OK maillab POP3 server signing off (2 messages left)\r\n");
	ck_assert(c1.io.close);
	ck_assert_str_eq(send1("NOOP"), "");
	ck_assert_int_eq(inbox_files("alice", &seen), 2);
	ck_assert_int_eq(seen, 1);		/* RETR 1 yes, TOP 3 no */
	/* the lock is free again, the deleted one is gone */
	client_close(&c1);
	client_open(&c1, SVC_POP3);
	login(&c1);
	r = send1("LIST");
	ck_assert_str_eq(r, "+OK 2 messages (73 octets)\r\n1 37\r\n2 36\r\n.\r\n");
	ck_has(send1("RETR 2"), "three");
}
END_TEST

START_TEST(test_disconnect_after_dele_deletes_nothing)
{
	int seen;

	deliver("alice", MSG1);
	deliver("alice", MSG2);
	login(&c1);
	ck_starts(send1("RETR 1"), "+OK");
	ck_starts(send1("DELE 1"), "+OK");
	ck_starts(send1("DELE 2"), "+OK");
	client_close(&c1);		/* the connection drops */
	ck_assert_int_eq(inbox_files("alice", &seen), 2);
	ck_assert_int_eq(seen, 0);
	client_open(&c1, SVC_POP3);
	login(&c1);
	ck_assert_str_eq(send1("STAT"), "+OK 2 83\r\n");
}
END_TEST

START_TEST(test_disconnect_mid_retr)
{
	size_t big = 3 * 1024 * 1024;
	char *msg = malloc(big + 1);
	const char *hdr = "Subject: big\r\n\r\n";
	size_t sent;

	memcpy(msg, hdr, strlen(hdr));
	for (size_t i = strlen(hdr); i < big; i++)
		msg[i] = (i % 100 == 98) ? '\r' : (i % 100 == 99) ? '\n' : 'b';
	memcpy(msg + big - 2, "\r\n", 2);
	msg[big] = '\0';
	deliver("alice", msg);
	login(&c1);
	ck_starts(send1("DELE 1"), "+OK");
	ck_starts(send1("RSET"), "+OK");
	ck_starts(send1("DELE 1"), "+OK");
	ck_starts(send1("RSET"), "+OK");
	/* RETR queues only a first chunk and asks for more */
	P->line(c1.sess, "RETR 1", 6, 0);
	sent = c1.io.out.len;
	ck_assert(c1.io.more_output);
	ck_assert_uint_lt(sent, 256 * 1024);
	ck_assert_uint_gt(sent, 1000);
	/* a second chunk when the socket drained */
	c1.io.more_output = false;
	P->resume_output(c1.sess);
	ck_assert_uint_gt(c1.io.out.len, sent);
	ck_assert(c1.io.more_output);
	client_close(&c1);		/* the client goes away */
	ck_assert_int_eq(inbox_files("alice", NULL), 1);
	client_open(&c1, SVC_POP3);
	login(&c1);
	ck_assert_str_eq(send1("STAT"), "+OK 1 3145728\r\n");
	/* and a whole RETR gives exactly the stored bytes */
	{
		const char *r = send1("RETR 1");
		const char *body = strstr(r, "\r\n") + 2;

		ck_assert_uint_eq(strlen(body), big + 3);
		ck_assert(memcmp(body, msg, big) == 0);
		ck_assert_str_eq(body + big, ".\r\n");
	}
	free(msg);
}
END_TEST

START_TEST(test_long_listings_are_chunked)
{
	const size_t n = 4000;
	const char *r;
	size_t lines = 0;

	for (size_t i = 0; i < n; i++) {
		char name[64];

		snprintf(name, sizeof(name), "1700000000.M%zuP1.other", i);
		drop_file("alice", name, "Subject: s\n\nx\n");
	}
	login(&c1);
	P->line(c1.sess, "UIDL", 4, 0);
	ck_assert(c1.io.more_output);
	ck_assert_uint_lt(c1.io.out.len, 70 * 1024);
	/* the I/O layer asks for the rest as the socket drains */
	pump(&c1);
	r = take_reply(&c1);
	for (const char *p = r; (p = strstr(p, "\r\n")) != NULL; p += 2)
		lines++;
	ck_assert_uint_eq(lines, n + 2);
	ck_assert_str_eq(r + strlen(r) - 5, "\r\n.\r\n");
	ck_has(r, "\r\n4000 ");
	r = send1("LIST");
	ck_starts(r, "+OK 4000 messages (68000 octets)\r\n1 17\r\n");
	ck_has(r, "\r\n4000 17\r\n.\r\n");
}
END_TEST

START_TEST(test_bare_lf_file_sizes)
{
	const char *r, *body;

	drop_file("alice", "1700000000.M1P1.other", "Subject: lf\n\n.x\ny\n");
	login(&c1);
	/* 18 bytes on disk, 4 bare LF: 22 on the wire */
	ck_assert_str_eq(send1("LIST"), "+OK 1 messages (22 octets)\r\n1 22\r\n.\r\n");
	r = send1("RETR 1");
	ck_starts(r, "+OK 22 octets\r\n");
	body = strstr(r, "\r\n") + 2;
	ck_assert_str_eq(body, "Subject: lf\r\n\r\n..x\r\ny\r\n.\r\n");
}
END_TEST

/* RFC 1939 5: LIST, STAT, UIDL's message and RETR's "+OK n octets" agree
 * with the octets RETR sends when a file lacks its final line end (RETR
 * then adds CRLF before the terminator). */
START_TEST(test_no_final_eol_sizes)
{
	const char *r, *body;

	/* delivered in this order, and named so that they sort so */
	drop_file("alice", "1700000000.M1P1.other", "Subject: lf\n\nx\ny");
	drop_file("alice", "1700000000.M2P1.other", "Subject: cr\r\n\r\nz\r");
	deliver("alice", "Subject: crlf\r\n\r\nno end");	/* 23 bytes */
	login(&c1);
	/* 21: 16 on disk + 3 CR + CRLF; 19: 17 + CRLF; 25: 23 + CRLF */
	ck_assert_str_eq(send1("LIST"),
			 "+OK 3 messages (65 octets)\r\n1 21\r\n2 19\r\n3 25\r\n.\r\n");
	ck_assert_str_eq(send1("STAT"), "+OK 3 65\r\n");
	ck_assert_str_eq(send1("LIST 1"), "+OK 1 21\r\n");
	r = send1("RETR 1");
	ck_starts(r, "+OK 21 octets\r\n");
	body = strstr(r, "\r\n") + 2;
	ck_assert_str_eq(body, "Subject: lf\r\n\r\nx\r\ny\r\n.\r\n");
	ck_assert_uint_eq(strlen(body) - 3, 21);
	r = send1("RETR 2");
	ck_starts(r, "+OK 19 octets\r\n");
	body = strstr(r, "\r\n") + 2;
	ck_assert_str_eq(body, "Subject: cr\r\n\r\nz\r\r\n.\r\n");
	ck_assert_uint_eq(strlen(body) - 3, 19);
	r = send1("RETR 3");
	ck_starts(r, "+OK 25 octets\r\n");
	body = strstr(r, "\r\n") + 2;
	ck_assert_str_eq(body, "Subject: crlf\r\n\r\nno end\r\n.\r\n");
	ck_assert_uint_eq(strlen(body) - 3, 25);
	/* TOP of a message whose last line has no end */
	r = send1("TOP 1 5");
	ck_assert_str_eq(strstr(r, "\r\n") + 2,
			 "Subject: lf\r\n\r\nx\r\ny\r\n.\r\n");
	/* STAT leaves out the deleted one */
	ck_starts(send1("DELE 2"), "+OK");
	ck_assert_str_eq(send1("STAT"), "+OK 2 46\r\n");
}
END_TEST

/* Appends text to the one file in the user's cur/ (a file changed behind
 * the index's back, which Maildir software should never do). */
static void append_to_only_file(const char *user, const char *text)
{
	char path[4096];
	struct dirent *e;
	DIR *d;
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s/cur", mail_root, user);
	d = opendir(path);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/cur/%s", mail_root, user,
			 e->d_name);
		n++;
	}
	closedir(d);
	ck_assert_int_eq(n, 1);
	f = fopen(path, "a");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* RETR reads a small file with one read when its size is the index's; a
 * file that is not (changed behind the index's back) is read whole. */
START_TEST(test_retr_file_size_differs)
{
	const char *r;

	deliver("alice", MSG1);
	login(&c1);
	r = send1("RETR 1");
	ck_assert_str_eq(strstr(r, "\r\n") + 2, "From: a@b\r\nSubject: one\r\n\r\nbody one\r\n.\r\n");
	append_to_only_file("alice", "grown\r\n");
	r = send1("RETR 1");
	ck_assert_str_eq(strstr(r, "\r\n") + 2, "From: a@b\r\nSubject: one\r\n\r\nbody one\r\ngrown\r\n.\r\n");
	ck_assert_str_eq(send1("STAT"), "+OK 1 37\r\n");	/* the snapshot's */
}
END_TEST

START_TEST(test_snapshot_hides_new_mail)
{
	deliver("alice", MSG1);
	login(&c1);
	deliver("alice", MSG2);
	ck_assert_str_eq(send1("STAT"), "+OK 1 37\r\n");
	ck_starts(send1("RETR 2"), "-ERR");
	ck_starts(send1("QUIT"), "+OK");
	client_close(&c1);
	client_open(&c1, SVC_POP3);
	login(&c1);
	ck_assert_str_eq(send1("STAT"), "+OK 2 83\r\n");
}
END_TEST

START_TEST(test_message_expunged_by_imap_meanwhile)
{
	struct maildir_store *store;
	struct maildir_box *box;
	uint32_t uid;
	char err[256];

	deliver("alice", MSG1);
	deliver("alice", MSG2);
	login(&c1);
	/* an IMAP session expunges message 1 under the POP3 snapshot */
	ck_assert_int_eq(maildir_store_open(mail_root, "alice", &store, err,
					    sizeof(err)), 0);
	ck_assert_int_eq(maildir_box_open(store, "INBOX", 0, &box, err,
					  sizeof(err)), 0);
	uid = maildir_box_msg(box, 0)->uid;
	ck_assert_int_eq(maildir_box_expunge(box, &uid, 1, err, sizeof(err)), 0);
	maildir_box_close(&box);
	maildir_store_close(&store);
	/* numbers stay; the gone one says so; QUIT still works */
	ck_assert_str_eq(send1("STAT"), "+OK 2 83\r\n");
	ck_assert_str_eq(send1("RETR 1"), "-ERR message 1 was removed by another session\r\n");
	ck_starts(send1("RETR 2"), "+OK 46 octets");
	ck_starts(send1("DELE 1"), "+OK");
	ck_starts(send1("QUIT"), "+OK");
	ck_assert_int_eq(inbox_files("alice", NULL), 1);
}
END_TEST

START_TEST(test_second_session_in_use)
{
	login(&c1);
	client_open(&c2, SVC_POP3);
	ck_starts(csend(&c2, "USER alice"), "+OK");
	ck_assert_str_eq(csend(&c2, "PASS secret pw"),
			 "-ERR [IN-USE] maildrop is locked by another POP3 session\r\n");
	ck_assert(!c2.io.close);
	/* another user is fine */
	ck_starts(csend(&c2, "USER bob"), "+OK");
	ck_starts(csend(&c2, "PASS bobpw"), "+OK bob has");
	/* and alice again once the first session ends */
	client_close(&c1);
	client_close(&c2);
	client_open(&c2, SVC_POP3);
	login(&c2);
}
END_TEST

/* RFC 2449 6.5, 8.1.1: pop3_login_delay */
START_TEST(test_login_delay)
{
	char err[256];
	int64_t when;
	const char *r;

	/* off by default: not advertised, nothing recorded */
	ck_lacks(send1("CAPA"), "LOGIN-DELAY");
	login(&c1);
	ck_starts(send1("QUIT"), "+OK");
	ck_assert_int_eq(userdb_pop3_last_login(db, "alice", &when), 0);
	client_close(&c1);

	cfg.pop3_login_delay = 900;
	client_open(&c1, SVC_POP3);
	ck_has(send1("CAPA"), "\r\nLOGIN-DELAY 900\r\n");
	login(&c1);
	ck_has(send1("CAPA"), "\r\nLOGIN-DELAY 900\r\n");
	ck_assert_int_eq(userdb_pop3_last_login(db, "alice", &when), 1);
	ck_assert(when <= time(NULL) && when >= time(NULL) - 5);
	ck_starts(send1("QUIT"), "+OK");
	client_close(&c1);

	/* too soon: the right password, and still refused */
	client_open(&c1, SVC_POP3);
	ck_starts(send1("USER alice"), "+OK");
	r = send1("PASS secret pw");
	ck_starts(r, "-ERR [LOGIN-DELAY] ");
	ck_assert(!c1.io.close);
	ck_assert_uint_eq(n_delays, 0);		/* not a password failure */
	/* AUTH is refused the same way */
	ck_starts(send1("AUTH PLAIN AGFsaWNlAHNlY3JldCBwdw=="), "-ERR [LOGIN-DELAY]");
	/* other users are not affected */
	ck_starts(send1("USER bob"), "+OK");
	ck_starts(send1("PASS bobpw"), "+OK bob has");
	ck_starts(send1("QUIT"), "+OK");
	client_close(&c1);

	/* once the delay is over, alice gets in and the time moves on */
	ck_assert_int_eq(userdb_set_pop3_last_login(db, "alice",
						    time(NULL) - 901, err,
						    sizeof(err)), 0);
	client_open(&c1, SVC_POP3);
	login(&c1);
	ck_assert_int_eq(userdb_pop3_last_login(db, "alice", &when), 1);
	ck_assert(when >= time(NULL) - 5);
	/* a login refused with [IN-USE] does not count as one */
	ck_assert_int_eq(userdb_set_pop3_last_login(db, "alice",
						    time(NULL) - 1000, err,
						    sizeof(err)), 0);
	client_open(&c2, SVC_POP3);
	ck_starts(csend(&c2, "USER alice"), "+OK");
	ck_starts(csend(&c2, "PASS secret pw"), "-ERR [IN-USE]");
	ck_assert_int_eq(userdb_pop3_last_login(db, "alice", &when), 1);
	ck_assert(when <= time(NULL) - 1000);
	/* a clock set back does not lock anyone out */
	ck_assert_int_eq(userdb_set_pop3_last_login(db, "alice",
						    time(NULL) + 3600, err,
						    sizeof(err)), 0);
	client_close(&c1);
	client_close(&c2);
	client_open(&c1, SVC_POP3);
	login(&c1);
}
END_TEST

START_TEST(test_capa_transaction)
{
	const char *r;

	login(&c1);
	r = send1("CAPA");
	ck_has(r, "\r\nTOP\r\n");
	ck_has(r, "\r\nUIDL\r\n");
	ck_has(r, "\r\nPIPELINING\r\n");
	ck_lacks(r, "SASL");
	ck_lacks(r, "STLS");
	ck_starts(send1("NOOP"), "+OK");
}
END_TEST

START_TEST(test_idle_timeout)
{
	deliver("alice", MSG1);
	login(&c1);
	ck_starts(send1("DELE 1"), "+OK");
	P->timeout(c1.sess);
	ck_starts(take_reply(&c1), "-ERR");
	ck_assert(c1.io.close);
	client_close(&c1);
	ck_assert_int_eq(inbox_files("alice", NULL), 1);
	/* configurable */
	cfg.timeout_pop3 = 1234;
	client_open(&c1, SVC_POP3);
	ck_assert_uint_eq(c1.io.idle_timeout, 1234);
}
END_TEST

START_TEST(test_timeout_mid_retr)
{
	size_t big = 1024 * 1024;
	char *msg = malloc(big + 1);

	memset(msg, 'q', big);
	memcpy(msg, "Subject: x\r\n\r\n", 14);
	memcpy(msg + big - 2, "\r\n", 2);
	msg[big] = '\0';
	deliver("alice", msg);
	login(&c1);
	P->line(c1.sess, "RETR 1", 6, 0);
	ck_assert(c1.io.more_output);
	buf_clear(&c1.io.out);
	/* a client that stopped reading: no reply inside the message text,
	 * just the end of the connection */
	P->timeout(c1.sess);
	ck_assert_uint_eq(c1.io.out.len, 0);
	ck_assert(c1.io.close);
	client_close(&c1);
	ck_assert_int_eq(inbox_files("alice", NULL), 1);
	free(msg);
}
END_TEST

/* Random commands, arguments and junk: every line gets exactly one reply
 * that starts "+OK" or "-ERR" (multi-line ones end with "."), and the
 * session is never closed. */
static void random_lines(int count, unsigned int seed)
{
	static const char *const words[] = {
		"STAT", "LIST", "RETR", "DELE", "TOP", "UIDL", "RSET", "NOOP",
		"CAPA", "USER", "PASS", "AUTH", "APOP", "STLS", "XTND", "",
		"0", "1", "2", "3", "-1", "99999999999999999999", "x", ".",
		"+1", "PLAIN", "LOGIN", "*", "=", "dGVzdA==",
	};
	const size_t nwords = sizeof(words) / sizeof(words[0]);

	for (int i = 0; i < count; i++) {
		char line[200];
		size_t len = 0;
		int n = rand_r(&seed) % 4;
		const char *r;

		for (int w = 0; w < n + 1; w++) {
			const char *word = words[rand_r(&seed) % nwords];

			/* junk bytes now and then (QUIT never: it would end
			 * the session) */
			if (rand_r(&seed) % 10 == 0)
				word = "\x01\xff";
			len += (size_t)snprintf(line + len, sizeof(line) - len,
						"%s%s", w > 0 ? " " : "", word);
		}
		/* STLS would wait for a handshake that never comes */
		if (strncasecmp(line, "STLS", 4) == 0)
			continue;
		r = send1(line);
		while (strncmp(r, "+ ", 2) == 0)	/* inside AUTH */
			r = send1(words[rand_r(&seed) % nwords]);
		ck_assert_msg(strncmp(r, "+OK", 3) == 0 || strncmp(r, "-ERR", 4) == 0,
			      "[%s] -> [%s]", line, r);
		ck_assert_msg(strstr(r, "\r\n") == r + strlen(r) - 2 ||
			      strcmp(r + strlen(r) - 5, "\r\n.\r\n") == 0,
			      "[%s] -> [%s]", line, r);
		ck_assert(!c1.io.close);
	}
}

START_TEST(test_random_input_authorization)
{
	cfg.max_errors = 1000000;
	cfg.auth_max_failures = 0;	/* no limit */
	random_lines(1000, 4242);
	login(&c1);
}
END_TEST

START_TEST(test_random_input_transaction)
{
	deliver("alice", MSG1);
	deliver("alice", MSG2);
	deliver("alice", MSG3);
	login(&c1);
	cfg.max_errors = 1000000;
	random_lines(3000, 12345);
	ck_starts(send1("RSET"), "+OK maildrop has 3 messages");
	client_close(&c1);
	ck_assert_int_eq(inbox_files("alice", NULL), 3);
}
END_TEST

START_TEST(test_shutdown)
{
	deliver("alice", MSG1);
	login(&c1);
	ck_starts(send1("DELE 1"), "+OK");
	P->shutdown(c1.sess);
	ck_starts(take_reply(&c1), "-ERR [SYS/TEMP]");
	ck_assert(c1.io.close);
	client_close(&c1);
	ck_assert_int_eq(inbox_files("alice", NULL), 1);
}
END_TEST

START_TEST(test_missing_maildir)
{
	char err[256];

	ck_assert_int_eq(userdb_add(db, "carol", "carolpw", err, sizeof(err)), 0);
	ck_starts(send1("USER carol"), "+OK");
	ck_starts(send1("PASS carolpw"), "-ERR [SYS/TEMP]");
	ck_assert(!c1.io.close);
	login(&c1);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("pop3-session");
	TCase *a = tcase_create("authorization");
	TCase *t = tcase_create("transaction");

	tcase_add_checked_fixture(a, setup, teardown);
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(a, 60);
	tcase_set_timeout(t, 60);
	tcase_add_test(a, test_greeting_and_limits);
	tcase_add_test(a, test_capa_authorization);
	tcase_add_test(a, test_user_pass_login);
	tcase_add_test(a, test_login_with_address);
	tcase_add_test(a, test_pass_without_user);
	tcase_add_test(a, test_user_syntax);
	tcase_add_test(a, test_wrong_password_delay_then_disconnect);
	tcase_add_test(a, test_apop_not_offered);
	tcase_add_test(a, test_apop);
	tcase_add_test(a, test_quit_in_authorization);
	tcase_add_test(a, test_wrong_state_commands);
	tcase_add_test(a, test_unknown_and_empty);
	tcase_add_test(a, test_too_many_errors_disconnects);
	tcase_add_test(a, test_nul_and_bare_cr);
	tcase_add_test(a, test_overlong_line_stays_in_sync);
	tcase_add_test(a, test_pipelining);
	tcase_add_test(a, test_auth_plain_initial);
	tcase_add_test(a, test_auth_plain_continuation);
	tcase_add_test(a, test_auth_login);
	tcase_add_test(a, test_auth_wrong_password);
	tcase_add_test(a, test_auth_bad_base64_and_cancel);
	tcase_add_test(a, test_auth_mechanisms);
	tcase_add_test(a, test_auth_long_sasl_response);
	tcase_add_test(a, test_auth_overlong_response);
	tcase_add_test(a, test_stls_discards_garbage);
	tcase_add_test(a, test_plaintext_refused_off_loopback);
	tcase_add_test(a, test_plaintext_allowed_by_config);
	tcase_add_test(a, test_pop3s_has_no_stls);
	tcase_add_test(a, test_trace_hides_secrets);
	tcase_add_test(a, test_missing_maildir);
	tcase_add_test(t, test_stat_list_uidl);
	tcase_add_test(t, test_retr_and_top);
	tcase_add_test(t, test_bad_message_numbers);
	tcase_add_test(t, test_deleted_messages);
	tcase_add_test(t, test_quit_deletes_and_marks_seen);
	tcase_add_test(t, test_disconnect_after_dele_deletes_nothing);
	tcase_add_test(t, test_disconnect_mid_retr);
	tcase_add_test(t, test_bare_lf_file_sizes);
	tcase_add_test(t, test_no_final_eol_sizes);
	tcase_add_test(t, test_retr_file_size_differs);
	tcase_add_test(t, test_long_listings_are_chunked);
	tcase_add_test(t, test_snapshot_hides_new_mail);
	tcase_add_test(t, test_message_expunged_by_imap_meanwhile);
	tcase_add_test(t, test_second_session_in_use);
	tcase_add_test(t, test_capa_transaction);
	tcase_add_test(t, test_login_delay);
	tcase_add_test(t, test_idle_timeout);
	tcase_add_test(t, test_timeout_mid_retr);
	tcase_add_test(a, test_random_input_authorization);
	tcase_add_test(t, test_random_input_transaction);
	tcase_add_test(t, test_shutdown);
	suite_add_tcase(s, a);
	suite_add_tcase(s, t);
	return s;
}
