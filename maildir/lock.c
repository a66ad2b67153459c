#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/buf.h"
#include "maildir/fsutil.h"
#include "maildir/index-int.h"
#include "maildir/lock.h"
#include "maildir/user.h"

static int open_lock_file(const char *userdir, const char *name)
{
	struct buf path = BUF_INIT(BUF_UNLIMITED);
	int fd;

	/* the directory exists but for the first lock of a user: open
	 * first, create it only when the open says so (every index
	 * operation takes a lock; two system calls fewer each time) */
	buf_printf(&path, "%s/%s/%s", userdir, INDEX_DIR, name);
	fd = open(path.data, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 && errno == ENOENT) {
		buf_clear(&path);
		buf_printf(&path, "%s/%s", userdir, INDEX_DIR);
		if (fs_mkdir(path.data) < 0) {
			buf_free(&path);
			return -1;
		}
		buf_printf(&path, "/%s", name);
		fd = open(path.data, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	}
	buf_free(&path);
	return fd;
}

int maildir_pop3_lock(const char *mail_root, const char *user,
		      char *err_r, size_t errlen)
{
	struct buf dir = BUF_INIT(BUF_UNLIMITED);
	int fd, saved;

	if (!maildir_user_name_valid(user, err_r, errlen)) {
		errno = EINVAL;
		return -1;
	}
	buf_printf(&dir, "%s/%s", mail_root, user);
	fd = open_lock_file(dir.data, "pop3.lock");
	if (fd < 0) {
		saved = errno;
		snprintf(err_r, errlen, "pop3 lock of %s: %s", user,
			 strerror(errno));
		buf_free(&dir);
		errno = saved;
		return -1;
	}
	buf_free(&dir);
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	saved = errno;
	close(fd);
	if (saved == EWOULDBLOCK)
		snprintf(err_r, errlen, "maildrop in use");
	else
		snprintf(err_r, errlen, "pop3 lock of %s: %s", user,
			 strerror(saved));
	errno = saved;
	return -1;
}

void maildir_pop3_unlock(int *fdp)
{
	if (*fdp >= 0)
		close(*fdp);
	*fdp = -1;
}

/* Index locks this thread holds (they nest).  While it holds one, its
 * index transactions commit without a log flush (idx_commit); the flush
 * comes when the last is released (idx_flush_pending), so the next session
 * of the user does not wait for this one's fsync, and sessions that flush
 * at the same moment share one (Berkeley DB's group commit). */
static __thread unsigned held;

int lock_index(const char *userdir, bool exclusive)
{
	int fd = open_lock_file(userdir, "index.lock"), saved;

	if (fd < 0)
		return -1;
	while (flock(fd, exclusive ? LOCK_EX : LOCK_SH) < 0) {
		if (errno == EINTR)
			continue;
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	held++;
	return fd;
}

bool lock_index_held(void)
{
	return held > 0;
}

int lock_index_release(int fd)
{
	if (fd < 0)
		return 0;
	close(fd);
	if (held > 0 && --held == 0)
		return idx_flush_pending();
	return 0;
}

int lock_index_hand_off(void)
{
	if (held > 0)
		held--;
	return idx_flush_pending();
}

void lock_index_release_handed(int fd)
{
	if (fd >= 0)
		close(fd);
}
