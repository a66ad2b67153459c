/* The queue runner's destinations: one per recipient domain with jobs
 * waiting (a job: one message's recipients in that domain), its route
 * (looked up on a worker), and the connections that take its jobs one
 * after the other (at most queue_max_per_destination, and
 * queue_max_connections over all destinations). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/server.h"
#include "common/worker.h"
#include "common/xalloc.h"
#include "smtpd/client-conn.h"
#include "smtpd/dsn.h"
#include "smtpd/route.h"
#include "smtpd/runner-int.h"

struct job {
	struct qmsg *m;
	size_t *idx;			/* recipients: indexes in m->env */
	const char **addrs;
	const char **notify, **orcpt;	/* DSN parameters, per recipient */
	struct client_result *results;
	size_t n;
	struct client_txn txn;
	struct job *next;
};

struct dconn {
	struct dest *d;
	struct client_conn *cc;
	struct job *cur;		/* the transaction under way */
	bool worked;			/* a transaction got its results */
	struct dconn *next;
};

enum dest_state { D_NEW, D_RESOLVING, D_READY };

struct dest {
	struct queue_runner *r;
	char *domain;
	enum dest_state state;
	struct route route;
	struct job *head, *tail;	/* waiting jobs, in order */
	struct dconn *conns;
	unsigned int n_conns;
	/* A connection failed before any transaction: the destination is
	 * down for this round; its waiting jobs fail with this (4xx) at once
	 * instead of a new connection each. */
	char *down;
	struct dest *next;
};

static void dispatch(struct dest *d);

/* --- jobs --- */

static void free_job(struct job *j)
{
	for (size_t k = 0; k < j->n && j->results != NULL; k++)
		free(j->results[k].text);
	free(j->idx);
	free(j->addrs);
	free(j->notify);
	free(j->orcpt);
	free(j->results);
	free(j);
}

/* The job is over (its results recorded): save the envelope. */
static void finish_job(struct queue_runner *r, struct job *j)
{
	struct qmsg *m = j->m;

	m->open--;
	free_job(j);
	runner_save(r, m);
}

static void record(struct queue_runner *r, struct job *j, const char *peer)
{
	struct buf text = BUF_INIT(BUF_UNLIMITED);

	for (size_t k = 0; k < j->n; k++) {
		const struct client_result *res = &j->results[k];

		buf_clear(&text);
		if (peer != NULL)
			buf_printf(&text, "%s: ", peer);
		buf_puts(&text, res->text != NULL ? res->text : "no result");
		runner_rcpt_result(r, j->m, j->idx[k], res->code != 0 ? res->code : 451,
				   text.data);
		/* RFC 3461 5.2.2: a next hop without DSN took it, so the
		 * sender who asked for SUCCESS hears "relayed" from us */
		if (j->m->env.rcpts[j->idx[k]].state == QR_SENT && !j->txn.peer_dsn &&
		    dsn_wants(&j->m->env.rcpts[j->idx[k]], "SUCCESS"))
			j->m->env.rcpts[j->idx[k]].state = QR_SUCCEEDED;
	}
	buf_free(&text);
}

/* Room for the job's results (a job gets them when it is sent, or when
 * it fails before that). */
static void ensure_results(struct job *j)
{
	if (j->results == NULL)
		j->results = xcalloc(j->n, sizeof(*j->results));
}

/* Every waiting job of d fails with `code text` (no route, or the
 * destination cannot be reached now). */
static void fail_waiting(struct dest *d, int code, const char *text)
{
	struct job *j;

	while ((j = d->head) != NULL) {
		d->head = j->next;
		ensure_results(j);
		for (size_t k = 0; k < j->n; k++) {
			free(j->results[k].text);
			j->results[k].code = code;
			j->results[k].text = xstrdup(text);
		}
		record(d->r, j, NULL);
		finish_job(d->r, j);
	}
	d->tail = NULL;
}

/* --- destinations --- */

static struct dest *find_dest(struct queue_runner *r, const char *domain)
{
	struct dest *d;

	for (d = r->dests; d != NULL; d = d->next)
		if (strcasecmp(d->domain, domain) == 0)
			return d;
	d = xcalloc(1, sizeof(*d));
	d->r = r;
	d->domain = xstrdup(domain);
	d->next = r->dests;
	r->dests = d;
	return d;
}

static void free_dest(struct queue_runner *r, struct dest *d)
{
	struct dest **p = &r->dests;

	while (*p != d)
		p = &(*p)->next;
	*p = d->next;
	free(d->down);
	free(d->domain);
	free(d);
}

bool runner_add_to_job(struct queue_runner *r, struct qmsg *m,
		       const char *domain, size_t i)
{
	struct dest *d = find_dest(r, domain);
	struct job *j;
	bool made = false;

	for (j = d->head; j != NULL && j->m != m; j = j->next)
		;
	if (j == NULL) {
		j = xcalloc(1, sizeof(*j));
		j->m = m;
		if (d->tail != NULL)
			d->tail->next = j;
		else
			d->head = j;
		d->tail = j;
		m->open++;
		made = true;
	}
	j->idx = xreallocarray(j->idx, j->n + 1, sizeof(*j->idx));
	j->idx[j->n++] = i;
	m->env.rcpts[i].queued = true;
	return made;
}

/* --- route look-up (worker) --- */

struct route_job {
	struct dest *d;
	struct config_ref *cfg;
	char *domain;
	struct route route;
};

static void route_work(void *arg)
{
	struct route_job *j = arg;

	route_lookup(&j->cfg->cfg, j->domain, &j->route);
}

static void route_done(void *arg)
{
	struct route_job *j = arg;
	struct dest *d = j->d;

	server_config_unref(&j->cfg);
	if (!d->r->stopping) {
		d->route = j->route;
		d->state = D_READY;
		if (d->route.n_hops == 0)
			log_msg("queue", NULL, "no route to %s: %s", d->domain,
				d->route.error);
		dispatch(d);
	}
	free(j->domain);
	free(j);
}

/* --- connections --- */

static void conn_ready(void *arg);
static void conn_txn_done(void *arg);
static void conn_closed(void *arg, const char *error);

static const struct client_conn_ops conn_ops = {
	conn_ready, conn_txn_done, conn_closed,
};

static void open_conn(struct dest *d)
{
	struct queue_runner *r = d->r;
	const struct config *cfg = &r->srv->cfg->cfg;
	struct dconn *dc = xcalloc(1, sizeof(*dc));
	struct client_conn_params p = {
		.base = r->srv->base, .tls = r->tls, .helo_name = cfg->hostname,
		.timeout = cfg->timeout_client,
		.data_end_timeout = cfg->timeout_client_data_end,
		.trace_dir = cfg->trace ? r->srv->trace_dir : NULL,
		.require_tls = d->route.require_tls,
		.auth_user = d->route.auth_user[0] != '\0' ? d->route.auth_user : NULL,
		.auth_pass = d->route.auth_pass,
	};
	char id[24];

	snprintf(id, sizeof(id), "%06xo%04x", (unsigned)(time(NULL) & 0xffffff),
		 ++r->next_conn & 0xffff);
	p.id = id;
	if (d->route.require_tls)
		p.tls = r->tls_verify;
	dc->d = d;
	dc->next = d->conns;
	d->conns = dc;
	d->n_conns++;
	r->n_conns++;
	log_msg("smtp-out", id, "connecting to %s for %s", d->route.hops[0].addr,
		d->domain);
	dc->cc = client_conn_new(&p, &d->route, &conn_ops, dc);
}

static void conn_ready(void *arg)
{
	struct dconn *dc = arg;
	struct dest *d = dc->d;
	struct job *j = d->head;
	struct qmsg *m;

	if (j == NULL || d->r->stopping) {
		client_conn_quit(dc->cc);
		return;
	}
	d->head = j->next;
	if (d->head == NULL)
		d->tail = NULL;
	dc->cur = j;
	m = j->m;
	j->addrs = xcalloc(j->n, sizeof(*j->addrs));
	j->notify = xcalloc(j->n, sizeof(*j->notify));
	j->orcpt = xcalloc(j->n, sizeof(*j->orcpt));
	ensure_results(j);
	for (size_t k = 0; k < j->n; k++) {
		const struct queue_rcpt *rc = &m->env.rcpts[j->idx[k]];

		j->addrs[k] = rc->addr;
		j->notify[k] = rc->notify;
		j->orcpt[k] = rc->orcpt;
	}
	j->txn = (struct client_txn){
		.sender = m->env.sender, .rcpts = j->addrs, .n_rcpts = j->n,
		.body = m->text.data + m->body_off,
		.body_len = m->text.len - m->body_off,
		.body_8bit = m->env.body_8bit, .smtputf8 = m->env.smtputf8,
		.ret = m->env.ret, .envid = m->env.envid,
		.notify = j->notify, .orcpt = j->orcpt,
		.results = j->results,
	};
	client_conn_send(dc->cc, &j->txn);
}

static void conn_txn_done(void *arg)
{
	struct dconn *dc = arg;
	struct job *j = dc->cur;

	dc->cur = NULL;
	if (j == NULL)
		return;
	dc->worked = true;
	record(dc->d->r, j, client_conn_peer(dc->cc));
	finish_job(dc->d->r, j);
}

static void conn_closed(void *arg, const char *error)
{
	struct dconn *dc = arg;
	struct dest *d = dc->d;
	struct queue_runner *r = d->r;
	struct dconn **p = &d->conns;

	if (dc->cur != NULL) {
		/* the transaction's results say "connection lost" */
		record(r, dc->cur, client_conn_peer(dc->cc));
		finish_job(r, dc->cur);
		dc->cur = NULL;
	}
	while (*p != dc)
		p = &(*p)->next;
	*p = dc->next;
	d->n_conns--;
	r->n_conns--;
	if (error != NULL && !dc->worked && d->down == NULL) {
		struct buf text = BUF_INIT(BUF_UNLIMITED);

		buf_printf(&text, "%s: %s", client_conn_peer(dc->cc), error);
		d->down = buf_steal(&text);
	}
	free(dc);
	dispatch(d);
	/* another destination may now get a connection */
	runner_dispatch_all(r);
}

/* --- dispatch --- */

static unsigned int count_jobs(const struct dest *d)
{
	unsigned int n = 0;

	for (const struct job *j = d->head; j != NULL; j = j->next)
		n++;
	return n;
}

static unsigned int idle_conns(const struct dest *d)
{
	unsigned int n = 0;

	for (const struct dconn *dc = d->conns; dc != NULL; dc = dc->next)
		if (dc->cur == NULL)
			n++;
	return n;
}

static void dispatch(struct dest *d)
{
	struct queue_runner *r = d->r;
	const struct config *cfg = &r->srv->cfg->cfg;
	struct route_job *rj;
	char text[600];

	if (r->stopping)
		return;
	if (d->head == NULL) {
		if (d->n_conns == 0 && d->state != D_RESOLVING)
			free_dest(r, d);
		return;
	}
	switch (d->state) {
	case D_NEW:
		d->state = D_RESOLVING;
		rj = xcalloc(1, sizeof(*rj));
		rj->d = d;
		rj->domain = xstrdup(d->domain);
		rj->cfg = server_config_ref(r->srv);
		worker_submit(r->srv->pool, route_work, route_done, rj);
		return;
	case D_RESOLVING:
		return;
	case D_READY:
		break;
	}
	if (d->down != NULL) {
		/* the rest waits for its retry (a connection failure is
		 * never permanent: 4xx) */
		fail_waiting(d, 451, d->down);
		if (d->n_conns == 0)
			free_dest(r, d);
		return;
	}
	if (d->route.n_hops == 0) {
		snprintf(text, sizeof(text), "%d %s", d->route.permanent ? 550 : 451,
			 d->route.error);
		fail_waiting(d, d->route.permanent ? 550 : 451, text);
		d->state = D_NEW;	/* look it up again next time */
		free_dest(r, d);
		return;
	}
	/* Connections still connecting take the first jobs. */
	while (count_jobs(d) > idle_conns(d) &&
	       d->n_conns < cfg->queue_max_per_destination &&
	       r->n_conns < cfg->queue_max_connections)
		open_conn(d);
}

void runner_dispatch_all(struct queue_runner *r)
{
	struct dest *d = r->dests, *next;

	for (; d != NULL; d = next) {
		next = d->next;
		dispatch(d);
	}
}

/* --- stop, flush requests --- */

void runner_close_conns(struct queue_runner *r)
{
	for (struct dest *d = r->dests; d != NULL; d = d->next) {
		while (d->conns != NULL) {
			struct dconn *dc = d->conns;

			d->conns = dc->next;
			client_conn_free(&dc->cc);
			if (dc->cur != NULL)
				free_job(dc->cur);
			free(dc);
		}
		d->n_conns = 0;
	}
	r->n_conns = 0;
}

void runner_free_dests(struct queue_runner *r)
{
	runner_close_conns(r);
	while (r->dests != NULL) {
		struct dest *d = r->dests;

		while (d->head != NULL) {
			struct job *j = d->head;

			d->head = j->next;
			free_job(j);
		}
		free_dest(r, d);
	}
}

void runner_take_flush_ids(const char *qdir, char ***ids_r, size_t *n_r)
{
	struct buf path = BUF_INIT(BUF_UNLIMITED);
	struct dirent *de;
	DIR *dir = opendir(qdir);

	*ids_r = NULL;
	*n_r = 0;
	if (dir == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		if (strncmp(de->d_name, "flush-", 6) != 0 ||
		    !queue_id_valid(de->d_name + 6))
			continue;
		buf_clear(&path);
		buf_printf(&path, "%s/%s", qdir, de->d_name);
		if (unlink(path.data) < 0)
			continue;
		*ids_r = xreallocarray(*ids_r, *n_r + 1, sizeof(**ids_r));
		(*ids_r)[(*n_r)++] = xstrdup(de->d_name + 6);
	}
	closedir(dir);
	buf_free(&path);
}
