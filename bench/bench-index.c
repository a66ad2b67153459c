/* Opening a 100,000-message folder: cold with its index present, warm, and
 * rebuilding the index from the files (issue 3 "Benchmark").
 *
 *   bench-index [-n MESSAGES] [-d DIR] [-k]
 *
 * Builds DIR/mail/bench/cur with MESSAGES files (2 KiB each, written
 * without fsync: this is set-up, not the measurement), then measures in
 * fresh child processes, so nothing is cached in the process:
 *   first   first open: every file indexed (new folder record)
 *   cold    open with the index present, its files evicted from the page
 *           cache (posix_fadvise DONTNEED)
 *   warm    the same with the index in the page cache
 *   store   one session flags every message, another syncs and sees it
 *   rebuild open after the index directory was deleted
 * -k keeps DIR. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "maildir/fsutil.h"
#include "maildir/mailbox.h"
#include "maildir/user.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void make_messages(const char *mail, int n)
{
	struct buf p = BUF_INIT(BUF_UNLIMITED), body = BUF_INIT(BUF_UNLIMITED);
	long base = (long)time(NULL) - 86400;
	int i, fd;

	buf_printf(&body, "From: bench@example.org\r\nTo: bench@example.org\r\n"
		   "Subject: message\r\n\r\n");
	while (body.len < 2048 - 80)
		buf_puts(&body, "The quick brown fox jumps over the lazy dog 0123456789.\r\n");
	for (i = 0; i < n; i++) {
		buf_clear(&p);
		buf_printf(&p, "%s/bench/cur/%ld.M%06dP1Q%d.benchhost,S=%zu:2,%s",
			   mail, base + i / 1000, i % 1000000, i, body.len,
			   i % 3 == 0 ? "S" : "");
		fd = open(p.data, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || fs_write_all(fd, body.data, body.len) < 0) {
			perror(p.data);
			exit(1);
		}
		close(fd);
	}
	buf_free(&p);
	buf_free(&body);
}

static void evict_index(const char *mail)
{
	struct buf p = BUF_INIT(BUF_UNLIMITED);
	struct dirent *de;
	DIR *d;
	int fd;

	buf_printf(&p, "%s/bench/maillab-index", mail);
	d = opendir(p.data);
	while (d != NULL && (de = readdir(d)) != NULL) {
		buf_clear(&p);
		buf_printf(&p, "%s/bench/maillab-index/%s", mail, de->d_name);
		fd = open(p.data, O_RDONLY);
		if (fd < 0)
			continue;
		fdatasync(fd);
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		close(fd);
	}
	if (d != NULL)
		closedir(d);
	buf_free(&p);
}

/* Opens the folder in a child process; returns the seconds it took. */
static double timed_open(const char *mail, int expect)
{
	int pfd[2], status;
	double t = -1;
	pid_t pid;

	if (pipe(pfd) < 0)
		exit(1);
	pid = fork();
	if (pid == 0) {
		struct maildir_store *s;
		struct maildir_box *box;
		char err[256];
		double t0 = now();

		if (maildir_store_open(mail, "bench", &s, err, sizeof(err)) < 0 ||
		    maildir_box_open(s, "INBOX", MAILDIR_BOX_RECENT, &box, err,
				     sizeof(err)) < 0) {
			fprintf(stderr, "open: %s\n", err);
			_exit(1);
		}
		t = now() - t0;
		if ((int)maildir_box_count(box) != expect) {
			fprintf(stderr, "open: %zu messages, expected %d\n",
				maildir_box_count(box), expect);
			_exit(1);
		}
		if (write(pfd[1], &t, sizeof(t)) != sizeof(t))
			_exit(1);
		maildir_box_close(&box);
		maildir_store_close(&s);
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], &t, sizeof(t)) != sizeof(t))
		t = -1;
	close(pfd[0]);
	waitpid(pid, &status, 0);
	if (t < 0) {
		fprintf(stderr, "bench-index: open failed\n");
		exit(1);
	}
	return t;
}

/* One session flags every message, another learns it by syncing. */
static double timed_store(const char *mail, int n)
{
	struct maildir_store *s;
	struct maildir_box *a, *b;
	struct maildir_changes ch;
	uint32_t *uids = malloc(sizeof(*uids) * (size_t)n);
	char err[256];
	double t0;
	size_t i;

	if (maildir_store_open(mail, "bench", &s, err, sizeof(err)) < 0 ||
	    maildir_box_open(s, "INBOX", 0, &a, err, sizeof(err)) < 0 ||
	    maildir_box_open(s, "INBOX", 0, &b, err, sizeof(err)) < 0) {
		fprintf(stderr, "open: %s\n", err);
		exit(1);
	}
	for (i = 0; i < maildir_box_count(a); i++)
		uids[i] = maildir_box_msg(a, i)->uid;
	t0 = now();
	for (i = 0; i < 1000; i++) {
		if (maildir_box_sync(a, &ch, err, sizeof(err)) < 0) {
			fprintf(stderr, "sync: %s\n", err);
			exit(1);
		}
		maildir_changes_free(&ch);
	}
	printf("index: sync with nothing changed (%d messages): %.0f us\n", n,
	       (now() - t0) * 1e3);
	t0 = now();
	if (maildir_box_store(a, uids, maildir_box_count(a), MAILDIR_STORE_ADD,
			      MAILDIR_FLAG_FLAGGED, 0, err, sizeof(err)) < 0 ||
	    maildir_box_sync(b, &ch, err, sizeof(err)) < 0) {
		fprintf(stderr, "store: %s\n", err);
		exit(1);
	}
	t0 = now() - t0;
	if (ch.n_changed != (size_t)n) {
		fprintf(stderr, "store: %zu changes seen, expected %d\n",
			ch.n_changed, n);
		exit(1);
	}
	maildir_changes_free(&ch);
	maildir_box_close(&a);
	maildir_box_close(&b);
	maildir_store_close(&s);
	free(uids);
	return t0;
}

int main(int argc, char **argv)
{
	const char *dir = NULL;
	char tmpl[] = "/tmp/bench-index-XXXXXX", mail[4096], err[256];
	struct buf p = BUF_INIT(BUF_UNLIMITED);
	int n = 100000, keep = 0, c;
	double t0, first, cold, warm, rebuild, store_all;

	while ((c = getopt(argc, argv, "n:d:k")) != -1) {
		switch (c) {
		case 'n': n = atoi(optarg); break;
		case 'd': dir = optarg; break;
		case 'k': keep = 1; break;
		default:
			fprintf(stderr, "usage: bench-index [-n MESSAGES] [-d DIR] [-k]\n");
			return 2;
		}
	}
	if (dir == NULL && (dir = mkdtemp(tmpl)) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(mail, sizeof(mail), "%s/mail", dir);
	if (maildir_user_create(mail, "bench", err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	t0 = now();
	make_messages(mail, n);
	printf("index: created %d messages in %.1f s\n", n, now() - t0);
	sleep(1);	/* let cur/'s mtime settle (sync.c "settled") */
	first = timed_open(mail, n);
	evict_index(mail);
	cold = timed_open(mail, n);
	warm = timed_open(mail, n);
	store_all = timed_store(mail, n);
	buf_printf(&p, "%s/bench/maillab-index", mail);
	fs_rmtree(p.data);
	rebuild = timed_open(mail, n);
	printf("index: first open (indexing) %d messages: %.0f ms\n", n, first * 1e3);
	printf("index: open cold, index present: %.0f ms (target < 200 ms)\n", cold * 1e3);
	printf("index: open warm, index present: %.0f ms\n", warm * 1e3);
	printf("index: STORE +FLAGS (\\Flagged) on all %d, then a second session's sync: %.0f ms\n",
	       n, store_all * 1e3);
	printf("index: rebuild after the index was deleted: %.0f ms\n", rebuild * 1e3);
	if (!keep)
		fs_rmtree(dir);
	buf_free(&p);
	return 0;
}
