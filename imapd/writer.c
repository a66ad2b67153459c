#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imapd/parser.h"
#include "imapd/writer.h"
#include "maildir/mutf7.h"

enum form { FORM_ATOM, FORM_QUOTED, FORM_LITERAL };

static enum form string_form(const char *p, size_t len)
{
	enum form form = len > 0 ? FORM_ATOM : FORM_QUOTED;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '"' || c == '\\' || c < 0x20 || c >= 0x7f)
			return FORM_LITERAL;
		/* atom-specials, and ']' which is fine in an astring only
		 * after the first character would confuse nobody; keep it
		 * simple and quote it too */
		if (strchr("(){ %*]", c) != NULL)
			form = FORM_QUOTED;
	}
	if (form == FORM_ATOM && len == 3 && strncasecmp(p, "NIL", 3) == 0)
		form = FORM_QUOTED;
	return form;
}

void imap_write_number(struct buf *out, uint64_t n)
{
	char digits[24];
	size_t i = sizeof(digits);

	do {
		digits[--i] = (char)('0' + n % 10);
		n /= 10;
	} while (n != 0);
	buf_append(out, digits + i, sizeof(digits) - i);
}

void imap_write_literal(struct buf *out, const char *p, size_t len)
{
	buf_putc(out, '{');
	imap_write_number(out, len);
	buf_puts(out, "}\r\n");
	buf_append(out, p, len);
}

static void write_quoted(struct buf *out, const char *p, size_t len)
{
	buf_putc(out, '"');
	buf_append(out, p, len);
	buf_putc(out, '"');
}

void imap_write_string(struct buf *out, const char *p, size_t len)
{
	if (string_form(p, len) == FORM_LITERAL)
		imap_write_literal(out, p, len);
	else
		write_quoted(out, p, len);
}

void imap_write_cstring(struct buf *out, const char *s)
{
	imap_write_string(out, s, strlen(s));
}

void imap_write_nstring(struct buf *out, const char *p, size_t len)
{
	if (p == NULL)
		buf_puts(out, "NIL");
	else
		imap_write_string(out, p, len);
}

void imap_write_ncstring(struct buf *out, const char *s)
{
	imap_write_nstring(out, s, s != NULL ? strlen(s) : 0);
}

void imap_write_astring(struct buf *out, const char *p, size_t len)
{
	switch (string_form(p, len)) {
	case FORM_ATOM:
		buf_append(out, p, len);
		break;
	case FORM_QUOTED:
		write_quoted(out, p, len);
		break;
	case FORM_LITERAL:
		imap_write_literal(out, p, len);
		break;
	}
}

void imap_write_mailbox(struct buf *out, const char *name)
{
	imap_write_astring(out, name, strlen(name));
}

/* RFC 9051 4.3: a quoted string may hold UTF-8 (QUOTED-CHAR, UTF8-2..4),
 * so only a quote, a backslash or a control character needs a literal. */
static bool utf8_quotable(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '"' || c == '\\' || c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

void imap_write_mailbox_utf8(struct buf *out, const char *name)
{
	struct buf utf8 = BUF_INIT(BUF_UNLIMITED);

	if (mutf7_decode(name, &utf8) < 0) {
		imap_write_mailbox(out, name);
	} else if (string_form(utf8.data, utf8.len) != FORM_LITERAL ||
		   !utf8_quotable(utf8.data, utf8.len)) {
		imap_write_astring(out, utf8.data, utf8.len);
	} else {
		write_quoted(out, utf8.data, utf8.len);
	}
	buf_free(&utf8);
}

void imap_write_flags(struct buf *out, unsigned system, int recent,
		      const char *const *keywords, size_t nkeywords)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{ IMAP_FLAG_SEEN, "\\Seen" },
		{ IMAP_FLAG_ANSWERED, "\\Answered" },
		{ IMAP_FLAG_FLAGGED, "\\Flagged" },
		{ IMAP_FLAG_DELETED, "\\Deleted" },
		{ IMAP_FLAG_DRAFT, "\\Draft" },
	};
	bool first = true;

	buf_putc(out, '(');
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(system & names[i].bit))
			continue;
		if (!first)
			buf_putc(out, ' ');
		buf_puts(out, names[i].name);
		first = false;
	}
	if (recent) {
		if (!first)
			buf_putc(out, ' ');
		buf_puts(out, "\\Recent");
		first = false;
	}
	for (size_t i = 0; i < nkeywords; i++) {
		if (!first)
			buf_putc(out, ' ');
		buf_puts(out, keywords[i]);
		first = false;
	}
	buf_putc(out, ')');
}

void imap_write_datetime(struct buf *out, int64_t t)
{
	static const char *const months[12] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
	};
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	buf_printf(out, "\"%02d-%s-%04d %02d:%02d:%02d +0000\"", tm.tm_mday,
		   months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour,
		   tm.tm_min, tm.tm_sec);
}

void imap_write_uid_list(struct buf *out, const uint32_t *uids, size_t n)
{
	size_t i = 0, j;

	while (i < n) {
		for (j = i; j + 1 < n && uids[j] != UINT32_MAX &&
		     uids[j + 1] == uids[j] + 1; j++)
			;
		if (i > 0)
			buf_putc(out, ',');
		imap_write_number(out, uids[i]);
		if (j > i) {
			buf_putc(out, ':');
			imap_write_number(out, uids[j]);
		}
		i = j + 1;
	}
}
