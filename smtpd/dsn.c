/* Delivery status notifications (smtpd/dsn.h). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "smtpd/body.h"
#include "smtpd/dsn.h"

bool dsn_wants(const struct queue_rcpt *r, const char *what)
{
	const char *p = r->notify;
	size_t wlen = strlen(what);

	if (p == NULL)	/* RFC 3461 4.1: the default is FAILURE,DELAY */
		return strcasecmp(what, "SUCCESS") != 0;
	while (*p != '\0') {
		size_t len = strcspn(p, ",");

		if (len == wlen && strncasecmp(p, what, len) == 0)
			return true;
		p += len + (p[len] == ',');
	}
	return false;
}

bool dsn_wants_failure(const struct queue_rcpt *r)
{
	return dsn_wants(r, "FAILURE");
}

bool dsn_covers(const struct queue_rcpt *r, enum dsn_kind kind)
{
	switch (kind) {
	case DSN_FAILED:
		return r->state == QR_FAILED && dsn_wants(r, "FAILURE");
	case DSN_DELAYED:
		return r->state == QR_PENDING && r->attempts > 0 &&
			dsn_wants(r, "DELAY");
	case DSN_RELAYED:
	case DSN_DELIVERED:
		return r->state == QR_SUCCEEDED;
	}
	return false;
}

/* RFC 3464 2.3.3 action-value, the Subject, the sentence for people and
 * the status when the reply had none */
static const struct {
	const char *action, *subject, *what, *status;
} kinds[] = {
	[DSN_FAILED] = { "failed", "Undelivered Mail Returned to Sender",
			 "Your message could not be delivered to one or more "
			 "recipients.", "5.0.0" },
	[DSN_DELAYED] = { "delayed", "Delayed Mail (still being retried)",
			  "Your message has not been delivered yet to one or more "
			  "recipients. This is only a warning: the mail system "
			  "keeps trying and will tell you if it gives up.", "4.0.0" },
	[DSN_RELAYED] = { "relayed", "Successful Mail Delivery Report",
			  "Your message was handed on to a mail server that does "
			  "not report deliveries (it may still fail there).",
			  "2.0.0" },
	[DSN_DELIVERED] = { "delivered", "Successful Mail Delivery Report",
			    "Your message was delivered to the mailbox of the "
			    "recipients below.", "2.0.0" },
};

/* The enhanced status code (RFC 3463) in text, "4.4.7" style, or the
 * class's generic one. */
static void status_of(const char *text, const char *fallback, char *out,
		      size_t len)
{
	for (const char *p = text; *p != '\0'; p++) {
		const char *q = p;
		int digits;

		if ((*q != '2' && *q != '4' && *q != '5') || q[1] != '.' ||
		    (p > text && !isspace((unsigned char)p[-1])))
			continue;
		q += 2;
		for (digits = 0; isdigit((unsigned char)*q) && digits < 3; digits++)
			q++;
		if (digits == 0 || *q != '.')
			continue;
		q++;
		for (digits = 0; isdigit((unsigned char)*q) && digits < 3; digits++)
			q++;
		if (digits == 0 || (*q != '\0' && !isspace((unsigned char)*q)))
			continue;
		snprintf(out, len, "%.*s", (int)(q - p), p);
		return;
	}
	snprintf(out, len, "%s", fallback);
}

/* The SMTP reply inside a last error "peer: 550 5.1.1 text", or NULL. */
static const char *smtp_reply_of(const char *text)
{
	for (const char *p = text; *p != '\0'; p++)
		if ((p == text || p[-1] == ' ') &&
		    (*p == '2' || *p == '4' || *p == '5') &&
		    isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]) &&
		    p[3] == ' ')
			return p;
	return NULL;
}

/* Text on one header line: controls become spaces. */
static void put_text_n(struct buf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i] != '\0'; i++)
		buf_putc(out, (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i]);
}

static void put_line_text(struct buf *out, const char *s)
{
	put_text_n(out, s, strlen(s));
}

/* The length of the header of a message (up to and including the empty
 * line), or all of it when there is no body. */
static size_t header_len(const char *msg, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++)
		if (msg[i] == '\n' && (msg[i + 1] == '\n' ||
		    (msg[i + 1] == '\r' && i + 2 < len && msg[i + 2] == '\n')))
			return msg[i + 1] == '\n' ? i + 2 : i + 3;
	return len;
}

static void human_part(const struct queue_env *e, const struct dsn_params *dp,
		       struct buf *out)
{
	buf_printf(out, "Content-Type: text/plain; charset=utf-8\r\n\r\n"
		   "This is the mail system at host %s.\r\n\r\n%s\r\n"
		   "The mail system said:\r\n\r\n", dp->hostname,
		   kinds[dp->kind].what);
	for (size_t i = 0; i < e->n_rcpts; i++) {
		const struct queue_rcpt *r = &e->rcpts[i];

		if (!dsn_covers(r, dp->kind))
			continue;
		buf_printf(out, "<%s>: ", r->addr);
		put_line_text(out, r->last_error != NULL ? r->last_error :
			      kinds[dp->kind].action);
		buf_puts(out, "\r\n\r\n");
	}
}

static size_t status_part(const struct queue_env *e, const struct dsn_params *dp,
			  struct buf *out)
{
	const char *hostname = dp->hostname;
	int64_t now = dp->now;
	size_t n = 0;

	buf_printf(out, "Content-Type: message/delivery-status\r\n\r\n"
		   "Reporting-MTA: dns; %s\r\n", hostname);
	if (e->envid != NULL)
		buf_printf(out, "Original-Envelope-Id: %s\r\n", e->envid);
	buf_puts(out, "Arrival-Date: ");
	smtp_rfc5322_date(out, (time_t)e->created);
	buf_puts(out, "\r\n");
	for (size_t i = 0; i < e->n_rcpts; i++) {
		const struct queue_rcpt *r = &e->rcpts[i];
		const char *err = r->last_error != NULL ? r->last_error : "";
		const char *reply = smtp_reply_of(err);
		char status[16];

		if (!dsn_covers(r, dp->kind))
			continue;
		status_of(err, kinds[dp->kind].status, status, sizeof(status));
		/* RFC 3464 2.3: one group per recipient after a blank line */
		buf_printf(out, "\r\nFinal-Recipient: rfc822; %s\r\n", r->addr);
		if (r->orcpt != NULL)
			/* RFC 3461 4.2: addr-type ";" xtext, kept as given */
			buf_printf(out, "Original-Recipient: %s\r\n", r->orcpt);
		buf_printf(out, "Action: %s\r\nStatus: %s\r\n",
			   kinds[dp->kind].action, status);
		if (reply != NULL || err[0] != '\0')
			buf_puts(out, "Diagnostic-Code: ");
		if (reply != NULL) {
			/* the reply alone, without where it came from */
			const char *ours = strstr(reply, " (in reply to ");

			buf_puts(out, "smtp; ");
			put_text_n(out, reply, ours != NULL ?
				   (size_t)(ours - reply) : strlen(reply));
		} else if (err[0] != '\0') {
			buf_puts(out, "X-maillab; ");
			put_line_text(out, err);
		}
		if (reply != NULL || err[0] != '\0')
			buf_puts(out, "\r\n");
		buf_puts(out, "Last-Attempt-Date: ");
		smtp_rfc5322_date(out, (time_t)now);
		buf_puts(out, "\r\n");
		if (dp->kind == DSN_DELAYED && dp->retry_until > 0) {
			/* RFC 3464 2.3.9 */
			buf_puts(out, "Will-Retry-Until: ");
			smtp_rfc5322_date(out, (time_t)dp->retry_until);
			buf_puts(out, "\r\n");
		}
		n++;
	}
	return n;
}

size_t dsn_build(const struct queue_env *e, const char *hostname,
		 const char *orig, size_t orig_len, int64_t now,
		 struct buf *out)
{
	struct dsn_params dp = { hostname, now, DSN_FAILED, 0 };

	return dsn_build_kind(e, &dp, orig, orig_len, out);
}

size_t dsn_build_kind(const struct queue_env *e, const struct dsn_params *dp,
		      const char *orig, size_t orig_len, struct buf *out)
{
	/* RFC 3461 4.3: RET is about failure reports */
	bool full = dp->kind == DSN_FAILED && e->ret != NULL &&
		strcasecmp(e->ret, "FULL") == 0;
	struct buf status = BUF_INIT(BUF_UNLIMITED);
	const char *hostname = dp->hostname;
	int64_t now = dp->now;
	char boundary[64];
	size_t n;

	n = status_part(e, dp, &status);
	if (n == 0) {
		buf_free(&status);
		return 0;
	}
	snprintf(boundary, sizeof(boundary), "%s.%lld/%s", e->id, (long long)now,
		 hostname);
	buf_puts(out, "Date: ");
	smtp_rfc5322_date(out, (time_t)now);
	/* RFC 3464 1: from the mail system, to the envelope sender; RFC 3834
	 * 5: auto-replied, so no responder answers it */
	buf_printf(out, "\r\nFrom: Mail Delivery System <MAILER-DAEMON@%s>\r\n"
		   "To: <%s>\r\n"
		   "Subject: %s\r\n"
		   "Message-ID: <%s.%lld.dsn@%s>\r\n"
		   "Auto-Submitted: auto-replied\r\n"
		   "MIME-Version: 1.0\r\n"
		   "Content-Type: multipart/report; report-type=delivery-status;\r\n"
		   "\tboundary=\"%s\"\r\n\r\n"
		   "This is a MIME-encapsulated message.\r\n\r\n--%s\r\n",
		   hostname, e->sender, kinds[dp->kind].subject, e->id,
		   (long long)now, hostname, boundary, boundary);
	human_part(e, dp, out);
	buf_printf(out, "--%s\r\n", boundary);
	buf_append(out, status.data, status.len);
	buf_printf(out, "\r\n--%s\r\n", boundary);
	/* RFC 6522 3: the returned message or its header */
	if (full) {
		buf_puts(out, "Content-Type: message/rfc822\r\n\r\n");
		buf_append(out, orig, orig_len);
	} else {
		buf_puts(out, "Content-Type: text/rfc822-headers\r\n\r\n");
		buf_append(out, orig, header_len(orig, orig_len));
	}
	if (out->len > 0 && out->data[out->len - 1] != '\n')
		buf_puts(out, "\r\n");
	buf_printf(out, "\r\n--%s--\r\n", boundary);
	buf_free(&status);
	return n;
}
