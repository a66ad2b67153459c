/* SEARCH [CHARSET <name>] <criteria> (RFC 3501 6.4.4) and UID SEARCH. */
#include <stdlib.h>
#include <strings.h>

#include "imapd/imap-int.h"
#include "imapd/search.h"
#include "maildir/mailbox.h"

void cmd_search(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	struct imap_search *search = NULL;
	char *charset = NULL;
	size_t count;

	if (imap_parse_sp(&cmd->p) < 0 ||
	    imap_parse_search(&cmd->p, &charset, &search) < 0) {
		imap_cmd_parse_error(cmd);
		goto out;
	}
	if (charset != NULL && !imap_charset_ok(charset)) {
		imap_cmd_no(cmd, "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
		goto out;
	}
	if (cmd->uid) {
		/* a UID command may see expunges first (RFC 3501 7.4.1) */
		imap_send_updates(s, false);
		cmd->updates_done = true;
	}
	imap_search_prepare(search);
	count = maildir_box_count(s->box);
	buf_puts(s->out, "* SEARCH");
	for (size_t i = 0; i < count; i++)
		if (imap_search_match(search, s->box, i))
			buf_printf(s->out, " %u", cmd->uid ?
				   maildir_box_msg(s->box, i)->uid :
				   (unsigned)(i + 1));
	buf_puts(s->out, "\r\n");
	imap_cmd_ok(cmd, "SEARCH completed");
out:
	free(charset);
	imap_search_free(&search);
}
