/* The process's change notification: one inotify instance, one watch per
 * folder directory, shared by the sessions waiting on the folder. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "maildir/box-int.h"
#include "maildir/notify.h"

/* Every way a folder's content changes shows in new/ or cur/ (IN_ATTRIB:
 * cur/ touched after a keyword-only change). */
#define WATCH_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | \
		    IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
/* A user's Maildir itself: folders are its ".Name" subdirectories (made,
 * then touched once complete; renamed; renamed away to be deleted) and
 * the subscriptions file is replaced by a rename (folder.c). */
#define DIR_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | \
		  IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

struct folder_watch;

struct maildir_watch {
	struct folder_watch *folder;
	bool dead;		/* freed during a dispatch: freed after it */
	maildir_watch_fn *fn;
	void *arg;
	struct maildir_watch *next;
};

/* One watched folder. */
struct folder_watch {
	char *path;		/* its Maildir */
	bool dir_only;		/* the directory itself (maildir_watch_dir),
				   else its new/ and cur/ */
	int wd[2];		/* new/, cur/ (or the directory, and -2); -1
				   once the kernel dropped it */
	bool changed;		/* during a dispatch */
	struct maildir_watch *watchers;
	struct folder_watch *next;
};

static int notify_fd = -1;
static struct folder_watch *folders;
/* maildir_notify_dispatch is calling watchers: frees wait for its end */
static bool dispatching;

int maildir_notify_fd(void)
{
	if (notify_fd < 0)
		notify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	return notify_fd;
}

static void folder_unwatch(struct folder_watch *fw)
{
	for (int i = 0; i < 2; i++)
		if (fw->wd[i] >= 0)
			inotify_rm_watch(notify_fd, fw->wd[i]);
}

/* Adds the kernel watch i of fw (path: its Maildir). */
static int folder_add_wd(struct folder_watch *fw, const char *path, int i,
			 struct buf *p)
{
	static const char *const subdirs[2] = { "new", "cur" };

	buf_clear(p);
	if (fw->dir_only) {
		buf_puts(p, path);
		fw->wd[i] = inotify_add_watch(notify_fd, p->data, DIR_MASK);
	} else {
		buf_printf(p, "%s/%s", path, subdirs[i]);
		fw->wd[i] = inotify_add_watch(notify_fd, p->data, WATCH_MASK);
	}
	return fw->wd[i];
}

static struct folder_watch *folder_get(const char *path, bool dir_only)
{
	struct folder_watch *fw;
	struct buf p = BUF_INIT(BUF_UNLIMITED);
	int nwd = dir_only ? 1 : 2;

	for (fw = folders; fw != NULL; fw = fw->next)
		if (fw->dir_only == dir_only && strcmp(fw->path, path) == 0)
			break;
	if (fw != NULL && fw->wd[0] >= 0 && fw->wd[nwd - 1] >= 0)
		return fw;
	if (fw != NULL) {
		/* deleted and created again since: the kernel dropped the
		 * watches of the old directories */
		for (int i = 0; i < nwd; i++)
			if (fw->wd[i] < 0)
				folder_add_wd(fw, path, i, &p);
		buf_free(&p);
		return fw;
	}
	if (maildir_notify_fd() < 0)
		return NULL;
	fw = xcalloc(1, sizeof(*fw));
	fw->dir_only = dir_only;
	fw->wd[0] = fw->wd[1] = -1;
	for (int i = 0; i < nwd; i++) {
		if (folder_add_wd(fw, path, i, &p) < 0) {
			int saved = errno;

			folder_unwatch(fw);
			free(fw);
			buf_free(&p);
			errno = saved;
			return NULL;
		}
	}
	buf_free(&p);
	if (dir_only)
		fw->wd[1] = -2;	/* none: never dropped */
	fw->path = xstrdup(path);
	fw->next = folders;
	folders = fw;
	return fw;
}

static struct maildir_watch *watch_new(const char *path, bool dir_only,
				       maildir_watch_fn *fn, void *arg)
{
	struct folder_watch *fw = folder_get(path, dir_only);
	struct maildir_watch *w;

	if (fw == NULL)
		return NULL;
	w = xcalloc(1, sizeof(*w));
	w->folder = fw;
	w->fn = fn;
	w->arg = arg;
	w->next = fw->watchers;
	fw->watchers = w;
	return w;
}

struct maildir_watch *maildir_watch_box(const struct maildir_box *box,
					maildir_watch_fn *fn, void *arg)
{
	return watch_new(box->path.data, false, fn, arg);
}

struct maildir_watch *maildir_watch_path(const char *maildir,
					 maildir_watch_fn *fn, void *arg)
{
	return watch_new(maildir, false, fn, arg);
}

struct maildir_watch *maildir_watch_dir(const char *dir,
					maildir_watch_fn *fn, void *arg)
{
	return watch_new(dir, true, fn, arg);
}

static void watch_release(struct maildir_watch *w)
{
	struct maildir_watch **wp;
	struct folder_watch *fw, **fp;

	fw = w->folder;
	for (wp = &fw->watchers; *wp != w; wp = &(*wp)->next)
		;
	*wp = w->next;
	free(w);
	if (fw->watchers != NULL)
		return;
	for (fp = &folders; *fp != fw; fp = &(*fp)->next)
		;
	*fp = fw->next;
	folder_unwatch(fw);
	free(fw->path);
	free(fw);
}

void maildir_watch_free(struct maildir_watch **watchp)
{
	struct maildir_watch *w = *watchp;

	if (w == NULL)
		return;
	*watchp = NULL;
	if (dispatching) {
		/* a watcher called now may be this one: it is skipped, and
		 * released when the dispatch ends */
		w->dead = true;
		w->fn = NULL;
		return;
	}
	watch_release(w);
}

/* Releases the watches freed during a dispatch. */
static void release_dead(void)
{
	struct folder_watch *fw, *next_fw;
	struct maildir_watch *w, *next;

	for (fw = folders; fw != NULL; fw = next_fw) {
		next_fw = fw->next;
		for (w = fw->watchers; w != NULL; w = next) {
			next = w->next;
			/* the last release frees fw: next_fw is kept */
			if (w->dead)
				watch_release(w);
		}
	}
}

/* An event on INBOX's own new/, cur/ or tmp/ inside a user's Maildir
 * (cur/ is touched by every keyword change): nothing for a watcher of
 * the folder list. */
static bool inbox_subdir(const struct inotify_event *ev)
{
	return ev->len > 0 && (strcmp(ev->name, "cur") == 0 ||
			       strcmp(ev->name, "new") == 0 ||
			       strcmp(ev->name, "tmp") == 0);
}

/* Marks the folder an event belongs to (all of them on overflow). */
static void mark_event(const struct inotify_event *ev)
{
	for (struct folder_watch *fw = folders; fw != NULL; fw = fw->next) {
		for (int i = 0; i < 2; i++) {
			if (!(ev->mask & IN_Q_OVERFLOW) && ev->wd != fw->wd[i])
				continue;
			if (fw->dir_only && !(ev->mask & IN_IGNORED) &&
			    inbox_subdir(ev))
				continue;
			fw->changed = true;
			if (ev->mask & IN_IGNORED)
				fw->wd[i] = -1;	/* the directory is gone */
		}
	}
}

int maildir_notify_dispatch(void)
{
	char events[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct maildir_watch **due = NULL, *w;
	size_t ndue = 0, i;
	ssize_t n;

	if (notify_fd < 0)
		return 0;
	while ((n = read(notify_fd, events, sizeof(events))) > 0) {
		for (char *p = events; p < events + n;) {
			const struct inotify_event *ev = (const void *)p;

			mark_event(ev);
			p += sizeof(*ev) + ev->len;
		}
	}
	/* Collected first: a callback may add watchers. */
	for (struct folder_watch *fw = folders; fw != NULL; fw = fw->next) {
		if (!fw->changed)
			continue;
		fw->changed = false;
		for (w = fw->watchers; w != NULL; w = w->next) {
			due = xreallocarray(due, ndue + 1, sizeof(*due));
			due[ndue++] = w;
		}
	}
	dispatching = true;
	for (i = 0; i < ndue; i++)
		if (!due[i]->dead)
			due[i]->fn(due[i]->arg);
	dispatching = false;
	release_dead();
	free(due);
	return (int)ndue;
}
