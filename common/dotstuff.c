/* Dot-stuffed text: POP3 multi-line responses (RFC 1939 3) and SMTP DATA
 * (RFC 5321 4.5.2) share the rule: each line that begins with the
 * termination octet '.' is stuffed with one more, then CRLF "." CRLF.  The
 * reader removes the stuffing, so what it stores is byte for byte what we
 * hold (with CRLF line ends). */
#include <string.h>

#include "common/dotstuff.h"

void dot_writer_init(struct dot_writer *ml, const char *data, size_t size,
		     bool convert_lf, int64_t top_lines)
{
	memset(ml, 0, sizeof(*ml));
	ml->data = data;
	ml->size = size;
	ml->convert_lf = convert_lf;
	ml->limited = top_lines >= 0;
	ml->lines_left = top_lines >= 0 ? (uint64_t)top_lines : 0;
	ml->line_start = true;
}

static bool at_end(const struct dot_writer *ml)
{
	return ml->pos >= ml->size ||
	       (ml->limited && ml->in_body && ml->lines_left == 0);
}

/* The first '.' in p[1..n) that starts a line, or NULL.  Dots are rare
 * in text, so scanning for them (memchr) is faster than for "\n.". */
static const char *next_dot_line(const char *p, size_t n)
{
	const char *q = p + 1, *end = p + n;

	while (q < end && (q = memchr(q, '.', (size_t)(end - q))) != NULL) {
		if (q[-1] == '\n')
			return q;
		q++;
	}
	return NULL;
}

/* The fast path (RETR of a file with CRLF line ends): copy everything up
 * to the next line that starts with '.' in one piece, at most `budget`
 * bytes. */
static void write_run(struct dot_writer *ml, struct buf *out, size_t budget)
{
	const char *p = ml->data + ml->pos;
	size_t left = ml->size - ml->pos, n;
	const char *dot;

	if (ml->line_start && *p == '.')
		buf_putc(out, '.');
	dot = next_dot_line(p, left);
	n = dot != NULL ? (size_t)(dot - p) : left;
	if (n > budget)
		n = budget;
	buf_append(out, p, n);
	ml->pos += n;
	ml->line_start = p[n - 1] == '\n';
}

/* One line, or a part of a long one: needed to turn bare LF into CRLF, and
 * for TOP to count the lines of the body (RFC 1939 7: the header, the empty
 * line, then n lines). */
static void write_line(struct dot_writer *ml, struct buf *out, size_t budget)
{
	const char *p = ml->data + ml->pos;
	size_t left = ml->size - ml->pos;
	const char *nl = memchr(p, '\n', left);
	size_t len = nl != NULL ? (size_t)(nl - p) : left;	/* without LF */
	bool has_cr = len > 0 && p[len - 1] == '\r';
	bool empty = ml->line_start && len - (has_cr ? 1 : 0) == 0;

	if (ml->line_start && len > 0 && *p == '.')
		buf_putc(out, '.');
	if (len > budget || nl == NULL) {
		/* The first part of a line longer than the chunk (budget is
		 * at least 1, so a CR before the LF stays for the next call,
		 * which then sees it), or the last line without a line end
		 * (the terminator adds one). */
		if (len > budget)
			len = budget;
		buf_append(out, p, len);
		ml->pos += len;
		ml->line_start = false;
		return;
	}
	if (ml->convert_lf && !has_cr) {
		buf_append(out, p, len);
		buf_append(out, "\r\n", 2);
	} else {
		buf_append(out, p, len + 1);
	}
	ml->pos += len + 1;
	ml->line_start = true;
	if (ml->in_body) {
		if (ml->lines_left > 0)
			ml->lines_left--;
	} else if (empty) {
		ml->in_body = true;
	}
}

bool dot_writer_write(struct dot_writer *ml, struct buf *out, size_t chunk)
{
	size_t start = out->len;

	while (!ml->finished && out->len - start < chunk) {
		if (at_end(ml)) {
			if (!ml->line_start)
				buf_append(out, "\r\n", 2);
			buf_append(out, ".\r\n", 3);
			ml->finished = true;
			break;
		}
		if (!ml->convert_lf && !ml->limited)
			write_run(ml, out, chunk - (out->len - start));
		else
			write_line(ml, out, chunk - (out->len - start));
	}
	return ml->finished;
}
