/* The SORT/THREAD key cache (sort-cache.h).  One mutex guards the table
 * and every folder in it; message files are read outside it. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "imapd/sort-cache.h"
#include "maildir/keyfile.h"
#include "maildir/mailbox.h"
#include "maildir/message.h"

#define KEYCACHE_FOLDERS 16
#define KEYCACHE_MSGS 2000000

struct imap_keycache {
	char *store_path;
	uint32_t uidvalidity;
	struct imap_msg_keys *v;	/* UID order; seq unused */
	size_t n, cap;
	unsigned ranked;		/* bit k: v[i].rank[k] and
					 * rank_of[k] are up to date */
	/* compact copies for SORT's walks (17 times smaller than v):
	 * uids[i] = v[i].uid when uids_ok; rank_of[k][i] = v[i].rank[k] */
	uint32_t *uids;
	bool uids_ok;
	uint32_t *rank_of[IMAP_SORT_NKEYS];
	bool have_file;			/* file_id: the key file read or
					 * written last */
	uint64_t file_id;
	bool detached;			/* stale: out of the table, freed
					 * by its last release */
	unsigned refs;
	uint64_t used;			/* LRU clock */
	struct imap_keycache *next;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct imap_keycache *folders;
static uint64_t lru_clock;

static void folder_free(struct imap_keycache *kc)
{
	for (size_t i = 0; i < kc->n; i++)
		imap_msg_keys_free(&kc->v[i]);
	free(kc->v);
	free(kc->uids);
	for (int k = 0; k < IMAP_SORT_NKEYS; k++)
		free(kc->rank_of[k]);
	free(kc->store_path);
	free(kc);
}

/* Under cache_lock: unlinks unused folders past the limits onto *gone. */
static void evict(struct imap_keycache **gone)
{
	for (;;) {
		struct imap_keycache **pp, **oldest = NULL;
		size_t nfolders = 0, nmsgs = 0;

		for (pp = &folders; *pp != NULL; pp = &(*pp)->next) {
			nfolders++;
			nmsgs += (*pp)->n;
			if ((*pp)->refs == 0 &&
			    (oldest == NULL || (*pp)->used < (*oldest)->used))
				oldest = pp;
		}
		if (oldest == NULL || (nfolders <= KEYCACHE_FOLDERS &&
				       nmsgs <= KEYCACHE_MSGS))
			return;
		struct imap_keycache *kc = *oldest;

		*oldest = kc->next;
		kc->next = *gone;
		*gone = kc;
	}
}

static void push(struct imap_keycache *kc, const struct imap_msg_keys *k)
{
	if (kc->n == kc->cap) {
		kc->cap = kc->cap == 0 ? 1024 : kc->cap * 2;
		kc->v = xreallocarray(kc->v, kc->cap, sizeof(*kc->v));
	}
	kc->v[kc->n++] = *k;
}

static int cmp_uid(const void *x, const void *y)
{
	const struct imap_msg_keys *a = x, *b = y;

	return a->uid < b->uid ? -1 : a->uid > b->uid;
}

/* Sorts v by UID, dropping all but the last of equal UIDs (a stable sort
 * is not needed: records of one UID hold the same keys). */
static void sort_dedupe(struct imap_keycache *kc)
{
	size_t out = 0;

	if (kc->n < 2)
		return;
	qsort(kc->v, kc->n, sizeof(*kc->v), cmp_uid);
	for (size_t i = 0; i < kc->n; i++) {
		if (out > 0 && kc->v[out - 1].uid == kc->v[i].uid) {
			imap_msg_keys_free(&kc->v[i]);
			continue;
		}
		kc->v[out++] = kc->v[i];
	}
	kc->n = out;
}

static int load_record(void *arg, uint32_t uid, const void *data,
		       size_t len)
{
	struct imap_keycache *kc = arg;
	struct imap_msg_keys k;

	if (uid != 0 && imap_keys_decode(data, len, &k) == 0) {
		k.uid = uid;
		push(kc, &k);
	}
	return 0;
}

/* Under cache_lock: the folder's cache, read from its key file when new;
 * refs taken. */
static struct imap_keycache *acquire(struct maildir_box *box,
				     const char *store_path)
{
	struct maildir_box_info info;
	struct imap_keycache *kc, *gone = NULL;

	struct imap_keycache **pp;
	uint64_t file_id = 0;
	bool have_file;

	maildir_box_info(box, &info);
	have_file = maildir_box_keys_id(box, &file_id) == 0;
	for (pp = &folders; (kc = *pp) != NULL; pp = &kc->next)
		if (kc->uidvalidity == info.uidvalidity &&
		    strcmp(kc->store_path, store_path) == 0)
			break;
	if (kc != NULL && (have_file != kc->have_file ||
			   file_id != kc->file_id)) {
		/* the store was made anew (the same UIDVALIDITY may then
		 * name other messages) or another process rewrote it */
		*pp = kc->next;
		kc->detached = true;
		if (kc->refs == 0) {
			kc->next = gone;
			gone = kc;
		}
		kc = NULL;
	}
	if (kc == NULL) {
		kc = xcalloc(1, sizeof(*kc));
		kc->store_path = xstrdup(store_path);
		kc->uidvalidity = info.uidvalidity;
		maildir_box_keys_read(box, load_record, kc);
		sort_dedupe(kc);
		kc->have_file = have_file;
		kc->file_id = file_id;
		kc->next = folders;
		folders = kc;
	}
	kc->refs++;
	kc->used = ++lru_clock;
	evict(&gone);
	while (gone != NULL) {
		struct imap_keycache *next = gone->next;

		folder_free(gone);
		gone = next;
	}
	return kc;
}

static bool has_uid(const struct imap_keycache *kc, uint32_t uid)
{
	size_t lo = 0, hi = kc->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (kc->v[mid].uid < uid)
			lo = mid + 1;
		else if (kc->v[mid].uid > uid)
			hi = mid;
		else
			return true;
	}
	return false;
}

/* Under cache_lock: adds fresh[0..n) (UID order), leaving out those
 * another session added meanwhile (its copies may be in use). */
static void merge(struct imap_keycache *kc, struct imap_msg_keys *fresh,
		  size_t n)
{
	size_t old = kc->n;

	for (size_t i = 0; i < n; i++) {
		if (has_uid(kc, fresh[i].uid))
			imap_msg_keys_free(&fresh[i]);
		else
			push(kc, &fresh[i]);
	}
	if (kc->n > old && old > 0 && kc->v[old - 1].uid > kc->v[old].uid)
		qsort(kc->v, kc->n, sizeof(*kc->v), cmp_uid);
	if (kc->n > old) {
		kc->ranked = 0;
		kc->uids_ok = false;
	}
}

/* Under cache_lock, with only the caller using kc: when messages no
 * longer in the box (expunged: below its last UID and not in it) pass a
 * quarter of it, drops them; true when some were. */
static bool prune(struct imap_keycache *kc, struct maildir_box *box)
{
	size_t count = maildir_box_count(box), j = 0, out = 0;
	uint32_t last;

	if (kc->refs != 1 || count == 0 || kc->n <= count + count / 4 + 64)
		return false;
	last = maildir_box_msg(box, count - 1)->uid;
	for (size_t i = 0; i < kc->n; i++) {
		uint32_t uid = kc->v[i].uid;

		while (j < count && maildir_box_msg(box, j)->uid < uid)
			j++;
		if (uid <= last &&
		    (j == count || maildir_box_msg(box, j)->uid != uid)) {
			imap_msg_keys_free(&kc->v[i]);
			continue;
		}
		kc->v[out++] = kc->v[i];
	}
	kc->n = out;
	kc->ranked = 0;
	kc->uids_ok = false;
	return true;
}

void imap_keycache_release(struct imap_keycache **kcp)
{
	struct imap_keycache *gone = NULL;

	if (*kcp == NULL)
		return;
	pthread_mutex_lock(&cache_lock);
	if (--(*kcp)->refs == 0 && (*kcp)->detached) {
		(*kcp)->next = gone;
		gone = *kcp;
	}
	evict(&gone);
	pthread_mutex_unlock(&cache_lock);
	while (gone != NULL) {
		struct imap_keycache *next = gone->next;

		folder_free(gone);
		gone = next;
	}
	*kcp = NULL;
}

void imap_keycache_flush(void)
{
	struct imap_keycache **pp = &folders, *kc, *gone = NULL;

	pthread_mutex_lock(&cache_lock);
	while ((kc = *pp) != NULL) {
		if (kc->refs == 0) {
			*pp = kc->next;
			kc->next = gone;
			gone = kc;
		} else {
			pp = &kc->next;
		}
	}
	pthread_mutex_unlock(&cache_lock);
	while (gone != NULL) {
		kc = gone->next;
		folder_free(gone);
		gone = kc;
	}
}

void imap_keys_from_file(struct maildir_box *box, size_t idx, char *head,
			 struct imap_msg_keys *k)
{
	const struct maildir_msg *m = maildir_box_msg(box, idx);
	struct msg_map map = { "", 0 };
	const char *data = "";
	size_t len = 0;
	ssize_t got;
	char err[256];
	struct stat st;
	int fd;

	memset(k, 0, sizeof(*k));
	k->seq = (uint32_t)(idx + 1);
	k->uid = m->uid;
	k->size = m->size;
	k->arrival = m->idate;
	fd = maildir_box_open_msg(box, m->uid, err, sizeof(err));
	if (fd >= 0) {
		got = pread(fd, head, IMAP_KEYS_HEAD_READ, 0);
		if (got > 0) {
			data = head;
			len = hdr_block_end(head, 0, (size_t)got);
		}
		/* the header may go on past what was read */
		if (got == IMAP_KEYS_HEAD_READ && len == IMAP_KEYS_HEAD_READ &&
		    fstat(fd, &st) == 0 && st.st_size > IMAP_KEYS_HEAD_READ &&
		    msg_map_fd(fd, (size_t)st.st_size, &map, err,
			       sizeof(err)) == 0) {
			data = map.data;
			len = hdr_block_end(map.data, 0, map.size);
		}
		close(fd);
	}
	imap_msg_keys_parse(k, data, len, IMAP_KEYS_ALL);
	msg_unmap(&map);
}

/* Under cache_lock: kc->uids up to date. */
static void compact_uids(struct imap_keycache *kc)
{
	if (kc->uids_ok)
		return;
	kc->uids = xreallocarray(kc->uids, kc->n + 1, sizeof(*kc->uids));
	for (size_t i = 0; i < kc->n; i++)
		kc->uids[i] = kc->v[i].uid;
	kc->uids_ok = true;
}

/* Under cache_lock: the snapshot messages idx[0..n) that kc lacks, as
 * indexes into idx (ascending). */
static size_t find_missing(struct imap_keycache *kc,
			   struct maildir_box *box, const size_t *idx,
			   size_t n, size_t *missing)
{
	size_t j = 0, nmissing = 0;

	compact_uids(kc);
	for (size_t i = 0; i < n; i++) {
		uint32_t uid = maildir_box_msg(box, idx[i])->uid;

		while (j < kc->n && kc->uids[j] < uid)
			j++;
		if (j == kc->n || kc->uids[j] != uid)
			missing[nmissing++] = i;
	}
	return nmissing;
}

/* Under cache_lock: the rank of every message by the keys of `keys`
 * (bit k: key k). */
static void rank_keys(struct imap_keycache *kc, unsigned keys)
{
	struct imap_msg_keys **p;

	if ((keys & ~kc->ranked) == 0 || kc->n == 0)
		return;
	p = xreallocarray(NULL, kc->n, sizeof(*p));
	for (int key = 0; key < IMAP_SORT_NKEYS; key++) {
		struct imap_sort_crit c = { (enum imap_sort_key)key, false };
		uint32_t r = 0;

		if (!(keys & ~kc->ranked & (1u << key)))
			continue;
		for (size_t i = 0; i < kc->n; i++) {
			kc->v[i].seq = (uint32_t)i;
			p[i] = &kc->v[i];
		}
		imap_sort(p, kc->n, &c, 1);
		for (size_t i = 0; i < kc->n; i++) {
			if (i > 0 && imap_sort_cmp_key(p[i - 1], p[i],
						       c.key) != 0)
				r++;
			p[i]->rank[key] = r;
		}
		kc->rank_of[key] = xreallocarray(kc->rank_of[key], kc->n,
						 sizeof(uint32_t));
		for (size_t i = 0; i < kc->n; i++)
			kc->rank_of[key][i] = kc->v[i].rank[key];
	}
	free(p);
	kc->ranked |= keys;
}

/* Under cache_lock: v[i] from the cache (every message is there). */
static void fill(const struct imap_keycache *kc, struct maildir_box *box,
		 const size_t *idx, size_t n, struct imap_msg_keys *v)
{
	size_t j = 0;

	for (size_t i = 0; i < n; i++) {
		const struct maildir_msg *m = maildir_box_msg(box, idx[i]);

		while (j < kc->n && kc->v[j].uid < m->uid)
			j++;
		if (j == kc->n || kc->v[j].uid != m->uid) {
			/* cannot happen: the caller's refs keep every UID
			 * it added; sort it as an empty header */
			memset(&v[i], 0, sizeof(v[i]));
			v[i].subject = v[i].from = v[i].to = v[i].cc = "";
			v[i].display_from = v[i].display_to = "";
			v[i].message_id = "";
			v[i].uid = m->uid;
		} else {
			v[i] = kc->v[j];
		}
		v[i].seq = (uint32_t)(idx[i] + 1);
		v[i].size = m->size;
		v[i].arrival = m->idate;
	}
}

/* Encodes k[0..n) and appends them to the key file (or with `all`,
 * makes the file hold just them). */
static void write_file(struct maildir_box *box, const struct imap_msg_keys *k,
		       size_t n, bool all)
{
	struct maildir_keyrec *recs = xreallocarray(NULL, n + 1, sizeof(*recs));
	struct buf b = BUF_INIT(BUF_UNLIMITED);
	size_t *offs = xreallocarray(NULL, n + 1, sizeof(*offs));

	for (size_t i = 0; i < n; i++) {
		offs[i] = b.len;
		imap_keys_encode(&k[i], &b);
	}
	for (size_t i = 0; i < n; i++) {
		recs[i].uid = k[i].uid;
		recs[i].data = b.data + offs[i];
		recs[i].len = (i + 1 < n ? offs[i + 1] : b.len) - offs[i];
	}
	if (all)
		maildir_box_keys_rewrite(box, recs, n);
	else
		maildir_box_keys_append(box, recs, n);
	free(offs);
	free(recs);
	buf_free(&b);
}

static void rewrite_file(struct maildir_box *box, struct imap_keycache *kc)
{
	write_file(box, kc->v, kc->n, true);
	kc->have_file = maildir_box_keys_id(box, &kc->file_id) == 0;
}

/* The cache of the box's folder holding messages idx[0..n), ranked by
 * the keys of `ranked`; returned with cache_lock held and a ref taken. */
static struct imap_keycache *prepare(struct maildir_box *box,
				     const char *store_path,
				     const size_t *idx, size_t n,
				     unsigned ranked)
{
	struct imap_keycache *kc;
	size_t *missing = xreallocarray(NULL, n + 1, sizeof(*missing));
	struct imap_msg_keys *fresh = NULL;
	size_t nmissing;
	char *head;

	pthread_mutex_lock(&cache_lock);
	kc = acquire(box, store_path);
	nmissing = find_missing(kc, box, idx, n, missing);
	pthread_mutex_unlock(&cache_lock);
	if (nmissing > 0) {
		fresh = xreallocarray(NULL, nmissing, sizeof(*fresh));
		head = xmalloc(IMAP_KEYS_HEAD_READ);
		for (size_t i = 0; i < nmissing; i++)
			imap_keys_from_file(box, idx[missing[i]], head,
					    &fresh[i]);
		free(head);
		write_file(box, fresh, nmissing, false);
	}
	pthread_mutex_lock(&cache_lock);
	if (nmissing > 0) {
		merge(kc, fresh, nmissing);
		/* our append may have made the file */
		if (!kc->have_file)
			kc->have_file = maildir_box_keys_id(box,
							    &kc->file_id) == 0;
	}
	if (prune(kc, box))
		rewrite_file(box, kc);
	rank_keys(kc, ranked);
	free(fresh);
	free(missing);
	return kc;
}

struct imap_keycache *imap_keycache_get(struct maildir_box *box,
					const char *store_path,
					const size_t *idx, size_t n,
					unsigned ranked, struct imap_msg_keys *v)
{
	struct imap_keycache *kc = prepare(box, store_path, idx, n, ranked);

	fill(kc, box, idx, n, v);
	pthread_mutex_unlock(&cache_lock);
	return kc;
}

void imap_keycache_ranks(struct maildir_box *box, const char *store_path,
			 const size_t *idx, size_t n,
			 const struct imap_sort_crit *crit, size_t ncrit,
			 uint32_t *rank)
{
	struct imap_keycache *kc;
	unsigned ranked = 0;
	size_t j = 0;

	for (size_t c = 0; c < ncrit; c++)
		ranked |= 1u << crit[c].key;
	kc = prepare(box, store_path, idx, n, ranked);
	compact_uids(kc);
	for (size_t i = 0; i < n; i++) {
		uint32_t uid = maildir_box_msg(box, idx[i])->uid;

		while (j < kc->n && kc->uids[j] < uid)
			j++;
		for (size_t c = 0; c < ncrit; c++)
			rank[i * ncrit + c] = j < kc->n && kc->uids[j] == uid ?
				kc->rank_of[crit[c].key][j] : 0;
	}
	pthread_mutex_unlock(&cache_lock);
	imap_keycache_release(&kc);
}
