/* A parse as bytes, for the index: "MLP1", then every number as a LEB128
 * varint (indexes stored plus one, so MSG_NONE is the single byte 0), then
 * the string arena.  Reading checks everything, since a damaged cache must
 * never send a reader out of bounds or round a loop forever. */
#include <string.h>
#include <stdlib.h>

#include "common/xalloc.h"
#include "maildir/message-int.h"

#define MAGIC "MLP1"
#define MAX_COUNT (1u << 24)	/* sanity bound on array sizes */

static int put_idx(struct buf *out, uint32_t v)
{
	return buf_put_uvarint(out, (uint32_t)(v + 1));
}

static int put_part(struct buf *out, const struct msg_part *pt)
{
	const uint64_t v[] = {
		pt->flags, pt->depth, pt->hdr_off, pt->hdr_size, pt->body_off,
		pt->body_size, pt->hdr_wire, pt->body_wire, pt->body_lines,
		pt->type, pt->subtype, pt->encoding, pt->id, pt->description,
		pt->md5, pt->location, pt->disposition, pt->nparams,
		pt->ndisp_params, pt->nlangs, pt->nchildren,
	};
	const uint32_t ix[] = {
		pt->parent, pt->first_child, pt->next, pt->params,
		pt->disp_params, pt->langs, pt->envelope,
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (buf_put_uvarint(out, v[i]) < 0)
			return -1;
	for (i = 0; i < sizeof(ix) / sizeof(ix[0]); i++)
		if (put_idx(out, ix[i]) < 0)
			return -1;
	return 0;
}

static int put_list(struct buf *out, const struct msg_addr_list *l)
{
	return put_idx(out, l->first) | buf_put_uvarint(out, l->count);
}

int msg_parse_serialize(const struct msg_parse *p, struct buf *out)
{
	size_t start = out->len;
	uint32_t i;
	int bad = 0;

	bad |= buf_append(out, MAGIC, 4);
	bad |= buf_put_uvarint(out, p->size) | buf_put_uvarint(out, p->wire_size);
	bad |= buf_put_uvarint(out, p->nparts) | buf_put_uvarint(out, p->nparams);
	bad |= buf_put_uvarint(out, p->naddrs) | buf_put_uvarint(out, p->nenvs);
	bad |= buf_put_uvarint(out, p->strs.len);
	for (i = 0; i < p->nparts && bad == 0; i++)
		bad |= put_part(out, &p->parts[i]);
	for (i = 0; i < p->nparams && bad == 0; i++)
		bad |= buf_put_uvarint(out, p->params[i].name) |
		       buf_put_uvarint(out, p->params[i].value);
	for (i = 0; i < p->naddrs && bad == 0; i++) {
		const struct msg_addr *a = &p->addrs[i];

		bad |= buf_put_uvarint(out, a->name) | buf_put_uvarint(out, a->adl) |
		       buf_put_uvarint(out, a->mailbox) | buf_put_uvarint(out, a->host);
	}
	for (i = 0; i < p->nenvs && bad == 0; i++) {
		const struct msg_envelope *e = &p->envs[i];

		bad |= buf_put_uvarint(out, e->date) | buf_put_uvarint(out, e->subject) |
		       buf_put_uvarint(out, e->in_reply_to) |
		       buf_put_uvarint(out, e->message_id);
		bad |= put_list(out, &e->from) | put_list(out, &e->sender) |
		       put_list(out, &e->reply_to) | put_list(out, &e->to) |
		       put_list(out, &e->cc) | put_list(out, &e->bcc);
	}
	if (bad == 0)
		bad |= buf_append(out, p->strs.data, p->strs.len);
	if (bad != 0) {
		buf_truncate(out, start);
		return -1;
	}
	return 0;
}

/* ---- reading ---- */

static uint32_t get_u32(struct byte_reader *r)
{
	uint64_t v = byte_reader_uvarint(r);

	if (v > UINT32_MAX)
		r->bad = true;
	return (uint32_t)v;
}

static uint32_t get_idx(struct byte_reader *r)
{
	return get_u32(r) - 1;	/* 0 wraps to MSG_NONE */
}

static void get_part(struct byte_reader *r, struct msg_part *pt)
{
	uint64_t *v64[] = {
		&pt->hdr_off, &pt->hdr_size, &pt->body_off, &pt->body_size,
		&pt->hdr_wire, &pt->body_wire, &pt->body_lines,
	};
	uint32_t *v32[] = {
		&pt->type, &pt->subtype, &pt->encoding, &pt->id,
		&pt->description, &pt->md5, &pt->location, &pt->disposition,
		&pt->nparams, &pt->ndisp_params, &pt->nlangs, &pt->nchildren,
	};
	uint32_t *ix[] = {
		&pt->parent, &pt->first_child, &pt->next, &pt->params,
		&pt->disp_params, &pt->langs, &pt->envelope,
	};
	size_t i;

	pt->flags = get_u32(r);
	pt->depth = get_u32(r);
	for (i = 0; i < sizeof(v64) / sizeof(v64[0]); i++)
		*v64[i] = byte_reader_uvarint(r);
	for (i = 0; i < sizeof(v32) / sizeof(v32[0]); i++)
		*v32[i] = get_u32(r);
	for (i = 0; i < sizeof(ix) / sizeof(ix[0]); i++)
		*ix[i] = get_idx(r);
}

static bool str_ok(const struct msg_parse *p, msg_str_t s)
{
	return s < p->strs.len;
}

static bool range_ok(uint32_t first, uint32_t count, uint32_t n)
{
	if (count == 0)
		return true;
	return first < n && count <= n - first;
}

static bool span_ok(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

/* The tree is pre-order: children follow their parent, siblings ascend,
 * so walking it always ends. */
static bool part_ok(const struct msg_parse *p, uint32_t i, uint64_t size)
{
	const struct msg_part *pt = &p->parts[i];
	uint32_t c, n = 0;

	if ((i == 0) != (pt->parent == MSG_NONE) ||
	    (i > 0 && pt->parent >= i) || pt->depth >= MSG_MAX_DEPTH ||
	    (pt->first_child != MSG_NONE && pt->first_child != i + 1) ||
	    (pt->next != MSG_NONE && (pt->next <= i || pt->next >= p->nparts ||
				      p->parts[pt->next].parent != pt->parent)))
		return false;
	if (!span_ok(pt->hdr_off, pt->hdr_size, size) ||
	    !span_ok(pt->body_off, pt->body_size, size))
		return false;
	if (!str_ok(p, pt->type) || !str_ok(p, pt->subtype) ||
	    !str_ok(p, pt->encoding) || !str_ok(p, pt->id) ||
	    !str_ok(p, pt->description) || !str_ok(p, pt->md5) ||
	    !str_ok(p, pt->location) || !str_ok(p, pt->disposition) ||
	    pt->type == 0 || pt->subtype == 0 || pt->encoding == 0)
		return false;
	if (!range_ok(pt->params, pt->nparams, p->nparams) ||
	    !range_ok(pt->disp_params, pt->ndisp_params, p->nparams) ||
	    !range_ok(pt->langs, pt->nlangs, p->nparams) ||
	    (pt->envelope != MSG_NONE && pt->envelope >= p->nenvs))
		return false;
	for (c = pt->first_child; c != MSG_NONE && c < p->nparts;
	     c = p->parts[c].next) {
		if (p->parts[c].parent != i)
			return false;
		n++;
	}
	if (n != pt->nchildren || c != MSG_NONE)
		return false;
	if ((pt->flags & MSG_PART_MESSAGE) && n != 1)
		return false;
	return true;
}

static bool list_ok(const struct msg_parse *p, const struct msg_addr_list *l)
{
	return range_ok(l->first, l->count, p->naddrs);
}

/* Where parts sit: header right before body, children inside their
 * parent's body and in order, wire sizes between raw and twice raw. */
static bool layout_ok(const struct msg_parse *p, uint32_t i)
{
	const struct msg_part *pt = &p->parts[i], *up;
	uint64_t end = pt->body_off + pt->body_size;

	if (pt->hdr_off + pt->hdr_size != pt->body_off ||
	    pt->hdr_wire < pt->hdr_size || pt->hdr_wire > 2 * pt->hdr_size ||
	    pt->body_wire < pt->body_size ||
	    pt->body_wire > 2 * pt->body_size ||
	    pt->body_lines > pt->body_size)
		return false;
	if (i == 0)
		return pt->hdr_off == 0 && end == p->size;
	up = &p->parts[pt->parent];
	if (pt->depth != up->depth + 1 || pt->hdr_off < up->body_off ||
	    end > up->body_off + up->body_size)
		return false;
	if ((up->flags & MSG_PART_MESSAGE) && pt->hdr_off != up->body_off)
		return false;
	if (pt->next != MSG_NONE && p->parts[pt->next].hdr_off < end)
		return false;
	return true;
}

bool msg_parse_valid(const struct msg_parse *p, uint64_t size)
{
	uint32_t i;

	if (p->nparts == 0 || p->size != size || p->wire_size < size ||
	    p->wire_size > 2 * size ||
	    p->strs.len == 0 || p->strs.data[0] != '\0' ||
	    p->strs.data[p->strs.len - 1] != '\0')
		return false;
	for (i = 0; i < p->nparts; i++)
		if (!part_ok(p, i, size) || !layout_ok(p, i))
			return false;
	for (i = 0; i < p->nparams; i++)
		if (!str_ok(p, p->params[i].name) ||
		    !str_ok(p, p->params[i].value))
			return false;
	for (i = 0; i < p->naddrs; i++) {
		const struct msg_addr *a = &p->addrs[i];

		if (!str_ok(p, a->name) || !str_ok(p, a->adl) ||
		    !str_ok(p, a->mailbox) || !str_ok(p, a->host))
			return false;
	}
	for (i = 0; i < p->nenvs; i++) {
		const struct msg_envelope *e = &p->envs[i];

		if (!str_ok(p, e->date) || !str_ok(p, e->subject) ||
		    !str_ok(p, e->in_reply_to) || !str_ok(p, e->message_id) ||
		    !list_ok(p, &e->from) || !list_ok(p, &e->sender) ||
		    !list_ok(p, &e->reply_to) || !list_ok(p, &e->to) ||
		    !list_ok(p, &e->cc) || !list_ok(p, &e->bcc))
			return false;
	}
	return true;
}

static void get_list(struct byte_reader *r, struct msg_addr_list *l)
{
	l->first = get_idx(r);
	l->count = get_u32(r);
}

static void read_arrays(struct byte_reader *r, struct msg_parse *p)
{
	uint32_t i;

	for (i = 0; i < p->nparts && !r->bad; i++)
		get_part(r, &p->parts[i]);
	for (i = 0; i < p->nparams && !r->bad; i++) {
		p->params[i].name = get_u32(r);
		p->params[i].value = get_u32(r);
	}
	for (i = 0; i < p->naddrs && !r->bad; i++) {
		p->addrs[i].name = get_u32(r);
		p->addrs[i].adl = get_u32(r);
		p->addrs[i].mailbox = get_u32(r);
		p->addrs[i].host = get_u32(r);
	}
	for (i = 0; i < p->nenvs && !r->bad; i++) {
		struct msg_envelope *e = &p->envs[i];

		e->date = get_u32(r);
		e->subject = get_u32(r);
		e->in_reply_to = get_u32(r);
		e->message_id = get_u32(r);
		get_list(r, &e->from);
		get_list(r, &e->sender);
		get_list(r, &e->reply_to);
		get_list(r, &e->to);
		get_list(r, &e->cc);
		get_list(r, &e->bcc);
	}
}

struct msg_parse *msg_parse_deserialize(const void *data, size_t len,
					uint64_t msg_size)
{
	struct byte_reader r = { data, (const unsigned char *)data + len, false };
	struct msg_parse *p;
	uint64_t strs_len;

	if (len < 4 || memcmp(data, MAGIC, 4) != 0)
		return NULL;
	r.p += 4;
	p = xcalloc(1, sizeof(*p));
	buf_init(&p->strs, UINT32_MAX - 1);
	p->size = byte_reader_uvarint(&r);
	p->wire_size = byte_reader_uvarint(&r);
	p->nparts = get_u32(&r);
	p->nparams = get_u32(&r);
	p->naddrs = get_u32(&r);
	p->nenvs = get_u32(&r);
	strs_len = byte_reader_uvarint(&r);
	/* every element takes at least one byte each: no huge allocation
	 * from a few bytes of garbage */
	if (r.bad || p->nparts > MSG_MAX_PARTS || p->nparams > MAX_COUNT ||
	    p->naddrs > MAX_COUNT || p->nenvs > MAX_COUNT ||
	    (uint64_t)p->nparts + p->nparams + p->naddrs + p->nenvs +
	    strs_len > (uint64_t)(r.end - r.p)) {
		msg_parse_free(&p);
		return NULL;
	}
	p->cap_parts = p->nparts;
	p->cap_params = p->nparams;
	p->cap_addrs = p->naddrs;
	p->cap_envs = p->nenvs;
	p->parts = xcalloc(p->nparts + 1, sizeof(*p->parts));
	p->params = xcalloc(p->nparams + 1, sizeof(*p->params));
	p->addrs = xcalloc(p->naddrs + 1, sizeof(*p->addrs));
	p->envs = xcalloc(p->nenvs + 1, sizeof(*p->envs));
	read_arrays(&r, p);
	if (r.bad || (uint64_t)(r.end - r.p) != strs_len) {
		msg_parse_free(&p);
		return NULL;
	}
	buf_append(&p->strs, r.p, strs_len);
	if (!msg_parse_valid(p, msg_size))
		msg_parse_free(&p);
	return p;
}
