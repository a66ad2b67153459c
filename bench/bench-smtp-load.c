/* SMTP load generator (issue 4 "Benchmark"): C client threads share N
 * messages of S bytes and send them to any SMTP server, PIPELINING the
 * envelope (MAIL, RCPT, DATA in one write) and keeping each connection for
 * M messages (0: all of its share).  The same program drives maillab and
 * Postfix, so the figures compare the servers, not the clients.
 *
 *   bench-smtp-load -p PORT [-H HOST] [-c CLIENTS] [-n MESSAGES] [-s SIZE]
 *                   [-m PER_CONNECTION] [-f FROM] [-t TO]
 *   bench-smtp-load -p PORT [-H HOST] -i CONNECTIONS [-w SECONDS]
 *
 * Output: "smtp-load clients=C messages=N size=S seconds=T rate=R/s
 * errors=E", or with -i, after all CONNECTIONS have their greeting and
 * have been held for SECONDS: "smtp-idle connections=N". */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"

struct options {
	const char *host;
	int port;
	int clients;
	long messages;
	size_t size;
	long per_conn;
	const char *from;
	const char *to;
	int idle;
	int hold;
};

static struct options opt = {
	"127.0.0.1", 0, 1, 5000, 4096, 0, "bench@load.test", "alice@lab.test",
	0, 2,
};
static atomic_long next_msg;
static atomic_long sent;
static atomic_long errors;
static struct buf body;		/* one message, dot-stuffed, with "." line */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int dial(void)
{
	struct sockaddr_in sa;
	int fd, one = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)opt.port);
	if (inet_pton(AF_INET, opt.host, &sa.sin_addr) != 1)
		return -1;
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

struct conn {
	int fd;
	char in[8192];
	size_t have;
};

static int send_all(struct conn *c, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(c->fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads one whole reply (the last line "NNN "); returns its code or -1. */
static int reply(struct conn *c)
{
	for (;;) {
		char *nl;

		while ((nl = memchr(c->in, '\n', c->have)) != NULL) {
			size_t len = (size_t)(nl - c->in) + 1;
			int code = -1;
			bool last = len >= 4 && c->in[3] == ' ';

			if (len >= 3)
				code = atoi(c->in);
			memmove(c->in, c->in + len, c->have - len);
			c->have -= len;
			if (last)
				return code;
		}
		if (c->have == sizeof(c->in))
			return -1;
		ssize_t r = read(c->fd, c->in + c->have, sizeof(c->in) - c->have);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c->have += (size_t)r;
	}
}

static int session_start(struct conn *c)
{
	c->have = 0;
	if ((c->fd = dial()) < 0)
		return -1;
	if (reply(c) != 220 || send_all(c, "EHLO load.test\r\n", 16) < 0 ||
	    reply(c) != 250) {
		close(c->fd);
		return -1;
	}
	return 0;
}

static int one_message(struct conn *c, const char *envelope, size_t envlen)
{
	if (send_all(c, envelope, envlen) < 0 || reply(c) != 250 ||
	    reply(c) != 250 || reply(c) != 354)
		return -1;
	if (send_all(c, body.data, body.len) < 0 || reply(c) != 250)
		return -1;
	return 0;
}

static void *client_main(void *arg)
{
	struct conn c;
	char envelope[1024];
	int envlen;
	long in_conn = 0;
	bool open_ = false;

	(void)arg;
	envlen = snprintf(envelope, sizeof(envelope),
			  "MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n",
			  opt.from, opt.to);
	while (atomic_fetch_add(&next_msg, 1) < opt.messages) {
		if (!open_) {
			if (session_start(&c) < 0) {
				atomic_fetch_add(&errors, 1);
				usleep(10000);
				continue;
			}
			open_ = true;
			in_conn = 0;
		}
		if (one_message(&c, envelope, (size_t)envlen) < 0) {
			atomic_fetch_add(&errors, 1);
			close(c.fd);
			open_ = false;
			continue;
		}
		atomic_fetch_add(&sent, 1);
		if (opt.per_conn > 0 && ++in_conn >= opt.per_conn) {
			send_all(&c, "QUIT\r\n", 6);
			reply(&c);
			close(c.fd);
			open_ = false;
		}
	}
	if (open_) {
		send_all(&c, "QUIT\r\n", 6);
		reply(&c);
		close(c.fd);
	}
	return NULL;
}

/* Headers and text lines up to `size` bytes (a leading dot stuffed). */
static void make_body(void)
{
	static const char line[] =
		"The quick brown fox jumps over the lazy dog 0123456789 abcdef\r\n";
	size_t target;

	buf_init(&body, BUF_UNLIMITED);
	buf_printf(&body, "From: <%s>\r\nTo: <%s>\r\nSubject: load test\r\n"
		   "Message-ID: <load@load.test>\r\nDate: Mon, 23 Nov 2026 "
		   "00:00:00 +0000\r\n\r\n", opt.from, opt.to);
	target = opt.size > body.len ? opt.size : body.len;
	while (body.len + sizeof(line) - 1 <= target)
		buf_puts(&body, line);
	while (body.len + 2 < target)
		buf_putc(&body, 'x');
	buf_puts(&body, "\r\n.\r\n");
}

static int hold_idle(void)
{
	int *fds = calloc((size_t)opt.idle, sizeof(int));
	int i, ok = 0;

	for (i = 0; i < opt.idle; i++) {
		struct conn c;

		c.have = 0;
		fds[i] = dial();
		if (fds[i] < 0)
			continue;
		c.fd = fds[i];
		if (reply(&c) == 220)
			ok++;
	}
	printf("smtp-idle connections=%d\n", ok);
	fflush(stdout);
	sleep((unsigned)opt.hold);
	for (i = 0; i < opt.idle; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	return ok == opt.idle ? 0 : 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench-smtp-load -p PORT [-H HOST] [-c CLIENTS] "
		"[-n MESSAGES] [-s SIZE] [-m PER_CONNECTION] [-f FROM] [-t TO]\n"
		"       bench-smtp-load -p PORT [-H HOST] -i CONNECTIONS [-w SECONDS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	pthread_t *tids;
	double start, secs;
	int c, i;

	while ((c = getopt(argc, argv, "H:p:c:n:s:m:f:t:i:w:")) != -1) {
		switch (c) {
		case 'H': opt.host = optarg; break;
		case 'p': opt.port = atoi(optarg); break;
		case 'c': opt.clients = atoi(optarg); break;
		case 'n': opt.messages = atol(optarg); break;
		case 's': opt.size = (size_t)atol(optarg); break;
		case 'm': opt.per_conn = atol(optarg); break;
		case 'f': opt.from = optarg; break;
		case 't': opt.to = optarg; break;
		case 'i': opt.idle = atoi(optarg); break;
		case 'w': opt.hold = atoi(optarg); break;
		default: usage();
		}
	}
	if (opt.port <= 0 || opt.clients <= 0 || opt.messages <= 0)
		usage();
	if (opt.idle > 0)
		return hold_idle();
	make_body();
	tids = calloc((size_t)opt.clients, sizeof(*tids));
	start = now();
	for (i = 0; i < opt.clients; i++)
		pthread_create(&tids[i], NULL, client_main, NULL);
	for (i = 0; i < opt.clients; i++)
		pthread_join(tids[i], NULL);
	secs = now() - start;
	printf("smtp-load clients=%d messages=%ld size=%zu seconds=%.3f rate=%.0f/s errors=%ld\n",
	       opt.clients, (long)sent, body.len - 5, secs, (double)sent / secs,
	       (long)errors);
	free(tids);
	buf_free(&body);
	return errors == 0 ? 0 : 1;
}
