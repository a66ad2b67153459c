#ifndef CLI_TRACE_H
#define CLI_TRACE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common/explain.h"

/* `maillab trace`: reading the per-session files common/trace.c writes to
 * DIR/log/trace/ (SERVICE-ID.log, lines "HH:MM:SS.mmm W: text" with W one
 * of C, S, *), and showing them: list (cli/trace.c), follow
 * (cli/trace-follow.c), show as text (cli/trace-show.c) or as an SVG
 * sequence diagram (cli/trace-html.c). */

struct trace_line {
	char who;		/* 'C', 'S' or '*' */
	char time[13];		/* "HH:MM:SS.mmm", UTC */
	long long ms;		/* since the start day's midnight */
	char *text;		/* after "W: ", as the trace wrote it */
};

struct trace_session {
	char service[24];	/* "smtp", "submission", "imaps"... */
	char id[32];
	char day[11];		/* "YYYY-MM-DD" of the first line, or "" */
	char peer[64];		/* client address, or "" */
	char user[64];		/* last user logged in, or "" */
	struct trace_line *lines;
	size_t n_lines, lines_cap;
	size_t n_dialogue;	/* C: and S: lines */
	bool ended;		/* "session ended" was written */
	bool timeout, tls_error, client_closed, auth_failed, quit;
	char last_server[16];	/* start of the last S: line */
};

/* Reads DIR's file `name` ("imap-13ff3c0000b.log").  0, or -1 with errno. */
int trace_session_load(const char *dir, const char *name,
		       struct trace_session *ts);
/* Adds one line of a trace file (without its newline); a line that is not
 * "HH:MM:SS.mmm W: text" is skipped.  Set ts->service before the first. */
void trace_session_add_line(struct trace_session *ts, const char *raw);
void trace_session_free(struct trace_session *ts);
/* Loads every session file of trace directory `dir` (unreadable files
 * are skipped), oldest first (trace_session_cmp_start).  0 with the array
 * in *all_r (free with trace_sessions_free) and its length in *n_r, or -1
 * with errno when the directory cannot be read. */
int trace_sessions_load_all(const char *dir, struct trace_session **all_r,
			    size_t *n_r);
void trace_sessions_free(struct trace_session **all, size_t n);
/* qsort order of sessions by their first line (day, time, id). */
int trace_session_cmp_start(const void *a, const void *b);
/* How the session ended, in a word or three ("quit", "timeout", "open"). */
void trace_session_outcome(const struct trace_session *ts, char *buf,
			   size_t len);
/* Milliseconds from the first line to the latest. */
long long trace_session_duration(const struct trace_session *ts);
/* The explainer for a service name (submission -> SMTP...), or NULL. */
const struct explainer *trace_explainer(const char *service);
/* Splits a line of a trace file; false when it is not one. */
bool trace_parse_line(const char *line, struct trace_line *out);

/* One thing to show, in order: an arrow (a line of dialogue, or a message
 * body counted), an event, or a change of the session's state. */
enum show_kind { SHOW_ARROW, SHOW_EVENT, SHOW_STATE };

struct show_item {
	enum show_kind kind;
	char who;			/* SHOW_ARROW: 'C' or 'S' */
	const char *time;		/* "HH:MM:SS.mmm" */
	char *text;			/* what to print (owned) */
	bool elided;			/* message data counted, not shown */
	struct explain_line ex;		/* rows, tls/auth marks */
};

struct show_list {
	struct show_item *items;
	size_t n, cap;
	size_t n_arrows;
};

/* Walks ts with its explainer into items. */
void show_build(const struct trace_session *ts, struct show_list *list);
void show_free(struct show_list *list);

int trace_show_text(const struct trace_session *ts, bool explain, FILE *out);
int trace_show_html(const struct trace_session *ts, FILE *out);
/* `maillab trace follow`: until SIGINT/SIGTERM.  Returns the exit code. */
int trace_follow(const char *trace_dir);

#endif
