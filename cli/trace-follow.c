/* `maillab trace follow`: every line written to DIR/log/trace/ from now
 * on, from every session, as it is written (like tail -f over all the
 * files), until SIGINT or SIGTERM.  inotify wakes it when a file is
 * created or written; without inotify it polls. */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/trace.h"
#include "common/xalloc.h"

#define POLL_MS 250

struct followed {
	char *name;
	off_t offset;		/* bytes already printed (whole lines) */
};

struct follow {
	const char *dir;
	struct followed *files;
	size_t n, cap;
};

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static struct followed *find_file(struct follow *fw, const char *name)
{
	for (size_t i = 0; i < fw->n; i++)
		if (strcmp(fw->files[i].name, name) == 0)
			return &fw->files[i];
	return NULL;
}

static struct followed *add_file(struct follow *fw, const char *name,
				 off_t offset)
{
	if (fw->n == fw->cap) {
		fw->cap = fw->cap ? fw->cap * 2 : 64;
		fw->files = xreallocarray(fw->files, fw->cap, sizeof(*fw->files));
	}
	fw->files[fw->n].name = xstrdup(name);
	fw->files[fw->n].offset = offset;
	return &fw->files[fw->n++];
}

/* Prints the whole lines of `name` after f->offset, each prefixed with the
 * file's name ("imap-13ff3c0000b"). */
static void print_new(struct follow *fw, struct followed *f)
{
	char path[4096], *line = NULL;
	size_t cap = 0;
	ssize_t got;
	FILE *in;

	if (snprintf(path, sizeof(path), "%s/%s", fw->dir, f->name) >=
	    (int)sizeof(path) || (in = fopen(path, "r")) == NULL)
		return;
	if (fseeko(in, f->offset, SEEK_SET) == 0) {
		while ((got = getline(&line, &cap, in)) > 0 &&
		       line[got - 1] == '\n') {
			printf("%.*s %s", (int)(strlen(f->name) - 4), f->name, line);
			f->offset += got;
		}
	}
	free(line);
	fclose(in);
	fflush(stdout);
}

static bool is_trace_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 4 && strcmp(name + n - 4, ".log") == 0;
}

/* One pass over the directory.  At the start (`initial`) the files that
 * exist are taken from their end: only what is written from now on is
 * shown; a file that appears later is shown from its first line. */
static void scan(struct follow *fw, bool initial)
{
	DIR *d = opendir(fw->dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		struct followed *f;
		struct stat st;
		char path[4096];

		if (!is_trace_name(de->d_name))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", fw->dir, de->d_name) >=
		    (int)sizeof(path) || stat(path, &st) != 0)
			continue;
		f = find_file(fw, de->d_name);
		if (f == NULL)
			f = add_file(fw, de->d_name, initial ? st.st_size : 0);
		if (st.st_size > f->offset)
			print_new(fw, f);
	}
	closedir(d);
}

int trace_follow(const char *trace_dir)
{
	struct follow fw = { .dir = trace_dir };
	struct sigaction sa;
	int ino;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (access(trace_dir, R_OK | X_OK) != 0) {
		fprintf(stderr, "maillab trace: %s: %s\n", trace_dir, strerror(errno));
		return 1;
	}
	ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ino >= 0 && inotify_add_watch(ino, trace_dir, IN_CREATE | IN_MODIFY) < 0) {
		close(ino);
		ino = -1;
	}
	scan(&fw, true);
	fprintf(stderr, "maillab trace: following %s (Ctrl-C stops)\n", trace_dir);
	while (!stop_requested) {
		struct pollfd pfd = { .fd = ino, .events = POLLIN };
		char events[4096];

		/* A timeout as well: a missed event costs at most POLL_MS. */
		if (poll(&pfd, ino >= 0 ? 1 : 0, POLL_MS) > 0)
			while (read(ino, events, sizeof(events)) > 0)
				;
		scan(&fw, false);
	}
	if (ino >= 0)
		close(ino);
	for (size_t i = 0; i < fw.n; i++)
		free(fw.files[i].name);
	free(fw.files);
	return 0;
}
