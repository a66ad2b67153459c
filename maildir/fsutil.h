#ifndef MAILDIR_FSUTIL_H
#define MAILDIR_FSUTIL_H
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* Small file-system helpers shared by the maildir/ modules.  All return 0 on
 * success, -1 with errno set. */

/* mkdir(path, 0700); an existing directory is success. */
int fs_mkdir(const char *path);
/* mkdir -p. */
int fs_mkdir_p(const char *path);
/* Creates path and {cur,new,tmp} below it; with is_folder also the empty
 * `maildirfolder` file Maildir++ puts in sub-folders.  What it creates is
 * made durable (fsync of path and of its parent). */
int fs_mkmaildir(const char *path, int is_folder);
/* Opens the directory and fsyncs it. */
int fs_fsync_dir(const char *path);
/* Removes path and all below it (no symlinks followed).  A missing path is
 * success. */
int fs_rmtree(const char *path);
/* Symlinks inside a user's Maildir are never followed: `.Evil -> ../bob`
 * or `cur -> ../../bob/cur` would hand another user's mail to whoever can
 * make a link (or let mail be written there). */

/* 1 when path is a Maildir whose folder directory (with `self`) and cur/
 * are real directories, not symlinks, and whose new/ is one too or is
 * missing (other software may make a folder with cur/ only); 0 otherwise. */
int fs_is_maildir(const char *path, int self);
/* opendir(path) refusing a symlink as the last component (ELOOP/ENOTDIR). */
DIR *fs_opendir_nofollow(const char *path);
/* Opens dirfd/rel for reading where rel is "sub/name": neither sub nor
 * name may be a symlink (ELOOP), and name must be a regular file
 * (EISDIR/EINVAL otherwise). */
int fs_open_msg_at(int dirfd, const char *rel);

/* Nanoseconds since the epoch of st's mtime. */
int64_t fs_mtime_ns(const struct stat *st);
/* Writes all of p (retrying short writes and EINTR). */
int fs_write_all(int fd, const void *p, size_t n);

#endif
