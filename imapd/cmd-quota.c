/* QUOTA (RFC 9208): GETQUOTAROOT, GETQUOTA, SETQUOTA, and the check
 * APPEND and COPY make before they store anything.
 *
 * Each user has at most one quota root, named "" (RFC 9208 3.2 leaves
 * the names to the server), covering every mailbox of the user, with
 * the resources STORAGE (KiB, RFC 9208 5.1) and MESSAGE (5.2) that
 * `maillab user quota` set; a user without limits has no quota root.
 * Users cannot change their limits: SETQUOTA gets NO [NOPERM] (QUOTASET
 * is not advertised, RFC 9208 4.1.4).  MOVE is never refused for quota:
 * within one user's mailboxes it changes no usage. */
#include <inttypes.h>
#include <string.h>

#include "common/log.h"
#include "common/quota.h"
#include "common/users.h"
#include "imapd/imap-int.h"
#include "imapd/writer.h"
#include "maildir/folder.h"
#include "maildir/quota.h"

/* The session user's limits: 0 (zeros: none), or -1. */
static int user_limits(struct imap_session *s, struct user_quota *q)
{
	memset(q, 0, sizeof(*q));
	if (s->io->users == NULL)
		return 0;
	return userdb_quota(s->io->users, s->user, q) < 0 ? -1 : 0;
}

int imap_quota_check(struct imap_cmd *cmd, uint64_t bytes, uint64_t messages)
{
	struct imap_session *s = cmd->s;
	struct maildir_usage u;
	struct user_quota q;
	char err[256];

	if (user_limits(s, &q) < 0) {
		imap_cmd_store_error(cmd, "quota",
				     "the user's limits could not be read");
		return -1;
	}
	if (q.storage == 0 && q.messages == 0)
		return 0;
	if (maildir_usage(s->store, &u, err, sizeof(err)) < 0) {
		imap_cmd_store_error(cmd, "quota", err);
		return -1;
	}
	if (!quota_exceeded(&q, u.bytes, u.messages, bytes, messages))
		return 0;
	/* RFC 9208 4.3.1 (RFC 5530 3): nothing was stored */
	if (q.storage != 0 && quota_exceeded(&(struct user_quota){ q.storage, 0 },
					     u.bytes, 0, bytes, 0))
		imap_cmd_no(cmd, "[OVERQUOTA] Quota exceeded: %" PRIu64 " of %"
			    PRIu64 " KiB used, this needs %" PRIu64 " KiB more",
			    quota_kib(u.bytes), quota_kib(q.storage),
			    quota_kib(bytes));
	else
		imap_cmd_no(cmd, "[OVERQUOTA] Quota exceeded: %" PRIu64 " of %"
			    PRIu64 " messages", u.messages, q.messages);
	return 1;
}

/* "* QUOTA "" (STORAGE used limit MESSAGE used limit)" for the resources
 * with a limit.  0, or -1 (replied). */
static int send_quota(struct imap_cmd *cmd, const struct user_quota *q)
{
	struct imap_session *s = cmd->s;
	struct maildir_usage u;
	char err[256];

	if (maildir_usage(s->store, &u, err, sizeof(err)) < 0) {
		imap_cmd_store_error(cmd, "GETQUOTA failed", err);
		return -1;
	}
	buf_puts(s->out, "* QUOTA \"\" (");
	if (q->storage != 0)
		buf_printf(s->out, "STORAGE %" PRIu64 " %" PRIu64,
			   quota_kib(u.bytes), quota_kib(q->storage));
	if (q->messages != 0)
		buf_printf(s->out, "%sMESSAGE %" PRIu64 " %" PRIu64,
			   q->storage != 0 ? " " : "", u.messages, q->messages);
	buf_puts(s->out, ")\r\n");
	return 0;
}

/* GETQUOTAROOT <mailbox> (RFC 9208 4.1.2) */
void cmd_getquotaroot(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	struct buf name = BUF_INIT(BUF_UNLIMITED);
	struct maildir_box_info info;
	struct user_quota q;
	bool has_root;
	char err[256];

	if (imap_parse_sp(&cmd->p) < 0 || imap_parse_mailbox(&cmd->p, &name) < 0 ||
	    imap_parse_end(&cmd->p) < 0) {
		imap_cmd_parse_error(cmd);
		goto out;
	}
	if (maildir_folder_status(s->store, buf_cstr(&name), &info, err,
				  sizeof(err)) < 0) {
		imap_cmd_store_error(cmd, "GETQUOTAROOT failed", err);
		goto out;
	}
	if (user_limits(s, &q) < 0) {
		imap_cmd_store_error(cmd, "GETQUOTAROOT failed",
				     "the user's limits could not be read");
		goto out;
	}
	has_root = q.storage != 0 || q.messages != 0;
	buf_puts(s->out, "* QUOTAROOT ");
	imap_write_box_name(s, s->out, buf_cstr(&name));
	buf_puts(s->out, has_root ? " \"\"\r\n" : "\r\n");
	if (has_root && send_quota(cmd, &q) < 0)
		goto out;
	imap_cmd_ok(cmd, "GETQUOTAROOT completed");
out:
	buf_free(&name);
}

/* GETQUOTA <quota root> (RFC 9208 4.1.1) */
void cmd_getquota(struct imap_cmd *cmd)
{
	struct user_quota q;

	buf_clear(&cmd->tmp);
	if (imap_parse_sp(&cmd->p) < 0 ||
	    imap_parse_astring(&cmd->p, &cmd->tmp) < 0 ||
	    imap_parse_end(&cmd->p) < 0) {
		imap_cmd_parse_error(cmd);
		return;
	}
	if (user_limits(cmd->s, &q) < 0) {
		imap_cmd_store_error(cmd, "GETQUOTA failed",
				     "the user's limits could not be read");
		return;
	}
	if (cmd->tmp.len != 0 || (q.storage == 0 && q.messages == 0)) {
		imap_cmd_no(cmd, "[NONEXISTENT] No such quota root");
		return;
	}
	if (send_quota(cmd, &q) == 0)
		imap_cmd_ok(cmd, "GETQUOTA completed");
}

/* number64 (RFC 9051 9): up to 2^63 - 1 */
static int parse_number64(struct imap_parser *p, struct buf *tmp)
{
	if (imap_parse_atom(p, tmp) < 0)
		return -1;
	if (tmp->len == 0 || tmp->len > 19 ||
	    strspn(buf_cstr(tmp), "0123456789") != tmp->len ||
	    (tmp->len == 19 && strcmp(buf_cstr(tmp), "9223372036854775807") > 0))
		return imap_parse_fail(p, "Invalid resource limit");
	return 0;
}

/* SETQUOTA <quota root> "(" [resource-name SP number64 *(SP ...)] ")"
 * (RFC 9208 4.1.4): parsed, then refused. */
void cmd_setquota(struct imap_cmd *cmd)
{
	struct imap_parser *p = &cmd->p;
	bool first = true;

	if (imap_parse_sp(p) < 0 || imap_parse_astring(p, &cmd->tmp) < 0 ||
	    imap_parse_sp(p) < 0 || imap_parse_char(p, '(') < 0)
		goto bad;
	while (!imap_parse_skip(p, ')')) {
		if ((!first && imap_parse_sp(p) < 0) ||
		    imap_parse_atom(p, &cmd->tmp) < 0 || imap_parse_sp(p) < 0 ||
		    parse_number64(p, &cmd->tmp) < 0)
			goto bad;
		first = false;
	}
	if (imap_parse_end(p) < 0)
		goto bad;
	imap_cmd_no(cmd, "[NOPERM] Quotas are set by the administrator "
		    "(maillab user quota)");
	return;
bad:
	imap_cmd_parse_error(cmd);
}
