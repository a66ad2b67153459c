/* RSET, NOOP, QUIT, VRFY, EXPN, HELP (RFC 5321 4.1.1.5-4.1.1.10) and
 * STARTTLS (RFC 3207). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "smtpd/resolve.h"
#include "smtpd/session.h"

/* RSET */
void smtp_cmd_rset(struct smtp_session *s, char *args)
{
	(void)args;
	smtp_txn_end(s);
	smtp_enter_state(s, s->helo != NULL ? SMTP_READY : SMTP_INIT);
	smtp_reply(s, 250, "2.0.0", "Reset OK");
}

/* NOOP [SP String]: the argument is ignored (4.1.1.9). */
void smtp_cmd_noop(struct smtp_session *s, char *args)
{
	(void)args;
	smtp_reply(s, 250, "2.0.0", "OK");
}

/* QUIT */
void smtp_cmd_quit(struct smtp_session *s, char *args)
{
	(void)args;
	smtp_reply(s, 221, "2.0.0", "%s Service closing transmission channel",
		   s->io->cfg->hostname);
	s->io->close = true;
	smtp_enter_state(s, SMTP_CLOSED);
}

/* The argument of VRFY/EXPN as a path: "<a@b>", "a@b" or a bare local
 * name (taken in the primary domain).  0, or -1 after a 501. */
static int arg_path(struct smtp_session *s, const char *verb, char *args,
		    struct smtp_path *p)
{
	struct buf b = BUF_INIT(SMTP_PATH_MAX + 2);
	enum smtp_path_err err = PATH_SYNTAX;
	size_t used = 0;

	if (args[0] == '<')
		buf_puts(&b, args);
	else if (strchr(args, '@') != NULL)
		buf_printf(&b, "<%s>", args);
	else
		buf_printf(&b, "<%s@%s>", args, s->io->cfg->domains[0]);
	if (b.len > 0)
		err = smtp_path_parse(b.data, b.len, false, true, true, p, &used);
	if (err == PATH_OK && used != b.len)
		err = PATH_SYNTAX;
	buf_free(&b);
	if (err != PATH_OK) {
		smtp_reply(s, 501, "5.5.4", "Syntax: %s <address>", verb);
		return -1;
	}
	return 0;
}

/* VRFY String (4.1.1.6).  RFC 5321 7.3: off by default (252 tells nothing
 * and still says a message would be tried). */
void smtp_cmd_vrfy(struct smtp_session *s, char *args)
{
	struct smtp_path p;
	struct resolved r;

	if (args[0] == '\0') {
		smtp_reply(s, 501, "5.5.4", "Syntax: VRFY <address>");
		return;
	}
	if (!s->set->vrfy) {
		smtp_reply(s, 252, "2.5.0",
			   "Cannot VRFY user, but will accept message and attempt delivery");
		return;
	}
	if (arg_path(s, "VRFY", args, &p) < 0)
		return;
	switch (smtp_resolve(s, &p, &r)) {
	case RESOLVE_LOCAL:
		smtp_reply(s, 250, "2.1.5", "<%s>", p.mailbox);
		break;
	case RESOLVE_UNKNOWN:
		smtp_reply(s, 550, "5.1.1", "<%s>: User unknown", p.mailbox);
		break;
	case RESOLVE_TEMPFAIL:
		smtp_reply(s, 451, "4.3.0", "Temporary lookup failure");
		break;
	default:
		smtp_reply(s, 252, "2.1.5", "<%s>: Cannot VRFY, not a local mailbox",
			   p.mailbox);
		break;
	}
	smtp_resolved_free(&r);
}

/* One "250-" line per alias member, the last "250 " (4.1.1.7, 4.2). */
static void expn_reply(struct smtp_session *s, char *targets)
{
	const char *domain = s->io->cfg->domains[0];
	char *p = targets, *comma;

	for (;;) {
		comma = strchr(p, ',');
		if (comma != NULL)
			*comma = '\0';
		io_printf(s->io, "250%c2.1.5 <%s%s%s>\r\n",
			  comma != NULL ? '-' : ' ', p,
			  strchr(p, '@') ? "" : "@", strchr(p, '@') ? "" : domain);
		if (comma == NULL)
			return;
		p = comma + 1;
	}
}

/* EXPN String (4.1.1.7): lists an alias's members when enabled. */
void smtp_cmd_expn(struct smtp_session *s, char *args)
{
	struct smtp_path p;
	char *targets = NULL;
	int ret;

	if (!s->set->expn) {
		smtp_reply(s, 502, "5.5.1", "EXPN not available");
		return;
	}
	if (args[0] == '\0') {
		smtp_reply(s, 501, "5.5.4", "Syntax: EXPN <list>");
		return;
	}
	if (arg_path(s, "EXPN", args, &p) < 0)
		return;
	if (p.postmaster || p.literal || p.utf8 ||
	    !config_is_local_domain(s->io->cfg, p.domain)) {
		smtp_reply(s, 550, "5.1.1", "<%s>: Not a local mailing list", p.mailbox);
		return;
	}
	ret = smtp_alias_targets(s, p.local, &targets);
	if (ret < 0)
		smtp_reply(s, 451, "4.3.0", "Temporary lookup failure");
	else if (ret == 0)
		smtp_reply(s, 550, "5.1.1", "<%s>: Not a mailing list", p.mailbox);
	else
		expn_reply(s, targets);
	free(targets);
}

struct help_topic {
	const char *name;
	const char *text;
};

/* Short enough for a student at a terminal; the RFC has the rest. */
static const struct help_topic help_topics[] = {
	{ "EHLO", "EHLO <your-hostname>  - start an ESMTP session (RFC 5321 4.1.1.1)" },
	{ "HELO", "HELO <your-hostname>  - start a plain SMTP session" },
	{ "MAIL", "MAIL FROM:<address> [SIZE=n] [BODY=8BITMIME] [SMTPUTF8]  - start a message" },
	{ "RCPT", "RCPT TO:<address>  - add a recipient (repeat for more)" },
	{ "DATA", "DATA  - send the message, end it with a line holding only \".\"" },
	{ "BDAT", "BDAT <size> [LAST]  - send the message in chunks (RFC 3030)" },
	{ "RSET", "RSET  - abandon the current message" },
	{ "NOOP", "NOOP  - do nothing, answer 250" },
	{ "QUIT", "QUIT  - end the session" },
	{ "VRFY", "VRFY <address>  - ask whether a mailbox exists" },
	{ "EXPN", "EXPN <list>  - ask for the members of a list" },
	{ "AUTH", "AUTH PLAIN|LOGIN [initial-response]  - log in (RFC 4954)" },
	{ "STARTTLS", "STARTTLS  - switch to TLS, then send EHLO again (RFC 3207)" },
	{ "HELP", "HELP [command]  - this text" },
};
#define N_HELP (sizeof(help_topics) / sizeof(help_topics[0]))

/* HELP [SP String] (4.1.1.8) */
void smtp_cmd_help(struct smtp_session *s, char *args)
{
	size_t i;

	if (args[0] != '\0') {
		for (i = 0; i < N_HELP; i++) {
			if (strcasecmp(args, help_topics[i].name) == 0) {
				smtp_reply(s, 214, "2.0.0", "%s", help_topics[i].text);
				return;
			}
		}
		smtp_reply(s, 504, "5.5.1", "No help for that topic");
		return;
	}
	io_printf(s->io, "214-2.0.0 maillab SMTP server; commands:\r\n");
	for (i = 0; i < N_HELP; i++)
		io_printf(s->io, "214-2.0.0   %s\r\n", help_topics[i].text);
	io_printf(s->io, "214 2.0.0 End of HELP\r\n");
}

/* STARTTLS (RFC 3207 4) */
void smtp_cmd_starttls(struct smtp_session *s, char *args)
{
	(void)args;
	if (s->io->tls) {
		smtp_reply(s, 503, "5.5.1", "TLS already active");
		return;
	}
	if (!s->io->tls_available) {
		smtp_reply(s, 454, "4.7.0", "TLS not available due to temporary reason");
		return;
	}
	smtp_reply(s, 220, "2.0.0", "Ready to start TLS");
	s->io->starttls = true;
	smtp_enter_state(s, SMTP_TLS);
}

/* Commands RFC 5321 names but maillab does not implement (4.2.4). */
void smtp_cmd_not_implemented(struct smtp_session *s, char *args)
{
	(void)args;
	smtp_reply(s, 502, "5.5.1", "Command not implemented");
}
