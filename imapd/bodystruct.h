#ifndef IMAPD_BODYSTRUCT_H
#define IMAPD_BODYSTRUCT_H
#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"
#include "maildir/message.h"

/* FETCH ENVELOPE, BODY and BODYSTRUCTURE (RFC 3501 7.4.2) of a parsed
 * message (maildir/message.h), every string through imapd/writer.h. */

/* envelope of p->envs[env] (0: the message's own) */
void imap_write_envelope(struct buf *out, const struct msg_parse *p,
			 uint32_t env);
/* body (extended false: FETCH BODY) or BODYSTRUCTURE (true: with the
 * extension data) of the whole message */
void imap_write_bodystructure(struct buf *out, const struct msg_parse *p,
			      bool extended);

#endif
