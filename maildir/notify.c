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

struct folder_watch;

struct maildir_watch {
	struct folder_watch *folder;
	maildir_watch_fn *fn;
	void *arg;
	struct maildir_watch *next;
};

/* One watched folder. */
struct folder_watch {
	char *path;		/* its Maildir */
	int wd[2];		/* new/, cur/; -1 once the kernel dropped it */
	bool changed;		/* during a dispatch */
	struct maildir_watch *watchers;
	struct folder_watch *next;
};

static int notify_fd = -1;
static struct folder_watch *folders;

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

static struct folder_watch *folder_get(const char *path)
{
	static const char *const subdirs[2] = { "new", "cur" };
	struct folder_watch *fw;
	struct buf p = BUF_INIT(BUF_UNLIMITED);

	for (fw = folders; fw != NULL; fw = fw->next)
		if (strcmp(fw->path, path) == 0)
			return fw;
	if (maildir_notify_fd() < 0)
		return NULL;
	fw = xcalloc(1, sizeof(*fw));
	fw->wd[0] = fw->wd[1] = -1;
	for (int i = 0; i < 2; i++) {
		buf_clear(&p);
		buf_printf(&p, "%s/%s", path, subdirs[i]);
		fw->wd[i] = inotify_add_watch(notify_fd, p.data, WATCH_MASK);
		if (fw->wd[i] < 0) {
			int saved = errno;

			folder_unwatch(fw);
			free(fw);
			buf_free(&p);
			errno = saved;
			return NULL;
		}
	}
	buf_free(&p);
	fw->path = xstrdup(path);
	fw->next = folders;
	folders = fw;
	return fw;
}

struct maildir_watch *maildir_watch_box(const struct maildir_box *box,
					maildir_watch_fn *fn, void *arg)
{
	struct folder_watch *fw = folder_get(box->path.data);
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

void maildir_watch_free(struct maildir_watch **watchp)
{
	struct maildir_watch *w = *watchp, **wp;
	struct folder_watch *fw, **fp;

	if (w == NULL)
		return;
	*watchp = NULL;
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

/* Marks the folder an event belongs to (all of them on overflow). */
static void mark_event(const struct inotify_event *ev)
{
	for (struct folder_watch *fw = folders; fw != NULL; fw = fw->next) {
		for (int i = 0; i < 2; i++) {
			if (!(ev->mask & IN_Q_OVERFLOW) && ev->wd != fw->wd[i])
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
	for (i = 0; i < ndue; i++)
		due[i]->fn(due[i]->arg);
	free(due);
	return (int)ndue;
}
