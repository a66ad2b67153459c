#include <stdint.h>
#include <string.h>

#include "maildir/mutf7.h"

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

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
	if (c == ',')
		return 63;
	return -1;
}

/* Decodes one UTF-8 sequence at *sp; -1 when malformed. */
static int32_t utf8_next(const unsigned char **sp)
{
	const unsigned char *s = *sp;
	uint32_t cp, min;
	int n, i;

	if (s[0] < 0x80) {
		*sp = s + 1;
		return s[0];
	} else if ((s[0] & 0xe0) == 0xc0) {
		cp = s[0] & 0x1f; n = 1; min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		cp = s[0] & 0x0f; n = 2; min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		cp = s[0] & 0x07; n = 3; min = 0x10000;
	} else {
		return -1;
	}
	for (i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*sp = s + n + 1;
	return (int32_t)cp;
}

int utf8_valid(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s != '\0')
		if (utf8_next(&s) < 0)
			return 0;
	return 1;
}

static void put_utf8(struct buf *out, uint32_t cp, int *fail)
{
	char tmp[4];
	size_t n;

	if (cp < 0x80) {
		tmp[0] = (char)cp; n = 1;
	} else if (cp < 0x800) {
		tmp[0] = (char)(0xc0 | (cp >> 6));
		tmp[1] = (char)(0x80 | (cp & 0x3f)); n = 2;
	} else if (cp < 0x10000) {
		tmp[0] = (char)(0xe0 | (cp >> 12));
		tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		tmp[2] = (char)(0x80 | (cp & 0x3f)); n = 3;
	} else {
		tmp[0] = (char)(0xf0 | (cp >> 18));
		tmp[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		tmp[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		tmp[3] = (char)(0x80 | (cp & 0x3f)); n = 4;
	}
	if (buf_append(out, tmp, n) < 0)
		*fail = 1;
}

/* Bit accumulator for the base64 runs. */
struct bits {
	uint32_t acc;
	int nbits;
};

static void put_b64_u16(struct buf *out, struct bits *b, uint16_t u, int *fail)
{
	b->acc = (b->acc << 16) | u;
	b->nbits += 16;
	while (b->nbits >= 6) {
		b->nbits -= 6;
		if (buf_putc(out, b64chars[(b->acc >> b->nbits) & 0x3f]) < 0)
			*fail = 1;
	}
}

int mutf7_encode(const char *utf8, struct buf *out)
{
	const unsigned char *s = (const unsigned char *)utf8;
	struct bits b = { 0, 0 };
	int in_b64 = 0, fail = 0;
	int32_t cp;

	while (*s != '\0') {
		if (*s >= 0x20 && *s <= 0x7e) {
			if (in_b64) {
				if (b.nbits > 0 && buf_putc(out,
				    b64chars[(b.acc << (6 - b.nbits)) & 0x3f]) < 0)
					fail = 1;
				if (buf_putc(out, '-') < 0)
					fail = 1;
				in_b64 = 0;
				b.nbits = 0;
			}
			if (buf_putc(out, (char)*s) < 0)
				fail = 1;
			if (*s == '&' && buf_putc(out, '-') < 0)
				fail = 1;
			s++;
			continue;
		}
		cp = utf8_next(&s);
		if (cp < 0)
			return -1;
		if (!in_b64) {
			if (buf_putc(out, '&') < 0)
				fail = 1;
			in_b64 = 1;
			b.acc = 0;
			b.nbits = 0;
		}
		if (cp >= 0x10000) {
			uint32_t v = (uint32_t)cp - 0x10000;

			put_b64_u16(out, &b, (uint16_t)(0xd800 | (v >> 10)), &fail);
			put_b64_u16(out, &b, (uint16_t)(0xdc00 | (v & 0x3ff)), &fail);
		} else {
			put_b64_u16(out, &b, (uint16_t)cp, &fail);
		}
	}
	if (in_b64) {
		if (b.nbits > 0 && buf_putc(out,
		    b64chars[(b.acc << (6 - b.nbits)) & 0x3f]) < 0)
			fail = 1;
		if (buf_putc(out, '-') < 0)
			fail = 1;
	}
	return fail ? -1 : 0;
}

/* Decodes the base64 run starting at *sp (after '&') up to '-'.  Appends
 * UTF-8 to out when out is not NULL.  -1 when malformed or not canonical. */
static int decode_run(const unsigned char **sp, struct buf *out, int *fail)
{
	const unsigned char *s = *sp;
	uint32_t acc = 0, hi = 0;
	int nbits = 0, v, count = 0;

	for (; *s != '-'; s++) {
		v = b64val(*s);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		nbits += 6;
		if (nbits < 16)
			continue;
		nbits -= 16;
		uint16_t u = (uint16_t)(acc >> nbits);

		count++;
		if (hi != 0) {
			if (u < 0xdc00 || u > 0xdfff)
				return -1;
			if (out != NULL)
				put_utf8(out, 0x10000 + ((hi - 0xd800) << 10) +
					 (u - 0xdc00), fail);
			hi = 0;
		} else if (u >= 0xd800 && u <= 0xdbff) {
			hi = u;
		} else if (u >= 0xdc00 && u <= 0xdfff) {
			return -1;
		} else if (u >= 0x20 && u <= 0x7e) {
			return -1;	/* printable ASCII must be direct */
		} else if (out != NULL) {
			put_utf8(out, u, fail);
		}
	}
	if (count == 0 || hi != 0 || nbits >= 6 ||
	    (acc & ((1u << nbits) - 1)) != 0)
		return -1;
	*sp = s + 1;
	return 0;
}

static int mutf7_walk(const char *m, struct buf *out)
{
	const unsigned char *s = (const unsigned char *)m;
	int fail = 0;

	while (*s != '\0') {
		if (*s < 0x20 || *s > 0x7e)
			return -1;
		if (*s != '&') {
			if (out != NULL && buf_putc(out, (char)*s) < 0)
				fail = 1;
			s++;
			continue;
		}
		s++;
		if (*s == '-') {
			if (out != NULL && buf_putc(out, '&') < 0)
				fail = 1;
			s++;
			continue;
		}
		if (decode_run(&s, out, &fail) < 0)
			return -1;
		/* Two adjacent runs must have been one run. */
		if (s[0] == '&' && s[1] != '-')
			return -1;
	}
	return fail ? -1 : 0;
}

int mutf7_decode(const char *m, struct buf *out)
{
	return mutf7_walk(m, out);
}

int mutf7_valid(const char *m)
{
	return mutf7_walk(m, NULL) == 0;
}

/* RFC 9051 section 5.1: no C0 or C1 control, DEL, or line or paragraph
 * separator in a mailbox name. */
static int forbidden_in_name(int32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
	       cp == 0x2028 || cp == 0x2029;
}

int mutf7_has_control(const char *m)
{
	struct buf utf8 = BUF_INIT(BUF_UNLIMITED);
	const unsigned char *s;
	int found = 0;
	int32_t cp;

	if (mutf7_decode(m, &utf8) < 0) {
		buf_free(&utf8);
		return 0;
	}
	s = (const unsigned char *)buf_cstr(&utf8);
	while (!found && (size_t)((const char *)s - utf8.data) < utf8.len) {
		cp = utf8_next(&s);
		found = cp < 0 || forbidden_in_name(cp);
	}
	buf_free(&utf8);
	return found;
}
