/* LIST (RFC 3501 6.3.8) with LIST-EXTENDED (RFC 5258): selection options
 * SUBSCRIBED, REMOTE, RECURSIVEMATCH and SPECIAL-USE (RFC 6154 5.1),
 * several patterns, return options SUBSCRIBED, CHILDREN, SPECIAL-USE and
 * STATUS (LIST-STATUS, RFC 5819). */
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "imapd/imap-int.h"
#include "imapd/writer.h"
#include "maildir/folder.h"

#define LIST_MAX_PATTERNS 64

struct list_request {
	char *patterns[LIST_MAX_PATTERNS];	/* reference joined in */
	size_t npatterns;
	bool sel_subscribed, sel_recursive, sel_special;
	bool ret_subscribed, ret_special;
	struct imap_status_items status;	/* n == 0: no STATUS */
};

/* One name LIST may report: a folder, a subscribed name, or a level
 * above a subscribed name (the last two may not exist). */
struct list_entry {
	char *name;
	unsigned attrs;		/* MAILDIR_FOLDER_*, IMAP_LIST_NONEXISTENT */
	bool matched;		/* by one of the patterns */
};

/* "* LIST (attrs) "/" name", without the line end. */
static void write_list_head(struct imap_session *s, const char *what,
			    unsigned attrs, const char *name)
{
	struct buf *out = s->out;

	buf_printf(out, "* %s (", what);
	if (attrs & IMAP_LIST_NONEXISTENT)
		buf_puts(out, "\\NonExistent ");
	if (attrs & MAILDIR_FOLDER_NOSELECT)
		buf_puts(out, "\\Noselect ");
	if (attrs & MAILDIR_FOLDER_HASCHILDREN)
		buf_puts(out, "\\HasChildren ");
	if (attrs & MAILDIR_FOLDER_HASNOCHILDREN)
		buf_puts(out, "\\HasNoChildren ");
	if (attrs & MAILDIR_FOLDER_SUBSCRIBED)
		buf_puts(out, "\\Subscribed ");
	/* RFC 6154 2: special use, in every LIST reply (allowed, and what
	 * Dovecot does, for clients that do not ask) */
	for (unsigned bit = 1; bit != 0 && bit <= MAILDIR_FOLDER_SPECIAL;
	     bit <<= 1) {
		const char *use = (attrs & bit) ?
			maildir_special_use_name(bit) : NULL;

		if (use != NULL) {
			buf_puts(out, use);
			buf_putc(out, ' ');
		}
	}
	if (out->data[out->len - 1] == ' ')
		buf_truncate(out, out->len - 1);
	buf_puts(out, ") \"/\" ");
	imap_write_box_name(s, out, name);
}

void imap_write_list(struct imap_session *s, const char *what,
		     unsigned attrs, const char *name, const char *childinfo)
{
	write_list_head(s, what, attrs, name);
	if (childinfo != NULL)
		buf_printf(s->out, " (\"CHILDINFO\" (%s))", childinfo);
	buf_puts(s->out, "\r\n");
}

void imap_write_list_oldname(struct imap_session *s, unsigned attrs,
			     const char *name, const char *oldname)
{
	write_list_head(s, "LIST", attrs, name);
	/* RFC 5258 9: oldname-extended-item = "OLDNAME" SP "(" mailbox ")",
	 * the old name written as every name is (quoted, mUTF-7 or UTF-8) */
	buf_puts(s->out, " (\"OLDNAME\" (");
	imap_write_box_name(s, s->out, oldname);
	buf_puts(s->out, "))\r\n");
}

/* list-select-opts (RFC 5258 6; RFC 6154 6): an unknown option is BAD,
 * and RECURSIVEMATCH needs an option it can apply to (3.1). */
static int parse_selection(struct imap_parser *p, struct list_request *rq)
{
	if (imap_parse_char(p, '(') < 0)
		return -1;
	if (!imap_parse_skip(p, ')')) {
		do {
			if (imap_parse_keyword(p, "SUBSCRIBED"))
				rq->sel_subscribed = true;
			else if (imap_parse_keyword(p, "RECURSIVEMATCH"))
				rq->sel_recursive = true;
			else if (imap_parse_keyword(p, "SPECIAL-USE"))
				rq->sel_special = true;
			else if (!imap_parse_keyword(p, "REMOTE"))
				/* REMOTE: there are no remote mailboxes */
				return imap_parse_fail(p,
					"Unsupported LIST selection option");
		} while (imap_parse_skip(p, ' '));
		if (imap_parse_char(p, ')') < 0)
			return -1;
	}
	if (rq->sel_recursive && !rq->sel_subscribed && !rq->sel_special)
		return imap_parse_fail(p, "RECURSIVEMATCH needs another "
				       "selection option");
	return imap_parse_sp(p);
}

/* list-return-opts (RFC 5258 6, RFC 5819 5, RFC 6154 6).  CHILDREN is
 * accepted: \HasChildren / \HasNoChildren are always returned. */
static int parse_return(struct imap_parser *p, struct list_request *rq)
{
	if (imap_parse_char(p, '(') < 0)
		return -1;
	if (imap_parse_skip(p, ')'))
		return 0;
	do {
		if (imap_parse_keyword(p, "SUBSCRIBED")) {
			rq->ret_subscribed = true;
		} else if (imap_parse_keyword(p, "SPECIAL-USE")) {
			rq->ret_special = true;
		} else if (imap_parse_keyword(p, "STATUS")) {
			if (imap_parse_sp(p) < 0 ||
			    imap_parse_status_items(p, &rq->status) < 0)
				return -1;
		} else if (!imap_parse_keyword(p, "CHILDREN")) {
			return imap_parse_fail(p,
				"Unsupported LIST return option");
		}
	} while (imap_parse_skip(p, ' '));
	return imap_parse_char(p, ')');
}

static int add_pattern(struct imap_parser *p, struct list_request *rq,
		       const struct buf *ref, struct buf *tmp)
{
	struct buf joined = BUF_INIT(BUF_UNLIMITED);

	if (imap_parse_list_mailbox(p, tmp) < 0)
		return -1;
	if (rq->npatterns == LIST_MAX_PATTERNS)
		return imap_parse_fail(p, "Too many LIST patterns");
	/* RFC 3501 6.3.8: the reference is a prefix of the pattern; an
	 * empty pattern stays empty (it asks for the delimiter) */
	if (tmp->len > 0)
		buf_append(&joined, ref->data, ref->len);
	buf_append(&joined, tmp->data, tmp->len);
	rq->patterns[rq->npatterns++] = xstrdup(buf_cstr(&joined));
	buf_free(&joined);
	return 0;
}

/* mbox-or-pat = list-mailbox / "(" list-mailbox *(SP list-mailbox) ")" */
static int parse_patterns(struct imap_parser *p, struct list_request *rq,
			  const struct buf *ref, struct buf *tmp)
{
	if (imap_parse_peek(p) != '(')
		return add_pattern(p, rq, ref, tmp);
	imap_parse_char(p, '(');
	do {
		if (add_pattern(p, rq, ref, tmp) < 0)
			return -1;
	} while (imap_parse_skip(p, ' '));
	return imap_parse_char(p, ')');
}

/* SP [list-select-opts SP] mailbox SP mbox-or-pat
 * [SP "RETURN" SP list-return-opts] */
static int parse_list(struct imap_cmd *cmd, struct list_request *rq)
{
	struct imap_parser *p = &cmd->p;
	struct buf ref = BUF_INIT(BUF_UNLIMITED);
	int ret = -1;

	if (imap_parse_sp(p) < 0 ||
	    (imap_parse_peek(p) == '(' && parse_selection(p, rq) < 0) ||
	    imap_parse_mailbox(p, &ref) < 0 || imap_parse_sp(p) < 0)
		goto out;
	/* joined with the patterns in the client's form */
	imap_client_name(cmd->s, buf_cstr(&ref), &cmd->tmp);
	buf_clear(&ref);
	buf_append(&ref, cmd->tmp.data, cmd->tmp.len);
	if (parse_patterns(p, rq, &ref, &cmd->tmp) < 0)
		goto out;
	if (!imap_parse_at_end(p) &&
	    (imap_parse_sp(p) < 0 || !imap_parse_keyword(p, "RETURN") ||
	     imap_parse_sp(p) < 0 || parse_return(p, rq) < 0))
		goto out;
	ret = imap_parse_end(p);
out:
	if (ret < 0 && p->error == NULL)
		imap_parse_fail(p, "Invalid LIST arguments");
	if (ret < 0)
		imap_cmd_parse_error(cmd);
	buf_free(&ref);
	return ret;
}

static bool any_pattern_matches(const struct imap_session *s,
				const struct list_request *rq,
				const char *name)
{
	for (size_t i = 0; i < rq->npatterns; i++)
		if (imap_list_match(s, rq->patterns[i], name))
			return true;
	return false;
}

/* Whether an entry meets the selection criteria (RFC 5258 3.1). */
static bool selected(const struct list_request *rq,
		     const struct list_entry *e)
{
	if (rq->sel_subscribed)
		return (e->attrs & MAILDIR_FOLDER_SUBSCRIBED) != 0;
	if (e->attrs & IMAP_LIST_NONEXISTENT)
		return false;
	return !rq->sel_special || (e->attrs & MAILDIR_FOLDER_SPECIAL);
}

static struct list_entry *find_entry(struct list_entry *v, size_t n,
				     const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	return NULL;
}

static void add_entry(struct list_entry **v, size_t *n, const char *name,
		      size_t len, unsigned attrs)
{
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[*n].name = xstrndup(name, len);
	(*v)[*n].attrs = attrs;
	(*v)[*n].matched = false;
	(*n)++;
}

/* Subscribed names that are no folder, and the levels above them (for
 * RECURSIVEMATCH), as \NonExistent entries. */
static int add_subscriptions(struct imap_session *s, struct list_entry **v,
			     size_t *n, char *err, size_t errlen)
{
	char **names;
	size_t count;

	if (maildir_subscriptions(s->store, &names, &count, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < count; i++) {
		const char *name = names[i], *slash;
		struct list_entry *e = find_entry(*v, *n, name);

		if (e == NULL)
			add_entry(v, n, name, strlen(name),
				  IMAP_LIST_NONEXISTENT);
		e = find_entry(*v, *n, name);
		e->attrs |= MAILDIR_FOLDER_SUBSCRIBED;
		for (slash = strchr(name, '/'); slash != NULL;
		     slash = strchr(slash + 1, '/')) {
			size_t len = (size_t)(slash - name);
			char *parent = xstrndup(name, len);

			if (find_entry(*v, *n, parent) == NULL)
				add_entry(v, n, name, len,
					  IMAP_LIST_NONEXISTENT);
			free(parent);
		}
		free(names[i]);
	}
	free(names);
	return 0;
}

/* RFC 5258 3.5 (RECURSIVEMATCH): whether a descendant meets the
 * selection criteria without being reported itself (no pattern matches
 * it), which CHILDINFO then tells. */
static bool has_hidden_selected_child(const struct list_request *rq,
				      const struct list_entry *v, size_t n,
				      const struct list_entry *parent)
{
	size_t len = strlen(parent->name);

	for (size_t i = 0; i < n; i++)
		if (strncmp(v[i].name, parent->name, len) == 0 &&
		    v[i].name[len] == '/' && !v[i].matched &&
		    selected(rq, &v[i]))
			return true;
	return false;
}

static const char *childinfo_text(const struct list_request *rq)
{
	if (rq->sel_subscribed && rq->sel_special)
		return "\"SUBSCRIBED\" \"SPECIAL-USE\"";
	return rq->sel_subscribed ? "\"SUBSCRIBED\"" : "\"SPECIAL-USE\"";
}

static void report(struct imap_session *s, const struct list_request *rq,
		   const struct list_entry *v, size_t n,
		   const struct list_entry *e)
{
	const char *childinfo = NULL;
	unsigned attrs = e->attrs;
	char err[256];

	if (rq->sel_recursive && has_hidden_selected_child(rq, v, n, e))
		childinfo = childinfo_text(rq);
	if (!selected(rq, e) && childinfo == NULL)
		return;
	/* \Subscribed only when asked (RFC 5258 3.4) */
	if (!rq->sel_subscribed && !rq->ret_subscribed)
		attrs &= ~MAILDIR_FOLDER_SUBSCRIBED;
	attrs = imap_rev2_list_attrs(s, attrs);
	imap_write_list(s, "LIST", attrs, e->name, childinfo);
	/* RFC 5819 1: STATUS right after the LIST of a selectable mailbox;
	 * a mailbox that fails it is left without one */
	if (rq->status.n > 0 &&
	    !(attrs & (MAILDIR_FOLDER_NOSELECT | IMAP_LIST_NONEXISTENT)))
		imap_send_status(s, e->name, &rq->status, err, sizeof(err));
}

static void list_free(struct list_request *rq, struct list_entry *v,
		      size_t n)
{
	for (size_t i = 0; i < rq->npatterns; i++)
		free(rq->patterns[i]);
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

/* LIST [(selection)] <reference> <pattern(s)> [RETURN (options)] */
void cmd_list(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	struct list_request rq;
	struct maildir_folder *folders;
	struct list_entry *v = NULL;
	size_t n = 0, nfolders;
	char err[256];

	memset(&rq, 0, sizeof(rq));
	if (parse_list(cmd, &rq) < 0)
		goto out;
	if (rq.npatterns == 1 && rq.patterns[0][0] == '\0') {
		/* the hierarchy delimiter and root (RFC 3501 6.3.8) */
		imap_untagged(s, "LIST (\\Noselect) \"/\" \"\"");
		imap_cmd_ok(cmd, "LIST completed");
		goto out;
	}
	if (maildir_folder_list(s->store, &folders, &nfolders, err,
				sizeof(err)) < 0) {
		imap_cmd_store_error(cmd, "LIST failed", err);
		goto out;
	}
	for (size_t i = 0; i < nfolders; i++)
		add_entry(&v, &n, folders[i].name, strlen(folders[i].name),
			  folders[i].attrs);
	maildir_folder_list_free(folders, nfolders);
	if (rq.sel_subscribed &&
	    add_subscriptions(s, &v, &n, err, sizeof(err)) < 0) {
		imap_cmd_store_error(cmd, "LIST failed", err);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		v[i].matched = any_pattern_matches(s, &rq, v[i].name);
	for (size_t i = 0; i < n; i++)
		if (v[i].matched)
			report(s, &rq, v, n, &v[i]);
	imap_cmd_ok(cmd, "LIST completed");
out:
	list_free(&rq, v, n);
}
