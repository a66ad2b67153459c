#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/log.h"
#include "common/worker.h"
#include "common/xalloc.h"

struct job {
	work_fn *work;
	work_fn *done;
	void *arg;
	struct job *next;
};

struct job_queue {
	struct job *head, *tail;
};

/* Jobs of one kind and the threads that take them: the general lane, and
 * the lane of work that holds a lock (worker_submit_holding), served by a
 * thread of its own so that it never waits behind jobs waiting for that
 * lock. */
struct lane {
	struct job_queue waiting;	/* for a thread */
	pthread_cond_t wake;
};

enum { LANE_ANY, LANE_HOLDING, N_LANES };

struct worker_thread {
	struct worker_pool *pool;
	struct lane *lane;
	pthread_t id;
};

struct worker_pool {
	pthread_mutex_t lock;
	struct lane lanes[N_LANES];
	struct job_queue finished;	/* waiting for done() on the loop */
	unsigned int pending;
	bool stopping;
	struct worker_thread *threads;
	unsigned int n_threads;
	int notify[2];			/* worker -> loop: "finished has jobs" */
	struct event *notify_ev;
};

static void queue_push(struct job_queue *q, struct job *j)
{
	j->next = NULL;
	if (q->tail != NULL)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
}

static struct job *queue_take_all(struct job_queue *q)
{
	struct job *head = q->head;

	q->head = q->tail = NULL;
	return head;
}

static void *worker_main(void *arg)
{
	struct worker_thread *self = arg;
	struct worker_pool *pool = self->pool;
	struct job_queue *q = &self->lane->waiting;

	pthread_mutex_lock(&pool->lock);
	for (;;) {
		struct job *j;

		while (q->head == NULL && !pool->stopping)
			pthread_cond_wait(&self->lane->wake, &pool->lock);
		if (q->head == NULL)
			break;
		j = q->head;
		q->head = j->next;
		if (q->head == NULL)
			q->tail = NULL;
		pthread_mutex_unlock(&pool->lock);

		j->work(j->arg);

		pthread_mutex_lock(&pool->lock);
		/* The loop drains the pipe, then takes the whole list: a byte
		 * when the list becomes non-empty is enough (a write and a
		 * wake-up per burst of jobs, not per job). */
		if (pool->finished.head == NULL)
			while (write(pool->notify[1], "x", 1) < 0 && errno == EINTR)
				;
		queue_push(&pool->finished, j);
	}
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

static void run_finished(struct worker_pool *pool)
{
	struct job *j, *next;

	pthread_mutex_lock(&pool->lock);
	j = queue_take_all(&pool->finished);
	pthread_mutex_unlock(&pool->lock);
	for (; j != NULL; j = next) {
		next = j->next;
		pool->pending--;
		j->done(j->arg);
		free(j);
	}
}

static void on_notify(evutil_socket_t fd, short what, void *arg)
{
	char drain[256];

	(void)what;
	while (read(fd, drain, sizeof(drain)) > 0)
		;
	run_finished(arg);
}

struct worker_pool *worker_pool_new(struct event_base *base, unsigned int threads)
{
	struct worker_pool *pool = xcalloc(1, sizeof(*pool));

	if (threads == 0)
		threads = 1;
	pthread_mutex_init(&pool->lock, NULL);
	for (int i = 0; i < N_LANES; i++)
		pthread_cond_init(&pool->lanes[i].wake, NULL);
	if (pipe2(pool->notify, O_CLOEXEC | O_NONBLOCK) < 0) {
		log_msg("maillab", NULL, "pipe() failed: %m");
		abort();
	}
	pool->notify_ev = event_new(base, pool->notify[0], EV_READ | EV_PERSIST,
				    on_notify, pool);
	event_add(pool->notify_ev, NULL);
	/* the general threads, then the one of the holding lane */
	pool->n_threads = threads + 1;
	pool->threads = xcalloc(pool->n_threads, sizeof(*pool->threads));
	for (unsigned int i = 0; i < pool->n_threads; i++) {
		struct worker_thread *t = &pool->threads[i];

		t->pool = pool;
		t->lane = &pool->lanes[i < threads ? LANE_ANY : LANE_HOLDING];
		if (pthread_create(&t->id, NULL, worker_main, t) != 0) {
			log_msg("maillab", NULL, "pthread_create() failed");
			abort();
		}
	}
	return pool;
}

static void submit(struct worker_pool *pool, struct lane *lane, work_fn *work,
		   work_fn *done, void *arg)
{
	struct job *j = xmalloc(sizeof(*j));

	j->work = work;
	j->done = done;
	j->arg = arg;
	pool->pending++;
	pthread_mutex_lock(&pool->lock);
	queue_push(&lane->waiting, j);
	pthread_cond_signal(&lane->wake);
	pthread_mutex_unlock(&pool->lock);
}

void worker_submit(struct worker_pool *pool, work_fn *work, work_fn *done,
		   void *arg)
{
	submit(pool, &pool->lanes[LANE_ANY], work, done, arg);
}

void worker_submit_holding(struct worker_pool *pool, work_fn *work,
			   work_fn *done, void *arg)
{
	submit(pool, &pool->lanes[LANE_HOLDING], work, done, arg);
}

unsigned int worker_pending(const struct worker_pool *pool)
{
	return pool->pending;
}

void worker_pool_free(struct worker_pool **poolp)
{
	struct worker_pool *pool = *poolp;

	if (pool == NULL)
		return;
	*poolp = NULL;
	pthread_mutex_lock(&pool->lock);
	pool->stopping = true;
	for (int i = 0; i < N_LANES; i++)
		pthread_cond_broadcast(&pool->lanes[i].wake);
	pthread_mutex_unlock(&pool->lock);
	for (unsigned int i = 0; i < pool->n_threads; i++)
		pthread_join(pool->threads[i].id, NULL);
	run_finished(pool);
	event_free(pool->notify_ev);
	close(pool->notify[0]);
	close(pool->notify[1]);
	pthread_mutex_destroy(&pool->lock);
	for (int i = 0; i < N_LANES; i++)
		pthread_cond_destroy(&pool->lanes[i].wake);
	free(pool->threads);
	free(pool);
}
