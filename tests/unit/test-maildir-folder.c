#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "maildir/folder.h"
#include "maildir/lock.h"
#include "maildir/mailbox.h"
#include "tests/unit/maildir-helpers.h"

static char mail[1024];
static char *root;
static char err[256];
static struct maildir_store *store;

static void setup(void)
{
	root = mk_root(mail, sizeof(mail));
	ck_assert_msg(maildir_store_open(mail, "alice", &store, err,
					 sizeof(err)) == 0, "%s", err);
}

static void teardown(void)
{
	maildir_store_close(&store);
	unit_rmtree(root);
	free(root);
}

static unsigned attrs_of(const char *name)
{
	struct maildir_folder *list;
	unsigned attrs = 0;
	size_t n, i;
	int found = 0;

	ck_assert_int_eq(maildir_folder_list(store, &list, &n, err, sizeof(err)), 0);
	for (i = 0; i < n; i++)
		if (strcmp(list[i].name, name) == 0) {
			attrs = list[i].attrs;
			found = 1;
		}
	maildir_folder_list_free(list, n);
	/* A missing folder fails here rather than passing every bit test. */
	ck_assert_msg(found, "folder %s not listed", name);
	return attrs;
}

static bool exists_dir(const char *rel)
{
	struct buf p = BUF_INIT(BUF_UNLIMITED);
	struct stat st;
	bool ok;

	buf_printf(&p, "%s/alice/%s", mail, rel);
	ok = stat(p.data, &st) == 0;
	buf_free(&p);
	return ok;
}

START_TEST(test_new_user_layout_and_list)
{
	struct maildir_folder *list;
	size_t n;

	ck_assert(exists_dir("cur") && exists_dir("new") && exists_dir("tmp"));
	ck_assert(exists_dir(".Sent/cur") && exists_dir(".Trash/maildirfolder"));
	ck_assert_int_eq(maildir_folder_list(store, &list, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 5);
	ck_assert_str_eq(list[0].name, "INBOX");
	ck_assert_str_eq(list[1].name, "Drafts");
	ck_assert(list[1].attrs & MAILDIR_FOLDER_DRAFTS);
	ck_assert(list[1].attrs & MAILDIR_FOLDER_SUBSCRIBED);
	ck_assert(list[1].attrs & MAILDIR_FOLDER_HASNOCHILDREN);
	maildir_folder_list_free(list, n);
	ck_assert(attrs_of("Sent") & MAILDIR_FOLDER_SENT);
	ck_assert(attrs_of("Junk") & MAILDIR_FOLDER_JUNK);
	ck_assert(attrs_of("Trash") & MAILDIR_FOLDER_TRASH);
	/* Creating again completes and succeeds. */
	ck_assert_int_eq(maildir_user_create(mail, "alice", err, sizeof(err)), 0);
	ck_assert_int_eq(maildir_user_create(mail, "../x", err, sizeof(err)), -1);
}
END_TEST

START_TEST(test_create_with_parents_and_refusals)
{
	ck_assert_int_eq(maildir_folder_create(store, "Work/2026/Q1", err,
					       sizeof(err)), 0);
	ck_assert(exists_dir(".Work/cur"));
	ck_assert(exists_dir(".Work.2026/cur"));
	ck_assert(exists_dir(".Work.2026.Q1/maildirfolder"));
	ck_assert(attrs_of("Work") & MAILDIR_FOLDER_HASCHILDREN);
	ck_assert(attrs_of("Work/2026/Q1") & MAILDIR_FOLDER_HASNOCHILDREN);
	ck_assert_int_eq(maildir_folder_create(store, "Work", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "exists"));
	ck_assert_int_eq(maildir_folder_create(store, "inbox", err, sizeof(err)), -1);
	ck_assert_int_eq(maildir_folder_create(store, "../evil", err, sizeof(err)), -1);
	ck_assert_int_eq(maildir_folder_create(store, "/abs", err, sizeof(err)), -1);
	ck_assert_int_eq(maildir_folder_create(store, "a.b", err, sizeof(err)), -1);
	ck_assert_int_eq(maildir_folder_create(store, "x//y", err, sizeof(err)), -1);
	/* Non-ASCII names in mUTF-7 round-trip through the disk. */
	ck_assert_int_eq(maildir_folder_create(store, "Entw&APw-rfe", err,
					       sizeof(err)), 0);
	ck_assert(exists_dir(".Entw&APw-rfe/cur"));
	(void)attrs_of("Entw&APw-rfe");	/* asserts that it is listed */
	/* An implicit parent made by other software lists as \Noselect. */
	{
		struct buf p = BUF_INIT(BUF_UNLIMITED);

		buf_printf(&p, "%s/alice/.Old.Sub", mail);
		ck_assert_int_eq(mkdir(p.data, 0700), 0);
		buf_puts(&p, "/cur");
		ck_assert_int_eq(mkdir(p.data, 0700), 0);
		buf_free(&p);
	}
	ck_assert(attrs_of("Old") & MAILDIR_FOLDER_NOSELECT);
	ck_assert(attrs_of("Old") & MAILDIR_FOLDER_HASCHILDREN);
}
END_TEST

START_TEST(test_delete)
{
	struct maildir_box *box;

	ck_assert_int_eq(maildir_folder_create(store, "A/B", err, sizeof(err)), 0);
	ck_assert_int_eq(deliver_text(mail, "alice", "A", MSG_A), 0);
	ck_assert_int_eq(maildir_box_open(store, "A", 0, &box, err, sizeof(err)), 0);
	ck_assert_int_eq(maildir_folder_delete(store, "A", err, sizeof(err)), 0);
	{
		struct maildir_changes ch;

		/* A session that had it open learns it is gone. */
		ck_assert_int_eq(maildir_box_sync(box, &ch, err, sizeof(err)), -1);
		ck_assert_int_eq(errno, ENOENT);
	}
	maildir_box_close(&box);
	ck_assert(!exists_dir(".A"));
	ck_assert(exists_dir(".A.B/cur"));
	ck_assert(attrs_of("A") & MAILDIR_FOLDER_NOSELECT);
	ck_assert_int_eq(maildir_box_open(store, "A", 0, &box, err, sizeof(err)), -1);
	ck_assert_int_eq(maildir_folder_delete(store, "A", err, sizeof(err)), -1);
	ck_assert_int_eq(maildir_folder_delete(store, "INBOX", err, sizeof(err)), -1);
	ck_assert_int_eq(maildir_folder_delete(store, "Nope", err, sizeof(err)), -1);
	/* A delete interrupted after its rename is finished at next open. */
	{
		struct buf p = BUF_INIT(BUF_UNLIMITED);

		buf_printf(&p, "%s/alice/..maillab-deleted.99", mail);
		ck_assert_int_eq(mkdir(p.data, 0700), 0);
		buf_puts(&p, "/cur");
		ck_assert_int_eq(mkdir(p.data, 0700), 0);
		maildir_store_close(&store);
		ck_assert_int_eq(maildir_store_open(mail, "alice", &store, err,
						    sizeof(err)), 0);
		ck_assert(!exists_dir("..maillab-deleted.99"));
		buf_free(&p);
	}
	/* Recreated: a new UIDVALIDITY, UIDs from 1. */
	ck_assert_int_eq(maildir_folder_create(store, "A", err, sizeof(err)), 0);
	ck_assert_int_eq(maildir_box_open(store, "A", 0, &box, err, sizeof(err)), 0);
	ck_assert_uint_eq(maildir_box_count(box), 0);
	maildir_box_close(&box);
}
END_TEST

START_TEST(test_rename_keeps_uids)
{
	struct maildir_box *box;
	struct maildir_box_info info, after;

	ck_assert_int_eq(maildir_folder_create(store, "Old/Child", err, sizeof(err)), 0);
	ck_assert_int_eq(deliver_text(mail, "alice", "Old", MSG_A), 0);
	ck_assert_int_eq(deliver_text(mail, "alice", "Old", MSG_B), 0);
	ck_assert_int_eq(maildir_box_open(store, "Old", 0, &box, err, sizeof(err)), 0);
	maildir_box_info(box, &info);
	maildir_box_close(&box);
	ck_assert_int_eq(maildir_folder_rename(store, "Old", "New/Place", err,
					       sizeof(err)), 0);
	ck_assert(!exists_dir(".Old"));
	ck_assert(!exists_dir(".Old.Child"));
	ck_assert(exists_dir(".New.Place/cur"));
	ck_assert(exists_dir(".New.Place.Child/cur"));
	ck_assert_int_eq(maildir_box_open(store, "New/Place", 0, &box, err,
					  sizeof(err)), 0);
	maildir_box_info(box, &after);
	ck_assert_uint_eq(after.uidvalidity, info.uidvalidity);
	ck_assert_uint_eq(maildir_box_count(box), 2);
	ck_assert_uint_eq(maildir_box_msg(box, 1)->uid, 2);
	maildir_box_close(&box);
	ck_assert_int_eq(maildir_folder_rename(store, "Nope", "X", err, sizeof(err)), -1);
	ck_assert_int_eq(maildir_folder_rename(store, "Sent", "Trash", err, sizeof(err)), -1);
	ck_assert_int_eq(maildir_folder_rename(store, "Sent", "INBOX", err, sizeof(err)), -1);
	ck_assert_int_eq(maildir_folder_rename(store, "New", "New/Place/In", err,
					       sizeof(err)), -1);
}
END_TEST

START_TEST(test_rename_inbox)
{
	struct maildir_box *box;

	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_B), 0);
	ck_assert_int_eq(maildir_box_open(store, "INBOX", 0, &box, err, sizeof(err)), 0);
	ck_assert_uint_eq(maildir_box_count(box), 2);
	maildir_box_close(&box);
	ck_assert_int_eq(maildir_folder_rename(store, "INBOX", "Archive", err,
					       sizeof(err)), 0);
	ck_assert_int_eq(maildir_box_open(store, "INBOX", 0, &box, err, sizeof(err)), 0);
	ck_assert_uint_eq(maildir_box_count(box), 0);
	maildir_box_close(&box);
	ck_assert_int_eq(maildir_box_open(store, "Archive", 0, &box, err, sizeof(err)), 0);
	ck_assert_uint_eq(maildir_box_count(box), 2);
	maildir_box_close(&box);
}
END_TEST

START_TEST(test_subscriptions_and_match)
{
	char **subs;
	size_t n, i;
	bool found = false;

	ck_assert_int_eq(maildir_folder_subscribe(store, "Work", true, err, sizeof(err)), 0);
	ck_assert_int_eq(maildir_folder_subscribe(store, "Work", true, err, sizeof(err)), 0);
	ck_assert_int_eq(maildir_folder_subscribe(store, "Junk", false, err, sizeof(err)), 0);
	ck_assert_int_eq(maildir_folder_subscribe(store, "a..b", true, err, sizeof(err)), -1);
	ck_assert_int_eq(maildir_subscriptions(store, &subs, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 4);	/* Sent Drafts Trash Work */
	for (i = 0; i < n; i++) {
		if (strcmp(subs[i], "Work") == 0)
			found = true;
		ck_assert_str_ne(subs[i], "Junk");
		free(subs[i]);
	}
	free(subs);
	ck_assert(found);
	ck_assert(!(attrs_of("Junk") & MAILDIR_FOLDER_SUBSCRIBED));
	ck_assert(maildir_folder_match("*", "Work/2026"));
	ck_assert(maildir_folder_match("%", "Work"));
	ck_assert(!maildir_folder_match("%", "Work/2026"));
	ck_assert(maildir_folder_match("Work/%", "Work/2026"));
	ck_assert(maildir_folder_match("W*6", "Work/2026"));
	ck_assert(maildir_folder_match("inbox", "INBOX"));
	ck_assert(!maildir_folder_match("Sent", "sent"));
}
END_TEST

START_TEST(test_status)
{
	struct maildir_box_info info;

	ck_assert_int_eq(deliver_text(mail, "alice", "Junk", MSG_A), 0);
	ck_assert_int_eq(deliver_text(mail, "alice", "Junk", MSG_B), 0);
	ck_assert_int_eq(maildir_folder_status(store, "Junk", &info, err, sizeof(err)), 0);
	ck_assert_uint_eq(info.messages, 2);
	ck_assert_uint_eq(info.recent, 2);
	ck_assert_uint_eq(info.unseen, 2);
	ck_assert_uint_eq(info.uidnext, 3);
	ck_assert_uint_ne(info.uidvalidity, 0);
	ck_assert_int_eq(maildir_folder_status(store, "Nope", &info, err, sizeof(err)), -1);
}
END_TEST

START_TEST(test_pop3_lock)
{
	struct maildir_box *box;
	int fd, fd2, status;
	pid_t pid;

	fd = maildir_pop3_lock(mail, "alice", err, sizeof(err));
	ck_assert_int_ge(fd, 0);
	/* Another session, in this process or another, is refused. */
	fd2 = maildir_pop3_lock(mail, "alice", err, sizeof(err));
	ck_assert_int_eq(fd2, -1);
	ck_assert_int_eq(errno, EWOULDBLOCK);
	ck_assert_str_eq(err, "maildrop in use");
	pid = fork();
	if (pid == 0)
		_exit(maildir_pop3_lock(mail, "alice", err, sizeof(err)) < 0 ? 0 : 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	/* IMAP and delivery go on. */
	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	ck_assert_int_eq(maildir_box_open(store, "INBOX", 0, &box, err, sizeof(err)), 0);
	ck_assert_uint_eq(maildir_box_count(box), 1);
	maildir_box_close(&box);
	/* Other users are independent. */
	ck_assert_int_eq(maildir_user_create(mail, "bob", err, sizeof(err)), 0);
	fd2 = maildir_pop3_lock(mail, "bob", err, sizeof(err));
	ck_assert_int_ge(fd2, 0);
	maildir_pop3_unlock(&fd2);
	maildir_pop3_unlock(&fd);
	ck_assert_int_eq(fd, -1);
	fd = maildir_pop3_lock(mail, "alice", err, sizeof(err));
	ck_assert_int_ge(fd, 0);
	maildir_pop3_unlock(&fd);
}
END_TEST

START_TEST(test_user_remove)
{
	ck_assert_int_eq(maildir_user_create(mail, "bob", err, sizeof(err)), 0);
	ck_assert_int_eq(deliver_text(mail, "bob", NULL, MSG_A), 0);
	ck_assert_int_eq(maildir_user_remove(mail, "bob", err, sizeof(err)), 0);
	ck_assert_int_eq(count_sub(mail, "bob"), -1);
	ck_assert_int_eq(maildir_user_remove(mail, "bob", err, sizeof(err)), -1);
	ck_assert_int_eq(maildir_user_remove(mail, "..", err, sizeof(err)), -1);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("maildir-folder");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_new_user_layout_and_list);
	tcase_add_test(tc, test_create_with_parents_and_refusals);
	tcase_add_test(tc, test_delete);
	tcase_add_test(tc, test_rename_keeps_uids);
	tcase_add_test(tc, test_rename_inbox);
	tcase_add_test(tc, test_subscriptions_and_match);
	tcase_add_test(tc, test_status);
	tcase_add_test(tc, test_pop3_lock);
	tcase_add_test(tc, test_user_remove);
	suite_add_tcase(s, tc);
	return s;
}
