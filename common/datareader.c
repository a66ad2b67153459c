#include <errno.h>
#include <string.h>

#include "common/datareader.h"

enum {
	ST_LINE_START,	/* after CRLF (or at the very start) */
	ST_MID,		/* inside a line */
	ST_CR,		/* inside a line, after a CR */
	ST_DOT,		/* "." at the start of a line (withheld) */
	ST_DOT_CR,	/* ".\r" at the start of a line (withheld) */
};

void dr_init(struct data_reader *dr, size_t max_size, size_t max_line,
	     data_write_fn *sink, void *sink_arg)
{
	memset(dr, 0, sizeof(*dr));
	dr->sink = sink;
	dr->sink_arg = sink_arg;
	dr->max_size = max_size;
	dr->max_line = max_line;
	dr->state = ST_LINE_START;
}

static void emit(struct data_reader *dr, const char *p, size_t n)
{
	if (n == 0)
		return;
	dr->size += n;
	if (dr->size > dr->max_size)
		dr->too_big = true;
	if (dr->too_big || dr->write_failed)
		return;
	if (dr->sink(dr->sink_arg, p, n) < 0) {
		dr->write_failed = true;
		dr->write_errno = errno != 0 ? errno : EIO;
	}
}

static void count_line_byte(struct data_reader *dr, unsigned char c)
{
	dr->line_len++;
	if (dr->line_len > dr->max_line)
		dr->long_line = true;
	if (c >= 0x80)
		dr->eight_bit = true;
	else if (c == '\0')
		dr->has_nul = true;
}

static void note_bare_lf(struct data_reader *dr)
{
	dr->bare_lf = true;
	dr->lf_dot = 1;
}

/* Advances over one byte; returns true when the byte must not be copied to
 * the sink as part of the current run (it was withheld or removed). */
static bool step(struct data_reader *dr, char ch)
{
	unsigned char c = (unsigned char)ch;

	/* "\n." then a line end: not the terminator (bad_end). */
	if (dr->lf_dot == 2 && (c == '\r' || c == '\n'))
		dr->bad_end = true;
	dr->lf_dot = dr->lf_dot == 1 && c == '.' ? 2 : 0;
	switch (dr->state) {
	case ST_LINE_START:
		dr->line_len = 0;
		if (c == '.') {
			dr->line_len = 1;
			dr->state = ST_DOT;
			return true;
		}
		dr->state = ST_MID;
		/* fall through */
	case ST_MID:
	mid:
		count_line_byte(dr, c);
		if (c == '\r')
			dr->state = ST_CR;
		else if (c == '\n')
			note_bare_lf(dr);
		return false;
	case ST_CR:
		count_line_byte(dr, c);
		if (c == '\n') {
			dr->state = ST_LINE_START;
			return false;
		}
		dr->bare_cr = true;
		dr->state = ST_MID;
		if (c == '\r')
			dr->state = ST_CR;
		else if (c == '\n')
			note_bare_lf(dr);
		return false;
	case ST_DOT:
		/* RFC 5321 4.5.2: the leading dot is removed. */
		if (c == '\r') {
			dr->state = ST_DOT_CR;
			return true;
		}
		if (c == '\n')
			dr->bad_end = true;	/* CRLF "." LF */
		dr->state = ST_MID;
		goto mid;
	case ST_DOT_CR:
		if (c == '\n') {
			dr->done = true;
			return true;
		}
		/* ".\r" then something else: the CR was data after all. */
		dr->bare_cr = true;
		count_line_byte(dr, '\r');
		emit(dr, "\r", 1);
		dr->state = ST_MID;
		goto mid;
	}
	return false;
}

bool dr_feed(struct data_reader *dr, const char *data, size_t len,
	     size_t *used_r)
{
	size_t run = 0, i = 0;

	while (i < len && !dr->done) {
		/* Fast path: ordinary bytes inside a line. */
		if (dr->state == ST_MID) {
			const char *p = data + i;
			size_t n = len - i, k = 0;

			while (k < n && p[k] != '\r' && p[k] != '\n') {
				unsigned char c = (unsigned char)p[k];

				if (c >= 0x80)
					dr->eight_bit = true;
				else if (c == '\0')
					dr->has_nul = true;
				k++;
			}
			dr->line_len += k;
			if (dr->line_len > dr->max_line)
				dr->long_line = true;
			if (k > 0)
				dr->lf_dot = dr->lf_dot == 1 && k == 1 &&
					     p[0] == '.' ? 2 : 0;
			i += k;
			if (i == len)
				break;
		}
		if (step(dr, data[i])) {
			emit(dr, data + run, i - run);
			run = i + 1;
		}
		i++;
	}
	if (!dr->done)
		emit(dr, data + run, i - run);
	*used_r = i;
	return dr->done;
}
