#ifndef MAILDIR_FOLDER_H
#define MAILDIR_FOLDER_H
/* The folders of a user's Maildir++ (IMAP LIST, CREATE, DELETE, RENAME,
 * SUBSCRIBE, STATUS).  Names are IMAP names: modified UTF-7, '/' as the
 * hierarchy delimiter, "INBOX" the root (see name.h). */
#include <stdbool.h>
#include <stddef.h>

#include "maildir/mailbox.h"

#define MAILDIR_DELIMITER '/'

enum {
	MAILDIR_FOLDER_NOSELECT = 1 << 0,	/* implicit parent: no Maildir */
	MAILDIR_FOLDER_HASCHILDREN = 1 << 1,
	MAILDIR_FOLDER_HASNOCHILDREN = 1 << 2,
	MAILDIR_FOLDER_SUBSCRIBED = 1 << 3,
	MAILDIR_FOLDER_SENT = 1 << 4,		/* RFC 6154 special use, by */
	MAILDIR_FOLDER_DRAFTS = 1 << 5,		/* the names maildir_user_create */
	MAILDIR_FOLDER_TRASH = 1 << 6,		/* gives them */
	MAILDIR_FOLDER_JUNK = 1 << 7,
	MAILDIR_FOLDER_ARCHIVE = 1 << 8,
};
/* The special-use bits (maildir_folder_set_special_use). */
#define MAILDIR_FOLDER_SPECIAL (MAILDIR_FOLDER_SENT | MAILDIR_FOLDER_DRAFTS | \
				MAILDIR_FOLDER_TRASH | MAILDIR_FOLDER_JUNK | \
				MAILDIR_FOLDER_ARCHIVE)

struct maildir_folder {
	char *name;		/* "INBOX", "Work/2026", ... */
	unsigned attrs;		/* MAILDIR_FOLDER_* */
};

/* Every folder, INBOX first then in byte order, with parents that exist
 * only implicitly (".a.b" without ".a") listed as NOSELECT.  Subscribed
 * names that do not exist are not listed (see maildir_subscriptions).
 * 0, or -1 with err_r.  Free with maildir_folder_list_free. */
int maildir_folder_list(struct maildir_store *s, struct maildir_folder **list_r,
			size_t *n_r, char *err_r, size_t errlen);
void maildir_folder_list_free(struct maildir_folder *list, size_t n);

/* IMAP LIST pattern match (RFC 3501 section 6.3.8): '*' matches anything,
 * '%' anything but the delimiter.  "INBOX" is matched case-insensitively. */
bool maildir_folder_match(const char *pattern, const char *name);

/* CREATE: makes the folder and any missing superior levels (RFC 3501
 * section 6.3.3).  -1 with err_r when invalid, INBOX, or it exists. */
int maildir_folder_create(struct maildir_store *s, const char *name,
			  char *err_r, size_t errlen);

/* DELETE: removes the folder, its messages and its index; inferior
 * folders stay (the name then lists as NOSELECT).  INBOX cannot be deleted.
 * The directory is first renamed away, so it disappears atomically. */
int maildir_folder_delete(struct maildir_store *s, const char *name,
			  char *err_r, size_t errlen);

/* RENAME (RFC 3501 section 6.3.5): renames the folder and its inferiors,
 * keeping UIDs and UIDVALIDITY.  Renaming INBOX moves its messages into a
 * new folder `to` (new UIDs there) and leaves INBOX empty. */
int maildir_folder_rename(struct maildir_store *s, const char *from,
			  const char *to, char *err_r, size_t errlen);

/* SUBSCRIBE / UNSUBSCRIBE: the `subscriptions` file (one name per line,
 * as Dovecot's older format and Courier's courierimapsubscribed). */
int maildir_folder_subscribe(struct maildir_store *s, const char *name,
			     bool subscribe, char *err_r, size_t errlen);
/* The subscribed names (LSUB), malloc'd array of malloc'd strings. */
int maildir_subscriptions(struct maildir_store *s, char ***names_r,
			  size_t *n_r, char *err_r, size_t errlen);

/* RFC 6154 special use (special-use.c).  A folder's attributes are those
 * of its name (Sent, Drafts, Trash, Junk, Archive) unless they were set
 * for it; maildir_folder_list applies both. */
/* The MAILDIR_FOLDER_* bit of "\Sent"... (any case), 0 when unknown. */
unsigned maildir_special_use_bit(const char *attr);
/* "\Sent"... for one bit, NULL when it is not a special-use bit. */
const char *maildir_special_use_name(unsigned bit);
/* Sets the special-use bits of folder `name` (it must exist), replacing
 * those of its name; 0 sets "none".  Durable.  0, or -1 with err_r. */
int maildir_folder_set_special_use(struct maildir_store *s, const char *name,
				   unsigned bits, char *err_r, size_t errlen);
/* For maildir_folder_list: the set bits replace those of the names. */
void maildir_folder_apply_special_use(struct maildir_store *s,
				      struct maildir_folder *list, size_t n);

/* STATUS (RFC 3501 section 6.3.10): syncs the folder and returns its
 * counts (first_unseen and rebuilt are not filled).  Does not claim
 * \Recent. */
int maildir_folder_status(struct maildir_store *s, const char *name,
			  struct maildir_box_info *info,
			  char *err_r, size_t errlen);
/* The same, with info->size: one more walk over the folder's records. */
int maildir_folder_status_size(struct maildir_store *s, const char *name,
			       struct maildir_box_info *info,
			       char *err_r, size_t errlen);

#endif
