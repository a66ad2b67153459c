/* Usage per user (quota) and emptying a user's mailbox: see quota.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "maildir/folder.h"
#include "maildir/fsutil.h"
#include "maildir/box-int.h"
#include "maildir/index-int.h"
#include "maildir/lock.h"
#include "maildir/name.h"
#include "maildir/quota.h"
#include "maildir/user.h"

struct dir_list {
	char **v;		/* "" for INBOX, ".Work.2026" ... */
	size_t n;
};

static void dir_list_free(struct dir_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void dir_list_add(struct dir_list *l, const char *dir)
{
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = xstrdup(dir);
}

/* INBOX and every Maildir++ folder directory of the store.  0, or -1. */
static int folder_dirs(struct maildir_store *s, struct dir_list *l,
		       char *err_r, size_t errlen)
{
	struct buf name = BUF_INIT(BUF_UNLIMITED), p = BUF_INIT(BUF_UNLIMITED);
	struct dirent *de;
	DIR *d;

	d = opendir(s->path);
	if (d == NULL) {
		snprintf(err_r, errlen, "opendir(%s): %s", s->path,
			 strerror(errno));
		return -1;
	}
	dir_list_add(l, "");
	while ((de = readdir(d)) != NULL) {
		if (maildir_folder_from_dir(de->d_name, &name) < 0)
			continue;
		buf_clear(&p);
		buf_printf(&p, "%s/%s", s->path, de->d_name);
		if (fs_is_maildir(p.data, 1))
			dir_list_add(l, de->d_name);
	}
	closedir(d);
	buf_free(&name);
	buf_free(&p);
	return 0;
}

static int add_size(void *arg, uint32_t uid, const struct mrec *m,
		    const char *fname)
{
	uint64_t *bytes = arg;

	(void)uid;
	(void)fname;
	*bytes += m->size;
	return 0;
}

/* Counts folder f's bytes from its message records and stores the
 * record.  Under the index lock.  0, or -1. */
static int recount(struct maildir_store *s, const char *dir, struct frec *f)
{
	uint64_t bytes = 0;
	DB_TXN *txn;

	if (idx_msg_iter(s, f->id, 0, add_size, &bytes) < 0)
		return -1;
	f->bytes = bytes;
	if (idx_begin(s, &txn) < 0)
		return -1;
	if (idx_folder_put(s, txn, dir, f) < 0) {
		idx_abort(txn);
		return -1;
	}
	return idx_commit(txn);
}

int maildir_usage(struct maildir_store *s, struct maildir_usage *u,
		  char *err_r, size_t errlen)
{
	struct dir_list dirs = { NULL, 0 };
	struct frec f;
	bool rebuilt;
	int fd, ret = -1;

	memset(u, 0, sizeof(*u));
	fd = store_lock(s, err_r, errlen);
	if (fd < 0)
		return -1;
	if (folder_dirs(s, &dirs, err_r, errlen) < 0)
		goto out;
	for (size_t i = 0; i < dirs.n; i++) {
		if (sync_folder(s, dirs.v[i], &f, &rebuilt, err_r, errlen) < 0) {
			if (errno == ENOENT)
				continue;	/* deleted meanwhile */
			goto out;
		}
		if (f.bytes == FREC_BYTES_UNKNOWN &&
		    recount(s, dirs.v[i], &f) < 0) {
			snprintf(err_r, errlen, "index of %s: counting %s "
				 "failed: %s", s->user, dirs.v[i][0] ?
				 dirs.v[i] : "INBOX", strerror(errno));
			goto out;
		}
		u->bytes += f.bytes;
		u->messages += f.messages;
	}
	ret = 0;
out:
	lock_index_release(fd);
	dir_list_free(&dirs);
	return ret;
}

struct deleted_sum {
	uint64_t count, bytes;
};

static int add_deleted(void *arg, uint32_t uid, const struct mrec *m,
		       const char *fname)
{
	struct deleted_sum *sum = arg;

	(void)uid;
	(void)fname;
	if (m->flags & MAILDIR_FLAG_DELETED) {
		sum->count++;
		sum->bytes += m->size;
	}
	return 0;
}

int maildir_folder_deleted(struct maildir_store *s, const char *name,
			   uint64_t *count_r, uint64_t *bytes_r,
			   char *err_r, size_t errlen)
{
	struct buf dir = BUF_INIT(BUF_UNLIMITED), path = BUF_INIT(BUF_UNLIMITED);
	struct deleted_sum sum = { 0, 0 };
	struct frec f;
	bool rebuilt;
	int fd, ret = -1;

	if (box_resolve(s, name, &dir, &path, err_r, errlen) < 0)
		goto out;
	fd = box_lock_sync(s, dir.data, &f, &rebuilt, err_r, errlen);
	if (fd < 0)
		goto out;
	if (idx_msg_iter(s, f.id, 0, add_deleted, &sum) < 0)
		snprintf(err_r, errlen, "index of %s: read failed", name);
	else
		ret = 0;
	lock_index_release(fd);
	*count_r = sum.count;
	*bytes_r = sum.bytes;
out:
	buf_free(&dir);
	buf_free(&path);
	return ret;
}

/* --- reset --- */

/* Unlinks every file of MAILDIR/sub (not dot files). */
static int unlink_all(const char *maildir, const char *sub)
{
	struct buf p = BUF_INIT(BUF_UNLIMITED);
	struct dirent *de;
	int dfd, ret = 0;
	DIR *d;

	buf_printf(&p, "%s/%s", maildir, sub);
	d = fs_opendir_nofollow(p.data);
	if (d == NULL) {
		ret = errno == ENOENT ? 0 : -1;
		goto out;
	}
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (unlinkat(dfd, de->d_name, 0) < 0 && errno != ENOENT)
			ret = -1;
	}
	closedir(d);
	if (ret == 0)
		ret = fs_fsync_dir(p.data);
out:
	buf_free(&p);
	return ret;
}

/* Empties folder DIR: files first, then its index records.  The folder
 * record keeps UIDVALIDITY and UIDNEXT; its modseq goes up, so sessions
 * reload and report every message expunged.  Under the index lock. */
static int empty_folder(struct maildir_store *s, const char *dir)
{
	struct buf path = BUF_INIT(BUF_UNLIMITED);
	struct frec f;
	DB_TXN *txn;
	int r, ret = -1;

	folder_path(s, dir, &path);
	if (unlink_all(path.data, "new") < 0 ||
	    unlink_all(path.data, "cur") < 0)
		goto out;
	r = idx_folder_get(s, NULL, dir, &f);
	if (r != 0) {
		ret = r < 0 ? -1 : 0;	/* never indexed: nothing more */
		goto out;
	}
	if (idx_begin(s, &txn) < 0)
		goto out;
	f.messages = f.unseen = 0;
	f.bytes = 0;
	f.modseq++;
	f.first_recent_uid = f.uidnext;
	f.new_mtime = f.cur_mtime = 0;	/* rescan at the next sync */
	if (idx_folder_purge(s, txn, f.id) < 0 ||
	    idx_folder_put(s, txn, dir, &f) < 0) {
		idx_abort(txn);
		goto out;
	}
	ret = idx_commit(txn);
out:
	buf_free(&path);
	return ret;
}

/* Deletes the folders that are not INBOX or a standard one. */
static int delete_own_folders(struct maildir_store *s, char *err_r,
			      size_t errlen)
{
	struct maildir_folder *list;
	size_t n;
	int ret = 0;

	if (maildir_folder_list(s, &list, &n, err_r, errlen) < 0)
		return -1;
	for (size_t i = 0; i < n && ret == 0; i++) {
		if ((list[i].attrs & MAILDIR_FOLDER_NOSELECT) ||
		    maildir_folder_is_inbox(list[i].name) ||
		    maildir_user_default_folder(list[i].name))
			continue;
		ret = maildir_folder_delete(s, list[i].name, err_r, errlen);
	}
	maildir_folder_list_free(list, n);
	return ret;
}

static int empty_all(struct maildir_store *s, char *err_r, size_t errlen)
{
	struct dir_list dirs = { NULL, 0 };
	struct buf subs = BUF_INIT(BUF_UNLIMITED);
	int fd, ret = 0;

	fd = store_lock(s, err_r, errlen);
	if (fd < 0)
		return -1;
	if (folder_dirs(s, &dirs, err_r, errlen) < 0) {
		ret = -1;
		goto out;
	}
	for (size_t i = 0; i < dirs.n && ret == 0; i++) {
		ret = empty_folder(s, dirs.v[i]);
		if (ret < 0)
			snprintf(err_r, errlen, "emptying %s: %s",
				 dirs.v[i][0] ? dirs.v[i] : "INBOX",
				 strerror(errno));
	}
	/* maildir_user_create writes the standard subscriptions again */
	buf_printf(&subs, "%s/subscriptions", s->path);
	if (ret == 0 && unlink(subs.data) < 0 && errno != ENOENT) {
		snprintf(err_r, errlen, "%s: %s", subs.data, strerror(errno));
		ret = -1;
	}
out:
	lock_index_release(fd);
	dir_list_free(&dirs);
	buf_free(&subs);
	return ret;
}

int maildir_user_reset(struct maildir_store *s, char *err_r, size_t errlen)
{
	if (delete_own_folders(s, err_r, errlen) < 0 ||
	    empty_all(s, err_r, errlen) < 0)
		return -1;
	return maildir_user_create(s->mail_root, s->user, err_r, errlen);
}
