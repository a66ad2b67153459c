/* maillab trace list|follow|show [-d DIR] ...
 *
 *   list [--service S] [--user U] [--last N]   recent sessions, oldest first
 *   follow                                     new lines of every session,
 *                                              as they are written
 *   show ID [--explain] [--html]               one session's dialogue
 *
 * Reads DIR/log/trace/ (written by `maillab serve` with trace = on). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/trace.h"
#include "common/xalloc.h"

#define USAGE \
	"usage: maillab trace list [-d DIR] [--service S] [--user U] [--last N]\n" \
	"       maillab trace follow [-d DIR]\n" \
	"       maillab trace show [-d DIR] ID [--explain] [--html]\n"

#define DEFAULT_LAST 20

struct list_filter {
	const char *service;	/* a service, or a protocol (all its services) */
	const char *user;
	size_t last;
};

static int usage(void)
{
	fputs(USAGE, stderr);
	return 2;
}

static char *trace_dir(const char *dir)
{
	size_t n = strlen(dir) + sizeof("/log/trace");
	char *path = xmalloc(n);

	snprintf(path, n, "%s/log/trace", dir);
	return path;
}

static bool wanted(const struct trace_session *ts, const struct list_filter *f)
{
	const struct explainer *ex = trace_explainer(ts->service);

	if (f->service != NULL && strcmp(f->service, ts->service) != 0 &&
	    (ex == NULL || strcmp(f->service, ex->protocol) != 0))
		return false;
	return f->user == NULL || strcmp(f->user, ts->user) == 0;
}

static void print_session(const struct trace_session *ts)
{
	char outcome[64];
	long long ms = trace_session_duration(ts);

	trace_session_outcome(ts, outcome, sizeof(outcome));
	printf("%-14s %-12s %-16s %-10s %s %.8s %4lld.%03llds %6zu  %s\n",
	       ts->id, ts->service, ts->peer[0] ? ts->peer : "-",
	       ts->user[0] ? ts->user : "-", ts->day[0] ? ts->day : "?",
	       ts->n_lines ? ts->lines[0].time : "?", ms / 1000, ms % 1000,
	       ts->n_dialogue, outcome);
}

static int open_dir(const char *path, DIR **d)
{
	*d = opendir(path);
	if (*d == NULL) {
		fprintf(stderr, "maillab trace: %s: %s\n", path, strerror(errno));
		return 1;
	}
	return 0;
}

static int cmd_list(const char *dir, const struct list_filter *f)
{
	struct trace_session *all;
	size_t n, n_wanted = 0, seen = 0;

	if (trace_sessions_load_all(dir, &all, &n) < 0) {
		fprintf(stderr, "maillab trace: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		n_wanted += wanted(&all[i], f);
	printf("%-14s %-12s %-16s %-10s %-19s %9s %6s  %s\n", "ID", "SERVICE",
	       "CLIENT", "USER", "START (UTC)", "DURATION", "LINES", "OUTCOME");
	for (size_t i = 0; i < n; i++) {
		if (wanted(&all[i], f) && seen++ + f->last >= n_wanted)
			print_session(&all[i]);
	}
	trace_sessions_free(&all, n);
	return ferror(stdout) ? 1 : 0;
}

/* The file of session `id` ("13ff3c0000b", or its file name with or
 * without ".log"); 0 with the name in name_r, or 1 with a message. */
static int find_session(const char *dir, const char *id, char *name_r,
			size_t len)
{
	struct dirent *de;
	DIR *d;
	int ret = 1;

	if (open_dir(dir, &d) != 0)
		return 1;
	while ((de = readdir(d)) != NULL) {
		const char *dash = strrchr(de->d_name, '-');
		size_t n = strlen(de->d_name), idlen = strlen(id);

		if (n < 5 || strcmp(de->d_name + n - 4, ".log") != 0 || dash == NULL)
			continue;
		if (strcmp(de->d_name, id) == 0 ||
		    (strncmp(de->d_name, id, n - 4) == 0 && idlen == n - 4) ||
		    (strncmp(dash + 1, id, idlen) == 0 && dash + 1 + idlen ==
		     de->d_name + n - 4)) {
			snprintf(name_r, len, "%s", de->d_name);
			ret = 0;
			break;
		}
	}
	closedir(d);
	if (ret != 0)
		fprintf(stderr, "maillab trace: no session %s in %s\n", id, dir);
	return ret;
}

static int cmd_show(const char *dir, const char *id, bool explain, bool html)
{
	struct trace_session ts;
	char name[512];
	int ret;

	if (find_session(dir, id, name, sizeof(name)) != 0)
		return 1;
	if (trace_session_load(dir, name, &ts) < 0) {
		fprintf(stderr, "maillab trace: %s/%s: %s\n", dir, name,
			strerror(errno));
		return 1;
	}
	ret = html ? trace_show_html(&ts, stdout) :
		trace_show_text(&ts, explain, stdout);
	trace_session_free(&ts);
	return ret;
}

static int parse_count(const char *s, size_t *n_r)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1)
		return -1;
	*n_r = (size_t)v;
	return 0;
}

static int run_list(const char *dir, int argc, char **argv)
{
	struct list_filter f = { NULL, NULL, DEFAULT_LAST };

	for (int i = 2; i < argc; i++) {
		if (i + 1 < argc && strcmp(argv[i], "--service") == 0)
			f.service = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--user") == 0)
			f.user = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--last") == 0) {
			if (parse_count(argv[++i], &f.last) < 0)
				return usage();
		} else
			return usage();
	}
	return cmd_list(dir, &f);
}

static int run_show(const char *dir, int argc, char **argv)
{
	const char *id = NULL;
	bool explain = false, html = false;

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--explain") == 0)
			explain = true;
		else if (strcmp(argv[i], "--html") == 0)
			html = true;
		else if (argv[i][0] != '-' && id == NULL)
			id = argv[i];
		else
			return usage();
	}
	if (id == NULL)
		return usage();
	return cmd_show(dir, id, explain, html);
}

int maillab_trace(int argc, char **argv)
{
	const char *inst = cli_take_dir(&argc, argv);
	char *dir;
	int ret;

	if (argc < 2)
		return usage();
	dir = trace_dir(inst);
	if (strcmp(argv[1], "list") == 0)
		ret = run_list(dir, argc, argv);
	else if (strcmp(argv[1], "show") == 0)
		ret = run_show(dir, argc, argv);
	else if (strcmp(argv[1], "follow") == 0 && argc == 2)
		ret = trace_follow(dir);
	else
		ret = usage();
	free(dir);
	return ret;
}
