/* Fault injection in POP3 (common/fault.h, labs/faults.md): what each
 * fault means here.  RFC 2449 8 and RFC 3206 response codes say what kind
 * of failure it is: [SYS/TEMP] for a 4xx rule, [SYS/PERM] for a 5xx,
 * [IN-USE] as when another session holds the maildrop.  `drop` at RETR or
 * TOP sends part of the message and closes: no QUIT, so nothing is
 * deleted (RFC 1939 6). */
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "pop3d/pop3-int.h"

#define IMMEDIATE (FAULT_KIND_BIT(FAULT_REPLY) | FAULT_KIND_BIT(FAULT_DROP) | \
		   FAULT_KIND_BIT(FAULT_BYE) | FAULT_KIND_BIT(FAULT_IN_USE))

static bool is_login(const char *cmd)
{
	return strcasecmp(cmd, "PASS") == 0 || strcasecmp(cmd, "APOP") == 0 ||
		strcasecmp(cmd, "AUTH") == 0;
}

static bool sends_message(const char *cmd)
{
	return strcasecmp(cmd, "RETR") == 0 || strcasecmp(cmd, "TOP") == 0;
}

static void apply(struct pop3_session *s, const struct fault *f,
		  const char *cmd)
{
	switch (f->kind) {
	case FAULT_IN_USE:
		fault_note(s->io, f, cmd, "-ERR [IN-USE]");
		pop3_err(s, "IN-USE", "Injected fault: maildrop is in use");
		break;
	case FAULT_REPLY:
		fault_note(s->io, f, cmd, f->arg >= 500 ? "-ERR [SYS/PERM]" :
			   "-ERR [SYS/TEMP]");
		if (f->arg >= 500)
			pop3_err(s, "SYS/PERM", "Injected fault: permanent failure");
		else
			pop3_err(s, "SYS/TEMP", "Injected fault: temporary failure, "
				 "try again later");
		if (f->arg == 421)
			pop3_close(s);
		break;
	case FAULT_BYE:
		fault_note(s->io, f, cmd, "-ERR [SYS/TEMP], connection closed");
		pop3_err(s, "SYS/TEMP", "Injected fault: closing connection");
		pop3_close(s);
		return;
	case FAULT_DROP:
	default:
		fault_note(s->io, f, cmd, "connection closed without a reply");
		pop3_close(s);
		return;
	}
	/* a refused login starts over with USER, as a wrong password does */
	if (is_login(cmd) && s->state == POP3_AUTHORIZATION) {
		free(s->user);
		s->user = NULL;
	}
}

bool pop3_fault_command(struct pop3_session *s, const char *cmd,
			const char *line, size_t len,
			void (*line_fn)(void *sess, const char *line, size_t len,
					unsigned flags))
{
	const struct fault *f;

	s->fault_cut = NULL;
	if (fault_delay_line(&s->fault, s->io, cmd, line, len, 0, line_fn, s))
		return true;
	if ((f = fault_find(&s->fault, cmd, IMMEDIATE, 0, false)) == NULL)
		return false;
	if (f->kind == FAULT_DROP && sends_message(cmd)) {
		s->fault_cut = f;	/* pop3_stream_more cuts the message */
		return false;
	}
	apply(s, f, cmd);
	return true;
}

bool pop3_fault_login(struct pop3_session *s, char *user, const char *cmd)
{
	static const char *const logins[] = { "PASS", "APOP", "AUTH" };
	size_t before = s->fault.n_named;
	const struct fault *f = NULL;

	if (fault_take_name(&s->fault, s->io, user) <= 0)
		return false;
	/* PASS, APOP and AUTH stand for each other here: the user picks
	 * the name, the mail program picks the command */
	for (size_t i = 0; i < 3 && f == NULL; i++)
		f = fault_find(&s->fault, logins[i], IMMEDIATE, before, true);
	if (f == NULL)
		return false;
	apply(s, f, cmd);
	return true;
}

bool pop3_fault_user(struct pop3_session *s, char *user)
{
	size_t before = s->fault.n_named;
	const struct fault *f;

	if (fault_take_name(&s->fault, s->io, user) <= 0)
		return false;
	f = fault_find(&s->fault, "USER", IMMEDIATE, before, true);
	if (f == NULL)
		return false;
	apply(s, f, "USER");
	return true;
}

static void greeting_again(void *arg)
{
	pop3_greet(arg);
}

bool pop3_fault_greeting(struct pop3_session *s)
{
	const struct fault *f;

	if (fault_delay(&s->fault, s->io, FAULT_GREETING, greeting_again, s))
		return true;
	f = fault_find(&s->fault, FAULT_GREETING, IMMEDIATE, 0, false);
	if (f == NULL)
		return false;
	/* RFC 1939 4 knows only +OK greetings; a server that will not
	 * serve says -ERR and closes, as servers do (RFC 2449 8: the code
	 * says how long the trouble lasts) */
	if (f->kind == FAULT_DROP) {
		fault_note(s->io, f, FAULT_GREETING, "connection closed without a greeting");
	} else if (f->kind == FAULT_REPLY && f->arg >= 500) {
		fault_note(s->io, f, FAULT_GREETING, "-ERR [SYS/PERM] instead of +OK, "
			   "connection closed");
		pop3_err(s, "SYS/PERM", "Injected fault: no POP3 service here");
	} else {
		fault_note(s->io, f, FAULT_GREETING, "-ERR [SYS/TEMP] instead of +OK, "
			   "connection closed");
		pop3_err(s, "SYS/TEMP", "Injected fault: service not available, try "
			 "again later");
	}
	pop3_close(s);
	return true;
}

void pop3_fault_cut(struct pop3_session *s)
{
	size_t half = s->ml.size / 2;
	char what[96];

	dot_writer_write(&s->ml, &s->io->out, half > 0 ? half : 1);
	snprintf(what, sizeof(what), "message cut after about %zu of %zu octets, "
		 "connection closed", half, s->ml.size);
	fault_note(s->io, s->fault_cut, s->fault_cut->cmd, what);
	s->fault_cut = NULL;
	pop3_stream_stop(s);
	pop3_close(s);
}
