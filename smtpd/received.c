/* Return-Path and Received (RFC 5321 4.4), protocol names (RFC 3848). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "smtpd/body.h"
#include "smtpd/received.h"
#include "smtpd/session.h"

const char *smtp_with_protocol(const struct smtp_session *s)
{
	/* Indexed by [utf8 or esmtp][tls][auth]. */
	static const char *const names[3][2][2] = {
		{ { "SMTP", "SMTP" }, { "SMTP", "SMTP" } },
		{ { "ESMTP", "ESMTPA" }, { "ESMTPS", "ESMTPSA" } },
		{ { "UTF8SMTP", "UTF8SMTPA" }, { "UTF8SMTPS", "UTF8SMTPSA" } },
	};
	int kind = !s->esmtp ? 0 :
		(s->txn != NULL && s->txn->smtputf8) ? 2 : 1;

	return names[kind][s->io->tls ? 1 : 0][s->user != NULL ? 1 : 0];
}

void smtp_message_id(const struct smtp_session *s, char *out, size_t len)
{
	if (s->txn != NULL)
		snprintf(out, len, "%s", s->txn->id);
	else
		snprintf(out, len, "%s.%u", s->io->id, s->messages);
}

/* TCP-info (RFC 5321 4.4): the client's address as an address-literal. */
static void peer_literal(const struct smtp_session *s, struct buf *out)
{
	if (strchr(s->io->peer, ':') != NULL)
		buf_printf(out, "[IPv6:%s]", s->io->peer);
	else
		buf_printf(out, "[%s]", s->io->peer);
}

static void from_clause(const struct smtp_session *s, struct buf *out)
{
	const char *helo = s->helo != NULL ? s->helo : "";
	size_t len = strlen(helo);

	buf_puts(out, "Received: from ");
	if (smtp_domain_valid(helo, len, false) ||
	    smtp_address_literal_valid(helo, len)) {
		buf_printf(out, "%s (", helo);
		peer_literal(s, out);
		buf_puts(out, ")");
	} else {
		/* Not a Domain: the address stands in its place and the
		 * name goes into a comment (EHLO has kept '(', ')' and '\'
		 * out of it). */
		peer_literal(s, out);
		buf_printf(out, " (helo=%s)", helo);
	}
}

void smtp_trace_fields(const struct smtp_session *s, struct buf *out)
{
	const struct smtp_txn *txn = s->txn;
	char id[64];

	smtp_message_id(s, id, sizeof(id));
	buf_printf(out, "Return-Path: <%s>\r\n", txn->from.mailbox);
	from_clause(s, out);
	buf_printf(out, "\r\n\tby %s (maillab) with %s id %s",
		   s->io->cfg->hostname, smtp_with_protocol(s), id);
	if (s->io->tls && s->io->tls_version != NULL)
		buf_printf(out, "\r\n\t(using %s with cipher %s)",
			   s->io->tls_version,
			   s->io->tls_cipher != NULL ? s->io->tls_cipher : "unknown");
	/* Off by default: the login name is then in every copy. */
	if (s->set->received_auth_user && s->user != NULL)
		buf_printf(out, "\r\n\t(Authenticated sender: %s)", s->user);
	/* RFC 5321 4.4 and 7.2: "for" only with a single recipient, so the
	 * other recipients of a message are not revealed. */
	if (txn->n_rcpts == 1)
		buf_printf(out, "\r\n\tfor <%s>", txn->rcpts[0].addr);
	buf_puts(out, ";\r\n\t");
	smtp_rfc5322_date(out, time(NULL));
	buf_puts(out, "\r\n");
}
