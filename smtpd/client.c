/* The relay client's protocol state machine (smtpd/client.h): replies in,
 * commands out, no socket. */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/base64.h"
#include "common/dotstuff.h"
#include "common/xalloc.h"
#include "smtpd/client.h"

/* A reply text longer than this is cut (it only goes into logs and the
 * queue's last error). */
#define REPLY_TEXT_MAX 2048

static const char *const step_names[] = {
	[CL_GREETING] = "the greeting", [CL_EHLO] = "EHLO", [CL_HELO] = "HELO",
	[CL_STARTTLS] = "STARTTLS", [CL_TLS] = "the TLS handshake",
	[CL_AUTH] = "AUTH", [CL_AUTH_USER] = "AUTH LOGIN",
	[CL_AUTH_PASS] = "the AUTH LOGIN user name",
	[CL_READY] = "nothing", [CL_MAIL] = "MAIL FROM", [CL_RCPT] = "RCPT TO",
	[CL_DATA] = "DATA", [CL_DOT] = "end of data", [CL_RSET] = "RSET",
	[CL_QUIT] = "QUIT", [CL_CLOSED] = "nothing", [CL_TXN_RSET] = "RSET",
};

void client_init(struct smtp_client *c, const char *helo_name,
		 bool tls_possible)
{
	memset(c, 0, sizeof(*c));
	c->helo_name = helo_name;
	c->tls_possible = tls_possible;
	c->step = CL_GREETING;
	c->secret_visible = -1;
	c->body_from = SIZE_MAX;
	buf_init(&c->out, BUF_UNLIMITED);
	buf_init(&c->reply, REPLY_TEXT_MAX);
}

void client_set_smarthost(struct smtp_client *c, bool require_tls,
			  const char *user, const char *pass)
{
	c->require_tls = require_tls;
	c->auth_user = user;
	c->auth_pass = pass;
}

void client_free(struct smtp_client *c)
{
	buf_free(&c->out);
	buf_free(&c->reply);
	free(c->error);
	c->error = NULL;
}

void client_dot_stuff(const char *body, size_t len, struct buf *out)
{
	struct dot_writer w;

	/* A bare LF goes out as CRLF (RFC 5321 2.3.8), so a "." between two
	 * bare LFs is a line of its own and is stuffed like any other. */
	dot_writer_init(&w, body, len, true, -1);
	while (!dot_writer_write(&w, out, 64 * 1024))
		;
}

/* "550 5.1.1 text (in reply to RCPT TO)" for the reply just read. */
static char *reply_summary(const struct smtp_client *c, enum client_step step)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);

	buf_printf(&b, "%d %s (in reply to %s)", c->reply_code, buf_cstr(&c->reply),
		   step_names[step]);
	return buf_steal(&b);
}

static void set_result(struct client_result *r, int code, const char *text)
{
	free(r->text);
	r->code = code;
	r->text = xstrdup(text);
}

/* Every recipient of the transaction without a final result gets this
 * one; with `all`, also those that were accepted at RCPT. */
static void fail_rest(struct smtp_client *c, int code, const char *text,
		      bool all)
{
	struct client_txn *t = c->txn;

	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n_rcpts; i++) {
		struct client_result *r = &t->results[i];

		if (r->code == 0 || (all && r->code < 300)) {
			free(r->text);
			r->code = code;
			r->text = xstrdup(text);
		}
	}
}

static void fail_session(struct smtp_client *c, int code, const char *text)
{
	if (c->error == NULL) {
		c->error = xstrdup(text);
		c->error_code = code >= 500 ? 500 : 400;
	}
	/* A session that fails leaves the message for a later try. */
	fail_rest(c, code >= 400 && code < 500 ? code : 451, text, true);
}

static void send_cmd(struct smtp_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void send_cmd(struct smtp_client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&c->out, fmt, ap);
	va_end(ap);
	buf_puts(&c->out, "\r\n");
}

/* --- the reply reader (RFC 5321 4.2.1) --- */

/* -1 malformed, 0 a continuation line taken, 1 the reply is complete. */
static int take_line(struct smtp_client *c, const char *line, size_t len)
{
	int code;

	if (len < 3 || !isdigit((unsigned char)line[0]) ||
	    !isdigit((unsigned char)line[1]) || !isdigit((unsigned char)line[2]) ||
	    line[0] < '2' || line[0] > '5' || (len > 3 && line[3] != ' ' && line[3] != '-'))
		return -1;
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (c->reply_code == 0)
		c->reply_code = code;
	else if (code != c->reply_code)
		return -1;
	if (c->reply.len > 0)
		buf_putc(&c->reply, '\n');
	if (len > 4) {
		size_t room = c->reply.max - c->reply.len;

		buf_append(&c->reply, line + 4, len - 4 < room ? len - 4 : room);
	}
	return len > 3 && line[3] == '-' ? 0 : 1;
}

/* --- EHLO --- */

static void parse_ehlo(struct smtp_client *c)
{
	const char *p = buf_cstr(&c->reply);

	c->esmtp = true;
	c->pipelining = c->starttls = c->eightbitmime = c->smtputf8 = false;
	c->size = c->dsn = c->auth_plain = c->auth_login = c->chunking = false;
	c->max_size = 0;
	/* The first line is the greeting part (RFC 5321 4.1.1.1). */
	p = strchr(p, '\n');
	while (p != NULL) {
		const char *kw = p + 1, *end = strchr(kw, '\n');
		size_t len = end != NULL ? (size_t)(end - kw) : strlen(kw);
		size_t wlen = strcspn(kw, " \n");

#define KW(s) (wlen == strlen(s) && strncasecmp(kw, s, wlen) == 0)
		if (KW("PIPELINING"))
			c->pipelining = true;
		else if (KW("STARTTLS"))
			c->starttls = true;
		else if (KW("8BITMIME"))
			c->eightbitmime = true;
		else if (KW("SMTPUTF8"))
			c->smtputf8 = true;
		else if (KW("DSN"))
			c->dsn = true;
		else if (KW("CHUNKING"))
			c->chunking = true;
		else if (KW("AUTH")) {
			/* RFC 4954 3: AUTH SP mechanisms, space-separated */
			for (const char *m = kw + wlen; m < kw + len; ) {
				size_t mlen;

				m += strspn(m, " ");
				mlen = strcspn(m, " \n");
				if (mlen == 5 && strncasecmp(m, "PLAIN", 5) == 0)
					c->auth_plain = true;
				else if (mlen == 5 && strncasecmp(m, "LOGIN", 5) == 0)
					c->auth_login = true;
				m += mlen;
			}
		}
		else if (KW("SIZE")) {
			/* RFC 1870 4: "SIZE" [SP number], 0 or none: no limit. */
			c->size = true;
			if (len > 5)
				c->max_size = strtoull(kw + 5, NULL, 10);
		}
#undef KW
		p = end;
	}
}

static void say_ehlo(struct smtp_client *c)
{
	c->step = CL_EHLO;
	send_cmd(c, "EHLO %s", c->helo_name);
}

/* The secret part of a command: base64 of data, traced as <redacted>. */
static void send_secret(struct smtp_client *c, const char *prefix,
			const void *data, size_t len)
{
	c->secret_visible = (int)(c->out.len + strlen(prefix));
	buf_puts(&c->out, prefix);
	base64_encode(&c->out, data, len);
	buf_puts(&c->out, "\r\n");
}

/* A smart host's session cannot go on: 4xx, the mail waits. */
static enum client_event refuse_session(struct smtp_client *c, const char *why)
{
	fail_session(c, 454, why);
	client_quit(c);
	return CE_NONE;
}

/* Encrypted (or not: opportunistic): AUTH when the route has it. */
static enum client_event after_tls(struct smtp_client *c)
{
	struct buf plain = BUF_INIT(BUF_UNLIMITED);

	if (c->require_tls && !c->tls)
		/* RFC 3207 4.1, RFC 3463 5.7.10 in its 4xx form */
		return refuse_session(c, "454 4.7.10 TLS is required for this route "
				      "and the server did not start it");
	if (c->auth_user == NULL) {
		c->step = CL_READY;
		return CE_READY;
	}
	if (!c->tls)
		return refuse_session(c, "454 4.7.0 Not sending the password over "
				      "a connection without TLS");
	if (c->auth_plain) {
		/* RFC 4616 2: authzid NUL authcid NUL passwd */
		buf_putc(&plain, '\0');
		buf_puts(&plain, c->auth_user);
		buf_putc(&plain, '\0');
		buf_puts(&plain, c->auth_pass);
		send_secret(c, "AUTH PLAIN ", plain.data, plain.len);
		buf_free(&plain);
		c->step = CL_AUTH;
		return CE_NONE;
	}
	if (c->auth_login) {
		c->step = CL_AUTH_USER;
		send_cmd(c, "AUTH LOGIN");
		return CE_NONE;
	}
	return refuse_session(c, "454 4.7.0 The server offers neither AUTH PLAIN "
			      "nor AUTH LOGIN");
}

/* Replies during AUTH (RFC 4954 4): 334 asks for the next part, 235 is
 * success; anything else ends the session (the mail waits). */
static enum client_event on_auth(struct smtp_client *c)
{
	char *why;

	if (c->step == CL_AUTH && c->reply_code == 235) {
		c->step = CL_READY;
		return CE_READY;
	}
	if (c->step != CL_AUTH && c->reply_code == 334) {
		const char *secret = c->step == CL_AUTH_USER ? c->auth_user :
			c->auth_pass;

		send_secret(c, "", secret, strlen(secret));
		c->step = c->step == CL_AUTH_USER ? CL_AUTH_PASS : CL_AUTH;
		return CE_NONE;
	}
	why = reply_summary(c, c->step);
	refuse_session(c, why);
	free(why);
	return CE_NONE;
}

static enum client_event on_ehlo(struct smtp_client *c)
{
	int cls = c->reply_code / 100;

	if (c->step == CL_EHLO && cls == 5) {
		/* RFC 5321 3.2: a server without extensions; try HELO. */
		c->step = CL_HELO;
		send_cmd(c, "HELO %s", c->helo_name);
		return CE_NONE;
	}
	if (cls != 2) {
		char *why = reply_summary(c, c->step);

		fail_session(c, c->reply_code, why);
		free(why);
		client_quit(c);
		return CE_NONE;
	}
	if (c->step == CL_EHLO)
		parse_ehlo(c);
	else
		c->esmtp = false;
	if (c->starttls && c->tls_possible && !c->tls) {
		/* RFC 3207: opportunistic, when the server offers it. */
		c->step = CL_STARTTLS;
		send_cmd(c, "STARTTLS");
		return CE_NONE;
	}
	return after_tls(c);
}

void client_tls_done(struct smtp_client *c)
{
	c->tls = true;
	/* RFC 3207 4.2: forget what was learned before; EHLO again. */
	say_ehlo(c);
}

/* --- the transaction --- */

static void send_mail(struct smtp_client *c)
{
	struct client_txn *t = c->txn;

	t->peer_dsn = c->dsn;
	buf_printf(&c->out, "MAIL FROM:<%s>", t->sender);
	if (c->size)
		buf_printf(&c->out, " SIZE=%zu", t->body_len);
	if (t->body_8bit && c->eightbitmime)
		buf_puts(&c->out, " BODY=8BITMIME");
	if (t->smtputf8 && c->smtputf8)
		buf_puts(&c->out, " SMTPUTF8");
	/* RFC 3461 4.3, 4.4: passed on to a server that takes them */
	if (c->dsn && t->ret != NULL)
		buf_printf(&c->out, " RET=%s", t->ret);
	if (c->dsn && t->envid != NULL)
		buf_printf(&c->out, " ENVID=%s", t->envid);
	buf_puts(&c->out, "\r\n");
}

static void send_rcpt(struct smtp_client *c)
{
	const struct client_txn *t = c->txn;
	size_t i = c->rcpt_next++;

	buf_printf(&c->out, "RCPT TO:<%s>", t->rcpts[i]);
	/* RFC 3461 4.1, 4.2 */
	if (c->dsn && t->notify != NULL && t->notify[i] != NULL)
		buf_printf(&c->out, " NOTIFY=%s", t->notify[i]);
	if (c->dsn && t->orcpt != NULL && t->orcpt[i] != NULL)
		buf_printf(&c->out, " ORCPT=%s", t->orcpt[i]);
	buf_puts(&c->out, "\r\n");
}

/* RFC 3030 2: the whole message as one last chunk, as it is (no dot
 * stuffing: BDAT counts octets); the reply is read as the final dot's. */
static void send_bdat(struct smtp_client *c)
{
	const struct client_txn *t = c->txn;

	buf_printf(&c->out, "BDAT %zu LAST\r\n", t->body_len);
	c->body_from = c->out.len;
	buf_append(&c->out, t->body, t->body_len);
}

/* Why the server cannot take this message at all, or NULL. */
static const char *cannot_take(const struct smtp_client *c, int *code_r)
{
	const struct client_txn *t = c->txn;

	*code_r = 552;
	if (c->max_size > 0 && t->body_len > c->max_size)
		/* RFC 1870 6.1 */
		return "552 5.3.4 Message too big for the next hop (its SIZE limit is smaller)";
	*code_r = 554;
	if (t->body_8bit && !c->eightbitmime)
		/* RFC 6152 3: no 8-bit data to a server without 8BITMIME */
		return "554 5.6.3 The next hop does not accept 8-bit message data (no 8BITMIME)";
	*code_r = 553;
	if (t->smtputf8 && !c->smtputf8)
		/* RFC 6531 3.2 */
		return "553 5.6.7 The next hop does not support SMTPUTF8";
	return NULL;
}

enum client_event client_start(struct smtp_client *c, struct client_txn *t)
{
	const char *why;
	int code;

	c->txn = t;
	c->rcpt_next = c->rcpt_replied = c->accepted = 0;
	c->mail_ok = false;
	c->answered = false;
	for (size_t i = 0; i < t->n_rcpts; i++) {
		t->results[i].code = 0;
		t->results[i].text = NULL;
	}
	if ((why = cannot_take(c, &code)) != NULL) {
		fail_rest(c, code, why, true);
		c->txn = NULL;
		return CE_TXN_DONE;
	}
	c->step = CL_MAIL;
	if (c->reset_next) {
		c->reset_next = false;
		c->step = CL_TXN_RSET;
		send_cmd(c, "RSET");
		if (!c->pipelining)
			return CE_NONE;		/* MAIL after its reply */
	}
	send_mail(c);
	if (c->pipelining) {
		/* RFC 2920 3.1: MAIL, every RCPT and DATA in one go. */
		while (c->rcpt_next < t->n_rcpts)
			send_rcpt(c);
		/* RFC 3030 4.2: BDAT may be pipelined after the RCPTs; the
		 * server reads the chunk even when no recipient is left */
		if (c->chunking)
			send_bdat(c);
		else
			send_cmd(c, "DATA");
	}
	return CE_NONE;
}

/* The transaction is over: RSET when it did not end at the dot, so the
 * connection can take the next one (RFC 5321 4.1.1.5). */
static enum client_event txn_over(struct smtp_client *c, bool reset)
{
	c->txn = NULL;
	if (reset) {
		c->step = CL_RSET;
		send_cmd(c, "RSET");
		return CE_TXN_DONE;
	}
	c->step = CL_READY;
	return CE_TXN_DONE;
}

static enum client_event on_mail(struct smtp_client *c)
{
	char *why;

	if (c->reply_code / 100 == 2) {
		c->mail_ok = true;
		c->step = CL_RCPT;
		if (!c->pipelining)
			send_rcpt(c);
		return CE_NONE;
	}
	why = reply_summary(c, CL_MAIL);
	fail_rest(c, c->reply_code, why, true);
	free(why);
	if (c->pipelining) {
		/* The RCPT and DATA replies are still to come (they fail). */
		c->step = CL_RCPT;
		return CE_NONE;
	}
	return txn_over(c, true);
}

static enum client_event on_rcpt(struct smtp_client *c)
{
	struct client_txn *t = c->txn;
	char *why = reply_summary(c, CL_RCPT);
	size_t i = c->rcpt_replied++;

	if (c->mail_ok) {
		set_result(&t->results[i], c->reply_code, why);
		if (c->reply_code / 100 == 2)
			c->accepted++;
	}
	free(why);
	if (c->rcpt_replied < t->n_rcpts) {
		if (!c->pipelining)
			send_rcpt(c);
		return CE_NONE;
	}
	c->step = c->chunking ? CL_DOT : CL_DATA;
	c->long_wait = c->chunking;
	if (c->pipelining)
		return CE_NONE;
	if (c->accepted == 0)
		return txn_over(c, true);
	if (c->chunking)
		send_bdat(c);
	else
		send_cmd(c, "DATA");
	return CE_NONE;
}

static enum client_event on_data(struct smtp_client *c)
{
	char *why;

	if (c->reply_code == 354) {
		c->step = CL_DOT;
		c->long_wait = true;
		if (c->accepted == 0 || !c->mail_ok) {
			/* RFC 2920 3.1: DATA accepted with no recipient: send
			 * an empty message, which goes nowhere. */
			buf_puts(&c->out, ".\r\n");
			return CE_NONE;
		}
		c->body_from = c->out.len;
		client_dot_stuff(c->txn->body, c->txn->body_len, &c->out);
		return CE_NONE;
	}
	why = reply_summary(c, CL_DATA);
	if (c->mail_ok)
		fail_rest(c, c->reply_code, why, true);
	free(why);
	return txn_over(c, true);
}

static enum client_event on_dot(struct smtp_client *c)
{
	struct client_txn *t = c->txn;
	char *why = reply_summary(c, CL_DOT);

	c->long_wait = false;
	if (c->mail_ok && c->accepted > 0)
		/* RFC 5321 4.1.1.4: one reply for every accepted recipient. */
		for (size_t i = 0; i < t->n_rcpts; i++)
			if (t->results[i].code / 100 == 2) {
				free(t->results[i].text);
				t->results[i].code = c->reply_code;
				t->results[i].text = xstrdup(why);
			}
	free(why);
	/* a refused BDAT may leave the server's transaction open */
	return txn_over(c, c->chunking && c->reply_code / 100 != 2);
}

static enum client_event session_lost(struct smtp_client *c, const char *why);

void client_reset_next(struct smtp_client *c)
{
	c->reset_next = true;
}

/* The RSET a transaction began with: 2xx, on to MAIL (sent with it when
 * pipelining); anything else, the session cannot be trusted. */
static enum client_event on_txn_rset(struct smtp_client *c)
{
	char *why;
	enum client_event ev;

	if (c->reply_code / 100 == 2) {
		c->step = CL_MAIL;
		if (!c->pipelining)
			send_mail(c);
		return CE_NONE;
	}
	/* BDAT pipelined after it carried the message: the server may
	 * have taken it, so it is not unanswered */
	if (c->pipelining && c->chunking)
		c->answered = true;
	why = reply_summary(c, CL_TXN_RSET);
	ev = session_lost(c, why);
	free(why);
	return ev;
}

bool client_ready(const struct smtp_client *c)
{
	return c->step == CL_READY;
}

void client_quit(struct smtp_client *c)
{
	c->step = CL_QUIT;
	send_cmd(c, "QUIT");
}

void client_abort(struct smtp_client *c, const char *why)
{
	fail_session(c, 421, why);
	c->txn = NULL;
	c->step = CL_CLOSED;
}

/* A reply to a step that ends the session when it is 421 (RFC 5321 3.8)
 * or that cannot be understood. */
static enum client_event session_lost(struct smtp_client *c, const char *why)
{
	fail_session(c, 421, why);
	c->txn = NULL;
	c->step = CL_CLOSED;
	return CE_CLOSE;
}

static enum client_event on_reply(struct smtp_client *c)
{
	char *why;
	enum client_event ev = CE_NONE;

	if (c->reply_code == 421 && c->step != CL_QUIT) {
		why = reply_summary(c, c->step);
		ev = session_lost(c, why);
		free(why);
		return ev;
	}
	switch (c->step) {
	case CL_GREETING:
		if (c->reply_code / 100 == 2) {
			say_ehlo(c);
			break;
		}
		why = reply_summary(c, CL_GREETING);
		fail_session(c, c->reply_code, why);
		free(why);
		client_quit(c);
		break;
	case CL_EHLO:
	case CL_HELO:
		return on_ehlo(c);
	case CL_STARTTLS:
		if (c->reply_code == 220) {
			c->step = CL_TLS;
			return CE_TLS;
		}
		/* RFC 3207 4: go on without TLS (not to a smart host that
		 * requires it) */
		return after_tls(c);
	case CL_AUTH:
	case CL_AUTH_USER:
	case CL_AUTH_PASS:
		return on_auth(c);
	case CL_MAIL:
		return on_mail(c);
	case CL_RCPT:
		return on_rcpt(c);
	case CL_DATA:
		return on_data(c);
	case CL_DOT:
		return on_dot(c);
	case CL_TXN_RSET:
		return on_txn_rset(c);
	case CL_RSET:
		if (c->reply_code / 100 != 2) {
			client_quit(c);
			break;
		}
		c->step = CL_READY;
		return CE_READY;
	case CL_QUIT:
		c->step = CL_CLOSED;
		return CE_CLOSE;
	case CL_TLS:
	case CL_READY:
	case CL_CLOSED:
		return session_lost(c, "421 4.5.0 Unexpected reply from the server");
	}
	return ev;
}

enum client_event client_line(struct smtp_client *c, const char *line,
			      size_t len)
{
	enum client_event ev;
	int r;

	if (c->step == CL_CLOSED)
		return CE_CLOSE;
	r = take_line(c, line, len);
	if (r < 0) {
		c->reply_code = 0;
		buf_clear(&c->reply);
		return session_lost(c, "421 4.5.0 Malformed reply from the server");
	}
	if (r == 0)
		return CE_NONE;
	/* a refused RSET before MAIL leaves nothing taken (on_txn_rset) */
	if (c->txn != NULL && c->step != CL_TXN_RSET)
		c->answered = true;
	ev = on_reply(c);
	c->reply_code = 0;
	buf_clear(&c->reply);
	return ev;
}
