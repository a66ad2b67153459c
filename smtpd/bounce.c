/* The queue runner reports failed recipients to the sender: a DSN
 * (smtpd/dsn.h) queued as a new message with the null reverse-path
 * (RFC 5321 4.5.5), never one for a message that is itself a bounce.
 *
 * Exactly one report per failed recipient, across a SIGKILL at any
 * instant: the bounce is queued under an id made from the original's
 * (queue_bounce_id), the original's envelope then records the recipients
 * as reported, and only once that is on disk is the bounce sent (so it
 * cannot be delivered and gone while the envelope still says failed).
 * At start, an envelope that says failed while its bounce is queued is
 * brought up to date (runner_settle_bounce) before anything is sent. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/server.h"
#include "common/worker.h"
#include "common/xalloc.h"
#include "smtpd/dsn.h"
#include "smtpd/runner-int.h"

struct bounce_job {
	struct qmsg *m;
	struct buf text;
	struct queue_env dsn;
	int ret;
	char err[256];
};

static void bounce_work(void *arg)
{
	struct bounce_job *j = arg;

	j->ret = queue_store_buf(j->m->r->qdir, j->text.data, j->text.len,
				 &j->dsn, j->err, sizeof(j->err));
}

/* The first failed recipient, which names the report (queue_bounce_id),
 * or SIZE_MAX. */
static size_t first_failed(const struct queue_env *e)
{
	for (size_t i = 0; i < e->n_rcpts; i++)
		if (e->rcpts[i].state == QR_FAILED)
			return i;
	return SIZE_MAX;
}

/* The failed recipients are reported (or will never be): mark them so. */
static void mark_reported(struct qmsg *m)
{
	for (size_t i = 0; i < m->env.n_rcpts; i++)
		if (m->env.rcpts[i].state == QR_FAILED)
			m->env.rcpts[i].state = QR_REPORTED;
}

static void bounce_done(void *arg)
{
	struct bounce_job *j = arg;
	struct qmsg *m = j->m;
	struct queue_runner *r = m->r;

	m->open--;
	if (!r->stopping) {
		if (j->ret < 0) {
			/* try again at the next retry of the message */
			log_msg("queue", m->id, "cannot queue the bounce: %s", j->err);
			for (size_t i = 0; i < m->env.n_rcpts; i++)
				if (m->env.rcpts[i].state == QR_FAILED)
					m->bounce_retry = true;
		} else {
			log_msg("queue", m->id, "bounce id=%s to=<%s>%s", j->dsn.id,
				m->env.sender, j->ret == 1 ?
				" (queued before a restart)" : "");
			mark_reported(m);
			/* sent once the envelope saying so is saved */
			snprintf(m->kick_after_save, sizeof(m->kick_after_save),
				 "%s", j->dsn.id);
		}
		runner_save(r, m);
	}
	queue_env_free(&j->dsn);
	buf_free(&j->text);
	free(j);
}

bool runner_report_failures(struct queue_runner *r, struct qmsg *m)
{
	const struct config *cfg = &r->srv->cfg->cfg;
	struct bounce_job *j;
	bool failed = false;

	for (size_t i = 0; i < m->env.n_rcpts; i++)
		failed = failed || m->env.rcpts[i].state == QR_FAILED;
	if (!failed || m->bounce_retry)
		return false;
	if (m->env.sender[0] == '\0') {
		/* RFC 5321 4.5.5, RFC 3464 1: never a bounce for a bounce */
		log_msg("queue", m->id, "a bounce failed; not reported (null sender)");
		mark_reported(m);
		runner_save(r, m);
		return true;
	}
	j = xcalloc(1, sizeof(*j));
	j->m = m;
	buf_init(&j->text, BUF_UNLIMITED);
	if (dsn_build(&m->env, cfg->hostname, m->text.data + m->body_off,
		      m->text.len - m->body_off,
		      (int64_t)time(NULL), &j->text) == 0) {
		/* NOTIFY said no */
		buf_free(&j->text);
		free(j);
		mark_reported(m);
		runner_save(r, m);
		return true;
	}
	queue_bounce_id(m->id, first_failed(&m->env), j->dsn.id);
	j->dsn.created = (int64_t)time(NULL);
	j->dsn.sender = xstrdup("");
	j->dsn.body_8bit = m->env.body_8bit;
	queue_env_add_rcpt(&j->dsn, m->env.sender, NULL, NULL);
	m->open++;
	worker_submit(r->srv->pool, bounce_work, bounce_done, j);
	return true;
}

void runner_settle_bounce(const char *qdir, const char *id)
{
	struct queue_env e;
	char bounce_id[QUEUE_ID_LEN + 1], err[256];
	size_t first;

	if (queue_env_load(qdir, id, &e, err, sizeof(err)) != 0)
		return;		/* the runner's attempt reports it */
	first = first_failed(&e);
	if (e.sender[0] != '\0' && first != SIZE_MAX) {
		queue_bounce_id(id, first, bounce_id);
		if (queue_exists(qdir, bounce_id)) {
			for (size_t i = first; i < e.n_rcpts; i++)
				if (e.rcpts[i].state == QR_FAILED)
					e.rcpts[i].state = QR_REPORTED;
			if (queue_env_save(qdir, &e, err, sizeof(err)) == 0)
				log_msg("queue", id, "bounce id=%s was queued before "
					"the restart", bounce_id);
			else
				log_msg("queue", id, "%s", err);
		}
	}
	queue_env_free(&e);
}
