/* The runner's messages by id (smtpd/runner-int.h): a chained hash table
 * that doubles when it holds more messages than buckets, so a look-up
 * (each arrival, each id of `maillab queue flush ID`) costs the same
 * with 100,000 messages queued as with ten.  Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "smtpd/runner-int.h"

#define TABLE_MIN 64

/* FNV-1a: ids are 8 hex digits of time then 8 of randomness. */
static size_t id_hash(const char *id)
{
	uint64_t h = 14695981039346656037ULL;

	for (const char *p = id; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return (size_t)h;
}

static void grow(struct qmsg_table *t)
{
	size_t n = t->n_buckets != 0 ? t->n_buckets * 2 : TABLE_MIN;
	struct qmsg **b = xcalloc(n, sizeof(*b));

	for (size_t i = 0; i < t->n_buckets; i++) {
		while (t->buckets[i] != NULL) {
			struct qmsg *m = t->buckets[i];
			size_t slot = id_hash(m->id) & (n - 1);

			t->buckets[i] = m->hnext;
			m->hnext = b[slot];
			b[slot] = m;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->n_buckets = n;
}

void qmsg_table_add(struct qmsg_table *t, struct qmsg *m)
{
	size_t slot;

	if (t->n >= t->n_buckets)
		grow(t);
	slot = id_hash(m->id) & (t->n_buckets - 1);
	m->hnext = t->buckets[slot];
	t->buckets[slot] = m;
	t->n++;
}

struct qmsg *qmsg_table_find(const struct qmsg_table *t, const char *id)
{
	struct qmsg *m;

	if (t->n_buckets == 0)
		return NULL;
	for (m = t->buckets[id_hash(id) & (t->n_buckets - 1)]; m != NULL;
	     m = m->hnext)
		if (strcmp(m->id, id) == 0)
			return m;
	return NULL;
}

void qmsg_table_remove(struct qmsg_table *t, struct qmsg *m)
{
	struct qmsg **p;

	if (t->n_buckets == 0)
		return;
	for (p = &t->buckets[id_hash(m->id) & (t->n_buckets - 1)]; *p != NULL;
	     p = &(*p)->hnext) {
		if (*p == m) {
			*p = m->hnext;
			m->hnext = NULL;
			t->n--;
			return;
		}
	}
}

struct qmsg *qmsg_table_next(const struct qmsg_table *t, struct qmsg *m)
{
	size_t i = 0;

	if (m != NULL) {
		if (m->hnext != NULL)
			return m->hnext;
		i = (id_hash(m->id) & (t->n_buckets - 1)) + 1;
	}
	for (; i < t->n_buckets; i++)
		if (t->buckets[i] != NULL)
			return t->buckets[i];
	return NULL;
}

void qmsg_table_clear(struct qmsg_table *t, void (*fn)(struct qmsg *m))
{
	for (size_t i = 0; i < t->n_buckets; i++) {
		while (t->buckets[i] != NULL) {
			struct qmsg *m = t->buckets[i];

			t->buckets[i] = m->hnext;
			fn(m);
		}
	}
	free(t->buckets);
	memset(t, 0, sizeof(*t));
}
