/* Group commit for directory fsyncs (maildir/dirsync.h): many threads
 * changing one directory each get their answer, and an fsync that fails
 * fails for every thread that relied on it. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "maildir/dirsync.h"
#include "tests/unit/unit.h"

#define THREADS 12
#define ROUNDS 40

struct worker {
	const char *dir;
	int index;
	int failures;
	int last_errno;
};

/* Makes a file, waits until its name is durable, removes it, waits
 * again: ROUNDS times. */
static void *work(void *arg)
{
	struct worker *w = arg;
	char path[4096];

	for (int i = 0; i < ROUNDS; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/f%d-%d", w->dir, w->index, i);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd >= 0)
			close(fd);
		if (fs_fsync_dir_shared(w->dir) < 0) {
			w->failures++;
			w->last_errno = errno;
		}
		unlink(path);
		if (fs_fsync_dir_shared(w->dir) < 0) {
			w->failures++;
			w->last_errno = errno;
		}
	}
	return NULL;
}

static void run_threads(const char *dir, struct worker *w)
{
	pthread_t t[THREADS];

	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ dir, i, 0, 0 };
		ck_assert_int_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
}

START_TEST(test_many_threads_one_dir)
{
	char *root = unit_tmpdir();
	struct worker w[THREADS];

	run_threads(root, w);
	for (int i = 0; i < THREADS; i++)
		ck_assert_int_eq(w[i].failures, 0);
	/* and alone, twice in a row */
	ck_assert_int_eq(fs_fsync_dir_shared(root), 0);
	ck_assert_int_eq(fs_fsync_dir_shared(root), 0);
	unit_rmtree(root);
	free(root);
}
END_TEST

START_TEST(test_failure_reaches_every_caller)
{
	char *root = unit_tmpdir();
	char missing[4096];
	struct worker w[THREADS];

	snprintf(missing, sizeof(missing), "%s/no-such-dir", root);
	run_threads(missing, w);
	for (int i = 0; i < THREADS; i++) {
		ck_assert_int_eq(w[i].failures, 2 * ROUNDS);
		ck_assert_int_eq(w[i].last_errno, ENOENT);
	}
	/* a directory that fails does not spoil another */
	ck_assert_int_eq(fs_fsync_dir_shared(root), 0);
	unit_rmtree(root);
	free(root);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("maildir-dirsync");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_many_threads_one_dir);
	tcase_add_test(tc, test_failure_reaches_every_caller);
	suite_add_tcase(s, tc);
	return s;
}
