#ifndef MAILDIR_DIRSYNC_H
#define MAILDIR_DIRSYNC_H

/* Group commit for directory fsyncs.  Threads that changed entries of the
 * same directory (a link, a rename, an unlink) and must wait until the
 * change is durable share one fsync of it: a thread that comes while an
 * fsync of that directory runs waits for the next one, which covers its
 * change and every other change made meanwhile, and which one of the
 * waiting threads does for all of them.  Each caller returns only after an
 * fsync that began after its call; with 20 sessions queueing mail at once
 * this is a few fsyncs instead of 20 (as a database's group commit).
 *
 * 0, or -1 with errno: the fsync that covered the caller's change failed
 * (each thread that relied on it gets the error).  Safe from any thread;
 * a directory is known by its path string. */
int fs_fsync_dir_shared(const char *path);

#endif
