/* IMAP IDLE at scale (issue 11 "Benchmark"): N sessions log in, SELECT
 * INBOX and IDLE; then one more session APPENDs a message to INBOX, and the
 * clock runs from the APPEND's last byte until every idling session has
 * received its "* n EXISTS".  Memory: the proportional set size (Pss) of
 * the server's process tree (PID and every descendant: Dovecot runs a
 * process per session, maillab one process), read before the sessions open
 * and while all N idle.  One thread, non-blocking sockets, poll().
 *
 *   bench-imap-idle -p PORT -u USER -w PASSWORD -n SESSIONS [-P SERVER_PID]
 *                   [-s TLS_PORT] [-z]
 *
 * -s: the idling sessions use implicit TLS on TLS_PORT (the handshake is
 * done blocking, one session at a time; the certificate is not checked);
 * -z: they send COMPRESS DEFLATE (RFC 4978) after LOGIN and talk raw
 * deflate from then on (zlib, 32 KiB window, Z_SYNC_FLUSH per command).
 * The APPEND session always uses PORT in plaintext.
 *
 * Output, one line:
 *   imap-idle sessions=N idling=I notified=K first_ms=F median_ms=M
 *        last_ms=L pss_before_kib=B pss_idle_kib=A per_session_kib=S
 * Exit 0 when all N idled and all N were notified within 10 s. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <zlib.h>

/* NEW: not opened yet; RAW: only read (the APPEND session, driven by
 * append_one). */
enum step { NEW, CONNECTING, GREETING, LOGIN, COMPRESS, SELECT, IDLE_WAIT,
	    IDLING, NOTIFIED, RAW, FAILED };

struct session {
	int fd;
	enum step step;
	char buf[8192];
	size_t len;
	double notified_at;
	SSL *ssl;			/* -s */
	int zon;			/* COMPRESS is on */
	z_stream zin, zout;
};

static const char *user, *password;
static SSL_CTX *tls_ctx;		/* -s */
static int use_compress;		/* -z */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int open_socket(const struct sockaddr_in *sin, int nonblock)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC |
			(nonblock ? SOCK_NONBLOCK : 0), 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)sin, sizeof(*sin)) < 0 &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

		if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			struct pollfd p = { fd, POLLOUT, 0 };

			poll(&p, 1, 1000);
			continue;
		}
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Whether buf holds a complete line starting with `prefix` (and, when
 * `needle` is set, containing it). */
static int have_line(const struct session *s, const char *prefix,
		     const char *needle)
{
	const char *line = s->buf, *end = s->buf + s->len, *nl;
	size_t plen = strlen(prefix);

	while ((nl = memchr(line, '\n', (size_t)(end - line))) != NULL) {
		if ((size_t)(nl - line) >= plen && memcmp(line, prefix, plen) == 0 &&
		    (needle == NULL || memmem(line, (size_t)(nl - line), needle,
					      strlen(needle)) != NULL))
			return 1;
		line = nl + 1;
	}
	return 0;
}

static void fail(struct session *s, const char *what)
{
	fprintf(stderr, "bench-imap-idle: %s failed: %.*s\n", what,
		(int)s->len, s->buf);
	s->step = FAILED;
}

static int ssl_wait(struct session *s, int r)
{
	int e = SSL_get_error(s->ssl, r);
	struct pollfd p = { s->fd, e == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN, 0 };

	if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
		return -1;
	poll(&p, 1, 1000);
	return 0;
}

/* Sends over TLS or not, deflated when COMPRESS is on. */
static int session_send(struct session *s, const char *p, size_t n)
{
	unsigned char z[16384];

	if (s->zon) {
		s->zout.next_in = (unsigned char *)p;
		s->zout.avail_in = (uInt)n;
		do {
			s->zout.next_out = z;
			s->zout.avail_out = sizeof(z);
			if (deflate(&s->zout, Z_SYNC_FLUSH) == Z_STREAM_ERROR)
				return -1;
			s->zon = 0;
			if (session_send(s, (char *)z, sizeof(z) - s->zout.avail_out) < 0)
				return -1;
			s->zon = 1;
		} while (s->zout.avail_out == 0);
		return 0;
	}
	if (s->ssl == NULL)
		return send_all(s->fd, p, n);
	while (n > 0) {
		int w = SSL_write(s->ssl, p, (int)n);

		if (w <= 0) {
			if (ssl_wait(s, w) < 0)
				return -1;
			continue;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Appends what arrived to s->buf (inflated when COMPRESS is on): >0 bytes,
 * 0 at EOF, -1 with errno (EAGAIN: nothing yet). */
static ssize_t session_recv(struct session *s)
{
	unsigned char raw[16384];
	size_t room = sizeof(s->buf) - 1 - s->len;
	ssize_t n;

	if (s->ssl != NULL) {
		int r = SSL_read(s->ssl, raw, s->zon ? (int)sizeof(raw) : (int)room);

		if (r <= 0) {
			int e = SSL_get_error(s->ssl, r);

			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
				errno = EAGAIN;
				return -1;
			}
			errno = EIO;
			return e == SSL_ERROR_ZERO_RETURN ? 0 : -1;
		}
		n = r;
	} else {
		n = recv(s->fd, raw, s->zon ? sizeof(raw) : room, 0);
		if (n <= 0)
			return n;
	}
	if (!s->zon) {
		memcpy(s->buf + s->len, raw, (size_t)n);
		return n;
	}
	s->zin.next_in = raw;
	s->zin.avail_in = (uInt)n;
	n = 0;
	while (s->zin.avail_in > 0) {
		if (s->len + (size_t)n >= sizeof(s->buf) - 1)
			s->len = 0, n = 0;	/* only the latest lines matter */
		s->zin.next_out = (unsigned char *)s->buf + s->len + n;
		s->zin.avail_out = (uInt)(sizeof(s->buf) - 1 - s->len - (size_t)n);
		if (inflate(&s->zin, Z_SYNC_FLUSH) != Z_OK) {
			errno = EPROTO;
			return -1;
		}
		n = (ssize_t)((char *)s->zin.next_out - (s->buf + s->len));
	}
	return n > 0 ? n : (errno = EAGAIN, -1);
}

static void send_step(struct session *s, const char *cmd, enum step next)
{
	s->len = 0;
	if (session_send(s, cmd, strlen(cmd)) < 0)
		s->step = FAILED;
	else
		s->step = next;
}

/* Implicit TLS on a connected socket, blocking for the handshake. */
static int tls_start(struct session *s)
{
	int flags = fcntl(s->fd, F_GETFL), ok;

	s->ssl = SSL_new(tls_ctx);
	if (s->ssl == NULL || SSL_set_fd(s->ssl, s->fd) != 1)
		return -1;
	fcntl(s->fd, F_SETFL, flags & ~O_NONBLOCK);
	ok = SSL_connect(s->ssl) == 1;
	fcntl(s->fd, F_SETFL, flags);
	return ok ? 0 : -1;
}

static int compress_start(struct session *s)
{
	if (inflateInit2(&s->zin, -15) != Z_OK ||
	    deflateInit2(&s->zout, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	s->zon = 1;
	return 0;
}

/* Advances one session after poll() said it is ready. */
static void advance(struct session *s)
{
	char cmd[512];
	ssize_t n;

	if (s->step == CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);

		getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		s->step = err == 0 ? GREETING : FAILED;
		if (s->step == GREETING && tls_ctx != NULL && tls_start(s) < 0) {
			fprintf(stderr, "bench-imap-idle: TLS handshake failed\n");
			s->step = FAILED;
		}
		return;
	}
	if (s->len >= sizeof(s->buf) - 1)
		s->len = 0;	/* only the latest lines matter */
	n = session_recv(s);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		fprintf(stderr, "bench-imap-idle: session closed in step %d: %s\n",
			s->step, n == 0 ? "EOF" : strerror(errno));
		s->step = FAILED;
		return;
	}
	if (n < 0)
		return;
	s->len += (size_t)n;
	switch (s->step) {
	case GREETING:
		if (have_line(s, "* OK", NULL)) {
			snprintf(cmd, sizeof(cmd), "a LOGIN \"%s\" \"%s\"\r\n",
				 user, password);
			send_step(s, cmd, LOGIN);
		}
		break;
	case LOGIN:
		if (have_line(s, "a OK", NULL) && use_compress)
			send_step(s, "z COMPRESS DEFLATE\r\n", COMPRESS);
		else if (have_line(s, "a OK", NULL))
			send_step(s, "b SELECT INBOX\r\n", SELECT);
		else if (have_line(s, "a ", NULL))
			fail(s, "LOGIN");
		break;
	case COMPRESS:
		/* RFC 4978 3: compressed from the byte after the OK's CRLF;
		 * the server sends nothing more until our next command */
		if (have_line(s, "z OK", NULL) && compress_start(s) == 0)
			send_step(s, "b SELECT INBOX\r\n", SELECT);
		else if (have_line(s, "z ", NULL))
			fail(s, "COMPRESS");
		break;
	case SELECT:
		if (have_line(s, "b OK", NULL))
			send_step(s, "c IDLE\r\n", IDLE_WAIT);
		else if (have_line(s, "b ", NULL))
			fail(s, "SELECT");
		break;
	case IDLE_WAIT:
		if (have_line(s, "+", NULL)) {
			s->step = IDLING;
			s->len = 0;
		}
		break;
	case IDLING:
		if (have_line(s, "* ", " EXISTS")) {
			s->step = NOTIFIED;
			s->notified_at = now();
		}
		break;
	default:
		break;
	}
}

static size_t count_in(const struct session *s, size_t n, enum step step)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += s[i].step == step;
	return k;
}

/* Sessions being set up at once: a burst of connections beyond the
 * server's listen backlog leaves some of them half-open for good. */
#define OPENING_MAX 64

/* Opens NEW sessions while fewer than OPENING_MAX are on their way. */
static void open_some(struct session *s, size_t n,
		      const struct sockaddr_in *sin)
{
	size_t opening = 0;

	for (size_t i = 0; i < n; i++)
		opening += s[i].step >= CONNECTING && s[i].step < IDLING;
	for (size_t i = 0; i < n && opening < OPENING_MAX; i++) {
		if (s[i].step != NEW)
			continue;
		s[i].fd = open_socket(sin, 1);
		s[i].step = s[i].fd < 0 ? FAILED : CONNECTING;
		opening++;
	}
}

/* Polls every session still short of `target` until none is, or until
 * `seconds` pass. */
static void run_until(struct session *s, struct pollfd *pfd, size_t n,
		      const struct sockaddr_in *sin, enum step target,
		      double seconds)
{
	double end = now() + seconds;

	while (now() < end) {
		size_t waiting = 0;

		open_some(s, n, sin);
		for (size_t i = 0; i < n; i++) {
			int active = s[i].step > NEW && s[i].step < target &&
				     s[i].step != FAILED;

			pfd[i].fd = active ? s[i].fd : -1;
			pfd[i].events = s[i].step == CONNECTING ? POLLOUT : POLLIN;
			waiting += active;
		}
		if (waiting == 0 && count_in(s, n, NEW) == 0)
			return;
		if (poll(pfd, n, 100) < 0)
			return;
		for (size_t i = 0; i < n; i++) {
			if (pfd[i].fd < 0 || pfd[i].revents == 0)
				continue;
			advance(&s[i]);
			/* TLS may hold decrypted bytes that poll() cannot see */
			while (s[i].ssl != NULL && s[i].step != FAILED &&
			       s[i].step < target && SSL_pending(s[i].ssl) > 0)
				advance(&s[i]);
		}
	}
}

/* The parent pid of `pid` from /proc/PID/stat, or -1. */
static long parent_of(long pid)
{
	char path[64], line[512], *p;
	long ppid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(line, sizeof(line), f) != NULL &&
	    (p = strrchr(line, ')')) != NULL)
		sscanf(p + 1, " %*c %ld", &ppid);
	fclose(f);
	return ppid;
}

static long pss_of(long pid)
{
	char path[64], line[256];
	long kib = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/smaps_rollup", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "Pss: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* Pss of `root` and every process below it. */
static long tree_pss(long root)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	long total = 0;

	if (root <= 0 || d == NULL) {
		if (d != NULL)
			closedir(d);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		long pid = strtol(de->d_name, NULL, 10), p = pid;

		for (int depth = 0; p > 1 && depth < 16; depth++) {
			if (p == root) {
				total += pss_of(pid);
				break;
			}
			p = parent_of(p);
		}
	}
	closedir(d);
	return total;
}

/* One more session APPENDs a small message; returns the time its last
 * byte left, or a negative value. */
/* Reads on the blocking session `a` until a line starts with `prefix`. */
static int wait_line(struct session *a, const char *prefix)
{
	while (a->step != FAILED && !have_line(a, prefix, NULL))
		advance(a);
	return a->step == FAILED ? -1 : 0;
}

static int send_raw(struct session *a, const char *cmd)
{
	a->len = 0;
	return send_all(a->fd, cmd, strlen(cmd));
}

/* One more session APPENDs a small message; returns the time its last
 * byte left, or a negative value. */
static double append_one(const struct sockaddr_in *sin)
{
	static const char msg[] =
		"From: bench@example.org\r\nSubject: idle wake-up\r\n\r\nhello\r\n";
	struct session a = { .step = RAW };
	char cmd[512];
	double sent = -1;
	struct timeval tv = { 10, 0 };	/* a server that never answers */

	a.fd = open_socket(sin, 0);
	if (a.fd < 0)
		return -1;
	setsockopt(a.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	snprintf(cmd, sizeof(cmd), "a LOGIN \"%s\" \"%s\"\r\n", user, password);
	if (wait_line(&a, "* OK") == 0 && send_raw(&a, cmd) == 0 &&
	    wait_line(&a, "a OK") == 0) {
		snprintf(cmd, sizeof(cmd), "b APPEND INBOX {%zu}\r\n",
			 sizeof(msg) - 1);
		if (send_raw(&a, cmd) == 0 && wait_line(&a, "+") == 0 &&
		    send_raw(&a, msg) == 0 && send_raw(&a, "\r\n") == 0) {
			sent = now();
			if (wait_line(&a, "b OK") < 0)
				sent = -1;
		}
	}
	send_raw(&a, "c LOGOUT\r\n");
	close(a.fd);
	return sent;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	size_t n = 0, idling, notified;
	long server_pid = 0, pss_before, pss_idle;
	struct session *s;
	struct pollfd *pfd;
	double sent, *lat;
	int opt, port = 0, tls_port = 0;

	while ((opt = getopt(argc, argv, "p:u:w:n:P:s:z")) != -1) {
		switch (opt) {
		case 'p': port = atoi(optarg); break;
		case 's': tls_port = atoi(optarg); break;
		case 'z': use_compress = 1; break;
		case 'u': user = optarg; break;
		case 'w': password = optarg; break;
		case 'n': n = strtoul(optarg, NULL, 10); break;
		case 'P': server_pid = atol(optarg); break;
		default:
			fprintf(stderr, "usage: bench-imap-idle -p PORT -u USER -w PASSWORD -n N [-P PID] [-s TLS_PORT] [-z]\n");
			return 2;
		}
	}
	if (port <= 0 || n == 0 || user == NULL || password == NULL) {
		fprintf(stderr, "bench-imap-idle: -p, -u, -w and -n are required\n");
		return 2;
	}
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (tls_port > 0) {
		tls_ctx = SSL_CTX_new(TLS_client_method());
		if (tls_ctx == NULL)
			return 1;
		SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_NONE, NULL);
	}
	sin.sin_port = htons((uint16_t)(tls_port > 0 ? tls_port : port));
	s = calloc(n, sizeof(*s));
	pfd = calloc(n, sizeof(*pfd));
	lat = calloc(n, sizeof(*lat));
	if (s == NULL || pfd == NULL || lat == NULL)
		return 1;
	pss_before = tree_pss(server_pid);
	for (size_t i = 0; i < n; i++) {
		s[i].fd = -1;
		s[i].step = NEW;
	}
	run_until(s, pfd, n, &sin, IDLING, 300);
	idling = count_in(s, n, IDLING);
	sleep(1);	/* let the server settle before reading its memory */
	pss_idle = tree_pss(server_pid);
	sin.sin_port = htons((uint16_t)port);
	sent = append_one(&sin);
	if (sent > 0)
		run_until(s, pfd, n, &sin, NOTIFIED, 10);
	notified = 0;
	for (size_t i = 0; i < n; i++)
		if (s[i].step == NOTIFIED)
			lat[notified++] = (s[i].notified_at - sent) * 1000;
	qsort(lat, notified, sizeof(*lat), cmp_double);
	printf("imap-idle sessions=%zu idling=%zu notified=%zu first_ms=%.1f "
	       "median_ms=%.1f last_ms=%.1f pss_before_kib=%ld pss_idle_kib=%ld "
	       "per_session_kib=%.1f\n", n, idling, notified,
	       notified ? lat[0] : -1, notified ? lat[notified / 2] : -1,
	       notified ? lat[notified - 1] : -1, pss_before, pss_idle,
	       idling ? (double)(pss_idle - pss_before) / (double)idling : 0);
	for (size_t i = 0; i < n; i++) {
		if (s[i].fd >= 0) {
			if (s[i].step != FAILED)
				session_send(&s[i], "DONE\r\nz LOGOUT\r\n", 16);
			if (s[i].ssl != NULL)
				SSL_free(s[i].ssl);
			if (s[i].zon) {
				inflateEnd(&s[i].zin);
				deflateEnd(&s[i].zout);
			}
			close(s[i].fd);
		}
	}
	free(s);
	free(pfd);
	free(lat);
	return idling == n && notified == n ? 0 : 1;
}
