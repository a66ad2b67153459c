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
 * shared.  Returns an fd for lock_index_release, or -1 with errno.
 *
 * The index changes made under it are made durable (the log flushed) when
 * the thread releases its last index lock, after the lock is gone and
 * before lock_index_release returns: 0, or -1 with errno when that flush
 * failed (the changes are then not known to be on disk). */
int lock_index(const char *userdir, bool exclusive);
int lock_index_release(int fd);
/* Whether this thread holds an index lock. */
bool lock_index_held(void);
/* A lock kept beyond this thread's work (a deferred SELECT load, released
 * by another thread): what was changed under it is flushed now, and it no
 * longer counts as this thread's.  Release it with
 * lock_index_release_handed.  0, or -1 as lock_index_release. */
int lock_index_hand_off(void);
void lock_index_release_handed(int fd);

#endif
