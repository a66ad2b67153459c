#ifndef SMTPD_BODY_H
#define SMTPD_BODY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/buf.h"
#include "common/proto.h"

/* The sink between the DATA reader (or BDAT chunks) and the delivery.  It
 * holds back the message's header block (up to BODY_HEAD_MAX) so that the
 * trace fields (Return-Path, Received) and, on submission, a missing Date
 * or Message-ID (RFC 6409 8.2, 8.3) are written in front of it, then
 * passes everything through.  With normalize_lf it stores a bare LF as
 * CRLF.  For BDAT, which has no data reader, it also notes bare LF/CR, NUL
 * and over-long lines.  With keep_header the header block stays in
 * `header` after the message (for the submission From: check). */

#define BODY_HEAD_MAX (64 * 1024)
#define BODY_MSGID_MAX 250

struct smtp_body {
	data_write_fn *sink;	/* the delivery's write function */
	void *sink_arg;
	struct buf prefix;	/* trace fields, written before the header */
	struct buf head;	/* the header block held back */
	bool head_done;		/* flushed: pass the rest through */
	int head_state;		/* private: where in a line the scan is */
	bool add_date_msgid;	/* submission: add Date/Message-ID if absent */
	bool has_date;
	bool has_from;
	bool has_msgid;
	char msgid[BODY_MSGID_MAX + 1];	/* Message-ID value, seen or made */
	const char *hostname;	/* right side of a generated Message-ID */
	const char *id;		/* unique left side of it (session.seq) */
	bool normalize_lf;	/* store a bare LF as CRLF */
	bool prev_cr;		/* private: the last byte taken was CR */
	bool keep_header;	/* keep the header block once flushed */
	struct buf header;	/* ... here, when it was held whole */
	bool header_too_big;	/* it was not: passed on unscanned */
	bool failed;		/* the sink said -1 */
	int error;		/* its errno */
	uint64_t size;		/* client bytes taken (without the prefix) */

	/* line checks, for BDAT (check_lines) */
	bool check_lines;
	size_t max_line;
	size_t line_len;
	size_t longest_line;	/* octets of the longest line, its end included */
	bool last_cr;
	bool long_line, bare_lf, bare_cr, has_nul, eight_bit;
};

/* Starts a body going to sink; prefix is copied. */
void smtp_body_init(struct smtp_body *b, data_write_fn *sink, void *sink_arg,
		    const char *prefix, size_t prefix_len);
void smtp_body_free(struct smtp_body *b);
/* A data_write_fn: arg is the struct smtp_body.  0, or -1 once the sink
 * has failed (errno set). */
int smtp_body_write(void *arg, const char *p, size_t n);
/* End of the message: flushes what is still held back.  0, or -1 when the
 * sink failed at any point (errno set). */
int smtp_body_finish(struct smtp_body *b);

/* Appends an RFC 5322 3.3 date-time for t in UTC ("Mon, 23 Nov 2026
 * 04:00:00 +0000"), independent of the locale. */
void smtp_rfc5322_date(struct buf *out, time_t t);

#endif
