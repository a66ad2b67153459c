#ifndef MAILDIR_MESSAGE_H
#define MAILDIR_MESSAGE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/buf.h"

/* The message parser: header fields, the RFC 3501 ENVELOPE, and the MIME
 * tree (RFC 2045/2046) of one message held in memory (usually mmap()ed).
 *
 * Nothing here copies the message: the parse holds offsets into the caller's
 * bytes plus the few decoded strings (types, parameters, envelope fields) in
 * one string arena.  Lines may end in CRLF (as stored from the wire) or in a
 * bare LF (files from other software).  Sizes called "wire" count every bare
 * LF as CRLF, which is what IMAP reports and sends (RFC 3501 2.3.1 requires
 * CRLF); msg_wire_append() produces those bytes.
 *
 * Malformed input never fails: it yields a best-effort tree in linear time.
 * Nesting deeper than MSG_MAX_DEPTH and parts past MSG_MAX_PARTS are left
 * unparsed inside the body of the part where the cap was hit. */

#define MSG_MAX_DEPTH	32	/* multipart / message/rfc822 nesting */
#define MSG_MAX_PARTS	1000	/* parts in one message, all levels */
#define MSG_MAX_PARAMS	64	/* parameters in one Content-Type/Disposition */
#define MSG_MAX_ADDRS	1000	/* addresses in one address header */
#define MSG_NONE	UINT32_MAX

/* ---- the bytes of a message ---- */

struct msg_map {
	const char *data;	/* read-only; "" for an empty file */
	size_t size;
};

/* Maps `size` bytes of the file open on `fd` read-only (the fd may be closed
 * afterwards).  Returns 0, or -1 with a message in err_r.  The file must not
 * shrink while mapped (Maildir files never change once delivered). */
int msg_map_fd(int fd, size_t size, struct msg_map *m, char *err_r,
	       size_t errlen);
/* Unmaps what msg_map_fd mapped; safe on a zeroed or already unmapped map. */
void msg_unmap(struct msg_map *m);

/* ---- header fields (work on any header block, parsed or not) ---- */

/* One field.  Offsets are into the data given to the iterator. */
struct hdr_field {
	size_t name_off, name_len;	/* the name, without ':' or WSP before it */
	size_t value_off, value_len;	/* raw value: from after ':' to before the
					   line end of its last line; folds kept */
	size_t off, end;		/* the whole field, line ends included */
};

struct hdr_iter {
	const char *data;
	size_t pos, end;
};

/* Iterates the fields of the header block at data[off .. off+len).  The
 * block ends at the first empty line, at a line that is neither a field
 * ("name:") nor a continuation, or at off+len. */
void hdr_iter_init(struct hdr_iter *it, const char *data, size_t off,
		   size_t len);
/* true and *f set for the next field; false at the end of the block. */
bool hdr_iter_next(struct hdr_iter *it, struct hdr_field *f);
/* The first field named `name` (ASCII case-insensitive) in the block: true
 * and *f set, or false. */
bool hdr_find(const char *data, size_t off, size_t len, const char *name,
	      struct hdr_field *f);
/* true when the field's name is `name` (ASCII case-insensitive). */
bool hdr_name_is(const char *data, const struct hdr_field *f,
		 const char *name);
/* Appends the value unfolded (RFC 5322 2.2.3: line ends removed, the WSP
 * after them kept), leading and trailing WSP removed, RFC 2047 words left
 * encoded.  Returns 0, -1 when out exceeds its max. */
int hdr_unfold(const char *data, const struct hdr_field *f, struct buf *out);
/* Offset just after the header block at data[off .. off+len), its empty
 * line included when there is one: where the body starts. */
size_t hdr_block_end(const char *data, size_t off, size_t len);

/* ---- decoding to UTF-8 (for SEARCH and display) ---- */

enum mime_encoding {
	MIME_ENC_7BIT, MIME_ENC_8BIT, MIME_ENC_BINARY,
	MIME_ENC_QP, MIME_ENC_BASE64, MIME_ENC_OTHER
};

/* The encoding named by a Content-Transfer-Encoding value (NULL: 7bit). */
enum mime_encoding mime_encoding_of(const char *name);
/* Appends text (a header value) with RFC 2047 encoded words decoded and
 * everything converted to UTF-8.  Unencoded 8-bit text is taken as UTF-8
 * when valid, else as ISO-8859-1.  Invalid input becomes U+FFFD; the output
 * is always valid UTF-8.  Returns 0, -1 when out exceeds its max. */
int mime_decode_header(const char *in, size_t len, struct buf *out);
/* Appends a body decoded from its transfer encoding and converted from
 * `charset` (NULL: us-ascii) to UTF-8, invalid bytes as U+FFFD.  Charsets
 * iconv does not know are taken as ISO-8859-1.  Returns 0, -1 over max. */
int mime_decode_body(const char *in, size_t len, enum mime_encoding enc,
		     const char *charset, struct buf *out);
/* Decoding steps on their own (no charset conversion). */
int mime_decode_qp(const char *in, size_t len, bool header_q,
		   struct buf *out);
int mime_decode_base64(const char *in, size_t len, struct buf *out);
/* Appends in[0..len) converted from charset to UTF-8 as described above. */
int mime_to_utf8(const char *in, size_t len, const char *charset,
		 struct buf *out);
/* Decodes an RFC 2231 extended value ("charset'lang'%XX...", as kept in a
 * "name*" parameter) to UTF-8.  Returns 0, -1 over max. */
int mime_decode_param(const char *value, struct buf *out);

/* Appends data[0..size) to out with every part that holds a NUL byte or
 * says Content-Transfer-Encoding: binary re-encoded in base64 (its
 * Content-Transfer-Encoding field replaced), the rest unchanged
 * (binary-convert.c; RFC 3516 4.4).  0, -1 over out's max. */
int msg_binary_to_base64(const char *data, size_t size, struct buf *out);

/* RFC 5322 3.3 date-time (obsolete forms and missing parts tolerated).
 * Returns 0 with the UTC time and the zone offset in minutes, -1 if no
 * date can be made of it. */
int msg_parse_date(const char *s, size_t len, time_t *t_r, int *tz_r);

/* ---- the parsed message ---- */

/* Strings of a parse: an offset into its arena; 0 is NIL.  Use msg_str(). */
typedef uint32_t msg_str_t;

struct msg_param {
	msg_str_t name;		/* as written ("charset", "filename*") */
	msg_str_t value;	/* unquoted; NIL for a Content-Language tag */
};

/* An ENVELOPE address (RFC 3501 7.4.2).  A group start has host NIL and
 * the group name in mailbox; a group end has mailbox and host NIL. */
struct msg_addr {
	msg_str_t name, adl, mailbox, host;
};

struct msg_addr_list {
	uint32_t first, count;	/* into parse->addrs */
};

/* Strings are the raw unfolded values (RFC 2047 words left encoded); NIL
 * when the field is absent.  sender and reply_to already hold from's
 * addresses when their fields are absent or empty (RFC 3501 7.4.2). */
struct msg_envelope {
	msg_str_t date, subject, in_reply_to, message_id;
	struct msg_addr_list from, sender, reply_to, to, cc, bcc;
};

#define MSG_PART_MULTIPART	0x01	/* children are its body parts */
#define MSG_PART_MESSAGE	0x02	/* message/rfc822: one child, the
					   embedded message (also when the
					   body is encoded, as in Dovecot).
					   Missing only when a cap was hit */
#define MSG_PART_TRUNCATED	0x04	/* a cap stopped parsing inside */
#define MSG_PART_UNCLOSED	0x08	/* multipart without close delimiter */
#define MSG_PART_NO_BLANK	0x10	/* header not ended by an empty line */

/* One node of the tree.  The root (parts[0]) is the whole message; the only
 * child of a message/rfc822 part is the embedded message (header = its
 * header).  Offsets/sizes: raw bytes of the data parsed.  A multipart may
 * have no children when no delimiter was found: BODYSTRUCTURE writers then
 * emit an empty text/plain part, as Dovecot does. */
struct msg_part {
	uint32_t parent, first_child, next, nchildren;	/* MSG_NONE: none */
	uint32_t flags, depth;
	uint64_t hdr_off, hdr_size;	/* header, its empty line included */
	uint64_t body_off, body_size;	/* body (CRLF before a delimiter not
					   included, RFC 2046 5.1.1) */
	uint64_t hdr_wire, body_wire;	/* the same counted as sent by IMAP */
	uint64_t body_lines;		/* line ends (LF) in the body, as
					   Dovecot counts: "a\r\nb" is 1 */
	msg_str_t type, subtype;	/* as written; "text"/"plain" default */
	msg_str_t encoding;		/* as written; "7bit" default */
	msg_str_t id, description, md5, location;
	msg_str_t disposition;		/* the disposition type, or NIL */
	uint32_t params, nparams;	/* Content-Type params (into parse->params);
					   RFC 2231 continuations merged */
	uint32_t disp_params, ndisp_params;
	uint32_t langs, nlangs;		/* Content-Language tags (params, name) */
	uint32_t envelope;		/* root and embedded messages: index into
					   parse->envs; MSG_NONE otherwise */
};

struct msg_parse {
	struct msg_part *parts;		/* pre-order; parts[0] is the root */
	uint32_t nparts;
	struct msg_param *params;
	uint32_t nparams;
	struct msg_addr *addrs;
	uint32_t naddrs;
	struct msg_envelope *envs;
	uint32_t nenvs;
	struct buf strs;		/* the string arena */
	uint64_t size, wire_size;	/* of the whole message */
	uint32_t cap_parts, cap_params, cap_addrs, cap_envs;	/* internal */
};

/* Parses data[0..size).  Never fails; free with msg_parse_free. */
struct msg_parse *msg_parse(const char *data, size_t size);
void msg_parse_free(struct msg_parse **p);
/* The string `s` of p (NUL-terminated; NUL bytes of the message are
 * dropped from strings), or NULL for NIL.  Valid as long as p. */
const char *msg_str(const struct msg_parse *p, msg_str_t s);
/* Child number n (1-based) of part `idx`, or MSG_NONE. */
uint32_t msg_part_child(const struct msg_parse *p, uint32_t idx, uint32_t n);
/* The value of parameter `name` (case-insensitive) of part idx's
 * Content-Type, or NULL. */
const char *msg_part_param(const struct msg_parse *p, uint32_t idx,
			   const char *name);

/* ---- BODY[section] (RFC 3501 6.4.5) ---- */

enum msg_section_kind {
	MSG_SECT_BODY,		/* BODY[] or BODY[1.2]: the part's body */
	MSG_SECT_HEADER,	/* [HEADER], [1.2.HEADER] */
	MSG_SECT_TEXT,		/* [TEXT], [1.2.TEXT] */
	MSG_SECT_MIME,		/* [1.2.MIME] */
	MSG_SECT_FIELDS,	/* [HEADER.FIELDS (...)] */
	MSG_SECT_FIELDS_NOT,	/* [HEADER.FIELDS.NOT (...)] */
};

struct msg_section {
	const uint32_t *parts;		/* part numbers, each >= 1 */
	size_t nparts;			/* 0: the message itself */
	enum msg_section_kind kind;
	const char *const *fields;	/* HEADER.FIELDS names */
	size_t nfields;
};

struct msg_range {
	size_t off, len;	/* raw bytes in the message (unless built) */
	size_t wire_len;	/* octets IMAP announces and sends */
	bool built;		/* the bytes are in the caller's buf, wire form */
};

/* Finds the bytes of a section.  Returns 0 with *r set, or -1 when the
 * section does not exist (a part number past the children, HEADER/TEXT of
 * a part that is not message/rfc822, MIME without part numbers).  For the
 * FIELDS kinds the filtered header (matching fields and the final empty
 * line, CRLF line ends) is appended to `built` (which must not be NULL
 * then) and r->built is set, r->off being its offset in built. */
int msg_section_find(const struct msg_parse *p, const char *data,
		     const struct msg_section *s, struct msg_range *r,
		     struct buf *built);
/* The index of the part that section numbers name (RFC 3501 6.4.5: a
 * number after a message/rfc822 part counts in its embedded message), or
 * MSG_NONE. */
uint32_t msg_section_part(const struct msg_parse *p, const uint32_t *nums,
			  size_t n);
/* HEADER.FIELDS without a parse: appends to out the fields of the header
 * block data[off..off+len) that are named in fields[] (with `not`: that
 * are not), then the empty line, all with CRLF line ends (RFC 3501 6.4.5).
 * The block is usually data[0 .. hdr_block_end(data, 0, size)).  Returns
 * 0, -1 over out's max (out may then hold part of it). */
int msg_header_fields(const char *data, size_t off, size_t len,
		      const char *const *fields, size_t nfields, bool not,
		      struct buf *out);
/* The size of data[0..size) as sent by IMAP (RFC822.SIZE): every bare LF
 * counted as CRLF. */
uint64_t msg_wire_size(const char *data, size_t size);
/* Parses a section text like "1.2.HEADER" or "TEXT" or "" (no field list;
 * "HEADER.FIELDS" and "HEADER.FIELDS.NOT" set the kind only).  parts[] gets
 * up to maxparts numbers.  Returns 0, -1 if invalid. */
int msg_section_parse(const char *spec, size_t len, struct msg_section *s,
		      uint32_t *parts, size_t maxparts);
/* Appends data[off..off+len) in wire form (bare LF -> CRLF), skipping the
 * first `skip` wire octets and stopping after `max` (for <partial>).
 * Returns 0, -1 over out's max. */
int msg_wire_append(const char *data, size_t off, size_t len, size_t skip,
		    size_t max, struct buf *out);

/* The same in pieces, for sending a large section with back-pressure:
 * seek once to a wire offset (a <partial> start), then read chunks.  Each
 * byte is looked at once in all. */
struct msg_wire_cursor {
	size_t pos, end;	/* raw position and end in the message */
	bool lf_pending;	/* the LF of an inserted CRLF is owed */
};
/* Positions c at wire octet `skip` of data[off..off+len). */
void msg_wire_seek(struct msg_wire_cursor *c, const char *data, size_t off,
		   size_t len, size_t skip);
/* Appends up to max wire octets to out and returns how many (0: the end,
 * or out is full). */
size_t msg_wire_read(struct msg_wire_cursor *c, const char *data, size_t max,
		     struct buf *out);

/* ---- caching the parse in the index ---- */

/* Appends a compact, self-contained encoding of p to out.  Returns 0, -1
 * over out's max. */
int msg_parse_serialize(const struct msg_parse *p, struct buf *out);
/* Rebuilds a parse from msg_parse_serialize() bytes, checking every index
 * and offset (against msg_size, the message's raw size).  NULL if the bytes
 * are damaged or of another version. */
struct msg_parse *msg_parse_deserialize(const void *data, size_t len,
					uint64_t msg_size);
/* true when p is consistent for a message of msg_size raw bytes: every
 * index, string and offset in range, the tree pre-ordered, each part's
 * header right before its body, children inside their parent in order.
 * What msg_parse() builds always passes; the deserialiser checks it. */
bool msg_parse_valid(const struct msg_parse *p, uint64_t msg_size);

#endif
