/* STORE (RFC 3501 6.4.6) and COPY (6.4.7), and their UID forms. */
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "imapd/imap-int.h"
#include "maildir/mailbox.h"

/* The UIDs of an evaluated set; *n_r how many.  Free the result. */
static uint32_t *set_uids(struct maildir_box *box, const struct imap_seqset *set,
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

static void store_flags(struct imap_cmd *cmd, const struct imap_seqset *set,
			enum maildir_store_mode mode, bool silent,
			const struct imap_flags *flags)
{
	struct imap_session *s = cmd->s;
	size_t nkeywords = maildir_box_keyword_count(s->box);
	uint64_t kw;
	uint32_t *uids;
	size_t n;
	char err[256];

	if (keyword_bits(cmd, flags, mode, &kw) < 0)
		return;
	if (maildir_box_keyword_count(s->box) != nkeywords)
		imap_send_flags(s);
	uids = set_uids(s->box, set, &n);
	if (n > 0 && maildir_box_store(s->box, uids, n, mode, flags->system, kw,
				       err, sizeof(err)) < 0) {
		free(uids);
		imap_cmd_store_error(cmd, "STORE failed", err);
		return;
	}
	free(uids);
	for (size_t r = 0; r < set->n && !silent; r++)
		for (uint64_t seq = set->r[r].lo; seq <= set->r[r].hi; seq++) {
			buf_printf(s->out, "* %llu FETCH (",
				   (unsigned long long)seq);
			if (cmd->uid)
				buf_printf(s->out, "UID %u ",
					   maildir_box_msg(s->box,
							   (size_t)seq - 1)->uid);
			buf_puts(s->out, "FLAGS ");
			imap_write_msg_flags(s, (size_t)seq - 1, s->out);
			buf_puts(s->out, ")\r\n");
		}
	imap_cmd_ok(cmd, "STORE completed");
}

/* STORE <set> <item> <flags> */
void cmd_store(struct imap_cmd *cmd)
{
	struct imap_seqset set, eval;
	struct imap_flags flags = { 0 };
	enum maildir_store_mode mode;
	bool silent;

	imap_seqset_init(&set);
	imap_seqset_init(&eval);
	if (imap_parse_sp(&cmd->p) < 0 || imap_parse_seqset(&cmd->p, &set) < 0 ||
	    imap_parse_sp(&cmd->p) < 0 ||
	    parse_store_att(&cmd->p, &mode, &silent) < 0 ||
	    imap_parse_sp(&cmd->p) < 0 ||
	    imap_parse_store_flags(&cmd->p, &flags) < 0 ||
	    imap_parse_end(&cmd->p) < 0)
		imap_cmd_parse_error(cmd);
	else if (cmd->s->readonly)
		imap_cmd_no(cmd, "[READ-ONLY] Mailbox is read-only");
	else if (imap_cmd_eval_set(cmd, &set, &eval) == 0)
		store_flags(cmd, &eval, mode, silent, &flags);
	imap_flags_free(&flags);
	imap_seqset_free(&set);
	imap_seqset_free(&eval);
}

/* COPY <set> <mailbox> */
void cmd_copy(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	struct imap_seqset set, eval;
	struct buf name = BUF_INIT(BUF_UNLIMITED);
	uint32_t *uids = NULL, *dst_uids = NULL, uidvalidity;
	size_t n, ncopied;
	char err[256];

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
	uids = set_uids(s->box, &eval, &n);
	dst_uids = xreallocarray(NULL, n ? n : 1, sizeof(*dst_uids));
	if (n > 0 && maildir_box_copy(s->box, uids, n, buf_cstr(&name),
				      &uidvalidity, dst_uids, &ncopied, err,
				      sizeof(err)) < 0) {
		/* RFC 3501 6.4.7: TRYCREATE when the target does not exist */
		if (strstr(err, "no such mailbox") != NULL)
			imap_cmd_no(cmd, "[TRYCREATE] No such mailbox");
		else
			imap_cmd_store_error(cmd, "COPY failed", err);
		goto out;
	}
	imap_cmd_ok(cmd, "COPY completed");
out:
	free(uids);
	free(dst_uids);
	buf_free(&name);
	imap_seqset_free(&set);
	imap_seqset_free(&eval);
}
