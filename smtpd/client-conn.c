/* One outbound SMTP connection (smtpd/client-conn.h): sockets, TLS and
 * timeouts through libevent bufferevents, as common/conn.c does for the
 * servers; the protocol itself is smtpd/client.c. */
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/linereader.h"
#include "common/log.h"
#include "common/trace.h"
#include "common/xalloc.h"
#include "smtpd/client-conn.h"

/* RFC 5321 4.5.3.1.5: a reply line is at most 512 octets; be lenient. */
#define REPLY_LINE_MAX 4096

struct client_conn {
	struct client_conn_params p;
	struct route route;
	size_t hop;			/* route.hops[hop] is in use */
	const struct client_conn_ops *ops;
	void *arg;
	struct bufferevent *bev;
	struct line_reader lr;
	struct smtp_client client;
	struct trace *trace;
	char peer[400];
	char id[32];
	bool greeted;			/* the hop answered: no fallback now */
	bool handshaking;		/* STARTTLS under way */
	bool done;			/* closed was called */
	unsigned int depth;		/* our callbacks on the stack */
};

static void set_callbacks(struct client_conn *cc);
static void finish(struct client_conn *cc, const char *error);

const char *client_conn_peer(const struct client_conn *cc)
{
	return cc->peer;
}

SSL_CTX *client_tls_ctx_new(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* RFC 7435: encrypt when possible, authenticate nobody (a check
	 * per route is for later). */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	return ctx;
}

SSL_CTX *client_tls_verify_ctx_new(const char *ca_file, char *err_r,
				   size_t errlen)
{
	SSL_CTX *ctx = client_tls_ctx_new();
	int ok;

	if (ctx == NULL) {
		snprintf(err_r, errlen, "cannot create a TLS context");
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	ok = ca_file != NULL && ca_file[0] != '\0' ?
		SSL_CTX_load_verify_locations(ctx, ca_file, NULL) :
		SSL_CTX_set_default_verify_paths(ctx);
	if (ok != 1) {
		const char *why = ERR_reason_error_string(ERR_get_error());

		snprintf(err_r, errlen, "cannot load the CA file %s: %s",
			 ca_file != NULL && ca_file[0] != '\0' ? ca_file : "(system)",
			 why != NULL ? why : "unknown error");
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* Sends what the protocol queued, tracing it, and sets the timeout for
 * the reply it now waits for (RFC 5321 4.5.3.2). */
static void flush(struct client_conn *cc)
{
	struct buf *out = &cc->client.out;
	struct timeval tv = { cc->p.timeout, 0 };
	struct timeval long_tv = { cc->p.data_end_timeout, 0 };
	size_t body = cc->client.body_from < out->len ? cc->client.body_from :
		out->len;
	const char *p = buf_cstr(out), *end = p + body;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		size_t len = n > 0 && p[n - 1] == '\r' ? n - 1 : n;
		size_t start = (size_t)(p - out->data), visible = len;
		int secret = cc->client.secret_visible;

		/* AUTH data: <redacted> (DESIGN.md rule 6) */
		if (secret >= 0 && (size_t)secret >= start &&
		    (size_t)secret <= start + len)
			visible = (size_t)secret - start;
		trace_client(cc->trace, p, len, visible);
		p += n + 1;
	}
	if (body < out->len)
		trace_note(cc->trace, "C: <message body%s, %zu bytes>",
			   cc->client.chunking ? " (BDAT)" : " and final dot",
			   out->len - body);
	cc->client.secret_visible = -1;
	cc->client.body_from = SIZE_MAX;
	if (out->len > 0 && cc->bev != NULL)
		bufferevent_write(cc->bev, out->data, out->len);
	buf_clear(out);
	if (out->cap > 1024 * 1024)
		buf_free(out);
	if (cc->bev != NULL)
		bufferevent_set_timeouts(cc->bev,
					 cc->client.long_wait ? &long_tv : &tv, &tv);
}

static void start_tls(struct client_conn *cc)
{
	const struct route_hop *h = &cc->route.hops[cc->hop];
	unsigned char bin[16];
	struct bufferevent *tls;
	SSL *ssl = SSL_new(cc->p.tls);

	if (ssl == NULL) {
		client_abort(&cc->client, "421 4.7.0 TLS setup failed");
		finish(cc, "421 4.7.0 TLS setup failed");
		return;
	}
	/* RFC 6066 3: the name, never an address */
	if (inet_pton(AF_INET, h->host, bin) != 1 &&
	    inet_pton(AF_INET6, h->host, bin) != 1) {
		SSL_set_tlsext_host_name(ssl, h->host);
		/* RFC 6125: the certificate names the host we meant */
		if (cc->p.require_tls)
			SSL_set1_host(ssl, h->host);
	} else if (cc->p.require_tls) {
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), h->host);
	}
	tls = bufferevent_openssl_filter_new(cc->p.base, cc->bev, ssl,
					     BUFFEREVENT_SSL_CONNECTING,
					     BEV_OPT_CLOSE_ON_FREE);
	if (tls == NULL) {
		SSL_free(ssl);
		client_abort(&cc->client, "421 4.7.0 TLS setup failed");
		finish(cc, "421 4.7.0 TLS setup failed");
		return;
	}
	cc->bev = tls;
	cc->handshaking = true;
	lr_reset(&cc->lr);
	trace_note(cc->trace, "TLS handshake");
	set_callbacks(cc);
}

/* Acts on what the protocol said after a reply line. */
static void handle(struct client_conn *cc, enum client_event ev)
{
	flush(cc);
	switch (ev) {
	case CE_NONE:
		break;
	case CE_TLS:
		start_tls(cc);
		break;
	case CE_TXN_DONE:
		cc->ops->txn_done(cc->arg);
		if (!cc->done && client_ready(&cc->client))
			cc->ops->ready(cc->arg);
		break;
	case CE_READY:
		cc->ops->ready(cc->arg);
		break;
	case CE_CLOSE:
		finish(cc, cc->client.error);
		break;
	}
}

/* A callback of ours is entered / left: cc is freed only when none is
 * on the stack (finish may be called deep inside one). */
static void enter(struct client_conn *cc)
{
	cc->depth++;
}

static void leave(struct client_conn *cc)
{
	if (--cc->depth == 0 && cc->done)
		free(cc);
}

static void read_lines(struct client_conn *cc, struct bufferevent *bev)
{
	struct evbuffer *in = bufferevent_get_input(bev);

	/* bev stops being ours when a handshake fails inside handle() */
	while (!cc->done && !cc->handshaking && bev == cc->bev &&
	       evbuffer_get_length(in) > 0) {
		struct evbuffer_iovec v;
		enum lr_result r;
		size_t used;

		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		r = lr_feed(&cc->lr, v.iov_base, v.iov_len, &used);
		evbuffer_drain(in, used);
		if (r == LR_OVERLONG) {
			client_abort(&cc->client, "421 4.5.0 Reply line too long");
			finish(cc, cc->client.error);
			return;
		}
		if (r != LR_LINE)
			continue;
		cc->greeted = true;
		trace_server(cc->trace, buf_cstr(&cc->lr.line), cc->lr.line.len);
		trace_server(cc->trace, "\n", 1);
		handle(cc, client_line(&cc->client, buf_cstr(&cc->lr.line),
				       cc->lr.line.len));
	}
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct client_conn *cc = arg;

	/* a bufferevent given up (after a failed handshake) may still have
	 * its bytes delivered */
	if (bev != cc->bev)
		return;
	enter(cc);
	read_lines(cc, bev);
	leave(cc);
}

static void connect_hop(struct client_conn *cc);

/* Gives up cc->bev: no callback of it may reach us afterwards (libevent
 * may still hold bytes for it, and may reuse its address). */
static void drop_bev(struct client_conn *cc)
{
	if (cc->bev == NULL)
		return;
	bufferevent_setcb(cc->bev, NULL, NULL, NULL, NULL);
	bufferevent_disable(cc->bev, EV_READ | EV_WRITE);
	bufferevent_free(cc->bev);
	cc->bev = NULL;
}

static const char *tls_error_text(unsigned long e)
{
	const char *why = ERR_reason_error_string(e);

	return why != NULL ? why : "handshake failed";
}

/* Why the peer's certificate was not accepted, or NULL. */
static const char *verify_failed(struct bufferevent *bev)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	long res = ssl != NULL ? SSL_get_verify_result(ssl) : X509_V_OK;

	return res != X509_V_OK ? X509_verify_cert_error_string(res) : NULL;
}

static void event_happened(struct client_conn *cc, struct bufferevent *bev,
			   short what)
{
	char why[512];

	if (what & BEV_EVENT_CONNECTED) {
		if (cc->handshaking) {
			cc->handshaking = false;
			trace_note(cc->trace, "TLS established: %s",
				   SSL_get_version(bufferevent_openssl_get_ssl(cc->bev)));
			client_tls_done(&cc->client);
			flush(cc);
			read_lines(cc, cc->bev);
		} else {
			trace_note(cc->trace, "connected to %s", cc->peer);
		}
		return;
	}
	/* RFC 5321 4.5.3.2 timeouts and lost connections: 4xx, the message
	 * waits for a retry */
	if (what & BEV_EVENT_TIMEOUT)
		snprintf(why, sizeof(why), "421 4.4.2 Timeout %s",
			 cc->greeted ? "waiting for a reply" : "connecting");
	else if (what & BEV_EVENT_ERROR && cc->handshaking && cc->p.require_tls &&
		 verify_failed(bev) != NULL)
		/* RFC 3463 X.7.5: the certificate the route requires is wrong */
		snprintf(why, sizeof(why), "421 4.7.5 TLS failed: certificate verify "
			 "failed: %s", verify_failed(bev));
	else if (what & BEV_EVENT_ERROR && bufferevent_get_openssl_error(bev) != 0)
		snprintf(why, sizeof(why), "421 4.7.0 TLS failed: %s",
			 tls_error_text(bufferevent_get_openssl_error(bev)));
	else if (what & BEV_EVENT_ERROR)
		snprintf(why, sizeof(why), "421 4.4.1 %s",
			 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	else
		snprintf(why, sizeof(why), "421 4.4.2 Connection closed by the server");
	trace_note(cc->trace, "%s: %s", cc->peer, why);
	log_msg("smtp-out", cc->id, "%s: %s", cc->peer, why);
	if (cc->handshaking && cc->client.txn == NULL && !cc->p.require_tls) {
		/* RFC 7435: opportunistic TLS that fails is not a reason to
		 * keep the mail back; the same host again, in the clear. */
		log_msg("smtp-out", cc->id, "%s: again without STARTTLS", cc->peer);
		trace_note(cc->trace, "again without STARTTLS");
		cc->handshaking = false;
		cc->greeted = false;
		SSL_CTX_free(cc->p.tls);	/* the reference client_conn_new took */
		cc->p.tls = NULL;
		client_free(&cc->client);
		client_init(&cc->client, cc->p.helo_name, false);
		client_set_smarthost(&cc->client, false, cc->p.auth_user,
				     cc->p.auth_pass);
		drop_bev(cc);
		connect_hop(cc);
		return;
	}
	if (!cc->greeted && cc->hop + 1 < cc->route.n_hops) {
		/* RFC 5321 5.1: try the next address. */
		cc->hop++;
		drop_bev(cc);
		connect_hop(cc);
		return;
	}
	client_abort(&cc->client, why);
	finish(cc, why);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct client_conn *cc = arg;

	if (bev != cc->bev)
		return;
	enter(cc);
	event_happened(cc, bev, what);
	leave(cc);
}

static void set_callbacks(struct client_conn *cc)
{
	bufferevent_setcb(cc->bev, on_read, NULL, on_event, cc);
	bufferevent_enable(cc->bev, EV_READ | EV_WRITE);
}

static void connect_hop(struct client_conn *cc)
{
	const struct route_hop *h = &cc->route.hops[cc->hop];
	struct sockaddr_storage ss;
	struct sockaddr_in *in = (void *)&ss;
	struct sockaddr_in6 *in6 = (void *)&ss;
	socklen_t len;
	struct timeval tv = { cc->p.timeout, 0 };

	memset(&ss, 0, sizeof(ss));
	snprintf(cc->peer, sizeof(cc->peer), strchr(h->addr, ':') ? "%s[%s]:%d" :
		 "%s[%s]:%d", h->host, h->addr, h->port);
	if (inet_pton(AF_INET, h->addr, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)h->port);
		len = sizeof(*in);
	} else {
		inet_pton(AF_INET6, h->addr, &in6->sin6_addr);
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)h->port);
		len = sizeof(*in6);
	}
	lr_reset(&cc->lr);
	cc->bev = bufferevent_socket_new(cc->p.base, -1, BEV_OPT_CLOSE_ON_FREE);
	set_callbacks(cc);
	bufferevent_set_timeouts(cc->bev, &tv, &tv);
	trace_note(cc->trace, "connecting to %s", cc->peer);
	if (bufferevent_socket_connect(cc->bev, (struct sockaddr *)&ss, (int)len) < 0) {
		/* reported through on_event on the next pass */
		log_msg("smtp-out", cc->id, "connect to %s failed at once", cc->peer);
	}
}

struct client_conn *client_conn_new(const struct client_conn_params *p,
				    const struct route *r,
				    const struct client_conn_ops *ops,
				    void *arg)
{
	struct client_conn *cc = xcalloc(1, sizeof(*cc));

	cc->p = *p;
	/* a reload may replace the runner's context while cc is open */
	if (cc->p.tls != NULL)
		SSL_CTX_up_ref(cc->p.tls);
	snprintf(cc->id, sizeof(cc->id), "%s", p->id);
	cc->p.id = cc->id;
	cc->route = *r;
	cc->ops = ops;
	cc->arg = arg;
	lr_init(&cc->lr, REPLY_LINE_MAX, true);
	client_init(&cc->client, p->helo_name, p->tls != NULL);
	client_set_smarthost(&cc->client, p->require_tls, p->auth_user,
			     p->auth_pass);
	if (p->trace_dir != NULL)
		cc->trace = trace_open(p->trace_dir, "smtp-out", cc->id);
	connect_hop(cc);
	return cc;
}

void client_conn_send(struct client_conn *cc, struct client_txn *t)
{
	enum client_event ev = client_start(&cc->client, t);

	enter(cc);
	flush(cc);
	if (ev == CE_TXN_DONE) {
		cc->ops->txn_done(cc->arg);
		if (!cc->done)
			cc->ops->ready(cc->arg);
	}
	leave(cc);
}

void client_conn_reset_next(struct client_conn *cc)
{
	client_reset_next(&cc->client);
}

bool client_conn_unanswered(const struct client_conn *cc)
{
	return !cc->client.answered;
}

void client_conn_quit(struct client_conn *cc)
{
	client_quit(&cc->client);
	flush(cc);
}

/* Frees everything but cc itself. */
static void release(struct client_conn *cc)
{
	drop_bev(cc);
	lr_free(&cc->lr);
	client_free(&cc->client);
	trace_close(&cc->trace);
	SSL_CTX_free(cc->p.tls);
	cc->p.tls = NULL;
}

static void finish(struct client_conn *cc, const char *error)
{
	if (cc->done)
		return;
	cc->done = true;
	trace_note(cc->trace, "connection closed");
	cc->ops->closed(cc->arg, error);
	release(cc);
	/* freed by leave() */
}

void client_conn_free(struct client_conn **ccp)
{
	struct client_conn *cc = *ccp;

	if (cc == NULL)
		return;
	*ccp = NULL;
	client_abort(&cc->client, "421 4.3.2 Local server shutting down");
	release(cc);
	free(cc);
}
