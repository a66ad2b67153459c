#include <event2/event.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "common/worker.h"
#include "tests/unit/unit.h"

struct job_state {
	pthread_t loop_thread;
	pthread_t work_thread;
	int done_on_loop;
	int *done_count;
	struct event_base *base;
	int total;
};

static void work(void *arg)
{
	struct job_state *s = arg;

	s->work_thread = pthread_self();
}

static void done(void *arg)
{
	struct job_state *s = arg;

	s->done_on_loop = pthread_equal(pthread_self(), s->loop_thread);
	if (++*s->done_count == s->total)
		event_base_loopbreak(s->base);
}

START_TEST(test_work_off_loop_done_on_loop)
{
	struct event_base *base = event_base_new();
	struct worker_pool *pool = worker_pool_new(base, 3);
	struct job_state jobs[50];
	int count = 0;

	for (int i = 0; i < 50; i++) {
		jobs[i] = (struct job_state){ .loop_thread = pthread_self(),
			.done_count = &count, .base = base, .total = 50 };
		worker_submit(pool, work, done, &jobs[i]);
	}
	ck_assert_uint_eq(worker_pending(pool), 50);
	event_base_dispatch(base);
	ck_assert_int_eq(count, 50);
	ck_assert_uint_eq(worker_pending(pool), 0);
	for (int i = 0; i < 50; i++) {
		ck_assert(jobs[i].done_on_loop);
		ck_assert(!pthread_equal(jobs[i].work_thread, pthread_self()));
	}
	worker_pool_free(&pool);
	ck_assert_ptr_null(pool);
	event_base_free(base);
}
END_TEST

START_TEST(test_free_runs_pending_done)
{
	struct event_base *base = event_base_new();
	struct worker_pool *pool = worker_pool_new(base, 2);
	struct job_state jobs[5];
	int count = 0;

	for (int i = 0; i < 5; i++) {
		jobs[i] = (struct job_state){ .loop_thread = pthread_self(),
			.done_count = &count, .base = base, .total = 5 };
		worker_submit(pool, work, done, &jobs[i]);
	}
	worker_pool_free(&pool);
	ck_assert_int_eq(count, 5);
	event_base_free(base);
}
END_TEST

/* A lock held across jobs: the holder's next job opens it. */
static struct {
	pthread_mutex_t m;
	pthread_cond_t opened;
	bool open;
	int timed_out;
	int done;
	struct event_base *base;
} gate = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0, 0,
	   NULL };

/* Waits for the gate as a SELECT waits for the index lock (bounded, so a
 * deadlock fails the test instead of hanging it). */
static void wait_gate(void *arg)
{
	struct timespec until;

	(void)arg;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&gate.m);
	while (!gate.open)
		if (pthread_cond_timedwait(&gate.opened, &gate.m, &until) != 0) {
			gate.timed_out++;
			break;
		}
	pthread_mutex_unlock(&gate.m);
}

static void open_gate(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&gate.m);
	gate.open = true;
	pthread_cond_broadcast(&gate.opened);
	pthread_mutex_unlock(&gate.m);
}

static void gate_done(void *arg)
{
	(void)arg;
	if (++gate.done == 5)
		event_base_loopbreak(gate.base);
}

/* Every general thread waits for a lock whose holder's work is queued
 * after them: the holding lane runs it anyway (the SELECT deadlock of
 * 16 parallel SELECTs of one user). */
START_TEST(test_holding_work_not_stuck_behind_waiters)
{
	struct event_base *base = event_base_new();
	struct worker_pool *pool = worker_pool_new(base, 2);

	gate.base = base;
	for (int i = 0; i < 4; i++)
		worker_submit(pool, wait_gate, gate_done, NULL);
	worker_submit_holding(pool, open_gate, gate_done, NULL);
	event_base_dispatch(base);
	ck_assert_int_eq(gate.done, 5);
	ck_assert_int_eq(gate.timed_out, 0);
	worker_pool_free(&pool);
	event_base_free(base);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("worker");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_work_off_loop_done_on_loop);
	tcase_add_test(tc, test_free_runs_pending_done);
	tcase_add_test(tc, test_holding_work_not_stuck_behind_waiters);
	suite_add_tcase(s, tc);
	return s;
}
