/* NOTIFY (RFC 5465 3.1):
 *   NOTIFY NONE
 *   NOTIFY SET [STATUS] (filter-mailboxes events) ...
 * Runs on a worker: parses, reads the folders the groups name and their
 * counts (sending STATUS for each with the STATUS indicator), and leaves
 * the new state for the loop thread, which watches the folders
 * (notify-deliver.c).  A NOTIFY that fails leaves the old state. */
#include <stdlib.h>

#include "common/xalloc.h"
#include "imapd/imap-int.h"
#include "imapd/notify.h"
#include "maildir/folder.h"

/* Reads the folder list and the boxes to watch; STATUS for each box when
 * asked.  0, or -1 with the tagged reply set. */
static int read_boxes(struct imap_cmd *cmd, struct imap_notify *n)
{
	struct imap_session *s = cmd->s;

	if (notify_read_folders(s, n, &n->folders, &n->nfolders) < 0) {
		imap_cmd_no(cmd, "[UNAVAILABLE] Cannot list the mailboxes");
		return -1;
	}
	if (notify_match_boxes(s, n, n->folders, n->nfolders, &n->boxes,
			       &n->nboxes) < 0) {
		imap_cmd_no(cmd, "[NOTIFICATIONOVERFLOW] Too many mailboxes "
			    "to watch");
		return -1;
	}
	/* RFC 5465 3.1: with STATUS, one for each mailbox but the selected
	 * one before the tagged OK; a name that is no mailbox is ignored */
	if (n->spec.status)
		for (size_t i = 0; i < n->nboxes; i++)
			notify_send_initial_status(s, n->boxes[i]);
	return 0;
}

void cmd_notify(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	struct imap_notify *n = xcalloc(1, sizeof(*n));

	if (imap_notify_parse(&cmd->p, &n->spec) < 0) {
		imap_cmd_parse_error(cmd);
		goto fail;
	}
	/* RFC 5465 3.1: an event this server cannot report is refused with
	 * NO, and BADEVENT lists those it can */
	if (n->spec.used & ~NOTIFY_SUPPORTED) {
		imap_cmd_no(cmd, "[BADEVENT (" NOTIFY_SUPPORTED_NAMES ")] "
			    "Unsupported NOTIFY event");
		goto fail;
	}
	if (n->spec.nnames > NOTIFY_MAX_NAMES) {
		imap_cmd_no(cmd, "[NOTIFICATIONOVERFLOW] Too many mailbox names");
		goto fail;
	}
	if (n->spec.none) {
		imap_notify_state_free(n);
		n = NULL;
	} else if (notify_spec_watches_list(&n->spec) && read_boxes(cmd, n) < 0) {
		goto fail;
	}
	/* installed by imap_notify_poke once the reply is out */
	imap_notify_state_free(s->notify_next);
	s->notify_next = n;
	s->notify_set = true;
	imap_cmd_ok(cmd, "NOTIFY completed");
	return;
fail:
	imap_notify_state_free(n);
}
