#ifndef MAILDIR_MAILBOX_H
#define MAILDIR_MAILBOX_H
/* A user's mail store and sessions' views of its folders (POP3, IMAP).
 *
 *   maildir_store_open(mail_root, user)   one shared handle per user and
 *                                          process (refcounted)
 *   maildir_box_open(store, "INBOX", ...)  a session's snapshot of a folder
 *   maildir_box_sync(box, &changes)        what others changed since
 *
 * The Maildir is the truth; the index (Berkeley DB, see index-int.h) caches
 * it and holds what Maildir cannot: UIDs, UIDVALIDITY, keywords, modseqs,
 * the wire size of files with bare LF line ends.  Files delivered by
 * maildir_delivery_commit() or dropped into new/ or cur/ by other software
 * get the next UIDs, in delivery order, when a session next syncs the folder
 * (box open, maildir_box_sync, STATUS); new/ files are moved to cur/ then.
 * Files that vanished are expunged.  A folder whose index record is missing
 * or unreadable is re-indexed with a fresh UIDVALIDITY and the event is
 * logged (maildir_box_info().rebuilt tells it too).
 *
 * On disk, under MAIL_ROOT/USER/ (a standard Maildir++ that mutt, Dovecot
 * and ls read as is):
 *   cur/ new/ tmp/             INBOX; files "time.M..P..Q..host,S=size:2,FL"
 *   .Work.2026/                folder "Work/2026" (mUTF-7 names), with an
 *                              empty maildirfolder file
 *   subscriptions              subscribed names, one per line
 *   maillab-uidvalidity        per folder (beside its cur/): last
 *                              UIDVALIDITY, so a lost index gives a new one
 *   maillab-uidvalidity.next   the user's UIDVALIDITY counter
 *   maillab-index/             Berkeley DB environment (index.db, logs,
 *                              region files: ~32 MB of disk, reserved at
 *                              open, index-int.h), index.lock, pop3.lock
 *   maillab-env.lock           who has that environment open (fcntl
 *                              locks, common/dbenv.h): outside it, so a
 *                              rebuild of the index never removes it
 * and MAIL_ROOT/.tmp/ holds deliveries in progress (maildir_delivery_*).
 *
 * Keywords (IMAP flags without '\') live only in the index, up to
 * MAILDIR_MAX_KEYWORDS per folder; they do not survive a rebuild.  System
 * flags are in the file names (":2,DFRST") and survive it.
 *
 * Threads: a store handle may be used from several threads; one box is used
 * by one thread at a time.  Every call that reads or changes the index takes
 * the user's index lock (a flock, so it also orders processes).  A process
 * that forks must not use its parent's stores in the child (Berkeley DB
 * handles do not survive fork); it opens its own. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/buf.h"
#include "maildir/deliver.h"
#include "maildir/name.h"

#define MAILDIR_MAX_KEYWORDS 64

struct maildir_store;
struct maildir_box;

/* One message of a snapshot.  Pointers stay valid until the next
 * maildir_box_sync / maildir_box_close of the box. */
struct maildir_msg {
	uint32_t uid;
	uint8_t flags;		/* MAILDIR_FLAG_* (name.h) */
	bool recent;		/* \Recent in this session */
	bool needs_crlf;	/* file has bare LF line ends: convert each LF
				 * to CRLF when sending; `size` counts that */
	bool no_final_eol;	/* the file's last byte is not LF (empty
				 * files: false).  `size` does NOT count a
				 * line end for it: it is the exact IMAP
				 * literal / RFC822.SIZE.  POP3 must send a
				 * CRLF before the terminating "." (RFC 1939
				 * section 3) without counting it in LIST.
				 * Indexes written before this field existed
				 * read false until the folder is rebuilt. */
	uint8_t unverified;	/* MAILDIR_MSG_*_UNKNOWN: what the index took
				 * from the file name and stat without
				 * reading the file (maildir_box_msg_exact) */
	uint64_t keywords;	/* bit i: maildir_box_keyword_name(box, i) */
	uint64_t size;		/* RFC822.SIZE / POP3 size (CRLF) */
	int64_t idate;		/* internal date, seconds since the epoch */
	uint64_t modseq;	/* CONDSTORE modification sequence */
	char *fname;		/* relative to the folder: "cur/BASE:2,FL" */
};

/* Opens (creating the index if needed) the store of MAIL_ROOT/USER, which
 * must exist (maildir_user_create).  0, or -1 with err_r. */
int maildir_store_open(const char *mail_root, const char *user,
		       struct maildir_store **store_r, char *err_r,
		       size_t errlen);
void maildir_store_close(struct maildir_store **storep);
/* MAIL_ROOT/USER. */
const char *maildir_store_path(const struct maildir_store *store);

enum {
	MAILDIR_BOX_READONLY = 1 << 0,	/* EXAMINE: store/expunge refused */
	MAILDIR_BOX_RECENT = 1 << 1,	/* claim \Recent: IMAP SELECT only.
					 * EXAMINE must not (RFC 3501
					 * 6.3.2: it leaves \Recent to the
					 * other sessions), nor POP3 */
	MAILDIR_BOX_DEFER_LOAD = 1 << 2,	/* see maildir_box_load */
	MAILDIR_BOX_PEEK_RECENT = 1 << 3,	/* EXAMINE: show the messages
						 * no SELECT has claimed as
						 * \Recent (the same count as
						 * SELECT would, RFC 3501
						 * 6.3.2) without claiming */
	MAILDIR_BOX_LOAD_SMALL = 1 << 4,	/* with DEFER_LOAD: a folder
						 * of at most 4096 messages
						 * is loaded at once all the
						 * same */
};

/* Opens folder `name` (mUTF-7, '/' delimiter, "INBOX" any case) and takes a
 * snapshot in UID order.  -1 with err_r ("no such mailbox ..." when the
 * folder does not exist).  When the folder cannot be synced because the
 * index cannot be written (a full disk), it is opened read-only as the
 * index has it (maildir_box_info().readonly). */
int maildir_box_open(struct maildir_store *store, const char *name,
		     unsigned flags, struct maildir_box **box_r,
		     char *err_r, size_t errlen);
void maildir_box_close(struct maildir_box **boxp);

/* With MAILDIR_BOX_DEFER_LOAD, maildir_box_open syncs the folder and reads
 * only what SELECT reports (maildir_box_info, the keywords), and returns
 * still holding the user's index lock, so that the snapshot is the one of
 * that moment; the caller answers its client and then calls
 * maildir_box_load, which loads the snapshot and releases the lock (other
 * sessions and deliveries of the user wait meanwhile: call it at once).
 * Until then only maildir_box_info, maildir_box_keyword_count/_name,
 * maildir_box_load and maildir_box_close may be used.  0 (also when
 * nothing was deferred), or -1 with err_r: the box is then empty and the
 * session should end. */
int maildir_box_load(struct maildir_box *box, char *err_r, size_t errlen);
/* Whether maildir_box_load has work to do: a folder small enough is
 * loaded by maildir_box_open even with MAILDIR_BOX_DEFER_LOAD. */
bool maildir_box_load_pending(const struct maildir_box *box);

/* The snapshot: messages 0..count-1 (IMAP sequence number = index + 1). */
size_t maildir_box_count(const struct maildir_box *box);
/* How many of them were expunged but are kept (maildir_box_sync_held). */
size_t maildir_box_held(const struct maildir_box *box);
/* The folder's HIGHESTMODSEQ as of the last sync (maildir_box_info has
 * it too, but counts the messages). */
uint64_t maildir_box_highestmodseq(const struct maildir_box *box);
const struct maildir_msg *maildir_box_msg(const struct maildir_box *box,
					  size_t i);

/* A folder indexed from its file names (one never indexed before, or new
 * files from other software) is neither read nor, when the names carry
 * ",S=", stat'ed at its first SELECT (wire-size.c): ",W=" (Dovecot's and
 * ours) gives the wire size and needs_crlf; otherwise `size` is the S=
 * value or the file's byte count, a lower bound; the internal date is the
 * delivery time in the name until the file's mtime is read.  The fields a
 * message's unverified bits name are exact only after
 * maildir_box_msg_exact. */
enum {
	MAILDIR_MSG_WIRE_UNKNOWN = 1 << 0,	/* size, needs_crlf */
	MAILDIR_MSG_EOL_UNKNOWN = 1 << 1,	/* no_final_eol (POP3 sizes) */
	MAILDIR_MSG_IDATE_UNKNOWN = 1 << 2,	/* idate */
	MAILDIR_MSG_SIZES_UNKNOWN = MAILDIR_MSG_WIRE_UNKNOWN |
		MAILDIR_MSG_EOL_UNKNOWN,
};
/* Message i with the fields `need` names (MAILDIR_MSG_*_UNKNOWN) exact:
 * its file is read when they are unverified, once per snapshot, and the
 * result is written to the index at the next maildir_box_sync or
 * maildir_box_close (or after many).  When the file cannot be read the
 * provisional fields stay (reading the message then finds it gone).  NULL
 * when i is out of range. */
const struct maildir_msg *maildir_box_msg_exact(struct maildir_box *box,
						size_t i, unsigned need);
/* Index of `uid` in the snapshot, or -1. */
ssize_t maildir_box_find(const struct maildir_box *box, uint32_t uid);

struct maildir_box_info {
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t highestmodseq;
	uint32_t messages;
	uint32_t recent;
	uint32_t unseen;
	uint32_t first_unseen;	/* sequence number of the first unseen, 0 */
	uint64_t size;		/* wire bytes of all messages: filled only by
				 * maildir_folder_status_size (RFC 8438) */
	bool rebuilt;		/* the index of this folder was (re)created
				 * over existing files at open */
	bool readonly;		/* the index could not be written at open (a
				 * full disk): the box shows the messages the
				 * index knew, read-only, as if opened with
				 * MAILDIR_BOX_READONLY; no \Recent claimed */
};
void maildir_box_info(const struct maildir_box *box,
		      struct maildir_box_info *info);

/* The full path of a message's file. */
void maildir_box_path(const struct maildir_box *box,
		      const struct maildir_msg *msg, struct buf *out);
/* Opens the file of message `uid` read-only.  Follows a file renamed by
 * another session (flag change) by looking its base name up in cur/.
 * Returns the fd, or -1 with err_r (errno ENOENT: expunged meanwhile). */
int maildir_box_open_msg(struct maildir_box *box, uint32_t uid,
			 char *err_r, size_t errlen);
/* A unique id stable across sessions (POP3 UIDL): UIDVALIDITY and UID as
 * 16 hex digits.  out holds at least 17 bytes. */
void maildir_box_uid_string(const struct maildir_box *box,
			    const struct maildir_msg *msg, char *out);

/* A cache of bytes derived from a message's file, kept in the index (key
 * "C" folder-id UID, index-int.h) until the message is expunged, so a
 * second FETCH need not read the file.  Not made durable (it can always be
 * computed again).  The bytes are opaque here; imapd (cmd-fetch.c) writes
 * one record per message laid out as:
 *   offset 0  "IMH1"            magic (another layout: ignored, rewritten)
 *   offset 4  HLEN, 4 bytes     big-endian length of the header copy
 *   offset 8  HLEN bytes        the header block, its empty line included,
 *                               byte for byte (HLEN 0: not kept, because
 *                               the file has bare LF line ends or the
 *                               header is over 64 KiB)
 *   8 + HLEN  to the end        msg_parse_serialize() of the MIME parse
 *                               (message.h), or nothing when FETCH never
 *                               needed a parse
 * BODY[HEADER...] is answered from the header copy, BODYSTRUCTURE/ENVELOPE
 * from the parse; a record with neither is not written.
 * get: 0 found (bytes appended to out), 1 nothing cached, -1 error.
 * put: 0, or -1 (also for a UID not in the snapshot or len >
 * MAILDIR_CACHE_MAX). */
#define MAILDIR_CACHE_MAX (1024 * 1024)
int maildir_box_cache_get(struct maildir_box *box, uint32_t uid,
			  struct buf *out);
int maildir_box_cache_put(struct maildir_box *box, uint32_t uid,
			  const void *data, size_t len);
/* The cache records of UIDs from_uid..to_uid in UID order, read in one
 * cursor walk (FETCH of a range: far cheaper than a get per UID).  fn is
 * called for each record there is (data valid during the call only) and
 * returns nonzero to stop.  0; 1 when a record too big for the bulk
 * buffer (256 KiB) ended the walk early (read it with
 * maildir_box_cache_get); -1 on error. */
typedef int maildir_cache_fn(void *arg, uint32_t uid, const void *data,
			     size_t len);
int maildir_box_cache_range(struct maildir_box *box, uint32_t from_uid,
			    uint32_t to_uid, maildir_cache_fn *fn, void *arg);

/* Keywords of the folder. */
size_t maildir_box_keyword_count(const struct maildir_box *box);
const char *maildir_box_keyword_name(const struct maildir_box *box, size_t i);
/* Index of keyword `name` (case-insensitive), adding it to the folder when
 * `create` and there is room.  -1 when absent (or full). */
int maildir_box_keyword(struct maildir_box *box, const char *name,
			bool create);

/* STORE (RFC 3501 section 6.4.6). */
enum maildir_store_mode {
	MAILDIR_STORE_SET,
	MAILDIR_STORE_ADD,
	MAILDIR_STORE_REMOVE,
};
/* Changes the flags of the messages with the given UIDs (absent ones are
 * skipped): renames their files (system flags), updates the index, bumps
 * their modseq.  The snapshot entries are updated in place, so the caller
 * reads the new flags and modseq from maildir_box_msg().  0, or -1; -1 with
 * errno ESTALE and nothing changed when the folder's UIDVALIDITY is no
 * longer the snapshot's (rebuilt or recreated meanwhile: the UIDs now name
 * other messages; maildir_box_sync then reports uidvalidity_changed). */
int maildir_box_store(struct maildir_box *box, const uint32_t *uids,
		      size_t n, enum maildir_store_mode mode, unsigned flags,
		      uint64_t keywords, char *err_r, size_t errlen);

/* STORE (UNCHANGEDSINCE unchangedsince) (RFC 7162 section 3.1.3): as
 * maildir_box_store, but a message whose modseq in the index is above
 * unchangedsince is left alone and its UID appended to modified_r (room for
 * n; *nmodified_r counts them).  unchangedsince UINT64_MAX: no
 * condition; 0 fails every message (modseqs start at 1). */
int maildir_box_store_cond(struct maildir_box *box, const uint32_t *uids,
			   size_t n, enum maildir_store_mode mode,
			   unsigned flags, uint64_t keywords,
			   uint64_t unchangedsince, uint32_t *modified_r,
			   size_t *nmodified_r, char *err_r, size_t errlen);

/* QRESYNC (RFC 7162 3.2.5.1, 3.2.6): the UIDs expunged from the folder
 * after modseq `since`, ascending (*uids_r malloc'd, even when *n_r is 0),
 * leaving out those the snapshot still holds (the session reports them
 * when it syncs).  *complete_r is false when the folder's expunge log does
 * not reach back to `since` (its oldest entries were dropped, or the index
 * predates the log; index-int.h), and then *n_r is 0: the caller must
 * take every UID below UIDNEXT that is not in the snapshot as possibly
 * expunged since.
 * 0, or -1. */
int maildir_box_vanished(struct maildir_box *box, uint64_t since,
			 uint32_t **uids_r, size_t *n_r, bool *complete_r);

/* Removes the messages with the given UIDs, or when uids is NULL every
 * message flagged \Deleted now (also by another session): unlinks the
 * files, fsyncs cur/, and drops them from the index (one transaction per
 * 1000 messages; a crash in between leaves files that the next sync
 * expunges, never a message that is half there).  The snapshot is not changed:
 * the next maildir_box_sync reports them as expunged.  0, or -1 (some files
 * may then be gone: the index follows at the next sync).  Refused like
 * maildir_box_store (-1, errno ESTALE, nothing removed) when the folder's
 * UIDVALIDITY changed since the snapshot. */
int maildir_box_expunge(struct maildir_box *box, const uint32_t *uids,
			size_t n, char *err_r, size_t errlen);

/* UID EXPUNGE (RFC 4315 section 2.1): of the messages with the given
 * UIDs, removes those flagged \Deleted now.  Otherwise as above. */
int maildir_box_expunge_deleted(struct maildir_box *box, const uint32_t *uids,
				size_t n, char *err_r, size_t errlen);

/* COPY (RFC 3501 section 6.4.7, RFC 4315 COPYUID): hard-links (or copies)
 * the files into folder dst_name with the same flags, assigns them UIDs
 * there.  dst_uids_r receives one UID per copied message, in the order of
 * `uids` (absent UIDs are skipped; *ncopied_r tells how many).  0, or -1. */
int maildir_box_copy(struct maildir_box *box, const uint32_t *uids, size_t n,
		     const char *dst_name, uint32_t *dst_uidvalidity_r,
		     uint32_t *dst_uids_r, size_t *ncopied_r,
		     char *err_r, size_t errlen);

/* The same, also telling which source UID became which: src_uids_r[i]
 * (room for n) was copied to dst_uids_r[i] (RFC 4315 COPYUID). */
int maildir_box_copy_pairs(struct maildir_box *box, const uint32_t *uids,
			   size_t n, const char *dst_name,
			   uint32_t *dst_uidvalidity_r, uint32_t *src_uids_r,
			   uint32_t *dst_uids_r, size_t *ncopied_r,
			   char *err_r, size_t errlen);

/* MOVE (RFC 6851): moves the messages with the given UIDs (absent or
 * already expunged ones are skipped) into folder dst_name, whatever their
 * flags.  Each file is renamed into the destination's cur/ (same name,
 * same inode: no data is copied) and both indexes change in one
 * transaction per IDX_BATCH messages, all under the user's index lock, so
 * another session's sync sees the messages in the source or in the
 * destination, never in both or neither.  src_uids_r[i] became
 * dst_uids_r[i] (room for n each; *nmoved_r pairs).  A move within one
 * folder gives the messages new UIDs.  The snapshot is not changed: the
 * next maildir_box_sync reports the moved messages as expunged.  0, or -1
 * with nothing moved (files already renamed are renamed back): "no such
 * mailbox" in err_r when the destination does not exist, refused like
 * maildir_box_store (ESTALE) when the UIDVALIDITY changed, "read-only"
 * for a box opened MAILDIR_BOX_READONLY. */
int maildir_box_move(struct maildir_box *box, const uint32_t *uids, size_t n,
		     const char *dst_name, uint32_t *dst_uidvalidity_r,
		     uint32_t *src_uids_r, uint32_t *dst_uids_r, size_t *nmoved_r,
		     char *err_r, size_t errlen);

/* APPEND (RFC 3501 section 6.3.11): places a finished delivery (begun with
 * maildir_delivery_begin, filled with maildir_delivery_write) into folder
 * `name` of the store, in cur/ with `flags`, its mtime set to idate
 * (idate < 0: now), durably, and assigns its UID.  The keywords are given by
 * name (created in the folder as needed).  0, or -1 (nothing visible). */
int maildir_append(struct maildir_store *store, const char *name,
		   struct maildir_delivery *d, unsigned flags,
		   const char *const *keywords, size_t nkeywords, int64_t idate,
		   uint32_t *uidvalidity_r, uint32_t *uid_r,
		   char *err_r, size_t errlen);
/* MULTIAPPEND (RFC 3502): several deliveries into folder `name`, all or
 * none: the store lock is held throughout, so no other session sees a
 * part, and on failure the files placed are removed.  uids_r gets n UIDs,
 * ascending.  0, or -1. */
struct maildir_append_msg {
	struct maildir_delivery *dl;
	unsigned flags;
	const char *const *keywords;
	size_t nkeywords;
	int64_t idate;		/* < 0: now */
};
int maildir_append_many(struct maildir_store *store, const char *name,
			const struct maildir_append_msg *msgs, size_t n,
			uint32_t *uidvalidity_r, uint32_t *uids_r,
			char *err_r, size_t errlen);

/* What changed since the snapshot, as reported by maildir_box_sync. */
struct maildir_changes {
	uint32_t *expunged_seqs;	/* sequence numbers in the old
					 * snapshot, descending: send
					 * "* n EXPUNGE" in this order */
	size_t n_expunged;
	uint32_t *expunged_uids;	/* the same messages' UIDs, ascending */
	size_t n_new;			/* messages added at the end */
	uint32_t *changed_seqs;		/* flags/keywords changed by others
					 * (new sequence numbers, ascending) */
	size_t n_changed;
	bool uidvalidity_changed;	/* the folder was rebuilt or
					 * recreated: the session must end */
	bool keywords_changed;		/* another session (or an APPEND or
					 * COPY) defined new keywords in the
					 * folder: IMAP sends a fresh
					 * "* FLAGS" and PERMANENTFLAGS
					 * before the FETCH FLAGS that use
					 * them (RFC 3501 7.2.6).  A keyword
					 * this box created itself
					 * (maildir_box_keyword) is not
					 * reported again */
};
void maildir_changes_free(struct maildir_changes *ch);

/* Brings the folder's index up to date with the disk (cheap when nothing
 * changed: two stat(2) calls and one DB read) and the snapshot up to date
 * with the index, reporting the difference.  New messages claim \Recent when
 * the box was opened with MAILDIR_BOX_RECENT.  When uidvalidity_changed is
 * set the snapshot is left as it was.  0, or -1 (errno ENOENT: the folder
 * was deleted or renamed; the session should leave it). */
int maildir_box_sync(struct maildir_box *box, struct maildir_changes *ch,
		     char *err_r, size_t errlen);
/* As maildir_box_sync, but messages expunged meanwhile stay in the
 * snapshot, with their sequence numbers, and are not reported: new
 * messages and flag changes are (RFC 5465 6.1.2, SELECTED-DELAYED).  The
 * next maildir_box_sync reports them as expunged. */
int maildir_box_sync_held(struct maildir_box *box, struct maildir_changes *ch,
			  char *err_r, size_t errlen);

/* An inotify descriptor (non-blocking, close-on-exec) that becomes readable
 * when the folder's new/ or cur/ changes (a delivery, another session's
 * expunge or flag change, another program).  Owned by the box.  The caller
 * polls it, calls maildir_box_notify_drain() and then maildir_box_sync().
 * -1 when inotify is not available: then poll maildir_box_sync. */
int maildir_box_notify_fd(struct maildir_box *box);
void maildir_box_notify_drain(struct maildir_box *box);

/* Removes tmp/ files older than 36 hours (Maildir convention) from the
 * folder's tmp/ and from MAIL_ROOT/.tmp/ (abandoned deliveries).  Also run
 * at box open (at most once an hour per folder and store handle).  Returns
 * the number removed. */
int maildir_clean_tmp(const char *maildir, int64_t now);

#endif
