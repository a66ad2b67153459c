#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/dbenv.h"
#include "common/log.h"
#include "tests/unit/unit.h"

#define KILL_ROUNDS 20

static char *dir;

static void setup(void)
{
	/* Berkeley DB's notes about the killed processes go to the log */
	log_open(NULL, getenv("DBENV_TEST_LOG") != NULL);
	dir = unit_tmpdir();
}

static void teardown(void)
{
	unit_rmtree(dir);
	free(dir);
}

static int put(DB *db, DB_TXN *txn, const char *key, const char *value)
{
	DBT k, v;

	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = (void *)key;
	k.size = (u_int32_t)strlen(key);
	v.data = (void *)value;
	v.size = (u_int32_t)strlen(value) + 1;
	return db->put(db, txn, &k, &v, 0);
}

static void *wait_for_lock(void *arg)
{
	DB *db = arg;
	DBT k, v;

	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = (void *)"pending";
	k.size = 7;
	v.flags = DB_DBT_MALLOC;
	db->get(db, NULL, &k, &v, 0);
	return NULL;
}

/* Committed data, then a child that dies with the environment open while
 * holding what a worker thread of a killed server holds: a mutex of the
 * environment's region, locks and log state of an open transaction. */
static void die_holding_env(int ready_fd)
{
	char err[512];
	DB_ENV *env;
	DB_TXN *txn;
	DB *db;
	db_mutex_t mutex;
	pthread_t waiter;

	env = dbenv_open(dir, err, sizeof(err));
	if (env == NULL)
		_exit(10);
	db = dbenv_open_btree(env, "t.db", err, sizeof(err));
	if (db == NULL)
		_exit(11);
	if (env->txn_begin(env, NULL, &txn, 0) != 0 ||
	    put(db, txn, "pending", "never committed") != 0)
		_exit(12);
	if (env->mutex_alloc(env, 0, &mutex) != 0 ||
	    env->mutex_lock(env, mutex) != 0)
		_exit(13);
	/* A thread inside Berkeley DB, blocked on the transaction's lock:
	 * what the server's workers were doing when it was killed. */
	if (pthread_create(&waiter, NULL, wait_for_lock, db) != 0)
		_exit(15);
	usleep(100 * 1000);
	if (write(ready_fd, "x", 1) != 1)
		_exit(14);
	for (;;)
		pause();
}

static void kill_child_holding_env(void)
{
	int fds[2];
	char c;
	pid_t pid;
	int status;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		die_holding_env(fds[1]);
	}
	close(fds[1]);
	ck_assert_msg(read(fds[0], &c, 1) == 1, "child failed before the kill");
	close(fds[0]);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));
}

static void check_data(DB_ENV *env)
{
	char err[512];
	DB *db;
	DBT k, v;

	db = dbenv_open_btree(env, "t.db", err, sizeof(err));
	ck_assert_msg(db != NULL, "%s", err);
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = (void *)"kept";
	k.size = 4;
	v.flags = DB_DBT_MALLOC;
	ck_assert_int_eq(db->get(db, NULL, &k, &v, 0), 0);
	ck_assert_str_eq(v.data, "committed");
	free(v.data);
	k.data = (void *)"pending";
	k.size = 7;
	ck_assert_int_eq(db->get(db, NULL, &k, &v, 0), DB_NOTFOUND);
	db->close(db, 0);
}

START_TEST(test_open_after_kill)
{
	char err[512];
	DB_ENV *env;
	DB *db;
	int round;

	env = dbenv_open(dir, err, sizeof(err));
	ck_assert_msg(env != NULL, "%s", err);
	db = dbenv_open_btree(env, "t.db", err, sizeof(err));
	ck_assert_msg(db != NULL, "%s", err);
	ck_assert_int_eq(put(db, NULL, "kept", "committed"), 0);
	db->close(db, 0);
	dbenv_close(&env);
	for (round = 0; round < KILL_ROUNDS; round++) {
		kill_child_holding_env();
		err[0] = '\0';
		env = dbenv_open(dir, err, sizeof(err));
		ck_assert_msg(env != NULL, "round %d: %s", round, err);
		check_data(env);
		dbenv_close(&env);
	}
}
END_TEST

/* One transaction of put(key, value), retried while a lock is taken
 * (dbenv_retry runs failchk, releasing what a dead process held). */
static int put_retry(DB_ENV *env, DB *db, const char *key, const char *value)
{
	unsigned int attempt = 0;
	DB_TXN *txn;
	int ret;

	do {
		ret = env->txn_begin(env, NULL, &txn, DB_TXN_NOWAIT);
		if (ret == 0) {
			ret = put(db, txn, key, value);
			if (ret == 0)
				ret = txn->commit(txn, 0);
			else
				txn->abort(txn);
		}
	} while (dbenv_retry(env, ret, &attempt));
	return ret;
}

#define RACE_ROUNDS 40

/* The "server": keeps the environment open and writes, reopening it now
 * and then (a restart) so that commands also meet it while it opens and
 * closes.  Exits 0 unless a write or open failed: a recovery run by
 * anyone while it had the environment open panics it (DB_RUNRECOVERY). */
static void race_server(int stop_fd)
{
	char err[512], key[32];
	DB_ENV *env = NULL;
	DB *db = NULL;
	char c;

	for (int i = 0; read(stop_fd, &c, 1) != 1; i++) {
		if (env == NULL) {
			if ((env = dbenv_open(dir, err, sizeof(err))) == NULL ||
			    (db = dbenv_open_btree(env, "t.db", err,
						    sizeof(err))) == NULL) {
				fprintf(stderr, "server: %s\n", err);
				_exit(20);
			}
		}
		snprintf(key, sizeof(key), "server-%d", i);
		if (put_retry(env, db, key, "committed") != 0) {
			fprintf(stderr, "server: put %s failed\n", key);
			_exit(21);
		}
		if (dbenv_failchk_all() != 0)
			_exit(22);
		if (i % 25 == 24) {
			db->close(db, 0);
			db = NULL;
			dbenv_close(&env);
		}
		usleep(1000);
	}
	if (db != NULL)
		db->close(db, 0);
	dbenv_close(&env);
	_exit(0);
}

/* A command (`maillab user add`): open, one write, close.  With `die`,
 * it is killed inside a transaction instead (locks left behind). */
static void race_command(int round, bool die, int ready_fd)
{
	char err[512], key[32];
	DB_ENV *env;
	DB_TXN *txn;
	DB *db;
	int ret;

	if ((env = dbenv_open(dir, err, sizeof(err))) == NULL ||
	    (db = dbenv_open_btree(env, "t.db", err, sizeof(err))) == NULL) {
		fprintf(stderr, "command %d: %s\n", round, err);
		_exit(30);
	}
	snprintf(key, sizeof(key), "command-%d", round);
	if (die) {
		if (env->txn_begin(env, NULL, &txn, 0) != 0 ||
		    put(db, txn, "pending", "never committed") != 0)
			_exit(31);
		if (write(ready_fd, "x", 1) != 1)
			_exit(32);
		for (;;)
			pause();
	}
	if ((ret = put_retry(env, db, key, "committed")) != 0) {
		fprintf(stderr, "command %d: put: %s\n", round, db_strerror(ret));
		_exit(33);
	}
	db->close(db, 0);
	dbenv_close(&env);
	_exit(0);
}

static pid_t spawn_command(int round, bool die)
{
	int fds[2];
	pid_t pid;
	char c;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		race_command(round, die, fds[1]);
	}
	close(fds[1]);
	if (die) {
		/* reaped at once: a zombie still answers kill(pid, 0), so
		 * failchk would take it for alive */
		if (read(fds[0], &c, 1) == 1)
			kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	close(fds[0]);
	return pid;
}

/* Commands race a running server that also restarts: every command's
 * open succeeds, nothing panics the server (no recovery beside a live
 * user, which the F_GETLK probe of __db.register could choose when a
 * process came or went between the probe and the open), and afterwards
 * every committed key is there.  (A command killed inside a transaction
 * while the server runs is not raced here: Berkeley DB 5.3's failchk
 * cannot destroy the mutexes it left locked, see failchk() in dbenv.c;
 * test_open_after_kill covers its recovery.) */
START_TEST(test_commands_race_server)
{
	char err[512], key[32];
	int stop[2], status, round;
	pid_t server, cmds[3];
	DB_ENV *env;
	DB *db;
	DBT k, v;

	ck_assert_int_eq(pipe(stop), 0);
	server = fork();
	ck_assert_int_ge(server, 0);
	if (server == 0) {
		close(stop[1]);
		fcntl(stop[0], F_SETFL, O_NONBLOCK);
		race_server(stop[0]);
	}
	close(stop[0]);
	for (round = 0; round < RACE_ROUNDS; round++) {
		/* two at once */
		cmds[0] = spawn_command(round * 2, false);
		cmds[1] = spawn_command(round * 2 + 1, false);
		cmds[2] = -1;
		for (int i = 0; i < 3; i++) {
			if (cmds[i] < 0)
				continue;
			ck_assert_int_eq(waitpid(cmds[i], &status, 0), cmds[i]);
			if (i < 2)
				ck_assert_msg(WIFEXITED(status) &&
					      WEXITSTATUS(status) == 0,
					      "round %d: command exit %d", round,
					      WIFEXITED(status) ?
					      WEXITSTATUS(status) : -1);
		}
		ck_assert_msg(waitpid(server, &status, WNOHANG) == 0,
			      "round %d: the server died (exit %d)", round,
			      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
	ck_assert_int_eq(write(stop[1], "x", 1), 1);
	ck_assert_int_eq(waitpid(server, &status, 0), server);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "server exit %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	close(stop[1]);
	env = dbenv_open(dir, err, sizeof(err));
	ck_assert_msg(env != NULL, "%s", err);
	db = dbenv_open_btree(env, "t.db", err, sizeof(err));
	ck_assert_msg(db != NULL, "%s", err);
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	v.flags = DB_DBT_MALLOC;
	for (round = 0; round < RACE_ROUNDS * 2; round++) {
		snprintf(key, sizeof(key), "command-%d", round);
		k.data = key;
		k.size = (u_int32_t)strlen(key);
		ck_assert_msg(db->get(db, NULL, &k, &v, 0) == 0, "%s lost", key);
		free(v.data);
	}
	k.data = (void *)"pending";
	k.size = 7;
	ck_assert_int_eq(db->get(db, NULL, &k, &v, 0), DB_NOTFOUND);
	db->close(db, 0);
	dbenv_close(&env);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("dbenv");
	TCase *tc = tcase_create("kill");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_open_after_kill);
	tcase_add_test(tc, test_commands_race_server);
	suite_add_tcase(s, tc);
	return s;
}
