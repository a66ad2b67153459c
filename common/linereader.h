#ifndef COMMON_LINEREADER_H
#define COMMON_LINEREADER_H
#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"

/* Splits a byte stream into lines with a hard maximum.  Pure: the caller feeds
 * whatever bytes arrived and gets one event at a time.
 *
 * A line ends at CRLF.  A bare LF ends a line too when `bare_lf_ends_line` is
 * set (the line is then flagged LINE_BARE_LF); otherwise it is kept in the
 * line and flagged.  A line longer than `max`
 * (counting its CRLF) is not buffered: the reader drops its bytes as they come
 * and reports LR_OVERLONG once its end is reached, so replies stay in order
 * and the stream is in sync again at the next line. */

enum lr_result {
	LR_MORE,	/* all bytes used, no complete line yet */
	LR_LINE,	/* lr->line holds a line, without its terminator */
	LR_OVERLONG,	/* a line passed max and has now ended */
};

struct line_reader {
	struct buf line;	/* the line so far / the finished line */
	size_t max;		/* including CRLF */
	bool bare_lf_ends_line;
	bool skipping;		/* inside an overlong line */
	bool done;		/* last call returned a line: clear on next feed */
	bool last_cr;		/* the last byte taken was a CR */
	unsigned flags;		/* LINE_* flags (common/proto.h) of the line */
};

void lr_init(struct line_reader *lr, size_t max, bool bare_lf_ends_line);
void lr_free(struct line_reader *lr);
/* Forgets any partial line (after STARTTLS, or a mode change). */
void lr_reset(struct line_reader *lr);
/* Consumes bytes of data[0..len) up to and including the end of one line.
 * *used_r: how many bytes were consumed (all of them on LR_MORE). */
enum lr_result lr_feed(struct line_reader *lr, const char *data, size_t len,
		       size_t *used_r);
/* True when a partial line is buffered (for "unterminated" diagnostics). */
bool lr_pending(const struct line_reader *lr);

#endif
