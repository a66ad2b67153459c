/* A message's SORT/THREAD keys as bytes, for the folder's key file
 * (maildir/keyfile.h).  Layout: the version byte 1, a flags byte (bit 0
 * date_valid, bit 1 subject_reply), date and arrival (zigzag LEB128),
 * size (LEB128), then subject, from, to, cc, display_from, display_to and
 * message_id, each a LEB128 length and its bytes, then the number of refs
 * and each ref the same way.  Decoding checks every length, since the file
 * may be damaged. */
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "imapd/sort-cache.h"

#define VERSION 1
#define MAX_REFS 10000		/* more refs: not a record of ours */

static void put_sv(struct buf *out, int64_t v)
{
	buf_put_uvarint(out, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static void put_str(struct buf *out, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	buf_put_uvarint(out, n);
	buf_append(out, s != NULL ? s : "", n);
}

void imap_keys_encode(const struct imap_msg_keys *k, struct buf *out)
{
	const char *strs[] = {
		k->subject, k->from, k->to, k->cc, k->display_from,
		k->display_to, k->message_id,
	};

	buf_putc(out, VERSION);
	buf_putc(out, (char)((k->date_valid ? 1 : 0) |
			     (k->subject_reply ? 2 : 0)));
	put_sv(out, k->date);
	put_sv(out, k->arrival);
	buf_put_uvarint(out, k->size);
	for (size_t i = 0; i < sizeof(strs) / sizeof(*strs); i++)
		put_str(out, strs[i]);
	buf_put_uvarint(out, k->nrefs);
	for (size_t i = 0; i < k->nrefs; i++)
		put_str(out, k->refs[i]);
}

static int64_t get_sv(struct byte_reader *r)
{
	uint64_t u = byte_reader_uvarint(r);

	return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

/* A string without NUL bytes (the keys compare with strcmp). */
static char *get_str(struct byte_reader *r)
{
	uint64_t n = byte_reader_uvarint(r);

	if (r->bad || n > (uint64_t)(r->end - r->p) ||
	    memchr(r->p, '\0', (size_t)n) != NULL) {
		r->bad = true;
		return xstrdup("");
	}
	r->p += n;
	return xstrndup((const char *)r->p - n, (size_t)n);
}

int imap_keys_decode(const void *data, size_t len, struct imap_msg_keys *k)
{
	struct byte_reader r = { data, (const unsigned char *)data + len, false };
	char **strs[] = {
		&k->subject, &k->from, &k->to, &k->cc, &k->display_from,
		&k->display_to, &k->message_id,
	};
	uint64_t nrefs;
	unsigned flags;

	memset(k, 0, sizeof(*k));
	if (len < 2 || r.p[0] != VERSION)
		return -1;
	flags = r.p[1];
	r.p += 2;
	k->date_valid = (flags & 1) != 0;
	k->subject_reply = (flags & 2) != 0;
	k->date = get_sv(&r);
	k->arrival = get_sv(&r);
	k->size = byte_reader_uvarint(&r);
	for (size_t i = 0; i < sizeof(strs) / sizeof(*strs); i++)
		*strs[i] = get_str(&r);
	nrefs = byte_reader_uvarint(&r);
	if (!r.bad && nrefs > 0 && nrefs <= MAX_REFS &&
	    nrefs <= (uint64_t)(r.end - r.p)) {
		k->refs = xreallocarray(NULL, (size_t)nrefs, sizeof(*k->refs));
		while (k->nrefs < nrefs && !r.bad)
			k->refs[k->nrefs++] = get_str(&r);
	} else if (nrefs != 0) {
		r.bad = true;
	}
	if (r.bad || r.p != r.end) {
		imap_msg_keys_free(k);
		return -1;
	}
	return 0;
}
