#ifndef SMTPD_RECEIVED_H
#define SMTPD_RECEIVED_H
#include "common/buf.h"

struct smtp_session;

/* The protocol name for the Received "with" clause (RFC 3848 and RFC 6531
 * 3.7.3): SMTP for HELO, ESMTP for EHLO, UTF8SMTP when the transaction
 * used SMTPUTF8; "S" appended under TLS, "A" when authenticated. */
const char *smtp_with_protocol(const struct smtp_session *s);

/* Appends the trace fields for the current transaction's message (RFC 5321
 * 4.4): "Return-Path: <reverse-path>" and a Received field naming the
 * client (EHLO name and address), this host, the protocol, the session and
 * message id, the TLS version and cipher, the recipient when there is
 * exactly one, and the date.  CRLF line ends, folded below 78 columns
 * where the parts allow. */
void smtp_trace_fields(const struct smtp_session *s, struct buf *out);

/* The message's id in logs and the Received field: SESSION.N. */
void smtp_message_id(const struct smtp_session *s, char *out, size_t len);

#endif
