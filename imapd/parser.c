#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/xalloc.h"
#include "imapd/parser.h"
#include "maildir/mutf7.h"

/* ---- collecting a command ---- */

void imap_cmdbuf_init(struct imap_cmdbuf *cb, size_t max_text,
		      size_t max_literal)
{
	memset(cb, 0, sizeof(*cb));
	buf_init(&cb->text, BUF_UNLIMITED);
	cb->max_text = max_text;
	cb->max_literal = max_literal;
	cb->streamed_off = SIZE_MAX;
}

void imap_cmdbuf_free(struct imap_cmdbuf *cb)
{
	buf_free(&cb->text);
	free(cb->streamed_earlier);
	cb->streamed_earlier = NULL;
}

void imap_cmdbuf_reset(struct imap_cmdbuf *cb)
{
	/* A command may have held a password: wipe what stays allocated.
	 * A big literal should not stay allocated for the session's life. */
	if (cb->text.cap > 65536) {
		buf_free(&cb->text);
	} else {
		if (cb->text.data != NULL)
			memset(cb->text.data, 0, cb->text.len);
		buf_clear(&cb->text);
	}
	cb->text_bytes = 0;
	cb->literal_bytes = 0;
	cb->literal_size = 0;
	cb->literal_nonsync = false;
	cb->streamed_off = SIZE_MAX;
	cb->streamed_size = 0;
	free(cb->streamed_earlier);
	cb->streamed_earlier = NULL;
	cb->nstreamed_earlier = 0;
}

bool imap_cmdbuf_pending(const struct imap_cmdbuf *cb)
{
	return cb->text.len > 0 || cb->text_bytes > 0;
}

bool imap_literal_at_end(const char *line, size_t len, size_t *off_r,
			 uint64_t *size_r, bool *nonsync_r)
{
	size_t i, end;
	uint64_t n = 0;
	bool nonsync = false;

	if (len < 3 || line[len - 1] != '}')
		return false;
	end = len - 1;
	if (line[end - 1] == '+') {
		nonsync = true;
		end--;
	}
	i = end;
	while (i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9')
		i--;
	if (i == end || i == 0 || line[i - 1] != '{' || end - i > 10)
		return false;
	for (size_t k = i; k < end; k++)
		n = n * 10 + (uint64_t)(line[k] - '0');
	if (n > UINT32_MAX)
		return false;
	*off_r = i - 1;
	*size_r = n;
	*nonsync_r = nonsync;
	return true;
}

enum imap_feed imap_cmdbuf_line(struct imap_cmdbuf *cb, const char *line,
				size_t len)
{
	size_t off;
	uint64_t size;
	bool nonsync;

	if (len > cb->max_text || cb->text_bytes > cb->max_text - len)
		return IMAP_FEED_TOO_LONG;
	cb->text_bytes += len;
	buf_append(&cb->text, line, len);
	if (!imap_literal_at_end(line, len, &off, &size, &nonsync))
		return IMAP_FEED_DONE;
	buf_append(&cb->text, "\r\n", 2);
	cb->literal_size = size;
	cb->literal_nonsync = nonsync;
	if (size > cb->max_literal ||
	    cb->literal_bytes > cb->max_literal - size)
		return IMAP_FEED_TOO_BIG;
	return IMAP_FEED_LITERAL;
}

void imap_cmdbuf_literal(struct imap_cmdbuf *cb, const char *data, size_t len)
{
	cb->literal_bytes += len;
	buf_append(&cb->text, data, len);
}

void imap_cmdbuf_literal_streamed(struct imap_cmdbuf *cb)
{
	size_t off;
	uint64_t size;
	bool nonsync;

	/* The announcement is just before the CRLF the last line got. */
	if (cb->text.len >= 2 &&
	    imap_literal_at_end(cb->text.data, cb->text.len - 2, &off, &size,
				&nonsync)) {
		if (cb->streamed_off != SIZE_MAX) {
			cb->streamed_earlier = xreallocarray(
				cb->streamed_earlier,
				cb->nstreamed_earlier + 1,
				sizeof(*cb->streamed_earlier));
			cb->streamed_earlier[cb->nstreamed_earlier++] =
				cb->streamed_off;
		}
		cb->streamed_off = off;
		cb->streamed_size = size;
	}
}

/* ---- character classes (RFC 3501 section 9) ---- */

static bool is_atom_char(unsigned char c)
{
	if (c <= 0x1f || c >= 0x7f)
		return false;
	return strchr("(){ %*\"\\]", c) == NULL;
}

static bool is_astring_char(unsigned char c)
{
	return is_atom_char(c) || c == ']';
}

static bool is_list_char(unsigned char c)
{
	return is_atom_char(c) || c == '%' || c == '*' || c == ']';
}

/* ---- the grammar ---- */

void imap_parser_init(struct imap_parser *p, const char *data, size_t len)
{
	memset(p, 0, sizeof(*p));
	p->data = data;
	p->len = len;
	p->streamed_off = SIZE_MAX;
}

void imap_parser_init_cmd(struct imap_parser *p, const struct imap_cmdbuf *cb)
{
	imap_parser_init(p, cb->text.data != NULL ? cb->text.data : "",
			 cb->text.len);
	p->streamed_off = cb->streamed_off;
	p->streamed_size = cb->streamed_size;
	p->streamed_earlier = cb->streamed_earlier;
	p->nstreamed_earlier = cb->nstreamed_earlier;
}

static bool is_streamed(const struct imap_parser *p, size_t off)
{
	if (off == p->streamed_off)
		return true;
	for (size_t i = 0; i < p->nstreamed_earlier; i++)
		if (p->streamed_earlier[i] == off)
			return true;
	return false;
}

int imap_parse_fail(struct imap_parser *p, const char *error)
{
	if (p->error == NULL)
		p->error = error;
	return -1;
}

int imap_parse_refuse(struct imap_parser *p, const char *error)
{
	if (p->error == NULL) {
		p->error = error;
		p->error_no = true;
	}
	return -1;
}

bool imap_parse_at_end(const struct imap_parser *p)
{
	return p->pos >= p->len;
}

int imap_parse_peek(const struct imap_parser *p)
{
	return p->pos < p->len ? (unsigned char)p->data[p->pos] : -1;
}

int imap_parse_end(struct imap_parser *p)
{
	if (p->pos != p->len)
		return imap_parse_fail(p, "Unexpected characters at the end");
	return 0;
}

int imap_parse_char(struct imap_parser *p, char c)
{
	if (imap_parse_peek(p) != (unsigned char)c) {
		if (c == ')')
			return imap_parse_fail(p, "Missing ')'");
		if (c == ' ')
			return imap_parse_fail(p, "Missing argument");
		return imap_parse_fail(p, "Unexpected character");
	}
	p->pos++;
	return 0;
}

int imap_parse_sp(struct imap_parser *p)
{
	return imap_parse_char(p, ' ');
}

bool imap_parse_skip(struct imap_parser *p, char c)
{
	if (imap_parse_peek(p) != (unsigned char)c)
		return false;
	p->pos++;
	return true;
}

/* Copies the run of bytes accepted by `ok` into out. */
static size_t take_run(struct imap_parser *p, bool (*ok)(unsigned char),
		       struct buf *out)
{
	size_t start = p->pos;

	while (p->pos < p->len && ok((unsigned char)p->data[p->pos]))
		p->pos++;
	buf_clear(out);
	buf_append(out, p->data + start, p->pos - start);
	return p->pos - start;
}

static bool is_tag_char(unsigned char c)
{
	return is_astring_char(c) && c != '+';
}

int imap_parse_tag(struct imap_parser *p, struct buf *out)
{
	if (take_run(p, is_tag_char, out) == 0)
		return imap_parse_fail(p, "Invalid tag");
	return 0;
}

int imap_parse_atom(struct imap_parser *p, struct buf *out)
{
	if (take_run(p, is_atom_char, out) == 0)
		return imap_parse_fail(p, "Missing or invalid atom");
	return 0;
}

bool imap_parse_keyword(struct imap_parser *p, const char *word)
{
	size_t n = strlen(word);

	if (p->len - p->pos < n || strncasecmp(p->data + p->pos, word, n) != 0)
		return false;
	if (p->pos + n < p->len &&
	    is_atom_char((unsigned char)p->data[p->pos + n]))
		return false;
	p->pos += n;
	return true;
}

static int parse_quoted(struct imap_parser *p, struct buf *out)
{
	buf_clear(out);
	p->pos++;	/* the opening quote */
	while (p->pos < p->len) {
		unsigned char c = (unsigned char)p->data[p->pos++];

		if (c == '"')
			return 0;
		if (c == '\\') {
			if (p->pos >= p->len)
				break;
			c = (unsigned char)p->data[p->pos++];
			if (c != '"' && c != '\\')
				return imap_parse_fail(p,
					"Invalid escape in quoted string");
		} else if (c == '\0' || c == '\r' || c == '\n') {
			return imap_parse_fail(p,
				"Invalid character in quoted string");
		}
		/* 8-bit bytes are taken (as most servers do) although
		 * TEXT-CHAR is 7-bit: clients send UTF-8 search strings. */
		buf_putc(out, (char)c);
	}
	return imap_parse_fail(p, "Unterminated quoted string");
}

static int parse_literal(struct imap_parser *p, struct buf *out,
			 bool *streamed_r)
{
	size_t start = p->pos;
	uint64_t n = 0;
	size_t digits = 0;

	buf_clear(out);
	p->pos++;	/* '{' */
	while (p->pos < p->len && p->data[p->pos] >= '0' &&
	       p->data[p->pos] <= '9' && digits < 11) {
		n = n * 10 + (uint64_t)(p->data[p->pos++] - '0');
		digits++;
	}
	if (digits == 0 || digits > 10 || n > UINT32_MAX)
		return imap_parse_fail(p, "Invalid literal size");
	imap_parse_skip(p, '+');
	if (p->len - p->pos < 3 || memcmp(p->data + p->pos, "}\r\n", 3) != 0)
		return imap_parse_fail(p, "Invalid literal");
	p->pos += 3;
	if (is_streamed(p, start)) {
		if (streamed_r == NULL)
			return imap_parse_fail(p, "Unexpected literal");
		*streamed_r = true;
		p->streamed_size = n;
		return 0;
	}
	if (p->len - p->pos < n)
		return imap_parse_fail(p, "Literal shorter than announced");
	buf_append(out, p->data + p->pos, (size_t)n);
	p->pos += (size_t)n;
	return 0;
}

int imap_parse_string(struct imap_parser *p, struct buf *out,
		      bool *streamed_r)
{
	int c = imap_parse_peek(p);

	if (streamed_r != NULL)
		*streamed_r = false;
	if (c == '"')
		return parse_quoted(p, out);
	if (c == '{')
		return parse_literal(p, out, streamed_r);
	return imap_parse_fail(p, "Missing string");
}

int imap_parse_astring(struct imap_parser *p, struct buf *out)
{
	int c = imap_parse_peek(p);

	if (c == '"' || c == '{')
		return imap_parse_string(p, out, NULL);
	if (take_run(p, is_astring_char, out) == 0)
		return imap_parse_fail(p, "Missing or invalid argument");
	return 0;
}

int imap_parse_nstring(struct imap_parser *p, struct buf *out, bool *nil_r)
{
	*nil_r = false;
	if (imap_parse_keyword(p, "NIL")) {
		*nil_r = true;
		buf_clear(out);
		return 0;
	}
	return imap_parse_string(p, out, NULL);
}

/* Up to 32 bits; a longer run of digits is an error. */
static int parse_u32(struct imap_parser *p, uint32_t *n_r)
{
	uint64_t n = 0;
	size_t digits = 0;

	while (p->pos < p->len && p->data[p->pos] >= '0' &&
	       p->data[p->pos] <= '9') {
		n = n * 10 + (uint64_t)(p->data[p->pos++] - '0');
		if (n > UINT32_MAX)
			return imap_parse_fail(p, "Number too big");
		digits++;
	}
	if (digits == 0)
		return imap_parse_fail(p, "Missing number");
	*n_r = (uint32_t)n;
	return 0;
}

int imap_parse_number(struct imap_parser *p, uint32_t *n_r)
{
	return parse_u32(p, n_r);
}

int imap_parse_nz_number(struct imap_parser *p, uint32_t *n_r)
{
	if (imap_parse_peek(p) == '0')
		return imap_parse_fail(p, "Number must not be zero or start with 0");
	return parse_u32(p, n_r);
}

/* RFC 9051 5.1: an IMAP4rev2 client names mailboxes in UTF-8; the store
 * keeps the modified UTF-7 form (maildir/mutf7.h). */
static int utf8_name_to_mutf7(struct imap_parser *p, struct buf *name)
{
	struct buf m = BUF_INIT(BUF_UNLIMITED);
	int ret = 0;

	if (memchr(buf_cstr(name), '\0', name->len) != NULL ||
	    !utf8_valid(buf_cstr(name)) || mutf7_encode(buf_cstr(name), &m) < 0)
		ret = imap_parse_refuse(p, "Mailbox name is not valid UTF-8");
	else {
		buf_clear(name);
		buf_append(name, m.data, m.len);
	}
	buf_free(&m);
	return ret;
}

int imap_parse_mailbox(struct imap_parser *p, struct buf *out)
{
	if (imap_parse_astring(p, out) < 0)
		return -1;
	if (p->rev2 && utf8_name_to_mutf7(p, out) < 0)
		return -1;
	if (strcasecmp(buf_cstr(out), "INBOX") == 0) {
		buf_clear(out);
		buf_puts(out, "INBOX");
	}
	if (memchr(buf_cstr(out), '\0', out->len) != NULL ||
	    !mutf7_valid(buf_cstr(out)))
		return imap_parse_refuse(p,
			"Mailbox name is not valid modified UTF-7");
	return 0;
}

int imap_parse_list_mailbox(struct imap_parser *p, struct buf *out)
{
	int c = imap_parse_peek(p);

	if (c == '"' || c == '{') {
		if (imap_parse_string(p, out, NULL) < 0)
			return -1;
	} else if (take_run(p, is_list_char, out) == 0) {
		return imap_parse_fail(p, "Missing mailbox pattern");
	}
	/* RFC 9051 5.1: kept in UTF-8, matched against the UTF-8 names */
	if (p->rev2 && (memchr(buf_cstr(out), '\0', out->len) != NULL ||
			!utf8_valid(buf_cstr(out))))
		return imap_parse_refuse(p, "Mailbox name is not valid UTF-8");
	return 0;
}

static int parse_seq_number(struct imap_parser *p, uint32_t *n_r)
{
	if (imap_parse_skip(p, '*')) {
		*n_r = IMAP_SEQ_STAR;
		return 0;
	}
	if (imap_parse_peek(p) == '0' ||
	    imap_parse_peek(p) < '0' || imap_parse_peek(p) > '9')
		return imap_parse_fail(p, "Invalid sequence set");
	if (parse_u32(p, n_r) < 0) {
		p->error = NULL;
		return imap_parse_fail(p, "Invalid sequence set");
	}
	return 0;
}

int imap_parse_seqset(struct imap_parser *p, struct imap_seqset *set)
{
	if (set->n == 0 && imap_parse_skip(p, '$')) {
		set->saved = true;
		goto end;
	}
	do {
		uint32_t lo, hi;

		if (parse_seq_number(p, &lo) < 0)
			return -1;
		hi = lo;
		if (imap_parse_skip(p, ':') && parse_seq_number(p, &hi) < 0)
			return -1;
		imap_seqset_add(set, lo, hi);
	} while (imap_parse_skip(p, ','));
end:
	/* "1:2x" or "1," is not a set followed by something else */
	if (p->pos < p->len && is_atom_char((unsigned char)p->data[p->pos]))
		return imap_parse_fail(p, "Invalid sequence set");
	return 0;
}

/* ---- dates ---- */

static const char *const month_names[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

int64_t imap_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	/* H. Hinnant's days_from_civil */
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned char dim[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dim[m - 1];
}

static int parse_digits(struct imap_parser *p, size_t min, size_t max,
			unsigned *n_r)
{
	unsigned n = 0;
	size_t k = 0;

	while (k < max && p->pos < p->len && p->data[p->pos] >= '0' &&
	       p->data[p->pos] <= '9') {
		n = n * 10 + (unsigned)(p->data[p->pos++] - '0');
		k++;
	}
	if (k < min)
		return -1;
	*n_r = n;
	return 0;
}

/* date-month "-" date-year after the day and its "-" */
static int parse_month_year(struct imap_parser *p, unsigned *m_r,
			    unsigned *y_r)
{
	if (p->len - p->pos < 4)
		return -1;
	for (unsigned m = 0; m < 12; m++) {
		if (strncasecmp(p->data + p->pos, month_names[m], 3) == 0) {
			*m_r = m + 1;
			p->pos += 3;
			if (!imap_parse_skip(p, '-'))
				return -1;
			return parse_digits(p, 4, 4, y_r);
		}
	}
	return -1;
}

static int parse_date_text(struct imap_parser *p, int64_t *days_r)
{
	unsigned d, m, y;

	if (parse_digits(p, 1, 2, &d) < 0 || !imap_parse_skip(p, '-') ||
	    parse_month_year(p, &m, &y) < 0 || d < 1 ||
	    d > days_in_month(y, m))
		return imap_parse_fail(p, "Invalid date");
	*days_r = imap_days_from_civil(y, m, d);
	return 0;
}

int imap_parse_date(struct imap_parser *p, int64_t *t_r)
{
	bool quoted = imap_parse_skip(p, '"');
	int64_t days;

	if (parse_date_text(p, &days) < 0)
		return -1;
	if (quoted && !imap_parse_skip(p, '"'))
		return imap_parse_fail(p, "Invalid date");
	*t_r = days * 86400;
	return 0;
}

int imap_parse_datetime(struct imap_parser *p, int64_t *t_r)
{
	unsigned d, m, y, hh, mm, ss, zone;
	int sign;
	int64_t t;

	if (!imap_parse_skip(p, '"'))
		return imap_parse_fail(p, "Invalid date-time");
	imap_parse_skip(p, ' ');	/* date-day-fixed: SP DIGIT */
	if (parse_digits(p, 1, 2, &d) < 0 || !imap_parse_skip(p, '-') ||
	    parse_month_year(p, &m, &y) < 0 || d < 1 ||
	    d > days_in_month(y, m) || !imap_parse_skip(p, ' ') ||
	    parse_digits(p, 2, 2, &hh) < 0 || !imap_parse_skip(p, ':') ||
	    parse_digits(p, 2, 2, &mm) < 0 || !imap_parse_skip(p, ':') ||
	    parse_digits(p, 2, 2, &ss) < 0 || !imap_parse_skip(p, ' '))
		return imap_parse_fail(p, "Invalid date-time");
	if (imap_parse_skip(p, '+'))
		sign = 1;
	else if (imap_parse_skip(p, '-'))
		sign = -1;
	else
		return imap_parse_fail(p, "Invalid date-time zone");
	if (parse_digits(p, 4, 4, &zone) < 0 || !imap_parse_skip(p, '"') ||
	    hh > 23 || mm > 59 || ss > 60 || zone % 100 > 59)
		return imap_parse_fail(p, "Invalid date-time");
	t = imap_days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss;
	t -= sign * (int64_t)((zone / 100) * 3600 + (zone % 100) * 60);
	*t_r = t;
	return 0;
}

/* ---- flags ---- */

void imap_flags_free(struct imap_flags *f)
{
	for (size_t i = 0; i < f->nkeywords; i++)
		free(f->keywords[i]);
	memset(f, 0, sizeof(*f));
}

unsigned imap_system_flag(const char *name)
{
	static const struct {
		const char *name;
		unsigned bit;
	} flags[] = {
		{ "\\Answered", IMAP_FLAG_ANSWERED },
		{ "\\Flagged", IMAP_FLAG_FLAGGED },
		{ "\\Deleted", IMAP_FLAG_DELETED },
		{ "\\Seen", IMAP_FLAG_SEEN },
		{ "\\Draft", IMAP_FLAG_DRAFT },
	};

	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (strcasecmp(name, flags[i].name) == 0)
			return flags[i].bit;
	return 0;
}

/* flag = "\Answered" / ... / flag-keyword / flag-extension */
static int parse_flag(struct imap_parser *p, struct imap_flags *f,
		      struct buf *tmp)
{
	bool system = imap_parse_skip(p, '\\');

	if (imap_parse_atom(p, tmp) < 0)
		return imap_parse_fail(p, "Invalid flag");
	if (system) {
		char name[64];
		unsigned bit;

		snprintf(name, sizeof(name), "\\%s", buf_cstr(tmp));
		bit = imap_system_flag(name);
		if (bit == 0)
			return imap_parse_fail(p, "Unknown or unsettable system flag");
		f->system |= bit;
		return 0;
	}
	for (size_t i = 0; i < f->nkeywords; i++)
		if (strcasecmp(f->keywords[i], buf_cstr(tmp)) == 0)
			return 0;
	if (f->nkeywords == IMAP_MAX_KEYWORDS_PER_CMD)
		return imap_parse_fail(p, "Too many keywords");
	f->keywords[f->nkeywords++] = xstrdup(buf_cstr(tmp));
	return 0;
}

static int parse_flags_until(struct imap_parser *p, struct imap_flags *f,
			     char close)
{
	struct buf tmp = BUF_INIT(BUF_UNLIMITED);
	int ret = 0;

	if (close != 0 && imap_parse_skip(p, close))
		goto out;
	for (;;) {
		if (parse_flag(p, f, &tmp) < 0) {
			ret = -1;
			break;
		}
		if (close != 0 && imap_parse_skip(p, close))
			break;
		if (close == 0 && imap_parse_peek(p) != ' ')
			break;
		if (imap_parse_sp(p) < 0) {
			ret = -1;
			break;
		}
	}
out:
	buf_free(&tmp);
	return ret;
}

int imap_parse_flag_list(struct imap_parser *p, struct imap_flags *f)
{
	if (!imap_parse_skip(p, '('))
		return imap_parse_fail(p, "Missing flag list");
	if (parse_flags_until(p, f, ')') < 0) {
		if (imap_parse_at_end(p))
			return imap_parse_fail(p, "Missing ')'");
		return -1;
	}
	return 0;
}

int imap_parse_store_flags(struct imap_parser *p, struct imap_flags *f)
{
	if (imap_parse_peek(p) == '(')
		return imap_parse_flag_list(p, f);
	return parse_flags_until(p, f, 0);
}
