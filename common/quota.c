#include <stdio.h>
#include <string.h>

#include "common/quota.h"

static const struct {
	char unit;
	unsigned shift;
} units[] = { { 'K', 10 }, { 'M', 20 }, { 'G', 30 }, { 'T', 40 } };

/* Digits into *n_r, stopping at the first non-digit (*end_r).  0, or -1
 * on overflow or when there is no digit. */
static int parse_digits(const char *text, uint64_t *n_r, const char **end_r)
{
	const char *p = text;
	uint64_t n = 0;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (n > (UINT64_MAX - d) / 10)
			return -2;
		n = n * 10 + d;
	}
	*n_r = n;
	*end_r = p;
	return 0;
}

static int parse_fail(int r, const char *text, char *err_r, size_t errlen)
{
	if (r == -2)
		snprintf(err_r, errlen, "'%s' is too large", text);
	else if (text[0] == '-')
		snprintf(err_r, errlen, "'%s' is negative", text);
	else if (text[0] == '\0')
		snprintf(err_r, errlen, "empty size");
	else
		snprintf(err_r, errlen, "'%s' is not a number", text);
	return -1;
}

int quota_parse_size(const char *text, uint64_t *bytes_r, char *err_r,
		     size_t errlen)
{
	const char *end;
	uint64_t n;
	size_t i;
	int r = parse_digits(text, &n, &end);

	if (r < 0)
		return parse_fail(r, text, err_r, errlen);
	if (*end != '\0') {
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if ((*end & ~0x20) == units[i].unit)
				break;
		if (i == sizeof(units) / sizeof(units[0]) || end[1] != '\0') {
			snprintf(err_r, errlen, "'%s': the unit must be one "
				 "of K, M, G, T after the number", text);
			return -1;
		}
		if (n > UINT64_MAX >> units[i].shift)
			return parse_fail(-2, text, err_r, errlen);
		n <<= units[i].shift;
	}
	if (n < 1024) {
		snprintf(err_r, errlen, "'%s' is less than 1K (no limit is "
			 "'none')", text);
		return -1;
	}
	*bytes_r = n;
	return 0;
}

int quota_parse_count(const char *text, uint64_t *n_r, char *err_r,
		      size_t errlen)
{
	const char *end;
	uint64_t n;
	int r = parse_digits(text, &n, &end);

	if (r < 0)
		return parse_fail(r, text, err_r, errlen);
	if (*end != '\0') {
		snprintf(err_r, errlen, "'%s' is not a number", text);
		return -1;
	}
	if (n == 0) {
		snprintf(err_r, errlen, "0 messages (no limit is 'none')");
		return -1;
	}
	*n_r = n;
	return 0;
}

void quota_format_size(uint64_t bytes, char *out, size_t outlen)
{
	size_t i = sizeof(units) / sizeof(units[0]);

	if (bytes == 0) {
		snprintf(out, outlen, "none");
		return;
	}
	while (i-- > 0) {
		uint64_t mask = ((uint64_t)1 << units[i].shift) - 1;

		if ((bytes & mask) == 0) {
			snprintf(out, outlen, "%llu%c",
				 (unsigned long long)(bytes >> units[i].shift),
				 units[i].unit);
			return;
		}
	}
	snprintf(out, outlen, "%llu", (unsigned long long)bytes);
}

int quota_exceeded(const struct user_quota *q, uint64_t used_bytes,
		   uint64_t used_messages, uint64_t bytes, uint64_t messages)
{
	if (q->storage != 0 &&
	    (used_bytes > q->storage || bytes > q->storage - used_bytes))
		return 1;
	if (q->messages != 0 &&
	    (used_messages > q->messages ||
	     messages > q->messages - used_messages))
		return 1;
	return 0;
}
