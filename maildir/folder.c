#include <dirent.h>
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
#include "maildir/folder.h"
#include "maildir/fsutil.h"
#include "maildir/keyfile.h"
#include "maildir/lock.h"

static const struct {
	const char *name;
	unsigned attr;
} special_use[] = {
	{ "Sent", MAILDIR_FOLDER_SENT },
	{ "Drafts", MAILDIR_FOLDER_DRAFTS },
	{ "Trash", MAILDIR_FOLDER_TRASH },
	{ "Junk", MAILDIR_FOLDER_JUNK },
	{ "Archive", MAILDIR_FOLDER_ARCHIVE },
};

struct list {
	struct maildir_folder *v;
	size_t n;
};

static void list_add(struct list *l, const char *name, unsigned attrs)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, name) == 0)
			return;
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n].name = xstrdup(name);
	l->v[l->n].attrs = attrs;
	l->n++;
}

static int cmp_folder(const void *a, const void *b)
{
	const struct maildir_folder *fa = a, *fb = b;
	int ia = strcmp(fa->name, "INBOX") == 0, ib = strcmp(fb->name, "INBOX") == 0;

	if (ia != ib)
		return ib - ia;
	return strcmp(fa->name, fb->name);
}

static int read_subscriptions(struct maildir_store *s, char ***names_r,
			      size_t *n_r)
{
	struct buf p = BUF_INIT(BUF_UNLIMITED);
	char line[1024], **names = NULL;
	size_t n = 0, len;
	FILE *fp;

	buf_printf(&p, "%s/subscriptions", s->path);
	fp = fopen(p.data, "re");
	buf_free(&p);
	*names_r = NULL;
	*n_r = 0;
	if (fp == NULL)
		return errno == ENOENT ? 0 : -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		len = strcspn(line, "\r\n");
		line[len] = '\0';
		if (len == 0)
			continue;
		names = xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = xstrdup(line);
	}
	fclose(fp);
	*names_r = names;
	*n_r = n;
	return 0;
}

static void free_strv(char **v, size_t n)
{
	while (n-- > 0)
		free(v[n]);
	free(v);
}

int maildir_subscriptions(struct maildir_store *s, char ***names_r,
			  size_t *n_r, char *err_r, size_t errlen)
{
	if (read_subscriptions(s, names_r, n_r) < 0) {
		snprintf(err_r, errlen, "reading subscriptions: %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}

static void add_attrs(struct list *l, char **subs, size_t nsubs)
{
	size_t i, j, len;

	for (i = 0; i < l->n; i++) {
		struct maildir_folder *f = &l->v[i];
		bool children = false;

		len = strlen(f->name);
		for (j = 0; j < l->n && !children; j++)
			children = strncmp(l->v[j].name, f->name, len) == 0 &&
				l->v[j].name[len] == '/';
		f->attrs |= children ? MAILDIR_FOLDER_HASCHILDREN :
			MAILDIR_FOLDER_HASNOCHILDREN;
		for (j = 0; j < nsubs; j++)
			if (strcmp(subs[j], f->name) == 0 ||
			    (strcmp(f->name, "INBOX") == 0 &&
			     maildir_folder_is_inbox(subs[j])))
				f->attrs |= MAILDIR_FOLDER_SUBSCRIBED;
		for (j = 0; j < sizeof(special_use) / sizeof(special_use[0]); j++)
			if (strcmp(f->name, special_use[j].name) == 0)
				f->attrs |= special_use[j].attr;
	}
}

int maildir_folder_list(struct maildir_store *s, struct maildir_folder **list_r,
			size_t *n_r, char *err_r, size_t errlen)
{
	struct buf name = BUF_INIT(BUF_UNLIMITED), p = BUF_INIT(BUF_UNLIMITED);
	struct list l = { NULL, 0 };
	struct dirent *de;
	char **subs = NULL, *slash;
	size_t nsubs = 0, i, nreal;
	DIR *d;

	d = opendir(s->path);
	if (d == NULL) {
		snprintf(err_r, errlen, "opendir(%s): %s", s->path,
			 strerror(errno));
		return -1;
	}
	list_add(&l, "INBOX", 0);
	while ((de = readdir(d)) != NULL) {
		if (maildir_folder_from_dir(de->d_name, &name) < 0)
			continue;
		buf_clear(&p);
		buf_printf(&p, "%s/%s", s->path, de->d_name);
		if (!fs_is_maildir(p.data, 1))
			continue;	/* not a Maildir, or a symlink */
		list_add(&l, name.data, 0);
	}
	closedir(d);
	/* Implicit parents of Maildir++ names. */
	nreal = l.n;
	for (i = 0; i < nreal; i++) {
		buf_clear(&name);
		buf_puts(&name, l.v[i].name);
		while ((slash = strrchr(name.data, '/')) != NULL) {
			*slash = '\0';
			buf_truncate(&name, strlen(name.data));
			list_add(&l, name.data, MAILDIR_FOLDER_NOSELECT);
		}
	}
	read_subscriptions(s, &subs, &nsubs);
	add_attrs(&l, subs, nsubs);
	maildir_folder_apply_special_use(s, l.v, l.n);
	free_strv(subs, nsubs);
	qsort(l.v, l.n, sizeof(*l.v), cmp_folder);
	buf_free(&name);
	buf_free(&p);
	*list_r = l.v;
	*n_r = l.n;
	return 0;
}

void maildir_folder_list_free(struct maildir_folder *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(list[i].name);
	free(list);
}

static bool match_at(const char *p, const char *n)
{
	for (; *p != '\0'; p++, n++) {
		if (*p == '*' || *p == '%') {
			do {
				if (match_at(p + 1, n))
					return true;
				if (*n == '\0' || (*p == '%' && *n == '/'))
					return false;
			} while (*n++ != '\0');
			return false;
		}
		if (*p != *n)
			return false;
	}
	return *n == '\0';
}

bool maildir_folder_match(const char *pattern, const char *name)
{
	/* INBOX is case-insensitive, also as the first level of a pattern. */
	if (strncasecmp(pattern, "INBOX", 5) == 0 &&
	    (pattern[5] == '\0' || pattern[5] == '/') &&
	    strncmp(name, "INBOX", 5) == 0)
		return match_at(pattern + 5, name + 5);
	return match_at(pattern, name);
}

static int lock_or_fail(struct maildir_store *s, char *err_r, size_t errlen)
{
	return store_lock(s, err_r, errlen);
}

int maildir_folder_create(struct maildir_store *s, const char *name,
			  char *err_r, size_t errlen)
{
	struct buf dir = BUF_INIT(BUF_UNLIMITED), p = BUF_INIT(BUF_UNLIMITED);
	struct buf part = BUF_INIT(BUF_UNLIMITED);
	const char *slash;
	struct stat st;
	int ret = -1, fd;

	if (maildir_folder_is_inbox(name)) {
		snprintf(err_r, errlen, "INBOX already exists");
		return -1;
	}
	if (!maildir_folder_name_creatable(name, err_r, errlen) ||
	    maildir_folder_dir(name, &dir, err_r, errlen) < 0)
		return -1;
	if ((fd = lock_or_fail(s, err_r, errlen)) < 0)
		goto out;
	folder_path(s, dir.data, &p);
	if (stat(p.data, &st) == 0) {
		snprintf(err_r, errlen, "mailbox already exists: %s", name);
		goto unlock;
	}
	/* Superior levels first (RFC 3501 section 6.3.3). */
	for (slash = strchr(name, '/'); slash != NULL;
	     slash = strchr(slash + 1, '/')) {
		buf_clear(&part);
		buf_append(&part, name, (size_t)(slash - name));
		if (maildir_folder_is_inbox(part.data) ||
		    maildir_folder_dir(part.data, &dir, err_r, errlen) < 0)
			continue;
		folder_path(s, dir.data, &p);
		if (fs_mkmaildir(p.data, 1) < 0)
			goto fserr;
	}
	maildir_folder_dir(name, &dir, err_r, errlen);
	folder_path(s, dir.data, &p);
	if (fs_mkmaildir(p.data, 1) < 0 || fs_fsync_dir(s->path) < 0)
		goto fserr;
	/* The folder lists once its cur/ exists, after the mkdir a watcher
	 * of the user's Maildir saw (maildir_watch_dir): touching it then
	 * tells them it is complete. */
	utimensat(AT_FDCWD, p.data, NULL, 0);
	ret = 0;
	goto unlock;
fserr:
	snprintf(err_r, errlen, "creating %s: %s", name, strerror(errno));
unlock:
	lock_index_release(fd);
out:
	buf_free(&dir);
	buf_free(&p);
	buf_free(&part);
	return ret;
}

/* Drops the index of folder DIR (all its records). */
static int drop_index(struct maildir_store *s, const char *dir)
{
	struct frec f;
	DB_TXN *txn;
	int r = idx_folder_get(s, NULL, dir, &f);

	if (r != 0)
		return r < 0 ? -1 : 0;
	if (idx_begin(s, &txn) < 0)
		return -1;
	if (idx_folder_purge(s, txn, f.id) < 0 ||
	    idx_folder_del(s, txn, dir) < 0) {
		idx_abort(txn);
		return -1;
	}
	maildir_keys_remove(s, f.uidvalidity);
	return idx_commit(txn);
}

int maildir_folder_delete(struct maildir_store *s, const char *name,
			  char *err_r, size_t errlen)
{
	struct buf dir = BUF_INIT(BUF_UNLIMITED), path = BUF_INIT(BUF_UNLIMITED);
	struct buf trash = BUF_INIT(BUF_UNLIMITED);
	int ret = -1, fd;

	if (maildir_folder_is_inbox(name)) {
		snprintf(err_r, errlen, "INBOX cannot be deleted");
		return -1;
	}
	if ((fd = lock_or_fail(s, err_r, errlen)) < 0)
		return -1;
	if (box_resolve(s, name, &dir, &path, err_r, errlen) < 0)
		goto out;
	/* "..name" is never a folder (name.c), so the rename hides it at
	 * once from every lister; then it can be removed at leisure. */
	buf_printf(&trash, "%s/..maillab-deleted.%ld", s->path, (long)getpid());
	fs_rmtree(trash.data);
	if (rename(path.data, trash.data) < 0) {
		snprintf(err_r, errlen, "deleting %s: %s", name, strerror(errno));
		goto out;
	}
	fs_fsync_dir(s->path);
	if (drop_index(s, dir.data) < 0)
		snprintf(err_r, errlen, "index of %s not dropped", name);
	fs_rmtree(trash.data);
	ret = 0;
out:
	lock_index_release(fd);
	buf_free(&dir);
	buf_free(&path);
	buf_free(&trash);
	return ret;
}

/* Moves every file of INBOX into the Maildir `to`. */
static int move_inbox(struct maildir_store *s, const char *to)
{
	static const char *const subs[] = { "new", "cur" };
	struct buf a = BUF_INIT(BUF_UNLIMITED), b = BUF_INIT(BUF_UNLIMITED);
	struct dirent *de;
	size_t i;
	DIR *d;
	int ret = 0;

	for (i = 0; i < 2; i++) {
		buf_clear(&a);
		buf_printf(&a, "%s/%s", s->path, subs[i]);
		d = opendir(a.data);
		if (d == NULL)
			continue;
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			buf_clear(&a);
			buf_printf(&a, "%s/%s/%s", s->path, subs[i], de->d_name);
			buf_clear(&b);
			buf_printf(&b, "%s/%s/%s", to, subs[i], de->d_name);
			if (rename(a.data, b.data) < 0 && errno != ENOENT)
				ret = -1;
		}
		closedir(d);
		buf_clear(&b);
		buf_printf(&b, "%s/%s", to, subs[i]);
		fs_fsync_dir(b.data);
	}
	buf_free(&a);
	buf_free(&b);
	return ret;
}

static int rename_index(struct maildir_store *s, const char *from,
			const char *to)
{
	struct frec f;
	DB_TXN *txn;
	int r = idx_folder_get(s, NULL, from, &f);

	if (r != 0)
		return r < 0 ? -1 : 0;
	if (idx_begin(s, &txn) < 0)
		return -1;
	if (idx_folder_put(s, txn, to, &f) < 0 ||
	    idx_folder_del(s, txn, from) < 0) {
		idx_abort(txn);
		return -1;
	}
	return idx_commit(txn);
}

/* Renames ".from" and every ".from.*" to ".to" / ".to.*". */
static int rename_tree(struct maildir_store *s, const char *from,
		       const char *to)
{
	struct buf a = BUF_INIT(BUF_UNLIMITED), b = BUF_INIT(BUF_UNLIMITED);
	struct buf nd = BUF_INIT(BUF_UNLIMITED);
	size_t flen = strlen(from), i, n = 0;
	char **names = NULL;
	struct dirent *de;
	DIR *d;
	int ret = 0;

	d = opendir(s->path);
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, from, flen) == 0 &&
		    (de->d_name[flen] == '\0' || de->d_name[flen] == '.')) {
			names = xreallocarray(names, n + 1, sizeof(*names));
			names[n++] = xstrdup(de->d_name);
		}
	closedir(d);
	for (i = 0; i < n; i++) {
		buf_clear(&nd);
		buf_printf(&nd, "%s%s", to, names[i] + flen);
		buf_clear(&a);
		buf_printf(&a, "%s/%s", s->path, names[i]);
		buf_clear(&b);
		buf_printf(&b, "%s/%s", s->path, nd.data);
		if (rename(a.data, b.data) < 0 ||
		    rename_index(s, names[i], nd.data) < 0)
			ret = -1;
		free(names[i]);
	}
	free(names);
	fs_fsync_dir(s->path);
	buf_free(&a);
	buf_free(&b);
	buf_free(&nd);
	return ret;
}

int maildir_folder_rename(struct maildir_store *s, const char *from,
			  const char *to, char *err_r, size_t errlen)
{
	struct buf fdir = BUF_INIT(BUF_UNLIMITED), fpath = BUF_INIT(BUF_UNLIMITED);
	struct buf tdir = BUF_INIT(BUF_UNLIMITED), tpath = BUF_INIT(BUF_UNLIMITED);
	struct frec f;
	bool rebuilt;
	struct stat st;
	int ret = -1, fd;

	if (maildir_folder_is_inbox(to) ||
	    !maildir_folder_name_creatable(to, err_r, errlen) ||
	    maildir_folder_dir(to, &tdir, err_r, errlen) < 0) {
		if (maildir_folder_is_inbox(to))
			snprintf(err_r, errlen, "INBOX already exists");
		goto out_nolock;
	}
	if (maildir_folder_is_inbox(from)) {
		if (maildir_folder_create(s, to, err_r, errlen) < 0)
			goto out_nolock;
	}
	if ((fd = lock_or_fail(s, err_r, errlen)) < 0)
		goto out_nolock;
	if (box_resolve(s, from, &fdir, &fpath, err_r, errlen) < 0)
		goto out;
	folder_path(s, tdir.data, &tpath);
	if (maildir_folder_is_inbox(from)) {
		if (move_inbox(s, tpath.data) < 0)
			snprintf(err_r, errlen, "some messages not moved: %s",
				 strerror(errno));
		else
			ret = 0;
		sync_folder(s, "", &f, &rebuilt, err_r, errlen);
		sync_folder(s, tdir.data, &f, &rebuilt, err_r, errlen);
		goto out;
	}
	if (stat(tpath.data, &st) == 0) {
		snprintf(err_r, errlen, "mailbox already exists: %s", to);
		goto out;
	}
	if (strncmp(tdir.data, fdir.data, fdir.len) == 0 &&
	    tdir.data[fdir.len] == '.') {
		snprintf(err_r, errlen, "cannot rename a mailbox into itself");
		goto out;
	}
	if (rename_tree(s, fdir.data, tdir.data) < 0) {
		snprintf(err_r, errlen, "renaming %s: %s", from, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	lock_index_release(fd);
out_nolock:
	buf_free(&fdir);
	buf_free(&fpath);
	buf_free(&tdir);
	buf_free(&tpath);
	return ret;
}

int maildir_folder_subscribe(struct maildir_store *s, const char *name,
			     bool subscribe, char *err_r, size_t errlen)
{
	struct buf text = BUF_INIT(BUF_UNLIMITED), p = BUF_INIT(BUF_UNLIMITED);
	struct buf tmp = BUF_INIT(BUF_UNLIMITED);
	char **subs = NULL;
	size_t nsubs = 0, i;
	bool found = false;
	int ret = -1, fd, out;

	if (!maildir_folder_is_inbox(name) &&
	    !maildir_folder_name_valid(name, err_r, errlen))
		return -1;
	if (maildir_folder_is_inbox(name))
		name = "INBOX";
	if ((fd = lock_or_fail(s, err_r, errlen)) < 0)
		return -1;
	if (read_subscriptions(s, &subs, &nsubs) < 0)
		goto fail;
	for (i = 0; i < nsubs; i++) {
		if (strcmp(subs[i], name) == 0) {
			found = true;
			if (!subscribe)
				continue;
		}
		buf_printf(&text, "%s\n", subs[i]);
	}
	if (subscribe && !found)
		buf_printf(&text, "%s\n", name);
	buf_printf(&p, "%s/subscriptions", s->path);
	buf_printf(&tmp, "%s/%s/subscriptions.tmp", s->path, INDEX_DIR);
	out = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0)
		goto fail;
	if (fs_write_all(out, text.data != NULL ? text.data : "", text.len) < 0 ||
	    fsync(out) < 0) {
		close(out);
		goto fail;
	}
	close(out);
	if (rename(tmp.data, p.data) < 0)
		goto fail;
	ret = 0;
	goto out;
fail:
	snprintf(err_r, errlen, "updating subscriptions: %s", strerror(errno));
out:
	lock_index_release(fd);
	free_strv(subs, nsubs);
	buf_free(&text);
	buf_free(&p);
	buf_free(&tmp);
	return ret;
}

static int count_recent(void *arg, uint32_t uid, const struct mrec *m,
			const char *fname)
{
	(void)uid;
	(void)m;
	(void)fname;
	(*(uint32_t *)arg)++;
	return 0;
}

struct size_sum {
	uint64_t total;
	int dir_fd;		/* the folder (files of unverified sizes) */
};

static int sum_size(void *arg, uint32_t uid, const struct mrec *m,
		    const char *fname)
{
	struct size_sum *sum = arg;
	uint64_t size = m->size;
	struct mrec exact;
	int fd;

	(void)uid;
	/* STATUS SIZE is the sum of RFC822.SIZE (RFC 8438 2): a message
	 * indexed from its file name is read (wire-size.c) */
	if ((m->unverified & MAILDIR_MSG_WIRE_UNKNOWN) && sum->dir_fd >= 0 &&
	    (fd = fs_open_msg_at(sum->dir_fd, fname)) >= 0) {
		exact = *m;
		if (mrec_sizes_from_file(&exact, fd) == 0)
			size = exact.size;
		close(fd);
	}
	/* sizes are below the message limit: no overflow in 64 bits, but
	 * a damaged record must not wrap the total */
	sum->total = size > UINT64_MAX - sum->total ? UINT64_MAX :
		sum->total + size;
	return 0;
}

static int folder_status(struct maildir_store *s, const char *name,
			 struct maildir_box_info *info, bool want_size,
			 char *err_r, size_t errlen)
{
	struct buf dir = BUF_INIT(BUF_UNLIMITED), path = BUF_INIT(BUF_UNLIMITED);
	struct frec f;
	bool rebuilt;
	int fd, r, ret = -1;

	memset(info, 0, sizeof(*info));
	if (box_resolve(s, name, &dir, &path, err_r, errlen) < 0)
		goto out;
	fd = box_lock_sync(s, dir.data, &f, &rebuilt, err_r, errlen);
	if (fd < 0)
		goto out;
	info->uidvalidity = f.uidvalidity;
	info->uidnext = f.uidnext;
	info->highestmodseq = f.modseq;
	info->messages = f.messages;
	info->unseen = f.unseen;
	if (f.first_recent_uid < f.uidnext)
		idx_msg_iter(s, f.id, f.first_recent_uid, count_recent,
			     &info->recent);
	if (want_size && f.messages > 0) {
		struct size_sum sum = { 0, -1 };

		sum.dir_fd = open(path.data, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
				  (dir.data[0] != '\0' ? O_NOFOLLOW : 0));
		r = idx_msg_iter(s, f.id, 1, sum_size, &sum);
		if (sum.dir_fd >= 0)
			close(sum.dir_fd);
		info->size = sum.total;
		if (r < 0) {
			snprintf(err_r, errlen, "reading the index of %s failed",
				 name);
			lock_index_release(fd);
			goto out;
		}
	}
	lock_index_release(fd);
	ret = 0;
out:
	buf_free(&dir);
	buf_free(&path);
	return ret;
}

int maildir_folder_status(struct maildir_store *s, const char *name,
			  struct maildir_box_info *info,
			  char *err_r, size_t errlen)
{
	return folder_status(s, name, info, false, err_r, errlen);
}

int maildir_folder_status_size(struct maildir_store *s, const char *name,
			       struct maildir_box_info *info,
			       char *err_r, size_t errlen)
{
	return folder_status(s, name, info, true, err_r, errlen);
}
