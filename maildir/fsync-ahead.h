#ifndef MAILDIR_FSYNC_AHEAD_H
#define MAILDIR_FSYNC_AHEAD_H
#include <stdbool.h>

/* An fsync started now and waited for later, so that a thread can make
 * two files durable in the time of one: the queue's envelope syncs on a
 * helper thread while the session's worker syncs the message
 * (smtpd/queue.c).
 *
 * The helpers are few (FSYNC_AHEAD_HELPERS at most), started when first
 * needed and kept for the life of the process: glibc's aio_fsync, used
 * before, let its helper threads exit as soon as they found no work and
 * started new ones (about 900 thread creations for 5,000 queued
 * messages).  A request no helper has taken yet when its caller waits is
 * taken back and done by the caller itself, so nobody waits in a line
 * behind other requests. */

#include <pthread.h>

struct fsync_ahead {
	pthread_cond_t done_cond;	/* its caller waits on it */
	int fd;
	int err;		/* fsync's errno, 0: durable */
	bool taken;		/* a helper runs it (or ran it) */
	bool done;
	struct fsync_ahead *next;	/* waiting for a helper */
};

/* Starts fsync(fd); fd stays open until fsync_ahead_wait returns. */
void fsync_ahead_start(struct fsync_ahead *req, int fd);
/* Waits for it: 0, or -1 with errno.  Every started request must be
 * waited for (before req's memory goes). */
int fsync_ahead_wait(struct fsync_ahead *req);

#endif
