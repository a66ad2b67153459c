#ifndef MAILDIR_LOCK_H
#define MAILDIR_LOCK_H
#include <stdbool.h>
#include <stddef.h>

/* The POP3 maildrop lock (RFC 1939 section 8: the maildrop is locked while a
 * POP3 session is in TRANSACTION state).  An flock(2) on
 * MAIL_ROOT/USER/maillab-index/pop3.lock, so it excludes other POP3 sessions
 * of this and every other process (flock belongs to the open file, not the
 * process) but not IMAP sessions or deliveries, and a crashed process
 * releases it.  Non-blocking.
 *
 * Returns a descriptor to pass to maildir_pop3_unlock, or -1: errno
 * EWOULDBLOCK with "maildrop in use" in err_r when another session has it,
 * another errno for a real failure. */
int maildir_pop3_lock(const char *mail_root, const char *user,
		      char *err_r, size_t errlen);
void maildir_pop3_unlock(int *fdp);

/* Internal: the per-user index lock that orders every change to a user's
 * index and Maildir made by maillab (lock.c).  Blocking; exclusive or
 * shared.  Returns an fd for lock_index_release, or -1 with errno. */
int lock_index(const char *userdir, bool exclusive);
void lock_index_release(int fd);

#endif
