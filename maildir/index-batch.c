/* Message records put many at a time (index-int.h, struct idx_msg_batch). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "maildir/index-int.h"

/* A multiple of 4 (DB_MULTIPLE_WRITE_INIT); about 9,000 records of a
 * Maildir name each. */
#define BATCH_BYTES (1024 * 1024)

void idx_batch_init(struct idx_msg_batch *b, struct maildir_store *s,
		    uint32_t id)
{
	memset(b, 0, sizeof(*b));
	b->s = s;
	b->id = id;
}

static void batch_start(struct idx_msg_batch *b)
{
	if (b->buf == NULL)
		b->buf = xmalloc(BATCH_BYTES);
	memset(&b->dbt, 0, sizeof(b->dbt));
	b->dbt.data = b->buf;
	b->dbt.ulen = BATCH_BYTES;
	b->dbt.flags = DB_DBT_USERMEM;
	DB_MULTIPLE_WRITE_INIT(b->ptr, &b->dbt);
	b->n = 0;
}

int idx_batch_flush(struct idx_msg_batch *b, DB_TXN *txn)
{
	DBT unused;
	int ret;

	if (b->n == 0)
		return 0;
	memset(&unused, 0, sizeof(unused));
	/* DB_MULTIPLE_KEY: the pairs are in the key DBT; the data DBT is
	 * not read.  One cursor walks them all. */
	ret = b->s->db->put(b->s->db, txn, &b->dbt, &unused, DB_MULTIPLE_KEY);
	b->n = 0;
	b->ptr = NULL;
	if (ret == 0)
		return 0;
	errno = ret > 0 ? ret : EIO;
	return -1;
}

/* Reserves the key and value of one record: 0, or 1 when the buffer is
 * full (nothing reserved). */
static int reserve(struct idx_msg_batch *b, size_t vlen, unsigned char **k_r,
		   char **v_r)
{
	void *k, *v;

	if (b->ptr == NULL)
		batch_start(b);
	DB_MULTIPLE_KEY_RESERVE_NEXT(b->ptr, &b->dbt, k, 9, v, vlen);
	if (k == NULL || v == NULL)
		return 1;
	*k_r = k;
	*v_r = v;
	return 0;
}

int idx_batch_add(struct idx_msg_batch *b, DB_TXN *txn, uint32_t uid,
		  const struct mrec *m, const char *fname)
{
	size_t flen = strlen(fname) + 1, vlen = sizeof(*m) + flen;
	unsigned char *k;
	char *v;

	if (vlen > BATCH_BYTES / 4)	/* not a Maildir name: alone */
		return idx_batch_flush(b, txn) < 0 ? -1 :
			idx_msg_put(b->s, txn, b->id, uid, m, fname);
	if (reserve(b, vlen, &k, &v) != 0) {
		if (idx_batch_flush(b, txn) < 0)
			return -1;
		if (reserve(b, vlen, &k, &v) != 0) {
			errno = EOVERFLOW;
			return -1;
		}
	}
	idx_msg_key(k, b->id, uid);
	memcpy(v, m, sizeof(*m));
	memcpy(v + sizeof(*m), fname, flen);
	b->n++;
	return 0;
}

void idx_batch_free(struct idx_msg_batch *b)
{
	free(b->buf);
	b->buf = NULL;
	b->ptr = NULL;
	b->n = 0;
}
