/* An fsync started now and waited for later (maildir/fsync-ahead.h). */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <unistd.h>

#include "maildir/fsync-ahead.h"

/* Helper threads at most: a request beyond them waits for its caller.
 * Enough for the worker pool's threads queueing at once. */
#define FSYNC_AHEAD_HELPERS 16
/* A helper does nothing but fsync: a small stack. */
#define HELPER_STACK (64 * 1024)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER;	/* for helpers */
static struct fsync_ahead *head, *tail;	/* not taken yet, oldest first */
static unsigned int helpers, idle;

static void *helper_main(void *arg)
{
	struct fsync_ahead *req;
	int err;

	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;) {
		idle++;
		while (head == NULL)
			pthread_cond_wait(&work, &lock);
		idle--;
		req = head;
		head = req->next;
		if (head == NULL)
			tail = NULL;
		req->taken = true;
		pthread_mutex_unlock(&lock);
		err = fsync(req->fd) < 0 ? (errno != 0 ? errno : EIO) : 0;
		pthread_mutex_lock(&lock);
		req->err = err;
		req->done = true;
		/* its caller only: no herd of every waiting caller */
		pthread_cond_signal(&req->done_cond);
	}
	return NULL;
}

/* One more helper (lock held).  Without one the caller does the fsync. */
static void add_helper(void)
{
	pthread_attr_t attr;
	pthread_t id;

	if (pthread_attr_init(&attr) != 0)
		return;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, HELPER_STACK);
	if (pthread_create(&id, &attr, helper_main, NULL) == 0)
		helpers++;
	pthread_attr_destroy(&attr);
}

void fsync_ahead_start(struct fsync_ahead *req, int fd)
{
	req->fd = fd;
	req->err = 0;
	req->taken = req->done = false;
	req->next = NULL;
	pthread_cond_init(&req->done_cond, NULL);
	pthread_mutex_lock(&lock);
	if (tail != NULL)
		tail->next = req;
	else
		head = req;
	tail = req;
	if (idle == 0 && helpers < FSYNC_AHEAD_HELPERS)
		add_helper();
	else
		pthread_cond_signal(&work);
	pthread_mutex_unlock(&lock);
}

/* Takes req out of the waiting line (lock held). */
static void unlink_req(struct fsync_ahead *req)
{
	struct fsync_ahead **p = &head, *prev = NULL;

	while (*p != req) {
		prev = *p;
		p = &(*p)->next;
	}
	*p = req->next;
	if (tail == req)
		tail = prev;
}

int fsync_ahead_wait(struct fsync_ahead *req)
{
	int err;

	pthread_mutex_lock(&lock);
	if (!req->taken) {
		/* no helper got to it: ours, at once */
		unlink_req(req);
		req->taken = true;
		pthread_mutex_unlock(&lock);
		pthread_cond_destroy(&req->done_cond);
		return fsync(req->fd);
	}
	while (!req->done)
		pthread_cond_wait(&req->done_cond, &lock);
	err = req->err;
	pthread_mutex_unlock(&lock);
	pthread_cond_destroy(&req->done_cond);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}
