#ifndef IMAPD_SEARCH_H
#define IMAPD_SEARCH_H
#include <stdbool.h>
#include <stddef.h>

#include "imapd/parser.h"
#include "maildir/mailbox.h"

/* Folds the strings of the criteria the way message text is folded
 * (case-insensitive matching); once, before imap_search_match. */
void imap_search_prepare(struct imap_search *search);
/* Whether message idx (0-based) of the box's snapshot matches the parsed
 * criteria (imap_parse_search).  A message whose file is gone matches no
 * key that needs its text. */
bool imap_search_match(const struct imap_search *search,
		       struct maildir_box *box, size_t idx);

#endif
