#ifndef SMTPD_DSN_H
#define SMTPD_DSN_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "smtpd/queue.h"

/* Delivery status notifications (RFC 3464, RFC 3461, RFC 6522): the
 * message that tells a sender which recipients failed.  Pure. */

/* Whether recipient r's NOTIFY (RFC 3461 4.1) asks for `what` ("SUCCESS",
 * "FAILURE", "DELAY"); without NOTIFY: FAILURE and DELAY. */
bool dsn_wants(const struct queue_rcpt *r, const char *what);
/* Whether recipient r's failure is to be reported: not when its NOTIFY
 * (RFC 3461 4.1) lacks FAILURE (NEVER, SUCCESS, DELAY). */
bool dsn_wants_failure(const struct queue_rcpt *r);

/* The kinds of report (RFC 3464 2.3.3 action-value). */
enum dsn_kind {
	DSN_FAILED,	/* QR_FAILED recipients that want FAILURE */
	DSN_DELAYED,	/* QR_PENDING ones tried at least once that want DELAY */
	DSN_RELAYED,	/* QR_SUCCEEDED: handed to a next hop without DSN */
	DSN_DELIVERED,	/* QR_SUCCEEDED: put in a local mailbox */
};
/* Whether a report of `kind` covers recipient r. */
bool dsn_covers(const struct queue_rcpt *r, enum dsn_kind kind);

struct dsn_params {
	const char *hostname;	/* Reporting-MTA, MAILER-DAEMON@ */
	int64_t now;		/* Date, Last-Attempt-Date */
	enum dsn_kind kind;
	int64_t retry_until;	/* DSN_DELAYED: Will-Retry-Until; 0: none */
};
/* dsn_build for any kind: the recipients dsn_covers, with Action and the
 * Subject and text of the kind; only a failure report returns the whole
 * message for RET=FULL (RFC 3461 4.3). */
size_t dsn_build_kind(const struct queue_env *e, const struct dsn_params *dp,
		      const char *orig, size_t orig_len, struct buf *out);

/* Writes the DSN for the recipients of e in state QR_FAILED that want
 * one: a multipart/report; report-type=delivery-status message from
 * MAILER-DAEMON@hostname to e->sender, with a human-readable part, the
 * delivery-status part (Reporting-MTA, Original-Envelope-Id,
 * Arrival-Date, and per recipient Final-Recipient, Original-Recipient,
 * Action: failed, Status, Diagnostic-Code, Last-Attempt-Date) and the
 * original message (RET=FULL) or its header (otherwise, as
 * text/rfc822-headers).  `orig` is the queued message.  CRLF line ends.
 * Returns how many recipients it reports. */
size_t dsn_build(const struct queue_env *e, const char *hostname,
		 const char *orig, size_t orig_len, int64_t now,
		 struct buf *out);

#endif
