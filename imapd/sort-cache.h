#ifndef IMAPD_SORT_CACHE_H
#define IMAPD_SORT_CACHE_H
/* The SORT/THREAD keys of a folder's messages, computed once from each
 * message's header block and kept (as Dovecot keeps them in its cache
 * file) so that a repeated SORT or THREAD reads no message file:
 *
 *  - in memory, per folder (the user's store path and the UIDVALIDITY),
 *    shared by the sessions of the process, with the rank of every
 *    message by each sort key, so that SORT compares numbers only; at
 *    most KEYCACHE_FOLDERS folders and KEYCACHE_MSGS messages, the least
 *    recently used dropped first;
 *  - on disk in the folder's key file (maildir/keyfile.h), read when the
 *    folder is first sorted in a process, so that the keys survive a
 *    restart.
 *
 * A message's keys never change while its UID exists (a Maildir file is
 * not rewritten within a UIDVALIDITY), so a record is right as long as the
 * UID is in a snapshot; records of expunged messages are dropped when
 * they pass a quarter of the folder (and the file rewritten), and a new
 * UIDVALIDITY names another cache and another file. */
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "imapd/sort.h"

struct maildir_box;
struct imap_keycache;

/* Fills v[0..n) with the keys of the box's messages idx[0..n) (snapshot
 * indexes, ascending): seq, uid, size and arrival from the snapshot, the
 * rest from the cache, or from the message file for those not cached yet
 * (then cached).  rank[k] is set for each key k (enum imap_sort_key)
 * whose bit (1 << k) is in `ranked`.  The strings
 * belong to the cache (never imap_msg_keys_free such a v[i]): they stay
 * valid until imap_keycache_release of the returned handle.  store_path
 * names the user's store (maildir_store_path). */
struct imap_keycache *imap_keycache_get(struct maildir_box *box,
					const char *store_path,
					const size_t *idx, size_t n,
					unsigned ranked, struct imap_msg_keys *v);
void imap_keycache_release(struct imap_keycache **kcp);
/* For SORT: rank[i * ncrit + c] is the rank of message idx[i] by
 * crit[c].key (the same cache, nothing else copied). */
void imap_keycache_ranks(struct maildir_box *box, const char *store_path,
			 const size_t *idx, size_t n,
			 const struct imap_sort_crit *crit, size_t ncrit,
			 uint32_t *rank);

/* The keys of message idx from its file (all IMAP_KEYS_*); a message whose
 * file is gone gets the keys of an empty header.  head: HEAD_READ bytes
 * of scratch. */
#define IMAP_KEYS_HEAD_READ 16384
void imap_keys_from_file(struct maildir_box *box, size_t idx, char *head,
			 struct imap_msg_keys *k);

/* The key file record of k (sort-record.c). */
void imap_keys_encode(const struct imap_msg_keys *k, struct buf *out);
/* 0 with *k filled (strings malloc'd: imap_msg_keys_free; seq and uid 0),
 * or -1 when data[0..len) is not a whole record. */
int imap_keys_decode(const void *data, size_t len, struct imap_msg_keys *k);

/* Drops every folder from memory (tests). */
void imap_keycache_flush(void);

#endif
