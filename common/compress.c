#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <stdlib.h>
#include <zlib.h>

#include "common/compress.h"
#include "common/xalloc.h"

/* zlib's output chunk per call */
#define ZCHUNK 16384
/* Compressed bytes per inflate call: deflate's best ratio is about 1:1032,
 * so one call's input inflates to at most ~1 MiB. */
#define ZIN_STEP 1024

struct zfilter {
	z_stream in;			/* inflate: client to server */
	z_stream out;			/* deflate: server to client */
	bool in_ready, out_ready;
	size_t window_in, window_out;	/* bytes of the current ratio window */
	bool refused;			/* input is dropped from now on */
	bool ended;			/* the client finished its stream */
	compress_refused_fn *refused_cb;
	void *arg;
};

static void zfilter_free(void *ctx)
{
	struct zfilter *z = ctx;

	if (z->in_ready)
		inflateEnd(&z->in);
	if (z->out_ready)
		deflateEnd(&z->out);
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
	z->in_ready = inflateInit2(&z->in, -15) == Z_OK;
	z->out_ready = deflateInit2(&z->out, Z_DEFAULT_COMPRESSION, Z_DEFLATED,
				    -15, 8, Z_DEFAULT_STRATEGY) == Z_OK;
	if (!z->in_ready || !z->out_ready) {
		zfilter_free(z);
		return NULL;
	}
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
