#ifndef IMAPD_BASE_SUBJECT_H
#define IMAPD_BASE_SUBJECT_H
#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"

/* The base subject of RFC 5256 section 2.1, which SORT SUBJECT and THREAD
 * compare: `subject` is a Subject field value as in the message (RFC 2047
 * words encoded, folds allowed).  Appends to out the base subject in UTF-8
 * with ASCII letters uppercased (i;ascii-casemap, RFC 4790 9.2), so keys
 * compare with strcmp.  Returns true when a reply or forward marker was
 * removed (re:, fw:, fwd:, a "(fwd)" trailer or a "[fwd: ...]" wrapper),
 * which THREAD needs (RFC 5256 sections 3 and 4). */
bool imap_base_subject(const char *subject, size_t len, struct buf *out);

#endif
