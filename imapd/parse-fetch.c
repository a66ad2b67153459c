/* FETCH attributes (RFC 3501 6.4.5 and section 9, fetch-att, section). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/xalloc.h"
#include "imapd/parser.h"
#include "imapd/writer.h"

static void body_free(struct imap_fetch_body *b)
{
	for (size_t i = 0; i < b->nfields; i++)
		free(b->fields[i]);
	free(b->fields);
	free(b->name);
}

void imap_fetch_free(struct imap_fetch *f)
{
	for (size_t i = 0; i < f->nbodies; i++)
		body_free(&f->bodies[i]);
	free(f->bodies);
	memset(f, 0, sizeof(*f));
}

bool imap_fetch_sets_seen(const struct imap_fetch *f)
{
	for (size_t i = 0; i < f->nbodies; i++)
		if (!f->bodies[i].peek)
			return true;
	return false;
}

static struct imap_fetch_body *add_body(struct imap_fetch *f)
{
	struct imap_fetch_body *b;

	f->bodies = xreallocarray(f->bodies, f->nbodies + 1,
				  sizeof(*f->bodies));
	b = &f->bodies[f->nbodies++];
	memset(b, 0, sizeof(*b));
	return b;
}

static bool is_name_char(unsigned char c)
{
	return isalnum(c) || c == '.';
}

/* header-list = "(" header-fld-name *(SP header-fld-name) ")"; the names go
 * to b->fields and, upper-cased, to the echo name. */
static int parse_header_list(struct imap_parser *p, struct imap_fetch_body *b,
			     struct buf *name)
{
	struct buf fld = BUF_INIT(BUF_UNLIMITED);
	int ret = -1;

	if (imap_parse_sp(p) < 0 || imap_parse_char(p, '(') < 0)
		goto out;
	buf_puts(name, " (");
	for (;;) {
		if (imap_parse_astring(p, &fld) < 0)
			goto out;
		if (fld.len == 0 || memchr(fld.data, '\0', fld.len) != NULL ||
		    memchr(fld.data, ':', fld.len) != NULL) {
			imap_parse_fail(p, "Invalid header field name");
			goto out;
		}
		for (size_t i = 0; i < fld.len; i++)
			fld.data[i] = (char)toupper((unsigned char)fld.data[i]);
		if (b->nfields > 0)
			buf_putc(name, ' ');
		imap_write_astring(name, fld.data, fld.len);
		b->fields = xreallocarray(b->fields, b->nfields + 1,
					  sizeof(*b->fields));
		b->fields[b->nfields++] = xstrdup(buf_cstr(&fld));
		if (imap_parse_skip(p, ')'))
			break;
		if (imap_parse_sp(p) < 0)
			goto out;
	}
	buf_putc(name, ')');
	ret = 0;
out:
	buf_free(&fld);
	return ret;
}

/* section-msgtext / "MIME" (the latter only after part numbers) */
static int parse_section_text(struct imap_parser *p,
			      struct imap_fetch_body *b, struct buf *name)
{
	if (imap_parse_keyword(p, "HEADER.FIELDS.NOT")) {
		b->kind = IMAP_SECT_FIELDS_NOT;
		buf_puts(name, "HEADER.FIELDS.NOT");
		return parse_header_list(p, b, name);
	}
	if (imap_parse_keyword(p, "HEADER.FIELDS")) {
		b->kind = IMAP_SECT_FIELDS;
		buf_puts(name, "HEADER.FIELDS");
		return parse_header_list(p, b, name);
	}
	if (imap_parse_keyword(p, "HEADER")) {
		b->kind = IMAP_SECT_HEADER;
		buf_puts(name, "HEADER");
		return 0;
	}
	if (imap_parse_keyword(p, "TEXT")) {
		b->kind = IMAP_SECT_TEXT;
		buf_puts(name, "TEXT");
		return 0;
	}
	if (b->nparts > 0 && imap_parse_keyword(p, "MIME")) {
		b->kind = IMAP_SECT_MIME;
		buf_puts(name, "MIME");
		return 0;
	}
	return imap_parse_fail(p, "Invalid section");
}

/* section = "[" [section-spec] "]" */
static int parse_section(struct imap_parser *p, struct imap_fetch_body *b,
			 struct buf *name)
{
	b->kind = IMAP_SECT_ALL;
	if (imap_parse_char(p, '[') < 0)
		return -1;
	buf_putc(name, '[');
	while (imap_parse_peek(p) >= '0' && imap_parse_peek(p) <= '9') {
		uint32_t n;

		if (imap_parse_nz_number(p, &n) < 0)
			return imap_parse_fail(p, "Invalid section part");
		if (b->nparts == IMAP_MAX_SECTION_PARTS)
			return imap_parse_fail(p, "Section nested too deep");
		b->parts[b->nparts++] = n;
		buf_printf(name, b->nparts > 1 ? ".%u" : "%u", n);
		if (!imap_parse_skip(p, '.'))
			break;
		if (imap_parse_peek(p) < '0' || imap_parse_peek(p) > '9') {
			buf_putc(name, '.');
			if (parse_section_text(p, b, name) < 0)
				return -1;
			break;
		}
	}
	if (b->nparts == 0 && imap_parse_peek(p) != ']' &&
	    parse_section_text(p, b, name) < 0)
		return -1;
	if (!imap_parse_skip(p, ']'))
		return imap_parse_fail(p, "Invalid section: missing ']'");
	buf_putc(name, ']');
	return 0;
}

/* ["<" number "." nz-number ">"] */
static int parse_partial(struct imap_parser *p, struct imap_fetch_body *b,
			 struct buf *name)
{
	if (!imap_parse_skip(p, '<'))
		return 0;
	if (imap_parse_number(p, &b->offset) < 0 || !imap_parse_skip(p, '.') ||
	    imap_parse_nz_number(p, &b->count) < 0 ||
	    !imap_parse_skip(p, '>'))
		return imap_parse_fail(p, "Invalid partial range");
	b->partial = true;
	buf_printf(name, "<%u>", b->offset);
	return 0;
}

static int parse_body_section(struct imap_parser *p, struct imap_fetch *f,
			      bool peek)
{
	struct imap_fetch_body *b = add_body(f);
	struct buf name = BUF_INIT(BUF_UNLIMITED);

	b->peek = peek;
	buf_puts(&name, "BODY");
	if (parse_section(p, b, &name) < 0 || parse_partial(p, b, &name) < 0) {
		buf_free(&name);
		return -1;
	}
	b->name = buf_steal(&name);
	return 0;
}

/* section-binary = "[" [section-part] "]" (RFC 3516 5), then a partial
 * except for BINARY.SIZE */
static int parse_binary_section(struct imap_parser *p, struct imap_fetch *f,
				bool peek, enum imap_binary what)
{
	struct imap_fetch_body *b = add_body(f);
	struct buf name = BUF_INIT(BUF_UNLIMITED);
	int ret = -1;

	b->peek = peek;
	b->binary = what;
	b->kind = IMAP_SECT_ALL;
	buf_puts(&name, what == IMAP_BINARY_SIZE ? "BINARY.SIZE[" : "BINARY[");
	if (imap_parse_char(p, '[') < 0)
		goto out;
	while (imap_parse_peek(p) != ']') {
		uint32_t n;

		if ((b->nparts > 0 && !imap_parse_skip(p, '.')) ||
		    imap_parse_nz_number(p, &n) < 0) {
			imap_parse_fail(p, "Invalid binary section");
			goto out;
		}
		if (b->nparts == IMAP_MAX_SECTION_PARTS) {
			imap_parse_fail(p, "Section nested too deep");
			goto out;
		}
		b->parts[b->nparts++] = n;
		buf_printf(&name, b->nparts > 1 ? ".%u" : "%u", n);
	}
	imap_parse_skip(p, ']');
	buf_putc(&name, ']');
	if (what == IMAP_BINARY_DATA && parse_partial(p, b, &name) < 0)
		goto out;
	b->name = buf_steal(&name);
	ret = 0;
out:
	buf_free(&name);
	return ret;
}

static void add_rfc822(struct imap_fetch *f, const char *name,
		       enum imap_section_kind kind, bool peek)
{
	struct imap_fetch_body *b = add_body(f);

	b->kind = kind;
	b->peek = peek;
	b->name = xstrdup(name);
}

static int parse_att(struct imap_parser *p, struct imap_fetch *f)
{
	static const struct {
		const char *name;
		unsigned items;
	} simple[] = {
		{ "ENVELOPE", IMAP_FETCH_ENVELOPE },
		{ "FLAGS", IMAP_FETCH_FLAGS },
		{ "INTERNALDATE", IMAP_FETCH_INTERNALDATE },
		{ "RFC822.SIZE", IMAP_FETCH_SIZE },
		{ "BODYSTRUCTURE", IMAP_FETCH_BODYSTRUCTURE },
		{ "UID", IMAP_FETCH_UID },
		{ "MODSEQ", IMAP_FETCH_MODSEQ },
	};
	char word[32];
	size_t n = 0;

	while (p->pos + n < p->len && n < sizeof(word) - 1 &&
	       is_name_char((unsigned char)p->data[p->pos + n])) {
		word[n] = p->data[p->pos + n];
		n++;
	}
	word[n] = '\0';
	if (n == 0)
		return imap_parse_fail(p, "Missing fetch attribute");
	p->pos += n;
	for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
		if (strcasecmp(word, simple[i].name) == 0) {
			f->items |= simple[i].items;
			return 0;
		}
	}
	if (strcasecmp(word, "RFC822") == 0)
		add_rfc822(f, "RFC822", IMAP_SECT_ALL, false);
	else if (strcasecmp(word, "RFC822.HEADER") == 0)
		add_rfc822(f, "RFC822.HEADER", IMAP_SECT_HEADER, true);
	else if (strcasecmp(word, "RFC822.TEXT") == 0)
		add_rfc822(f, "RFC822.TEXT", IMAP_SECT_TEXT, false);
	else if (strcasecmp(word, "BODY") == 0 && imap_parse_peek(p) == '[')
		return parse_body_section(p, f, false);
	else if (strcasecmp(word, "BODY") == 0)
		f->items |= IMAP_FETCH_BODY;
	else if (strcasecmp(word, "BODY.PEEK") == 0)
		return parse_body_section(p, f, true);
	else if (strcasecmp(word, "BINARY") == 0)
		return parse_binary_section(p, f, false, IMAP_BINARY_DATA);
	else if (strcasecmp(word, "BINARY.PEEK") == 0)
		return parse_binary_section(p, f, true, IMAP_BINARY_DATA);
	else if (strcasecmp(word, "BINARY.SIZE") == 0)
		return parse_binary_section(p, f, true, IMAP_BINARY_SIZE);
	else
		return imap_parse_fail(p, "Unknown fetch attribute");
	return 0;
}

int imap_parse_fetch(struct imap_parser *p, struct imap_fetch *f)
{
	memset(f, 0, sizeof(*f));
	if (imap_parse_skip(p, '(')) {
		for (;;) {
			if (parse_att(p, f) < 0)
				return -1;
			if (imap_parse_skip(p, ')'))
				return 0;
			if (imap_parse_at_end(p))
				return imap_parse_fail(p, "Missing ')'");
			if (imap_parse_sp(p) < 0)
				return -1;
		}
	}
	if (imap_parse_keyword(p, "ALL")) {
		f->items = IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE |
			IMAP_FETCH_SIZE | IMAP_FETCH_ENVELOPE;
		return 0;
	}
	if (imap_parse_keyword(p, "FAST")) {
		f->items = IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE |
			IMAP_FETCH_SIZE;
		return 0;
	}
	if (imap_parse_keyword(p, "FULL")) {
		f->items = IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE |
			IMAP_FETCH_SIZE | IMAP_FETCH_ENVELOPE | IMAP_FETCH_BODY;
		return 0;
	}
	return parse_att(p, f);
}
