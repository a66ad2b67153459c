/* SEARCH [RETURN (options)] [CHARSET <name>] <criteria> and UID SEARCH
 * (RFC 3501 6.4.4; RETURN: ESEARCH, RFC 4731; SAVE and "$": SEARCHRES,
 * RFC 5182). */
#include <stdlib.h>
#include <strings.h>

#include "common/xalloc.h"
#include "imapd/esearch.h"
#include "imapd/imap-int.h"
#include "imapd/search.h"
#include "imapd/search-context.h"
#include "maildir/mailbox.h"

/* The result, and with RETURN (UPDATE) the context kept, or NOUPDATE
 * when none can be (the result is sent all the same). */
static void search_run(struct imap_cmd *cmd, struct imap_search **searchp,
		       unsigned ret)
{
	struct imap_search *search = *searchp;
	struct imap_session *s = cmd->s;
	size_t count = maildir_box_count(s->box), n = 0;
	uint64_t max_modseq = 0;
	bool modseq = imap_search_has_modseq(search);
	uint32_t *numbers = xreallocarray(NULL, count + 1, sizeof(*numbers));
	uint32_t *uids = xreallocarray(NULL, count + 1, sizeof(*uids));
	uint64_t *modseqs = modseq ?
		xreallocarray(NULL, count + 1, sizeof(*modseqs)) : NULL;

	if (modseq)
		imap_condstore_enable(s);
	imap_search_use_saved(search, &s->search_saved);
	imap_search_prepare(search);
	for (size_t i = 0; i < count; i++) {
		const struct maildir_msg *m;

		if (!imap_search_match(search, s->box, i))
			continue;
		m = maildir_box_msg(s->box, i);
		if (m->modseq > max_modseq)
			max_modseq = m->modseq;
		if (modseqs != NULL)
			modseqs[n] = m->modseq;
		uids[n] = m->uid;
		numbers[n] = cmd->uid ? uids[n] : (uint32_t)(i + 1);
		n++;
	}
	if ((ret & IMAP_RET_UPDATE) &&
	    imap_context_add(cmd, searchp, NULL, 0, uids, n) < 0)
		imap_context_noupdate(cmd);
	if (ret & IMAP_RET_GIVEN) {
		imap_return_results(cmd, ret, numbers, uids, modseqs, n);
	} else {
		buf_puts(s->out, "* SEARCH");
		for (size_t i = 0; i < n; i++)
			buf_printf(s->out, " %u", numbers[i]);
		/* RFC 7162 3.1.5: the highest modseq of the matches */
		if (modseq && max_modseq > 0)
			buf_printf(s->out, " (MODSEQ %llu)",
				   (unsigned long long)max_modseq);
		buf_puts(s->out, "\r\n");
	}
	free(numbers);
	free(uids);
	free(modseqs);
}

void cmd_search(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	struct imap_search *search = NULL;
	char *charset = NULL;
	unsigned ret = 0;

	if (imap_parse_sp(&cmd->p) < 0 || imap_parse_return(&cmd->p, &ret,
						       cmd->partial) < 0 ||
	    imap_parse_search(&cmd->p, &charset, &search) < 0) {
		imap_cmd_parse_error(cmd);
	} else if (charset != NULL && !imap_charset_ok(charset)) {
		imap_cmd_no(cmd, "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
	} else if ((ret & IMAP_RET_UPDATE) && (ret & IMAP_RET_SAVE)) {
		/* RFC 5267 4.1: UPDATE gives no saved result */
		imap_cmd_bad(cmd, "RETURN (UPDATE) with SAVE");
	} else {
		/* RFC 9051 6.4.4 and Appendix E item 4: IMAP4rev2 gets
		 * ESEARCH, ALL when no RETURN option was given */
		if (ret == 0 && s->rev2)
			ret = IMAP_RET_GIVEN | IMAP_RET_ALL;
		if (cmd->uid) {
			/* a UID command may see expunges first (RFC 3501
			 * 7.4.1) */
			imap_send_updates(s, false);
			cmd->updates_done = true;
		}
		search_run(cmd, &search, ret);
		imap_cmd_ok(cmd, "SEARCH completed");
		ret &= ~IMAP_RET_SAVE;
	}
	/* RFC 5182 2.1: a SEARCH with SAVE that fails empties "$" */
	if (ret & IMAP_RET_SAVE)
		imap_seqset_free(&s->search_saved);
	free(charset);
	imap_search_free(&search);
}
