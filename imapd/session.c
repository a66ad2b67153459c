/* The IMAP session: collecting commands from lines and literals,
 * dispatching them through the command table in the right state, tagged
 * and untagged replies (RFC 3501 2.2, 3, 7). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "imapd/imap-int.h"
#include "imapd/imap.h"
#include "maildir/deliver.h"
#include "maildir/mailbox.h"

#define CONTINUE_LITERAL "+ Ready for literal data\r\n"
/* Before login a literal holds a user name or password at most: anything
 * bigger is refused, so that an anonymous client cannot make the server
 * hold max_literal_size bytes per connection. */
#define PREAUTH_LITERAL_MAX 8192

static void session_reset_input(struct imap_session *s)
{
	imap_cmdbuf_reset(&s->input);
	/* a refused APPEND leaves nothing behind */
	s->streaming = false;
	imap_append_free(s);
	s->io->mode = INPUT_LINE;
	s->io->bytes_sink = NULL;
	s->io->bytes_sink_arg = NULL;
}

void imap_untagged(struct imap_session *s, const char *fmt, ...)
{
	va_list ap;

	buf_puts(s->out, "* ");
	va_start(ap, fmt);
	buf_vprintf(s->out, fmt, ap);
	va_end(ap);
	buf_puts(s->out, "\r\n");
}

static void set_result(struct imap_cmd *cmd, const char *status,
		       const char *fmt, va_list ap)
{
	buf_clear(&cmd->result);
	buf_puts(&cmd->result, status);
	buf_putc(&cmd->result, ' ');
	buf_vprintf(&cmd->result, fmt, ap);
}

void imap_cmd_ok(struct imap_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_result(cmd, "OK", fmt, ap);
	va_end(ap);
}

void imap_cmd_no(struct imap_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_result(cmd, "NO", fmt, ap);
	va_end(ap);
}

void imap_cmd_bad(struct imap_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_result(cmd, "BAD", fmt, ap);
	va_end(ap);
}

void imap_cmd_parse_error(struct imap_cmd *cmd)
{
	const char *error = cmd->p.error != NULL ? cmd->p.error :
		"Invalid arguments";

	if (cmd->p.error_no)
		imap_cmd_no(cmd, "%s", error);
	else
		imap_cmd_bad(cmd, "%s", error);
}

int imap_cmd_end(struct imap_cmd *cmd)
{
	if (imap_parse_end(&cmd->p) < 0) {
		imap_cmd_parse_error(cmd);
		return -1;
	}
	return 0;
}

/* The tagged reply of a command refused before it ran. */
static void reply_tagged(struct imap_session *s, const char *tag,
			 const char *text)
{
	buf_printf(s->out, "%s %s\r\n", tag != NULL ? tag : "*", text);
}

static void count_error(struct imap_session *s, bool bad)
{
	unsigned int max = s->io->cfg->max_errors;

	if (!bad) {
		s->errors = 0;
		return;
	}
	if (max == 0 || ++s->errors < max)
		return;
	imap_untagged(s, "BYE Too many invalid commands");
	s->close_after = true;
}

void imap_cmd_finish(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	bool bad = strncmp(buf_cstr(&cmd->result), "BAD", 3) == 0;

	if (s->state == IMAP_SELECTED && !bad && !cmd->updates_done &&
	    !(cmd->def->flags & IMAP_CMD_INLINE))
		imap_send_updates(s, (cmd->def->flags & IMAP_CMD_SEQS) &&
				  !cmd->uid);
	if (cmd->result.len == 0)
		imap_cmd_no(cmd, "Command failed");
	buf_printf(s->out, "%s %s\r\n", cmd->tag, buf_cstr(&cmd->result));
	count_error(s, bad);
	if (s->state == IMAP_LOGOUT)
		s->close_after = true;
	s->running = false;
	cmd->async = false;
	cmd->finished = true;
	imap_cmdbuf_reset(&s->input);
}

/* Acts on what a command asked for, on the loop thread. */
static void apply_requests(struct imap_session *s)
{
	const struct config *cfg = s->io->cfg;

	if (s->close_after)
		s->io->close = true;
	s->io->idle_timeout = s->state == IMAP_NOT_AUTH ?
		cfg->timeout_imap_preauth : s->idling ? cfg->timeout_imap_idle :
		cfg->timeout_imap;
	imap_notify_poke(s);
}

/* After SELECT: loads the snapshot it deferred, holding the index lock it
 * took (maildir_box_load).  Input waits meanwhile (io->defer). */
static void box_load_work(void *arg)
{
	struct imap_session *s = arg;
	char err[256];

	if (s->box != NULL && maildir_box_load(s->box, err, sizeof(err)) < 0) {
		log_msg("imap", s->io->id, "%s", err);
		s->box_load_failed = true;
	}
}

static void box_load_done(void *arg)
{
	struct imap_session *s = arg;

	s->box_load_out = false;
	if (s->box_load_failed) {
		/* the client was told counts the session cannot back */
		s->box_load_failed = false;
		imap_untagged(s, "BYE Cannot read the mailbox index");
		s->close_after = true;
	}
	apply_requests(s);
}

static void box_load_start(void *arg)
{
	struct imap_session *s = arg;

	/* It holds the index lock the SELECT took: on the pool's own thread
	 * for such work, never queued behind jobs (other SELECTs of the same
	 * user) that wait on every worker for that lock. */
	if (s->io->defer_holding != NULL) {
		s->io->defer_holding(s->io, box_load_work, box_load_done, s);
		return;
	}
	box_load_work(s);
	box_load_done(s);
}

/* The load starts a little later (io->after, 1 ms), when the SELECT reply
 * has surely been written to the socket: started at once (or even one
 * loop turn later), a worker busy loading a big folder delayed that write
 * in about one session of twenty on a 2-CPU machine.  The client's next
 * command waits for the load in any case. */
#define BOX_LOAD_DELAY_MS 1
static void load_box(struct imap_session *s)
{
	if (!s->box_loading)
		return;
	s->box_loading = false;
	s->box_load_out = true;
	if (s->io->after != NULL)
		s->io->after(s->io, BOX_LOAD_DELAY_MS, box_load_start, s);
	else
		box_load_start(s);
}

static void work_run(void *arg)
{
	struct imap_session *s = arg;
	struct imap_cmd *cmd = &s->cmd;

	s->out = &s->work_out;
	cmd->def->run(cmd);
	if (!cmd->async && !cmd->finished)
		imap_cmd_finish(cmd);
	s->out = &s->io->out;
}

void imap_work_done(void *arg)
{
	struct imap_session *s = arg;

	buf_append(&s->io->out, s->work_out.data, s->work_out.len);
	if (s->work_out.cap > 65536)
		buf_free(&s->work_out);
	else
		buf_clear(&s->work_out);
	if (s->fetch != NULL)
		imap_fetch_continue(s);
	apply_requests(s);
	load_box(s);
}

static void dispatch(struct imap_session *s, const struct imap_command *def)
{
	struct imap_cmd *cmd = &s->cmd;

	cmd->def = def;
	cmd->finished = false;
	s->running = true;
	/* nothing touches the store before login */
	if ((def->flags & IMAP_CMD_INLINE) || s->state == IMAP_NOT_AUTH ||
	    s->io->defer == NULL) {
		def->run(cmd);
		if (!cmd->async && !cmd->finished)
			imap_cmd_finish(cmd);
		apply_requests(s);
		load_box(s);
		return;
	}
	s->io->defer(s->io, work_run, imap_work_done, s);
}

static void run_command(struct imap_session *s);

/* A command held back by a delay fault runs now. */
static void run_command_again(void *arg)
{
	struct imap_session *s = arg;

	run_command(s);
	apply_requests(s);
}

/* Parses "tag SP command" (and "UID SP command") and runs it. */
static void run_command(struct imap_session *s)
{
	struct imap_cmd *cmd = &s->cmd;
	const struct imap_command *def = NULL;

	free(cmd->tag);
	cmd->tag = NULL;
	cmd->uid = false;
	cmd->async = false;
	cmd->updates_done = false;
	buf_clear(&cmd->result);
	imap_parser_init_cmd(&cmd->p, &s->input);
	cmd->p.rev2 = s->rev2;	/* RFC 9051 5.1 */
	if (imap_parse_tag(&cmd->p, &cmd->tmp) < 0) {
		reply_tagged(s, NULL, "BAD Invalid tag");
		goto refused;
	}
	cmd->tag = xstrdup(buf_cstr(&cmd->tmp));
	if (imap_parse_sp(&cmd->p) < 0 || imap_parse_atom(&cmd->p, &cmd->tmp) < 0) {
		reply_tagged(s, cmd->tag, "BAD Missing command");
		goto refused;
	}
	def = imap_command_find(buf_cstr(&cmd->tmp));
	if (def != NULL && def->run == cmd_uid) {
		cmd->uid = true;
		if (imap_parse_sp(&cmd->p) < 0 ||
		    imap_parse_atom(&cmd->p, &cmd->tmp) < 0)
			def = NULL;
		else
			def = imap_command_find(buf_cstr(&cmd->tmp));
		if (def != NULL && !(def->flags & IMAP_CMD_UID_OK))
			def = NULL;
	}
	if (def == NULL) {
		reply_tagged(s, cmd->tag, "BAD Unknown command");
		goto refused;
	}
	if (!(def->states & s->state)) {
		reply_tagged(s, cmd->tag, s->state == IMAP_NOT_AUTH ?
			     "BAD Command not valid before login" :
			     "BAD Command not valid in this state");
		goto refused;
	}
	if (imap_fault_command(s, def, run_command_again))
		return;
	dispatch(s, def);
	return;
refused:
	/* def is set only when the state was the reason */
	imap_strict_refused(s, def != NULL && !(def->states & s->state) ?
			    def : NULL);
	count_error(s, true);
	apply_requests(s);
	imap_cmdbuf_reset(&s->input);
}

/* ---- commands refused before their end arrived ---- */

static int discard_sink(void *arg, const char *p, size_t n)
{
	(void)arg;
	(void)p;
	(void)n;
	return 0;
}

/* The tag of the command being collected (or of `line` when nothing is
 * collected yet), for a reply; NULL when there is none. */
static char *pending_tag(struct imap_session *s, const char *line, size_t len)
{
	struct imap_parser p;
	struct buf tag = BUF_INIT(256);
	char *ret = NULL;

	if (s->input.text.len > 0)
		imap_parser_init(&p, s->input.text.data, s->input.text.len);
	else
		imap_parser_init(&p, line, len);
	if (imap_parse_tag(&p, &tag) == 0 && imap_parse_peek(&p) == ' ')
		ret = xstrdup(buf_cstr(&tag));
	buf_free(&tag);
	return ret;
}

/* A command is refused with `text` before all of it arrived.  When the
 * client is committed to sending a non-synchronising literal (RFC 7888),
 * its bytes and the rest of the command are read and thrown away and the
 * reply goes out after them; otherwise (a synchronising literal is never
 * sent without our "+") the reply goes now. */
static void refuse_command(struct imap_session *s, const char *line,
			   size_t len, const char *text)
{
	char *tag = pending_tag(s, line, len);
	size_t off;
	uint64_t size;
	bool nonsync;
	struct buf reply = BUF_INIT(BUF_UNLIMITED);

	buf_printf(&reply, "%s %s\r\n", tag != NULL ? tag : "*", text);
	free(tag);
	if (imap_literal_at_end(line, len, &off, &size, &nonsync) && nonsync) {
		free(s->discard_reply);
		s->discard_reply = buf_steal(&reply);
		s->discarding = true;
		imap_cmdbuf_reset(&s->input);
		s->io->mode = INPUT_BYTES;
		s->io->bytes_wanted = (size_t)size;
		s->io->bytes_sink = discard_sink;
		return;
	}
	buf_append(s->out, reply.data, reply.len);
	buf_free(&reply);
	count_error(s, strstr(text, "BAD") == text);
	session_reset_input(s);
	apply_requests(s);
}

static void discard_line(struct imap_session *s, const char *line, size_t len)
{
	size_t off;
	uint64_t size;
	bool nonsync;

	if (imap_literal_at_end(line, len, &off, &size, &nonsync) && nonsync) {
		s->io->mode = INPUT_BYTES;
		s->io->bytes_wanted = (size_t)size;
		s->io->bytes_sink = discard_sink;
		return;
	}
	s->discarding = false;
	if (s->discard_reply != NULL)
		buf_puts(s->out, s->discard_reply);
	free(s->discard_reply);
	s->discard_reply = NULL;
	count_error(s, true);
	session_reset_input(s);
	apply_requests(s);
}

/* ---- input ---- */

static void literal_announced(struct imap_session *s, const char *line,
			      size_t len, enum imap_feed r)
{
	struct proto_io *io = s->io;
	uint64_t size = s->input.literal_size;

	if ((s->state & IMAP_AUTHED) &&
	    imap_append_literal_is_message(&s->input)) {
		const char *reply;

		if (imap_append_stream_begin(s, size, &reply) < 0) {
			refuse_command(s, line, len, reply);
			return;
		}
		s->streaming = true;
	} else if (r == IMAP_FEED_TOO_BIG ||
		   (s->state == IMAP_NOT_AUTH && size > PREAUTH_LITERAL_MAX)) {
		refuse_command(s, line, len, "NO [TOOBIG] Literal too big");
		return;
	}
	io->mode = INPUT_BYTES;
	io->bytes_wanted = (size_t)size;
	if (!s->input.literal_nonsync)
		buf_puts(s->out, CONTINUE_LITERAL);
}

static void sasl_line(struct imap_session *s, const char *line, size_t len);

static void imap_line(void *sess, const char *line, size_t len, unsigned flags)
{
	struct imap_session *s = sess;
	enum imap_feed r;

	/* Output of a FETCH is complete before the next command starts
	 * (the I/O layer does not deliver input while it is pending). */
	while (s->fetch != NULL)
		imap_fetch_continue(s);
	if (s->in_sasl) {
		sasl_line(s, line, len);
		return;
	}
	imap_strict_line(s, flags);
	if (s->idling) {
		imap_idle_line(s, line, len, !(flags & LINE_BAD_OCTETS));
		return;
	}
	if (s->discarding) {
		discard_line(s, line, len);
		return;
	}
	if (flags & (LINE_HAS_NUL | LINE_BARE_CR | LINE_BARE_LF)) {
		refuse_command(s, line, len,
			       "BAD NUL, CR or LF inside a command line");
		return;
	}
	r = imap_cmdbuf_line(&s->input, line, len);
	switch (r) {
	case IMAP_FEED_DONE:
		run_command(s);
		break;
	case IMAP_FEED_LITERAL:
	case IMAP_FEED_TOO_BIG:
		imap_strict_literal(s, flags);
		literal_announced(s, line, len, r);
		break;
	case IMAP_FEED_TOO_LONG:
		refuse_command(s, line, len, "BAD Command line too long");
		break;
	}
}

static void imap_bytes(void *sess, const char *data, size_t len)
{
	struct imap_session *s = sess;

	s->io->bytes_sink = NULL;
	s->io->bytes_sink_arg = NULL;
	if (s->discarding)
		return;
	if (s->streaming) {
		s->streaming = false;
		imap_cmdbuf_literal_streamed(&s->input);
	} else {
		imap_cmdbuf_literal(&s->input, data, len);
	}
}

static void imap_overlong(void *sess)
{
	struct imap_session *s = sess;
	char *tag = NULL;

	/* The line is gone, and with it the tag unless an earlier part of
	 * the command (before a literal) had it. */
	if (s->idling) {
		imap_idle_line(s, "", 0, false);
		return;
	}
	if (imap_cmdbuf_pending(&s->input))
		tag = pending_tag(s, "", 0);
	if (s->discarding) {
		discard_line(s, "", 0);
	} else {
		buf_printf(s->out, "%s BAD Command line too long\r\n",
			   tag != NULL ? tag : "*");
		count_error(s, true);
	}
	free(tag);
	if (s->in_sasl) {
		/* an AUTHENTICATE response that long is cancelled */
		s->in_sasl = false;
		sasl_reset(&s->sasl);
		s->running = false;
	}
	session_reset_input(s);
	apply_requests(s);
}

/* ---- authentication exchange lines ---- */

static void auth_finished(void *sess, enum auth_result result,
			  const char *user);

/* The SASL exchange gave a user and a password: check them, unless a
 * fault the user name asks for answers first (imapd/fault.c). */
static void sasl_verify(struct imap_session *s)
{
	struct imap_cmd *cmd = &s->cmd;
	const char *name = sasl_user(&s->sasl);
	char user[512];

	s->in_sasl = false;
	cmd->async = true;
	if (strlen(name) < sizeof(user)) {
		memcpy(user, name, strlen(name) + 1);
		if (imap_fault_login(cmd, user)) {
			if (!s->io->close)
				imap_cmd_finish(cmd);
			apply_requests(s);
			return;
		}
		name = user;
	}
	auth_check(s->io, &s->auth, name, sasl_password(&s->sasl),
		   auth_finished, s);
}

static void sasl_line(struct imap_session *s, const char *line, size_t len)
{
	struct imap_cmd *cmd = &s->cmd;
	enum sasl_result r = sasl_step(&s->sasl, line, len);

	switch (r) {
	case SASL_CHALLENGE:
		buf_printf(s->out, "+ %s\r\n", sasl_challenge(&s->sasl));
		return;
	case SASL_VERIFY:
		sasl_verify(s);
		sasl_reset(&s->sasl);
		return;
	case SASL_FAILED:
		s->in_sasl = false;
		auth_reject(s->io, &s->auth, sasl_failure(&s->sasl),
			    auth_finished, s);
		sasl_reset(&s->sasl);
		return;
	case SASL_CANCELLED:
		imap_cmd_bad(cmd, "Authentication cancelled");
		break;
	default:
		imap_cmd_bad(cmd, "Invalid base64 in authentication response");
		break;
	}
	s->in_sasl = false;
	sasl_reset(&s->sasl);
	imap_cmd_finish(cmd);
	apply_requests(s);
}

void imap_sasl_start(struct imap_cmd *cmd, const char *mech,
		     const char *initial)
{
	struct imap_session *s = cmd->s;

	switch (sasl_start(&s->sasl, mech, initial)) {
	case SASL_CHALLENGE:
		cmd->async = true;
		s->in_sasl = true;
		buf_printf(s->out, "+ %s\r\n", sasl_challenge(&s->sasl));
		return;
	case SASL_VERIFY:
		sasl_verify(s);
		break;
	case SASL_FAILED:
		cmd->async = true;
		auth_reject(s->io, &s->auth, sasl_failure(&s->sasl),
			    auth_finished, s);
		break;
	case SASL_NO_MECH:
		imap_cmd_no(cmd, "Unsupported authentication mechanism");
		break;
	case SASL_CANCELLED:
		imap_cmd_bad(cmd, "Authentication cancelled");
		break;
	case SASL_BAD_BASE64:
		imap_cmd_bad(cmd, "Invalid base64 in initial response");
		break;
	}
	sasl_reset(&s->sasl);
}

void imap_login_check(struct imap_cmd *cmd, const char *user,
		      const char *password)
{
	cmd->async = true;
	auth_check(cmd->s->io, &cmd->s->auth, user, password, auth_finished,
		   cmd->s);
}

/* Opening the user's store reads (and may create) its index: a worker's
 * job, like every other store access. */
static void login_work(void *arg)
{
	struct imap_session *s = arg;
	struct imap_cmd *cmd = &s->cmd;

	if (imap_login(cmd, s->pending_user) == 0) {
		buf_clear(&cmd->tmp);
		imap_capabilities(s, &cmd->tmp);
		imap_cmd_ok(cmd, "[CAPABILITY %s] Logged in", buf_cstr(&cmd->tmp));
	}
}

static void login_done(void *arg)
{
	struct imap_session *s = arg;

	free(s->pending_user);
	s->pending_user = NULL;
	imap_cmd_finish(&s->cmd);
	apply_requests(s);
}

static void auth_finished(void *sess, enum auth_result result,
			  const char *user)
{
	struct imap_session *s = sess;
	struct imap_cmd *cmd = &s->cmd;

	switch (result) {
	case AUTH_OK:
		s->pending_user = xstrdup(user);
		s->io->defer(s->io, login_work, login_done, s);
		return;
	case AUTH_FAILED:
		imap_cmd_no(cmd, "[AUTHENTICATIONFAILED] Authentication failed");
		break;
	case AUTH_FAILED_CLOSE:
		imap_cmd_no(cmd, "[AUTHENTICATIONFAILED] Authentication failed");
		s->close_after = true;
		break;
	case AUTH_TEMPFAIL:
		imap_cmd_no(cmd, "[UNAVAILABLE] Temporary authentication failure");
		break;
	case AUTH_LOCKED:
		imap_cmd_no(cmd, "[UNAVAILABLE] Too many failed authentications, "
			    "try again later");
		break;
	}
	imap_cmd_finish(cmd);
	if (result == AUTH_FAILED_CLOSE)
		imap_untagged(s, "BYE Too many authentication failures");
	apply_requests(s);
}

/* ---- the rest of the protocol operations ---- */

static void *imap_open(struct proto_io *io)
{
	struct imap_session *s = xcalloc(1, sizeof(*s));
	const struct config *cfg = io->cfg;
	struct buf caps = BUF_INIT(BUF_UNLIMITED);

	s->io = io;
	s->out = &io->out;
	s->state = IMAP_NOT_AUTH;
	s->cmd.s = s;
	buf_init(&s->cmd.result, BUF_UNLIMITED);
	buf_init(&s->cmd.tmp, BUF_UNLIMITED);
	buf_init(&s->work_out, BUF_UNLIMITED);
	imap_cmdbuf_init(&s->input, cfg->max_imap_line, cfg->max_literal_size);
	sasl_init(&s->sasl);
	fault_session_init(&s->fault, io);
	buf_printf(&caps, "%s/mail", cfg->dir);
	s->mail_root = buf_steal(&caps);
	io->max_line = cfg->max_imap_line;
	io->idle_timeout = cfg->timeout_imap_preauth;
	buf_free(&caps);
	imap_greet(s);
	return s;
}

void imap_greet(struct imap_session *s)
{
	struct buf caps = BUF_INIT(BUF_UNLIMITED);

	if (imap_fault_greeting(s))
		return;
	imap_capabilities(s, &caps);
	imap_untagged(s, "OK [CAPABILITY %s] maillab IMAP4rev1 server ready",
		      buf_cstr(&caps));
	buf_free(&caps);
}

static void imap_tls_done(void *sess)
{
	struct imap_session *s = sess;

	/* RFC 3501 6.2.1: no greeting; anything buffered was discarded. */
	session_reset_input(s);
}

/* A BYE cannot go inside FETCH output (it may be in a literal): a
 * session in the middle of one is just disconnected. */
static void say_bye(struct imap_session *s, const char *text)
{
	if (s->fetch != NULL)
		imap_fetch_job_free(&s->fetch);
	else
		imap_untagged(s, "BYE %s", text);
	s->io->close = true;
}

static void imap_timeout(void *sess)
{
	say_bye(sess, "Autologout; idle for too long");
}

static void imap_shutdown(void *sess)
{
	say_bye(sess, "Server shutting down");
}

static void imap_input_refused(void *sess, const char *why)
{
	say_bye(sess, why);
}

static void imap_resume(void *sess)
{
	struct imap_session *s = sess;

	if (s->fetch != NULL)
		imap_fetch_continue(s);
	apply_requests(s);
}

/* Secrets stay out of the trace: LOGIN's password, SASL responses
 * (DESIGN.md "Durability and integrity" 6). */
static size_t imap_trace_visible(void *sess, const char *line, size_t len)
{
	struct imap_session *s = sess;
	const char *sp;
	size_t rest;

	if (s->in_sasl)
		return 0;
	if (imap_cmdbuf_pending(&s->input)) {
		const char *text = s->input.text.data;

		sp = memchr(text, ' ', s->input.text.len);
		if (sp != NULL && s->input.text.len - (size_t)(sp - text) > 6 &&
		    strncasecmp(sp + 1, "LOGIN ", 6) == 0)
			return 0;
		return len;
	}
	sp = memchr(line, ' ', len);
	if (sp == NULL)
		return len;
	rest = len - (size_t)(sp + 1 - line);
	if (rest >= 6 && strncasecmp(sp + 1, "LOGIN ", 6) == 0)
		return auth_trace_visible(line, len, 3);
	if (rest >= 13 && strncasecmp(sp + 1, "AUTHENTICATE ", 13) == 0)
		return auth_trace_visible(line, len, 3);
	return len;
}

static void imap_data_end(void *sess)
{
	(void)sess;	/* IMAP never asks for INPUT_DATA */
}

static void imap_free(void *sess)
{
	struct imap_session *s = sess;

	imap_strict_close(s);
	imap_fetch_job_free(&s->fetch);
	imap_idle_free(s);
	imap_notify_free(s);
	imap_append_free(s);
	imap_unselect(s);
	maildir_store_close(&s->store);
	sasl_reset(&s->sasl);
	imap_cmdbuf_free(&s->input);
	buf_free(&s->cmd.result);
	buf_free(&s->cmd.tmp);
	buf_free(&s->work_out);
	fault_session_free(&s->fault);
	free(s->cmd.tag);
	free(s->discard_reply);
	free(s->user);
	free(s->pending_user);
	free(s->mail_root);
	free(s);
}

const struct protocol imap_protocol = {
	.name = "imap",
	.open = imap_open,
	.line = imap_line,
	.overlong = imap_overlong,
	.bytes = imap_bytes,
	.data_end = imap_data_end,
	.tls_done = imap_tls_done,
	.timeout = imap_timeout,
	.shutdown = imap_shutdown,
	.input_refused = imap_input_refused,
	.resume_output = imap_resume,
	.trace_visible = imap_trace_visible,
	.busy_reply = "* BYE [UNAVAILABLE] Too many connections\r\n",
	.close = imap_free,
};
