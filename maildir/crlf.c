#include <string.h>

#include "maildir/crlf.h"

int maildir_crlf_append(struct maildir_crlf *st, const char *p, size_t n,
			struct buf *out)
{
	const char *end = p + n, *lf;

	while (p < end) {
		lf = memchr(p, '\n', (size_t)(end - p));
		if (lf == NULL) {
			if (buf_append(out, p, (size_t)(end - p)) < 0)
				return -1;
			st->prev = end[-1];
			return 0;
		}
		if (lf > p)
			st->prev = lf[-1];
		if (buf_append(out, p, (size_t)(lf - p)) < 0)
			return -1;
		if (st->prev != '\r' && buf_putc(out, '\r') < 0)
			return -1;
		if (buf_putc(out, '\n') < 0)
			return -1;
		st->prev = '\n';
		p = lf + 1;
	}
	return 0;
}
