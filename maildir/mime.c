/* Decoding to UTF-8: transfer encodings (RFC 2045 6.7, 6.8), encoded words
 * (RFC 2047), RFC 2231 parameter values, and charsets via iconv(3). */
#include <errno.h>
#include <iconv.h>
#include <string.h>
#include <strings.h>

#include "maildir/message-int.h"

#define MAX_CHARSET 63

static const char utf8_replacement[] = "\xEF\xBF\xBD";	/* U+FFFD */

enum mime_encoding mime_encoding_of(const char *name)
{
	static const struct {
		const char *name;
		enum mime_encoding enc;
	} names[] = {
		{ "7bit", MIME_ENC_7BIT },
		{ "8bit", MIME_ENC_8BIT },
		{ "binary", MIME_ENC_BINARY },
		{ "quoted-printable", MIME_ENC_QP },
		{ "base64", MIME_ENC_BASE64 },
	};
	size_t i;

	if (name == NULL || *name == '\0')
		return MIME_ENC_7BIT;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(name, names[i].name) == 0)
			return names[i].enc;
	return MIME_ENC_OTHER;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* RFC 2045 6.7; with header_q, the Q encoding of RFC 2047 4.2 ('_' is a
 * space).  Malformed escapes are kept as they are. */
int mime_decode_qp(const char *in, size_t len, bool header_q,
		   struct buf *out)
{
	size_t i = 0, j;
	int hi, lo;

	while (i < len) {
		char ch = in[i];

		if (ch == '_' && header_q) {
			if (buf_putc(out, ' ') < 0)
				return -1;
			i++;
			continue;
		}
		if (ch != '=') {
			/* trailing WSP before a line end is padding (6.7 (3));
			 * a run is looked at once */
			if ((ch == ' ' || ch == '\t') && !header_q) {
				for (j = i; j < len && (in[j] == ' ' ||
							in[j] == '\t'); j++)
					;
				if (j < len && in[j] != '\r' &&
				    in[j] != '\n' &&
				    buf_append(out, in + i, j - i) < 0)
					return -1;
				i = j;
				continue;
			}
			if (buf_putc(out, ch) < 0)
				return -1;
			i++;
			continue;
		}
		if (i + 2 < len && (hi = hexval(in[i + 1])) >= 0 &&
		    (lo = hexval(in[i + 2])) >= 0) {
			if (buf_putc(out, (char)(hi << 4 | lo)) < 0)
				return -1;
			i += 3;
			continue;
		}
		/* soft line break: '=' then optional WSP then a line end */
		for (j = i + 1; j < len && (in[j] == ' ' || in[j] == '\t'); j++)
			;
		if (j < len && in[j] == '\r' && j + 1 < len && in[j + 1] == '\n')
			j++;
		if (j == len || in[j] == '\n') {
			i = j < len ? j + 1 : j;
			continue;
		}
		if (buf_putc(out, '=') < 0)
			return -1;
		i++;
	}
	return 0;
}

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* RFC 2045 6.8: characters outside the alphabet are ignored; decoding
 * stops at '=' padding. */
int mime_decode_base64(const char *in, size_t len, struct buf *out)
{
	unsigned int acc = 0;
	int bits = 0, v;
	size_t i;

	if (buf_reserve(out, len / 4 * 3 + 3) < 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (in[i] == '=')
			break;
		if ((v = b64val((unsigned char)in[i])) < 0)
			continue;
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (buf_putc(out, (char)(acc >> bits)) < 0)
				return -1;
		}
	}
	return 0;
}

/* Length of the valid UTF-8 sequence at s (1-4), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		len = 2, cp = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		len = 3, cp = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3F);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0;
	return len;
}

static bool utf8_valid(const char *s, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		k = utf8_seq((const unsigned char *)s + i, n - i);
		if (k == 0)
			return false;
		i += k;
	}
	return true;
}

/* Copies UTF-8, replacing each invalid byte with U+FFFD. */
static int utf8_sanitize(const char *s, size_t n, struct buf *out)
{
	size_t i = 0, run = 0, k;

	while (i < n) {
		k = utf8_seq((const unsigned char *)s + i, n - i);
		if (k > 0) {
			i += k;
			continue;
		}
		if (buf_append(out, s + run, i - run) < 0 ||
		    buf_append(out, utf8_replacement, 3) < 0)
			return -1;
		run = ++i;
	}
	return buf_append(out, s + run, i - run);
}

static int latin1_to_utf8(const char *s, size_t n, struct buf *out)
{
	size_t i;

	if (buf_reserve(out, n * 2) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (c < 0x80) {
			buf_putc(out, (char)c);
		} else {
			buf_putc(out, (char)(0xC0 | c >> 6));
			buf_putc(out, (char)(0x80 | (c & 0x3F)));
		}
	}
	return 0;
}

static bool charset_is(const char *cs, const char *const *names)
{
	for (; *names != NULL; names++)
		if (strcasecmp(cs, *names) == 0)
			return true;
	return false;
}

/* Charset names come from the message: only what IANA names look like
 * goes to iconv_open (no '/', which glibc reads as conversion flags). */
static bool charset_name_ok(const char *cs)
{
	size_t n = 0;

	for (; *cs != '\0'; cs++, n++)
		if (!((*cs >= 'a' && *cs <= 'z') || (*cs >= 'A' && *cs <= 'Z') ||
		      (*cs >= '0' && *cs <= '9') || strchr("-_.:+()", *cs)))
			return false;
	return n > 0 && n <= 40;
}

static int iconv_to_utf8(iconv_t cd, const char *s, size_t n,
			 struct buf *out)
{
	char tmp[4096];
	char *ip = (char *)s, *op;
	size_t il = n, ol, r;

	while (il > 0) {
		op = tmp;
		ol = sizeof(tmp);
		r = iconv(cd, &ip, &il, &op, &ol);
		if (buf_append(out, tmp, op - tmp) < 0)
			return -1;
		if (r != (size_t)-1 || errno == E2BIG)
			continue;
		/* EILSEQ or EINVAL (truncated input): one byte is lost */
		if (buf_append(out, utf8_replacement, 3) < 0)
			return -1;
		ip++;
		il--;
		iconv(cd, NULL, NULL, NULL, NULL);
	}
	op = tmp;
	ol = sizeof(tmp);
	iconv(cd, NULL, NULL, &op, &ol);
	return buf_append(out, tmp, op - tmp);
}

int mime_to_utf8(const char *in, size_t len, const char *charset,
		 struct buf *out)
{
	static const char *const utf8[] = { "utf-8", "utf8", "us-ascii",
		"ascii", "ansi_x3.4-1968", NULL };
	static const char *const latin1[] = { "iso-8859-1", "iso_8859-1",
		"latin1", "l1", NULL };
	size_t start = out->len;
	iconv_t cd;
	int ret;

	/* the common charsets without iconv: SEARCH runs this a lot */
	if (charset == NULL || *charset == '\0' || charset_is(charset, utf8))
		return utf8_sanitize(in, len, out);
	if (charset_is(charset, latin1))
		return latin1_to_utf8(in, len, out);
	if (!charset_name_ok(charset))
		return latin1_to_utf8(in, len, out);
	cd = iconv_open("UTF-8", charset);
	if (cd == (iconv_t)-1)
		return latin1_to_utf8(in, len, out);
	ret = iconv_to_utf8(cd, in, len, out);
	iconv_close(cd);
	if (ret == 0 && !utf8_valid(out->data + start, out->len - start)) {
		/* not expected from iconv, but the promise is valid UTF-8 */
		struct buf tmp = BUF_INIT(BUF_UNLIMITED);

		buf_append(&tmp, out->data + start, out->len - start);
		buf_truncate(out, start);
		ret = utf8_sanitize(tmp.data, tmp.len, out);
		buf_free(&tmp);
	}
	return ret;
}

int mime_decode_body(const char *in, size_t len, enum mime_encoding enc,
		     const char *charset, struct buf *out)
{
	struct buf raw = BUF_INIT(out->max);
	int ret;

	if (enc != MIME_ENC_QP && enc != MIME_ENC_BASE64)
		return mime_to_utf8(in, len, charset, out);
	ret = enc == MIME_ENC_QP ? mime_decode_qp(in, len, false, &raw) :
				   mime_decode_base64(in, len, &raw);
	if (ret == 0)
		ret = mime_to_utf8(raw.data == NULL ? "" : raw.data, raw.len,
				   charset, out);
	buf_free(&raw);
	return ret;
}

/* ---- RFC 2047 ---- */

struct eword {
	const char *charset;	/* points into the input, not terminated */
	size_t cslen;
	char enc;		/* 'Q' or 'B' */
	const char *text;
	size_t textlen;
	size_t len;		/* of the whole word */
};

/* The next position at or after `pos` where a predicate holds, remembered
 * as "none in [from, at)" so that a long header with many "=?" that never
 * end is still scanned once: the scan stays linear. */
struct scan_cache {
	bool valid;
	size_t from, at;
};

static bool is_qe(const char *s, size_t i, size_t len)
{
	return s[i] == '?' && i + 1 < len && s[i + 1] == '=';
}

static bool is_space_or_ctl(const char *s, size_t i, size_t len)
{
	(void)len;
	return (unsigned char)s[i] <= ' ';
}

static size_t scan_next(const char *s, size_t len, size_t pos,
			bool (*pred)(const char *, size_t, size_t),
			struct scan_cache *c)
{
	bool behind = c->valid && pos < c->from;
	size_t i, stop;

	if (c->valid && pos >= c->from && pos <= c->at)
		return c->at;
	/* behind the cached range (by a charset's length at most): scan up
	 * to it; ahead of it: start afresh */
	stop = behind ? c->from : len;
	for (i = pos; i < stop && !pred(s, i, len); i++)
		;
	if (behind && i == stop)
		i = c->at;
	c->valid = true;
	c->from = pos;
	c->at = i;
	return i;
}

struct eword_scan {
	struct scan_cache qe, ws;
};

/* An encoded word at in[i..]: =?charset?Q|B?text?= (RFC 2047 2).  The
 * text is any run without SPACE or CTLs up to the first "?=". */
static bool eword_at(const char *in, size_t len, size_t i,
		     struct eword_scan *sc, struct eword *w)
{
	size_t j = i + 2, q1, text, end;

	if (len - i < 8 || in[i] != '=' || in[i + 1] != '?')
		return false;
	while (j < len && j - i < 2 + MAX_CHARSET && in[j] != '?' &&
	       (unsigned char)in[j] > ' ')
		j++;
	if (j >= len || in[j] != '?' || j == i + 2)
		return false;
	q1 = j;
	if (q1 + 2 >= len || in[q1 + 2] != '?')
		return false;
	w->enc = in[q1 + 1] & ~0x20;
	if (w->enc != 'Q' && w->enc != 'B')
		return false;
	text = q1 + 3;
	end = scan_next(in, len, text, is_qe, &sc->qe);
	if (end >= len || scan_next(in, len, text, is_space_or_ctl,
				    &sc->ws) < end)
		return false;
	w->charset = in + i + 2;
	w->cslen = q1 - (i + 2);
	/* RFC 2231 5: charset*language */
	for (j = 0; j < w->cslen; j++)
		if (w->charset[j] == '*')
			w->cslen = j;
	w->text = in + text;
	w->textlen = end - text;
	w->len = end + 2 - i;
	return true;
}

/* Decoded bytes of adjacent words in one charset are converted together,
 * since a multibyte character may be split between two words. */
struct pending {
	struct buf bytes;
	char charset[MAX_CHARSET + 1];
};

static int pending_flush(struct pending *pd, struct buf *out)
{
	int ret = 0;

	if (pd->bytes.len > 0)
		ret = mime_to_utf8(pd->bytes.data, pd->bytes.len, pd->charset,
				   out);
	buf_clear(&pd->bytes);
	return ret;
}

static int plain_text(const char *s, size_t n, struct buf *out)
{
	if (utf8_valid(s, n))
		return buf_append(out, s, n);
	return latin1_to_utf8(s, n, out);
}

int mime_decode_header(const char *in, size_t len, struct buf *out)
{
	struct pending pd = { BUF_INIT(out->max), "" };
	struct eword_scan sc = { { false, 0, 0 }, { false, 0, 0 } };
	struct eword w;
	size_t i = 0, run = 0, ws;
	bool after_word = false;
	int ret = 0;

	while (i < len && ret == 0) {
		if (in[i] != '=' || !eword_at(in, len, i, &sc, &w)) {
			i++;
			continue;
		}
		/* RFC 2047 6.2: whitespace between encoded words is dropped */
		for (ws = run; ws < i && (in[ws] == ' ' || in[ws] == '\t' ||
					  in[ws] == '\r' || in[ws] == '\n');
		     ws++)
			;
		if (!after_word || ws != i) {
			ret = pending_flush(&pd, out);
			if (ret == 0)
				ret = plain_text(in + run, i - run, out);
		}
		if (ret == 0 && (strlen(pd.charset) != w.cslen ||
				 strncasecmp(pd.charset, w.charset,
					     w.cslen) != 0))
			ret = pending_flush(&pd, out);
		memcpy(pd.charset, w.charset, w.cslen);
		pd.charset[w.cslen] = '\0';
		if (ret == 0)
			ret = w.enc == 'Q' ? mime_decode_qp(w.text, w.textlen,
							    true, &pd.bytes) :
					     mime_decode_base64(w.text,
								w.textlen,
								&pd.bytes);
		i += w.len;
		run = i;
		after_word = true;
	}
	if (ret == 0)
		ret = pending_flush(&pd, out);
	if (ret == 0)
		ret = plain_text(in + run, len - run, out);
	buf_free(&pd.bytes);
	return ret;
}

int mime_decode_param(const char *value, struct buf *out)
{
	const char *q1 = strchr(value, '\''), *q2;
	struct buf raw = BUF_INIT(out->max);
	char charset[64] = "";
	const char *s;
	int hi, lo, ret;

	if (q1 == NULL || (q2 = strchr(q1 + 1, '\'')) == NULL)
		return plain_text(value, strlen(value), out);
	if ((size_t)(q1 - value) < sizeof(charset)) {
		memcpy(charset, value, q1 - value);
		charset[q1 - value] = '\0';
	}
	for (s = q2 + 1; *s != '\0'; s++) {
		if (*s == '%' && (hi = hexval(s[1])) >= 0 &&
		    (lo = hexval(s[2])) >= 0) {
			buf_putc(&raw, (char)(hi << 4 | lo));
			s += 2;
		} else {
			buf_putc(&raw, *s);
		}
	}
	ret = mime_to_utf8(raw.data == NULL ? "" : raw.data, raw.len, charset,
			   out);
	buf_free(&raw);
	return ret;
}
