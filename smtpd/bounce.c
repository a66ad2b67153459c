/* The queue runner reports to the sender (RFC 3464, RFC 3461): failed
 * recipients (a bounce), recipients handed to a next hop that does not do
 * DSN when the sender asked for NOTIFY=SUCCESS ("relayed"), and once per
 * message a delay warning after queue_delay_warning.  Each report is a
 * DSN (smtpd/dsn.h) queued as a new message with the null reverse-path
 * (RFC 5321 4.5.5); never one for a message that is itself a report.
 *
 * Exactly one report of each, across a SIGKILL at any instant: the report
 * is queued under an id made from the original's (the first free of its
 * candidates, queue_report_find; its envelope names the original), the
 * original's envelope then records the recipients as reported, and only
 * once that is on disk is the report sent (so it cannot be delivered and
 * gone while the envelope still says otherwise).  At start, an envelope
 * whose report is queued but not recorded is brought up to date
 * (runner_settle_bounce) before anything is sent. */
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

/* The report kinds in the order they are made, with the letter of their
 * ids and the state a recipient has once reported. */
static const struct {
	enum dsn_kind kind;
	char id_kind;
	const char *name;
} reports[] = {
	{ DSN_FAILED, 'f', "bounce" },
	{ DSN_RELAYED, 's', "success report" },
	{ DSN_DELAYED, 'd', "delay warning" },
};
#define N_REPORTS (sizeof(reports) / sizeof(reports[0]))

struct bounce_job {
	struct qmsg *m;
	size_t report;		/* index in reports[] */
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

/* Whether recipient r is one a report of `kind` is about (whether or not
 * its NOTIFY wants it). */
static bool due(const struct queue_rcpt *r, enum dsn_kind kind)
{
	switch (kind) {
	case DSN_FAILED:
		return r->state == QR_FAILED;
	case DSN_RELAYED:
	case DSN_DELIVERED:
		return r->state == QR_SUCCEEDED;
	case DSN_DELAYED:
		return dsn_covers(r, kind);
	}
	return false;
}

/* The first recipient due for `kind` (names the report), or SIZE_MAX. */
static size_t first_due(const struct queue_env *e, enum dsn_kind kind)
{
	for (size_t i = 0; i < e->n_rcpts; i++)
		if (due(&e->rcpts[i], kind))
			return i;
	return SIZE_MAX;
}

/* The report is queued (or will never be): record it so. */
static void mark_reported(struct queue_env *e, enum dsn_kind kind)
{
	if (kind == DSN_DELAYED) {
		e->warned = true;
		return;
	}
	for (size_t i = 0; i < e->n_rcpts; i++) {
		if (e->rcpts[i].state == QR_FAILED && kind == DSN_FAILED)
			e->rcpts[i].state = QR_REPORTED;
		else if (e->rcpts[i].state == QR_SUCCEEDED && kind != DSN_FAILED)
			e->rcpts[i].state = QR_SENT;
	}
}

/* What report `report` on message id (envelope e) is: names its ids. */
static void report_ref(const struct queue_env *e, const char *id, size_t report,
		       struct queue_report_ref *ref_r)
{
	enum dsn_kind kind = reports[report].kind;

	memset(ref_r, 0, sizeof(*ref_r));
	snprintf(ref_r->orig, sizeof(ref_r->orig), "%s", id);
	ref_r->kind = reports[report].id_kind;
	ref_r->first = kind == DSN_DELAYED ? 0 : (uint32_t)first_due(e, kind);
}

static void bounce_done(void *arg)
{
	struct bounce_job *j = arg;
	struct qmsg *m = j->m;
	struct queue_runner *r = m->r;
	const char *name = reports[j->report].name;

	m->open--;
	if (!r->stopping) {
		if (j->ret < 0) {
			/* try again at the next retry of the message */
			log_msg("queue", m->id, "cannot queue the %s: %s", name, j->err);
			m->bounce_retry = true;
		} else {
			log_msg("queue", m->id, "%s id=%s to=<%s>%s",
				reports[j->report].kind == DSN_FAILED ? "bounce" : name,
				j->dsn.id, m->env.sender, j->ret == 1 ?
				" (queued before a restart)" : "");
			mark_reported(&m->env, reports[j->report].kind);
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

/* Whether report `report` is due for m now. */
static bool report_due(const struct config *cfg, const struct qmsg *m,
		       size_t report, int64_t now)
{
	enum dsn_kind kind = reports[report].kind;

	if (kind == DSN_DELAYED &&
	    (m->env.warned || cfg->queue_delay_warning == 0 ||
	     now - m->env.created < (int64_t)cfg->queue_delay_warning))
		return false;
	return first_due(&m->env, kind) != SIZE_MAX;
}

bool runner_report_failures(struct queue_runner *r, struct qmsg *m)
{
	const struct config *cfg = &r->srv->cfg->cfg;
	int64_t now = (int64_t)time(NULL);
	struct dsn_params dp = { cfg->hostname, now, DSN_FAILED,
				 m->env.created + (int64_t)cfg->queue_lifetime };
	struct bounce_job *j;
	size_t report;

	if (m->bounce_retry)
		return false;
	for (report = 0; report < N_REPORTS; report++)
		if (report_due(cfg, m, report, now))
			break;
	if (report == N_REPORTS)
		return false;
	dp.kind = reports[report].kind;
	if (m->env.sender[0] == '\0') {
		/* RFC 5321 4.5.5, RFC 3464 1: never a report on a report */
		if (dp.kind == DSN_FAILED)
			log_msg("queue", m->id, "a bounce failed; not reported (null sender)");
		mark_reported(&m->env, dp.kind);
		runner_save(r, m);
		return true;
	}
	j = xcalloc(1, sizeof(*j));
	j->m = m;
	j->report = report;
	buf_init(&j->text, BUF_UNLIMITED);
	report_ref(&m->env, m->id, report, &j->dsn.report);
	if (dsn_build_kind(&m->env, &dp, m->text.data + m->body_off,
			   m->text.len - m->body_off, &j->text) == 0) {
		/* NOTIFY said no */
		buf_free(&j->text);
		free(j);
		mark_reported(&m->env, dp.kind);
		runner_save(r, m);
		return true;
	}
	j->dsn.created = now;
	j->dsn.sender = xstrdup("");
	j->dsn.body_8bit = m->env.body_8bit;
	queue_env_add_rcpt(&j->dsn, m->env.sender, NULL, NULL);
	m->open++;
	worker_submit(r->srv->pool, bounce_work, bounce_done, j);
	return true;
}

void runner_settle_bounce(const char *qdir, const char *id,
			  unsigned int delay_warning)
{
	int64_t now = (int64_t)time(NULL);
	struct queue_env e;
	struct queue_report_ref ref;
	char report_qid[QUEUE_ID_LEN + 1], err[256];
	bool changed = false;
	int found;

	if (queue_env_load(qdir, id, &e, err, sizeof(err)) != 0)
		return;		/* the runner's attempt reports it */
	for (size_t report = 0; report < N_REPORTS && e.sender[0] != '\0';
	     report++) {
		enum dsn_kind kind = reports[report].kind;

		/* as report_due: a warning not due was never queued
		 * (and if it was, queue_store_buf finds it when it is) */
		if ((kind == DSN_DELAYED &&
		     (e.warned || delay_warning == 0 ||
		      now - e.created < (int64_t)delay_warning)) ||
		    (kind != DSN_DELAYED && first_due(&e, kind) == SIZE_MAX))
			continue;
		report_ref(&e, id, report, &ref);
		found = queue_report_find(qdir, &ref, e.sender, report_qid, err,
					  sizeof(err));
		if (found < 0)
			log_msg("queue", id, "looking for its %s: %s",
				reports[report].name, err);
		if (found != 1)
			continue;
		mark_reported(&e, kind);
		changed = true;
		log_msg("queue", id, "%s id=%s was queued before the restart",
			reports[report].name, report_qid);
	}
	if (changed && queue_env_save(qdir, &e, err, sizeof(err)) < 0)
		log_msg("queue", id, "%s", err);
	queue_env_free(&e);
}
