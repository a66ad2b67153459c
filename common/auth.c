#include <stdlib.h>
#include <string.h>

#include "common/auth.h"
#include "common/log.h"
#include "common/penalty.h"
#include "common/sasl.h"
#include "common/trace.h"
#include "common/users.h"
#include "common/xalloc.h"

/* One check in flight; owned by the deferred calls until finish(). */
struct auth_job {
	struct proto_io *io;
	struct auth_state *st;
	auth_done_fn *done;
	void *sess;
	char *user;
	char *password;		/* wiped and freed on the worker thread */
	size_t password_len;
	int verified;		/* userdb_verify's answer */
	bool admitted;		/* holds a slot in io->penalty */
	bool rejected;		/* auth_reject: a failure without a check */
	char *reason;		/* of the rejection, for the log, or NULL */
	enum auth_result result;
};

bool auth_plaintext_allowed(const struct proto_io *io)
{
	return io->tls || io->loopback ||
	       (io->cfg != NULL && io->cfg->allow_plaintext_auth);
}

unsigned int auth_fail_delay(unsigned int base_ms, unsigned int n)
{
	unsigned int ms = base_ms;

	while (n-- > 1 && ms < AUTH_DELAY_MAX_MS)
		ms *= 2;
	return ms < AUTH_DELAY_MAX_MS ? ms : AUTH_DELAY_MAX_MS;
}

char *auth_normalise_user(const struct config *cfg, const char *user)
{
	char *name = xstrndup(user, SASL_NAME_MAX), *at, *p;

	at = strrchr(name, '@');
	if (at != NULL && cfg != NULL && config_is_local_domain(cfg, at + 1))
		*at = '\0';
	for (p = name; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return name;
}

void auth_trace_result(struct proto_io *io, enum auth_result result,
			const char *user)
{
	struct buf esc = BUF_INIT(BUF_UNLIMITED);

	log_escape(&esc, user, strlen(user), 64);
	trace_note(io->trace, "auth %s user=%s", result == AUTH_OK ? "ok" :
		   result == AUTH_TEMPFAIL ? "tempfail" : "failed",
		   buf_cstr(&esc));
	buf_free(&esc);
}

static void log_attempt(struct auth_job *job, const char *what,
			const char *reason)
{
	struct proto_io *io = job->io;
	struct buf user = BUF_INIT(BUF_UNLIMITED);
	unsigned int max = io->cfg != NULL ? io->cfg->auth_max_failures : 0;

	log_escape(&user, job->user, strlen(job->user), 64);
	if (job->result == AUTH_OK || job->result == AUTH_TEMPFAIL)
		log_msg(service_name(io->service), io->id,
			"auth %s user=%s", what, buf_cstr(&user));
	else
		log_msg(service_name(io->service), io->id,
			"auth %s user=%s failures=%u/%u%s%s", what,
			buf_cstr(&user), job->st->failures, max,
			reason != NULL ? " reason=" : "",
			reason != NULL ? reason : "");
	auth_trace_result(io, job->result, job->user);
	buf_free(&user);
}

static struct penalty_limits limits_of(const struct config *cfg)
{
	return (struct penalty_limits){
		.per_ip = cfg->auth_max_failures_per_ip,
		.per_user = cfg->auth_max_failures_per_user,
		.window = cfg->auth_lockout_seconds,
	};
}

/* What the failures counted across connections say of this attempt (a
 * slot is reserved when admitted); *recent_r: this address's recent
 * failures. */
static enum penalty_verdict admit(struct auth_job *job,
				  unsigned int *recent_r)
{
	struct proto_io *io = job->io;
	struct penalty_limits lim;
	enum penalty_verdict v;

	*recent_r = 0;
	if (io->penalty == NULL || io->cfg == NULL)
		return PENALTY_ADMIT;
	lim = limits_of(io->cfg);
	v = penalty_admit(io->penalty, &lim, io->peer, job->user,
			  penalty_clock(), recent_r);
	job->admitted = v == PENALTY_ADMIT;
	return v;
}

/* Gives the slot back, counting a failure; a lock this begins is logged
 * (once per address or user and window). */
static void release(struct auth_job *job, bool failed)
{
	struct proto_io *io = job->io;
	struct penalty_limits lim;
	struct buf user = BUF_INIT(BUF_UNLIMITED);
	unsigned int locked;

	if (!job->admitted)
		return;
	job->admitted = false;
	lim = limits_of(io->cfg);
	locked = penalty_done(io->penalty, &lim, io->peer, job->user, failed,
			      penalty_clock());
	if (locked & PENALTY_LOCKED_IP)
		log_msg(service_name(io->service), io->id,
			"auth locked: %u failures from %s, further attempts "
			"from there refused for %u s", lim.per_ip, io->peer,
			lim.window);
	if (locked & PENALTY_LOCKED_USER) {
		log_escape(&user, job->user, strlen(job->user), 64);
		log_msg(service_name(io->service), io->id,
			"auth locked: %u failures for user=%s, further attempts "
			"for this user refused for %u s", lim.per_user,
			buf_cstr(&user), lim.window);
	}
	buf_free(&user);
}

static void job_free(struct auth_job *job)
{
	if (job->password != NULL) {
		explicit_bzero(job->password, job->password_len);
		free(job->password);
	}
	free(job->reason);
	free(job->user);
	free(job);
}

static void finish(void *arg)
{
	struct auth_job *job = arg;

	job->st->busy = false;
	job->done(job->sess, job->result, job->user);
	job_free(job);
}

/* Counts a failure and reports it after the delay. */
static void failed(struct auth_job *job, const char *reason)
{
	struct auth_state *st = job->st;
	const struct config *cfg = job->io->cfg;
	unsigned int max = cfg != NULL ? cfg->auth_max_failures : 0;
	unsigned int base = cfg != NULL ? cfg->auth_fail_delay_ms : 0;

	if (st->failures < (unsigned int)-1)
		st->failures++;
	job->result = max != 0 && st->failures >= max ? AUTH_FAILED_CLOSE :
		AUTH_FAILED;
	log_attempt(job, job->result == AUTH_FAILED_CLOSE ?
		    "failed, disconnecting" : "failed", reason);
	job->io->after(job->io, auth_fail_delay(base, st->failures), finish,
		       job);
}

/* worker thread: the slow part */
static void verify_work(void *arg)
{
	struct auth_job *job = arg;

	job->verified = job->io->users != NULL ?
		userdb_verify(job->io->users, job->user, job->password) : -1;
	explicit_bzero(job->password, job->password_len);
	free(job->password);
	job->password = NULL;
}

/* loop thread */
static void verify_done(void *arg)
{
	struct auth_job *job = arg;

	release(job, job->verified == 0);
	if (job->verified > 0) {
		job->result = AUTH_OK;
		log_attempt(job, "ok", NULL);
		finish(job);
	} else if (job->verified < 0) {
		job->result = AUTH_TEMPFAIL;
		log_attempt(job, "temporary failure (user database)", NULL);
		finish(job);
	} else {
		failed(job, NULL);
	}
}

/* loop thread, after any delay the address has earned */
static void start_verify(void *arg)
{
	struct auth_job *job = arg;

	job->io->defer(job->io, verify_work, verify_done, job);
}

/* Refused before any check: the address or the user is locked.  Not
 * logged per attempt (the lock was, once). */
static void locked_out(struct auth_job *job)
{
	job->result = AUTH_LOCKED;
	finish(job);
}

static struct auth_job *job_new(struct proto_io *io, struct auth_state *st,
				auth_done_fn *done, void *sess)
{
	struct auth_job *job = xcalloc(1, sizeof(*job));

	job->io = io;
	job->st = st;
	job->done = done;
	job->sess = sess;
	st->busy = true;
	return job;
}

/* Every slot of the address or user is held by checks under way: asks
 * again a little later (never refused for that alone). */
#define AUTH_ADMIT_RETRY_MS 20

/* Admits the attempt against the failures counted across connections,
 * then checks the password (after any delay the address has earned), or
 * counts the rejection. */
static void admit_and_verify(void *arg)
{
	struct auth_job *job = arg;
	struct proto_io *io = job->io;
	unsigned int recent, base;

	switch (admit(job, &recent)) {
	case PENALTY_REFUSE:
		locked_out(job);
		return;
	case PENALTY_WAIT:
		io->after(io, AUTH_ADMIT_RETRY_MS, admit_and_verify, job);
		return;
	case PENALTY_ADMIT:
		break;
	}
	if (job->rejected) {
		release(job, true);
		failed(job, job->reason);
		return;
	}
	/* An address with recent failures waits before its check, success
	 * or not, from the first attempt of a new connection: reconnecting
	 * does not reset the delay, and the answer cannot be told early. */
	base = io->cfg != NULL ? io->cfg->auth_fail_delay_ms : 0;
	if (recent > 0 && base > 0)
		io->after(io, auth_fail_delay(base, recent), start_verify, job);
	else
		start_verify(job);
}

void auth_check(struct proto_io *io, struct auth_state *st, const char *user,
		const char *password, auth_done_fn *done, void *sess)
{
	struct auth_job *job = job_new(io, st, done, sess);

	job->user = auth_normalise_user(io->cfg, user);
	/* The protocol should have refused before the password was sent;
	 * if it did not, the policy still holds. */
	if (!auth_plaintext_allowed(io)) {
		failed(job, "encryption required");
		return;
	}
	if (!io->tls && !io->loopback)
		log_msg(service_name(io->service), io->id,
			"WARNING: password sent unencrypted from %s "
			"(allow_plaintext_auth = yes)", io->peer);
	job->password_len = strlen(password);
	job->password = xstrndup(password, job->password_len);
	admit_and_verify(job);
}

bool auth_locked(struct proto_io *io, const char *user)
{
	struct penalty_limits lim;
	char *name;
	bool locked;

	if (io->penalty == NULL || io->cfg == NULL)
		return false;
	lim = limits_of(io->cfg);
	name = auth_normalise_user(io->cfg, user);
	locked = penalty_refuses(io->penalty, &lim, io->peer, name,
				 penalty_clock());
	free(name);
	return locked;
}

void auth_reject(struct proto_io *io, struct auth_state *st,
		 const char *reason, auth_done_fn *done, void *sess)
{
	struct auth_job *job = job_new(io, st, done, sess);

	job->user = xstrdup("");
	job->rejected = true;
	job->reason = reason != NULL ? xstrdup(reason) : NULL;
	admit_and_verify(job);
}

size_t auth_trace_visible(const char *line, size_t len, unsigned int words)
{
	size_t i = 0;

	while (words-- > 0) {
		while (i < len && line[i] == ' ')
			i++;
		while (i < len && line[i] != ' ')
			i++;
	}
	/* keep the separator, hide the rest */
	if (i < len && line[i] == ' ')
		i++;
	return i;
}
