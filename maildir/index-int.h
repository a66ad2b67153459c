#ifndef MAILDIR_INDEX_INT_H
#define MAILDIR_INDEX_INT_H
/* Internal to maildir/: the Berkeley DB index of one user and the records
 * in it.
 *
 * One transactional environment per user in MAIL_ROOT/USER/maillab-index/
 * (a name without a leading '.', so Maildir++ software does not take it for
 * a folder), holding one btree, index.db, with three kinds of keys:
 *
 *   "F" DIRNAME                 -> struct frec   (DIRNAME "" for INBOX)
 *   "K" ID(be32)                -> keyword names, each NUL-terminated
 *   "M" ID(be32) UID(be32)      -> struct mrec + file name ("cur/...")
 *   "C" ID(be32) UID(be32)      -> cached bytes (maildir_box_cache_put)
 *   "E" ID(be32) MODSEQ(be64)   -> UID(be32): expunged at that modseq
 *   "G" ID(be32)                -> the expunge log's floor and size
 *                                  (expunge-log.c)
 *   "Ifolder-id"                -> the next folder id (uint32; an index
 *                                  from before kept it as "Nfolder-id")
 *
 * Big-endian numbers in keys keep a folder's messages together in UID
 * order.  No key may sort after the "M" keys: the messages of the newest
 * folder, indexed in UID order, must go to the right edge of the btree,
 * where Berkeley DB splits a full page by moving only the new record
 * (its sorted-append split) instead of halving it.  Every change is made holding the user's index lock (lock.c), so
 * the DB transactions never wait on each other across processes; they give
 * atomicity and crash recovery.  The one exception, the message cache
 * ("C", written and read by FETCH without the lock), uses transactions
 * that never wait (idx_begin_unlocked). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <db.h>

#include "maildir/mailbox.h"

#define FREC_VERSION 2
#define INDEX_DIR "maillab-index"

struct frec {
	uint32_t version;
	uint32_t id;		/* folder id: keys of its messages */
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t modseq;	/* HIGHESTMODSEQ: bumped by every change */
	uint32_t first_recent_uid;	/* lowest UID not yet seen by a SELECT */
	uint32_t messages;
	uint32_t unseen;
	uint32_t pad;
	int64_t new_mtime;	/* new/ mtime (ns) when last fully synced; 0 dirty */
	int64_t cur_mtime;	/* cur/ likewise */
	/* version 2: the sum of the messages' mrec.size, kept with
	 * `messages` in the same transactions (quota, maildir/quota.h);
	 * FREC_BYTES_UNKNOWN in a record read from version 1 (or after a
	 * count went wrong) until maildir_usage counts the folder again */
	uint64_t bytes;
};
#define FREC_BYTES_UNKNOWN UINT64_MAX
/* A version 1 record: the same fields without `bytes`. */
#define FREC_V1_SIZE offsetof(struct frec, bytes)

/* Counts a message with `flags` and wire `size` into (delta 1) or out of
 * (delta -1) the folder record: messages, unseen, bytes. */
void frec_count(struct frec *f, unsigned flags, uint64_t size, int delta);

struct mrec {
	uint64_t modseq;
	uint64_t size;		/* wire size (CRLF line ends) */
	int64_t idate;		/* internal date, seconds */
	uint64_t keywords;	/* bit i: keyword i of the folder */
	uint8_t flags;		/* MAILDIR_FLAG_* */
	uint8_t needs_crlf;
	uint8_t no_final_eol;	/* the file does not end with LF (records
				 * written before this field: 0) */
	uint8_t unverified;	/* MAILDIR_MSG_*_UNKNOWN (mailbox.h): fields
				 * taken from the file name, not read from
				 * the file (wire-size.c); 0 before */
	uint8_t pad[4];
	/* followed by the file name relative to the folder, NUL-terminated */
};

struct maildir_store {
	char *mail_root;
	char *user;
	char *path;		/* MAIL_ROOT/USER */
	DB_ENV *env;
	DB *db;
	int env_syserr;		/* errno the library reported while opening
				 * env (ENOSPC, EIO ...), or 0 */
	int mark_fd;		/* index.lock, for its owner mark, or -1 */
	int env_lock_fd;	/* USER/maillab-env.lock, the users lock of
				 * env (index-env.c), or -1 */
	bool env_others;	/* other processes had env open when it was
				 * opened (no recovery, no rebuild) */
	int refs;
	/* refs 0: kept open for the next session (mailbox.c); the index
	 * file as it was then, to see whether it was replaced since */
	int64_t idle_since;
	struct stat idle_st;
	/* when box open last cleaned a folder's tmp/ (by a hash of its
	 * directory name; mailbox.c) */
	struct {
		uint32_t hash;
		int64_t at;
	} tmp_cleaned[16];
	struct maildir_store *next;
};

/* Environment and database (index-env.c).
 *
 * A full file system must not kill the process: Berkeley DB keeps its
 * regions in files mapped into memory (__db.001 ...), and a store into a
 * page of a sparse file that cannot get a block is a SIGBUS.  So region
 * files are written out when created (DB_REGION_INIT), holes left by older
 * versions are filled before joining, and after the open each region
 * file's whole mapped length (the most it can grow to) is reserved with
 * fallocate: about 28 MB of disk per user.  Log files are zeroed when begun
 * (DB_LOG_ZERO), so changes that free space still find room in the log.
 *
 * idx_open, with the user's exclusive index lock held: 0, or -1 with err_r
 * and errno.  An index that is lost or corrupt is removed and recreated
 * (logged with the reason; folders then get new UIDVALIDITYs); any other
 * failure leaves it alone. */
int idx_open(struct maildir_store *s, char *err_r, size_t errlen);
/* Whether an environment whose open failed with `ret` (an errno value or a
 * DB_* code; `syserr`, an errno the library logged meanwhile, or 0) may be
 * removed and rebuilt: only for corruption, and only with the room a new
 * one needs (free_bytes on its file system).  A full disk, I/O errors,
 * EAGAIN and lock timeouts are temporary: the index is kept. */
#define IDX_REBUILD_ROOM ((uint64_t)40 << 20)
bool idx_open_rebuild_ok(int ret, int syserr, uint64_t free_bytes);
/* Who else has the environment open, and so whether its open may run
 * recovery, is told by the protocol of common/dbenv.h (dbenv_gate_enter)
 * on USER/maillab-env.lock: outside INDEX_DIR, which a rebuild removes
 * while other processes may hold the lock. */
/* Checkpoints and closes an open environment. */
void idx_close(struct maildir_store *s);
/* Closes handles whose index files were deleted or replaced since (an idle
 * store, mailbox.c): nothing is written back into what is there now. */
void idx_close_stale(struct maildir_store *s);

/* idx_commit under the index lock writes the log but does not wait for it
 * to reach the disk: lock_index_release does, after the lock is released
 * (lock.h). */
int idx_begin(struct maildir_store *s, DB_TXN **txn_r);
int idx_commit(DB_TXN *txn);
/* A transaction for loading many records (DB_TXN_BULK): what it puts on
 * pages it allocates is not logged; its commit writes those pages to
 * index.db and syncs the file instead, so a commit is as durable as a
 * logged one, and a crash before it frees the pages again (their
 * allocation is logged) with the rest of the transaction undone. */
int idx_begin_bulk(struct maildir_store *s, DB_TXN **txn_r);
/* Commits without flushing the log: durable only once a later commit (or
 * checkpoint) flushes it, and then together with everything before it. */
int idx_commit_nosync(DB_TXN *txn);
void idx_abort(DB_TXN *txn);
/* store_lock: the store whose log the lock's release flushes. */
void idx_note_locked(struct maildir_store *s);
/* That flush (lock.c): 0, or -1 with errno. */
int idx_flush_pending(void);
/* A transaction for what runs without the index lock (the message cache,
 * a file name looked up for FETCH) while a writer may hold it: it never
 * waits for a lock, so it can never deadlock with the writer (whose
 * EXPUNGE or STORE would fail); an operation that would have waited fails
 * at once, and the caller does without (reads the message file).  No
 * fsync at commit: only cache records are written in it. */
int idx_begin_unlocked(struct maildir_store *s, DB_TXN **txn_r);

/* 0 found, 1 not found, -1 error. */
int idx_folder_get(struct maildir_store *s, DB_TXN *txn, const char *dir,
		   struct frec *f);
int idx_folder_put(struct maildir_store *s, DB_TXN *txn, const char *dir,
		   const struct frec *f);
int idx_folder_del(struct maildir_store *s, DB_TXN *txn, const char *dir);
/* A new folder record with a fresh id and a UIDVALIDITY above `above` and
 * above every one given before (not stored). */
int idx_folder_new(struct maildir_store *s, DB_TXN *txn, struct frec *f,
		   uint32_t above);
/* Removes all "M", "K", "C", "E" and "G" records of folder `id`. */
int idx_folder_purge(struct maildir_store *s, DB_TXN *txn, uint32_t id);

int idx_keywords_get(struct maildir_store *s, DB_TXN *txn, uint32_t id,
		     char ***names_r, size_t *n_r);
int idx_keywords_put(struct maildir_store *s, DB_TXN *txn, uint32_t id,
		     char *const *names, size_t n);

/* 0 found, 1 not found, -1 error.  *fname_r is malloc'd. */
int idx_msg_get(struct maildir_store *s, DB_TXN *txn, uint32_t id,
		uint32_t uid, struct mrec *m, char **fname_r);
/* The same without the index lock (idx_begin_unlocked): the file name
 * only. */
int idx_msg_fname(struct maildir_store *s, uint32_t id, uint32_t uid,
		  char **fname_r);
int idx_msg_put(struct maildir_store *s, DB_TXN *txn, uint32_t id,
		uint32_t uid, const struct mrec *m, const char *fname);
/* Also drops the message's cache record. */
int idx_msg_del(struct maildir_store *s, DB_TXN *txn, uint32_t id,
		uint32_t uid);

/* The key of message uid of folder id: 9 bytes ("M" ID UID). */
void idx_msg_key(unsigned char *k, uint32_t id, uint32_t uid);

/* Many new records of one folder, put in UID order (sync.c indexing a
 * folder seen for the first time): gathered in a DB_MULTIPLE_KEY buffer
 * and put with one DB->put each 1 MiB, which walks them with one cursor
 * instead of opening and closing one per record as idx_msg_put does.
 * idx_batch_add may put (flush) what was gathered, in txn; records are in
 * txn only once idx_batch_flush returned, so flush before a commit.  Both
 * 0, or -1 with errno. */
struct idx_msg_batch {
	struct maildir_store *s;
	uint32_t id;
	void *buf;		/* BATCH_BYTES (index-batch.c), or NULL */
	DBT dbt;		/* the pairs gathered in buf */
	void *ptr;		/* DB_MULTIPLE_WRITE_INIT's, NULL: not begun */
	unsigned n;		/* records gathered */
};
void idx_batch_init(struct idx_msg_batch *b, struct maildir_store *s,
		    uint32_t id);
int idx_batch_add(struct idx_msg_batch *b, DB_TXN *txn, uint32_t uid,
		  const struct mrec *m, const char *fname);
int idx_batch_flush(struct idx_msg_batch *b, DB_TXN *txn);
/* Frees the buffer; what was not flushed is dropped. */
void idx_batch_free(struct idx_msg_batch *b);

/* The per-message cache: 0 found (appended to out), 1 none, -1 error. */
int idx_cache_get(struct maildir_store *s, uint32_t id, uint32_t uid,
		  struct buf *out);
int idx_cache_put(struct maildir_store *s, uint32_t id, uint32_t uid,
		  const void *data, size_t len);
/* maildir_box_cache_range: one cursor walk with bulk reads. */
int idx_cache_range(struct maildir_store *s, uint32_t id, uint32_t from_uid,
		    uint32_t to_uid, maildir_cache_fn *fn, void *arg);

/* Calls fn for every message of folder id in UID order (bulk reads).  fn
 * returns 0 to go on.  No transaction: the caller holds the index lock. */
typedef int idx_msg_fn(void *arg, uint32_t uid, const struct mrec *m,
		       const char *fname);
int idx_msg_iter(struct maildir_store *s, uint32_t id, uint32_t from_uid,
		 idx_msg_fn *fn, void *arg);
/* The same one record at a time: for walks that usually stop early
 * (idx_msg_iter copies up to 4 MiB of records per step). */
int idx_msg_walk(struct maildir_store *s, uint32_t id, uint32_t from_uid,
		 idx_msg_fn *fn, void *arg);

/* Crash checks.  A process that dies inside Berkeley DB leaves locks that
 * would block the others until DB_ENV->failchk releases them, and failchk
 * walks every mutex of the environment: tens of microseconds, most of the
 * cost of a small operation.  So index.lock holds an owner mark, the
 * process (pid and a random token) that last used the index, written only
 * under the exclusive index lock right after that process ran failchk.
 * While the mark is ours no other process has used the index since our
 * failchk, so none can have died inside it, and failchk is skipped.
 *
 * idx_failchk: with the exclusive index lock held; runs failchk (and
 * recovery when that is not enough) unless the mark is ours, then marks.
 * idx_enter: before any use of the index without the lock; when the mark is
 * not ours it takes the lock for idx_failchk.  Both 0, or -1. */
int idx_failchk(struct maildir_store *s, char *err_r, size_t errlen);
int idx_enter(struct maildir_store *s);

/* The exclusive index lock of the store's user, then idx_failchk.  Returns
 * the lock fd (lock_index_release), or -1 with err_r. */
int store_lock(struct maildir_store *s, char *err_r, size_t errlen);

/* Changes to many messages commit every IDX_BATCH of them, storing the
 * folder record f with each commit: call after each change; it commits and
 * begins a new transaction in *txn when the batch is full.  0, or -1 (then
 * *txn is NULL). */
#define IDX_BATCH 1000
int idx_rollover(struct maildir_store *s, DB_TXN **txn, const char *dir,
		 const struct frec *f, unsigned *count);

/* The expunge log (expunge-log.c).  Every expunge of a message (EXPUNGE,
 * MOVE, a file gone from the Maildir) bumps the folder's modseq and logs
 * the UID under the new value, in the transaction that drops the message.
 * At most XLOG_MAX entries per folder are kept (past XLOG_MAX + XLOG_MAX/8
 * the oldest are dropped); the floor is the highest modseq whose expunges
 * may be missing from the log: 0 for a folder created with the log, its
 * modseq of the moment for an index from before the log.
 * xlog_init: a new folder (floor 0).  xlog_add: uid expunged at
 * f->modseq.  0, or -1. */
#define XLOG_MAX 50000
int xlog_init(struct maildir_store *s, DB_TXN *txn, uint32_t id);
int xlog_add(struct maildir_store *s, DB_TXN *txn, const struct frec *f,
	     uint32_t uid);

/* Periodic checkpoint (cheap when little was written). */
void idx_checkpoint(struct maildir_store *s);

/* The base name of a folder-relative file name "cur/BASE:2,FL". */
const char *fname_base(const char *fname, size_t *len_r);

#endif

/* sync.c.  The caller holds the exclusive index lock. */

/* Brings the index of folder DIR ("" for INBOX, ".Work" ...) up to date with
 * its files and returns its record in *f.  *rebuilt_r is set when the record
 * had to be created while the folder held files (logged).  -1 with err_r;
 * errno ENOENT when the folder does not exist. */
int sync_folder(struct maildir_store *s, const char *dir, struct frec *f,
		bool *rebuilt_r, char *err_r, size_t errlen);

/* The Maildir path of folder DIR. */
void folder_path(const struct maildir_store *s, const char *dir,
		 struct buf *out);

/* Own changes to cur/ under the index lock: note cur/'s mtime before
 * (own_change_begin) and, if the index had it up to date, record the new
 * one after (own_change_end), so our renames do not force a rescan. */
int64_t own_change_begin(const char *maildir);
void own_change_end(const char *maildir, int64_t before, struct frec *f);

/* wire-size.c.  Wire size of an open file: its size plus one per bare LF.
 * -1 on error. */
int file_wire_size(int fd, uint64_t *size_r, uint64_t *wire_r,
		   bool *no_final_eol_r);
/* What the Maildir name of message file `fname` (with or without "cur/")
 * tells, with `st` its lstat or NULL: m->size, needs_crlf, no_final_eol
 * (false), idate and unverified.  ",W=" is the wire size when ",S=" is
 * also there (and equals st_size when st is given) and W >= S, as in
 * names from Dovecot and maillab, which count both; else the size is S=
 * (without st) or st_size, the wire size unknown.  Without st the internal
 * date is the name's delivery time, unverified; call it without st only
 * when mrec_name_suffices. */
void mrec_from_name(struct mrec *m, const char *fname, const struct stat *st);
/* Whether the name carries ",S=" and a delivery time. */
bool mrec_name_suffices(const char *fname);
/* The same two from the name already parsed (maildir_name_parse of the
 * base name), for a caller that keeps the parse. */
void mrec_from_info(struct mrec *m, const struct maildir_name_info *info,
		    const struct stat *st);
bool mrec_info_suffices(const struct maildir_name_info *info);
/* The exact sizes from the open file (read to its end): size, needs_crlf,
 * no_final_eol, and unverified 0.  0, or -1 with errno. */
int mrec_sizes_from_file(struct mrec *m, int fd);
