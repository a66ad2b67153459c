#include <stdlib.h>
#include <string.h>

#include "common/auth.h"
#include "common/log.h"
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

static void job_free(struct auth_job *job)
{
	if (job->password != NULL) {
		explicit_bzero(job->password, job->password_len);
		free(job->password);
	}
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
	io->defer(io, verify_work, verify_done, job);
}

void auth_reject(struct proto_io *io, struct auth_state *st,
		 const char *reason, auth_done_fn *done, void *sess)
{
	struct auth_job *job = job_new(io, st, done, sess);

	job->user = xstrdup("");
	failed(job, reason);
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
