#ifndef COMMON_USERS_H
#define COMMON_USERS_H
#include <stdbool.h>
#include <stddef.h>
#include <db.h>

/* The user database: users.db, a btree in the instance's Berkeley DB
 * environment DIR/db/ (common/dbenv.h), mapping a user name to a record that
 * holds the password as a yescrypt hash (libxcrypt, salt from getrandom).
 * Passwords are never stored or logged in clear.
 *
 * Record format, version 1: NUL-terminated "key=value" fields, the first
 * "v=1", then "hash=$y$...".  Readers ignore fields they do not know and
 * userdb_passwd keeps them, so later issues can add fields without a
 * migration.
 *
 * Every function may be called from any thread (the handles are opened
 * DB_THREAD); userdb_verify is the one the servers call, on a worker
 * thread, because hashing takes tens of milliseconds on purpose. */

struct userdb;

/* Opens the user database of instance directory `dir`, creating DIR/db and
 * the database if missing.  NULL with a message naming the file in err_r. */
struct userdb *userdb_open(const char *dir, char *err_r, size_t errlen);
/* Closes and frees *db and sets it to NULL; NULL is fine. */
void userdb_close(struct userdb **db);
/* The environment, for the other databases that live in it (aliases, queue
 * index).  Owned by db: valid until userdb_close. */
DB_ENV *userdb_env(struct userdb *db);

/* Adds a user.  0, or -1 with a message in err_r: invalid name, empty or
 * over-long password (see USER_PASSWORD_MAX), the user exists, or a
 * database error. */
int userdb_add(struct userdb *db, const char *name, const char *password,
	       char *err_r, size_t errlen);
/* Sets a new password for an existing user: 0, or -1 with a message. */
int userdb_passwd(struct userdb *db, const char *name, const char *password,
		  char *err_r, size_t errlen);
/* Removes a user (not the mail): 0, or -1 with a message (no such user). */
int userdb_del(struct userdb *db, const char *name, char *err_r,
	       size_t errlen);
/* 1 the user exists, 0 not, -1 database error. */
int userdb_exists(struct userdb *db, const char *name);
/* Checks a password: 1 right, 0 unknown user or wrong password (not told
 * apart), -1 database error.  The hash comparison is constant-time, and an
 * unknown user costs one hash too, so timing does not reveal which names
 * exist. */
int userdb_verify(struct userdb *db, const char *name, const char *password);
/* Calls each(name, arg) for every user in name order: 0, or -1 on a
 * database error (then `each` was not called).  `name` is valid during the
 * call only.  `each` may use db. */
int userdb_list(struct userdb *db, void (*each)(const char *name, void *arg),
		void *arg);

/* A user name becomes a directory name and an address local part: 1 to 64
 * of lowercase letters, digits, '.', '_', '-', not starting with '.' or
 * '-'. */
bool user_name_valid(const char *name);

/* Longest password accepted, in bytes (libxcrypt's limit less one). */
#define USER_PASSWORD_MAX 511
#define USER_NAME_MAX 64

#endif
