#ifndef SMTPD_RUNNER_INT_H
#define SMTPD_RUNNER_INT_H
/* Internal to the queue runner: runner.c (messages, attempts, saving),
 * runner-dest.c (destinations, connections, jobs), bounce.c (DSNs). */
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"
#include "smtpd/queue.h"
#include "smtpd/runner.h"
#include "smtpd/schedule.h"

struct event;
struct dest;
struct save_job;

/* A queued message the runner knows of. */
struct qmsg {
	struct queue_runner *r;
	char id[QUEUE_ID_LEN + 1];
	int64_t next_try;	/* when to look at it again; 0: now */
	struct sched_item due;	/* in r->sched while it rests (not active) */
	bool active;		/* an attempt is under way: env and text hold */
	bool flush;		/* `maillab queue flush`: every recipient now */
	bool saving, dirty;	/* an envelope write runs / is needed again */
	bool changed;		/* a recipient's state changed since the
				   envelope was loaded or last saved */
	bool gone;		/* removed from the queue */
	bool leaving;		/* its removal is queued: out of n_active */
	bool bounce_retry;	/* queueing the bounce failed: next attempt */
	/* a bounce queued for m, to be sent once m's envelope is saved */
	char kick_after_save[QUEUE_ID_LEN + 1];
	unsigned int open;	/* jobs of the attempt not finished */
	struct queue_env env;
	struct buf text;	/* the message as it is queued */
	size_t body_off;	/* text + body_off is what goes out */
	struct qmsg *hnext;	/* in its bucket of the runner's table */
};

/* The runner's messages by id (runner-table.c). */
struct qmsg_table {
	struct qmsg **buckets;	/* a power of two of them, or none */
	size_t n_buckets, n;
};

struct queue_runner {
	struct server *srv;
	char *qdir;
	SSL_CTX *tls;		/* the client's, for STARTTLS */
	SSL_CTX *tls_verify;	/* for routes with tls=require: checks the
				   certificate against relay_ca_file */
	struct qmsg_table msgs;	/* every message it knows of, by id */
	struct schedule sched;	/* the messages at rest, by next attempt */
	size_t n_active;	/* attempts under way, not leaving */
	struct dest *dests;
	unsigned int n_conns;	/* outbound connections open */
	unsigned int next_conn;	/* for connection ids */
	struct event *ev_kick, *ev_tick;
	/* Messages whose recipients are all done wait here while a removal
	 * runs, then go together: one worker job and one directory fsync
	 * for all of them (runner.c). */
	struct save_job *removals;
	bool removing;
	bool flush_pending;
	bool flush_ids_seen;	/* the flush-ID files left before the start
				   were taken (later ones come with the
				   QUEUE_FLUSH_MARK file) */
	bool stopping;
	/* The server's stop began (server_on_stop): no new connection;
	 * each open one says QUIT once it has no transaction, and the stop
	 * waits for them (server_hold) until ev_quit. */
	bool closing, holding;
	struct event *ev_quit;
};

/* runner.c */
/* Records one recipient's outcome (2xx sent, 5xx failed, 4xx deferred
 * with back-off, or failed when the queue lifetime is over). */
void runner_rcpt_result(struct queue_runner *r, struct qmsg *m, size_t i,
			int code, const char *text);
/* Writes the envelope (now, or after the write under way), or removes
 * the message when every recipient is done. */
void runner_save(struct queue_runner *r, struct qmsg *m);
/* Looks at due messages on the next pass of the loop. */
void runner_schedule(struct queue_runner *r);

/* runner-table.c */
/* Adds m (its id set; not in the table). */
void qmsg_table_add(struct qmsg_table *t, struct qmsg *m);
/* The message of that id, or NULL. */
struct qmsg *qmsg_table_find(const struct qmsg_table *t, const char *id);
/* Removes m when it is there (the memory stays the caller's). */
void qmsg_table_remove(struct qmsg_table *t, struct qmsg *m);
/* Every message in no order: the first with m NULL, then the one after
 * m; NULL at the end.  The table must not change meanwhile. */
struct qmsg *qmsg_table_next(const struct qmsg_table *t, struct qmsg *m);
/* Empties t, calling fn on each message it held (after taking it out),
 * and frees the buckets. */
void qmsg_table_clear(struct qmsg_table *t, void (*fn)(struct qmsg *m));

/* runner-dest.c */
/* `maillab queue flush`: destinations marked down are tried again. */
void runner_forget_down(struct queue_runner *r);
/* Adds recipient i of m to m's job for `domain` (a new job and
 * destination as needed).  True when a new job was made. */
bool runner_add_to_job(struct queue_runner *r, struct qmsg *m,
		       const char *domain, size_t i);
/* Starts connections for destinations with waiting jobs. */
void runner_dispatch_all(struct queue_runner *r);
/* The server's stop begins: idle connections say QUIT (RFC 5321
 * 4.1.1.10), busy ones once their transaction is done; the stop waits
 * for them at most RUNNER_QUIT_WAIT_MS (never beyond shutdown_grace). */
void runner_quit_conns(struct queue_runner *r);
#define RUNNER_QUIT_WAIT_MS 1000
/* Server stop: every connection closed, no callbacks. */
void runner_close_conns(struct queue_runner *r);
void runner_free_dests(struct queue_runner *r);
/* Worker: the ids of DIR/queue/flush-ID files (removed): a walk of the
 * whole queue directory, so only after QUEUE_FLUSH_MARK was there. */
void runner_take_flush_ids(const char *qdir, char ***ids_r, size_t *n_r);

/* bounce.c */
/* When m has a report due (failed recipients, successes the sender asked
 * to hear of, the delay warning): queues a delivery status notification
 * to its sender (RFC 3464) and records it, then saves m.  Returns true
 * when it started that (the attempt goes on in after_save). */
bool runner_report_failures(struct queue_runner *r, struct qmsg *m);
/* Worker, at start, before any attempt: when message id's envelope shows
 * a report due that is queued already (a SIGKILL came between the two),
 * records it as made.  delay_warning: queue_delay_warning (a delay
 * warning is looked for only when one is due; 0: never). */
void runner_settle_bounce(const char *qdir, const char *id,
			  unsigned int delay_warning);

#endif
