#ifndef SMTPD_RUNNER_H
#define SMTPD_RUNNER_H
#include <stddef.h>

/* The queue runner: inside the server, on its event loop, it delivers what
 * DIR/queue holds (smtpd/queue.h) with the relay client (smtpd/client.h):
 * due messages first, one connection per destination reused for several
 * messages, at most queue_max_connections in total and
 * queue_max_per_destination to one destination, exponential back-off from
 * queue_retry_base to queue_retry_max, failure after queue_lifetime.
 * Blocking work (queue files, DNS) runs on the server's worker pool. */

struct server;
struct queue_runner;

/* Starts the runner for srv (after server_init): recovers the queue
 * directory and schedules every message found there.  NULL with a
 * message in err_r. */
struct queue_runner *queue_runner_start(struct server *srv, char *err_r,
					size_t errlen);
/* Message `id` was queued: try it now.  A no-op when no runner runs
 * (unit tests). */
void queue_runner_kick(const char *id);
struct queue_env;
/* The same for a message just queued whose envelope (*envp) and text
 * (text[0..len), NULL when it is not in memory) the caller still holds:
 * the first attempt starts at once without reading them back from the
 * queue.  Takes *envp (sets it to NULL) when it uses it; copies text. */
void queue_runner_kick_loaded(const char *id, struct queue_env **envp,
			      const char *text, size_t len);
/* Before server_free: closes every connection and timer.  Jobs still on
 * the worker pool finish harmlessly during server_free. */
void queue_runner_stop(struct queue_runner *r);
/* After server_free. */
void queue_runner_free(struct queue_runner **rp);

#endif
