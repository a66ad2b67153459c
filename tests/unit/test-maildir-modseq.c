/* CONDSTORE/QRESYNC support in the store: modseqs bumped by every change,
 * the expunge log (maildir_box_vanished), its bound and the upgrade of an
 * index written before it. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "maildir/box-int.h"
#include "maildir/folder.h"
#include "maildir/fsutil.h"
#include "maildir/lock.h"
#include "maildir/mailbox.h"
#include "tests/unit/maildir-helpers.h"

static char mail[1024];
static char *root;
static char err[256];

static void setup(void)
{
	root = mk_root(mail, sizeof(mail));
}

static void teardown(void)
{
	unit_rmtree(root);
	free(root);
}

static struct maildir_box *open_box(struct maildir_store **s, const char *name)
{
	struct maildir_box *box;

	if (*s == NULL)
		ck_assert_msg(maildir_store_open(mail, "alice", s, err,
						 sizeof(err)) == 0, "%s", err);
	ck_assert_msg(maildir_box_open(*s, name, 0, &box, err,
				       sizeof(err)) == 0, "%s", err);
	return box;
}

static void resync(struct maildir_box *box)
{
	struct maildir_changes ch;

	ck_assert_msg(maildir_box_sync(box, &ch, err, sizeof(err)) == 0, "%s",
		      err);
	maildir_changes_free(&ch);
}

static uint64_t highest(struct maildir_box *box)
{
	struct maildir_box_info info;

	maildir_box_info(box, &info);
	return info.highestmodseq;
}

/* Asserts the vanished UIDs since `since` are exactly `want` (n). */
static void check_vanished(struct maildir_box *box, uint64_t since,
			   bool complete, const uint32_t *want, size_t n)
{
	uint32_t *uids;
	size_t got;
	bool comp;

	ck_assert_int_eq(maildir_box_vanished(box, since, &uids, &got, &comp), 0);
	ck_assert_msg(comp == complete, "since %llu: complete %d",
		      (unsigned long long)since, comp);
	ck_assert_uint_eq(got, n);
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(uids[i], want[i]);
	free(uids);
}

START_TEST(test_modseq_bumps)
{
	struct maildir_store *s = NULL;
	struct maildir_box *a, *b;
	uint32_t uid = 1;
	uint64_t m0, m1;
	char from[2048], to[2100];

	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_B), 0);
	a = open_box(&s, "INBOX");
	b = open_box(&s, "INBOX");
	m0 = highest(a);
	ck_assert_uint_ge(m0, 1);
	ck_assert_uint_le(maildir_box_msg(a, 1)->modseq, m0);
	/* a STORE */
	ck_assert_int_eq(maildir_box_store(a, &uid, 1, MAILDIR_STORE_ADD,
		MAILDIR_FLAG_FLAGGED, 0, err, sizeof(err)), 0);
	resync(b);
	m1 = highest(b);
	ck_assert_uint_gt(m1, m0);
	ck_assert_uint_eq(maildir_box_msg(b, 0)->modseq, m1);
	/* a STORE that changes nothing changes no modseq */
	ck_assert_int_eq(maildir_box_store(a, &uid, 1, MAILDIR_STORE_ADD,
		MAILDIR_FLAG_FLAGGED, 0, err, sizeof(err)), 0);
	resync(b);
	ck_assert_uint_eq(highest(b), m1);
	/* another program renames the file (Maildir flag letters) */
	snprintf(from, sizeof(from), "%s/alice/%s", mail,
		 maildir_box_msg(b, 1)->fname);
	snprintf(to, sizeof(to), "%sS", from);
	ck_assert_int_eq(rename(from, to), 0);
	resync(b);
	ck_assert_uint_gt(highest(b), m1);
	ck_assert_uint_eq(maildir_box_msg(b, 1)->modseq, highest(b));
	ck_assert(maildir_box_msg(b, 1)->flags & MAILDIR_FLAG_SEEN);
	m1 = highest(b);
	maildir_box_close(&a);
	maildir_box_close(&b);
	maildir_store_close(&s);
	/* durable: the same after the environment is reopened */
	a = open_box(&s, "INBOX");
	ck_assert_uint_eq(highest(a), m1);
	ck_assert_uint_eq(maildir_box_msg(a, 1)->modseq, m1);
	maildir_box_close(&a);
	maildir_store_close(&s);
}
END_TEST

START_TEST(test_unchangedsince_zero)
{
	struct maildir_store *s = NULL;
	struct maildir_box *a;
	uint32_t uid = 1, modified[1];
	size_t nmod;

	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	a = open_box(&s, "INBOX");
	/* RFC 7162 3.1.3: every modseq is above 0, so nothing is stored */
	ck_assert_int_eq(maildir_box_store_cond(a, &uid, 1, MAILDIR_STORE_ADD,
		MAILDIR_FLAG_SEEN, 0, 0, modified, &nmod, err, sizeof(err)), 0);
	ck_assert_uint_eq(nmod, 1);
	ck_assert_uint_eq(modified[0], 1);
	ck_assert(!(maildir_box_msg(a, 0)->flags & MAILDIR_FLAG_SEEN));
	maildir_box_close(&a);
	maildir_store_close(&s);
}
END_TEST

START_TEST(test_expunge_log_exact)
{
	struct maildir_store *s = NULL;
	struct maildir_box *a, *b;
	uint32_t uid, dst_uv, src[1], dst[1];
	uint64_t m0, m1;
	size_t nmoved;
	char path[2048];

	for (int i = 0; i < 6; i++)
		ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	a = open_box(&s, "INBOX");
	ck_assert_int_eq(maildir_folder_create(s, "Other", err, sizeof(err)), 0);
	b = open_box(&s, "INBOX");
	m0 = highest(a);
	check_vanished(b, m0, true, NULL, 0);
	/* EXPUNGE of UID 2 */
	uid = 2;
	ck_assert_int_eq(maildir_box_expunge(a, &uid, 1, err, sizeof(err)), 0);
	resync(a);
	m1 = highest(a);
	/* another program deletes the file of UID 4 */
	snprintf(path, sizeof(path), "%s/alice/%s", mail,
		 maildir_box_msg(a, 2)->fname);
	ck_assert_uint_eq(maildir_box_msg(a, 2)->uid, 4);
	ck_assert_int_eq(unlink(path), 0);
	resync(a);
	/* MOVE of UID 5 */
	uid = 5;
	ck_assert_int_eq(maildir_box_move(a, &uid, 1, "Other", &dst_uv, src,
					  dst, &nmoved, err, sizeof(err)), 0);
	ck_assert_uint_eq(nmoved, 1);
	resync(a);
	{
		const uint32_t all[] = { 2, 4, 5 }, later[] = { 4, 5 };

		check_vanished(a, m0, true, all, 3);
		check_vanished(a, m1, true, later, 2);
		check_vanished(a, highest(a), true, NULL, 0);
		/* b has not synced: it still shows them, so none is told */
		check_vanished(b, m0, true, NULL, 0);
		resync(b);
		check_vanished(b, m0, true, all, 3);
	}
	/* a fresh folder logs from its start: complete from 0 */
	{
		const uint32_t all[] = { 2, 4, 5 };

		check_vanished(a, 0, true, all, 3);
	}
	maildir_box_close(&a);
	maildir_box_close(&b);
	maildir_store_close(&s);
	/* durable */
	a = open_box(&s, "INBOX");
	{
		const uint32_t later[] = { 4, 5 };

		check_vanished(a, m1, true, later, 2);
	}
	maildir_box_close(&a);
	maildir_store_close(&s);
}
END_TEST

/* Deletes the log's "G" record, as an index written before the log has
 * none. */
static void drop_meta(struct maildir_box *box)
{
	unsigned char k[5] = { 'G' };
	DBT key;
	int fd;

	k[1] = (unsigned char)(box->f.id >> 24);
	k[2] = (unsigned char)(box->f.id >> 16);
	k[3] = (unsigned char)(box->f.id >> 8);
	k[4] = (unsigned char)box->f.id;
	memset(&key, 0, sizeof(key));
	key.data = k;
	key.size = sizeof(k);
	fd = store_lock(box->s, err, sizeof(err));
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(box->s->db->del(box->s->db, NULL, &key, 0), 0);
	lock_index_release(fd);
}

START_TEST(test_index_without_log)
{
	struct maildir_store *s = NULL;
	struct maildir_box *a;
	struct maildir_box_info info;
	uint32_t uid = 1, uidvalidity;
	uint64_t m0;

	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	a = open_box(&s, "INBOX");
	maildir_box_info(a, &info);
	uidvalidity = info.uidvalidity;
	drop_meta(a);
	m0 = highest(a);
	/* what happened before is unknown: complete only from now */
	check_vanished(a, 0, false, NULL, 0);
	check_vanished(a, m0, true, NULL, 0);
	ck_assert_int_eq(maildir_box_expunge(a, &uid, 1, err, sizeof(err)), 0);
	resync(a);
	{
		const uint32_t one[] = { 1 };

		check_vanished(a, m0, true, one, 1);
		check_vanished(a, m0 - 1, false, NULL, 0);
	}
	/* upgraded in place: the same UIDVALIDITY */
	maildir_box_info(a, &info);
	ck_assert_uint_eq(info.uidvalidity, uidvalidity);
	maildir_box_close(&a);
	maildir_store_close(&s);
}
END_TEST

START_TEST(test_expunge_log_bounded)
{
	struct maildir_store *s = NULL;
	struct maildir_box *a;
	const uint64_t total = XLOG_MAX + XLOG_MAX / 8 + 1;
	struct frec f;
	DB_TXN *txn;
	uint64_t start, floor;
	uint32_t *uids;
	size_t n;
	bool complete;
	int fd;

	a = open_box(&s, "INBOX");
	f = a->f;
	start = f.modseq;
	fd = store_lock(s, err, sizeof(err));
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(idx_begin(s, &txn), 0);
	for (uint64_t i = 0; i < total; i++) {
		f.modseq++;
		ck_assert_int_eq(xlog_add(s, txn, &f, (uint32_t)(1000 + i)), 0);
		if (i % 1000 == 999) {
			ck_assert_int_eq(idx_commit(txn), 0);
			ck_assert_int_eq(idx_begin(s, &txn), 0);
		}
	}
	ck_assert_int_eq(idx_folder_put(s, txn, a->dir, &f), 0);
	ck_assert_int_eq(idx_commit(txn), 0);
	lock_index_release(fd);
	resync(a);
	/* the oldest (total - XLOG_MAX) were dropped; the floor is the
	 * modseq of the last of them */
	floor = start + (total - XLOG_MAX);
	ck_assert_int_eq(maildir_box_vanished(a, start, &uids, &n, &complete), 0);
	ck_assert(!complete);
	free(uids);
	ck_assert_int_eq(maildir_box_vanished(a, floor - 1, &uids, &n,
					      &complete), 0);
	ck_assert(!complete);
	free(uids);
	ck_assert_int_eq(maildir_box_vanished(a, floor, &uids, &n, &complete), 0);
	ck_assert(complete);
	ck_assert_uint_eq(n, XLOG_MAX);
	ck_assert_uint_eq(uids[0], 1000 + (total - XLOG_MAX));
	ck_assert_uint_eq(uids[n - 1], 1000 + total - 1);
	free(uids);
	maildir_box_close(&a);
	maildir_store_close(&s);
}
END_TEST

START_TEST(test_folder_delete_drops_log)
{
	struct maildir_store *s = NULL;
	struct maildir_box *a;
	uint32_t uid = 1;

	ck_assert_msg(maildir_store_open(mail, "alice", &s, err,
					 sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(maildir_folder_create(s, "Gone", err, sizeof(err)), 0);
	ck_assert_int_eq(deliver_text(mail, "alice", "Gone", MSG_A), 0);
	a = open_box(&s, "Gone");
	ck_assert_int_eq(maildir_box_expunge(a, &uid, 1, err, sizeof(err)), 0);
	maildir_box_close(&a);
	ck_assert_int_eq(maildir_folder_delete(s, "Gone", err, sizeof(err)), 0);
	ck_assert_int_eq(maildir_folder_create(s, "Gone", err, sizeof(err)), 0);
	a = open_box(&s, "Gone");
	/* a new folder: nothing of the old one's log */
	check_vanished(a, 0, true, NULL, 0);
	maildir_box_close(&a);
	maildir_store_close(&s);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("maildir-modseq");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_modseq_bumps);
	tcase_add_test(tc, test_unchangedsince_zero);
	tcase_add_test(tc, test_expunge_log_exact);
	tcase_add_test(tc, test_index_without_log);
	tcase_add_test(tc, test_expunge_log_bounded);
	tcase_add_test(tc, test_folder_delete_drops_log);
	suite_add_tcase(s, tc);
	return s;
}
