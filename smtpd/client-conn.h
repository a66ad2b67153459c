#ifndef SMTPD_CLIENT_CONN_H
#define SMTPD_CLIENT_CONN_H
#include <openssl/ssl.h>

#include "smtpd/client.h"
#include "smtpd/route.h"

/* One outbound SMTP connection on the server's event loop: connects to the
 * hops of a route in order until one answers, reads reply lines with the
 * one line reader (common/linereader.h), hands them to the protocol
 * (smtpd/client.h), sends what it asks, does STARTTLS with a client TLS
 * context (opportunistic: no certificate check), applies the RFC 5321
 * 4.5.3.2 timeouts and traces the dialogue (DIR/log/trace/smtp-out-ID). */

struct event_base;
struct client_conn;

struct client_conn_ops {
	/* Idle: call client_conn_send() or client_conn_quit(). */
	void (*ready)(void *arg);
	/* The transaction given to client_conn_send() has its results. */
	void (*txn_done)(void *arg);
	/* The connection is over (error NULL after a normal QUIT, else why,
	 * a 4xx-style text).  cc is freed right after this returns. */
	void (*closed)(void *arg, const char *error);
};

struct client_conn_params {
	struct event_base *base;
	SSL_CTX *tls;			/* NULL: no STARTTLS */
	const char *helo_name;
	unsigned int timeout;		/* seconds per command */
	unsigned int data_end_timeout;	/* after the final dot */
	const char *trace_dir;		/* NULL: no trace */
	const char *id;			/* session id for logs and the trace */
	/* a smart host (smtpd/route.h): TLS required, its certificate
	 * checked against the host name (tls then verifies peers:
	 * client_tls_verify_ctx_new), and AUTH (NULL: none); the strings
	 * stay the caller's while the connection lives */
	bool require_tls;
	const char *auth_user, *auth_pass;
};

/* Starts connecting (route r is copied).  Never NULL. */
struct client_conn *client_conn_new(const struct client_conn_params *p,
				    const struct route *r,
				    const struct client_conn_ops *ops,
				    void *arg);
/* Sends a transaction; its results are in t when ops->txn_done runs. */
void client_conn_send(struct client_conn *cc, struct client_txn *t);
void client_conn_quit(struct client_conn *cc);
/* The next client_conn_send begins with RSET (client_reset_next): for a
 * connection taken again after it sat idle. */
void client_conn_reset_next(struct client_conn *cc);
/* Whether the transaction under way (or the last one) got no reply at
 * all: when the connection is lost then, the server took nothing of it
 * and it may go again at once over another connection. */
bool client_conn_unanswered(const struct client_conn *cc);
/* Closes at once without ops->closed (server stop).  Any transaction's
 * results are "connection closed" (4xx).  Sets *ccp to NULL. */
void client_conn_free(struct client_conn **ccp);
/* "host[addr]:port" of the hop in use, for messages. */
const char *client_conn_peer(const struct client_conn *cc);

/* A client TLS context for opportunistic STARTTLS (TLS 1.2 minimum, no
 * certificate verification: RFC 7435 opportunistic security).  NULL on
 * failure. */
SSL_CTX *client_tls_ctx_new(void);
/* A client TLS context that verifies the server's certificate chain
 * against ca_file (NULL or "": the system's CA store), for routes that
 * require TLS.  NULL with a message in err_r. */
SSL_CTX *client_tls_verify_ctx_new(const char *ca_file, char *err_r,
				   size_t errlen);

#endif
