/* The queue runner's schedule (smtpd/schedule.h): due order, ties in
 * the order scheduled, moves and removals anywhere in the heap, and one
 * message flushed among many coming out first. */
#include <stdint.h>
#include <stdlib.h>

#include "smtpd/schedule.h"
#include "tests/unit/unit.h"

#define N 1000

/* What the runner schedules, reduced to an index and its item. */
struct ent {
	size_t idx;
	struct sched_item due;
};

static struct ent *ent_of(struct sched_item *it)
{
	return (struct ent *)((char *)it - offsetof(struct ent, due));
}

/* Takes every item due at `now` and checks they come in (when, seq)
 * order; returns how many. */
static size_t drain_in_order(struct schedule *s, int64_t now)
{
	struct sched_item *it;
	int64_t last_when = INT64_MIN;
	uint64_t last_seq = 0;
	size_t n = 0;

	while ((it = sched_take_due(s, now)) != NULL) {
		ck_assert(!sched_has(it));
		ck_assert_int_le(it->when, now);
		ck_assert(it->when > last_when ||
			  (it->when == last_when && it->seq > last_seq));
		last_when = it->when;
		last_seq = it->seq;
		n++;
	}
	return n;
}

START_TEST(test_order_and_earliest)
{
	struct schedule s = SCHEDULE_INIT;
	struct ent *e = calloc(N, sizeof(*e));
	size_t early = 0;

	ck_assert_ptr_null(sched_first(&s));
	ck_assert_ptr_null(sched_take_due(&s, INT64_MAX));
	/* a scrambled order of due times, many of them equal */
	for (size_t i = 0; i < N; i++) {
		e[i].idx = i;
		sched_put(&s, &e[i].due, 1000 + (int64_t)((i * 7919) % 97));
		ck_assert(sched_has(&e[i].due));
		early += e[i].due.when <= 1040;
	}
	ck_assert_int_eq(sched_first(&s)->when, 1000);
	/* nothing is due before the earliest */
	ck_assert_ptr_null(sched_take_due(&s, 999));
	ck_assert_uint_eq(s.n, N);
	/* those due by 1040 and only they, in order */
	ck_assert_uint_eq(drain_in_order(&s, 1040), early);
	ck_assert_int_eq(sched_first(&s)->when, 1041);
	ck_assert_uint_eq(drain_in_order(&s, INT64_MAX), N - early);
	ck_assert_uint_eq(s.n, 0);
	sched_free(&s);
	free(e);
}
END_TEST

START_TEST(test_ties_first_come_first)
{
	struct schedule s = SCHEDULE_INIT;
	struct ent e[50];

	for (size_t i = 0; i < 50; i++) {
		e[i].idx = i;
		e[i].due = (struct sched_item)SCHED_ITEM_INIT;
		sched_put(&s, &e[i].due, 0);
	}
	/* moved to the same second again: behind the others */
	sched_put(&s, &e[0].due, 0);
	for (size_t i = 1; i < 50; i++)
		ck_assert_uint_eq(ent_of(sched_take_due(&s, 0))->idx, i);
	ck_assert_uint_eq(ent_of(sched_take_due(&s, 0))->idx, 0);
	ck_assert_ptr_null(sched_take_due(&s, 0));
	sched_free(&s);
}
END_TEST

START_TEST(test_remove_anywhere)
{
	struct schedule s = SCHEDULE_INIT;
	struct ent *e = calloc(N, sizeof(*e));
	size_t left = 0;

	for (size_t i = 0; i < N; i++) {
		e[i].idx = i;
		sched_put(&s, &e[i].due, (int64_t)((i * 31) % N));
	}
	/* every third one goes (`maillab queue del`), some twice */
	for (size_t i = 0; i < N; i += 3) {
		sched_remove(&s, &e[i].due);
		ck_assert(!sched_has(&e[i].due));
		sched_remove(&s, &e[i].due);
	}
	for (size_t i = 0; i < N; i++)
		left += i % 3 != 0;
	ck_assert_uint_eq(s.n, left);
	for (size_t i = 0; i < left; i++) {
		struct sched_item *it = sched_take_due(&s, INT64_MAX);

		ck_assert_ptr_nonnull(it);
		ck_assert_uint_ne(ent_of(it)->idx % 3, 0);
	}
	ck_assert_ptr_null(sched_first(&s));
	/* a removed item can be scheduled again */
	sched_put(&s, &e[0].due, 5);
	ck_assert_ptr_eq(sched_first(&s), &e[0].due);
	sched_free(&s);
	ck_assert(!sched_has(&e[0].due));
	free(e);
}
END_TEST

/* `maillab queue flush ID`: one message among many deferred an hour
 * comes due at once, alone; a later one postponed goes last. */
START_TEST(test_flush_one_among_many)
{
	struct schedule s = SCHEDULE_INIT;
	struct ent *e = calloc(N, sizeof(*e));
	int64_t now = 1733400000;
	struct sched_item *it;

	for (size_t i = 0; i < N; i++) {
		e[i].idx = i;
		sched_put(&s, &e[i].due, now + 3600 + (int64_t)(i % 10));
	}
	ck_assert_ptr_null(sched_take_due(&s, now));
	sched_put(&s, &e[617].due, 0);
	ck_assert_uint_eq(s.n, N);
	it = sched_take_due(&s, now);
	ck_assert_ptr_nonnull(it);
	ck_assert_uint_eq(ent_of(it)->idx, 617);
	ck_assert_ptr_null(sched_take_due(&s, now));
	/* a message pushed back (a retry later) and the rest in order */
	sched_put(&s, &e[3].due, now + 7200);
	ck_assert_uint_eq(drain_in_order(&s, now + 3609), N - 2);
	ck_assert_uint_eq(ent_of(sched_take_due(&s, now + 7200))->idx, 3);
	sched_free(&s);
	free(e);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("smtp-schedule");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_order_and_earliest);
	tcase_add_test(tc, test_ties_first_come_first);
	tcase_add_test(tc, test_remove_anywhere);
	tcase_add_test(tc, test_flush_one_among_many);
	suite_add_tcase(s, tc);
	return s;
}
