#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "imapd/seqset.h"

void imap_seqset_init(struct imap_seqset *set)
{
	memset(set, 0, sizeof(*set));
}

void imap_seqset_free(struct imap_seqset *set)
{
	free(set->r);
	imap_seqset_init(set);
}

void imap_seqset_clear(struct imap_seqset *set)
{
	set->n = 0;
	set->saved = false;
}

void imap_seqset_add(struct imap_seqset *set, uint32_t lo, uint32_t hi)
{
	if (set->n == set->cap) {
		set->cap = set->cap ? set->cap * 2 : 8;
		set->r = xreallocarray(set->r, set->cap, sizeof(*set->r));
	}
	set->r[set->n].lo = lo;
	set->r[set->n].hi = hi;
	set->n++;
}

bool imap_seqset_has_star(const struct imap_seqset *set)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->r[i].lo == IMAP_SEQ_STAR || set->r[i].hi == IMAP_SEQ_STAR)
			return true;
	return false;
}

static int range_cmp(const void *a, const void *b)
{
	const struct imap_seq_range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->hi < y->hi ? -1 : x->hi > y->hi;
}

/* Sorts out's ranges and merges overlapping or adjacent ones. */
static void normalise(struct imap_seqset *out)
{
	size_t w = 0;

	if (out->n == 0)
		return;
	qsort(out->r, out->n, sizeof(*out->r), range_cmp);
	for (size_t i = 1; i < out->n; i++) {
		struct imap_seq_range *last = &out->r[w];

		if ((uint64_t)out->r[i].lo <= (uint64_t)last->hi + 1) {
			if (out->r[i].hi > last->hi)
				last->hi = out->r[i].hi;
		} else {
			out->r[++w] = out->r[i];
		}
	}
	out->n = w + 1;
}

int imap_seqset_eval_seq(const struct imap_seqset *set, uint32_t count,
			 struct imap_seqset *out)
{
	imap_seqset_clear(out);
	for (size_t i = 0; i < set->n; i++) {
		uint32_t lo = set->r[i].lo, hi = set->r[i].hi, t;

		if (lo == IMAP_SEQ_STAR)
			lo = count;
		if (hi == IMAP_SEQ_STAR)
			hi = count;
		if (lo > hi) {
			t = lo;
			lo = hi;
			hi = t;
		}
		if (lo == 0 || hi > count)
			return -1;
		imap_seqset_add(out, lo, hi);
	}
	normalise(out);
	return 0;
}

static uint32_t uid_from_array(const void *arg, size_t i)
{
	return ((const uint32_t *)arg)[i];
}

void imap_seqset_eval_uid(const struct imap_seqset *set, const uint32_t *uids,
			  size_t count, struct imap_seqset *out)
{
	imap_seqset_eval_uid_fn(set, uid_from_array, uids, count, out);
}

/* The first index whose UID is >= uid (count when none). */
static size_t lower_bound(uint32_t (*uid_at)(const void *, size_t),
			  const void *arg, size_t count, uint32_t uid)
{
	size_t lo = 0, hi = count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (uid_at(arg, mid) < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void imap_seqset_eval_uid_fn(const struct imap_seqset *set,
			     uint32_t (*uid_at)(const void *arg, size_t i),
			     const void *arg, size_t count,
			     struct imap_seqset *out)
{
	uint32_t max_uid;

	imap_seqset_clear(out);
	if (count == 0)
		return;
	max_uid = uid_at(arg, count - 1);
	for (size_t i = 0; i < set->n; i++) {
		uint32_t lo = set->r[i].lo, hi = set->r[i].hi, t;
		size_t first, end;

		if (lo == IMAP_SEQ_STAR)
			lo = max_uid;
		if (hi == IMAP_SEQ_STAR)
			hi = max_uid;
		if (lo > hi) {
			t = lo;
			lo = hi;
			hi = t;
		}
		first = lower_bound(uid_at, arg, count, lo);
		end = hi == UINT32_MAX ? count :
			lower_bound(uid_at, arg, count, hi + 1);
		if (first < end)
			imap_seqset_add(out, (uint32_t)first + 1, (uint32_t)end);
	}
	normalise(out);
}

bool imap_seqset_contains(const struct imap_seqset *evaluated, uint32_t seq)
{
	size_t lo = 0, hi = evaluated->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct imap_seq_range *r = &evaluated->r[mid];

		if (seq < r->lo)
			hi = mid;
		else if (seq > r->hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

uint64_t imap_seqset_count(const struct imap_seqset *evaluated)
{
	uint64_t n = 0;

	for (size_t i = 0; i < evaluated->n; i++)
		n += (uint64_t)evaluated->r[i].hi - evaluated->r[i].lo + 1;
	return n;
}
