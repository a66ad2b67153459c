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
	size_t held;		/* of them, gone from the index but kept
				 * (maildir_box_sync_held) */
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
	/* sizes read by maildir_box_msg_exact, not yet in the index */
	struct box_exact *exact;
	size_t nexact;
};

/* One message's sizes read from its file (wire-size.c). */
struct box_exact {
	uint32_t uid;
	uint8_t resolved;	/* the MAILDIR_MSG_*_UNKNOWN bits read */
	uint8_t needs_crlf;
	uint8_t no_final_eol;
	uint64_t size;
	int64_t idate;
};

/* Under the index lock, with f the folder's record just synced: writes
 * what maildir_box_msg_exact read into the index (records still
 * unverified only) and adjusts f->bytes, storing f.  Best effort: the
 * list is emptied either way (the sizes are read again when needed). */
void box_sizes_flush(struct maildir_box *box, struct frec *f);
/* The same, taking the lock (maildir_box_close, a long list). */
void box_sizes_flush_locked(struct maildir_box *box);

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
