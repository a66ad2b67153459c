/* SELECT, EXAMINE (RFC 3501 6.3.1-2) and the selected-state commands
 * without arguments: CHECK, CLOSE, EXPUNGE (6.4.1-3), and UID EXPUNGE
 * (RFC 4315 2.1). */
#include <stdlib.h>

#include "common/xalloc.h"
#include "imapd/imap-int.h"
#include "imapd/writer.h"
#include "maildir/mailbox.h"

#define SYSTEM_FLAGS "\\Answered \\Flagged \\Deleted \\Seen \\Draft"

static void write_keywords(struct imap_session *s, struct buf *out)
{
	size_t n = maildir_box_keyword_count(s->box);

	for (size_t i = 0; i < n; i++) {
		buf_putc(out, ' ');
		buf_puts(out, maildir_box_keyword_name(s->box, i));
	}
}

void imap_send_flags(struct imap_session *s)
{
	buf_puts(s->out, "* FLAGS (" SYSTEM_FLAGS);
	write_keywords(s, s->out);
	buf_puts(s->out, ")\r\n");
	if (s->readonly) {
		imap_untagged(s, "OK [PERMANENTFLAGS ()] Read-only mailbox");
	} else {
		/* keywords may be created: \* (RFC 3501 7.1) */
		buf_puts(s->out, "* OK [PERMANENTFLAGS (" SYSTEM_FLAGS);
		write_keywords(s, s->out);
		buf_puts(s->out, " \\*)] Flags permitted\r\n");
	}
}

static void open_mailbox(struct imap_cmd *cmd, bool readonly)
{
	struct imap_session *s = cmd->s;
	struct buf name = BUF_INIT(BUF_UNLIMITED);
	struct imap_select_params sp;
	struct maildir_box_info info;
	unsigned flags;
	char err[256];

	imap_select_params_init(&sp);
	if (imap_parse_sp(&cmd->p) < 0 || imap_parse_mailbox(&cmd->p, &name) < 0 ||
	    imap_parse_select_params(&cmd->p, &sp) < 0) {
		imap_cmd_parse_error(cmd);
		goto out;
	}
	/* RFC 7162 3.2.5: QRESYNC must have been enabled first */
	if (sp.qresync && !s->qresync) {
		imap_cmd_bad(cmd, "QRESYNC is not enabled");
		goto out;
	}
	/* RFC 7162 3.2.11: the end of the old mailbox's responses (sent
	 * whether or not QRESYNC is enabled, as Dovecot does) */
	if (s->box != NULL)
		imap_untagged(s, "OK [CLOSED] Previous mailbox closed");
	/* RFC 3501 6.3.1: a failed SELECT leaves no mailbox selected */
	imap_unselect(s);
	if (sp.condstore || sp.qresync)
		imap_condstore_enable(s);
	/* EXAMINE must not take \Recent away from other sessions, but it
	 * reports the same RECENT count as SELECT (6.3.2).
	 * The reply needs only the folder's counts: the snapshot of a big
	 * folder is loaded after it is sent (session.c, maildir_box_load),
	 * except for QRESYNC, whose reply reports from the snapshot. */
	flags = readonly ? MAILDIR_BOX_READONLY | MAILDIR_BOX_PEEK_RECENT :
		MAILDIR_BOX_RECENT;
	if (!sp.qresync)
		flags |= MAILDIR_BOX_DEFER_LOAD | MAILDIR_BOX_LOAD_SMALL;
	if (maildir_box_open(s->store, buf_cstr(&name), flags, &s->box, err,
			     sizeof(err)) < 0) {
		imap_cmd_store_error(cmd, "Cannot open mailbox", err);
		goto out;
	}
	s->state = IMAP_SELECTED;
	s->box_loading = !sp.qresync && maildir_box_load_pending(s->box);
	/* nothing to update: the box was opened just now (and is not
	 * loaded before the reply is sent) */
	cmd->updates_done = true;
	maildir_box_info(s->box, &info);
	s->readonly = readonly || info.readonly;
	s->box_name = xstrdup(buf_cstr(&name));

	imap_send_flags(s);
	imap_untagged(s, "%u EXISTS", info.messages);
	/* RFC 9051 Appendix E items 10-12: IMAP4rev2 has no RECENT and no
	 * [UNSEEN], and a LIST response instead */
	if (!s->rev2)
		imap_untagged(s, "%u RECENT", info.recent);
	if (info.first_unseen != 0 && !s->rev2)
		imap_untagged(s, "OK [UNSEEN %u] First unseen", info.first_unseen);
	if (s->rev2 && imap_rev2_select_list(s, s->box_name, err,
					     sizeof(err)) < 0) {
		imap_unselect(s);
		imap_cmd_store_error(cmd, "Cannot open mailbox", err);
		goto out;
	}
	imap_untagged(s, "OK [UIDVALIDITY %u] UIDs valid", info.uidvalidity);
	imap_untagged(s, "OK [UIDNEXT %u] Predicted next UID", info.uidnext);
	imap_select_modseq(cmd, &sp);
	if (readonly)
		imap_cmd_ok(cmd, "[READ-ONLY] EXAMINE completed");
	else if (info.readonly)
		/* RFC 3501 6.3.1: a SELECT may give read-only access */
		imap_cmd_ok(cmd, "[READ-ONLY] SELECT completed, but changes "
			    "cannot be stored now");
	else
		imap_cmd_ok(cmd, "[READ-WRITE] SELECT completed");
out:
	imap_select_params_free(&sp);
	buf_free(&name);
}

/* SELECT <mailbox> */
void cmd_select(struct imap_cmd *cmd)
{
	open_mailbox(cmd, false);
}

/* EXAMINE <mailbox> */
void cmd_examine(struct imap_cmd *cmd)
{
	open_mailbox(cmd, true);
}

/* CHECK: our writes are durable when they return; the updates go out
 * as the command completes. */
void cmd_check(struct imap_cmd *cmd)
{
	if (imap_cmd_end(cmd) < 0)
		return;
	imap_cmd_ok(cmd, "CHECK completed");
}

/* CLOSE: expunge silently (unless read-only), leave the selected state */
void cmd_close(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	char err[256];

	if (imap_cmd_end(cmd) < 0)
		return;
	if (!s->readonly &&
	    maildir_box_expunge(s->box, NULL, 0, err, sizeof(err)) < 0) {
		imap_unselect(s);
		imap_cmd_store_error(cmd, "Expunge failed", err);
		return;
	}
	imap_unselect(s);
	imap_cmd_ok(cmd, "CLOSE completed");
}

/* UID EXPUNGE <uid-set>: only the messages of the set that are \Deleted
 * (RFC 4315 2.1). */
static void uid_expunge(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	struct imap_seqset set, eval;
	uint32_t *uids;
	size_t n;
	char err[256];

	imap_seqset_init(&set);
	imap_seqset_init(&eval);
	if (imap_parse_sp(&cmd->p) < 0 || imap_parse_seqset(&cmd->p, &set) < 0 ||
	    imap_parse_end(&cmd->p) < 0) {
		imap_cmd_parse_error(cmd);
	} else if (s->readonly) {
		imap_cmd_no(cmd, "[READ-ONLY] Mailbox is read-only");
	} else if (imap_cmd_eval_set(cmd, &set, &eval) == 0) {
		uids = imap_set_uids(s->box, &eval, &n);
		if (n > 0 && maildir_box_expunge_deleted(s->box, uids, n, err,
							 sizeof(err)) < 0)
			imap_cmd_store_error(cmd, "Expunge failed", err);
		else
			imap_cmd_ok(cmd, "UID EXPUNGE completed");
		free(uids);
	}
	imap_seqset_free(&set);
	imap_seqset_free(&eval);
}

/* EXPUNGE: the "* n EXPUNGE" lines come from the sync as it completes */
void cmd_expunge(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	char err[256];

	if (cmd->uid) {
		uid_expunge(cmd);
		return;
	}
	if (imap_cmd_end(cmd) < 0)
		return;
	if (s->readonly) {
		imap_cmd_no(cmd, "[READ-ONLY] Mailbox is read-only");
		return;
	}
	if (maildir_box_expunge(s->box, NULL, 0, err, sizeof(err)) < 0) {
		imap_cmd_store_error(cmd, "Expunge failed", err);
		return;
	}
	imap_cmd_ok(cmd, "EXPUNGE completed");
}
