/* Binary content made storable: base64 for the parts that hold NUL bytes
 * or say Content-Transfer-Encoding: binary (RFC 3516 4.4), as Dovecot
 * converts them on APPEND. */
#include <string.h>

#include "common/base64.h"
#include "maildir/message.h"

#define B64_LINE_IN 57		/* 76 characters a line (RFC 2045 6.8) */

static bool needs_base64(const struct msg_parse *p, const struct msg_part *m,
			 const char *data)
{
	if (m->flags & (MSG_PART_MULTIPART | MSG_PART_MESSAGE))
		return false;
	return memchr(data + m->body_off, '\0', m->body_size) != NULL ||
		mime_encoding_of(msg_str(p, m->encoding)) == MIME_ENC_BINARY;
}

/* The part's header without its Content-Transfer-Encoding, the new one,
 * the empty line, then the body in base64 lines. */
static int rewrite_part(const char *data, const struct msg_part *m,
			struct buf *out)
{
	struct hdr_iter it;
	struct hdr_field f;

	hdr_iter_init(&it, data, m->hdr_off, m->hdr_size);
	while (hdr_iter_next(&it, &f)) {
		if (hdr_name_is(data, &f, "Content-Transfer-Encoding"))
			continue;
		if (buf_append(out, data + f.off, f.end - f.off) < 0 ||
		    (data[f.end - 1] != '\n' && buf_puts(out, "\r\n") < 0))
			return -1;
	}
	if (buf_puts(out, "Content-Transfer-Encoding: base64\r\n\r\n") < 0)
		return -1;
	for (uint64_t done = 0; done < m->body_size; done += B64_LINE_IN) {
		uint64_t n = m->body_size - done;

		if (n > B64_LINE_IN)
			n = B64_LINE_IN;
		if (base64_encode(out, data + m->body_off + done, (size_t)n) < 0 ||
		    buf_puts(out, "\r\n") < 0)
			return -1;
	}
	return 0;
}

int msg_binary_to_base64(const char *data, size_t size, struct buf *out)
{
	struct msg_parse *p = msg_parse(data, size);
	size_t pos = 0;
	int ret = 0;

	/* parts are in pre-order, so in file order, and a leaf holds no
	 * other part */
	for (uint32_t i = 0; i < p->nparts && ret == 0; i++) {
		const struct msg_part *m = &p->parts[i];

		if (!needs_base64(p, m, data) || m->hdr_off < pos)
			continue;
		if (buf_append(out, data + pos, (size_t)(m->hdr_off - pos)) < 0 ||
		    rewrite_part(data, m, out) < 0)
			ret = -1;
		pos = (size_t)(m->body_off + m->body_size);
	}
	if (ret == 0 && buf_append(out, data + pos, size - pos) < 0)
		ret = -1;
	msg_parse_free(&p);
	return ret;
}
