/* What the libFuzzer targets in tests/fuzz/ share: the check that aborts on
 * a broken invariant, and the chunk sizes that split a stream the way TCP
 * might (decided by the fuzz input, so a crash replays exactly). */
#ifndef TESTS_FUZZ_FUZZ_H
#define TESTS_FUZZ_FUZZ_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
			__LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/* Chunk sizes from a seed: 0 gives the whole stream at once, otherwise
 * sizes 1..2^(seed % 8 + 1) from a xorshift generator. */
struct fuzz_chunks {
	uint32_t state;
	unsigned int bits;
	int whole;
};

static inline void fuzz_chunks_init(struct fuzz_chunks *c, uint32_t seed)
{
	c->whole = seed == 0;
	c->bits = seed % 8 + 1;
	c->state = seed * 2654435761u | 1;
}

/* The next chunk size, at most `left` (which must be > 0). */
static inline size_t fuzz_chunk(struct fuzz_chunks *c, size_t left)
{
	size_t n;

	if (c->whole)
		return left;
	c->state ^= c->state << 13;
	c->state ^= c->state >> 17;
	c->state ^= c->state << 5;
	n = (c->state & ((1u << c->bits) - 1)) + 1;
	return n < left ? n : left;
}

#endif
