/* Fault injection in SMTP (common/fault.h, labs/faults.md): what each
 * fault means here.  Replies come from the table below; 421 and `bye` end
 * the session (RFC 5321 3.8); `drop` closes without a reply, and at the
 * end of DATA before anything is delivered, so no 250 was promised. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpd/session.h"

/* RFC 3463 3.4 X.3.0: "other or undefined mail system status"; the text
 * says the failure is an injected one. */
static const char *const fault_replies[] = {
	"421 4.3.0", "450 4.3.0", "451 4.3.0", "452 4.3.0", "550 5.3.0",
	"551 5.3.0", "552 5.3.0", "553 5.3.0", "554 5.3.0",
};

static const char *reply_for(unsigned int code)
{
	for (size_t i = 0; i < sizeof(fault_replies) / sizeof(fault_replies[0]); i++)
		if ((unsigned int)atoi(fault_replies[i]) == code)
			return fault_replies[i];
	return "451 4.3.0";
}

static void drop(struct smtp_session *s)
{
	smtp_enter_state(s, SMTP_CLOSED);
	s->io->close = true;
}

/* Carries out a reply, drop or bye fault for command `cmd`. */
static void apply(struct smtp_session *s, const struct fault *f,
		  const char *cmd)
{
	const char *r;

	switch (f->kind) {
	case FAULT_REPLY:
		r = reply_for(f->arg);
		fault_note(s->io, f, cmd, r);
		if (f->arg == 421) {
			smtp_close(s, r + 4, "Injected fault: service not available");
			return;
		}
		smtp_reply(s, (int)f->arg, r + 4, "Injected fault: %s",
			   f->arg >= 500 ? "permanent failure" :
			   "temporary failure, try again later");
		return;
	case FAULT_BYE:
		fault_note(s->io, f, cmd, "421, connection closed");
		smtp_close(s, "4.3.0", "Injected fault: closing connection");
		return;
	case FAULT_DROP:
	default:
		fault_note(s->io, f, cmd, "connection closed without a reply");
		drop(s);
		return;
	}
}

#define IMMEDIATE (FAULT_KIND_BIT(FAULT_REPLY) | FAULT_KIND_BIT(FAULT_DROP) | \
		   FAULT_KIND_BIT(FAULT_BYE))

bool smtp_fault_command(struct smtp_session *s, const char *cmd,
			const char *line, size_t len,
			void (*line_fn)(void *sess, const char *line, size_t len,
					unsigned flags))
{
	const struct fault *f;

	if (fault_delay_line(&s->fault, s->io, cmd, line, len, 0, line_fn, s))
		return true;
	/* RFC 3030 2: a BDAT chunk follows its command whatever the reply,
	 * and only BDAT reads it: a reply instead of BDAT would leave the
	 * chunk to be taken for commands.  Closing is fine. */
	if ((f = fault_find(&s->fault, cmd, strcmp(cmd, "BDAT") == 0 ?
			    IMMEDIATE & ~FAULT_KIND_BIT(FAULT_REPLY) : IMMEDIATE,
			    0, false)) == NULL)
		return false;
	apply(s, f, cmd);
	return true;
}

bool smtp_fault_address(struct smtp_session *s, struct smtp_path *path,
			const char *cmd)
{
	size_t before = s->fault.n_named;
	const struct fault *f;

	if (path->null || fault_take_name(&s->fault, s->io, path->local) <= 0)
		return false;
	/* the mailbox as written carries the same suffix */
	fault_strip_name(path->mailbox);
	f = fault_find(&s->fault, cmd, IMMEDIATE, before, true);
	if (f == NULL)
		return false;
	apply(s, f, cmd);
	return true;
}

bool smtp_fault_greylist(struct smtp_session *s, const char *rcpt)
{
	const struct fault *f = fault_find(&s->fault, "RCPT",
					   FAULT_KIND_BIT(FAULT_GREYLIST), 0, false);
	unsigned int attempt;
	char what[96];

	if (f == NULL || s->txn == NULL)
		return false;
	attempt = fault_greylist(s->io->peer, s->txn->from.mailbox, rcpt, f->arg);
	if (attempt == 0)
		return false;
	snprintf(what, sizeof(what), "451 4.7.1, attempt %u of %u refused",
		 attempt, f->arg);
	fault_note(s->io, f, "RCPT", what);
	/* RFC 6647 2.1: a temporary failure; a client that retries later
	 * gets through. */
	smtp_reply(s, 451, "4.7.1", "<%s>: Greylisted, try again later", rcpt);
	return true;
}

static void data_end_again(void *arg)
{
	struct smtp_session *s = arg;

	if (s->state == SMTP_BDAT)
		smtp_bdat_last(s);
	else
		smtp_data_end(s);
}

bool smtp_fault_data_end(struct smtp_session *s)
{
	const struct fault *f;

	if (fault_delay(&s->fault, s->io, "DATA-END", data_end_again, s))
		return true;
	if ((f = fault_find(&s->fault, "DATA-END", IMMEDIATE, 0, false)) == NULL)
		return false;
	/* The message is thrown away unfinished: its tmp file goes with
	 * the transaction, nothing reaches a mailbox or the queue. */
	smtp_txn_end(s);
	smtp_enter_state(s, SMTP_READY);
	apply(s, f, "DATA-END");
	return true;
}

bool smtp_fault_auth(struct smtp_session *s, char *user)
{
	size_t before = s->fault.n_named;
	const struct fault *f;

	if (fault_take_name(&s->fault, s->io, user) <= 0)
		return false;
	/* the user's faults, unlike an address's, outlive the transaction */
	fault_keep_named(&s->fault);
	f = fault_find(&s->fault, "AUTH", IMMEDIATE, before, true);
	if (f == NULL)
		return false;
	smtp_enter_state(s, SMTP_READY);
	apply(s, f, "AUTH");
	return true;
}

/* --- the greeting --- */

static void greeting_again(void *arg)
{
	smtp_greet(arg);
}

bool smtp_fault_greeting(struct smtp_session *s)
{
	struct proto_io *io = s->io;
	const struct fault *f;

	if (fault_delay(&s->fault, io, FAULT_GREETING, greeting_again, s))
		return true;
	f = fault_find(&s->fault, FAULT_GREETING, IMMEDIATE, 0, false);
	if (f == NULL)
		return false;
	/* RFC 2034 3: no enhanced status code before EHLO */
	if (f->kind == FAULT_REPLY && f->arg == 554) {
		fault_note(io, f, FAULT_GREETING, "554 instead of 220, then 503 to "
			   "every command but QUIT");
		/* RFC 5321 3.1: the server then waits for QUIT */
		io_printf(io, "554 %s Injected fault: no SMTP service here\r\n",
			  io->cfg->hostname);
		s->fault.greeting_refused = true;
		return true;
	}
	if (f->kind == FAULT_DROP) {
		fault_note(io, f, FAULT_GREETING, "connection closed without a greeting");
		drop(s);
		return true;
	}
	fault_note(io, f, FAULT_GREETING, "421 instead of 220, connection closed");
	io_printf(io, "421 %s Injected fault: service not available, closing "
		  "connection\r\n", io->cfg->hostname);
	drop(s);
	return true;
}

bool smtp_fault_refused(struct smtp_session *s, const char *cmd)
{
	if (!s->fault.greeting_refused || (cmd != NULL && strcmp(cmd, "QUIT") == 0))
		return false;
	smtp_reply(s, 503, "5.5.1", "Bad sequence of commands: no SMTP service "
		   "here (injected fault), send QUIT");
	return true;
}
