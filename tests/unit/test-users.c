#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/instance.h"
#include "common/buf.h"
#include "common/dbenv.h"
#include "common/log.h"
#include "common/users.h"
#include "tests/unit/cli-user-run.h"
#include "tests/unit/unit.h"

static char *dir;
static struct userdb *db;
static char err[512];

static void setup(void)
{
	/* Berkeley DB's notes about killed processes go to the log */
	log_open(NULL, false);
	dir = unit_tmpdir();
	err[0] = '\0';
	db = userdb_open(dir, err, sizeof(err));
	ck_assert_msg(db != NULL, "userdb_open: %s", err);
}

static void teardown(void)
{
	userdb_close(&db);
	ck_assert_ptr_null(db);
	unit_rmtree(dir);
	free(dir);
}

START_TEST(test_names)
{
	static const char *good[] = {
		"alice", "a", "bob.smith", "x_y-z", "0day", "a.", "a-",
		"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz012345678901",
	};
	static const char *bad[] = {
		"", ".alice", "-alice", "Alice", "al ice", "al/ice", "..",
		"al@ice", "al\nice", "\xc3\xa9t\xc3\xa9", "a:b",
		"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz0123456789012",
	};
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(user_name_valid(good[i]), "%s", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!user_name_valid(bad[i]), "%s", bad[i]);
}
END_TEST

START_TEST(test_add_verify)
{
	struct stat st;
	char path[4096];

	ck_assert_int_eq(userdb_add(db, "alice", "s3cret pass", err,
				    sizeof(err)), 0);
	ck_assert_int_eq(userdb_exists(db, "alice"), 1);
	ck_assert_int_eq(userdb_exists(db, "bob"), 0);
	ck_assert_int_eq(userdb_verify(db, "alice", "s3cret pass"), 1);
	ck_assert_int_eq(userdb_verify(db, "alice", "s3cret pas"), 0);
	ck_assert_int_eq(userdb_verify(db, "alice", "s3cret pass "), 0);
	ck_assert_int_eq(userdb_verify(db, "alice", ""), 0);
	ck_assert_int_eq(userdb_verify(db, "bob", "s3cret pass"), 0);
	ck_assert_int_eq(userdb_verify(db, "Alice", "s3cret pass"), 0);
	ck_assert_int_eq(userdb_verify(db, "", "s3cret pass"), 0);
	/* the database and its directory are private */
	snprintf(path, sizeof(path), "%s/db", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 077, 0);
	snprintf(path, sizeof(path), "%s/db/users.db", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 077, 0);
}
END_TEST

START_TEST(test_duplicate_and_invalid)
{
	char longpw[USER_PASSWORD_MAX + 2];

	ck_assert_int_eq(userdb_add(db, "alice", "one", err, sizeof(err)), 0);
	ck_assert_int_eq(userdb_add(db, "alice", "two", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "user alice exists");
	/* the failed add did not change the password */
	ck_assert_int_eq(userdb_verify(db, "alice", "one"), 1);
	ck_assert_int_eq(userdb_verify(db, "alice", "two"), 0);

	err[0] = '\0';
	ck_assert_int_eq(userdb_add(db, "../etc", "pw", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "invalid user name"));
	ck_assert_int_eq(userdb_add(db, "Bob", "pw", err, sizeof(err)), -1);
	ck_assert_int_eq(userdb_add(db, "", "pw", err, sizeof(err)), -1);
	ck_assert_int_eq(userdb_add(db, "bob", "", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "empty password");
	memset(longpw, 'x', sizeof(longpw) - 1);
	longpw[sizeof(longpw) - 1] = '\0';
	ck_assert_int_eq(userdb_add(db, "bob", longpw, err, sizeof(err)), -1);
	ck_assert_int_eq(userdb_exists(db, "bob"), 0);
	ck_assert_int_eq(userdb_verify(db, "alice", longpw), 0);
	longpw[USER_PASSWORD_MAX] = '\0';
	ck_assert_int_eq(userdb_add(db, "bob", longpw, err, sizeof(err)), 0);
	ck_assert_int_eq(userdb_verify(db, "bob", longpw), 1);
}
END_TEST

START_TEST(test_passwd_del)
{
	ck_assert_int_eq(userdb_add(db, "alice", "old", err, sizeof(err)), 0);
	ck_assert_int_eq(userdb_passwd(db, "alice", "new", err, sizeof(err)), 0);
	ck_assert_int_eq(userdb_verify(db, "alice", "old"), 0);
	ck_assert_int_eq(userdb_verify(db, "alice", "new"), 1);
	ck_assert_int_eq(userdb_passwd(db, "bob", "x", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "no such user: bob");
	ck_assert_int_eq(userdb_exists(db, "bob"), 0);
	ck_assert_int_eq(userdb_passwd(db, "alice", "", err, sizeof(err)), -1);
	ck_assert_int_eq(userdb_verify(db, "alice", "new"), 1);
	/* "new" matched lately (common/verify-cache.h): a change ends that */
	ck_assert_int_eq(userdb_passwd(db, "alice", "newer", err, sizeof(err)), 0);
	ck_assert_int_eq(userdb_verify(db, "alice", "new"), 0);
	ck_assert_int_eq(userdb_verify(db, "alice", "newer"), 1);
	ck_assert_int_eq(userdb_verify(db, "alice", "newer"), 1);

	ck_assert_int_eq(userdb_del(db, "alice", err, sizeof(err)), 0);
	ck_assert_int_eq(userdb_exists(db, "alice"), 0);
	ck_assert_int_eq(userdb_verify(db, "alice", "newer"), 0);
	ck_assert_int_eq(userdb_del(db, "alice", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "no such user: alice");
	/* the name is free again */
	ck_assert_int_eq(userdb_add(db, "alice", "again", err, sizeof(err)), 0);
	ck_assert_int_eq(userdb_verify(db, "alice", "again"), 1);
}
END_TEST

static void collect(const char *name, void *arg)
{
	struct buf *b = arg;

	buf_printf(b, "%s,", name);
}

START_TEST(test_list)
{
	struct buf names = BUF_INIT(BUF_UNLIMITED);

	ck_assert_int_eq(userdb_list(db, collect, &names), 0);
	ck_assert_str_eq(buf_cstr(&names), "");
	ck_assert_int_eq(userdb_add(db, "carol", "c", err, sizeof(err)), 0);
	ck_assert_int_eq(userdb_add(db, "alice", "a", err, sizeof(err)), 0);
	ck_assert_int_eq(userdb_add(db, "bob", "b", err, sizeof(err)), 0);
	ck_assert_int_eq(userdb_list(db, collect, &names), 0);
	ck_assert_str_eq(buf_cstr(&names), "alice,bob,carol,");
	ck_assert_int_eq(userdb_del(db, "bob", err, sizeof(err)), 0);
	buf_clear(&names);
	ck_assert_int_eq(userdb_list(db, collect, &names), 0);
	ck_assert_str_eq(buf_cstr(&names), "alice,carol,");
	buf_free(&names);
}
END_TEST

START_TEST(test_reopen_persists)
{
	ck_assert_int_eq(userdb_add(db, "alice", "pw1", err, sizeof(err)), 0);
	ck_assert_int_eq(userdb_add(db, "bob", "pw2", err, sizeof(err)), 0);
	ck_assert_int_eq(userdb_del(db, "bob", err, sizeof(err)), 0);
	userdb_close(&db);
	db = userdb_open(dir, err, sizeof(err));
	ck_assert_msg(db != NULL, "%s", err);
	ck_assert_int_eq(userdb_verify(db, "alice", "pw1"), 1);
	ck_assert_int_eq(userdb_exists(db, "bob"), 0);
}
END_TEST

/* The stored record holds a yescrypt hash and never the password. */
START_TEST(test_record_format)
{
	DB *raw;
	DBT key, data;
	const char *rec;
	char extra[] = "v=1\0hash=$y$old\0quota=100\0";

	ck_assert_int_eq(userdb_add(db, "alice", "hunter2", err,
				    sizeof(err)), 0);
	raw = dbenv_open_btree(userdb_env(db), "users.db", err, sizeof(err));
	ck_assert_msg(raw != NULL, "%s", err);
	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	key.data = "alice";
	key.size = 5;
	data.flags = DB_DBT_MALLOC;
	ck_assert_int_eq(raw->get(raw, NULL, &key, &data, 0), 0);
	rec = data.data;
	ck_assert_int_eq(memcmp(rec, "v=1\0hash=$y$", 12), 0);
	ck_assert_ptr_null(memmem(rec, data.size, "hunter2", 7));
	ck_assert_int_eq(rec[data.size - 1], '\0');
	free(data.data);

	/* fields from a later version survive a password change */
	memset(&data, 0, sizeof(data));
	data.data = extra;
	data.size = sizeof(extra) - 1;
	ck_assert_int_eq(raw->put(raw, NULL, &key, &data, DB_AUTO_COMMIT), 0);
	/* a hash libxcrypt cannot read is an error, not a wrong password */
	ck_assert_int_eq(userdb_verify(db, "alice", "hunter2"), -1);
	ck_assert_int_eq(userdb_passwd(db, "alice", "new", err, sizeof(err)),
			 0);
	memset(&data, 0, sizeof(data));
	data.flags = DB_DBT_MALLOC;
	ck_assert_int_eq(raw->get(raw, NULL, &key, &data, 0), 0);
	ck_assert_ptr_nonnull(memmem(data.data, data.size, "\0quota=100\0", 11));
	free(data.data);
	ck_assert_int_eq(userdb_verify(db, "alice", "new"), 1);

	/* a record without a hash is a database error, not a wrong password */
	memset(&data, 0, sizeof(data));
	data.data = "v=1";
	data.size = 4;
	ck_assert_int_eq(raw->put(raw, NULL, &key, &data, DB_AUTO_COMMIT), 0);
	ck_assert_int_eq(userdb_verify(db, "alice", "new"), -1);
	raw->close(raw, 0);
}
END_TEST

START_TEST(test_pop3_last_login)
{
	int64_t when = -1;

	ck_assert_int_eq(userdb_add(db, "alice", "pw", err, sizeof(err)), 0);
	ck_assert_int_eq(userdb_pop3_last_login(db, "alice", &when), 0);
	ck_assert_int_eq(when, 0);
	ck_assert_int_eq(userdb_set_pop3_last_login(db, "alice", 1700000123,
						    err, sizeof(err)), 0);
	ck_assert_int_eq(userdb_pop3_last_login(db, "alice", &when), 1);
	ck_assert_int_eq(when, 1700000123);
	/* replaced, not added twice; the password is untouched */
	ck_assert_int_eq(userdb_set_pop3_last_login(db, "alice", 1800000000,
						    err, sizeof(err)), 0);
	ck_assert_int_eq(userdb_pop3_last_login(db, "alice", &when), 1);
	ck_assert_int_eq(when, 1800000000);
	ck_assert_int_eq(userdb_verify(db, "alice", "pw"), 1);
	/* a password change keeps it */
	ck_assert_int_eq(userdb_passwd(db, "alice", "pw2", err, sizeof(err)), 0);
	ck_assert_int_eq(userdb_pop3_last_login(db, "alice", &when), 1);
	ck_assert_int_eq(when, 1800000000);
	ck_assert_int_eq(userdb_set_pop3_last_login(db, "nobody", 1, err,
						    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "no such user"));
	ck_assert_int_eq(userdb_pop3_last_login(db, "nobody", &when), 0);
}
END_TEST

/* RFC 1939 7's example: timestamp, secret "tanstaaf", digest. */
#define RFC_TS "<1896.697170952@dbc.mtview.ca.us>"
#define RFC_DIGEST "c4c9334bac560ecc979e58001b3e22fb"

START_TEST(test_apop_secret)
{
	DB *raw;
	DBT key, data;

	ck_assert_int_eq(userdb_add(db, "mrose", "tanstaaf", err, sizeof(err)),
			 0);
	/* no secret stored: refused like a wrong digest */
	ck_assert_int_eq(userdb_apop_verify(db, "mrose", RFC_TS, RFC_DIGEST), 0);
	ck_assert_int_eq(userdb_set_apop_secret(db, "mrose", "tanstaaf", err,
						sizeof(err)), 0);
	ck_assert_int_eq(userdb_apop_verify(db, "mrose", RFC_TS, RFC_DIGEST), 1);
	ck_assert_int_eq(userdb_apop_verify(db, "mrose", RFC_TS,
					    "C4C9334BAC560ECC979E58001B3E22FB"), 1);
	ck_assert_int_eq(userdb_apop_verify(db, "mrose", "<1.2@x>", RFC_DIGEST), 0);
	ck_assert_int_eq(userdb_apop_verify(db, "mrose", RFC_TS,
					    "c4c9334bac560ecc979e58001b3e22fc"), 0);
	ck_assert_int_eq(userdb_apop_verify(db, "mrose", RFC_TS, "c4c9"), 0);
	ck_assert_int_eq(userdb_apop_verify(db, "mrose", RFC_TS,
					    "g4c9334bac560ecc979e58001b3e22fb"), 0);
	ck_assert_int_eq(userdb_apop_verify(db, "mrose", RFC_TS,
					    RFC_DIGEST "00"), 0);
	ck_assert_int_eq(userdb_apop_verify(db, "nobody", RFC_TS, RFC_DIGEST), 0);
	/* the yescrypt hash still works beside it */
	ck_assert_int_eq(userdb_verify(db, "mrose", "tanstaaf"), 1);
	ck_assert_int_eq(userdb_set_apop_secret(db, "mrose", "", err,
						sizeof(err)), -1);
	ck_assert_int_eq(userdb_set_apop_secret(db, "nobody", "x", err,
						sizeof(err)), -1);

	/* the secret is stored hex-encoded, once */
	raw = dbenv_open_btree(userdb_env(db), "users.db", err, sizeof(err));
	ck_assert_msg(raw != NULL, "%s", err);
	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	key.data = "mrose";
	key.size = 5;
	data.flags = DB_DBT_MALLOC;
	ck_assert_int_eq(raw->get(raw, NULL, &key, &data, 0), 0);
	ck_assert_ptr_nonnull(memmem(data.data, data.size,
				     "\0apop=74616e7374616166\0", 23));
	ck_assert_ptr_null(memmem(data.data, data.size, "tanstaaf", 8));
	free(data.data);
	raw->close(raw, 0);

	/* a new password drops the old secret */
	ck_assert_int_eq(userdb_passwd(db, "mrose", "other", err, sizeof(err)),
			 0);
	ck_assert_int_eq(userdb_apop_verify(db, "mrose", RFC_TS, RFC_DIGEST), 0);
	ck_assert_int_eq(userdb_verify(db, "mrose", "other"), 1);
}
END_TEST

struct verifier {
	pthread_t thread;
	int right, wrong;
};

static void *verify_loop(void *arg)
{
	struct verifier *v = arg;
	int i;

	for (i = 0; i < 3; i++) {
		v->right += userdb_verify(db, "alice", "pw") == 1;
		v->wrong += userdb_verify(db, "alice", "bad") == 0;
	}
	return NULL;
}

/* Worker threads verify at the same time. */
START_TEST(test_threads)
{
	struct verifier v[4];
	int i;

	ck_assert_int_eq(userdb_add(db, "alice", "pw", err, sizeof(err)), 0);
	memset(v, 0, sizeof(v));
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&v[i].thread, NULL,
						verify_loop, &v[i]), 0);
	for (i = 0; i < 4; i++) {
		pthread_join(v[i].thread, NULL);
		ck_assert_int_eq(v[i].right, 3);
		ck_assert_int_eq(v[i].wrong, 3);
	}
}
END_TEST

struct same_login {
	pthread_t thread;
	pthread_barrier_t *start;
	const char *password;
	int result;
};

static void *login_once(void *arg)
{
	struct same_login *l = arg;

	pthread_barrier_wait(l->start);
	l->result = userdb_verify(db, "alice", l->password);
	return NULL;
}

/* Many sessions log in at the same moment (a client's parallel
 * connections): they take turns at hashing, the right password is
 * found by all of them, a wrong one (and an over-long one, which is
 * never taken from the cache) by none. */
static void same_login(const char *password, int want)
{
	enum { N = 12 };
	struct same_login l[N];
	pthread_barrier_t start;
	int i;

	pthread_barrier_init(&start, NULL, N);
	for (i = 0; i < N; i++) {
		l[i] = (struct same_login){ .start = &start, .password = password,
					    .result = -2 };
		ck_assert_int_eq(pthread_create(&l[i].thread, NULL, login_once,
						&l[i]), 0);
	}
	for (i = 0; i < N; i++) {
		pthread_join(l[i].thread, NULL);
		ck_assert_int_eq(l[i].result, want);
	}
	pthread_barrier_destroy(&start);
}

START_TEST(test_same_login_at_once)
{
	char longpw[USER_PASSWORD_MAX + 2];

	ck_assert_int_eq(userdb_add(db, "alice", "pw", err, sizeof(err)), 0);
	same_login("bad", 0);
	same_login("pw", 1);
	same_login("pw", 1);	/* from the cache */
	memset(longpw, 'p', sizeof(longpw) - 1);
	longpw[sizeof(longpw) - 1] = '\0';
	same_login(longpw, 0);
	same_login("bad", 0);
}
END_TEST

/* `maillab user add` in another process while the server has the
 * database open: the server sees the new user at once. */
START_TEST(test_second_process)
{
	pid_t pid;
	int status;

	ck_assert_int_eq(userdb_add(db, "alice", "a", err, sizeof(err)), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		struct userdb *other = userdb_open(dir, err, sizeof(err));

		if (other == NULL)
			_exit(3);
		if (userdb_verify(other, "alice", "a") != 1)
			_exit(4);
		if (userdb_add(other, "bob", "b", err, sizeof(err)) < 0)
			_exit(5);
		userdb_close(&other);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "child status %d", status);
	ck_assert_int_eq(userdb_verify(db, "bob", "b"), 1);
	ck_assert_int_eq(userdb_verify(db, "alice", "a"), 1);
}
END_TEST

struct userdb *killed_db;

/* A process killed with the environment open (`maillab user add`
 * interrupted) does not break the server's handle, and the next process
 * opens the environment normally. */
START_TEST(test_killed_process)
{
	pid_t pid;
	int status;

	ck_assert_int_eq(userdb_add(db, "alice", "a", err, sizeof(err)), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		/* in a global: still reachable when the process is killed */
		killed_db = userdb_open(dir, err, sizeof(err));
		if (killed_db == NULL ||
		    userdb_verify(killed_db, "alice", "a") != 1)
			_exit(3);
		kill(getpid(), SIGKILL);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));
	ck_assert_int_eq(userdb_verify(db, "alice", "a"), 1);
	ck_assert_int_eq(userdb_add(db, "bob", "b", err, sizeof(err)), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		struct userdb *other = userdb_open(dir, err, sizeof(err));

		if (other == NULL || userdb_verify(other, "bob", "b") != 1)
			_exit(3);
		userdb_close(&other);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "child status %d", status);
	ck_assert_int_eq(userdb_verify(db, "alice", "a"), 1);
	ck_assert_int_eq(userdb_add(db, "carol", "c", err, sizeof(err)), 0);
}
END_TEST

/* A process killed in the middle of a write transaction: its locks are
 * released (after the lock timeout) and its change rolled back. */
START_TEST(test_killed_writer)
{
	pid_t pid;
	int status, pipefd[2];
	char c;

	ck_assert_int_eq(userdb_add(db, "alice", "a", err, sizeof(err)), 0);
	ck_assert_int_eq(pipe(pipefd), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		struct userdb *other = userdb_open(dir, err, sizeof(err));
		DB_ENV *env;
		DB *raw;
		DB_TXN *txn;
		DBT key, data;

		if (other == NULL)
			_exit(3);
		env = userdb_env(other);
		raw = dbenv_open_btree(env, "users.db", err, sizeof(err));
		if (raw == NULL || env->txn_begin(env, NULL, &txn, 0) != 0)
			_exit(4);
		memset(&key, 0, sizeof(key));
		memset(&data, 0, sizeof(data));
		key.data = "alice";
		key.size = 5;
		data.data = "v=1";
		data.size = 4;
		if (raw->put(raw, txn, &key, &data, 0) != 0)
			_exit(5);
		if (write(pipefd[1], "x", 1) != 1)
			_exit(6);
		pause();	/* killed here, holding the write lock */
		_exit(7);
	}
	close(pipefd[1]);
	ck_assert_int_eq(read(pipefd[0], &c, 1), 1);
	close(pipefd[0]);
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));
	/* the old record is back, and the lock is free again */
	ck_assert_int_eq(userdb_verify(db, "alice", "a"), 1);
	ck_assert_int_eq(userdb_passwd(db, "alice", "new", err, sizeof(err)), 0);
	ck_assert_int_eq(userdb_verify(db, "alice", "new"), 1);
}
END_TEST

/* Two handles in one process (the server and an alias table, say) share
 * the one environment handle Berkeley DB allows per process. */
START_TEST(test_two_handles)
{
	struct userdb *other = userdb_open(dir, err, sizeof(err));

	ck_assert_msg(other != NULL, "%s", err);
	ck_assert_ptr_eq(userdb_env(other), userdb_env(db));
	ck_assert_int_eq(userdb_add(other, "alice", "a", err, sizeof(err)), 0);
	ck_assert_int_eq(userdb_verify(db, "alice", "a"), 1);
	userdb_close(&other);
	ck_assert_int_eq(userdb_verify(db, "alice", "a"), 1);
	ck_assert_int_eq(userdb_add(db, "bob", "b", err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_open_failure)
{
	struct userdb *bad;
	char path[4096];

	snprintf(path, sizeof(path), "%s/missing/deeper", dir);
	bad = userdb_open(path, err, sizeof(err));
	ck_assert_ptr_null(bad);
	ck_assert_ptr_nonnull(strstr(err, "missing/deeper/db"));
}
END_TEST

/* --- maillab user (cli/user.c), run in a child process --- */

static char *inst;

static void cli_setup(void)
{
	char path[4096];

	log_open(NULL, false);
	dir = unit_tmpdir();
	snprintf(path, sizeof(path), "%s/inst", dir);
	inst = strdup(path);
	ck_assert_int_eq(instance_init(inst, NULL, NULL, false, NULL, err,
				       sizeof(err)), 0);
}

static void cli_teardown(void)
{
	unit_rmtree(dir);
	free(dir);
	free(inst);
}

static bool is_dir(const char *parent, const char *name)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", parent, name);
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int verify_in(const char *instdir, const char *name, const char *pw)
{
	struct userdb *u = userdb_open(instdir, err, sizeof(err));
	int ret;

	ck_assert_msg(u != NULL, "%s", err);
	ret = userdb_verify(u, name, pw);
	userdb_close(&u);
	return ret;
}

START_TEST(test_cli_add_passwd_list)
{
	struct buf out = BUF_INIT(BUF_UNLIMITED);

	ck_assert_int_eq(run_user_cmd("s3cret\n", &out, "add", "-d", inst,
				      "carol", "--password-stdin", NULL), 0);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&out), "user carol added"));
	ck_assert(is_dir(inst, "mail/carol/new"));
	ck_assert_int_eq(verify_in(inst, "carol", "s3cret"), 1);
	/* the same name again */
	ck_assert_int_eq(run_user_cmd("x\n", &out, "add", "carol", "-d", inst,
				      "--password-stdin", NULL), 1);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&out), "user carol exists"));
	/* CRLF from a Windows pipe is one line end */
	ck_assert_int_eq(run_user_cmd("new pw\r\n", &out, "passwd", "carol",
				      "-d", inst, "--password-stdin", NULL), 0);
	ck_assert_int_eq(verify_in(inst, "carol", "new pw"), 1);
	ck_assert_int_eq(run_user_cmd("x\n", &out, "passwd", "nobody", "-d",
				      inst, "--password-stdin", NULL), 1);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&out), "no such user: nobody"));
	ck_assert_int_eq(run_user_cmd("pw\n", &out, "add", "-d", inst, "alice",
				      "--password-stdin", NULL), 0);
	ck_assert_int_eq(run_user_cmd(NULL, &out, "list", "-d", inst, NULL), 0);
	ck_assert_str_eq(buf_cstr(&out), "alice\ncarol\n");
	/* no password on stdin, no terminal */
	ck_assert_int_eq(run_user_cmd("", &out, "add", "-d", inst, "dave",
				      "--password-stdin", NULL), 1);
	ck_assert_int_eq(run_user_cmd("\n", &out, "add", "-d", inst, "dave",
				      "--password-stdin", NULL), 1);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&out), "empty password"));
	ck_assert_int_eq(run_user_cmd(NULL, &out, "add", "-d", inst, "dave",
				      NULL), 1);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&out), "/dev/tty"));
	ck_assert(!is_dir(inst, "mail/dave"));
	buf_free(&out);
}
END_TEST

static int apop_in(const char *instdir, const char *name)
{
	struct userdb *u = userdb_open(instdir, err, sizeof(err));
	int ret;

	ck_assert_msg(u != NULL, "%s", err);
	ret = userdb_apop_verify(u, name, RFC_TS, RFC_DIGEST);
	userdb_close(&u);
	return ret;
}

static void set_pop3_apop(const char *instdir, const char *value)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/maillab.conf", instdir);
	f = fopen(path, "a");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "pop3_apop = %s\n", value);
	fclose(f);
}

/* pop3_apop: add and passwd store the APOP secret, only while it is on */
START_TEST(test_cli_apop_secret)
{
	struct buf out = BUF_INIT(BUF_UNLIMITED);

	ck_assert_int_eq(run_user_cmd("tanstaaf\n", &out, "add", "-d", inst,
				      "mrose", "--password-stdin", NULL), 0);
	ck_assert_ptr_null(strstr(buf_cstr(&out), "reversible"));
	ck_assert_int_eq(apop_in(inst, "mrose"), 0);
	set_pop3_apop(inst, "yes");
	ck_assert_int_eq(run_user_cmd("tanstaaf\n", &out, "passwd", "-d", inst,
				      "mrose", "--password-stdin", NULL), 0);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&out), "reversible"));
	ck_assert_int_eq(apop_in(inst, "mrose"), 1);
	ck_assert_int_eq(verify_in(inst, "mrose", "tanstaaf"), 1);
	buf_free(&out);
}
END_TEST

START_TEST(test_cli_del)
{
	struct buf out = BUF_INIT(BUF_UNLIMITED);

	ck_assert_int_eq(run_user_cmd("pw\n", &out, "add", "-d", inst, "erin",
				      "--password-stdin", NULL), 0);
	/* "n": the user goes, the mail stays */
	ck_assert_int_eq(run_user_cmd("n\n", &out, "del", "-d", inst, "erin",
				      NULL), 0);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&out),
				     "remove mail of erin? [y/N]"));
	ck_assert_int_eq(verify_in(inst, "erin", "pw"), 0);
	ck_assert(is_dir(inst, "mail/erin"));
	/* the kept mail can be removed later */
	ck_assert_int_eq(run_user_cmd(NULL, &out, "del", "-d", inst, "erin",
				      "--yes", NULL), 0);
	ck_assert(!is_dir(inst, "mail/erin"));
	ck_assert_int_eq(run_user_cmd(NULL, &out, "del", "-d", inst, "erin",
				      "--yes", NULL), 1);
	/* "y" */
	ck_assert_int_eq(run_user_cmd("pw\n", &out, "add", "-d", inst, "fred",
				      "--password-stdin", NULL), 0);
	ck_assert_int_eq(run_user_cmd("y\n", &out, "del", "-d", inst, "fred",
				      NULL), 0);
	ck_assert(!is_dir(inst, "mail/fred"));
	ck_assert_int_eq(run_user_cmd(NULL, &out, "list", "-d", inst, NULL), 0);
	ck_assert_str_eq(buf_cstr(&out), "");
	buf_free(&out);
}
END_TEST

START_TEST(test_cli_bad_arguments)
{
	struct buf out = BUF_INIT(BUF_UNLIMITED);
	char missing[4096];

	ck_assert_int_eq(run_user_cmd(NULL, &out, NULL), 2);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&out), "usage: maillab user"));
	ck_assert_int_eq(run_user_cmd(NULL, &out, "add", "-d", inst, NULL), 2);
	ck_assert_int_eq(run_user_cmd(NULL, &out, "frob", "x", "-d", inst,
				      NULL), 2);
	ck_assert_int_eq(run_user_cmd(NULL, &out, "list", "x", "-d", inst,
				      NULL), 2);
	ck_assert_int_eq(run_user_cmd(NULL, &out, "add", "a", "b", "-d", inst,
				      NULL), 2);
	ck_assert_int_eq(run_user_cmd(NULL, &out, "add", "a", "--bogus", "-d",
				      inst, NULL), 2);
	ck_assert_int_eq(run_user_cmd(NULL, &out, "del", "a",
				      "--password-stdin", "-d", inst, NULL), 2);
	ck_assert_int_eq(run_user_cmd(NULL, &out, "add", "Bad", "-d", inst,
				      NULL), 2);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&out), "invalid user name"));
	ck_assert_int_eq(run_user_cmd(NULL, &out, "list", "-d", NULL), 2);
	/* not an instance: a run-time failure naming the file */
	snprintf(missing, sizeof(missing), "%s/none", dir);
	ck_assert_int_eq(run_user_cmd(NULL, &out, "list", "-d", missing, NULL),
			 1);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&out), "none/maillab.conf"));
	buf_free(&out);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("users");
	TCase *tc = tcase_create("users");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_add_verify);
	tcase_add_test(tc, test_duplicate_and_invalid);
	tcase_add_test(tc, test_passwd_del);
	tcase_add_test(tc, test_list);
	tcase_add_test(tc, test_reopen_persists);
	tcase_add_test(tc, test_record_format);
	tcase_add_test(tc, test_pop3_last_login);
	tcase_add_test(tc, test_apop_secret);
	tcase_add_test(tc, test_second_process);
	tcase_add_test(tc, test_killed_process);
	tcase_add_test(tc, test_killed_writer);
	tcase_add_test(tc, test_two_handles);
	tcase_add_test(tc, test_open_failure);
	/* last: a forked child would inherit its thread stacks (valgrind) */
	tcase_add_test(tc, test_same_login_at_once);
	tcase_add_test(tc, test_threads);
	suite_add_tcase(s, tc);

	tc = tcase_create("cli");
	tcase_add_checked_fixture(tc, cli_setup, cli_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_cli_add_passwd_list);
	tcase_add_test(tc, test_cli_del);
	tcase_add_test(tc, test_cli_apop_secret);
	tcase_add_test(tc, test_cli_bad_arguments);
	suite_add_tcase(s, tc);
	return s;
}
