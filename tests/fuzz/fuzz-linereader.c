/* libFuzzer target for the line reader (common/linereader.h).  The first
 * four bytes choose the maximum line length, whether a bare LF ends a line
 * and how the rest (the stream) is cut into chunks; the events the reader
 * gives for those chunks must be those of a plain reference splitter: a
 * line ends at CRLF (or any LF when bare LF ends lines), a line whose
 * content and CRLF pass the maximum is LR_OVERLONG, never returned, and
 * the flags tell NUL, bare CR and bare LF.  Any difference aborts.
 * tests/unit/test-fuzz-replay.c replays tests/fuzz/corpus-linereader/. */
#include <stdbool.h>
#include <string.h>

#include "common/linereader.h"
#include "common/proto.h"
#include "tests/fuzz/fuzz.h"

/* The reference: the next event after stream position *pos, or LR_MORE
 * when the stream ends inside a line. */
static enum lr_result ref_next(const char *s, size_t len, size_t *pos,
			       bool bare_lf_ends, size_t max,
			       const char **line_r, size_t *line_len_r,
			       unsigned *flags_r)
{
	size_t start = *pos, i;
	unsigned flags = 0;

	for (i = start; i < len; i++) {
		bool crlf = i > start && s[i - 1] == '\r';
		size_t n;

		if (s[i] != '\n' || (!crlf && !bare_lf_ends))
			continue;
		n = i - start - (crlf ? 1 : 0);
		*pos = i + 1;
		if (n + 2 > max)
			return LR_OVERLONG;
		if (!crlf)
			flags |= LINE_BARE_LF;
		for (size_t k = start; k < start + n; k++) {
			if (s[k] == '\0')
				flags |= LINE_HAS_NUL;
			else if (s[k] == '\r')
				flags |= LINE_BARE_CR;
			else if (s[k] == '\n')
				flags |= LINE_BARE_LF;
		}
		*line_r = s + start;
		*line_len_r = n;
		*flags_r = flags;
		return LR_LINE;
	}
	return LR_MORE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct line_reader lr;
	struct fuzz_chunks ch;
	const char *s = (const char *)data + 4, *line;
	size_t len, pos = 0, ref_pos = 0, max, line_len;
	bool bare_lf_ends;
	unsigned flags;

	if (size < 4)
		return 0;
	len = size - 4;
	max = (size_t)data[0] + 1;
	if (data[1] & 0x80)
		max *= 64;	/* sometimes a real limit (512, 8192) */
	bare_lf_ends = data[1] & 1;
	fuzz_chunks_init(&ch, (uint32_t)data[2] << 8 | data[3]);
	lr_init(&lr, max, bare_lf_ends);
	while (pos < len) {
		size_t n = fuzz_chunk(&ch, len - pos), used = 0;
		enum lr_result r = lr_feed(&lr, s + pos, n, &used), want;

		FUZZ_CHECK(used <= n && (used > 0 || n == 0));
		pos += used;
		if (r == LR_MORE) {
			FUZZ_CHECK(used == n);
			continue;
		}
		want = ref_next(s, len, &ref_pos, bare_lf_ends, max, &line,
				&line_len, &flags);
		FUZZ_CHECK(r == want);
		FUZZ_CHECK(ref_pos == pos);
		FUZZ_CHECK(!lr_pending(&lr));
		if (r == LR_LINE) {
			FUZZ_CHECK(lr.line.len + 2 <= max);
			FUZZ_CHECK(lr.line.len == line_len &&
				   (line_len == 0 ||
				    memcmp(lr.line.data, line, line_len) == 0));
			FUZZ_CHECK(buf_cstr(&lr.line)[line_len] == '\0');
			FUZZ_CHECK(lr.flags == flags);
		}
	}
	/* no event left behind: the reference sees no complete line either */
	FUZZ_CHECK(ref_next(s, len, &ref_pos, bare_lf_ends, max, &line,
			    &line_len, &flags) == LR_MORE);
	FUZZ_CHECK(lr_pending(&lr) == (ref_pos < len));
	lr_reset(&lr);
	FUZZ_CHECK(!lr_pending(&lr));
	lr_free(&lr);
	return 0;
}
