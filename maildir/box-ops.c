#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "maildir/box-int.h"
#include "maildir/deliver-int.h"
#include "maildir/fsutil.h"
#include "maildir/lock.h"

void maildir_changes_free(struct maildir_changes *ch)
{
	free(ch->expunged_seqs);
	free(ch->expunged_uids);
	free(ch->changed_seqs);
	memset(ch, 0, sizeof(*ch));
}

static void push_u32(uint32_t **arr, size_t *n, uint32_t v)
{
	if ((*n & (*n - 1)) == 0)
		*arr = xreallocarray(*arr, *n ? *n * 2 : 16, sizeof(**arr));
	(*arr)[(*n)++] = v;
}

/* The old sequence numbers of the expunged UIDs, descending, for
 * "* n EXPUNGE". */
static void expunged_seqs(struct maildir_changes *ch,
			  const struct maildir_msg *old, size_t nold)
{
	size_t i, j, k;

	if (ch->n_expunged == 0)
		return;
	ch->expunged_seqs = xreallocarray(NULL, ch->n_expunged,
					  sizeof(uint32_t));
	for (i = 0, j = 0, k = ch->n_expunged; i < nold && k > 0; i++)
		if (j < ch->n_expunged && old[i].uid == ch->expunged_uids[j]) {
			ch->expunged_seqs[--k] = (uint32_t)i + 1;
			j++;
		}
}

/* Loads the index into a fresh snapshot and diffs it against the old.
 * keep: messages gone from the index stay in the snapshot (UIDs only
 * grow, so the new ones still come after them) and are not reported;
 * box->held counts them. */
static int reload(struct maildir_box *box, struct frec *f,
		  struct maildir_changes *ch, bool keep)
{
	struct maildir_msg *old = box->msgs, *nw, *res;
	size_t nold = box->n, i = 0, j = 0, r = 0, held = 0;
	uint32_t recent_from;
	struct loader l;

	if (box_load(box, f, &l, &recent_from) < 0) {
		free(l.msgs);
		return -1;
	}
	nw = l.msgs;
	res = keep ? xreallocarray(NULL, nold + l.n + 1, sizeof(*res)) : nw;
	while (i < nold || j < l.n) {
		if (j >= l.n || (i < nold && old[i].uid < nw[j].uid)) {
			if (keep) {
				res[r++] = old[i];
				memset(&old[i], 0, sizeof(old[i]));
				held++;
			} else {
				push_u32(&ch->expunged_uids, &ch->n_expunged,
					 old[i].uid);
			}
			i++;
			continue;
		}
		if (i >= nold || nw[j].uid < old[i].uid) {
			nw[j].recent = nw[j].uid >= recent_from;
			ch->n_new++;
		} else {
			nw[j].recent = old[i].recent;
			if (nw[j].modseq != old[i].modseq)
				push_u32(&ch->changed_seqs, &ch->n_changed,
					 (uint32_t)(keep ? r : j) + 1);
			i++;
		}
		if (keep)
			res[r++] = nw[j];
		j++;
	}
	expunged_seqs(ch, old, nold);
	for (i = 0; i < nold; i++)
		msg_free_fields(&old[i]);
	free(old);
	if (keep)
		free(nw);
	box->msgs = res;
	box->n = keep ? r : l.n;
	box->held = held;
	return 0;
}

static int sync_box(struct maildir_box *box, struct maildir_changes *ch,
		    bool keep, char *err_r, size_t errlen)
{
	size_t nkeywords = box->nkeywords;
	struct frec f;
	bool rebuilt;
	int fd, ret = 0;

	memset(ch, 0, sizeof(*ch));
	fd = box_lock_sync(box->s, box->dir, &f, &rebuilt, err_r, errlen);
	if (fd < 0)
		return -1;
	box_sizes_flush(box, &f);
	if (f.uidvalidity != box->f.uidvalidity) {
		ch->uidvalidity_changed = true;
	} else if (f.modseq != box->f.modseq ||
		   (!keep && box->held > 0) ||
		   ((box->flags & MAILDIR_BOX_RECENT) &&
		    f.first_recent_uid < f.uidnext)) {
		if (reload(box, &f, ch, keep) < 0) {
			snprintf(err_r, errlen, "index of %s: read failed",
				 box->name);
			ret = -1;
		}
		/* a folder's keywords are only ever appended to */
		ch->keywords_changed = box->nkeywords != nkeywords;
	}
	lock_index_release(fd);
	if (ret == 0)
		box->f = f;
	if (idx_enter(box->s) == 0)
		idx_checkpoint(box->s);	/* a no-op until 1 MB of log was written */
	return ret;
}

int maildir_box_sync(struct maildir_box *box, struct maildir_changes *ch,
		     char *err_r, size_t errlen)
{
	return sync_box(box, ch, false, err_r, errlen);
}

int maildir_box_sync_held(struct maildir_box *box, struct maildir_changes *ch,
			  char *err_r, size_t errlen)
{
	return sync_box(box, ch, true, err_r, errlen);
}

static int find_keyword(char *const *names, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(names[i], name) == 0)
			return (int)i;
	return -1;
}

/* Index of keyword `name` in folder `id`, adding it (in txn) when absent.
 * The folder list (names, n) is updated.  -1 when full. */
static int keyword_add(struct maildir_store *s, DB_TXN *txn, uint32_t id,
		       char ***names, size_t *n, const char *name)
{
	int i = find_keyword(*names, *n, name);

	if (i >= 0)
		return i;
	if (*n >= MAILDIR_MAX_KEYWORDS)
		return -1;
	*names = xreallocarray(*names, *n + 1, sizeof(**names));
	(*names)[(*n)++] = xstrdup(name);
	if (idx_keywords_put(s, txn, id, *names, *n) < 0)
		return -1;
	return (int)*n - 1;
}

static void free_names(char **names, size_t n)
{
	while (n-- > 0)
		free(names[n]);
	free(names);
}

int maildir_box_keyword(struct maildir_box *box, const char *name,
			bool create)
{
	char err[256];
	struct frec f;
	DB_TXN *txn;
	bool rebuilt;
	int i = find_keyword(box->keywords, box->nkeywords, name), fd;

	if (i >= 0 || !create)
		return i;
	fd = box_lock_sync(box->s, box->dir, &f, &rebuilt, err, sizeof(err));
	if (fd < 0)
		return -1;
	free_names(box->keywords, box->nkeywords);
	if (idx_keywords_get(box->s, NULL, f.id, &box->keywords,
			     &box->nkeywords) < 0 ||
	    idx_begin(box->s, &txn) < 0) {
		lock_index_release(fd);
		return -1;
	}
	i = keyword_add(box->s, txn, f.id, &box->keywords, &box->nkeywords, name);
	if (i < 0 || idx_commit(txn) < 0) {
		if (i < 0)
			idx_abort(txn);
		i = -1;
	}
	lock_index_release(fd);
	return i;
}

static unsigned apply_mode(unsigned old, unsigned v, enum maildir_store_mode mode)
{
	return mode == MAILDIR_STORE_SET ? v :
		mode == MAILDIR_STORE_ADD ? old | v : old & ~v;
}

static uint64_t apply_mode64(uint64_t old, uint64_t v,
			     enum maildir_store_mode mode)
{
	return mode == MAILDIR_STORE_SET ? v :
		mode == MAILDIR_STORE_ADD ? old | v : old & ~v;
}

/* Renames the file of a message to carry `flags`; returns the new
 * folder-relative name (malloc'd) or NULL. */
static char *rename_flags(struct maildir_box *box, const char *fname,
			  unsigned flags)
{
	struct buf from = BUF_INIT(BUF_UNLIMITED), to = BUF_INIT(BUF_UNLIMITED);
	struct buf name = BUF_INIT(BUF_UNLIMITED);
	char *rel = NULL;
	size_t blen;
	const char *base = fname_base(fname, &blen);

	maildir_name_with_flags(base, flags, &name);
	buf_printf(&from, "%s/%s", box->path.data, fname);
	buf_printf(&to, "%s/cur/%s", box->path.data, name.data);
	if (strcmp(from.data, to.data) == 0 || rename(from.data, to.data) == 0) {
		buf_clear(&from);
		buf_printf(&from, "cur/%s", name.data);
		rel = buf_steal(&from);
	}
	buf_free(&from);
	buf_free(&to);
	buf_free(&name);
	return rel;
}

int maildir_box_store(struct maildir_box *box, const uint32_t *uids,
		      size_t n, enum maildir_store_mode mode, unsigned flags,
		      uint64_t keywords, char *err_r, size_t errlen)
{
	return maildir_box_store_cond(box, uids, n, mode, flags, keywords,
				      UINT64_MAX, NULL, NULL, err_r, errlen);
}

int maildir_box_store_cond(struct maildir_box *box, const uint32_t *uids,
			   size_t n, enum maildir_store_mode mode,
			   unsigned flags, uint64_t keywords,
			   uint64_t unchangedsince, uint32_t *modified_r,
			   size_t *nmodified_r, char *err_r, size_t errlen)
{
	bool rebuilt, kw_only = false;
	struct maildir_msg *msg;
	unsigned newflags;
	uint64_t newkw;
	int64_t before;
	struct frec f;
	struct mrec m;
	DB_TXN *txn = NULL;
	char *fname, *rel;
	unsigned batch = 0;
	size_t i;
	ssize_t at;
	int fd, ret = -1;

	if (nmodified_r != NULL)
		*nmodified_r = 0;
	if (box->flags & MAILDIR_BOX_READONLY) {
		snprintf(err_r, errlen, "mailbox is read-only");
		return -1;
	}
	fd = box_lock_sync(box->s, box->dir, &f, &rebuilt, err_r, errlen);
	if (fd < 0)
		return -1;
	if (box_check_uidvalidity(box, &f, err_r, errlen) < 0) {
		lock_index_release(fd);
		return -1;
	}
	before = own_change_begin(box->path.data);
	if (idx_begin(box->s, &txn) < 0)
		goto dberr;
	for (i = 0; i < n; i++) {
		if ((at = maildir_box_find(box, uids[i])) < 0)
			continue;
		msg = &box->msgs[at];
		if (idx_msg_get(box->s, txn, f.id, uids[i], &m, &fname) != 0)
			continue;	/* expunged by another session */
		if (m.modseq > unchangedsince) {
			/* RFC 7162 section 3.1.3: left alone, reported. */
			if (modified_r != NULL)
				modified_r[(*nmodified_r)++] = uids[i];
			free(fname);
			continue;
		}
		newflags = apply_mode(m.flags, flags & MAILDIR_FLAGS_ALL, mode);
		newkw = apply_mode64(m.keywords, keywords, mode);
		if (newflags != m.flags || newkw != m.keywords) {
			rel = newflags != m.flags ?
				rename_flags(box, fname, newflags) : xstrdup(fname);
			if (rel == NULL) {
				free(fname);
				continue;	/* file gone: next sync */
			}
			if (newflags == m.flags)
				kw_only = true;
			if ((m.flags & MAILDIR_FLAG_SEEN) != (newflags & MAILDIR_FLAG_SEEN))
				f.unseen += (newflags & MAILDIR_FLAG_SEEN) ? -1u : 1u;
			m.flags = (uint8_t)newflags;
			m.keywords = newkw;
			m.modseq = ++f.modseq;
			free(fname);
			fname = rel;
			if (idx_msg_put(box->s, txn, f.id, uids[i], &m, fname) < 0) {
				free(fname);
				goto dberr;
			}
			if (idx_rollover(box->s, &txn, box->dir, &f, &batch) < 0) {
				free(fname);
				goto dberr;
			}
		}
		msg->flags = m.flags;
		msg->keywords = m.keywords;
		msg->modseq = m.modseq;
		free(msg->fname);
		msg->fname = fname;
	}
	if (kw_only) {
		/* Only the index changed: touch cur/ so that inotify
		 * watchers in other sessions hear of it. */
		struct buf cur = BUF_INIT(BUF_UNLIMITED);

		buf_printf(&cur, "%s/cur", box->path.data);
		utimensat(AT_FDCWD, cur.data, NULL, 0);
		buf_free(&cur);
	}
	own_change_end(box->path.data, before, &f);
	if (idx_folder_put(box->s, txn, box->dir, &f) < 0)
		goto dberr;
	ret = idx_commit(txn);
	txn = NULL;
	if (ret == 0)
		goto out;
dberr:
	snprintf(err_r, errlen, "index of %s: update failed", box->name);
	ret = -1;
out:
	idx_abort(txn);
	if (lock_index_release(fd) < 0 && ret == 0) {
		snprintf(err_r, errlen, "index of %s: %s", box->name,
			 strerror(errno));
		ret = -1;
	}
	return ret;
}
