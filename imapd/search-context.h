#ifndef IMAPD_SEARCH_CONTEXT_H
#define IMAPD_SEARCH_CONTEXT_H
#include <stddef.h>
#include <stdint.h>

#include "imapd/imap-int.h"
#include "imapd/sort.h"
#include "maildir/mailbox.h"

/* CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267 4): SEARCH or SORT RETURN
 * (UPDATE) keeps its criteria (and sort program) and result; each
 * untagged update reports the difference as
 * "* ESEARCH (TAG t) [UID] ADDTO (pos set)" / "REMOVEFROM (pos set)";
 * a sorted one with a pair per run of messages, at its position in the
 * sort order (RFC 5267 4.3).
 * At most IMAP_MAX_CONTEXTS per session: the result is re-evaluated
 * over the whole mailbox at every update, so the bound is what keeps an
 * update's cost linear in the mailbox size. */
#define IMAP_MAX_CONTEXTS \
	(sizeof(((struct imap_session *)0)->contexts) / \
	 sizeof(((struct imap_session *)0)->contexts[0]))

struct imap_search;

/* Keeps `*search` (taken; set to NULL; prepared), the sort program
 * crit[0..ncrit) (copied; ncrit 0 for SEARCH) and the matching UIDs
 * uids[0..n) (copied; ascending, or in sort order) under the command's
 * tag.  0, or -1 when the session has IMAP_MAX_CONTEXTS already or the
 * tag is in use (nothing taken). */
int imap_context_add(struct imap_cmd *cmd, struct imap_search **search,
		     const struct imap_sort_crit *crit, size_t ncrit,
		     const uint32_t *uids, size_t n);
/* imap_context_add refused: "* NO [NOUPDATE "tag"] ..." (RFC 5267 4.2:
 * the server declines to keep this one up to date).  The command still
 * returns its result and completes OK, as Dovecot does
 * (imap-search.c imap_search_result_save). */
void imap_context_noupdate(struct imap_cmd *cmd);
/* CANCELUPDATE (RFC 5267 4.2): 0, or -1 when no context has the tag. */
int imap_context_cancel(struct imap_session *s, const char *tag);
/* The update of every context, in two steps around the untagged
 * updates of `ch` (NULL: only the session's own changes, no sync):
 * imap_context_removed, before the EXPUNGE lines, re-evaluates the
 * criteria and sends REMOVEFROM in the sequence numbers the client
 * still holds; imap_context_added, after EXISTS, sends the ADDTO it
 * found. */
void imap_context_removed(struct imap_session *s,
			  const struct maildir_changes *ch);
void imap_context_added(struct imap_session *s);
/* The snapshot indexes of the messages matching the prepared `search`
 * (*n_r of them), in the order of crit[0..ncrit) (cmd-sort.c). */
size_t *imap_sort_matches(struct imap_session *s,
			  const struct imap_search *search,
			  const struct imap_sort_crit *crit, size_t ncrit,
			  size_t *n_r);
/* Drops every context (mailbox closed, session ended). */
void imap_context_free_all(struct imap_session *s);

#endif
