#ifndef COMMON_TRACE_H
#define COMMON_TRACE_H
#include <stddef.h>

/* The protocol trace (DESIGN.md "Teaching"): every line of a session's
 * dialogue, `TIMESTAMP C: line` from the client and `TIMESTAMP S: line` from
 * the server, in DIR/log/trace/SERVICE-ID.log.  Secrets never reach it: the
 * protocol says how much of a client line is visible (ops->trace_visible) and
 * the rest is written as <redacted>.  `*:` lines note events: the first
 * line of a file is `*: trace started YYYY-MM-DD SERVICE ID` (the date of
 * the timestamps that follow, UTC), authentication results are
 * `*: auth ok user=NAME` / `*: auth failed user=NAME`, and the last line of
 * a finished session is `*: session ended` (`maillab trace` reads these). */

struct trace;

/* NULL when the file cannot be created (tracing is then skipped).  Writes
 * the `trace started` line. */
struct trace *trace_open(const char *trace_dir, const char *service,
			 const char *session_id);
void trace_client(struct trace *t, const char *line, size_t len, size_t visible);
/* Server output: split into lines at CRLF. */
void trace_server(struct trace *t, const char *data, size_t len);
void trace_note(struct trace *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Writes `session ended`, closes the file and sets *tp to NULL. */
void trace_close(struct trace **tp);

#endif
