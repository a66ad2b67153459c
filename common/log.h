#ifndef COMMON_LOG_H
#define COMMON_LOG_H
#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"

/* One line per event: `2026-11-23T04:00:00Z service[session]: message`, to
 * stderr (when enabled) and to the log file.  Safe from any thread: each line
 * is one write(2). */

/* path may be NULL (no file).  -1 with errno if the file cannot be opened. */
int log_open(const char *path, bool to_stderr);
/* Reopens the file (SIGHUP, log rotation). */
int log_reopen(void);
void log_close(void);
/* `session` may be NULL for server-wide events. */
void log_msg(const char *service, const char *session, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Appends client-supplied bytes to b with anything unprintable escaped
 * (\r, \n, \xNN), at most `max` input bytes, so a log line stays one line. */
void log_escape(struct buf *b, const char *p, size_t n, size_t max);

#endif
