#ifndef IMAPD_SEARCH_H
#define IMAPD_SEARCH_H
#include <stdbool.h>
#include <stddef.h>

#include "imapd/parser.h"
#include "maildir/mailbox.h"

/* Whether message idx (0-based) of the box's snapshot matches the parsed
 * criteria (imap_parse_search).  A message whose file is gone matches no
 * key that needs its text. */
bool imap_search_match(const struct imap_search *search,
		       struct maildir_box *box, size_t idx);

#endif
