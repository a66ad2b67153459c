/* SORT [RETURN (options)] (sort-criteria) charset search-criteria
 *                                      (RFC 5256 3, RFC 5957, RFC 5267 3)
 * THREAD algorithm charset search-criteria       (RFC 5256 3)
 * and their UID forms.  The keys of the matching messages come from the
 * folder's key cache (sort-cache.h); ordering in sort.c, thread.c. */
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "imapd/esearch.h"
#include "imapd/imap-int.h"
#include "imapd/search.h"
#include "imapd/sort-cache.h"
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

/* The snapshot indexes of the messages matching, ascending (*n_r). */
static size_t *match_indexes(struct imap_cmd *cmd, struct imap_search *search,
			     size_t *n_r)
{
	struct maildir_box *box = cmd->s->box;
	size_t count = maildir_box_count(box), n = 0;
	size_t *idx = xreallocarray(NULL, count + 1, sizeof(*idx));

	imap_search_use_saved(search, &cmd->s->search_saved);
	imap_search_prepare(search);
	for (size_t i = 0; i < count; i++)
		if (imap_search_match(search, box, i)) {
			/* SIZE and ARRIVAL (and THREAD's date fallback) need
			 * the exact RFC822.SIZE and INTERNALDATE, which a
			 * folder indexed from file names may not have yet */
			maildir_box_msg_exact(box, i, MAILDIR_MSG_WIRE_UNKNOWN |
					      MAILDIR_MSG_IDATE_UNKNOWN);
			idx[n++] = i;
		}
	*n_r = n;
	return idx;
}

/* The matching messages of a command. */
struct matches {
	struct imap_msg_keys *keys;
	struct imap_msg_keys **v;	/* -> keys, in the order to send */
	size_t n;
	struct imap_keycache *cache;	/* owns the strings of keys */
};

/* The matching messages with their keys (sort-cache.h), in sequence
 * order.  Free with free_matches. */
static void matching(struct imap_cmd *cmd, struct imap_search *search,
		     struct matches *m)
{
	size_t n;
	size_t *idx = match_indexes(cmd, search, &n);

	m->keys = xreallocarray(NULL, n + 1, sizeof(*m->keys));
	m->v = xreallocarray(NULL, n + 1, sizeof(*m->v));
	m->n = n;
	m->cache = imap_keycache_get(cmd->s->box,
				     maildir_store_path(cmd->s->store),
				     idx, n, 0, m->keys);
	for (size_t i = 0; i < n; i++)
		m->v[i] = &m->keys[i];
	free(idx);
}

static void free_matches(struct matches *m)
{
	imap_keycache_release(&m->cache);
	free(m->keys);
	free(m->v);
}

/* " n" (a SORT answer may hold millions: no printf per number). */
static void put_number(struct buf *out, uint32_t n)
{
	char d[11];
	size_t i = sizeof(d);

	do {
		d[--i] = (char)('0' + n % 10);
		n /= 10;
	} while (n != 0);
	d[--i] = ' ';
	buf_append(out, d + i, sizeof(d) - i);
}

/* The sorted result: "* SORT n...", or with RETURN (ESORT, RFC 5267 3.1)
 * an ESEARCH response in sort order.  With a MODSEQ search key, the
 * highest modseq of the messages returned follows (RFC 7162 3.1.5:
 * search-sort-mod-seq in sort-data, MODSEQ in ESEARCH).  The messages
 * are idx[order[0..n)]. */
static void sort_results(struct imap_cmd *cmd, unsigned ret,
			 const size_t *idx, const uint32_t *order, size_t n,
			 bool modseq)
{
	struct maildir_box *box = cmd->s->box;
	uint32_t *numbers, *uids;
	uint64_t *modseqs = NULL, max = 0;

	numbers = xreallocarray(NULL, n + 1, sizeof(*numbers));
	uids = xreallocarray(NULL, n + 1, sizeof(*uids));
	if (modseq)
		modseqs = xreallocarray(NULL, n + 1, sizeof(*modseqs));
	for (size_t i = 0; i < n; i++) {
		const struct maildir_msg *m = maildir_box_msg(box,
							      idx[order[i]]);

		uids[i] = m->uid;
		numbers[i] = cmd->uid ? m->uid : (uint32_t)(idx[order[i]] + 1);
		if (modseqs != NULL) {
			modseqs[i] = m->modseq;
			if (m->modseq > max)
				max = m->modseq;
		}
	}
	if (ret & IMAP_RET_GIVEN) {
		imap_return_results(cmd, ret, numbers, uids, modseqs, n);
	} else {
		buf_puts(cmd->s->out, "* SORT");
		for (size_t i = 0; i < n; i++)
			put_number(cmd->s->out, numbers[i]);
		if (max > 0)
			buf_printf(cmd->s->out, " (MODSEQ %llu)",
				   (unsigned long long)max);
		buf_puts(cmd->s->out, "\r\n");
	}
	free(numbers);
	free(uids);
	free(modseqs);
}

void cmd_sort(struct imap_cmd *cmd)
{
	struct imap_sort_crit crit[IMAP_SORT_MAX_CRIT];
	struct imap_search *search = NULL;
	size_t ncrit = 0, n, *idx;
	uint32_t *rank, *order;
	unsigned ret = 0;
	bool modseq;

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
	modseq = imap_search_has_modseq(search);
	if (modseq)
		imap_condstore_enable(cmd->s);	/* as SEARCH (RFC 7162 3.1) */
	idx = match_indexes(cmd, search, &n);
	rank = xreallocarray(NULL, n * ncrit + 1, sizeof(*rank));
	order = xreallocarray(NULL, n + 1, sizeof(*order));
	imap_keycache_ranks(cmd->s->box, maildir_store_path(cmd->s->store),
			    idx, n, crit, ncrit, rank);
	imap_sort_ranks(rank, n, crit, ncrit, order);
	sort_results(cmd, ret, idx, order, n, modseq);
	free(order);
	free(rank);
	free(idx);
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
	struct matches m;
	enum imap_thread_alg alg;

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
	matching(cmd, search, &m);
	/* thread-data = "THREAD" [SP 1*thread-list] (RFC 5256 5) */
	buf_puts(cmd->s->out, "* THREAD");
	if (m.n > 0)
		buf_putc(cmd->s->out, ' ');
	imap_thread(m.v, m.n, alg, cmd->uid, cmd->s->out);
	buf_puts(cmd->s->out, "\r\n");
	free_matches(&m);
	imap_cmd_ok(cmd, "THREAD completed");
out:
	imap_search_free(&search);
}
