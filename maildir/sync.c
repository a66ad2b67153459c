#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "maildir/fsutil.h"
#include "maildir/index-int.h"

#define BATCH IDX_BATCH
/* Syncs that index at least BULK_MIN new files use bulk transactions
 * (idx_begin_bulk) of up to BULK_BATCH changes: one transaction writes
 * out the pages it filled when it commits, an fsync of index.db, worth it
 * only for many records; BULK_BATCH bounds the page locks one holds
 * (about one per 150 records, set_lk_max_locks 10000 in index-env.c). */
#define BULK_MIN 4096
#define BULK_BATCH 100000
#define NS 1000000000LL
#define PREFETCH 8

/* A message the index knows, during a full sync. */
struct known {
	uint32_t uid;
	bool seen_on_disk;
	struct mrec m;
	char *fname;
};

/* A file the index does not know yet. */
struct fresh {
	char *name;		/* in the scan's name blocks */
	size_t len;		/* strlen(name) */
	bool in_new;
	unsigned char d_type;	/* from readdir: DT_REG, DT_UNKNOWN ... */
	struct maildir_name_info info;	/* the name parsed once: UID order
					 * (delivery time) and sizes */
};

struct scan {
	struct maildir_store *s;
	const char *dir;
	struct buf path;	/* the folder's Maildir */
	int dir_fd;		/* the same, open (stat of new files), or -1 */
	struct frec *f;
	DB_TXN *txn;
	int in_batch;
	bool bulk;
	struct idx_msg_batch mb;	/* bulk: the new records not yet put */
	struct known *known;
	size_t nknown;
	size_t *hash;		/* indexes + 1 into known, 0 empty */
	size_t hashsize;
	struct fresh *fresh;
	size_t nfresh;
	struct name_block *names;	/* the newest block, or NULL */
};

/* The names of fresh files, copied from readdir into large blocks
 * instead of one malloc each: 100,000 names cost a few dozen mallocs and
 * sit close together, which matters because they are read again in UID
 * order, not in the (hash) order readdir gave them. */
#define NAME_BLOCK (64 * 1024)
struct name_block {
	struct name_block *prev;
	size_t used, size;
	char data[];
};

void folder_path(const struct maildir_store *s, const char *dir,
		 struct buf *out)
{
	buf_clear(out);
	buf_puts(out, s->path);
	if (dir[0] != '\0')
		buf_printf(out, "/%s", dir);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

static int64_t dir_mtime(const char *maildir, const char *sub)
{
	struct buf p = BUF_INIT(BUF_UNLIMITED);
	struct stat st;
	int64_t t = -1;

	buf_printf(&p, "%s/%s", maildir, sub);
	if (stat(p.data, &st) == 0)
		t = fs_mtime_ns(&st);
	buf_free(&p);
	return t;
}

int64_t own_change_begin(const char *maildir)
{
	return dir_mtime(maildir, "cur");
}

void own_change_end(const char *maildir, int64_t before, struct frec *f)
{
	if (f->cur_mtime != 0 && f->cur_mtime == before)
		f->cur_mtime = dir_mtime(maildir, "cur");
}

static uint64_t hash_base(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	while (n-- > 0)
		h = (h ^ (unsigned char)*p++) * 1099511628211ULL;
	return h;
}

static int collect_known(void *arg, uint32_t uid, const struct mrec *m,
			 const char *fname)
{
	struct scan *sc = arg;
	struct known *k;

	if ((sc->nknown & (sc->nknown - 1)) == 0)
		sc->known = xreallocarray(sc->known, sc->nknown ? sc->nknown * 2 : 64,
					  sizeof(*sc->known));
	k = &sc->known[sc->nknown++];
	k->uid = uid;
	k->seen_on_disk = false;
	k->m = *m;
	k->fname = xstrdup(fname);
	return 0;
}

static void build_hash(struct scan *sc)
{
	size_t i, len, slot;
	const char *base;

	for (sc->hashsize = 64; sc->hashsize < sc->nknown * 2; sc->hashsize *= 2)
		;
	sc->hash = xcalloc(sc->hashsize, sizeof(size_t));
	for (i = 0; i < sc->nknown; i++) {
		base = fname_base(sc->known[i].fname, &len);
		slot = hash_base(base, len) & (sc->hashsize - 1);
		while (sc->hash[slot] != 0)
			slot = (slot + 1) & (sc->hashsize - 1);
		sc->hash[slot] = i + 1;
	}
}

static struct known *lookup_known(struct scan *sc, const char *name)
{
	size_t len = maildir_base_len(name), klen, slot;
	const char *kbase;
	struct known *k;

	if (sc->hash == NULL)
		return NULL;
	slot = hash_base(name, len) & (sc->hashsize - 1);
	while (sc->hash[slot] != 0) {
		k = &sc->known[sc->hash[slot] - 1];
		kbase = fname_base(k->fname, &klen);
		if (klen == len && memcmp(kbase, name, len) == 0)
			return k;
		slot = (slot + 1) & (sc->hashsize - 1);
	}
	return NULL;
}

/* Batches writes in transactions of BATCH (bulk: BULK_BATCH) changes.
 * They are committed without a log flush: the final commit of sync_folder
 * flushes them all, before any session sees their UIDs.  A crash before it
 * keeps a prefix of the batches (or none), each complete with its folder
 * record, and the next sync indexes the rest as it would have. */
static int batch_txn(struct scan *sc, DB_TXN **txn_r)
{
	if (sc->txn != NULL && sc->in_batch >= (sc->bulk ? BULK_BATCH : BATCH)) {
		if (idx_batch_flush(&sc->mb, sc->txn) < 0 ||
		    idx_folder_put(sc->s, sc->txn, sc->dir, sc->f) < 0 ||
		    idx_commit_nosync(sc->txn) < 0) {
			sc->txn = NULL;
			return -1;
		}
		sc->txn = NULL;
	}
	if (sc->txn == NULL) {
		if ((sc->bulk ? idx_begin_bulk(sc->s, &sc->txn) :
		     idx_begin(sc->s, &sc->txn)) < 0)
			return -1;
		sc->in_batch = 0;
	}
	sc->in_batch++;
	*txn_r = sc->txn;
	return 0;
}

/* Moves new/NAME to cur/NAME:2, and returns the folder-relative name
 * (malloc'd), or NULL when the file is gone. */
static char *move_to_cur(struct scan *sc, const char *name)
{
	struct buf from = BUF_INIT(BUF_UNLIMITED), to = BUF_INIT(BUF_UNLIMITED);
	char *rel = NULL;
	size_t rel_off;

	buf_printf(&from, "%s/new/%s", sc->path.data, name);
	buf_printf(&to, "%s/", sc->path.data);
	rel_off = to.len;
	buf_printf(&to, "cur/%s%s", name, strchr(name, ':') ? "" : ":2,");
	if (rename(from.data, to.data) == 0)
		rel = xstrdup(to.data + rel_off);
	buf_free(&from);
	buf_free(&to);
	return rel;
}

static int update_known(struct scan *sc, struct known *k, const char *rel)
{
	unsigned flags = maildir_flags_from_name(rel);
	DB_TXN *txn;

	if (strcmp(k->fname, rel) == 0)
		return 0;
	if (batch_txn(sc, &txn) < 0)
		return -1;
	frec_count(sc->f, k->m.flags, k->m.size, -1);
	frec_count(sc->f, flags, k->m.size, 1);
	if (flags != k->m.flags)
		k->m.modseq = ++sc->f->modseq;
	k->m.flags = (uint8_t)flags;
	free(k->fname);
	k->fname = xstrdup(rel);
	return idx_msg_put(sc->s, txn, sc->f->id, k->uid, &k->m, rel);
}

/* A copy of name (len bytes and a NUL) in the scan's name blocks. */
static char *keep_name(struct scan *sc, const char *name, size_t len)
{
	struct name_block *b = sc->names;
	char *copy;

	if (b == NULL || b->size - b->used <= len) {
		size_t size = len >= NAME_BLOCK ? len + 1 : NAME_BLOCK;

		b = xmalloc(sizeof(*b) + size);
		b->prev = sc->names;
		b->used = 0;
		b->size = size;
		sc->names = b;
	}
	copy = b->data + b->used;
	memcpy(copy, name, len);
	copy[len] = '\0';
	b->used += len + 1;
	return copy;
}

static void add_fresh(struct scan *sc, const char *name, bool in_new,
		      unsigned char d_type)
{
	struct fresh *fr;
	size_t len = strlen(name);

	if ((sc->nfresh & (sc->nfresh - 1)) == 0)
		sc->fresh = xreallocarray(sc->fresh, sc->nfresh ? sc->nfresh * 2 : 16,
					  sizeof(*sc->fresh));
	fr = &sc->fresh[sc->nfresh++];
	maildir_name_parse(name, &fr->info);
	fr->name = keep_name(sc, name, len);
	fr->len = len;
	fr->in_new = in_new;
	fr->d_type = d_type;
}

/* Reads one of new/ or cur/.  full: the index is loaded in sc->known.
 * Otherwise only new/ is read, and every file there is new to the index:
 * a file is always moved to cur/ before it is indexed. */
static int scan_dir(struct scan *sc, const char *sub, bool full)
{
	struct buf p = BUF_INIT(BUF_UNLIMITED);
	bool in_new = strcmp(sub, "new") == 0;
	struct dirent *de;
	struct known *k;
	char *rel;
	DIR *d;
	int ret = 0;

	buf_printf(&p, "%s/%s", sc->path.data, sub);
	d = fs_opendir_nofollow(p.data);
	buf_free(&p);
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL && ret == 0) {
		if (de->d_name[0] == '.')
			continue;
		k = full ? lookup_known(sc, de->d_name) : NULL;
		if (k == NULL) {
			add_fresh(sc, de->d_name, in_new, de->d_type);
			continue;
		}
		k->seen_on_disk = true;
		if (in_new) {
			rel = move_to_cur(sc, de->d_name);
			if (rel != NULL)
				ret = update_known(sc, k, rel);
			free(rel);
		} else {
			p = (struct buf)BUF_INIT(BUF_UNLIMITED);
			buf_printf(&p, "cur/%s", de->d_name);
			ret = update_known(sc, k, p.data);
			buf_free(&p);
		}
	}
	closedir(d);
	return ret;
}

static int expunge_vanished(struct scan *sc)
{
	DB_TXN *txn;
	size_t i;

	for (i = 0; i < sc->nknown; i++) {
		struct known *k = &sc->known[i];

		if (k->seen_on_disk)
			continue;
		if (batch_txn(sc, &txn) < 0)
			return -1;
		if (idx_msg_del(sc->s, txn, sc->f->id, k->uid) < 0)
			return -1;
		frec_count(sc->f, k->m.flags, k->m.size, -1);
		sc->f->modseq++;
		if (xlog_add(sc->s, txn, sc->f, k->uid) < 0)
			return -1;
	}
	return 0;
}

/* As maildir_name_cmp_delivery, with the times parsed once. */
static int cmp_fresh(const void *a, const void *b)
{
	const struct fresh *fa = a, *fb = b;

	if (fa->info.sec != fb->info.sec)
		return fa->info.sec < fb->info.sec ? -1 : 1;
	if (fa->info.usec != fb->info.usec)
		return fa->info.usec < fb->info.usec ? -1 : 1;
	return strcmp(fa->name, fb->name);
}

/* Sorts the fresh files into UID order (cmp_fresh) by a radix sort on
 * (seconds, microseconds) packed in 64 bits, the name compared only
 * among files of the same time: readdir gives the names in the file
 * system's hash order, so the 100,000 names of a migrated folder are not
 * near any order, and a comparison sort pays ~17 compares each.  Times
 * that do not pack (microseconds of 2^20 or more, seconds more than 2^43
 * apart) fall back to qsort. */
#define USEC_BITS 20
struct sort_key {
	uint64_t key;
	size_t idx;
};

static bool pack_keys(const struct scan *sc, struct sort_key *k)
{
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	size_t i;

	for (i = 0; i < sc->nfresh; i++) {
		const struct maildir_name_info *in = &sc->fresh[i].info;

		if (in->usec < 0 || in->usec >= (1 << USEC_BITS))
			return false;
		lo = in->sec < lo ? in->sec : lo;
		hi = in->sec > hi ? in->sec : hi;
	}
	if (hi - lo < 0 || (uint64_t)(hi - lo) >= (1ULL << (64 - USEC_BITS)))
		return false;
	for (i = 0; i < sc->nfresh; i++) {
		const struct maildir_name_info *in = &sc->fresh[i].info;

		k[i].key = ((uint64_t)(in->sec - lo) << USEC_BITS) |
			   (uint64_t)in->usec;
		k[i].idx = i;
	}
	return true;
}

/* LSD radix sort of k (n keys) by bytes, with tmp (n keys) as scratch;
 * skips the bytes all keys share.  Returns k or tmp: where the result is. */
static struct sort_key *radix_keys(struct sort_key *k, struct sort_key *tmp,
				   size_t n)
{
	uint64_t all_or = 0, all_and = UINT64_MAX;
	size_t count[256], i, sum, c;
	struct sort_key *swap;
	unsigned shift;

	for (i = 0; i < n; i++) {
		all_or |= k[i].key;
		all_and &= k[i].key;
	}
	for (shift = 0; shift < 64; shift += 8) {
		if ((((all_or ^ all_and) >> shift) & 0xff) == 0)
			continue;
		memset(count, 0, sizeof(count));
		for (i = 0; i < n; i++)
			count[(k[i].key >> shift) & 0xff]++;
		for (sum = 0, i = 0; i < 256; i++) {
			c = count[i];
			count[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			tmp[count[(k[i].key >> shift) & 0xff]++] = k[i];
		swap = k;
		k = tmp;
		tmp = swap;
	}
	return k;
}

static void sort_fresh(struct scan *sc)
{
	size_t n = sc->nfresh, i, j;
	struct sort_key *k, *tmp, *r;
	struct fresh *sorted;

	k = xreallocarray(NULL, n, sizeof(*k));
	if (!pack_keys(sc, k)) {
		free(k);
		qsort(sc->fresh, n, sizeof(*sc->fresh), cmp_fresh);
		return;
	}
	tmp = xreallocarray(NULL, n, sizeof(*tmp));
	r = radix_keys(k, tmp, n);
	sorted = xreallocarray(NULL, n, sizeof(*sorted));
	for (i = 0; i < n; i++)
		sorted[i] = sc->fresh[r[i].idx];
	/* files of the same time: by name, as cmp_fresh */
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && r[j].key == r[i].key; j++)
			;
		if (j - i > 1)
			qsort(sorted + i, j - i, sizeof(*sorted), cmp_fresh);
	}
	memcpy(sc->fresh, sorted, n * sizeof(*sorted));
	free(sorted);
	free(tmp);
	free(k);
}

/* What the file at rel (in the folder) holds, read as other software
 * left it: its sizes and mtime.  0, or -1 when it is gone or not a
 * regular file. */
static int read_fresh(struct scan *sc, const char *rel, struct mrec *m)
{
	struct stat st;
	int fd = fs_open_msg_at(sc->dir_fd, rel), ret = -1;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		mrec_from_name(m, rel, &st);
		ret = mrec_sizes_from_file(m, fd);
	}
	close(fd);
	return ret;
}

/* Indexes one new file.  A regular file (d_type) whose name carries its
 * size and delivery time, as those of maillab, Dovecot and Courier do, is
 * indexed from its name alone (wire-size.c), so a folder of 100,000 such
 * messages seen for the first time costs little more than reading its
 * directory; other files are read. */
static int index_fresh(struct scan *sc, struct fresh *fr)
{
	/* "cur/" and a readdir name: no allocation per message */
	char cur_rel[4 + NAME_MAX + 1], *moved = NULL;
	const char *rel = cur_rel;
	struct mrec m;
	DB_TXN *txn;
	int ret = 0;

	if (fr->in_new) {
		rel = moved = move_to_cur(sc, fr->name);
		if (rel == NULL)
			return 0;	/* gone meanwhile */
	} else {
		if (fr->len > NAME_MAX) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(cur_rel, "cur/", 4);
		memcpy(cur_rel + 4, fr->name, fr->len + 1);
	}
	memset(&m, 0, sizeof(m));
	if (fr->d_type == DT_REG && mrec_info_suffices(&fr->info)) {
		/* rel is "cur/" and the name (with ":2," when it was in
		 * new/): the same base name, parsed in add_fresh */
		mrec_from_info(&m, &fr->info, NULL);
	} else if (read_fresh(sc, rel, &m) < 0) {
		free(moved);
		return 0;	/* vanished or not a message: skip */
	}
	m.flags = (uint8_t)maildir_flags_from_name(rel);
	m.modseq = ++sc->f->modseq;
	if (batch_txn(sc, &txn) < 0)
		ret = -1;
	else if (sc->bulk)
		ret = idx_batch_add(&sc->mb, txn, sc->f->uidnext, &m, rel);
	else
		ret = idx_msg_put(sc->s, txn, sc->f->id, sc->f->uidnext, &m, rel);
	sc->f->uidnext++;
	frec_count(sc->f, m.flags, m.size, 1);
	free(moved);
	return ret;
}

static void scan_free(struct scan *sc)
{
	size_t i;

	idx_batch_free(&sc->mb);
	idx_abort(sc->txn);
	if (sc->dir_fd >= 0)
		close(sc->dir_fd);
	for (i = 0; i < sc->nknown; i++)
		free(sc->known[i].fname);
	free(sc->known);
	free(sc->hash);
	while (sc->names != NULL) {
		struct name_block *prev = sc->names->prev;

		free(sc->names);
		sc->names = prev;
	}
	free(sc->fresh);
	buf_free(&sc->path);
}

/* Keeps an mtime only when it is old enough that a later change in the
 * same clock tick cannot hide behind it (file systems with coarse or
 * one-second timestamps). */
static int64_t settled(int64_t mtime, int64_t now)
{
	return now - mtime >= NS ? mtime : 0;
}

/* Each folder keeps its last UIDVALIDITY in a small file beside cur/ (as
 * dovecot-uidlist does): a folder record missing from the index while this
 * file exists means the index was lost, and the new UIDVALIDITY must be
 * higher.  -1 when there is no file. */
static int64_t read_marker(const char *maildir)
{
	struct buf p = BUF_INIT(BUF_UNLIMITED);
	char text[32];
	ssize_t n;
	int fd;

	buf_printf(&p, "%s/maillab-uidvalidity", maildir);
	fd = open(p.data, O_RDONLY | O_CLOEXEC);
	buf_free(&p);
	if (fd < 0)
		return -1;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	text[n > 0 ? n : 0] = '\0';
	return strtoll(text, NULL, 10);
}

static void write_marker(const char *maildir, uint32_t uidvalidity)
{
	struct buf p = BUF_INIT(BUF_UNLIMITED);
	char text[32];
	int fd, n;

	buf_printf(&p, "%s/maillab-uidvalidity", maildir);
	fd = open(p.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0) {
		n = snprintf(text, sizeof(text), "%u\n", uidvalidity);
		if (fs_write_all(fd, text, (size_t)n) == 0)
			fsync(fd);
		close(fd);
	}
	buf_free(&p);
}

int sync_folder(struct maildir_store *s, const char *dir, struct frec *f,
		bool *rebuilt_r, char *err_r, size_t errlen)
{
	struct scan sc;
	int64_t new_m, cur_m, now, cur_before;
	bool full, created = false;
	size_t i;
	int r, ret = -1;

	memset(&sc, 0, sizeof(sc));
	sc.dir_fd = -1;
	sc.s = s;
	sc.dir = dir;
	sc.f = f;
	*rebuilt_r = false;
	buf_init(&sc.path, BUF_UNLIMITED);
	folder_path(s, dir, &sc.path);
	now = now_ns();
	cur_m = dir_mtime(sc.path.data, "cur");
	new_m = dir_mtime(sc.path.data, "new");
	if (cur_m < 0 || new_m < 0) {
		snprintf(err_r, errlen, "no such mailbox");
		errno = ENOENT;
		goto out;
	}
	r = idx_folder_get(s, NULL, dir, f);
	if (r < 0)
		goto dberr;
	if (r == 1) {
		DB_TXN *txn;
		int64_t last = read_marker(sc.path.data);

		if (idx_begin(s, &txn) < 0)
			goto dberr;
		if (idx_folder_new(s, txn, f, last > 0 ? (uint32_t)last : 0) < 0 ||
		    idx_commit(txn) < 0)
			goto dberr;
		write_marker(sc.path.data, f->uidvalidity);
		created = true;
		*rebuilt_r = last >= 0;
	}
	if (f->cur_mtime == cur_m && f->new_mtime == new_m)
		return scan_free(&sc), 0;
	full = created || f->cur_mtime != cur_m;
	cur_before = cur_m;
	if (full) {
		if (idx_msg_iter(s, f->id, 0, collect_known, &sc) < 0)
			goto dberr;
		build_hash(&sc);
		if (scan_dir(&sc, "cur", true) < 0)
			goto dberr;
	}
	if (scan_dir(&sc, "new", full) < 0)
		goto dberr;
	if (full && expunge_vanished(&sc) < 0)
		goto dberr;
	if (sc.nfresh > 1)
		sort_fresh(&sc);
	if (sc.nfresh > 0) {
		sc.dir_fd = open(sc.path.data, O_RDONLY | O_DIRECTORY |
				 O_CLOEXEC | (dir[0] != '\0' ? O_NOFOLLOW : 0));
		if (sc.dir_fd < 0)
			goto dberr;
	}
	if (sc.nfresh >= BULK_MIN) {
		/* what the scan changed goes in a transaction of its own */
		if (sc.txn != NULL && (idx_folder_put(s, sc.txn, dir, f) < 0 ||
				       idx_commit_nosync(sc.txn) < 0)) {
			sc.txn = NULL;
			goto dberr;
		}
		sc.txn = NULL;
		sc.bulk = true;
		idx_batch_init(&sc.mb, s, f->id);
	}
	for (i = 0; i < sc.nfresh; i++) {
		/* in UID order the names are scattered over the blocks:
		 * ask for one a few records ahead while this one is put */
		if (i + PREFETCH < sc.nfresh)
			__builtin_prefetch(sc.fresh[i + PREFETCH].name);
		if (index_fresh(&sc, &sc.fresh[i]) < 0)
			goto dberr;
	}
	if (*rebuilt_r) {
		log_msg("maildir", NULL, "index of %s/%s missing: rebuilt "
			"with UIDVALIDITY %u (%zu messages)", s->user,
			dir[0] != '\0' ? dir : "INBOX", f->uidvalidity,
			sc.nfresh);
	}
	f->new_mtime = settled(new_m, now);
	if (full)
		f->cur_mtime = settled(cur_m, now);
	own_change_end(sc.path.data, cur_before, f);
	if (sc.txn == NULL && idx_begin(s, &sc.txn) < 0)
		goto dberr;
	if (idx_batch_flush(&sc.mb, sc.txn) < 0 ||
	    idx_folder_put(s, sc.txn, dir, f) < 0 || idx_commit(sc.txn) < 0) {
		sc.txn = NULL;
		goto dberr;
	}
	sc.txn = NULL;
	if (sc.nfresh > BATCH / 4)
		idx_checkpoint(s);
	ret = 0;
	goto out;
dberr:
	snprintf(err_r, errlen, "index of %s: sync failed: %s", s->user,
		 strerror(errno));
out:
	scan_free(&sc);
	return ret;
}
