/* libFuzzer target for SORT and THREAD without a mailbox (imapd/base-subject.c,
 * imapd/sort.c, imapd/thread.c).  The input is a few header blocks
 * separated by NUL bytes, each one message (its sequence number its
 * place, its arrival time and size from its first bytes).  Checks: base
 * subjects are valid UTF-8 with single inner spaces and no lowercase
 * ASCII; msg-ids are non-empty with an '@' inside; every sort is a
 * permutation ordered by its criteria; each THREAD answer names every
 * message exactly once with balanced parentheses.
 * tests/unit/test-fuzz-replay.c replays tests/fuzz/corpus-sort/. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/xalloc.h"
#include "imapd/base-subject.h"
#include "imapd/sort.h"
#include "imapd/thread.h"
#include "tests/fuzz/fuzz.h"

#define MAX_MSGS 64

static bool valid_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; ) {
		size_t len = s[i] < 0x80 ? 1 : (s[i] & 0xe0) == 0xc0 ? 2 :
			     (s[i] & 0xf0) == 0xe0 ? 3 : (s[i] & 0xf8) == 0xf0 ? 4 : 0;

		if (len == 0 || i + len > n)
			return false;
		for (size_t k = 1; k < len; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
		i += len;
	}
	return true;
}

static void check_base_subject(const char *d, size_t n)
{
	struct buf out = BUF_INIT(BUF_UNLIMITED);
	const char *s;

	imap_base_subject(d, n, &out);
	s = buf_cstr(&out);
	FUZZ_CHECK(strlen(s) == out.len);
	FUZZ_CHECK(valid_utf8((const unsigned char *)s, out.len));
	FUZZ_CHECK(out.len == 0 || (s[0] != ' ' && s[out.len - 1] != ' '));
	FUZZ_CHECK(strstr(s, "  ") == NULL);
	for (size_t i = 0; i < out.len; i++)
		FUZZ_CHECK(!(s[i] >= 'a' && s[i] <= 'z') && s[i] != '\t' &&
			   s[i] != '\r' && s[i] != '\n');
	buf_free(&out);
}

static void check_msgids(const char *d, size_t n)
{
	struct buf id = BUF_INIT(BUF_UNLIMITED);
	size_t pos = 0, last = 0;

	while (imap_msgid_next(d, n, &pos, &id)) {
		FUZZ_CHECK(pos > last && pos <= n);
		last = pos;
		FUZZ_CHECK(id.len >= 3 && memchr(id.data, '@', id.len) != NULL);
	}
	FUZZ_CHECK(pos <= n);
	buf_free(&id);
}

static void check_sort(struct imap_msg_keys **msgs, size_t n,
		       const struct imap_sort_crit *crit, size_t ncrit)
{
	struct imap_msg_keys **v = xreallocarray(NULL, n + 1, sizeof(*v));
	bool seen[MAX_MSGS + 1] = { false };

	memcpy(v, msgs, n * sizeof(*v));
	imap_sort(v, n, crit, ncrit);
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(!seen[v[i]->seq]);
		seen[v[i]->seq] = true;
	}
	/* sorting again what is sorted changes nothing (a total order) */
	for (size_t i = 0; i + 1 < n; i++) {
		struct imap_msg_keys *pair[2] = { v[i + 1], v[i] };

		imap_sort(pair, 2, crit, ncrit);
		FUZZ_CHECK(pair[0] == v[i] && pair[1] == v[i + 1]);
	}
	free(v);
}

static void check_thread(struct imap_msg_keys **msgs, size_t n,
			 enum imap_thread_alg alg)
{
	struct imap_msg_keys **v = xreallocarray(NULL, n + 1, sizeof(*v));
	struct buf out = BUF_INIT(BUF_UNLIMITED);
	unsigned count[MAX_MSGS + 1] = { 0 };
	long depth = 0;
	const char *s;

	memcpy(v, msgs, n * sizeof(*v));
	imap_thread(v, n, alg, false, &out);
	for (s = buf_cstr(&out); *s != '\0'; ) {
		if (*s == '(' || *s == ')') {
			depth += *s == '(' ? 1 : -1;
			FUZZ_CHECK(depth >= 0);
			s++;
		} else if (*s == ' ') {
			s++;
		} else {
			char *end;
			unsigned long seq = strtoul(s, &end, 10);

			FUZZ_CHECK(end > s && seq >= 1 && seq <= n);
			count[seq]++;
			s = end;
		}
	}
	FUZZ_CHECK(depth == 0);
	for (size_t i = 1; i <= n; i++)
		FUZZ_CHECK(count[i] == 1);
	buf_free(&out);
	free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct imap_sort_crit progs[][3] = {
		{ { IMAP_SORT_SUBJECT, false }, { IMAP_SORT_DATE, true },
		  { IMAP_SORT_SIZE, false } },
		{ { IMAP_SORT_FROM, true }, { IMAP_SORT_TO, false },
		  { IMAP_SORT_CC, false } },
		{ { IMAP_SORT_DISPLAYFROM, false },
		  { IMAP_SORT_DISPLAYTO, true }, { IMAP_SORT_ARRIVAL, false } },
	};
	struct imap_msg_keys *msgs[MAX_MSGS];
	const char *d = (const char *)data;
	size_t n = 0, off = 0;

	check_base_subject(d, size);
	check_msgids(d, size);
	while (off <= size && n < MAX_MSGS) {
		const char *nul = memchr(d + off, '\0', size - off);
		size_t len = nul != NULL ? (size_t)(nul - (d + off)) : size - off;
		struct imap_msg_keys *k = xcalloc(1, sizeof(*k));

		k->seq = (uint32_t)n + 1;
		k->uid = k->seq * 3;
		k->size = len > 0 ? (unsigned char)d[off] % 4 : 0;
		k->arrival = len > 1 ? (unsigned char)d[off + 1] % 4 : 0;
		imap_msg_keys_parse(k, d + off, len, IMAP_KEYS_SUBJECT |
				    IMAP_KEYS_DATE | IMAP_KEYS_ADDRS |
				    IMAP_KEYS_DISPLAY | IMAP_KEYS_IDS);
		msgs[n++] = k;
		off += len + 1;
	}
	for (size_t i = 0; i < sizeof(progs) / sizeof(*progs); i++)
		check_sort(msgs, n, progs[i], 3);
	check_thread(msgs, n, IMAP_THREAD_REFERENCES);
	check_thread(msgs, n, IMAP_THREAD_ORDEREDSUBJECT);
	for (size_t i = 0; i < n; i++) {
		imap_msg_keys_free(msgs[i]);
		free(msgs[i]);
	}
	return 0;
}
