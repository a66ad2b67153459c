/* The queue runner reports failed recipients to the sender: a DSN
 * (smtpd/dsn.h) queued as a new message with the null reverse-path
 * (RFC 5321 4.5.5), never one for a message that is itself a bounce. */
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
			log_msg("queue", m->id, "bounce id=%s to=<%s>", j->dsn.id,
				m->env.sender);
			mark_reported(m);
			queue_runner_kick(j->dsn.id);
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
	j->dsn.created = (int64_t)time(NULL);
	j->dsn.sender = xstrdup("");
	j->dsn.body_8bit = m->env.body_8bit;
	queue_env_add_rcpt(&j->dsn, m->env.sender, NULL, NULL);
	m->open++;
	worker_submit(r->srv->pool, bounce_work, bounce_done, j);
	return true;
}
