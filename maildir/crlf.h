#ifndef MAILDIR_CRLF_H
#define MAILDIR_CRLF_H
#include <stddef.h>

#include "common/buf.h"

/* Sending a message file whose struct maildir_msg says needs_crlf (a file
 * dropped into the Maildir by other software, with bare LF line ends): the
 * wire form (RFC 5322 section 2.3, RFC 1939 section 3) has CRLF.  Feed the
 * file in chunks of any size; the state carries a CR that ended the
 * previous chunk.  The output length over the whole file equals the
 * message's `size`. */
struct maildir_crlf {
	char prev;	/* last byte seen; start with 0 */
};

/* Appends p[0..n) to out, each LF not preceded by CR written as CRLF.
 * 0, or -1 when out is over its cap. */
int maildir_crlf_append(struct maildir_crlf *st, const char *p, size_t n,
			struct buf *out);

#endif
