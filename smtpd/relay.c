/* The session's side of relaying: the remote recipients of an accepted
 * message go into the outbound queue (smtpd/queue.h) before the 250, on
 * the worker thread that commits the message. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "smtpd/queue.h"
#include "smtpd/session.h"

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
	ret = queue_store(qdir, t->delivery, &e, err_r, errlen);
	if (ret == 0)
		snprintf(t->queue_id, sizeof(t->queue_id), "%s", e.id);
	/* The strings above belong to the transaction. */
	e.sender = e.ret = e.envid = NULL;
	queue_env_free(&e);
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
