#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/proto.h"

/* Replies are never refused for size here: the I/O layer stops reading input
 * while the socket's output is above cfg->max_output_buffer, so what one
 * input unit can queue is bounded by the protocol's own replies. */
void io_printf(struct proto_io *io, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&io->out, fmt, ap);
	va_end(ap);
}

void io_write(struct proto_io *io, const void *p, size_t n)
{
	buf_append(&io->out, p, n);
}

static void defer_now(struct proto_io *io, work_fn *work, work_fn *done,
		      void *arg)
{
	(void)io;
	work(arg);
	done(arg);
}

static void after_now(struct proto_io *io, unsigned int ms, work_fn *done,
		      void *arg)
{
	(void)io;
	(void)ms;
	done(arg);
}

void io_init_test(struct proto_io *io, const struct config *cfg,
		  enum service_id svc)
{
	memset(io, 0, sizeof(*io));
	buf_init(&io->out, BUF_UNLIMITED);
	io->mode = INPUT_LINE;
	io->max_line = 512;
	io->cfg = cfg;
	io->service = svc;
	io->loopback = true;
	io->tls_available = true;
	snprintf(io->peer, sizeof(io->peer), "127.0.0.1");
	snprintf(io->id, sizeof(io->id), "test0001");
	io->defer = defer_now;
	io->defer_holding = defer_now;
	io->after = after_now;
}

void io_free(struct proto_io *io)
{
	buf_free(&io->out);
}
