/* The COMPRESS=DEFLATE filter (common/compress.c) over a socketpair with
 * a real event loop: both directions decode with plain zlib, a deflate
 * bomb and bytes that are not deflate are refused, and inflated input
 * that nobody reads stays near the read high-water mark. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include "common/compress.h"
#include "tests/unit/unit.h"

#define HIGH_WATER (256 * 1024)
/* what the filter may add past the mark: one step's worth (ZIN_STEP
 * bytes at deflate's best ratio) plus a chunk */
#define OVERSHOOT (1100 * 1024)

struct side {
	struct event_base *base;
	int peer;			/* the client's end */
	struct bufferevent *z;
	const char *why;		/* set when refused */
	z_stream out;			/* the client's deflate */
};

static void refused(void *arg, const char *why)
{
	struct side *s = arg;

	ck_assert_ptr_null(s->why);	/* once */
	s->why = why;
}

static void side_open(struct side *s)
{
	int fds[2];
	struct bufferevent *under;

	memset(s, 0, sizeof(*s));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	evutil_make_socket_nonblocking(fds[0]);
	evutil_make_socket_nonblocking(fds[1]);
	s->peer = fds[1];
	s->base = event_base_new();
	under = bufferevent_socket_new(s->base, fds[0], BEV_OPT_CLOSE_ON_FREE);
	s->z = compress_filter_new(under, refused, s);
	ck_assert_ptr_nonnull(s->z);
	bufferevent_setwatermark(s->z, EV_READ, 0, HIGH_WATER);
	bufferevent_enable(s->z, EV_READ | EV_WRITE);
	ck_assert_int_eq(deflateInit2(&s->out, 9, Z_DEFLATED, -15, 8,
				      Z_DEFAULT_STRATEGY), Z_OK);
}

static void side_close(struct side *s)
{
	bufferevent_free(s->z);
	event_base_free(s->base);
	close(s->peer);
	deflateEnd(&s->out);
}

static void pump(struct side *s)
{
	for (int i = 0; i < 4; i++)
		event_base_loop(s->base, EVLOOP_NONBLOCK);
}

static size_t inflated_waiting(struct side *s)
{
	return evbuffer_get_length(bufferevent_get_input(s->z));
}

/* The client's deflate of p[0..n), sync-flushed; *len_r bytes, malloc'd. */
static unsigned char *client_deflate(struct side *s, const void *p, size_t n,
				     size_t *len_r)
{
	size_t cap = deflateBound(&s->out, (uLong)n) + 64;
	unsigned char *out = malloc(cap);

	s->out.next_in = (unsigned char *)p;
	s->out.avail_in = (uInt)n;
	s->out.next_out = out;
	s->out.avail_out = (uInt)cap;
	ck_assert_int_eq(deflate(&s->out, Z_SYNC_FLUSH), Z_OK);
	ck_assert_uint_eq(s->out.avail_in, 0);
	*len_r = cap - s->out.avail_out;
	return out;
}

/* Writes all of p to the peer socket, pumping the loop; gives up when the
 * server side stops taking bytes or refused.  Returns the bytes sent. */
static size_t send_all(struct side *s, const unsigned char *p, size_t n,
		       size_t *max_waiting)
{
	size_t off = 0;
	int stuck = 0;

	while (off < n && s->why == NULL && stuck < 50) {
		ssize_t w = write(s->peer, p + off, n - off);

		if (w > 0) {
			off += (size_t)w;
			stuck = 0;
		} else {
			ck_assert(errno == EAGAIN);
			stuck++;
		}
		pump(s);
		if (inflated_waiting(s) > *max_waiting)
			*max_waiting = inflated_waiting(s);
	}
	return off;
}

START_TEST(test_both_ways)
{
	struct side s;
	static const char cmd[] = "a1 SELECT INBOX\r\n";
	unsigned char *wire, got[4096], plain[4096];
	size_t len, max = 0;
	ssize_t n;
	z_stream in = { 0 };

	side_open(&s);
	wire = client_deflate(&s, cmd, strlen(cmd), &len);
	ck_assert_uint_eq(send_all(&s, wire, len, &max), len);
	free(wire);
	ck_assert_uint_eq(inflated_waiting(&s), strlen(cmd));
	ck_assert_int_eq(memcmp(evbuffer_pullup(bufferevent_get_input(s.z), -1),
				cmd, strlen(cmd)), 0);
	/* a reply leaves whole, decodable without more bytes */
	bufferevent_write(s.z, "* OK done\r\n", 11);
	pump(&s);
	n = read(s.peer, got, sizeof(got));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(inflateInit2(&in, -15), Z_OK);
	in.next_in = got;
	in.avail_in = (uInt)n;
	in.next_out = plain;
	in.avail_out = sizeof(plain);
	ck_assert_int_eq(inflate(&in, Z_SYNC_FLUSH), Z_OK);
	ck_assert_uint_eq(sizeof(plain) - in.avail_out, 11);
	ck_assert_int_eq(memcmp(plain, "* OK done\r\n", 11), 0);
	inflateEnd(&in);
	ck_assert_ptr_null(s.why);
	side_close(&s);
}
END_TEST

START_TEST(test_bomb)
{
	struct side s;
	size_t zeros = 10u << 20, len, max = 0;
	unsigned char *block = calloc(1, zeros), *wire;

	side_open(&s);
	wire = client_deflate(&s, block, zeros, &len);
	ck_assert_uint_lt(len, 20 << 10);
	for (int i = 0; i < 20 && s.why == NULL; i++)
		send_all(&s, wire, len, &max);
	ck_assert_ptr_nonnull(s.why);
	ck_assert_ptr_nonnull(strstr(s.why, "deflate bomb"));
	ck_assert_uint_le(max, HIGH_WATER + OVERSHOOT);
	free(wire);
	free(block);
	side_close(&s);
}
END_TEST

START_TEST(test_not_deflate)
{
	struct side s;
	/* a stored block whose length check fails */
	static const unsigned char junk[] = { 0x00, 0x05, 0x00, 0x05, 0x00,
					      'h', 'e', 'l', 'l', 'o' };
	size_t max = 0;

	side_open(&s);
	send_all(&s, junk, sizeof(junk), &max);
	pump(&s);
	ck_assert_ptr_nonnull(s.why);
	ck_assert_str_eq(s.why, "invalid compressed data");
	ck_assert_uint_eq(inflated_waiting(&s), 0);
	side_close(&s);
}
END_TEST

/* A legitimate stream (about 5:1) that the session does not read: the
 * filter stops inflating near the mark instead of growing. */
START_TEST(test_back_pressure)
{
	struct side s;
	size_t n = 8u << 20, len, max = 0, sent;
	unsigned char *text = malloc(n), *wire;

	srandom(1);
	for (size_t i = 0; i < n; i++)
		text[i] = (unsigned char)"abcdefghijklmnop"[random() % 16];
	side_open(&s);
	wire = client_deflate(&s, text, n, &len);
	sent = send_all(&s, wire, len, &max);
	ck_assert_ptr_null(s.why);
	ck_assert_uint_lt(sent, len);	/* the socket filled up */
	ck_assert_uint_ge(max, HIGH_WATER);
	ck_assert_uint_le(max, HIGH_WATER + OVERSHOOT);
	/* reading lets it go on */
	evbuffer_drain(bufferevent_get_input(s.z), inflated_waiting(&s));
	pump(&s);
	ck_assert_uint_gt(inflated_waiting(&s), 0);
	free(wire);
	free(text);
	side_close(&s);
}
END_TEST

/* The client's inflate of whatever the peer socket holds, appended to
 * plain at *len. */
static void client_inflate(struct side *s, z_stream *in, unsigned char *plain,
			   size_t cap, size_t *len)
{
	unsigned char wire[65536];
	ssize_t n;

	pump(s);
	while ((n = read(s->peer, wire, sizeof(wire))) > 0) {
		in->next_in = wire;
		in->avail_in = (uInt)n;
		in->next_out = plain + *len;
		in->avail_out = (uInt)(cap - *len);
		ck_assert_int_eq(inflate(in, Z_SYNC_FLUSH), Z_OK);
		ck_assert_uint_eq(in->avail_in, 0);
		*len = cap - in->avail_out;
		pump(s);
	}
}

/* Between commands both streams are parked: only their windows stay (at
 * most 8 KiB out, at most what came in), and a stream resumed after
 * parking refers back into the kept window, so every reply and command
 * still decodes exactly, over many rounds. */
START_TEST(test_parked_between_commands)
{
	struct side s;
	size_t base = compress_memory_in_use(), received = 0;
	size_t cap = 1u << 20, got = 0, want = 0;
	unsigned char *plain = malloc(cap), *expect = malloc(cap);
	z_stream in = { 0 };

	side_open(&s);
	ck_assert_int_eq(inflateInit2(&in, -15), Z_OK);
	/* nothing allocated until data moves */
	ck_assert_uint_eq(compress_memory_in_use(), base);
	for (int round = 0; round < 40; round++) {
		char cmd[64], reply[2048];
		unsigned char *wire;
		size_t len, max = 0, rlen;
		struct evbuffer *ib = bufferevent_get_input(s.z);

		snprintf(cmd, sizeof(cmd), "a%d UID FETCH %d (FLAGS)\r\n",
			 round, round);
		wire = client_deflate(&s, cmd, strlen(cmd), &len);
		ck_assert_uint_eq(send_all(&s, wire, len, &max), len);
		free(wire);
		received += strlen(cmd);
		ck_assert_uint_eq(inflated_waiting(&s), strlen(cmd));
		ck_assert_int_eq(memcmp(evbuffer_pullup(ib, -1), cmd,
					strlen(cmd)), 0);
		evbuffer_drain(ib, strlen(cmd));
		rlen = (size_t)snprintf(reply, sizeof(reply),
			"* %d FETCH (UID %d FLAGS (\\Seen))\r\n"
			"a%d OK UID FETCH completed\r\n", round, round, round);
		ck_assert_uint_lt(want + rlen, cap);
		memcpy(expect + want, reply, rlen);
		want += rlen;
		bufferevent_write(s.z, reply, rlen);
		client_inflate(&s, &in, plain, cap, &got);
		ck_assert_uint_eq(got, want);
		ck_assert_int_eq(memcmp(plain, expect, want), 0);
		/* at rest: the windows only */
		ck_assert_uint_le(compress_memory_in_use() - base,
				  8192 + (received < 32768 ? received : 32768));
	}
	/* repeated replies compress against the kept window */
	ck_assert_uint_lt(in.total_in, want / 2);
	ck_assert_ptr_null(s.why);
	inflateEnd(&in);
	side_close(&s);
	ck_assert_uint_eq(compress_memory_in_use(), base);
	free(plain);
	free(expect);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *suite = suite_create("compress");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_both_ways);
	tcase_add_test(tc, test_bomb);
	tcase_add_test(tc, test_not_deflate);
	tcase_add_test(tc, test_back_pressure);
	tcase_add_test(tc, test_parked_between_commands);
	suite_add_tcase(suite, tc);
	return suite;
}
