#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/dbenv.h"
#include "common/log.h"

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

/* For failchk: whether the process (or thread) that holds something in the
 * environment still runs.  Threads of this process die only with it. */
static int is_alive(DB_ENV *env, pid_t pid, db_threadid_t tid,
		    u_int32_t flags)
{
	(void)env;
	(void)tid;
	(void)flags;
	if (pid == getpid())
		return 1;
	return kill(pid, 0) == 0 || errno == EPERM;
}

DB_ENV *dbenv_open(const char *dir, char *err_r, size_t errlen)
{
	const u_int32_t flags = DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK |
		DB_INIT_LOG | DB_INIT_MPOOL | DB_THREAD | DB_RECOVER |
		DB_REGISTER | DB_FAILCHK;
	char home[4096];
	DB_ENV *env;
	int ret;

	if ((size_t)snprintf(home, sizeof(home), "%s/db", dir) >= sizeof(home)) {
		snprintf(err_r, errlen, "%s/db: path too long", dir);
		return NULL;
	}
	if (mkdir(home, 0700) < 0 && errno != EEXIST) {
		snprintf(err_r, errlen, "%s: mkdir: %s", home, strerror(errno));
		return NULL;
	}
	if ((ret = db_env_create(&env, 0)) != 0) {
		db_error(err_r, errlen, "db_env_create", home, ret);
		return NULL;
	}
	/* Berkeley DB's own messages go to the log, never to stdout. */
	env->set_errcall(env, db_errcall);
	env->set_msgcall(env, db_msgcall);
	/* A process that dies with the environment open (a `maillab user`
	 * killed at its prompt) is cleaned up by failchk, its transactions
	 * aborted, instead of a recovery that would panic every other
	 * process using the environment. */
	env->set_thread_count(env, DBENV_THREADS);
	env->set_isalive(env, is_alive);
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

void dbenv_close(DB_ENV **envp)
{
	DB_ENV *env = *envp;

	if (env == NULL)
		return;
	/* A checkpoint lets the next open skip most of recovery. */
	env->txn_checkpoint(env, 0, 0, 0);
	env->close(env, 0);
	*envp = NULL;
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
