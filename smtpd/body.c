/* The message sink: trace fields in front, Date/Message-ID for submission,
 * line checks for BDAT. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "smtpd/body.h"

enum { HEAD_LINE_START, HEAD_MID, HEAD_CR_AT_START };

void smtp_body_init(struct smtp_body *b, data_write_fn *sink, void *sink_arg,
		    const char *prefix, size_t prefix_len)
{
	memset(b, 0, sizeof(*b));
	b->sink = sink;
	b->sink_arg = sink_arg;
	buf_init(&b->prefix, BUF_UNLIMITED);
	buf_init(&b->head, BUF_UNLIMITED);
	buf_init(&b->header, BUF_UNLIMITED);
	buf_append(&b->prefix, prefix, prefix_len);
	b->head_state = HEAD_LINE_START;
}

void smtp_body_free(struct smtp_body *b)
{
	buf_free(&b->prefix);
	buf_free(&b->head);
	buf_free(&b->header);
}

static int pass(struct smtp_body *b, const char *p, size_t n)
{
	if (b->failed) {
		errno = b->error;
		return -1;
	}
	if (n == 0)
		return 0;
	if (b->sink(b->sink_arg, p, n) < 0) {
		b->failed = true;
		b->error = errno != 0 ? errno : EIO;
		return -1;
	}
	return 0;
}

void smtp_rfc5322_date(struct buf *out, time_t t)
{
	static const char days[7][4] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[12][4] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	gmtime_r(&t, &tm);
	buf_printf(out, "%s, %d %s %04d %02d:%02d:%02d +0000",
		   days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
		   tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Whether the line at p (len bytes left) starts header field `name:`. */
static bool field_is(const char *p, size_t len, const char *name)
{
	size_t n = strlen(name);

	return len > n && strncasecmp(p, name, n) == 0 && p[n] == ':';
}

/* Copies the first line of a Message-ID value (for the log). */
static void take_msgid(struct smtp_body *b, const char *p, size_t len)
{
	size_t i = 0, n = 0;

	while (i < len && (p[i] == ' ' || p[i] == '\t'))
		i++;
	while (i < len && p[i] != '\r' && p[i] != '\n' &&
	       n < BODY_MSGID_MAX)
		b->msgid[n++] = p[i++];
	while (n > 0 && (b->msgid[n - 1] == ' ' || b->msgid[n - 1] == '\t'))
		n--;
	b->msgid[n] = '\0';
}

/* Notes Date:, From: and Message-ID: among the held-back header fields. */
static void scan_fields(struct smtp_body *b)
{
	const char *p = b->head.data, *end, *nl;

	if (b->head.len == 0)	/* empty message: head.data is still NULL */
		return;
	end = p + b->head.len;
	while (p != NULL && p < end) {
		if (field_is(p, (size_t)(end - p), "date"))
			b->has_date = true;
		if (field_is(p, (size_t)(end - p), "from"))
			b->has_from = true;
		if (field_is(p, (size_t)(end - p), "message-id") &&
		    !b->has_msgid) {
			b->has_msgid = true;
			take_msgid(b, p + 11, (size_t)(end - p) - 11);
		}
		nl = memchr(p, '\n', (size_t)(end - p));
		p = nl != NULL ? nl + 1 : NULL;
	}
}

static void random_hex(char *out, size_t bytes)
{
	unsigned char r[16];
	size_t i;

	if (bytes > sizeof(r))
		bytes = sizeof(r);
	if (getrandom(r, bytes, 0) != (ssize_t)bytes)
		memset(r, 0, sizeof(r));
	for (i = 0; i < bytes; i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
}

/* RFC 6409 8.2 and 8.3: an MSA may add what the client left out. */
static void add_missing(struct smtp_body *b)
{
	time_t now = time(NULL);
	char rnd[17];

	if (!b->has_date) {
		buf_puts(&b->prefix, "Date: ");
		smtp_rfc5322_date(&b->prefix, now);
		buf_puts(&b->prefix, "\r\n");
	}
	if (!b->has_msgid) {
		random_hex(rnd, 8);
		snprintf(b->msgid, sizeof(b->msgid), "<%lld.%s.%s@%s>",
			 (long long)now, b->id != NULL ? b->id : "0", rnd,
			 b->hostname != NULL ? b->hostname : "localhost");
		buf_printf(&b->prefix, "Message-ID: %s\r\n", b->msgid);
	}
}

/* Writes the prefix and the held-back header.  `whole` says the header is
 * complete (then its fields are known). */
static int flush_head(struct smtp_body *b, bool whole)
{
	int ret;

	if (whole) {
		scan_fields(b);
		if (b->add_date_msgid)
			add_missing(b);
	}
	b->head_done = true;
	ret = pass(b, b->prefix.data, b->prefix.len);
	if (ret == 0)
		ret = pass(b, b->head.data, b->head.len);
	buf_free(&b->prefix);
	if (b->keep_header && whole) {
		b->header = b->head;
		buf_init(&b->head, BUF_UNLIMITED);
	}
	b->header_too_big = !whole;
	buf_free(&b->head);
	return ret;
}

/* Looks for the empty line that ends the header in p[0..n): returns the
 * offset just after it and sets *found, or n. */
static size_t head_end(struct smtp_body *b, const char *p, size_t n,
		       bool *found)
{
	size_t i;

	*found = false;
	for (i = 0; i < n; i++) {
		char c = p[i];

		switch (b->head_state) {
		case HEAD_LINE_START:
			if (c == '\n') {
				*found = true;
				return i + 1;
			}
			b->head_state = c == '\r' ? HEAD_CR_AT_START : HEAD_MID;
			break;
		case HEAD_CR_AT_START:
			if (c == '\n') {
				*found = true;
				return i + 1;
			}
			b->head_state = HEAD_MID;
			break;
		default:
			if (c == '\n')
				b->head_state = HEAD_LINE_START;
			break;
		}
	}
	return n;
}

static void check_lines(struct smtp_body *b, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (b->last_cr && c != '\n')
			b->bare_cr = true;
		b->line_len++;
		if (b->line_len > b->max_line)
			b->long_line = true;
		if (c == '\n') {
			if (!b->last_cr)
				b->bare_lf = true;
			if (b->line_len > b->longest_line)
				b->longest_line = b->line_len;
			b->line_len = 0;
		} else if (c == '\0') {
			b->has_nul = true;
		} else if (c >= 0x80) {
			b->eight_bit = true;
		}
		b->last_cr = c == '\r';
	}
}

/* After normalisation: hold back the header, then pass through. */
static int take(struct smtp_body *b, const char *p, size_t n)
{
	bool found;
	size_t i;

	if (b->head_done)
		return pass(b, p, n);
	i = head_end(b, p, n, &found);
	if (!found && b->head.len + n > BODY_HEAD_MAX) {
		/* A header this large is not held back any longer. */
		buf_append(&b->head, p, n);
		return flush_head(b, false);
	}
	buf_append(&b->head, p, i);
	if (!found)
		return 0;
	if (flush_head(b, true) < 0)
		return -1;
	return pass(b, p + i, n - i);
}

int smtp_body_write(void *arg, const char *p, size_t n)
{
	struct smtp_body *b = arg;
	size_t start = 0, i;
	int ret = 0;

	b->size += n;
	if (b->check_lines)
		check_lines(b, p, n);
	if (!b->normalize_lf) {
		b->prev_cr = n > 0 ? p[n - 1] == '\r' : b->prev_cr;
		return take(b, p, n);
	}
	/* A bare LF is stored as CRLF (RFC 5321 2.3.8: CRLF is the only line
	 * end), so the stored message has no bare LF to smuggle later. */
	for (i = 0; i < n && ret == 0; i++) {
		if (p[i] == '\n' && !(i > 0 ? p[i - 1] == '\r' : b->prev_cr)) {
			ret = take(b, p + start, i - start);
			if (ret == 0)
				ret = take(b, "\r\n", 2);
			start = i + 1;
		}
	}
	if (ret == 0)
		ret = take(b, p + start, n - start);
	if (n > 0)
		b->prev_cr = p[n - 1] == '\r';
	return ret;
}

int smtp_body_finish(struct smtp_body *b)
{
	if (b->check_lines && b->last_cr)
		b->bare_cr = true;
	if (!b->head_done)
		flush_head(b, true);
	if (b->failed) {
		errno = b->error;
		return -1;
	}
	return 0;
}
