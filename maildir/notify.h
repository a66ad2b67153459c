#ifndef MAILDIR_NOTIFY_H
#define MAILDIR_NOTIFY_H
/* Change notification shared by every session of the process: one inotify
 * instance for the process and one watch per folder (its new/ and cur/),
 * however many sessions wait on that folder.  A delivery, an expunge or a
 * flag change (by IMAP, POP3, SMTP or another program: every change to a
 * folder renames, links, unlinks a file or touches cur/, mailbox.c) wakes
 * the folder's watchers; they then call maildir_box_sync to learn what
 * changed.  No polling: the owner of the event loop watches
 * maildir_notify_fd() and calls maildir_notify_dispatch() when it is
 * readable.
 *
 * All calls from one thread (the event loop's); callbacks run inside
 * maildir_notify_dispatch and may free watches (theirs or others: a watch
 * freed then is not called any more). */

struct maildir_box;
struct maildir_watch;

typedef void maildir_watch_fn(void *arg);

/* The process's inotify descriptor (non-blocking, close-on-exec), created
 * on first use; -1 when inotify is not available. */
int maildir_notify_fd(void);

/* Calls fn(arg) from maildir_notify_dispatch whenever the folder of `box`
 * changes.  NULL (errno set) when the folder cannot be watched: inotify
 * missing or out of watches. */
struct maildir_watch *maildir_watch_box(const struct maildir_box *box,
					maildir_watch_fn *fn, void *arg);
/* The same for the folder whose Maildir is `maildir` (not opened). */
struct maildir_watch *maildir_watch_path(const char *maildir,
					 maildir_watch_fn *fn, void *arg);
/* Calls fn(arg) when entries of directory `dir` itself are made, removed
 * or renamed: for a user's Maildir, a folder created, deleted or renamed
 * and the subscriptions changed (folder.c). */
struct maildir_watch *maildir_watch_dir(const char *dir,
					maildir_watch_fn *fn, void *arg);
/* Stops it (the folder's inotify watch goes with its last watcher). */
void maildir_watch_free(struct maildir_watch **watchp);

/* Reads the pending events and calls the watchers of each folder that
 * changed, once each.  Returns how many were called. */
int maildir_notify_dispatch(void);

#endif
