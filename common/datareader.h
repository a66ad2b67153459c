#ifndef COMMON_DATAREADER_H
#define COMMON_DATAREADER_H
#include <stdbool.h>
#include <stddef.h>

#include "common/proto.h"

/* Reads an SMTP DATA body (RFC 5321 4.1.1.4): a dot-terminated stream,
 * written to a sink as it arrives with the leading dot of each line removed
 * (4.5.2).  The end is CRLF "." CRLF only: a "." between bare LFs or a bare
 * LF and CR does not end the body (no SMTP smuggling).  Over the size cap the
 * reader stops writing but goes on to the terminator, so the session stays in
 * sync and can reject the message afterwards.  Pure: no sockets. */

struct data_reader {
	data_write_fn *sink;
	void *sink_arg;
	size_t max_size;	/* body bytes allowed */
	size_t max_line;	/* text line length incl. CRLF */
	int state;		/* private */
	size_t line_len;	/* length of the current line so far */
	size_t size;		/* body bytes seen (even past max_size) */
	bool too_big;		/* size passed max_size */
	bool long_line;		/* some line passed max_line */
	bool bare_lf;		/* an LF not preceded by CR */
	bool bare_cr;		/* a CR not followed by LF */
	bool has_nul;
	bool eight_bit;		/* a byte >= 0x80 */
	bool write_failed;	/* the sink said -1; see write_errno */
	int write_errno;
	/* A line of just "." ended in or followed a bare LF ("\n.\n",
	 * "\r\n.\n", "\n.\r\n"): a client's attempt at the terminator,
	 * taken as text (strict mode names it). */
	bool bad_end;
	int lf_dot;		/* private: after a bare LF (1), and "." (2) */
	bool done;		/* the terminator was read */
};

void dr_init(struct data_reader *dr, size_t max_size, size_t max_line,
	     data_write_fn *sink, void *sink_arg);
/* Consumes bytes up to and including the terminator.  Returns true once the
 * body is complete; *used_r says how much of data was consumed (the rest
 * belongs to the next command). */
bool dr_feed(struct data_reader *dr, const char *data, size_t len,
	     size_t *used_r);

#endif
