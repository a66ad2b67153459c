#ifndef SMTPD_DSN_H
#define SMTPD_DSN_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "smtpd/queue.h"

/* Delivery status notifications (RFC 3464, RFC 3461, RFC 6522): the
 * message that tells a sender which recipients failed.  Pure. */

/* Whether recipient r's failure is to be reported: not when its NOTIFY
 * (RFC 3461 4.1) lacks FAILURE (NEVER, SUCCESS, DELAY). */
bool dsn_wants_failure(const struct queue_rcpt *r);

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
