/* An fsync started now and waited for later (maildir/fsync-ahead.h):
 * many threads with requests out at once each get their own answer, a
 * request no helper took is done by its caller, and a failure reaches
 * the caller whose file it was. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maildir/fsync-ahead.h"
#include "tests/unit/unit.h"

#define THREADS 24	/* more than the helpers */
#define ROUNDS 20

struct worker {
	const char *dir;
	int index;
	int failures;
};

/* Writes a file, starts its fsync, syncs a second file itself, then
 * waits for the first (as smtpd/queue.c does with an envelope and its
 * message). */
static void *work(void *arg)
{
	struct worker *w = arg;
	char path[4096];

	for (int i = 0; i < ROUNDS; i++) {
		struct fsync_ahead req;
		int a, b;

		snprintf(path, sizeof(path), "%s/a%d-%d", w->dir, w->index, i);
		a = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		snprintf(path, sizeof(path), "%s/b%d-%d", w->dir, w->index, i);
		b = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (a < 0 || b < 0 || write(a, "x", 1) != 1 || write(b, "y", 1) != 1) {
			w->failures++;
			continue;
		}
		fsync_ahead_start(&req, a);
		if (fsync(b) < 0 || fsync_ahead_wait(&req) < 0)
			w->failures++;
		close(a);
		close(b);
	}
	return NULL;
}

START_TEST(test_many_threads)
{
	char *root = unit_tmpdir();
	struct worker w[THREADS];
	pthread_t t[THREADS];

	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ root, i, 0 };
		ck_assert_int_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(w[i].failures, 0);
	}
	unit_rmtree(root);
	free(root);
}
END_TEST

/* A bad descriptor fails with EBADF, whether a helper ran the fsync or
 * the caller took it back; requests started together finish in any
 * order. */
START_TEST(test_failure_is_the_callers)
{
	char *root = unit_tmpdir();
	char path[4096];
	struct fsync_ahead bad, good[4];
	int fd[4];

	for (int round = 0; round < 50; round++) {
		fsync_ahead_start(&bad, 1000 + round);
		for (int i = 0; i < 4; i++) {
			snprintf(path, sizeof(path), "%s/f%d-%d", root, round, i);
			fd[i] = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
			ck_assert_int_ge(fd[i], 0);
			fsync_ahead_start(&good[i], fd[i]);
		}
		for (int i = 3; i >= 0; i--) {
			ck_assert_int_eq(fsync_ahead_wait(&good[i]), 0);
			close(fd[i]);
		}
		errno = 0;
		ck_assert_int_eq(fsync_ahead_wait(&bad), -1);
		ck_assert_int_eq(errno, EBADF);
	}
	unit_rmtree(root);
	free(root);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("maildir-fsync-ahead");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_many_threads);
	tcase_add_test(tc, test_failure_is_the_callers);
	suite_add_tcase(s, tc);
	return s;
}
