/* Folder commands (RFC 3501 6.3.3-6.3.10): CREATE, DELETE, RENAME,
 * SUBSCRIBE, UNSUBSCRIBE, LSUB, STATUS (with SIZE, RFC 8438); special use
 * (RFC 6154) in CREATE.  LIST is in cmd-list.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/quota.h"
#include "common/xalloc.h"
#include "imapd/imap-int.h"
#include "imapd/notify.h"
#include "imapd/writer.h"
#include "maildir/folder.h"
#include "maildir/name.h"
#include "maildir/quota.h"

/* SP mailbox, with the end of the command when `last` */
static int parse_mailbox_arg(struct imap_cmd *cmd, struct buf *name, bool last)
{
	if (imap_parse_sp(&cmd->p) < 0 || imap_parse_mailbox(&cmd->p, name) < 0 ||
	    (last && imap_parse_end(&cmd->p) < 0)) {
		imap_cmd_parse_error(cmd);
		return -1;
	}
	return 0;
}

/* [SP "(" "USE" SP "(" use-attr *(SP use-attr) ")" ")"] (RFC 6154 6,
 * RFC 4466 create-param).  *uses_r gets the bits; *unsupported_r is set
 * for a use this server cannot give (\All, \Flagged, extensions). */
static int parse_create_params(struct imap_parser *p, struct buf *tmp,
			       unsigned *uses_r, bool *unsupported_r)
{
	*uses_r = 0;
	*unsupported_r = false;
	if (imap_parse_at_end(p))
		return 0;
	if (imap_parse_sp(p) < 0 || imap_parse_char(p, '(') < 0)
		return -1;
	if (!imap_parse_keyword(p, "USE"))
		return imap_parse_fail(p, "Unknown CREATE parameter");
	if (imap_parse_sp(p) < 0 || imap_parse_char(p, '(') < 0)
		return -1;
	do {
		char attr[32];
		unsigned bit;

		/* flag-extension = "\\" atom */
		if (imap_parse_char(p, '\\') < 0 || imap_parse_atom(p, tmp) < 0)
			return -1;
		bit = 0;
		if (tmp->len < sizeof(attr) - 1) {
			snprintf(attr, sizeof(attr), "\\%s", buf_cstr(tmp));
			bit = maildir_special_use_bit(attr);
		}
		if (bit == 0)
			*unsupported_r = true;
		*uses_r |= bit;
	} while (imap_parse_skip(p, ' '));
	if (imap_parse_char(p, ')') < 0 || imap_parse_char(p, ')') < 0)
		return -1;
	return imap_parse_end(p);
}

/* CREATE <mailbox> [(USE (<attrs>))]: a trailing '/' only says inferiors
 * will follow (RFC 3501 6.3.3). */
void cmd_create(struct imap_cmd *cmd)
{
	struct buf name = BUF_INIT(BUF_UNLIMITED);
	char err[256];
	unsigned uses;
	bool unsupported;

	if (parse_mailbox_arg(cmd, &name, false) < 0)
		goto out;
	if (parse_create_params(&cmd->p, &cmd->tmp, &uses, &unsupported) < 0) {
		imap_cmd_parse_error(cmd);
		goto out;
	}
	if (name.len > 1 && name.data[name.len - 1] == MAILDIR_DELIMITER)
		buf_truncate(&name, name.len - 1);
	if (unsupported) {
		/* RFC 6154 5.2: nothing is created */
		imap_cmd_no(cmd, "[USEATTR] Unsupported special-use attribute");
	} else if (maildir_folder_is_inbox(buf_cstr(&name))) {
		imap_cmd_no(cmd, "[ALREADYEXISTS] INBOX always exists");
	} else if (!maildir_folder_name_creatable(buf_cstr(&name), err,
						  sizeof(err))) {
		imap_cmd_no(cmd, "[CANNOT] Invalid mailbox name: %s", err);
	} else if (maildir_folder_create(cmd->s->store, buf_cstr(&name), err,
					 sizeof(err)) < 0) {
		imap_cmd_store_error(cmd, "CREATE failed", err);
	} else if (uses != 0 &&
		   maildir_folder_set_special_use(cmd->s->store, buf_cstr(&name),
						  uses, err, sizeof(err)) < 0) {
		/* all or nothing */
		maildir_folder_delete(cmd->s->store, buf_cstr(&name), err,
				      sizeof(err));
		imap_cmd_store_error(cmd, "CREATE failed", err);
	} else {
		imap_notify_own(cmd->s, buf_cstr(&name), NULL, true);
		imap_cmd_ok(cmd, "CREATE completed");
	}
out:
	buf_free(&name);
}

/* The attributes LIST gives `name`, or -1 when it does not exist. */
static int folder_attrs(struct imap_session *s, const char *name)
{
	struct maildir_folder *list;
	size_t n;
	char err[256];
	int attrs = -1;

	if (maildir_folder_list(s->store, &list, &n, err, sizeof(err)) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].name, name) == 0)
			attrs = (int)list[i].attrs;
	maildir_folder_list_free(list, n);
	return attrs;
}

/* DELETE <mailbox>: a \Noselect name with inferiors cannot be deleted;
 * a selectable one with inferiors loses its messages and becomes
 * \Noselect (RFC 3501 6.3.4). */
void cmd_delete(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	struct buf name = BUF_INIT(BUF_UNLIMITED);
	char err[256];
	int attrs;

	if (parse_mailbox_arg(cmd, &name, true) < 0)
		goto out;
	attrs = folder_attrs(s, buf_cstr(&name));
	if (maildir_folder_is_inbox(buf_cstr(&name))) {
		imap_cmd_no(cmd, "[CANNOT] INBOX cannot be deleted");
	} else if (attrs >= 0 && (attrs & MAILDIR_FOLDER_NOSELECT)) {
		imap_cmd_no(cmd, "[CANNOT] Name has inferior hierarchical names");
	} else if (s->box_name != NULL &&
		   strcmp(s->box_name, buf_cstr(&name)) == 0) {
		imap_cmd_no(cmd, "[INUSE] Cannot delete the selected mailbox");
	} else if (maildir_folder_delete(s->store, buf_cstr(&name), err,
					 sizeof(err)) < 0) {
		imap_cmd_store_error(cmd, "DELETE failed", err);
	} else {
		imap_notify_own(s, buf_cstr(&name), NULL, true);
		imap_cmd_ok(cmd, "DELETE completed");
	}
out:
	buf_free(&name);
}

static void renamed(struct imap_cmd *cmd, const char *from, const char *to)
{
	if (maildir_folder_is_inbox(from))
		imap_notify_own(cmd->s, "INBOX", NULL, false);
	imap_notify_own(cmd->s, maildir_folder_is_inbox(from) ? to : from,
			maildir_folder_is_inbox(from) ? NULL : to, true);
	imap_cmd_ok(cmd, "RENAME completed");
}

/* RENAME <old> <new> (INBOX: its messages move, INBOX stays, 6.3.5) */
void cmd_rename(struct imap_cmd *cmd)
{
	struct buf from = BUF_INIT(BUF_UNLIMITED), to = BUF_INIT(BUF_UNLIMITED);
	char err[256];

	if (parse_mailbox_arg(cmd, &from, false) < 0 ||
	    parse_mailbox_arg(cmd, &to, true) < 0)
		goto out;
	if (!maildir_folder_is_inbox(buf_cstr(&to)) &&
	    !maildir_folder_name_creatable(buf_cstr(&to), err, sizeof(err)))
		imap_cmd_no(cmd, "[CANNOT] Invalid mailbox name: %s", err);
	else if (maildir_folder_rename(cmd->s->store, buf_cstr(&from),
				       buf_cstr(&to), err, sizeof(err)) < 0)
		imap_cmd_store_error(cmd, "RENAME failed", err);
	else
		renamed(cmd, buf_cstr(&from), buf_cstr(&to));
out:
	buf_free(&from);
	buf_free(&to);
}

static void subscribe(struct imap_cmd *cmd, bool on)
{
	struct buf name = BUF_INIT(BUF_UNLIMITED);
	char err[256];

	if (parse_mailbox_arg(cmd, &name, true) < 0)
		goto out;
	if (maildir_folder_subscribe(cmd->s->store, buf_cstr(&name), on, err,
				     sizeof(err)) < 0) {
		imap_cmd_store_error(cmd, on ? "SUBSCRIBE failed" :
				     "UNSUBSCRIBE failed", err);
		goto out;
	}
	imap_notify_own(cmd->s, buf_cstr(&name), NULL, true);
	imap_cmd_ok(cmd, on ? "SUBSCRIBE completed" : "UNSUBSCRIBE completed");
out:
	buf_free(&name);
}

/* SUBSCRIBE <mailbox> */
void cmd_subscribe(struct imap_cmd *cmd)
{
	subscribe(cmd, true);
}

/* UNSUBSCRIBE <mailbox> */
void cmd_unsubscribe(struct imap_cmd *cmd)
{
	subscribe(cmd, false);
}

/* reference SP list-mailbox, joined into one pattern */
static int parse_list_args(struct imap_cmd *cmd, struct buf *pattern)
{
	struct buf ref = BUF_INIT(BUF_UNLIMITED);
	int ret = 0;

	if (imap_parse_sp(&cmd->p) < 0 || imap_parse_mailbox(&cmd->p, &ref) < 0 ||
	    imap_parse_sp(&cmd->p) < 0 ||
	    imap_parse_list_mailbox(&cmd->p, pattern) < 0 ||
	    imap_parse_end(&cmd->p) < 0) {
		imap_cmd_parse_error(cmd);
		ret = -1;
	} else if (pattern->len > 0 && ref.len > 0) {
		/* RFC 3501 6.3.8: the reference is a prefix of the pattern
		 * (both in the client's form, imap_list_match) */
		imap_client_name(cmd->s, buf_cstr(&ref), &cmd->tmp);
		buf_clear(&ref);
		buf_append(&ref, cmd->tmp.data, cmd->tmp.len);
		buf_append(&ref, pattern->data, pattern->len);
		buf_clear(pattern);
		buf_append(pattern, ref.data, ref.len);
	}
	buf_free(&ref);
	return ret;
}

static bool in_names(char **names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* LSUB <reference> <pattern>: subscribed names; a parent that only a
 * '%' reaches is listed \Noselect (RFC 3501 6.3.9). */
void cmd_lsub(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	struct buf pattern = BUF_INIT(BUF_UNLIMITED);
	struct buf parent = BUF_INIT(BUF_UNLIMITED);
	char **names, **parents = NULL;
	size_t n, nparents = 0;
	char err[256];

	if (parse_list_args(cmd, &pattern) < 0)
		goto out;
	if (maildir_subscriptions(s->store, &names, &n, err, sizeof(err)) < 0) {
		imap_cmd_store_error(cmd, "LSUB failed", err);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *slash;

		if (imap_list_match(s, buf_cstr(&pattern), names[i])) {
			imap_write_list(s, "LSUB", 0, names[i], NULL);
			continue;
		}
		for (slash = strchr(names[i], '/'); slash != NULL;
		     slash = strchr(slash + 1, '/')) {
			buf_clear(&parent);
			buf_append(&parent, names[i], (size_t)(slash - names[i]));
			if (!imap_list_match(s, buf_cstr(&pattern),
					     buf_cstr(&parent)) ||
			    in_names(names, n, buf_cstr(&parent)) ||
			    in_names(parents, nparents, buf_cstr(&parent)))
				continue;
			parents = xreallocarray(parents, nparents + 1,
						sizeof(*parents));
			parents[nparents++] = xstrdup(buf_cstr(&parent));
			imap_write_list(s, "LSUB", MAILDIR_FOLDER_NOSELECT,
					buf_cstr(&parent), NULL);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	for (size_t i = 0; i < nparents; i++)
		free(parents[i]);
	free(parents);
	imap_cmd_ok(cmd, "LSUB completed");
out:
	buf_free(&parent);
	buf_free(&pattern);
}

enum { ST_MESSAGES, ST_RECENT, ST_UIDNEXT, ST_UIDVALIDITY, ST_UNSEEN,
       ST_SIZE, ST_HIGHESTMODSEQ, ST_DELETED, ST_DELETED_STORAGE, ST_COUNT };
/* DELETED, DELETED-STORAGE: RFC 9208 4.2 (QUOTA=RES-MESSAGE and
 * QUOTA=RES-STORAGE require them, 5.1 and 5.2) */
static const char *const status_items[ST_COUNT] = {
	"MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN",
	"SIZE",			/* RFC 8438 */
	"HIGHESTMODSEQ",	/* RFC 7162 3.1.2.3 */
	"DELETED", "DELETED-STORAGE",
};

int imap_parse_status_items(struct imap_parser *p,
			    struct imap_status_items *it)
{
	it->n = 0;
	if (imap_parse_char(p, '(') < 0)
		return -1;
	do {
		size_t k;

		for (k = 0; k < ST_COUNT; k++)
			if (imap_parse_keyword(p, status_items[k]))
				break;
		if (k == ST_COUNT)
			return imap_parse_fail(p, "Unknown STATUS item");
		/* RFC 9051 Appendix A and E item 12: no RECENT data for a
		 * client that enabled IMAP4rev2 */
		if (k == ST_RECENT && p->rev2)
			return imap_parse_fail(p, "No STATUS RECENT in IMAP4rev2");
		if (it->n < IMAP_STATUS_MAX_ITEMS)
			it->item[it->n++] = (int)k;
	} while (imap_parse_skip(p, ' '));
	return imap_parse_char(p, ')');
}

static bool wants(const struct imap_status_items *it, int a, int b)
{
	for (size_t i = 0; i < it->n; i++)
		if (it->item[i] == a || it->item[i] == b)
			return true;
	return false;
}

int imap_send_status(struct imap_session *s, const char *name,
		     const struct imap_status_items *it, char *err_r,
		     size_t errlen)
{
	struct maildir_box_info info;
	uint64_t deleted = 0, deleted_bytes = 0;
	int ret = wants(it, ST_SIZE, ST_SIZE) ?
		maildir_folder_status_size(s->store, name, &info, err_r,
					   errlen) :
		maildir_folder_status(s->store, name, &info, err_r, errlen);

	if (ret < 0)
		return -1;
	if (wants(it, ST_DELETED, ST_DELETED_STORAGE) &&
	    maildir_folder_deleted(s->store, name, &deleted, &deleted_bytes,
				   err_r, errlen) < 0)
		return -1;
	/* RFC 7162 3.1: STATUS HIGHESTMODSEQ enables CONDSTORE */
	for (size_t i = 0; i < it->n; i++)
		if (it->item[i] == ST_HIGHESTMODSEQ)
			imap_condstore_enable(s);
	buf_puts(s->out, "* STATUS ");
	imap_write_box_name(s, s->out, name);
	buf_puts(s->out, " (");
	for (size_t i = 0; i < it->n; i++) {
		uint64_t v = 0;

		switch (it->item[i]) {
		case ST_MESSAGES: v = info.messages; break;
		case ST_RECENT: v = info.recent; break;
		case ST_UIDNEXT: v = info.uidnext; break;
		case ST_UIDVALIDITY: v = info.uidvalidity; break;
		case ST_UNSEEN: v = info.unseen; break;
		case ST_SIZE: v = info.size; break;
		case ST_HIGHESTMODSEQ: v = info.highestmodseq; break;
		case ST_DELETED: v = deleted; break;
		/* in KiB like STORAGE (RFC 9208 4.2) */
		case ST_DELETED_STORAGE: v = quota_kib(deleted_bytes); break;
		}
		if (i > 0)
			buf_putc(s->out, ' ');
		buf_puts(s->out, status_items[it->item[i]]);
		buf_putc(s->out, ' ');
		imap_write_number(s->out, v);
	}
	buf_puts(s->out, ")\r\n");
	return 0;
}

/* STATUS <mailbox> (<items>) */
void cmd_status(struct imap_cmd *cmd)
{
	struct buf name = BUF_INIT(BUF_UNLIMITED);
	struct imap_status_items items;
	char err[256];

	if (parse_mailbox_arg(cmd, &name, false) < 0)
		goto out;
	if (imap_parse_sp(&cmd->p) < 0 ||
	    imap_parse_status_items(&cmd->p, &items) < 0 ||
	    imap_parse_end(&cmd->p) < 0) {
		imap_cmd_parse_error(cmd);
		goto out;
	}
	if (imap_send_status(cmd->s, buf_cstr(&name), &items, err,
			     sizeof(err)) < 0)
		imap_cmd_store_error(cmd, "STATUS failed", err);
	else
		imap_cmd_ok(cmd, "STATUS completed");
out:
	buf_free(&name);
}
