/* DATA (RFC 5321 4.1.1.4) and BDAT (RFC 3030), and the durable commit
 * behind the final reply (DESIGN.md durability rule 1). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "smtpd/from-check.h"
#include "smtpd/quota.h"
#include "smtpd/received.h"
#include "smtpd/runner.h"
#include "smtpd/ratelimit.h"
#include "smtpd/session.h"

/* Starts the delivery and the sink in front of it.  The file is made
 * by the commit on a worker (or by the write that fills the delivery's
 * buffer): the loop thread does no file system work for a message that
 * fits the buffer, and its failure is the commit's 451. */
static void begin_message(struct smtp_session *s)
{
	struct smtp_txn *t = s->txn;
	struct buf prefix = BUF_INIT(BUF_UNLIMITED);

	t->delivery = maildir_delivery_begin_lazy(smtp_mail_root(s));
	smtp_trace_fields(s, &prefix);
	smtp_body_init(&t->body, maildir_delivery_write, t->delivery,
		       prefix.data, prefix.len);
	buf_free(&prefix);
	/* RFC 6409 8.2, 8.3: the MSA completes Date and Message-ID. */
	t->body.add_date_msgid = smtp_is_submission(s);
	t->body.hostname = s->io->cfg->hostname;
	t->body.id = t->id;
	t->body.normalize_lf = !s->set->reject_bare_lf;
	t->body.keep_header = smtp_is_submission(s) && s->set->from_must_match;
	/* The sink measures lines itself: it sees the text without the
	 * transparency dots (RFC 5321 4.5.3.1.6 does not count them) and ends
	 * a line at a bare LF too, which it stores as CRLF. */
	t->body.check_lines = true;
	t->body.max_line = s->io->cfg->max_text_line;
}

void smtp_cmd_data(struct smtp_session *s, char *args)
{
	const struct config *cfg = s->io->cfg;
	struct smtp_txn *t = s->txn;

	(void)args;
	if (t->n_rcpts == 0) {
		/* RFC 5321 3.3: no valid recipients */
		smtp_reply(s, 554, "5.5.1", "No valid recipients");
		return;
	}
	begin_message(s);
	dr_init(&s->dr, cfg->max_message_size, cfg->max_text_line, smtp_body_write,
		&t->body);
	s->io->data = &s->dr;
	s->io->mode = INPUT_DATA;
	smtp_enter_state(s, SMTP_DATA);
	/* RFC 2034 3: 354 is not a completion, no enhanced code. */
	smtp_reply(s, 354, NULL, "End data with <CR><LF>.<CR><LF>");
}

/* --- the commit --- */

static void append_escaped(struct buf *b, const char *s)
{
	log_escape(b, s, strlen(s), 256);
}

static void log_delivery(struct smtp_session *s)
{
	struct smtp_txn *t = s->txn;
	struct buf line = BUF_INIT(BUF_UNLIMITED);
	char id[64];
	size_t i;

	smtp_message_id(s, id, sizeof(id));
	buf_printf(&line, "delivered id=%s message-id=", id);
	append_escaped(&line, t->body.msgid[0] ? t->body.msgid : "-");
	buf_printf(&line, " size=%llu from=<",
		   (unsigned long long)maildir_delivery_size(t->delivery));
	append_escaped(&line, t->from.mailbox);
	buf_puts(&line, ">");
	for (i = 0; i < t->n_rcpts; i++) {
		buf_puts(&line, " to=<");
		append_escaped(&line, t->rcpts[i].addr);
		buf_puts(&line, ">");
	}
	for (i = 0; i < t->n_dests; i++)
		buf_printf(&line, " mailbox=%s%s%s", t->dests[i].user,
			   t->dests[i].folder ? "/" : "",
			   t->dests[i].folder ? t->dests[i].folder : "");
	if (t->n_dests > 0)
		buf_printf(&line, " file=%s", maildir_delivery_name(t->delivery));
	if (t->queue_id[0] != '\0')
		buf_printf(&line, " queued=%s", t->queue_id);
	log_msg(service_name(s->io->service), s->io->id, "%s", buf_cstr(&line));
	buf_free(&line);
}

/* commit_ret when no mailbox has room for the message (smtpd/quota.h) */
#define COMMIT_OVER_QUOTA 1

/* Worker thread: whether the message fits (smtpd/quota.h): 0 deliver,
 * COMMIT_OVER_QUOTA when it fits in none of its mailboxes and goes to
 * nobody else, -1 when the limits cannot be read. */
static int quota_verdict(struct smtp_session *s)
{
	struct smtp_txn *t = s->txn;
	bool *full = xcalloc(t->n_dests + 1, sizeof(*full));
	size_t n_full = 0;
	int r;

	r = smtp_quota_full(s, t->dests, t->n_dests,
			    maildir_delivery_size(t->delivery), full);
	for (size_t i = 0; r == 0 && i < t->n_dests; i++) {
		if (!full[i])
			continue;
		n_full++;
		log_msg(service_name(s->io->service), s->io->id,
			"mailbox=%s over quota with this message", t->dests[i].user);
	}
	if (r == 0 && n_full == t->n_dests && !smtp_txn_has_remote(t))
		r = COMMIT_OVER_QUOTA;
	else if (r == 0 && n_full > 0)
		log_msg(service_name(s->io->service), s->io->id, "delivered "
			"over quota too: one reply covers every recipient");
	if (r < 0)
		snprintf(t->commit_err, sizeof(t->commit_err),
			 "quota check failed");
	free(full);
	return r;
}

/* Worker thread: fsync, link into every mailbox, fsync the directories. */
static void commit_work(void *arg)
{
	struct smtp_session *s = arg;
	struct smtp_txn *t = s->txn;
	struct maildir_rcpt *rcpts;

	if (t->n_dests > 0 && (t->commit_ret = quota_verdict(s)) != 0)
		return;
	rcpts = xcalloc(t->n_dests, sizeof(*rcpts));

	for (size_t i = 0; i < t->n_dests; i++) {
		rcpts[i].user = t->dests[i].user;
		rcpts[i].folder = t->dests[i].folder;
	}
	/* Queue first: taking a queued message back is an unlink, taking a
	 * delivered one back is not possible. */
	t->commit_ret = 0;
	if (smtp_txn_has_remote(t))
		t->commit_ret = smtp_relay_queue(s, t->commit_err,
						 sizeof(t->commit_err));
	if (t->commit_ret == 0 && t->n_dests > 0) {
		t->commit_ret = maildir_delivery_commit(t->delivery, rcpts,
							t->n_dests, t->commit_err,
							sizeof(t->commit_err));
		if (t->commit_ret < 0 && t->queue_id[0] != '\0')
			smtp_relay_unqueue(s);
		if (t->commit_ret == 0)
			smtp_relay_success_report(s);
	}
	free(rcpts);
}

/* Loop thread: the one reply to the message. */
static void commit_done(void *arg)
{
	struct smtp_session *s = arg;
	struct smtp_txn *t = s->txn;
	char id[64];

	smtp_message_id(s, id, sizeof(id));
	smtp_enter_state(s, SMTP_READY);
	if (t->commit_ret == 0) {
		log_delivery(s);
		if (t->queue_id[0] != '\0') {
			size_t len;
			const char *text = maildir_delivery_data(t->delivery, &len);

			queue_runner_kick_loaded(t->queue_id, &t->queued_env, text, len);
		}
		if (t->report_id[0] != '\0')
			queue_runner_kick(t->report_id);
		smtp_rate_record(s);
		smtp_reply(s, 250, "2.0.0", "Message accepted for delivery, id %s", id);
	} else if (t->commit_ret == COMMIT_OVER_QUOTA) {
		log_msg(service_name(s->io->service), s->io->id,
			"refused id=%s: every mailbox over quota", id);
		/* RFC 3463 X.2.2; 452: the client tries again later */
		smtp_reply(s, 452, "4.2.2", "Mailbox full, try again later");
	} else {
		log_msg(service_name(s->io->service), s->io->id,
			"delivery failed id=%s: %s", id, t->commit_err);
		smtp_reply(s, 451, "4.3.0", "Temporary local problem, try again later");
	}
	smtp_txn_end(s);
}

/* The facts about the body that decide its fate, from the data reader
 * (DATA) or the sink's own checks (BDAT). */
struct body_facts {
	bool too_big, has_nul, bare_lf, bare_cr, long_line, write_failed;
	const struct data_reader *dr;	/* DATA's reader; NULL for BDAT */
};

/* The message is complete: refuse it, or commit it.  Ends in READY (or
 * BUSY until the commit is done). */
static void finish_message(struct smtp_session *s, const struct body_facts *f)
{
	struct smtp_txn *t = s->txn;
	const struct config *cfg = s->io->cfg;
	bool failed = smtp_body_finish(&t->body) < 0 || f->write_failed;

	smtp_strict_message(s, f->dr, &t->body);
	smtp_enter_state(s, SMTP_READY);
	if (f->too_big)
		/* RFC 1870 6.3 */
		smtp_reply(s, 552, "5.3.4",
			   "Message size exceeds fixed maximum message size (%zu)",
			   cfg->max_message_size);
	else if (f->has_nul)
		smtp_reply(s, 554, "5.6.0", "Message contains NUL characters");
	else if (f->bare_cr || (f->bare_lf && s->set->reject_bare_lf))
		/* RFC 5321 2.3.8: no bare CR or LF in mail (smuggling) */
		smtp_reply(s, 554, "5.6.0",
			   "Message contains bare %s: lines must end with CRLF",
			   f->bare_cr ? "CR" : "LF");
	else if (f->long_line && cfg->reject_long_text_lines)
		/* RFC 5321 4.5.3.1.6 */
		smtp_reply(s, 500, "5.5.2", "Line too long (limit %zu octets)",
			   cfg->max_text_line);
	else if (!failed && smtp_from_refused(s))
		;	/* its reply is queued */
	else if (failed) {
		log_msg(service_name(s->io->service), s->io->id,
			"writing message failed: %s", strerror(t->body.error));
		smtp_reply(s, 451, "4.3.0", "Temporary local problem, try again later");
	} else {
		smtp_enter_state(s, SMTP_BUSY);
		s->io->defer(s->io, commit_work, commit_done, s);
		return;
	}
	smtp_txn_end(s);
}

void smtp_data_end(struct smtp_session *s)
{
	struct smtp_body *b;

	s->io->data = NULL;
	if (s->state != SMTP_DATA || s->txn == NULL || smtp_fault_data_end(s))
		return;
	b = &s->txn->body;
	/* Past the size cap the reader stopped writing: its own flags
	 * cover the rest. */
	finish_message(s, &(struct body_facts){
		.too_big = s->dr.too_big, .has_nul = b->has_nul || s->dr.has_nul,
		.bare_lf = b->bare_lf, .bare_cr = b->bare_cr || s->dr.bare_cr,
		.long_line = b->long_line, .write_failed = s->dr.write_failed,
		.dr = &s->dr,
	});
}

/* --- BDAT --- */

/* Where the bytes of a chunk that is not stored go. */
static int discard(void *arg, const char *p, size_t n)
{
	(void)arg;
	(void)p;
	(void)n;
	return 0;
}

/* bdat-cmd = "BDAT" SP chunk-size [ SP end-marker ]: 0, or -1. */
static int parse_bdat(char *args, uint64_t *size_r, bool *last_r)
{
	uint64_t n = 0;
	char *p = args;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (UINT64_MAX - 9) / 10)
			return -1;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	*last_r = false;
	if (*p == ' ') {
		if (strcasecmp(p + 1, "LAST") != 0)
			return -1;
		*last_r = true;
	} else if (*p != '\0') {
		return -1;
	}
	*size_r = n;
	return 0;
}

/* Why this chunk is not stored (its reply), or 0 when it is. */
static int chunk_refusal(struct smtp_session *s, uint64_t size)
{
	struct smtp_txn *t = s->txn;

	if (t == NULL)
		return 503;
	if (t->n_rcpts == 0)
		return 554;
	if (t->bdat_failed)
		return 503;
	if (size > s->io->cfg->max_message_size - t->bdat_size)
		return 552;
	return 0;
}

void smtp_cmd_bdat(struct smtp_session *s, char *args)
{
	struct proto_io *io = s->io;
	struct smtp_txn *t = s->txn;
	uint64_t size;
	bool last;

	if (parse_bdat(args, &size, &last) < 0) {
		/* The chunk's length is unknown, so the rest of the stream
		 * cannot be told apart from commands. */
		smtp_close(s, "4.5.0", "Syntax: BDAT chunk-size [LAST]; cannot resynchronize");
		return;
	}
	s->bdat_refusal = chunk_refusal(s, size);
	s->bdat_last = last;
	s->bdat_size = size;
	if (s->bdat_refusal == 0 && !t->chunking) {
		t->chunking = true;
		begin_message(s);
	} else if (s->bdat_refusal == 552 || s->bdat_refusal == 554) {
		t->chunking = true;
	}
	if (t != NULL && t->chunking)
		smtp_enter_state(s, SMTP_BDAT);
	if (size == 0) {
		smtp_bdat_chunk_done(s);
		return;
	}
	io->mode = INPUT_BYTES;
	io->bytes_wanted = size;
	io->bytes_sink = s->bdat_refusal == 0 ? smtp_body_write : discard;
	io->bytes_sink_arg = s->bdat_refusal == 0 ? (void *)&t->body : NULL;
}

static void chunk_refused(struct smtp_session *s)
{
	struct smtp_txn *t = s->txn;

	switch (s->bdat_refusal) {
	case 503:
		smtp_reply(s, 503, "5.5.1", t == NULL ?
			   "Bad sequence of commands: send MAIL and RCPT first" :
			   "Bad sequence of commands: an earlier BDAT failed, send RSET");
		break;
	case 554:
		smtp_reply(s, 554, "5.5.1", "No valid recipients");
		break;
	case 552:
		smtp_reply(s, 552, "5.3.4",
			   "Message size exceeds fixed maximum message size (%zu)",
			   s->io->cfg->max_message_size);
		break;
	default:
		smtp_reply(s, 451, "4.3.0", "Temporary local problem, try again later");
		break;
	}
	/* RFC 3030 3: after a failed chunk the transaction is failed; later
	 * chunks already in the pipeline are read and dropped. */
	if (t != NULL && t->chunking) {
		t->bdat_failed = true;
		maildir_delivery_free(&t->delivery);
	}
}

void smtp_bdat_chunk_done(struct smtp_session *s)
{
	struct smtp_txn *t = s->txn;

	s->io->bytes_sink = NULL;
	s->io->bytes_sink_arg = NULL;
	s->io->bytes_wanted = 0;
	if (s->state == SMTP_CLOSED)
		return;
	if (s->bdat_refusal != 0) {
		chunk_refused(s);
		return;
	}
	t->bdat_size += s->bdat_size;
	if (!s->bdat_last) {
		smtp_reply(s, 250, "2.0.0", "%llu octets received",
			   (unsigned long long)s->bdat_size);
		return;
	}
	smtp_bdat_last(s);
}

void smtp_bdat_last(struct smtp_session *s)
{
	struct smtp_body *b;

	if (s->state != SMTP_BDAT || s->txn == NULL || smtp_fault_data_end(s))
		return;
	b = &s->txn->body;
	finish_message(s, &(struct body_facts){
		.too_big = false, .has_nul = b->has_nul, .bare_lf = b->bare_lf,
		.bare_cr = b->bare_cr, .long_line = b->long_line,
		.write_failed = b->failed,
	});
}
