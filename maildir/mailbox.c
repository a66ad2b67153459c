#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "maildir/box-int.h"
#include "maildir/fsutil.h"
#include "maildir/lock.h"
#include "maildir/user.h"

static int clean_dir(const char *path, int64_t now);

/* Folders whose DELETE was interrupted after the rename (folder.c). */
static void remove_deleted_leftovers(const char *userdir)
{
	struct buf p = BUF_INIT(BUF_UNLIMITED);
	struct dirent *de;
	DIR *d = opendir(userdir);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "..maillab-deleted.", 18) != 0)
			continue;
		buf_clear(&p);
		buf_printf(&p, "%s/%s", userdir, de->d_name);
		fs_rmtree(p.data);
	}
	closedir(d);
	buf_free(&p);
}

static pthread_mutex_t stores_lock = PTHREAD_MUTEX_INITIALIZER;
static struct maildir_store *stores;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* A forked child must not reuse its parent's DB handles: it forgets them
 * (leaked on purpose: closing them would disturb the parent's regions). */
static void forget_stores(void)
{
	stores = NULL;
	pthread_mutex_init(&stores_lock, NULL);
}

/* A store whose last session ended stays open (refs 0) for the next one,
 * which then finds the index environment and its cache warm instead of
 * joining and faulting in the regions again: at most STORE_IDLE_MAX
 * stores, each for STORE_IDLE_SECS.  It is only reused while its index
 * file is the one it had then (not deleted, replaced or written by anyone
 * since); otherwise it is closed and the index opened anew. */
#define STORE_IDLE_MAX 8
#define STORE_IDLE_SECS 60

static void store_free(struct maildir_store *s, bool stale)
{
	if (stale)
		idx_close_stale(s);
	else if (idx_enter(s) == 0)
		idx_close(s);	/* its checkpoint writes the log */
	else
		idx_close_stale(s);
	free(s->mail_root);
	free(s->user);
	free(s->path);
	free(s);
}

static int index_stat(const struct maildir_store *s, struct stat *st)
{
	struct buf p = BUF_INIT(BUF_UNLIMITED);
	int r;

	buf_printf(&p, "%s/maillab-index/index.db", s->path);
	r = stat(p.data, st);
	buf_free(&p);
	return r;
}

static bool idle_store_valid(const struct maildir_store *s)
{
	struct stat st;

	return index_stat(s, &st) == 0 && st.st_dev == s->idle_st.st_dev &&
		st.st_ino == s->idle_st.st_ino &&
		st.st_size == s->idle_st.st_size &&
		st.st_mtim.tv_sec == s->idle_st.st_mtim.tv_sec &&
		st.st_mtim.tv_nsec == s->idle_st.st_mtim.tv_nsec;
}

/* Under stores_lock: unlinks the idle stores that are too old or too many
 * (or all with `all`) onto *gone, to be freed outside the lock. */
static void prune_idle(int64_t now, bool all, struct maildir_store **gone)
{
	struct maildir_store **pp = &stores, *s;
	int kept = 0;

	while ((s = *pp) != NULL) {
		if (s->refs == 0 && (all || kept >= STORE_IDLE_MAX ||
				     now - s->idle_since > STORE_IDLE_SECS)) {
			*pp = s->next;
			s->next = *gone;
			*gone = s;
			continue;
		}
		if (s->refs == 0)
			kept++;
		pp = &s->next;
	}
}

static void free_list(struct maildir_store *gone)
{
	struct maildir_store *next;

	for (; gone != NULL; gone = next) {
		next = gone->next;
		store_free(gone, !idle_store_valid(gone));
	}
}

/* At exit the idle environments are closed cleanly (an unclosed one makes
 * the next process run recovery). */
static void close_idle_stores(void)
{
	struct maildir_store *gone = NULL;

	pthread_mutex_lock(&stores_lock);
	prune_idle(0, true, &gone);
	pthread_mutex_unlock(&stores_lock);
	free_list(gone);
}

static void register_atfork(void)
{
	pthread_atfork(NULL, NULL, forget_stores);
	atexit(close_idle_stores);
}

/* Opens the index holding the user's exclusive index lock: opens of one
 * environment by several processes are ordered, so one that fails to
 * create it (a full disk) can remove what it left (index-env.c) while no
 * other process is creating it. */
static int idx_open_locked(struct maildir_store *s, char *err_r,
			   size_t errlen)
{
	int fd = lock_index(s->path, true), ret;

	if (fd < 0) {
		snprintf(err_r, errlen, "index lock of %s: %s", s->user,
			 strerror(errno));
		return -1;
	}
	ret = idx_open(s, err_r, errlen);
	lock_index_release(fd);
	return ret;
}

int maildir_store_open(const char *mail_root, const char *user,
		       struct maildir_store **store_r, char *err_r,
		       size_t errlen)
{
	struct buf path = BUF_INIT(BUF_UNLIMITED);
	struct maildir_store *s, **pp;
	struct stat st;
	char *real;
	int ret = -1;

	*store_r = NULL;
	if (!maildir_user_name_valid(user, err_r, errlen))
		return -1;
	buf_printf(&path, "%s/%s", mail_root, user);
	if (stat(path.data, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err_r, errlen, "no mailbox for user %s", user);
		buf_free(&path);
		return -1;
	}
	/* One environment handle per user and process (and one users lock,
	 * index-env.c): the same directory must give the same key however
	 * it was spelt. */
	real = realpath(path.data, NULL);
	if (real != NULL) {
		buf_clear(&path);
		buf_puts(&path, real);
		free(real);
	}
	pthread_once(&atfork_once, register_atfork);
	pthread_mutex_lock(&stores_lock);
	for (pp = &stores; (s = *pp) != NULL; pp = &s->next)
		if (strcmp(s->path, path.data) == 0)
			break;
	if (s != NULL && s->refs == 0 && !idle_store_valid(s)) {
		/* closed before the new open: one environment handle per
		 * user and process */
		*pp = s->next;
		store_free(s, true);
		s = NULL;
	}
	if (s != NULL) {
		if (s->refs++ == 0) {
			/* a first session again: what a fresh open does */
			buf_clear(&path);
			buf_printf(&path, "%s/.tmp", mail_root);
			clean_dir(path.data, (int64_t)time(NULL));
			remove_deleted_leftovers(s->path);
		}
		*store_r = s;
		ret = 0;
		goto out;
	}
	s = xcalloc(1, sizeof(*s));
	s->mail_root = xstrdup(mail_root);
	s->user = xstrdup(user);
	s->path = xstrdup(path.data);
	if (idx_open_locked(s, err_r, errlen) < 0) {
		free(s->mail_root);
		free(s->user);
		free(s->path);
		free(s);
		goto out;
	}
	s->refs = 1;
	buf_clear(&path);
	buf_printf(&path, "%s/.tmp", mail_root);
	clean_dir(path.data, (int64_t)time(NULL));
	remove_deleted_leftovers(s->path);
	s->next = stores;
	stores = s;
	*store_r = s;
	ret = 0;
out:
	pthread_mutex_unlock(&stores_lock);
	buf_free(&path);
	return ret;
}

void maildir_store_close(struct maildir_store **storep)
{
	struct maildir_store *s = *storep, *gone = NULL;
	int64_t now = (int64_t)time(NULL);

	if (s == NULL)
		return;
	*storep = NULL;
	pthread_mutex_lock(&stores_lock);
	if (--s->refs == 0) {
		/* kept for the next session (see STORE_IDLE_MAX) */
		s->idle_since = now;
		if (index_stat(s, &s->idle_st) < 0)
			s->idle_since = INT64_MIN / 2;	/* pruned now */
	}
	prune_idle(now, false, &gone);
	pthread_mutex_unlock(&stores_lock);
	free_list(gone);
}

const char *maildir_store_path(const struct maildir_store *store)
{
	return store->path;
}

int store_lock(struct maildir_store *s, char *err_r, size_t errlen)
{
	int fd = lock_index(s->path, true);

	if (fd < 0) {
		snprintf(err_r, errlen, "index lock of %s: %s", s->user,
			 strerror(errno));
		return -1;
	}
	if (idx_failchk(s, err_r, errlen) < 0) {
		lock_index_release(fd);
		return -1;
	}
	idx_note_locked(s);
	return fd;
}

int box_lock_sync(struct maildir_store *s, const char *dir, struct frec *f,
		  bool *rebuilt_r, char *err_r, size_t errlen)
{
	int fd = store_lock(s, err_r, errlen);

	if (fd < 0)
		return -1;
	if (sync_folder(s, dir, f, rebuilt_r, err_r, errlen) < 0) {
		int saved = errno;

		lock_index_release(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int box_resolve(struct maildir_store *s, const char *name, struct buf *dir,
		struct buf *path, char *err_r, size_t errlen)
{
	if (maildir_folder_dir(name, dir, err_r, errlen) < 0)
		return -1;
	folder_path(s, dir->data, path);
	/* A folder that is a symlink (or has one for cur/ or new/) is not
	 * one of the user's folders. */
	if (!fs_is_maildir(path->data, dir->data[0] != '\0')) {
		snprintf(err_r, errlen, "no such mailbox: %s", name);
		errno = ENOENT;
		return -1;
	}
	return 0;
}

int box_check_uidvalidity(const struct maildir_box *box, const struct frec *f,
			  char *err_r, size_t errlen)
{
	if (f->uidvalidity == box->f.uidvalidity)
		return 0;
	snprintf(err_r, errlen, "UIDVALIDITY of %s changed (%u, now %u): "
		 "select it again", box->name, box->f.uidvalidity,
		 f->uidvalidity);
	errno = ESTALE;
	return -1;
}

void msg_free_fields(struct maildir_msg *m)
{
	free(m->fname);
	m->fname = NULL;
}

static int load_one(void *arg, uint32_t uid, const struct mrec *m,
		    const char *fname)
{
	struct loader *l = arg;
	struct maildir_msg *msg;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 256;
		l->msgs = xreallocarray(l->msgs, l->cap, sizeof(*l->msgs));
	}
	msg = &l->msgs[l->n++];
	msg->uid = uid;
	msg->flags = m->flags;
	msg->recent = false;
	msg->needs_crlf = m->needs_crlf != 0;
	msg->no_final_eol = m->no_final_eol != 0;
	msg->unverified = m->unverified;
	msg->keywords = m->keywords;
	msg->size = m->size;
	msg->idate = m->idate;
	msg->modseq = m->modseq;
	msg->fname = xstrdup(fname);
	return 0;
}

static void free_keywords(struct maildir_box *box)
{
	size_t i;

	for (i = 0; i < box->nkeywords; i++)
		free(box->keywords[i]);
	free(box->keywords);
	box->keywords = NULL;
	box->nkeywords = 0;
}

/* Claims \Recent for this session when the box asks for it (or only looks,
 * MAILDIR_BOX_PEEK_RECENT): UIDs >= *recent_from_r are recent.  Always 0. */
static int claim_recent(struct maildir_box *box, struct frec *f,
			uint32_t *recent_from_r)
{
	DB_TXN *txn;

	*recent_from_r = UINT32_MAX;
	if ((box->flags & MAILDIR_BOX_PEEK_RECENT) &&
	    f->first_recent_uid < f->uidnext) {
		*recent_from_r = f->first_recent_uid;
		return 0;
	}
	if ((box->flags & MAILDIR_BOX_RECENT) &&
	    f->first_recent_uid < f->uidnext) {
		*recent_from_r = f->first_recent_uid;
		f->first_recent_uid = f->uidnext;
		if (idx_begin(box->s, &txn) < 0)
			goto unclaimed;
		if (idx_folder_put(box->s, txn, box->dir, f) < 0) {
			idx_abort(txn);
			goto unclaimed;
		}
		if (idx_commit(txn) < 0)
			goto unclaimed;
	}
	return 0;
unclaimed:
	/* Not worth failing the open for (a full disk): the messages are
	 * recent in this session, and stay so for the next one. */
	log_msg("maildir", NULL, "index of %s/%s: \\Recent not recorded: %s",
		box->s->user, box->name, strerror(errno));
	return 0;
}

static int load_keywords(struct maildir_box *box, const struct frec *f)
{
	free_keywords(box);
	return idx_keywords_get(box->s, NULL, f->id, &box->keywords,
				&box->nkeywords);
}

int box_load(struct maildir_box *box, struct frec *f,
			 struct loader *l, uint32_t *recent_from_r)
{
	memset(l, 0, sizeof(*l));
	if (claim_recent(box, f, recent_from_r) < 0 ||
	    load_keywords(box, f) < 0)
		return -1;
	return idx_msg_iter(box->s, f->id, 0, load_one, l);
}

/* ---- a deferred load (MAILDIR_BOX_DEFER_LOAD) ---- */

struct walk {
	uint32_t n;		/* records seen */
	uint32_t found;		/* position (1-based) of the first unseen */
	uint32_t first_uid;	/* UID of the first record seen */
	uint32_t last_uid;
	uint32_t limit;		/* stop after this many (0: no limit) */
	bool find;		/* look for the first unseen */
};

static int count_one(void *arg, uint32_t uid, const struct mrec *m,
		     const char *fname)
{
	struct walk *w = arg;

	(void)uid;
	(void)m;
	(void)fname;
	w->n++;
	return 0;
}

static int find_unseen(void *arg, uint32_t uid, const struct mrec *m,
		       const char *fname)
{
	struct walk *w = arg;

	(void)fname;
	if (w->n++ == 0)
		w->first_uid = uid;
	w->last_uid = uid;
	if (w->find && !(m->flags & MAILDIR_FLAG_SEEN)) {
		w->found = w->n;
		return 1;
	}
	return !w->find || (w->limit != 0 && w->n >= w->limit);
}

/* The counts SELECT reports, without loading the snapshot: \Recent
 * messages (UIDs from recent_from on) and the position of the first
 * unseen one.  The first unseen is usually near the start (or there is
 * none: the folder record counts them), so the walk reads one record at a
 * time at first, then in bulk.  That walk also finds the lowest UID: when
 * it is recent, every message is (the folder record counts them), as in a
 * folder selected for the first time, and no walk over them is needed. */
static int pending_counts(struct maildir_box *box)
{
	struct walk w, r;

	memset(&w, 0, sizeof(w));
	w.find = box->f.unseen != 0;
	w.limit = 256;
	if (idx_msg_walk(box->s, box->f.id, 0, find_unseen, &w) < 0)
		return -1;
	if (w.find && w.found == 0 && w.n == w.limit &&
	    w.last_uid != UINT32_MAX) {
		w.limit = 0;
		if (idx_msg_iter(box->s, box->f.id, w.last_uid + 1,
				 find_unseen, &w) < 0)
			return -1;
	}
	box->pending_first_unseen = w.found;
	memset(&r, 0, sizeof(r));
	if (box->recent_from == UINT32_MAX || w.n == 0)
		r.n = 0;
	else if (w.first_uid >= box->recent_from)
		r.n = box->f.messages;
	else if (idx_msg_walk(box->s, box->f.id, box->recent_from, count_one,
			      &r) < 0)
		return -1;
	box->pending_recent = r.n;
	return 0;
}

bool maildir_box_load_pending(const struct maildir_box *box)
{
	return box->pending_lock >= 0;
}

int maildir_box_load(struct maildir_box *box, char *err_r, size_t errlen)
{
	struct loader l;
	size_t i;
	int ret;

	if (box->pending_lock < 0)
		return 0;
	memset(&l, 0, sizeof(l));
	ret = idx_msg_iter(box->s, box->f.id, 0, load_one, &l);
	lock_index_release_handed(box->pending_lock);
	box->pending_lock = -1;
	if (ret < 0) {
		snprintf(err_r, errlen, "index of %s: read failed", box->name);
		for (i = 0; i < l.n; i++)
			msg_free_fields(&l.msgs[i]);
		free(l.msgs);
		return -1;
	}
	if (l.n != box->f.messages)
		log_msg("maildir", NULL, "index of %s/%s: folder record counts "
			"%u messages, %zu found", box->s->user, box->name,
			box->f.messages, l.n);
	for (i = 0; i < l.n; i++)
		l.msgs[i].recent = l.msgs[i].uid >= box->recent_from;
	box->msgs = l.msgs;
	box->n = l.n;
	return 0;
}

/* tmp/ files only go after 36 hours: a folder's tmp/ is scanned at its
 * open at most once an hour (per store handle), not at every SELECT. */
#define CLEAN_TMP_EVERY 3600

static bool tmp_clean_due(struct maildir_store *s, const char *dir,
			  int64_t now)
{
	uint32_t h = 2166136261u;
	size_t slot;
	bool due;

	for (const char *p = dir; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h |= 1;
	slot = h % (sizeof(s->tmp_cleaned) / sizeof(s->tmp_cleaned[0]));
	pthread_mutex_lock(&stores_lock);
	due = s->tmp_cleaned[slot].hash != h ||
		now - s->tmp_cleaned[slot].at >= CLEAN_TMP_EVERY;
	if (due) {
		s->tmp_cleaned[slot].hash = h;
		s->tmp_cleaned[slot].at = now;
	}
	pthread_mutex_unlock(&stores_lock);
	return due;
}

/* When the folder cannot be synced because the index cannot be written (a
 * full disk), the box is opened as the index has it, read-only: the mail
 * it knows can still be read, and changes are refused with a clear reply
 * instead of failing the open.  Returns the lock fd, or -1 (err_r kept). */
static int box_lock_unsynced(struct maildir_box *box, const char *why)
{
	char err[256];
	int fd = store_lock(box->s, err, sizeof(err));

	if (fd < 0)
		return -1;
	if (idx_folder_get(box->s, NULL, box->dir, &box->f) != 0) {
		lock_index_release(fd);
		return -1;
	}
	log_msg("maildir", NULL, "index of %s/%s cannot be written (%s): "
		"opened read-only", box->s->user, box->name, why);
	box->flags = (box->flags | MAILDIR_BOX_READONLY) & ~MAILDIR_BOX_RECENT;
	box->degraded = true;
	return fd;
}

/* MAILDIR_BOX_LOAD_SMALL: reading this many records takes less than the
 * loop turn a deferred load waits for, during which the index lock, held,
 * keeps every other session of the user waiting. */
#define LOAD_SMALL_MAX 4096

int maildir_box_open(struct maildir_store *store, const char *name,
		     unsigned flags, struct maildir_box **box_r,
		     char *err_r, size_t errlen)
{
	struct maildir_box *box = xcalloc(1, sizeof(*box));
	struct buf dir = BUF_INIT(BUF_UNLIMITED);
	struct loader l;
	uint32_t recent_from;
	size_t i;
	int fd;

	*box_r = NULL;
	buf_init(&box->path, BUF_UNLIMITED);
	box->notify_fd = -1;
	box->dir_fd = -1;
	box->pending_lock = -1;
	box->s = store;
	box->flags = flags;
	if (box_resolve(store, name, &dir, &box->path, err_r, errlen) < 0)
		goto fail;
	box->dir = buf_steal(&dir);
	box->name = xstrdup(name);
	if (tmp_clean_due(store, box->dir, (int64_t)time(NULL)))
		maildir_clean_tmp(box->path.data, (int64_t)time(NULL));
	fd = box_lock_sync(store, box->dir, &box->f, &box->rebuilt, err_r, errlen);
	if (fd < 0 && errno != ENOENT)
		fd = box_lock_unsynced(box, err_r);
	if (fd < 0)
		goto fail;
	if ((flags & MAILDIR_BOX_DEFER_LOAD) &&
	    (!(flags & MAILDIR_BOX_LOAD_SMALL) ||
	     box->f.messages > LOAD_SMALL_MAX)) {
		/* the lock is kept until maildir_box_load() */
		if (claim_recent(box, &box->f, &box->recent_from) < 0 ||
		    load_keywords(box, &box->f) < 0 ||
		    pending_counts(box) < 0) {
			lock_index_release(fd);
			snprintf(err_r, errlen, "index of %s: read failed", name);
			goto fail;
		}
		box->pending_lock = fd;
		lock_index_hand_off();
		*box_r = box;
		return 0;
	}
	if (box_load(box, &box->f, &l, &recent_from) < 0) {
		lock_index_release(fd);
		snprintf(err_r, errlen, "index of %s: read failed", name);
		free(l.msgs);
		goto fail;
	}
	lock_index_release(fd);
	for (i = 0; i < l.n; i++)
		l.msgs[i].recent = l.msgs[i].uid >= recent_from;
	box->msgs = l.msgs;
	box->n = l.n;
	*box_r = box;
	return 0;
fail:
	buf_free(&dir);
	maildir_box_close(&box);
	return -1;
}

void maildir_box_close(struct maildir_box **boxp)
{
	struct maildir_box *box = *boxp;
	size_t i;

	if (box == NULL)
		return;
	if (box->pending_lock >= 0)
		lock_index_release_handed(box->pending_lock);
	box_sizes_flush_locked(box);
	free(box->exact);
	if (box->s != NULL && box->s->env != NULL && idx_enter(box->s) == 0)
		idx_checkpoint(box->s);	/* lets old log files go */
	for (i = 0; i < box->n; i++)
		msg_free_fields(&box->msgs[i]);
	free(box->msgs);
	free_keywords(box);
	if (box->notify_fd >= 0)
		close(box->notify_fd);
	if (box->dir_fd >= 0)
		close(box->dir_fd);
	free(box->name);
	free(box->dir);
	buf_free(&box->path);
	free(box);
	*boxp = NULL;
}

size_t maildir_box_count(const struct maildir_box *box)
{
	return box->n;
}

size_t maildir_box_held(const struct maildir_box *box)
{
	return box->held;
}

uint64_t maildir_box_highestmodseq(const struct maildir_box *box)
{
	return box->f.modseq;
}

const struct maildir_msg *maildir_box_msg(const struct maildir_box *box,
					  size_t i)
{
	return i < box->n ? &box->msgs[i] : NULL;
}

ssize_t maildir_box_find(const struct maildir_box *box, uint32_t uid)
{
	size_t lo = 0, hi = box->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (box->msgs[mid].uid == uid)
			return (ssize_t)mid;
		if (box->msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

void maildir_box_info(const struct maildir_box *box,
		      struct maildir_box_info *info)
{
	size_t i;

	memset(info, 0, sizeof(*info));
	info->uidvalidity = box->f.uidvalidity;
	info->uidnext = box->f.uidnext;
	info->highestmodseq = box->f.modseq;
	info->messages = (uint32_t)box->n;
	info->rebuilt = box->rebuilt;
	info->readonly = box->degraded;
	if (box->pending_lock >= 0) {
		info->messages = box->f.messages;
		info->recent = box->pending_recent;
		info->unseen = box->f.unseen;
		info->first_unseen = box->pending_first_unseen;
		return;
	}
	for (i = 0; i < box->n; i++) {
		if (box->msgs[i].recent)
			info->recent++;
		if (!(box->msgs[i].flags & MAILDIR_FLAG_SEEN)) {
			if (info->unseen++ == 0)
				info->first_unseen = (uint32_t)i + 1;
		}
	}
}

void maildir_box_path(const struct maildir_box *box,
		      const struct maildir_msg *msg, struct buf *out)
{
	buf_clear(out);
	buf_printf(out, "%s/%s", box->path.data, msg->fname);
}

/* The current name in cur/ of a message renamed by someone else. */
static char *find_in_cur(struct maildir_box *box, const char *fname)
{
	struct buf p = BUF_INIT(BUF_UNLIMITED);
	size_t blen;
	const char *base = fname_base(fname, &blen);
	struct dirent *de;
	char *found = NULL;
	DIR *d;

	buf_printf(&p, "%s/cur", box->path.data);
	d = opendir(p.data);
	buf_free(&p);
	if (d == NULL)
		return NULL;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, base, blen) == 0 &&
		    (de->d_name[blen] == ':' || de->d_name[blen] == '\0')) {
			p = (struct buf)BUF_INIT(BUF_UNLIMITED);
			buf_printf(&p, "cur/%s", de->d_name);
			found = buf_steal(&p);
			break;
		}
	closedir(d);
	return found;
}

/* Opens fname ("cur/NAME", relative to the folder) through the folder's
 * directory fd, opened at first use: no path to build and resolve for each
 * message.  No symlink is followed below the user's directory. */
static int open_rel(struct maildir_box *box, const char *fname)
{
	int nofollow = box->dir[0] != '\0' ? O_NOFOLLOW : 0;

	if (box->dir_fd < 0) {
		box->dir_fd = open(box->path.data, O_RDONLY | O_DIRECTORY |
				   O_CLOEXEC | nofollow);
		if (box->dir_fd < 0)
			return -1;
	}
	return fs_open_msg_at(box->dir_fd, fname);
}

int maildir_box_open_msg(struct maildir_box *box, uint32_t uid,
			 char *err_r, size_t errlen)
{
	ssize_t i = maildir_box_find(box, uid);
	struct buf p = BUF_INIT(BUF_UNLIMITED);
	struct maildir_msg *msg;
	char *fname = NULL;
	int fd;

	if (i < 0) {
		snprintf(err_r, errlen, "no message with UID %u", uid);
		errno = ENOENT;
		return -1;
	}
	msg = &box->msgs[i];
	fd = open_rel(box, msg->fname);
	if (fd >= 0)
		return fd;
	if (errno == ENOENT) {
		if (idx_msg_fname(box->s, box->f.id, uid, &fname) != 0)
			fname = find_in_cur(box, msg->fname);
		if (fname != NULL) {
			free(msg->fname);
			msg->fname = fname;
			fd = open_rel(box, msg->fname);
			if (fd < 0 && errno == ENOENT &&
			    (fname = find_in_cur(box, msg->fname)) != NULL) {
				free(msg->fname);
				msg->fname = fname;
				fd = open_rel(box, msg->fname);
			}
		}
	}
	if (fd < 0) {
		int saved = errno;

		maildir_box_path(box, msg, &p);
		snprintf(err_r, errlen, "open(%s): %s", p.data, strerror(saved));
		errno = saved;
	}
	buf_free(&p);
	return fd;
}

void maildir_box_uid_string(const struct maildir_box *box,
			    const struct maildir_msg *msg, char *out)
{
	snprintf(out, 17, "%08x%08x", box->f.uidvalidity, msg->uid);
}

int maildir_box_cache_get(struct maildir_box *box, uint32_t uid,
			  struct buf *out)
{
	return idx_cache_get(box->s, box->f.id, uid, out);
}

int maildir_box_cache_range(struct maildir_box *box, uint32_t from_uid,
			    uint32_t to_uid, maildir_cache_fn *fn, void *arg)
{
	return idx_cache_range(box->s, box->f.id, from_uid, to_uid, fn, arg);
}

int maildir_box_cache_put(struct maildir_box *box, uint32_t uid,
			  const void *data, size_t len)
{
	if (len > MAILDIR_CACHE_MAX || maildir_box_find(box, uid) < 0)
		return -1;
	return idx_cache_put(box->s, box->f.id, uid, data, len);
}

size_t maildir_box_keyword_count(const struct maildir_box *box)
{
	return box->nkeywords;
}

const char *maildir_box_keyword_name(const struct maildir_box *box, size_t i)
{
	return i < box->nkeywords ? box->keywords[i] : NULL;
}

int maildir_box_notify_fd(struct maildir_box *box)
{
	const uint32_t mask = IN_CREATE | IN_DELETE | IN_MOVED_FROM |
		IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;
	struct buf p = BUF_INIT(BUF_UNLIMITED);
	int fd;

	if (box->notify_fd >= 0)
		return box->notify_fd;
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0)
		return -1;
	buf_printf(&p, "%s/new", box->path.data);
	if (inotify_add_watch(fd, p.data, mask) < 0)
		goto fail;
	buf_clear(&p);
	buf_printf(&p, "%s/cur", box->path.data);
	if (inotify_add_watch(fd, p.data, mask) < 0)
		goto fail;
	buf_free(&p);
	box->notify_fd = fd;
	return fd;
fail:
	buf_free(&p);
	close(fd);
	return -1;
}

void maildir_box_notify_drain(struct maildir_box *box)
{
	char events[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	if (box->notify_fd < 0)
		return;
	while (read(box->notify_fd, events, sizeof(events)) > 0)
		;
}

static int clean_dir(const char *path, int64_t now)
{
	struct dirent *de;
	struct stat st;
	int removed = 0, dfd;
	DIR *d;

	d = opendir(path);
	if (d == NULL)
		return 0;
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' &&
		    (de->d_name[1] == '\0' || de->d_name[1] == '.'))
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		/* Maildir: "not accessed for 36 hours" (atime, and mtime
		 * since atime is often not updated). */
		if (now - st.st_atim.tv_sec > 36 * 3600 &&
		    now - st.st_mtim.tv_sec > 36 * 3600 &&
		    unlinkat(dfd, de->d_name, 0) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}

int maildir_clean_tmp(const char *maildir, int64_t now)
{
	struct buf p = BUF_INIT(BUF_UNLIMITED);
	int removed;

	buf_printf(&p, "%s/tmp", maildir);
	removed = clean_dir(p.data, now);
	buf_free(&p);
	return removed;
}
