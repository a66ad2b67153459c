/* One connection: socket and TLS through libevent bufferevents, input cut
 * into the units a protocol asks for (lines, exact byte counts, DATA bodies),
 * replies flushed with back-pressure, idle timeouts, deadlines per unit of
 * input, STARTTLS, blocking work handed to the worker pool.  The protocol state machine never sees any of
 * this: it sees struct proto_io. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/compress.h"
#include "common/datareader.h"
#include "common/deadline.h"
#include "common/linereader.h"
#include "common/log.h"
#include "common/server.h"
#include "common/trace.h"
#include "common/worker.h"
#include "common/xalloc.h"

/* Input libevent may hold for us while the session is busy or output is
 * backed up: reading stops above it. */
#define INPUT_HIGH_WATER (256 * 1024)
/* Output below which a producer (ops->resume_output) is asked for more. */
#define OUTPUT_LOW_WATER (64 * 1024)
#define HANDSHAKE_TIMEOUT 30

struct conn {
	struct server *srv;
	struct conn *prev, *next;
	struct bufferevent *bev;	/* what we read and write */
	struct bufferevent *raw;	/* the socket under a STARTTLS filter */
	struct bufferevent *mid;	/* the STARTTLS filter between a COMPRESS
					   filter (bev) and the socket (raw) */
	int plain_fd;			/* bev's socket when bev is not TLS, or -1 */
	struct config_ref *cfg;
	const struct protocol *proto;
	void *sess;
	struct proto_io io;
	struct line_reader lr;
	struct buf bytes;		/* INPUT_BYTES collected in memory */
	size_t bytes_got;
	struct trace *trace;
	struct event *flush_timer;	/* waits for a filter's output to drain */
	struct event *free_ev;		/* frees the connection from the loop */
	struct event *deadline_ev;	/* the unit being read is too slow */
	struct event *refuse_ev;	/* tells the session its input is refused */
	struct event *drain_ev;		/* the socket took bytes from below the
					   DEFLATE filter: on_write */
	const char *refused_why;	/* set by the COMPRESS filter */
	unsigned int saved_timeout;	/* the protocol's, during a handshake */
	char ip[64];
	unsigned int busy;		/* deferred jobs and timers outstanding */
	unsigned int timeout_set;	/* the idle timeout now applied */
	struct input_deadline unit;	/* of the line, literal, body being read */
	bool opened;			/* the session exists */
	bool eof;			/* the client closed its side */
	bool dead;			/* the socket is gone */
	bool closing;			/* flush, then close */
	bool in_process;		/* process_input is on the stack */
	bool handshaking;		/* STARTTLS: no input until it is done */
};

struct job {
	struct conn *c;
	work_fn *work;
	work_fn *done;
	void *arg;
	struct event *timer;
};

static void process_input(struct conn *c);
static void conn_free(struct conn *c);
static void set_callbacks(struct conn *c);
static void after_unit(struct conn *c);

struct conn *conn_next(struct conn *c)
{
	return c->next;
}

static size_t output_length(const struct conn *c)
{
	size_t n = 0;

	if (c->bev != NULL)
		n += evbuffer_get_length(bufferevent_get_output(c->bev));
	if (c->mid != NULL)
		n += evbuffer_get_length(bufferevent_get_output(c->mid));
	if (c->raw != NULL)
		n += evbuffer_get_length(bufferevent_get_output(c->raw));
	return n;
}

static bool output_full(const struct conn *c)
{
	return output_length(c) >= c->cfg->cfg.max_output_buffer;
}

/* A reply the client is waiting for leaves at once instead of on the next
 * pass of the loop (one system call instead of four).  Replies to pipelined
 * input, and anything behind bytes already queued, go through the
 * bufferevent so that they are batched and stay in order.  Returns the
 * bytes sent. */
static size_t send_now(struct conn *c, const char *p, size_t n)
{
	ssize_t sent;

	if (c->plain_fd < 0 ||
	    evbuffer_get_length(bufferevent_get_output(c->bev)) > 0 ||
	    evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		return 0;
	sent = send(c->plain_fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	return sent > 0 ? (size_t)sent : 0;
}

static void flush_replies(struct conn *c)
{
	struct buf *out = &c->io.out;
	size_t sent;

	if (out->len == 0)
		return;
	trace_server(c->trace, out->data, out->len);
	if (!c->dead) {
		sent = send_now(c, out->data, out->len);
		if (sent < out->len)
			bufferevent_write(c->bev, out->data + sent, out->len - sent);
	}
	buf_clear(out);
	/* A large reply (a FETCH literal) should not keep its memory. */
	if (out->cap > 1024 * 1024)
		buf_free(out);
}

static bool unit_deadline(const struct conn *c, uint64_t *deadline_r)
{
	const struct config *cfg = &c->cfg->cfg;

	return deadline_at(&c->unit, config_command_deadline(cfg, c->io.service),
			   cfg->min_data_rate, deadline_r);
}

static void arm_deadline(struct conn *c, uint64_t now)
{
	uint64_t deadline, wait;

	if (!c->unit.active || c->dead || !unit_deadline(c, &deadline))
		return;
	wait = deadline > now ? deadline - now : 0;
	event_add(c->deadline_ev, &(struct timeval){
		(time_t)(wait / 1000), (suseconds_t)(wait % 1000) * 1000 });
}

static void unit_started(struct conn *c)
{
	uint64_t now = deadline_now_ms();

	deadline_begin(&c->unit, c->io.mode != INPUT_LINE, now);
	arm_deadline(c, now);
}

static void unit_ended(struct conn *c)
{
	c->unit.active = false;
	if (c->deadline_ev != NULL)
		event_del(c->deadline_ev);
}

/* The session's idle timeout (RFC 3501 5.4, RFC 9051 5.4: the autologout
 * timer; RFC 5321 4.5.3.2; RFC 1939 3) on the bufferevent it reads, and
 * the same limit for a client that stops reading our replies.  Under a
 * STARTTLS or COMPRESS filter the socket's bufferevent (raw) is where
 * unread replies wait: the filters hand it everything at once, so it gets
 * the write timeout and no read timeout of its own (the one it had before
 * STARTTLS was the pre-login limit, and it logged out a client idling
 * after LOGIN once that much time passed). */
static void apply_timeout(struct conn *c)
{
	struct timeval tv;
	const struct timeval *t;

	if (c->dead || c->io.idle_timeout == c->timeout_set)
		return;
	c->timeout_set = c->io.idle_timeout;
	tv.tv_sec = c->timeout_set;
	tv.tv_usec = 0;
	t = c->timeout_set ? &tv : NULL;
	bufferevent_set_timeouts(c->bev, t, t);
	if (c->raw != NULL)
		bufferevent_set_timeouts(c->raw, NULL, t);
}

static void on_free(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	if (c->busy == 0)
		conn_free(c);
}

/* Never free inside a callback that may still be using the connection:
 * the loop frees it once the stack has unwound and its jobs are done. */
static void schedule_free(struct conn *c)
{
	if (c->free_ev == NULL)
		c->free_ev = evtimer_new(c->srv->base, on_free, c);
	event_add(c->free_ev, &(struct timeval){ 0, 0 });
}

/* Closes the socket now; the session lives on until its jobs are done. */
static void drop_socket(struct conn *c)
{
	if (c->dead)
		return;
	c->dead = true;
	/* The address may connect again at once (the structure itself is
	 * freed later, when its jobs are done). */
	server_conn_gone(c->srv, c->ip);
	if (c->flush_timer != NULL)
		event_del(c->flush_timer);
	unit_ended(c);
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	c->bev = NULL;
	c->raw = NULL;
	c->mid = NULL;
	c->plain_fd = -1;
	schedule_free(c);
}

static void on_flush_timer(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	if (output_length(c) == 0)
		drop_socket(c);
	else
		event_add(c->flush_timer, &(struct timeval){ 0, 50000 });
}

/* Close once every queued byte has left. */
static void close_when_flushed(struct conn *c)
{
	if (c->dead)
		return;
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	if (output_length(c) == 0) {
		drop_socket(c);
		return;
	}
	/* The write callback fires when bev's output is empty; a STARTTLS
	 * filter may still hold bytes in the socket's buffer below. */
	if (c->flush_timer == NULL)
		c->flush_timer = evtimer_new(c->srv->base, on_flush_timer, c);
	event_add(c->flush_timer, &(struct timeval){ 0, 50000 });
}

static void start_tls(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t junk = evbuffer_get_length(in);
	bool partial = lr_pending(&c->lr);
	SSL *ssl;

	c->io.starttls = false;
	/* RFC 3207 5, RFC 2595 3.1: nothing the client sent before the
	 * handshake may be taken as a command afterwards. */
	evbuffer_drain(in, junk);
	lr_reset(&c->lr);
	unit_ended(c);
	if (junk > 0 || partial)
		trace_note(c->trace, "discarded %zu bytes sent before the TLS handshake", junk);
	if (c->srv->tls == NULL || (ssl = SSL_new(c->srv->tls)) == NULL) {
		log_msg(c->proto->name, c->io.id, "STARTTLS failed: no TLS context");
		close_when_flushed(c);
		return;
	}
	/* No TLS 1.3 session tickets after a STARTTLS handshake.  They arrive
	 * just after the client's Finished, when a STARTTLS client, which has
	 * no greeting to wait for, is already writing its first command; a
	 * client that reads and writes one SSL object from two threads
	 * (offlineimap3's imaplib2) then loses that command inside OpenSSL and
	 * both sides wait until the idle timeout.  Implicit TLS keeps its
	 * tickets: there the greeting comes with them.  TLS 1.2 tickets are
	 * part of the handshake and stay. */
	SSL_set_num_tickets(ssl, 0);
	c->raw = c->bev;
	c->plain_fd = -1;
	c->bev = bufferevent_openssl_filter_new(c->srv->base, c->raw, ssl,
						BUFFEREVENT_SSL_ACCEPTING,
						BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		SSL_free(ssl);
		c->bev = c->raw;
		c->raw = NULL;
		close_when_flushed(c);
		return;
	}
	c->handshaking = true;
	c->timeout_set = 0;
	c->saved_timeout = c->io.idle_timeout;
	c->io.idle_timeout = HANDSHAKE_TIMEOUT;
	set_callbacks(c);
	apply_timeout(c);
	trace_note(c->trace, "TLS handshake");
}

/* The session hears of a refused input from the loop, not from inside
 * the filter, which may run below process_input. */
static void on_refuse(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	if (c->dead || c->closing)
		return;
	log_msg(c->proto->name, c->io.id, "input refused: %s", c->refused_why);
	trace_note(c->trace, "input refused: %s", c->refused_why);
	if (c->busy > 0 || c->proto->input_refused == NULL) {
		drop_socket(c);
		return;
	}
	c->proto->input_refused(c->sess, c->refused_why);
	c->io.close = true;
	after_unit(c);
}

static void compress_refused(void *arg, const char *why)
{
	struct conn *c = arg;

	c->refused_why = why;
	if (c->dead)
		return;
	bufferevent_disable(c->bev, EV_READ);
	if (c->refuse_ev == NULL)
		c->refuse_ev = evtimer_new(c->srv->base, on_refuse, c);
	event_add(c->refuse_ev, &(struct timeval){ 0, 0 });
}

static void on_write(struct bufferevent *bev, void *arg);

static void on_drain_ev(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	if (!c->dead)
		on_write(c->bev, c);
}

/* The filter calls on_write only when it deflates something, so output
 * held back because the bytes below it were many (output_full) would wait
 * for good once the socket drains them: their draining wakes on_write.
 * So would pipelined commands that output_full kept waiting after the
 * reply before them was complete (more_output already false). */
static void under_drained(struct evbuffer *b, const struct evbuffer_cb_info *info,
			  void *arg)
{
	struct conn *c = arg;
	bool waiting;

	(void)b;
	if (info->n_deleted == 0 || c->dead || c->drain_ev == NULL)
		return;
	waiting = c->io.more_output || c->closing || c->eof ||
		evbuffer_get_length(bufferevent_get_input(c->bev)) > 0;
	if (waiting && !output_full(c))
		event_active(c->drain_ev, EV_TIMEOUT, 1);
}

/* RFC 4978 3: compression starts right after the tagged OK, which is
 * already in bev's output and leaves uncompressed below the filter. */
static void start_compress(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t junk = evbuffer_get_length(in);
	struct bufferevent *z;

	c->io.compress = false;
	/* RFC 4978 3: the client sends nothing until it has seen the OK. */
	evbuffer_drain(in, junk);
	lr_reset(&c->lr);
	unit_ended(c);
	if (junk > 0)
		trace_note(c->trace, "discarded %zu bytes sent before COMPRESS "
			   "was answered", junk);
	/* Only the top bufferevent keeps the session's idle timeout. */
	bufferevent_set_timeouts(c->bev, NULL, NULL);
	z = compress_filter_new(c->bev, compress_refused, c);
	if (z == NULL) {
		log_msg(c->proto->name, c->io.id, "COMPRESS failed: no filter");
		close_when_flushed(c);
		return;
	}
	if (c->drain_ev == NULL)
		c->drain_ev = event_new(c->srv->base, -1, 0, on_drain_ev, c);
	if (c->drain_ev != NULL)
		evbuffer_add_cb(bufferevent_get_output(c->bev), under_drained, c);
	if (c->raw != NULL)
		c->mid = c->bev;
	else
		c->raw = c->bev;
	c->bev = z;
	c->plain_fd = -1;
	c->io.compressed = true;
	c->timeout_set = 0;
	set_callbacks(c);
	apply_timeout(c);
	trace_note(c->trace, "DEFLATE compression on");
}

/* After every unit of input: send replies, act on the protocol's requests. */
static void after_unit(struct conn *c)
{
	flush_replies(c);
	while (c->io.more_output && !c->io.close && !output_full(c) && !c->dead) {
		c->io.more_output = false;
		c->proto->resume_output(c->sess);
		flush_replies(c);
	}
	if (c->dead)
		return;
	if (c->io.close) {
		close_when_flushed(c);
		return;
	}
	apply_timeout(c);
}

static void deliver_line(struct conn *c)
{
	size_t visible = c->lr.line.len;

	if (c->proto->trace_visible != NULL)
		visible = c->proto->trace_visible(c->sess, buf_cstr(&c->lr.line),
						  c->lr.line.len);
	trace_client(c->trace, buf_cstr(&c->lr.line), c->lr.line.len, visible);
	c->proto->line(c->sess, buf_cstr(&c->lr.line), c->lr.line.len,
		       c->lr.flags);
}

static void enter_line_mode(struct conn *c)
{
	c->io.mode = INPUT_LINE;
}

/* Feeds one contiguous chunk to the reader for the current mode.  Returns
 * the bytes consumed. */
static size_t feed_chunk(struct conn *c, const char *p, size_t n)
{
	size_t used = 0;
	bool complete = false;

	if (!c->unit.active)
		unit_started(c);
	switch (c->io.mode) {
	case INPUT_LINE: {
		enum lr_result r;

		if (c->lr.max != c->io.max_line ||
		    c->lr.bare_lf_ends_line != c->io.bare_lf_ends_line) {
			lr_free(&c->lr);
			lr_init(&c->lr, c->io.max_line, c->io.bare_lf_ends_line);
		}
		r = lr_feed(&c->lr, p, n, &used);
		c->unit.bytes += used;
		complete = r != LR_MORE;
		if (complete)
			unit_ended(c);
		/* p[0..n) is still in the input buffer: anything past `used`
		 * was sent before the reply to this line. */
		if (r == LR_LINE &&
		    evbuffer_get_length(bufferevent_get_input(c->bev)) > used)
			c->lr.flags |= LINE_MORE_QUEUED;
		if (r == LR_LINE)
			deliver_line(c);
		else if (r == LR_OVERLONG) {
			trace_note(c->trace, "client line longer than %zu bytes skipped",
				   c->io.max_line);
			c->proto->overlong(c->sess);
		}
		break;
	}
	case INPUT_BYTES: {
		size_t want = c->io.bytes_wanted - c->bytes_got;

		used = n < want ? n : want;
		if (c->io.bytes_sink != NULL)
			c->io.bytes_sink(c->io.bytes_sink_arg, p, used);
		else
			buf_append(&c->bytes, p, used);
		c->bytes_got += used;
		c->unit.bytes += used;
		if (c->bytes_got == c->io.bytes_wanted) {
			unit_ended(c);
			trace_note(c->trace, "C: <%zu bytes of literal data>",
				   c->bytes_got);
			c->bytes_got = 0;
			enter_line_mode(c);
			c->proto->bytes(c->sess, buf_cstr(&c->bytes), c->bytes.len);
			buf_free(&c->bytes);
		}
		break;
	}
	case INPUT_DATA:
		complete = dr_feed(c->io.data, p, n, &used);
		c->unit.bytes += used;
		if (complete) {
			unit_ended(c);
			trace_note(c->trace, "C: <message body, %zu bytes>",
				   c->io.data->size);
			enter_line_mode(c);
			c->proto->data_end(c->sess);
		}
		break;
	}
	return used;
}

/* No input while a reply is still being produced (io.more_output): the
 * next command would be answered in the middle of it.  Output below the
 * limit alone is not enough: a partly drained socket (not yet down to
 * OUTPUT_LOW_WATER, so on_write has not resumed the producer) and new
 * bytes or EOF from the client reached process_input with a FETCH half
 * written, and imapd then spun completing it. */
static bool can_take_input(const struct conn *c)
{
	return c->opened && !c->dead && !c->closing && c->busy == 0 &&
		!c->handshaking && c->refused_why == NULL &&
		!c->io.starttls && !c->io.compress && !c->io.close &&
		!c->io.more_output && !output_full(c);
}

static void process_input(struct conn *c)
{
	struct evbuffer *in;

	if (c->in_process || c->dead)
		return;
	/* a reply waiting for room goes on first (on_read and EOF come here
	 * without on_write's after_unit) */
	if (c->io.more_output && c->busy == 0 && !output_full(c)) {
		after_unit(c);
		if (c->dead)
			return;
	}
	c->in_process = true;
	in = bufferevent_get_input(c->bev);
	while (can_take_input(c) && (evbuffer_get_length(in) > 0 ||
	       (c->io.mode == INPUT_BYTES && c->io.bytes_wanted == 0))) {
		struct evbuffer_iovec v;
		size_t used;

		if (c->io.mode == INPUT_BYTES && c->io.bytes_wanted == 0) {
			/* A zero-length literal completes at once. */
			enter_line_mode(c);
			c->proto->bytes(c->sess, "", 0);
			after_unit(c);
			continue;
		}
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		used = feed_chunk(c, v.iov_base, v.iov_len);
		evbuffer_drain(in, used);
		after_unit(c);
	}
	c->in_process = false;
	if (c->dead)
		return;
	if (c->io.starttls && c->busy == 0 && !c->closing) {
		start_tls(c);
		return;
	}
	if (c->io.compress && c->busy == 0 && !c->closing && !c->dead)
		start_compress(c);
	if (c->eof && evbuffer_get_length(in) == 0 && !c->closing &&
	    c->busy == 0 && !c->io.more_output) {
		close_when_flushed(c);
		return;
	}
	/* after EOF there is nothing more to read (a socket bufferevent
	 * that reads again reports EOF again) */
	if (!c->closing && c->busy == 0 && !c->eof)
		bufferevent_enable(c->bev, EV_READ);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	process_input(arg);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (c->closing) {
		if (output_length(c) == 0)
			drop_socket(c);
		return;
	}
	if (c->io.more_output && c->busy == 0)
		after_unit(c);
	process_input(c);
}

static void open_session(struct conn *c)
{
	int waiting = 0;

	/* Bytes in the socket before the greeting was written: a client
	 * that did not wait for it (RFC 5321 4.3.1; strict mode). */
	if (c->plain_fd >= 0 && ioctl(c->plain_fd, FIONREAD, &waiting) == 0)
		c->io.early_input = waiting > 0;
	c->opened = true;
	c->sess = c->proto->open(&c->io);
	after_unit(c);
	if (!c->dead)
		process_input(c);
}

static void note_tls(struct conn *c)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);

	c->io.tls = true;
	c->io.tls_version = SSL_get_version(ssl);
	c->io.tls_cipher = SSL_get_cipher_name(ssl);
	trace_note(c->trace, "TLS established: %s %s", c->io.tls_version,
		   c->io.tls_cipher);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		/* A TLS handshake finished. */
		note_tls(c);
		if (!c->opened) {
			c->io.idle_timeout = 0;
			c->timeout_set = 0;
			open_session(c);
		} else {
			/* libevent may report data read in the same pass
			 * before this event: the session hears of TLS first. */
			c->handshaking = false;
			c->io.idle_timeout = c->saved_timeout;
			c->proto->tls_done(c->sess);
			after_unit(c);
			process_input(c);
		}
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		trace_note(c->trace, "idle timeout");
		log_msg(c->proto->name, c->io.id, "timeout");
		if (c->opened && !c->closing && !(what & BEV_EVENT_WRITING)) {
			c->proto->timeout(c->sess);
			c->io.close = true;
			after_unit(c);
		} else {
			drop_socket(c);
		}
		return;
	}
	if (what & BEV_EVENT_EOF && !(what & BEV_EVENT_ERROR) && c->opened) {
		/* Half-close: commands already sent are still answered, a
		 * long reply to the end (process_input closes once
		 * on_write has seen it out and the input is used up). */
		c->eof = true;
		trace_note(c->trace, "client closed its side");
		process_input(c);
		if (!c->dead && !c->closing && c->busy == 0 &&
		    !c->io.more_output && !output_full(c))
			close_when_flushed(c);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		unsigned long e = bufferevent_get_openssl_error(c->bev);

		if (e != 0) {
			char msg[256];

			ERR_error_string_n(e, msg, sizeof(msg));
			log_msg(c->proto->name, c->io.id, "TLS error: %s", msg);
			trace_note(c->trace, "TLS error: %s", msg);
		}
	}
	trace_note(c->trace, "connection closed");
	drop_socket(c);
}

/* The unit being read is not complete in time: the protocol's timeout
 * reply, then close, as for an idle client. */
static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	const struct config *cfg = &c->cfg->cfg;
	uint64_t now = deadline_now_ms(), deadline;
	char why[96];

	(void)fd;
	(void)what;
	if (!c->unit.active || c->dead || c->closing || !c->opened)
		return;
	if (c->busy > 0) {
		/* the session is working, not the client being slow */
		event_add(c->deadline_ev, &(struct timeval){ 1, 0 });
		return;
	}
	if (unit_deadline(c, &deadline) && now < deadline) {
		arm_deadline(c, now);	/* data since then bought more time */
		return;
	}
	unit_ended(c);
	if (!c->unit.bulk)
		snprintf(why, sizeof(why), "command line not complete after %u s",
			 config_command_deadline(cfg, c->io.service));
	else
		snprintf(why, sizeof(why), "data slower than %u bytes/s after "
			 "%llu bytes", cfg->min_data_rate,
			 (unsigned long long)c->unit.bytes);
	trace_note(c->trace, "%s", why);
	log_msg(c->proto->name, c->io.id, "timeout: %s", why);
	c->proto->timeout(c->sess);
	c->io.close = true;
	after_unit(c);
}

static void set_callbacks(struct conn *c)
{
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, INPUT_HIGH_WATER);
	bufferevent_setwatermark(c->bev, EV_WRITE, OUTPUT_LOW_WATER, 0);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* io->defer and io->after: the session waits; input stays buffered. */
static void job_done(void *arg)
{
	struct job *j = arg;
	struct conn *c = j->c;

	if (j->timer != NULL)
		event_free(j->timer);
	c->io.jobs_out--;
	j->done(j->arg);
	free(j);
	c->busy--;
	if (c->dead) {
		if (c->busy == 0)
			schedule_free(c);
		return;
	}
	after_unit(c);
	if (!c->dead)
		process_input(c);
}

static void job_work(void *arg)
{
	struct job *j = arg;

	j->work(j->arg);
}

static struct job *job_new(struct proto_io *io, work_fn *work, work_fn *done,
			   void *arg)
{
	struct conn *c = io->owner;
	struct job *j = xcalloc(1, sizeof(*j));

	j->c = c;
	j->work = work;
	j->done = done;
	j->arg = arg;
	c->busy++;
	c->io.jobs_out++;
	/* Replies queued before the job are sent now, not after it. */
	flush_replies(c);
	if (!c->dead)
		bufferevent_disable(c->bev, EV_READ);
	return j;
}

static void conn_defer(struct proto_io *io, work_fn *work, work_fn *done,
		       void *arg)
{
	struct conn *c = io->owner;

	worker_submit(c->srv->pool, job_work, job_done, job_new(io, work, done, arg));
}

static void conn_defer_holding(struct proto_io *io, work_fn *work,
			       work_fn *done, void *arg)
{
	struct conn *c = io->owner;

	worker_submit_holding(c->srv->pool, job_work, job_done,
			      job_new(io, work, done, arg));
}

static void on_after_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	job_done(arg);
}

static void conn_after(struct proto_io *io, unsigned int ms, work_fn *done,
		       void *arg)
{
	struct conn *c = io->owner;
	struct job *j = job_new(io, NULL, done, arg);
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	j->timer = evtimer_new(c->srv->base, on_after_timer, j);
	event_add(j->timer, &tv);
}

static void conn_watch_fd(struct proto_io *io, int fd, work_fn *ready,
			  void *arg)
{
	struct conn *c = io->owner;

	server_watch_fd(c->srv, fd, ready, arg);
}

static void make_session_id(struct server *srv, char *id, size_t len)
{
	uint32_t n = ++srv->next_session;

	snprintf(id, len, "%06x%05x", (unsigned)(time(NULL) & 0xffffff),
		 (unsigned)(n & 0xfffff));
}

static void setup_io(struct conn *c, bool loopback, enum service_id svc)
{
	const struct config *cfg = &c->cfg->cfg;

	buf_init(&c->io.out, BUF_UNLIMITED);
	c->io.mode = INPUT_LINE;
	c->io.max_line = cfg->max_command_line;
	c->io.loopback = loopback;
	c->io.tls_available = c->srv->tls != NULL;
	c->io.service = svc;
	c->io.cfg = cfg;
	c->io.defer = conn_defer;
	c->io.defer_holding = conn_defer_holding;
	c->io.after = conn_after;
	c->io.watch_fd = conn_watch_fd;
	c->io.owner = c;
	c->io.users = c->srv->users;
	c->io.penalty = c->srv->penalty;
	snprintf(c->io.peer, sizeof(c->io.peer), "%s", c->ip);
	make_session_id(c->srv, c->io.id, sizeof(c->io.id));
	lr_init(&c->lr, c->io.max_line, false);
	buf_init(&c->bytes, BUF_UNLIMITED);
}

static bool implicit_tls(enum service_id svc)
{
	return svc == SVC_SUBMISSIONS || svc == SVC_POP3S || svc == SVC_IMAPS;
}

void conn_accept(struct server *srv, int fd, const char *ip, bool loopback,
		 enum service_id svc)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	SSL *ssl = NULL;

	c->srv = srv;
	c->proto = srv->protocols[svc];
	c->plain_fd = implicit_tls(svc) ? -1 : fd;
	/* Replies are written whole per pass of the loop; Nagle would only
	 * hold a short final reply back for the peer's delayed ACK. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	c->cfg = server_config_ref(srv);
	c->deadline_ev = evtimer_new(srv->base, on_deadline, c);
	snprintf(c->ip, sizeof(c->ip), "%s", ip);
	setup_io(c, loopback, svc);
	if (implicit_tls(svc)) {
		ssl = SSL_new(srv->tls);
		c->bev = bufferevent_openssl_socket_new(srv->base, fd, ssl,
				BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	} else {
		c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	}
	c->next = srv->conns;
	if (srv->conns != NULL)
		srv->conns->prev = c;
	srv->conns = c;
	srv->n_conns++;
	if (srv->cfg->cfg.trace)
		c->trace = trace_open(srv->trace_dir, service_name(svc), c->io.id);
	c->io.trace = c->trace;
	log_msg(c->proto->name, c->io.id, "connect from %s on %s", ip,
		service_name(svc));
	trace_note(c->trace, "connection from %s to %s", ip, service_name(svc));
	if (c->bev == NULL) {
		close(fd);
		drop_socket(c);
		return;
	}
	set_callbacks(c);
	if (ssl != NULL) {
		c->io.idle_timeout = HANDSHAKE_TIMEOUT;
		apply_timeout(c);
		return;		/* the session opens after the handshake */
	}
	open_session(c);
}

void conn_shutdown(struct conn *c)
{
	if (c->dead || c->closing)
		return;
	if (!c->opened || c->busy > 0) {
		drop_socket(c);
		return;
	}
	c->proto->shutdown(c->sess);
	c->io.close = true;
	after_unit(c);
}

void conn_mark_stopping(struct conn *c)
{
	c->io.stopping = true;
}

void conn_abort(struct conn *c)
{
	drop_socket(c);
}

void conn_destroy(struct conn *c)
{
	drop_socket(c);
	c->busy = 0;
	conn_free(c);
}

static void conn_free(struct conn *c)
{
	struct server *srv = c->srv;

	if (c->opened)
		c->proto->close(c->sess);
	log_msg(c->proto->name, c->io.id, "disconnect");
	c->io.trace = NULL;
	trace_close(&c->trace);
	if (c->flush_timer != NULL)
		event_free(c->flush_timer);
	if (c->free_ev != NULL)
		event_free(c->free_ev);
	if (c->deadline_ev != NULL)
		event_free(c->deadline_ev);
	if (c->refuse_ev != NULL)
		event_free(c->refuse_ev);
	if (c->drain_ev != NULL)
		event_free(c->drain_ev);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	srv->n_conns--;
	server_conn_closed(srv);
	lr_free(&c->lr);
	buf_free(&c->bytes);
	io_free(&c->io);
	server_config_unref(&c->cfg);
	free(c);
}
