#ifndef COMMON_BASE64_H
#define COMMON_BASE64_H
#include <stddef.h>

#include "common/buf.h"

/* Base64 of RFC 4648 section 4 (the standard alphabet, '=' padding), as SASL
 * uses it (RFC 4954 4, RFC 5034 4, RFC 3501 6.2.2). */

/* Bytes base64_encode appends for n input bytes (overflow: SIZE_MAX). */
size_t base64_encoded_len(size_t n);

/* Appends the encoding of p[0..n) to out.  0, or -1 when out->max would be
 * passed (out unchanged). */
int base64_encode(struct buf *out, const void *p, size_t n);

/* Appends the decoding of s[0..len) to out; the result may contain NUL bytes,
 * so its length is what out->len grew by.  Strict: the length must be a
 * multiple of 4, only the alphabet is allowed (no whitespace, no line
 * breaks), '=' only as one or two final padding characters, and the unused
 * bits before the padding must be zero (RFC 4648 3.5: one text, one meaning).
 * The empty string decodes to nothing.  0, or -1 for bad input or when
 * out->max would be passed; out is unchanged on -1. */
int base64_decode(struct buf *out, const char *s, size_t len);

#endif
