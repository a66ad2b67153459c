#ifndef COMMON_WORKER_H
#define COMMON_WORKER_H

#include "common/proto.h"

/* A small pool of threads for blocking work (fsync'd delivery, password
 * hashing, database writes), plus one thread for worker_submit_holding.  work(arg) runs on a worker thread; done(arg)
 * then runs on the event loop thread, in the order the jobs finished. */

struct event_base;
struct worker_pool;

struct worker_pool *worker_pool_new(struct event_base *base, unsigned int threads);
void worker_submit(struct worker_pool *pool, work_fn *work, work_fn *done,
		   void *arg);
/* For work that holds a lock other jobs may be waiting for, queued or on
 * every thread (the index lock a SELECT keeps until its snapshot is
 * loaded): it runs on a thread of its own, so it is never stuck behind
 * them.  Such work must not itself wait for a lock another job holds. */
void worker_submit_holding(struct worker_pool *pool, work_fn *work,
			   work_fn *done, void *arg);
/* Jobs queued or running, not yet done. */
unsigned int worker_pending(const struct worker_pool *pool);
/* Waits for running and queued jobs, runs their done callbacks, stops the
 * threads and frees the pool.  Sets *poolp to NULL. */
void worker_pool_free(struct worker_pool **poolp);

#endif
