/* The queue runner (smtpd/runner.h).  Everything here runs on the loop
 * thread; queue files and DNS go to the worker pool.
 *
 * An attempt on a message: load its envelope and text (worker), group its
 * due recipients by domain into jobs, queue each job on its destination
 * (one per domain: a route looked up on a worker, then up to
 * queue_max_per_destination connections that take jobs one after the
 * other), record each job's per-recipient results and save the envelope
 * (worker) after every job, and when the last job is done either remove
 * the message, or report failures (smtpd/bounce.c), or wait for the next
 * retry. */
#include <event2/event.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/server.h"
#include "common/worker.h"
#include "common/xalloc.h"
#include "smtpd/client-conn.h"
#include "smtpd/runner-int.h"

/* Messages whose text is in memory at once (an attempt under way). */
#define MAX_ACTIVE 200

static struct queue_runner *the_runner;	/* for queue_runner_kick */

static const struct config *cfg_of(const struct queue_runner *r)
{
	return &r->srv->cfg->cfg;
}

/* --- messages --- */

static struct qmsg *find_msg(struct queue_runner *r, const char *id)
{
	return qmsg_table_find(&r->msgs, id);
}

static struct qmsg *msg_of(struct sched_item *it)
{
	return (struct qmsg *)((char *)it - offsetof(struct qmsg, due));
}

/* A message at rest takes its place in the schedule: at next_try, or at
 * once when `maillab queue flush` named it. */
static void plan(struct queue_runner *r, struct qmsg *m)
{
	if (!m->active)
		sched_put(&r->sched, &m->due, m->flush ? 0 : m->next_try);
}

/* A message the runner does not know yet. */
static struct qmsg *new_msg(struct queue_runner *r, const char *id,
			    int64_t next_try)
{
	struct qmsg *m = xcalloc(1, sizeof(*m));

	m->r = r;
	snprintf(m->id, sizeof(m->id), "%s", id);
	m->next_try = next_try;
	buf_init(&m->text, BUF_UNLIMITED);
	qmsg_table_add(&r->msgs, m);
	plan(r, m);
	return m;
}

/* Returns the message (known before, or new). */
static struct qmsg *add_msg(struct queue_runner *r, const char *id,
			    int64_t next_try)
{
	struct qmsg *m = find_msg(r, id);

	if (m == NULL)
		return new_msg(r, id, next_try);
	if (!m->active) {
		m->next_try = next_try;
		plan(r, m);
	}
	return m;
}

static void free_msg(struct qmsg *m)
{
	queue_env_free(&m->env);
	buf_free(&m->text);
	free(m);
}

static void drop_msg(struct queue_runner *r, struct qmsg *m)
{
	qmsg_table_remove(&r->msgs, m);
	sched_remove(&r->sched, &m->due);
	if (m->active && !m->leaving) {
		r->n_active--;
		runner_schedule(r);	/* room for a message waiting */
	}
	free_msg(m);
}

/* The attempt is over: the message waits for its next retry. */
static void rest_msg(struct queue_runner *r, struct qmsg *m, int64_t next_try)
{
	m->active = false;
	r->n_active--;
	m->next_try = next_try;
	plan(r, m);
	queue_env_free(&m->env);
	buf_free(&m->text);
	runner_schedule(r);
}

/* --- saving and finishing (worker jobs) --- */

struct save_job {
	struct qmsg *m;
	struct buf text;
	bool remove;
	char kick[QUEUE_ID_LEN + 1];	/* a bounce to send after it */
	int ret;
	char err[256];
	struct save_job *next;		/* removals: the next one */
};

static void save_work(void *arg)
{
	struct save_job *j = arg;
	struct queue_runner *r = j->m->r;

	j->ret = queue_env_write(r->qdir, j->m->id, j->text.data, j->text.len,
				 j->err, sizeof(j->err));
}

/* Removals: every message's files, then one fsync of the directory that
 * answers for all of them. */
static void remove_work(void *arg)
{
	struct save_job *first = arg;
	const char *qdir = first->m->r->qdir;
	char err[256];

	for (struct save_job *j = first; j != NULL; j = j->next)
		j->ret = queue_unlink(qdir, j->m->id, j->err, sizeof(j->err));
	if (queue_sync_removals(qdir, err, sizeof(err)) == 0)
		return;
	for (struct save_job *j = first; j != NULL; j = j->next)
		if (j->ret >= 0) {
			j->ret = -1;
			snprintf(j->err, sizeof(j->err), "%s", err);
		}
}

static void after_save(struct queue_runner *r, struct qmsg *m);

static void save_done(void *arg)
{
	struct save_job *j = arg;
	struct qmsg *m = j->m;
	struct queue_runner *r = m->r;

	m->saving = false;
	if (j->ret < 0)
		log_msg("queue", m->id, "%s", j->err);
	if (j->kick[0] != '\0' && j->ret < 0 && m->kick_after_save[0] == '\0')
		memcpy(m->kick_after_save, j->kick, sizeof(j->kick));
	else if (j->kick[0] != '\0' && !r->stopping)
		queue_runner_kick(j->kick);
	if (!r->stopping) {
		if (j->remove || j->ret == 1) {
			if (j->ret == 1)
				log_msg("queue", m->id, "removed from the queue meanwhile");
			else
				log_msg("queue", m->id, "done, removed from the queue");
			m->gone = true;
		}
		after_save(r, m);
	}
	buf_free(&j->text);
	free(j);
}

/* Every recipient done: removing the message is the record; an envelope
 * written just before would be unlinked at once (the window for a second
 * copy, from the next hop's 250 to the record on disk, stays the same). */
static bool save_removes(const struct qmsg *m)
{
	return m->open == 0 && queue_env_finished(&m->env);
}

static void start_removals(struct queue_runner *r);

/* The removals are done: each message's save is over; those that came
 * meanwhile go next. */
static void remove_done(void *arg)
{
	struct save_job *j = arg, *next;
	struct queue_runner *r = j->m->r;

	for (; j != NULL; j = next) {
		next = j->next;
		save_done(j);
	}
	r->removing = false;
	if (!r->stopping)
		start_removals(r);
}

static void start_removals(struct queue_runner *r)
{
	struct save_job *batch = r->removals;

	if (r->removing || batch == NULL)
		return;
	r->removals = NULL;
	r->removing = true;
	worker_submit(r->srv->pool, remove_work, remove_done, batch);
}

static void start_save(struct queue_runner *r, struct qmsg *m, bool remove)
{
	struct save_job *j = xcalloc(1, sizeof(*j));

	j->m = m;
	j->remove = remove;
	memcpy(j->kick, m->kick_after_save, sizeof(j->kick));
	m->kick_after_save[0] = '\0';
	buf_init(&j->text, BUF_UNLIMITED);
	if (!remove)
		queue_env_format(&m->env, &j->text);
	m->saving = true;
	m->dirty = false;
	m->changed = false;
	if (remove) {
		/* Its attempt is over: the text goes, and the message leaves
		 * the MAX_ACTIVE count now, not after the removal (a message
		 * that waits for that room is read back from the disk). */
		buf_free(&m->text);
		if (m->active && !m->leaving) {
			m->leaving = true;
			r->n_active--;
			runner_schedule(r);
		}
		j->next = r->removals;
		r->removals = j;
		start_removals(r);
		return;
	}
	worker_submit(r->srv->pool, save_work, save_done, j);
}

void runner_save(struct queue_runner *r, struct qmsg *m)
{
	if (m->saving)
		m->dirty = true;
	else
		start_save(r, m, save_removes(m));
}

/* A save finished: save again if the envelope changed meanwhile, else
 * end the attempt when its jobs are done. */
static void after_save(struct queue_runner *r, struct qmsg *m)
{
	int64_t next;

	if (m->gone) {
		if (m->open == 0)
			drop_msg(r, m);
		return;
	}
	if (m->dirty) {
		start_save(r, m, save_removes(m));
		return;
	}
	if (m->open > 0)
		return;
	if (queue_env_finished(&m->env)) {
		start_save(r, m, true);
		return;
	}
	if (runner_report_failures(r, m))
		return;		/* the bounce is queued; saves again */
	next = queue_env_next_try(&m->env);
	/* no recipient pending: only a bounce that could not be queued */
	rest_msg(r, m, next >= 0 ? next :
		 (int64_t)time(NULL) + cfg_of(r)->queue_retry_base);
}

/* --- recipients' results --- */

static unsigned int backoff(const struct config *cfg, unsigned int attempts)
{
	uint64_t d = cfg->queue_retry_base;

	for (unsigned int i = 1; i < attempts && d < cfg->queue_retry_max; i++)
		d *= 2;
	return d > cfg->queue_retry_max ? cfg->queue_retry_max : (unsigned int)d;
}

void runner_rcpt_result(struct queue_runner *r, struct qmsg *m, size_t i,
			int code, const char *text)
{
	const struct config *cfg = cfg_of(r);
	struct queue_rcpt *rc = &m->env.rcpts[i];
	int64_t now = (int64_t)time(NULL);
	const char *status;

	m->changed = true;
	rc->attempts++;
	queue_rcpt_set_error(rc, text);
	if (code >= 200 && code < 300) {
		rc->state = QR_SENT;
		status = "sent";
	} else if (code >= 500) {
		rc->state = QR_FAILED;
		status = "failed";
	} else if (now - m->env.created >= (int64_t)cfg->queue_lifetime) {
		/* RFC 5321 4.5.4.1: give up after the queue lifetime */
		struct buf b = BUF_INIT(BUF_UNLIMITED);

		buf_printf(&b, "4.4.7 Gave up after %u attempts over %lld s; last: %s",
			   rc->attempts, (long long)(now - m->env.created), text);
		queue_rcpt_set_error(rc, b.data);
		buf_free(&b);
		rc->state = QR_FAILED;
		status = "expired";
	} else {
		rc->next_try = now + backoff(cfg, rc->attempts);
		status = "deferred";
	}
	log_msg("queue", m->id, "to=<%s> attempts=%u status=%s (%s)", rc->addr,
		rc->attempts, status, text);
}

/* --- an attempt --- */

struct load_job {
	struct qmsg *m;
	int ret;
	char err[256];
};

static void load_work(void *arg)
{
	struct load_job *j = arg;
	struct qmsg *m = j->m;
	const char *qdir = m->r->qdir;

	j->ret = queue_env_load(qdir, m->id, &m->env, j->err, sizeof(j->err));
	if (j->ret == 0 &&
	    queue_msg_read(qdir, m->id, &m->text, j->err, sizeof(j->err)) < 0) {
		queue_env_free(&m->env);
		j->ret = -1;
	}
}

/* Received header fields in the header of text[0..len) (RFC 5321 6.3:
 * counting them finds mail loops). */
static unsigned int count_received(const char *text, size_t len)
{
	unsigned int n = 0;
	size_t i = 0;

	while (i < len && text[i] != '\r' && text[i] != '\n') {
		const char *nl = memchr(text + i, '\n', len - i);

		if (len - i > 9 && strncasecmp(text + i, "Received:", 9) == 0)
			n++;
		if (nl == NULL)
			break;
		i = (size_t)(nl - text) + 1;
	}
	return n;
}

/* A message that went round too often: every recipient fails. */
static bool looping(struct queue_runner *r, struct qmsg *m)
{
	unsigned int max = cfg_of(r)->max_received_headers;
	unsigned int n = count_received(m->text.data + m->body_off,
					m->text.len - m->body_off);
	char text[160];

	if (n <= max)
		return false;
	snprintf(text, sizeof(text),
		 "554 5.4.6 Mail loop: %u Received header fields (at most %u)", n, max);
	for (size_t i = 0; i < m->env.n_rcpts; i++)
		if (m->env.rcpts[i].state == QR_PENDING)
			runner_rcpt_result(r, m, i, 554, text);
	return true;
}

/* The recipients due now: grouped by domain into jobs.  Returns how many
 * jobs were made. */
static unsigned int make_jobs(struct queue_runner *r, struct qmsg *m,
			      int64_t now)
{
	unsigned int n = 0;

	for (size_t i = 0; i < m->env.n_rcpts; i++) {
		struct queue_rcpt *rc = &m->env.rcpts[i];
		const char *at = strrchr(rc->addr, '@');

		if (rc->state != QR_PENDING || rc->queued ||
		    (rc->next_try > now && !m->flush))
			continue;
		if (at == NULL || at[1] == '\0') {
			runner_rcpt_result(r, m, i, 553, "553 5.1.3 Recipient address without a domain");
			continue;
		}
		if (runner_add_to_job(r, m, at + 1, i))
			n++;
	}
	m->flush = false;
	return n;
}

/* m's envelope and text are loaded: its due recipients go to their
 * destinations. */
static void begin_jobs(struct queue_runner *r, struct qmsg *m, int64_t now)
{
	m->body_off = 0;
	/* RFC 5321 4.4: Return-Path is added at the final delivery,
	 * never relayed (ours is the first line the session wrote). */
	if (m->text.len > 12 &&
	    strncasecmp(m->text.data, "Return-Path:", 12) == 0) {
		const char *nl = memchr(m->text.data, '\n', m->text.len);

		m->body_off = nl != NULL ? (size_t)(nl - m->text.data) + 1 : 0;
	}
	for (size_t i = 0; i < m->env.n_rcpts; i++)
		m->env.rcpts[i].queued = false;
	if (!looping(r, m))
		make_jobs(r, m, now);
	runner_dispatch_all(r);
	if (m->open > 0)
		return;
	/* Nothing was due, or only instant failures (a job may have ended
	 * at once and started a save; its after_save ends the attempt).  An
	 * envelope nothing changed in is not written again: at start every
	 * message is loaded once, and most wait for their next retry. */
	if (m->changed)
		runner_save(r, m);
	else if (!m->saving)
		after_save(r, m);
}

static void load_done(void *arg)
{
	struct load_job *j = arg;
	struct qmsg *m = j->m;
	struct queue_runner *r = m->r;
	int64_t now = (int64_t)time(NULL);

	if (r->stopping) {
		free(j);
		return;
	}
	if (j->ret == 1) {
		drop_msg(r, m);		/* `maillab queue del` */
	} else if (j->ret < 0) {
		log_msg("queue", m->id, "cannot load: %s", j->err);
		rest_msg(r, m, now + cfg_of(r)->queue_retry_base);
	} else {
		begin_jobs(r, m, now);
	}
	free(j);
}

static void start_attempt(struct queue_runner *r, struct qmsg *m)
{
	struct load_job *j = xcalloc(1, sizeof(*j));

	sched_remove(&r->sched, &m->due);
	m->active = true;
	m->bounce_retry = false;
	r->n_active++;
	j->m = m;
	worker_submit(r->srv->pool, load_work, load_done, j);
}

/* Starts attempts on the messages that are due, those due first first:
 * the schedule's head alone is looked at while none is due. */
static void run_due(struct queue_runner *r)
{
	int64_t now = (int64_t)time(NULL);
	struct sched_item *it;

	while (!r->stopping && r->n_active < MAX_ACTIVE &&
	       (it = sched_take_due(&r->sched, now)) != NULL)
		start_attempt(r, msg_of(it));
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	run_due(arg);
}

void runner_schedule(struct queue_runner *r)
{
	if (!r->stopping)
		event_active(r->ev_kick, EV_TIMEOUT, 0);
}

/* --- the tick: `maillab queue flush` and due messages --- */

struct flush_job {
	struct queue_runner *r;
	bool scanned;		/* r->flush_ids_seen when it started */
	bool all;
	char **ids;
	size_t n;
};

/* The flush requests the CLI left: DIR/queue/flush (all) and
 * DIR/queue/flush-ID (one message); taken and removed. */
static void flush_work(void *arg)
{
	struct flush_job *j = arg;
	struct buf path = BUF_INIT(BUF_UNLIMITED);

	buf_printf(&path, "%s/flush", j->r->qdir);
	j->all = unlink(path.data) == 0;
	buf_clear(&path);
	buf_printf(&path, "%s/%s", j->r->qdir, QUEUE_FLUSH_MARK);
	/* the mark goes first: a request made meanwhile leaves a new one */
	if (unlink(path.data) == 0 || !j->scanned)
		runner_take_flush_ids(j->r->qdir, &j->ids, &j->n);
	buf_free(&path);
}

static void flush_msg(struct queue_runner *r, struct qmsg *m)
{
	m->flush = true;
	plan(r, m);
}

static void flush_done(void *arg)
{
	struct flush_job *j = arg;
	struct queue_runner *r = j->r;

	r->flush_pending = false;
	if (!r->stopping) {
		/* a message the runner does not know yet (a bounce that
		 * `maillab queue del` queued) is taken on */
		for (size_t i = 0; i < j->n; i++) {
			struct qmsg *m = find_msg(r, j->ids[i]);

			flush_msg(r, m != NULL ? m : new_msg(r, j->ids[i], 0));
		}
		for (struct qmsg *m = qmsg_table_next(&r->msgs, NULL);
		     j->all && m != NULL; m = qmsg_table_next(&r->msgs, m))
			flush_msg(r, m);
		if (j->all || j->n > 0) {
			log_msg("queue", NULL, "flush requested (%s)",
				j->all ? "all" : "some messages");
			runner_forget_down(r);
		}
		run_due(r);
	}
	for (size_t i = 0; i < j->n; i++)
		free(j->ids[i]);
	free(j->ids);
	free(j);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct queue_runner *r = arg;
	struct flush_job *j;

	(void)fd;
	(void)what;
	if (r->stopping)
		return;
	if (!r->flush_pending) {
		r->flush_pending = true;
		j = xcalloc(1, sizeof(*j));
		j->r = r;
		j->scanned = r->flush_ids_seen;
		r->flush_ids_seen = true;
		worker_submit(r->srv->pool, flush_work, flush_done, j);
	}
	run_due(r);
}

/* --- start and stop --- */

struct scan_job {
	struct queue_runner *r;
	unsigned int delay_warning;	/* queue_delay_warning */
	char **ids;
	size_t n;
	bool scanned;
	char err[256];
};

static void collect_id(const char *id, void *arg)
{
	struct scan_job *j = arg;

	j->ids = xreallocarray(j->ids, j->n + 1, sizeof(*j->ids));
	j->ids[j->n++] = xstrdup(id);
}

/* Before the loop runs, so before any session can queue: recovery takes
 * a .msg without its .env for an unfinished one, which is exactly what a
 * message being queued looks like (smtpd/queue.c queue_store). */
static void recover(const char *qdir)
{
	char err[256];
	int n = queue_recover(qdir, err, sizeof(err));

	if (n < 0)
		log_msg("queue", NULL, "recovery failed: %s", err);
	else if (n > 0)
		log_msg("queue", NULL, "removed %d unfinished file(s)", n);
}

static void scan_work(void *arg)
{
	struct scan_job *j = arg;

	j->scanned = queue_scan(j->r->qdir, collect_id, j, j->err,
				sizeof(j->err)) == 0;
	for (size_t i = 0; i < j->n; i++)
		runner_settle_bounce(j->r->qdir, j->ids[i], j->delay_warning);
}

static void scan_done(void *arg)
{
	struct scan_job *j = arg;
	struct queue_runner *r = j->r;

	if (!j->scanned)
		log_msg("queue", NULL, "reading the queue failed: %s", j->err);
	/* those kicked meanwhile are known already */
	for (size_t i = 0; i < j->n; i++) {
		if (!r->stopping && find_msg(r, j->ids[i]) == NULL)
			new_msg(r, j->ids[i], 0);
		free(j->ids[i]);
	}
	if (j->n > 0)
		log_msg("queue", NULL, "%zu message(s) in the queue", j->n);
	free(j->ids);
	free(j);
	run_due(r);
}

/* The verifying context for routes with tls=require (relay_ca_file,
 * made absolute by the config parser; "": the system's CAs). */
static SSL_CTX *verify_ctx(const struct config *cfg, char *err_r, size_t errlen)
{
	return client_tls_verify_ctx_new(cfg->relay_ca_file, err_r, errlen);
}

/* SIGHUP: relay_ca_file read again (a CA added to it, or the key naming
 * another file); connections already open keep the context they have. */
static void reload_ca(void *arg, const struct config *cfg)
{
	struct queue_runner *r = arg;
	char err[512];
	SSL_CTX *ctx = verify_ctx(cfg, err, sizeof(err));

	if (ctx == NULL) {
		log_msg("queue", NULL, "reload: keeping the old relay CAs: %s", err);
		return;
	}
	SSL_CTX_free(r->tls_verify);
	r->tls_verify = ctx;
}

static void on_server_stop(void *arg)
{
	runner_quit_conns(arg);
}

struct queue_runner *queue_runner_start(struct server *srv, char *err_r,
					size_t errlen)
{
	struct queue_runner *r = xcalloc(1, sizeof(*r));
	struct scan_job *j = xcalloc(1, sizeof(*j));

	r->srv = srv;
	r->qdir = queue_dir(srv->cfg->cfg.dir);
	r->tls = client_tls_ctx_new();
	if (r->tls != NULL)
		r->tls_verify = verify_ctx(&srv->cfg->cfg, err_r, errlen);
	if (r->tls == NULL || r->tls_verify == NULL) {
		if (r->tls == NULL)
			snprintf(err_r, errlen, "cannot create the relay client's TLS context");
		SSL_CTX_free(r->tls);
		free(r->qdir);
		free(r);
		free(j);
		return NULL;
	}
	r->ev_kick = event_new(srv->base, -1, 0, on_kick, r);
	r->ev_tick = event_new(srv->base, -1, EV_PERSIST, on_tick, r);
	event_add(r->ev_tick, &(struct timeval){ 1, 0 });
	recover(r->qdir);
	j->r = r;
	j->delay_warning = srv->cfg->cfg.queue_delay_warning;
	worker_submit(srv->pool, scan_work, scan_done, j);
	server_on_reload(srv, reload_ca, r);
	server_on_stop(srv, on_server_stop, r);
	the_runner = r;
	return r;
}

void queue_runner_kick(const char *id)
{
	if (the_runner == NULL || the_runner->stopping)
		return;
	add_msg(the_runner, id, 0);
	runner_schedule(the_runner);
}

void queue_runner_kick_loaded(const char *id, struct queue_env **envp,
			      const char *text, size_t len)
{
	struct queue_runner *r = the_runner;
	struct qmsg *m;

	if (r == NULL || r->stopping || text == NULL || *envp == NULL ||
	    r->n_active >= MAX_ACTIVE) {
		queue_runner_kick(id);
		return;
	}
	m = add_msg(r, id, 0);
	if (m->active) {
		runner_schedule(r);	/* under way already (never for a new id) */
		return;
	}
	sched_remove(&r->sched, &m->due);
	m->active = true;
	m->bounce_retry = false;
	r->n_active++;
	m->env = **envp;
	free(*envp);
	*envp = NULL;
	buf_append(&m->text, text, len);
	begin_jobs(r, m, (int64_t)time(NULL));
}

void queue_runner_stop(struct queue_runner *r)
{
	if (r == NULL)
		return;
	r->stopping = true;
	runner_close_conns(r);
	event_free(r->ev_kick);
	event_free(r->ev_tick);
	r->ev_kick = r->ev_tick = NULL;
}

void queue_runner_free(struct queue_runner **rp)
{
	struct queue_runner *r = *rp;

	if (r == NULL)
		return;
	*rp = NULL;
	if (the_runner == r)
		the_runner = NULL;
	runner_free_dests(r);
	while (r->removals != NULL) {
		struct save_job *j = r->removals;

		r->removals = j->next;
		buf_free(&j->text);
		free(j);
	}
	sched_free(&r->sched);	/* it clears the items: before they go */
	qmsg_table_clear(&r->msgs, free_msg);
	SSL_CTX_free(r->tls);
	SSL_CTX_free(r->tls_verify);
	free(r->qdir);
	free(r);
}
