#ifndef COMMON_USERS_H
#define COMMON_USERS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <db.h>

/* The user database: users.db, a btree in the instance's Berkeley DB
 * environment DIR/db/ (common/dbenv.h), mapping a user name to a record that
 * holds the password as a yescrypt hash (libxcrypt, salt from getrandom).
 * Passwords are never stored or logged in clear.
 *
 * Record format, version 1: NUL-terminated "key=value" fields, the first
 * "v=1", then "hash=$y$...".  Readers ignore fields they do not know and
 * userdb_passwd keeps them, so later issues can add fields without a
 * migration.  Fields so far:
 *   hash=$y$...         the yescrypt hash (always)
 *   pop3_login=SECONDS  the last successful POP3 login (LOGIN-DELAY)
 *   apop=HEX            the password itself, hex-encoded, for APOP
 *                       (only when pop3_apop is on; see below)
 *   quota=BYTES,COUNT   storage and message limits (0: none; absent:
 *                       no limits), see userdb_quota
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
 * exist.  A password that matched lately is found in a cache instead of
 * hashed again (common/verify-cache.h: successes only). */
int userdb_verify(struct userdb *db, const char *name, const char *password);
/* Calls each(name, arg) for every user in name order: 0, or -1 on a
 * database error (then `each` was not called).  `name` is valid during the
 * call only.  `each` may use db. */
int userdb_list(struct userdb *db, void (*each)(const char *name, void *arg),
		void *arg);

/* POP3 LOGIN-DELAY (RFC 2449 8.1.1): the time of the user's last
 * successful POP3 login.  1 with *when_r set, 0 never recorded or no such
 * user (*when_r = 0), -1 database error. */
int userdb_pop3_last_login(struct userdb *db, const char *name,
			   int64_t *when_r);
/* Records it: 0, or -1 with a message (no such user, database error). */
int userdb_set_pop3_last_login(struct userdb *db, const char *name,
			       int64_t when, char *err_r, size_t errlen);

/* APOP (RFC 1939 7).  The client sends MD5(timestamp + secret), so the
 * server must be able to read the secret: a one-way hash cannot serve.
 * userdb_set_apop_secret stores the password itself (hex-encoded, which
 * hides nothing) beside the yescrypt hash.  The trade-off, which is why
 * `pop3_apop` is off by default: whoever reads users.db (a backup, a
 * stolen disk, a bug that reads files) gets every APOP user's password in
 * clear, usable on every service and wherever the user reused it; and MD5
 * of a known timestamp and a password is cheap to attack by dictionary for
 * anyone who records one APOP exchange.  In return the password never
 * crosses the network.  userdb_passwd removes the secret (it belongs to
 * the old password); `maillab user add/passwd` stores a new one while
 * pop3_apop is on.  0, or -1 with a message. */
int userdb_set_apop_secret(struct userdb *db, const char *name,
			   const char *password, char *err_r, size_t errlen);
/* Checks an APOP digest (32 hex digits, either case) for `timestamp` (the
 * greeting's "<...>", brackets included): 1 right, 0 wrong, malformed,
 * unknown user or no stored secret (not told apart), -1 database or
 * OpenSSL error.  The digests are compared in constant time
 * (CRYPTO_memcmp). */
int userdb_apop_verify(struct userdb *db, const char *name,
		       const char *timestamp, const char *digest_hex);

/* The user's limits (common/quota.h; 0 fields: no limit): 1 with *q_r
 * filled (zeros when none were set, or the field is unreadable), 0 no
 * such user, -1 database error. */
struct user_quota;
int userdb_quota(struct userdb *db, const char *name, struct user_quota *q_r);
/* Sets them (both 0: removes the field).  0, or -1 with a message. */
int userdb_set_quota(struct userdb *db, const char *name,
		     const struct user_quota *q, char *err_r, size_t errlen);

/* A user name becomes a directory name and an address local part: 1 to 64
 * of lowercase letters, digits, '.', '_', '-', not starting with '.' or
 * '-'. */
bool user_name_valid(const char *name);

/* Longest password accepted, in bytes (libxcrypt's limit less one). */
#define USER_PASSWORD_MAX 511
#define USER_NAME_MAX 64

#endif
