#ifndef SMTPD_SMTP_H
#define SMTPD_SMTP_H

#include "common/proto.h"

/* The SMTP server (RFC 5321 with PIPELINING, SIZE, 8BITMIME, SMTPUTF8,
 * ENHANCEDSTATUSCODES, STARTTLS, AUTH, CHUNKING and DSN), for the MX port
 * and for submission (RFC 6409) on SVC_SUBMISSION and SVC_SUBMISSIONS: the
 * state machine behind `struct protocol` (common/proto.h).  Mail for local
 * users is delivered durably into their Maildirs under DIR/mail before the
 * 250 that accepts it. */
extern const struct protocol smtp_protocol;

#endif
