/* APPEND <mailbox> [<flags>] [<date-time>] <literal> (RFC 3501 6.3.11).
 *
 * The message literal never sits in memory: when a line ends in the
 * announcement of the message literal, the session streams its bytes into
 * a delivery file (maildir/deliver.h) through io->bytes_sink, and the
 * command, once complete, places that file in the folder. */
#include <string.h>

#include "imapd/imap-int.h"
#include "maildir/deliver.h"
#include "maildir/mailbox.h"
#include "maildir/name.h"

/* tag SP "APPEND" SP mailbox [SP flag-list] [SP date-time] SP; the parser
 * is left at the message literal.  -1 on a syntax error. */
static int parse_prefix(struct imap_parser *p, struct buf *name,
			struct imap_flags *flags, int64_t *idate)
{
	struct buf tmp = BUF_INIT(BUF_UNLIMITED);
	int ret = -1;

	*idate = -1;
	if (imap_parse_tag(p, &tmp) < 0 || imap_parse_sp(p) < 0 ||
	    !imap_parse_keyword(p, "APPEND") || imap_parse_sp(p) < 0 ||
	    imap_parse_mailbox(p, name) < 0 || imap_parse_sp(p) < 0)
		goto out;
	if (imap_parse_peek(p) == '(' &&
	    (imap_parse_flag_list(p, flags) < 0 || imap_parse_sp(p) < 0))
		goto out;
	if (imap_parse_peek(p) == '"' &&
	    (imap_parse_datetime(p, idate) < 0 || imap_parse_sp(p) < 0))
		goto out;
	ret = imap_parse_peek(p) == '{' ? 0 : imap_parse_fail(p, "Missing message");
out:
	buf_free(&tmp);
	return ret;
}

bool imap_append_literal_is_message(const struct imap_cmdbuf *cb)
{
	struct imap_parser p;
	struct buf name = BUF_INIT(BUF_UNLIMITED);
	struct imap_flags flags = { 0 };
	int64_t idate;
	size_t off;
	uint64_t size;
	bool nonsync, ok;

	if (cb->text.len < 2 ||
	    !imap_literal_at_end(cb->text.data, cb->text.len - 2, &off, &size,
				 &nonsync))
		return false;
	imap_parser_init(&p, cb->text.data, cb->text.len);
	ok = parse_prefix(&p, &name, &flags, &idate) == 0 && p.pos == off;
	imap_flags_free(&flags);
	buf_free(&name);
	return ok;
}

int imap_append_stream_begin(struct imap_session *s, uint64_t size,
			     const char **reply_r)
{
	char err[256];

	if (size == 0) {
		*reply_r = "NO Cannot append an empty message";
		return -1;
	}
	if (size > s->io->cfg->max_message_size) {
		*reply_r = "NO [TOOBIG] Message too big";
		return -1;
	}
	maildir_delivery_free(&s->append);
	s->append = maildir_delivery_begin(s->mail_root, err, sizeof(err));
	if (s->append == NULL) {
		*reply_r = "NO [UNAVAILABLE] Cannot store the message now";
		return -1;
	}
	s->io->bytes_sink = maildir_delivery_write;
	s->io->bytes_sink_arg = s->append;
	return 0;
}

static void append_commit(struct imap_cmd *cmd, const char *name,
			  const struct imap_flags *flags, int64_t idate)
{
	struct imap_session *s = cmd->s;
	uint32_t uidvalidity, uid;
	char err[256];

	if (!maildir_folder_is_inbox(name) &&
	    !maildir_folder_name_valid(name, err, sizeof(err))) {
		imap_cmd_no(cmd, "[TRYCREATE] No such mailbox");
		return;
	}
	if (imap_quota_check(cmd, maildir_delivery_size(s->append), 1) != 0)
		return;
	if (maildir_append(s->store, name, s->append, flags->system,
			   (const char *const *)flags->keywords,
			   flags->nkeywords, idate, &uidvalidity, &uid, err,
			   sizeof(err)) < 0) {
		if (strstr(err, "no such mailbox") != NULL)
			imap_cmd_no(cmd, "[TRYCREATE] No such mailbox");
		else
			imap_cmd_store_error(cmd, "APPEND failed", err);
		return;
	}
	imap_cmd_ok(cmd, "[APPENDUID %u %u] APPEND completed", uidvalidity, uid);
}

void cmd_append(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	struct buf name = BUF_INIT(BUF_UNLIMITED);
	struct imap_flags flags = { 0 };
	int64_t idate;
	bool streamed = false;

	/* the session's parser is past the command name: start over */
	cmd->p.pos = 0;
	if (parse_prefix(&cmd->p, &name, &flags, &idate) < 0 ||
	    imap_parse_string(&cmd->p, &cmd->tmp, &streamed) < 0 ||
	    imap_parse_end(&cmd->p) < 0)
		imap_cmd_parse_error(cmd);
	else if (!streamed || s->append == NULL)
		imap_cmd_bad(cmd, "Invalid message literal");
	else
		append_commit(cmd, buf_cstr(&name), &flags, idate);
	maildir_delivery_free(&s->append);
	imap_flags_free(&flags);
	buf_free(&name);
}
