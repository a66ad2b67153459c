#include <string.h>

#include "common/linereader.h"
#include "common/proto.h"

void lr_init(struct line_reader *lr, size_t max, bool bare_lf_ends_line)
{
	/* The buffer holds the content and a trailing CR at most. */
	buf_init(&lr->line, max > 1 ? max - 1 : 1);
	lr->max = max;
	lr->bare_lf_ends_line = bare_lf_ends_line;
	lr->skipping = false;
	lr->done = false;
	lr->flags = 0;
	lr->last_cr = false;
}

void lr_free(struct line_reader *lr)
{
	buf_free(&lr->line);
}

void lr_reset(struct line_reader *lr)
{
	buf_clear(&lr->line);
	lr->skipping = false;
	lr->done = false;
	lr->flags = 0;
	lr->last_cr = false;
}

bool lr_pending(const struct line_reader *lr)
{
	return !lr->done && (lr->line.len > 0 || lr->skipping);
}

/* Flags for the bytes of a chunk that stays inside the line. */
static unsigned scan_flags(const char *p, size_t n, bool lf_is_data)
{
	unsigned flags = 0;

	if (memchr(p, '\0', n) != NULL)
		flags |= LINE_HAS_NUL;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\r' && (i + 1 == n || p[i + 1] != '\n'))
			flags |= LINE_BARE_CR;
		if (lf_is_data && p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			flags |= LINE_BARE_LF;
	}
	return flags;
}

/* Appends a chunk that contains no line end, or starts skipping. */
static void take(struct line_reader *lr, const char *p, size_t n)
{
	if (n > 0)
		lr->last_cr = p[n - 1] == '\r';
	if (lr->skipping)
		return;
	if (buf_append(&lr->line, p, n) < 0) {
		buf_clear(&lr->line);
		lr->skipping = true;
	}
}

/* The line in lr->line ended with an LF (not stored).  Returns the event. */
static enum lr_result finish(struct line_reader *lr, bool crlf)
{
	struct buf *l = &lr->line;

	lr->done = true;
	lr->last_cr = false;
	if (lr->skipping) {
		lr->skipping = false;
		buf_clear(l);
		return LR_OVERLONG;
	}
	if (crlf)
		buf_truncate(l, l->len - 1);
	if (l->len + 2 > lr->max) {
		buf_clear(l);
		return LR_OVERLONG;
	}
	if (!crlf)
		lr->flags |= LINE_BARE_LF;
	lr->flags |= scan_flags(buf_cstr(l), l->len, !lr->bare_lf_ends_line);
	return LR_LINE;
}

enum lr_result lr_feed(struct line_reader *lr, const char *data, size_t len,
		       size_t *used_r)
{
	size_t pos = 0;

	if (lr->done) {
		buf_clear(&lr->line);
		lr->flags = 0;
		lr->done = false;
	}
	while (pos < len) {
		const char *lf = memchr(data + pos, '\n', len - pos);
		size_t n = lf != NULL ? (size_t)(lf - (data + pos)) : len - pos;
		bool cr_before;

		take(lr, data + pos, n);
		pos += n;
		if (lf == NULL)
			break;
		pos++;	/* the LF */
		cr_before = lr->last_cr;
		if (cr_before || lr->bare_lf_ends_line) {
			*used_r = pos;
			return finish(lr, cr_before);
		}
		/* A bare LF that does not end the line is data. */
		take(lr, "\n", 1);
	}
	*used_r = pos;
	return LR_MORE;
}
