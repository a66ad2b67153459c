/* The MIME tree of a message in memory (RFC 2045, RFC 2046 5.1, 5.2.1),
 * built in one forward pass: every byte is looked at a bounded number of
 * times, whatever the input. */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "common/xalloc.h"
#include "maildir/message-int.h"

#define IS_WSP(c) ((c) == ' ' || (c) == '\t')
#define MAX_BOUNDARY 998	/* a line's worth; RFC 2046 5.1.1 says 70 */

/* ---- mapping ---- */

int msg_map_fd(int fd, size_t size, struct msg_map *m, char *err_r,
	       size_t errlen)
{
	void *p;

	m->data = "";
	m->size = 0;
	if (size == 0)
		return 0;
	p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED) {
		snprintf(err_r, errlen, "mmap(%zu bytes) failed: %s", size,
			 strerror(errno));
		return -1;
	}
	m->data = p;
	m->size = size;
	return 0;
}

void msg_unmap(struct msg_map *m)
{
	if (m->size > 0)
		munmap((void *)m->data, m->size);
	m->data = "";
	m->size = 0;
}

/* ---- the arena and the arrays ---- */

struct msg_parse *msg_parse_new(void)
{
	struct msg_parse *p = xcalloc(1, sizeof(*p));

	buf_init(&p->strs, UINT32_MAX - 1);
	buf_putc(&p->strs, '\0');	/* offset 0 is NIL */
	return p;
}

msg_str_t msg_strn(struct msg_parse *p, const char *s, size_t len)
{
	size_t start = p->strs.len, i, run;

	if (buf_reserve(&p->strs, len + 1) < 0)
		return 0;
	for (i = 0; i < len; i += run + 1) {
		/* the arena holds C strings: NUL bytes are dropped */
		const char *nul = memchr(s + i, '\0', len - i);

		run = nul == NULL ? len - i : (size_t)(nul - (s + i));
		buf_append(&p->strs, s + i, run);
	}
	buf_putc(&p->strs, '\0');
	return (msg_str_t)start;
}

msg_str_t msg_strz(struct msg_parse *p, const char *s)
{
	return msg_strn(p, s, strlen(s));
}

#define GROW(arr, n, cap) do {						\
	if ((n) == (cap)) {						\
		(cap) = (cap) == 0 ? 8 : (cap) * 2;			\
		(arr) = xreallocarray((arr), (cap), sizeof(*(arr)));	\
	}								\
} while (0)

uint32_t msg_add_param(struct msg_parse *p, msg_str_t name, msg_str_t value)
{
	GROW(p->params, p->nparams, p->cap_params);
	p->params[p->nparams].name = name;
	p->params[p->nparams].value = value;
	return p->nparams++;
}

uint32_t msg_add_addr(struct msg_parse *p, msg_str_t name, msg_str_t adl,
		      msg_str_t mailbox, msg_str_t host)
{
	struct msg_addr *a;

	GROW(p->addrs, p->naddrs, p->cap_addrs);
	a = &p->addrs[p->naddrs];
	a->name = name;
	a->adl = adl;
	a->mailbox = mailbox;
	a->host = host;
	return p->naddrs++;
}

uint32_t msg_add_env(struct msg_parse *p)
{
	GROW(p->envs, p->nenvs, p->cap_envs);
	memset(&p->envs[p->nenvs], 0, sizeof(p->envs[0]));
	return p->nenvs++;
}

const char *msg_str(const struct msg_parse *p, msg_str_t s)
{
	if (s == 0 || s >= p->strs.len)
		return NULL;
	return p->strs.data + s;
}

void msg_parse_free(struct msg_parse **pp)
{
	struct msg_parse *p = *pp;

	if (p == NULL)
		return;
	free(p->parts);
	free(p->params);
	free(p->addrs);
	free(p->envs);
	buf_free(&p->strs);
	free(p);
	*pp = NULL;
}

uint32_t msg_part_child(const struct msg_parse *p, uint32_t idx, uint32_t n)
{
	uint32_t c;

	if (idx >= p->nparts || n == 0)
		return MSG_NONE;
	for (c = p->parts[idx].first_child; c != MSG_NONE && --n > 0;
	     c = p->parts[c].next)
		;
	return c;
}

const char *msg_part_param(const struct msg_parse *p, uint32_t idx,
			   const char *name)
{
	const struct msg_part *part = &p->parts[idx];
	uint32_t i;

	for (i = 0; i < part->nparams; i++) {
		const struct msg_param *pm = &p->params[part->params + i];
		const char *n = msg_str(p, pm->name);

		if (n != NULL && strcasecmp(n, name) == 0)
			return msg_str(p, pm->value);
	}
	return NULL;
}

/* ---- the parser ---- */

struct bound {
	char *s;
	size_t len;
};

/* What ended a part: a delimiter line of enclosing multipart `which`
 * (an index into the boundary stack), or the end of the data (-1). */
struct delim {
	int which;
	bool close;
};

struct ctx {
	struct msg_parse *p;
	const char *data;
	size_t end;
	struct bound stack[MSG_MAX_DEPTH];
	int nbounds;
	uint32_t last_child[MSG_MAX_PARTS];
	/* LFs and bare LFs before cpos; only ever moves forward */
	size_t cpos;
	uint64_t lfs, bare_lfs;
};

static void count_to(struct ctx *c, size_t off)
{
	const char *lf;
	size_t i;

	while (c->cpos < off) {
		lf = memchr(c->data + c->cpos, '\n', off - c->cpos);
		if (lf == NULL) {
			c->cpos = off;
			break;
		}
		i = lf - c->data;
		c->lfs++;
		if (i == 0 || c->data[i - 1] != '\r')
			c->bare_lfs++;
		c->cpos = i + 1;
	}
}

/* Is the line at pos a delimiter of an enclosing multipart?  By prefix,
 * as other parsers do, since some mailers append junk to the line (RFC
 * 2046 5.1.1 allows only LWSP); the longest boundary that matches wins,
 * the innermost among equals (the same boundary reused when nested). */
static int delim_at(const struct ctx *c, size_t pos, bool *close)
{
	const char *s = c->data + pos;
	size_t avail = c->end - pos;
	int i, best = -1;

	if (avail < 2 || s[0] != '-' || s[1] != '-')
		return -1;
	for (i = c->nbounds - 1; i >= 0; i--) {
		const struct bound *b = &c->stack[i];

		if (avail - 2 >= b->len && memcmp(s + 2, b->s, b->len) == 0 &&
		    (best < 0 || b->len > c->stack[best].len))
			best = i;
	}
	if (best >= 0) {
		size_t len = c->stack[best].len;

		*close = avail - 2 - len >= 2 && s[2 + len] == '-' &&
			 s[3 + len] == '-';
	}
	return best;
}

/* The first delimiter line at or after the line start pos. */
static size_t find_delim(const struct ctx *c, size_t pos, struct delim *d)
{
	d->which = -1;
	d->close = false;
	if (c->nbounds == 0)
		return c->end;
	while (pos < c->end) {
		if (c->data[pos] == '-' &&
		    (d->which = delim_at(c, pos, &d->close)) >= 0)
			return pos;
		pos = msg_line_next(c->data, pos, c->end);
	}
	return c->end;
}

/* The end of the header at pos; *d is set when a delimiter line cut it
 * short (a part with no blank line and no body). */
static size_t scan_header(struct ctx *c, size_t pos, struct delim *d,
			  bool *blank)
{
	bool in_field = false;
	size_t n, colon;

	d->which = -1;
	*blank = false;
	while (pos < c->end) {
		n = msg_line_len(c->data, pos, c->end);
		if (n == 0) {
			*blank = true;
			return msg_line_next(c->data, pos, c->end);
		}
		if (c->data[pos] == '-' &&
		    (d->which = delim_at(c, pos, &d->close)) >= 0)
			return pos;
		if (IS_WSP(c->data[pos])) {
			if (!in_field)
				break;
		} else if (hdr_field_line(c->data + pos, n, &colon) == 0) {
			break;	/* not a field: the body starts here */
		}
		in_field = true;
		pos = msg_line_next(c->data, pos, c->end);
	}
	return pos;
}

static uint32_t new_part(struct ctx *c, uint32_t parent, uint32_t depth)
{
	struct msg_parse *p = c->p;
	struct msg_part *part;
	uint32_t idx;

	GROW(p->parts, p->nparts, p->cap_parts);
	idx = p->nparts++;
	part = &p->parts[idx];
	memset(part, 0, sizeof(*part));
	part->parent = parent;
	part->first_child = MSG_NONE;
	part->next = MSG_NONE;
	part->params = part->disp_params = part->langs = MSG_NONE;
	part->envelope = MSG_NONE;
	part->depth = depth;
	c->last_child[idx] = MSG_NONE;
	if (parent != MSG_NONE) {
		if (c->last_child[parent] == MSG_NONE)
			p->parts[parent].first_child = idx;
		else
			p->parts[c->last_child[parent]].next = idx;
		c->last_child[parent] = idx;
		p->parts[parent].nchildren++;
	}
	return idx;
}

static size_t parse_part(struct ctx *c, size_t pos, uint32_t parent,
			 uint32_t depth, bool digest_child, struct delim *d);

/* The line end just before `at` turned out to belong to the delimiter line
 * that follows (RFC 2046 5.1.1): returns where it starts, and takes it back
 * out of the running counts if they had passed it. */
static size_t give_back_eol(struct ctx *c, size_t at)
{
	size_t lf = at - 1;
	size_t start = at >= 2 && c->data[at - 2] == '\r' ? at - 2 : at - 1;

	if (c->cpos == at) {
		c->cpos = start;
		c->lfs--;
		if (lf == 0 || c->data[lf - 1] != '\r')
			c->bare_lfs--;
	}
	return start;
}

static bool type_is(const struct msg_parse *p, const struct msg_part *part,
		    const char *type, const char *subtype)
{
	return strcasecmp(msg_str(p, part->type), type) == 0 &&
	       (subtype == NULL ||
		strcasecmp(msg_str(p, part->subtype), subtype) == 0);
}

/* RFC 2046 5.1.1: preamble, body parts between delimiters, epilogue. */
static size_t parse_multipart(struct ctx *c, uint32_t idx, size_t pos,
			      struct delim *d)
{
	struct msg_parse *p = c->p;
	const char *boundary = msg_part_param(p, idx, "boundary");
	uint32_t depth = p->parts[idx].depth;
	bool digest = type_is(p, &p->parts[idx], "multipart", "digest");
	struct delim dd;
	int mine;

	if (boundary == NULL || *boundary == '\0' ||
	    strlen(boundary) > MAX_BOUNDARY)
		return find_delim(c, pos, d);
	if (depth + 1 >= MSG_MAX_DEPTH) {
		p->parts[idx].flags |= MSG_PART_TRUNCATED;
		return find_delim(c, pos, d);
	}
	p->parts[idx].flags |= MSG_PART_MULTIPART;
	mine = c->nbounds++;
	c->stack[mine].s = xstrdup(boundary);
	c->stack[mine].len = strlen(boundary);
	pos = find_delim(c, pos, &dd);	/* the preamble */
	while (dd.which == mine && !dd.close) {
		pos = msg_line_next(c->data, pos, c->end);
		if (p->nparts >= MSG_MAX_PARTS) {
			/* the rest stays unparsed body of this multipart */
			p->parts[idx].flags |= MSG_PART_TRUNCATED;
			pos = find_delim(c, pos, &dd);
			continue;
		}
		pos = parse_part(c, pos, idx, depth + 1, digest, &dd);
	}
	free(c->stack[mine].s);
	c->nbounds--;
	if (dd.which != mine) {
		/* the data or an enclosing multipart ended first */
		p->parts[idx].flags |= MSG_PART_UNCLOSED;
		*d = dd;
		return pos;
	}
	/* the epilogue, up to the enclosing multipart's next delimiter */
	return find_delim(c, msg_line_next(c->data, pos, c->end), d);
}

static size_t parse_body(struct ctx *c, uint32_t idx, size_t pos,
			 struct delim *d)
{
	struct msg_parse *p = c->p;
	struct msg_part *part = &p->parts[idx];

	if (type_is(p, part, "multipart", NULL))
		return parse_multipart(c, idx, pos, d);
	/* parsed even when (wrongly) encoded, as Dovecot does, so that
	 * BODYSTRUCTURE always has the envelope RFC 3501 requires */
	if (type_is(p, part, "message", "rfc822")) {
		if (part->depth + 1 >= MSG_MAX_DEPTH ||
		    p->nparts >= MSG_MAX_PARTS) {
			part->flags |= MSG_PART_TRUNCATED;
			return find_delim(c, pos, d);
		}
		part->flags |= MSG_PART_MESSAGE;
		return parse_part(c, pos, idx, part->depth + 1, false, d);
	}
	return find_delim(c, pos, d);
}

/* A part (or the message) from pos: its header, then its body, which ends
 * at an enclosing delimiter line (returned, *d says which) or at the end.
 * The line end before a delimiter belongs to the delimiter (RFC 2046
 * 5.1.1). */
static size_t parse_part(struct ctx *c, size_t pos, uint32_t parent,
			 uint32_t depth, bool digest_child, struct delim *d)
{
	struct msg_parse *p = c->p;
	uint32_t idx = new_part(c, parent, depth);
	uint64_t bare0, lfs0;
	size_t body, stop, body_end;
	bool blank;

	count_to(c, pos);
	bare0 = c->bare_lfs;
	body = scan_header(c, pos, d, &blank);
	if (body == pos && d->which >= 0 && pos > 0 &&
	    c->data[pos - 1] == '\n') {
		/* nothing before the next delimiter, not even the line end:
		 * the part sits before the line end it would have started
		 * after, which the delimiter owns */
		body = give_back_eol(c, pos);
		p->parts[idx].hdr_off = p->parts[idx].body_off = body;
		p->parts[idx].flags |= MSG_PART_NO_BLANK;
		msg_content_headers(p, c->data, idx, digest_child);
		if (parent == MSG_NONE ||
		    (p->parts[parent].flags & MSG_PART_MESSAGE))
			p->parts[idx].envelope = msg_envelope_parse(p, c->data,
								    body, 0);
		return pos;
	}
	p->parts[idx].hdr_off = pos;
	p->parts[idx].hdr_size = body - pos;
	if (!blank)
		p->parts[idx].flags |= MSG_PART_NO_BLANK;
	count_to(c, body);
	p->parts[idx].hdr_wire = body - pos + (c->bare_lfs - bare0);
	bare0 = c->bare_lfs;
	lfs0 = c->lfs;
	msg_content_headers(p, c->data, idx, digest_child);
	if (parent == MSG_NONE || (p->parts[parent].flags & MSG_PART_MESSAGE))
		p->parts[idx].envelope = msg_envelope_parse(p, c->data, pos,
							    body - pos);
	stop = d->which >= 0 ? body : parse_body(c, idx, body, d);
	if (d->which >= 0 && stop == body && body > pos &&
	    c->data[body - 1] == '\n') {
		/* no body, a delimiter right after the header: the header's
		 * last line end is the delimiter's (RFC 2046 5.1.1) */
		body = give_back_eol(c, body);
		p->parts[idx].hdr_size = body - pos;
		p->parts[idx].hdr_wire -= 2;
		p->parts[idx].flags |= MSG_PART_NO_BLANK;
		p->parts[idx].body_off = body;
		if (p->parts[idx].flags & MSG_PART_MESSAGE) {
			/* its embedded message is empty too: it moves along */
			struct msg_part *e = &p->parts[idx + 1];

			e->hdr_off = e->body_off = body;
		}
		return stop;
	}
	body_end = stop;
	if (d->which >= 0 && body_end > body && c->data[body_end - 1] == '\n') {
		body_end--;
		if (body_end > body && c->data[body_end - 1] == '\r')
			body_end--;
	}
	count_to(c, body_end);
	p->parts[idx].body_off = body;
	p->parts[idx].body_size = body_end - body;
	p->parts[idx].body_wire = body_end - body + (c->bare_lfs - bare0);
	p->parts[idx].body_lines = c->lfs - lfs0;
	return stop;
}

struct msg_parse *msg_parse(const char *data, size_t size)
{
	struct ctx *c = xcalloc(1, sizeof(*c));
	struct msg_parse *p = msg_parse_new();
	struct delim d;

	c->p = p;
	c->data = data;
	c->end = size;
	parse_part(c, 0, MSG_NONE, 0, false, &d);
	count_to(c, size);
	p->size = size;
	p->wire_size = size + c->bare_lfs;
	free(c);
	return p;
}
