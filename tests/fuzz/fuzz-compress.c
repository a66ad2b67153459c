/* libFuzzer target for the COMPRESS=DEFLATE filter (common/compress.h):
 * the input is what a client sends after COMPRESS, written to a socketpair
 * whose other end carries the filter, with the read high-water mark the
 * connection uses.  Checks: the filter refuses at most once and never holds
 * more inflated input than the mark plus one step.  tests/unit/test-fuzz-replay.c replays
 * tests/fuzz/corpus-compress/. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/compress.h"
#include "tests/fuzz/fuzz.h"

#define HIGH_WATER (256 * 1024)
#define OVERSHOOT (1100 * 1024)

struct state {
	int refusals;
};

static void refused(void *arg, const char *why)
{
	struct state *st = arg;

	FUZZ_CHECK(why != NULL);
	st->refusals++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state st = { 0 };
	struct event_base *base = event_base_new();
	struct bufferevent *under, *z;
	int fds[2];
	size_t off = 0;

	FUZZ_CHECK(base != NULL);
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
	evutil_make_socket_nonblocking(fds[0]);
	evutil_make_socket_nonblocking(fds[1]);
	under = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE);
	z = compress_filter_new(under, refused, &st);
	FUZZ_CHECK(z != NULL);
	bufferevent_setwatermark(z, EV_READ, 0, HIGH_WATER);
	bufferevent_enable(z, EV_READ | EV_WRITE);
	for (int rounds = 0; rounds < 64 && (off < size || rounds < 2); rounds++) {
		struct evbuffer *in = bufferevent_get_input(z);
		ssize_t w = off < size ? write(fds[1], data + off, size - off) : 0;
		size_t waiting;

		if (w > 0)
			off += (size_t)w;
		event_base_loop(base, EVLOOP_NONBLOCK);
		waiting = evbuffer_get_length(in);
		FUZZ_CHECK(waiting <= HIGH_WATER + OVERSHOOT);
		evbuffer_drain(in, waiting);
	}
	FUZZ_CHECK(st.refusals <= 1);
	/* a reply still leaves after whatever came in */
	bufferevent_write(z, "* OK\r\n", 6);
	event_base_loop(base, EVLOOP_NONBLOCK);
	bufferevent_free(z);
	close(fds[1]);
	event_base_free(base);
	return 0;
}
