#ifndef MAILDIR_DELIVER_H
#define MAILDIR_DELIVER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/buf.h"

/* Durable delivery into Maildirs (DESIGN.md "Durability and integrity").
 *
 *   d = maildir_delivery_begin(mail_root, err, len);   loop thread
 *   maildir_delivery_write(d, p, n) ...                 as DATA arrives
 *   maildir_delivery_commit(d, rcpts, n, err, len);     worker thread
 *   maildir_delivery_free(&d);                          either thread
 *
 * begin creates a unique file (O_EXCL) under MAIL_ROOT/.tmp/ (a name no user
 * can have).  The bytes are stored exactly as written: SMTP passes the
 * dot-unstuffed DATA with its CRLF line ends, so the file size is the
 * RFC822.SIZE / POP3 size and goes into the `,S=` part of the name; the
 * wire size (the size plus one per bare LF, as other writers may leave
 * them) follows as `,W=`, as in Dovecot's names, so that indexing the file
 * and its first RFC822.SIZE need not read it.
 *
 * commit: fsync the file, hard-link it into each recipient's `new/` (the
 * last one by rename(2), which also removes the tmp name; copy through the
 * recipient's tmp/ with fsync when link fails with EXDEV), fsync every
 * `new/` directory touched.  Only then does it return 0.  On any failure it returns -1 (always a temporary failure:
 * SMTP answers 4xx), unlinks every name it had already made visible, and
 * leaves nothing visible.  A SIGKILL at any instant leaves, in each
 * recipient's mailbox, the whole message or nothing.
 *
 * Thread safety: a delivery handle is used by one thread at a time; commits of
 * different deliveries run in parallel with no shared lock (the fsyncs
 * overlap).  UIDs are assigned when a session next syncs the folder. */

struct maildir_delivery;

/* One recipient of a commit. */
struct maildir_rcpt {
	const char *user;	/* directory name under mail_root */
	const char *folder;	/* NULL or "INBOX": the inbox; else an IMAP
				 * folder name in modified UTF-7 with '/' as
				 * delimiter (sub-address delivery).  A folder
				 * that does not exist is created. */
};

/* NULL on failure, with a message in err_r (errno kept). */
struct maildir_delivery *maildir_delivery_begin(const char *mail_root,
						char *err_r, size_t errlen);
/* The same, but no file yet (never NULL): it is created (and
 * MAIL_ROOT/.tmp/ when missing) by the first write that fills the buffer
 * (64 KiB), or by the fsync before the commit or link, so that a message
 * that fits the buffer touches no file system from the loop thread
 * (DESIGN.md: blocking work goes to the worker pool); its failure is the
 * failure of that write, commit or link. */
struct maildir_delivery *maildir_delivery_begin_lazy(const char *mail_root);
/* The whole message when it is still in memory (it fitted the buffer),
 * with its length in *len_r; else NULL.  Valid until maildir_delivery_free
 * and while nothing more is written. */
const char *maildir_delivery_data(const struct maildir_delivery *d,
				  size_t *len_r);

/* A sink: appends n bytes.  0, or -1 with errno set (ENOSPC, EIO, EFBIG...).
 * After a failure every later write and the commit fail too.  `arg` is the
 * struct maildir_delivery. */
int maildir_delivery_write(void *arg, const char *p, size_t n);

/* Bytes written so far (the message size). */
uint64_t maildir_delivery_size(const struct maildir_delivery *d);

/* Delivers to rcpts[0..n-1] as described above.  0 on success: then
 * maildir_delivery_name() gives the file name used (the same base name in
 * every mailbox).  -1: temporary failure, message in err_r. */
int maildir_delivery_commit(struct maildir_delivery *d,
			    const struct maildir_rcpt *rcpts, size_t n,
			    char *err_r, size_t errlen);

/* Makes the bytes written so far durable and gives them a second name,
 * `path` (any directory on the same file system; a copy, fsync'd, when a
 * hard link is not possible), for the outbound queue.  With `move` the
 * name is moved instead (no commit may follow: the delivery goes nowhere
 * else); else the delivery stays uncommitted (its tmp file is still there
 * for a commit or for free).  An existing `path` is never replaced: -1
 * with errno EEXIST.  The new name is durable once the caller has fsync'd
 * path's directory.  0, or -1 with err_r and nothing left at path. */
int maildir_delivery_link(struct maildir_delivery *d, const char *path,
			  bool move, char *err_r, size_t errlen);

/* Up to `max` bytes from the start of the message, once it is durable
 * (after maildir_delivery_link or a commit), appended to out (a delivery
 * report quotes its header).  0, or -1 with errno. */
int maildir_delivery_read_head(struct maildir_delivery *d, struct buf *out,
			       size_t max);

/* The delivered file name ("time.M..P..Q...host,S=size,W=wire"), valid until
 * maildir_delivery_free; NULL before a successful commit. */
const char *maildir_delivery_name(const struct maildir_delivery *d);

/* Unlinks the tmp file if it is still there (abort) and frees d.  Sets *dp to
 * NULL.  Safe on NULL. */
void maildir_delivery_free(struct maildir_delivery **dp);

/* Test hook (fault injection).  When the environment variable MAILLAB_FAULT
 * names a step, the delivery code fails at that step with the errno given
 * after a colon ("fsync-file:ENOSPC", "write:EIO"), or sends itself SIGKILL
 * ("link:KILL").  Steps, in order: "open", "write", "fsync-file", "link"
 * (each link or rename; "link:EXDEV" takes the copy path), "fsync-dir",
 * "unlink-tmp" (only after a copy).  maildir_fault_set() overrides the environment
 * (NULL restores it); it is for single-threaded tests only. */
void maildir_fault_set(const char *spec);

#endif
