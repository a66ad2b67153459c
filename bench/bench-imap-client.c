/* IMAP timing client for the comparative benchmark (issue 6 "Benchmark"):
 * logs in with LOGIN on a plaintext loopback connection, then sends each
 * command given on the command line in turn (the client adds the tag) and
 * times it from the first byte sent to the end of its tagged reply.
 * Literals in replies ({N} at a line end, RFC 3501 4.3) are skipped by
 * count, lines are found with memchr, so the client is not the bottleneck.
 *
 *   bench-imap-client -p PORT -u USER -w PASSWORD [-a ADDR] [-t TIMEOUT]
 *                     [-H HOLD] COMMAND...
 *
 * -H keeps the session open and idle for HOLD seconds after the last
 * command (before LOGOUT), so that the server's memory per idle session can
 * be sampled from outside.
 *
 * Output, one line per command (and one for the login):
 *   imap status=OK|NO|BAD|ERR seconds=S untagged=U fetch=F exists=E
 *        search_hits=H literal_bytes=L bytes=B cmd="COMMAND"
 * (search_hits counts the numbers of SEARCH and SORT responses)
 * ERR means the connection closed, timed out or sent something this client
 * cannot parse; the commands after it are reported as status=SKIPPED.
 * Exit 0 when every command got a tagged OK. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

struct result {
	const char *status;
	long untagged;
	long fetch;
	long exists;
	long search_hits;
	long literal_bytes;
	long bytes;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int connect_to(const char *addr, int port, int timeout)
{
	struct sockaddr_in sin;
	struct timeval tv = { timeout, 0 };
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

static int fill(struct reader *r)
{
	ssize_t n;

	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	if (r->end == INBUF_SIZE)
		return -1;
	do {
		n = recv(r->fd, r->buf + r->end, INBUF_SIZE - r->end, 0);
	} while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	r->end += (size_t)n;
	return 0;
}

/* Next line including CRLF; valid until the next call.  NULL on EOF,
 * error, timeout or a line over INBUF_SIZE. */
static const char *read_line(struct reader *r, size_t *len_r)
{
	char *nl;

	for (;;) {
		nl = memchr(r->buf + r->start, '\n', r->end - r->start);
		if (nl != NULL) {
			const char *line = r->buf + r->start;

			*len_r = (size_t)(nl + 1 - line);
			r->start += *len_r;
			return line;
		}
		if (fill(r) < 0)
			return NULL;
	}
}

static int skip_bytes(struct reader *r, long n)
{
	size_t take;

	while (n > 0) {
		if (r->start == r->end && fill(r) < 0)
			return -1;
		take = r->end - r->start;
		if ((long)take > n)
			take = (size_t)n;
		r->start += take;
		n -= (long)take;
	}
	return 0;
}

/* The literal length N when the line ends with {N} (or {N+}), else -1. */
static long literal_at_end(const char *line, size_t len)
{
	const char *p;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len < 3 || line[len - 1] != '}')
		return -1;
	p = line + len - 2;
	if (*p == '+')
		p--;
	while (p > line && isdigit((unsigned char)*p))
		p--;
	if (*p != '{' || !isdigit((unsigned char)p[1]))
		return -1;
	return atol(p + 1);
}

static long count_words(const char *s, size_t len)
{
	long n = 0;
	size_t i;

	for (i = 0; i < len; i++)
		if (isdigit((unsigned char)s[i]) && (i == 0 || s[i - 1] == ' '))
			n++;
	return n;
}

/* Reads replies up to the tagged one; fills res. */
static void read_until_tagged(struct reader *r, const char *tag, struct result *res)
{
	size_t taglen = strlen(tag), len;
	const char *line;
	long lit;
	int continued = 0;

	for (;;) {
		if ((line = read_line(r, &len)) == NULL) {
			res->status = "ERR";
			return;
		}
		res->bytes += (long)len;
		if (!continued && len > 2 && line[0] == '*' && line[1] == ' ') {
			res->untagged++;
			if (len > 9 && memcmp(line + 2, "SEARCH", 6) == 0)
				res->search_hits += count_words(line + 8, len - 8);
			else if (len > 7 && memcmp(line + 2, "SORT", 4) == 0)
				res->search_hits += count_words(line + 6, len - 6);
			else if (isdigit((unsigned char)line[2])) {
				const char *sp = memchr(line + 2, ' ', len - 2);

				if (sp != NULL && len - (size_t)(sp - line) >= 6 &&
				    memcmp(sp + 1, "FETCH", 5) == 0)
					res->fetch++;
				else if (sp != NULL && len - (size_t)(sp - line) >= 7 &&
					 memcmp(sp + 1, "EXISTS", 6) == 0)
					res->exists = atol(line + 2);
			}
		} else if (!continued && len > taglen + 1 &&
			   memcmp(line, tag, taglen) == 0 && line[taglen] == ' ') {
			const char *st = line + taglen + 1;

			res->status = strncmp(st, "OK", 2) == 0 ? "OK" :
				      strncmp(st, "NO", 2) == 0 ? "NO" :
				      strncmp(st, "BAD", 3) == 0 ? "BAD" : "ERR";
			return;
		}
		lit = literal_at_end(line, len);
		if (lit >= 0) {
			if (skip_bytes(r, lit) < 0) {
				res->status = "ERR";
				return;
			}
			res->literal_bytes += lit;
			res->bytes += lit;
			continued = 1;	/* the line goes on after the literal */
		} else {
			continued = 0;
		}
	}
}

static void run(struct reader *r, int num, const char *cmd, struct result *res)
{
	char tag[16], line[8192];

	memset(res, 0, sizeof(*res));
	res->exists = -1;
	snprintf(tag, sizeof(tag), "b%d", num);
	if ((size_t)snprintf(line, sizeof(line), "%s %s\r\n", tag, cmd) >= sizeof(line) ||
	    send_str(r->fd, line) < 0) {
		res->status = "ERR";
		return;
	}
	read_until_tagged(r, tag, res);
}

static void print_result(const struct result *res, double secs, const char *cmd)
{
	printf("imap status=%s seconds=%.6f untagged=%ld fetch=%ld exists=%ld "
	       "search_hits=%ld literal_bytes=%ld bytes=%ld cmd=\"%s\"\n",
	       res->status, secs, res->untagged, res->fetch, res->exists,
	       res->search_hits, res->literal_bytes, res->bytes, cmd);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1", *user = NULL, *pass = NULL;
	struct reader r = { -1, NULL, 0, 0 };
	struct result res;
	char login[600];
	size_t len;
	double t0;
	int port = 0, timeout = 120, c, i, failed = 0, broken = 0;
	double hold = 0;

	while ((c = getopt(argc, argv, "p:u:w:a:t:H:")) != -1) {
		switch (c) {
		case 'p': port = atoi(optarg); break;
		case 'u': user = optarg; break;
		case 'w': pass = optarg; break;
		case 'a': addr = optarg; break;
		case 't': timeout = atoi(optarg); break;
		case 'H': hold = atof(optarg); break;
		default:
			fprintf(stderr, "usage: bench-imap-client -p PORT -u USER -w PASSWORD "
				"[-a ADDR] [-t TIMEOUT] [-H HOLD] COMMAND...\n");
			return 2;
		}
	}
	if (port <= 0 || user == NULL || pass == NULL || timeout <= 0 ||
	    hold < 0 || hold > 3600 ||
	    strlen(user) > 200 || strlen(pass) > 200 || strpbrk(pass, "\"\\") != NULL)
		return 2;
	if ((r.buf = malloc(INBUF_SIZE)) == NULL)
		return 1;
	t0 = now();
	if ((r.fd = connect_to(addr, port, timeout)) < 0 || read_line(&r, &len) == NULL) {
		printf("imap status=ERR cmd=\"connect\"\n");
		return 1;
	}
	snprintf(login, sizeof(login), "LOGIN %s \"%s\"", user, pass);
	run(&r, 0, login, &res);
	print_result(&res, now() - t0, "LOGIN");
	if (strcmp(res.status, "OK") != 0)
		return 1;
	for (i = optind; i < argc; i++) {
		if (broken) {
			printf("imap status=SKIPPED cmd=\"%s\"\n", argv[i]);
			continue;
		}
		t0 = now();
		run(&r, i, argv[i], &res);
		print_result(&res, now() - t0, argv[i]);
		if (strcmp(res.status, "OK") != 0)
			failed = 1;
		if (strcmp(res.status, "ERR") == 0)
			broken = 1;
	}
	if (!broken && hold > 0)
		usleep((useconds_t)(hold * 1e6));
	if (!broken)
		run(&r, 9999, "LOGOUT", &res);
	close(r.fd);
	free(r.buf);
	return failed;
}
