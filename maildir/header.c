/* Header fields (RFC 5322 2.2) and the MIME content fields of a part
 * (RFC 2045, 2183, 2231, 3282, 1864, 2557). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/xalloc.h"
#include "maildir/message-int.h"

#define IS_WSP(c) ((c) == ' ' || (c) == '\t')

size_t msg_line_next(const char *data, size_t pos, size_t end)
{
	const char *lf;

	if (pos >= end)
		return end;
	lf = memchr(data + pos, '\n', end - pos);
	return lf == NULL ? end : (size_t)(lf - data) + 1;
}

size_t msg_line_len(const char *data, size_t pos, size_t end)
{
	size_t next = msg_line_next(data, pos, end);
	size_t n = next - pos;

	if (n > 0 && data[next - 1] == '\n') {
		n--;
		if (n > 0 && data[pos + n - 1] == '\r')
			n--;
	}
	return n;
}

/* RFC 5322 3.6.8: ftext is printable US-ASCII but ':'; 8-bit bytes are
 * tolerated in names since real mail has them, and obsolete syntax allows
 * WSP before the colon (RFC 5322 4.5). */
size_t hdr_field_line(const char *line, size_t n, size_t *colon_r)
{
	size_t i = 0, name;

	while (i < n && (unsigned char)line[i] > ' ' && line[i] != ':' &&
	       line[i] != 0x7f)
		i++;
	name = i;
	while (i < n && IS_WSP(line[i]))
		i++;
	if (name == 0 || i >= n || line[i] != ':')
		return 0;
	*colon_r = i;
	return name;
}

void hdr_iter_init(struct hdr_iter *it, const char *data, size_t off,
		   size_t len)
{
	it->data = data;
	it->pos = off;
	it->end = off + len;
}

bool hdr_iter_next(struct hdr_iter *it, struct hdr_field *f)
{
	const char *d = it->data;
	size_t n, colon, name, next;

	if (it->pos >= it->end)
		return false;
	n = msg_line_len(d, it->pos, it->end);
	if (n == 0 || IS_WSP(d[it->pos]))
		return false;
	name = hdr_field_line(d + it->pos, n, &colon);
	if (name == 0)
		return false;
	f->off = it->pos;
	f->name_off = it->pos;
	f->name_len = name;
	f->value_off = it->pos + colon + 1;
	f->value_len = n - colon - 1;
	next = msg_line_next(d, it->pos, it->end);
	/* continuation lines start with WSP (RFC 5322 2.2.3) */
	while (next < it->end && IS_WSP(d[next])) {
		n = msg_line_len(d, next, it->end);
		f->value_len = next + n - f->value_off;
		next = msg_line_next(d, next, it->end);
	}
	f->end = next;
	it->pos = next;
	return true;
}

bool hdr_name_is(const char *data, const struct hdr_field *f,
		 const char *name)
{
	return strlen(name) == f->name_len &&
	       strncasecmp(data + f->name_off, name, f->name_len) == 0;
}

bool hdr_find(const char *data, size_t off, size_t len, const char *name,
	      struct hdr_field *f)
{
	struct hdr_iter it;

	hdr_iter_init(&it, data, off, len);
	while (hdr_iter_next(&it, f))
		if (hdr_name_is(data, f, name))
			return true;
	return false;
}

int hdr_unfold(const char *data, const struct hdr_field *f, struct buf *out)
{
	const char *p = data + f->value_off;
	const char *end = p + f->value_len;
	const char *run;

	while (p < end && IS_WSP(*p))
		p++;
	while (end > p && IS_WSP(end[-1]))
		end--;
	while (p < end) {
		run = p;
		while (p < end && *p != '\r' && *p != '\n')
			p++;
		if (buf_append(out, run, p - run) < 0)
			return -1;
		if (p < end && *p == '\r' && (p + 1 >= end || p[1] != '\n')) {
			/* a bare CR is data */
			if (buf_putc(out, '\r') < 0)
				return -1;
		}
		if (p < end)
			p++;
	}
	return 0;
}

size_t hdr_block_end(const char *data, size_t off, size_t len)
{
	struct hdr_iter it;
	struct hdr_field f;

	hdr_iter_init(&it, data, off, len);
	while (hdr_iter_next(&it, &f))
		;
	if (it.pos < it.end && msg_line_len(data, it.pos, it.end) == 0)
		return msg_line_next(data, it.pos, it.end);
	return it.pos;
}

/* ---- the lexer ---- */

void lex_cfws(struct lex *l, struct buf *comment)
{
	int depth;

	for (;;) {
		while (l->p < l->end && (IS_WSP(*l->p) || *l->p == '\r' ||
					 *l->p == '\n'))
			l->p++;
		if (l->p >= l->end || *l->p != '(')
			return;
		if (comment != NULL)
			buf_clear(comment);
		depth = 0;
		while (l->p < l->end) {
			char c = *l->p++;

			if (c == '\\' && l->p < l->end)
				c = *l->p++;
			else if (c == '(' && depth++ == 0)
				continue;
			else if (c == ')' && --depth == 0)
				break;
			if (comment != NULL)
				buf_putc(comment, c);
		}
	}
}

void lex_quoted(struct lex *l, struct buf *out)
{
	l->p++;
	while (l->p < l->end && *l->p != '"') {
		if (*l->p == '\\' && l->p + 1 < l->end)
			l->p++;
		if (*l->p != '\r' && *l->p != '\n')
			buf_putc(out, *l->p);
		l->p++;
	}
	if (l->p < l->end)
		l->p++;
}

/* RFC 2045 5.1 token: no SPACE, CTLs or tspecials.  8-bit bytes pass. */
static bool is_tspecial(char c)
{
	return strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

static size_t lex_token(struct lex *l)
{
	const char *s = l->p;

	while (l->p < l->end && (unsigned char)*l->p > ' ' &&
	       *l->p != 0x7f && !is_tspecial(*l->p))
		l->p++;
	return l->p - s;
}

/* ---- Content-Type / Content-Disposition parameters ---- */

struct rawparam {
	char *name;
	char *value;
};

struct params {
	struct rawparam v[MSG_MAX_PARAMS];
	size_t n;
};

/* A parameter value: quoted string, or (leniently, since boundaries like
 * ----=_Part_1 are often left unquoted) everything up to ';' or WSP. */
static void lex_param_value(struct lex *l, struct buf *out)
{
	if (l->p < l->end && *l->p == '"') {
		lex_quoted(l, out);
		return;
	}
	while (l->p < l->end && *l->p != ';' && !IS_WSP(*l->p) &&
	       *l->p != '\r' && *l->p != '\n')
		buf_putc(out, *l->p++);
}

static void params_lex(struct lex *l, struct params *ps)
{
	struct buf v = BUF_INIT(BUF_UNLIMITED);
	const char *name;
	size_t nlen;

	for (;;) {
		/* garbage after a value or the type, comments skipped */
		for (;;) {
			lex_cfws(l, NULL);
			if (l->p >= l->end || *l->p == ';')
				break;
			l->p++;
		}
		if (l->p >= l->end || ps->n >= MSG_MAX_PARAMS)
			break;
		l->p++;
		lex_cfws(l, NULL);
		name = l->p;
		nlen = lex_token(l);
		lex_cfws(l, NULL);
		if (nlen == 0 || l->p >= l->end || *l->p != '=')
			continue;
		l->p++;
		lex_cfws(l, NULL);
		buf_clear(&v);
		lex_param_value(l, &v);
		ps->v[ps->n].name = xstrndup(name, nlen);
		ps->v[ps->n].value = xstrdup(buf_cstr(&v));
		ps->n++;
	}
	buf_free(&v);
}

/* "name*3*" -> base length 4, section 3, extended.  Returns false for a
 * plain name. */
static bool rfc2231_split(const char *name, size_t *base_r, long *sect_r,
			  bool *ext_r)
{
	const char *star = strchr(name, '*');
	char *endp;

	if (star == NULL || star == name)
		return false;
	*base_r = star - name;
	if (star[1] == '\0') {
		*sect_r = -1;
		*ext_r = true;
		return true;
	}
	if (star[1] < '0' || star[1] > '9')
		return false;
	*sect_r = strtol(star + 1, &endp, 10);
	if (*sect_r >= MSG_MAX_PARAMS)
		return false;
	*ext_r = endp[0] == '*';
	return endp[*ext_r ? 1 : 0] == '\0';
}

static void pct_encode(const char *s, struct buf *out)
{
	for (; *s != '\0'; s++) {
		unsigned char c = *s;

		if (c > ' ' && c < 0x7f && !is_tspecial(c) && c != '%' &&
		    c != '\'' && c != '*')
			buf_putc(out, c);
		else
			buf_printf(out, "%%%02X", c);
	}
}

/* Merges the RFC 2231 (3, 4) sections of the parameter whose base name is
 * that of ps->v[first] into one parameter: "name*" with the extended value
 * (charset'lang'%XX...) when any section is extended, so that readers
 * decode it once with mime_decode_param(), else "name" with the plain
 * concatenation.  The sections used are marked by freeing their names. */
static void rfc2231_merge(struct msg_parse *p, struct params *ps,
			  size_t first, size_t blen, uint32_t *count)
{
	long by_sect[MSG_MAX_PARAMS + 1];	/* index in ps, -1: none */
	bool ext_of[MSG_MAX_PARAMS + 1];
	struct buf val = BUF_INIT(BUF_UNLIMITED);
	bool any_ext = false, ext;
	size_t i, b;
	long sect, k;

	for (k = 0; k <= MSG_MAX_PARAMS; k++)
		by_sect[k] = -1;
	/* slot 0 is "name*" alone; slot k+1 is section k */
	for (i = first; i < ps->n; i++) {
		if (ps->v[i].name == NULL ||
		    !rfc2231_split(ps->v[i].name, &b, &sect, &ext) ||
		    b != blen ||
		    strncasecmp(ps->v[i].name, ps->v[first].name, b) != 0)
			continue;
		if (by_sect[sect + 1] >= 0) {
			/* a repeated section: the first one counts */
			free(ps->v[i].name);
			ps->v[i].name = NULL;
			continue;
		}
		by_sect[sect + 1] = (long)i;
		ext_of[sect + 1] = ext;
		any_ext |= ext;
	}
	if (any_ext && (by_sect[0] >= 0 ? !ext_of[0] :
			by_sect[1] < 0 || !ext_of[1]))
		buf_append(&val, "''", 2);	/* no charset'lang' given */
	for (k = 0; k <= MSG_MAX_PARAMS; k++) {
		if (by_sect[k] < 0) {
			if (k > 0)
				break;	/* a gap ends the value (RFC 2231 3) */
			continue;
		}
		i = (size_t)by_sect[k];
		if (ext_of[k] || !any_ext)
			buf_puts(&val, ps->v[i].value);
		else
			pct_encode(ps->v[i].value, &val);
		if (i != first) {
			free(ps->v[i].name);
			ps->v[i].name = NULL;
		}
	}
	/* the name: base, plus '*' when the value is extended */
	ps->v[first].name[blen] = any_ext ? '*' : '\0';
	if (any_ext)
		ps->v[first].name[blen + 1] = '\0';
	msg_add_param(p, msg_strz(p, ps->v[first].name),
		      msg_strn(p, val.data == NULL ? "" : val.data, val.len));
	(*count)++;
	buf_free(&val);
}

/* Adds the parameters of ps to p and returns the index of the first. */
static uint32_t params_add(struct msg_parse *p, struct params *ps,
			   uint32_t *count)
{
	uint32_t first = p->nparams;
	size_t i, blen;
	long sect;
	bool ext;

	*count = 0;
	for (i = 0; i < ps->n; i++) {
		if (ps->v[i].name == NULL)
			continue;
		if (rfc2231_split(ps->v[i].name, &blen, &sect, &ext)) {
			rfc2231_merge(p, ps, i, blen, count);
		} else {
			msg_add_param(p, msg_strz(p, ps->v[i].name),
				      msg_strz(p, ps->v[i].value));
			(*count)++;
		}
	}
	for (i = 0; i < ps->n; i++) {
		free(ps->v[i].name);
		free(ps->v[i].value);
	}
	ps->n = 0;
	return *count == 0 ? MSG_NONE : first;
}

/* ---- the content fields of one part ---- */

static void set_default_type(struct msg_parse *p, struct msg_part *part,
			     bool digest_child)
{
	if (digest_child) {
		part->type = msg_strz(p, "message");
		part->subtype = msg_strz(p, "rfc822");
		part->params = MSG_NONE;
		part->nparams = 0;
		return;
	}
	/* RFC 2045 5.2 */
	part->type = msg_strz(p, "text");
	part->subtype = msg_strz(p, "plain");
	part->params = msg_add_param(p, msg_strz(p, "charset"),
				     msg_strz(p, "us-ascii"));
	part->nparams = 1;
}

static void parse_content_type(struct msg_parse *p, uint32_t idx,
			       const char *v, size_t n, bool digest_child)
{
	struct lex l = { v, v + n };
	struct params ps;
	const char *type, *sub;
	size_t tlen, slen;
	uint32_t count;

	lex_cfws(&l, NULL);
	type = l.p;
	tlen = lex_token(&l);
	lex_cfws(&l, NULL);
	if (tlen == 0 || l.p >= l.end || *l.p != '/') {
		set_default_type(p, &p->parts[idx], digest_child);
		return;
	}
	l.p++;
	lex_cfws(&l, NULL);
	sub = l.p;
	slen = lex_token(&l);
	if (slen == 0) {
		set_default_type(p, &p->parts[idx], digest_child);
		return;
	}
	ps.n = 0;
	params_lex(&l, &ps);
	p->parts[idx].type = msg_strn(p, type, tlen);
	p->parts[idx].subtype = msg_strn(p, sub, slen);
	p->parts[idx].params = params_add(p, &ps, &count);
	p->parts[idx].nparams = count;
}

static void parse_disposition(struct msg_parse *p, uint32_t idx,
			      const char *v, size_t n)
{
	struct lex l = { v, v + n };
	struct params ps;
	const char *type;
	size_t tlen;
	uint32_t count;

	lex_cfws(&l, NULL);
	type = l.p;
	tlen = lex_token(&l);
	if (tlen == 0)
		return;
	ps.n = 0;
	params_lex(&l, &ps);
	p->parts[idx].disposition = msg_strn(p, type, tlen);
	p->parts[idx].disp_params = params_add(p, &ps, &count);
	p->parts[idx].ndisp_params = count;
}

/* RFC 3282 2: Content-Language is a list of language tags. */
static void parse_language(struct msg_parse *p, uint32_t idx, const char *v,
			   size_t n)
{
	struct lex l = { v, v + n };
	struct msg_part *part = &p->parts[idx];
	const char *tag;
	size_t tlen;

	for (;;) {
		lex_cfws(&l, NULL);
		if (l.p >= l.end || part->nlangs >= MSG_MAX_PARAMS)
			break;
		tag = l.p;
		tlen = lex_token(&l);
		if (tlen > 0) {
			uint32_t i = msg_add_param(p, msg_strn(p, tag, tlen), 0);

			if (part->nlangs++ == 0)
				part->langs = i;
		} else {
			l.p++;	/* ',' or garbage */
		}
	}
}

static msg_str_t value_or_nil(struct msg_parse *p, const char *v, size_t n)
{
	return n == 0 ? 0 : msg_strn(p, v, n);
}

static msg_str_t first_token(struct msg_parse *p, const char *v, size_t n)
{
	struct lex l = { v, v + n };
	const char *s;
	size_t len;

	lex_cfws(&l, NULL);
	s = l.p;
	len = lex_token(&l);
	return len == 0 ? 0 : msg_strn(p, s, len);
}

void msg_content_headers(struct msg_parse *p, const char *data, uint32_t idx,
			 bool digest_child)
{
	struct buf v = BUF_INIT(BUF_UNLIMITED);
	struct hdr_iter it;
	struct hdr_field f;
	bool have_type = false;
	struct msg_part *part;
	const char *s;

	hdr_iter_init(&it, data, p->parts[idx].hdr_off, p->parts[idx].hdr_size);
	while (hdr_iter_next(&it, &f)) {
		/* only Content-* fields matter here; the first of each wins */
		if (f.name_len < 9 || strncasecmp(data + f.name_off,
						  "content-", 8) != 0)
			continue;
		part = &p->parts[idx];
		buf_clear(&v);
		hdr_unfold(data, &f, &v);
		s = buf_cstr(&v);
		if (hdr_name_is(data, &f, "content-type") && !have_type) {
			have_type = true;
			parse_content_type(p, idx, s, v.len, digest_child);
		} else if (hdr_name_is(data, &f, "content-transfer-encoding") &&
			   part->encoding == 0) {
			part->encoding = first_token(p, s, v.len);
		} else if (hdr_name_is(data, &f, "content-id") &&
			   part->id == 0) {
			part->id = value_or_nil(p, s, v.len);
		} else if (hdr_name_is(data, &f, "content-description") &&
			   part->description == 0) {
			part->description = value_or_nil(p, s, v.len);
		} else if (hdr_name_is(data, &f, "content-md5") &&
			   part->md5 == 0) {
			part->md5 = value_or_nil(p, s, v.len);
		} else if (hdr_name_is(data, &f, "content-location") &&
			   part->location == 0) {
			part->location = value_or_nil(p, s, v.len);
		} else if (hdr_name_is(data, &f, "content-disposition") &&
			   part->disposition == 0) {
			parse_disposition(p, idx, s, v.len);
		} else if (hdr_name_is(data, &f, "content-language") &&
			   part->nlangs == 0) {
			parse_language(p, idx, s, v.len);
		}
	}
	if (!have_type)
		set_default_type(p, &p->parts[idx], digest_child);
	if (p->parts[idx].encoding == 0)
		p->parts[idx].encoding = msg_strz(p, "7bit");
	buf_free(&v);
}
