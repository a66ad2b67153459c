/* SMTP load generator for the comparative benchmark (issue 4 "Benchmark").
 * C threads, one blocking plaintext connection each, no pipelining: every
 * command waits for its reply.  Each connection runs up to K transactions
 * (MAIL, RCPT, DATA, one message each), then QUIT, then a new connection,
 * until N messages have been handed out in total.
 *
 *   bench-smtp-client -p PORT -n MESSAGES [-c CLIENTS] [-k PER_CONNECTION]
 *                     [-s SIZE] [-f FROM] [-r RCPT] [-a ADDR]
 *                     [-w DIR] [-T SECONDS]
 *
 * With -w DIR the clock runs until DIR (a Maildir's new/) holds as many new
 * entries as messages were accepted, so a server that queues (Postfix) is
 * measured to the same point as one that delivers before replying 250.
 *
 * Output, one line:
 *   smtp clients=C messages=N accepted=A failed=F send_seconds=S
 *        seconds=T rate=R/s
 * rate is accepted messages over seconds (to the last file in DIR with -w).
 * Exit 0 when every message was accepted (and arrived with -w), 1 otherwise. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define REPLY_MAX 4096

struct conn {
	int fd;
	char buf[REPLY_MAX];
	size_t len;
	size_t off;
};

static const char *addr = "127.0.0.1";
static int port;
static long total = 1000;
static int per_conn = 50;
static size_t msg_size = 4096;
static const char *mail_from = "bench@example.org";
static const char *rcpt_to = "alice@lab.test";

static long next_msg;		/* atomic: next message number to send */
static long accepted;		/* atomic */
static long failed;		/* atomic */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int conn_open(struct conn *c)
{
	struct sockaddr_in sin;
	struct timeval tv = { 60, 0 };
	int one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		return -1;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	c->len = c->off = 0;
	return 0;
}

static int send_all(struct conn *c, const char *data, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = send(c->fd, data, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One reply line into line[] (without CRLF); -1 on EOF, error or an
 * over-long line. */
static int read_line(struct conn *c, char *line, size_t linelen)
{
	size_t used = 0;
	ssize_t n;
	char ch;

	for (;;) {
		if (c->off == c->len) {
			n = recv(c->fd, c->buf, sizeof(c->buf), 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return -1;
			c->len = (size_t)n;
			c->off = 0;
		}
		ch = c->buf[c->off++];
		if (ch == '\n')
			break;
		if (used + 1 >= linelen)
			return -1;
		line[used++] = ch;
	}
	if (used > 0 && line[used - 1] == '\r')
		used--;
	line[used] = '\0';
	return 0;
}

/* A whole (possibly multi-line, RFC 5321 4.2.1) reply; returns its code
 * or -1. */
static int read_reply(struct conn *c)
{
	char line[1024];

	for (;;) {
		if (read_line(c, line, sizeof(line)) < 0 || strlen(line) < 3)
			return -1;
		if (line[3] != '-')
			return atoi(line);
	}
}

static int command(struct conn *c, const char *cmd, int expect)
{
	if (send_all(c, cmd, strlen(cmd)) < 0)
		return -1;
	return read_reply(c) == expect ? 0 : -1;
}

/* Builds one message of exactly msg_size bytes (at least the headers),
 * CRLF line ends, no line starting with a dot, ending in CRLF. */
static char *make_message(long num, size_t *len_r)
{
	static const char words[] = "lorem ipsum dolor sit amet consectetur "
		"adipiscing elit sed do eiusmod tempor incididunt ut labore ";
	char *msg = malloc(msg_size + 512);
	size_t len, i;
	int n;

	if (msg == NULL)
		return NULL;
	n = snprintf(msg, 512,
		     "From: Bench <%s>\r\nTo: <%s>\r\n"
		     "Subject: benchmark message %ld\r\n"
		     "Date: Mon, 23 Nov 2026 04:00:00 +0000\r\n"
		     "Message-ID: <bench.%ld@example.org>\r\n\r\n",
		     mail_from, rcpt_to, num, num);
	len = (size_t)n;
	while (len + 2 < msg_size) {
		size_t room = msg_size - len - 2;
		size_t line = room > 76 ? 76 : room;

		for (i = 0; i < line; i++)
			msg[len + i] = words[(num + len + i) % (sizeof(words) - 1)];
		if (msg[len] == '.')
			msg[len] = 'x';
		len += line;
		msg[len++] = '\r';
		msg[len++] = '\n';
	}
	if (len < msg_size)
		len = msg_size;	/* keep the exact size when a line ends short */
	msg[len - 2] = '\r';
	msg[len - 1] = '\n';
	*len_r = len;
	return msg;
}

static int send_message(struct conn *c, long num)
{
	char cmd[600];
	char *msg;
	size_t len;
	int ok;

	snprintf(cmd, sizeof(cmd), "MAIL FROM:<%s>\r\n", mail_from);
	if (command(c, cmd, 250) < 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "RCPT TO:<%s>\r\n", rcpt_to);
	if (command(c, cmd, 250) < 0 || command(c, "DATA\r\n", 354) < 0)
		return -1;
	msg = make_message(num, &len);
	if (msg == NULL)
		return -1;
	ok = send_all(c, msg, len) == 0 &&
	     send_all(c, ".\r\n", 3) == 0 && read_reply(c) == 250;
	free(msg);
	return ok ? 0 : -1;
}

/* -A: AUTH PLAIN with this base64 initial response (RFC 4954), for a
 * submission port */
static const char *auth_plain;
static char auth_cmd[600];

static void *client_main(void *arg)
{
	struct conn *c = arg;
	int connect_failures = 0;
	long num;
	int i, broken;

	while (__atomic_load_n(&next_msg, __ATOMIC_SEQ_CST) < total) {
		if (conn_open(c) < 0) {
			if (++connect_failures >= 5)
				break;
			usleep(100000);
			continue;
		}
		connect_failures = 0;
		broken = read_reply(c) != 220 ||
			 command(c, "EHLO bench.example.org\r\n", 250) < 0 ||
			 (auth_plain != NULL && command(c, auth_cmd, 235) < 0);
		for (i = 0; !broken && i < per_conn; i++) {
			num = __atomic_fetch_add(&next_msg, 1, __ATOMIC_SEQ_CST);
			if (num >= total)
				break;
			if (send_message(c, num) == 0) {
				__atomic_fetch_add(&accepted, 1, __ATOMIC_SEQ_CST);
			} else {
				__atomic_fetch_add(&failed, 1, __ATOMIC_SEQ_CST);
				broken = 1;
			}
		}
		if (!broken)
			command(c, "QUIT\r\n", 221);
		close(c->fd);
	}
	return NULL;
}

/* Entries in a directory other than dot files; -1 when it cannot be read. */
static long count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	long n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench-smtp-client -p PORT -n MESSAGES [-c CLIENTS] "
		"[-k PER_CONNECTION] [-s SIZE] [-f FROM] [-r RCPT] [-a ADDR] "
		"[-w NEWDIR] [-T SECONDS] [-A AUTH-PLAIN-BASE64]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *wait_dir = NULL;
	double start, sent_at, end, limit = 600;
	long before = 0, have = 0;
	pthread_t *tids;
	struct conn *conns;
	int clients = 1, i, c;

	while ((c = getopt(argc, argv, "p:n:c:k:s:f:r:a:w:T:A:")) != -1) {
		switch (c) {
		case 'p': port = atoi(optarg); break;
		case 'n': total = atol(optarg); break;
		case 'c': clients = atoi(optarg); break;
		case 'k': per_conn = atoi(optarg); break;
		case 's': msg_size = (size_t)atol(optarg); break;
		case 'f': mail_from = optarg; break;
		case 'r': rcpt_to = optarg; break;
		case 'a': addr = optarg; break;
		case 'w': wait_dir = optarg; break;
		case 'T': limit = atof(optarg); break;
		case 'A': auth_plain = optarg; break;
		default: usage();
		}
	}
	if (auth_plain != NULL)
		snprintf(auth_cmd, sizeof(auth_cmd), "AUTH PLAIN %.500s\r\n", auth_plain);
	if (port <= 0 || total <= 0 || clients <= 0 || clients > 1000 ||
	    per_conn <= 0 || msg_size < 256 || msg_size > (64 << 20) ||
	    strlen(mail_from) > 256 || strlen(rcpt_to) > 256)
		usage();
	if (wait_dir != NULL && (before = count_entries(wait_dir)) < 0) {
		perror(wait_dir);
		return 1;
	}
	tids = calloc((size_t)clients, sizeof(*tids));
	conns = calloc((size_t)clients, sizeof(*conns));
	if (tids == NULL || conns == NULL)
		return 1;
	start = now();
	for (i = 0; i < clients; i++)
		if (pthread_create(&tids[i], NULL, client_main, &conns[i]) != 0) {
			perror("pthread_create");
			return 1;
		}
	for (i = 0; i < clients; i++)
		pthread_join(tids[i], NULL);
	sent_at = end = now();
	if (wait_dir != NULL) {
		/* Bounded: a lost message must not hang the benchmark. */
		while ((have = count_entries(wait_dir) - before) < accepted &&
		       now() - start < limit)
			usleep(2000);
		end = now();
	}
	printf("smtp clients=%d messages=%ld accepted=%ld failed=%ld "
	       "send_seconds=%.3f seconds=%.3f rate=%.0f/s",
	       clients, total, accepted, failed, sent_at - start, end - start,
	       accepted / (end - start));
	if (wait_dir != NULL)
		printf(" arrived=%ld", have);
	printf("\n");
	free(tids);
	free(conns);
	if (accepted != total || (wait_dir != NULL && have < accepted))
		return 1;
	return 0;
}
