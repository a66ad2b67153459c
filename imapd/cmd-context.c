/* CANCELUPDATE tag *(SP tag) (RFC 5267 4.2): the tags are strings. */
#include "imapd/imap-int.h"
#include "imapd/search-context.h"

void cmd_cancelupdate(struct imap_cmd *cmd)
{
	struct buf *tag = &cmd->tmp;

	do {
		buf_clear(tag);
		if (imap_parse_sp(&cmd->p) < 0 ||
		    imap_parse_astring(&cmd->p, tag) < 0) {
			imap_cmd_parse_error(cmd);
			return;
		}
		if (imap_context_cancel(cmd->s, buf_cstr(tag)) < 0) {
			imap_cmd_bad(cmd, "No search context has that tag");
			return;
		}
	} while (!imap_parse_at_end(&cmd->p));
	imap_cmd_ok(cmd, "CANCELUPDATE completed");
}
