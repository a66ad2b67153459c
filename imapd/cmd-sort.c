/* SORT [RETURN (options)] (sort-criteria) charset search-criteria
 *                                      (RFC 5256 3, RFC 5957, RFC 5267 3)
 * THREAD algorithm charset search-criteria       (RFC 5256 3)
 * and their UID forms; SORT RETURN (UPDATE) keeps a context
 * (search-context.c, RFC 5267 4).  The keys of the matching messages come
 * from the folder's key cache (sort-cache.h); ordering in sort.c, thread.c. */
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "imapd/esearch.h"
#include "imapd/imap-int.h"
#include "imapd/search.h"
#include "imapd/search-context.h"
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

/* The snapshot indexes of the messages matching the prepared search,
 * ascending (*n_r). */
static size_t *match_loop(struct maildir_box *box,
			  const struct imap_search *search, size_t *n_r)
{
	size_t count = maildir_box_count(box), n = 0;
	size_t *idx = xreallocarray(NULL, count + 1, sizeof(*idx));

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

static size_t *match_indexes(struct imap_cmd *cmd, struct imap_search *search,
			     size_t *n_r)
{
	imap_search_use_saved(search, &cmd->s->search_saved);
	imap_search_prepare(search);
	return match_loop(cmd->s->box, search, n_r);
}

size_t *imap_sort_matches(struct imap_session *s,
			  const struct imap_search *search,
			  const struct imap_sort_crit *crit, size_t ncrit,
			  size_t *n_r)
{
	size_t n, *idx = match_loop(s->box, search, &n);
	size_t *sorted = xreallocarray(NULL, n + 1, sizeof(*sorted));
	uint32_t *rank = xreallocarray(NULL, n * ncrit + 1, sizeof(*rank));
	uint32_t *order = xreallocarray(NULL, n + 1, sizeof(*order));

	imap_keycache_ranks(s->box, maildir_store_path(s->store), idx, n,
			    crit, ncrit, rank);
	imap_sort_ranks(rank, n, crit, ncrit, order);
	for (size_t i = 0; i < n; i++)
		sorted[i] = idx[order[i]];
	free(order);
	free(rank);
	free(idx);
	*n_r = n;
	return sorted;
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

/* The numbers a SORT answers with, and their UIDs and modseqs. */
struct sort_answer {
	uint32_t *numbers, *uids;
	uint64_t *modseqs;	/* NULL without a MODSEQ search key */
	uint64_t max_modseq;
	size_t n;
};

/* The answer for the messages sorted[0..n) (snapshot indexes). */
static void sort_answer(struct imap_cmd *cmd, const size_t *sorted, size_t n,
			bool modseq, struct sort_answer *a)
{
	struct maildir_box *box = cmd->s->box;

	a->numbers = xreallocarray(NULL, n + 1, sizeof(*a->numbers));
	a->uids = xreallocarray(NULL, n + 1, sizeof(*a->uids));
	a->modseqs = modseq ? xreallocarray(NULL, n + 1,
					    sizeof(*a->modseqs)) : NULL;
	a->max_modseq = 0;
	a->n = n;
	for (size_t i = 0; i < n; i++) {
		const struct maildir_msg *m = maildir_box_msg(box, sorted[i]);

		a->uids[i] = m->uid;
		a->numbers[i] = cmd->uid ? m->uid : (uint32_t)(sorted[i] + 1);
		if (a->modseqs != NULL) {
			a->modseqs[i] = m->modseq;
			if (m->modseq > a->max_modseq)
				a->max_modseq = m->modseq;
		}
	}
}

/* "* SORT n..." (RFC 5256 4); with a MODSEQ search key the highest
 * modseq of the messages follows (RFC 7162 3.1.5, search-sort-mod-seq). */
static void write_sort(struct buf *out, const struct sort_answer *a)
{
	buf_puts(out, "* SORT");
	for (size_t i = 0; i < a->n; i++)
		put_number(out, a->numbers[i]);
	if (a->max_modseq > 0)
		buf_printf(out, " (MODSEQ %llu)",
			   (unsigned long long)a->max_modseq);
	buf_puts(out, "\r\n");
}

/* The sorted result of the messages sorted[0..n): "* SORT n...", or
 * with RETURN (ESORT, RFC 5267 3.1) an ESEARCH response in sort order;
 * with RETURN (UPDATE) (CONTEXT=SORT, RFC 5267 4.1) the context is kept
 * (takes *searchp), or NOUPDATE when none can be. */
static void sort_results(struct imap_cmd *cmd, unsigned ret,
			struct imap_search **searchp,
			const struct imap_sort_crit *crit, size_t ncrit,
			const size_t *sorted, size_t n)
{
	struct sort_answer a;

	sort_answer(cmd, sorted, n, imap_search_has_modseq(*searchp), &a);
	if ((ret & IMAP_RET_UPDATE) &&
	    imap_context_add(cmd, searchp, crit, ncrit, a.uids, n) < 0)
		imap_context_noupdate(cmd);
	if (ret & IMAP_RET_GIVEN) {
		imap_return_results(cmd, ret, a.numbers, a.uids, a.modseqs, n);
	} else {
		write_sort(cmd->s->out, &a);
	}
	free(a.numbers);
	free(a.uids);
	free(a.modseqs);
}

/* The arguments: 0, or -1 with the reply sent. */
static int parse_sort(struct imap_cmd *cmd, unsigned *ret,
		      struct imap_sort_crit *crit, size_t *ncrit,
		      struct imap_search **search)
{
	if (imap_parse_sp(&cmd->p) < 0 ||
	    imap_parse_return(&cmd->p, ret, cmd->partial) < 0 ||
	    parse_sort_criteria(&cmd->p, crit, ncrit) < 0) {
		imap_cmd_parse_error(cmd);
		return -1;
	}
	if ((*ret & IMAP_RET_UPDATE) && (*ret & IMAP_RET_SAVE)) {
		/* RFC 5267 4.1: UPDATE gives no saved result */
		imap_cmd_bad(cmd, "RETURN (UPDATE) with SAVE");
		return -1;
	}
	return parse_charset_search(cmd, search);
}

void cmd_sort(struct imap_cmd *cmd)
{
	struct imap_sort_crit crit[IMAP_SORT_MAX_CRIT];
	struct imap_search *search = NULL;
	size_t ncrit = 0, n, *sorted;
	unsigned ret = 0;

	if (parse_sort(cmd, &ret, crit, &ncrit, &search) < 0)
		goto out;
	if (cmd->uid) {
		/* a UID command may see expunges first (RFC 3501 7.4.1) */
		imap_send_updates(cmd->s, false);
		cmd->updates_done = true;
	}
	if (imap_search_has_modseq(search))
		imap_condstore_enable(cmd->s);	/* as SEARCH (RFC 7162 3.1) */
	imap_search_use_saved(search, &cmd->s->search_saved);
	imap_search_prepare(search);
	sorted = imap_sort_matches(cmd->s, search, crit, ncrit, &n);
	sort_results(cmd, ret, &search, crit, ncrit, sorted, n);
	imap_cmd_ok(cmd, "SORT completed");
	ret &= ~IMAP_RET_SAVE;
	free(sorted);
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
