/* The expunge log of a folder (index-int.h, "E" and "G" records): which
 * UID left the folder at which modseq, so that QRESYNC can tell a client
 * exactly what vanished since the modseq it last saw (RFC 7162 3.2.5.1,
 * 3.2.6).  Bounded: past XLOG_MAX + XLOG_MAX / 8 entries the oldest are
 * dropped down to XLOG_MAX, and the folder's floor (the highest modseq
 * whose expunges are no longer all known) rises to the last one dropped. */
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "maildir/box-int.h"
#include "maildir/lock.h"

/* "G" ID: what the log of a folder holds. */
struct xlog_meta {
	uint64_t floor;		/* expunges at modseq <= floor may be missing */
	uint64_t count;		/* "E" records of the folder */
};

static void put_be(unsigned char *p, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--) {
		p[i] = (unsigned char)v;
		v >>= 8;
	}
}

static uint64_t get_be(const unsigned char *p, int bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes; i++)
		v = v << 8 | p[i];
	return v;
}

static void meta_key(unsigned char *k, uint32_t id)
{
	k[0] = 'G';
	put_be(k + 1, id, 4);
}

static void entry_key(unsigned char *k, uint32_t id, uint64_t modseq)
{
	k[0] = 'E';
	put_be(k + 1, id, 4);
	put_be(k + 5, modseq, 8);
}

static void dbt_set(DBT *d, void *p, size_t n)
{
	memset(d, 0, sizeof(*d));
	d->data = p;
	d->size = (u_int32_t)n;
	d->ulen = (u_int32_t)n;
	d->flags = DB_DBT_USERMEM;
}

/* 0 found, 1 none, -1 error. */
static int meta_get(struct maildir_store *s, DB_TXN *txn, uint32_t id,
		    struct xlog_meta *meta)
{
	unsigned char k[5];
	DBT key, val;
	int r;

	meta_key(k, id);
	dbt_set(&key, k, sizeof(k));
	dbt_set(&val, meta, sizeof(*meta));
	r = s->db->get(s->db, txn, &key, &val, 0);
	if (r == DB_NOTFOUND || (r == 0 && val.size != sizeof(*meta)))
		return 1;
	return r == 0 ? 0 : -1;
}

static int meta_put(struct maildir_store *s, DB_TXN *txn, uint32_t id,
		    struct xlog_meta *meta)
{
	unsigned char k[5];
	DBT key, val;

	meta_key(k, id);
	dbt_set(&key, k, sizeof(k));
	dbt_set(&val, meta, sizeof(*meta));
	return s->db->put(s->db, txn, &key, &val, 0) == 0 ? 0 : -1;
}

int xlog_init(struct maildir_store *s, DB_TXN *txn, uint32_t id)
{
	struct xlog_meta meta = { 0, 0 };

	return meta_put(s, txn, id, &meta);
}

/* A walk over "E" records ends at the first other key; one that does not
 * fit the buffers of an "E" record (DB_BUFFER_SMALL) is another key. */
static int end_of_walk(int r)
{
	return r == 0 || r == DB_NOTFOUND || r == DB_BUFFER_SMALL ? 0 : -1;
}

/* Deletes the oldest `n` entries; *floor_r becomes the modseq of the last
 * one deleted. */
static int prune(struct maildir_store *s, DB_TXN *txn, uint32_t id,
		 uint64_t n, uint64_t *floor_r)
{
	unsigned char k[13], v[4];
	DBT key, val;
	DBC *c;
	int r;

	if (s->db->cursor(s->db, txn, &c, 0) != 0)
		return -1;
	entry_key(k, id, 0);
	dbt_set(&key, k, sizeof(k));
	dbt_set(&val, v, sizeof(v));
	for (r = c->get(c, &key, &val, DB_SET_RANGE); r == 0 && n > 0;
	     r = c->get(c, &key, &val, DB_NEXT)) {
		if (key.size != sizeof(k) || k[0] != 'E' || get_be(k + 1, 4) != id)
			break;
		*floor_r = get_be(k + 5, 8);
		if (c->del(c, 0) != 0) {
			r = -1;
			break;
		}
		n--;
	}
	c->close(c);
	return end_of_walk(r);
}

int xlog_add(struct maildir_store *s, DB_TXN *txn, const struct frec *f,
	     uint32_t uid)
{
	struct xlog_meta meta;
	unsigned char k[13], v[4];
	DBT key, val;
	int r = meta_get(s, txn, f->id, &meta);

	if (r < 0)
		return -1;
	if (r == 1) {
		/* an index older than the log: what went before is unknown */
		meta.floor = f->modseq - 1;
		meta.count = 0;
	}
	entry_key(k, f->id, f->modseq);
	put_be(v, uid, 4);
	dbt_set(&key, k, sizeof(k));
	dbt_set(&val, v, sizeof(v));
	if (s->db->put(s->db, txn, &key, &val, 0) != 0)
		return -1;
	meta.count++;
	if (meta.count > XLOG_MAX + XLOG_MAX / 8) {
		if (prune(s, txn, f->id, meta.count - XLOG_MAX, &meta.floor) < 0)
			return -1;
		meta.count = XLOG_MAX;
	}
	return meta_put(s, txn, f->id, &meta);
}

/* Collects the UIDs of the entries after `since` (no transaction: the
 * caller holds the index lock). */
static int collect(struct maildir_store *s, uint32_t id, uint64_t since,
		   uint32_t **uids_r, size_t *n_r)
{
	unsigned char k[13], v[4];
	size_t cap = 0;
	DBT key, val;
	DBC *c;
	int r;

	if (s->db->cursor(s->db, NULL, &c, 0) != 0)
		return -1;
	entry_key(k, id, since + 1);
	dbt_set(&key, k, sizeof(k));
	dbt_set(&val, v, sizeof(v));
	for (r = c->get(c, &key, &val, DB_SET_RANGE); r == 0;
	     r = c->get(c, &key, &val, DB_NEXT)) {
		if (key.size != sizeof(k) || k[0] != 'E' || get_be(k + 1, 4) != id)
			break;
		if (val.size != sizeof(v))
			continue;
		if (*n_r == cap) {
			cap = cap ? cap * 2 : 64;
			*uids_r = xreallocarray(*uids_r, cap, sizeof(**uids_r));
		}
		(*uids_r)[(*n_r)++] = (uint32_t)get_be(v, 4);
	}
	c->close(c);
	return end_of_walk(r);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int maildir_box_vanished(struct maildir_box *box, uint64_t since,
			 uint32_t **uids_r, size_t *n_r, bool *complete_r)
{
	struct xlog_meta meta;
	uint32_t *uids = NULL;
	size_t n = 0, kept = 0;
	char err[256];
	int fd, r;

	*uids_r = NULL;
	*n_r = 0;
	*complete_r = false;
	fd = store_lock(box->s, err, sizeof(err));
	if (fd < 0)
		return -1;
	r = meta_get(box->s, NULL, box->f.id, &meta);
	if (r == 1)	/* no expunge logged yet since the log existed */
		meta.floor = box->f.modseq;
	if (r >= 0 && since >= meta.floor)
		r = collect(box->s, box->f.id, since, &uids, &n);
	lock_index_release(fd);
	if (r < 0) {
		free(uids);
		return -1;
	}
	*complete_r = since >= meta.floor;
	if (n > 1)
		qsort(uids, n, sizeof(*uids), cmp_u32);
	/* the session still shows those it has not been told of */
	for (size_t i = 0; i < n; i++)
		if ((i == 0 || uids[i] != uids[i - 1]) &&
		    maildir_box_find(box, uids[i]) < 0)
			uids[kept++] = uids[i];
	*uids_r = uids;
	*n_r = kept;
	return 0;
}
