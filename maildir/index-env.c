/* The Berkeley DB environment of a user's index: opened so that a full file
 * system is an error and never a SIGBUS, rebuilt only when it is lost or
 * corrupt, and closed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/dbenv.h"
#include "common/log.h"
#include "common/xalloc.h"
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

/* The users lock of each user's environment this process has open
 * (dbenv_gate_enter on USER/maillab-env.lock).  fcntl locks belong to the
 * process, and closing any descriptor of the file drops them all, so the
 * handles of one user in this process (an idle store still being closed
 * by one thread while another opens the user anew, mailbox.c) share one
 * descriptor, counted.  An entry made before a fork() belongs to the
 * parent (the child does not have its locks) and is ignored by the
 * child. */
struct env_user {
	struct env_user *next;
	char *path;			/* MAIL_ROOT/USER */
	pid_t pid;
	int fd;
	unsigned int refs;
};

static pthread_mutex_t env_users_lock = PTHREAD_MUTEX_INITIALIZER;
static struct env_user *env_users;

static struct env_user *env_user_find(const char *path)
{
	struct env_user *u;

	for (u = env_users; u != NULL; u = u->next)
		if (u->pid == getpid() && strcmp(u->path, path) == 0)
			return u;
	return NULL;
}

/* Before the open: takes the gate and the users lock into
 * s->env_lock_fd, and sets s->env_others.  1 when the gate is ours (to
 * leave with env_gate_open), 0 when our own other handle of the same
 * environment holds the users lock already (nothing to leave), or -1 with
 * errno.  The caller holds the user's exclusive index lock, so no other
 * thread of this process opens this environment meanwhile. */
static int env_users_enter(struct maildir_store *s)
{
	struct env_user *u;
	int ret = 1;

	pthread_mutex_lock(&env_users_lock);
	if ((u = env_user_find(s->path)) != NULL) {
		/* our own other handle uses it: join, never recover */
		u->refs++;
		s->env_lock_fd = u->fd;
		s->env_others = true;
		ret = 0;
	} else if ((s->env_lock_fd = dbenv_gate_enter(s->path,
						      &s->env_others)) < 0) {
		ret = -1;
	} else {
		u = xcalloc(1, sizeof(*u));
		u->path = xstrdup(s->path);
		u->pid = getpid();
		u->fd = s->env_lock_fd;
		u->refs = 1;
		u->next = env_users;
		env_users = u;
	}
	pthread_mutex_unlock(&env_users_lock);
	return ret;
}

/* After a successful open: lets the next opener in (the users lock is
 * kept until env_users_release). */
static void env_gate_open(struct maildir_store *s)
{
	struct env_user *u;

	pthread_mutex_lock(&env_users_lock);
	u = env_user_find(s->path);
	if (u != NULL && u->fd == s->env_lock_fd) {
		dbenv_gate_leave(&u->fd, true);
		if (u->fd < 0) {
			/* could not unlock, so closed: the users lock is
			 * gone, and with the entry left behind the next
			 * open in this process only joins */
			log_msg("maildir", NULL, "index of %s: %s: unlock: %s",
				s->user, DBENV_LOCK_FILE, strerror(errno));
			s->env_lock_fd = -1;
		}
	}
	pthread_mutex_unlock(&env_users_lock);
}

/* After DB_ENV->close: drops this handle's share of the users lock (the
 * last one closes the descriptor, and the next opener may recover). */
static void env_users_release(struct maildir_store *s)
{
	struct env_user *u, **pp;

	if (s->env_lock_fd < 0)
		return;
	pthread_mutex_lock(&env_users_lock);
	for (pp = &env_users; (u = *pp) != NULL; pp = &u->next)
		if (u->pid == getpid() && u->fd == s->env_lock_fd &&
		    strcmp(u->path, s->path) == 0)
			break;
	if (u != NULL && --u->refs == 0) {
		*pp = u->next;
		dbenv_gate_release(&u->fd);
		free(u->path);
		free(u);
	}
	s->env_lock_fd = -1;
	pthread_mutex_unlock(&env_users_lock);
}

/* failchk right after joining an environment that others use, while the
 * gate still keeps every other opener out (and the user's index lock
 * every other failchk, idx_failchk): releases what a process that died
 * inside Berkeley DB held.  0, or the DB_* code. */
static int env_failchk(struct maildir_store *s)
{
	int ret = s->env->failchk(s->env, 0);

	if (ret != 0)
		log_msg("maildir", NULL, "index of %s: failchk: %s: every "
			"process using it must close it (the next open "
			"recovers)", s->user, db_strerror(ret));
	return ret;
}

/* 0, or the errno value or DB_* code of the failure (err_r says it). */
static int env_open(struct maildir_store *s, const char *home,
		    char *err_r, size_t errlen)
{
	u_int32_t flags = DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK |
		DB_INIT_LOG | DB_INIT_MPOOL | DB_THREAD;
	const char *what = "open";
	bool existed = primary_exists(home), creating = false;
	int ret, gated;

	s->env_syserr = 0;
	if ((gated = env_users_enter(s)) < 0) {
		ret = errno;
		snprintf(err_r, errlen, "%s/%s: %s", s->path, DBENV_LOCK_FILE,
			 strerror(ret));
		return ret;
	}
	/* The gate says who else has the environment open (it replaces
	 * DB_REGISTER, whose recovery ran whenever a process had died,
	 * beside live users, and panicked them: DB_RUNRECOVERY).  Nobody:
	 * DB_RECOVER, which rebuilds whatever a killed process left from
	 * the log.  Someone: join, then failchk (env_failchk), which frees
	 * a dead process's locks and aborts its transactions without
	 * touching the live ones. */
	if (!s->env_others)
		flags |= DB_RECOVER;
	if (fill_regions(home) < 0) {
		ret = errno;
		what = "region files";
		goto fail;
	}
	if ((ret = db_env_create(&s->env, 0)) != 0)
		goto fail;
	env_configure(s);
	if ((ret = s->env->open(s->env, home, flags, 0600)) != 0) {
		/* (joined: another process made it) */
		creating = !existed && !s->env_others;
		goto fail;
	}
	if (s->env_others && (ret = env_failchk(s)) != 0) {
		what = "failchk";
		goto fail;
	}
	if (gated)
		env_gate_open(s);
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
	/* (closing the lock file's descriptor also leaves the gate) */
	env_users_release(s);
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
	s->env_lock_fd = -1;
	s->env_others = false;
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
	if (s->env_others) {
		/* Others use it: never removed under them.  What failed
		 * (failchk: a process died inside the library) needs the
		 * recovery of an open with nobody else in. */
		log_msg("maildir", NULL, "index of %s not opened (%s): in use "
			"by other processes: kept", s->user, err_r);
		errno = r > 0 ? r : EAGAIN;
		goto out;
	}
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
	/* only now: until the close is done this process still uses it */
	env_users_release(s);
}

void idx_close_stale(struct maildir_store *s)
{
	close_mark(s);
	env_discard(s);
	env_users_release(s);
}
