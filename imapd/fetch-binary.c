/* BINARY[section-part] and BINARY.SIZE[section-part] (RFC 3516 4.2): the
 * content of a part decoded from its Content-Transfer-Encoding. */
#include <stdint.h>

#include "imapd/imap-int.h"
#include "maildir/message.h"

int imap_binary_content(const struct msg_parse *p, const char *data,
			const uint32_t *parts, size_t nparts, struct buf *out)
{
	struct buf wire = BUF_INIT(BUF_UNLIMITED);
	const struct msg_part *part;
	enum mime_encoding enc;
	uint32_t idx;
	int ret = 0;

	idx = msg_section_part(p, parts, nparts);
	if (idx == MSG_NONE)
		return -1;
	part = &p->parts[idx];
	/* RFC 2045 6.4: a multipart is never encoded; what it says is
	 * ignored */
	enc = (part->flags & MSG_PART_MULTIPART) ? MIME_ENC_BINARY :
		mime_encoding_of(msg_str(p, part->encoding));
	if (enc == MIME_ENC_OTHER)
		return -2;
	/* decoded from the wire form, so that a quoted-printable hard line
	 * break is CRLF (RFC 2045 6.7 (4)) whatever the file holds */
	if (msg_wire_append(data, part->body_off, part->body_size, 0, SIZE_MAX,
			    enc == MIME_ENC_QP || enc == MIME_ENC_BASE64 ?
			    &wire : out) < 0)
		ret = -1;
	else if (enc == MIME_ENC_QP)
		ret = mime_decode_qp(wire.data, wire.len, false, out);
	else if (enc == MIME_ENC_BASE64)
		ret = mime_decode_base64(wire.data, wire.len, out);
	buf_free(&wire);
	return ret < 0 ? -1 : 0;
}
