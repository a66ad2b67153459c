#ifndef IMAPD_IMAP_H
#define IMAPD_IMAP_H

#include "common/proto.h"

/* The IMAP4rev1 server (RFC 3501) as a state machine over struct
 * proto_io: serve it on SVC_IMAP (port 10143, STARTTLS) and SVC_IMAPS
 * (port 10993, implicit TLS).  Mail lives in the Maildir++ store under
 * DIR/mail (maildir/mailbox.h, maildir/folder.h).
 *
 * Extensions (advertised in CAPABILITY): LITERAL+ (RFC 7888), ID (RFC
 * 2971), SASL-IR (RFC 4959), and after login ENABLE (RFC 5161; nothing
 * can be enabled yet), NAMESPACE (RFC 2342), UNSELECT (RFC 3691),
 * CHILDREN (RFC 3348), IDLE (RFC 2177: pushes from the shared change
 * notification of maildir/notify.h, no polling), UIDPLUS (RFC 4315: APPENDUID, COPYUID, UID
 * EXPUNGE), MOVE (RFC 6851: a rename of the files, maildir_box_move),
 * SPECIAL-USE and CREATE-SPECIAL-USE (RFC 6154: by folder name, or set by
 * CREATE ... (USE (...)); LIST (SPECIAL-USE) and RETURN (SPECIAL-USE)),
 * SORT and SORT=DISPLAY (RFC 5256, RFC 5957), THREAD=ORDEREDSUBJECT and
 * THREAD=REFERENCES (RFC 5256; cmd-sort.c over sort.c and thread.c: the
 * keys come from each message's header once and are kept by
 * sort-cache.c),
 * ESEARCH (RFC 4731: SEARCH RETURN (MIN MAX ALL COUNT)) and SEARCHRES
 * (RFC 5182: RETURN (SAVE), "$" in later sequence sets), ESORT (RFC 5267
 * section 3: RETURN on SORT), CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267
 * section 4: RETURN (PARTIAL), RETURN (UPDATE) with ADDTO/REMOVEFROM,
 * CANCELUPDATE; search-context.c),
 * NOTIFY (RFC 5465: cmd-notify.c, notify-*.c; events pushed between
 * commands and in IDLE from the same shared change notification; no
 * AnnotationChange or METADATA events, refused with [BADEVENT]).
 *
 * Limits (config.h):
 *   max_imap_line     each line, and all the text of one command outside
 *                     its literals: "BAD Command line too long", the
 *                     connection stays usable
 *   max_literal_size  one literal held in memory, and all of them in one
 *                     command; before login 8 KiB at most.  A literal over
 *                     it is refused with "NO [TOOBIG]": a synchronising one
 *                     without reading it (no "+" is sent), a
 *                     non-synchronising one ({n+}, which the client sends
 *                     anyway) is read and thrown away, then the reply goes
 *   max_message_size  the APPEND message literal, which is streamed into a
 *                     delivery file and never held in memory
 *   max_errors        BAD replies in a row before "* BYE" and disconnect
 *   auth_*            LOGIN/AUTHENTICATE failures (common/auth.h)
 *   timeout_imap_preauth, timeout_imap   idle time before "* BYE"
 *   timeout_imap_idle  the same in IDLE (default 30 minutes)
 * FETCH output is produced as the client reads it (at most 256 KiB queued
 * per step), so a client that stops reading holds no more than that. */
extern const struct protocol imap_protocol;

#endif
