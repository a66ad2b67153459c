/* Usage accounting (maildir/quota.h): kept in the folder records with the
 * messages, right after deliveries not yet indexed, copies, moves,
 * expunges, files removed or added by other software, and index records
 * written before the count existed; and `user reset`. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maildir/folder.h"
#include "maildir/fsutil.h"
#include "maildir/index-int.h"
#include "maildir/lock.h"
#include "maildir/mailbox.h"
#include "maildir/quota.h"
#include "tests/unit/maildir-helpers.h"

static char mail[1024];
static char *root;
static char err[256];
static struct maildir_store *st;

static void setup(void)
{
	root = mk_root(mail, sizeof(mail));
	ck_assert_msg(maildir_store_open(mail, "alice", &st, err,
					 sizeof(err)) == 0, "%s", err);
}

static void teardown(void)
{
	maildir_store_close(&st);
	unit_rmtree(root);
	free(root);
}

static struct maildir_usage usage(void)
{
	struct maildir_usage u;

	ck_assert_msg(maildir_usage(st, &u, err, sizeof(err)) == 0, "%s", err);
	return u;
}

static struct maildir_box *open_box(const char *name)
{
	struct maildir_box *box;

	ck_assert_msg(maildir_box_open(st, name, 0, &box, err,
				       sizeof(err)) == 0, "%s", err);
	return box;
}

START_TEST(test_empty_and_delivered)
{
	struct maildir_usage u = usage();

	ck_assert_uint_eq(u.bytes, 0);
	ck_assert_uint_eq(u.messages, 0);
	/* delivered into new/, never opened by a session: counted */
	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	ck_assert_int_eq(deliver_text(mail, "alice", "Junk", MSG_B), 0);
	u = usage();
	ck_assert_uint_eq(u.bytes, strlen(MSG_A) + strlen(MSG_B));
	ck_assert_uint_eq(u.messages, 2);
	/* asking again changes nothing */
	u = usage();
	ck_assert_uint_eq(u.messages, 2);
}
END_TEST

START_TEST(test_copy_move_expunge)
{
	struct maildir_box *box;
	uint32_t uids[2] = { 1, 2 }, src[2], dst[2], uv;
	size_t n;
	uint64_t two = strlen(MSG_A) + strlen(MSG_B);

	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_B), 0);
	box = open_box("INBOX");
	ck_assert_int_eq(maildir_box_copy(box, uids, 2, "Trash", &uv, dst, &n,
					  err, sizeof(err)), 0);
	/* a copy counts again (RFC 9208 5.1: the sum of the messages) */
	ck_assert_uint_eq(usage().bytes, 2 * two);
	ck_assert_int_eq(maildir_box_move(box, uids, 1, "Sent", &uv, src, dst,
					  &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(usage().bytes, 2 * two);
	ck_assert_uint_eq(usage().messages, 4);
	ck_assert_int_eq(maildir_box_expunge(box, &uids[1], 1, err,
					     sizeof(err)), 0);
	ck_assert_uint_eq(usage().bytes, 2 * two - strlen(MSG_B));
	ck_assert_uint_eq(usage().messages, 3);
	maildir_box_close(&box);
}
END_TEST

START_TEST(test_external_changes)
{
	struct maildir_box *box;
	struct buf p = BUF_INIT(BUF_UNLIMITED);

	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_B), 0);
	box = open_box("INBOX");
	ck_assert_uint_eq(usage().messages, 2);
	/* another program removes a message and drops one in with bare LF
	 * line ends: the count follows, in wire size (CRLF) */
	maildir_box_path(box, maildir_box_msg(box, 0), &p);
	ck_assert_int_eq(unlink(p.data), 0);
	buf_clear(&p);
	buf_printf(&p, "%s/alice/cur/1.foreign.host:2,S", mail);
	write_file(p.data, "Subject: x\n\nbody\n");
	ck_assert_uint_eq(usage().bytes, strlen(MSG_B) + 17 + 3);
	ck_assert_uint_eq(usage().messages, 2);
	buf_free(&p);
	maildir_box_close(&box);
}
END_TEST

/* A folder record as version 1 wrote it (no byte count) is counted once
 * from the message records and stored. */
START_TEST(test_version1_record)
{
	struct maildir_box *box;
	struct frec f;
	DB_TXN *txn;
	DBT key, data;
	int fd;

	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	box = open_box("INBOX");
	maildir_box_close(&box);
	fd = lock_index(maildir_store_path(st), true);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(idx_folder_get(st, NULL, "", &f), 0);
	f.version = 1;
	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	key.data = "F";
	key.size = 1;
	data.data = &f;
	data.size = FREC_V1_SIZE;
	ck_assert_int_eq(idx_begin(st, &txn), 0);
	ck_assert_int_eq(st->db->put(st->db, txn, &key, &data, 0), 0);
	ck_assert_int_eq(idx_commit(txn), 0);
	ck_assert_int_eq(idx_folder_get(st, NULL, "", &f), 0);
	ck_assert_uint_eq(f.version, FREC_VERSION);
	ck_assert(f.bytes == FREC_BYTES_UNKNOWN);
	lock_index_release(fd);

	ck_assert_uint_eq(usage().bytes, strlen(MSG_A));
	fd = lock_index(maildir_store_path(st), true);
	ck_assert_int_eq(idx_folder_get(st, NULL, "", &f), 0);
	ck_assert_uint_eq(f.bytes, strlen(MSG_A));
	lock_index_release(fd);
	/* and the UIDs were kept: no rebuild */
	box = open_box("INBOX");
	ck_assert_uint_eq(maildir_box_msg(box, 0)->uid, 1);
	maildir_box_close(&box);
}
END_TEST

START_TEST(test_reset)
{
	struct maildir_box *box, *other;
	struct maildir_changes ch;
	struct maildir_box_info before, after;
	struct maildir_folder *list;
	size_t n;

	ck_assert_int_eq(maildir_folder_create(st, "Course/Week1", err,
					       sizeof(err)), 0);
	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_B), 0);
	ck_assert_int_eq(deliver_text(mail, "alice", "Trash", MSG_B), 0);
	ck_assert_int_eq(deliver_text(mail, "alice", "Course/Week1", MSG_A), 0);
	box = open_box("INBOX");
	other = open_box("Trash");
	maildir_box_info(box, &before);
	ck_assert_uint_eq(before.messages, 2);

	ck_assert_msg(maildir_user_reset(st, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(usage().bytes, 0);
	ck_assert_uint_eq(usage().messages, 0);
	/* an open session sees every message expunged */
	ck_assert_int_eq(maildir_box_sync(box, &ch, err, sizeof(err)), 0);
	ck_assert(!ch.uidvalidity_changed);
	ck_assert_uint_eq(ch.n_expunged, 2);
	maildir_changes_free(&ch);
	ck_assert_uint_eq(maildir_box_count(box), 0);
	ck_assert_int_eq(maildir_box_sync(other, &ch, err, sizeof(err)), 0);
	ck_assert_uint_eq(ch.n_expunged, 1);
	maildir_changes_free(&ch);
	/* the folder keeps its UIDVALIDITY; UIDs are not given again */
	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	ck_assert_int_eq(maildir_box_sync(box, &ch, err, sizeof(err)), 0);
	maildir_changes_free(&ch);
	maildir_box_info(box, &after);
	ck_assert_uint_eq(after.uidvalidity, before.uidvalidity);
	ck_assert_uint_eq(maildir_box_msg(box, 0)->uid, 3);
	maildir_box_close(&box);
	maildir_box_close(&other);
	/* the user's own folders are gone, the standard ones stay */
	ck_assert_int_eq(maildir_folder_list(st, &list, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 5);
	ck_assert_str_eq(list[0].name, "INBOX");
	for (size_t i = 1; i < n; i++)
		ck_assert(maildir_user_default_folder(list[i].name));
	maildir_folder_list_free(list, n);
	ck_assert_int_eq(count_sub(mail, "alice/.Trash/cur"), 0);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("maildir-quota");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_empty_and_delivered);
	tcase_add_test(tc, test_copy_move_expunge);
	tcase_add_test(tc, test_external_changes);
	tcase_add_test(tc, test_version1_record);
	tcase_add_test(tc, test_reset);
	suite_add_tcase(s, tc);
	return s;
}
