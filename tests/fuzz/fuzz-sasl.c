/* libFuzzer target for SASL decoding (common/sasl.h, common/base64.h).  The
 * input is lines: a first line "MECH [initial-response]" starts an
 * exchange, the next lines are the client's responses; when an exchange
 * ends the next line starts another.  Checks the result against the
 * state (a challenge only while in progress, decodable; credentials within
 * the RFC 4616 limits), and that the strict base64 decoder gives one
 * meaning to one text: whatever it accepts re-encodes to exactly the input.
 * tests/unit/test-fuzz-replay.c replays tests/fuzz/corpus-sasl/. */
#include <stdbool.h>
#include <string.h>

#include "common/base64.h"
#include "common/buf.h"
#include "common/sasl.h"
#include "common/xalloc.h"
#include "tests/fuzz/fuzz.h"

static void fuzz_base64(const char *s, size_t len)
{
	struct buf dec = BUF_INIT(BUF_UNLIMITED);
	struct buf enc = BUF_INIT(BUF_UNLIMITED);
	struct buf small = BUF_INIT(4);

	if (base64_decode(&dec, s, len) < 0) {
		FUZZ_CHECK(dec.len == 0);
		buf_free(&dec);
		return;
	}
	FUZZ_CHECK(len % 4 == 0 && dec.len <= len / 4 * 3);
	FUZZ_CHECK(base64_encode(&enc, dec.data, dec.len) == 0);
	FUZZ_CHECK(enc.len == base64_encoded_len(dec.len));
	FUZZ_CHECK(enc.len == len && (len == 0 ||
					memcmp(enc.data, s, len) == 0));
	/* over a buffer's max the decoder fails and leaves it unchanged */
	buf_append(&small, "ab", 2);
	if (dec.len > 2)
		FUZZ_CHECK(base64_decode(&small, s, len) < 0 &&
			   small.len == 2 && memcmp(small.data, "ab", 2) == 0);
	buf_free(&small);
	buf_free(&enc);
	buf_free(&dec);
}

static void fuzz_result(struct sasl *s, enum sasl_result r)
{
	switch (r) {
	case SASL_CHALLENGE:
		FUZZ_CHECK(sasl_in_progress(s));
		FUZZ_CHECK(sasl_challenge(s) != NULL);
		{
			struct buf b = BUF_INIT(BUF_UNLIMITED);
			const char *c = sasl_challenge(s);

			FUZZ_CHECK(base64_decode(&b, c, strlen(c)) == 0);
			buf_free(&b);
		}
		break;
	case SASL_VERIFY:
		FUZZ_CHECK(!sasl_in_progress(s));
		FUZZ_CHECK(sasl_user(s)[0] != '\0');
		FUZZ_CHECK(strlen(sasl_user(s)) <= SASL_NAME_MAX);
		FUZZ_CHECK(strlen(sasl_password(s)) <= SASL_PASSWORD_MAX);
		sasl_reset(s);
		break;
	case SASL_FAILED:
		FUZZ_CHECK(!sasl_in_progress(s));
		FUZZ_CHECK(sasl_failure(s) != NULL);
		sasl_reset(s);
		break;
	case SASL_BAD_BASE64:
	case SASL_CANCELLED:
	case SASL_NO_MECH:
		FUZZ_CHECK(!sasl_in_progress(s));
		sasl_reset(s);
		break;
	default:
		FUZZ_CHECK(!"unknown sasl_result");
	}
}

/* A line as "MECH" or "MECH initial", as AUTH / AUTHENTICATE split it. */
static void fuzz_start(struct sasl *s, char *line)
{
	char *sp = strchr(line, ' ');
	enum sasl_result r;

	if (sp != NULL)
		*sp++ = '\0';
	if (!sasl_mech_supported(line)) {
		FUZZ_CHECK(sasl_start(s, line, sp) == SASL_NO_MECH);
		sasl_reset(s);
		return;
	}
	r = sasl_start(s, line, sp);
	fuzz_result(s, r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sasl s;
	size_t pos = 0;

	sasl_init(&s);
	while (pos < size) {
		const uint8_t *nl = memchr(data + pos, '\n', size - pos);
		size_t n = nl != NULL ? (size_t)(nl - (data + pos)) : size - pos;
		char *line = xmalloc(n + 1);

		memcpy(line, data + pos, n);
		line[n] = '\0';
		fuzz_base64(line, n);
		if (sasl_in_progress(&s))
			fuzz_result(&s, sasl_step(&s, line, n));
		else
			fuzz_start(&s, line);
		free(line);
		pos += n + 1;
	}
	sasl_reset(&s);
	buf_free(&s.challenge);
	return 0;
}
