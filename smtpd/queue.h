#ifndef SMTPD_QUEUE_H
#define SMTPD_QUEUE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/buf.h"

/* The outbound queue, DIR/queue/ (DESIGN.md "Durability and integrity"):
 *
 *   ID.msg   the message, exactly as it is sent (CRLF line ends, not
 *            dot-stuffed): the file the session wrote, moved here (or
 *            hard-linked when a local delivery shares it)
 *   ID.env   the envelope and the state of every recipient, a text file
 *            (queue_env_format) replaced as a whole on every change:
 *            written under tmp/, fsync'd, renamed, directory fsync'd
 *   tmp/     envelope files being written
 *
 * A message is queued once its .env exists.  Both files' data are fsync'd
 * before they are named, .msg is named before .env, and one fsync of the
 * directory (shared by the sessions queueing at that moment:
 * maildir/dirsync.h) makes both names durable before the 250.  So a
 * SIGKILL at any instant leaves either a whole queued message or a .msg
 * alone, and a power loss, which may keep the later name and lose the
 * earlier, at worst an .env alone; neither was acknowledged, and
 * queue_recover removes both.  A queued message is removed .env first.
 * Every function here does blocking file I/O: call it on a worker thread
 * (or from the CLI).  0 / -1 with a message in err_r, unless said
 * otherwise. */

#define QUEUE_ID_LEN 16		/* hex digits */
/* `maillab queue flush ID` leaves QDIR/flush-ID, then this file: the
 * runner reads the queue directory for flush-ID files only when it finds
 * it (not every second, which with 100,000 messages is a walk of 200,000
 * names). */
#define QUEUE_FLUSH_MARK "flush-ids"
#define QUEUE_ERROR_MAX 512	/* bytes of last error kept per recipient */

enum queue_rcpt_state {
	QR_PENDING,	/* to be tried at next_try */
	QR_SENT,	/* the next hop accepted it (2xx) */
	QR_FAILED,	/* permanent failure; the sender is not told yet */
	QR_REPORTED,	/* permanent failure, reported to the sender */
	QR_SUCCEEDED,	/* accepted (2xx) and the sender asked to be told
			   (NOTIFY=SUCCESS, RFC 3461 4.1); not told yet;
			   once told: QR_SENT */
};

struct queue_rcpt {
	char *addr;		/* the forward-path mailbox */
	char *notify;		/* DSN NOTIFY= (RFC 3461 4.1) or NULL */
	char *orcpt;		/* DSN ORCPT= (RFC 3461 4.2) or NULL */
	enum queue_rcpt_state state;
	unsigned int attempts;	/* delivery attempts so far */
	int64_t next_try;	/* epoch seconds; 0: at once */
	char *last_error;	/* the last failure (reply or connection), or NULL */
	bool queued;		/* not stored: in a job of the runner's attempt */
};

/* What a report the runner queued (a DSN: smtpd/bounce.c) is about,
 * recorded in its envelope ("report ORIG KIND FIRST") so that the message
 * found under one of its candidate ids (queue_report_candidate) can be
 * told from another message that happens to have that id. */
struct queue_report_ref {
	char orig[QUEUE_ID_LEN + 1];	/* the original message's id */
	char kind;		/* 'f' failures, 's' successes, 'd' delay;
				   '\0': not a report (or an envelope written
				   before this line existed) */
	uint32_t first;		/* the first recipient reported (0 for 'd') */
};

struct queue_env {
	char id[QUEUE_ID_LEN + 1];
	int64_t created;	/* epoch seconds */
	char *sender;		/* reverse-path mailbox; "" for <> (a bounce) */
	uint64_t size;		/* of ID.msg */
	bool body_8bit;		/* BODY=8BITMIME (RFC 6152) */
	bool smtputf8;		/* SMTPUTF8 (RFC 6531) */
	char *ret;		/* DSN RET= (RFC 3461 4.3) or NULL */
	char *envid;		/* DSN ENVID= (RFC 3461 4.4) or NULL */
	bool warned;		/* the delay warning was sent */
	struct queue_report_ref report;	/* when it is a runner's report */
	struct queue_rcpt *rcpts;
	size_t n_rcpts;
};

/* Frees what e holds (not e itself) and zeroes it. */
void queue_env_free(struct queue_env *e);
/* Adds a pending recipient (strings copied; notify, orcpt may be NULL). */
void queue_env_add_rcpt(struct queue_env *e, const char *addr,
			const char *notify, const char *orcpt);
/* Sets the last error of recipient i (copied, cut to QUEUE_ERROR_MAX). */
void queue_rcpt_set_error(struct queue_rcpt *r, const char *text);
/* Whether every recipient is done with (sent or reported). */
bool queue_env_finished(const struct queue_env *e);
/* The earliest next_try of a pending recipient, or -1 when none is. */
int64_t queue_env_next_try(const struct queue_env *e);
const char *queue_rcpt_state_name(enum queue_rcpt_state st);

/* The text form of the .env file.  Pure. */
void queue_env_format(const struct queue_env *e, struct buf *out);
/* Parses the text form into e (which it zeroes first; the id is not part
 * of the text).  Pure.  -1 with a message for anything malformed. */
int queue_env_parse(const char *text, size_t len, struct queue_env *e,
		    char *err_r, size_t errlen);

/* True for a well-formed queue id (QUEUE_ID_LEN upper-case hex digits). */
bool queue_id_valid(const char *id);
/* DIR/queue for instance directory dir (malloc'd). */
char *queue_dir(const char *instance_dir);
/* Path of QDIR/ID.SUFFIX into out ("msg" or "env"). */
void queue_path(struct buf *out, const char *qdir, const char *id,
		const char *suffix);

struct maildir_delivery;
/* Queues the message being written by delivery d (durable) with envelope
 * e: picks e->id, names the message ID.msg (maildir_delivery_link: moved
 * with `move`, else linked and the delivery stays usable for a local
 * commit), then writes ID.env, then fsyncs the directory. */
int queue_store(const char *qdir, struct maildir_delivery *d, bool move,
		struct queue_env *e, char *err_r, size_t errlen);
/* The same for a message held in memory (a report).  With e->id empty
 * and e->report.kind set (a report: one recipient, the original's
 * sender) it is queued under the first free one of its candidate ids
 * (queue_report_find), and returns 1 without writing, e->id naming it,
 * when that report is queued already (before a crash).  With e->id set
 * it is queued under that id (1 when a message of that id is queued
 * already; -1 with errno EEXIST when another is being queued under it);
 * else a new id is picked.  Removes nothing but what it created. */
int queue_store_buf(const char *qdir, const char *text, size_t len,
		    struct queue_env *e, char *err_r, size_t errlen);
/* How many candidate ids a report has. */
#define QUEUE_REPORT_PROBES 8
/* Candidate `probe` (0 .. QUEUE_REPORT_PROBES-1) for the id of report
 * ref: the original's time part (the report sorts beside it) and a hash
 * of the rest.  Such an id can be another message's (one queued in the
 * same second), so a report is queued under the first candidate that is
 * free, and found again by looking at every candidate: after a SIGKILL
 * between queueing the report and recording that it is queued, the same
 * candidates are made again and queue_report_find finds it there instead
 * of a second report being queued.  Pure. */
void queue_report_candidate(const struct queue_report_ref *ref,
			    unsigned int probe, char id_r[QUEUE_ID_LEN + 1]);
/* Candidate 0 of report (orig_id, kind, first), as made before reports
 * had more than one; queue_bounce_id is kind 'f'.  Pure. */
void queue_bounce_id(const char *orig_id, size_t first_failed,
		     char id_r[QUEUE_ID_LEN + 1]);
void queue_report_id(const char *orig_id, char kind, size_t first,
		     char id_r[QUEUE_ID_LEN + 1]);
/* Looks at every candidate id of report ref, to be sent to `to`: 1 with
 * id_r naming the report when it is queued (null reverse-path, the one
 * recipient `to`, and its envelope's report line naming ref; an envelope
 * without that line, from before it existed, at candidate 0 only); 0 with
 * id_r the first candidate no message has (neither .env nor .msg); -1
 * when an envelope cannot be read or every candidate is taken. */
int queue_report_find(const char *qdir, const struct queue_report_ref *ref,
		      const char *to, char id_r[QUEUE_ID_LEN + 1],
		      char *err_r, size_t errlen);
/* Whether message id is queued (its ID.env exists). */
bool queue_exists(const char *qdir, const char *id);
/* Replaces ID.env with e, durably.  Returns 1 without writing when the
 * message is no longer in the queue (removed with `maillab queue del`). */
int queue_env_save(const char *qdir, const struct queue_env *e,
		   char *err_r, size_t errlen);
/* The same with the text already formatted (queue_env_format), so that
 * a worker thread can write while the loop thread changes the envelope. */
int queue_env_write(const char *qdir, const char *id, const char *text,
		    size_t len, char *err_r, size_t errlen);
/* Reads ID.env.  Returns 1 when it does not exist. */
int queue_env_load(const char *qdir, const char *id, struct queue_env *e,
		   char *err_r, size_t errlen);
/* Reads ID.msg into out. */
int queue_msg_read(const char *qdir, const char *id, struct buf *out,
		   char *err_r, size_t errlen);
/* Removes a message (.env first, then .msg) and fsyncs the directory.
 * Returns 1 when it was not there. */
int queue_remove(const char *qdir, const char *id, char *err_r,
		 size_t errlen);
/* queue_remove in two steps, so that many removals share one directory
 * fsync: the unlinks of one message (1 when it was not there), then the
 * fsync that makes every removal before it durable. */
int queue_unlink(const char *qdir, const char *id, char *err_r,
		 size_t errlen);
int queue_sync_removals(const char *qdir, char *err_r, size_t errlen);
/* Calls fn(id, arg) for each queued message (each ID.env), in no order.
 * Creates qdir when it is missing. */
int queue_scan(const char *qdir, void (*fn)(const char *id, void *arg),
	       void *arg, char *err_r, size_t errlen);
/* At server start: removes what an interrupted write left (tmp/ files, a
 * .msg without .env, an .env without .msg).  Returns how many files it
 * removed, or -1. */
int queue_recover(const char *qdir, char *err_r, size_t errlen);

#endif
