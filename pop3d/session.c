/* The POP3 session: states (RFC 1939 3), the command table, replies, and
 * the struct protocol the I/O layer drives. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "pop3d/pop3-int.h"
#include "pop3d/pop3.h"

struct pop3_command {
	const char *name;
	pop3_cmd_fn *handler;
	unsigned int states;	/* POP3_IN() of the states it is valid in */
};

#define AUTHZ	POP3_IN(POP3_AUTHORIZATION)
#define TRANS	POP3_IN(POP3_TRANSACTION)

/* RFC 1939 9 (summary), RFC 2449 5 (CAPA), RFC 2595 4 (STLS), RFC 5034 4
 * (AUTH).  CAPA and QUIT are valid in both states. */
static const struct pop3_command commands[] = {
	{ "USER", pop3_cmd_user, AUTHZ },
	{ "PASS", pop3_cmd_pass, AUTHZ },
	{ "APOP", pop3_cmd_apop, AUTHZ },
	{ "AUTH", pop3_cmd_auth, AUTHZ },
	{ "STLS", pop3_cmd_stls, AUTHZ },
	{ "CAPA", pop3_cmd_capa, AUTHZ | TRANS },
	{ "QUIT", pop3_cmd_quit, AUTHZ | TRANS },
	{ "STAT", pop3_cmd_stat, TRANS },
	{ "LIST", pop3_cmd_list, TRANS },
	{ "RETR", pop3_cmd_retr, TRANS },
	{ "DELE", pop3_cmd_dele, TRANS },
	{ "NOOP", pop3_cmd_noop, TRANS },
	{ "RSET", pop3_cmd_rset, TRANS },
	{ "TOP", pop3_cmd_top, TRANS },
	{ "UIDL", pop3_cmd_uidl, TRANS },
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char *const state_names[] = {
	[POP3_AUTHORIZATION] = "AUTHORIZATION",
	[POP3_TRANSACTION] = "TRANSACTION",
	[POP3_UPDATE] = "UPDATE",
};

void pop3_enter_state(struct pop3_session *s, enum pop3_state state)
{
	pop3_log(s, "state %s -> %s", state_names[s->state],
		state_names[state]);
	s->state = state;
}

static void reply(struct pop3_session *s, const char *status,
		  const char *code, const char *fmt, va_list ap)
{
	struct proto_io *io = s->io;

	buf_puts(&io->out, status);
	if (code != NULL)
		buf_printf(&io->out, " [%s]", code);
	buf_putc(&io->out, ' ');
	buf_vprintf(&io->out, fmt, ap);
	buf_append(&io->out, "\r\n", 2);
}

void pop3_ok(struct pop3_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply(s, "+OK", NULL, fmt, ap);
	va_end(ap);
}

void pop3_err(struct pop3_session *s, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply(s, "-ERR", code, fmt, ap);
	va_end(ap);
}

void pop3_close(struct pop3_session *s)
{
	s->closed = true;
	s->io->close = true;
}

/* DESIGN.md "Bad input": a client that keeps sending nonsense is cut off
 * after cfg->max_errors mistakes. */
static void count_error(struct pop3_session *s)
{
	unsigned int max = s->io->cfg->max_errors;

	if (++s->errors >= max && max > 0) {
		pop3_err(s, NULL, "too many errors, closing connection");
		pop3_log(s, "disconnect reason=errors count=%u",
			s->errors);
		pop3_close(s);
	}
}

void pop3_bad(struct pop3_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply(s, "-ERR", NULL, fmt, ap);
	va_end(ap);
	count_error(s);
}

int pop3_split_args(char *args, char **argv, int max)
{
	int n = 0;
	char *p = args;

	if (*p == '\0')
		return 0;
	for (;;) {
		char *sp = strchr(p, ' ');

		if (n == max || sp == p || *p == '\0')
			return -1;
		argv[n++] = p;
		if (sp == NULL)
			return n;
		*sp = '\0';
		p = sp + 1;
	}
}

static void pop3_line(void *sess, const char *line, size_t len,
		      unsigned flags);

static const struct pop3_command *find_command(const char *name, size_t len)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strlen(commands[i].name) == len &&
		    strncasecmp(commands[i].name, name, len) == 0)
			return &commands[i];
	return NULL;
}

static void run_command(struct pop3_session *s, char *line, size_t len)
{
	const struct pop3_command *cmd;
	char *sp = memchr(line, ' ', len);
	size_t name_len = sp != NULL ? (size_t)(sp - line) : len;

	/* RFC 1939 3: keywords are case-insensitive, three or four
	 * characters, separated from arguments by a single space. */
	cmd = find_command(line, name_len);
	pop3_strict_command(s, cmd != NULL ? cmd->name : NULL,
			    cmd != NULL && (cmd->states & POP3_IN(s->state)));
	if (cmd == NULL) {
		pop3_bad(s, "unknown command");
		return;
	}
	if (!(cmd->states & POP3_IN(s->state))) {
		pop3_bad(s, "%s is not valid in the %s state", cmd->name,
			 state_names[s->state]);
		return;
	}
	if (pop3_fault_command(s, cmd->name, line, len, pop3_line))
		return;
	cmd->handler(s, sp != NULL ? sp + 1 : line + len);
}

/* ---- struct protocol ---- */

/* RFC 1939 7: the APOP timestamp, "<" process-ID "." clock "@" hostname
 * ">", different for every greeting the server ever gives: the clock in
 * nanoseconds and a per-process counter (two greetings within the same
 * clock tick) keep it unique, so a digest seen on the wire cannot be
 * replayed in another session. */
static char *apop_timestamp(const char *hostname)
{
	static unsigned long counter;
	struct buf ts = BUF_INIT(BUF_UNLIMITED);
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	buf_printf(&ts, "<%ld.%lld%09ld.%lu@%s>", (long)getpid(),
		   (long long)now.tv_sec, now.tv_nsec,
		   __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED), hostname);
	return buf_steal(&ts);
}

static void *pop3_open(struct proto_io *io)
{
	struct pop3_session *s = xcalloc(1, sizeof(*s));
	struct buf root = BUF_INIT(BUF_UNLIMITED);

	s->io = io;
	s->state = POP3_AUTHORIZATION;
	sasl_init(&s->sasl);
	fault_session_init(&s->fault, io);
	buf_init(&s->readbuf, BUF_UNLIMITED);
	buf_printf(&root, "%s/mail", io->cfg->dir);
	s->mail_root = buf_steal(&root);
	/* RFC 2449 4: 255 octets with CRLF; RFC 1939 3: at least ten minutes
	 * of idle time (the configuration may lower it for tests). */
	io->max_line = io->cfg->max_pop3_line;
	io->bare_lf_ends_line = true;	/* `nc` without -C sends bare LF */
	io->idle_timeout = io->cfg->timeout_pop3;
	pop3_greet(s);
	return s;
}

void pop3_greet(struct pop3_session *s)
{
	const struct config *cfg = s->io->cfg;

	if (pop3_fault_greeting(s))
		return;
	/* RFC 1939 4, 7: the greeting carries a timestamp only when APOP is
	 * offered (cmd-auth.c); clients take its absence as "no APOP". */
	if (cfg->pop3_apop) {
		s->apop_ts = apop_timestamp(cfg->hostname);
		pop3_ok(s, "%s maillab POP3 server ready %s",
			cfg->hostname, s->apop_ts);
	} else {
		pop3_ok(s, "%s maillab POP3 server ready", cfg->hostname);
	}
}

/* Finishes a multi-line response that is still being sent, so that replies stay in
 * order if input arrives anyway (the I/O layer holds input while
 * io->more_output is set, so this is only a safety net). */
static void finish_stream(struct pop3_session *s)
{
	while (s->streaming != POP3_STREAM_NONE)
		pop3_stream_more(s);
	s->io->more_output = false;
}

static void pop3_line(void *sess, const char *line, size_t len,
		      unsigned flags)
{
	struct pop3_session *s = sess;
	char *copy;

	/* RFC 2595 4: nothing sent after STLS before the handshake counts;
	 * after QUIT or a fatal error nothing is read either. */
	if (s->tls_pending || s->closed || s->state == POP3_UPDATE ||
	    s->job_pending)
		return;
	if (s->streaming != POP3_STREAM_NONE)
		finish_stream(s);
	if (s->in_sasl) {
		pop3_auth_continue(s, line, len);
		return;
	}
	pop3_strict_line(s, len, flags);
	if (flags & (LINE_HAS_NUL | LINE_BARE_CR)) {
		pop3_bad(s, "NUL or CR inside the command line");
		return;
	}
	if (len == 0) {
		pop3_bad(s, "empty command");
		return;
	}
	copy = xstrndup(line, len);
	run_command(s, copy, len);
	/* PASS and AUTH lines hold secrets */
	explicit_bzero(copy, len);
	free(copy);
}

static void pop3_overlong(void *sess)
{
	struct pop3_session *s = sess;

	if (s->tls_pending || s->closed || s->state == POP3_UPDATE)
		return;
	if (s->in_sasl) {
		pop3_auth_abort(s, "authentication response too long");
		count_error(s);
		return;
	}
	pop3_strict_overlong(s);
	/* RFC 2449 4: the whole line has been skipped, so the next one is a
	 * command again. */
	pop3_bad(s, "line too long (the limit is %zu octets)",
		 s->io->max_line);
}

static void pop3_tls_done(void *sess)
{
	struct pop3_session *s = sess;

	/* RFC 2595 4: the session starts over as far as authentication is
	 * concerned; a USER given before is forgotten. */
	s->tls_pending = false;
	free(s->user);
	s->user = NULL;
	pop3_log(s, "STLS done: %s %s",
		s->io->tls_version != NULL ? s->io->tls_version : "?",
		s->io->tls_cipher != NULL ? s->io->tls_cipher : "?");
}

/* A reply queued in the middle of a message would read as message text:
 * when one is being sent, the connection just ends.  True if it was. */
static bool stop_mid_message(struct pop3_session *s)
{
	bool was = s->streaming != POP3_STREAM_NONE;

	pop3_stream_stop(s);
	return was;
}

static void pop3_timeout(void *sess)
{
	struct pop3_session *s = sess;

	/* RFC 1939 3: an autologout timer ends the session without entering
	 * UPDATE, so nothing is deleted. */
	if (!stop_mid_message(s))
		pop3_err(s, NULL, "autologout: idle for too long");
	pop3_close(s);
}

static void pop3_shutdown(void *sess)
{
	struct pop3_session *s = sess;

	if (!stop_mid_message(s))
		pop3_err(s, "SYS/TEMP", "server shutting down, nothing was deleted");
	pop3_close(s);
}

static void pop3_resume(void *sess)
{
	pop3_stream_more(sess);
}

/* The trace shows "PASS <redacted>", "AUTH PLAIN <redacted>" and nothing
 * of a SASL response (DESIGN.md "Durability and integrity" 6). */
static size_t pop3_trace_visible(void *sess, const char *line, size_t len)
{
	struct pop3_session *s = sess;

	if (s->in_sasl)
		return 0;
	if (len >= 4 && (strncasecmp(line, "PASS", 4) == 0))
		return auth_trace_visible(line, len, 1);
	if (len >= 4 && (strncasecmp(line, "AUTH", 4) == 0 ||
			 strncasecmp(line, "APOP", 4) == 0))
		return auth_trace_visible(line, len, 2);
	return len;
}

static void pop3_free(void *sess)
{
	struct pop3_session *s = sess;

	/* A connection that ends without QUIT never reaches UPDATE: the
	 * marks are dropped with the session and nothing is deleted
	 * (RFC 1939 6, DESIGN.md "Durability and integrity" 4). */
	pop3_strict_close(s);
	pop3_stream_stop(s);
	sasl_reset(&s->sasl);
	maildrop_close(&s->drop);
	buf_free(&s->readbuf);
	fault_session_free(&s->fault);
	free(s->marks);
	free(s->user);
	free(s->mail_root);
	free(s->apop_ts);
	free(s);
}

static void pop3_unused_bytes(void *sess, const char *data, size_t len)
{
	(void)sess;
	(void)data;
	(void)len;
}

static void pop3_unused_data_end(void *sess)
{
	(void)sess;
}

const struct protocol pop3_protocol = {
	.name = "pop3",
	.open = pop3_open,
	.line = pop3_line,
	.overlong = pop3_overlong,
	/* POP3 never asks for INPUT_BYTES or INPUT_DATA. */
	.bytes = pop3_unused_bytes,
	.data_end = pop3_unused_data_end,
	.tls_done = pop3_tls_done,
	.timeout = pop3_timeout,
	.shutdown = pop3_shutdown,
	.resume_output = pop3_resume,
	.trace_visible = pop3_trace_visible,
	/* RFC 3206 4: SYS/TEMP, the client may try again later. */
	.busy_reply = "-ERR [SYS/TEMP] too many connections\r\n",
	.close = pop3_free,
};
