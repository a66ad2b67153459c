#ifndef IMAPD_WRITER_H
#define IMAPD_WRITER_H
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* The one place that decides how a string goes on the wire (RFC 3501 4):
 *
 *   atom    only ATOM-CHARs, not empty, not "NIL" (astring positions only)
 *   quoted  printable 7-bit text without '"' and '\'
 *   literal everything else: a quote, a backslash, CR, LF, NUL, another
 *           control character or any 8-bit byte ("{n}\r\n" + the bytes)
 *
 * and writes NIL for an absent value.  Everything appends to `out`; its cap
 * is the caller's business (io->out is unlimited: the I/O layer stops
 * reading while too much output is queued). */

/* string: quoted or literal. */
void imap_write_string(struct buf *out, const char *p, size_t len);
void imap_write_cstring(struct buf *out, const char *s);
/* nstring: NIL when p is NULL. */
void imap_write_nstring(struct buf *out, const char *p, size_t len);
void imap_write_ncstring(struct buf *out, const char *s);
/* astring: atom when possible, else as imap_write_string. */
void imap_write_astring(struct buf *out, const char *p, size_t len);
/* A mailbox name (already modified UTF-7): astring, INBOX as is. */
void imap_write_mailbox(struct buf *out, const char *name);
/* The same name (modified UTF-7 inside) in UTF-8 for an IMAP4rev2 client
 * (RFC 9051 5.1): a quoted string may then hold UTF-8. */
void imap_write_mailbox_utf8(struct buf *out, const char *name);
/* A decimal number (hot paths: cheaper than buf_printf). */
void imap_write_number(struct buf *out, uint64_t n);
/* A list of UIDs as a sequence-set in the order given, runs of
 * consecutive ascending UIDs as "lo:hi" ("3:5,9"; RFC 4315 uid-set). */
void imap_write_uid_list(struct buf *out, const uint32_t *uids, size_t n);
/* A literal of exactly len bytes. */
void imap_write_literal(struct buf *out, const char *p, size_t len);
/* "(\Seen \Answered kw1)": system flags (IMAP_FLAG_* bits of parser.h),
 * \Recent when `recent`, then the keywords. */
void imap_write_flags(struct buf *out, unsigned system, int recent,
		      const char *const *keywords, size_t nkeywords);
/* An internal date: "\"17-Jul-1996 02:44:25 +0000\"" (RFC 3501 9,
 * date-time), in UTC. */
void imap_write_datetime(struct buf *out, int64_t t);

#endif
