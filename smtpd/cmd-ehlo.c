/* EHLO and HELO (RFC 5321 4.1.1.1): the client names itself, the server
 * lists its extensions.  RFC 2034 3: no enhanced codes in these replies. */
#include <stdlib.h>
#include <string.h>

#include "common/sasl.h"
#include "common/xalloc.h"
#include "smtpd/session.h"

/* The client's name: one word of printable ASCII, at most a Domain's
 * length.  RFC 5321 4.1.4 forbids refusing a name for not matching the
 * address, so anything printable is taken; '(', ')' and '\' are not, as
 * the name goes into a Received comment when it is not a Domain. */
static bool helo_name_ok(const char *name)
{
	size_t i;

	for (i = 0; name[i] != '\0'; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c <= 32 || c >= 127 || c == '(' || c == ')' || c == '\\')
			return false;
	}
	return i > 0 && i <= SMTP_DOMAIN_MAX;
}

/* Common to both: 0 when the session may go on with the name. */
static int take_name(struct smtp_session *s, const char *verb, char *args)
{
	if (!helo_name_ok(args)) {
		smtp_reply(s, 501, NULL, "Syntax: %s hostname", verb);
		return -1;
	}
	/* RFC 5321 4.1.4: EHLO/HELO ends any transaction, like RSET. */
	smtp_txn_end(s);
	free(s->helo);
	s->helo = xstrdup(args);
	smtp_enter_state(s, SMTP_READY);
	return 0;
}

void smtp_cmd_helo(struct smtp_session *s, char *args)
{
	if (take_name(s, "HELO", args) < 0)
		return;
	s->esmtp = false;
	smtp_reply(s, 250, NULL, "%s Hello %s [%s]", s->io->cfg->hostname,
		   s->helo, s->io->peer);
}

void smtp_cmd_ehlo(struct smtp_session *s, char *args)
{
	struct proto_io *io = s->io;

	if (take_name(s, "EHLO", args) < 0)
		return;
	s->esmtp = true;
	io_printf(io, "250-%s Hello %s [%s]\r\n", io->cfg->hostname, s->helo,
		  io->peer);
	io_printf(io, "250-PIPELINING\r\n");			/* RFC 2920 */
	io_printf(io, "250-SIZE %zu\r\n", io->cfg->max_message_size);	/* RFC 1870 */
	io_printf(io, "250-8BITMIME\r\n");			/* RFC 6152 */
	io_printf(io, "250-SMTPUTF8\r\n");			/* RFC 6531 */
	io_printf(io, "250-ENHANCEDSTATUSCODES\r\n");		/* RFC 2034 */
	/* RFC 3207 4.2: not offered again once TLS is on. */
	if (!io->tls && io->tls_available)
		io_printf(io, "250-STARTTLS\r\n");
	if (smtp_auth_offered(s) && s->user == NULL)
		io_printf(io, "250-AUTH %s\r\n", SASL_MECHANISMS);	/* RFC 4954 */
	io_printf(io, "250-CHUNKING\r\n");			/* RFC 3030 */
	io_printf(io, "250-DSN\r\n");				/* RFC 3461 */
	io_printf(io, "250 HELP\r\n");
}
