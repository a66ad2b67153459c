#ifndef MAILDIR_DELIVER_INT_H
#define MAILDIR_DELIVER_INT_H
/* Internal to maildir/: the parts of delivery that APPEND shares. */
#include "common/buf.h"
#include "maildir/deliver.h"

/* Flushes and fsyncs the file (once: again only after more was written).
 * APPEND does it before taking the index lock.  0, or -1 with err_r. */
int delivery_make_durable(struct maildir_delivery *d, char *err_r,
			  size_t errlen);

/* Flushes, fsyncs the file and, when mtime >= 0, sets its mtime.  Then links
 * it as MAILDIR/SUBDIR/NAME where NAME is the delivery's unique base name
 * plus `suffix` (e.g. ":2,S"), fsyncs MAILDIR/SUBDIR and puts the path in
 * path_r.  Used by IMAP APPEND (subdir "cur").  0, or -1 with err_r and
 * nothing visible. */
int delivery_place(struct maildir_delivery *d, const char *maildir,
		   const char *subdir, const char *suffix, int64_t mtime,
		   struct buf *path_r, char *err_r, size_t errlen);

/* Returns -1 with errno set (or does not return, for KILL) when the fault
 * spec names `step`; 0 otherwise. */
int maildir_fault(const char *step);

#endif
