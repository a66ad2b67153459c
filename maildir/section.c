/* BODY[section] (RFC 3501 6.4.5): from a section spec to the bytes. */
#include <string.h>
#include <strings.h>

#include "maildir/message-int.h"

/* Emits the part of s[0..n) that lies within the wire window. */
static int window_put(struct buf *out, const char *s, size_t n, size_t *w,
		      size_t skip, size_t limit)
{
	size_t from = *w, to = *w + n;

	*w = to;
	if (to <= skip || from >= limit)
		return 0;
	if (from < skip) {
		s += skip - from;
		from = skip;
	}
	if (to > limit)
		to = limit;
	return buf_append(out, s, to - from);
}

int msg_wire_append(const char *data, size_t off, size_t len, size_t skip,
		    size_t max, struct buf *out)
{
	size_t i = off, end = off + len, w = 0, lf;
	size_t limit = max > (size_t)-1 - skip ? (size_t)-1 : skip + max;
	const char *p;

	while (i < end && w < limit) {
		p = memchr(data + i, '\n', end - i);
		lf = p == NULL ? end : (size_t)(p - data);
		if (window_put(out, data + i, lf - i, &w, skip, limit) < 0)
			return -1;
		if (p == NULL)
			break;
		if (lf == 0 || data[lf - 1] != '\r') {
			if (window_put(out, "\r\n", 2, &w, skip, limit) < 0)
				return -1;
		} else if (window_put(out, "\n", 1, &w, skip, limit) < 0) {
			return -1;
		}
		i = lf + 1;
	}
	return 0;
}

void msg_wire_seek(struct msg_wire_cursor *c, const char *data, size_t off,
		   size_t len, size_t skip)
{
	size_t end = off + len, lf;
	const char *p;

	c->pos = off;
	c->end = end;
	c->lf_pending = false;
	while (skip > 0 && c->pos < end) {
		p = memchr(data + c->pos, '\n', end - c->pos);
		lf = p == NULL ? end : (size_t)(p - data);
		if (lf - c->pos >= skip) {
			c->pos += skip;
			return;
		}
		skip -= lf - c->pos;
		c->pos = lf;
		if (p == NULL)
			return;
		if (lf == 0 || data[lf - 1] != '\r') {
			/* the CR we insert, then the LF */
			if (skip == 1) {
				c->pos = lf + 1;
				c->lf_pending = true;
				return;
			}
			skip -= 2;
		} else {
			skip -= 1;
		}
		c->pos = lf + 1;
	}
}

size_t msg_wire_read(struct msg_wire_cursor *c, const char *data, size_t max,
		     struct buf *out)
{
	size_t done = 0, lf, run;
	const char *p;

	if (c->lf_pending && max > 0) {
		if (buf_putc(out, '\n') < 0)
			return 0;
		c->lf_pending = false;
		done = 1;
	}
	while (done < max && c->pos < c->end) {
		p = memchr(data + c->pos, '\n', c->end - c->pos);
		lf = p == NULL ? c->end : (size_t)(p - data);
		run = lf - c->pos;
		if (run > max - done)
			run = max - done;
		if (buf_append(out, data + c->pos, run) < 0)
			return done;
		done += run;
		c->pos += run;
		if (c->pos != lf || p == NULL || done == max)
			continue;
		if (lf == 0 || data[lf - 1] != '\r') {
			if (buf_putc(out, '\r') < 0)
				return done;
			done++;
			c->lf_pending = true;
			c->pos = lf + 1;
			if (done < max) {
				if (buf_putc(out, '\n') < 0)
					return done;
				c->lf_pending = false;
				done++;
			}
		} else {
			if (buf_putc(out, '\n') < 0)
				return done;
			done++;
			c->pos = lf + 1;
		}
	}
	return done;
}

static bool field_listed(const char *data, const struct hdr_field *f,
			 const struct msg_section *s)
{
	size_t i;

	for (i = 0; i < s->nfields; i++)
		if (hdr_name_is(data, f, s->fields[i]))
			return true;
	return false;
}

int msg_header_fields(const char *data, size_t off, size_t len,
		      const char *const *fields, size_t nfields, bool not,
		      struct buf *out)
{
	struct msg_section s = { NULL, 0, MSG_SECT_FIELDS, fields, nfields };
	struct hdr_iter it;
	struct hdr_field f;

	hdr_iter_init(&it, data, off, len);
	while (hdr_iter_next(&it, &f)) {
		if (field_listed(data, &f, &s) == not)
			continue;
		if (msg_wire_append(data, f.off, f.end - f.off, 0, (size_t)-1,
				    out) < 0)
			return -1;
		if (data[f.end - 1] != '\n' && buf_append(out, "\r\n", 2) < 0)
			return -1;
	}
	return buf_append(out, "\r\n", 2);
}

uint64_t msg_wire_size(const char *data, size_t size)
{
	uint64_t wire = size;
	const char *p = data, *end = data + size, *lf;

	while (p < end && (lf = memchr(p, '\n', end - p)) != NULL) {
		if (lf == data || lf[-1] != '\r')
			wire++;
		p = lf + 1;
	}
	return wire;
}

static int build_fields(const struct msg_part *m, const char *data,
			const struct msg_section *s, struct msg_range *r,
			struct buf *out)
{
	size_t start;

	if (out == NULL)
		return -1;
	start = out->len;
	if (msg_header_fields(data, m->hdr_off, m->hdr_size, s->fields,
			      s->nfields, s->kind == MSG_SECT_FIELDS_NOT,
			      out) < 0) {
		buf_truncate(out, start);
		return -1;
	}
	r->off = start;
	r->len = r->wire_len = out->len - start;
	r->built = true;
	return 0;
}

static void set_range(struct msg_range *r, uint64_t off, uint64_t len,
		      uint64_t wire)
{
	r->off = off;
	r->len = len;
	r->wire_len = wire;
	r->built = false;
}

/* The part a list of numbers names, or MSG_NONE.  A number after a
 * message/rfc822 part counts in its embedded message; a message that is
 * not multipart has only part 1 (RFC 3501 6.4.5). */
static uint32_t resolve(const struct msg_parse *p, const uint32_t *nums,
			size_t n)
{
	uint32_t cur = 0;
	bool at_message = true;
	size_t i;

	for (i = 0; i < n; i++) {
		if (i > 0 && (p->parts[cur].flags & MSG_PART_MESSAGE)) {
			cur = p->parts[cur].first_child;
			at_message = true;
		}
		if (p->parts[cur].flags & MSG_PART_MULTIPART) {
			cur = msg_part_child(p, cur, nums[i]);
			if (cur == MSG_NONE)
				return MSG_NONE;
			at_message = false;
		} else if (nums[i] != 1 || !at_message) {
			return MSG_NONE;
		} else {
			at_message = false;
		}
	}
	return cur;
}

uint32_t msg_section_part(const struct msg_parse *p, const uint32_t *nums,
			  size_t n)
{
	return p->nparts == 0 ? MSG_NONE : resolve(p, nums, n);
}

int msg_section_find(const struct msg_parse *p, const char *data,
		     const struct msg_section *s, struct msg_range *r,
		     struct buf *built)
{
	const struct msg_part *part, *m;
	uint32_t idx;

	if (p->nparts == 0)
		return -1;
	idx = resolve(p, s->parts, s->nparts);
	if (idx == MSG_NONE)
		return -1;
	part = &p->parts[idx];
	/* HEADER and TEXT are of the message, or of the message a
	 * message/rfc822 part holds */
	m = part;
	if (s->nparts > 0 && s->kind != MSG_SECT_BODY &&
	    s->kind != MSG_SECT_MIME) {
		if (!(part->flags & MSG_PART_MESSAGE))
			return -1;
		m = &p->parts[part->first_child];
	}
	switch (s->kind) {
	case MSG_SECT_BODY:
		if (s->nparts == 0)
			set_range(r, 0, p->size, p->wire_size);
		else
			set_range(r, part->body_off, part->body_size,
				  part->body_wire);
		return 0;
	case MSG_SECT_HEADER:
		set_range(r, m->hdr_off, m->hdr_size, m->hdr_wire);
		return 0;
	case MSG_SECT_TEXT:
		set_range(r, m->body_off, m->body_size, m->body_wire);
		return 0;
	case MSG_SECT_MIME:
		if (s->nparts == 0)
			return -1;
		set_range(r, part->hdr_off, part->hdr_size, part->hdr_wire);
		return 0;
	case MSG_SECT_FIELDS:
	case MSG_SECT_FIELDS_NOT:
		return build_fields(m, data, s, r, built);
	}
	return -1;
}

static bool word_is(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(s, w, n) == 0;
}

int msg_section_parse(const char *spec, size_t len, struct msg_section *s,
		      uint32_t *parts, size_t maxparts)
{
	size_t i = 0, start;
	uint64_t v;

	s->parts = parts;
	s->nparts = 0;
	s->kind = MSG_SECT_BODY;
	s->fields = NULL;
	s->nfields = 0;
	while (i < len && spec[i] >= '0' && spec[i] <= '9') {
		/* nz-number *("." nz-number) */
		if (spec[i] == '0' || s->nparts >= maxparts)
			return -1;
		for (v = 0; i < len && spec[i] >= '0' && spec[i] <= '9'; i++) {
			v = v * 10 + (uint64_t)(spec[i] - '0');
			if (v > UINT32_MAX - 1)
				return -1;
		}
		parts[s->nparts++] = (uint32_t)v;
		if (i == len)
			return 0;
		if (spec[i++] != '.' || i == len)
			return -1;
	}
	start = i;
	if (start == len)
		return 0;
	if (word_is(spec + start, len - start, "HEADER"))
		s->kind = MSG_SECT_HEADER;
	else if (word_is(spec + start, len - start, "TEXT"))
		s->kind = MSG_SECT_TEXT;
	else if (word_is(spec + start, len - start, "HEADER.FIELDS"))
		s->kind = MSG_SECT_FIELDS;
	else if (word_is(spec + start, len - start, "HEADER.FIELDS.NOT"))
		s->kind = MSG_SECT_FIELDS_NOT;
	else if (word_is(spec + start, len - start, "MIME") && s->nparts > 0)
		s->kind = MSG_SECT_MIME;
	else
		return -1;
	return 0;
}
