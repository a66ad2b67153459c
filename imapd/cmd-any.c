/* Commands valid in any state (RFC 3501 6.1). */
#include "imapd/imap-int.h"

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
