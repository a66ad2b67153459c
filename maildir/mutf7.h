#ifndef MAILDIR_MUTF7_H
#define MAILDIR_MUTF7_H
#include "common/buf.h"

/* IMAP modified UTF-7 (RFC 3501 section 5.1.3), the form of mailbox names on
 * the IMAP wire and, in maillab, on disk (as Dovecot stores Maildir++
 * folder names).  Printable US-ASCII stands for itself except '&', written
 * "&-"; everything else is "&" + modified base64 of UTF-16BE + "-". */

/* Appends the mUTF-7 form of the UTF-8 string `utf8` to out.  0 on success;
 * -1 when utf8 is not valid UTF-8 (or out is full).  out may hold a partial
 * result on failure. */
int mutf7_encode(const char *utf8, struct buf *out);

/* Appends the UTF-8 form of the mUTF-7 string `m` to out.  0 on success; -1
 * when m is not valid modified UTF-7 (see mutf7_valid). */
int mutf7_decode(const char *m, struct buf *out);

/* 1 when m is valid and canonical modified UTF-7: only printable ASCII, every
 * '&' opens a non-empty base64 run closed by '-' (or is "&-"), the run
 * decodes to well-formed UTF-16 with zero padding bits and encodes no
 * printable ASCII character.  0 otherwise. */
int mutf7_valid(const char *m);

/* 1 when the valid mUTF-7 string m decodes to a character RFC 9051
 * section 5.1 forbids in a mailbox name: a C0 or C1 control (U+0000-U+001F,
 * U+0080-U+009F), DEL, U+2028 or U+2029.  0 otherwise (also when m is
 * not valid mUTF-7; check that with mutf7_valid). */
int mutf7_has_control(const char *m);

/* 1 when s is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
int utf8_valid(const char *s);

#endif
