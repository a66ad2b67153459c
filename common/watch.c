/* io->watch_fd: process-wide descriptors the loop watches for the
 * protocols (the store's change notification), one event each. */
#include <event2/event.h>
#include <stdlib.h>

#include "common/server.h"
#include "common/xalloc.h"

struct fd_watch {
	int fd;
	work_fn *ready;
	void *arg;
	struct event *ev;
	struct fd_watch *next;
};

static void on_ready(evutil_socket_t fd, short what, void *arg)
{
	struct fd_watch *w = arg;

	(void)fd;
	(void)what;
	w->ready(w->arg);
}

void server_watch_fd(struct server *srv, int fd, work_fn *ready, void *arg)
{
	struct fd_watch *w;

	for (w = srv->watches; w != NULL; w = w->next)
		if (w->fd == fd)
			return;
	w = xcalloc(1, sizeof(*w));
	w->fd = fd;
	w->ready = ready;
	w->arg = arg;
	w->ev = event_new(srv->base, fd, EV_READ | EV_PERSIST, on_ready, w);
	if (w->ev == NULL || event_add(w->ev, NULL) < 0) {
		if (w->ev != NULL)
			event_free(w->ev);
		free(w);
		return;
	}
	w->next = srv->watches;
	srv->watches = w;
}

void server_watches_free(struct server *srv)
{
	struct fd_watch *w, *next;

	for (w = srv->watches; w != NULL; w = next) {
		next = w->next;
		event_free(w->ev);
		free(w);
	}
	srv->watches = NULL;
}
