/* libFuzzer target for the SMTP path and parameter parser (smtpd/address.h):
 * MAIL FROM / RCPT TO paths under every flag combination, the ESMTP
 * parameters after them, xtext, domains and address literals.  Checks what
 * the header promises: *used_r inside the input and ending at '>', the
 * RFC 5321 4.5.3.1 limits on what was copied out, NUL-terminated fields.
 * The seeds include the pre-authentication stack overflow of issue 10
 * ("<\"qqq...\"@[IPv7:5((((...]>" of 257..320 bytes).
 * tests/unit/test-fuzz-replay.c replays tests/fuzz/corpus-smtp-address/. */
#include <stdbool.h>
#include <string.h>

#include "common/xalloc.h"
#include "smtpd/address.h"
#include "tests/fuzz/fuzz.h"

static void fuzz_path(const char *s, size_t len, unsigned flags)
{
	struct smtp_path p;
	size_t used = (size_t)-1;
	enum smtp_path_err err;

	memset(&p, 0xA5, sizeof(p));
	err = smtp_path_parse(s, len, flags & 1, flags & 2, flags & 4, &p,
			      &used);
	FUZZ_CHECK(smtp_path_strerror(err) != NULL);
	if (err != PATH_OK)
		return;
	FUZZ_CHECK(used >= 2 && used <= len && s[0] == '<' &&
		   s[used - 1] == '>');
	FUZZ_CHECK(memchr(p.local, '\0', sizeof(p.local)) != NULL);
	FUZZ_CHECK(memchr(p.domain, '\0', sizeof(p.domain)) != NULL);
	FUZZ_CHECK(memchr(p.mailbox, '\0', sizeof(p.mailbox)) != NULL);
	FUZZ_CHECK(strlen(p.local) <= SMTP_LOCAL_MAX);
	FUZZ_CHECK(strlen(p.domain) <= SMTP_DOMAIN_MAX);
	FUZZ_CHECK(strlen(p.mailbox) + 2 <= SMTP_PATH_MAX);
	FUZZ_CHECK(used <= SMTP_PATH_MAX);
	if (p.null) {
		FUZZ_CHECK(flags & 1);
		FUZZ_CHECK(p.mailbox[0] == '\0');
	}
	if (p.postmaster)
		FUZZ_CHECK(flags & 2);
	if (p.utf8)
		FUZZ_CHECK(flags & 4);
	if (!p.null && !p.postmaster) {
		FUZZ_CHECK(p.domain[0] != '\0');
		if (p.literal)
			FUZZ_CHECK(smtp_address_literal_valid(p.domain,
							      strlen(p.domain)));
		else
			FUZZ_CHECK(smtp_domain_valid(p.domain,
						     strlen(p.domain),
						     flags & 4));
	}
}

static void fuzz_params(const char *s, size_t len, bool utf8)
{
	struct smtp_param params[SMTP_MAX_PARAMS];
	char *copy = xmalloc(len + 1);
	int n, i;

	memcpy(copy, s, len);
	copy[len] = '\0';
	n = smtp_params_parse(copy, utf8, params, SMTP_MAX_PARAMS);
	FUZZ_CHECK(n >= -1 && n <= SMTP_MAX_PARAMS);
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(params[i].keyword >= copy &&
			   params[i].keyword < copy + len + 1);
		FUZZ_CHECK(params[i].keyword[0] != '\0');
		FUZZ_CHECK(params[i].value == NULL ||
			   (params[i].value > copy &&
			    params[i].value <= copy + len));
		if (params[i].value != NULL)
			(void)smtp_xtext_valid(params[i].value);
	}
	free(copy);
}

static void fuzz_utf8(const unsigned char *s, size_t len)
{
	size_t i = 0, k;

	while (i < len) {
		k = smtp_utf8_seq_len(s + i, len - i);
		FUZZ_CHECK(k <= 4 && k <= len - i);
		i += k > 0 ? k : 1;
	}
}

/* The first byte picks the flags; the rest is a command argument. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	size_t len;
	unsigned flags;

	if (size == 0)
		return 0;
	flags = data[0];
	len = size - 1;
	/* an exact-size copy (plus the NUL the callers always have), so that
	 * ASan sees a read past the end */
	s = xmalloc(len + 1);
	memcpy(s, data + 1, len);
	s[len] = '\0';
	fuzz_path(s, len, flags);
	fuzz_path(s, strlen(s), flags ^ 7);
	(void)smtp_domain_valid(s, len, flags & 4);
	(void)smtp_address_literal_valid(s, len);
	(void)smtp_xtext_valid(s);
	fuzz_utf8((const unsigned char *)s, len);
	/* what MAIL/RCPT hand to the parameter parser: the rest after '>' */
	{
		const char *gt = memchr(s, '>', len);
		size_t off = gt != NULL ? (size_t)(gt - s) + 1 : 0;

		if (off < len && s[off] == ' ')
			off++;
		fuzz_params(s + off, strlen(s + off), flags & 4);
	}
	free(s);
	return 0;
}
