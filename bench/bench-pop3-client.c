/* POP3 timing client for the comparative benchmark (issue 5 "Benchmark"):
 * logs in with USER/PASS on a plaintext loopback connection, then runs each
 * operation given on the command line in one session, one command at a
 * time (no pipelining), timing each from the first byte sent to the last
 * byte of its reply.  Multi-line replies are read in large chunks and
 * scanned with memchr, so the client is not the bottleneck.
 *
 *   bench-pop3-client -p PORT -u USER -w PASSWORD [-a ADDR] OP...
 *
 * OP is STAT, LIST, UIDL or RETR-ALL (RETR 1 .. RETR N for the N messages
 * STAT reports).  Output, one line per operation (and one for the login):
 *   pop3 op=OP status=OK|ERR seconds=S items=N bytes=B
 * items: listing lines or messages retrieved; bytes: reply bytes without the
 * status lines.  QUIT is sent without DELE, so the maildrop is unchanged.
 * Exit 0 when every operation succeeded. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define INBUF_SIZE (1 << 20)

struct reader {
	int fd;
	char *buf;
	size_t start;
	size_t end;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int connect_to(const char *addr, int port)
{
	struct sockaddr_in sin;
	struct timeval tv = { 120, 0 };
	int fd, one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		return -1;
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int send_str(int fd, const char *s)
{
	size_t len = strlen(s);
	ssize_t n;

	while (len > 0) {
		n = send(fd, s, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Next line including its LF; *len_r its length.  The pointer stays valid
 * until the next call.  NULL on EOF, error, timeout or a line over
 * INBUF_SIZE. */
static const char *read_line(struct reader *r, size_t *len_r)
{
	char *nl;
	ssize_t n;

	for (;;) {
		nl = memchr(r->buf + r->start, '\n', r->end - r->start);
		if (nl != NULL) {
			const char *line = r->buf + r->start;

			*len_r = (size_t)(nl + 1 - line);
			r->start += *len_r;
			return line;
		}
		if (r->start > 0) {
			memmove(r->buf, r->buf + r->start, r->end - r->start);
			r->end -= r->start;
			r->start = 0;
		}
		if (r->end == INBUF_SIZE)
			return NULL;
		n = recv(r->fd, r->buf + r->end, INBUF_SIZE - r->end, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;
		r->end += (size_t)n;
	}
}

/* Status line; 0 for +OK, -1 otherwise. */
static int read_status(struct reader *r)
{
	size_t len;
	const char *line = read_line(r, &len);

	return line != NULL && len >= 3 && memcmp(line, "+OK", 3) == 0 ? 0 : -1;
}

/* The body of a multi-line reply up to the lone "." line (RFC 1939 3);
 * adds its lines and bytes. */
static int read_multiline(struct reader *r, long *lines, long *bytes)
{
	const char *line;
	size_t len;

	while ((line = read_line(r, &len)) != NULL) {
		if (line[0] == '.' && (len == 2 || (len == 3 && line[1] == '\r')))
			return 0;
		(*lines)++;
		*bytes += (long)len;
	}
	return -1;
}

static int command(struct reader *r, const char *cmd)
{
	return send_str(r->fd, cmd) < 0 ? -1 : read_status(r);
}

static long stat_count(struct reader *r)
{
	const char *line;
	size_t len;

	if (send_str(r->fd, "STAT\r\n") < 0 || (line = read_line(r, &len)) == NULL ||
	    len < 4 || memcmp(line, "+OK ", 4) != 0)
		return -1;
	return atol(line + 4);
}

static int run_op(struct reader *r, const char *op, long *items, long *bytes)
{
	char cmd[64];
	long i, n, lines;

	*items = *bytes = 0;
	if (strcasecmp(op, "STAT") == 0) {
		n = stat_count(r);
		*items = n;
		return n < 0 ? -1 : 0;
	}
	if (strcasecmp(op, "LIST") == 0 || strcasecmp(op, "UIDL") == 0) {
		snprintf(cmd, sizeof(cmd), "%s\r\n", op);
		if (command(r, cmd) < 0)
			return -1;
		return read_multiline(r, items, bytes);
	}
	if (strcasecmp(op, "RETR-ALL") == 0) {
		if ((n = stat_count(r)) < 0)
			return -1;
		for (i = 1; i <= n; i++) {
			lines = 0;
			snprintf(cmd, sizeof(cmd), "RETR %ld\r\n", i);
			if (command(r, cmd) < 0 || read_multiline(r, &lines, bytes) < 0)
				return -1;
			(*items)++;
		}
		return 0;
	}
	fprintf(stderr, "bench-pop3-client: unknown operation %s\n", op);
	return -1;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench-pop3-client -p PORT -u USER -w PASSWORD "
		"[-a ADDR] STAT|LIST|UIDL|RETR-ALL ...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1", *user = NULL, *pass = NULL;
	struct reader r = { -1, NULL, 0, 0 };
	char cmd[600];
	double t0;
	long items, bytes;
	int port = 0, c, i, failed = 0, ok;

	while ((c = getopt(argc, argv, "p:u:w:a:")) != -1) {
		switch (c) {
		case 'p': port = atoi(optarg); break;
		case 'u': user = optarg; break;
		case 'w': pass = optarg; break;
		case 'a': addr = optarg; break;
		default: usage();
		}
	}
	if (port <= 0 || user == NULL || pass == NULL || optind == argc ||
	    strlen(user) > 256 || strlen(pass) > 256)
		usage();
	if ((r.buf = malloc(INBUF_SIZE)) == NULL)
		return 1;
	t0 = now();
	if ((r.fd = connect_to(addr, port)) < 0 || read_status(&r) < 0) {
		printf("pop3 op=connect status=ERR\n");
		return 1;
	}
	snprintf(cmd, sizeof(cmd), "USER %s\r\n", user);
	ok = command(&r, cmd) == 0;
	snprintf(cmd, sizeof(cmd), "PASS %s\r\n", pass);
	ok = ok && command(&r, cmd) == 0;
	printf("pop3 op=login status=%s seconds=%.4f\n", ok ? "OK" : "ERR", now() - t0);
	if (!ok)
		return 1;
	for (i = optind; i < argc; i++) {
		t0 = now();
		ok = run_op(&r, argv[i], &items, &bytes) == 0;
		printf("pop3 op=%s status=%s seconds=%.4f items=%ld bytes=%ld\n",
		       argv[i], ok ? "OK" : "ERR", now() - t0, items, bytes);
		fflush(stdout);
		if (!ok) {
			failed = 1;
			break;
		}
	}
	if (!failed)
		command(&r, "QUIT\r\n");
	close(r.fd);
	free(r.buf);
	return failed;
}
