#ifndef SMTPD_FROM_CHECK_H
#define SMTPD_FROM_CHECK_H
#include <stdbool.h>

#include "common/buf.h"

struct smtp_session;
struct smtp_body;

enum from_verdict {
	FROM_OK,		/* every From: address is the user's, or no From: */
	FROM_FOREIGN,		/* an address is not */
	FROM_SEVERAL,		/* more than one From: field */
	FROM_UNCHECKABLE,	/* the header was too large to be held */
	FROM_TEMPFAIL,		/* database trouble */
};

/* The verdict on the From: field of the header kept by body b (which needs
 * keep_header) for the authenticated user s->user.  With FROM_FOREIGN the
 * first address not owned is appended to bad. */
enum from_verdict smtp_from_check(struct smtp_session *s,
				  const struct smtp_body *b, struct buf *bad);

/* At the end of a message on submission with smtp_from_must_match: true
 * after queueing the refusal (550 5.7.1, or 451 4.3.0), false when the
 * message may go on. */
bool smtp_from_refused(struct smtp_session *s);

#endif
