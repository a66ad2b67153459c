#ifndef POP3D_POP3_H
#define POP3D_POP3_H

#include "common/proto.h"

/* The POP3 server (RFC 1939, RFC 2449 CAPA and response codes, RFC 2595
 * STLS, RFC 5034 AUTH) as a state machine over struct proto_io: serve it on
 * SVC_POP3 (port 10110, STLS) and SVC_POP3S (port 10995, implicit TLS).
 * The maildrop is the user's INBOX in the Maildir store under DIR/mail. */
extern const struct protocol pop3_protocol;

#endif
