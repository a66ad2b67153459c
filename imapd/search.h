#ifndef IMAPD_SEARCH_H
#define IMAPD_SEARCH_H
#include <stdbool.h>
#include <stddef.h>

#include "imapd/parser.h"
#include "maildir/mailbox.h"

/* Simple case folding of UTF-8 text in place, keeping its length: ASCII,
 * Latin-1, Latin Extended-A, Greek and Cyrillic capitals to small. */
void imap_fold_utf8(char *text, size_t n);
/* Whether SEARCH, SORT and THREAD take strings in `charset`: UTF-8 and
 * its subset US-ASCII (RFC 3501 6.4.4, RFC 5256 3). */
bool imap_charset_ok(const char *charset);
/* Replaces each "$" (RFC 5182) in the criteria by the saved UIDs. */
void imap_search_use_saved(struct imap_search *search,
			   const struct imap_seqset *saved);
/* Folds the strings of the criteria the way message text is folded
 * (case-insensitive matching); once, before imap_search_match. */
void imap_search_prepare(struct imap_search *search);
/* Whether message idx (0-based) of the box's snapshot matches the parsed
 * criteria (imap_parse_search).  A message whose file is gone matches no
 * key that needs its text. */
bool imap_search_match(const struct imap_search *search,
		       struct maildir_box *box, size_t idx);

#endif
