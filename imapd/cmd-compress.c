/* COMPRESS (RFC 4978): the session only answers and asks the I/O layer
 * (io->compress) to switch; the deflate streams live in common/compress.c. */
#include <strings.h>

#include "imapd/imap-int.h"

/* COMPRESS SP algorithm */
void cmd_compress(struct imap_cmd *cmd)
{
	struct proto_io *io = cmd->s->io;

	if (imap_parse_sp(&cmd->p) < 0 || imap_parse_atom(&cmd->p, &cmd->tmp) < 0) {
		imap_cmd_parse_error(cmd);
		return;
	}
	if (imap_cmd_end(cmd) < 0)
		return;
	/* RFC 4978 3: BAD for an algorithm the server does not know. */
	if (strcasecmp(buf_cstr(&cmd->tmp), "DEFLATE") != 0) {
		imap_cmd_bad(cmd, "Unknown compression algorithm");
		return;
	}
	/* RFC 4978 3: only once per connection. */
	if (io->compressed || io->compress) {
		imap_cmd_no(cmd, "[COMPRESSIONACTIVE] DEFLATE is already active");
		return;
	}
	imap_cmd_ok(cmd, "DEFLATE active");
	io->compress = true;
}
