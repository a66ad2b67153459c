/* libFuzzer target for the key file record of the SORT/THREAD key cache
 * (imapd/sort-record.c): any bytes either fail to decode or decode to keys
 * whose encoding decodes to the same keys (the strings without NUL, refs
 * counted right).  tests/unit/test-fuzz-replay.c replays
 * tests/fuzz/corpus-sort-record/. */
#include <string.h>

#include "common/buf.h"
#include "imapd/sort-cache.h"
#include "tests/fuzz/fuzz.h"

static int same(const struct imap_msg_keys *a, const struct imap_msg_keys *b)
{
	const char *sa[] = { a->subject, a->from, a->to, a->cc,
			     a->display_from, a->display_to, a->message_id };
	const char *sb[] = { b->subject, b->from, b->to, b->cc,
			     b->display_from, b->display_to, b->message_id };

	if (a->date != b->date || a->arrival != b->arrival ||
	    a->size != b->size || a->date_valid != b->date_valid ||
	    a->subject_reply != b->subject_reply || a->nrefs != b->nrefs)
		return 0;
	for (size_t i = 0; i < sizeof(sa) / sizeof(*sa); i++)
		if (strcmp(sa[i], sb[i]) != 0)
			return 0;
	for (size_t i = 0; i < a->nrefs; i++)
		if (strcmp(a->refs[i], b->refs[i]) != 0)
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_msg_keys k, again;
	struct buf b = BUF_INIT(BUF_UNLIMITED);

	if (imap_keys_decode(data, size, &k) != 0)
		return 0;
	imap_keys_encode(&k, &b);
	FUZZ_CHECK(b.len <= size);	/* the encoding is the shortest */
	FUZZ_CHECK(imap_keys_decode(b.data, b.len, &again) == 0);
	FUZZ_CHECK(same(&k, &again));
	imap_msg_keys_free(&again);
	imap_msg_keys_free(&k);
	buf_free(&b);
	return 0;
}
