#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "maildir/fsutil.h"

int fs_mkdir(const char *path)
{
	struct stat st;

	if (mkdir(path, 0700) == 0)
		return 0;
	if (errno != EEXIST)
		return -1;
	if (stat(path, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

int fs_mkdir_p(const char *path)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);
	char *p;
	int ret = 0;

	buf_puts(&b, path);
	for (p = b.data + 1; p != NULL && *p != '\0'; p = strchr(p + 1, '/')) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (fs_mkdir(b.data) < 0)
			ret = -1;
		*p = '/';
		if (ret < 0)
			break;
	}
	if (ret == 0)
		ret = fs_mkdir(path);
	buf_free(&b);
	return ret;
}

static int real_dir(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Like fs_mkdir, but an existing symlink is not a directory (ENOTDIR);
 * sets *made when it created the directory. */
static int mkdir_note(const char *path, int *made)
{
	if (mkdir(path, 0700) == 0) {
		*made = 1;
		return 0;
	}
	if (errno != EEXIST)
		return -1;
	if (!real_dir(path)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

int fs_mkmaildir(const char *path, int is_folder)
{
	static const char *const subdirs[] = { "cur", "new", "tmp" };
	struct buf b = BUF_INIT(BUF_UNLIMITED);
	int ret = -1, made = 0, sub_made = 0;
	size_t i;
	int fd;

	/* A user's own directory may be a symlink the administrator made
	 * (to another disk); a folder and cur/new/tmp may not. */
	if (is_folder) {
		if (mkdir_note(path, &made) < 0)
			return -1;
	} else if (mkdir(path, 0700) == 0) {
		made = 1;
	} else if (fs_mkdir(path) < 0) {
		return -1;
	}
	/* tmp first and cur last: a directory with cur/ is complete. */
	for (i = 3; i-- > 0;) {
		buf_clear(&b);
		buf_printf(&b, "%s/%s", path, subdirs[i]);
		if (mkdir_note(b.data, &sub_made) < 0)
			goto out;
	}
	/* Durable like a delivery: a message linked into a new folder must
	 * not vanish with the folder's own directory entries. */
	if (sub_made && fs_fsync_dir(path) < 0)
		goto out;
	if (made) {
		char *slash;

		buf_clear(&b);
		buf_puts(&b, path);
		slash = strrchr(b.data, '/');
		if (slash != NULL) {
			*slash = '\0';
			if (fs_fsync_dir(slash == b.data ? "/" : b.data) < 0)
				goto out;
		}
	}
	if (is_folder) {
		buf_clear(&b);
		buf_printf(&b, "%s/maildirfolder", path);
		fd = open(b.data, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			goto out;
		close(fd);
	}
	ret = 0;
out:
	buf_free(&b);
	return ret;
}

int fs_fsync_dir(const char *path)
{
	int fd, ret, saved;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = fsync(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return ret;
}

static int rmtree_at(int dirfd, const char *name)
{
	struct dirent *de;
	DIR *dir;
	int fd, ret = 0;

	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -1;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	dir = fdopendir(fd);
	if (dir == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (rmtree_at(fd, de->d_name) < 0)
			ret = -1;
	}
	closedir(dir);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		ret = -1;
	return ret;
}

int fs_rmtree(const char *path)
{
	return rmtree_at(AT_FDCWD, path);
}

int fs_is_maildir(const char *path, int self)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);
	struct stat st;
	int ok = !self || real_dir(path);

	buf_printf(&b, "%s/cur", path);
	ok = ok && real_dir(b.data);
	buf_clear(&b);
	buf_printf(&b, "%s/new", path);
	ok = ok && (real_dir(b.data) || (lstat(b.data, &st) < 0 &&
					 errno == ENOENT));
	buf_free(&b);
	return ok;
}

DIR *fs_opendir_nofollow(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;

	if (fd < 0)
		return NULL;
	if ((d = fdopendir(fd)) == NULL)
		close(fd);
	return d;
}

int fs_open_msg_at(int dirfd, const char *rel)
{
	const char *slash = strchr(rel, '/');
	struct buf sub = BUF_INIT(BUF_UNLIMITED);
	struct stat st;
	int subfd, fd, saved;

	if (slash == NULL || strchr(slash + 1, '/') != NULL) {
		errno = EINVAL;
		return -1;
	}
	buf_append(&sub, rel, (size_t)(slash - rel));
	subfd = openat(dirfd, buf_cstr(&sub),
		       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	buf_free(&sub);
	if (subfd < 0)
		return -1;
	fd = openat(subfd, slash + 1, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	saved = errno;
	close(subfd);
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
		saved = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		close(fd);
		fd = -1;
	}
	errno = saved;
	return fd;
}

int64_t fs_mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

int fs_write_all(int fd, const void *p, size_t n)
{
	const char *s = p;
	ssize_t w;

	while (n > 0) {
		w = write(fd, s, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}
