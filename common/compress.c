#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "common/compress.h"
#include "common/xalloc.h"

/* zlib's output chunk per call */
#define ZCHUNK 16384
/* Compressed bytes per inflate call: deflate's best ratio is about 1:1032,
 * so one call's input inflates to at most ~1 MiB. */
#define ZIN_STEP 1024
/* Our deflate: an 8 KiB window and memLevel 5 need 48 KiB of zlib state
 * instead of the 256 KiB of 15/8, for about 4% more bytes on a FETCH of a
 * 35 KiB text message (+1% on 11 KiB).  Any inflater decodes it: a
 * smaller window only means shorter distances (RFC 1951 3.2.5). */
#define ZOUT_WBITS 13
#define ZOUT_MEMLEVEL 5
/* The client's deflate may use the full 32 KiB window (RFC 4978 4 names
 * no smaller one), so our inflate must accept it. */
#define ZIN_WBITS 15

/* A stream at rest: its zlib state is freed and only the window it still
 * needs (what later data may refer back to, RFC 1951 3.2) is kept, to be
 * given back with *SetDictionary when data moves again. */
struct zparked {
	unsigned char *dict;
	size_t len;
};

struct zfilter {
	z_stream in;			/* inflate: client to server */
	z_stream out;			/* deflate: server to client */
	bool in_ready, out_ready;	/* the z_stream is live, not parked */
	struct zparked in_park, out_park;
	size_t window_in, window_out;	/* bytes of the current ratio window */
	bool refused;			/* input is dropped from now on */
	bool ended;			/* the client finished its stream */
	compress_refused_fn *refused_cb;
	void *arg;
};

/* Bytes of zlib state and parked windows of every filter (for
 * compress_memory_in_use); the header in front of each zlib block keeps
 * its size. */
static _Atomic size_t zmem_in_use;
#define ZHDR sizeof(max_align_t)

static voidpf zmem_alloc(voidpf opaque, uInt items, uInt size)
{
	size_t n;
	unsigned char *p;

	(void)opaque;
	if (size != 0 && items > (SIZE_MAX - ZHDR) / size)
		return Z_NULL;
	n = (size_t)items * size;
	if ((p = malloc(ZHDR + n)) == NULL)
		return Z_NULL;
	memcpy(p, &n, sizeof(n));
	atomic_fetch_add(&zmem_in_use, n);
	return p + ZHDR;
}

static void zmem_free(voidpf opaque, voidpf address)
{
	unsigned char *p = (unsigned char *)address - ZHDR;
	size_t n;

	(void)opaque;
	memcpy(&n, p, sizeof(n));
	atomic_fetch_sub(&zmem_in_use, n);
	free(p);
}

size_t compress_memory_in_use(void)
{
	return atomic_load(&zmem_in_use);
}

static void park_drop(struct zparked *pk)
{
	if (pk->dict != NULL)
		atomic_fetch_sub(&zmem_in_use, pk->len);
	free(pk->dict);
	pk->dict = NULL;
	pk->len = 0;
}

/* Takes len bytes written by get(strm, p, &len) as the parked window. */
static void park_keep(struct zparked *pk, z_stream *strm,
		      int (*get)(z_streamp, Bytef *, uInt *))
{
	uInt len = 0;

	if (get(strm, Z_NULL, &len) != Z_OK || len == 0)
		return;
	pk->dict = xmalloc(len);
	if (get(strm, pk->dict, &len) != Z_OK) {
		free(pk->dict);
		pk->dict = NULL;
		return;
	}
	pk->len = len;
	atomic_fetch_add(&zmem_in_use, pk->len);
}

static void zstream_init(z_stream *strm)
{
	memset(strm, 0, sizeof(*strm));
	strm->zalloc = zmem_alloc;
	strm->zfree = zmem_free;
}

static bool inflate_start(struct zfilter *z)
{
	zstream_init(&z->in);
	if (inflateInit2(&z->in, -ZIN_WBITS) != Z_OK)
		return false;
	/* raw inflate takes a dictionary at any time (zlib.h) */
	if (z->in_park.dict != NULL &&
	    inflateSetDictionary(&z->in, z->in_park.dict,
				 (uInt)z->in_park.len) != Z_OK) {
		inflateEnd(&z->in);
		return false;
	}
	park_drop(&z->in_park);
	z->in_ready = true;
	return true;
}

static bool deflate_start(struct zfilter *z)
{
	zstream_init(&z->out);
	if (deflateInit2(&z->out, Z_DEFAULT_COMPRESSION, Z_DEFLATED,
			 -ZOUT_WBITS, ZOUT_MEMLEVEL, Z_DEFAULT_STRATEGY) != Z_OK)
		return false;
	if (z->out_park.dict != NULL &&
	    deflateSetDictionary(&z->out, z->out_park.dict,
				 (uInt)z->out_park.len) != Z_OK) {
		deflateEnd(&z->out);
		return false;
	}
	park_drop(&z->out_park);
	z->out_ready = true;
	return true;
}

/* Between two client commands: once inflate stands at the start of a new
 * block (data_type 128) with no bit of the last byte left over and not
 * after the final block, a fresh raw inflate with the same window goes on
 * exactly where this one stops.  Every client flushes at the end of a
 * command (RFC 4978 4: Z_SYNC_FLUSH or Z_FULL_FLUSH, which end on a byte
 * boundary); a client that does not just keeps its inflate live. */
static void inflate_park(struct zfilter *z)
{
	if (!z->in_ready || z->ended || (z->in.data_type & 0xff) != 128)
		return;
	park_keep(&z->in_park, &z->in, inflateGetDictionary);
	inflateEnd(&z->in);
	z->in_ready = false;
}

/* After a reply, sync-flushed and wholly taken out: a fresh raw deflate
 * primed with the last window (deflateSetDictionary, allowed for raw
 * deflate right after a flushed block) produces what this one would have
 * been able to, continuing the same stream for the client. */
static void deflate_park(struct zfilter *z)
{
	park_keep(&z->out_park, &z->out, deflateGetDictionary);
	deflateEnd(&z->out);
	z->out_ready = false;
}

static void zfilter_free(void *ctx)
{
	struct zfilter *z = ctx;

	if (z->in_ready)
		inflateEnd(&z->in);
	if (z->out_ready)
		deflateEnd(&z->out);
	park_drop(&z->in_park);
	park_drop(&z->out_park);
	free(z);
}

static void refuse(struct zfilter *z, struct evbuffer *src, const char *why)
{
	evbuffer_drain(src, evbuffer_get_length(src));
	if (z->refused)
		return;
	z->refused = true;
	z->refused_cb(z->arg, why);
}

/* A deflate bomb: far more output per input byte than any mail. */
static bool ratio_exceeded(struct zfilter *z, size_t used, size_t made)
{
	z->window_in += used;
	z->window_out += made;
	if (z->window_out < COMPRESS_RATIO_WINDOW)
		return false;
	if (z->window_out / COMPRESS_MAX_RATIO > z->window_in)
		return true;
	z->window_in = 0;
	z->window_out = 0;
	return false;
}

/* One inflate step: at most ZIN_STEP bytes of src into one chunk of dst.
 * pending_r says zlib may hold more output for input already taken (it
 * must be fetched before waiting for more input, or a command would stay
 * inside zlib).  Returns 1 on progress, 0 on none, -1 with why_r set. */
static int inflate_step(struct zfilter *z, struct evbuffer *src,
			struct evbuffer *dst, bool *pending_r,
			const char **why_r)
{
	struct evbuffer_iovec in = { NULL, 0 }, out;
	size_t used, made;
	int r;

	if (evbuffer_get_length(src) > 0 && z->ended) {
		*why_r = "data after the end of the compressed stream";
		return -1;
	}
	if (evbuffer_get_length(src) > 0 && evbuffer_peek(src, -1, NULL, &in, 1) < 1)
		in.iov_len = 0;
	if (evbuffer_reserve_space(dst, ZCHUNK, &out, 1) < 1) {
		*why_r = "out of memory";
		return -1;
	}
	z->in.next_in = in.iov_base;
	z->in.avail_in = (uInt)(in.iov_len < ZIN_STEP ? in.iov_len : ZIN_STEP);
	used = z->in.avail_in;
	z->in.next_out = out.iov_base;
	z->in.avail_out = (uInt)(out.iov_len < ZCHUNK ? out.iov_len : ZCHUNK);
	r = inflate(&z->in, Z_SYNC_FLUSH);
	used -= z->in.avail_in;
	made = (size_t)((char *)z->in.next_out - (char *)out.iov_base);
	*pending_r = z->in.avail_out == 0;
	out.iov_len = made;
	evbuffer_commit_space(dst, &out, 1);
	evbuffer_drain(src, used);
	if (r == Z_STREAM_END) {
		z->ended = true;
		*pending_r = false;
	} else if (r != Z_OK && r != Z_BUF_ERROR) {
		*why_r = "invalid compressed data";
		return -1;
	}
	if (ratio_exceeded(z, used, made)) {
		*why_r = "compressed input expands beyond any mail (deflate bomb)";
		return -1;
	}
	return used > 0 || made > 0;
}

/* Inflates while the session has room (limit: below its read high-water
 * mark); output zlib already owes is always taken, which overshoots by at
 * most what ZIN_STEP bytes inflate to before the ratio check fires. */
static enum bufferevent_filter_result
inflate_filter(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
	       enum bufferevent_flush_mode mode, void *ctx)
{
	struct zfilter *z = ctx;
	size_t room = limit < 0 ? SIZE_MAX : (size_t)limit;
	bool pending = false;
	const char *why = NULL;

	(void)mode;
	if (z->refused) {
		evbuffer_drain(src, evbuffer_get_length(src));
		return BEV_OK;
	}
	if (!z->in_ready && evbuffer_get_length(src) > 0 && room > 0 &&
	    !z->ended && !inflate_start(z)) {
		refuse(z, src, "out of memory");
		return BEV_OK;
	}
	while ((evbuffer_get_length(src) > 0 && room > 0) || pending) {
		size_t before = evbuffer_get_length(dst), made;
		int r = inflate_step(z, src, dst, &pending, &why);

		if (r < 0) {
			refuse(z, src, why);
			break;
		}
		if (r == 0)
			break;
		made = evbuffer_get_length(dst) - before;
		room -= made < room ? made : room;
	}
	if (!z->refused && !pending && evbuffer_get_length(src) == 0)
		inflate_park(z);
	return BEV_OK;
}

/* Deflates all of src into dst; the last chunk with Z_SYNC_FLUSH
 * (RFC 4978 4: the peer must be able to decode every reply whole). */
static enum bufferevent_filter_result
deflate_filter(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
	       enum bufferevent_flush_mode mode, void *ctx)
{
	struct zfilter *z = ctx;

	(void)limit;
	(void)mode;
	if (evbuffer_get_length(src) == 0)
		return BEV_OK;
	if (!z->out_ready && !deflate_start(z))
		return BEV_ERROR;
	while (evbuffer_get_length(src) > 0) {
		struct evbuffer_iovec in, out;
		size_t len;
		int flush;

		if (evbuffer_peek(src, -1, NULL, &in, 1) < 1)
			return BEV_ERROR;
		len = in.iov_len;
		flush = len == evbuffer_get_length(src) ? Z_SYNC_FLUSH : Z_NO_FLUSH;
		z->out.next_in = in.iov_base;
		z->out.avail_in = (uInt)len;
		do {
			if (evbuffer_reserve_space(dst, ZCHUNK, &out, 1) < 1)
				return BEV_ERROR;
			z->out.next_out = out.iov_base;
			z->out.avail_out = (uInt)out.iov_len;
			if (deflate(&z->out, flush) == Z_STREAM_ERROR)
				return BEV_ERROR;
			out.iov_len -= z->out.avail_out;
			evbuffer_commit_space(dst, &out, 1);
		} while (z->out.avail_out == 0);
		evbuffer_drain(src, len);
	}
	/* the loop ends after a Z_SYNC_FLUSH with room left: all delivered */
	deflate_park(z);
	return BEV_OK;
}

struct bufferevent *compress_filter_new(struct bufferevent *under,
					compress_refused_fn *refused,
					void *arg)
{
	struct zfilter *z = xcalloc(1, sizeof(*z));
	struct bufferevent *bev;

	z->refused_cb = refused;
	z->arg = arg;
	/* Both streams start parked with an empty window: zlib state exists
	 * only while data moves (compress.h). */
	/* Deferred: the filter runs its write callback inside
	 * bufferevent_write and its read callback inside a drain of its
	 * input; the owner must not be re-entered from its own writes. */
	bev = bufferevent_filter_new(under, inflate_filter, deflate_filter,
				     BEV_OPT_CLOSE_ON_FREE |
				     BEV_OPT_DEFER_CALLBACKS, zfilter_free, z);
	if (bev == NULL)
		zfilter_free(z);
	return bev;
}
