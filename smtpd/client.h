#ifndef SMTPD_CLIENT_H
#define SMTPD_CLIENT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* The relay client's protocol (RFC 5321 as a client, with EHLO/HELO,
 * STARTTLS (RFC 3207), PIPELINING (RFC 2920), SIZE (RFC 1870), 8BITMIME
 * (RFC 6152) and SMTPUTF8 (RFC 6531)), with no socket: the I/O layer
 * (smtpd/client-conn.c) feeds it one reply line at a time and sends what
 * it queues in c->out; unit tests do the same with scripted replies.
 *
 *   client_init(&c, "a.example", tls_possible);
 *   loop: ev = client_line(&c, line, len);  send c.out; act on ev:
 *     CE_READY     idle: client_start(&c, &txn) or client_quit(&c)
 *     CE_TLS       start the TLS handshake now (c.out is empty), then
 *                  client_tls_done(&c)
 *     CE_TXN_DONE  txn's results are final; when client_ready() the next
 *                  transaction may start (else CE_READY follows)
 *     CE_CLOSE     the session is over: close (c.error says why when it
 *                  failed; any transaction's results are final)
 *   connection lost or timed out: client_abort(&c, "why")
 */

enum client_event {
	CE_NONE,	/* nothing to do but send c->out and read on */
	CE_READY,
	CE_TLS,
	CE_TXN_DONE,
	CE_CLOSE,
};

/* One recipient's outcome. */
struct client_result {
	int code;		/* the reply's code (2xx done, 4xx retry, 5xx
				   failed); 0 while unknown */
	char *text;		/* the reply (or a local reason), one line */
};

/* A message to send: the caller owns everything and keeps it valid until
 * CE_TXN_DONE or CE_CLOSE. */
struct client_txn {
	const char *sender;		/* reverse-path mailbox, "" for <> */
	const char *const *rcpts;	/* forward-path mailboxes */
	size_t n_rcpts;
	const char *body;		/* the message, CRLF line ends, not stuffed */
	size_t body_len;
	bool body_8bit;			/* needs 8BITMIME */
	bool smtputf8;			/* needs SMTPUTF8 */
	/* RFC 3461 parameters, relayed when the server offers DSN (each
	 * may be NULL, and so may the arrays) */
	const char *ret, *envid;
	const char *const *notify;	/* n_rcpts of them */
	const char *const *orcpt;
	struct client_result *results;	/* n_rcpts of them, filled in */
	/* filled in: the server offered DSN, so the parameters went on and
	 * success is the next hop's to report (RFC 3461 5.2.2) */
	bool peer_dsn;
};

enum client_step {
	CL_GREETING, CL_EHLO, CL_HELO, CL_STARTTLS, CL_TLS,
	CL_AUTH, CL_AUTH_USER, CL_AUTH_PASS, CL_READY,
	CL_MAIL, CL_RCPT, CL_DATA, CL_DOT, CL_RSET, CL_QUIT, CL_CLOSED,
	CL_TXN_RSET,	/* the RSET a transaction begins with (client_reset_next) */
};

struct smtp_client {
	const char *helo_name;	/* ours, for EHLO/HELO */
	bool tls_possible;	/* the I/O layer can do STARTTLS */
	/* a smart host (client_set_smarthost): no session without TLS, and
	 * AUTH with these credentials (NULL: none) */
	bool require_tls;
	const char *auth_user, *auth_pass;
	/* the bytes of c->out after the first `secret_visible` are a secret
	 * (AUTH data): the trace shows <redacted>; -1: nothing secret */
	int secret_visible;
	/* c->out from this offset on is message content (the trace shows
	 * its size); SIZE_MAX: none */
	size_t body_from;
	bool tls;		/* the connection is encrypted */
	enum client_step step;	/* the reply it waits for */
	struct buf out;		/* commands (and body) to send */
	bool long_wait;		/* waiting for the final dot's reply: use the
				   longer timeout (RFC 5321 4.5.3.2.6) */
	char *error;		/* why the session failed, or NULL */
	int error_code;		/* 4xx or 5xx class of that failure */

	/* what the server offered (EHLO keywords) */
	bool esmtp, pipelining, starttls, eightbitmime, smtputf8, size, dsn;
	bool auth_plain, auth_login;	/* AUTH mechanisms (RFC 4954) */
	bool chunking;			/* CHUNKING (RFC 3030): BDAT */
	uint64_t max_size;	/* SIZE n; 0: none announced */

	/* the reply being read (multi-line, RFC 5321 4.2.1) */
	struct buf reply;
	int reply_code;

	/* the transaction */
	struct client_txn *txn;
	size_t rcpt_next;	/* next RCPT to send (no pipelining) */
	size_t rcpt_replied;	/* RCPT replies read */
	size_t accepted;	/* recipients that got 2xx to RCPT */
	bool mail_ok;
	bool reset_next;	/* the next transaction begins with RSET */
	bool answered;		/* the transaction got a reply (other than
				   a refused RSET it began with) */
};

void client_init(struct smtp_client *c, const char *helo_name,
		 bool tls_possible);
void client_free(struct smtp_client *c);
/* For a smart host (after client_init): TLS required (STARTTLS refused
 * or not offered ends the session, 4xx), and AUTH PLAIN (else LOGIN)
 * with user and pass (kept by the caller; NULL: no AUTH) once encrypted;
 * a password never goes over a connection without TLS. */
void client_set_smarthost(struct smtp_client *c, bool require_tls,
			  const char *user, const char *pass);
/* One line from the server, without its CRLF. */
enum client_event client_line(struct smtp_client *c, const char *line,
			      size_t len);
/* The STARTTLS handshake succeeded: EHLO again (RFC 3207 4.2). */
void client_tls_done(struct smtp_client *c);
/* Starts a transaction (only after CE_READY or CE_TXN_DONE).  Returns
 * CE_TXN_DONE when it ends at once (the server cannot take the message:
 * SIZE, 8BITMIME, SMTPUTF8), else CE_NONE. */
enum client_event client_start(struct smtp_client *c, struct client_txn *t);
/* The next transaction begins with RSET (RFC 5321 4.1.1.5), pipelined
 * with MAIL when the server offers PIPELINING (RFC 2920 3.1): for a
 * connection that sat idle, it checks the session is still there before
 * the message goes.  A refused RSET ends the session (4xx results). */
void client_reset_next(struct smtp_client *c);
/* Whether a transaction may start now. */
bool client_ready(const struct smtp_client *c);
/* Says QUIT (RFC 5321 4.1.1.10). */
void client_quit(struct smtp_client *c);
/* The connection is gone: every recipient without a result gets a 4xx
 * result with `why`, and the session is closed. */
void client_abort(struct smtp_client *c, const char *why);

/* Appends body[0..len) to out as DATA content (RFC 5321 4.5.2): a '.'
 * that starts a line gets another, a bare LF becomes CRLF, and the
 * terminator CRLF "." CRLF follows (with a CRLF first when the body does
 * not end with one). */
void client_dot_stuff(const char *body, size_t len, struct buf *out);

#endif
