/* The session's store and selected mailbox: login, untagged updates
 * (RFC 3501 5.2, 7.3.1, 7.4.1), message sets, store errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "imapd/imap-int.h"
#include "imapd/notify.h"
#include "imapd/search-context.h"
#include "imapd/writer.h"
#include "maildir/mailbox.h"

int imap_login(struct imap_cmd *cmd, const char *user)
{
	struct imap_session *s = cmd->s;
	char err[256];

	if (maildir_store_open(s->mail_root, user, &s->store, err,
			       sizeof(err)) < 0) {
		log_msg("imap", s->io->id, "store of %s: %s", user, err);
		imap_cmd_no(cmd, "[UNAVAILABLE] Mailbox store not available");
		return -1;
	}
	free(s->user);
	s->user = xstrdup(user);
	s->state = IMAP_AUTH;
	return 0;
}

void imap_unselect(struct imap_session *s)
{
	/* what it did there while it was selected is not told after
	 * (RFC 5465 5) */
	if (s->box_name != NULL)
		imap_notify_own(s, s->box_name, NULL, false);
	maildir_box_close(&s->box);
	free(s->box_name);
	s->box_name = NULL;
	s->readonly = false;
	imap_seqset_free(&s->search_saved);	/* RFC 5182 2.1 */
	imap_context_free_all(s);		/* RFC 5267 4.2 */
	if (s->state == IMAP_SELECTED)
		s->state = IMAP_AUTH;
}

void imap_write_msg_flags(struct imap_session *s, size_t idx, struct buf *out)
{
	const struct maildir_msg *m = maildir_box_msg(s->box, idx);
	size_t nkw = maildir_box_keyword_count(s->box);
	const char *names[64];
	size_t n = 0;

	for (size_t i = 0; i < nkw && i < 64; i++)
		if (m->keywords & ((uint64_t)1 << i)) {
			const char *name = maildir_box_keyword_name(s->box, i);

			if (name != NULL)
				names[n++] = name;
		}
	/* MAILDIR_FLAG_* and IMAP_FLAG_* are the same bits; IMAP4rev2 has
	 * no \Recent (RFC 9051 Appendix E item 12) */
	imap_write_flags(out, m->flags, m->recent && !s->rev2, names, n);
}

static void send_updates(struct imap_session *s, bool hold);

void imap_send_updates(struct imap_session *s, bool no_expunge)
{
	/* RFC 3501 7.4.1 (RFC 9051 7.5.1): no EXPUNGE during FETCH, STORE
	 * or SEARCH, but new messages and flag changes may be told; as
	 * Dovecot does (MAILBOX_SYNC_FLAG_NO_EXPUNGES) */
	if (s->box != NULL)
		send_updates(s, no_expunge);
}

void imap_send_updates_held(struct imap_session *s)
{
	if (s->box != NULL)
		send_updates(s, true);
}

uint64_t imap_highestmodseq(struct imap_session *s)
{
	if (maildir_box_held(s->box) == 0)
		s->modseq_full = maildir_box_highestmodseq(s->box);
	return s->modseq_full;
}

/* RFC 7162 3.2.10: expunges and new messages raise HIGHESTMODSEQ
 * without a MODSEQ the client saw: tell it.  While an expunge is held
 * back, a MODSEQ sent meanwhile may be above it: then the value from
 * before it, lower than the expunge's (RFC 5162 erratum 1810), as
 * Dovecot does (imap_sync_send_highestmodseq). */
static void send_highestmodseq(struct imap_session *s,
			       const struct maildir_changes *ch)
{
	uint64_t now = imap_highestmodseq(s);

	if (maildir_box_held(s->box) > 0) {
		imap_send_held_modseq(s);
		return;
	}
	if (s->condstore && (ch->n_expunged > 0 || ch->n_new > 0))
		imap_untagged(s, "OK [HIGHESTMODSEQ %llu] Highest",
			      (unsigned long long)now);
	s->modseq_sent = 0;
}

void imap_send_held_modseq(struct imap_session *s)
{
	if (s->condstore && s->box != NULL && maildir_box_held(s->box) > 0 &&
	    s->modseq_sent > s->modseq_full)
		imap_untagged(s, "OK [HIGHESTMODSEQ %llu] Highest",
			      (unsigned long long)s->modseq_full);
	s->modseq_sent = 0;
}

static void send_updates(struct imap_session *s, bool hold)
{
	struct maildir_changes ch;
	struct maildir_box_info info;
	char err[256];
	int r;

	memset(&ch, 0, sizeof(ch));
	r = hold ? maildir_box_sync_held(s->box, &ch, err, sizeof(err)) :
		maildir_box_sync(s->box, &ch, err, sizeof(err));
	if (r < 0) {
		log_msg("imap", s->io->id, "sync of %s: %s", s->box_name, err);
		return;
	}
	if (ch.uidvalidity_changed) {
		/* RFC 3501 2.3.1.1: the UIDs the client holds are void */
		imap_untagged(s, "BYE [UNAVAILABLE] Mailbox UIDVALIDITY changed");
		s->close_after = true;
		maildir_changes_free(&ch);
		return;
	}
	imap_context_removed(s, &ch);
	if (s->qresync && ch.n_expunged > 0) {
		/* RFC 7162 3.2.10: UIDs, in place of "* n EXPUNGE" */
		buf_puts(s->out, "* VANISHED ");
		imap_write_uid_list(s->out, ch.expunged_uids, ch.n_expunged);
		buf_puts(s->out, "\r\n");
	} else {
		for (size_t i = 0; i < ch.n_expunged; i++)
			imap_untagged(s, "%u EXPUNGE", ch.expunged_seqs[i]);
	}
	/* RFC 3501 7.2.6: the client learns of new keywords before a
	 * FETCH FLAGS shows one */
	if (ch.keywords_changed)
		imap_send_flags(s);
	if (ch.n_new > 0 || ch.n_expunged > 0) {
		/* it counts the messages: only when there is news (FETCH by
		 * number in a big folder pays for this sync) */
		maildir_box_info(s->box, &info);
		imap_untagged(s, "%u EXISTS", info.messages);
		if (!s->rev2)	/* RFC 9051 Appendix E item 12 */
			imap_untagged(s, "%u RECENT", info.recent);
	}
	for (size_t i = 0; i < ch.n_changed; i++) {
		uint32_t seq = ch.changed_seqs[i];

		if (seq == 0 || seq > maildir_box_count(s->box))
			continue;
		buf_printf(s->out, "* %u FETCH (", seq);
		/* RFC 7162 3.2.4: with QRESYNC unsolicited FETCH has the
		 * UID; IMAP4rev2 always (RFC 9051 Appendix E item 21) */
		if (s->qresync || s->rev2)
			buf_printf(s->out, "UID %u ",
				   maildir_box_msg(s->box, seq - 1)->uid);
		buf_puts(s->out, "FLAGS ");
		imap_write_msg_flags(s, seq - 1, s->out);
		imap_write_msg_modseq(s, seq - 1, false, s->out);
		buf_puts(s->out, ")\r\n");
	}
	send_highestmodseq(s, &ch);
	imap_context_added(s);
	maildir_changes_free(&ch);
}

static uint32_t uid_at(const void *arg, size_t i)
{
	return maildir_box_msg(arg, i)->uid;
}

int imap_cmd_eval_set(struct imap_cmd *cmd, const struct imap_seqset *set,
		      struct imap_seqset *out)
{
	struct maildir_box *box = cmd->s->box;
	size_t count = maildir_box_count(box);

	if (set->saved) {
		/* RFC 5182 2.2: the messages saved, expunged ones gone */
		imap_seqset_eval_uid_fn(&cmd->s->search_saved, uid_at, box,
					count, out);
		return 0;
	}
	if (cmd->uid) {
		imap_seqset_eval_uid_fn(set, uid_at, box, count, out);
		return 0;
	}
	if (imap_seqset_eval_seq(set, (uint32_t)count, out) < 0) {
		imap_cmd_bad(cmd, count == 0 ? "No messages in the mailbox" :
			     "Invalid message sequence number");
		return -1;
	}
	return 0;
}

/* Store errors are sentences from maildir/; pick the RFC 5530 code. */
void imap_cmd_store_error(struct imap_cmd *cmd, const char *what,
			  const char *err)
{
	const char *code = "UNAVAILABLE";

	if (strstr(err, "no such mailbox") != NULL)
		code = "NONEXISTENT";
	else if (strstr(err, "already exists") != NULL)
		code = "ALREADYEXISTS";
	else if (strstr(err, "read-only") != NULL)
		code = "READ-ONLY";
	else if (strstr(err, "cannot") != NULL || strstr(err, "invalid") != NULL ||
		 strstr(err, "name") != NULL || strstr(err, "INBOX") != NULL)
		code = "CANNOT";
	if (strcmp(code, "UNAVAILABLE") == 0) {
		/* system trouble: details (paths, errno) go to the log only */
		log_msg("imap", cmd->s->io->id, "%s: %s", what, err);
		imap_cmd_no(cmd, "[UNAVAILABLE] %s: temporary failure, try "
			    "again later", what);
		return;
	}
	imap_cmd_no(cmd, "[%s] %s: %s", code, what, err);
}
