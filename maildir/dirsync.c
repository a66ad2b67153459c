/* Group commit for directory fsyncs (maildir/dirsync.h). */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "maildir/dirsync.h"
#include "maildir/fsutil.h"

/* Directories synced at once by different threads (more fall back to a
 * plain fsync each). */
#define GROUPS 8
/* Outcomes of past rounds kept; a waiter left further behind than this
 * takes the latest round's, which also began after its change. */
#define RING 64

/* One directory's rounds: round n is one fsync of it, started after every
 * change of the callers that wait for n. */
struct dir_group {
	char *path;		/* NULL: a free slot */
	unsigned int users;	/* callers inside for this path */
	bool running;		/* round `started` is under way */
	uint64_t started, finished;
	int result[RING];	/* errno of round n at n % RING; 0: durable */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t round_over = PTHREAD_COND_INITIALIZER;
static struct dir_group groups[GROUPS];

static struct dir_group *join(const char *path)
{
	struct dir_group *free_slot = NULL;

	for (size_t i = 0; i < GROUPS; i++) {
		if (groups[i].path == NULL) {
			if (free_slot == NULL)
				free_slot = &groups[i];
		} else if (strcmp(groups[i].path, path) == 0) {
			groups[i].users++;
			return &groups[i];
		}
	}
	if (free_slot != NULL) {
		free_slot->path = xstrdup(path);
		free_slot->users = 1;
	}
	return free_slot;
}

static void leave(struct dir_group *g)
{
	if (--g->users == 0) {
		free(g->path);
		g->path = NULL;
	}
}

/* Runs round `round` of g (lock held on entry and on return). */
static void run_round(struct dir_group *g, uint64_t round)
{
	int err;

	g->running = true;
	g->started = round;
	pthread_mutex_unlock(&lock);
	err = fs_fsync_dir(g->path) < 0 ? (errno != 0 ? errno : EIO) : 0;
	pthread_mutex_lock(&lock);
	g->result[round % RING] = err;
	g->finished = round;
	g->running = false;
	pthread_cond_broadcast(&round_over);
}

int fs_fsync_dir_shared(const char *path)
{
	struct dir_group *g;
	uint64_t mine;
	int err;

	pthread_mutex_lock(&lock);
	g = join(path);
	if (g == NULL) {
		pthread_mutex_unlock(&lock);
		return fs_fsync_dir(path);
	}
	/* A round under way may have begun before our change: the next one
	 * is ours. */
	mine = g->started + 1;
	while (g->finished < mine) {
		if (g->running)
			pthread_cond_wait(&round_over, &lock);
		else
			run_round(g, g->started + 1);
	}
	/* Every round from `mine` on began after our change, so any of them
	 * answers for it; one past the ring (a waiter that woke late while
	 * fast failing rounds went on) takes the latest. */
	err = g->finished - mine >= RING ? g->result[g->finished % RING] :
		g->result[mine % RING];
	leave(g);
	pthread_mutex_unlock(&lock);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}
