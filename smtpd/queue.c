/* The queue's files under DIR/queue/ (smtpd/queue.h says which and why in
 * that order).  Blocking: worker threads and the CLI only. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "maildir/deliver.h"
#include "maildir/dirsync.h"
#include "maildir/fsutil.h"
#include "maildir/fsync-ahead.h"
#include "smtpd/queue.h"

/* An envelope file larger than this is not one of ours. */
#define ENV_MAX_FILE (64 * 1024 * 1024)

bool queue_id_valid(const char *id)
{
	size_t i;

	for (i = 0; id[i] != '\0'; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'A' && id[i] <= 'F')))
			return false;
	return i == QUEUE_ID_LEN;
}

char *queue_dir(const char *instance_dir)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);

	buf_printf(&b, "%s/queue", instance_dir);
	return buf_steal(&b);
}

void queue_path(struct buf *out, const char *qdir, const char *id,
		const char *suffix)
{
	buf_clear(out);
	buf_printf(out, "%s/%s.%s", qdir, id, suffix);
}

/* Seconds since the epoch, then 32 random bits: ids sort by age. */
static void new_id(char id[QUEUE_ID_LEN + 1])
{
	uint32_t r = 0;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint32_t)rand();
	snprintf(id, QUEUE_ID_LEN + 1, "%08X%08X",
		 (unsigned int)((uint64_t)time(NULL) & 0xffffffffu), (unsigned int)r);
}

static int make_dirs(const char *qdir, char *err_r, size_t errlen)
{
	struct buf tmp = BUF_INIT(BUF_UNLIMITED);
	int ret;

	buf_printf(&tmp, "%s/tmp", qdir);
	ret = fs_mkdir(qdir) < 0 || fs_mkdir(tmp.data) < 0 ? -1 : 0;
	if (ret < 0)
		snprintf(err_r, errlen, "mkdir(%s): %s", tmp.data, strerror(errno));
	buf_free(&tmp);
	return ret;
}

/* Writes ID.env through tmp/ (write, fsync, rename); durable once the
 * queue directory is fsync'd.  On failure ID.env is as it was. */
static int env_replace(const char *qdir, const char *id, const char *text,
		       size_t len, char *err_r, size_t errlen)
{
	struct buf tmp = BUF_INIT(BUF_UNLIMITED), path = BUF_INIT(BUF_UNLIMITED);
	int fd, ret = -1;

	buf_printf(&tmp, "%s/tmp/%s.env", qdir, id);
	queue_path(&path, qdir, id, "env");
	fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || fs_write_all(fd, text, len) < 0 || fsync(fd) < 0 ||
	    rename(tmp.data, path.data) < 0) {
		snprintf(err_r, errlen, "writing %s: %s", path.data, strerror(errno));
		unlink(tmp.data);
	} else {
		ret = 0;
	}
	if (fd >= 0)
		close(fd);
	buf_free(&tmp);
	buf_free(&path);
	return ret;
}

/* The queue directory's fsync after a change to message id's names. */
static int sync_qdir(const char *qdir, const char *id, char *err_r,
		     size_t errlen)
{
	if (fs_fsync_dir_shared(qdir) == 0)
		return 0;
	snprintf(err_r, errlen, "fsync(%s) for %s: %s", qdir, id, strerror(errno));
	return -1;
}

/* A new envelope written under tmp/ whose fsync runs on a helper thread
 * (maildir/fsync-ahead.h) while the session's thread fsyncs the message:
 * one fsync's wait per queued message instead of two. */
struct env_draft {
	struct buf tmp;		/* QDIR/tmp/ID.env */
	int fd;
	bool syncing;		/* fsync_ahead under way */
	struct fsync_ahead sync;
};

/* -1 with errno; EEXIST when the id is taken (a draft of that name). */
static int draft_start(struct env_draft *dr, const char *qdir, const char *id,
		       const struct buf *text)
{
	int flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC;
	char err[64];

	buf_init(&dr->tmp, BUF_UNLIMITED);
	buf_printf(&dr->tmp, "%s/tmp/%s.env", qdir, id);
	dr->syncing = false;
	dr->fd = open(dr->tmp.data, flags, 0600);
	/* the queue directories are made when missing, not checked each time */
	if (dr->fd < 0 && errno == ENOENT && make_dirs(qdir, err, sizeof(err)) == 0)
		dr->fd = open(dr->tmp.data, flags, 0600);
	if (dr->fd < 0 || fs_write_all(dr->fd, text->data, text->len) < 0)
		return -1;
	fsync_ahead_start(&dr->sync, dr->fd);
	dr->syncing = true;
	return 0;
}

/* Waits for the draft's data to be durable: 0, or -1 with errno. */
static int draft_sync(struct env_draft *dr)
{
	if (!dr->syncing)
		return fsync(dr->fd);
	dr->syncing = false;
	return fsync_ahead_wait(&dr->sync);
}

/* Closes the draft; unlinks it unless it was renamed (keep) or it is
 * another's (made: false, the name was taken). */
static void draft_end(struct env_draft *dr, bool keep, bool made)
{
	if (dr->syncing)
		draft_sync(dr);
	if (dr->fd >= 0)
		close(dr->fd);
	if (!keep && made)
		unlink(dr->tmp.data);
	buf_free(&dr->tmp);
}

int queue_store(const char *qdir, struct maildir_delivery *d, bool move,
		struct queue_env *e, char *err_r, size_t errlen)
{
	struct buf path = BUF_INIT(BUF_UNLIMITED), text = BUF_INIT(BUF_UNLIMITED);
	struct env_draft dr;
	bool named = false;
	int tries, saved, ret = -1;

	e->size = maildir_delivery_size(d);
	queue_env_format(e, &text);	/* the id is not part of it */
	/* An id in use is found by the draft's O_EXCL or by the message's
	 * name (renameat2 RENAME_NOREPLACE, or link): a queued message has
	 * its .msg from before its .env until after it (smtpd/queue.h). */
	for (tries = 0; tries < 10; tries++) {
		new_id(e->id);
		if (draft_start(&dr, qdir, e->id, &text) < 0) {
			bool taken = errno == EEXIST && dr.fd < 0;

			snprintf(err_r, errlen, "writing %s: %s", dr.tmp.data,
				 strerror(errno));
			draft_end(&dr, false, !taken);
			if (taken)
				continue;
			goto out;
		}
		/* the message's fsync, while the envelope's runs */
		queue_path(&path, qdir, e->id, "msg");
		if (maildir_delivery_link(d, path.data, move, err_r, errlen) == 0)
			break;
		saved = errno;
		draft_end(&dr, false, true);
		if (saved != EEXIST)
			goto out;
	}
	if (tries == 10) {
		snprintf(err_r, errlen, "no free queue id in %s", qdir);
		goto out;
	}
	/* ID.msg is named before ID.env; one directory fsync, shared with
	 * the other sessions queueing now, makes both names durable. */
	queue_path(&path, qdir, e->id, "env");
	if (draft_sync(&dr) < 0 || rename(dr.tmp.data, path.data) < 0)
		snprintf(err_r, errlen, "writing %s: %s", path.data, strerror(errno));
	else
		named = true;
	draft_end(&dr, named, true);
	if (named && sync_qdir(qdir, e->id, err_r, errlen) == 0)
		ret = 0;
	else if (named)
		unlink(path.data);	/* never acknowledged: .env first */
	if (ret < 0) {
		queue_path(&path, qdir, e->id, "msg");
		unlink(path.data);
	}
out:
	buf_free(&path);
	buf_free(&text);
	return ret;
}

void queue_bounce_id(const char *orig_id, size_t first_failed,
		     char id_r[QUEUE_ID_LEN + 1])
{
	queue_report_id(orig_id, 'f', first_failed, id_r);
}

void queue_report_id(const char *orig_id, char kind, size_t first,
		     char id_r[QUEUE_ID_LEN + 1])
{
	struct queue_report_ref ref = { .kind = kind, .first = (uint32_t)first };

	snprintf(ref.orig, sizeof(ref.orig), "%s", orig_id);
	queue_report_candidate(&ref, 0, id_r);
}

static uint32_t fnv1a(uint32_t h, const char *s)
{
	for (const char *p = s; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h;
}

void queue_report_candidate(const struct queue_report_ref *ref,
			    unsigned int probe, char id_r[QUEUE_ID_LEN + 1])
{
	/* FNV-1a over the original's id, the kind and the recipient index
	 * ("/N" for failures, as the first queue_bounce_id made them), then
	 * "#P" for the candidates after the first */
	uint32_t h = 2166136261u;
	char idx[48];

	if (ref->kind == 'f')
		snprintf(idx, sizeof(idx), "/%" PRIu32, ref->first);
	else
		snprintf(idx, sizeof(idx), "/%c%" PRIu32, ref->kind, ref->first);
	if (probe > 0)
		snprintf(idx + strlen(idx), sizeof(idx) - strlen(idx), "#%u", probe);
	h = fnv1a(fnv1a(h, ref->orig), idx);
	/* the original's time part first: the report sorts beside it */
	snprintf(id_r, QUEUE_ID_LEN + 1, "%.8s%08X", ref->orig, (unsigned int)h);
	if (strcmp(id_r, ref->orig) == 0)
		snprintf(id_r, QUEUE_ID_LEN + 1, "%.8s%08X", ref->orig,
			 (unsigned int)(h ^ 1u));
}

/* Whether envelope e (found at candidate `probe`) is report ref to `to`. */
static bool is_report(const struct queue_env *e,
		      const struct queue_report_ref *ref, const char *to,
		      unsigned int probe)
{
	if (e->sender[0] != '\0' || e->n_rcpts != 1 ||
	    strcmp(e->rcpts[0].addr, to) != 0)
		return false;
	if (e->report.kind == '\0')
		return probe == 0;	/* queued before reports named theirs */
	return e->report.kind == ref->kind && e->report.first == ref->first &&
		strcmp(e->report.orig, ref->orig) == 0;
}

int queue_report_find(const char *qdir, const struct queue_report_ref *ref,
		      const char *to, char id_r[QUEUE_ID_LEN + 1],
		      char *err_r, size_t errlen)
{
	struct buf path = BUF_INIT(BUF_UNLIMITED);
	char id[QUEUE_ID_LEN + 1];
	int ret = -1, found = 0;

	/* Every candidate, not only those before the first free one: a
	 * message that had a candidate earlier may have gone since. */
	for (unsigned int probe = 0; probe < QUEUE_REPORT_PROBES && found == 0;
	     probe++) {
		struct queue_env e;
		int r;

		queue_report_candidate(ref, probe, id);
		r = queue_env_load(qdir, id, &e, err_r, errlen);
		if (r < 0) {
			buf_free(&path);
			return -1;
		}
		if (r == 0 && is_report(&e, ref, to, probe)) {
			memcpy(id_r, id, sizeof(id));
			found = 1;
		}
		queue_env_free(&e);
		if (r == 0 || ret == 0)
			continue;
		/* no .env: free unless a message is being queued under it
		 * (its .msg is named first) */
		queue_path(&path, qdir, id, "msg");
		if (access(path.data, F_OK) < 0 && errno == ENOENT) {
			memcpy(id_r, id, sizeof(id));
			ret = 0;
		}
	}
	buf_free(&path);
	if (found)
		return 1;
	if (ret < 0)
		snprintf(err_r, errlen, "every queue id of the report on %s is taken",
			 ref->orig);
	return ret;
}

bool queue_exists(const char *qdir, const char *id)
{
	struct buf path = BUF_INIT(BUF_UNLIMITED);
	bool there;

	queue_path(&path, qdir, id, "env");
	there = access(path.data, F_OK) == 0;
	buf_free(&path);
	return there;
}

/* Writes text as QDIR/ID.msg (through tmp/ with O_EXCL, fsync, link, the
 * directory's fsync).  Only what this call created is removed on failure:
 * a taken id (errno EEXIST) is another message's, never touched. */
static int msg_create(const char *qdir, const char *id, const char *text,
		      size_t len, char *err_r, size_t errlen)
{
	struct buf path = BUF_INIT(BUF_UNLIMITED), tmp = BUF_INIT(BUF_UNLIMITED);
	bool linked = false;
	int fd, ret = -1, saved;

	queue_path(&path, qdir, id, "msg");
	buf_printf(&tmp, "%s/tmp/%s.msg", qdir, id);
	fd = open(tmp.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0 && fs_write_all(fd, text, len) == 0 && fsync(fd) == 0 &&
	    (linked = link(tmp.data, path.data) == 0) && fs_fsync_dir_shared(qdir) == 0)
		ret = 0;
	saved = errno;
	if (ret < 0) {
		snprintf(err_r, errlen, "writing %s: %s", path.data, strerror(saved));
		if (linked)
			unlink(path.data);
	}
	if (fd >= 0) {
		close(fd);
		unlink(tmp.data);
	}
	buf_free(&path);
	buf_free(&tmp);
	errno = saved;
	return ret;
}

int queue_store_buf(const char *qdir, const char *text, size_t len,
		    struct queue_env *e, char *err_r, size_t errlen)
{
	struct buf path = BUF_INIT(BUF_UNLIMITED);
	bool pick = e->id[0] == '\0';
	int tries, ret = -1;

	if (make_dirs(qdir, err_r, errlen) < 0)
		return -1;
	e->size = len;
	if (pick && e->report.kind != '\0') {
		if (e->n_rcpts != 1) {
			snprintf(err_r, errlen, "a report has one recipient");
			return -1;
		}
		ret = queue_report_find(qdir, &e->report, e->rcpts[0].addr, e->id,
					err_r, errlen);
		if (ret != 0)
			return ret;	/* 1: queued before a crash */
		pick = false;
		ret = -1;
	} else if (!pick && queue_exists(qdir, e->id)) {
		return 1;	/* queued before a crash (smtpd/queue.h) */
	}
	for (tries = 0; tries < 10 && ret < 0; tries++) {
		if (pick)
			new_id(e->id);
		ret = msg_create(qdir, e->id, text, len, err_r, errlen);
		if (ret < 0 && (errno != EEXIST || !pick))
			return -1;
	}
	if (ret < 0) {
		snprintf(err_r, errlen, "no free queue id in %s", qdir);
		return -1;
	}
	ret = queue_env_save(qdir, e, err_r, errlen);
	if (ret != 0) {
		/* ours: the .msg made above, which no .env names */
		queue_path(&path, qdir, e->id, "msg");
		unlink(path.data);
		ret = -1;
	}
	buf_free(&path);
	return ret;
}

int queue_env_save(const char *qdir, const struct queue_env *e,
		   char *err_r, size_t errlen)
{
	struct buf text = BUF_INIT(BUF_UNLIMITED);
	int ret;

	queue_env_format(e, &text);
	ret = queue_env_write(qdir, e->id, text.data, text.len, err_r, errlen);
	buf_free(&text);
	return ret;
}

int queue_env_write(const char *qdir, const char *id, const char *text,
		    size_t len, char *err_r, size_t errlen)
{
	struct buf path = BUF_INIT(BUF_UNLIMITED);
	int ret;

	queue_path(&path, qdir, id, "msg");
	if (access(path.data, F_OK) < 0 && errno == ENOENT)
		ret = 1;	/* deleted meanwhile: do not bring it back */
	else
		ret = env_replace(qdir, id, text, len, err_r, errlen);
	if (ret == 0)
		ret = sync_qdir(qdir, id, err_r, errlen);
	buf_free(&path);
	return ret;
}

/* Reads a whole file into out: 0, 1 when it does not exist, -1. */
static int read_file(const char *path, struct buf *out, char *err_r,
		     size_t errlen)
{
	char chunk[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		snprintf(err_r, errlen, "open(%s): %s", path, strerror(errno));
		return -1;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || buf_append(out, chunk, (size_t)n) < 0) {
			snprintf(err_r, errlen, "read(%s): %s", path,
				 n < 0 ? strerror(errno) : "file too large");
			close(fd);
			return -1;
		}
	}
	close(fd);
	return 0;
}

int queue_env_load(const char *qdir, const char *id, struct queue_env *e,
		   char *err_r, size_t errlen)
{
	struct buf path = BUF_INIT(BUF_UNLIMITED), text = BUF_INIT(ENV_MAX_FILE);
	char why[128];
	int ret;

	memset(e, 0, sizeof(*e));
	queue_path(&path, qdir, id, "env");
	ret = read_file(path.data, &text, err_r, errlen);
	if (ret == 0 && queue_env_parse(text.data != NULL ? text.data : "",
					text.len, e, why, sizeof(why)) < 0) {
		snprintf(err_r, errlen, "%s: %s", path.data, why);
		ret = -1;
	}
	if (ret == 0)
		snprintf(e->id, sizeof(e->id), "%s", id);
	buf_free(&path);
	buf_free(&text);
	return ret;
}

int queue_msg_read(const char *qdir, const char *id, struct buf *out,
		   char *err_r, size_t errlen)
{
	struct buf path = BUF_INIT(BUF_UNLIMITED);
	int ret;

	queue_path(&path, qdir, id, "msg");
	ret = read_file(path.data, out, err_r, errlen);
	if (ret == 1) {
		snprintf(err_r, errlen, "%s: no such file", path.data);
		ret = -1;
	}
	buf_free(&path);
	return ret;
}

int queue_unlink(const char *qdir, const char *id, char *err_r, size_t errlen)
{
	struct buf path = BUF_INIT(BUF_UNLIMITED);
	int ret = 0;

	queue_path(&path, qdir, id, "env");
	if (unlink(path.data) < 0) {
		if (errno != ENOENT)
			goto fail;
		ret = 1;
	}
	queue_path(&path, qdir, id, "msg");
	if (unlink(path.data) < 0 && errno != ENOENT)
		goto fail;
	buf_free(&path);
	return ret;
fail:
	snprintf(err_r, errlen, "removing %s: %s", path.data, strerror(errno));
	buf_free(&path);
	return -1;
}

int queue_sync_removals(const char *qdir, char *err_r, size_t errlen)
{
	if (fs_fsync_dir_shared(qdir) == 0)
		return 0;
	snprintf(err_r, errlen, "fsync(%s) after removing: %s", qdir,
		 strerror(errno));
	return -1;
}

int queue_remove(const char *qdir, const char *id, char *err_r, size_t errlen)
{
	int ret = queue_unlink(qdir, id, err_r, errlen);

	if (ret >= 0 && queue_sync_removals(qdir, err_r, errlen) < 0)
		ret = -1;
	return ret;
}

/* The id of a directory entry "ID.SUFFIX", or false. */
static bool entry_id(const char *name, const char *suffix,
		     char id[QUEUE_ID_LEN + 1])
{
	size_t len = strlen(name);

	if (len != QUEUE_ID_LEN + 1 + strlen(suffix) || name[QUEUE_ID_LEN] != '.' ||
	    strcmp(name + QUEUE_ID_LEN + 1, suffix) != 0)
		return false;
	memcpy(id, name, QUEUE_ID_LEN);
	id[QUEUE_ID_LEN] = '\0';
	return queue_id_valid(id);
}

int queue_scan(const char *qdir, void (*fn)(const char *id, void *arg),
	       void *arg, char *err_r, size_t errlen)
{
	char id[QUEUE_ID_LEN + 1];
	struct dirent *de;
	DIR *dir;

	if (make_dirs(qdir, err_r, errlen) < 0)
		return -1;
	dir = opendir(qdir);
	if (dir == NULL) {
		snprintf(err_r, errlen, "opendir(%s): %s", qdir, strerror(errno));
		return -1;
	}
	while ((de = readdir(dir)) != NULL)
		if (entry_id(de->d_name, "env", id))
			fn(id, arg);
	closedir(dir);
	return 0;
}

/* Unlinks every file in dir (tmp/); returns how many. */
static int clear_dir(const char *dir)
{
	struct buf path = BUF_INIT(BUF_UNLIMITED);
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		buf_clear(&path);
		buf_printf(&path, "%s/%s", dir, de->d_name);
		if (unlink(path.data) == 0)
			n++;
	}
	closedir(d);
	buf_free(&path);
	return n;
}

int queue_recover(const char *qdir, char *err_r, size_t errlen)
{
	struct buf path = BUF_INIT(BUF_UNLIMITED);
	char id[QUEUE_ID_LEN + 1];
	struct dirent *de;
	DIR *dir;
	int n;

	if (make_dirs(qdir, err_r, errlen) < 0)
		return -1;
	buf_printf(&path, "%s/tmp", qdir);
	n = clear_dir(path.data);
	dir = opendir(qdir);
	if (dir == NULL) {
		snprintf(err_r, errlen, "opendir(%s): %s", qdir, strerror(errno));
		buf_free(&path);
		return -1;
	}
	while ((de = readdir(dir)) != NULL) {
		bool copy = strstr(de->d_name, ".msg.tmp") != NULL;
		const char *other = "env";

		if (!copy && !entry_id(de->d_name, "msg", id)) {
			if (!entry_id(de->d_name, "env", id))
				continue;
			other = "msg";
		}
		if (!copy) {
			/* the file without its partner (smtpd/queue.h) */
			queue_path(&path, qdir, id, other);
			if (access(path.data, F_OK) == 0)
				continue;
		}
		buf_clear(&path);
		buf_printf(&path, "%s/%s", qdir, de->d_name);
		if (unlink(path.data) == 0)
			n++;
	}
	closedir(dir);
	buf_free(&path);
	if (n > 0)
		fs_fsync_dir(qdir);
	return n;
}
