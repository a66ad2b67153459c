#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/random.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/dbenv.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "maildir/fsutil.h"
#include "maildir/index-int.h"
#include "maildir/lock.h"

#define BULK_SIZE (4 * 1024 * 1024)

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		(uint32_t)p[2] << 8 | p[3];
}

int idx_rollover(struct maildir_store *s, DB_TXN **txn, const char *dir,
		 const struct frec *f, unsigned *count)
{
	if (++*count < IDX_BATCH)
		return 0;
	*count = 0;
	if (idx_folder_put(s, *txn, dir, f) < 0) {
		idx_abort(*txn);
		*txn = NULL;
		return -1;
	}
	if (idx_commit(*txn) < 0) {
		*txn = NULL;
		return -1;
	}
	*txn = NULL;
	return idx_begin(s, txn);
}

/* The owner mark in index.lock (index-int.h, "Crash checks"). */
struct owner_mark {
	uint64_t pid;
	uint64_t token;		/* tells this process from an older one that
				 * had the same pid */
};

static pthread_once_t token_once = PTHREAD_ONCE_INIT;
static uint64_t process_token;

static void make_token(void)
{
	if (getrandom(&process_token, sizeof(process_token), 0) !=
	    (ssize_t)sizeof(process_token))
		process_token = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
}

static struct owner_mark my_mark(void)
{
	pthread_once(&token_once, make_token);
	return (struct owner_mark){ (uint64_t)getpid(), process_token };
}

static bool mark_is_mine(const struct maildir_store *s)
{
	struct owner_mark mark, mine = my_mark();

	return s->mark_fd >= 0 &&
		pread(s->mark_fd, &mark, sizeof(mark), 0) == (ssize_t)sizeof(mark) &&
		mark.pid == mine.pid && mark.token == mine.token;
}

static void mark_mine(const struct maildir_store *s)
{
	struct owner_mark mine = my_mark();

	/* not written: the next lock runs failchk again, which is safe */
	if (s->mark_fd >= 0 &&
	    pwrite(s->mark_fd, &mine, sizeof(mine), 0) != (ssize_t)sizeof(mine))
		log_msg("maildir", NULL, "index of %s: owner mark: %s", s->user,
			strerror(errno));
}

int idx_failchk(struct maildir_store *s, char *err_r, size_t errlen)
{
	int ret;

	if (mark_is_mine(s))
		return 0;
	if (s->env == NULL) {
		/* The reopen after a recovery failed (a full disk): again. */
		if (idx_open(s, err_r, errlen) < 0)
			return -1;
		mark_mine(s);
		return 0;
	}
	ret = s->env->failchk(s->env, 0);
	if (ret != 0) {
		/* A process died inside the DB library: only recovery
		 * helps.  The caller holds the exclusive index lock, so no
		 * other session of this user is inside the DB now; the
		 * reopen recovers only when no other process has the
		 * environment open (index-env.c), else it fails, and the
		 * next lock here tries again (s->env NULL). */
		log_msg("maildir", NULL, "index of %s: %s: running recovery",
			s->user, db_strerror(ret));
		idx_close(s);
		if (idx_open(s, err_r, errlen) < 0)
			return -1;
	}
	mark_mine(s);
	return 0;
}

int idx_enter(struct maildir_store *s)
{
	char err[256];
	int fd;

	if (mark_is_mine(s))
		return 0;
	fd = store_lock(s, err, sizeof(err));
	if (fd < 0) {
		log_msg("maildir", NULL, "%s", err);
		return -1;
	}
	lock_index_release(fd);
	return 0;
}

void idx_checkpoint(struct maildir_store *s)
{
	s->env->txn_checkpoint(s->env, 1024, 0, 0);
}

/* -1 with errno: the library's system error (ENOSPC ...) or EIO. */
static int db_fail(int ret)
{
	errno = ret > 0 ? ret : EIO;
	return -1;
}

/* The store whose log this thread flushes when it releases its index
 * lock (lock.c). */
static __thread struct maildir_store *flush_store;

void idx_note_locked(struct maildir_store *s)
{
	flush_store = s;
}

int idx_flush_pending(void)
{
	struct maildir_store *s = flush_store;
	int ret;

	flush_store = NULL;
	if (s == NULL || s->env == NULL)
		return 0;
	/* everything committed up to now, by any session: a change another
	 * session made is not reported from here before it is durable */
	ret = s->env->log_flush(s->env, NULL);
	if (ret == 0)
		return 0;
	log_msg("maildir", NULL, "index of %s: log flush: %s", s->user,
		db_strerror(ret));
	return db_fail(ret);
}

int idx_begin(struct maildir_store *s, DB_TXN **txn_r)
{
	int ret = s->env->txn_begin(s->env, NULL, txn_r, 0);

	if (lock_index_held())
		flush_store = s;
	return ret == 0 ? 0 : db_fail(ret);
}

int idx_begin_bulk(struct maildir_store *s, DB_TXN **txn_r)
{
	int ret = s->env->txn_begin(s->env, NULL, txn_r, DB_TXN_BULK);

	if (lock_index_held())
		flush_store = s;
	return ret == 0 ? 0 : db_fail(ret);
}

int idx_commit(DB_TXN *txn)
{
	/* Under the index lock the fsync waits for its release (lock.c);
	 * the log is still written out now, so that a file system that
	 * refuses it (full, a size limit) fails the commit, not the flush. */
	int ret = txn->commit(txn, lock_index_held() ? DB_TXN_WRITE_NOSYNC : 0);

	return ret == 0 ? 0 : db_fail(ret);
}

int idx_commit_nosync(DB_TXN *txn)
{
	int ret = txn->commit(txn, DB_TXN_NOSYNC);

	return ret == 0 ? 0 : db_fail(ret);
}

void idx_abort(DB_TXN *txn)
{
	if (txn != NULL)
		txn->abort(txn);
}

int idx_begin_unlocked(struct maildir_store *s, DB_TXN **txn_r)
{
	/* DB_TXN_NOWAIT: a lock held by the writer is refused at once
	 * (DB_LOCK_NOTGRANTED) instead of waited for, so this transaction
	 * never waits while holding a lock, and no cycle can pass through
	 * it.  DB_READ_COMMITTED: read locks go as the cursor moves on.
	 * DB_TXN_NOSYNC: it writes only the cache. */
	int ret = s->env->txn_begin(s->env, NULL, txn_r, DB_TXN_NOWAIT |
				    DB_READ_COMMITTED | DB_TXN_NOSYNC);

	return ret == 0 ? 0 : db_fail(ret);
}

static void dbt_in(DBT *d, const void *p, size_t n)
{
	memset(d, 0, sizeof(*d));
	d->data = (void *)p;
	d->size = (u_int32_t)n;
}

static int get_raw(struct maildir_store *s, DB_TXN *txn, const void *k,
		   size_t klen, void **val_r, size_t *vlen_r)
{
	DBT key, val;
	int ret;

	dbt_in(&key, k, klen);
	memset(&val, 0, sizeof(val));
	val.flags = DB_DBT_MALLOC;
	ret = s->db->get(s->db, txn, &key, &val, 0);
	if (ret == DB_NOTFOUND)
		return 1;
	if (ret != 0)
		return -1;
	*val_r = val.data;
	*vlen_r = val.size;
	return 0;
}

static int put_raw(struct maildir_store *s, DB_TXN *txn, const void *k,
		   size_t klen, const void *v, size_t vlen)
{
	DBT key, val;
	int ret;

	dbt_in(&key, k, klen);
	dbt_in(&val, v, vlen);
	ret = s->db->put(s->db, txn, &key, &val, 0);
	return ret == 0 ? 0 : db_fail(ret);
}

static int del_raw(struct maildir_store *s, DB_TXN *txn, const void *k,
		   size_t klen)
{
	DBT key;
	int ret;

	dbt_in(&key, k, klen);
	ret = s->db->del(s->db, txn, &key, 0);
	return ret == 0 || ret == DB_NOTFOUND ? 0 : db_fail(ret);
}

static void folder_key(struct buf *k, const char *dir)
{
	buf_clear(k);
	buf_putc(k, 'F');
	buf_puts(k, dir);
}

int idx_folder_get(struct maildir_store *s, DB_TXN *txn, const char *dir,
		   struct frec *f)
{
	struct buf k = BUF_INIT(BUF_UNLIMITED);
	void *v = NULL;
	size_t vlen = 0;
	int ret;

	folder_key(&k, dir);
	ret = get_raw(s, txn, k.data, k.len, &v, &vlen);
	buf_free(&k);
	if (ret != 0)
		return ret;
	if (vlen == FREC_V1_SIZE) {
		/* version 1: no byte count yet (maildir_usage counts it) */
		memcpy(f, v, FREC_V1_SIZE);
		free(v);
		if (f->version != 1)
			return 1;
		f->version = FREC_VERSION;
		f->bytes = FREC_BYTES_UNKNOWN;
		return 0;
	}
	if (vlen != sizeof(*f)) {
		free(v);
		return 1;	/* unreadable: treated as missing */
	}
	memcpy(f, v, sizeof(*f));
	free(v);
	return f->version == FREC_VERSION ? 0 : 1;
}

void frec_count(struct frec *f, unsigned flags, uint64_t size, int delta)
{
	f->messages += (uint32_t)delta;
	if (!(flags & MAILDIR_FLAG_SEEN))
		f->unseen += (uint32_t)delta;
	if (f->bytes == FREC_BYTES_UNKNOWN)
		return;
	if (delta > 0)
		f->bytes = size <= FREC_BYTES_UNKNOWN - 1 - f->bytes ?
			f->bytes + size : FREC_BYTES_UNKNOWN;
	else
		/* below zero would be a miscount: count again */
		f->bytes = f->bytes >= size ? f->bytes - size :
			FREC_BYTES_UNKNOWN;
}

int idx_folder_put(struct maildir_store *s, DB_TXN *txn, const char *dir,
		   const struct frec *f)
{
	struct buf k = BUF_INIT(BUF_UNLIMITED);
	int ret;

	folder_key(&k, dir);
	ret = put_raw(s, txn, k.data, k.len, f, sizeof(*f));
	buf_free(&k);
	return ret;
}

int idx_folder_del(struct maildir_store *s, DB_TXN *txn, const char *dir)
{
	struct buf k = BUF_INIT(BUF_UNLIMITED);
	int ret;

	folder_key(&k, dir);
	ret = del_raw(s, txn, k.data, k.len);
	buf_free(&k);
	return ret;
}

/* UIDVALIDITY must differ from every earlier one of the folder name, also
 * after the index is deleted, so the last value lives in a file beside the
 * index: max(now, last + 1). */
static uint32_t next_uidvalidity(struct maildir_store *s)
{
	struct buf path = BUF_INIT(BUF_UNLIMITED);
	char text[32];
	uint32_t last = 0, v;
	ssize_t n;
	int fd;

	buf_printf(&path, "%s/maillab-uidvalidity.next", s->path);
	fd = open(path.data, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0) {
		n = pread(fd, text, sizeof(text) - 1, 0);
		if (n > 0) {
			text[n] = '\0';
			last = (uint32_t)strtoul(text, NULL, 10);
		}
	}
	v = (uint32_t)time(NULL);
	if (v <= last)
		v = last + 1;
	if (fd >= 0) {
		n = snprintf(text, sizeof(text), "%u\n", v);
		if (ftruncate(fd, 0) == 0 && pwrite(fd, text, (size_t)n, 0) == n)
			fsync(fd);
		close(fd);
	}
	buf_free(&path);
	return v;
}

/* The next folder id.  It was kept under OLD_NEXT_ID_KEY, which sorts
 * after every "M" key: each message the newest folder gained was then put
 * just before the last key of the tree, not after it, so Berkeley DB split
 * the last leaf page in half (bt_split.c takes its sorted-append split
 * only at the right edge) and a folder indexed in UID order filled its
 * pages half.  The old key is still read, and replaced by the new one in
 * the transaction that next gives an id. */
#define NEXT_ID_KEY "Ifolder-id"
#define OLD_NEXT_ID_KEY "Nfolder-id"

/* 0 with *id_r (1 when neither key is there), or -1. */
static int next_id_get(struct maildir_store *s, DB_TXN *txn, uint32_t *id_r,
		       bool *old_r)
{
	static const char *const keys[] = { NEXT_ID_KEY, OLD_NEXT_ID_KEY };
	void *v = NULL;
	size_t vlen = 0, i;
	int ret = 1;

	*id_r = 1;
	*old_r = false;
	for (i = 0; i < 2 && ret == 1; i++) {
		ret = get_raw(s, txn, keys[i], strlen(keys[i]), &v, &vlen);
		if (ret < 0)
			return -1;
		if (ret == 0 && vlen == sizeof(*id_r))
			memcpy(id_r, v, sizeof(*id_r));
		*old_r = ret == 0 && i == 1;
		free(v);
		v = NULL;
	}
	return 0;
}

int idx_folder_new(struct maildir_store *s, DB_TXN *txn, struct frec *f,
		   uint32_t above)
{
	uint32_t id;
	bool old;

	if (next_id_get(s, txn, &id, &old) < 0)
		return -1;
	memset(f, 0, sizeof(*f));
	f->version = FREC_VERSION;
	f->id = id++;
	f->uidvalidity = next_uidvalidity(s);
	if (f->uidvalidity <= above)
		f->uidvalidity = above + 1;
	f->uidnext = 1;
	f->first_recent_uid = 1;
	f->modseq = 1;
	if (xlog_init(s, txn, f->id) < 0)
		return -1;
	if (old && del_raw(s, txn, OLD_NEXT_ID_KEY,
			   strlen(OLD_NEXT_ID_KEY)) < 0)
		return -1;
	return put_raw(s, txn, NEXT_ID_KEY, strlen(NEXT_ID_KEY), &id,
		       sizeof(id));
}

int idx_folder_purge(struct maildir_store *s, DB_TXN *txn, uint32_t id)
{
	static const char kinds[] = "MKCEG";
	unsigned char prefix[5];
	DBT key, val;
	DBC *c;
	size_t i;
	int ret = 0, r;

	if (s->db->cursor(s->db, txn, &c, 0) != 0)
		return -1;
	for (i = 0; i < sizeof(kinds) - 1 && ret == 0; i++) {
		prefix[0] = (unsigned char)kinds[i];
		put_be32(prefix + 1, id);
		memset(&key, 0, sizeof(key));
		memset(&val, 0, sizeof(val));
		key.data = prefix;
		key.size = sizeof(prefix);
		key.flags = DB_DBT_MALLOC;
		val.flags = DB_DBT_MALLOC;
		r = c->get(c, &key, &val, DB_SET_RANGE);
		while (r == 0) {
			int match = key.size >= 5 &&
				memcmp(key.data, prefix, 5) == 0;

			if (key.data != prefix)
				free(key.data);
			free(val.data);
			if (!match)
				break;
			if (c->del(c, 0) != 0) {
				ret = -1;
				break;
			}
			memset(&key, 0, sizeof(key));
			memset(&val, 0, sizeof(val));
			key.flags = DB_DBT_MALLOC;
			val.flags = DB_DBT_MALLOC;
			r = c->get(c, &key, &val, DB_NEXT);
		}
		if (r != 0 && r != DB_NOTFOUND)
			ret = -1;
	}
	c->close(c);
	return ret;
}

static void id_key(unsigned char *k, char kind, uint32_t id)
{
	k[0] = (unsigned char)kind;
	put_be32(k + 1, id);
}

int idx_keywords_get(struct maildir_store *s, DB_TXN *txn, uint32_t id,
		     char ***names_r, size_t *n_r)
{
	unsigned char k[5];
	char *v = NULL, *p, **names = NULL;
	size_t vlen = 0, n = 0;
	int ret;

	id_key(k, 'K', id);
	*names_r = NULL;
	*n_r = 0;
	ret = get_raw(s, txn, k, sizeof(k), (void **)&v, &vlen);
	if (ret != 0)
		return ret < 0 ? -1 : 0;
	for (p = v; p < v + vlen && n < MAILDIR_MAX_KEYWORDS; p += strlen(p) + 1) {
		if (memchr(p, '\0', (size_t)(v + vlen - p)) == NULL)
			break;
		names = xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = xstrdup(p);
	}
	free(v);
	*names_r = names;
	*n_r = n;
	return 0;
}

int idx_keywords_put(struct maildir_store *s, DB_TXN *txn, uint32_t id,
		     char *const *names, size_t n)
{
	struct buf v = BUF_INIT(BUF_UNLIMITED);
	unsigned char k[5];
	size_t i;
	int ret;

	id_key(k, 'K', id);
	for (i = 0; i < n; i++)
		buf_append(&v, names[i], strlen(names[i]) + 1);
	ret = put_raw(s, txn, k, sizeof(k), v.data != NULL ? v.data : "", v.len);
	buf_free(&v);
	return ret;
}

void idx_msg_key(unsigned char *k, uint32_t id, uint32_t uid)
{
	id_key(k, 'M', id);
	put_be32(k + 5, uid);
}

int idx_msg_get(struct maildir_store *s, DB_TXN *txn, uint32_t id,
		uint32_t uid, struct mrec *m, char **fname_r)
{
	unsigned char k[9];
	char *v = NULL;
	size_t vlen = 0;
	int ret;

	idx_msg_key(k, id, uid);
	ret = get_raw(s, txn, k, sizeof(k), (void **)&v, &vlen);
	if (ret != 0)
		return ret;
	if (vlen <= sizeof(*m) || v[vlen - 1] != '\0') {
		free(v);
		return 1;
	}
	memcpy(m, v, sizeof(*m));
	if (fname_r != NULL)
		*fname_r = xstrdup(v + sizeof(*m));
	free(v);
	return 0;
}

int idx_msg_fname(struct maildir_store *s, uint32_t id, uint32_t uid,
		  char **fname_r)
{
	struct mrec m;
	DB_TXN *txn;
	int ret;

	if (idx_enter(s) < 0 || idx_begin_unlocked(s, &txn) < 0)
		return -1;
	ret = idx_msg_get(s, txn, id, uid, &m, fname_r);
	if (idx_commit(txn) < 0 && ret == 0) {
		free(*fname_r);
		ret = -1;
	}
	return ret;
}

int idx_msg_put(struct maildir_store *s, DB_TXN *txn, uint32_t id,
		uint32_t uid, const struct mrec *m, const char *fname)
{
	size_t flen = strlen(fname) + 1;
	unsigned char k[9];
	char *v = xmalloc(sizeof(*m) + flen);
	int ret;

	idx_msg_key(k, id, uid);
	memcpy(v, m, sizeof(*m));
	memcpy(v + sizeof(*m), fname, flen);
	ret = put_raw(s, txn, k, sizeof(k), v, sizeof(*m) + flen);
	free(v);
	return ret;
}

int idx_msg_del(struct maildir_store *s, DB_TXN *txn, uint32_t id,
		uint32_t uid)
{
	unsigned char k[9];

	idx_msg_key(k, id, uid);
	if (del_raw(s, txn, k, sizeof(k)) < 0)
		return -1;
	k[0] = 'C';
	return del_raw(s, txn, k, sizeof(k));
}

int idx_cache_get(struct maildir_store *s, uint32_t id, uint32_t uid,
		  struct buf *out)
{
	unsigned char k[9];
	void *v = NULL;
	size_t vlen = 0;
	int ret;

	DB_TXN *txn;

	if (idx_enter(s) < 0 || idx_begin_unlocked(s, &txn) < 0)
		return -1;
	idx_msg_key(k, id, uid);
	k[0] = 'C';
	ret = get_raw(s, txn, k, sizeof(k), &v, &vlen);
	if (ret == 0 && buf_append(out, v, vlen) < 0)
		ret = -1;
	free(v);
	if (idx_commit(txn) < 0)
		ret = -1;
	return ret;
}

int idx_cache_put(struct maildir_store *s, uint32_t id, uint32_t uid,
		  const void *data, size_t len)
{
	unsigned char k[9];
	DB_TXN *txn;

	if (idx_enter(s) < 0)
		return -1;
	idx_msg_key(k, id, uid);
	k[0] = 'C';
	if (idx_begin_unlocked(s, &txn) < 0)
		return -1;
	if (put_raw(s, txn, k, sizeof(k), data, len) < 0) {
		txn->abort(txn);
		return -1;
	}
	return idx_commit(txn);
}

int idx_msg_iter(struct maildir_store *s, uint32_t id, uint32_t from_uid,
		 idx_msg_fn *fn, void *arg)
{
	unsigned char start[1024];
	void *bulk = xmalloc(BULK_SIZE), *p;
	DBT key, val;
	DBC *c;
	int ret = 0, r, first = 1, done = 0;

	if (s->db->cursor(s->db, NULL, &c, 0) != 0) {
		free(bulk);
		return -1;
	}
	while (!done) {
		memset(&key, 0, sizeof(key));
		memset(&val, 0, sizeof(val));
		if (first)
			idx_msg_key(start, id, from_uid);
		key.data = start;
		key.size = 9;
		key.ulen = sizeof(start);
		key.flags = DB_DBT_USERMEM;
		val.data = bulk;
		val.ulen = BULK_SIZE;
		val.flags = DB_DBT_USERMEM;
		r = c->get(c, &key, &val, (first ? DB_SET_RANGE : DB_NEXT) |
			   DB_MULTIPLE_KEY);
		first = 0;
		if (r == DB_NOTFOUND)
			break;
		if (r != 0) {
			ret = -1;
			break;
		}
		DB_MULTIPLE_INIT(p, &val);
		for (;;) {
			void *kd, *vd;
			u_int32_t kl, vl;
			const unsigned char *kp;

			DB_MULTIPLE_KEY_NEXT(p, &val, kd, kl, vd, vl);
			if (p == NULL)
				break;
			kp = kd;
			if (kl != 9 || kp[0] != 'M' || get_be32(kp + 1) != id) {
				done = 1;
				break;
			}
			if (vl <= sizeof(struct mrec) ||
			    ((char *)vd)[vl - 1] != '\0')
				continue;
			struct mrec m;

			memcpy(&m, vd, sizeof(m));
			if (fn(arg, get_be32(kp + 5), &m,
			       (char *)vd + sizeof(m)) != 0) {
				done = 1;
				break;
			}
		}
	}
	c->close(c);
	free(bulk);
	return ret;
}

int idx_cache_range(struct maildir_store *s, uint32_t id, uint32_t from_uid,
		    uint32_t to_uid, maildir_cache_fn *fn, void *arg)
{
	enum { CACHE_BULK = 256 * 1024 };
	unsigned char start[9];
	void *bulk, *p;
	DBT key, val;
	DB_TXN *txn;
	DBC *c;
	int ret = 0, r, first = 1, done = 0;

	if (idx_enter(s) < 0 || idx_begin_unlocked(s, &txn) < 0)
		return -1;
	if (s->db->cursor(s->db, txn, &c, 0) != 0) {
		idx_abort(txn);
		return -1;
	}
	bulk = xmalloc(CACHE_BULK);
	idx_msg_key(start, id, from_uid);
	start[0] = 'C';
	while (!done) {
		memset(&key, 0, sizeof(key));
		memset(&val, 0, sizeof(val));
		key.data = start;
		key.size = sizeof(start);
		key.ulen = sizeof(start);
		key.flags = DB_DBT_USERMEM;
		val.data = bulk;
		val.ulen = CACHE_BULK;
		val.flags = DB_DBT_USERMEM;
		r = c->get(c, &key, &val, (first ? DB_SET_RANGE : DB_NEXT) |
			   DB_MULTIPLE_KEY);
		first = 0;
		if (r == DB_NOTFOUND)
			break;
		if (r != 0) {
			/* a record bigger than the buffer: the caller
			 * reads it alone */
			ret = r == DB_BUFFER_SMALL ? 1 : -1;
			break;
		}
		DB_MULTIPLE_INIT(p, &val);
		for (;;) {
			void *kd, *vd;
			u_int32_t kl, vl;
			const unsigned char *kp;
			uint32_t uid;

			DB_MULTIPLE_KEY_NEXT(p, &val, kd, kl, vd, vl);
			if (p == NULL)
				break;
			kp = kd;
			if (kl != 9 || kp[0] != 'C' || get_be32(kp + 1) != id ||
			    (uid = get_be32(kp + 5)) > to_uid ||
			    fn(arg, uid, vd, vl) != 0) {
				done = 1;
				break;
			}
		}
	}
	c->close(c);
	free(bulk);
	if (idx_commit(txn) < 0)
		ret = -1;
	return ret;
}

int idx_msg_walk(struct maildir_store *s, uint32_t id, uint32_t from_uid,
		 idx_msg_fn *fn, void *arg)
{
	unsigned char start[9];
	DBT key, val;
	DBC *c;
	int r, ret = 0;

	if (s->db->cursor(s->db, NULL, &c, 0) != 0)
		return -1;
	idx_msg_key(start, id, from_uid);
	memset(&key, 0, sizeof(key));
	memset(&val, 0, sizeof(val));
	key.data = start;
	key.size = sizeof(start);
	for (r = c->get(c, &key, &val, DB_SET_RANGE); r == 0;
	     r = c->get(c, &key, &val, DB_NEXT)) {
		const unsigned char *kp = key.data;
		struct mrec m;

		if (key.size != 9 || kp[0] != 'M' || get_be32(kp + 1) != id)
			break;
		if (val.size <= sizeof(m) ||
		    ((const char *)val.data)[val.size - 1] != '\0')
			continue;
		memcpy(&m, val.data, sizeof(m));
		if (fn(arg, get_be32(kp + 5), &m,
		       (const char *)val.data + sizeof(m)) != 0)
			break;
	}
	if (r != 0 && r != DB_NOTFOUND)
		ret = -1;
	c->close(c);
	return ret;
}

const char *fname_base(const char *fname, size_t *len_r)
{
	const char *slash = strchr(fname, '/');
	const char *base = slash != NULL ? slash + 1 : fname;

	*len_r = maildir_base_len(base);
	return base;
}
