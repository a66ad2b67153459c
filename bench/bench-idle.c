/* Idle SMTP connections (issue 4 "Benchmark"): opens N plaintext
 * connections, reads each greeting and sends EHLO, then keeps every
 * session idle for HOLD seconds, measures the server's memory from
 * /proc/PID/status while all N are open, checks that none was closed, and
 * ends each with QUIT.  One thread, non-blocking sockets, poll().
 *
 *   bench-idle -p PORT -n CONNECTIONS [-P SERVER_PID] [-h HOLD] [-a ADDR]
 *
 * Output, one line:
 *   idle connections=N established=E open_after_hold=O rss_kib=R hwm_kib=H
 *        seconds_to_establish=S
 * Exit 0 when all N were established and still open after the hold. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum step { CONNECTING, GREETING, EHLO_REPLY, IDLE, FAILED };

struct idle_conn {
	int fd;
	enum step step;
	char buf[2048];
	size_t len;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int open_nonblocking(const struct sockaddr_in *sin)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)sin, sizeof(*sin)) < 0 &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

/* True once buf holds a complete final reply line ("NNN " ... CRLF). */
static int have_final_reply(const struct idle_conn *c, int *code_r)
{
	const char *line = c->buf, *end = c->buf + c->len, *nl;

	while ((nl = memchr(line, '\n', (size_t)(end - line))) != NULL) {
		if (nl - line >= 4 && line[3] == ' ') {
			*code_r = atoi(line);
			return 1;
		}
		line = nl + 1;
	}
	return 0;
}

/* Advances one connection after poll() said it is ready. */
static void advance(struct idle_conn *c, short revents)
{
	static const char ehlo[] = "EHLO idle.example.org\r\n";
	ssize_t n;
	int code;

	if (c->step == CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
			c->step = FAILED;
			return;
		}
		c->step = GREETING;
		return;
	}
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);
	if (n <= 0) {
		if (n < 0 && errno == EAGAIN)
			return;
		c->step = FAILED;
		return;
	}
	c->len += (size_t)n;
	if (!have_final_reply(c, &code)) {
		if (c->len + 1 >= sizeof(c->buf))
			c->step = FAILED;
		return;
	}
	c->len = 0;
	if (c->step == GREETING && code == 220) {
		if (send(c->fd, ehlo, sizeof(ehlo) - 1, MSG_NOSIGNAL) != (ssize_t)sizeof(ehlo) - 1)
			c->step = FAILED;
		else
			c->step = EHLO_REPLY;
	} else if (c->step == EHLO_REPLY && code == 250) {
		c->step = IDLE;
	} else {
		c->step = FAILED;
	}
}

static int count_step(const struct idle_conn *cs, int n, enum step step)
{
	int i, k = 0;

	for (i = 0; i < n; i++)
		k += cs[i].step == step;
	return k;
}

/* Drives every connection to IDLE or FAILED, up to `limit` seconds. */
static void establish(struct idle_conn *cs, struct pollfd *pfds, int n, double limit)
{
	double deadline = now() + limit;
	int i, k;

	while (now() < deadline) {
		k = 0;
		for (i = 0; i < n; i++) {
			pfds[i].fd = cs[i].step == IDLE || cs[i].step == FAILED ? -1 : cs[i].fd;
			pfds[i].events = cs[i].step == CONNECTING ? POLLOUT : POLLIN;
			pfds[i].revents = 0;
			k += pfds[i].fd >= 0;
		}
		if (k == 0)
			return;
		if (poll(pfds, (nfds_t)n, 200) < 0 && errno != EINTR)
			return;
		for (i = 0; i < n; i++)
			if (pfds[i].revents != 0)
				advance(&cs[i], pfds[i].revents);
	}
}

/* A connection the server closed shows as readable with recv() == 0. */
static int still_open(const struct idle_conn *c)
{
	char byte;
	ssize_t n;

	if (c->step != IDLE)
		return 0;
	n = recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
	return n < 0 && errno == EAGAIN;
}

static long status_kib(int pid, const char *key)
{
	char path[64], line[256];
	size_t keylen = strlen(key);
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, keylen) == 0 && line[keylen] == ':')
			kib = atol(line + keylen + 1);
	fclose(f);
	return kib;
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1";
	struct sockaddr_in sin;
	struct idle_conn *cs;
	struct pollfd *pfds;
	int n = 1000, port = 0, pid = 0, established, open_after = 0, i, c;
	double hold = 5, t0, t_est;
	long rss, hwm;

	while ((c = getopt(argc, argv, "p:n:P:h:a:")) != -1) {
		switch (c) {
		case 'p': port = atoi(optarg); break;
		case 'n': n = atoi(optarg); break;
		case 'P': pid = atoi(optarg); break;
		case 'h': hold = atof(optarg); break;
		case 'a': addr = optarg; break;
		default:
			fprintf(stderr, "usage: bench-idle -p PORT -n CONNECTIONS "
				"[-P SERVER_PID] [-h HOLD_SECONDS] [-a ADDR]\n");
			return 2;
		}
	}
	if (port <= 0 || n <= 0 || n > 100000 || hold < 0)
		return 2;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		return 2;
	cs = calloc((size_t)n, sizeof(*cs));
	pfds = calloc((size_t)n, sizeof(*pfds));
	if (cs == NULL || pfds == NULL)
		return 1;
	t0 = now();
	for (i = 0; i < n; i++) {
		/* Connect in batches so the listen backlog never overflows. */
		if (i > 0 && i % 100 == 0)
			establish(cs, pfds, i, 10);
		cs[i].fd = open_nonblocking(&sin);
		cs[i].step = cs[i].fd < 0 ? FAILED : CONNECTING;
		if (cs[i].fd < 0)
			perror("socket/connect");
	}
	establish(cs, pfds, n, 30);
	t_est = now() - t0;
	established = count_step(cs, n, IDLE);
	rss = pid > 0 ? status_kib(pid, "VmRSS") : -1;
	hwm = pid > 0 ? status_kib(pid, "VmHWM") : -1;
	if (hold > 0)
		usleep((useconds_t)(hold * 1e6));
	for (i = 0; i < n; i++)
		open_after += still_open(&cs[i]);
	for (i = 0; i < n; i++) {
		if (cs[i].step == IDLE)
			(void)send(cs[i].fd, "QUIT\r\n", 6, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (cs[i].fd >= 0)
			close(cs[i].fd);
	}
	printf("idle connections=%d established=%d open_after_hold=%d rss_kib=%ld "
	       "hwm_kib=%ld seconds_to_establish=%.2f\n",
	       n, established, open_after, rss, hwm, t_est);
	free(cs);
	free(pfds);
	return established == n && open_after == n ? 0 : 1;
}
