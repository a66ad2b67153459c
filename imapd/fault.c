/* Fault injection in IMAP (common/fault.h, labs/faults.md): what each
 * fault means here.  A 4xx rule and `unavailable` give NO [UNAVAILABLE]
 * (RFC 5530 3: temporary), a 5xx rule NO [CANNOT]; 421 and `bye` send an
 * untagged BYE and close (RFC 3501 7.1.5); `drop` at FETCH sends part of
 * a message literal and closes, other commands close without a word.
 * A FETCH that will be cut sets no \Seen flag. */
#include <stdio.h>

#include "imapd/imap-int.h"
#include "maildir/deliver.h"

#define IMMEDIATE (FAULT_KIND_BIT(FAULT_REPLY) | FAULT_KIND_BIT(FAULT_DROP) | \
		   FAULT_KIND_BIT(FAULT_BYE) | FAULT_KIND_BIT(FAULT_UNAVAILABLE))

/* Carries out fault f for the command being run; true when it gets a
 * tagged reply (set in cmd->result), false when the session ends. */
static bool apply(struct imap_cmd *cmd, const struct fault *f,
		  const char *name)
{
	struct imap_session *s = cmd->s;

	if (f->kind == FAULT_UNAVAILABLE ||
	    (f->kind == FAULT_REPLY && f->arg < 500 && f->arg != 421)) {
		fault_note(s->io, f, name, "NO [UNAVAILABLE]");
		imap_cmd_no(cmd, "[UNAVAILABLE] Injected fault: temporary failure, "
			    "try again later");
		return true;
	}
	if (f->kind == FAULT_REPLY && f->arg >= 500) {
		fault_note(s->io, f, name, "NO [CANNOT]");
		imap_cmd_no(cmd, "[CANNOT] Injected fault: permanent failure");
		return true;
	}
	if (f->kind == FAULT_DROP) {
		fault_note(s->io, f, name, "connection closed without a reply");
	} else {
		fault_note(s->io, f, name, "* BYE, connection closed");
		imap_untagged(s, "BYE Injected fault: closing connection");
	}
	s->io->close = true;
	return false;
}

bool imap_fault_command(struct imap_session *s, const struct imap_command *def,
			void (*again)(void *arg))
{
	struct imap_cmd *cmd = &s->cmd;
	const struct fault *f;

	s->fault_cut = NULL;
	if (fault_delay(&s->fault, s->io, def->name, again, s))
		return true;
	if ((f = fault_find(&s->fault, def->name, IMMEDIATE, 0, false)) == NULL)
		return false;
	if (f->kind == FAULT_DROP && def->run == cmd_fetch) {
		s->fault_cut = f;	/* cmd-fetch.c cuts the output */
		return false;
	}
	cmd->def = def;
	/* an APPEND's message, already streamed, is not stored (its tmp
	 * file goes) */
	imap_append_free(s);
	s->streaming = false;
	if (apply(cmd, f, def->name)) {
		/* untagged updates would need the store: none this time */
		cmd->updates_done = true;
		imap_cmd_finish(cmd);
	}
	return true;
}

bool imap_fault_login(struct imap_cmd *cmd, char *user)
{
	struct fault_session *fs = &cmd->s->fault;
	size_t before = fs->n_named;
	const struct fault *f;

	if (fault_take_name(fs, cmd->s->io, user) <= 0)
		return false;
	/* LOGIN and AUTHENTICATE stand for each other here: the user picks
	 * the name, the mail program picks the command */
	f = fault_find(fs, "LOGIN", IMMEDIATE, before, true);
	if (f == NULL)
		f = fault_find(fs, "AUTHENTICATE", IMMEDIATE, before, true);
	if (f == NULL)
		return false;
	if (!apply(cmd, f, cmd->def->name))
		cmd->async = true;	/* no tagged reply: the session ends */
	return true;
}

static void greeting_again(void *arg)
{
	imap_greet(arg);
}

bool imap_fault_greeting(struct imap_session *s)
{
	const struct fault *f;

	if (fault_delay(&s->fault, s->io, FAULT_GREETING, greeting_again, s))
		return true;
	f = fault_find(&s->fault, FAULT_GREETING, IMMEDIATE, 0, false);
	if (f == NULL)
		return false;
	/* RFC 3501 7.1.5: a BYE greeting refuses the connection */
	if (f->kind == FAULT_DROP) {
		fault_note(s->io, f, FAULT_GREETING, "connection closed without a greeting");
	} else if (f->kind == FAULT_REPLY && f->arg >= 500) {
		fault_note(s->io, f, FAULT_GREETING, "* BYE instead of * OK, "
			   "connection closed");
		imap_untagged(s, "BYE Injected fault: no IMAP service here");
	} else {
		fault_note(s->io, f, FAULT_GREETING, "* BYE [UNAVAILABLE] instead of "
			   "* OK, connection closed");
		imap_untagged(s, "BYE [UNAVAILABLE] Injected fault: server not "
			      "available, try again later");
	}
	s->io->close = true;
	return true;
}

void imap_fault_cut(struct imap_session *s, size_t sent, size_t size)
{
	char what[96];

	snprintf(what, sizeof(what), size > 0 ?
		 "FETCH cut after %zu of %zu literal octets, connection closed" :
		 "FETCH cut before its tagged reply, connection closed",
		 sent, size);
	fault_note(s->io, s->fault_cut, "FETCH", what);
	s->fault_cut = NULL;
	s->io->close = true;
}
