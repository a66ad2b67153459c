#ifndef COMMON_PROTO_H
#define COMMON_PROTO_H
#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/config.h"

/* The contract between the I/O layer (common/conn.c) and a protocol state
 * machine (smtpd/, pop3d/, imapd/).  A protocol never touches a socket: it
 * gets one complete input unit at a time through `struct protocol`, queues its
 * replies in io->out and sets the request flags below.  Unit tests drive a
 * protocol with a `struct proto_io` they own and read io->out back. */

enum input_mode {
	INPUT_LINE,	/* lines to ops->line (the default) */
	INPUT_BYTES,	/* exactly io->bytes_wanted bytes (IMAP literal, BDAT) */
	INPUT_DATA,	/* SMTP DATA: dot-stream to io->data_sink until CRLF.CRLF */
};

/* Flags that come with a line. */
#define LINE_HAS_NUL	0x01	/* a NUL byte inside the line */
#define LINE_BARE_CR	0x02	/* a CR not followed by LF */
#define LINE_BARE_LF	0x04	/* an LF not preceded by CR (only when bare LF
				   does not end lines) */
#define LINE_MORE_QUEUED 0x08	/* more client bytes had arrived behind the
				   line when it was delivered: they were sent
				   before any reply to it (pipelining) */
/* The flags that say the line's octets are wrong. */
#define LINE_BAD_OCTETS	(LINE_HAS_NUL | LINE_BARE_CR | LINE_BARE_LF)

/* Where DATA bodies and streamed literals go: returns 0, or -1 with errno
 * (ENOSPC...), after which the reader goes on to the terminator but stops
 * writing. */
typedef int data_write_fn(void *arg, const char *p, size_t n);

struct data_reader;
struct trace;
struct penalty;
struct userdb;
struct proto_io;
typedef void work_fn(void *arg);

struct proto_io {
	struct buf out;			/* queued replies; the I/O layer sends them */
	enum input_mode mode;
	size_t bytes_wanted;		/* INPUT_BYTES: how many */
	data_write_fn *bytes_sink;	/* INPUT_BYTES: stream here instead of memory */
	void *bytes_sink_arg;
	struct data_reader *data;	/* INPUT_DATA: set up by the protocol */
	size_t max_line;		/* line limit incl. CRLF for INPUT_LINE */
	bool bare_lf_ends_line;		/* else a bare LF is data (flagged) */
	unsigned int idle_timeout;	/* seconds, for the current state */

	/* requests to the I/O layer, acted on once io->out is flushed */
	bool close;			/* disconnect */
	bool starttls;			/* handshake; buffered input is discarded */
	bool compress;			/* start DEFLATE both ways (RFC 4978)
					   after the replies queued now;
					   buffered input is discarded */
	bool more_output;		/* call ops->resume_output when drained */

	/* facts the I/O layer fills in */
	bool tls;			/* the connection is encrypted */
	bool compressed;		/* DEFLATE is on (common/compress.h) */
	bool loopback;			/* the peer is on a loopback address */
	bool tls_available;		/* a certificate is loaded */
	const char *tls_version;	/* "TLSv1.3"..., NULL before TLS */
	const char *tls_cipher;
	bool early_input;		/* the client sent bytes before the
					   greeting (known at ops->open) */
	bool stopping;			/* the server is stopping: finish what
					   is under way, begin nothing new */
	char peer[64];			/* client address, text */
	char id[20];			/* session id, in logs and traces */
	enum service_id service;
	const struct config *cfg;

	/* Runs work(arg) on a worker thread, then done(arg) on the loop thread,
	 * with no input delivered in between.  Set by the owner: conn.c uses the
	 * worker pool, unit tests run both at once. */
	void (*defer)(struct proto_io *io, work_fn *work, work_fn *done, void *arg);
	/* The same, for work that holds a lock other sessions' work may wait
	 * for (common/worker.h, worker_submit_holding). */
	void (*defer_holding)(struct proto_io *io, work_fn *work, work_fn *done,
			      void *arg);
	/* Runs done(arg) on the loop thread after `ms` milliseconds, with no
	 * input delivered in between (the delay after a failed login).  Unit
	 * tests run it at once. */
	void (*after)(struct proto_io *io, unsigned int ms, work_fn *done, void *arg);
	/* Calls ready(arg) on the loop thread each time fd is readable, until
	 * the server stops: for a source shared by every session of the
	 * process (the store's change notification), not for one session.
	 * An fd already watched is not watched twice.  NULL in unit tests,
	 * which call the ready function themselves. */
	void (*watch_fd)(struct proto_io *io, int fd, work_fn *ready, void *arg);
	/* Work handed to defer, defer_holding or after whose done has not
	 * been called yet (conn.c; a done callback does not count itself).
	 * While it is not 0 a worker may be using the session: the loop may
	 * not read what workers write.  Always 0 in unit tests. */
	unsigned int jobs_out;
	void *owner;
	struct userdb *users;		/* the user database (common/users.h) */
	/* The session's protocol trace (common/trace.h) for events only the
	 * protocol knows (a login), or NULL; the I/O layer writes the lines. */
	struct trace *trace;
	/* Authentication failures across connections (common/penalty.h),
	 * owned by the server; NULL: counted per session only. */
	struct penalty *penalty;
};

struct protocol {
	const char *name;		/* "smtp", "pop3", "imap" */
	/* A new session: queue the greeting.  Returns the session. */
	void *(*open)(struct proto_io *io);
	void (*line)(void *sess, const char *line, size_t len, unsigned flags);
	/* A line passed io->max_line; the rest of it was skipped. */
	void (*overlong)(void *sess);
	void (*bytes)(void *sess, const char *data, size_t len);
	void (*data_end)(void *sess);
	void (*tls_done)(void *sess);	/* the STARTTLS handshake succeeded */
	void (*timeout)(void *sess);	/* idle too long: queue a reply, close */
	void (*shutdown)(void *sess);	/* the server is stopping: say so, close */
	/* The I/O layer refuses the client's input (a compressed stream that
	 * is invalid or inflates absurdly): queue a farewell naming why; the
	 * connection closes after it.  NULL for a protocol that never asks
	 * for io->compress. */
	void (*input_refused)(void *sess, const char *why);
	void (*resume_output)(void *sess);
	/* How many leading bytes of a client line the trace may show; the rest
	 * becomes <redacted>.  NULL: all of it. */
	size_t (*trace_visible)(void *sess, const char *line, size_t len);
	/* The reply to a connection refused for being over a limit. */
	const char *busy_reply;
	void (*close)(void *sess);	/* free everything */
};

/* Queue a reply (printf-style); the CRLF is the caller's. */
void io_printf(struct proto_io *io, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void io_write(struct proto_io *io, const void *p, size_t n);
/* Sets io up for a unit test: defaults from cfg, synchronous defer. */
void io_init_test(struct proto_io *io, const struct config *cfg,
		  enum service_id svc);
void io_free(struct proto_io *io);

#endif
