/* The Berkeley DB environment of a user's index: opened so that a full file
 * system is an error and never a SIGBUS, rebuilt only when it is lost or
 * corrupt, and closed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/dbenv.h"
#include "common/log.h"
#include "maildir/fsutil.h"
#include "maildir/index-int.h"

/* Region files are __db.001, __db.002 ... (not __db.register). */
#define REGION_PREFIX "__db.0"

/* Errors that the library reports as text only (a failed write inside
 * DB_ENV->open often comes back as DB_RUNRECOVERY): remembered for
 * idx_open_rebuild_ok. */
static void note_syserr(const DB_ENV *env, const char *msg)
{
	static const int temporary[] = { ENOSPC, EDQUOT, EIO, EFBIG, ENOMEM };
	struct maildir_store *s = env->app_private;

	if (s == NULL)
		return;
	for (size_t i = 0; i < sizeof(temporary) / sizeof(temporary[0]); i++)
		if (strstr(msg, strerror(temporary[i])) != NULL)
			s->env_syserr = temporary[i];
}

static void db_log(const DB_ENV *env, const char *prefix, const char *msg)
{
	(void)prefix;
	note_syserr(env, msg);
	log_msg("maildir", NULL, "index: %s", msg);
}

static void db_msg(const DB_ENV *env, const char *msg)
{
	(void)env;
	log_msg("maildir", NULL, "index: %s", msg);
}

/* Gives [0, len) of fd blocks without changing its size.  A file system
 * that cannot (EOPNOTSUPP) is left as it is. */
static int reserve(int fd, off_t len)
{
	if (fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, len) == 0 ||
	    errno == EOPNOTSUPP)
		return 0;
	return -1;
}

static int reserve_path(const char *path, off_t len)
{
	int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	int ret, saved;

	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	ret = reserve(fd, len);
	saved = errno;
	close(fd);
	errno = saved;
	return ret;
}

/* Before the open: fills the holes of region files an older version left
 * sparse (joining one writes into it through the mapping). */
static int fill_regions(const char *home)
{
	struct buf p = BUF_INIT(BUF_UNLIMITED);
	struct dirent *de;
	struct stat st;
	int ret = 0;
	DIR *d = opendir(home);

	if (d == NULL)
		return -1;
	while (ret == 0 && (de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, REGION_PREFIX,
			    strlen(REGION_PREFIX)) != 0)
			continue;
		buf_clear(&p);
		buf_printf(&p, "%s/%s", home, de->d_name);
		/* (blocks beyond the end, reserved before, can hide holes
		 * from st_blocks: allocated ranges cost nothing) */
		if (stat(p.data, &st) == 0 && S_ISREG(st.st_mode))
			ret = reserve_path(p.data, st.st_size);
	}
	closedir(d);
	buf_free(&p);
	return ret;
}

/* After the open: every region file is mapped at the largest size it may
 * grow to, and Berkeley DB grows one by writing only its last page, then
 * uses the rest through the mapping.  So the whole mapped length gets its
 * blocks now; what the library touches later cannot fault. */
static int reserve_mapped_regions(const char *home)
{
	struct buf prefix = BUF_INIT(BUF_UNLIMITED);
	char line[4096 + 256];
	int ret = 0, found = 0;
	FILE *maps = fopen("/proc/self/maps", "re");

	if (maps == NULL) {
		log_msg("maildir", NULL, "index: /proc/self/maps: %s: region "
			"files not reserved", strerror(errno));
		return 0;
	}
	buf_printf(&prefix, "%s/" REGION_PREFIX, home);
	while (ret == 0 && fgets(line, sizeof(line), maps) != NULL) {
		uintptr_t start, end;
		char *path = strchr(line, '/');
		size_t n;

		if (path == NULL ||
		    sscanf(line, "%" SCNxPTR "-%" SCNxPTR, &start, &end) != 2 ||
		    strncmp(path, prefix.data, prefix.len) != 0)
			continue;
		n = strcspn(path, "\n");
		path[n] = '\0';
		if (end > start && end - start <= (uintptr_t)INT64_MAX) {
			ret = reserve_path(path, (off_t)(end - start));
			found++;
		}
	}
	fclose(maps);
	if (ret == 0 && found == 0)
		log_msg("maildir", NULL, "index: no region of %s mapped: "
			"region files not reserved", home);
	buf_free(&prefix);
	return ret;
}

/* An environment whose creation failed (a full disk) was never made
 * valid, so no other process can have joined it, but its region files
 * would make every later open wait for it to be finished, then fail: they
 * are removed.  The caller holds the user's index lock, so no other
 * process is creating it meanwhile. */
static void remove_unfinished_env(const char *home)
{
	struct buf p = BUF_INIT(BUF_UNLIMITED);
	struct dirent *de;
	DIR *d = opendir(home);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, REGION_PREFIX,
			    strlen(REGION_PREFIX)) != 0)
			continue;
		buf_clear(&p);
		buf_printf(&p, "%s/%s", home, de->d_name);
		if (unlink(p.data) == 0)
			log_msg("maildir", NULL, "index: removed unfinished %s",
				p.data);
	}
	closedir(d);
	buf_free(&p);
}

static bool primary_exists(const char *home)
{
	struct buf p = BUF_INIT(BUF_UNLIMITED);
	bool exists;

	buf_printf(&p, "%s/" REGION_PREFIX "01", home);
	exists = access(p.data, F_OK) == 0;
	buf_free(&p);
	return exists;
}

/* Closes what a failed open left: nothing was written, so no checkpoint. */
static void env_discard(struct maildir_store *s)
{
	if (s->db != NULL)
		s->db->close(s->db, DB_NOSYNC);
	s->db = NULL;
	if (s->env != NULL)
		s->env->close(s->env, 0);
	s->env = NULL;
}

static void env_configure(struct maildir_store *s)
{
	DB_ENV *env = s->env;

	env->app_private = s;
	env->set_lk_detect(env, DB_LOCK_DEFAULT);
	env->set_errcall(env, db_log);
	env->set_msgcall(env, db_msg);
	/* failchk (idx_failchk) needs the thread table and the callback. */
	env->set_thread_count(env, 256);
	env->set_isalive(env, dbenv_is_alive);
	env->set_cachesize(env, 0, 16 * 1024 * 1024, 1);
	/* The lock region is allocated up front (its size is per user on
	 * disk); big changes commit every IDX_BATCH messages instead. */
	env->set_lk_max_locks(env, 10000);
	env->set_lk_max_objects(env, 10000);
	env->set_lk_max_lockers(env, 1000);
	env->set_lg_bsize(env, 256 * 1024);
	env->set_lg_max(env, 4 * 1024 * 1024);
	env->log_set_config(env, DB_LOG_AUTO_REMOVE, 1);
	/* A region file is written out in full when it is created, and a log
	 * file when it is begun: a full disk fails that write (an error), not
	 * a later store through the mapping (SIGBUS), and the changes that
	 * free space (expunge) still have room in the log. */
	env->set_flags(env, DB_REGION_INIT, 1);
	env->log_set_config(env, DB_LOG_ZERO, 1);
}

/* 0, or the errno value or DB_* code of the failure (err_r says it). */
static int env_open(struct maildir_store *s, const char *home,
		    char *err_r, size_t errlen)
{
	const u_int32_t flags = DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK |
		DB_INIT_LOG | DB_INIT_MPOOL | DB_THREAD | DB_RECOVER |
		DB_REGISTER;
	const char *what = "open";
	bool existed = primary_exists(home), creating = false;
	int ret;

	s->env_syserr = 0;
	if (fill_regions(home) < 0) {
		ret = errno;
		what = "region files";
		goto fail;
	}
	if ((ret = db_env_create(&s->env, 0)) != 0)
		goto fail;
	env_configure(s);
	if ((ret = s->env->open(s->env, home, flags, 0600)) != 0) {
		creating = !existed;
		goto fail;
	}
	if (reserve_mapped_regions(home) < 0) {
		ret = errno;
		what = "reserving region files";
		goto fail;
	}
	if ((ret = db_create(&s->db, s->env, 0)) != 0)
		goto fail;
	/* Big pages: a folder is read as one long scan. */
	s->db->set_pagesize(s->db, 16 * 1024);
	ret = s->db->open(s->db, NULL, "index.db", NULL, DB_BTREE,
			  DB_CREATE | DB_AUTO_COMMIT | DB_THREAD, 0600);
	if (ret != 0)
		goto fail;
	return 0;
fail:
	snprintf(err_r, errlen, "%s: %s: %s", home, what, db_strerror(ret));
	env_discard(s);
	if (creating)
		remove_unfinished_env(home);
	return ret;
}

bool idx_open_rebuild_ok(int ret, int syserr, uint64_t free_bytes)
{
	switch (ret) {
	case DB_RUNRECOVERY:	/* recovery itself failed */
	case DB_VERIFY_BAD:
	case DB_PAGE_NOTFOUND:
	case DB_VERSION_MISMATCH:	/* regions of another library */
	case DB_OLD_VERSION:
	case EINVAL:		/* not a database, bad region */
		break;
	default:
		return false;	/* ENOSPC, EIO, EAGAIN, lock timeouts ... */
	}
	return syserr == 0 && free_bytes >= IDX_REBUILD_ROOM;
}

static uint64_t free_bytes(const char *path)
{
	struct statvfs st;

	if (statvfs(path, &st) < 0)
		return 0;
	return (uint64_t)st.f_bavail * st.f_frsize;
}

int idx_open(struct maildir_store *s, char *err_r, size_t errlen)
{
	struct buf home = BUF_INIT(BUF_UNLIMITED);
	uint64_t room;
	int ret = -1, r;

	s->mark_fd = -1;
	buf_printf(&home, "%s/%s", s->path, INDEX_DIR);
	if (fs_mkdir(home.data) < 0) {
		snprintf(err_r, errlen, "mkdir(%s): %s", home.data,
			 strerror(errno));
		goto out;
	}
	r = env_open(s, home.data, err_r, errlen);
	if (r == 0) {
		ret = 0;
		goto out;
	}
	room = free_bytes(home.data);
	if (!idx_open_rebuild_ok(r, s->env_syserr, room)) {
		/* Trouble that passes (a full disk, I/O, locks): the index
		 * and its UIDVALIDITYs, UIDs and keywords are kept. */
		log_msg("maildir", NULL, "index of %s not opened (%s%s%s), "
			"%" PRIu64 " KiB free: kept, not rebuilt", s->user,
			err_r, s->env_syserr != 0 ? "; " : "",
			s->env_syserr != 0 ? strerror(s->env_syserr) : "",
			room / 1024);
		errno = s->env_syserr != 0 ? s->env_syserr :
			r > 0 ? r : EAGAIN;
		goto out;
	}
	/* The index is a cache: a corrupt one is rebuilt from the files
	 * (every folder gets a new UIDVALIDITY when next opened). */
	log_msg("maildir", NULL, "index of %s unusable (%s): rebuilding",
		s->user, err_r);
	if (fs_rmtree(home.data) < 0 || fs_mkdir(home.data) < 0) {
		snprintf(err_r, errlen, "removing %s: %s", home.data,
			 strerror(errno));
		goto out;
	}
	ret = env_open(s, home.data, err_r, errlen) == 0 ? 0 : -1;
out:
	if (ret == 0) {
		buf_puts(&home, "/index.lock");
		s->mark_fd = open(home.data, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	}
	buf_free(&home);
	return ret;
}

static void close_mark(struct maildir_store *s)
{
	if (s->mark_fd >= 0)
		close(s->mark_fd);
	s->mark_fd = -1;
}

void idx_close(struct maildir_store *s)
{
	close_mark(s);
	if (s->db != NULL)
		s->db->close(s->db, 0);
	s->db = NULL;
	if (s->env != NULL) {
		s->env->txn_checkpoint(s->env, 0, 0, 0);
		s->env->close(s->env, 0);
	}
	s->env = NULL;
}

void idx_close_stale(struct maildir_store *s)
{
	close_mark(s);
	env_discard(s);
}
