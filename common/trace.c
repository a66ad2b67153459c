#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/trace.h"
#include "common/xalloc.h"

struct trace {
	FILE *f;
	struct buf partial;	/* server output not yet ended by CRLF */
	unsigned int lines;	/* server lines since the last client line */
	size_t skipped;		/* bytes of server output not shown */
};

static void stamp_at(struct trace *t, char who, const struct timeval *tv)
{
	struct tm tm;
	char when[32];

	gmtime_r(&tv->tv_sec, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	fprintf(t->f, "%s.%03ld %c: ", when, (long)(tv->tv_usec / 1000), who);
}

/* The lines carry only the time of day: this gives their date. */
static void write_start(struct trace *t, const char *service,
			const char *session_id)
{
	struct timeval tv;
	struct tm tm;
	char day[16];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	stamp_at(t, '*', &tv);
	fprintf(t->f, "trace started %s %s %s\n", day, service, session_id);
	fflush(t->f);
}

struct trace *trace_open(const char *trace_dir, const char *service,
			 const char *session_id)
{
	char path[4096];
	struct trace *t;
	int fd;
	FILE *f;

	if (snprintf(path, sizeof(path), "%s/%s-%s.log", trace_dir, service,
		     session_id) >= (int)sizeof(path))
		return NULL;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0)
		return NULL;
	f = fdopen(fd, "a");
	if (f == NULL) {
		close(fd);
		return NULL;
	}
	t = xcalloc(1, sizeof(*t));
	t->f = f;
	buf_init(&t->partial, 65536);
	write_start(t, service, session_id);
	return t;
}

static void stamp(struct trace *t, char who)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	stamp_at(t, who, &tv);
}

static void put_line(struct trace *t, char who, const char *p, size_t n,
		     size_t visible)
{
	struct buf esc = BUF_INIT(BUF_UNLIMITED);

	stamp(t, who);
	log_escape(&esc, p, visible < n ? visible : n, 4096);
	if (visible < n)
		buf_puts(&esc, "<redacted>");
	fwrite(esc.data != NULL ? esc.data : "", 1, esc.len, t->f);
	fputc('\n', t->f);
	buf_free(&esc);
}

static void flush_skipped(struct trace *t);

void trace_client(struct trace *t, const char *line, size_t len, size_t visible)
{
	if (t == NULL)
		return;
	flush_skipped(t);
	t->lines = 0;
	put_line(t, 'C', line, len, visible);
	fflush(t->f);
}

/* A message body sent back (RETR, FETCH) would double the disk traffic
 * and drown the dialogue: after this many lines in a row the server's output
 * is counted, not shown, until the client speaks again. */
#define TRACE_MAX_LINES 40

static void flush_skipped(struct trace *t)
{
	if (t->skipped == 0)
		return;
	stamp(t, '*');
	fprintf(t->f, "... %zu more bytes from the server not shown\n", t->skipped);
	t->skipped = 0;
}

void trace_server(struct trace *t, const char *data, size_t len)
{
	const char *p, *end = data + len;

	if (t == NULL)
		return;
	while (data < end && (p = memchr(data, '\n', (size_t)(end - data))) != NULL) {
		size_t n = (size_t)(p - data);

		if (++t->lines > TRACE_MAX_LINES) {
			t->skipped += t->partial.len + n + 1;
			buf_clear(&t->partial);
		} else if (t->partial.len > 0) {
			buf_append(&t->partial, data, n);
			n = t->partial.len;
			if (n > 0 && t->partial.data[n - 1] == '\r')
				n--;
			put_line(t, 'S', t->partial.data, n, n);
			buf_clear(&t->partial);
		} else {
			if (n > 0 && data[n - 1] == '\r')
				n--;
			put_line(t, 'S', data, n, n);
		}
		data = p + 1;
	}
	if (data < end && buf_append(&t->partial, data, (size_t)(end - data)) < 0) {
		t->skipped += t->partial.len + (size_t)(end - data);
		buf_clear(&t->partial);
	}
	fflush(t->f);
}

void trace_note(struct trace *t, const char *fmt, ...)
{
	va_list ap;

	if (t == NULL)
		return;
	flush_skipped(t);
	stamp(t, '*');
	va_start(ap, fmt);
	vfprintf(t->f, fmt, ap);
	va_end(ap);
	fputc('\n', t->f);
	fflush(t->f);
}

void trace_close(struct trace **tp)
{
	struct trace *t = *tp;

	if (t == NULL)
		return;
	*tp = NULL;
	flush_skipped(t);
	stamp(t, '*');
	fputs("session ended\n", t->f);
	fclose(t->f);
	buf_free(&t->partial);
	free(t);
}
