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
	log_open(NULL, false);
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

Suite *unit_suite(void)
{
	Suite *s = suite_create("dbenv");
	TCase *tc = tcase_create("kill");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_open_after_kill);
	suite_add_tcase(s, tc);
	return s;
}
