#ifndef COMMON_SERVER_H
#define COMMON_SERVER_H
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/proto.h"

/* The running suite: one event loop thread, a few worker threads, every
 * listener and connection.  common/server.c owns listeners, limits, signals
 * and reload; common/conn.c owns one connection's I/O. */

struct event_base;
struct conn;
struct listener;
struct worker_pool;
struct ip_count;
struct fd_watch;
struct penalty;

/* A configuration shared by the sessions that started under it; a reload
 * makes a new one and the old one lives until its last session ends. */
struct config_ref {
	struct config cfg;
	unsigned int refs;
};

#define IP_BUCKETS 256
#define SERVER_MAX_RELOAD_HOOKS 4
#define SERVER_MAX_STOP_HOOKS 2

/* Told the new configuration after a reload (server_on_reload). */
typedef void server_reload_fn(void *arg, const struct config *cfg);
/* Told that a graceful stop begins (server_on_stop). */
typedef void server_stop_fn(void *arg);

struct server {
	struct event_base *base;
	struct config_ref *cfg;		/* the current configuration */
	SSL_CTX *tls;			/* NULL when no certificate is loaded */
	struct userdb *users;
	struct penalty *penalty;	/* auth failures across connections */
	struct worker_pool *pool;
	const struct protocol *protocols[SVC_COUNT];
	struct listener *listeners;
	struct conn *conns;		/* every open connection */
	size_t n_conns;
	struct ip_count *ip_counts[IP_BUCKETS];
	char *trace_dir;		/* DIR/log/trace */
	bool stopping;
	uint32_t next_session;
	struct event *ev_int, *ev_term, *ev_hup, *ev_grace, *ev_hard, *ev_poll;
	struct fd_watch *watches;	/* io->watch_fd (watch.c) */
	struct {
		server_reload_fn *fn;
		void *arg;
	} reload_hooks[SERVER_MAX_RELOAD_HOOKS];
	size_t n_reload_hooks;
	struct {
		server_stop_fn *fn;
		void *arg;
	} stop_hooks[SERVER_MAX_STOP_HOOKS];
	size_t n_stop_hooks;
	unsigned int n_holds;		/* server_hold: work a stop waits for */
	size_t conns_peak;		/* most connections since the last
					 * memory trim (server_conn_closed) */
	struct event *ev_trim;
	struct event *ev_failchk;	/* DBENV_FAILCHK_SECS: dbenv_failchk_all */
	bool failchk_running;		/* one job at a time */
};

/* Sets up everything for the instance in cfg (takes ownership of cfg):
 * TLS, user database, worker pool, listeners for every service that has a
 * protocol and a port.  -1 with one clear line in err_r. */
int server_init(struct server *srv, struct config *cfg,
		const struct protocol *const protocols[SVC_COUNT],
		char *err_r, size_t errlen);
/* After each reload (SIGHUP) that took, fn(arg, the new configuration)
 * runs on the loop thread: for what a module built from the old one (the
 * queue runner's CA file).  At most SERVER_MAX_RELOAD_HOOKS; more abort. */
void server_on_reload(struct server *srv, server_reload_fn *fn, void *arg);
/* When a graceful stop begins (SIGINT/SIGTERM), fn(arg) runs on the loop
 * thread: for a module's own connections (the queue runner's outbound
 * ones say QUIT).  At most SERVER_MAX_STOP_HOOKS; more abort. */
void server_on_stop(struct server *srv, server_stop_fn *fn, void *arg);
/* A graceful stop with no session left still waits for each hold to be
 * released (server_release), but never beyond shutdown_grace: the hold's
 * owner bounds its wait by a shorter time of its own. */
void server_hold(struct server *srv);
void server_release(struct server *srv);
/* Runs until SIGINT/SIGTERM and a graceful stop.  Returns 0. */
int server_run(struct server *srv);
void server_free(struct server *srv);
/* conn.c, after a connection is gone: once many of the connections there
 * were have closed (or all), the memory they freed is given back to the
 * system a moment later. */
void server_conn_closed(struct server *srv);
/* Prints the listening services ("smtp 127.0.0.1:10025 ...") to f. */
void server_print_listeners(const struct server *srv, FILE *f);

/* conn.c: a new connection accepted on fd for service svc. */
void conn_accept(struct server *srv, int fd, const char *ip, bool loopback,
		 enum service_id svc);
/* Asks the session to end (shutdown reply), then closes it. */
void conn_shutdown(struct conn *c);
/* Tells the session the server is stopping (io->stopping). */
void conn_mark_stopping(struct conn *c);
/* Closes without a word (hard stop). */
void conn_abort(struct conn *c);
/* Frees at once; only when no callback of c is running (server teardown). */
void conn_destroy(struct conn *c);
struct conn *conn_next(struct conn *c);

/* watch.c: io->watch_fd for every session of srv, and its teardown. */
void server_watch_fd(struct server *srv, int fd, work_fn *ready, void *arg);
void server_watches_free(struct server *srv);

/* server.c, for conn.c */
void server_conn_gone(struct server *srv, const char *ip);
struct config_ref *server_config_ref(struct server *srv);
void server_config_unref(struct config_ref **refp);

#endif
