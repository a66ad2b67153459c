/* Reading a session's trace file (common/trace.h gives the format) and
 * walking it with the protocol's explainer into what `maillab trace show`
 * prints and draws. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/trace.h"
#include "common/xalloc.h"
#include "imapd/explain.h"
#include "pop3d/explain.h"
#include "smtpd/explain.h"

#define DAY_MS (24LL * 3600 * 1000)

static bool digits(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

bool trace_parse_line(const char *line, struct trace_line *out)
{
	/* "HH:MM:SS.mmm W: " */
	if (strlen(line) < 15 || !digits(line, 2) || line[2] != ':' ||
	    !digits(line + 3, 2) || line[5] != ':' || !digits(line + 6, 2) ||
	    line[8] != '.' || !digits(line + 9, 3) || line[12] != ' ' ||
	    strchr("CS*", line[13]) == NULL || line[14] != ':')
		return false;
	memcpy(out->time, line, 12);
	out->time[12] = '\0';
	out->who = line[13];
	out->ms = ((atoll(line) * 60 + atoll(line + 3)) * 60 + atoll(line + 6)) *
		  1000 + atoll(line + 9);
	out->text = (char *)(line[15] == ' ' ? line + 16 : line + 15);
	return true;
}

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* What `list` shows, gathered from the events and the dialogue. */
static void note_line(struct trace_session *ts, const struct trace_line *l)
{
	const char *t = l->text;

	if (l->who == 'S') {
		snprintf(ts->last_server, sizeof(ts->last_server), "%s", t);
	} else if (l->who == 'C') {
		char w1[16], w2[16];

		explain_word(explain_word(t, w1, sizeof(w1)), w2, sizeof(w2));
		if (strcmp(w1, "QUIT") == 0 || strcmp(w2, "LOGOUT") == 0)
			ts->quit = true;
	} else if (starts(t, "trace started ")) {
		snprintf(ts->day, sizeof(ts->day), "%.10s", t + 14);
	} else if (starts(t, "connection from ")) {
		snprintf(ts->peer, sizeof(ts->peer), "%.*s",
			 (int)strcspn(t + 16, " "), t + 16);
	} else if (starts(t, "auth ok user=")) {
		snprintf(ts->user, sizeof(ts->user), "%s", t + 13);
		ts->auth_failed = false;
	} else if (starts(t, "auth failed")) {
		ts->auth_failed = ts->user[0] == '\0';
	} else if (starts(t, "idle timeout")) {
		ts->timeout = true;
	} else if (starts(t, "TLS error")) {
		ts->tls_error = true;
	} else if (starts(t, "client closed its side")) {
		ts->client_closed = true;
	} else if (starts(t, "session ended")) {
		ts->ended = true;
	}
}

void trace_session_add_line(struct trace_session *ts, const char *raw)
{
	struct trace_line l;

	if (!trace_parse_line(raw, &l))
		return;		/* not a trace line: skipped */
	if (ts->n_lines == ts->lines_cap) {
		ts->lines_cap = ts->lines_cap ? ts->lines_cap * 2 : 64;
		ts->lines = xreallocarray(ts->lines, ts->lines_cap, sizeof(*ts->lines));
	}
	/* Times are of the day: one going back by hours is the next day. */
	if (ts->n_lines > 0) {
		long long prev = ts->lines[ts->n_lines - 1].ms;

		while (l.ms + DAY_MS / 2 < prev)
			l.ms += DAY_MS;
	}
	l.text = xstrdup(l.text);
	ts->lines[ts->n_lines++] = l;
	if (l.who != '*')
		ts->n_dialogue++;
	note_line(ts, &ts->lines[ts->n_lines - 1]);
}

/* "imap-13ff3c0000b.log" -> service "imap", id "13ff3c0000b" */
static bool split_name(const char *name, struct trace_session *ts)
{
	const char *dash = strrchr(name, '-');
	size_t n = strlen(name);

	if (dash == NULL || n < 5 || strcmp(name + n - 4, ".log") != 0 ||
	    (size_t)(dash - name) >= sizeof(ts->service) ||
	    (size_t)(name + n - 4 - dash - 1) >= sizeof(ts->id) ||
	    name + n - 4 == dash + 1)
		return false;
	snprintf(ts->service, sizeof(ts->service), "%.*s", (int)(dash - name), name);
	snprintf(ts->id, sizeof(ts->id), "%.*s", (int)(name + n - 4 - dash - 1),
		 dash + 1);
	return true;
}

int trace_session_load(const char *dir, const char *name,
		       struct trace_session *ts)
{
	char path[4096], *line = NULL;
	size_t linecap = 0;
	ssize_t got;
	FILE *f;

	memset(ts, 0, sizeof(*ts));
	if (!split_name(name, ts) ||
	    snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
		errno = EINVAL;
		return -1;
	}
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while ((got = getline(&line, &linecap, f)) > 0) {
		/* An unfinished last line (the session is live) waits. */
		if (line[got - 1] != '\n')
			break;
		line[got - 1] = '\0';
		trace_session_add_line(ts, line);
	}
	free(line);
	fclose(f);
	return 0;
}

void trace_session_free(struct trace_session *ts)
{
	for (size_t i = 0; i < ts->n_lines; i++)
		free(ts->lines[i].text);
	free(ts->lines);
	ts->lines = NULL;
	ts->n_lines = ts->lines_cap = 0;
}

long long trace_session_duration(const struct trace_session *ts)
{
	long long last = 0;

	/* The latest line, not the last: the clock may have been set back. */
	for (size_t i = 0; i < ts->n_lines; i++)
		if (ts->lines[i].ms - ts->lines[0].ms > last)
			last = ts->lines[i].ms - ts->lines[0].ms;
	return last;
}

void trace_session_outcome(const struct trace_session *ts, char *buf,
			   size_t len)
{
	const char *how;
	const char *s = ts->last_server;

	if (!ts->ended)
		how = "open";
	else if (ts->timeout)
		how = "timeout";
	else if (ts->tls_error)
		how = "TLS error";
	else if (ts->quit)
		how = "quit";
	else if (starts(s, "421") || starts(s, "* BYE") || starts(s, "-ERR"))
		how = "closed by server";
	else if (ts->client_closed)
		how = "client hung up";
	else
		how = "closed";
	snprintf(buf, len, "%s%s", how, ts->auth_failed ? ", auth failed" : "");
}

const struct explainer *trace_explainer(const char *service)
{
	static const struct {
		const char *service;
		const struct explainer *ex;
	} map[] = {
		{ "smtp", &smtp_explainer }, { "submission", &smtp_explainer },
		{ "submissions", &smtp_explainer }, { "pop3", &pop3_explainer },
		{ "pop3s", &pop3_explainer }, { "imap", &imap_explainer },
		{ "imaps", &imap_explainer },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].service, service) == 0)
			return map[i].ex;
	return NULL;
}

int trace_session_cmp_start(const void *a, const void *b)
{
	const struct trace_session *x = a, *y = b;
	int c = strcmp(x->day, y->day);
	long long tx = x->n_lines ? x->lines[0].ms : 0;
	long long ty = y->n_lines ? y->lines[0].ms : 0;

	if (c != 0)
		return c;
	if (tx != ty)
		return tx < ty ? -1 : 1;
	return strcmp(x->id, y->id);
}

int trace_sessions_load_all(const char *dir, struct trace_session **all_r,
			    size_t *n_r)
{
	struct trace_session *all = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	*all_r = NULL;
	*n_r = 0;
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		struct trace_session ts;

		if (de->d_name[0] == '.' ||
		    trace_session_load(dir, de->d_name, &ts) < 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			all = xreallocarray(all, cap, sizeof(*all));
		}
		all[n++] = ts;
	}
	closedir(d);
	if (n > 0)
		qsort(all, n, sizeof(*all), trace_session_cmp_start);
	*all_r = all;
	*n_r = n;
	return 0;
}

void trace_sessions_free(struct trace_session **all, size_t n)
{
	for (size_t i = 0; i < n; i++)
		trace_session_free(&(*all)[i]);
	free(*all);
	*all = NULL;
}
