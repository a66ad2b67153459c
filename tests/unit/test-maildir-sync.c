#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/dbenv.h"
#include "common/xalloc.h"
#include "maildir/folder.h"
#include "maildir/index-int.h"
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

/* Another program (a mail reader) renames a file to change its flags. */
START_TEST(test_foreign_flag_change)
{
	struct maildir_store *s = NULL;
	struct maildir_box *box, *other;
	struct maildir_changes ch;
	struct buf from = BUF_INIT(BUF_UNLIMITED), to = BUF_INIT(BUF_UNLIMITED);
	int fd;

	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	ck_assert_int_eq(maildir_store_open(mail, "alice", &s, err, sizeof(err)), 0);
	ck_assert_int_eq(maildir_box_open(s, "INBOX", 0, &box, err, sizeof(err)), 0);
	ck_assert_int_eq(maildir_box_open(s, "INBOX", 0, &other, err, sizeof(err)), 0);
	maildir_box_path(box, maildir_box_msg(box, 0), &from);
	buf_printf(&to, "%s", from.data);
	buf_puts(&to, "FS");		/* ":2," + "FS" */
	sleep(1);
	ck_assert_int_eq(rename(from.data, to.data), 0);
	/* The old snapshot still opens the message, by its base name. */
	fd = maildir_box_open_msg(other, 1, err, sizeof(err));
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(maildir_box_sync(box, &ch, err, sizeof(err)), 0);
	ck_assert_uint_eq(ch.n_changed, 1);
	ck_assert_uint_eq(ch.n_expunged, 0);
	ck_assert_uint_eq(maildir_box_msg(box, 0)->flags,
			  MAILDIR_FLAG_FLAGGED | MAILDIR_FLAG_SEEN);
	maildir_changes_free(&ch);
	buf_free(&from);
	buf_free(&to);
	maildir_box_close(&box);
	maildir_box_close(&other);
	maildir_store_close(&s);
}
END_TEST

/* maildir_box_sync_held (RFC 5465 SELECTED-DELAYED): a message another
 * program removed stays in the snapshot, in place, while new messages
 * come after it; the next maildir_box_sync reports it expunged. */
START_TEST(test_held_expunges)
{
	struct maildir_store *s = NULL;
	struct maildir_box *box;
	struct maildir_changes ch;
	struct buf path = BUF_INIT(BUF_UNLIMITED);

	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	ck_assert_int_eq(maildir_store_open(mail, "alice", &s, err, sizeof(err)), 0);
	ck_assert_int_eq(maildir_box_open(s, "INBOX", 0, &box, err, sizeof(err)), 0);
	ck_assert_uint_eq(maildir_box_count(box), 2);
	maildir_box_path(box, maildir_box_msg(box, 0), &path);
	ck_assert_int_eq(unlink(buf_cstr(&path)), 0);
	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	for (int round = 0; round < 2; round++) {
		ck_assert_int_eq(maildir_box_sync_held(box, &ch, err,
						       sizeof(err)), 0);
		ck_assert_uint_eq(ch.n_expunged, 0);
		ck_assert_uint_eq(ch.n_new, round == 0 ? 1 : 0);
		ck_assert_uint_eq(maildir_box_count(box), 3);
		ck_assert_uint_eq(maildir_box_held(box), 1);
		ck_assert_uint_eq(maildir_box_msg(box, 0)->uid, 1);
		ck_assert_uint_eq(maildir_box_msg(box, 2)->uid, 3);
		maildir_changes_free(&ch);
	}
	ck_assert_int_eq(maildir_box_sync(box, &ch, err, sizeof(err)), 0);
	ck_assert_uint_eq(ch.n_expunged, 1);
	ck_assert_uint_eq(ch.expunged_seqs[0], 1);
	ck_assert_uint_eq(ch.expunged_uids[0], 1);
	ck_assert_uint_eq(ch.n_new, 0);
	ck_assert_uint_eq(maildir_box_count(box), 2);
	ck_assert_uint_eq(maildir_box_held(box), 0);
	maildir_changes_free(&ch);
	buf_free(&path);
	maildir_box_close(&box);
	maildir_store_close(&s);
}
END_TEST

struct thread_arg {
	int id;
	int failed;
};

static void *deliver_thread(void *p)
{
	struct thread_arg *a = p;
	char text[128];
	int i;

	for (i = 0; i < 20; i++) {
		snprintf(text, sizeof(text), "Subject: t%d-%d\r\n\r\nx\r\n", a->id, i);
		if (deliver_text(mail, "alice", NULL, text) < 0)
			a->failed = 1;
	}
	return NULL;
}

static void *sync_thread(void *p)
{
	struct thread_arg *a = p;
	struct maildir_store *s = NULL;
	struct maildir_box *box;
	struct maildir_changes ch;
	char e[256];
	int i;

	if (maildir_store_open(mail, "alice", &s, e, sizeof(e)) < 0 ||
	    maildir_box_open(s, "INBOX", MAILDIR_BOX_RECENT, &box, e, sizeof(e)) < 0) {
		a->failed = 1;
		return NULL;
	}
	for (i = 0; i < 50; i++) {
		if (maildir_box_sync(box, &ch, e, sizeof(e)) < 0)
			a->failed = 1;
		maildir_changes_free(&ch);
	}
	maildir_box_close(&box);
	maildir_store_close(&s);
	return NULL;
}

/* Deliveries from threads (the SMTP worker pool) and syncing sessions in
 * other threads of the same process. */
START_TEST(test_threads)
{
	enum { N = 8 };
	struct thread_arg args[N + 2];
	pthread_t tids[N + 2];
	struct maildir_store *s = NULL;
	struct maildir_box *box;
	size_t i, recent = 0;

	for (i = 0; i < N + 2; i++) {
		args[i].id = (int)i;
		args[i].failed = 0;
		pthread_create(&tids[i], NULL, i < N ? deliver_thread : sync_thread,
			       &args[i]);
	}
	for (i = 0; i < N + 2; i++) {
		pthread_join(tids[i], NULL);
		ck_assert_msg(!args[i].failed, "thread %zu failed", i);
	}
	ck_assert_int_eq(maildir_store_open(mail, "alice", &s, err, sizeof(err)), 0);
	ck_assert_int_eq(maildir_box_open(s, "INBOX", MAILDIR_BOX_RECENT, &box,
					  err, sizeof(err)), 0);
	ck_assert_uint_eq(maildir_box_count(box), N * 20);
	for (i = 0; i < maildir_box_count(box); i++) {
		ck_assert_uint_eq(maildir_box_msg(box, i)->uid, i + 1);
		recent += maildir_box_msg(box, i)->recent;
	}
	/* The syncing sessions claimed some \Recent; the rest is ours. */
	ck_assert_uint_le(recent, N * 20);
	maildir_box_close(&box);
	maildir_store_close(&s);
}
END_TEST

/* A process killed while it indexes many new files leaves an index that
 * the next opener completes: every file exactly once, UIDs ascending. */
START_TEST(test_kill_during_sync)
{
	enum { FILES = 3000 };
	struct maildir_store *s = NULL;
	struct maildir_box *box;
	struct buf p = BUF_INIT(BUF_UNLIMITED);
	int i, status, round;
	pid_t pid;

	for (i = 0; i < FILES; i++) {
		buf_clear(&p);
		buf_printf(&p, "%s/alice/new/%d.M%dP1Q1.host", mail, 1000000 + i, i);
		write_file(p.data, MSG_A);
	}
	for (round = 0; round < 3; round++) {
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			if (maildir_store_open(mail, "alice", &s, err, sizeof(err)) == 0)
				maildir_box_open(s, "INBOX", 0, &box, err, sizeof(err));
			_exit(0);
		}
		usleep(20000 + round * 30000);
		kill(pid, SIGKILL);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	}
	ck_assert_int_eq(maildir_store_open(mail, "alice", &s, err, sizeof(err)), 0);
	ck_assert_msg(maildir_box_open(s, "INBOX", 0, &box, err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert_uint_eq(maildir_box_count(box), FILES);
	for (i = 1; i < FILES; i++)
		ck_assert_uint_gt(maildir_box_msg(box, (size_t)i)->uid,
				  maildir_box_msg(box, (size_t)i - 1)->uid);
	ck_assert_int_eq(count_sub(mail, "alice/new"), 0);
	ck_assert_int_eq(count_sub(mail, "alice/cur"), FILES);
	maildir_box_close(&box);
	maildir_store_close(&s);
	buf_free(&p);
}
END_TEST

/* The same for a folder big enough to be indexed in bulk transactions
 * (sync.c BULK_MIN), its files in cur/ named with their size (indexed
 * from the name) and listed by readdir out of delivery order: after the
 * kills, every file once, UIDs in delivery order, the first SELECT's
 * counts (every message \Recent, the first unseen) without a walk. */
START_TEST(test_kill_during_bulk_sync)
{
	enum { FILES = 9000 };
	struct maildir_store *s = NULL;
	struct maildir_box *box;
	struct maildir_box_info info;
	struct buf p = BUF_INIT(BUF_UNLIMITED);
	char want[64];
	int i, status, round;
	pid_t pid;

	for (i = 0; i < FILES; i++) {
		buf_clear(&p);
		/* odd times first on disk; every message but the 7th and
		 * the 100th and later \Seen */
		buf_printf(&p, "%s/alice/cur/%d.M%dP1Q%d.host,S=%zu:2,%s", mail,
			   1000000 + (i * 7919) % FILES, i, (i * 7919) % FILES,
			   strlen(MSG_A), (i * 7919) % FILES == 7 ? "" : "S");
		write_file(p.data, MSG_A);
	}
	for (round = 0; round < 3; round++) {
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			if (maildir_store_open(mail, "alice", &s, err, sizeof(err)) == 0)
				maildir_box_open(s, "INBOX", 0, &box, err, sizeof(err));
			_exit(0);
		}
		usleep(10000 + round * 20000);
		kill(pid, SIGKILL);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	}
	ck_assert_int_eq(maildir_store_open(mail, "alice", &s, err, sizeof(err)), 0);
	ck_assert_msg(maildir_box_open(s, "INBOX", MAILDIR_BOX_RECENT |
				       MAILDIR_BOX_DEFER_LOAD |
				       MAILDIR_BOX_LOAD_SMALL, &box, err,
				       sizeof(err)) == 0, "%s", err);
	maildir_box_info(box, &info);
	ck_assert_uint_eq(info.messages, FILES);
	ck_assert_uint_eq(info.recent, FILES);
	ck_assert_uint_eq(info.unseen, 1);
	ck_assert_uint_eq(info.first_unseen, 8);
	ck_assert_uint_eq(info.uidnext, FILES + 1);
	ck_assert_msg(maildir_box_load(box, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(maildir_box_count(box), FILES);
	for (i = 0; i < FILES; i++) {
		const struct maildir_msg *m = maildir_box_msg(box, (size_t)i);

		ck_assert_uint_eq(m->uid, (uint32_t)i + 1);
		snprintf(want, sizeof(want), "cur/%d.", 1000000 + i);
		ck_assert_msg(strncmp(m->fname, want, strlen(want)) == 0,
			      "UID %u is %s", m->uid, m->fname);
		ck_assert_uint_eq(m->size, strlen(MSG_A));
	}
	maildir_box_close(&box);
	/* the first open took \Recent: the next finds none */
	ck_assert_int_eq(maildir_box_open(s, "INBOX", MAILDIR_BOX_RECENT |
					  MAILDIR_BOX_DEFER_LOAD, &box, err,
					  sizeof(err)), 0);
	maildir_box_info(box, &info);
	ck_assert_uint_eq(info.recent, 0);
	ck_assert_uint_eq(info.first_unseen, 8);
	maildir_box_close(&box);
	maildir_store_close(&s);
	buf_free(&p);
}
END_TEST

/* A folder whose new records fill several DB_MULTIPLE_KEY buffers (sync.c
 * puts them 1 MiB at a time, index-batch.c), with a few of its files in
 * new/ and one whose name does not tell its size (read from the file):
 * every message once, UIDs in delivery order, names, sizes and flags as
 * the files have them, and the same after the store is opened again. */
START_TEST(test_bulk_sync_many)
{
	enum { FILES = 14000 };
	struct maildir_store *s = NULL;
	struct maildir_box *box;
	struct maildir_box_info info;
	struct buf p = BUF_INIT(BUF_UNLIMITED);
	char want[64];
	int i, round;

	for (i = 0; i < FILES; i++) {
		buf_clear(&p);
		if (i % 1000 == 999)
			buf_printf(&p, "%s/alice/new/%d.M%dP2Q%d.host", mail,
				   2000000 + i, i, i);
		else
			buf_printf(&p, "%s/alice/cur/%d.M%dP2Q%d.host,S=%zu:2,%s",
				   mail, 2000000 + i, i, i, strlen(MSG_B),
				   i % 3 == 0 ? "FS" : "");
		write_file(p.data, MSG_B);
	}
	for (round = 0; round < 2; round++) {
		ck_assert_int_eq(maildir_store_open(mail, "alice", &s, err,
						    sizeof(err)), 0);
		ck_assert_msg(maildir_box_open(s, "INBOX", 0, &box, err,
					       sizeof(err)) == 0, "%s", err);
		maildir_box_info(box, &info);
		ck_assert_uint_eq(info.messages, FILES);
		ck_assert_uint_eq(info.uidnext, FILES + 1);
		ck_assert_uint_eq(info.highestmodseq, FILES + 1);
		ck_assert_uint_eq(maildir_box_count(box), FILES);
		for (i = 0; i < FILES; i++) {
			const struct maildir_msg *m =
				maildir_box_msg(box, (size_t)i);

			ck_assert_uint_eq(m->uid, (uint32_t)i + 1);
			snprintf(want, sizeof(want), "cur/%d.M%dP2Q%d.host",
				 2000000 + i, i, i);
			ck_assert_msg(strncmp(m->fname, want, strlen(want)) == 0,
				      "UID %u is %s", m->uid, m->fname);
			ck_assert_uint_eq(m->size, strlen(MSG_B));
			ck_assert_uint_eq(m->flags, i % 3 == 0 && i % 1000 != 999 ?
					  MAILDIR_FLAG_FLAGGED | MAILDIR_FLAG_SEEN : 0);
		}
		maildir_box_close(&box);
		maildir_store_close(&s);
	}
	ck_assert_int_eq(count_sub(mail, "alice/new"), 0);
	buf_free(&p);
}
END_TEST

/* Another process that dies holding Berkeley DB locks of the index while
 * this one keeps the environment open: the next change here must not wait
 * forever (failchk, which the owner mark in index.lock asks for).  The
 * other process follows the index protocol: the exclusive index lock for a
 * change (`locked`), or idx_enter for a use without it (a cache write). */
static void die_holding_db_locks(const char *path, bool locked,
				 bool holding)
{
	struct maildir_store *cs = xcalloc(1, sizeof(*cs));
	struct frec f;
	DB_TXN *txn;
	char e[256];

	/* A fresh handle of our own (not the parent's). */
	cs->user = "alice";
	cs->path = xstrdup(path);
	if (idx_open(cs, e, sizeof(e)) < 0)
		_exit(1);
	if (locked ? store_lock(cs, e, sizeof(e)) < 0 : idx_enter(cs) < 0)
		_exit(1);
	if (idx_begin(cs, &txn) < 0 || idx_folder_get(cs, txn, "", &f) != 0 ||
	    idx_folder_put(cs, txn, "", &f) < 0)
		_exit(1);
	/* or not holding any: it dies between two uses */
	if (!holding && idx_commit(txn) < 0)
		_exit(1);
}

/* A child process that opens the index of alice, dies inside it
 * (die_holding_db_locks) and is reaped. */
static void kill_index_user(bool locked, bool holding)
{
	char path[1100];
	int pfd[2], status;
	char c;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/alice", mail);
	ck_assert_int_eq(pipe(pfd), 0);
	pid = fork();
	if (pid == 0) {
		die_holding_db_locks(path, locked, holding);
		if (write(pfd[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(pfd[1]);
	ck_assert_int_eq(read(pfd[0], &c, 1), 1);
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	close(pfd[0]);
}

static void check_dead_lock_holder(bool locked)
{
	struct maildir_store *s = NULL;
	struct maildir_box *box;
	struct maildir_changes ch;

	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	ck_assert_int_eq(maildir_store_open(mail, "alice", &s, err, sizeof(err)), 0);
	ck_assert_int_eq(maildir_box_open(s, "INBOX", 0, &box, err, sizeof(err)), 0);
	kill_index_user(locked, true);
	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_B), 0);
	ck_assert_msg(maildir_box_sync(box, &ch, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(ch.n_new, 1);
	maildir_changes_free(&ch);
	maildir_box_close(&box);
	maildir_store_close(&s);
}

/* The order of first indexing (UID order) is delivery order, seconds
 * then microseconds, by name among files of the same time: sync.c sorts
 * by a radix sort on the packed times, or by qsort when the times do not
 * pack (here a second folder with one name in the year 3,000,000), and
 * both must agree with maildir_name_cmp_delivery. */
static int cmp_delivery(const void *a, const void *b)
{
	return maildir_name_cmp_delivery(*(char *const *)a, *(char *const *)b);
}

static void check_order(struct maildir_store *s, const char *folder,
			const char *dir, char **names, size_t n)
{
	struct buf p = BUF_INIT(BUF_UNLIMITED);
	struct maildir_box *box;
	size_t i;

	for (i = 0; i < n; i++) {
		buf_clear(&p);
		buf_printf(&p, "%s/alice%s/cur/%s", mail, dir, names[i]);
		write_file(p.data, MSG_A);
	}
	qsort(names, n, sizeof(*names), cmp_delivery);
	ck_assert_msg(maildir_box_open(s, folder, 0, &box, err,
				       sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(maildir_box_count(box), n);
	for (i = 0; i < n; i++) {
		const struct maildir_msg *m = maildir_box_msg(box, i);

		ck_assert_uint_eq(m->uid, (uint32_t)i + 1);
		ck_assert_str_eq(m->fname + 4, names[i]);
	}
	maildir_box_close(&box);
	buf_free(&p);
}

static char *name_of(const char *fmt, size_t sec, size_t usec, size_t q)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);

	ck_assert_int_eq(buf_printf(&b, fmt, sec, usec, q, strlen(MSG_A)), 0);
	return buf_steal(&b);
}

START_TEST(test_uid_order_ties)
{
	enum { N = 300 };
	struct maildir_store *s = NULL;
	char *names[N + 1];
	size_t i;

	ck_assert_int_eq(maildir_store_open(mail, "alice", &s, err,
					    sizeof(err)), 0);
	for (i = 0; i < N; i++) {
		/* 3 seconds, 4 microsecond values, ties named out of order;
		 * every 10th without M<usec> */
		names[i] = name_of(i % 10 == 0 ? "%zu.P%zuQ%zu.h,S=%zu:2,"
				   : "%zu.M%zuP1Q%zu.h,S=%zu:2,",
				   1700000000 + i % 3, (i * 7) % 4,
				   (N - i) * 31 % 1000);
	}
	check_order(s, "INBOX", "", names, N);
	ck_assert_int_eq(maildir_folder_create(s, "Far", err, sizeof(err)), 0);
	names[N] = name_of("%zu.M%zuP1Q%zu.h,S=%zu:2,", 99999999999999, 1, 1);
	for (i = 0; i < N; i++)
		names[i][0] = (char)('1' + i % 2);	/* other names */
	check_order(s, "Far", "/.Far", names, N + 1);
	for (i = 0; i <= N; i++)
		free(names[i]);
	maildir_store_close(&s);
}
END_TEST

START_TEST(test_dead_lock_holder)
{
	check_dead_lock_holder(true);
}
END_TEST

START_TEST(test_dead_unlocked_user)
{
	check_dead_lock_holder(false);
}
END_TEST

/* Reads and changes alice's INBOX (which holds `count` messages, the
 * first unflagged) through s: 0, or the step that failed. */
static int use_index(struct maildir_store *s, size_t count)
{
	struct maildir_box *box;
	struct maildir_changes ch;
	uint32_t uid;
	int ret = 0;

	if (maildir_box_open(s, "INBOX", 0, &box, err, sizeof(err)) < 0)
		return 1;
	if (maildir_box_count(box) != count)
		ret = 2;
	uid = maildir_box_msg(box, 0)->uid;
	if (ret == 0 && maildir_box_store(box, &uid, 1, MAILDIR_STORE_ADD,
					  MAILDIR_FLAG_FLAGGED, 0, err,
					  sizeof(err)) < 0)
		ret = 3;
	if (ret == 0 && deliver_text(mail, "alice", NULL, MSG_B) < 0)
		ret = 4;
	if (ret == 0 && maildir_box_sync(box, &ch, err, sizeof(err)) < 0)
		ret = 5;
	if (ret == 0 && ch.n_new != 1)
		ret = 6;
	if (ret == 0)
		maildir_changes_free(&ch);
	if (ret == 0 && !(maildir_box_msg(box, 0)->flags & MAILDIR_FLAG_FLAGGED))
		ret = 7;
	maildir_box_close(&box);
	return ret;
}

/* The last process with the environment open died inside it: the next
 * opener, alone, recovers it (DB_RECOVER) and uses it. */
START_TEST(test_last_user_died_recovers)
{
	struct maildir_store *s = NULL;
	struct stat st;
	char path[1100];
	int r, status;
	pid_t pid;

	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	/* INBOX indexed by a process that is gone (it closed it) */
	if ((pid = fork()) == 0) {
		struct maildir_box *box;

		if (maildir_store_open(mail, "alice", &s, err, sizeof(err)) < 0 ||
		    maildir_box_open(s, "INBOX", 0, &box, err, sizeof(err)) < 0)
			_exit(1);
		maildir_box_close(&box);
		maildir_store_close(&s);
		exit(0);	/* closes the idle store (atexit) */
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	kill_index_user(true, true);
	ck_assert_msg(maildir_store_open(mail, "alice", &s, err,
					 sizeof(err)) == 0, "%s", err);
	ck_assert(!s->env_others);	/* nobody else: recovered */
	r = use_index(s, 1);
	ck_assert_msg(r == 0, "step %d: %s", r, err);
	/* the users lock is beside the index directory, not in it */
	snprintf(path, sizeof(path), "%s/alice/maillab-env.lock", mail);
	ck_assert_int_eq(stat(path, &st), 0);
	maildir_store_close(&s);
}
END_TEST

/* A process died with the environment open while this one still uses
 * it: a second opener (another process) joins and runs failchk instead of
 * recovering (DB_REGISTER | DB_RECOVER recovered, and that panicked this
 * one: DB_RUNRECOVERY), and this one goes on reading and writing.
 * `holding`: the dead one held Berkeley DB locks, whose mutexes failchk
 * cannot free ("BDB2027 unable to destroy mutex"): then the second opener
 * fails cleanly, and the live process recovers the environment at its
 * next use (idx_failchk), once alone. */
static void check_second_opener(bool holding)
{
	struct maildir_store *s = NULL;
	struct maildir_box *box;
	int status, r;
	pid_t pid;

	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	ck_assert_int_eq(maildir_store_open(mail, "alice", &s, err, sizeof(err)), 0);
	ck_assert_int_eq(maildir_box_open(s, "INBOX", 0, &box, err, sizeof(err)), 0);
	ck_assert_uint_eq(maildir_box_count(box), 1);
	kill_index_user(true, holding);
	pid = fork();
	if (pid == 0) {
		struct maildir_store *cs = NULL;

		if (maildir_store_open(mail, "alice", &cs, err, sizeof(err)) < 0) {
			fprintf(stderr, "second opener: %s\n", err);
			_exit(10);
		}
		if (!cs->env_others)
			_exit(11);
		_exit(use_index(cs, 1));
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	/* not panicked (its own recovery, at its next use, would hide it):
	 * every call into the environment checks that first */
	{
		DB_TXN *txn;
		int ret = s->env->txn_begin(s->env, NULL, &txn, 0);

		ck_assert_msg(ret == 0, "%s", db_strerror(ret));
		txn->abort(txn);
	}
	ck_assert(WIFEXITED(status));
	if (holding)
		ck_assert_msg(WEXITSTATUS(status) == 10,
			      "second opener: status %d", status);
	else
		ck_assert_msg(WEXITSTATUS(status) == 0,
			      "second opener: status %d", status);
	maildir_box_close(&box);
	/* the first user's handle still works */
	r = use_index(s, holding ? 1 : 2);
	ck_assert_msg(r == 0, "step %d: %s", r, err);
	/* and a third opener joins it */
	pid = fork();
	if (pid == 0) {
		struct maildir_store *cs = NULL;

		if (maildir_store_open(mail, "alice", &cs, err, sizeof(err)) < 0)
			_exit(10);
		_exit(cs->env_others ? use_index(cs, holding ? 2 : 3) : 11);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "third opener: status %d", status);
	r = use_index(s, holding ? 3 : 4);
	ck_assert_msg(r == 0, "step %d: %s", r, err);
	maildir_store_close(&s);
}

START_TEST(test_live_user_survives_second_opener)
{
	check_second_opener(false);
}
END_TEST

START_TEST(test_live_user_survives_dead_lock_holder)
{
	check_second_opener(true);
}
END_TEST

/* Whether another process finds alice's environment in use (the users
 * lock of common/dbenv.h on USER/maillab-env.lock). */
static bool env_in_use(const char *path)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		bool others = false;
		int fd = dbenv_gate_enter(path, &others);

		_exit(fd < 0 ? 2 : others ? 1 : 0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) < 2);
	return WEXITSTATUS(status) == 1;
}

/* Two handles of one user's environment in one process (an idle store
 * still being closed by one thread while another opens the user anew):
 * the second joins, and its close keeps the users lock of the first
 * (fcntl locks belong to the process: closing any descriptor of the file
 * would drop them all, and the next opener elsewhere would recover the
 * environment under the first handle). */
START_TEST(test_second_handle_in_process)
{
	struct maildir_store *s = NULL, *cs = xcalloc(1, sizeof(*cs));
	const char *path;
	int fd, r;

	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	ck_assert_int_eq(maildir_store_open(mail, "alice", &s, err, sizeof(err)), 0);
	path = maildir_store_path(s);
	ck_assert(env_in_use(path));
	cs->user = "alice";
	cs->path = xstrdup(path);
	fd = lock_index(path, true);
	ck_assert_int_ge(fd, 0);
	ck_assert_msg(idx_open(cs, err, sizeof(err)) == 0, "%s", err);
	lock_index_release(fd);
	ck_assert(cs->env_others);
	idx_close(cs);
	ck_assert(env_in_use(path));
	r = use_index(s, 1);	/* the first handle works on */
	ck_assert_msg(r == 0, "step %d: %s", r, err);
	maildir_store_close(&s);
	free(cs->path);
	free(cs);
}
END_TEST

/* The owner mark: failchk runs only when another process used the index
 * since this one last did. */
START_TEST(test_owner_mark)
{
	struct maildir_store *s = NULL;
	struct maildir_box *box;
	int status;
	pid_t pid;

	ck_assert_int_eq(maildir_store_open(mail, "alice", &s, err, sizeof(err)), 0);
	ck_assert_int_eq(maildir_box_open(s, "INBOX", 0, &box, err, sizeof(err)), 0);
	maildir_box_close(&box);
	ck_assert_int_eq(idx_enter(s), 0);
	/* marked: a lock of ours does not run failchk (nor change the mark) */
	{
		struct stat before, after;
		char path[1100];
		int fd;

		snprintf(path, sizeof(path), "%s/maillab-index/index.lock",
			 maildir_store_path(s));
		ck_assert_int_eq(stat(path, &before), 0);
		usleep(20000);
		fd = store_lock(s, err, sizeof(err));
		ck_assert_int_ge(fd, 0);
		lock_index_release(fd);
		ck_assert_int_eq(stat(path, &after), 0);
		ck_assert(before.st_mtim.tv_sec == after.st_mtim.tv_sec &&
			  before.st_mtim.tv_nsec == after.st_mtim.tv_nsec);
		/* another process takes the mark; the next lock here takes
		 * it back (failchk ran) */
		pid = fork();
		if (pid == 0) {
			struct maildir_store *cs = NULL;

			if (maildir_store_open(mail, "alice", &cs, err, sizeof(err)) < 0 ||
			    idx_enter(cs) < 0)
				_exit(1);
			_exit(0);
		}
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		ck_assert_int_eq(stat(path, &before), 0);
		usleep(20000);
		fd = store_lock(s, err, sizeof(err));
		ck_assert_int_ge(fd, 0);
		lock_index_release(fd);
		ck_assert_int_eq(stat(path, &after), 0);
		ck_assert(before.st_mtim.tv_sec != after.st_mtim.tv_sec ||
			  before.st_mtim.tv_nsec != after.st_mtim.tv_nsec);
	}
	maildir_store_close(&s);
}
END_TEST

/* Files dropped into new/ by other software: the index notes a missing
 * final line end (no_final_eol) without counting one in the size. */
START_TEST(test_no_final_eol)
{
	static const char *const texts[] = {
		"Subject: a\r\n\r\nends with CRLF\r\n",
		"Subject: b\r\n\r\nno line end",
		"Subject: c\n\nbare LF, none at the end",
		"Subject: d\n\nbare LF at the end\n",
	};
	static const bool want_eol[] = { false, true, true, false };
	static const uint64_t want_size[] = { 30, 25, 38, 34 };
	struct maildir_store *s = NULL;
	struct maildir_box *box;
	char path[1100];
	size_t i;

	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/alice/new/100%zu.M1P1.host",
			 mail, i);
		write_file(path, texts[i]);
	}
	ck_assert_int_eq(maildir_store_open(mail, "alice", &s, err, sizeof(err)), 0);
	ck_assert_int_eq(maildir_box_open(s, "INBOX", 0, &box, err, sizeof(err)), 0);
	ck_assert_uint_eq(maildir_box_count(box), 4);
	for (i = 0; i < 4; i++) {
		const struct maildir_msg *m = maildir_box_msg(box, i);

		ck_assert_msg(m->no_final_eol == want_eol[i], "message %zu", i);
		ck_assert_uint_eq(m->size, want_size[i]);
	}
	maildir_box_close(&box);
	maildir_store_close(&s);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("maildir-sync");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_foreign_flag_change);
	tcase_add_test(tc, test_held_expunges);
	tcase_add_test(tc, test_threads);
	tcase_add_test(tc, test_kill_during_sync);
	tcase_add_test(tc, test_kill_during_bulk_sync);
	tcase_add_test(tc, test_bulk_sync_many);
	tcase_add_test(tc, test_uid_order_ties);
	tcase_add_test(tc, test_dead_lock_holder);
	tcase_add_test(tc, test_dead_unlocked_user);
	tcase_add_test(tc, test_last_user_died_recovers);
	tcase_add_test(tc, test_live_user_survives_second_opener);
	tcase_add_test(tc, test_live_user_survives_dead_lock_holder);
	tcase_add_test(tc, test_second_handle_in_process);
	tcase_add_test(tc, test_owner_mark);
	tcase_add_test(tc, test_no_final_eol);
	suite_add_tcase(s, tc);
	return s;
}
