/* The session's side of relaying: the remote recipients of an accepted
 * message go into the outbound queue (smtpd/queue.h) before the 250, on
 * the worker thread that commits the message. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "maildir/deliver.h"
#include "smtpd/dsn.h"
#include "smtpd/queue.h"
#include "smtpd/session.h"

/* Bytes of the delivered message read for the report's header part. */
#define REPORT_HEAD_MAX (256 * 1024)

bool smtp_txn_has_remote(const struct smtp_txn *t)
{
	for (size_t i = 0; i < t->n_rcpts; i++)
		if (t->rcpts[i].remote)
			return true;
	return false;
}

int smtp_relay_queue(struct smtp_session *s, char *err_r, size_t errlen)
{
	struct smtp_txn *t = s->txn;
	struct queue_env e = { 0 };
	char *qdir = queue_dir(s->io->cfg->dir);
	int ret;

	e.created = (int64_t)time(NULL);
	e.sender = t->from.mailbox;
	e.body_8bit = t->body_8bit;
	e.smtputf8 = t->smtputf8;
	e.ret = t->ret;
	e.envid = t->envid;
	for (size_t i = 0; i < t->n_rcpts; i++)
		if (t->rcpts[i].remote)
			queue_env_add_rcpt(&e, t->rcpts[i].addr, t->rcpts[i].notify,
					   t->rcpts[i].orcpt);
	/* a message with no local recipient has no other use for its file */
	ret = queue_store(qdir, t->delivery, t->n_dests == 0, &e, err_r, errlen);
	if (ret == 0) {
		snprintf(t->queue_id, sizeof(t->queue_id), "%s", e.id);
		/* kept for the runner's first attempt (queue_runner_kick_loaded) */
		e.sender = xstrdup(e.sender);
		e.ret = e.ret != NULL ? xstrdup(e.ret) : NULL;
		e.envid = e.envid != NULL ? xstrdup(e.envid) : NULL;
		t->queued_env = xmalloc(sizeof(*t->queued_env));
		*t->queued_env = e;
	} else {
		/* The strings above belong to the transaction. */
		e.sender = e.ret = e.envid = NULL;
		queue_env_free(&e);
	}
	free(qdir);
	return ret;
}

void smtp_relay_unqueue(struct smtp_session *s)
{
	char *qdir = queue_dir(s->io->cfg->dir), err[256];

	queue_remove(qdir, s->txn->queue_id, err, sizeof(err));
	s->txn->queue_id[0] = '\0';
	free(qdir);
}

void smtp_relay_success_report(struct smtp_session *s)
{
	struct smtp_txn *t = s->txn;
	struct queue_env e = { 0 }, report = { 0 };
	struct buf head = BUF_INIT(BUF_UNLIMITED), text = BUF_INIT(BUF_UNLIMITED);
	struct dsn_params dp = { s->io->cfg->hostname, (int64_t)time(NULL),
				 DSN_DELIVERED, 0 };
	char *qdir, err[256];
	size_t off = 0;
	uint64_t rnd;

	if (t->from.null)
		return;		/* RFC 3461 5.2.1: never a report on a report */
	e.created = dp.now;
	e.sender = t->from.mailbox;
	e.envid = t->envid;
	for (size_t i = 0; i < t->n_rcpts; i++) {
		struct queue_rcpt r = { .notify = t->rcpts[i].notify };

		if (t->rcpts[i].remote || !dsn_wants(&r, "SUCCESS"))
			continue;
		queue_env_add_rcpt(&e, t->rcpts[i].addr, t->rcpts[i].notify,
				   t->rcpts[i].orcpt);
		e.rcpts[e.n_rcpts - 1].state = QR_SUCCEEDED;
	}
	if (e.n_rcpts == 0)
		goto out;
	/* names the report's MIME boundary and Message-ID only */
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (uint64_t)t->seq;
	snprintf(e.id, sizeof(e.id), "%016llX", (unsigned long long)rnd);
	if (maildir_delivery_read_head(t->delivery, &head, REPORT_HEAD_MAX) < 0) {
		log_msg("smtp", s->io->id, "success report not sent: %s",
			strerror(errno));
		goto out;
	}
	/* the Return-Path this server added is not the sender's header */
	if (head.len > 12 && strncasecmp(head.data, "Return-Path:", 12) == 0) {
		const char *nl = memchr(head.data, '\n', head.len);

		off = nl != NULL ? (size_t)(nl - head.data) + 1 : 0;
	}
	dsn_build_kind(&e, &dp, head.data + off, head.len - off, &text);
	report.created = dp.now;
	report.sender = xstrdup("");
	queue_env_add_rcpt(&report, t->from.mailbox, NULL, NULL);
	qdir = queue_dir(s->io->cfg->dir);
	if (queue_store_buf(qdir, text.data, text.len, &report, err,
			    sizeof(err)) == 0)
		snprintf(t->report_id, sizeof(t->report_id), "%s", report.id);
	else
		log_msg("smtp", s->io->id, "success report not queued: %s", err);
	free(qdir);
	queue_env_free(&report);
out:
	/* The strings above belong to the transaction. */
	e.sender = e.envid = NULL;
	queue_env_free(&e);
	buf_free(&head);
	buf_free(&text);
}
