#ifndef COMMON_BUF_H
#define COMMON_BUF_H
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The one growable byte buffer, also the string builder.  `data` is always
 * NUL-terminated after any successful call (so it can be used as a C string
 * when the content has no NUL), and may move whenever the buffer grows: do not
 * keep pointers into it across appends.
 *
 * `max` is a hard cap on `len`, checked before any memory is allocated: an
 * append that would pass it returns -1 and leaves the buffer unchanged.  Out of
 * memory is fatal (see xalloc.h), so -1 always means "over the cap". */
struct buf {
	char *data;	/* NULL until the first append */
	size_t len;	/* bytes of content */
	size_t cap;	/* bytes allocated */
	size_t max;	/* cap on len; BUF_UNLIMITED for none */
};

#define BUF_UNLIMITED ((size_t)-1 / 2)
#define BUF_INIT(max_) { NULL, 0, 0, (max_) }

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
void buf_clear(struct buf *b);
/* Makes room for `extra` more bytes (plus the NUL).  -1: over max. */
int buf_reserve(struct buf *b, size_t extra);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Drops the first n bytes (n > len drops all). */
void buf_consume(struct buf *b, size_t n);
/* Shortens to n bytes (no-op when n >= len). */
void buf_truncate(struct buf *b, size_t n);
/* The content as a C string; "" for an empty buffer.  Valid until the next
 * change to the buffer. */
const char *buf_cstr(const struct buf *b);
/* Hands the allocation to the caller (never NULL) and empties the buffer. */
char *buf_steal(struct buf *b);

/* Unsigned LEB128 ("varint"): 7 bits a byte, low first, high bit = more.
 * The compact records of the index caches use it. */
int buf_put_uvarint(struct buf *b, uint64_t v);

/* Reads records written with buf_put_uvarint; `bad` is set (and 0
 * returned) when a value runs past `end` or past 64 bits. */
struct byte_reader {
	const unsigned char *p, *end;
	bool bad;
};

uint64_t byte_reader_uvarint(struct byte_reader *r);

#endif
