/* The SMTP session: the protocol operations, the command table and its
 * dispatch, state changes and the one reply helper. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "smtpd/aliases.h"
#include "smtpd/queue.h"
#include "smtpd/session.h"
#include "smtpd/smtp.h"

/* The states in which a command line is read and dispatched. */
#define ST_LINES (ST(SMTP_INIT) | ST(SMTP_READY) | ST_TXN | ST(SMTP_BDAT))
/* Everywhere but inside BDAT chunks' transaction. */
#define ST_NOT_BDAT (ST_LINES & ~ST(SMTP_BDAT))

#define CMD_NO_ARGS	0x1	/* takes no argument: 501 if given one */
#define CMD_LONG_LINE	0x2	/* may pass max_command_line (RFC 4954 4) */

struct smtp_command {
	const char *name;	/* NULL: the row for every unknown command */
	void (*run)(struct smtp_session *s, char *args);
	unsigned int states;	/* ST() bits where it may be used */
	unsigned int flags;
};

static void smtp_cmd_unknown(struct smtp_session *s, char *args);
static void smtp_line(void *sess, const char *line, size_t len, unsigned flags);

/* RFC 5321 4.1 and the extensions advertised in EHLO.  RFC 3030 2: between
 * BDAT chunks a transaction is open, so MAIL, RCPT, DATA and STARTTLS are
 * out of sequence there; EHLO/HELO and RSET end it. */
static const struct smtp_command commands[] = {
	{ "EHLO", smtp_cmd_ehlo, ST_LINES, 0 },
	{ "HELO", smtp_cmd_helo, ST_LINES, 0 },
	{ "MAIL", smtp_cmd_mail, ST(SMTP_READY), 0 },
	{ "RCPT", smtp_cmd_rcpt, ST_TXN, 0 },
	{ "DATA", smtp_cmd_data, ST_TXN, CMD_NO_ARGS },
	/* BDAT checks the state itself: its chunk must be read (and
	 * dropped) whatever the state, or its bytes would be taken for
	 * commands. */
	{ "BDAT", smtp_cmd_bdat, ST_LINES, 0 },
	{ "AUTH", smtp_cmd_auth, ST(SMTP_READY), CMD_LONG_LINE },
	{ "STARTTLS", smtp_cmd_starttls, ST(SMTP_INIT) | ST(SMTP_READY), CMD_NO_ARGS },
	{ "RSET", smtp_cmd_rset, ST_LINES, CMD_NO_ARGS },
	{ "NOOP", smtp_cmd_noop, ST_LINES, 0 },
	{ "QUIT", smtp_cmd_quit, ST_LINES, CMD_NO_ARGS },
	{ "VRFY", smtp_cmd_vrfy, ST_LINES, 0 },
	{ "EXPN", smtp_cmd_expn, ST_LINES, 0 },
	{ "HELP", smtp_cmd_help, ST_LINES, 0 },
	/* RFC 5321 4.2.4: recognized, not implemented: 502 5.5.1. */
	{ "SEND", smtp_cmd_not_implemented, ST_LINES, 0 },
	{ "SOML", smtp_cmd_not_implemented, ST_LINES, 0 },
	{ "SAML", smtp_cmd_not_implemented, ST_LINES, 0 },
	{ "TURN", smtp_cmd_not_implemented, ST_LINES, 0 },
	{ "ETRN", smtp_cmd_not_implemented, ST_LINES, 0 },
	{ "ATRN", smtp_cmd_not_implemented, ST_LINES, 0 },
	{ NULL, smtp_cmd_unknown, ST_LINES, 0 },
};

/* What the client should have done first, by state (the 503 text). */
static const char *const sequence_hint[SMTP_N_STATES] = {
	[SMTP_INIT] = "Bad sequence of commands: send EHLO or HELO first",
	[SMTP_READY] = "Bad sequence of commands: send MAIL first",
	[SMTP_MAIL] = "Bad sequence of commands: a transaction is open (RSET ends it)",
	[SMTP_RCPT] = "Bad sequence of commands: a transaction is open (RSET ends it)",
	[SMTP_BDAT] = "Bad sequence of commands: BDAT expected (RSET ends the transaction)",
};

/* --- replies and states --- */

void smtp_reply(struct smtp_session *s, int code, const char *esc,
		const char *fmt, ...)
{
	const struct config *cfg = s->io->cfg;
	va_list ap;

	if (s->state == SMTP_CLOSED)
		return;
	if (esc != NULL)
		io_printf(s->io, "%d %s ", code, esc);
	else
		io_printf(s->io, "%d ", code);
	va_start(ap, fmt);
	buf_vprintf(&s->io->out, fmt, ap);
	va_end(ap);
	io_write(s->io, "\r\n", 2);
	if (code < 500)
		return;
	/* DESIGN.md "Bad input": too many errors end the session. */
	if (++s->errors >= cfg->max_errors) {
		log_msg(service_name(s->io->service), s->io->id,
			"too many errors (%u), disconnecting", s->errors);
		smtp_close(s, "4.7.0", "Too many errors, closing connection");
	}
}

void smtp_enter_state(struct smtp_session *s, enum smtp_state st)
{
	const struct config *cfg = s->io->cfg;

	if (s->state == SMTP_CLOSED)
		return;
	s->state = st;
	/* RFC 5321 4.5.3.2.7: at least 5 minutes between commands; the data
	 * timeout covers a body on its way (4.5.3.2.6). */
	s->io->idle_timeout = st == SMTP_DATA || st == SMTP_BDAT ?
		cfg->timeout_smtp_data : cfg->timeout_smtp;
}

void smtp_close(struct smtp_session *s, const char *esc, const char *why)
{
	if (s->state == SMTP_CLOSED)
		return;
	/* RFC 5321 3.8: a server that must end the session says 421. */
	io_printf(s->io, "421 %s %s %s\r\n", esc, s->io->cfg->hostname, why);
	s->io->close = true;
	s->state = SMTP_CLOSED;
}

static void txn_free(struct smtp_txn *t)
{
	size_t i;

	for (i = 0; i < t->n_rcpts; i++) {
		free(t->rcpts[i].addr);
		free(t->rcpts[i].notify);
		free(t->rcpts[i].orcpt);
	}
	free(t->rcpts);
	for (i = 0; i < t->n_dests; i++) {
		free(t->dests[i].user);
		free(t->dests[i].folder);
	}
	free(t->dests);
	free(t->ret);
	free(t->envid);
	free(t->auth);
	if (t->queued_env != NULL) {
		queue_env_free(t->queued_env);
		free(t->queued_env);
	}
	/* An unfinished delivery takes its tmp file with it. */
	maildir_delivery_free(&t->delivery);
	smtp_body_free(&t->body);
	free(t);
}

void smtp_txn_end(struct smtp_session *s)
{
	if (s->txn == NULL)
		return;
	if (s->io->data == &s->dr)
		s->io->data = NULL;
	txn_free(s->txn);
	s->txn = NULL;
	fault_forget_named(&s->fault);
}

void smtp_session_reset(struct smtp_session *s)
{
	smtp_txn_end(s);
	sasl_reset(&s->sasl);
	free(s->helo);
	s->helo = NULL;
	s->esmtp = false;
	free(s->user);
	s->user = NULL;
}

const char *smtp_mail_root(const struct smtp_session *s)
{
	return s->mail_root;
}

bool smtp_is_submission(const struct smtp_session *s)
{
	return s->io->service == SVC_SUBMISSION ||
		s->io->service == SVC_SUBMISSIONS;
}

bool smtp_auth_offered(const struct smtp_session *s)
{
	/* On the MX port only under TLS; on submission wherever a password
	 * may be sent (common/auth.h). */
	if (!smtp_is_submission(s))
		return s->io->tls;
	return auth_plaintext_allowed(s->io);
}

/* --- dispatch --- */

static void smtp_cmd_unknown(struct smtp_session *s, char *args)
{
	(void)args;
	/* RFC 5321 4.2.4 recommends 500 here; issue 4 asks for 502, the
	 * answer Postfix gives, which clients treat alike (5yz). */
	smtp_reply(s, 502, "5.5.2", "Command unrecognized");
}

static const struct smtp_command *find_command(const char *verb, size_t len)
{
	const struct smtp_command *c;

	for (c = commands; c->name != NULL; c++) {
		if (strlen(c->name) == len && strncasecmp(c->name, verb, len) == 0)
			break;
	}
	return c;
}

/* RFC 5321 2.3.8 and 4.1.1: commands end in CRLF, and NUL is no text. */
static bool line_octets_ok(struct smtp_session *s, unsigned flags)
{
	if (flags & LINE_BARE_LF)
		smtp_reply(s, 500, "5.5.2",
			   "Bare LF received: lines must end with CRLF (RFC 5321 2.3.8)");
	else if (flags & LINE_BARE_CR)
		smtp_reply(s, 500, "5.5.2",
			   "Bare CR received: lines must end with CRLF (RFC 5321 2.3.8)");
	else if (flags & LINE_HAS_NUL)
		smtp_reply(s, 500, "5.5.2", "NUL character in command");
	else
		return true;
	return false;
}

static void dispatch(struct smtp_session *s, const char *line, size_t len,
		     unsigned flags)
{
	const struct smtp_command *cmd;
	size_t verb_len = 0;
	char *args;

	while (verb_len < len && line[verb_len] != ' ')
		verb_len++;
	cmd = find_command(line, verb_len);
	smtp_strict_command(s, cmd->name, line, len, cmd->flags & CMD_LONG_LINE,
			    flags);
	/* RFC 5321 4.5.3.1.4: 512 octets, RFC 4954 4: 12288 for AUTH. */
	if (len + 2 > s->io->cfg->max_command_line &&
	    !(cmd->flags & CMD_LONG_LINE)) {
		smtp_reply(s, 500, "5.5.2", "Line too long");
		return;
	}
	if (smtp_fault_refused(s, cmd->name))
		return;
	if (!(cmd->states & ST(s->state))) {
		smtp_reply(s, 503, "5.5.1", "%s", sequence_hint[s->state]);
		return;
	}
	buf_clear(&s->line);
	buf_append(&s->line, line, len);
	args = s->line.data + verb_len;
	while (*args == ' ')
		args++;
	if ((cmd->flags & CMD_NO_ARGS) && *args != '\0') {
		smtp_reply(s, 501, "5.5.4", "Syntax error: %s takes no parameters",
			   cmd->name);
		return;
	}
	if (cmd->name != NULL &&
	    smtp_fault_command(s, cmd->name, line, len, smtp_line))
		return;
	cmd->run(s, args);
}

/* --- the protocol operations --- */

static void *smtp_open(struct proto_io *io)
{
	struct smtp_session *s = xcalloc(1, sizeof(*s));
	struct buf root = BUF_INIT(BUF_UNLIMITED);

	s->io = io;
	smtp_settings(io->cfg, &s->settings);
	s->set = &s->settings;
	buf_init(&s->line, BUF_UNLIMITED);
	sasl_init(&s->sasl);
	fault_session_init(&s->fault, io);
	buf_printf(&root, "%s/mail", io->cfg->dir);
	s->mail_root = buf_steal(&root);
	/* A bare LF ends a line so that it gets an answer (and a hint)
	 * instead of leaving the client waiting; see line_octets_ok. */
	io->bare_lf_ends_line = true;
	io->max_line = io->cfg->max_command_line > SMTP_AUTH_LINE_MAX ?
		io->cfg->max_command_line : SMTP_AUTH_LINE_MAX;
	smtp_enter_state(s, SMTP_INIT);
	smtp_strict_open(s);
	smtp_greet(s);
	return s;
}

void smtp_greet(struct smtp_session *s)
{
	if (smtp_fault_greeting(s))
		return;
	/* RFC 5321 4.2: the greeting; RFC 2034 3: no enhanced code. */
	io_printf(s->io, "220 %s ESMTP maillab\r\n", s->io->cfg->hostname);
}

static void smtp_line(void *sess, const char *line, size_t len, unsigned flags)
{
	struct smtp_session *s = sess;

	switch (s->state) {
	case SMTP_AUTH:
		smtp_strict_line(s, flags);
		if (!line_octets_ok(s, flags)) {
			smtp_auth_abort(s);
			return;
		}
		smtp_auth_line(s, line, len);
		return;
	case SMTP_TLS:
		/* RFC 3207 4.2: whatever followed STARTTLS in the clear is
		 * not a command (the I/O layer drops it too). */
	case SMTP_CLOSED:
	case SMTP_BUSY:
	case SMTP_DATA:
	case SMTP_N_STATES:
		return;
	default:
		break;
	}
	smtp_strict_line(s, flags);
	if (!line_octets_ok(s, flags))
		return;
	dispatch(s, line, len, flags);
}

static void smtp_overlong(void *sess)
{
	struct smtp_session *s = sess;

	if (s->state == SMTP_AUTH) {
		/* RFC 4954 4 */
		smtp_auth_abort(s);
		smtp_reply(s, 500, "5.5.6", "Authentication Exchange line is too long");
		return;
	}
	if (s->state == SMTP_TLS || s->state == SMTP_CLOSED)
		return;
	smtp_strict_overlong(s);
	/* RFC 5321 4.5.3.1.10 */
	smtp_reply(s, 500, "5.5.2", "Line too long");
}

static void smtp_bytes(void *sess, const char *data, size_t len)
{
	(void)data;
	(void)len;
	smtp_bdat_chunk_done(sess);
}

static void smtp_data_end_op(void *sess)
{
	smtp_data_end(sess);
}

static void smtp_tls_done(void *sess)
{
	struct smtp_session *s = sess;

	/* RFC 3207 4.2: forget everything; the client must EHLO again. */
	smtp_session_reset(s);
	smtp_enter_state(s, SMTP_INIT);
}

static void smtp_timeout(void *sess)
{
	struct smtp_session *s = sess;

	log_msg(service_name(s->io->service), s->io->id, "idle timeout in %s",
		s->state == SMTP_DATA || s->state == SMTP_BDAT ? "message data" :
		"command phase");
	smtp_close(s, "4.4.2", "Idle timeout, closing connection");
}

static void smtp_shutdown(void *sess)
{
	smtp_close(sess, "4.3.2", "Service shutting down, closing connection");
}

static size_t smtp_trace_visible(void *sess, const char *line, size_t len)
{
	struct smtp_session *s = sess;

	/* DESIGN.md rule 6: AUTH payloads never reach a trace. */
	if (s->state == SMTP_AUTH)
		return 0;
	if (len >= 4 && strncasecmp(line, "AUTH", 4) == 0 &&
	    (len == 4 || line[4] == ' '))
		return auth_trace_visible(line, len, 2);
	return len;
}

static void smtp_free(void *sess)
{
	struct smtp_session *s = sess;

	smtp_strict_close(s);
	smtp_session_reset(s);
	alias_db_close(&s->aliases);
	buf_free(&s->line);
	fault_session_free(&s->fault);
	free(s->mail_root);
	free(s);
}

const struct protocol smtp_protocol = {
	.name = "smtp",
	.open = smtp_open,
	.line = smtp_line,
	.overlong = smtp_overlong,
	.bytes = smtp_bytes,
	.data_end = smtp_data_end_op,
	.tls_done = smtp_tls_done,
	.timeout = smtp_timeout,
	.shutdown = smtp_shutdown,
	.resume_output = NULL,	/* replies are short: never asks for it */
	.trace_visible = smtp_trace_visible,
	.busy_reply = "421 4.7.0 Too many connections, try again later\r\n",
	.close = smtp_free,
};
