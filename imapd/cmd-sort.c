/* SORT [RETURN (options)] (sort-criteria) charset search-criteria
 *                                      (RFC 5256 3, RFC 5957, RFC 5267 3)
 * THREAD algorithm charset search-criteria       (RFC 5256 3)
 * and their UID forms.  The keys of each matching message are computed
 * once, from its header block, before ordering (sort.c, thread.c). */
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "imapd/esearch.h"
#include "imapd/imap-int.h"
#include "imapd/search.h"
#include "imapd/sort.h"
#include "imapd/thread.h"
#include "maildir/mailbox.h"
#include "maildir/message.h"

static const struct {
	const char *name;
	enum imap_sort_key key;
} sort_keys[] = {
	{ "ARRIVAL", IMAP_SORT_ARRIVAL }, { "CC", IMAP_SORT_CC },
	{ "DATE", IMAP_SORT_DATE }, { "FROM", IMAP_SORT_FROM },
	{ "SIZE", IMAP_SORT_SIZE }, { "SUBJECT", IMAP_SORT_SUBJECT },
	{ "TO", IMAP_SORT_TO },
	{ "DISPLAYFROM", IMAP_SORT_DISPLAYFROM },	/* RFC 5957 */
	{ "DISPLAYTO", IMAP_SORT_DISPLAYTO },
};

/* sort-criteria = "(" sort-criterion *(SP sort-criterion) ")",
 * sort-criterion = ["REVERSE" SP] sort-key */
static int parse_sort_criteria(struct imap_parser *p,
			       struct imap_sort_crit *crit, size_t *n_r)
{
	size_t n = 0, i;

	if (imap_parse_char(p, '(') < 0)
		return -1;
	for (;;) {
		if (n == IMAP_SORT_MAX_CRIT)
			return imap_parse_fail(p, "Too many sort criteria");
		crit[n].reverse = imap_parse_keyword(p, "REVERSE");
		if (crit[n].reverse && imap_parse_sp(p) < 0)
			return -1;
		for (i = 0; i < sizeof(sort_keys) / sizeof(*sort_keys); i++)
			if (imap_parse_keyword(p, sort_keys[i].name))
				break;
		if (i == sizeof(sort_keys) / sizeof(*sort_keys))
			return imap_parse_fail(p, "Unknown sort key");
		crit[n++].key = sort_keys[i].key;
		if (imap_parse_skip(p, ')'))
			break;
		if (imap_parse_sp(p) < 0)
			return -1;
	}
	*n_r = n;
	return 0;
}

/* SP charset SP search-criteria: 0, or -1 with the reply sent. */
static int parse_charset_search(struct imap_cmd *cmd,
				struct imap_search **search_r)
{
	struct buf charset = BUF_INIT(BUF_UNLIMITED);
	char *inner = NULL;
	int ret = -1;

	*search_r = NULL;
	if (imap_parse_sp(&cmd->p) < 0 ||
	    imap_parse_astring(&cmd->p, &charset) < 0 ||
	    imap_parse_sp(&cmd->p) < 0 ||
	    imap_parse_search(&cmd->p, &inner, search_r) < 0) {
		imap_cmd_parse_error(cmd);
	} else if (inner != NULL) {
		imap_cmd_bad(cmd, "CHARSET is given before the criteria");
	} else if (!imap_charset_ok(buf_cstr(&charset))) {
		imap_cmd_no(cmd, "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
	} else {
		ret = 0;
	}
	free(inner);
	buf_free(&charset);
	return ret;
}

#define HEAD_READ 16384	/* most header blocks fit: one read(2) */

/* The keys of message idx from its header block, read with one pread
 * when it fits in `head` (HEAD_READ bytes), else from the mapped file; a
 * message whose file is gone sorts as one with an empty header. */
static void load_keys(struct maildir_box *box, size_t idx, unsigned want,
		      char *head, struct imap_msg_keys *k)
{
	/* SIZE and ARRIVAL need the exact RFC822.SIZE and INTERNALDATE */
	const struct maildir_msg *m = maildir_box_msg_exact(box, idx,
		MAILDIR_MSG_WIRE_UNKNOWN | MAILDIR_MSG_IDATE_UNKNOWN);
	struct msg_map map = { "", 0 };
	const char *data = "";
	size_t len = 0;
	ssize_t got;
	char err[256];
	struct stat st;
	int fd;

	k->seq = (uint32_t)(idx + 1);
	k->uid = m->uid;
	k->size = m->size;
	k->arrival = m->idate;
	if (want == 0)
		return;
	fd = maildir_box_open_msg(box, m->uid, err, sizeof(err));
	if (fd >= 0) {
		got = pread(fd, head, HEAD_READ, 0);
		if (got > 0) {
			data = head;
			len = hdr_block_end(head, 0, (size_t)got);
		}
		/* the header may go on past what was read */
		if (got == HEAD_READ && len == HEAD_READ &&
		    fstat(fd, &st) == 0 && st.st_size > HEAD_READ &&
		    msg_map_fd(fd, (size_t)st.st_size, &map, err,
			       sizeof(err)) == 0) {
			data = map.data;
			len = hdr_block_end(map.data, 0, map.size);
		}
		close(fd);
	}
	imap_msg_keys_parse(k, data, len, want);
	msg_unmap(&map);
}

/* The matching messages with their keys; *n_r how many.  Free with
 * free_keys. */
static struct imap_msg_keys **matching(struct imap_cmd *cmd,
				       struct imap_search *search,
				       unsigned want, size_t *n_r)
{
	struct maildir_box *box = cmd->s->box;
	size_t count = maildir_box_count(box), n = 0;
	struct imap_msg_keys **v = xreallocarray(NULL, count + 1, sizeof(*v));
	char *head = want != 0 ? xmalloc(HEAD_READ) : NULL;

	imap_search_use_saved(search, &cmd->s->search_saved);
	imap_search_prepare(search);
	for (size_t i = 0; i < count; i++) {
		if (!imap_search_match(search, box, i))
			continue;
		v[n] = xcalloc(1, sizeof(**v));
		load_keys(box, i, want, head, v[n++]);
	}
	free(head);
	*n_r = n;
	return v;
}

static void free_keys(struct imap_msg_keys **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		imap_msg_keys_free(v[i]);
		free(v[i]);
	}
	free(v);
}

/* The sorted result: "* SORT n...", or with RETURN (ESORT, RFC 5267 3.1)
 * an ESEARCH response in sort order. */
static void sort_results(struct imap_cmd *cmd, unsigned ret,
			 struct imap_msg_keys **v, size_t n)
{
	uint32_t *numbers, *uids;

	if (!(ret & IMAP_RET_GIVEN)) {
		buf_puts(cmd->s->out, "* SORT");
		for (size_t i = 0; i < n; i++)
			buf_printf(cmd->s->out, " %u",
				   cmd->uid ? v[i]->uid : v[i]->seq);
		buf_puts(cmd->s->out, "\r\n");
		return;
	}
	numbers = xreallocarray(NULL, n + 1, sizeof(*numbers));
	uids = xreallocarray(NULL, n + 1, sizeof(*uids));
	for (size_t i = 0; i < n; i++) {
		uids[i] = v[i]->uid;
		numbers[i] = cmd->uid ? v[i]->uid : v[i]->seq;
	}
	imap_return_results(cmd, ret, numbers, uids, NULL, n);
	free(numbers);
	free(uids);
}

void cmd_sort(struct imap_cmd *cmd)
{
	struct imap_sort_crit crit[IMAP_SORT_MAX_CRIT];
	struct imap_search *search = NULL;
	struct imap_msg_keys **v;
	size_t ncrit = 0, n;
	unsigned ret = 0;

	if (imap_parse_sp(&cmd->p) < 0 ||
	    imap_parse_return(&cmd->p, &ret, cmd->partial) < 0 ||
	    parse_sort_criteria(&cmd->p, crit, &ncrit) < 0) {
		imap_cmd_parse_error(cmd);
		goto out;
	}
	if (ret & (IMAP_RET_UPDATE | IMAP_RET_PARTIAL)) {
		/* CONTEXT=SORT (RFC 5267 4) is not offered */
		imap_cmd_bad(cmd, "Unknown RETURN option");
		goto out;
	}
	if (parse_charset_search(cmd, &search) < 0)
		goto out;
	if (cmd->uid) {
		/* a UID command may see expunges first (RFC 3501 7.4.1) */
		imap_send_updates(cmd->s, false);
		cmd->updates_done = true;
	}
	v = matching(cmd, search, imap_sort_keys_needed(crit, ncrit), &n);
	imap_sort(v, n, crit, ncrit);
	sort_results(cmd, ret, v, n);
	free_keys(v, n);
	imap_cmd_ok(cmd, "SORT completed");
	ret &= ~IMAP_RET_SAVE;
out:
	/* RFC 5182 2.1: a command with SAVE that fails empties "$" */
	if (ret & IMAP_RET_SAVE)
		imap_seqset_free(&cmd->s->search_saved);
	imap_search_free(&search);
}

void cmd_thread(struct imap_cmd *cmd)
{
	struct imap_search *search = NULL;
	struct imap_msg_keys **v;
	enum imap_thread_alg alg;
	size_t n;

	if (imap_parse_sp(&cmd->p) < 0) {
		imap_cmd_parse_error(cmd);
		return;
	}
	if (imap_parse_keyword(&cmd->p, "REFERENCES")) {
		alg = IMAP_THREAD_REFERENCES;
	} else if (imap_parse_keyword(&cmd->p, "ORDEREDSUBJECT")) {
		alg = IMAP_THREAD_ORDEREDSUBJECT;
	} else {
		imap_cmd_bad(cmd, "Unknown thread algorithm");
		return;
	}
	if (parse_charset_search(cmd, &search) < 0)
		goto out;
	if (cmd->uid) {
		imap_send_updates(cmd->s, false);
		cmd->updates_done = true;
	}
	v = matching(cmd, search, imap_thread_keys_needed(alg), &n);
	/* thread-data = "THREAD" [SP 1*thread-list] (RFC 5256 5) */
	buf_puts(cmd->s->out, "* THREAD");
	if (n > 0)
		buf_putc(cmd->s->out, ' ');
	imap_thread(v, n, alg, cmd->uid, cmd->s->out);
	buf_puts(cmd->s->out, "\r\n");
	free_keys(v, n);
	imap_cmd_ok(cmd, "THREAD completed");
out:
	imap_search_free(&search);
}
