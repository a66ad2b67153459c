#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "maildir/index-int.h"
#include "maildir/mailbox.h"
#include "tests/unit/maildir-helpers.h"

static char mail[1024];
static char *root;
static char err[256];

static void setup(void)
{
	root = mk_root(mail, sizeof(mail));
	ck_assert_int_eq(maildir_user_create(mail, "bob", err, sizeof(err)), 0);
}

static void teardown(void)
{
	maildir_fault_set(NULL);
	unit_rmtree(root);
	free(root);
}

/* The only file in DIR, whose content must equal `text`.  Returns the
 * number of files (0 or 1 expected). */
static int check_whole(const char *rel, const char *text)
{
	struct buf p = BUF_INIT(BUF_UNLIMITED), got = BUF_INIT(BUF_UNLIMITED);
	struct dirent *de;
	char content[8192];
	ssize_t n;
	int fd, files = 0;
	DIR *d;

	buf_printf(&p, "%s/%s", mail, rel);
	d = opendir(p.data);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		files++;
		buf_clear(&p);
		buf_printf(&p, "%s/%s/%s", mail, rel, de->d_name);
		fd = open(p.data, O_RDONLY);
		ck_assert_int_ge(fd, 0);
		buf_clear(&got);
		while ((n = read(fd, content, sizeof(content))) > 0)
			buf_append(&got, content, (size_t)n);
		close(fd);
		ck_assert_uint_eq(got.len, strlen(text));
		ck_assert_int_eq(memcmp(got.data, text, got.len), 0);
	}
	closedir(d);
	buf_free(&p);
	buf_free(&got);
	return files;
}

START_TEST(test_two_recipients_hard_link)
{
	struct maildir_rcpt r[3] = { { "alice", NULL }, { "bob", NULL },
				     { "alice", "INBOX" } };
	struct maildir_delivery *d;
	struct buf a = BUF_INIT(BUF_UNLIMITED), b = BUF_INIT(BUF_UNLIMITED);
	struct stat sa, sb;
	const char *name;

	d = maildir_delivery_begin(mail, err, sizeof(err));
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(maildir_delivery_write(d, "From: x\r\n", 9), 0);
	ck_assert_int_eq(maildir_delivery_write(d, "\r\nhi\r\n", 6), 0);
	ck_assert_uint_eq(maildir_delivery_size(d), 15);
	ck_assert_ptr_null(maildir_delivery_name(d));
	ck_assert_int_eq(maildir_delivery_commit(d, r, 3, err, sizeof(err)), 0);
	name = maildir_delivery_name(d);
	ck_assert_ptr_nonnull(name);
	ck_assert_ptr_nonnull(strstr(name, ",S=15,W=15"));
	buf_printf(&a, "%s/alice/new/%s", mail, name);
	buf_printf(&b, "%s/bob/new/%s", mail, name);
	ck_assert_int_eq(stat(a.data, &sa), 0);
	ck_assert_int_eq(stat(b.data, &sb), 0);
	ck_assert_uint_eq(sa.st_ino, sb.st_ino);	/* one write */
	ck_assert_int_eq(sa.st_nlink, 2);		/* tmp name gone */
	ck_assert_int_eq(count_sub(mail, "alice/new"), 1);
	/* Committing twice, or to nobody, is refused. */
	ck_assert_int_eq(maildir_delivery_commit(d, r, 1, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "delivery already committed");
	ck_assert_str_eq(maildir_delivery_name(d), name);
	maildir_delivery_free(&d);
	ck_assert_ptr_null(d);
	ck_assert_int_eq(count_sub(mail, ".tmp"), 0);
	d = maildir_delivery_begin(mail, err, sizeof(err));
	ck_assert_int_eq(maildir_delivery_commit(d, r, 0, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "no recipients");
	maildir_delivery_free(&d);
	ck_assert_int_eq(count_sub(mail, ".tmp"), 0);
	ck_assert_int_eq(count_sub(mail, "alice/new"), 1);
	buf_free(&a);
	buf_free(&b);
}
END_TEST

/* The name carries the wire size after S= (",W=", size plus one per bare
 * LF, as file_wire_size counts from the file), also when a CR and its LF
 * arrive in different writes; a first SELECT takes RFC822.SIZE from it
 * without reading the file. */
START_TEST(test_wire_size_in_name)
{
	static const char *const parts[] = {
		"\nFrom: x\r", "\nSubject: bare\n", "\n", "body\r\n", "a\r",
		"b\n\n\r\n", "end",
	};
	struct maildir_rcpt r = { "alice", NULL };
	struct maildir_delivery *d;
	struct maildir_store *s = NULL;
	struct maildir_box *box;
	struct buf path = BUF_INIT(BUF_UNLIMITED);
	struct buf want = BUF_INIT(BUF_UNLIMITED);
	uint64_t size, wire;
	bool no_eol;
	size_t i;
	int fd;

	d = maildir_delivery_begin(mail, err, sizeof(err));
	ck_assert_ptr_nonnull(d);
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		ck_assert_int_eq(maildir_delivery_write(d, parts[i],
							strlen(parts[i])), 0);
	ck_assert_int_eq(maildir_delivery_commit(d, &r, 1, err, sizeof(err)), 0);
	buf_printf(&path, "%s/alice/new/%s", mail, maildir_delivery_name(d));
	fd = open(path.data, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(file_wire_size(fd, &size, &wire, &no_eol), 0);
	close(fd);
	/* bare LFs: the first, after "bare", the lone one, both of "b\n\n" */
	ck_assert_uint_eq(size, 41);
	ck_assert_uint_eq(wire, 41 + 5);
	buf_printf(&want, ",S=%llu,W=%llu", (unsigned long long)size,
		   (unsigned long long)wire);
	ck_assert_msg(strstr(maildir_delivery_name(d), want.data) != NULL,
		      "%s lacks %s", maildir_delivery_name(d), want.data);
	maildir_delivery_free(&d);
	ck_assert_int_eq(maildir_store_open(mail, "alice", &s, err, sizeof(err)), 0);
	ck_assert_int_eq(maildir_box_open(s, "INBOX", 0, &box, err, sizeof(err)), 0);
	ck_assert_uint_eq(maildir_box_count(box), 1);
	ck_assert_uint_eq(maildir_box_msg(box, 0)->size, wire);
	maildir_box_close(&box);
	maildir_store_close(&s);
	buf_free(&path);
	buf_free(&want);
}
END_TEST

START_TEST(test_subaddress_folder_and_exdev_copy)
{
	struct maildir_rcpt r[2] = { { "alice", "Lists/C" }, { "bob", NULL } };
	struct maildir_delivery *d;

	maildir_fault_set("link:EXDEV");
	d = maildir_delivery_begin(mail, err, sizeof(err));
	ck_assert_int_eq(maildir_delivery_write(d, MSG_A, strlen(MSG_A)), 0);
	ck_assert_msg(maildir_delivery_commit(d, r, 2, err, sizeof(err)) == 0,
		      "%s", err);
	maildir_delivery_free(&d);
	ck_assert_int_eq(check_whole("alice/.Lists.C/new", MSG_A), 1);
	ck_assert_int_eq(check_whole("bob/new", MSG_A), 1);
	ck_assert_int_eq(count_sub(mail, "alice/.Lists.C/tmp"), 0);
	ck_assert_int_eq(count_sub(mail, ".tmp"), 0);
}
END_TEST

START_TEST(test_injected_failures)
{
	static const char *const steps[] = {
		"open:ENOSPC", "write:ENOSPC", "write:EIO", "fsync-file:EIO",
		"fsync-file:ENOSPC", "link:EIO", "fsync-dir:EIO",
	};
	struct maildir_rcpt r[2] = { { "alice", NULL }, { "bob", NULL } };
	struct maildir_delivery *d;
	size_t i;
	int ret;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		maildir_fault_set(steps[i]);
		d = maildir_delivery_begin(mail, err, sizeof(err));
		if (d == NULL) {
			ck_assert_str_eq(steps[i], "open:ENOSPC");
			ck_assert_int_eq(errno, ENOSPC);
		} else {
			ret = maildir_delivery_write(d, MSG_A, strlen(MSG_A));
			if (ret == 0)
				ret = maildir_delivery_commit(d, r, 2, err, sizeof(err));
			ck_assert_msg(ret == -1, "%s: delivery succeeded", steps[i]);
			ck_assert_ptr_null(maildir_delivery_name(d));
			/* Later writes fail too. */
			ck_assert_int_eq(maildir_delivery_write(d, "x", 1), -1);
			maildir_delivery_free(&d);
		}
		ck_assert_msg(count_sub(mail, "alice/new") == 0, "%s", steps[i]);
		ck_assert_msg(count_sub(mail, "bob/new") == 0, "%s", steps[i]);
		ck_assert_msg(count_sub(mail, ".tmp") == 0, "%s", steps[i]);
	}
	/* A failing tmp unlink is not a failed delivery. */
	maildir_fault_set("unlink-tmp:EIO");
	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	ck_assert_int_eq(count_sub(mail, ".tmp"), 0);
	ck_assert_int_eq(check_whole("alice/new", MSG_A), 1);
	maildir_fault_set(NULL);
}
END_TEST

START_TEST(test_failed_second_recipient_rolls_back)
{
	struct maildir_rcpt r[2] = { { "alice", NULL }, { "nobody", NULL } };
	struct maildir_delivery *d;

	d = maildir_delivery_begin(mail, err, sizeof(err));
	ck_assert_int_eq(maildir_delivery_write(d, MSG_A, strlen(MSG_A)), 0);
	ck_assert_int_eq(maildir_delivery_commit(d, r, 2, err, sizeof(err)), -1);
	maildir_delivery_free(&d);
	ck_assert_int_eq(count_sub(mail, "alice/new"), 0);
	ck_assert_int_eq(count_sub(mail, ".tmp"), 0);
	/* An unsafe user name never reaches the file system. */
	r[1].user = "../alice";
	d = maildir_delivery_begin(mail, err, sizeof(err));
	ck_assert_int_eq(maildir_delivery_write(d, MSG_A, strlen(MSG_A)), 0);
	ck_assert_int_eq(maildir_delivery_commit(d, r, 2, err, sizeof(err)), -1);
	maildir_delivery_free(&d);
	ck_assert_int_eq(count_sub(mail, "alice/new"), 0);
}
END_TEST

/* A big message so that the data is flushed during the writes. */
static char *big_message(void)
{
	size_t n = 200 * 1024, i;
	char *m = malloc(n + 1);

	for (i = 0; i < n; i++)
		m[i] = (i % 64 == 62) ? '\r' : (i % 64 == 63) ? '\n' : 'a' + i % 26;
	m[n] = '\0';
	return m;
}

START_TEST(test_sigkill_at_each_step)
{
	static const char *const steps[] = {
		"open", "write", "fsync-file", "link", "fsync-dir",
	};
	char *msg = big_message();
	struct maildir_store *s = NULL;
	struct maildir_box *box;
	size_t i;
	int status, files, total = 0;
	pid_t pid;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		char spec[64];

		snprintf(spec, sizeof(spec), "%s:KILL", steps[i]);
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			struct maildir_rcpt r[2] = { { "alice", NULL },
						     { "bob", NULL } };
			struct maildir_delivery *d;

			/* Two recipients: link, then rename, then every
			 * step including the tmp unlink runs. */
			setenv("MAILLAB_FAULT", spec, 1);
			d = maildir_delivery_begin(mail, err, sizeof(err));
			if (d != NULL &&
			    maildir_delivery_write(d, msg, strlen(msg)) == 0)
				maildir_delivery_commit(d, r, 2, err, sizeof(err));
			_exit(0);
		}
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
			      "%s: child not killed", spec);
		/* Whole message or nothing. */
		files = check_whole("alice/new", msg);
		ck_assert_int_le(files, 1);
		ck_assert_int_le(check_whole("bob/new", msg), 1);
		/* A KILL at a step strikes before it: up to the link
		 * nothing is visible, from the directory fsync on all is. */
		if (i < 4)
			ck_assert_msg(files == 0, "%s: visible", spec);
		else
			ck_assert_msg(files == 1, "%s: lost after link", spec);
		total += files;
		/* The store reads it and moves it out of new/. */
		ck_assert_int_eq(maildir_store_open(mail, "alice", &s, err,
						    sizeof(err)), 0);
		ck_assert_int_eq(maildir_box_open(s, "INBOX", 0, &box, err,
						  sizeof(err)), 0);
		ck_assert_int_eq(maildir_box_count(box), total);
		if (total > 0)
			ck_assert_uint_eq(maildir_box_msg(box, total - 1)->size,
					  strlen(msg));
		maildir_box_close(&box);
		maildir_store_close(&s);
	}
	free(msg);
}
END_TEST

/* Several processes deliver and sync at once. */
START_TEST(test_concurrent_delivery)
{
	enum { PROCS = 6, EACH = 15 };
	struct maildir_store *s = NULL;
	struct maildir_box *box;
	bool seen[PROCS * EACH];
	char text[256];
	size_t i;
	int p, status;
	pid_t pids[PROCS];

	for (p = 0; p < PROCS; p++) {
		pids[p] = fork();
		ck_assert_int_ge(pids[p], 0);
		if (pids[p] != 0)
			continue;
		for (i = 0; i < EACH; i++) {
			snprintf(text, sizeof(text), "Subject: %d-%zu\r\n\r\nx\r\n",
				 p, i);
			if (deliver_text(mail, "alice", NULL, text) < 0)
				_exit(1);
			if (i % 3 == 0) {
				if (maildir_store_open(mail, "alice", &s, err,
						       sizeof(err)) < 0 ||
				    maildir_box_open(s, "INBOX", MAILDIR_BOX_RECENT,
						     &box, err, sizeof(err)) < 0)
					_exit(2);
				maildir_box_close(&box);
				maildir_store_close(&s);
			}
		}
		_exit(0);
	}
	for (p = 0; p < PROCS; p++) {
		ck_assert_int_eq(waitpid(pids[p], &status, 0), pids[p]);
		ck_assert_int_eq(WEXITSTATUS(status), 0);
	}
	ck_assert_int_eq(maildir_store_open(mail, "alice", &s, err, sizeof(err)), 0);
	ck_assert_int_eq(maildir_box_open(s, "INBOX", 0, &box, err, sizeof(err)), 0);
	ck_assert_uint_eq(maildir_box_count(box), PROCS * EACH);
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < maildir_box_count(box); i++) {
		const struct maildir_msg *m = maildir_box_msg(box, i);
		int fd, a, b;
		ssize_t n;

		if (i > 0)
			ck_assert_uint_gt(m->uid, maildir_box_msg(box, i - 1)->uid);
		fd = maildir_box_open_msg(box, m->uid, err, sizeof(err));
		ck_assert_int_ge(fd, 0);
		n = read(fd, text, sizeof(text) - 1);
		close(fd);
		ck_assert_int_gt(n, 0);
		text[n] = '\0';
		ck_assert_int_eq(sscanf(text, "Subject: %d-%d", &a, &b), 2);
		ck_assert(!seen[a * EACH + b]);
		seen[a * EACH + b] = true;
	}
	ck_assert_uint_eq(maildir_box_msg(box, PROCS * EACH - 1)->uid, PROCS * EACH);
	maildir_box_close(&box);
	maildir_store_close(&s);
}
END_TEST

START_TEST(test_stale_tmp_cleanup)
{
	struct maildir_store *s = NULL;
	struct maildir_box *box;
	struct timespec old[2];
	struct buf p = BUF_INIT(BUF_UNLIMITED);

	old[0].tv_sec = old[1].tv_sec = time(NULL) - 37 * 3600;
	old[0].tv_nsec = old[1].tv_nsec = 0;
	buf_printf(&p, "%s/alice/tmp/old", mail);
	write_file(p.data, "x");
	ck_assert_int_eq(utimensat(AT_FDCWD, p.data, old, 0), 0);
	buf_clear(&p);
	buf_printf(&p, "%s/alice/tmp/fresh", mail);
	write_file(p.data, "x");
	buf_clear(&p);
	buf_printf(&p, "%s/.tmp", mail);
	mkdir(p.data, 0700);
	buf_printf(&p, "/abandoned");
	write_file(p.data, "x");
	ck_assert_int_eq(utimensat(AT_FDCWD, p.data, old, 0), 0);
	ck_assert_int_eq(maildir_store_open(mail, "alice", &s, err, sizeof(err)), 0);
	ck_assert_int_eq(maildir_box_open(s, "INBOX", 0, &box, err, sizeof(err)), 0);
	ck_assert_int_eq(count_sub(mail, "alice/tmp"), 1);
	ck_assert_int_eq(count_sub(mail, ".tmp"), 0);
	buf_clear(&p);
	buf_printf(&p, "%s/alice", mail);
	ck_assert_int_eq(maildir_clean_tmp(p.data, time(NULL) + 40 * 3600), 1);
	ck_assert_int_eq(count_sub(mail, "alice/tmp"), 0);
	maildir_box_close(&box);
	maildir_store_close(&s);
	buf_free(&p);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("maildir-deliver");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_two_recipients_hard_link);
	tcase_add_test(tc, test_wire_size_in_name);
	tcase_add_test(tc, test_subaddress_folder_and_exdev_copy);
	tcase_add_test(tc, test_injected_failures);
	tcase_add_test(tc, test_failed_second_recipient_rolls_back);
	tcase_add_test(tc, test_sigkill_at_each_step);
	tcase_add_test(tc, test_concurrent_delivery);
	tcase_add_test(tc, test_stale_tmp_cleanup);
	suite_add_tcase(s, tc);
	return s;
}
