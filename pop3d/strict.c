/* Strict mode for POP3 (common/strict.h): the rules a client breaks, seen
 * from the session.  Each check only writes a trace line; the replies are
 * the session's own, strict or not. */
#include <string.h>

#include "common/strict.h"
#include "pop3d/explain.h"
#include "pop3d/pop3-int.h"

/* RFC 2449 4: a command line, CRLF included. */
#define RFC_LINE_MAX 255

static void note(struct pop3_session *s, const char *rule)
{
	strict_note(s->io, &pop3_explainer, rule);
}

void pop3_strict_line(struct pop3_session *s, size_t len, unsigned flags)
{
	s->strict_blind = s->strict_more;
	s->strict_more = (flags & LINE_MORE_QUEUED) != 0;
	if (flags & LINE_BARE_LF)
		note(s, "pop3-bare-lf");
	if (len + 2 > RFC_LINE_MAX)
		note(s, "pop3-line-too-long");
}

void pop3_strict_overlong(struct pop3_session *s)
{
	note(s, "pop3-line-too-long");
}

void pop3_strict_command(struct pop3_session *s, const char *name,
			 bool state_ok)
{
	if (name == NULL)
		note(s, "pop3-unknown-command");
	/* RFC 2449 6.6 (PIPELINING): a command sent before the last reply
	 * came may find a state the client could not foresee (a failed
	 * PASS). */
	else if (s->strict_blind)
		return;
	else if (!state_ok)
		note(s, s->state == POP3_AUTHORIZATION ? "pop3-not-logged-in" :
		     "pop3-already-logged-in");
	else if (strcmp(name, "PASS") == 0 && s->user == NULL)
		note(s, "pop3-pass-without-user");
}

void pop3_strict_message(struct pop3_session *s, bool deleted)
{
	note(s, deleted ? "pop3-message-deleted" : "pop3-no-such-message");
}

void pop3_strict_close(struct pop3_session *s)
{
	bool marked = false;

	/* The session did not decide to close (QUIT, an error limit, a
	 * timeout): the client went away. */
	if (s->closed || s->io->close || s->state == POP3_UPDATE)
		return;
	for (size_t i = 0; i < s->count && s->marks != NULL; i++)
		if (s->marks[i] & POP3_MARK_DELETED)
			marked = true;
	note(s, marked ? "pop3-no-quit-dele-lost" : "pop3-no-quit");
}
