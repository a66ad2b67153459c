/* Strict mode for SMTP (common/strict.h): the rules a client breaks, seen
 * from the session.  Each check only writes a trace line; the replies are
 * the session's own, strict or not. */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "common/strict.h"
#include "smtpd/explain.h"
#include "smtpd/session.h"

/* RFC 5321 4.5.3.1.4 and 4.5.3.1.6, CRLF included. */
#define RFC_COMMAND_LINE_MAX 512
#define RFC_TEXT_LINE_MAX 1000

static void note(struct smtp_session *s, const char *rule)
{
	strict_note(s->io, &smtp_explainer, rule);
}

static bool is(const char *name, const char *verb)
{
	return name != NULL && strcmp(name, verb) == 0;
}

void smtp_strict_open(struct smtp_session *s)
{
	if (s->io->early_input)
		note(s, "smtp-early-talker");
}

void smtp_strict_line(struct smtp_session *s, unsigned flags)
{
	s->strict_blind = s->strict_more;
	s->strict_more = (flags & LINE_MORE_QUEUED) != 0;
	if (flags & LINE_BARE_LF)
		note(s, "smtp-bare-lf");
	else if (flags & LINE_BARE_CR)
		note(s, "smtp-bare-cr");
}

/* RFC 2920 3.1: these must end a group of pipelined commands (TURN is
 * not implemented; DATA has its own rule). */
static bool ends_group(const char *name)
{
	static const char *const verbs[] = {
		"EHLO", "VRFY", "EXPN", "NOOP", "QUIT",
	};

	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (is(name, verbs[i]))
			return true;
	return false;
}

static void check_pipelining(struct smtp_session *s, const char *name)
{
	/* RFC 3030 2: a BDAT chunk follows its command at once. */
	if (is(name, "BDAT"))
		return;
	if (is(name, "DATA"))
		note(s, "smtp-data-before-354");
	else if (s->state == SMTP_INIT || !s->esmtp)
		note(s, "smtp-pipelining-not-offered");
	else if (ends_group(name))
		note(s, "smtp-pipelining-group-end");
}

static void check_sequence(struct smtp_session *s, const char *name)
{
	bool greeted = s->state != SMTP_INIT;

	/* RFC 2920 3.1: a pipelining client sends RCPT and DATA before it
	 * knows whether MAIL and RCPT succeeded; out of sequence is then the
	 * server's news, not the client's mistake. */
	if (s->esmtp && s->strict_blind)
		return;
	if (is(name, "MAIL") && !greeted)
		note(s, "smtp-mail-before-helo");
	else if (is(name, "RCPT") && (s->state == SMTP_INIT ||
				     s->state == SMTP_READY))
		note(s, "smtp-rcpt-before-mail");
	else if (is(name, "DATA") && (s->state == SMTP_INIT ||
				     s->state == SMTP_READY ||
				     s->state == SMTP_MAIL))
		note(s, "smtp-data-before-rcpt");
}

static void check_helo(struct smtp_session *s, const char *args)
{
	size_t len = strlen(args);
	struct in_addr ip;

	/* A bare IPv4 address matches the Domain grammar, but an address
	 * goes in brackets (4.1.3): no top-level domain is all digits. */
	if (len == 0)
		note(s, "smtp-helo-no-domain");
	else if ((!smtp_domain_valid(args, len, true) &&
		  !smtp_address_literal_valid(args, len)) ||
		 inet_pton(AF_INET, args, &ip) == 1)
		note(s, "smtp-helo-not-domain");
}

/* RFC 5321 4.1.1.2, 4.1.1.3: "MAIL FROM:" Reverse-path, "RCPT TO:"
 * Forward-path, the path in angle brackets right after the colon. */
static void check_path(struct smtp_session *s, const char *kw,
		       const char *args)
{
	size_t n = strlen(kw);

	if (strncasecmp(args, kw, n) != 0)
		return;
	args += n;
	if (*args == ' ')
		note(s, "smtp-space-after-colon");
	args += strspn(args, " ");
	if (*args != '<' && *args != '\0')
		note(s, "smtp-path-no-brackets");
}

void smtp_strict_command(struct smtp_session *s, const char *name,
			 const char *line, size_t len, bool long_ok,
			 unsigned flags)
{
	const char *args;
	char copy[RFC_COMMAND_LINE_MAX];

	if (!strict_on(s->io))
		return;
	if (name == NULL)
		note(s, "smtp-unknown-command");
	if (len + 2 > RFC_COMMAND_LINE_MAX && !long_ok)
		note(s, "smtp-command-too-long");
	if (flags & LINE_MORE_QUEUED)
		check_pipelining(s, name);
	check_sequence(s, name);
	if (len >= sizeof(copy))
		return;
	/* the arguments, NUL-terminated: after the verb and its spaces */
	memcpy(copy, line, len);
	copy[len] = '\0';
	args = copy + strcspn(copy, " ");
	args += strspn(args, " ");
	if (is(name, "EHLO") || is(name, "HELO"))
		check_helo(s, args);
	else if (is(name, "MAIL"))
		check_path(s, "FROM:", args);
	else if (is(name, "RCPT"))
		check_path(s, "TO:", args);
}

void smtp_strict_overlong(struct smtp_session *s)
{
	note(s, "smtp-command-too-long");
}

void smtp_strict_message(struct smtp_session *s, const struct data_reader *dr,
			 const struct smtp_body *b)
{
	if (dr != NULL && dr->bad_end)
		note(s, "smtp-data-end-not-crlf");
	if (b->bare_lf || (dr != NULL && dr->bare_lf))
		note(s, "smtp-data-bare-lf");
	if (b->longest_line > RFC_TEXT_LINE_MAX ||
	    b->line_len > RFC_TEXT_LINE_MAX)
		note(s, "smtp-text-line-too-long");
	if (b->header_too_big)
		return;
	/* RFC 6409 8.2: a submission server may add the Date for its user. */
	if (!b->has_date && !smtp_is_submission(s))
		note(s, "smtp-no-date");
	if (!b->has_from)
		note(s, "smtp-no-from");
}

void smtp_strict_close(struct smtp_session *s)
{
	/* The session did not decide to close (QUIT, an error limit, a
	 * timeout): the client went away. */
	if (!s->io->close && s->state != SMTP_CLOSED)
		note(s, "smtp-no-quit");
}
