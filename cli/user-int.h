#ifndef CLI_USER_INT_H
#define CLI_USER_INT_H
/* `maillab user`, shared by cli/user.c (add, del, passwd, list and the
 * argument parsing), cli/user-quota.c (quota, --quota) and
 * cli/user-class.c (add --from-file, reset). */
#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/quota.h"
#include "common/users.h"

struct user_args {
	const char *dir;
	const char *action;
	const char *name;	/* NULL for list, --from-file, --all */
	const char *value;	/* quota: the SIZE|none after NAME, or NULL */
	const char *from_file;	/* add --from-file */
	const char *from_text;	/* its contents, read before privileges
				 * are dropped (run_as_instance_owner) */
	size_t from_len;
	const char *quota;	/* --quota SIZE|none */
	const char *messages;	/* --messages N|none */
	bool password_stdin;
	bool yes;
	bool all;		/* reset --all */
};

/* DIR/mail, malloc'd. */
char *user_mail_root(const char *dir);
/* Asks on stdout, reads the answer from stdin: true for y/yes. */
bool user_confirm(const char *question);
/* With pop3_apop on, also stores the password for APOP.  0, or 1 after
 * printing why not. */
int user_store_apop_secret(struct userdb *db, const char *dir,
			   const char *name, const char *password);

/* Reads --quota/--messages (and quota's SIZE) into q over the user's
 * present limits `old` (NULL: none).  0, or 2 after printing the
 * reason. */
int user_quota_args(const struct user_args *a, const struct user_quota *old,
		    struct user_quota *q);
/* user add: sets the limits given with --quota/--messages.  0, or 1. */
int user_add_limits(struct userdb *db, const struct user_args *a,
		    const char *name);
int user_quota(struct userdb *db, const struct user_args *a);
/* Reads a->from_file into text and points a->from_text at it.  0, or 1
 * after printing why. */
int user_read_from_file(struct user_args *a, struct buf *text);
int user_add_from_file(struct userdb *db, const struct user_args *a);
int user_reset(struct userdb *db, const struct user_args *a);

#endif
