#ifndef MAILDIR_USER_H
#define MAILDIR_USER_H
#include <stdbool.h>
#include <stddef.h>

/* Creates the Maildir++ of a new user: MAIL_ROOT/USER/{cur,new,tmp} and the
 * folders Sent, Drafts, Trash and Junk (each `.Name/{cur,new,tmp}` with a
 * `maildirfolder` file), and subscribes to them.  MAIL_ROOT (and its
 * parents) is created if missing.  Creating a user that already exists completes whatever is missing
 * and succeeds.  The user name must be a safe path component (see
 * maildir_user_name_valid).  0 on success; -1 with a message in err_r. */
int maildir_user_create(const char *mail_root, const char *user,
			char *err_r, size_t errlen);

/* Removes MAIL_ROOT/USER and everything below it (mail, folders, index).
 * Removing a user that does not exist fails with "no such user".
 * 0 on success; -1 with a message in err_r. */
int maildir_user_remove(const char *mail_root, const char *user,
			char *err_r, size_t errlen);

/* Whether folder `name` (IMAP name) is one that maildir_user_create
 * makes (Sent, Drafts, Trash, Junk). */
bool maildir_user_default_folder(const char *name);

/* 1 when `user` can be used as a directory name under mail_root: 1..64 bytes
 * of [A-Za-z0-9._+-], not starting with '.' or '-'.  0 otherwise, with the
 * reason in err_r. */
int maildir_user_name_valid(const char *user, char *err_r, size_t errlen);

#endif
