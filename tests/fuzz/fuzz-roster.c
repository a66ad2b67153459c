/* libFuzzer target for what `maillab user` reads from an instructor: the
 * students file (cli/roster.h) and quota sizes and counts
 * (common/quota.h).  The input is a students file; each of its lines is
 * also read as a size and as a count.  Invariants: every valid name
 * passes user_name_valid and is there once, in line order; every error
 * line names the file and a line; a size that parses is at least 1K and
 * formats back to itself.
 * tests/unit/test-fuzz-replay.c replays tests/fuzz/corpus-roster/. */
#include <string.h>

#include "cli/roster.h"
#include "common/quota.h"
#include "common/users.h"
#include "common/xalloc.h"
#include "tests/fuzz/fuzz.h"

static void check_size(const char *line, size_t len)
{
	char *text = xstrndup(line, len), err[256], out[32];
	uint64_t bytes, again, n;

	if (quota_parse_size(text, &bytes, err, sizeof(err)) == 0) {
		FUZZ_CHECK(bytes >= 1024);
		quota_format_size(bytes, out, sizeof(out));
		FUZZ_CHECK(quota_parse_size(out, &again, err, sizeof(err)) == 0);
		FUZZ_CHECK(again == bytes);
	} else {
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
	}
	if (quota_parse_count(text, &n, err, sizeof(err)) == 0)
		FUZZ_CHECK(n > 0);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct roster r;
	size_t errors, start = 0;

	errors = roster_parse(text, size, "f", &r);
	FUZZ_CHECK(errors == r.n_errors);
	FUZZ_CHECK((errors == 0) == (r.errors.len == 0));
	if (errors > 0)
		FUZZ_CHECK(strncmp(buf_cstr(&r.errors), "f:", 2) == 0);
	for (size_t i = 0; i < r.n; i++) {
		FUZZ_CHECK(user_name_valid(r.v[i].name));
		FUZZ_CHECK(i == 0 || r.v[i].line > r.v[i - 1].line);
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(r.v[i].name, r.v[j].name) != 0);
	}
	roster_free(&r);
	while (start < size) {
		const char *nl = memchr(text + start, '\n', size - start);
		size_t end = nl != NULL ? (size_t)(nl - text) : size;

		check_size(text + start, end - start);
		start = end + 1;
	}
	return 0;
}
