/* The physical limit for durable deliveries (issue 3 "Benchmark"): W
 * threads in a bare C loop doing only what durability needs, into one
 * directory pair: create tmp/NAME, write 4 KiB, fsync, close, rename to
 * new/NAME, fsync new/.  No mailbox code at all.
 *
 *   bench-bareloop [-w WRITERS] [-t SECONDS] [-d DIR]
 *
 * Output: "bareloop writers=W rate=R/s". */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "maildir/fsutil.h"

#define MSG_SIZE 4096

static char tmpdir[4096], newdir[4096];
static char message[MSG_SIZE];
static double deadline;

struct writer {
	pthread_t tid;
	int id;
	long done;
	int failed;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	char from[4200], to[4200];
	int fd, dfd;

	while (now() < deadline) {
		snprintf(from, sizeof(from), "%s/%d.%ld", tmpdir, w->id, w->done);
		snprintf(to, sizeof(to), "%s/%d.%ld", newdir, w->id, w->done);
		fd = open(from, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 || fs_write_all(fd, message, sizeof(message)) < 0 ||
		    fsync(fd) < 0 || close(fd) < 0 || rename(from, to) < 0) {
			perror(from);
			w->failed = 1;
			break;
		}
		dfd = open(newdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0 || fsync(dfd) < 0) {
			perror(newdir);
			w->failed = 1;
			break;
		}
		close(dfd);
		w->done++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *base = getenv("TMPDIR"), *dir = NULL;
	char tmpl[4096];
	struct writer *ws;
	int nw = 1, c, i, failed = 0;
	double secs = 3, t0, elapsed;
	long total = 0;

	while ((c = getopt(argc, argv, "w:t:d:")) != -1) {
		switch (c) {
		case 'w': nw = atoi(optarg); break;
		case 't': secs = atof(optarg); break;
		case 'd': dir = optarg; break;
		default:
			fprintf(stderr, "usage: bench-bareloop [-w WRITERS] [-t SECONDS] [-d DIR]\n");
			return 2;
		}
	}
	if (nw < 1 || secs <= 0)
		return 2;
	snprintf(tmpl, sizeof(tmpl), "%s/bench-bareloop-XXXXXX",
		 base != NULL && *base != '\0' ? base : "/var/tmp");
	if (dir == NULL && (dir = mkdtemp(tmpl)) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(tmpdir, sizeof(tmpdir), "%s/tmp", dir);
	snprintf(newdir, sizeof(newdir), "%s/new", dir);
	if (fs_mkdir(tmpdir) < 0 || fs_mkdir(newdir) < 0) {
		perror(dir);
		return 1;
	}
	memset(message, 'x', sizeof(message));
	ws = calloc((size_t)nw, sizeof(*ws));
	t0 = now();
	deadline = t0 + secs;
	for (i = 0; i < nw; i++) {
		ws[i].id = i;
		pthread_create(&ws[i].tid, NULL, writer_main, &ws[i]);
	}
	for (i = 0; i < nw; i++) {
		pthread_join(ws[i].tid, NULL);
		total += ws[i].done;
		failed |= ws[i].failed;
	}
	elapsed = now() - t0;
	printf("bareloop writers=%d messages=%ld seconds=%.2f rate=%.0f/s\n",
	       nw, total, elapsed, total / elapsed);
	fs_rmtree(dir);
	free(ws);
	return failed;
}
