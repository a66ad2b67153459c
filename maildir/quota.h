#ifndef MAILDIR_QUOTA_H
#define MAILDIR_QUOTA_H
/* What a user's mail takes, for quotas (RFC 9208), and emptying a user's
 * mailbox (`maillab user reset`).
 *
 * The usage is kept in the index, not recounted: each folder record holds
 * the sum of its messages' sizes beside their number (index-int.h, struct
 * frec `bytes`), changed in the same Berkeley DB transaction as the
 * message records, so a crash leaves count and messages consistent.
 * maildir_usage syncs every folder first (two stat(2) calls and one DB
 * read for a folder that did not change), so mail delivered into new/,
 * or files added or removed by other software, count from the first
 * look.  A folder record written before the count existed (or one whose
 * count went wrong) is counted once from its message records and
 * stored. */
#include <stddef.h>
#include <stdint.h>

#include "maildir/mailbox.h"

struct maildir_usage {
	uint64_t bytes;		/* sum of RFC822.SIZE (CRLF line ends) */
	uint64_t messages;
};

/* The usage of the store's user over every folder.  Takes the user's
 * index lock.  0, or -1 with err_r. */
int maildir_usage(struct maildir_store *s, struct maildir_usage *u,
		  char *err_r, size_t errlen);

/* STATUS DELETED and DELETED-STORAGE (RFC 9208 4.2): how many messages
 * of folder `name` are flagged \Deleted now and the sum of their sizes
 * (what an EXPUNGE would give back).  Syncs the folder first.  0, or -1
 * with err_r ("no such mailbox" when it does not exist). */
int maildir_folder_deleted(struct maildir_store *s, const char *name,
			   uint64_t *count_r, uint64_t *bytes_r,
			   char *err_r, size_t errlen);

/* Empties the mailbox of the store's user: every message of every folder
 * (files and index records, keywords too) is removed and the folders the
 * user created are deleted; INBOX and the standard folders stay (created
 * again if missing, and subscribed), with their UIDVALIDITY and UIDNEXT,
 * so no UID is ever reused.  Runs under the user's index lock, so
 * sessions of the user that are open meanwhile (IMAP, POP3, in this or
 * another process) see the messages expunged at their next sync.  Mail
 * delivered while it runs may be kept or removed, never half there.
 * Files are unlinked before the index forgets them, so a crash in
 * between leaves files that the next sync expunges.  0, or -1 with
 * err_r. */
int maildir_user_reset(struct maildir_store *s, char *err_r, size_t errlen);

#endif
