/* Strict mode for IMAP (common/strict.h): the rules a client breaks, seen
 * from the session.  Each check only writes a trace line; the replies are
 * the session's own, strict or not. */
#include <string.h>
#include <strings.h>

#include "common/strict.h"
#include "imapd/explain.h"
#include "imapd/imap-int.h"

static void note(struct imap_session *s, const char *rule)
{
	strict_note(s->io, &imap_explainer, rule);
}

void imap_strict_line(struct imap_session *s, unsigned flags)
{
	s->strict_blind = s->strict_more;
	s->strict_more = (flags & LINE_MORE_QUEUED) != 0;
	if (flags & LINE_BARE_LF)
		note(s, "imap-bare-lf");
}

void imap_strict_literal(struct imap_session *s, unsigned flags)
{
	/* RFC 3501 7.5: a synchronising literal waits for "+"; whatever had
	 * already arrived behind its line was sent before the "+". */
	if (!s->input.literal_nonsync && (flags & LINE_MORE_QUEUED))
		note(s, "imap-literal-no-wait");
}

/* Whether word[0..len) is one whole tag (RFC 3501 9), as the parser reads
 * tags. */
static bool whole_tag(const char *word, size_t len)
{
	struct imap_parser p;
	struct buf tag = BUF_INIT(256);
	bool ok;

	imap_parser_init(&p, word, len);
	ok = imap_parse_tag(&p, &tag) == 0 && tag.len == len;
	buf_free(&tag);
	return ok;
}

static void state_rule(struct imap_session *s, const struct imap_command *def)
{
	if (s->state == IMAP_NOT_AUTH)
		note(s, "imap-not-authenticated");
	else if (!(def->states & IMAP_AUTHED))
		note(s, "imap-already-authenticated");
	else
		note(s, "imap-not-selected");
}

void imap_strict_refused(struct imap_session *s, const struct imap_command *def)
{
	const char *text = s->input.text.data != NULL ? s->input.text.data : "";
	size_t len = s->input.text.len;
	const char *sp = memchr(text, ' ', len);
	size_t n = sp != NULL ? (size_t)(sp - text) : len;
	char word[32];

	if (!strict_on(s->io))
		return;
	if (n == 0 || !whole_tag(text, n)) {
		note(s, "imap-bad-tag");
		return;
	}
	if (def != NULL) {
		/* RFC 3501 5.5: a pipelined command may meet a state the
		 * client could not foresee (a failed LOGIN or SELECT). */
		if (!s->strict_blind)
			state_rule(s, def);
		return;
	}
	if (n >= sizeof(word)) {
		note(s, "imap-unknown-command");
		return;
	}
	memcpy(word, text, n);
	word[n] = '\0';
	if (strcasecmp(word, "DONE") == 0 && n == len)
		note(s, "imap-done-outside-idle");
	else if (imap_command_find(word) != NULL)
		note(s, "imap-no-tag");
	else
		note(s, "imap-unknown-command");
}

void imap_strict_close(struct imap_session *s)
{
	/* The session did not decide to close (LOGOUT, an error limit, a
	 * timeout): the client went away. */
	if (!s->io->close && !s->close_after && s->state != IMAP_LOGOUT)
		note(s, "imap-no-logout");
}
