/* The I/O layer end to end: a real server (forked) running a small echo
 * protocol, driven over sockets and TLS.  Covers STARTTLS injection, implicit
 * TLS, overlong lines, pipelining, deferred work, connection limits, idle
 * timeouts, back-pressure, half-close, SIGHUP and a graceful stop. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/instance.h"
#include "cli/run-as.h"
#include "common/config.h"
#include "common/log.h"
#include "common/proto.h"
#include "common/server.h"
#include "common/xalloc.h"
#include "tests/unit/unit.h"

/* ---- the echo protocol ---- */

struct echo {
	struct proto_io *io;
	size_t big_left;	/* BIG: bytes still to produce */
};

static void *echo_open(struct proto_io *io)
{
	struct echo *e = xcalloc(1, sizeof(*e));

	e->io = io;
	io->max_line = 64;
	io->idle_timeout = 30;
	io_printf(io, "+OK echo%s\r\n", io->tls ? " tls" : "");
	return e;
}

static void slow_work(void *arg)
{
	(void)arg;
	usleep(200 * 1000);
}

static void slow_done(void *arg)
{
	struct echo *e = arg;

	io_printf(e->io, "+OK slept\r\n");
}

static void echo_produce(void *sess)
{
	struct echo *e = sess;
	char chunk[8192];
	size_t n = e->big_left < sizeof(chunk) ? e->big_left : sizeof(chunk);

	memset(chunk, 'b', n);
	io_write(e->io, chunk, n);
	e->big_left -= n;
	if (e->big_left == 0)
		io_printf(e->io, "\r\n+OK big done\r\n");
	else
		e->io->more_output = true;
}

static void echo_line(void *sess, const char *line, size_t len, unsigned flags)
{
	struct echo *e = sess;
	struct proto_io *io = e->io;

	(void)flags;
	if (strcmp(line, "STARTTLS") == 0) {
		io_printf(io, "+OK begin TLS\r\n");
		io->starttls = true;
	} else if (strcmp(line, "QUIT") == 0) {
		io_printf(io, "+OK bye\r\n");
		io->close = true;
	} else if (strcmp(line, "SLEEP") == 0) {
		io->defer(io, slow_work, slow_done, e);
	} else if (strncmp(line, "TIMEOUT ", 8) == 0) {
		io->idle_timeout = (unsigned)atoi(line + 8);
		io_printf(io, "+OK timeout %u\r\n", io->idle_timeout);
	} else if (strncmp(line, "BIG ", 4) == 0) {
		e->big_left = strtoul(line + 4, NULL, 10);
		echo_produce(e);
	} else {
		io_printf(io, "ECHO %.*s\r\n", (int)len, line);
	}
}

static void echo_overlong(void *sess)
{
	io_printf(((struct echo *)sess)->io, "-ERR line too long\r\n");
}

static void echo_tls_done(void *sess)
{
	io_printf(((struct echo *)sess)->io, "+OK now %s\r\n",
		  ((struct echo *)sess)->io->tls_version);
}

static void echo_timeout(void *sess)
{
	io_printf(((struct echo *)sess)->io, "-ERR idle timeout\r\n");
}

static void echo_shutdown(void *sess)
{
	io_printf(((struct echo *)sess)->io, "-ERR server shutting down\r\n");
}

static void echo_close(void *sess)
{
	free(sess);
}

static void echo_unused_bytes(void *sess, const char *d, size_t n)
{
	(void)sess;
	(void)d;
	(void)n;
}

static void echo_unused(void *sess)
{
	(void)sess;
}

static const struct protocol echo_protocol = {
	.name = "echo",
	.open = echo_open,
	.line = echo_line,
	.overlong = echo_overlong,
	.bytes = echo_unused_bytes,
	.data_end = echo_unused,
	.tls_done = echo_tls_done,
	.timeout = echo_timeout,
	.shutdown = echo_shutdown,
	.resume_output = echo_produce,
	.busy_reply = "-ERR too many connections\r\n",
	.close = echo_close,
};

/* ---- a server in a child process ---- */

struct fixture {
	char *dir;
	pid_t pid;
	int port_plain;		/* SVC_POP3 slot */
	int port_tls;		/* SVC_POP3S slot: implicit TLS */
};

static int free_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	getsockname(fd, (struct sockaddr *)&sin, &len);
	close(fd);
	return ntohs(sin.sin_port);
}

static int dial(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		return -1;
	}
	struct timeval tv = { 10, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void start_server(struct fixture *fx, const char *extra_conf)
{
	const struct protocol *protos[SVC_COUNT] = { 0 };
	char err[512], path[4096];
	FILE *f;

	fx->dir = unit_tmpdir();
	/* As root the server becomes the run_as user, who must reach it. */
	chmod(fx->dir, 0711);
	snprintf(path, sizeof(path), "%s/inst", fx->dir);
	ck_assert_msg(instance_init(path, "lab.test", "localhost", false, NULL,
				    err, sizeof(err)) == 0, "%s", err);
	free(fx->dir);
	fx->dir = xstrdup(path);
	fx->port_plain = free_port();
	fx->port_tls = free_port();
	snprintf(path, sizeof(path), "%s/maillab.conf", fx->dir);
	f = fopen(path, "a");
	fprintf(f, "port_smtp = 0\nport_submission = 0\nport_submissions = 0\n"
		"port_imap = 0\nport_imaps = 0\nport_pop3 = %d\nport_pop3s = %d\n"
		"shutdown_grace = 1\n%s", fx->port_plain, fx->port_tls, extra_conf);
	fclose(f);
	protos[SVC_POP3] = &echo_protocol;
	protos[SVC_POP3S] = &echo_protocol;

	fx->pid = fork();
	ck_assert_int_ge(fx->pid, 0);
	if (fx->pid == 0) {
		struct config cfg;
		struct server srv;
		int ret;

		if (config_load(&cfg, fx->dir, err, sizeof(err)) < 0) {
			fprintf(stderr, "config: %s\n", err);
			_exit(3);
		}
		/* What `maillab serve` does as root before the server drops. */
		if (run_as_hand_over(&cfg, err, sizeof(err)) < 0) {
			fprintf(stderr, "run_as: %s\n", err);
			_exit(5);
		}
		if (server_init(&srv, &cfg, protos, err, sizeof(err)) < 0) {
			fprintf(stderr, "server_init: %s\n", err);
			_exit(4);
		}
		log_open(srv.cfg->cfg.log_file, false);
		ret = server_run(&srv);
		server_free(&srv);
		log_close();
		_exit(ret);
	}
	for (int i = 0; i < 200; i++) {
		int fd = dial(fx->port_tls);

		if (fd >= 0) {
			char c;

			/* wait for the server to close this probe, so that it
			 * no longer counts against the address's limit */
			shutdown(fd, SHUT_WR);
			while (read(fd, &c, 1) > 0)
				;
			close(fd);
			return;
		}
		usleep(20 * 1000);
	}
	ck_abort_msg("server did not start");
}

/* SIGTERM; the server must exit 0 within the grace time. */
static void stop_server(struct fixture *fx)
{
	int status;

	kill(fx->pid, SIGTERM);
	ck_assert_int_eq(waitpid(fx->pid, &status, 0), fx->pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	unit_rmtree(fx->dir);
	free(fx->dir);
}

/* Reads until `want` has arrived (or EOF/timeout); returns what came. */
static char *read_until(int fd, SSL *ssl, const char *want)
{
	struct buf in = BUF_INIT(1 << 26);
	char chunk[65536];
	size_t from = 0;

	/* Only the tail can hold a new match: no quadratic rescans. */
	while (strstr(buf_cstr(&in) + from, want) == NULL) {
		ssize_t n = ssl ? SSL_read(ssl, chunk, sizeof(chunk))
				: read(fd, chunk, sizeof(chunk));

		if (n <= 0)
			break;
		from = in.len > strlen(want) ? in.len - strlen(want) : 0;
		buf_append(&in, chunk, (size_t)n);
	}
	return buf_steal(&in);
}

static void send_str(int fd, SSL *ssl, const char *s)
{
	if (ssl != NULL)
		ck_assert_int_eq(SSL_write(ssl, s, (int)strlen(s)), (int)strlen(s));
	else
		ck_assert_int_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

static void expect(int fd, SSL *ssl, const char *want)
{
	char *got = read_until(fd, ssl, want);

	ck_assert_msg(strstr(got, want) != NULL, "wanted '%s', got '%s'", want, got);
	free(got);
}

static SSL *tls_connect(SSL_CTX **ctxp, int fd)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = SSL_new(ctx);

	SSL_set_fd(ssl, fd);
	ck_assert_int_eq(SSL_connect(ssl), 1);
	*ctxp = ctx;
	return ssl;
}

static void tls_free(SSL *ssl, SSL_CTX *ctx)
{
	SSL_shutdown(ssl);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
}

/* Resident memory of a process, in KiB. */
static long rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* ---- tests ---- */

START_TEST(test_pipelined_lines_in_order)
{
	struct fixture fx;
	int fd;

	start_server(&fx, "");
	fd = dial(fx.port_plain);
	expect(fd, NULL, "+OK echo\r\n");
	send_str(fd, NULL, "one\r\ntwo\r\nSLEEP\r\nthree\r\nQUIT\r\n");
	expect(fd, NULL, "ECHO one\r\nECHO two\r\n+OK slept\r\nECHO three\r\n+OK bye\r\n");
	close(fd);
	stop_server(&fx);
}
END_TEST

START_TEST(test_overlong_line_then_in_sync)
{
	struct fixture fx;
	char line[300];
	int fd;

	start_server(&fx, "");
	fd = dial(fx.port_plain);
	expect(fd, NULL, "+OK echo\r\n");
	memset(line, 'x', sizeof(line));
	line[sizeof(line) - 1] = '\0';
	send_str(fd, NULL, line);
	send_str(fd, NULL, "\r\nafter\r\n");
	expect(fd, NULL, "-ERR line too long\r\nECHO after\r\n");
	close(fd);
	stop_server(&fx);
}
END_TEST

START_TEST(test_starttls_discards_injected_commands)
{
	struct fixture fx;
	SSL_CTX *ctx;
	SSL *ssl;
	char *got;
	int fd;

	start_server(&fx, "");
	fd = dial(fx.port_plain);
	expect(fd, NULL, "+OK echo\r\n");
	/* The classic injection: a command after STARTTLS in the same packet. */
	send_str(fd, NULL, "STARTTLS\r\nINJECTED\r\n");
	expect(fd, NULL, "+OK begin TLS\r\n");
	ssl = tls_connect(&ctx, fd);
	send_str(fd, ssl, "hello\r\n");
	got = read_until(fd, ssl, "ECHO hello\r\n");
	ck_assert_msg(strstr(got, "INJECTED") == NULL, "injected command ran: %s", got);
	ck_assert_ptr_nonnull(strstr(got, "+OK now TLSv1."));
	ck_assert_ptr_nonnull(strstr(got, "ECHO hello\r\n"));
	free(got);
	tls_free(ssl, ctx);
	close(fd);
	stop_server(&fx);
}
END_TEST

START_TEST(test_implicit_tls)
{
	struct fixture fx;
	SSL_CTX *ctx;
	SSL *ssl;
	int fd;

	start_server(&fx, "");
	fd = dial(fx.port_tls);
	ssl = tls_connect(&ctx, fd);
	ck_assert_int_ge(SSL_version(ssl), TLS1_2_VERSION);
	expect(fd, ssl, "+OK echo tls\r\n");
	send_str(fd, ssl, "x\r\nQUIT\r\n");
	expect(fd, ssl, "ECHO x\r\n+OK bye\r\n");
	tls_free(ssl, ctx);
	close(fd);
	stop_server(&fx);
}
END_TEST

START_TEST(test_garbage_instead_of_handshake)
{
	struct fixture fx;
	int fd;

	start_server(&fx, "");
	fd = dial(fx.port_plain);
	expect(fd, NULL, "+OK echo\r\n");
	send_str(fd, NULL, "STARTTLS\r\n");
	expect(fd, NULL, "+OK begin TLS\r\n");
	send_str(fd, NULL, "this is not a TLS ClientHello\r\n\r\n");
	char *rest = read_until(fd, NULL, "never");
	ck_assert_ptr_null(strstr(rest, "ECHO"));
	free(rest);
	close(fd);
	/* The server still serves the next client. */
	fd = dial(fx.port_plain);
	expect(fd, NULL, "+OK echo\r\n");
	close(fd);
	stop_server(&fx);
}
END_TEST

START_TEST(test_connection_limit_per_ip)
{
	struct fixture fx;
	int fds[3], extra;

	start_server(&fx, "max_connections_per_ip = 3\n");
	for (int i = 0; i < 3; i++) {
		fds[i] = dial(fx.port_plain);
		expect(fds[i], NULL, "+OK echo\r\n");
	}
	extra = dial(fx.port_plain);
	expect(extra, NULL, "-ERR too many connections\r\n");
	close(extra);
	close(fds[0]);
	usleep(200 * 1000);
	extra = dial(fx.port_plain);
	expect(extra, NULL, "+OK echo\r\n");
	close(extra);
	close(fds[1]);
	close(fds[2]);
	stop_server(&fx);
}
END_TEST

START_TEST(test_idle_timeout)
{
	struct fixture fx;
	char *rest;
	int fd;

	start_server(&fx, "");
	fd = dial(fx.port_plain);
	expect(fd, NULL, "+OK echo\r\n");
	send_str(fd, NULL, "TIMEOUT 1\r\n");
	expect(fd, NULL, "+OK timeout 1\r\n");
	rest = read_until(fd, NULL, "never");	/* until the server closes */
	ck_assert_str_eq(rest, "-ERR idle timeout\r\n");
	free(rest);
	close(fd);
	stop_server(&fx);
}
END_TEST

START_TEST(test_back_pressure_and_others_served)
{
	struct fixture fx;
	char *got;
	int slow, other;

	long before, during;

	start_server(&fx, "max_output_buffer = 64K\n");
	slow = dial(fx.port_plain);
	expect(slow, NULL, "+OK echo\r\n");
	before = rss_kib(fx.pid);
	/* 20 MB of reply that the client does not read for a while. */
	send_str(slow, NULL, "BIG 20000000\r\n");
	usleep(300 * 1000);
	during = rss_kib(fx.pid);
	/* Bounded by max_output_buffer, not 20 MB (the slack is for ASan's
	 * shadow memory and quarantine). */
	ck_assert_msg(during - before < 8192, "server grew by %ld KiB", during - before);
	other = dial(fx.port_plain);
	expect(other, NULL, "+OK echo\r\n");
	send_str(other, NULL, "still here\r\n");
	expect(other, NULL, "ECHO still here\r\n");
	close(other);
	got = read_until(slow, NULL, "+OK big done\r\n");
	ck_assert_uint_eq(strlen(got), 20000000 + strlen("\r\n+OK big done\r\n"));
	free(got);
	close(slow);
	stop_server(&fx);
}
END_TEST

/* A line that waits behind a long reply stays behind it when the client has
 * read part of that reply (its output below the limit, not yet down to the
 * low-water mark that resumes the producer) and then sends more: the line
 * came in the middle of the reply before, and imapd spun finishing a FETCH
 * there. */
START_TEST(test_line_waits_for_pending_reply)
{
	struct fixture fx;
	const size_t big = 8000000;
	char chunk[65536];
	size_t got = 0;
	char *rest;
	int fd;

	start_server(&fx, "max_output_buffer = 1M\n");
	fd = dial(fx.port_plain);
	expect(fd, NULL, "+OK echo\r\n");
	send_str(fd, NULL, "BIG 8000000\r\nafter\r\n");
	usleep(300 * 1000);
	while (got < 300 * 1024) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		ck_assert_int_gt(n, 0);
		for (ssize_t i = 0; i < n; i++)
			ck_assert_msg(chunk[i] == 'b', "reply broken at %zu", got);
		got += (size_t)n;
	}
	usleep(200 * 1000);
	send_str(fd, NULL, "more\r\n");
	rest = read_until(fd, NULL, "ECHO more\r\n");
	ck_assert_uint_eq(got + strlen(rest), big + strlen("\r\n+OK big done\r\n"
		"ECHO after\r\nECHO more\r\n"));
	for (size_t i = 0; i < big - got; i++)
		ck_assert_msg(rest[i] == 'b', "reply broken at %zu", got + i);
	ck_assert_str_eq(rest + big - got,
			 "\r\n+OK big done\r\nECHO after\r\nECHO more\r\n");
	free(rest);
	close(fd);
	stop_server(&fx);
}
END_TEST

START_TEST(test_half_close_answers_pipelined)
{
	struct fixture fx;
	int fd;

	start_server(&fx, "");
	fd = dial(fx.port_plain);
	expect(fd, NULL, "+OK echo\r\n");
	send_str(fd, NULL, "SLEEP\r\nlast\r\n");
	shutdown(fd, SHUT_WR);
	expect(fd, NULL, "+OK slept\r\nECHO last\r\n");
	close(fd);
	stop_server(&fx);
}
END_TEST

/* A client that sends a command with a long reply and closes its side
 * (half-close) still gets the whole reply, then the close. */
START_TEST(test_half_close_long_reply)
{
	struct fixture fx;
	char *got;
	int fd;

	start_server(&fx, "max_output_buffer = 64K\n");
	fd = dial(fx.port_plain);
	expect(fd, NULL, "+OK echo\r\n");
	send_str(fd, NULL, "BIG 3000000\r\nlast\r\n");
	shutdown(fd, SHUT_WR);
	usleep(200 * 1000);
	got = read_until(fd, NULL, "ECHO last\r\n");
	ck_assert_uint_eq(strlen(got), 3000000 + strlen("\r\n+OK big done\r\n"
							 "ECHO last\r\n"));
	free(got);
	close(fd);
	stop_server(&fx);
}
END_TEST

START_TEST(test_sighup_and_graceful_stop)
{
	struct fixture fx;
	int fd, status;
	char *rest;

	start_server(&fx, "");
	fd = dial(fx.port_plain);
	expect(fd, NULL, "+OK echo\r\n");
	kill(fx.pid, SIGHUP);
	usleep(200 * 1000);
	send_str(fd, NULL, "after reload\r\n");
	expect(fd, NULL, "ECHO after reload\r\n");
	/* SIGTERM: the open session is told, then the server exits 0. */
	kill(fx.pid, SIGTERM);
	rest = read_until(fd, NULL, "never");
	ck_assert_str_eq(rest, "-ERR server shutting down\r\n");
	free(rest);
	close(fd);
	ck_assert_int_eq(waitpid(fx.pid, &status, 0), fx.pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	unit_rmtree(fx.dir);
	free(fx.dir);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("conn");
	TCase *tc = tcase_create("live");

	signal(SIGPIPE, SIG_IGN);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_pipelined_lines_in_order);
	tcase_add_test(tc, test_overlong_line_then_in_sync);
	tcase_add_test(tc, test_starttls_discards_injected_commands);
	tcase_add_test(tc, test_implicit_tls);
	tcase_add_test(tc, test_garbage_instead_of_handshake);
	tcase_add_test(tc, test_connection_limit_per_ip);
	tcase_add_test(tc, test_idle_timeout);
	tcase_add_test(tc, test_back_pressure_and_others_served);
	tcase_add_test(tc, test_half_close_answers_pipelined);
	tcase_add_test(tc, test_line_waits_for_pending_reply);
	tcase_add_test(tc, test_half_close_long_reply);
	tcase_add_test(tc, test_sighup_and_graceful_stop);
	suite_add_tcase(s, tc);
	return s;
}
