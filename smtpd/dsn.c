/* Delivery status notifications (smtpd/dsn.h). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "smtpd/body.h"
#include "smtpd/dsn.h"

bool dsn_wants_failure(const struct queue_rcpt *r)
{
	const char *p = r->notify;

	if (p == NULL)
		return true;	/* RFC 3461 4.1: the default is FAILURE */
	while (*p != '\0') {
		size_t len = strcspn(p, ",");

		if (len == 7 && strncasecmp(p, "FAILURE", 7) == 0)
			return true;
		p += len + (p[len] == ',');
	}
	return false;
}

/* The enhanced status code (RFC 3463) in text, "4.4.7" style, or the
 * class's generic one. */
static void status_of(const char *text, char *out, size_t len)
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
	snprintf(out, len, "5.0.0");
}

/* The SMTP reply inside a last error "peer: 550 5.1.1 text", or NULL. */
static const char *smtp_reply_of(const char *text)
{
	for (const char *p = text; *p != '\0'; p++)
		if ((p == text || p[-1] == ' ') && (*p == '4' || *p == '5') &&
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

static void human_part(const struct queue_env *e, const char *hostname,
		       struct buf *out)
{
	buf_printf(out, "Content-Type: text/plain; charset=utf-8\r\n\r\n"
		   "This is the mail system at host %s.\r\n\r\n"
		   "Your message could not be delivered to one or more recipients.\r\n"
		   "The mail system said:\r\n\r\n", hostname);
	for (size_t i = 0; i < e->n_rcpts; i++) {
		const struct queue_rcpt *r = &e->rcpts[i];

		if (r->state != QR_FAILED || !dsn_wants_failure(r))
			continue;
		buf_printf(out, "<%s>: ", r->addr);
		put_line_text(out, r->last_error != NULL ? r->last_error : "failed");
		buf_puts(out, "\r\n\r\n");
	}
}

static size_t status_part(const struct queue_env *e, const char *hostname,
			  int64_t now, struct buf *out)
{
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

		if (r->state != QR_FAILED || !dsn_wants_failure(r))
			continue;
		status_of(err, status, sizeof(status));
		/* RFC 3464 2.3: one group per recipient after a blank line */
		buf_printf(out, "\r\nFinal-Recipient: rfc822; %s\r\n", r->addr);
		if (r->orcpt != NULL)
			/* RFC 3461 4.2: addr-type ";" xtext, kept as given */
			buf_printf(out, "Original-Recipient: %s\r\n", r->orcpt);
		buf_printf(out, "Action: failed\r\nStatus: %s\r\n", status);
		buf_puts(out, "Diagnostic-Code: ");
		if (reply != NULL) {
			/* the reply alone, without where it came from */
			const char *ours = strstr(reply, " (in reply to ");

			buf_puts(out, "smtp; ");
			put_text_n(out, reply, ours != NULL ?
				   (size_t)(ours - reply) : strlen(reply));
		} else {
			buf_puts(out, "X-maillab; ");
			put_line_text(out, err);
		}
		buf_puts(out, "\r\nLast-Attempt-Date: ");
		smtp_rfc5322_date(out, (time_t)now);
		buf_puts(out, "\r\n");
		n++;
	}
	return n;
}

size_t dsn_build(const struct queue_env *e, const char *hostname,
		 const char *orig, size_t orig_len, int64_t now,
		 struct buf *out)
{
	bool full = e->ret != NULL && strcasecmp(e->ret, "FULL") == 0;
	struct buf status = BUF_INIT(BUF_UNLIMITED);
	char boundary[64];
	size_t n;

	n = status_part(e, hostname, now, &status);
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
		   "Subject: Undelivered Mail Returned to Sender\r\n"
		   "Message-ID: <%s.%lld.dsn@%s>\r\n"
		   "Auto-Submitted: auto-replied\r\n"
		   "MIME-Version: 1.0\r\n"
		   "Content-Type: multipart/report; report-type=delivery-status;\r\n"
		   "\tboundary=\"%s\"\r\n\r\n"
		   "This is a MIME-encapsulated message.\r\n\r\n--%s\r\n",
		   hostname, e->sender, e->id, (long long)now, hostname, boundary,
		   boundary);
	human_part(e, hostname, out);
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
