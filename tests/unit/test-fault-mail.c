/* Fault injection in POP3 and IMAP (pop3d/fault.c, imapd/fault.c) driven
 * through test ios: [IN-USE], NO [UNAVAILABLE], BYE, a RETR and a FETCH
 * cut in the middle (nothing deleted, no flag set), delays that wait for
 * the I/O layer's timer, and nothing at all while fault_injection is off. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/fault.h"
#include "common/log.h"
#include "common/users.h"
#include "common/xalloc.h"
#include "imapd/imap.h"
#include "maildir/deliver.h"
#include "maildir/user.h"
#include "pop3d/pop3.h"
#include "tests/unit/unit.h"

static char *dir, *mail_root;
static struct config cfg;
static struct userdb *db;
static struct proto_io io;
static const struct protocol *P;
static void *sess;
static char *got;

static unsigned int after_ms;
static work_fn *after_done;
static void *after_arg;

static void record_after(struct proto_io *io_, unsigned int ms, work_fn *done,
			 void *arg)
{
	(void)io_;
	after_ms = ms;
	after_done = done;
	after_arg = arg;
}

static const char *MSG = "From: a@b\r\nSubject: one\r\n\r\n"
	"a body line long enough to be cut in the middle\r\n";

static void setup(void)
{
	char err[512];
	struct buf b = BUF_INIT(BUF_UNLIMITED);

	log_open(NULL, false);
	dir = unit_tmpdir();
	config_defaults(&cfg, dir);
	db = userdb_open(dir, err, sizeof(err));
	ck_assert_msg(db != NULL, "%s", err);
	ck_assert_int_eq(userdb_add(db, "bob", "bobpw", err, sizeof(err)), 0);
	buf_printf(&b, "%s/mail", dir);
	mail_root = buf_steal(&b);
	ck_assert_int_eq(maildir_user_create(mail_root, "bob", err, sizeof(err)), 0);
	sess = NULL;
	got = NULL;
	after_done = NULL;
}

static void close_session(void)
{
	if (sess != NULL) {
		P->close(sess);
		io_free(&io);
	}
	sess = NULL;
}

static void teardown(void)
{
	close_session();
	free(got);
	userdb_close(&db);
	config_free(&cfg);
	unit_rmtree(dir);
	free(dir);
	free(mail_root);
}

static void configure(const char *text)
{
	char err[256];

	ck_assert_msg(config_parse(&cfg, "maillab.conf", text, err,
				   sizeof(err)) == 0, "%s", err);
}

static void deliver(void)
{
	char err[512];
	struct maildir_delivery *d = maildir_delivery_begin(mail_root, err,
							    sizeof(err));
	struct maildir_rcpt r = { "bob", NULL };

	ck_assert_msg(d != NULL, "%s", err);
	ck_assert_int_eq(maildir_delivery_write(d, MSG, strlen(MSG)), 0);
	ck_assert_msg(maildir_delivery_commit(d, &r, 1, err, sizeof(err)) == 0,
		      "%s", err);
	maildir_delivery_free(&d);
}

/* Messages in bob's INBOX, and how many are \Seen. */
static int inbox(int *seen_r)
{
	static const char *const subs[] = { "cur", "new" };
	int n = 0, seen = 0;

	for (size_t i = 0; i < 2; i++) {
		char path[4096];
		struct dirent *e;
		DIR *dp;

		snprintf(path, sizeof(path), "%s/bob/%s", mail_root, subs[i]);
		dp = opendir(path);
		ck_assert_ptr_nonnull(dp);
		while ((e = readdir(dp)) != NULL) {
			const char *fl = strstr(e->d_name, ":2,");

			if (e->d_name[0] == '.')
				continue;
			n++;
			if (fl != NULL && strchr(fl + 3, 'S') != NULL)
				seen++;
		}
		closedir(dp);
	}
	*seen_r = seen;
	return n;
}

static const char *take(void)
{
	free(got);
	got = xstrdup(buf_cstr(&io.out));
	buf_clear(&io.out);
	return got;
}

static void open_session(const struct protocol *proto, enum service_id svc)
{
	close_session();
	P = proto;
	io_init_test(&io, &cfg, svc);
	io.users = db;
	sess = P->open(&io);
	take();
}

/* Sends one line (no CRLF), lets the session write all it wants (as the
 * I/O layer does while it asks for more), returns the output. */
static const char *say(const char *line)
{
	P->line(sess, line, strlen(line), 0);
	while (io.more_output && !io.close) {
		io.more_output = false;
		P->resume_output(sess);
	}
	return take();
}

#define ck_starts(s, prefix) \
	ck_assert_msg(strncmp((s), (prefix), strlen(prefix)) == 0, \
		      "[%s] does not start with [%s]", (s), (prefix))
#define ck_has(s, part) \
	ck_assert_msg(strstr((s), (part)) != NULL, "[%s] lacks [%s]", (s), (part))

/* --- POP3 --- */

START_TEST(test_pop3_in_use_by_name)
{
	configure("fault_injection = on\n");
	open_session(&pop3_protocol, SVC_POP3);
	ck_starts(say("USER bob+fault.pass.in-use"), "+OK");
	ck_starts(say("PASS bobpw"), "-ERR [IN-USE] Injected fault");
	/* as after a wrong password, USER comes first again */
	ck_starts(say("PASS bobpw"), "-ERR");
	/* another session, without the suffix, logs in */
	open_session(&pop3_protocol, SVC_POP3);
	ck_starts(say("USER bob"), "+OK");
	ck_starts(say("PASS bobpw"), "+OK");
}
END_TEST

/* AUTH PLAIN: the SASL user name carries the suffix; PASS, APOP and AUTH
 * rules stand for each other at login */
START_TEST(test_pop3_sasl_name)
{
	configure("fault_injection = on\n");
	open_session(&pop3_protocol, SVC_POP3);
	/* "\0bob+fault.pass.in-use\0bobpw" */
	ck_starts(say("AUTH PLAIN AGJvYitmYXVsdC5wYXNzLmluLXVzZQBib2Jwdw=="),
		  "-ERR [IN-USE] Injected fault");
	open_session(&pop3_protocol, SVC_POP3);
	/* "\0bob+fault.retr.drop\0bobpw": logged in as bob */
	ck_starts(say("AUTH PLAIN AGJvYitmYXVsdC5yZXRyLmRyb3AAYm9icHc="), "+OK");
	ck_starts(say("STAT"), "+OK");
}
END_TEST

START_TEST(test_pop3_retr_cut_deletes_nothing)
{
	const char *r;
	int seen;

	deliver();
	configure("fault_injection = on\n");
	open_session(&pop3_protocol, SVC_POP3);
	ck_starts(say("USER bob+fault.retr.drop"), "+OK");
	ck_starts(say("PASS bobpw"), "+OK");
	ck_starts(say("DELE 1"), "+OK");
	ck_starts(say("RSET"), "+OK");
	r = say("RETR 1");
	ck_starts(r, "+OK");
	ck_has(r, "Subject: one");
	ck_assert_ptr_null(strstr(r, "in the middle\r\n.\r\n"));
	ck_assert(io.close);
	close_session();
	ck_assert_int_eq(inbox(&seen), 1);
	ck_assert_int_eq(seen, 0);
}
END_TEST

START_TEST(test_pop3_config_bye_and_delay)
{
	configure("fault_injection = on\nfault pop3 STAT = bye\n"
		  "fault pop3 LIST = delay700\nfault pop3 NOOP = 452\n");
	open_session(&pop3_protocol, SVC_POP3);
	io.after = record_after;
	ck_starts(say("USER bob"), "+OK");
	ck_starts(say("PASS bobpw"), "+OK");
	ck_starts(say("NOOP"), "-ERR [SYS/TEMP] Injected fault");
	ck_assert_str_eq(say("LIST"), "");
	ck_assert_uint_eq(after_ms, 700);
	after_done(after_arg);
	ck_starts(take(), "+OK 0 messages");
	ck_starts(say("STAT"), "-ERR [SYS/TEMP] Injected fault: closing");
	ck_assert(io.close);
}
END_TEST

/* A session whose greeting is returned; with_timer: the I/O layer's
 * timer is recorded instead of run at once. */
static const char *open_greeting(const struct protocol *proto,
				 enum service_id svc, bool with_timer)
{
	close_session();
	P = proto;
	io_init_test(&io, &cfg, svc);
	io.users = db;
	if (with_timer)
		io.after = record_after;
	sess = P->open(&io);
	return take();
}

START_TEST(test_pop3_greeting_faults)
{
	configure("fault_injection = on\nfault pop3 GREETING = 451\n");
	ck_starts(open_greeting(&pop3_protocol, SVC_POP3, false),
		  "-ERR [SYS/TEMP] Injected fault: service not available");
	ck_assert(io.close);
	/* later lines are not read */
	ck_assert_str_eq(say("USER bob"), "");
}
END_TEST

START_TEST(test_pop3_greeting_perm_and_delay)
{
	configure("fault_injection = on\nfault pop3 GREETING = delay1200\n"
		  "fault pop3 GREETING = 554\n");
	ck_assert_str_eq(open_greeting(&pop3_protocol, SVC_POP3, true), "");
	ck_assert_uint_eq(after_ms, 1200);
	after_done(after_arg);
	ck_starts(take(), "-ERR [SYS/PERM] Injected fault: no POP3 service here");
	ck_assert(io.close);
}
END_TEST

START_TEST(test_pop3_greeting_delay_then_served)
{
	configure("fault_injection = on\nfault pop3 GREETING = delay50\n"
		  "fault pop3 * = delay60\n");
	ck_assert_str_eq(open_greeting(&pop3_protocol, SVC_POP3, true), "");
	ck_assert_uint_eq(after_ms, 50);	/* "*" is no greeting rule */
	after_done(after_arg);
	ck_starts(take(), "+OK");
	ck_assert(!io.close);
}
END_TEST

/* USER names a fault for USER itself; later USERs of the session too */
START_TEST(test_pop3_user_name)
{
	configure("fault_injection = on\n");
	open_session(&pop3_protocol, SVC_POP3);
	ck_starts(say("USER bob+fault.user.in-use"), "-ERR [IN-USE] Injected fault");
	ck_starts(say("USER bob"), "-ERR [IN-USE]");
	open_session(&pop3_protocol, SVC_POP3);
	ck_starts(say("USER bob+fault.user.bye"), "-ERR [SYS/TEMP] Injected fault: closing");
	ck_assert(io.close);
	/* a suffix for another command: USER goes on as always */
	open_session(&pop3_protocol, SVC_POP3);
	ck_starts(say("USER bob+fault.stat.554"), "+OK");
	ck_starts(say("PASS bobpw"), "+OK");
	ck_starts(say("STAT"), "-ERR [SYS/PERM] Injected fault");
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
	for (unsigned int i = 0; i < len; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* APOP name digest: the name may carry the suffix (the digest covers
 * only the timestamp and the secret) */
START_TEST(test_pop3_apop_name)
{
	char err[256], ts[256], digest[33], line[512];
	const char *greeting, *lt, *gt;

	configure("fault_injection = on\npop3_apop = yes\n");
	ck_assert_msg(userdb_set_apop_secret(db, "bob", "bobpw", err, sizeof(err)) == 0,
		      "%s", err);
	open_greeting(&pop3_protocol, SVC_POP3, false);
	ck_starts(say("APOP bob+fault.apop.in-use 0123456789abcdef0123456789abcdef"),
		  "-ERR [IN-USE] Injected fault");
	greeting = open_greeting(&pop3_protocol, SVC_POP3, false);
	lt = strchr(greeting, '<');
	gt = strchr(greeting, '>');
	ck_assert(lt != NULL && gt != NULL && gt - lt < 255);
	snprintf(ts, sizeof(ts), "%.*s", (int)(gt - lt + 1), lt);
	apop_digest(ts, "bobpw", digest);
	snprintf(line, sizeof(line), "APOP bob+fault.stat.452 %s", digest);
	ck_starts(say(line), "+OK bob has");
	ck_starts(say("STAT"), "-ERR [SYS/TEMP] Injected fault");
}
END_TEST

START_TEST(test_imap_greeting_faults)
{
	configure("fault_injection = on\nfault imap GREETING = bye\n");
	ck_starts(open_greeting(&imap_protocol, SVC_IMAP, false),
		  "* BYE [UNAVAILABLE] Injected fault");
	ck_assert(io.close);
}
END_TEST

START_TEST(test_imap_greeting_perm_and_delay)
{
	configure("fault_injection = on\nfault imap GREETING = delay400\n"
		  "fault imap GREETING = 550\n");
	ck_assert_str_eq(open_greeting(&imap_protocol, SVC_IMAP, true), "");
	ck_assert_uint_eq(after_ms, 400);
	after_done(after_arg);
	ck_starts(take(), "* BYE Injected fault: no IMAP service here");
	ck_assert(io.close);
}
END_TEST

START_TEST(test_imap_greeting_delay_then_served)
{
	configure("fault_injection = on\nfault imap GREETING = delay40\n");
	ck_assert_str_eq(open_greeting(&imap_protocol, SVC_IMAP, true), "");
	after_done(after_arg);
	ck_starts(take(), "* OK [CAPABILITY IMAP4rev1");
	ck_starts(say("a1 LOGIN bob bobpw"), "a1 OK");
}
END_TEST

START_TEST(test_imap_greeting_drop)
{
	configure("fault_injection = on\nfault imap GREETING = drop\n");
	ck_assert_str_eq(open_greeting(&imap_protocol, SVC_IMAP, false), "");
	ck_assert(io.close);
}
END_TEST

START_TEST(test_pop3_off_means_off)
{
	configure("fault pop3 PASS = in-use\n");
	open_session(&pop3_protocol, SVC_POP3);
	ck_starts(say("USER bob"), "+OK");
	ck_starts(say("PASS bobpw"), "+OK");
	open_session(&pop3_protocol, SVC_POP3);
	ck_starts(say("USER bob+fault.pass.in-use"), "+OK");
	/* no such user: the suffix is part of the name */
	ck_starts(say("PASS bobpw"), "-ERR [AUTH]");
}
END_TEST

/* --- IMAP --- */

START_TEST(test_imap_login_unavailable_by_name)
{
	configure("fault_injection = on\n");
	open_session(&imap_protocol, SVC_IMAP);
	ck_starts(say("a1 LOGIN bob+fault.login.unavailable bobpw"),
		  "a1 NO [UNAVAILABLE] Injected fault");
	open_session(&imap_protocol, SVC_IMAP);
	ck_starts(say("a1 LOGIN bob bobpw"), "a1 OK");
}
END_TEST

START_TEST(test_imap_authenticate_name)
{
	configure("fault_injection = on\n");
	open_session(&imap_protocol, SVC_IMAP);
	/* "\0bob+fault.login.unavailable\0bobpw" */
	ck_starts(say("a1 AUTHENTICATE PLAIN "
		      "AGJvYitmYXVsdC5sb2dpbi51bmF2YWlsYWJsZQBib2Jwdw=="),
		  "a1 NO [UNAVAILABLE] Injected fault");
	ck_starts(say("a2 CAPABILITY"), "* CAPABILITY");
	/* the same through a continuation, and a BYE */
	open_session(&imap_protocol, SVC_IMAP);
	ck_starts(say("a1 AUTHENTICATE PLAIN"), "+ ");
	ck_assert_str_eq(say("AGJvYitmYXVsdC5hdXRoZW50aWNhdGUuYnllAGJvYnB3"),
			 "* BYE Injected fault: closing connection\r\n");
	ck_assert(io.close);
	open_session(&imap_protocol, SVC_IMAP);
	ck_starts(say("a1 AUTHENTICATE PLAIN AGJvYgBib2Jwdw=="), "a1 OK");
}
END_TEST

START_TEST(test_imap_bye_mid_session)
{
	configure("fault_injection = on\n");
	open_session(&imap_protocol, SVC_IMAP);
	ck_starts(say("a1 LOGIN bob+fault.select.bye bobpw"), "a1 OK");
	ck_starts(say("a2 LIST \"\" \"*\""), "* LIST");
	ck_assert_str_eq(say("a3 SELECT INBOX"),
			 "* BYE Injected fault: closing connection\r\n");
	ck_assert(io.close);
}
END_TEST

START_TEST(test_imap_fetch_cut_sets_no_flag)
{
	const char *r;
	int seen;

	deliver();
	configure("fault_injection = on\n");
	open_session(&imap_protocol, SVC_IMAP);
	ck_starts(say("a1 LOGIN bob+fault.fetch.drop bobpw"), "a1 OK");
	ck_has(say("a2 SELECT INBOX"), "a2 OK");
	r = say("a3 FETCH 1 BODY[]");
	ck_starts(r, "* 1 FETCH (BODY[] {");
	ck_assert_ptr_null(strstr(r, "a3 "));
	ck_assert_ptr_null(strstr(r, "in the middle"));
	ck_assert(io.close);
	close_session();
	ck_assert_int_eq(inbox(&seen), 1);
	ck_assert_int_eq(seen, 0);
}
END_TEST

START_TEST(test_imap_config_reply_and_delay)
{
	configure("fault_injection = on\nfault imap CREATE = 554\n"
		  "fault imap NOOP = delay300\n");
	open_session(&imap_protocol, SVC_IMAP);
	io.after = record_after;
	ck_starts(say("a1 LOGIN bob bobpw"), "a1 OK");
	ck_starts(say("a2 CREATE Box"), "a2 NO [CANNOT] Injected fault");
	ck_assert_str_eq(say("a3 NOOP"), "");
	ck_assert_uint_eq(after_ms, 300);
	after_done(after_arg);
	ck_starts(take(), "a3 OK");
	ck_starts(say("a4 LOGOUT"), "* BYE");
}
END_TEST

/* An APPEND refused by a fault after its message literal came stores
 * nothing and leaves no file in tmp/. */
START_TEST(test_imap_append_refused_leaves_nothing)
{
	const char *text = "Subject: x\r\n\r\nhi\r\n";
	char path[4200];
	struct dirent *e;
	DIR *dp;
	int seen, tmp = 0;

	configure("fault_injection = on\nfault imap APPEND = 451\n");
	open_session(&imap_protocol, SVC_IMAP);
	ck_starts(say("a1 LOGIN bob bobpw"), "a1 OK");
	P->line(sess, "a2 APPEND INBOX {18+}", 21, 0);
	ck_assert_int_eq(io.mode, INPUT_BYTES);
	ck_assert_uint_eq(io.bytes_wanted, strlen(text));
	if (io.bytes_sink != NULL)
		io.bytes_sink(io.bytes_sink_arg, text, strlen(text));
	io.mode = INPUT_LINE;
	P->bytes(sess, io.bytes_sink != NULL ? "" : text,
		 io.bytes_sink != NULL ? 0 : strlen(text));
	ck_starts(say(""), "a2 NO [UNAVAILABLE] Injected fault");
	ck_assert_int_eq(inbox(&seen), 0);
	/* deliveries are written under MAIL_ROOT/.tmp (maildir/deliver.h) */
	snprintf(path, sizeof(path), "%s/.tmp", mail_root);
	dp = opendir(path);
	ck_assert_ptr_nonnull(dp);
	while ((e = readdir(dp)) != NULL)
		tmp += e->d_name[0] != '.';
	closedir(dp);
	ck_assert_int_eq(tmp, 0);
	ck_starts(say("a3 NOOP"), "a3 OK");
}
END_TEST

START_TEST(test_imap_off_means_off)
{
	configure("fault imap LOGIN = unavailable\n");
	open_session(&imap_protocol, SVC_IMAP);
	ck_starts(say("a1 LOGIN bob bobpw"), "a1 OK");
	open_session(&imap_protocol, SVC_IMAP);
	ck_starts(say("a1 LOGIN bob+fault.login.unavailable bobpw"),
		  "a1 NO [AUTHENTICATIONFAILED]");
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("fault-mail");
	TCase *tc = tcase_create("fault-mail");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_pop3_in_use_by_name);
	tcase_add_test(tc, test_pop3_sasl_name);
	tcase_add_test(tc, test_pop3_retr_cut_deletes_nothing);
	tcase_add_test(tc, test_pop3_config_bye_and_delay);
	tcase_add_test(tc, test_pop3_off_means_off);
	tcase_add_test(tc, test_imap_login_unavailable_by_name);
	tcase_add_test(tc, test_imap_authenticate_name);
	tcase_add_test(tc, test_imap_bye_mid_session);
	tcase_add_test(tc, test_imap_fetch_cut_sets_no_flag);
	tcase_add_test(tc, test_imap_config_reply_and_delay);
	tcase_add_test(tc, test_imap_append_refused_leaves_nothing);
	tcase_add_test(tc, test_imap_off_means_off);
	tcase_add_test(tc, test_pop3_greeting_faults);
	tcase_add_test(tc, test_pop3_greeting_perm_and_delay);
	tcase_add_test(tc, test_pop3_greeting_delay_then_served);
	tcase_add_test(tc, test_pop3_user_name);
	tcase_add_test(tc, test_pop3_apop_name);
	tcase_add_test(tc, test_imap_greeting_faults);
	tcase_add_test(tc, test_imap_greeting_perm_and_delay);
	tcase_add_test(tc, test_imap_greeting_delay_then_served);
	tcase_add_test(tc, test_imap_greeting_drop);
	suite_add_tcase(s, tc);
	return s;
}
