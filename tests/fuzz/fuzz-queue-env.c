/* libFuzzer target for the queue's envelope parser (smtpd/queue.h,
 * queue_env_parse): any input is refused or parsed into an envelope whose
 * text form parses back to the same text.  tests/unit/test-fuzz-replay.c
 * replays tests/fuzz/corpus-queue-env/ in `make check`. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "smtpd/queue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define QFUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
			__LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct queue_env e, again;
	struct buf text = BUF_INIT(BUF_UNLIMITED), text2 = BUF_INIT(BUF_UNLIMITED);
	char err[256];

	if (queue_env_parse((const char *)data, size, &e, err, sizeof(err)) < 0) {
		QFUZZ_CHECK(e.n_rcpts == 0 && e.sender == NULL);
		return 0;
	}
	QFUZZ_CHECK(e.sender != NULL && e.n_rcpts > 0);
	for (size_t i = 0; i < e.n_rcpts; i++)
		QFUZZ_CHECK(e.rcpts[i].addr != NULL && e.rcpts[i].addr[0] != '\0');
	queue_env_format(&e, &text);
	QFUZZ_CHECK(queue_env_parse(text.data, text.len, &again, err,
				    sizeof(err)) == 0);
	queue_env_format(&again, &text2);
	QFUZZ_CHECK(text.len == text2.len &&
		    memcmp(text.data, text2.data, text.len) == 0);
	queue_env_free(&e);
	queue_env_free(&again);
	buf_free(&text);
	buf_free(&text2);
	return 0;
}
