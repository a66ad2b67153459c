#ifndef IMAPD_IMAP_H
#define IMAPD_IMAP_H

#include "common/proto.h"

/* The IMAP4rev1 server (RFC 3501) as a state machine over struct
 * proto_io: serve it on SVC_IMAP (port 10143, STARTTLS) and SVC_IMAPS
 * (port 10993, implicit TLS).  Mail lives in the Maildir++ store under
 * DIR/mail (maildir/mailbox.h, maildir/folder.h). */
extern const struct protocol imap_protocol;

#endif
