/* Sessions of one user at once, as imaptest's stress mode drives them:
 * some deliver, flag and expunge (holding the index lock), others read and
 * write the message cache as FETCH does (without it).  The writers must
 * never fail: a Berkeley DB deadlock between a writer and a cache
 * transaction or cursor has to cost the cache side, which can do without
 * (imaptest saw "EXPUNGE failed: ... Input/output error"). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "maildir/mailbox.h"
#include "maildir/name.h"
#include "tests/unit/maildir-helpers.h"

enum {
	WRITERS = 2,
	CACHERS = 3,
	ROUNDS = 40,		/* per writer */
	PER_ROUND = 6,		/* messages delivered per round */
	RECORD = 6000,		/* cache record bytes: a few per page */
};

static char mail[1024];
static char *root;
static atomic_int writers_left;
static atomic_int cache_puts_ok;	/* the cache side did work too */

struct worker_result {
	int failures;
	char first_err[300];
};

static void note_failure(struct worker_result *r, const char *what,
			 const char *err)
{
	if (r->failures++ == 0)
		snprintf(r->first_err, sizeof(r->first_err), "%s: %s", what,
			 err);
}

static struct maildir_box *open_inbox(struct maildir_store *s)
{
	struct maildir_box *box;
	char err[256];

	ck_assert_msg(maildir_box_open(s, "INBOX", 0, &box, err,
				       sizeof(err)) == 0, "%s", err);
	return box;
}

static uint32_t *snapshot_uids(const struct maildir_box *box, size_t *n_r)
{
	size_t n = maildir_box_count(box);
	uint32_t *uids = xreallocarray(NULL, n + 1, sizeof(*uids));

	for (size_t i = 0; i < n; i++)
		uids[i] = maildir_box_msg(box, i)->uid;
	*n_r = n;
	return uids;
}

/* One writer round: deliver, sync, flag everything \Deleted, expunge. */
static void write_round(struct maildir_box *box, struct worker_result *r)
{
	struct maildir_changes ch;
	uint32_t *uids;
	size_t n;
	char err[256];

	for (int i = 0; i < PER_ROUND; i++)
		if (deliver_text(mail, "alice", NULL, MSG_A) < 0)
			note_failure(r, "delivery", "failed");
	if (maildir_box_sync(box, &ch, err, sizeof(err)) < 0) {
		note_failure(r, "sync", err);
		return;
	}
	maildir_changes_free(&ch);
	uids = snapshot_uids(box, &n);
	if (maildir_box_store(box, uids, n, MAILDIR_STORE_ADD,
			      MAILDIR_FLAG_DELETED, 0, err, sizeof(err)) < 0)
		note_failure(r, "store", err);
	if (maildir_box_expunge(box, NULL, 0, err, sizeof(err)) < 0)
		note_failure(r, "expunge", err);
	free(uids);
}

static void *writer(void *arg)
{
	struct worker_result *r = arg;
	struct maildir_store *s = NULL;
	struct maildir_box *box;
	char err[256];

	ck_assert_msg(maildir_store_open(mail, "alice", &s, err,
					 sizeof(err)) == 0, "%s", err);
	box = open_inbox(s);
	for (int round = 0; round < ROUNDS; round++)
		write_round(box, r);
	maildir_box_close(&box);
	maildir_store_close(&s);
	atomic_fetch_sub(&writers_left, 1);
	return NULL;
}

static int count_record(void *arg, uint32_t uid, const void *data, size_t len)
{
	(void)uid;
	(void)data;
	(void)len;
	++*(size_t *)arg;
	return 0;
}

/* What FETCH does with the cache: a record per message, a range walk, a
 * single read.  Failures are allowed here (FETCH falls back to the file). */
static void cache_round(struct maildir_box *box, char *record)
{
	struct maildir_changes ch;
	struct buf out = BUF_INIT(BUF_UNLIMITED);
	size_t n, seen = 0;
	char err[256];

	if (maildir_box_sync(box, &ch, err, sizeof(err)) < 0)
		return;
	maildir_changes_free(&ch);
	n = maildir_box_count(box);
	for (size_t i = 0; i < n; i++) {
		uint32_t uid = maildir_box_msg(box, i)->uid;

		record[0] = (char)uid;
		if (maildir_box_cache_put(box, uid, record, RECORD) == 0)
			atomic_fetch_add(&cache_puts_ok, 1);
	}
	maildir_box_cache_range(box, 1, UINT32_MAX, count_record, &seen);
	for (size_t i = 0; i < n; i++) {
		buf_clear(&out);
		maildir_box_cache_get(box, maildir_box_msg(box, i)->uid, &out);
	}
	buf_free(&out);
}

static void *cacher(void *arg)
{
	struct maildir_store *s = NULL;
	struct maildir_box *box;
	char *record = xmalloc(RECORD);
	char err[256];

	(void)arg;
	memset(record, 'c', RECORD);
	ck_assert_msg(maildir_store_open(mail, "alice", &s, err,
					 sizeof(err)) == 0, "%s", err);
	box = open_inbox(s);
	while (atomic_load(&writers_left) > 0)
		cache_round(box, record);
	maildir_box_close(&box);
	maildir_store_close(&s);
	free(record);
	return NULL;
}

START_TEST(test_writers_never_lose_to_cache_users)
{
	pthread_t w[WRITERS], c[CACHERS];
	struct worker_result res[WRITERS];
	struct maildir_store *s = NULL;
	struct maildir_box *box;
	char err[256];

	root = mk_root(mail, sizeof(mail));
	/* the index exists before the threads race to open it */
	ck_assert_msg(maildir_store_open(mail, "alice", &s, err,
					 sizeof(err)) == 0, "%s", err);
	box = open_inbox(s);
	memset(res, 0, sizeof(res));
	atomic_store(&writers_left, WRITERS);
	atomic_store(&cache_puts_ok, 0);
	for (int i = 0; i < CACHERS; i++)
		ck_assert_int_eq(pthread_create(&c[i], NULL, cacher, NULL), 0);
	for (int i = 0; i < WRITERS; i++)
		ck_assert_int_eq(pthread_create(&w[i], NULL, writer, &res[i]), 0);
	for (int i = 0; i < WRITERS; i++)
		pthread_join(w[i], NULL);
	for (int i = 0; i < CACHERS; i++)
		pthread_join(c[i], NULL);
	for (int i = 0; i < WRITERS; i++)
		ck_assert_msg(res[i].failures == 0, "writer %d: %d failures, "
			      "first %s", i, res[i].failures, res[i].first_err);
	ck_assert_int_gt(atomic_load(&cache_puts_ok), 0);
	maildir_box_close(&box);
	maildir_store_close(&s);
	unit_rmtree(root);
	free(root);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("maildir-concurrent");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_writers_never_lose_to_cache_users);
	suite_add_tcase(s, tc);
	return s;
}
