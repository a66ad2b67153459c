#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xalloc.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_fd = -1;
static char *log_path;
static bool log_stderr = true;

int log_open(const char *path, bool to_stderr)
{
	int fd = -1;

	if (path != NULL) {
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (fd < 0)
			return -1;
	}
	pthread_mutex_lock(&log_lock);
	if (log_fd >= 0)
		close(log_fd);
	log_fd = fd;
	free(log_path);
	log_path = path != NULL ? xstrdup(path) : NULL;
	log_stderr = to_stderr;
	pthread_mutex_unlock(&log_lock);
	return 0;
}

int log_reopen(void)
{
	char *path;
	int ret;

	pthread_mutex_lock(&log_lock);
	path = log_path != NULL ? xstrdup(log_path) : NULL;
	pthread_mutex_unlock(&log_lock);
	if (path == NULL)
		return 0;
	ret = log_open(path, log_stderr);
	free(path);
	return ret;
}

void log_close(void)
{
	pthread_mutex_lock(&log_lock);
	if (log_fd >= 0)
		close(log_fd);
	log_fd = -1;
	free(log_path);
	log_path = NULL;
	pthread_mutex_unlock(&log_lock);
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

void log_msg(const char *service, const char *session, const char *fmt, ...)
{
	struct buf line = BUF_INIT(16384);
	char stamp[32];
	struct tm tm;
	time_t now = time(NULL);
	va_list ap;
	int saved_errno = errno;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	buf_printf(&line, "%s %s", stamp, service);
	if (session != NULL)
		buf_printf(&line, "[%s]", session);
	buf_puts(&line, ": ");
	va_start(ap, fmt);
	errno = saved_errno;	/* so %m works */
	if (buf_vprintf(&line, fmt, ap) < 0)
		buf_puts(&line, "(log line too long)");
	va_end(ap);
	buf_putc(&line, '\n');
	pthread_mutex_lock(&log_lock);
	if (log_stderr)
		write_all(STDERR_FILENO, line.data, line.len);
	if (log_fd >= 0)
		write_all(log_fd, line.data, line.len);
	pthread_mutex_unlock(&log_lock);
	buf_free(&line);
	errno = saved_errno;
}

void log_escape(struct buf *b, const char *p, size_t n, size_t max)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n && i < max; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\r')
			buf_puts(b, "\\r");
		else if (c == '\n')
			buf_puts(b, "\\n");
		else if (c == '\\')
			buf_puts(b, "\\\\");
		else if (c < 0x20 || c == 0x7f) {
			char esc[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };

			buf_append(b, esc, 4);
		} else
			buf_putc(b, (char)c);
	}
	if (n > max)
		buf_puts(b, "...");
}
