#ifndef MAILDIR_MESSAGE_INT_H
#define MAILDIR_MESSAGE_INT_H
/* Internals shared by message.c, header.c, envelope.c, mime.c and
 * message-cache.c.  Not an API: include message.h elsewhere. */
#include "maildir/message.h"

/* Adds s[0..len) to p's arena (NUL bytes dropped) and returns its handle;
 * NIL if the arena would pass 4 GiB. */
msg_str_t msg_strn(struct msg_parse *p, const char *s, size_t len);
msg_str_t msg_strz(struct msg_parse *p, const char *s);
/* Appends one element and returns its index (MSG_NONE past the caps of
 * the caller's choosing are checked by the callers). */
uint32_t msg_add_param(struct msg_parse *p, msg_str_t name, msg_str_t value);
uint32_t msg_add_addr(struct msg_parse *p, msg_str_t name, msg_str_t adl,
		      msg_str_t mailbox, msg_str_t host);
uint32_t msg_add_env(struct msg_parse *p);
/* An empty parse: arena holding the NIL byte, no parts. */
struct msg_parse *msg_parse_new(void);

/* Offset after the LF ending the line at pos (or end when none). */
size_t msg_line_next(const char *data, size_t pos, size_t end);
/* For a line of n bytes (line end excluded) that starts a header field,
 * the length of the name and *colon_r the offset of ':'; 0 otherwise. */
size_t hdr_field_line(const char *line, size_t n, size_t *colon_r);
/* Length of the line at data[pos .. end) without its CRLF or LF. */
size_t msg_line_len(const char *data, size_t pos, size_t end);

/* Fills part idx's content fields from its header (RFC 2045, 2183, 3282,
 * 1864, 2557); digest_child selects the message/rfc822 default of
 * multipart/digest (RFC 2046 5.1.5). */
void msg_content_headers(struct msg_parse *p, const char *data, uint32_t idx,
			 bool digest_child);
/* Parses the ENVELOPE of the header block data[off..off+len) into a new
 * envelope and returns its index. */
uint32_t msg_envelope_parse(struct msg_parse *p, const char *data,
			    size_t off, size_t len);

/* A small RFC 5322 / RFC 2045 lexer over an unfolded value. */
struct lex {
	const char *p, *end;
};
/* Skips whitespace and (nested) comments; the text of the last comment
 * goes to `comment` when not NULL. */
void lex_cfws(struct lex *l, struct buf *comment);
/* A quoted string at l->p (which must be '"'): unescaped into out. */
void lex_quoted(struct lex *l, struct buf *out);

#endif
