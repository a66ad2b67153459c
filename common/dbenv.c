#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/dbenv.h"
#include "common/log.h"
#include "common/xalloc.h"

static void db_error(char *err_r, size_t errlen, const char *what,
		     const char *path, int ret)
{
	snprintf(err_r, errlen, "%s: %s: %s", path, what, db_strerror(ret));
}

static void db_errcall(const DB_ENV *env, const char *prefix, const char *msg)
{
	(void)env;
	(void)prefix;
	log_msg("db", NULL, "%s", msg);
}

static void db_msgcall(const DB_ENV *env, const char *msg)
{
	(void)env;
	log_msg("db", NULL, "%s", msg);
}

int dbenv_is_alive(DB_ENV *env, pid_t pid, db_threadid_t tid,
		   u_int32_t flags)
{
	(void)env;
	(void)tid;
	(void)flags;
	if (pid == getpid())
		return 1;
	return kill(pid, 0) == 0 || errno == EPERM;
}

/* The open protocol, on DBENV_LOCK_FILE beside the environment with fcntl
 * record locks (per process, dropped by the kernel when it dies):
 *   byte 0, the gate: held exclusively while a process opens the
 *     environment (and perhaps recovers it or runs failchk), so that one
 *     process at a time decides how;
 *   byte 1, the users: held shared by every process that has it open.
 * Under the gate an opener that can lock byte 1 exclusively knows that no
 * other process has the environment open.  This replaces a probe of
 * __db.register with F_GETLK, which was not atomic with the open: a
 * process that came or went (or only held Berkeley DB's own byte lock
 * while opening) between the probe and the open made the next one choose
 * recovery beside a live user (panicking it) or failchk after the last
 * user had died inside the library (failing or hanging on its mutexes). */
#define GATE_BYTE 0
#define USERS_BYTE 1

static int lock_byte(int fd, off_t byte, short type, bool wait)
{
	struct flock fl;
	int r;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = byte;
	fl.l_len = 1;
	while ((r = fcntl(fd, wait ? F_SETLKW : F_SETLK, &fl)) < 0 &&
	       errno == EINTR)
		;
	return r;
}

int dbenv_gate_enter(const char *home, bool *others_r)
{
	char path[PATH_MAX];
	int fd, saved;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", home,
			     DBENV_LOCK_FILE) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return -1;
	if (lock_byte(fd, GATE_BYTE, F_WRLCK, true) < 0)
		goto fail;
	if (lock_byte(fd, USERS_BYTE, F_WRLCK, false) == 0) {
		*others_r = false;
		/* a conversion: no moment without the lock */
		if (lock_byte(fd, USERS_BYTE, F_RDLCK, false) < 0)
			goto fail;
	} else if (errno == EAGAIN || errno == EACCES) {
		*others_r = true;
		/* only shared holders: writers of byte 1 hold the gate */
		if (lock_byte(fd, USERS_BYTE, F_RDLCK, true) < 0)
			goto fail;
	} else {
		goto fail;
	}
	return fd;
fail:
	saved = errno;
	close(fd);	/* drops every lock of ours on the file */
	errno = saved;
	return -1;
}

void dbenv_gate_leave(int *fdp, bool opened)
{
	if (*fdp < 0)
		return;
	if (opened && lock_byte(*fdp, GATE_BYTE, F_UNLCK, false) == 0)
		return;
	close(*fdp);
	*fdp = -1;
}

void dbenv_gate_release(int *fdp)
{
	if (*fdp >= 0)
		close(*fdp);
	*fdp = -1;
}

/* failchk must not run twice at once on one environment: two of them
 * abort the same dead transaction, and the second panics everyone
 * ("BDB4535 transaction already aborted", "Transaction abort failed").
 * So every failchk holds this mutex (threads of this process) and the
 * gate (other processes; the open holds it already). */
static pthread_mutex_t failchk_lock = PTHREAD_MUTEX_INITIALIZER;

static int failchk(DB_ENV *env, const char *home)
{
	int ret;

	pthread_mutex_lock(&failchk_lock);
	ret = env->failchk(env, 0);
	pthread_mutex_unlock(&failchk_lock);
	/* A dead process's pthread mutex left locked cannot be destroyed
	 * ("BDB2027 unable to destroy mutex: Device or resource busy"), and
	 * a later failchk that meets it panics the environment ("pthread
	 * lock failed: Invalid argument"): after any failure, only the
	 * recovery of the next open with nobody else in helps. */
	if (ret != 0)
		log_msg("db", NULL, "%s: failchk: %s: stop every process "
			"using it (the next open recovers)", home,
			db_strerror(ret));
	return ret;
}

/* Opens the environment in `home` (which exists); *lock_fd_r is the
 * users lock to keep until it is closed (dbenv_gate_release). */
static DB_ENV *env_open(const char *home, int *lock_fd_r, char *err_r,
			size_t errlen)
{
	u_int32_t flags = DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK |
		DB_INIT_LOG | DB_INIT_MPOOL | DB_THREAD;
	DB_ENV *env;
	bool others;
	int ret;

	if ((*lock_fd_r = dbenv_gate_enter(home, &others)) < 0) {
		snprintf(err_r, errlen, "%s/%s: %s", home, DBENV_LOCK_FILE,
			 strerror(errno));
		return NULL;
	}
	if ((ret = db_env_create(&env, 0)) != 0) {
		db_error(err_r, errlen, "db_env_create", home, ret);
		dbenv_gate_leave(lock_fd_r, false);
		return NULL;
	}
	/* Berkeley DB's own messages go to the log, never to stdout. */
	env->set_errcall(env, db_errcall);
	env->set_msgcall(env, db_msgcall);
	/* The gate says who else has the environment open, so it takes the
	 * place of DB_REGISTER.  Nobody: DB_RECOVER, always (quick after the
	 * checkpoint of the last close): whatever a process killed inside
	 * Berkeley DB left, region mutexes held and condition variables
	 * waited on included, is rebuilt from the log, committed data kept,
	 * its transactions rolled back (Reference Guide, "Handling failure
	 * in Transactional Data Store applications", transapp_fail.html).
	 * Someone: join, then failchk, which aborts a dead process's
	 * transactions and frees its locks without touching the live ones
	 * (recovery would panic them).  Not DB_REGISTER | DB_FAILCHK: its
	 * failchk inside the open destroys the dead process's mutexes and
	 * failed ("BDB2027 unable to destroy mutex: Device or resource
	 * busy"), then fell back to recovery beside the live users. */
	if (!others)
		flags |= DB_RECOVER;
	env->set_thread_count(env, DBENV_THREADS);
	env->set_isalive(env, dbenv_is_alive);
	/* Resolve deadlocks at once (callers that wait for locks at all). */
	env->set_lk_detect(env, DB_LOCK_DEFAULT);
	/* The databases here are small: keep the log from growing without
	 * bound (recovery needs only the logs since the last checkpoint). */
	env->log_set_config(env, DB_LOG_AUTO_REMOVE, 1);
	env->set_lg_max(env, 1024 * 1024);
	if ((ret = env->open(env, home, flags, 0600)) != 0) {
		db_error(err_r, errlen, "open environment", home, ret);
		env->close(env, 0);
		dbenv_gate_leave(lock_fd_r, false);
		return NULL;
	}
	/* Still under the gate: nobody opens with DB_RECOVER meanwhile. */
	if (others && (ret = failchk(env, home)) != 0) {
		/* a process died holding a region mutex: only a recovery
		 * with every process out helps */
		db_error(err_r, errlen, "failchk (restart every process using "
			 "it to recover)", home, ret);
		env->close(env, 0);
		dbenv_gate_leave(lock_fd_r, false);
		return NULL;
	}
	dbenv_gate_leave(lock_fd_r, true);
	return env;
}

/* DB_REGISTER allows one handle per process and environment, so the
 * handles of this process are shared, counted, by canonical path.  An entry
 * made before a fork() belongs to the parent and is ignored by the child. */
struct open_env {
	struct open_env *next;
	char *home;
	pid_t pid;
	DB_ENV *env;
	int lock_fd;			/* the users lock (dbenv_gate_enter) */
	bool failchk_failed;		/* no more failchk (failchk()) */
	unsigned int refs;
};

static pthread_mutex_t envs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct open_env *envs;

DB_ENV *dbenv_open(const char *dir, char *err_r, size_t errlen)
{
	char home[PATH_MAX], real[PATH_MAX];
	struct open_env *e;
	DB_ENV *env = NULL;
	int lock_fd = -1;

	if ((size_t)snprintf(home, sizeof(home), "%s/db", dir) >= sizeof(home)) {
		snprintf(err_r, errlen, "%s/db: path too long", dir);
		return NULL;
	}
	if (mkdir(home, 0700) < 0 && errno != EEXIST) {
		snprintf(err_r, errlen, "%s: mkdir: %s", home, strerror(errno));
		return NULL;
	}
	if (realpath(home, real) == NULL) {
		snprintf(err_r, errlen, "%s: %s", home, strerror(errno));
		return NULL;
	}
	pthread_mutex_lock(&envs_lock);
	for (e = envs; e != NULL; e = e->next) {
		if (e->pid == getpid() && strcmp(e->home, real) == 0) {
			e->refs++;
			env = e->env;
			break;
		}
	}
	if (env == NULL &&
	    (env = env_open(home, &lock_fd, err_r, errlen)) != NULL) {
		e = xcalloc(1, sizeof(*e));
		e->home = xstrdup(real);
		e->pid = getpid();
		e->env = env;
		e->lock_fd = lock_fd;
		e->refs = 1;
		e->next = envs;
		envs = e;
	}
	pthread_mutex_unlock(&envs_lock);
	return env;
}

void dbenv_close(DB_ENV **envp)
{
	struct open_env **pp, *e;
	DB_ENV *env = *envp;
	int lock_fd = -1;

	if (env == NULL)
		return;
	*envp = NULL;
	pthread_mutex_lock(&envs_lock);
	for (pp = &envs; (e = *pp) != NULL; pp = &e->next)
		if (e->env == env && e->pid == getpid())
			break;
	if (e != NULL && --e->refs > 0) {
		pthread_mutex_unlock(&envs_lock);
		return;
	}
	if (e != NULL) {
		*pp = e->next;
		lock_fd = e->lock_fd;
		free(e->home);
		free(e);
	}
	pthread_mutex_unlock(&envs_lock);
	/* A checkpoint lets the next open skip most of recovery. */
	env->txn_checkpoint(env, 0, 0, 0);
	env->close(env, 0);
	/* only now: until the close is done this process still uses it */
	dbenv_gate_release(&lock_fd);
}

/* failchk under the gate of e (envs_lock held). */
static int failchk_gated(struct open_env *e)
{
	int ret;

	if (e->failchk_failed)
		return DB_RUNRECOVERY;
	if (lock_byte(e->lock_fd, GATE_BYTE, F_WRLCK, true) < 0)
		return errno;
	ret = failchk(e->env, e->home);
	lock_byte(e->lock_fd, GATE_BYTE, F_UNLCK, false);
	e->failchk_failed = ret != 0;
	return ret;
}

int dbenv_failchk_all(void)
{
	struct open_env *e;
	int ret, worst = 0;

	pthread_mutex_lock(&envs_lock);
	for (e = envs; e != NULL; e = e->next) {
		if (e->pid != getpid())
			continue;
		if ((ret = failchk_gated(e)) != 0)
			worst = ret;
	}
	pthread_mutex_unlock(&envs_lock);
	return worst;
}

DB *dbenv_open_btree(DB_ENV *env, const char *file, char *err_r,
		     size_t errlen)
{
	const char *home = NULL;
	DB *db;
	int ret;

	env->get_home(env, &home);
	if ((ret = db_create(&db, env, 0)) != 0) {
		db_error(err_r, errlen, "db_create", file, ret);
		return NULL;
	}
	ret = db->open(db, NULL, file, NULL, DB_BTREE,
		       DB_CREATE | DB_AUTO_COMMIT | DB_THREAD, 0600);
	if (ret != 0) {
		snprintf(err_r, errlen, "%s/%s: open: %s",
			 home != NULL ? home : ".", file, db_strerror(ret));
		db->close(db, 0);
		return NULL;
	}
	return db;
}

int dbenv_failchk(DB_ENV *env)
{
	struct open_env *e;
	int ret = 0;

	pthread_mutex_lock(&envs_lock);
	for (e = envs; e != NULL; e = e->next)
		if (e->env == env && e->pid == getpid())
			break;
	if (e != NULL)
		ret = failchk_gated(e);
	pthread_mutex_unlock(&envs_lock);
	return ret;
}

bool dbenv_retry(DB_ENV *env, int ret, unsigned int *attempt)
{
	unsigned int ms;

	if (ret != DB_LOCK_DEADLOCK && ret != DB_LOCK_NOTGRANTED)
		return false;
	if (*attempt >= DBENV_RETRIES)
		return false;
	/* Release what dead processes still hold; a no-op otherwise. */
	dbenv_failchk(env);
	ms = *attempt < 6 ? 1u << *attempt : 64;
	(*attempt)++;
	usleep(ms * 1000);
	return true;
}

int dbenv_retryable(int ret)
{
	return ret == DB_LOCK_DEADLOCK || ret == DB_LOCK_NOTGRANTED;
}
