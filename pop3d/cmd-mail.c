/* The TRANSACTION state (RFC 1939 5 and 7): STAT LIST RETR DELE NOOP RSET
 * TOP UIDL, and QUIT, which enters UPDATE (RFC 1939 6). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "pop3d/pop3-int.h"

/* Output queued per resume_output call while a long multi-line response is
 * sent: small enough that a client which stops reading holds up little
 * memory, large enough that a fast one costs few calls. */
#define STREAM_CHUNK (64 * 1024)

/* Parses a decimal number of digits only: no sign, no space, no "0x".
 * Returns 0 with the value (saturated at `limit` + 1 when larger), or -1
 * when it is not a number. */
static int parse_decimal(const char *arg, uint64_t limit, uint64_t *n_r)
{
	uint64_t n = 0;
	bool big = false;

	if (*arg == '\0')
		return -1;
	for (const char *p = arg; *p != '\0'; p++) {
		uint64_t d = (uint64_t)(*p - '0');

		if (*p < '0' || *p > '9')
			return -1;
		if (big)
			continue;
		/* n * 10 + d > limit, asked without overflowing */
		if (d > limit || n > (limit - d) / 10)
			big = true;
		else
			n = n * 10 + d;
	}
	*n_r = big ? limit + 1 : n;
	return 0;
}

/* RFC 1939 3, 5: a message-number names a message of the snapshot that is
 * not marked deleted.  Returns 0 with the 0-based index, or -1 after
 * replying -ERR. */
static int message_index(struct pop3_session *s, const char *arg,
			 size_t *idx_r)
{
	uint64_t n;

	if (parse_decimal(arg, s->count, &n) < 0) {
		pop3_bad(s, "invalid message number");
		return -1;
	}
	if (n == 0 || n > s->count) {
		pop3_strict_message(s, false);
		pop3_err(s, NULL, "no such message");
		return -1;
	}
	if (s->marks[n - 1] & POP3_MARK_DELETED) {
		pop3_strict_message(s, true);
		pop3_err(s, NULL, "message %llu is deleted",
			 (unsigned long long)n);
		return -1;
	}
	*idx_r = (size_t)(n - 1);
	return 0;
}

/* Messages not marked deleted, and their octets. */
static size_t live_messages(const struct pop3_session *s, uint64_t *size_r)
{
	size_t n = 0;
	uint64_t size = 0;

	for (size_t i = 0; i < s->count; i++) {
		if (s->marks[i] & POP3_MARK_DELETED)
			continue;
		n++;
		size += maildrop_size(s->drop, i);
	}
	*size_r = size;
	return n;
}

/* Parses "[msg]": 0 no argument, 1 with *idx_r set, -1 after an error. */
static int optional_message(struct pop3_session *s, char *args,
			    const char *syntax, size_t *idx_r)
{
	char *argv[1];
	int argc = pop3_split_args(args, argv, 1);

	if (argc < 0) {
		pop3_bad(s, "syntax: %s", syntax);
		return -1;
	}
	if (argc == 0)
		return 0;
	return message_index(s, argv[0], idx_r) < 0 ? -1 : 1;
}

static int no_arguments(struct pop3_session *s, const char *args,
			const char *cmd)
{
	if (*args == '\0')
		return 0;
	pop3_bad(s, "syntax: %s takes no arguments", cmd);
	return -1;
}

/* STAT (RFC 1939 5): "+OK count octets", deleted messages not counted. */
void pop3_cmd_stat(struct pop3_session *s, char *args)
{
	uint64_t size;
	size_t n;

	if (no_arguments(s, args, "STAT") < 0)
		return;
	n = live_messages(s, &size);
	pop3_ok(s, "%zu %llu", n, (unsigned long long)size);
}

/* One scan line of LIST or UIDL per message not deleted, a chunk at a
 * time.  Returns true when the terminator is written. */
static bool write_listing(struct pop3_session *s, size_t chunk)
{
	struct buf *out = &s->io->out;
	size_t start = out->len;
	char uid[MAILDROP_UIDL_MAX + 1];

	for (; s->list_next < s->count; s->list_next++) {
		size_t i = s->list_next;

		if (out->len - start >= chunk)
			return false;
		if (s->marks[i] & POP3_MARK_DELETED)
			continue;
		if (s->streaming == POP3_STREAM_LIST) {
			buf_printf(out, "%zu %llu\r\n", i + 1, (unsigned long long)
				   maildrop_size(s->drop, i));
		} else {
			maildrop_uidl(s->drop, i, uid);
			buf_printf(out, "%zu %s\r\n", i + 1, uid);
		}
	}
	buf_append(out, ".\r\n", 3);
	return true;
}

static void start_listing(struct pop3_session *s, enum pop3_stream kind)
{
	s->streaming = kind;
	s->list_next = 0;
	pop3_stream_more(s);
}

void pop3_stream_more(struct pop3_session *s)
{
	bool done;

	switch (s->streaming) {
	case POP3_STREAM_NONE:
		return;
	case POP3_STREAM_MESSAGE:
		if (s->fault_cut != NULL) {
			pop3_fault_cut(s);
			return;
		}
		done = dot_writer_write(&s->ml, &s->io->out, STREAM_CHUNK);
		break;
	case POP3_STREAM_LIST:
	case POP3_STREAM_UIDL:
		done = write_listing(s, STREAM_CHUNK);
		break;
	default:
		return;
	}
	if (done)
		pop3_stream_stop(s);
	else
		s->io->more_output = true;
}

void pop3_stream_stop(struct pop3_session *s)
{
	if (s->streaming == POP3_STREAM_MESSAGE)
		maildrop_text_free(&s->text);
	s->streaming = POP3_STREAM_NONE;
}

/* LIST [msg] (RFC 1939 5): the size of each message as RETR sends it. */
void pop3_cmd_list(struct pop3_session *s, char *args)
{
	uint64_t size;
	size_t idx, n;
	int r = optional_message(s, args, "LIST [msg]", &idx);

	if (r < 0)
		return;
	if (r == 1) {
		pop3_ok(s, "%zu %llu", idx + 1,
			(unsigned long long)maildrop_size(s->drop, idx));
		return;
	}
	n = live_messages(s, &size);
	pop3_ok(s, "%zu messages (%llu octets)", n, (unsigned long long)size);
	start_listing(s, POP3_STREAM_LIST);
}

/* UIDL [msg] (RFC 1939 7); the derivation is explained in maildrop.c. */
void pop3_cmd_uidl(struct pop3_session *s, char *args)
{
	char uid[MAILDROP_UIDL_MAX + 1];
	size_t idx;
	int r = optional_message(s, args, "UIDL [msg]", &idx);

	if (r < 0)
		return;
	if (r == 1) {
		maildrop_uidl(s->drop, idx, uid);
		pop3_ok(s, "%zu %s", idx + 1, uid);
		return;
	}
	pop3_ok(s, "unique-id listing follows");
	start_listing(s, POP3_STREAM_UIDL);
}

/* Sends message idx (all of it, or its head for TOP) as a multi-line
 * response, a chunk at a time through ops->resume_output. */
static int send_message(struct pop3_session *s, size_t idx, int64_t top)
{
	char err[256];
	bool convert;
	int saved;

	if (maildrop_text(s->drop, idx, &s->readbuf, &s->text, &convert, err,
			  sizeof(err)) < 0) {
		saved = errno;
		pop3_log(s, "message %zu: %s", idx + 1, err);
		if (saved == ENOENT)
			pop3_err(s, NULL, "message %zu was removed by another session",
				 idx + 1);
		else
			pop3_err(s, "SYS/TEMP", "cannot read message %zu", idx + 1);
		return -1;
	}
	if (top < 0)
		pop3_ok(s, "%llu octets",
			(unsigned long long)maildrop_size(s->drop, idx));
	else
		pop3_ok(s, "top of message follows");
	dot_writer_init(&s->ml, s->text.data, s->text.size, convert, top);
	s->streaming = POP3_STREAM_MESSAGE;
	pop3_stream_more(s);
	return 0;
}

/* RETR msg (RFC 1939 5) */
void pop3_cmd_retr(struct pop3_session *s, char *args)
{
	char *argv[1];
	size_t idx;

	if (pop3_split_args(args, argv, 1) != 1) {
		pop3_bad(s, "syntax: RETR msg");
		return;
	}
	if (message_index(s, argv[0], &idx) < 0)
		return;
	/* \Seen is set at QUIT (maildrop_mark_seen), with the deletions. */
	if (send_message(s, idx, -1) == 0)
		s->marks[idx] |= POP3_MARK_RETRIEVED;
}

/* TOP msg n (RFC 1939 7): the header, the empty line and n body lines;
 * n larger than the body gives all of it. */
void pop3_cmd_top(struct pop3_session *s, char *args)
{
	char *argv[2];
	uint64_t lines;
	size_t idx;

	if (pop3_split_args(args, argv, 2) != 2) {
		pop3_bad(s, "syntax: TOP msg lines");
		return;
	}
	if (message_index(s, argv[0], &idx) < 0)
		return;
	/* A negative count is not a number here; a huge one saturates. */
	if (parse_decimal(argv[1], INT64_MAX - 1, &lines) < 0) {
		pop3_bad(s, "invalid line count");
		return;
	}
	send_message(s, idx, (int64_t)lines);
}

/* DELE msg (RFC 1939 5): only marked; UPDATE removes it. */
void pop3_cmd_dele(struct pop3_session *s, char *args)
{
	char *argv[1];
	size_t idx;

	if (pop3_split_args(args, argv, 1) != 1) {
		pop3_bad(s, "syntax: DELE msg");
		return;
	}
	if (message_index(s, argv[0], &idx) < 0)
		return;
	s->marks[idx] |= POP3_MARK_DELETED;
	pop3_ok(s, "message %zu deleted", idx + 1);
}

/* NOOP (RFC 1939 5) */
void pop3_cmd_noop(struct pop3_session *s, char *args)
{
	if (no_arguments(s, args, "NOOP") == 0)
		pop3_ok(s, "nothing done");
}

/* RSET (RFC 1939 5): every deletion mark is removed. */
void pop3_cmd_rset(struct pop3_session *s, char *args)
{
	uint64_t size;
	size_t n;

	if (no_arguments(s, args, "RSET") < 0)
		return;
	for (size_t i = 0; i < s->count; i++)
		s->marks[i] &= (uint8_t)~POP3_MARK_DELETED;
	n = live_messages(s, &size);
	pop3_ok(s, "maildrop has %zu messages (%llu octets)", n,
		(unsigned long long)size);
}

/* UPDATE on a worker thread. */
struct update_job {
	struct pop3_session *s;
	int seen_ret, expunge_ret;
	char seen_err[256], expunge_err[256];
};

static void update_work(void *arg)
{
	struct update_job *job = arg;
	struct pop3_session *s = job->s;

	job->expunge_ret = maildrop_prepare_update(s->drop, s->marks,
						   job->expunge_err,
						   sizeof(job->expunge_err));
	if (job->expunge_ret == 0) {
		job->seen_ret = maildrop_mark_seen(s->drop, job->seen_err,
						   sizeof(job->seen_err));
		job->expunge_ret = maildrop_expunge(s->drop, job->expunge_err,
						    sizeof(job->expunge_err));
	}
	/* The lock goes before the reply: a client that reconnects at
	 * once must not get [IN-USE]. */
	maildrop_close(&s->drop);
}

static void update_done(void *arg)
{
	struct update_job *job = arg;
	struct pop3_session *s = job->s;
	size_t deleted = 0;

	s->job_pending = false;
	for (size_t i = 0; i < s->count; i++)
		if (s->marks[i] & POP3_MARK_DELETED)
			deleted++;
	if (job->seen_ret < 0)
		pop3_log(s, "marking messages seen failed: %s",
			job->seen_err);
	if (job->expunge_ret < 0) {
		pop3_log(s, "expunge failed: %s",
			job->expunge_err);
		/* RFC 1939 6 */
		pop3_err(s, "SYS/TEMP", "some deleted messages not removed");
	} else {
		pop3_log(s, "quit user=%s deleted=%zu left=%zu",
			s->user, deleted, s->count - deleted);
		pop3_ok(s, "maillab POP3 server signing off (%zu messages left)",
			s->count - deleted);
	}
	pop3_close(s);
	free(job);
}

/* QUIT (RFC 1939 4 and 6): from TRANSACTION it enters UPDATE and the
 * deletions take effect; from AUTHORIZATION it only says goodbye. */
void pop3_cmd_quit(struct pop3_session *s, char *args)
{
	struct update_job *job;

	if (no_arguments(s, args, "QUIT") < 0)
		return;
	if (s->state == POP3_AUTHORIZATION) {
		pop3_ok(s, "maillab POP3 server signing off");
		pop3_close(s);
		return;
	}
	pop3_enter_state(s, POP3_UPDATE);
	job = xcalloc(1, sizeof(*job));
	job->s = s;
	s->job_pending = true;
	s->io->defer(s->io, update_work, update_done, job);
}
