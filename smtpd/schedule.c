/* The runner's schedule (smtpd/schedule.h): a binary min-heap on
 * (when, seq), each item knowing its place so that it can be moved or
 * removed in O(log n). */
#include <stdlib.h>

#include "common/xalloc.h"
#include "smtpd/schedule.h"

static bool before(const struct sched_item *a, const struct sched_item *b)
{
	return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void place(struct schedule *s, size_t i, struct sched_item *it)
{
	s->heap[i] = it;
	it->pos = i + 1;
}

/* it, put at index i, goes up while it is due before its parent. */
static void sift_up(struct schedule *s, size_t i, struct sched_item *it)
{
	while (i > 0 && before(it, s->heap[(i - 1) / 2])) {
		place(s, i, s->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	place(s, i, it);
}

/* it, put at index i, goes down while a child is due before it. */
static void sift_down(struct schedule *s, size_t i, struct sched_item *it)
{
	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= s->n)
			break;
		if (c + 1 < s->n && before(s->heap[c + 1], s->heap[c]))
			c++;
		if (!before(s->heap[c], it))
			break;
		place(s, i, s->heap[c]);
		i = c;
	}
	place(s, i, it);
}

/* Puts it at index i (a hole), up or down as its key says. */
static void settle(struct schedule *s, size_t i, struct sched_item *it)
{
	if (i > 0 && before(it, s->heap[(i - 1) / 2]))
		sift_up(s, i, it);
	else
		sift_down(s, i, it);
}

void sched_free(struct schedule *s)
{
	for (size_t i = 0; i < s->n; i++)
		s->heap[i]->pos = 0;
	free(s->heap);
	s->heap = NULL;
	s->n = s->cap = 0;
}

bool sched_has(const struct sched_item *it)
{
	return it->pos != 0;
}

void sched_put(struct schedule *s, struct sched_item *it, int64_t when)
{
	it->when = when;
	it->seq = s->seq++;
	if (sched_has(it)) {
		settle(s, it->pos - 1, it);
		return;
	}
	if (s->n == s->cap) {
		s->cap = s->cap == 0 ? 64 : s->cap * 2;
		s->heap = xreallocarray(s->heap, s->cap, sizeof(*s->heap));
	}
	sift_up(s, s->n++, it);
}

void sched_remove(struct schedule *s, struct sched_item *it)
{
	size_t i;
	struct sched_item *last;

	if (!sched_has(it))
		return;
	i = it->pos - 1;
	it->pos = 0;
	last = s->heap[--s->n];
	if (last != it)
		settle(s, i, last);
}

struct sched_item *sched_first(const struct schedule *s)
{
	return s->n > 0 ? s->heap[0] : NULL;
}

struct sched_item *sched_take_due(struct schedule *s, int64_t now)
{
	struct sched_item *it = sched_first(s);

	if (it == NULL || it->when > now)
		return NULL;
	sched_remove(s, it);
	return it;
}
