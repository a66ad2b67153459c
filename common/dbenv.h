#ifndef COMMON_DBENV_H
#define COMMON_DBENV_H
#include <stdbool.h>
#include <stddef.h>
#include <db.h>

/* The Berkeley DB environment of an instance, DIR/db/ (DESIGN.md "Instance
 * directory"): users, aliases and the queue index live in it as separate
 * databases, opened in it with DB_AUTO_COMMIT | DB_THREAD.
 *
 * The environment is transactional and may be shared by several processes
 * at once (`maillab serve` and `maillab user add`).  DB_REGISTER and
 * DB_RECOVER: when a process that had it open died, the next open runs
 * full recovery (committed data kept, its transactions rolled back), or,
 * while another process still uses the environment, failchk (DB_FAILCHK)
 * so that the live process is not panicked. */

/* Opens (creating DIR/db and the environment if missing) the environment of
 * instance directory `dir`.  Returns the handle, or NULL with a message
 * naming the directory in err_r.  Berkeley DB allows one handle per process
 * (DB_REGISTER), so a second open of the same directory in this process
 * returns the same handle, counted: every dbenv_open needs its
 * dbenv_close. */
DB_ENV *dbenv_open(const char *dir, char *err_r, size_t errlen);
/* Drops one reference to the environment and sets *env to NULL; NULL is
 * fine.  The last one closes it: every database opened in it must be
 * closed by then. */
void dbenv_close(DB_ENV **env);

/* Opens (creating) the btree database `file` in env, inside a transaction.
 * Returns the handle, or NULL with a message in err_r. */
DB *dbenv_open_btree(DB_ENV *env, const char *file, char *err_r,
		     size_t errlen);

/* Call after a transaction attempt ended with `ret` (the caller's counter
 * *attempt starts at 0).  Returns true when the attempt should be made
 * again: `ret` says a lock was taken (DB_LOCK_DEADLOCK, or
 * DB_LOCK_NOTGRANTED from a DB_TXN_NOWAIT transaction), and then this has
 * released whatever dead processes held (failchk) and slept a little
 * (1, 2, 4 ... 64 ms).  False for any other code, or after DBENV_RETRIES
 * attempts (about 3 seconds). */
bool dbenv_retry(DB_ENV *env, int ret, unsigned int *attempt);
#define DBENV_RETRIES 50

/* The simple form for callers that wait for locks: whether `ret` is a
 * deadlock (or lock not granted), so that retrying at once may succeed.
 * Prefer DB_TXN_NOWAIT transactions with dbenv_retry: a lock left by a
 * killed process is otherwise waited for until the next open of the
 * environment cleans it up. */
int dbenv_retryable(int ret);

/* The DB_ENV->set_isalive callback that failchk needs: whether process pid
 * still runs (a thread of this process dies only with it). */
int dbenv_is_alive(DB_ENV *env, pid_t pid, db_threadid_t tid,
		   u_int32_t flags);

/* The lock file beside an environment, and its protocol (dbenv.c): take
 * the gate before DB_ENV->open; *others_r says whether another live
 * process has the environment open (then DB_FAILCHK, never a recovery
 * that would panic it).  Returns the fd (keep it while the environment is
 * open: closing it drops the locks), or -1 with errno.  After the open:
 * dbenv_gate_leave(&fd, opened) (a failed open also drops the users lock
 * and closes fd); after DB_ENV->close: dbenv_gate_release. */
#define DBENV_LOCK_FILE "maillab-env.lock"
int dbenv_gate_enter(const char *home, bool *others_r);
void dbenv_gate_leave(int *fdp, bool opened);
void dbenv_gate_release(int *fdp);

/* DB_ENV->failchk on every environment this process has open (the
 * running server, periodically): releases what processes that died
 * inside Berkeley DB held, and frees their thread slots.  0, or the last
 * error (logged: such an environment needs recovery, at the next start). */
int dbenv_failchk_all(void);
/* The same for one environment opened with dbenv_open. */
int dbenv_failchk(DB_ENV *env);

/* Threads of control (all processes together) the environment tracks for
 * failchk: the server's loop and workers, plus command-line tools. */
#define DBENV_THREADS 128

#endif
