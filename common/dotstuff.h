#ifndef COMMON_DOTSTUFF_H
#define COMMON_DOTSTUFF_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* The dot-stuffing writer shared by POP3 multi-line responses (RFC 1939 3)
 * and the SMTP client's DATA (RFC 5321 4.5.2): every line that starts with
 * '.' gets one more, bare LF becomes CRLF when asked, and the text ends
 * with CRLF "." CRLF (a CRLF first when the text does not end a line).  The
 * source bytes belong to the caller and must stay valid until
 * dot_writer_write() has returned true. */
struct dot_writer {
	const char *data;
	size_t size;
	size_t pos;		/* next source byte */
	bool convert_lf;	/* bare LF -> CRLF */
	bool limited;		/* TOP: stop after `lines_left` body lines */
	bool in_body;		/* TOP: the header's empty line was sent */
	uint64_t lines_left;
	bool line_start;	/* the next byte sent starts a line */
	bool finished;		/* the terminator is written */
};

/* Starts writing data[0..size).  top_lines < 0: all of it; else the
 * header, the empty line and that many body lines (RFC 1939 7 TOP). */
void dot_writer_init(struct dot_writer *w, const char *data, size_t size,
		     bool convert_lf, int64_t top_lines);
/* Appends about `chunk` bytes to out (at most chunk + 1, the stuffed dot;
 * fewer when the text ends, then the terminator too).  Returns true when
 * the terminator has been written. */
bool dot_writer_write(struct dot_writer *w, struct buf *out, size_t chunk);

#endif
