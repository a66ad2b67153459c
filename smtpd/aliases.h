#ifndef SMTPD_ALIASES_H
#define SMTPD_ALIASES_H
#include <stdbool.h>
#include <stddef.h>
#include <db.h>

/* Aliases: aliases.db, a btree in the instance's Berkeley DB environment
 * (common/dbenv.h, the one users.db lives in), mapping an alias name (a
 * local part, lowercase, valid in every local domain) to its targets, each
 * a user name, another alias name, or an address (user@local-domain is
 * resolved locally, anything else is a remote address).
 *
 * Record format: the targets, comma-separated, no spaces ("alice,bob").
 *
 * Handles are opened DB_THREAD and may be used from any thread; each call
 * is one read or one transaction (retried on deadlock). */

struct alias_db;

/* Longest target list stored for one alias, in bytes. */
#define ALIAS_RECORD_MAX 4096
/* Nesting of aliases followed before giving up (a loop). */
#define ALIAS_MAX_DEPTH 16
/* Users one expansion may produce. */
#define ALIAS_MAX_USERS 1000

/* Opens (creating) aliases.db in env.  NULL with a message in err_r. */
struct alias_db *alias_db_open(DB_ENV *env, char *err_r, size_t errlen);
/* Closes and frees *db, sets it to NULL; NULL is fine. */
void alias_db_close(struct alias_db **db);

/* An alias name: 1 to 64 of [a-z0-9._+-], not starting with '.' or '-'. */
bool alias_name_valid(const char *name);

/* The targets of alias `name` (lowercased first): 1 and *targets_r (a
 * malloc'd comma-separated string, the caller frees it), 0 no such alias,
 * -1 database error. */
int alias_get(struct alias_db *db, const char *name, char **targets_r);
/* Stores `targets` (comma-separated) as the whole target list of `name`,
 * replacing any.  0, or -1 with a message. */
int alias_put(struct alias_db *db, const char *name, const char *targets,
	      char *err_r, size_t errlen);
/* Removes alias `name`: 0, or -1 with a message ("no such alias"). */
int alias_del(struct alias_db *db, const char *name, char *err_r,
	      size_t errlen);
/* Calls each(name, targets, arg) for every alias in name order: 0, or -1 on
 * a database error.  Strings are valid during the call only. */
int alias_list(struct alias_db *db,
	       void (*each)(const char *name, const char *targets, void *arg),
	       void *arg);

/* The result of following aliases to their end. */
struct alias_expansion {
	char **users;		/* local user names, each once */
	size_t n_users, cap_users;
	char **remote;		/* remote addresses, each once */
	size_t n_remote, cap_remote;
	char **missing;		/* targets that are neither user nor alias */
	size_t n_missing, cap_missing;
	bool loop;		/* an alias leads back to itself */
	bool too_many;		/* ALIAS_MAX_USERS or ALIAS_MAX_DEPTH passed */
};

/* How to tell users apart from other names, and local domains from remote
 * ones, while expanding (smtpd passes the user database and config). */
struct alias_resolver {
	/* 1 user exists, 0 not, -1 error */
	int (*user_exists)(void *arg, const char *name);
	/* true when domain is a local domain */
	bool (*is_local)(void *arg, const char *domain);
	void *arg;
};

/* Expands alias `name`: 1 it is an alias and *exp holds the result, 0 it is
 * not an alias (exp is empty), -1 database error.  Targets are followed
 * recursively; a target seen again on the same branch sets exp->loop (the
 * branch is cut there), one reached twice by different branches is kept
 * once.  Free exp with alias_expansion_free. */
int alias_expand(struct alias_db *db, const struct alias_resolver *res,
		 const char *name, struct alias_expansion *exp);
void alias_expansion_free(struct alias_expansion *exp);

#endif
