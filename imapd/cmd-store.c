/* STORE (RFC 3501 6.4.6), COPY (6.4.7) and MOVE (RFC 6851), and their UID
 * forms; COPYUID (RFC 4315 3). */
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "imapd/imap-int.h"
#include "imapd/notify.h"
#include "imapd/writer.h"
#include "maildir/mailbox.h"

uint32_t *imap_set_uids(struct maildir_box *box, const struct imap_seqset *set,
		       size_t *n_r)
{
	uint64_t total = imap_seqset_count(set);
	uint32_t *uids = xreallocarray(NULL, total ? (size_t)total : 1,
				       sizeof(*uids));
	size_t n = 0;

	for (size_t r = 0; r < set->n; r++)
		for (uint64_t seq = set->r[r].lo; seq <= set->r[r].hi; seq++)
			uids[n++] = maildir_box_msg(box, (size_t)seq - 1)->uid;
	*n_r = n;
	return uids;
}

/* ("FLAGS" / "+FLAGS" / "-FLAGS") [".SILENT"] */
static int parse_store_att(struct imap_parser *p, enum maildir_store_mode *mode,
			   bool *silent)
{
	*mode = MAILDIR_STORE_SET;
	if (imap_parse_skip(p, '+'))
		*mode = MAILDIR_STORE_ADD;
	else if (imap_parse_skip(p, '-'))
		*mode = MAILDIR_STORE_REMOVE;
	*silent = false;
	if (imap_parse_keyword(p, "FLAGS.SILENT"))
		*silent = true;
	else if (!imap_parse_keyword(p, "FLAGS"))
		return imap_parse_fail(p, "Invalid STORE item");
	return 0;
}

/* Keyword names to the folder's bits (created for SET and ADD). */
static int keyword_bits(struct imap_cmd *cmd, const struct imap_flags *flags,
			enum maildir_store_mode mode, uint64_t *bits_r)
{
	*bits_r = 0;
	for (size_t i = 0; i < flags->nkeywords; i++) {
		int k = maildir_box_keyword(cmd->s->box, flags->keywords[i],
					    mode != MAILDIR_STORE_REMOVE);

		if (k >= 0 && k < 64)
			*bits_r |= (uint64_t)1 << k;
		else if (mode != MAILDIR_STORE_REMOVE) {
			imap_cmd_no(cmd, "[LIMIT] Too many keywords in this mailbox");
			return -1;
		}
	}
	return 0;
}

/* "* n FETCH ([UID u ][FLAGS (...)][ MODSEQ (m)])" for a stored message:
 * the flags unless .SILENT; with CONDSTORE the modseq, which .SILENT
 * still reports for the messages this STORE changed (RFC 7162 3.1.3). */
static void write_stored(struct imap_cmd *cmd, size_t idx, bool silent)
{
	struct imap_session *s = cmd->s;
	const struct maildir_msg *m = maildir_box_msg(s->box, idx);

	buf_puts(s->out, "* ");
	imap_write_number(s->out, idx + 1);
	buf_puts(s->out, " FETCH (");
	if (cmd->uid || s->qresync) {
		buf_puts(s->out, "UID ");
		imap_write_number(s->out, m->uid);
		buf_puts(s->out, silent ? " " : " FLAGS ");
	} else if (!silent) {
		buf_puts(s->out, "FLAGS ");
	}
	if (!silent) {
		imap_write_msg_flags(s, idx, s->out);
		imap_write_msg_modseq(s, idx, false, s->out);
	} else {
		buf_puts(s->out, "MODSEQ (");
		imap_write_number(s->out, m->modseq);
		imap_modseq_sent(s, m->modseq);
		buf_putc(s->out, ')');
	}
	buf_puts(s->out, ")\r\n");
}

static void store_flags(struct imap_cmd *cmd, const struct imap_seqset *set,
			enum maildir_store_mode mode, bool silent,
			const struct imap_flags *flags, uint64_t unchangedsince)
{
	struct imap_session *s = cmd->s;
	size_t nkeywords = maildir_box_keyword_count(s->box);
	uint64_t kw, *before;
	uint32_t *uids, *modified;
	size_t n, nmod = 0, m = 0;
	char err[256];

	if (keyword_bits(cmd, flags, mode, &kw) < 0)
		return;
	if (maildir_box_keyword_count(s->box) != nkeywords)
		imap_send_flags(s);
	uids = imap_set_uids(s->box, set, &n);
	modified = xreallocarray(NULL, n ? n : 1, sizeof(*modified));
	before = xreallocarray(NULL, n ? n : 1, sizeof(*before));
	for (size_t i = 0; i < n; i++)
		before[i] = maildir_box_msg(s->box, (size_t)
					    maildir_box_find(s->box, uids[i]))->modseq;
	if (n > 0 && maildir_box_store_cond(s->box, uids, n, mode,
					    flags->system, kw, unchangedsince,
					    modified, &nmod, err,
					    sizeof(err)) < 0) {
		imap_cmd_store_error(cmd, "STORE failed", err);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		size_t idx = (size_t)maildir_box_find(s->box, uids[i]);

		if (m < nmod && modified[m] == uids[i]) {
			/* RFC 7162 3.1.3: [MODIFIED] takes sequence
			 * numbers, or UIDs for UID STORE */
			modified[m++] = cmd->uid ? uids[i] : (uint32_t)idx + 1;
			continue;
		}
		if (!silent || (s->condstore &&
				maildir_box_msg(s->box, idx)->modseq != before[i]))
			write_stored(cmd, idx, silent);
	}
	if (nmod > 0) {
		buf_clear(&cmd->tmp);
		imap_write_uid_list(&cmd->tmp, modified, nmod);
		imap_cmd_ok(cmd, "[MODIFIED %s] Conditional STORE failed",
			    buf_cstr(&cmd->tmp));
	} else {
		imap_cmd_ok(cmd, "STORE completed");
	}
out:
	free(uids);
	free(modified);
	free(before);
}

/* STORE <set> [(UNCHANGEDSINCE n)] <item> <flags> (RFC 7162 3.1.3) */
void cmd_store(struct imap_cmd *cmd)
{
	struct imap_seqset set, eval;
	struct imap_flags flags = { 0 };
	enum maildir_store_mode mode;
	uint64_t unchangedsince;
	bool silent;

	imap_seqset_init(&set);
	imap_seqset_init(&eval);
	if (imap_parse_sp(&cmd->p) < 0 || imap_parse_seqset(&cmd->p, &set) < 0 ||
	    imap_parse_sp(&cmd->p) < 0 ||
	    imap_parse_store_modifiers(&cmd->p, &unchangedsince) < 0 ||
	    parse_store_att(&cmd->p, &mode, &silent) < 0 ||
	    imap_parse_sp(&cmd->p) < 0 ||
	    imap_parse_store_flags(&cmd->p, &flags) < 0 ||
	    imap_parse_end(&cmd->p) < 0) {
		imap_cmd_parse_error(cmd);
		goto out;
	}
	if (unchangedsince != UINT64_MAX)
		imap_condstore_enable(cmd->s);
	if (cmd->s->readonly)
		imap_cmd_no(cmd, "[READ-ONLY] Mailbox is read-only");
	else if (imap_cmd_eval_set(cmd, &set, &eval) == 0)
		store_flags(cmd, &eval, mode, silent, &flags, unchangedsince);
out:
	imap_flags_free(&flags);
	imap_seqset_free(&set);
	imap_seqset_free(&eval);
}

/* "[COPYUID uidvalidity src-set dst-set]" (RFC 4315 3). */
static void write_copyuid(struct buf *out, uint32_t uidvalidity,
			  const uint32_t *src, const uint32_t *dst, size_t n)
{
	buf_printf(out, "[COPYUID %u ", uidvalidity);
	imap_write_uid_list(out, src, n);
	buf_putc(out, ' ');
	imap_write_uid_list(out, dst, n);
	buf_putc(out, ']');
}

/* COPY adds the messages' sizes to the user's usage (RFC 9208 5.1, even
 * where the copy is a hard link); MOVE within the user's mailboxes does
 * not, so only COPY is checked.  As imap_quota_check. */
static int copy_quota_check(struct imap_cmd *cmd, const uint32_t *uids,
			    size_t n)
{
	uint64_t bytes = 0, count = 0;

	for (size_t i = 0; i < n; i++) {
		ssize_t idx = maildir_box_find(cmd->s->box, uids[i]);

		if (idx >= 0) {
			bytes += maildir_box_msg(cmd->s->box, (size_t)idx)->size;
			count++;
		}
	}
	return imap_quota_check(cmd, bytes, count);
}

/* COPY or MOVE <set> <mailbox> */
static void copy_or_move(struct imap_cmd *cmd, bool move)
{
	struct imap_session *s = cmd->s;
	struct imap_seqset set, eval;
	struct buf name = BUF_INIT(BUF_UNLIMITED);
	uint32_t *uids = NULL, *src_uids = NULL, *dst_uids = NULL, uidvalidity;
	size_t n, ndone = 0;
	char err[256];
	int r = 0;

	imap_seqset_init(&set);
	imap_seqset_init(&eval);
	if (imap_parse_sp(&cmd->p) < 0 || imap_parse_seqset(&cmd->p, &set) < 0 ||
	    imap_parse_sp(&cmd->p) < 0 ||
	    imap_parse_mailbox(&cmd->p, &name) < 0 ||
	    imap_parse_end(&cmd->p) < 0) {
		imap_cmd_parse_error(cmd);
		goto out;
	}
	if (imap_cmd_eval_set(cmd, &set, &eval) < 0)
		goto out;
	if (move && s->readonly) {
		imap_cmd_no(cmd, "[READ-ONLY] Mailbox is read-only");
		goto out;
	}
	uids = imap_set_uids(s->box, &eval, &n);
	if (!move && n > 0 && copy_quota_check(cmd, uids, n) != 0)
		goto out;
	src_uids = xreallocarray(NULL, n ? n : 1, sizeof(*src_uids));
	dst_uids = xreallocarray(NULL, n ? n : 1, sizeof(*dst_uids));
	if (n > 0 && move)
		r = maildir_box_move(s->box, uids, n, buf_cstr(&name),
				     &uidvalidity, src_uids, dst_uids, &ndone,
				     err, sizeof(err));
	else if (n > 0)
		r = maildir_box_copy_pairs(s->box, uids, n, buf_cstr(&name),
					   &uidvalidity, src_uids, dst_uids,
					   &ndone, err, sizeof(err));
	if (r < 0) {
		/* RFC 3501 6.4.7, RFC 6851 3.3: TRYCREATE when the target
		 * does not exist (and then nothing was copied or moved) */
		if (strstr(err, "no such mailbox") != NULL)
			imap_cmd_no(cmd, "[TRYCREATE] No such mailbox");
		else
			imap_cmd_store_error(cmd, move ? "MOVE failed" :
					     "COPY failed", err);
		goto out;
	}
	if (ndone > 0)
		imap_notify_own(s, buf_cstr(&name), NULL, false);
	buf_clear(&cmd->tmp);
	if (ndone > 0)
		write_copyuid(&cmd->tmp, uidvalidity, src_uids, dst_uids, ndone);
	if (move) {
		/* RFC 6851 4.3: COPYUID in an untagged OK before the
		 * EXPUNGEs, which the sync at completion sends */
		if (ndone > 0)
			imap_untagged(s, "OK %s Moved", buf_cstr(&cmd->tmp));
		imap_cmd_ok(cmd, "MOVE completed");
	} else {
		/* Into the selected mailbox: its new EXISTS goes out with
		 * the reply, as Dovecot does.  RFC 3501 7.4.1 (RFC 9051
		 * 7.5.1) keeps EXPUNGE from FETCH, STORE and SEARCH only, so
		 * the full update may run (UID COPY does it at completion) */
		if (ndone > 0 && !cmd->uid &&
		    strcmp(buf_cstr(&name), s->box_name) == 0) {
			imap_send_updates(s, false);
			cmd->updates_done = true;
		}
		imap_cmd_ok(cmd, "%s%sCOPY completed", buf_cstr(&cmd->tmp),
			    ndone > 0 ? " " : "");
	}
out:
	free(uids);
	free(src_uids);
	free(dst_uids);
	buf_free(&name);
	imap_seqset_free(&set);
	imap_seqset_free(&eval);
}

/* COPY <set> <mailbox> */
void cmd_copy(struct imap_cmd *cmd)
{
	copy_or_move(cmd, false);
}

/* MOVE <set> <mailbox> (RFC 6851 3.1) */
void cmd_move(struct imap_cmd *cmd)
{
	copy_or_move(cmd, true);
}
