/* The queue runner's destinations: one per recipient domain with jobs
 * waiting (a job: one message's recipients in that domain), its route
 * (looked up on a worker), and the connections that take its jobs one
 * after the other (at most queue_max_per_destination, and
 * queue_max_connections over all destinations).  A connection with no job
 * waiting stays open queue_connection_idle seconds for the next one to
 * its destination (as Postfix's connection cache does), then says QUIT;
 * one that another destination needs for its jobs says QUIT at once. */
#include <dirent.h>
#include <event2/event.h>
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
	bool idle;			/* ready, waiting for a job (ev_idle) */
	bool quitting;			/* QUIT said: takes no job */
	bool cur_after_idle;		/* cur went over a connection that
					   sat idle (began with RSET) */
	struct event *ev_idle;		/* queue_connection_idle: QUIT */
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
	 * down; its waiting jobs, and those that come until down_until,
	 * fail with this (4xx) at once instead of a new connection each (as
	 * Postfix marks a dead destination).  `maillab queue flush` forgets
	 * it. */
	char *down;
	time_t down_until;
	struct dest *next;
};

static void dispatch(struct dest *d);

/* Seconds at most that a destination found down stays marked down (less
 * when queue_retry_base is shorter). */
#define DOWN_HOLD_MAX 60

/* Whether d is marked down now; an expired mark is dropped. */
static bool is_down(struct dest *d)
{
	if (d->down != NULL && time(NULL) >= d->down_until) {
		free(d->down);
		d->down = NULL;
	}
	return d->down != NULL;
}

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

/* Puts a job that never reached the peer back first in d's queue, its
 * results as before it was sent. */
static void requeue_job(struct dest *d, struct job *j)
{
	for (size_t k = 0; k < j->n; k++) {
		free(j->results[k].text);
		j->results[k].text = NULL;
		j->results[k].code = 0;
	}
	j->next = d->head;
	d->head = j;
	if (d->tail == NULL)
		d->tail = j;
}

static void conn_ready(void *arg);
static void conn_txn_done(void *arg);
static void conn_closed(void *arg, const char *error);
static void on_idle(evutil_socket_t fd, short what, void *arg);

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
	dc->ev_idle = evtimer_new(r->srv->base, on_idle, dc);
	dc->next = d->conns;
	d->conns = dc;
	d->n_conns++;
	r->n_conns++;
	log_msg("smtp-out", id, "connecting to %s for %s", d->route.hops[0].addr,
		d->domain);
	dc->cc = client_conn_new(&p, &d->route, &conn_ops, dc);
}

static void quit_conn(struct dconn *dc)
{
	if (dc->quitting)
		return;
	dc->idle = false;
	dc->quitting = true;
	evtimer_del(dc->ev_idle);
	client_conn_quit(dc->cc);
}

/* The connection's idle time is over (RFC 5321 4.1.1.10: QUIT). */
static void on_idle(evutil_socket_t fd, short what, void *arg)
{
	struct dconn *dc = arg;

	(void)fd;
	(void)what;
	log_msg("smtp-out", NULL, "%s: idle for %u s, closing",
		client_conn_peer(dc->cc), dc->d->r->srv->cfg->cfg.queue_connection_idle);
	quit_conn(dc);
}

/* Whether another destination has jobs waiting and no connection may
 * open for them while dc stays open. */
static bool wanted_elsewhere(const struct dconn *dc)
{
	const struct queue_runner *r = dc->d->r;

	if (r->n_conns < r->srv->cfg->cfg.queue_max_connections)
		return false;
	for (const struct dest *o = r->dests; o != NULL; o = o->next)
		if (o != dc->d && o->head != NULL && o->state == D_READY)
			return true;
	return false;
}

/* Gives d's first waiting job to dc, which is ready. */
static void take_job(struct dconn *dc)
{
	struct dest *d = dc->d;
	struct job *j = d->head;
	struct qmsg *m;

	d->head = j->next;
	if (d->head == NULL)
		d->tail = NULL;
	j->next = NULL;
	dc->cur = j;
	dc->cur_after_idle = dc->idle;
	if (dc->idle) {
		/* it sat idle: the peer may have dropped it meanwhile */
		dc->idle = false;
		evtimer_del(dc->ev_idle);
		client_conn_reset_next(dc->cc);
	}
	m = j->m;
	if (j->addrs == NULL) {
		j->addrs = xcalloc(j->n, sizeof(*j->addrs));
		j->notify = xcalloc(j->n, sizeof(*j->notify));
		j->orcpt = xcalloc(j->n, sizeof(*j->orcpt));
	}
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

static void conn_ready(void *arg)
{
	struct dconn *dc = arg;
	struct dest *d = dc->d;
	unsigned int idle = d->r->srv->cfg->cfg.queue_connection_idle;
	struct timeval tv = { idle, 0 };

	if (d->r->stopping || d->r->closing || dc->quitting) {
		quit_conn(dc);
		return;
	}
	if (d->head != NULL) {
		take_job(dc);
		return;
	}
	if (idle == 0 || wanted_elsewhere(dc)) {
		quit_conn(dc);
		return;
	}
	dc->idle = true;
	evtimer_add(dc->ev_idle, &tv);
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

/* The stop no longer waits for the runner's connections. */
static void release_stop(struct queue_runner *r)
{
	if (!r->holding)
		return;
	r->holding = false;
	server_release(r->srv);
}

static void on_quit_wait(evutil_socket_t fd, short what, void *arg)
{
	struct queue_runner *r = arg;

	(void)fd;
	(void)what;
	if (r->n_conns > 0)
		log_msg("queue", NULL, "stopping: %u outbound connection(s) did not "
			"close within %d ms", r->n_conns, RUNNER_QUIT_WAIT_MS);
	release_stop(r);
}

void runner_quit_conns(struct queue_runner *r)
{
	struct timeval tv = { RUNNER_QUIT_WAIT_MS / 1000,
			      (RUNNER_QUIT_WAIT_MS % 1000) * 1000 };

	if (r->closing || r->stopping)
		return;
	r->closing = true;
	for (struct dest *d = r->dests; d != NULL; d = d->next)
		for (struct dconn *dc = d->conns; dc != NULL; dc = dc->next)
			if (dc->idle)
				quit_conn(dc);
	if (r->n_conns == 0)
		return;
	r->holding = true;
	server_hold(r->srv);
	r->ev_quit = evtimer_new(r->srv->base, on_quit_wait, r);
	evtimer_add(r->ev_quit, &tv);
}

static void conn_closed(void *arg, const char *error)
{
	struct dconn *dc = arg;
	struct dest *d = dc->d;
	struct queue_runner *r = d->r;
	struct dconn **p = &d->conns;

	if (dc->cur != NULL && dc->cur_after_idle &&
	    client_conn_unanswered(dc->cc)) {
		/* The peer dropped the idle connection before our RSET: it
		 * took nothing, so the job goes first over another one. */
		log_msg("smtp-out", NULL, "%s: idle connection lost (%s); the message "
			"goes again over a new one", client_conn_peer(dc->cc),
			error != NULL ? error : "closed");
		requeue_job(d, dc->cur);
		dc->cur = NULL;
	} else if (dc->cur != NULL) {
		/* the transaction's results say "connection lost" */
		record(r, dc->cur, client_conn_peer(dc->cc));
		finish_job(r, dc->cur);
		dc->cur = NULL;
	}
	event_free(dc->ev_idle);
	while (*p != dc)
		p = &(*p)->next;
	*p = dc->next;
	d->n_conns--;
	r->n_conns--;
	if (error != NULL && !dc->worked && d->down == NULL) {
		struct buf text = BUF_INIT(BUF_UNLIMITED);
		unsigned int hold = r->srv->cfg->cfg.queue_retry_base;

		buf_printf(&text, "%s: %s", client_conn_peer(dc->cc), error);
		d->down = buf_steal(&text);
		d->down_until = time(NULL) +
			(time_t)(hold < DOWN_HOLD_MAX ? hold : DOWN_HOLD_MAX);
	}
	free(dc);
	if (r->closing && r->n_conns == 0)
		release_stop(r);
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

/* Connections still connecting (each takes a job when it is ready). */
static unsigned int opening_conns(const struct dest *d)
{
	unsigned int n = 0;

	for (const struct dconn *dc = d->conns; dc != NULL; dc = dc->next)
		if (dc->cur == NULL && !dc->idle && !dc->quitting)
			n++;
	return n;
}

static struct dconn *idle_conn(const struct dest *d)
{
	for (struct dconn *dc = d->conns; dc != NULL; dc = dc->next)
		if (dc->idle)
			return dc;
	return NULL;
}

/* queue_max_connections is reached while d has jobs no connection will
 * take: up to `need` idle connections to other destinations say QUIT
 * (their closing dispatches again). */
static void reclaim_idle(struct dest *d, unsigned int need)
{
	for (struct dest *o = d->r->dests; o != NULL && need > 0; o = o->next) {
		struct dconn *dc;

		while (o != d && need > 0 && (dc = idle_conn(o)) != NULL) {
			quit_conn(dc);
			need--;
		}
	}
}

static void dispatch(struct dest *d)
{
	struct queue_runner *r = d->r;
	const struct config *cfg = &r->srv->cfg->cfg;
	struct route_job *rj;
	struct dconn *dc;
	char text[600];

	if (r->stopping || r->closing)
		return;		/* the jobs wait on disk for the next start */
	if (d->head == NULL) {
		/* kept while down, so that new jobs do not reconnect */
		if (d->n_conns == 0 && d->state != D_RESOLVING && !is_down(d))
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
	if (is_down(d)) {
		/* the rest waits for its retry (a connection failure is
		 * never permanent: 4xx) */
		fail_waiting(d, 451, d->down);
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
	/* Idle connections take the first jobs, then those still
	 * connecting; then new ones. */
	while (d->head != NULL && (dc = idle_conn(d)) != NULL)
		take_job(dc);
	while (count_jobs(d) > opening_conns(d) &&
	       d->n_conns < cfg->queue_max_per_destination &&
	       r->n_conns < cfg->queue_max_connections)
		open_conn(d);
	if (count_jobs(d) > opening_conns(d) &&
	    d->n_conns < cfg->queue_max_per_destination)
		reclaim_idle(d, count_jobs(d) - opening_conns(d));
}

void runner_forget_down(struct queue_runner *r)
{
	for (struct dest *d = r->dests; d != NULL; d = d->next) {
		free(d->down);
		d->down = NULL;
	}
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
	if (r->ev_quit != NULL) {
		event_free(r->ev_quit);
		r->ev_quit = NULL;
	}
	release_stop(r);
	for (struct dest *d = r->dests; d != NULL; d = d->next) {
		while (d->conns != NULL) {
			struct dconn *dc = d->conns;

			d->conns = dc->next;
			event_free(dc->ev_idle);
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
