#include <stdint.h>
#include <string.h>

#include "common/base64.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encoded_len(size_t n)
{
	if (n / 3 >= SIZE_MAX / 4 - 1)
		return SIZE_MAX;
	return (n + 2) / 3 * 4;
}

int base64_encode(struct buf *out, const void *p, size_t n)
{
	const unsigned char *in = p;
	size_t need = base64_encoded_len(n);
	char *o;
	uint32_t v;

	if (need == SIZE_MAX || buf_reserve(out, need) < 0)
		return -1;
	o = out->data + out->len;
	for (; n >= 3; n -= 3, in += 3) {
		v = (uint32_t)in[0] << 16 | (uint32_t)in[1] << 8 | in[2];
		*o++ = alphabet[v >> 18];
		*o++ = alphabet[v >> 12 & 63];
		*o++ = alphabet[v >> 6 & 63];
		*o++ = alphabet[v & 63];
	}
	if (n > 0) {
		v = (uint32_t)in[0] << 16;
		if (n == 2)
			v |= (uint32_t)in[1] << 8;
		*o++ = alphabet[v >> 18];
		*o++ = alphabet[v >> 12 & 63];
		*o++ = n == 2 ? alphabet[v >> 6 & 63] : '=';
		*o++ = '=';
	}
	out->len += need;
	out->data[out->len] = '\0';
	return 0;
}

/* The 6-bit value of c, or -1 outside the alphabet. */
static int sextet(unsigned char c)
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

/* Decodes one 4-character group into o; returns the byte count (1..3) or -1.
 * `last` says whether padding is allowed here. */
static int decode_group(const unsigned char *s, int last, unsigned char *o)
{
	int v[4], i, pad = 0;
	uint32_t w;

	for (i = 0; i < 4; i++) {
		if (s[i] == '=' && last && i >= 2) {
			pad++;
			v[i] = 0;
			continue;
		}
		if (pad > 0)	/* data after padding: "A=B=" */
			return -1;
		if ((v[i] = sextet(s[i])) < 0)
			return -1;
	}
	w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
	    (uint32_t)v[3];
	/* RFC 4648 3.5: bits beyond the last byte must be zero */
	if ((pad == 1 && (w & 0xff) != 0) || (pad == 2 && (w & 0xffff) != 0))
		return -1;
	o[0] = w >> 16;
	if (pad < 2)
		o[1] = w >> 8;
	if (pad < 1)
		o[2] = w;
	return 3 - pad;
}

int base64_decode(struct buf *out, const char *s, size_t len)
{
	const unsigned char *in = (const unsigned char *)s;
	size_t i, n = 0, size;
	unsigned char *o;
	int k;

	if (len % 4 != 0)
		return -1;
	/* the exact output size, so that a buffer cap is checked exactly */
	size = len / 4 * 3;
	if (len > 0 && s[len - 1] == '=')
		size -= s[len - 2] == '=' ? 2 : 1;
	if (buf_reserve(out, size) < 0)
		return -1;
	o = (unsigned char *)out->data + out->len;
	for (i = 0; i < len; i += 4) {
		k = decode_group(in + i, i + 4 == len, o + n);
		if (k < 0) {
			/* the bytes decoded so far may be a password */
			explicit_bzero(o, n);
			out->data[out->len] = '\0';
			return -1;
		}
		n += (size_t)k;
	}
	out->len += n;
	out->data[out->len] = '\0';
	return 0;
}
