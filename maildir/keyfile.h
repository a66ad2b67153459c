#ifndef MAILDIR_KEYFILE_H
#define MAILDIR_KEYFILE_H
/* A side file of records derived from a folder's messages, one record per
 * UID, kept beside the index (IMAP SORT/THREAD keys: imapd/sort-cache.c).
 * The bytes are opaque here.  A message's file never changes within a
 * UIDVALIDITY, so a record stays right as long as the UID exists: the file
 * is named after the folder's UIDVALIDITY and is simply not found again
 * once the folder gets a new one.
 *
 *   MAIL_ROOT/USER/maillab-index/sortkeys.UIDVALIDITY
 *   "MLK1" UIDVALIDITY(be32), then records: UID(be32) LEN(be32) LEN bytes
 *
 * Records are appended (one write(2) per call, O_APPEND, so writers of
 * several processes do not interleave); a UID may appear more than once
 * (the last wins) and records of expunged messages stay until the file is
 * rewritten.  A file cut short (a crash in mid-append) ends at its last
 * whole record.  Not made durable: it is a cache and can always be
 * computed again.  Written without the index lock. */
#include <stddef.h>
#include <stdint.h>

#include "maildir/mailbox.h"

#define MAILDIR_KEYREC_MAX (64 * 1024)	/* longer records are refused */

struct maildir_keyrec {
	uint32_t uid;
	const void *data;
	size_t len;
};

/* Calls fn(arg, uid, data, len) for each whole record of the box's folder
 * in file order (data valid during the call); fn returns nonzero to stop.
 * 0 (also when there is no file), or -1 on a read error. */
int maildir_box_keys_read(struct maildir_box *box, maildir_cache_fn *fn,
			  void *arg);
/* Appends the records v[0..n) (creating the file).  0, or -1. */
int maildir_box_keys_append(struct maildir_box *box,
			    const struct maildir_keyrec *v, size_t n);
/* Replaces the file by one holding exactly v[0..n) (a new file renamed
 * over the old one: readers see one or the other).  0, or -1. */
int maildir_box_keys_rewrite(struct maildir_box *box,
			     const struct maildir_keyrec *v, size_t n);
/* The identity of the file (its inode): 0, or -1 when there is none.
 * A cache of it in memory is stale once this changes (the user's store
 * was removed and made again, or the file rewritten by another
 * process). */
int maildir_box_keys_id(struct maildir_box *box, uint64_t *id_r);
/* Removes the file of folder uidvalidity `uidvalidity` of the store (the
 * folder is deleted).  Missing is fine. */
void maildir_keys_remove(const struct maildir_store *store,
			 uint32_t uidvalidity);

#endif
