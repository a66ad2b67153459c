#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "maildir/box-int.h"
#include "maildir/deliver-int.h"
#include "maildir/fsutil.h"
#include "maildir/lock.h"

static void free_names(char **names, size_t n)
{
	while (n-- > 0)
		free(names[n]);
	free(names);
}

static int find_name(char *const *names, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(names[i], name) == 0)
			return (int)i;
	return -1;
}

static int expunge(struct maildir_box *box, const uint32_t *uids, size_t n,
		   bool only_deleted, char *err_r, size_t errlen)
{
	struct buf p = BUF_INIT(BUF_UNLIMITED);
	uint32_t *doomed_uids = NULL;
	size_t n_doomed = 0, i;
	bool rebuilt;
	int64_t before;
	struct frec f;
	struct mrec m;
	DB_TXN *txn = NULL;
	char *fname;
	unsigned batch = 0;
	int fd, ret = -1;

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
	if (uids == NULL) {
		doomed_uids = xreallocarray(NULL, box->n + 1, sizeof(*doomed_uids));
		for (i = 0; i < box->n; i++)
			doomed_uids[n_doomed++] = box->msgs[i].uid;
	} else {
		doomed_uids = xreallocarray(NULL, n + 1, sizeof(*doomed_uids));
		memcpy(doomed_uids, uids, n * sizeof(*doomed_uids));
		n_doomed = n;
	}
	before = own_change_begin(box->path.data);
	if (idx_begin(box->s, &txn) < 0)
		goto dberr;
	for (i = 0; i < n_doomed; i++) {
		if (idx_msg_get(box->s, txn, f.id, doomed_uids[i], &m, &fname) != 0)
			continue;
		/* EXPUNGE removes what is \Deleted now (RFC 3501 6.4.3),
		 * also when another session changed it. */
		if (only_deleted && !(m.flags & MAILDIR_FLAG_DELETED)) {
			free(fname);
			continue;
		}
		buf_clear(&p);
		buf_printf(&p, "%s/%s", box->path.data, fname);
		if (unlink(p.data) < 0 && errno != ENOENT) {
			free(fname);
			goto dberr;
		}
		if (idx_msg_del(box->s, txn, f.id, doomed_uids[i]) < 0) {
			free(fname);
			goto dberr;
		}
		free(fname);
		frec_count(&f, m.flags, m.size, -1);
		f.modseq++;
		if (xlog_add(box->s, txn, &f, doomed_uids[i]) < 0 ||
		    idx_rollover(box->s, &txn, box->dir, &f, &batch) < 0)
			goto dberr;
	}
	own_change_end(box->path.data, before, &f);
	if (idx_folder_put(box->s, txn, box->dir, &f) < 0)
		goto dberr;
	ret = idx_commit(txn);
	txn = NULL;
	if (ret == 0)
		goto out;
dberr:
	snprintf(err_r, errlen, "expunge in %s failed: %s", box->name,
		 strerror(errno));
	ret = -1;
out:
	idx_abort(txn);
	if (lock_index_release(fd) < 0 && ret == 0) {
		snprintf(err_r, errlen, "expunge in %s: %s", box->name,
			 strerror(errno));
		ret = -1;
	}
	/* the unlinks on disk before the reply, without holding the lock
	 * meanwhile (a crash before leaves files the next sync expunges) */
	buf_clear(&p);
	buf_printf(&p, "%s/cur", box->path.data);
	fs_fsync_dir(p.data);
	buf_free(&p);
	free(doomed_uids);
	return ret;
}

int maildir_box_expunge(struct maildir_box *box, const uint32_t *uids,
			size_t n, char *err_r, size_t errlen)
{
	return expunge(box, uids, n, uids == NULL, err_r, errlen);
}

int maildir_box_expunge_deleted(struct maildir_box *box, const uint32_t *uids,
				size_t n, char *err_r, size_t errlen)
{
	return expunge(box, uids, n, true, err_r, errlen);
}

/* Links (or copies) src to dst. */
static int link_or_copy(const char *src, const char *dst)
{
	char chunk[65536];
	ssize_t r;
	int in, out, ret = -1;

	if (link(src, dst) == 0)
		return 0;
	if (errno != EXDEV && errno != EMLINK && errno != EPERM)
		return -1;
	in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return -1;
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		close(in);
		return -1;
	}
	while ((r = read(in, chunk, sizeof(chunk))) > 0)
		if (fs_write_all(out, chunk, (size_t)r) < 0)
			break;
	if (r == 0 && fsync(out) == 0)
		ret = 0;
	close(in);
	close(out);
	if (ret < 0)
		unlink(dst);
	return ret;
}

/* The destination's state during a copy or append. */
struct dest {
	struct maildir_store *s;
	struct buf dir, path;
	struct frec f;
	char **kw;
	size_t nkw;
	DB_TXN *txn;
	int64_t before;
	char **made;		/* files made visible, unlinked on failure */
	size_t nmade;
	bool cur_synced;	/* cur/ fsync'd after each file placed
				 * (APPEND: delivery_place) */
	unsigned batch;		/* changes in the current transaction */
};

static int dest_open(struct dest *d, struct maildir_store *s, const char *name,
		     char *err_r, size_t errlen)
{
	bool rebuilt;

	memset(d, 0, sizeof(*d));
	d->s = s;
	buf_init(&d->dir, BUF_UNLIMITED);
	buf_init(&d->path, BUF_UNLIMITED);
	if (box_resolve(s, name, &d->dir, &d->path, err_r, errlen) < 0)
		return -1;
	if (sync_folder(s, d->dir.data, &d->f, &rebuilt, err_r, errlen) < 0)
		return -1;
	if (idx_keywords_get(s, NULL, d->f.id, &d->kw, &d->nkw) < 0 ||
	    idx_begin(s, &d->txn) < 0) {
		snprintf(err_r, errlen, "index of %s: read failed", name);
		return -1;
	}
	d->before = own_change_begin(d->path.data);
	return 0;
}

/* Indexes file `name` (in the destination's cur/) as the next UID. */
static int dest_add(struct dest *d, const char *name, const struct mrec *src,
		    uint64_t keywords, uint32_t *uid_r)
{
	struct buf rel = BUF_INIT(BUF_UNLIMITED);
	struct mrec m = *src;
	int ret;

	buf_printf(&rel, "cur/%s", name);
	m.keywords = keywords;
	m.modseq = ++d->f.modseq;
	*uid_r = d->f.uidnext++;
	ret = idx_msg_put(d->s, d->txn, d->f.id, *uid_r, &m, rel.data);
	frec_count(&d->f, m.flags, m.size, 1);
	if (ret == 0)
		ret = idx_rollover(d->s, &d->txn, d->dir.data, &d->f, &d->batch);
	buf_free(&rel);
	return ret;
}

static int dest_finish(struct dest *d, int ok)
{
	size_t i;

	if (ok && !d->cur_synced) {
		buf_puts(&d->path, "/cur");
		ok = fs_fsync_dir(d->path.data) == 0;
		buf_truncate(&d->path, d->path.len - 4);
	}
	if (ok) {
		own_change_end(d->path.data, d->before, &d->f);
		ok = idx_folder_put(d->s, d->txn, d->dir.data, &d->f) == 0 &&
			idx_commit(d->txn) == 0;
		d->txn = NULL;
	}
	idx_abort(d->txn);
	for (i = 0; i < d->nmade; i++) {
		if (!ok)
			unlink(d->made[i]);
		free(d->made[i]);
	}
	free(d->made);
	free_names(d->kw, d->nkw);
	buf_free(&d->dir);
	buf_free(&d->path);
	return ok ? 0 : -1;
}

static void dest_made(struct dest *d, const char *path)
{
	d->made = xreallocarray(d->made, d->nmade + 1, sizeof(*d->made));
	d->made[d->nmade++] = xstrdup(path);
}

/* Maps keyword bits of a source list `names` to the destination's list. */
static int map_keyword_names(struct dest *d, char *const *names, size_t n,
			     uint64_t kw, uint64_t *out)
{
	size_t i;
	int k;

	*out = 0;
	for (i = 0; i < n && i < 64; i++) {
		if (!(kw & (1ULL << i)))
			continue;
		k = find_name(d->kw, d->nkw, names[i]);
		if (k < 0 && d->nkw < MAILDIR_MAX_KEYWORDS) {
			d->kw = xreallocarray(d->kw, d->nkw + 1, sizeof(*d->kw));
			d->kw[d->nkw++] = xstrdup(names[i]);
			if (idx_keywords_put(d->s, d->txn, d->f.id, d->kw, d->nkw) < 0)
				return -1;
			k = (int)d->nkw - 1;
		}
		if (k >= 0)
			*out |= 1ULL << k;
	}
	return 0;
}

static int map_keywords(struct dest *d, struct maildir_box *box, uint64_t kw,
			uint64_t *out)
{
	return map_keyword_names(d, box->keywords, box->nkeywords, kw, out);
}

int maildir_box_copy(struct maildir_box *box, const uint32_t *uids, size_t n,
		     const char *dst_name, uint32_t *dst_uidvalidity_r,
		     uint32_t *dst_uids_r, size_t *ncopied_r,
		     char *err_r, size_t errlen)
{
	return maildir_box_copy_pairs(box, uids, n, dst_name, dst_uidvalidity_r,
				      NULL, dst_uids_r, ncopied_r, err_r, errlen);
}

int maildir_box_copy_pairs(struct maildir_box *box, const uint32_t *uids,
			   size_t n, const char *dst_name,
			   uint32_t *dst_uidvalidity_r, uint32_t *src_uids_r,
			   uint32_t *dst_uids_r, size_t *ncopied_r,
			   char *err_r, size_t errlen)
{
	struct buf src = BUF_INIT(BUF_UNLIMITED), dst = BUF_INIT(BUF_UNLIMITED);
	struct buf name = BUF_INIT(BUF_UNLIMITED);
	char unique[256], letters[8];
	struct maildir_msg *msg;
	struct frec f;
	struct mrec m;
	struct stat st;
	struct dest d;
	uint64_t kw;
	bool rebuilt;
	size_t i;
	ssize_t at;
	int fd, ok = 0;

	*ncopied_r = 0;
	fd = box_lock_sync(box->s, box->dir, &f, &rebuilt, err_r, errlen);
	if (fd < 0)
		return -1;
	if (dest_open(&d, box->s, dst_name, err_r, errlen) < 0)
		goto out;
	*dst_uidvalidity_r = d.f.uidvalidity;
	for (i = 0; i < n; i++) {
		if ((at = maildir_box_find(box, uids[i])) < 0)
			continue;
		msg = &box->msgs[at];
		maildir_box_path(box, msg, &src);
		if (lstat(src.data, &st) < 0) {
			int tmpfd = maildir_box_open_msg(box, msg->uid, err_r, errlen);

			if (tmpfd < 0)
				continue;	/* expunged meanwhile */
			close(tmpfd);
			maildir_box_path(box, msg, &src);
			if (lstat(src.data, &st) < 0)
				continue;
		}
		if (!S_ISREG(st.st_mode))
			continue;	/* a symlink is not copied (fsutil.h) */
		maildir_name_unique(unique, sizeof(unique), (uint64_t)st.st_size);
		maildir_flags_to_letters(msg->flags, letters);
		buf_clear(&name);
		buf_printf(&name, "%s:2,%s", unique, letters);
		buf_clear(&dst);
		buf_printf(&dst, "%s/cur/%s", d.path.data, name.data);
		if (link_or_copy(src.data, dst.data) < 0) {
			snprintf(err_r, errlen, "copy to %s: %s", dst_name,
				 strerror(errno));
			goto out;
		}
		dest_made(&d, dst.data);
		memset(&m, 0, sizeof(m));
		m.flags = msg->flags;
		m.needs_crlf = msg->needs_crlf;
		m.no_final_eol = msg->no_final_eol;
		m.unverified = msg->unverified;
		m.size = msg->size;
		m.idate = msg->idate;
		if (m.unverified & MAILDIR_MSG_IDATE_UNKNOWN) {
			/* a copy of the bytes has a new mtime */
			m.idate = st.st_mtim.tv_sec;
			m.unverified &= (uint8_t)~MAILDIR_MSG_IDATE_UNKNOWN;
		}
		if (map_keywords(&d, box, msg->keywords, &kw) < 0 ||
		    dest_add(&d, name.data, &m, kw, &dst_uids_r[*ncopied_r]) < 0) {
			snprintf(err_r, errlen, "index of %s: update failed",
				 dst_name);
			goto out;
		}
		if (src_uids_r != NULL)
			src_uids_r[*ncopied_r] = msg->uid;
		(*ncopied_r)++;
	}
	ok = 1;
out:
	if (d.s != NULL && dest_finish(&d, ok) < 0 && ok) {
		snprintf(err_r, errlen, "copy to %s failed", dst_name);
		ok = 0;
	}
	if (!ok)
		*ncopied_r = 0;
	lock_index_release(fd);
	buf_free(&src);
	buf_free(&dst);
	buf_free(&name);
	return ok ? 0 : -1;
}

/* Places one delivery into the destination and indexes it. */
static int append_one(struct dest *d, const char *name,
		      const struct maildir_append_msg *msg, uint32_t *uid_r,
		      char *err_r, size_t errlen)
{
	struct buf path = BUF_INIT(BUF_UNLIMITED);
	char suffix[16], letters[8];
	uint64_t size, wire, kw = 0;
	bool no_eol;
	struct mrec m;
	size_t i;
	int fd, k, ret = -1;

	maildir_flags_to_letters(msg->flags & MAILDIR_FLAGS_ALL, letters);
	snprintf(suffix, sizeof(suffix), ":2,%s", letters);
	if (delivery_place(msg->dl, d->path.data, "cur", suffix, msg->idate,
			   &path, err_r, errlen) < 0)
		goto out;
	dest_made(d, path.data);
	d->cur_synced = true;	/* delivery_place fsync'd cur/ */
	fd = open(path.data, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || file_wire_size(fd, &size, &wire, &no_eol) < 0) {
		snprintf(err_r, errlen, "reading %s: %s", path.data,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	close(fd);
	for (i = 0; i < msg->nkeywords; i++) {
		k = find_name(d->kw, d->nkw, msg->keywords[i]);
		if (k < 0 && d->nkw < MAILDIR_MAX_KEYWORDS) {
			d->kw = xreallocarray(d->kw, d->nkw + 1, sizeof(*d->kw));
			d->kw[d->nkw++] = xstrdup(msg->keywords[i]);
			if (idx_keywords_put(d->s, d->txn, d->f.id, d->kw,
					     d->nkw) < 0)
				goto dberr;
			k = (int)d->nkw - 1;
		}
		if (k >= 0)
			kw |= 1ULL << k;
	}
	memset(&m, 0, sizeof(m));
	m.flags = (uint8_t)(msg->flags & MAILDIR_FLAGS_ALL);
	m.size = wire;
	m.needs_crlf = wire != size;
	m.no_final_eol = no_eol;
	m.idate = msg->idate >= 0 ? msg->idate : (int64_t)time(NULL);
	if (dest_add(d, strrchr(path.data, '/') + 1, &m, kw, uid_r) < 0)
		goto dberr;
	ret = 0;
	goto out;
dberr:
	snprintf(err_r, errlen, "index of %s: update failed", name);
out:
	buf_free(&path);
	return ret;
}

int maildir_append_many(struct maildir_store *store, const char *name,
			const struct maildir_append_msg *msgs, size_t n,
			uint32_t *uidvalidity_r, uint32_t *uids_r,
			char *err_r, size_t errlen)
{
	struct dest d;
	int lockfd, ok = 0;

	memset(&d, 0, sizeof(d));
	/* the files' fsyncs before the lock: other sessions do not wait
	 * for them */
	for (size_t i = 0; i < n; i++)
		if (delivery_make_durable(msgs[i].dl, err_r, errlen) < 0)
			return -1;
	lockfd = store_lock(store, err_r, errlen);
	if (lockfd < 0)
		return -1;
	if (dest_open(&d, store, name, err_r, errlen) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (append_one(&d, name, &msgs[i], &uids_r[i], err_r,
			       errlen) < 0)
			goto out;
	*uidvalidity_r = d.f.uidvalidity;
	ok = 1;
out:
	if (d.s != NULL && dest_finish(&d, ok) < 0 && ok) {
		snprintf(err_r, errlen, "append to %s failed", name);
		ok = 0;
	}
	if (lock_index_release(lockfd) < 0 && ok) {
		snprintf(err_r, errlen, "append to %s: %s", name,
			 strerror(errno));
		ok = 0;
	}
	return ok ? 0 : -1;
}

int maildir_append(struct maildir_store *store, const char *name,
		   struct maildir_delivery *dl, unsigned flags,
		   const char *const *keywords, size_t nkeywords, int64_t idate,
		   uint32_t *uidvalidity_r, uint32_t *uid_r,
		   char *err_r, size_t errlen)
{
	struct maildir_append_msg msg = {
		.dl = dl, .flags = flags, .keywords = keywords,
		.nkeywords = nkeywords, .idate = idate,
	};

	return maildir_append_many(store, name, &msg, 1, uidvalidity_r, uid_r,
				   err_r, errlen);
}

/* A message file a MOVE renamed, to rename back if the move fails. */
struct moved {
	char *from, *to;
};

static void moved_undo(struct moved *v, size_t n, bool undo)
{
	/* Renamed back, a file is in its source again; the index of either
	 * folder that committed a batch already follows the files at its
	 * next sync (a new UID in the source, an expunge in the
	 * destination): nothing is lost or doubled. */
	for (size_t i = n; i-- > 0;) {
		if (undo)
			rename(v[i].to, v[i].from);
		free(v[i].from);
		free(v[i].to);
	}
	free(v);
}

/* rename(2), except that an existing target is an error (EEXIST) rather
 * than a message silently replaced; plain rename where the file system
 * cannot tell. */
static int rename_noreplace(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	return rename(from, to);
}

/* Moves one message (index record rec, file fname) into the destination:
 * renames the file (unless the folder is the same), drops the source
 * record, indexes it there.  0, 1 when the file vanished meanwhile, -1. */
static int move_one(struct maildir_box *box, struct dest *d, struct frec *srcf,
		    bool same, char *const *src_kw, size_t n_src_kw,
		    uint32_t uid, struct mrec *m, const char *fname,
		    struct moved **movedp, size_t *nmoved, uint32_t *dst_uid_r)
{
	const char *base = strrchr(fname, '/') != NULL ?
		strrchr(fname, '/') + 1 : fname;
	struct buf from = BUF_INIT(BUF_UNLIMITED), to = BUF_INIT(BUF_UNLIMITED);
	uint64_t kw;
	int ret = -1;

	buf_printf(&from, "%s/%s", box->path.data, fname);
	buf_printf(&to, "%s/cur/%s", d->path.data, base);
	if (!same) {
		if (rename_noreplace(from.data, to.data) < 0) {
			ret = errno == ENOENT ? 1 : -1;
			goto out;
		}
		*movedp = xreallocarray(*movedp, *nmoved + 1, sizeof(**movedp));
		(*movedp)[*nmoved].from = buf_steal(&from);
		(*movedp)[*nmoved].to = buf_steal(&to);
		(*nmoved)++;
	}
	if (idx_msg_del(box->s, d->txn, srcf->id, uid) < 0)
		goto out;
	frec_count(srcf, m->flags, m->size, -1);
	srcf->modseq++;
	if (xlog_add(box->s, d->txn, srcf, uid) < 0)
		goto out;
	/* each batch that dest_add commits holds both folder records */
	if (!same && idx_folder_put(box->s, d->txn, box->dir, srcf) < 0)
		goto out;
	if (map_keyword_names(d, src_kw, n_src_kw, m->keywords, &kw) < 0 ||
	    dest_add(d, base, m, kw, dst_uid_r) < 0)
		goto out;
	ret = 0;
out:
	buf_free(&from);
	buf_free(&to);
	return ret;
}

int maildir_box_move(struct maildir_box *box, const uint32_t *uids, size_t n,
		     const char *dst_name, uint32_t *dst_uidvalidity_r,
		     uint32_t *src_uids_r, uint32_t *dst_uids_r, size_t *nmoved_r,
		     char *err_r, size_t errlen)
{
	struct buf p = BUF_INIT(BUF_UNLIMITED);
	struct moved *moved = NULL;
	size_t nmoved = 0, n_src_kw = 0, i;
	char **src_kw = NULL, *fname;
	struct frec f, *srcf;
	struct dest d;
	struct mrec m;
	int64_t src_before = 0;
	bool rebuilt, same = false;
	int fd, r, ok = 0;

	*nmoved_r = 0;
	memset(&d, 0, sizeof(d));
	if (box->flags & MAILDIR_BOX_READONLY) {
		snprintf(err_r, errlen, "mailbox is read-only");
		return -1;
	}
	fd = box_lock_sync(box->s, box->dir, &f, &rebuilt, err_r, errlen);
	if (fd < 0)
		return -1;
	if (box_check_uidvalidity(box, &f, err_r, errlen) < 0 ||
	    dest_open(&d, box->s, dst_name, err_r, errlen) < 0)
		goto out;
	*dst_uidvalidity_r = d.f.uidvalidity;
	/* a move within one folder only gives new UIDs: one folder record */
	same = strcmp(d.dir.data, box->dir) == 0;
	srcf = same ? &d.f : &f;
	if (idx_keywords_get(box->s, NULL, srcf->id, &src_kw, &n_src_kw) < 0) {
		snprintf(err_r, errlen, "index of %s: read failed", box->name);
		goto out;
	}
	if (!same)
		src_before = own_change_begin(box->path.data);
	for (i = 0; i < n; i++) {
		r = idx_msg_get(box->s, d.txn, srcf->id, uids[i], &m, &fname);
		if (r > 0)
			continue;	/* expunged by another session */
		if (r == 0) {
			errno = 0;
			r = move_one(box, &d, srcf, same, src_kw, n_src_kw,
				     uids[i], &m, fname, &moved, &nmoved,
				     &dst_uids_r[*nmoved_r]);
			free(fname);
		}
		if (r < 0) {
			snprintf(err_r, errlen, "move to %s: %s", dst_name,
				 errno != 0 ? strerror(errno) : "index update failed");
			goto out;
		}
		if (r == 0)
			src_uids_r[(*nmoved_r)++] = uids[i];
	}
	if (!same) {
		buf_printf(&p, "%s/cur", box->path.data);
		if (fs_fsync_dir(p.data) < 0) {
			snprintf(err_r, errlen, "move from %s: %s", box->name,
				 strerror(errno));
			goto out;
		}
		own_change_end(box->path.data, src_before, &f);
		if (idx_folder_put(box->s, d.txn, box->dir, &f) < 0) {
			snprintf(err_r, errlen, "index of %s: update failed",
				 box->name);
			goto out;
		}
	}
	ok = 1;
out:
	if (d.s != NULL && dest_finish(&d, ok) < 0 && ok) {
		snprintf(err_r, errlen, "move to %s failed", dst_name);
		ok = 0;
	}
	moved_undo(moved, nmoved, !ok);
	if (!ok)
		*nmoved_r = 0;
	free_names(src_kw, n_src_kw);
	lock_index_release(fd);
	buf_free(&p);
	return ok ? 0 : -1;
}
