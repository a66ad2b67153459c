/* Search and sort contexts and their updates (CONTEXT=SEARCH and
 * CONTEXT=SORT, RFC 5267 4). */
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "imapd/esearch.h"
#include "imapd/search-context.h"
#include "imapd/search.h"

struct imap_search_context {
	char *tag;
	bool uid;			/* UID SEARCH/SORT: UIDs in updates */
	struct imap_search *search;
	/* SORT RETURN (UPDATE), CONTEXT=SORT: the sort program; 0 for a
	 * SEARCH context */
	struct imap_sort_crit crit[IMAP_SORT_MAX_CRIT];
	size_t ncrit;
	/* the result the client holds: ascending UIDs, or in sort order */
	uint32_t *uids;
	size_t n;
	/* a SORT context's uids[0..n) ascending: whether the members
	 * changed at all, before sorting again */
	uint32_t *members;
	/* ADDTO pairs computed with the REMOVEFROM, sent after EXISTS */
	struct buf addto;
};

static struct imap_search_context *find(struct imap_session *s,
					const char *tag, size_t *idx_r)
{
	for (size_t i = 0; i < s->ncontexts; i++)
		if (strcmp(s->contexts[i]->tag, tag) == 0) {
			*idx_r = i;
			return s->contexts[i];
		}
	return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* v[0..n) ascending, in a new array. */
static uint32_t *sorted_copy(const uint32_t *v, size_t n)
{
	uint32_t *sorted = xreallocarray(NULL, n + 1, sizeof(*sorted));

	if (n > 0)
		memcpy(sorted, v, n * sizeof(*v));
	qsort(sorted, n, sizeof(*sorted), cmp_u32);
	return sorted;
}

int imap_context_add(struct imap_cmd *cmd, struct imap_search **search,
		     const struct imap_sort_crit *crit, size_t ncrit,
		     const uint32_t *uids, size_t n)
{
	struct imap_session *s = cmd->s;
	struct imap_search_context *c;
	size_t idx;

	if (s->ncontexts >= IMAP_MAX_CONTEXTS ||
	    find(s, cmd->tag, &idx) != NULL)
		return -1;
	c = xcalloc(1, sizeof(*c));
	c->tag = xstrdup(cmd->tag);
	c->uid = cmd->uid;
	if (ncrit > IMAP_SORT_MAX_CRIT)
		ncrit = IMAP_SORT_MAX_CRIT;
	if (ncrit > 0)
		memcpy(c->crit, crit, ncrit * sizeof(*crit));
	c->ncrit = ncrit;
	buf_init(&c->addto, BUF_UNLIMITED);
	c->search = *search;
	*search = NULL;
	c->uids = xreallocarray(NULL, n + 1, sizeof(*c->uids));
	if (n > 0)
		memcpy(c->uids, uids, n * sizeof(*uids));
	c->n = n;
	if (ncrit > 0)
		c->members = sorted_copy(uids, n);
	s->contexts[s->ncontexts++] = c;
	return 0;
}

static void context_free(struct imap_search_context **cp)
{
	struct imap_search_context *c = *cp;

	free(c->tag);
	free(c->uids);
	free(c->members);
	buf_free(&c->addto);
	imap_search_free(&c->search);
	free(c);
	*cp = NULL;
}

void imap_context_noupdate(struct imap_cmd *cmd)
{
	/* a tag holds no '"' or '\' (RFC 3501 9, tag): quoted as it is */
	buf_printf(cmd->s->out, "* NO [NOUPDATE \"%s\"] Too many search "
		   "contexts, or the tag is in use (CANCELUPDATE one): "
		   "no updates for this one\r\n", cmd->tag);
}

int imap_context_cancel(struct imap_session *s, const char *tag)
{
	size_t idx;

	if (find(s, tag, &idx) == NULL)
		return -1;
	context_free(&s->contexts[idx]);
	s->contexts[idx] = s->contexts[--s->ncontexts];
	return 0;
}

void imap_context_free_all(struct imap_session *s)
{
	while (s->ncontexts > 0)
		context_free(&s->contexts[--s->ncontexts]);
}

/* The sequence number the client knows for `uid` before the EXPUNGE
 * lines of ch: from the expunge list (ascending UIDs, descending
 * sequence numbers), or its place in the snapshot (in UID order) moved
 * up by the expunged messages before it. */
static uint32_t client_seq(struct imap_session *s,
			   const struct maildir_changes *ch, uint32_t uid)
{
	size_t count = maildir_box_count(s->box), before = 0;

	for (size_t i = 0; ch != NULL && i < ch->n_expunged; i++) {
		if (ch->expunged_uids[i] == uid)
			return ch->expunged_seqs[ch->n_expunged - 1 - i];
		if (ch->expunged_uids[i] < uid)
			before++;
	}
	for (size_t i = 0; i < count; i++)
		if (maildir_box_msg(s->box, i)->uid == uid)
			return (uint32_t)(i + 1 + before);
	return 0;
}

/* The result now (the UIDs and sequence numbers of its messages). */
struct result {
	uint32_t *uids, *seqs;
	size_t n;
};

/* Ascending for a SEARCH context, in sort order for a SORT one. */
static void current_result(struct imap_session *s,
			   const struct imap_search_context *c,
			   struct result *r)
{
	size_t count = maildir_box_count(s->box), *idx = NULL;

	if (c->ncrit > 0)
		idx = imap_sort_matches(s, c->search, c->crit, c->ncrit,
					&count);
	r->uids = xreallocarray(NULL, count + 1, sizeof(*r->uids));
	r->seqs = xreallocarray(NULL, count + 1, sizeof(*r->seqs));
	r->n = 0;
	for (size_t k = 0; k < count; k++) {
		size_t i = idx != NULL ? idx[k] : k;

		if (idx == NULL && !imap_search_match(c->search, s->box, i))
			continue;
		r->seqs[r->n] = (uint32_t)(i + 1);
		r->uids[r->n++] = maildir_box_msg(s->box, i)->uid;
	}
	free(idx);
}

/* One "position sequence-set" pair (RFC 5267 6, ret-data-addto). */
static void add_pair(struct buf *pairs, size_t pos, const uint32_t *numbers,
		     size_t n)
{
	buf_printf(pairs, pairs->len > 0 ? " %zu " : "%zu ", pos);
	imap_write_number_set(pairs, numbers, n);
}

static void write_change(struct imap_session *s,
			 const struct imap_search_context *c, const char *what,
			 const struct buf *pairs)
{
	if (pairs->len == 0)
		return;
	buf_printf(s->out, "* ESEARCH (TAG \"%s\")%s %s (%s)\r\n", c->tag,
		   c->uid ? " UID" : "", what, buf_cstr(pairs));
}

/* RFC 5267 4.3: the position is that of the first message in the
 * result (1-based); a search result is in ascending order, so one pair
 * with every message of the change is enough. */
static void diff_ascending(struct imap_session *s,
			   struct imap_search_context *c,
			   const struct maildir_changes *ch,
			   const struct result *now, struct buf *rem)
{
	size_t i = 0, j = 0, nadd = 0, nrem = 0, add_pos = 0, rem_pos = 0;
	uint32_t *add = xreallocarray(NULL, now->n + 1, sizeof(*add));
	uint32_t *gone = xreallocarray(NULL, c->n + 1, sizeof(*gone));

	while (i < c->n || j < now->n) {
		if (j == now->n || (i < c->n && c->uids[i] < now->uids[j])) {
			if (nrem == 0)
				rem_pos = i + 1;
			gone[nrem++] = c->uid ? c->uids[i] :
				       client_seq(s, ch, c->uids[i]);
			i++;
		} else if (i == c->n || now->uids[j] < c->uids[i]) {
			if (nadd == 0)
				add_pos = j + 1;
			add[nadd++] = c->uid ? now->uids[j] : now->seqs[j];
			j++;
		} else {
			i++;
			j++;
		}
	}
	if (nrem > 0)
		add_pair(rem, rem_pos, gone, nrem);
	if (nadd > 0)
		add_pair(&c->addto, add_pos, add, nadd);
	free(add);
	free(gone);
}

/* missing[i]: v[i] is not among sorted[0..m) (ascending). */
static bool *missing_from(const uint32_t *v, size_t n, const uint32_t *sorted,
			  size_t m)
{
	bool *missing = xcalloc(n + 1, sizeof(*missing));

	for (size_t i = 0; i < n; i++)
		missing[i] = bsearch(&v[i], sorted, m, sizeof(*sorted),
				     cmp_u32) == NULL;
	return missing;
}

/* Whether the messages matching now are those of c->members: then a
 * SORT context's order is the same too (the keys of a UID never
 * change), and sorting again is not needed. */
static bool same_members(struct imap_session *s,
			 const struct imap_search_context *c)
{
	size_t count = maildir_box_count(s->box), n = 0;

	for (size_t i = 0; i < count; i++) {
		if (!imap_search_match(c->search, s->box, i))
			continue;
		/* the snapshot is in UID order */
		if (n == c->n ||
		    c->members[n] != maildir_box_msg(s->box, i)->uid)
			return false;
		n++;
	}
	return n == c->n;
}

/* Whether the messages a[] and b[] share (those not marked out) are in
 * the same order in both. */
static bool same_order(const uint32_t *a, const bool *a_out, size_t na,
		       const uint32_t *b, const bool *b_out, size_t nb)
{
	size_t i = 0, j = 0;

	for (;;) {
		while (i < na && a_out[i])
			i++;
		while (j < nb && b_out[j])
			j++;
		if (i == na || j == nb)
			return i == na && j == nb;
		if (a[i++] != b[j++])
			return false;
	}
}

/* A pair for each run of marked[0..n), at its position in the result as
 * the pairs before it left it: the client applies them left to right
 * (RFC 5267 4.3), and each removal moves the later messages up. */
static void add_runs(struct buf *pairs, const bool *marked,
		     const uint32_t *numbers, size_t n, bool removing)
{
	size_t done = 0;

	for (size_t i = 0; i < n; ) {
		size_t j = i;

		if (!marked[i]) {
			i++;
			continue;
		}
		while (j < n && marked[j])
			j++;
		add_pair(pairs, i + 1 - (removing ? done : 0), numbers + i,
			 j - i);
		done += j - i;
		i = j;
	}
}

/* RFC 5267 4.3, 4.4: in a sorted context a position says where in the
 * sort order; REMOVEFROM takes the messages that left out of the old
 * order, then ADDTO puts the new ones in their places.  The keys of a
 * UID never change, so the messages kept keep their order; should they
 * not (a file lost between two sorts), the whole result is replaced. */
static void diff_sorted(struct imap_session *s, struct imap_search_context *c,
			const struct maildir_changes *ch,
			const struct result *now, struct buf *rem)
{
	uint32_t *members = sorted_copy(now->uids, now->n);
	bool *gone = missing_from(c->uids, c->n, members, now->n);
	bool *fresh = missing_from(now->uids, now->n, c->members, c->n);
	uint32_t *numbers = xreallocarray(NULL, c->n + 1, sizeof(*numbers));

	if (!same_order(c->uids, gone, c->n, now->uids, fresh, now->n)) {
		memset(gone, 1, c->n * sizeof(*gone));
		memset(fresh, 1, now->n * sizeof(*fresh));
	}
	for (size_t i = 0; i < c->n; i++)
		numbers[i] = c->uid || !gone[i] ? c->uids[i] :
			     client_seq(s, ch, c->uids[i]);
	add_runs(rem, gone, numbers, c->n, true);
	add_runs(&c->addto, fresh, c->uid ? now->uids : now->seqs, now->n,
		 false);
	free(numbers);
	free(fresh);
	free(gone);
	free(c->members);
	c->members = members;
}

static void context_update(struct imap_session *s,
			   struct imap_search_context *c,
			   const struct maildir_changes *ch)
{
	struct buf rem = BUF_INIT(BUF_UNLIMITED);
	struct result now;

	buf_clear(&c->addto);
	if (c->ncrit > 0 && same_members(s, c))
		return;
	current_result(s, c, &now);
	if (c->ncrit > 0)
		diff_sorted(s, c, ch, &now, &rem);
	else
		diff_ascending(s, c, ch, &now, &rem);
	write_change(s, c, "REMOVEFROM", &rem);
	buf_free(&rem);
	free(c->uids);
	c->uids = now.uids;
	c->n = now.n;
	free(now.seqs);
}

void imap_context_removed(struct imap_session *s,
			  const struct maildir_changes *ch)
{
	if (s->box == NULL)
		return;
	for (size_t i = 0; i < s->ncontexts; i++)
		context_update(s, s->contexts[i], ch);
}

void imap_context_added(struct imap_session *s)
{
	for (size_t i = 0; i < s->ncontexts; i++) {
		struct imap_search_context *c = s->contexts[i];

		write_change(s, c, "ADDTO", &c->addto);
		buf_clear(&c->addto);
	}
}
