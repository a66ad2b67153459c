/* The running suite: listeners, connection limits, signals, reload and the
 * graceful stop.  Connections themselves are common/conn.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <grp.h>
#include <malloc.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/penalty.h"
#include "common/server.h"
#include "common/tls.h"
#include "common/users.h"
#include "common/dbenv.h"
#include "common/worker.h"
#include "common/xalloc.h"

struct listener {
	struct server *srv;
	struct evconnlistener *evl;
	enum service_id svc;
	char addr[80];			/* "127.0.0.1:10025" */
	struct listener *next;
};

struct ip_count {
	char ip[64];
	size_t n;
	struct ip_count *next;
};

static unsigned int ip_hash(const char *ip)
{
	unsigned int h = 2166136261u;

	for (; *ip != '\0'; ip++)
		h = (h ^ (unsigned char)*ip) * 16777619u;
	return h % IP_BUCKETS;
}

static struct ip_count **ip_slot(struct server *srv, const char *ip)
{
	struct ip_count **p = &srv->ip_counts[ip_hash(ip)];

	while (*p != NULL && strcmp((*p)->ip, ip) != 0)
		p = &(*p)->next;
	return p;
}

void server_conn_gone(struct server *srv, const char *ip)
{
	struct ip_count **p = ip_slot(srv, ip), *e = *p;

	if (e == NULL)
		return;
	if (--e->n == 0) {
		*p = e->next;
		free(e);
	}
}

/* Counts a new connection from ip; false when a limit says no. */
static bool admit(struct server *srv, const char *ip)
{
	const struct config *cfg = &srv->cfg->cfg;
	struct ip_count **p = ip_slot(srv, ip);

	if (srv->n_conns >= cfg->max_connections)
		return false;
	if (*p != NULL && (*p)->n >= cfg->max_connections_per_ip)
		return false;
	if (*p == NULL) {
		*p = xcalloc(1, sizeof(**p));
		snprintf((*p)->ip, sizeof((*p)->ip), "%s", ip);
	}
	(*p)->n++;
	return true;
}

struct config_ref *server_config_ref(struct server *srv)
{
	srv->cfg->refs++;
	return srv->cfg;
}

void server_config_unref(struct config_ref **refp)
{
	struct config_ref *ref = *refp;

	*refp = NULL;
	if (ref != NULL && --ref->refs == 0) {
		config_free(&ref->cfg);
		free(ref);
	}
}

static void peer_text(const struct sockaddr *sa, char *ip, size_t len,
		      bool *loopback_r)
{
	*loopback_r = false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, ip, (socklen_t)len);
		*loopback_r = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, ip, (socklen_t)len);
		*loopback_r = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			*loopback_r = in6->sin6_addr.s6_addr[12] == 127;
	} else {
		snprintf(ip, len, "unknown");
	}
}

static void refuse(struct listener *l, int fd, const char *ip)
{
	const char *reply = l->srv->protocols[l->svc]->busy_reply;

	log_msg(service_name(l->svc), NULL, "refused %s: too many connections", ip);
	/* Best effort: a fresh socket's buffer takes one short line.  On an
	 * implicit-TLS port there is no way to say it before a handshake. */
	if (reply != NULL && l->svc != SVC_SUBMISSIONS && l->svc != SVC_POP3S &&
	    l->svc != SVC_IMAPS && write(fd, reply, strlen(reply)) < 0)
		log_msg(service_name(l->svc), NULL, "write to %s failed: %m", ip);
	close(fd);
}

static void on_accept(struct evconnlistener *evl, evutil_socket_t fd,
		      struct sockaddr *sa, int salen, void *arg)
{
	struct listener *l = arg;
	char ip[64];
	bool loopback;

	(void)evl;
	(void)salen;
	peer_text(sa, ip, sizeof(ip), &loopback);
	if (l->srv->stopping || !admit(l->srv, ip)) {
		refuse(l, fd, ip);
		return;
	}
	conn_accept(l->srv, fd, ip, loopback, l->svc);
}

static void on_accept_error(struct evconnlistener *evl, void *arg)
{
	struct listener *l = arg;

	(void)evl;
	/* EMFILE and friends: keep serving those already connected. */
	log_msg(service_name(l->svc), NULL, "accept() on %s failed: %s", l->addr,
		strerror(EVUTIL_SOCKET_ERROR()));
}

static int parse_addr(const char *host, int port, struct sockaddr_storage *ss,
		      socklen_t *len)
{
	struct sockaddr_in *in = (void *)ss;
	struct sockaddr_in6 *in6 = (void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		*len = sizeof(*in);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*in6);
		return 0;
	}
	return -1;
}

static int add_listener(struct server *srv, enum service_id svc,
			const char *host, int port, char *err_r, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct listener *l = xcalloc(1, sizeof(*l));

	l->srv = srv;
	l->svc = svc;
	snprintf(l->addr, sizeof(l->addr), strchr(host, ':') ? "[%s]:%d" : "%s:%d",
		 host, port);
	if (parse_addr(host, port, &ss, &len) < 0) {
		snprintf(err_r, errlen, "maillab.conf: listen: '%s' is not an IP address",
			 host);
		free(l);
		return -1;
	}
	l->evl = evconnlistener_new_bind(srv->base, on_accept, l,
			LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
			128, (struct sockaddr *)&ss, (int)len);
	if (l->evl == NULL) {
		snprintf(err_r, errlen, "cannot listen on %s (%s): %s", l->addr,
			 service_name(svc), strerror(errno));
		free(l);
		return -1;
	}
	evconnlistener_set_error_cb(l->evl, on_accept_error);
	l->next = srv->listeners;
	srv->listeners = l;
	return 0;
}

static int open_listeners(struct server *srv, char *err_r, size_t errlen)
{
	const struct config *cfg = &srv->cfg->cfg;

	for (int svc = 0; svc < SVC_COUNT; svc++) {
		if (srv->protocols[svc] == NULL || cfg->port[svc] == 0)
			continue;
		for (size_t i = 0; i < cfg->n_listen; i++) {
			if (add_listener(srv, (enum service_id)svc, cfg->listen[i],
					 cfg->port[svc], err_r, errlen) < 0)
				return -1;
		}
	}
	if (srv->listeners == NULL) {
		snprintf(err_r, errlen, "maillab.conf: no service has a port and a server");
		return -1;
	}
	return 0;
}

void server_print_listeners(const struct server *srv, FILE *f)
{
	for (const struct listener *l = srv->listeners; l != NULL; l = l->next)
		fprintf(f, "  listening: %-12s %s\n", service_name(l->svc), l->addr);
}

/* Drops root after binding (DESIGN.md "Listeners"): to run_as, or when it
 * is empty to the owner of the instance directory, never staying root.  The
 * instance must already belong to that user (cli/run-as.h hands it over). */
static int drop_privileges(const char *user, const char *dir, char *err_r,
			   size_t errlen)
{
	struct passwd *pw;
	struct stat st;

	if (geteuid() != 0)
		return 0;
	if (user == NULL || *user == '\0') {
		if (stat(dir, &st) < 0) {
			snprintf(err_r, errlen, "%s: %s", dir, strerror(errno));
			return -1;
		}
		pw = getpwuid(st.st_uid);
	} else {
		pw = getpwnam(user);
	}
	if (user == NULL || *user == '\0')
		user = pw != NULL ? pw->pw_name : "(the instance's owner)";
	if (pw == NULL || pw->pw_uid == 0) {
		snprintf(err_r, errlen, "refusing to run as root: run_as user "
			 "'%s' %s; set run_as in maillab.conf", user,
			 pw == NULL ? "does not exist" : "is root");
		return -1;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0) {
		snprintf(err_r, errlen, "refusing to run as root: cannot become "
			 "user %s: %s", pw->pw_name, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0 || geteuid() == 0 || getegid() == 0) {
		snprintf(err_r, errlen, "refusing to run as root: still root "
			 "after switching to user %s", pw->pw_name);
		return -1;
	}
	if (access(dir, R_OK | W_OK | X_OK) < 0) {
		snprintf(err_r, errlen, "%s: %s for user %s (the instance must "
			 "belong to it and its parent directories be searchable)",
			 dir, strerror(errno), pw->pw_name);
		return -1;
	}
	return 0;
}

static void stop_now(struct server *srv)
{
	struct conn *c, *next;

	for (c = srv->conns; c != NULL; c = next) {
		next = conn_next(c);
		conn_shutdown(c);
	}
	if (srv->n_conns == 0)
		event_base_loopexit(srv->base, NULL);
}

static void on_grace(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	stop_now(arg);
}

static void on_hard_stop(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	struct conn *c, *next;

	(void)fd;
	(void)what;
	for (c = srv->conns; c != NULL; c = next) {
		next = conn_next(c);
		conn_abort(c);
	}
	event_base_loopexit(srv->base, &(struct timeval){ 0, 100000 });
}

static void on_check_empty(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	if (srv->n_conns == 0 && srv->n_holds == 0)
		event_base_loopexit(srv->base, NULL);
}

void server_on_stop(struct server *srv, server_stop_fn *fn, void *arg)
{
	if (srv->n_stop_hooks == SERVER_MAX_STOP_HOOKS)
		abort();
	srv->stop_hooks[srv->n_stop_hooks].fn = fn;
	srv->stop_hooks[srv->n_stop_hooks].arg = arg;
	srv->n_stop_hooks++;
}

void server_hold(struct server *srv)
{
	srv->n_holds++;
}

void server_release(struct server *srv)
{
	if (srv->n_holds > 0)
		srv->n_holds--;
}

static void begin_stop(struct server *srv)
{
	unsigned int grace = srv->cfg->cfg.shutdown_grace;
	struct listener *l;

	if (srv->stopping)
		return;
	srv->stopping = true;
	log_msg("maillab", NULL, "stopping: %zu sessions get %u s to finish",
		srv->n_conns, grace);
	for (struct conn *c = srv->conns; c != NULL; c = conn_next(c))
		conn_mark_stopping(c);
	for (l = srv->listeners; l != NULL; l = l->next)
		evconnlistener_disable(l->evl);
	for (size_t i = 0; i < srv->n_stop_hooks; i++)
		srv->stop_hooks[i].fn(srv->stop_hooks[i].arg);
	srv->ev_grace = evtimer_new(srv->base, on_grace, srv);
	event_add(srv->ev_grace, &(struct timeval){ grace, 0 });
	srv->ev_hard = evtimer_new(srv->base, on_hard_stop, srv);
	event_add(srv->ev_hard, &(struct timeval){ grace + 2, 0 });
	/* Poll for the last session to go, so an idle server stops at once. */
	srv->ev_poll = event_new(srv->base, -1, EV_PERSIST, on_check_empty, srv);
	event_add(srv->ev_poll, &(struct timeval){ 0, 100000 });
	on_check_empty(-1, 0, srv);
}

/* A file the server cannot read since it dropped root: a reload must
 * keep what was read at start, and say why and what to do, as neither a
 * kept descriptor (a renewed certificate is a new file) nor re-reading as
 * root (Postfix and Dovecot keep a root master process for it) is open
 * to a process that is no longer root.  True when path is such a file. */
static bool unreadable_since_drop(const char *what, const char *path,
				  const char *action)
{
	const struct passwd *pw;
	const struct group *gr;
	const char *user;

	if (path == NULL || path[0] == '\0' || access(path, R_OK) == 0 ||
	    errno != EACCES)
		return false;
	pw = getpwuid(geteuid());
	user = pw != NULL ? pw->pw_name : "the server's user";
	gr = pw != NULL ? getgrgid(pw->pw_gid) : NULL;
	log_msg("maillab", NULL, "%s %s is not readable by user %s (it was read as "
		"root at start): %s; make it readable by %s (chgrp %s, chmod 640) "
		"or restart the server", what, path, user, action, user,
		gr != NULL ? gr->gr_name : "its group");
	return true;
}

/* After the drop: says which files a SIGHUP will not be able to re-read. */
static void check_reloadable(const struct config *cfg)
{
	unreadable_since_drop("tls_cert", cfg->tls_cert,
			      "a reload (SIGHUP) cannot re-read it");
	unreadable_since_drop("tls_key", cfg->tls_key,
			      "a reload (SIGHUP) cannot re-read it");
}

void server_on_reload(struct server *srv, server_reload_fn *fn, void *arg)
{
	if (srv->n_reload_hooks == SERVER_MAX_RELOAD_HOOKS)
		abort();
	srv->reload_hooks[srv->n_reload_hooks].fn = fn;
	srv->reload_hooks[srv->n_reload_hooks].arg = arg;
	srv->n_reload_hooks++;
}

/* glibc keeps what threads free in their arenas (one per worker thread,
 * up to 8 per CPU) and gives back to the system only the top of each: a
 * server that had 1000 sessions stayed that big after they closed, and
 * grew with each such wave.  malloc_trim(0) releases the free pages of
 * every arena.  At most once per TRIM_DELAY, after a drop to half the peak
 * or to none: not at every logout of a busy server. */
#define TRIM_DELAY_MS 1000
#define TRIM_MIN_DROP 64

static void on_trim(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	malloc_trim(0);
	srv->conns_peak = srv->n_conns;
}

void server_conn_closed(struct server *srv)
{
	const struct timeval delay = { 0, TRIM_DELAY_MS * 1000 };

	if (srv->n_conns + 1 > srv->conns_peak)
		srv->conns_peak = srv->n_conns + 1;
	if (srv->n_conns > 0 && (srv->n_conns > srv->conns_peak / 2 ||
				 srv->conns_peak - srv->n_conns < TRIM_MIN_DROP))
		return;
	if (srv->ev_trim == NULL)
		srv->ev_trim = evtimer_new(srv->base, on_trim, srv);
	if (srv->ev_trim != NULL && !evtimer_pending(srv->ev_trim, NULL))
		evtimer_add(srv->ev_trim, &delay);
}

/* A process that dies inside Berkeley DB (a `maillab user` or `queue`
 * command killed at the wrong moment) leaves locks and thread slots in
 * the shared environment; the open of the next process cleans them up
 * (dbenv.c), but a running server would otherwise wait on them until a
 * lock attempt of its own fails (dbenv_retry).  So it runs failchk
 * itself, on a worker (failchk walks the region's mutexes), every
 * DBENV_FAILCHK_SECS. */
#define DBENV_FAILCHK_SECS 10

static void failchk_work(void *arg)
{
	(void)arg;
	dbenv_failchk_all();
}

static void failchk_done(void *arg)
{
	struct server *srv = arg;

	srv->failchk_running = false;
}

static void on_failchk(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	if (srv->failchk_running || srv->pool == NULL)
		return;
	srv->failchk_running = true;
	worker_submit(srv->pool, failchk_work, failchk_done, srv);
}

static void reload(struct server *srv)
{
	struct config_ref *ref = xcalloc(1, sizeof(*ref));
	char err[512];
	SSL_CTX *tls = NULL;

	if (config_load(&ref->cfg, srv->cfg->cfg.dir, err, sizeof(err)) < 0) {
		log_msg("maillab", NULL, "reload failed, keeping the old configuration: %s",
			err);
		config_free(&ref->cfg);
		free(ref);
		return;
	}
	ref->refs = 1;
	if (!unreadable_since_drop("reload: tls_cert", ref->cfg.tls_cert,
				   "keeping the old certificate") &&
	    !unreadable_since_drop("reload: tls_key", ref->cfg.tls_key,
				   "keeping the old certificate") &&
	    (tls = tls_server_ctx_new(ref->cfg.tls_cert, ref->cfg.tls_key, err,
				      sizeof(err))) == NULL)
		log_msg("maillab", NULL, "reload: keeping the old certificate: %s", err);
	if (tls != NULL) {
		/* Sessions already in TLS hold their own reference. */
		SSL_CTX_free(srv->tls);
		srv->tls = tls;
	}
	server_config_unref(&srv->cfg);
	srv->cfg = ref;
	if (log_reopen() < 0)
		log_msg("maillab", NULL, "reload: cannot reopen the log: %m");
	for (size_t i = 0; i < srv->n_reload_hooks; i++)
		srv->reload_hooks[i].fn(srv->reload_hooks[i].arg, &ref->cfg);
	log_msg("maillab", NULL, "configuration and certificate reloaded "
		"(listeners and ports change only on restart)");
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	if (sig == SIGHUP)
		reload(arg);
	else
		begin_stop(arg);
}

int server_init(struct server *srv, struct config *cfg,
		const struct protocol *const protocols[SVC_COUNT],
		char *err_r, size_t errlen)
{
	struct buf path = BUF_INIT(BUF_UNLIMITED);

	memset(srv, 0, sizeof(*srv));
	signal(SIGPIPE, SIG_IGN);
	srv->cfg = xcalloc(1, sizeof(*srv->cfg));
	srv->cfg->cfg = *cfg;
	srv->cfg->refs = 1;
	memcpy(srv->protocols, protocols, sizeof(srv->protocols));
	buf_printf(&path, "%s/log/trace", cfg->dir);
	srv->trace_dir = buf_steal(&path);
	srv->base = event_base_new();
	if (srv->base == NULL) {
		snprintf(err_r, errlen, "cannot create the event loop");
		return -1;
	}
	srv->tls = tls_server_ctx_new(cfg->tls_cert, cfg->tls_key, err_r, errlen);
	if (srv->tls == NULL)
		return -1;
	if (open_listeners(srv, err_r, errlen) < 0)
		return -1;
	/* Before the database, so that its files belong to the running user. */
	if (drop_privileges(cfg->run_as, cfg->dir, err_r, errlen) < 0)
		return -1;
	srv->users = userdb_open(cfg->dir, err_r, errlen);
	if (srv->users == NULL)
		return -1;
	srv->penalty = penalty_new();
	srv->pool = worker_pool_new(srv->base, cfg->workers);
	srv->ev_failchk = event_new(srv->base, -1, EV_PERSIST, on_failchk, srv);
	if (srv->ev_failchk != NULL)
		event_add(srv->ev_failchk,
			  &(struct timeval){ DBENV_FAILCHK_SECS, 0 });
	srv->ev_int = evsignal_new(srv->base, SIGINT, on_signal, srv);
	srv->ev_term = evsignal_new(srv->base, SIGTERM, on_signal, srv);
	srv->ev_hup = evsignal_new(srv->base, SIGHUP, on_signal, srv);
	event_add(srv->ev_int, NULL);
	event_add(srv->ev_term, NULL);
	event_add(srv->ev_hup, NULL);
	return 0;
}

int server_run(struct server *srv)
{
	log_msg("maillab", NULL, "serving %s", srv->cfg->cfg.dir);
	check_reloadable(&srv->cfg->cfg);
	event_base_dispatch(srv->base);
	log_msg("maillab", NULL, "stopped");
	return 0;
}

void server_free(struct server *srv)
{
	struct listener *l, *next;

	worker_pool_free(&srv->pool);
	while (srv->conns != NULL)
		conn_destroy(srv->conns);
	for (l = srv->listeners; l != NULL; l = next) {
		next = l->next;
		evconnlistener_free(l->evl);
		free(l);
	}
	for (int i = 0; i < IP_BUCKETS; i++) {
		struct ip_count *e, *en;

		for (e = srv->ip_counts[i]; e != NULL; e = en) {
			en = e->next;
			free(e);
		}
	}
	if (srv->ev_int != NULL)
		event_free(srv->ev_int);
	if (srv->ev_term != NULL)
		event_free(srv->ev_term);
	if (srv->ev_hup != NULL)
		event_free(srv->ev_hup);
	if (srv->ev_grace != NULL)
		event_free(srv->ev_grace);
	if (srv->ev_hard != NULL)
		event_free(srv->ev_hard);
	if (srv->ev_poll != NULL)
		event_free(srv->ev_poll);
	if (srv->ev_trim != NULL)
		event_free(srv->ev_trim);
	if (srv->ev_failchk != NULL)
		event_free(srv->ev_failchk);
	server_watches_free(srv);
	if (srv->users != NULL)
		userdb_close(&srv->users);
	penalty_free(&srv->penalty);
	SSL_CTX_free(srv->tls);
	if (srv->base != NULL)
		event_base_free(srv->base);
	server_config_unref(&srv->cfg);
	free(srv->trace_dir);
}
