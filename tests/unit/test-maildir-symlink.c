/* Symlinks inside a user's Maildir are not followed (issue 10): a folder
 * that is a symlink (`.Evil -> ../bob`) or has symlinked cur/new is neither
 * listed, opened, appended to nor delivered into; a message file that is a
 * symlink is not opened; a real folder still works. */
#include <errno.h>
#include <sys/stat.h>

#include "maildir/folder.h"
#include "maildir/fsutil.h"
#include "maildir/mailbox.h"
#include "tests/unit/maildir-helpers.h"

static char mail[1024];
static char *root;
static char err[256];
static struct maildir_store *store;

static void in_mail(struct buf *p, const char *rel)
{
	buf_clear(p);
	buf_printf(p, "%s/%s", mail, rel);
}

static void setup(void)
{
	struct buf p = BUF_INIT(BUF_UNLIMITED);

	root = mk_root(mail, sizeof(mail));
	ck_assert(maildir_user_create(mail, "bob", err, sizeof(err)) == 0);
	ck_assert_int_eq(deliver_text(mail, "bob", NULL,
				      "Subject: s\r\n\r\nbob's secret\r\n"), 0);
	ck_assert_int_eq(deliver_text(mail, "alice", NULL,
				      "Subject: m\r\n\r\nalice's own\r\n"), 0);
	in_mail(&p, "alice/.Evil");
	ck_assert_int_eq(symlink("../bob", p.data), 0);
	in_mail(&p, "alice/.Half");
	ck_assert_int_eq(mkdir(p.data, 0700), 0);
	in_mail(&p, "alice/.Half/cur");
	ck_assert_int_eq(symlink("../../bob/cur", p.data), 0);
	in_mail(&p, "alice/.Half/new");
	ck_assert_int_eq(symlink("../../bob/new", p.data), 0);
	buf_free(&p);
	ck_assert_msg(maildir_store_open(mail, "alice", &store, err,
					 sizeof(err)) == 0, "%s", err);
}

static void teardown(void)
{
	maildir_store_close(&store);
	unit_rmtree(root);
	free(root);
}

static int bob_messages(void)
{
	return count_sub(mail, "bob/new") + count_sub(mail, "bob/cur");
}

START_TEST(test_symlinked_folders_invisible)
{
	static const char *const names[] = { "Evil", "Half" };
	struct maildir_folder *list;
	struct maildir_box_info info;
	struct maildir_box *box;
	size_t n, i, k;

	ck_assert_int_eq(maildir_folder_list(store, &list, &n, err, sizeof(err)), 0);
	for (i = 0; i < n; i++)
		for (k = 0; k < 2; k++)
			ck_assert_str_ne(list[i].name, names[k]);
	maildir_folder_list_free(list, n);
	for (k = 0; k < 2; k++) {
		ck_assert_int_eq(maildir_box_open(store, names[k], 0, &box, err,
						  sizeof(err)), -1);
		ck_assert_ptr_nonnull(strstr(err, "no such mailbox"));
		ck_assert_int_eq(maildir_folder_status(store, names[k], &info,
						       err, sizeof(err)), -1);
		/* a delivery into it (alice+Evil@) does not reach bob */
		ck_assert_int_eq(deliver_text(mail, "alice", names[k],
					      "Subject: in\r\n\r\nx\r\n"), -1);
	}
	ck_assert_int_eq(bob_messages(), 1);
}
END_TEST

START_TEST(test_symlinked_message_not_opened)
{
	struct buf p = BUF_INIT(BUF_UNLIMITED), bobs = BUF_INIT(BUF_UNLIMITED);
	struct maildir_box *box;
	const struct maildir_msg *m;
	int fd;

	ck_assert_int_eq(maildir_box_open(store, "INBOX", 0, &box, err,
					  sizeof(err)), 0);
	ck_assert_uint_eq(maildir_box_count(box), 1);
	m = maildir_box_msg(box, 0);
	fd = maildir_box_open_msg(box, m->uid, err, sizeof(err));
	ck_assert_int_ge(fd, 0);
	close(fd);
	/* the indexed file becomes a symlink to bob's message */
	maildir_box_path(box, m, &p);
	ck_assert_int_eq(unlink(p.data), 0);
	in_mail(&bobs, "bob/new");
	{
		DIR *d = opendir(bobs.data);
		struct dirent *de;

		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.')
				buf_printf(&bobs, "/%s", de->d_name);
		closedir(d);
	}
	ck_assert_int_eq(symlink(bobs.data, p.data), 0);
	ck_assert_int_eq(maildir_box_open_msg(box, m->uid, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, ELOOP);
	maildir_box_close(&box);
	/* nor is a new symlink indexed as a message */
	in_mail(&p, "alice/new/1.M1P1.evil");
	ck_assert_int_eq(symlink(bobs.data, p.data), 0);
	ck_assert_int_eq(maildir_box_open(store, "INBOX", 0, &box, err,
					  sizeof(err)), 0);
	for (size_t i = 0; i < maildir_box_count(box); i++) {
		m = maildir_box_msg(box, i);
		fd = maildir_box_open_msg(box, m->uid, err, sizeof(err));
		ck_assert_int_eq(fd, -1);
	}
	maildir_box_close(&box);
	buf_free(&p);
	buf_free(&bobs);
}
END_TEST

START_TEST(test_real_folder_works)
{
	struct maildir_box *box;
	int fd;

	ck_assert_int_eq(maildir_folder_create(store, "Real", err, sizeof(err)), 0);
	ck_assert_int_eq(deliver_text(mail, "alice", "Real",
				      "Subject: r\r\n\r\nreal\r\n"), 0);
	ck_assert_int_eq(maildir_box_open(store, "Real", 0, &box, err,
					  sizeof(err)), 0);
	ck_assert_uint_eq(maildir_box_count(box), 1);
	fd = maildir_box_open_msg(box, maildir_box_msg(box, 0)->uid, err,
				  sizeof(err));
	ck_assert_int_ge(fd, 0);
	close(fd);
	maildir_box_close(&box);
	/* a folder with cur/ only (made by other software) is still listed */
	{
		struct buf p = BUF_INIT(BUF_UNLIMITED);
		struct maildir_folder *list;
		size_t n, i, found = 0;

		in_mail(&p, "alice/.Bare");
		ck_assert_int_eq(mkdir(p.data, 0700), 0);
		in_mail(&p, "alice/.Bare/cur");
		ck_assert_int_eq(mkdir(p.data, 0700), 0);
		buf_free(&p);
		ck_assert_int_eq(maildir_folder_list(store, &list, &n, err,
						     sizeof(err)), 0);
		for (i = 0; i < n; i++)
			found += strcmp(list[i].name, "Bare") == 0 ||
				 strcmp(list[i].name, "Real") == 0;
		maildir_folder_list_free(list, n);
		ck_assert_uint_eq(found, 2);
	}
}
END_TEST

START_TEST(test_fs_helpers)
{
	struct buf p = BUF_INIT(BUF_UNLIMITED);
	int dfd;

	in_mail(&p, "alice");
	ck_assert(fs_is_maildir(p.data, 1));
	in_mail(&p, "alice/.Evil");
	ck_assert(!fs_is_maildir(p.data, 1));
	ck_assert_ptr_null(fs_opendir_nofollow(p.data));
	in_mail(&p, "alice/.Half");
	ck_assert(!fs_is_maildir(p.data, 1));
	dfd = open(p.data, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(dfd, 0);
	errno = 0;
	ck_assert_int_eq(fs_open_msg_at(dfd, "cur/anything"), -1);
	ck_assert(errno == ELOOP || errno == ENOTDIR);
	ck_assert_int_eq(fs_open_msg_at(dfd, "noslash"), -1);
	ck_assert_int_eq(fs_open_msg_at(dfd, "a/b/c"), -1);
	close(dfd);
	buf_free(&p);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("maildir-symlink");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_symlinked_folders_invisible);
	tcase_add_test(tc, test_symlinked_message_not_opened);
	tcase_add_test(tc, test_real_folder_works);
	tcase_add_test(tc, test_fs_helpers);
	suite_add_tcase(s, tc);
	return s;
}
