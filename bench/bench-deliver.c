/* Durable deliveries per second through the mailbox store (issue 3
 * "Benchmark"): W threads, each looping maildir_delivery_begin / write
 * 4 KiB / commit (fsync file, link into new/, fsync new/) into ONE mailbox
 * for T seconds.  Afterwards one box open assigns the UIDs; its time and
 * the check that every message got one are printed too.
 *
 *   bench-deliver [-w WRITERS] [-t SECONDS] [-d DIR]
 *
 * DIR (default a new directory under $TMPDIR or /var/tmp, a real disk, not
 * tmpfs) is removed afterwards.  Output: "deliver writers=W rate=R/s". */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "maildir/deliver.h"
#include "maildir/fsutil.h"
#include "maildir/mailbox.h"
#include "maildir/user.h"

#define MSG_SIZE 4096

static char mail[4096];
static char message[MSG_SIZE];
static double deadline;

struct writer {
	pthread_t tid;
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
	struct maildir_rcpt rcpt = { "bench", NULL };
	struct writer *w = arg;
	struct maildir_delivery *d;
	char err[256];

	while (now() < deadline) {
		d = maildir_delivery_begin(mail, err, sizeof(err));
		if (d == NULL ||
		    maildir_delivery_write(d, message, sizeof(message)) < 0 ||
		    maildir_delivery_commit(d, &rcpt, 1, err, sizeof(err)) < 0) {
			fprintf(stderr, "deliver: %s\n", err);
			w->failed = 1;
			maildir_delivery_free(&d);
			break;
		}
		maildir_delivery_free(&d);
		w->done++;
	}
	return NULL;
}

static void fill_message(void)
{
	static const char head[] = "From: bench@example.org\r\nTo: bench@example.org\r\n"
		"Subject: benchmark\r\n\r\n";
	size_t i;

	memcpy(message, head, sizeof(head) - 1);
	for (i = sizeof(head) - 1; i < MSG_SIZE; i++)
		message[i] = (i % 72 == 70) ? '\r' : (i % 72 == 71) ? '\n' : 'x';
	message[MSG_SIZE - 2] = '\r';
	message[MSG_SIZE - 1] = '\n';
}

int main(int argc, char **argv)
{
	const char *base = getenv("TMPDIR"), *dir = NULL;
	char tmpl[4096], err[256];
	struct writer *ws;
	struct maildir_store *s;
	struct maildir_box *box;
	int nw = 1, c, i, failed = 0;
	double secs = 3, t0, elapsed, topen;
	long total = 0;

	while ((c = getopt(argc, argv, "w:t:d:")) != -1) {
		switch (c) {
		case 'w': nw = atoi(optarg); break;
		case 't': secs = atof(optarg); break;
		case 'd': dir = optarg; break;
		default:
			fprintf(stderr, "usage: bench-deliver [-w WRITERS] [-t SECONDS] [-d DIR]\n");
			return 2;
		}
	}
	if (nw < 1 || secs <= 0)
		return 2;
	snprintf(tmpl, sizeof(tmpl), "%s/bench-deliver-XXXXXX",
		 base != NULL && *base != '\0' ? base : "/var/tmp");
	if (dir == NULL && (dir = mkdtemp(tmpl)) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(mail, sizeof(mail), "%s/mail", dir);
	if (maildir_user_create(mail, "bench", err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	fill_message();
	ws = calloc((size_t)nw, sizeof(*ws));
	t0 = now();
	deadline = t0 + secs;
	for (i = 0; i < nw; i++)
		pthread_create(&ws[i].tid, NULL, writer_main, &ws[i]);
	for (i = 0; i < nw; i++) {
		pthread_join(ws[i].tid, NULL);
		total += ws[i].done;
		failed |= ws[i].failed;
	}
	elapsed = now() - t0;
	t0 = now();
	if (maildir_store_open(mail, "bench", &s, err, sizeof(err)) < 0 ||
	    maildir_box_open(s, "INBOX", 0, &box, err, sizeof(err)) < 0) {
		fprintf(stderr, "open: %s\n", err);
		return 1;
	}
	topen = now() - t0;
	if ((long)maildir_box_count(box) != total) {
		fprintf(stderr, "bench-deliver: %zu indexed, %ld delivered\n",
			maildir_box_count(box), total);
		failed = 1;
	}
	maildir_box_close(&box);
	maildir_store_close(&s);
	printf("deliver writers=%d messages=%ld seconds=%.2f rate=%.0f/s "
	       "(then UIDs for all in %.0f ms)\n", nw, total, elapsed,
	       total / elapsed, topen * 1e3);
	fs_rmtree(dir);
	free(ws);
	return failed;
}
