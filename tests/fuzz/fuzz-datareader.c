/* libFuzzer target for the DATA reader (common/datareader.h).  The first
 * six bytes choose the size cap, the line limit, where the sink starts to
 * fail and how the rest (the stream) is cut into chunks.  What reaches the
 * sink must be the reference unstuffing of RFC 5321 4.5.2 (lines split at
 * CRLF only, a leading dot removed, the body ending at the first line that
 * is exactly ".\r\n", never at a dot between bare LFs), cut short only by
 * the cap or a sink failure; the flags and the bytes consumed must agree
 * with it too.  Any difference aborts.
 * tests/unit/test-fuzz-replay.c replays tests/fuzz/corpus-datareader/. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "common/buf.h"
#include "common/datareader.h"
#include "tests/fuzz/fuzz.h"

struct sink {
	struct buf got;
	size_t fail_at;		/* a write that would pass this fails */
	bool failed;
};

static int sink_write(void *arg, const char *p, size_t n)
{
	struct sink *k = arg;

	FUZZ_CHECK(n > 0);
	FUZZ_CHECK(!k->failed);	/* never called again after a failure */
	if (k->got.len + n > k->fail_at) {
		k->failed = true;
		errno = ENOSPC;
		return -1;
	}
	buf_append(&k->got, p, n);
	return 0;
}

struct ref {
	struct buf out;		/* the unstuffed body */
	size_t used;		/* stream bytes up to the terminator */
	bool done;
	bool long_line;		/* a raw line (dot and CRLF counted) > max */
};

static void ref_unstuff(const char *s, size_t len, size_t max_line,
			struct ref *r)
{
	size_t pos = 0;

	memset(r, 0, sizeof(*r));
	buf_init(&r->out, BUF_UNLIMITED);
	while (pos < len) {
		const char *crlf = memmem(s + pos, len - pos, "\r\n", 2);
		size_t end = crlf != NULL ? (size_t)(crlf - s) + 2 : len;
		size_t skip = s[pos] == '.' ? 1 : 0;

		if (end - pos == 3 && s[pos] == '.' && crlf != NULL) {
			r->done = true;
			r->used = end;
			return;
		}
		if (end - pos > max_line)
			r->long_line = true;
		buf_append(&r->out, s + pos + skip, end - pos - skip);
		pos = end;
	}
	r->used = len;
}

static bool has_byte(const struct buf *b, int pred)
{
	for (size_t i = 0; i < b->len; i++) {
		unsigned char c = (unsigned char)b->data[i];

		if ((pred == 0 && c == 0) || (pred == 1 && c >= 0x80))
			return true;
	}
	return false;
}

/* A CR not followed by LF / an LF not preceded by CR, in a finished body
 * (which ends in CRLF or is empty). */
static bool has_bare(const struct buf *b, char which)
{
	for (size_t i = 0; i < b->len; i++) {
		if (which == '\r' && b->data[i] == '\r' &&
		    (i + 1 < b->len ? b->data[i + 1] != '\n' : false))
			return true;
		if (which == '\n' && b->data[i] == '\n' &&
		    (i == 0 || b->data[i - 1] != '\r'))
			return true;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct data_reader dr;
	struct sink k;
	struct ref r;
	struct fuzz_chunks ch;
	const char *s = (const char *)data + 6;
	size_t len, pos = 0, max_size, max_line;

	if (size < 6)
		return 0;
	len = size - 6;
	max_size = data[0] == 0xFF ? (size_t)-1 : (size_t)data[0] * 16;
	max_line = (size_t)data[1] + 3;
	k.fail_at = data[2] == 0xFF ? (size_t)-1 : (size_t)data[2] * 8;
	k.failed = false;
	buf_init(&k.got, BUF_UNLIMITED);
	fuzz_chunks_init(&ch, (uint32_t)data[3] << 16 | data[4] << 8 | data[5]);
	dr_init(&dr, max_size, max_line, sink_write, &k);
	ref_unstuff(s, len, max_line, &r);
	while (pos < len && !dr.done) {
		size_t n = fuzz_chunk(&ch, len - pos), used = 0;
		bool done = dr_feed(&dr, s + pos, n, &used);

		FUZZ_CHECK(used <= n && done == dr.done);
		FUZZ_CHECK(done || used == n);
		pos += used;
	}
	FUZZ_CHECK(dr.done == r.done);
	FUZZ_CHECK(pos == r.used);
	/* the size counts the whole body, even past the cap or a failure;
	 * the CR of a ".\r" at the end of an unfinished body is withheld */
	if (r.done)
		FUZZ_CHECK(dr.size == r.out.len);
	else
		FUZZ_CHECK(dr.size <= r.out.len && dr.size + 1 >= r.out.len);
	FUZZ_CHECK(dr.too_big == (dr.size > max_size));
	FUZZ_CHECK(dr.write_failed == k.failed);
	FUZZ_CHECK(!k.failed || dr.write_errno == ENOSPC);
	FUZZ_CHECK(k.got.len <= r.out.len &&
		   (k.got.len == 0 ||
		    memcmp(k.got.data, r.out.data, k.got.len) == 0));
	if (!dr.too_big && !dr.write_failed)
		FUZZ_CHECK(k.got.len == dr.size);
	if (dr.too_big)
		FUZZ_CHECK(k.got.len <= max_size);
	if (r.done) {
		FUZZ_CHECK(dr.has_nul == has_byte(&r.out, 0));
		FUZZ_CHECK(dr.eight_bit == has_byte(&r.out, 1));
		FUZZ_CHECK(dr.bare_lf == has_bare(&r.out, '\n'));
		FUZZ_CHECK(dr.bare_cr == has_bare(&r.out, '\r'));
		FUZZ_CHECK(dr.long_line == r.long_line);
	}
	buf_free(&r.out);
	buf_free(&k.got);
	return 0;
}
