/* Commands valid in any state (RFC 3501 6.1), and the capability list. */
#include "imapd/imap-int.h"

/* Extensions valid in every state (RFC 7888, RFC 2971), then those of
 * the authenticated states. */
#define CAPS_ANY "IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID"
#define CAPS_AUTHED " ENABLE IDLE NAMESPACE UNSELECT CHILDREN UIDPLUS MOVE" \
	" SPECIAL-USE CREATE-SPECIAL-USE LIST-EXTENDED LIST-STATUS STATUS=SIZE" \
	" MULTIAPPEND BINARY CATENATE CONDSTORE QRESYNC QUOTA QUOTA=RES-STORAGE" \
	" QUOTA=RES-MESSAGE COMPRESS=DEFLATE NOTIFY"
/* RFC 5256, RFC 5957, RFC 5267 3 (cmd-sort.c) and 4 (search-context.c),
 * RFC 4731, RFC 5182 */
#define CAPS_SORT " SORT SORT=DISPLAY THREAD=ORDEREDSUBJECT THREAD=REFERENCES" \
	" ESEARCH SEARCHRES ESORT CONTEXT=SEARCH CONTEXT=SORT"

void imap_capabilities(struct imap_session *s, struct buf *out)
{
	buf_puts(out, CAPS_ANY);
	if (s->state != IMAP_NOT_AUTH) {
		buf_puts(out, CAPS_AUTHED);
		buf_puts(out, CAPS_SORT);
		return;
	}
	if (!s->io->tls && s->io->tls_available)
		buf_puts(out, " STARTTLS");
	/* RFC 3501 6.2.3 and 7.2.1: no password in clear where refused */
	if (auth_plaintext_allowed(s->io))
		buf_puts(out, " AUTH=PLAIN AUTH=LOGIN");
	else
		buf_puts(out, " LOGINDISABLED");
}

/* CAPABILITY */
void cmd_capability(struct imap_cmd *cmd)
{
	if (imap_cmd_end(cmd) < 0)
		return;
	buf_clear(&cmd->tmp);
	imap_capabilities(cmd->s, &cmd->tmp);
	imap_untagged(cmd->s, "CAPABILITY %s", buf_cstr(&cmd->tmp));
	imap_cmd_ok(cmd, "CAPABILITY completed");
}

/* NOOP: the updates of the selected mailbox go out as it completes. */
void cmd_noop(struct imap_cmd *cmd)
{
	if (imap_cmd_end(cmd) < 0)
		return;
	imap_cmd_ok(cmd, "NOOP completed");
}

/* LOGOUT */
void cmd_logout(struct imap_cmd *cmd)
{
	if (imap_cmd_end(cmd) < 0)
		return;
	imap_untagged(cmd->s, "BYE Logging out");
	cmd->s->state = IMAP_LOGOUT;
	imap_cmd_ok(cmd, "LOGOUT completed");
}

/* UID is dispatched by the session (it names the real command). */
void cmd_uid(struct imap_cmd *cmd)
{
	imap_cmd_bad(cmd, "UID needs a command");
}
