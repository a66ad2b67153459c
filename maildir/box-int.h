#ifndef MAILDIR_BOX_INT_H
#define MAILDIR_BOX_INT_H
/* Internal to maildir/: the session view of a folder (mailbox.c) shared
 * with the operations on it (box-ops.c). */
#include "maildir/index-int.h"
#include "maildir/mailbox.h"

struct maildir_box {
	struct maildir_store *s;
	char *name;		/* as given, mUTF-7 */
	char *dir;		/* "" or ".Work.2026" */
	struct buf path;	/* its Maildir */
	unsigned flags;		/* MAILDIR_BOX_* */
	struct frec f;		/* folder record as of the snapshot */
	struct maildir_msg *msgs;	/* UID order */
	size_t n;
	char **keywords;
	size_t nkeywords;
	bool rebuilt;
	bool degraded;		/* opened read-only: the index could not be
				 * written (maildir_box_info().readonly) */
	int notify_fd;
	int dir_fd;		/* the folder's directory (open_msg), or -1 */
	/* MAILDIR_BOX_DEFER_LOAD: the index lock held until maildir_box_load
	 * (-1: none), and the counts reported meanwhile */
	int pending_lock;
	uint32_t recent_from;
	uint32_t pending_recent, pending_first_unseen;
};

/* Takes the user's exclusive index lock and syncs the folder; on success
 * the lock fd is returned (release with lock_index_release) and *f filled. */
int box_lock_sync(struct maildir_store *s, const char *dir, struct frec *f,
		  bool *rebuilt_r, char *err_r, size_t errlen);

/* Folder directory of a name, checking existence.  0, or -1 with err_r. */
int box_resolve(struct maildir_store *s, const char *name, struct buf *dir,
		struct buf *path, char *err_r, size_t errlen);

void msg_free_fields(struct maildir_msg *m);

/* Under the lock, after box_lock_sync filled f: -1 with err_r (errno
 * ESTALE) when the folder's UIDVALIDITY is no longer the snapshot's (the
 * folder was rebuilt or deleted and recreated): the snapshot's UIDs name
 * other messages now, so a STORE or EXPUNGE by UID must not touch them. */
int box_check_uidvalidity(const struct maildir_box *box, const struct frec *f,
			  char *err_r, size_t errlen);

/* A snapshot being loaded. */
struct loader {
	struct maildir_msg *msgs;
	size_t n, cap;
};

/* Under the lock: claims \Recent for this session when the box asks for it
 * (UIDs >= *recent_from_r are recent), reloads the keywords and loads every
 * message record into l. */
int box_load(struct maildir_box *box, struct frec *f, struct loader *l,
	     uint32_t *recent_from_r);

#endif
