/* libFuzzer target for the message parser (maildir/message.h): parse,
 * check the tree, resolve every part through its section number, build
 * HEADER.FIELDS, round-trip the cache encoding, decode every header and
 * body to UTF-8, convert binary parts to base64.  Any broken invariant aborts.
 * tests/unit/test-fuzz-replay.c replays tests/fuzz/corpus-mime/. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "maildir/message.h"
#include "tests/fuzz/fuzz.h"

static int fuzz_utf8_valid(const struct buf *b)
{
	const unsigned char *s = (const unsigned char *)b->data;
	size_t i = 0, n = b->len, k, j;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xC2 && s[i] <= 0xDF)
			k = 2;
		else if (s[i] >= 0xE0 && s[i] <= 0xEF)
			k = 3;
		else if (s[i] >= 0xF0 && s[i] <= 0xF4)
			k = 4;
		else
			return 0;
		if (i + k > n)
			return 0;
		for (j = 1; j < k; j++)
			if ((s[i + j] & 0xC0) != 0x80)
				return 0;
		i += k;
	}
	return 1;
}

/* The section numbers of part idx (RFC 3501 6.4.5), none for a
 * multipart message (which has no number of its own).  A message that is
 * not multipart is its own part 1; an embedded message is numbered after
 * the message/rfc822 part holding it. */
static size_t fuzz_path(const struct msg_parse *p, uint32_t idx,
			uint32_t *nums, size_t max)
{
	uint32_t rev[2 * MSG_MAX_DEPTH + 2];
	size_t n = 0, i;

	for (;;) {
		const struct msg_part *pt = &p->parts[idx];
		uint32_t c, k = 1;

		FUZZ_CHECK(n < 2 * MSG_MAX_DEPTH);
		if (idx == 0 ||
		    (p->parts[pt->parent].flags & MSG_PART_MESSAGE)) {
			if (!(pt->flags & MSG_PART_MULTIPART))
				rev[n++] = 1;
			if (idx == 0)
				break;
			idx = pt->parent;
			continue;
		}
		for (c = p->parts[pt->parent].first_child; c != idx;
		     c = p->parts[c].next)
			k++;
		rev[n++] = k;
		idx = pt->parent;
	}
	FUZZ_CHECK(n <= max);
	for (i = 0; i < n; i++)
		nums[i] = rev[n - 1 - i];
	return n;
}

/* The chunked conversion gives what the whole one gave, from any start. */
static void fuzz_cursor(const char *d, const struct msg_range *r,
			const struct buf *whole)
{
	struct buf got = BUF_INIT(BUF_UNLIMITED);
	struct msg_wire_cursor c;
	size_t skip = (r->off * 7 + r->len) % (whole->len + 1);
	size_t chunk = r->len % 5 + 1, n;

	msg_wire_seek(&c, d, r->off, r->len, skip);
	while ((n = msg_wire_read(&c, d, chunk, &got)) > 0)
		FUZZ_CHECK(n <= chunk);
	FUZZ_CHECK(got.len == whole->len - skip);
	FUZZ_CHECK(got.len == 0 ||
		   memcmp(got.data, whole->data + skip, got.len) == 0);
	buf_free(&got);
}

static void fuzz_range(const struct msg_parse *p, const char *d,
		       const struct msg_section *s, uint64_t off, uint64_t len,
		       uint64_t wire)
{
	struct msg_range r;
	struct buf out = BUF_INIT(BUF_UNLIMITED);

	FUZZ_CHECK(msg_section_find(p, d, s, &r, NULL) == 0);
	FUZZ_CHECK(!r.built && r.off == off && r.len == len &&
		   r.wire_len == wire);
	FUZZ_CHECK(msg_wire_append(d, r.off, r.len, 0, (size_t)-1, &out) == 0);
	FUZZ_CHECK(out.len == r.wire_len);
	fuzz_cursor(d, &r, &out);
	buf_free(&out);
}

static void fuzz_sections(const struct msg_parse *p, const char *d)
{
	static const char *const fields[] = { "subject", "from", "to" };
	uint32_t nums[2 * MSG_MAX_DEPTH];
	struct msg_section s = { nums, 0, MSG_SECT_BODY, fields, 3 };
	struct buf built = BUF_INIT(BUF_UNLIMITED);
	struct msg_range r;
	uint32_t i;

	for (i = 0; i < p->nparts; i++) {
		const struct msg_part *pt = &p->parts[i];

		if ((pt->flags & MSG_PART_MULTIPART) && (i == 0 ||
		    (p->parts[pt->parent].flags & MSG_PART_MESSAGE)))
			continue;	/* a multipart message has no number */
		s.nparts = fuzz_path(p, i, nums, 2 * MSG_MAX_DEPTH);
		s.kind = MSG_SECT_BODY;
		fuzz_range(p, d, &s, pt->body_off, pt->body_size,
			   pt->body_wire);
		s.kind = MSG_SECT_MIME;
		fuzz_range(p, d, &s, pt->hdr_off, pt->hdr_size, pt->hdr_wire);
		if (pt->flags & MSG_PART_MESSAGE) {
			const struct msg_part *e = &p->parts[pt->first_child];

			s.kind = MSG_SECT_HEADER;
			fuzz_range(p, d, &s, e->hdr_off, e->hdr_size,
				   e->hdr_wire);
			s.kind = MSG_SECT_TEXT;
			fuzz_range(p, d, &s, e->body_off, e->body_size,
				   e->body_wire);
			s.kind = MSG_SECT_FIELDS_NOT;
			buf_clear(&built);
			FUZZ_CHECK(msg_section_find(p, d, &s, &r, &built) == 0);
			FUZZ_CHECK(r.built && r.len == built.len &&
				   r.len <= e->hdr_wire + 4);
		}
	}
	s.nparts = 0;
	s.kind = MSG_SECT_FIELDS;
	buf_clear(&built);
	FUZZ_CHECK(msg_section_find(p, d, &s, &r, &built) == 0);
	FUZZ_CHECK(r.len >= 2 && r.len <= p->parts[0].hdr_wire + 4);
	s.kind = MSG_SECT_BODY;
	fuzz_range(p, d, &s, 0, p->size, p->wire_size);
	buf_free(&built);
}

static void fuzz_cache(const struct msg_parse *p)
{
	struct buf ser = BUF_INIT(BUF_UNLIMITED);
	struct msg_parse *q;

	FUZZ_CHECK(msg_parse_serialize(p, &ser) == 0);
	q = msg_parse_deserialize(ser.data, ser.len, p->size);
	FUZZ_CHECK(q != NULL);
	FUZZ_CHECK(q->nparts == p->nparts && q->nparams == p->nparams &&
		   q->naddrs == p->naddrs && q->nenvs == p->nenvs);
	FUZZ_CHECK(memcmp(q->parts, p->parts,
			  p->nparts * sizeof(*p->parts)) == 0);
	FUZZ_CHECK(q->strs.len == p->strs.len &&
		   memcmp(q->strs.data, p->strs.data, p->strs.len) == 0);
	msg_parse_free(&q);
	buf_free(&ser);
}

static void fuzz_decode(const struct msg_parse *p, const char *d)
{
	struct buf out = BUF_INIT(BUF_UNLIMITED);
	uint32_t i;

	for (i = 0; i < p->nenvs; i++) {
		const char *subj = msg_str(p, p->envs[i].subject);
		const char *date = msg_str(p, p->envs[i].date);
		time_t t;
		int tz;

		if (subj != NULL) {
			buf_clear(&out);
			FUZZ_CHECK(mime_decode_header(subj, strlen(subj),
						      &out) == 0);
			FUZZ_CHECK(fuzz_utf8_valid(&out));
		}
		if (date != NULL)
			(void)msg_parse_date(date, strlen(date), &t, &tz);
	}
	for (i = 0; i < p->nparts; i++) {
		const struct msg_part *pt = &p->parts[i];

		if (pt->nchildren > 0)
			continue;
		buf_clear(&out);
		FUZZ_CHECK(mime_decode_body(d + pt->body_off, pt->body_size,
			mime_encoding_of(msg_str(p, pt->encoding)),
			msg_part_param(p, i, "charset"), &out) == 0);
		FUZZ_CHECK(fuzz_utf8_valid(&out));
	}
	for (i = 0; i < p->nparams; i++) {
		const char *v = msg_str(p, p->params[i].value);

		if (v == NULL)
			continue;
		buf_clear(&out);
		FUZZ_CHECK(mime_decode_param(v, &out) == 0);
		FUZZ_CHECK(fuzz_utf8_valid(&out));
	}
	buf_free(&out);
}

static void fuzz_fields(const struct msg_parse *p, const char *d)
{
	struct buf v = BUF_INIT(BUF_UNLIMITED);
	struct hdr_iter it;
	struct hdr_field f;
	const struct msg_part *root = &p->parts[0];

	hdr_iter_init(&it, d, root->hdr_off, root->hdr_size);
	while (hdr_iter_next(&it, &f)) {
		FUZZ_CHECK(f.off >= root->hdr_off && f.end > f.off &&
			   f.end <= root->hdr_off + root->hdr_size &&
			   f.value_off + f.value_len <= f.end);
		buf_clear(&v);
		FUZZ_CHECK(hdr_unfold(d, &f, &v) == 0);
		FUZZ_CHECK(v.len <= f.value_len);
	}
	buf_free(&v);
}

/* The APPEND conversion of binary parts (RFC 3516 4.4): it never fails
 * without a limit, and input with no NUL and no "binary" comes back as
 * it was. */
static bool fuzz_has_binary_word(const char *d, size_t size)
{
	for (size_t i = 0; i + 6 <= size; i++)
		if (strncasecmp(d + i, "binary", 6) == 0)
			return true;
	return false;
}

static void fuzz_binary(const char *d, size_t size)
{
	struct buf out = BUF_INIT(BUF_UNLIMITED);

	FUZZ_CHECK(msg_binary_to_base64(d, size, &out) == 0);
	if (memchr(d, '\0', size) == NULL && !fuzz_has_binary_word(d, size))
		FUZZ_CHECK(out.len == size && memcmp(out.data, d, size) == 0);
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *d = (const char *)data;
	struct msg_parse *p = msg_parse(d, size);

	FUZZ_CHECK(msg_parse_valid(p, size));
	FUZZ_CHECK(p->nparts <= MSG_MAX_PARTS);
	fuzz_fields(p, d);
	fuzz_sections(p, d);
	fuzz_cache(p);
	fuzz_decode(p, d);
	fuzz_binary(d, size);
	/* the cache decoder on raw input must refuse or build a valid parse */
	msg_parse_free(&p);
	p = msg_parse_deserialize(data, size, size);
	FUZZ_CHECK(p == NULL || msg_parse_valid(p, size));
	msg_parse_free(&p);
	return 0;
}
