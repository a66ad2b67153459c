#ifndef SMTPD_QUOTA_H
#define SMTPD_QUOTA_H
/* Mailbox quotas (RFC 9208 limits set with `maillab user quota`) at
 * delivery: which mailboxes of a transaction are full.  Internal to
 * smtpd/.
 *
 * RCPT: a recipient whose every mailbox is full already (or would be by
 * the message's declared SIZE, RFC 1870) gets 452 4.2.2 (RFC 5321
 * 4.5.3.1.10, RFC 3463 X.2.2) and the client tries it again later.
 * End of DATA: the one reply covers every recipient (RFC 5321 4.1.1.4:
 * SMTP without LMTP has no reply per recipient), so the message is
 * refused with 452 4.2.2 only when it fits in none of its local mailboxes
 * and has no remote recipient; otherwise it is delivered to all of them,
 * and a mailbox it takes over its limit goes over by that one message
 * (logged).  Nothing the client was told 250 for is dropped; the next
 * RCPT for that mailbox gets 452.  Queued and relayed mail is not
 * counted. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct smtp_session;
struct smtp_dest;

/* Loop thread: whether any of the mailboxes has a limit (a users.db
 * read each).  Only then is the check below worth a worker. */
bool smtp_quota_limited(struct smtp_session *s, const struct smtp_dest *dests,
			size_t n);

/* Worker thread: sets full_r[i] for each mailbox dests[i] where a message
 * of `size` bytes would pass its user's limits.  0, or -1 (a limit or
 * the usage could not be read; logged). */
int smtp_quota_full(struct smtp_session *s, const struct smtp_dest *dests,
		    size_t n, uint64_t size, bool *full_r);

#endif
