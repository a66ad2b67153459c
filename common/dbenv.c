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

/* Whether a live process has the environment in `home` open: DB_REGISTER
 * holds an fcntl lock on its slot of __db.register while a process has the
 * environment open, and the kernel drops it when the process dies. */
static bool env_has_live_user(const char *home)
{
	char path[PATH_MAX];
	struct flock fl;
	int fd;
	bool live;

	if ((size_t)snprintf(path, sizeof(path), "%s/__db.register", home) >=
	    sizeof(path))
		return true;
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
		return false;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	live = fcntl(fd, F_GETLK, &fl) < 0 || fl.l_type != F_UNLCK;
	close(fd);
	return live;
}

/* Opens the environment in `home` (which exists). */
static DB_ENV *env_open(const char *home, char *err_r, size_t errlen)
{
	u_int32_t flags = DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK |
		DB_INIT_LOG | DB_INIT_MPOOL | DB_THREAD | DB_RECOVER |
		DB_REGISTER;
	DB_ENV *env;
	int ret;

	if ((ret = db_env_create(&env, 0)) != 0) {
		db_error(err_r, errlen, "db_env_create", home, ret);
		return NULL;
	}
	/* Berkeley DB's own messages go to the log, never to stdout. */
	env->set_errcall(env, db_errcall);
	env->set_msgcall(env, db_msgcall);
	/* DB_FAILCHK only while another process uses the environment: then
	 * a dead process (a `maillab user` killed at its prompt) is cleaned
	 * up by failchk instead of a recovery that would panic the live
	 * server.  With no live user, DB_REGISTER | DB_RECOVER alone: a
	 * process killed while its threads were inside Berkeley DB (a
	 * server's workers waiting on a lock) leaves region mutexes locked
	 * and condition variables waited on, and failchk's cleanup of them
	 * fails ("BDB2027 unable to destroy mutex: Device or resource busy",
	 * the open fails) or blocks in pthread_cond_destroy.  Reference
	 * Guide, "Handling failure in Transactional Data Store applications"
	 * (transapp_fail.html): a data structure mutex left held means the
	 * environment must not be used and recovery must run; DB_REGISTER
	 * with DB_RECOVER runs it when a registered process died
	 * (envopen.html), committed data kept, dead transactions rolled
	 * back. */
	if (env_has_live_user(home))
		flags |= DB_FAILCHK;
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
		return NULL;
	}
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
	unsigned int refs;
};

static pthread_mutex_t envs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct open_env *envs;

DB_ENV *dbenv_open(const char *dir, char *err_r, size_t errlen)
{
	char home[PATH_MAX], real[PATH_MAX];
	struct open_env *e;
	DB_ENV *env = NULL;

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
	if (env == NULL && (env = env_open(home, err_r, errlen)) != NULL) {
		e = xcalloc(1, sizeof(*e));
		e->home = xstrdup(real);
		e->pid = getpid();
		e->env = env;
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
		free(e->home);
		free(e);
	}
	pthread_mutex_unlock(&envs_lock);
	/* A checkpoint lets the next open skip most of recovery. */
	env->txn_checkpoint(env, 0, 0, 0);
	env->close(env, 0);
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

bool dbenv_retry(DB_ENV *env, int ret, unsigned int *attempt)
{
	unsigned int ms;

	if (ret != DB_LOCK_DEADLOCK && ret != DB_LOCK_NOTGRANTED)
		return false;
	if (*attempt >= DBENV_RETRIES)
		return false;
	/* Release what dead processes still hold; a no-op otherwise. */
	env->failchk(env, 0);
	ms = *attempt < 6 ? 1u << *attempt : 64;
	(*attempt)++;
	usleep(ms * 1000);
	return true;
}

int dbenv_retryable(int ret)
{
	return ret == DB_LOCK_DEADLOCK || ret == DB_LOCK_NOTGRANTED;
}
