#ifndef COMMON_DBENV_H
#define COMMON_DBENV_H
#include <stddef.h>
#include <db.h>

/* The Berkeley DB environment of an instance, DIR/db/ (DESIGN.md "Instance
 * directory"): users, aliases and the queue index live in it as separate
 * databases, opened in it with DB_AUTO_COMMIT | DB_THREAD.
 *
 * The environment is transactional and may be shared by several processes
 * at once (`maillab serve` and `maillab user add`): DB_REGISTER makes
 * DB_RECOVER run only when a process that had it open died, never under a
 * live one. */

/* Opens (creating DIR/db and the environment if missing) the environment of
 * instance directory `dir`.  Returns the handle, or NULL with a message
 * naming the directory in err_r. */
DB_ENV *dbenv_open(const char *dir, char *err_r, size_t errlen);
/* Closes the environment and sets *env to NULL; NULL is fine.  Every
 * database opened in it must be closed first. */
void dbenv_close(DB_ENV **env);

/* Opens (creating) the btree database `file` in env, inside a transaction.
 * Returns the handle, or NULL with a message in err_r. */
DB *dbenv_open_btree(DB_ENV *env, const char *file, char *err_r,
		     size_t errlen);

/* Whether a failed call may succeed when the transaction is retried
 * (deadlock or lock not granted). */
int dbenv_retryable(int ret);
/* How many times callers retry such a transaction. */
#define DBENV_RETRIES 8

#endif
