#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "maildir/deliver-int.h"
#include "maildir/dirsync.h"
#include "maildir/fsutil.h"
#include "maildir/name.h"
#include "maildir/user.h"

#define WBUF_SIZE (64 * 1024)

struct maildir_delivery {
	char *mail_root;
	char *tmp_path;		/* MAIL_ROOT/.tmp/UNIQUE, NULL once unlinked */
	int fd;
	int error;		/* errno of the first failure, 0 if none */
	uint64_t size;		/* bytes accepted by write */
	uint64_t bare_lf;	/* LFs not preceded by CR among them */
	char last;		/* the last byte written, or '\0' */
	char name[256];		/* final base name, "" before commit */
	size_t wlen;
	bool synced;		/* fsync'd since the last write */
	bool created;		/* the tmp file exists (lazy: not yet) */
	char wbuf[WBUF_SIZE];
};

static const char *fault_override;

void maildir_fault_set(const char *spec)
{
	fault_override = spec;
}

static const struct {
	const char *name;
	int value;
} fault_errnos[] = {
	{ "ENOSPC", ENOSPC }, { "EIO", EIO }, { "EDQUOT", EDQUOT },
	{ "EROFS", EROFS }, { "EXDEV", EXDEV }, { "EACCES", EACCES },
};

int maildir_fault(const char *step)
{
	const char *spec = fault_override != NULL ? fault_override :
		getenv("MAILLAB_FAULT");
	size_t len = strlen(step), i;
	const char *what;

	if (spec == NULL || strncmp(spec, step, len) != 0 ||
	    (spec[len] != ':' && spec[len] != '\0'))
		return 0;
	what = spec[len] == ':' ? spec + len + 1 : "EIO";
	if (strcmp(what, "KILL") == 0) {
		kill(getpid(), SIGKILL);
		pause();
	}
	errno = EIO;
	for (i = 0; i < sizeof(fault_errnos) / sizeof(fault_errnos[0]); i++)
		if (strcmp(what, fault_errnos[i].name) == 0)
			errno = fault_errnos[i].value;
	return -1;
}

struct maildir_delivery *maildir_delivery_begin(const char *mail_root,
						char *err_r, size_t errlen)
{
	struct maildir_delivery *d;
	struct buf path = BUF_INIT(BUF_UNLIMITED);
	char unique[200];
	int saved;

	buf_printf(&path, "%s/.tmp", mail_root);
	if (fs_mkdir(mail_root) < 0 || fs_mkdir(path.data) < 0) {
		saved = errno;
		snprintf(err_r, errlen, "mkdir(%s): %s", path.data, strerror(errno));
		buf_free(&path);
		errno = saved;
		return NULL;
	}
	maildir_name_unique(unique, sizeof(unique), 0);
	unique[maildir_base_len(unique)] = '\0';
	*strstr(unique, ",S=") = '\0';
	buf_printf(&path, "/%s", unique);

	d = xcalloc(1, sizeof(*d));
	d->fd = -1;
	if (maildir_fault("open") == 0)
		d->fd = open(path.data, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
			     0600);
	if (d->fd < 0) {
		saved = errno;
		snprintf(err_r, errlen, "open(%s): %s", path.data, strerror(errno));
		buf_free(&path);
		free(d);
		errno = saved;
		return NULL;
	}
	d->mail_root = xstrdup(mail_root);
	d->tmp_path = buf_steal(&path);
	d->created = true;
	return d;
}

struct maildir_delivery *maildir_delivery_begin_lazy(const char *mail_root)
{
	struct maildir_delivery *d = xcalloc(1, sizeof(*d));
	struct buf path = BUF_INIT(BUF_UNLIMITED);
	char unique[200];

	maildir_name_unique(unique, sizeof(unique), 0);
	unique[maildir_base_len(unique)] = '\0';
	*strstr(unique, ",S=") = '\0';
	buf_printf(&path, "%s/.tmp/%s", mail_root, unique);
	d->fd = -1;
	d->mail_root = xstrdup(mail_root);
	d->tmp_path = buf_steal(&path);
	return d;
}

/* Creates a lazy delivery's file (MAIL_ROOT/.tmp/ too when missing). */
static int create_file(struct maildir_delivery *d)
{
	struct buf dir = BUF_INIT(BUF_UNLIMITED);
	int flags = O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC;

	if (maildir_fault("open") < 0)
		return -1;
	d->fd = open(d->tmp_path, flags, 0600);
	if (d->fd < 0 && errno == ENOENT) {
		buf_printf(&dir, "%s/.tmp", d->mail_root);
		if (fs_mkdir(d->mail_root) == 0 && fs_mkdir(dir.data) == 0)
			d->fd = open(d->tmp_path, flags, 0600);
		buf_free(&dir);
	}
	if (d->fd < 0)
		return -1;
	d->created = true;
	return 0;
}

const char *maildir_delivery_data(const struct maildir_delivery *d,
				  size_t *len_r)
{
	/* a flush leaves the bytes in the buffer: all of them while the
	 * message fits it */
	if (d->error != 0 || d->size > WBUF_SIZE)
		return NULL;
	*len_r = (size_t)d->size;
	return d->wbuf;
}

static int flush(struct maildir_delivery *d)
{
	if (d->error != 0) {
		errno = d->error;
		return -1;
	}
	if (!d->created && create_file(d) < 0) {
		d->error = errno;
		return -1;
	}
	if (d->wlen == 0)
		return 0;
	if (maildir_fault("write") < 0 ||
	    fs_write_all(d->fd, d->wbuf, d->wlen) < 0) {
		d->error = errno;
		return -1;
	}
	d->wlen = 0;
	return 0;
}

/* Counts the bare LFs of p[0..n-1], which follows d->last: the wire size
 * in the name is the size plus one per bare LF, as file_wire_size
 * (wire-size.c) counts from the file. */
static void count_bare_lf(struct maildir_delivery *d, const char *p, size_t n)
{
	const char *lf = memchr(p, '\n', n), *end = p + n;

	while (lf != NULL) {
		if ((lf == p ? d->last : lf[-1]) != '\r')
			d->bare_lf++;
		lf = memchr(lf + 1, '\n', (size_t)(end - lf - 1));
	}
	if (n > 0)
		d->last = p[n - 1];
}

int maildir_delivery_write(void *arg, const char *p, size_t n)
{
	struct maildir_delivery *d = arg;
	size_t room;

	if (d->error != 0) {
		errno = d->error;
		return -1;
	}
	if (n > 0)
		d->synced = false;
	count_bare_lf(d, p, n);
	while (n > 0) {
		room = WBUF_SIZE - d->wlen;
		if (room > n)
			room = n;
		memcpy(d->wbuf + d->wlen, p, room);
		d->wlen += room;
		d->size += room;
		p += room;
		n -= room;
		if (d->wlen == WBUF_SIZE && flush(d) < 0)
			return -1;
	}
	return 0;
}

uint64_t maildir_delivery_size(const struct maildir_delivery *d)
{
	return d->size;
}

const char *maildir_delivery_name(const struct maildir_delivery *d)
{
	return d->name[0] != '\0' ? d->name : NULL;
}

/* Flush + fsync, once. */
static int make_durable(struct maildir_delivery *d, char *err_r, size_t errlen)
{
	if (d->synced && d->error == 0)
		return 0;
	if (flush(d) < 0) {
		snprintf(err_r, errlen, "write(%s): %s", d->tmp_path,
			 strerror(errno));
		return -1;
	}
	if (maildir_fault("fsync-file") < 0 || fsync(d->fd) < 0) {
		d->error = errno;
		snprintf(err_r, errlen, "fsync(%s): %s", d->tmp_path,
			 strerror(errno));
		return -1;
	}
	d->synced = true;
	return 0;
}

int delivery_make_durable(struct maildir_delivery *d, char *err_r,
			  size_t errlen)
{
	return make_durable(d, err_r, errlen);
}

/* Copies the delivery's bytes through MAILDIR/tmp/ to `target` (the
 * cross-device case): write, fsync, link, unlink. */
static int copy_to(struct maildir_delivery *d, const char *maildir,
		   const char *target)
{
	struct buf tmp = BUF_INIT(BUF_UNLIMITED);
	char chunk[WBUF_SIZE];
	off_t off = 0;
	ssize_t r;
	int fd, ret = -1, saved;

	buf_printf(&tmp, "%s/tmp/%s", maildir, d->name);
	fd = open(tmp.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		goto out;
	for (;;) {
		r = pread(d->fd, chunk, sizeof(chunk), off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (fs_write_all(fd, chunk, (size_t)r) < 0)
			break;
		off += r;
	}
	if (r == 0 && fsync(fd) == 0 && link(tmp.data, target) == 0)
		ret = 0;
	saved = errno;
	close(fd);
	unlink(tmp.data);
	errno = saved;
out:
	buf_free(&tmp);
	return ret;
}

/* Makes the file visible as `target`: a hard link, or for the last name a
 * rename (one metadata change less; the tmp name is then gone). */
static int link_one(struct maildir_delivery *d, const char *maildir,
		    const char *target, bool last)
{
	if (maildir_fault("link") < 0) {
		if (errno == EXDEV)
			return copy_to(d, maildir, target);	/* test the copy */
		return -1;
	}
	if (last && rename(d->tmp_path, target) == 0) {
		free(d->tmp_path);
		d->tmp_path = NULL;
		return 0;
	}
	if (!last && link(d->tmp_path, target) == 0)
		return 0;
	if (errno != EXDEV && errno != EPERM && errno != EMLINK)
		return -1;
	return copy_to(d, maildir, target);
}

/* The Maildir of one recipient; creates a missing folder. */
static int rcpt_maildir(const char *mail_root, const struct maildir_rcpt *r,
			struct buf *out, char *err_r, size_t errlen)
{
	struct buf dir = BUF_INIT(BUF_UNLIMITED);
	struct stat st;
	int ret = -1;

	buf_clear(out);
	if (!maildir_user_name_valid(r->user, err_r, errlen))
		goto done;
	buf_printf(out, "%s/%s", mail_root, r->user);
	if (stat(out->data, &st) < 0) {
		snprintf(err_r, errlen, "mailbox of %s: %s", r->user,
			 strerror(errno));
		goto done;
	}
	if (r->folder != NULL && !maildir_folder_is_inbox(r->folder)) {
		if (maildir_folder_dir(r->folder, &dir, err_r, errlen) < 0)
			goto done;
		buf_printf(out, "/%s", dir.data);
		if (fs_mkmaildir(out->data, 1) < 0) {
			snprintf(err_r, errlen, "creating %s: %s", out->data,
				 strerror(errno));
			goto done;
		}
	}
	ret = 0;
done:
	buf_free(&dir);
	return ret;
}

static void unlink_and_sync(char **paths, size_t n)
{
	size_t i;
	char *slash;

	for (i = 0; i < n; i++) {
		unlink(paths[i]);
		slash = strrchr(paths[i], '/');
		*slash = '\0';
		fs_fsync_dir(paths[i]);
	}
}

int maildir_delivery_commit(struct maildir_delivery *d,
			    const struct maildir_rcpt *rcpts, size_t n,
			    char *err_r, size_t errlen)
{
	struct buf maildir = BUF_INIT(BUF_UNLIMITED);
	struct buf target = BUF_INIT(BUF_UNLIMITED);
	char **linked = xcalloc(n + 1, sizeof(char *));
	char **targets = xcalloc(n + 1, sizeof(char *));
	size_t nlinked = 0, ntargets = 0, i, j;
	int ret = -1, dup;

	if (n == 0 || d->name[0] != '\0' || d->tmp_path == NULL) {
		snprintf(err_r, errlen, n == 0 ? "no recipients" :
			 "delivery already committed");
		free(linked);
		free(targets);
		errno = EINVAL;
		return -1;
	}
	if (make_durable(d, err_r, errlen) < 0)
		goto out;
	if (maildir_name_unique_wire(d->name, sizeof(d->name), d->size,
				     d->size + d->bare_lf) < 0) {
		snprintf(err_r, errlen, "file name too long");
		goto out;
	}
	/* Resolve every target first, so that the last one can be a rename. */
	for (i = 0; i < n; i++) {
		if (rcpt_maildir(d->mail_root, &rcpts[i], &maildir,
				 err_r, errlen) < 0)
			goto out;
		buf_clear(&target);
		buf_printf(&target, "%s/new/%s", maildir.data, d->name);
		for (dup = 0, j = 0; j < ntargets; j++)
			if (strcmp(targets[j], target.data) == 0)
				dup = 1;
		if (!dup)
			targets[ntargets++] = xstrdup(target.data);
	}
	for (i = 0; i < ntargets; i++) {
		char *slash = strrchr(targets[i], '/');

		/* The Maildir is two levels up from new/NAME. */
		buf_clear(&maildir);
		buf_append(&maildir, targets[i], (size_t)(slash - targets[i]) - 4);
		if (link_one(d, maildir.data, targets[i], i == ntargets - 1) < 0) {
			snprintf(err_r, errlen, "link(%s): %s", targets[i],
				 strerror(errno));
			goto out;
		}
		linked[nlinked++] = targets[i];
		targets[i] = NULL;
	}
	for (i = 0; i < nlinked; i++) {
		char *slash = strrchr(linked[i], '/');
		int r;

		*slash = '\0';
		/* shared with the sessions delivering to that folder now */
		r = maildir_fault("fsync-dir") < 0 ? -1 :
			fs_fsync_dir_shared(linked[i]);
		*slash = '/';
		if (r < 0) {
			snprintf(err_r, errlen, "fsync(%s): %s", linked[i],
				 strerror(errno));
			goto out;
		}
	}
	ret = 0;
	if (d->tmp_path != NULL && maildir_fault("unlink-tmp") == 0 &&
	    unlink(d->tmp_path) == 0) {
		free(d->tmp_path);
		d->tmp_path = NULL;
	}
out:
	if (ret < 0) {
		int saved = errno;

		unlink_and_sync(linked, nlinked);
		d->name[0] = '\0';
		if (d->error == 0)
			d->error = saved != 0 ? saved : EIO;
		errno = saved;
	}
	for (i = 0; i < nlinked; i++)
		free(linked[i]);
	for (i = 0; i < ntargets; i++)
		free(targets[i]);
	free(linked);
	free(targets);
	buf_free(&maildir);
	buf_free(&target);
	return ret;
}

/* Copies the delivery's bytes to `path` through path.tmp: write, fsync,
 * rename. */
static int copy_to_path(struct maildir_delivery *d, const char *path)
{
	struct buf tmp = BUF_INIT(BUF_UNLIMITED);
	char chunk[WBUF_SIZE];
	off_t off = 0;
	ssize_t r = 0;
	int fd, ret = -1, saved;

	buf_printf(&tmp, "%s.tmp", path);
	fd = open(tmp.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		goto out;
	while ((r = pread(d->fd, chunk, sizeof(chunk), off)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || fs_write_all(fd, chunk, (size_t)r) < 0)
			break;
		off += r;
	}
	if (r == 0 && fsync(fd) == 0 && rename(tmp.data, path) == 0)
		ret = 0;
	saved = errno;
	close(fd);
	if (ret < 0)
		unlink(tmp.data);
	errno = saved;
out:
	buf_free(&tmp);
	return ret;
}

/* rename(2) that never replaces an existing target (EEXIST instead, as
 * link(2) gives); EINVAL where the file system cannot promise that. */
static int rename_new(const char *from, const char *to)
{
	return renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
}

int maildir_delivery_link(struct maildir_delivery *d, const char *path,
			  bool move, char *err_r, size_t errlen)
{
	int r = -1;

	if (d->tmp_path == NULL || d->name[0] != '\0') {
		snprintf(err_r, errlen, "delivery already committed");
		return -1;
	}
	if (make_durable(d, err_r, errlen) < 0)
		return -1;
	if (maildir_fault("link") < 0)
		r = -1;
	else if (move && (r = rename_new(d->tmp_path, path)) == 0) {
		free(d->tmp_path);
		d->tmp_path = NULL;
	} else if (!move || errno == EINVAL)
		r = link(d->tmp_path, path);
	if (r < 0 && (errno == EXDEV || errno == EPERM || errno == EMLINK))
		r = copy_to_path(d, path);
	if (r < 0)
		snprintf(err_r, errlen, "link(%s): %s", path, strerror(errno));
	return r;
}

int delivery_place(struct maildir_delivery *d, const char *maildir,
		   const char *subdir, const char *suffix, int64_t mtime,
		   struct buf *path_r, char *err_r, size_t errlen)
{
	struct timespec ts[2];
	int saved;

	if (make_durable(d, err_r, errlen) < 0)
		return -1;
	if (mtime >= 0) {
		ts[0].tv_sec = ts[1].tv_sec = (time_t)mtime;
		ts[0].tv_nsec = ts[1].tv_nsec = 0;
		futimens(d->fd, ts);
	}
	if (maildir_name_unique_wire(d->name, sizeof(d->name), d->size,
				     d->size + d->bare_lf) < 0) {
		snprintf(err_r, errlen, "file name too long");
		return -1;
	}
	buf_clear(path_r);
	buf_printf(path_r, "%s/%s/%s%s", maildir, subdir, d->name, suffix);
	if (link_one(d, maildir, path_r->data, true) < 0) {
		snprintf(err_r, errlen, "link(%s): %s", path_r->data,
			 strerror(errno));
		d->name[0] = '\0';
		return -1;
	}
	buf_clear(path_r);
	buf_printf(path_r, "%s/%s", maildir, subdir);
	if (maildir_fault("fsync-dir") < 0 ||
	    fs_fsync_dir_shared(path_r->data) < 0) {
		saved = errno;
		snprintf(err_r, errlen, "fsync(%s): %s", path_r->data,
			 strerror(errno));
		buf_printf(path_r, "/%s%s", d->name, suffix);
		unlink(path_r->data);
		d->name[0] = '\0';
		errno = saved;
		return -1;
	}
	buf_printf(path_r, "/%s%s", d->name, suffix);
	return 0;
}

void maildir_delivery_free(struct maildir_delivery **dp)
{
	struct maildir_delivery *d = *dp;

	if (d == NULL)
		return;
	if (d->fd >= 0)
		close(d->fd);
	if (d->tmp_path != NULL) {
		if (d->created)
			unlink(d->tmp_path);
		free(d->tmp_path);
	}
	free(d->mail_root);
	free(d);
	*dp = NULL;
}

int maildir_delivery_read_head(struct maildir_delivery *d, struct buf *out,
			       size_t max)
{
	char chunk[8192];
	uint64_t off = 0;

	if (d->fd < 0 || d->wlen > 0) {
		errno = EINVAL;		/* not written out yet */
		return -1;
	}
	while (off < max && off < d->size) {
		size_t want = max - off < sizeof(chunk) ? max - off : sizeof(chunk);
		ssize_t n = pread(d->fd, chunk, want, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -1 : 0;
		if (buf_append(out, chunk, (size_t)n) < 0) {
			errno = EFBIG;
			return -1;
		}
		off += (uint64_t)n;
	}
	return 0;
}
