#ifndef SMTPD_SCHEDULE_H
#define SMTPD_SCHEDULE_H
/* The queue runner's schedule: the messages that wait for their next
 * attempt, ordered by when it is due (a binary min-heap), so that the
 * runner's once-a-second look costs nothing while none is due, however
 * many wait (a walk of every message each second kept an idle server
 * with 100,000 deferred messages at 10% of a core).  Among items due at
 * the same second the one scheduled first comes first, so a message
 * that rests again goes behind those that waited already.
 *
 * Intrusive: the caller embeds a struct sched_item in what it schedules
 * and owns it; the schedule holds pointers only.  Pure (no I/O, no
 * clock). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sched_item {
	int64_t when;		/* due at (epoch seconds) */
	uint64_t seq;		/* order of scheduling, for ties */
	size_t pos;		/* index in the heap + 1; 0: not scheduled */
};

struct schedule {
	struct sched_item **heap;
	size_t n, cap;
	uint64_t seq;		/* the next item's seq */
};

#define SCHEDULE_INIT { NULL, 0, 0, 0 }
#define SCHED_ITEM_INIT { 0, 0, 0 }

/* Frees the heap (not the items, which it forgets); s is empty after. */
void sched_free(struct schedule *s);
/* Whether it is in a schedule. */
bool sched_has(const struct sched_item *it);
/* Schedules it at `when`, or moves it there when it is scheduled
 * already (behind the others due at that second either way). */
void sched_put(struct schedule *s, struct sched_item *it, int64_t when);
/* Takes it out of s; a no-op when it is not scheduled. */
void sched_remove(struct schedule *s, struct sched_item *it);
/* The item due first, or NULL when s is empty. */
struct sched_item *sched_first(const struct schedule *s);
/* Takes out and returns the item due first when it is due at `now`
 * (when <= now), else NULL. */
struct sched_item *sched_take_due(struct schedule *s, int64_t now);

#endif
