#ifndef COMMON_COMPRESS_H
#define COMMON_COMPRESS_H
#include <stdbool.h>
#include <stddef.h>

/* COMPRESS=DEFLATE (RFC 4978) as a libevent filter bufferevent: raw
 * deflate (RFC 1951, windowBits -15) both ways, output flushed with
 * Z_SYNC_FLUSH after every write so that a reply never waits in zlib.
 *
 * Inflated input is bounded twice: the filter never inflates past the
 * read high-water mark of the bufferevent it returns (what the session has
 * not consumed yet), and a stream that inflates more than
 * COMPRESS_MAX_RATIO bytes per input byte over a window of
 * COMPRESS_RATIO_WINDOW inflated bytes (a deflate bomb), or that is not
 * valid deflate data, is refused: refused(arg, why) is called once, and
 * from then on the input is dropped unread.
 *
 * Memory: our deflate uses an 8 KiB window and memLevel 5 (48 KiB of zlib
 * state while it runs, not 256 KiB), the inflate the 32 KiB window a
 * client may use (about 39 KiB).  Neither stays while the connection is
 * at rest: after each reply, and after each client flush, the stream's
 * state is freed and only its window is kept (at most 8 KiB out, at most
 * the bytes received so far and 32 KiB in), to be restored when data
 * moves again. */

#define COMPRESS_RATIO_WINDOW (1024 * 1024)
#define COMPRESS_MAX_RATIO 250

struct bufferevent;
typedef void compress_refused_fn(void *arg, const char *why);

/* A filter over `under` (which it frees when freed), with deferred
 * callbacks: they run from the event loop, never inside a write or a
 * drain by the caller.  NULL when zlib or libevent cannot set it up. */
struct bufferevent *compress_filter_new(struct bufferevent *under,
					compress_refused_fn *refused,
					void *arg);

/* Bytes of zlib state and kept windows of every filter of this process
 * (for tests and benchmarks). */
size_t compress_memory_in_use(void);

#endif
