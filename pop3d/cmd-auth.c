/* The AUTHORIZATION state (RFC 1939 4): USER, PASS, APOP, AUTH (RFC 5034)
 * and STLS (RFC 2595 4), and the step into TRANSACTION: the password
 * check, then the maildrop lock and snapshot, both off the loop thread. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/log.h"
#include "common/users.h"
#include "common/xalloc.h"
#include "pop3d/pop3-int.h"

/* A SASL response line: the base64 of the largest response the shared SASL
 * server takes, with CRLF.  RFC 5034 4 keeps the AUTH command itself within
 * the RFC 2449 limit; the responses that follow carry whole PLAIN
 * credentials, which may be longer. */
#define SASL_LINE_MAX (4 * ((SASL_RESPONSE_MAX + 2) / 3) + 2)

/* Opening the maildrop on a worker thread. */
struct open_job {
	struct pop3_session *s;
	char *user;
	struct pop3_maildrop *drop;
	bool in_use;
	unsigned int wait;	/* > 0: refused for LOGIN-DELAY, seconds left */
	int ret;
	char err[256];
	char note[256];		/* logged on the loop thread when not "" */
};

/* RFC 2449 8.1.1 [LOGIN-DELAY]: with pop3_login_delay set, a user may log
 * in again only that many seconds after the last successful POP3 login,
 * kept in users.db (common/users.h) so that it holds across connections,
 * processes and restarts.  Returns 0 when the login may go on, 1 when it
 * is too soon (job->wait set), -1 when users.db cannot be read. */
static int check_login_delay(struct open_job *job, int64_t now)
{
	unsigned int delay = job->s->io->cfg->pop3_login_delay;
	int64_t last;
	int found;

	if (delay == 0)
		return 0;
	found = userdb_pop3_last_login(job->s->io->users, job->user, &last);
	if (found < 0) {
		snprintf(job->err, sizeof(job->err), "users.db: cannot read the last login time");
		return -1;
	}
	/* a clock set back makes the last login look later than now:
	 * that does not lock the user out */
	if (found == 0 || now < last || now - last >= delay)
		return 0;
	job->wait = (unsigned int)(delay - (now - last));
	return 1;
}

static void open_work(void *arg)
{
	struct open_job *job = arg;
	int64_t now = time(NULL);
	int r = check_login_delay(job, now);

	if (r != 0) {
		job->ret = -1;
		return;
	}
	job->ret = maildrop_open(job->s->mail_root, job->user, &job->drop,
				 &job->in_use, job->err, sizeof(job->err));
	if (job->ret < 0 || job->s->io->cfg->pop3_login_delay == 0)
		return;
	/* Recorded only once the maildrop is ours: a login refused with
	 * [IN-USE] does not start the delay.  The POP3 lock also keeps two
	 * sessions of one user from both passing the check.  A failure
	 * leaves its message in job->note for open_done to log; the login
	 * stands. */
	userdb_set_pop3_last_login(job->s->io->users, job->user, now,
				   job->note, sizeof(job->note));
}

static void open_done(void *arg)
{
	struct open_job *job = arg;
	struct pop3_session *s = job->s;
	uint64_t total = 0;

	s->job_pending = false;
	if (job->note[0] != '\0')
		pop3_log(s, "login user=%s: recording the login time failed: %s",
			 job->user, job->note);
	if (job->ret < 0 && job->wait > 0) {
		pop3_log(s, "login user=%s refused: login delay, %u s left",
			 job->user, job->wait);
		pop3_err(s, "LOGIN-DELAY", "logged in less than %u seconds ago, try again in %u seconds",
			 s->io->cfg->pop3_login_delay, job->wait);
	} else if (job->ret < 0 && job->in_use) {
		/* RFC 2449 8.1.1: another POP3 session has the maildrop. */
		pop3_log(s, "login user=%s refused: in use",
			job->user);
		pop3_err(s, "IN-USE", "maildrop is locked by another POP3 session");
	} else if (job->ret < 0) {
		pop3_log(s, "login user=%s: %s", job->user,
			job->err);
		pop3_err(s, "SYS/TEMP", "cannot open the maildrop, try again later");
	} else {
		s->drop = job->drop;
		s->count = maildrop_count(s->drop);
		s->marks = xcalloc(s->count > 0 ? s->count : 1, 1);
		for (size_t i = 0; i < s->count; i++)
			total += maildrop_size(s->drop, i);
		free(s->user);
		s->user = job->user;
		job->user = NULL;
		pop3_enter_state(s, POP3_TRANSACTION);
		pop3_ok(s, "%s has %zu messages (%llu octets)", s->user,
			s->count, (unsigned long long)total);
	}
	if (job->ret < 0) {
		free(s->user);
		s->user = NULL;
	}
	free(job->user);
	free(job);
}

/* auth_check / auth_reject are over. */
static void login_done(void *sess, enum auth_result result, const char *user)
{
	struct pop3_session *s = sess;
	struct open_job *job;

	s->job_pending = false;
	switch (result) {
	case AUTH_OK:
		job = xcalloc(1, sizeof(*job));
		job->s = s;
		job->user = xstrdup(user);
		s->job_pending = true;
		s->io->defer(s->io, open_work, open_done, job);
		return;
	case AUTH_FAILED:
		pop3_err(s, "AUTH", "invalid user name or password");
		break;
	case AUTH_FAILED_CLOSE:
		pop3_err(s, "AUTH", "invalid user name or password, closing connection");
		pop3_close(s);
		break;
	case AUTH_TEMPFAIL:
		pop3_err(s, "SYS/TEMP", "user database unavailable, try again later");
		break;
	case AUTH_LOCKED:
		/* RFC 3206 4: temporary, the client may try again later */
		pop3_err(s, "SYS/TEMP", "too many failed logins, try again later");
		break;
	}
	free(s->user);
	s->user = NULL;
}

/* DESIGN.md: no password in clear off loopback unless the lab allows it;
 * RFC 2595 2.3: a server with STLS must be able to refuse clear-text
 * logins until TLS is active. */
static bool plaintext_refused(struct pop3_session *s)
{
	if (auth_plaintext_allowed(s->io))
		return false;
	pop3_bad(s, "[AUTH] plaintext authentication disallowed on a "
		 "non-secure connection: use STLS first");
	return true;
}

/* USER name (RFC 1939 7) */
void pop3_cmd_user(struct pop3_session *s, char *args)
{
	char *argv[1];

	if (pop3_split_args(args, argv, 1) != 1) {
		pop3_bad(s, "syntax: USER name");
		return;
	}
	if (plaintext_refused(s))
		return;
	/* Whether the user exists is told only after PASS, so that USER
	 * cannot be used to probe for names. */
	if (pop3_fault_user(s, argv[0]))
		return;
	free(s->user);
	s->user = xstrdup(argv[0]);
	pop3_ok(s, "send your password");
}

/* PASS string (RFC 1939 7): the password is the rest of the line, spaces
 * included. */
void pop3_cmd_pass(struct pop3_session *s, char *args)
{
	if (s->user == NULL) {
		pop3_bad(s, "PASS needs a USER command first");
		return;
	}
	if (*args == '\0') {
		pop3_bad(s, "syntax: PASS password");
		return;
	}
	if (plaintext_refused(s))
		return;
	s->job_pending = true;
	auth_check(s->io, &s->auth, s->user, args, login_done, s);
	explicit_bzero(args, strlen(args));
}

/* APOP name digest (RFC 1939 7), offered only with pop3_apop = yes.
 *
 * The digest is MD5 of the greeting's timestamp followed by a secret
 * shared with the client, so the server must be able to read that secret:
 * users.db's yescrypt hashes cannot serve, and with pop3_apop on `maillab
 * user add/passwd` also stores the password in a reversible form
 * (common/users.h explains the cost: whoever reads users.db reads those
 * passwords).  A user added before pop3_apop was turned on has no secret
 * and gets -ERR [AUTH] until the password is set again.
 *
 * Plaintext policy: APOP is accepted on a connection without TLS, even
 * off loopback where USER/PASS and AUTH PLAIN are refused.  That is its
 * purpose (RFC 1939 7: the password is never sent), and the digest is
 * bound to this session's unique timestamp, so it cannot be replayed.  It
 * is still weaker than TLS: an eavesdropper who records one exchange can
 * try passwords offline against MD5 at great speed, and the session that
 * follows (the mail itself) is in clear.  So STLS/POP3S remain the advice;
 * the administrator who turns pop3_apop on accepts that trade-off.
 *
 * Failures go through the shared policy (auth_reject): counted, delayed
 * and logged like a wrong password, then the disconnect after
 * auth_max_failures. */

struct apop_job {
	struct pop3_session *s;
	char *user;		/* normalised */
	char digest[33];
	int result;		/* userdb_apop_verify */
};

static void apop_work(void *arg)
{
	struct apop_job *job = arg;

	job->result = userdb_apop_verify(job->s->io->users, job->user,
					 job->s->apop_ts, job->digest);
}

static void apop_done(void *arg)
{
	struct apop_job *job = arg;
	struct pop3_session *s = job->s;

	s->job_pending = false;
	explicit_bzero(job->digest, sizeof(job->digest));
	if (job->result > 0) {
		pop3_log(s, "auth user=%s mech=APOP ok", job->user);
		auth_trace_result(s->io, AUTH_OK, job->user);
		login_done(s, AUTH_OK, job->user);
	} else if (job->result < 0) {
		pop3_log(s, "auth user=%s mech=APOP: users.db error", job->user);
		login_done(s, AUTH_TEMPFAIL, job->user);
	} else {
		pop3_log(s, "auth user=%s mech=APOP failed", job->user);
		s->job_pending = true;
		auth_reject(s->io, &s->auth, "APOP digest mismatch or no APOP secret",
			    login_done, s);
	}
	free(job->user);
	free(job);
}

static bool is_md5_hex(const char *digest)
{
	if (strlen(digest) != 32)
		return false;
	for (const char *p = digest; *p != '\0'; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
		      (*p >= 'A' && *p <= 'F')))
			return false;
	return true;
}

void pop3_cmd_apop(struct pop3_session *s, char *args)
{
	struct apop_job *job;
	char *argv[2];

	if (s->apop_ts == NULL) {
		pop3_err(s, NULL, "APOP is not available on this server: use USER/PASS or AUTH after STLS");
		return;
	}
	if (pop3_split_args(args, argv, 2) != 2 || !is_md5_hex(argv[1])) {
		pop3_bad(s, "syntax: APOP name digest (32 hex digits)");
		return;
	}
	free(s->user);
	s->user = NULL;
	/* the name may carry a fault suffix; the digest does not cover it */
	if (pop3_fault_login(s, argv[0], "APOP"))
		return;
	if (auth_locked(s->io, argv[0])) {
		login_done(s, AUTH_LOCKED, argv[0]);
		return;
	}
	job = xcalloc(1, sizeof(*job));
	job->s = s;
	job->user = auth_normalise_user(s->io->cfg, argv[0]);
	memcpy(job->digest, argv[1], 33);
	explicit_bzero(argv[1], 32);
	s->job_pending = true;
	s->io->defer(s->io, apop_work, apop_done, job);
}

/* The SASL exchange gave a user and a password: check them, unless a
 * fault the user name asks for answers first (pop3d/fault.c). */
static void sasl_verify(struct pop3_session *s)
{
	const char *name = sasl_user(&s->sasl);
	char user[512];

	if (strlen(name) < sizeof(user)) {
		memcpy(user, name, strlen(name) + 1);
		if (pop3_fault_login(s, user, "AUTH"))
			return;
		name = user;
	}
	s->job_pending = true;
	auth_check(s->io, &s->auth, name, sasl_password(&s->sasl), login_done, s);
}

/* Acts on what the shared SASL server said (common/sasl.h). */
static void sasl_result(struct pop3_session *s, enum sasl_result r)
{
	struct proto_io *io = s->io;

	s->in_sasl = false;
	io->max_line = io->cfg->max_pop3_line;
	switch (r) {
	case SASL_CHALLENGE:
		/* RFC 5034 4: "+ " and the base64 challenge. */
		io_printf(io, "+ %s\r\n", sasl_challenge(&s->sasl));
		s->in_sasl = true;
		if (io->max_line < SASL_LINE_MAX)
			io->max_line = SASL_LINE_MAX;
		return;
	case SASL_VERIFY:
		sasl_verify(s);
		break;
	case SASL_BAD_BASE64:
		pop3_bad(s, "invalid base64 in the authentication response");
		break;
	case SASL_CANCELLED:
		/* RFC 5034 4: "*" cancels, the server answers -ERR. */
		pop3_err(s, NULL, "authentication cancelled");
		break;
	case SASL_FAILED:
		s->job_pending = true;
		auth_reject(io, &s->auth, sasl_failure(&s->sasl), login_done,
			    s);
		break;
	case SASL_NO_MECH:
		pop3_bad(s, "unsupported authentication mechanism");
		break;
	}
	sasl_reset(&s->sasl);
}

/* AUTH [mechanism [initial-response]] (RFC 5034 4).  Without arguments the
 * mechanisms are listed, as many clients expect (the form of the expired
 * RFC 1734 drafts that Dovecot and Courier also answer). */
void pop3_cmd_auth(struct pop3_session *s, char *args)
{
	char *argv[2];
	int argc = pop3_split_args(args, argv, 2);

	if (argc < 0) {
		pop3_bad(s, "syntax: AUTH mechanism [initial-response]");
		return;
	}
	if (argc == 0) {
		pop3_ok(s, "supported mechanisms follow");
		io_printf(s->io, "PLAIN\r\nLOGIN\r\n.\r\n");
		return;
	}
	if (!sasl_mech_supported(argv[0])) {
		pop3_bad(s, "unsupported authentication mechanism");
		return;
	}
	/* PLAIN and LOGIN both carry the password in clear. */
	if (plaintext_refused(s))
		return;
	sasl_result(s, sasl_start(&s->sasl, argv[0],
				  argc == 2 ? argv[1] : NULL));
	if (argc == 2)
		explicit_bzero(argv[1], strlen(argv[1]));
}

void pop3_auth_continue(struct pop3_session *s, const char *line, size_t len)
{
	sasl_result(s, sasl_step(&s->sasl, line, len));
}

void pop3_auth_abort(struct pop3_session *s, const char *why)
{
	s->in_sasl = false;
	s->io->max_line = s->io->cfg->max_pop3_line;
	sasl_reset(&s->sasl);
	pop3_err(s, NULL, "%s", why);
}

/* STLS (RFC 2595 4): only on the STLS port, only once, only before login;
 * after the +OK, the I/O layer drops whatever the client sent behind the
 * command and starts the handshake. */
void pop3_cmd_stls(struct pop3_session *s, char *args)
{
	struct proto_io *io = s->io;

	if (*args != '\0') {
		pop3_bad(s, "syntax: STLS");
		return;
	}
	if (io->tls) {
		pop3_bad(s, "TLS is already active");
		return;
	}
	if (io->service != SVC_POP3 || !io->tls_available) {
		pop3_err(s, "SYS/PERM", "TLS is not available");
		return;
	}
	free(s->user);
	s->user = NULL;
	pop3_ok(s, "begin TLS negotiation");
	s->tls_pending = true;
	io->starttls = true;
}
