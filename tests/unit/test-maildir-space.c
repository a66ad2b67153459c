/* The index when the disk is full (issue 10), without mounting anything: a
 * file size limit (RLIMIT_FSIZE) makes the index's writes fail as a full
 * disk does, in a child process so that the limit and the Berkeley DB
 * handles stay there.  A failed write must give an error, never SIGBUS;
 * a failed open must keep the index; a folder whose index cannot be
 * written opens read-only. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "maildir/fsutil.h"
#include "maildir/index-int.h"
#include "maildir/lock.h"
#include "maildir/mailbox.h"
#include "tests/unit/maildir-helpers.h"

static char mail[1024];
static char *root;

static void setup(void)
{
	root = mk_root(mail, sizeof(mail));
}

static void teardown(void)
{
	unit_rmtree(root);
	free(root);
}

/* Runs fn in a child; returns its exit code, or 128 + the signal that
 * killed it.  exit() in the child closes its idle stores cleanly. */
static int in_child(int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		exit(fn());
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) :
		WEXITSTATUS(status);
}

/* Writes at or past `bytes` into any file now fail with EFBIG. */
static void limit_file_size(rlim_t bytes)
{
	struct rlimit rl;

	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &rl);
	rl.rlim_cur = bytes;
	setrlimit(RLIMIT_FSIZE, &rl);
}

static void unlimit_file_size(void)
{
	struct rlimit rl;

	getrlimit(RLIMIT_FSIZE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_FSIZE, &rl);
}

static struct maildir_box *open_inbox(struct maildir_store **s, unsigned flags)
{
	struct maildir_box *box = NULL;
	char err[256];

	if (*s == NULL &&
	    maildir_store_open(mail, "alice", s, err, sizeof(err)) < 0)
		return NULL;
	if (maildir_box_open(*s, "INBOX", flags, &box, err, sizeof(err)) < 0)
		return NULL;
	return box;
}

/* Two messages in alice's INBOX, the first with keyword $Work, indexed;
 * the UIDVALIDITY is left in ROOT/uidvalidity. */
static int make_mail(void)
{
	struct maildir_store *s = NULL;
	struct maildir_box *box;
	struct maildir_box_info info;
	char err[256], path[1200], text[32];
	uint32_t uid = 1;
	int kw;

	if (deliver_text(mail, "alice", NULL, MSG_A) < 0 ||
	    deliver_text(mail, "alice", NULL, MSG_B) < 0 ||
	    (box = open_inbox(&s, MAILDIR_BOX_RECENT)) == NULL)
		return 1;
	kw = maildir_box_keyword(box, "$Work", true);
	if (kw < 0 || maildir_box_store(box, &uid, 1, MAILDIR_STORE_ADD, 0,
					(uint64_t)1 << kw, err, sizeof(err)) < 0)
		return 2;
	maildir_box_info(box, &info);
	snprintf(path, sizeof(path), "%s/uidvalidity", root);
	snprintf(text, sizeof(text), "%u", info.uidvalidity);
	write_file(path, text);
	maildir_box_close(&box);
	maildir_store_close(&s);
	return 0;
}

static uint32_t saved_uidvalidity(void)
{
	char path[1200], text[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/uidvalidity", root);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(text, sizeof(text), f));
	fclose(f);
	return (uint32_t)strtoul(text, NULL, 10);
}

/* The index as make_mail left it: same UIDVALIDITY, keyword still set. */
static void assert_index_kept(size_t messages)
{
	struct maildir_store *s = NULL;
	struct maildir_box *box = open_inbox(&s, 0);
	struct maildir_box_info info;

	ck_assert_ptr_nonnull(box);
	maildir_box_info(box, &info);
	ck_assert(!info.rebuilt);
	ck_assert(!info.readonly);
	ck_assert_uint_eq(info.uidvalidity, saved_uidvalidity());
	ck_assert_uint_eq(maildir_box_count(box), messages);
	ck_assert_uint_eq(maildir_box_keyword_count(box), 1);
	ck_assert_str_eq(maildir_box_keyword_name(box, 0), "$Work");
	ck_assert_uint_eq(maildir_box_msg(box, 0)->keywords, 1);
	maildir_box_close(&box);
	maildir_store_close(&s);
}

static void remove_region_files(void)
{
	char dir[1200], path[1500];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/alice/" INDEX_DIR, mail);
	d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, "__db.0", 6) == 0) {
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			ck_assert_int_eq(unlink(path), 0);
		}
	closedir(d);
}

/* The environment must be created anew while no file may grow past
 * 64 KiB: its region files cannot be written out. */
static int open_with_small_limit(void)
{
	struct maildir_store *s = NULL;
	char err[256];

	limit_file_size(64 * 1024);
	if (maildir_store_open(mail, "alice", &s, err, sizeof(err)) == 0)
		return 1;	/* cannot have been opened */
	if (strstr(err, "File too large") == NULL)
		return 2;
	return 0;
}

/* Bytes of disk given to the files of alice's index whose names start with
 * `prefix`. */
static off_t allocated(const char *prefix)
{
	char dir[1200], path[1500];
	struct dirent *de;
	struct stat st;
	off_t total = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/alice/" INDEX_DIR, mail);
	d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0) {
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			ck_assert_int_eq(stat(path, &st), 0);
			total += st.st_blocks * 512;
		}
	closedir(d);
	return total;
}

static int open_and_close(void)
{
	struct maildir_store *s = NULL;
	char err[256];

	if (maildir_store_open(mail, "alice", &s, err, sizeof(err)) < 0)
		return 1;
	maildir_store_close(&s);
	return 0;
}

/* The offset of a block of HOLE zero bytes in fd (past its first block),
 * or -1: where a region file of an older version was never written. */
#define HOLE (64 * 1024)
static off_t zero_block(int fd)
{
	static const char zeros[HOLE];
	char *block = malloc(HOLE);
	off_t at = -1;

	ck_assert_ptr_nonnull(block);
	for (off_t off = HOLE; at < 0 &&
	     pread(fd, block, HOLE, off) == HOLE; off += HOLE)
		if (memcmp(block, zeros, HOLE) == 0)
			at = off;
	free(block);
	return at;
}

/* Needs a file system with fallocate (ext4, xfs, btrfs, tmpfs). */
START_TEST(test_region_and_log_files_allocated_at_open)
{
	char path[1500];
	off_t before, hole;
	int fd;

	ck_assert_int_eq(in_child(make_mail), 0);
	/* The page cache region (16 MiB of cache) is mapped at its largest
	 * size and reserved so, though its file is still small; the log
	 * file is written out. */
	ck_assert_int_ge(allocated("__db.0"), 20 << 20);
	ck_assert_int_ge(allocated("log."), 4 << 20);
	/* Holes an older version left in a region file are filled before
	 * the environment is joined. */
	before = allocated("__db.001");
	snprintf(path, sizeof(path), "%s/alice/" INDEX_DIR "/__db.001", mail);
	fd = open(path, O_RDWR);
	ck_assert_int_ge(fd, 0);
	hole = zero_block(fd);
	ck_assert_int_gt(hole, 0);
	ck_assert_int_eq(fallocate(fd, FALLOC_FL_PUNCH_HOLE |
				   FALLOC_FL_KEEP_SIZE, hole, HOLE), 0);
	close(fd);
	ck_assert_int_lt(allocated("__db.001"), before);
	ck_assert_int_eq(in_child(open_and_close), 0);
	ck_assert_int_ge(allocated("__db.001"), before);
	assert_index_kept(2);
}
END_TEST

START_TEST(test_env_create_fails_without_signal_and_keeps_index)
{
	struct stat st;
	char path[1200];

	ck_assert_int_eq(in_child(make_mail), 0);
	remove_region_files();
	/* Before: SIGBUS (128 + 7), the region mapped past what could be
	 * written; or the index removed and rebuilt. */
	ck_assert_int_eq(in_child(open_with_small_limit), 0);
	snprintf(path, sizeof(path), "%s/alice/" INDEX_DIR "/index.db", mail);
	ck_assert_int_eq(stat(path, &st), 0);
	/* No unfinished primary region left behind for the next open. */
	snprintf(path, sizeof(path), "%s/alice/" INDEX_DIR "/__db.001", mail);
	ck_assert(stat(path, &st) < 0 || st.st_size >= 8192);
	assert_index_kept(2);
}
END_TEST

/* A third message arrived; the index can be read but not written. */
static int read_only_when_unwritable(void)
{
	struct maildir_store *s = NULL;
	struct maildir_box *box;
	struct maildir_box_info info;
	char err[256];
	uint32_t uid = 2;
	int fd;

	if (maildir_store_open(mail, "alice", &s, err, sizeof(err)) < 0)
		return 1;
	limit_file_size(1);
	box = open_inbox(&s, MAILDIR_BOX_RECENT | MAILDIR_BOX_DEFER_LOAD);
	if (box == NULL || maildir_box_load(box, err, sizeof(err)) < 0)
		return 2;
	maildir_box_info(box, &info);
	if (!info.readonly || maildir_box_count(box) != 2 ||
	    info.uidvalidity != saved_uidvalidity())
		return 3;
	fd = maildir_box_open_msg(box, 1, err, sizeof(err));
	if (fd < 0)
		return 4;
	close(fd);
	if (maildir_box_store(box, &uid, 1, MAILDIR_STORE_ADD,
			      MAILDIR_FLAG_DELETED, 0, err, sizeof(err)) == 0 ||
	    strstr(err, "read-only") == NULL)
		return 5;
	maildir_box_close(&box);
	/* With room again the folder syncs and is writable. */
	unlimit_file_size();
	box = open_inbox(&s, 0);
	if (box == NULL)
		return 6;
	maildir_box_info(box, &info);
	if (info.readonly || maildir_box_count(box) != 3)
		return 7;
	maildir_box_close(&box);
	maildir_store_close(&s);
	return 0;
}

START_TEST(test_unwritable_index_opens_read_only)
{
	ck_assert_int_eq(in_child(make_mail), 0);
	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	/* Before: SELECT failed ("index of INBOX: read failed"). */
	ck_assert_int_eq(in_child(read_only_when_unwritable), 0);
	assert_index_kept(3);
}
END_TEST

/* A store whose reopen failed (idx_failchk after a recovery, on a full
 * disk) has no environment; the next lock opens it again. */
static int reopen_after_failed_open(void)
{
	struct maildir_store st = { .user = "alice" };
	char err[256], path[1200];
	int fd;

	snprintf(path, sizeof(path), "%s/alice", mail);
	st.path = path;
	limit_file_size(64 * 1024);
	fd = lock_index(path, true);
	if (fd < 0 || idx_open(&st, err, sizeof(err)) == 0 || st.env != NULL)
		return 1;
	lock_index_release(fd);
	unlimit_file_size();
	fd = store_lock(&st, err, sizeof(err));	/* before: NULL->failchk */
	if (fd < 0 || st.env == NULL)
		return 2;
	lock_index_release(fd);
	idx_close(&st);
	return 0;
}

START_TEST(test_lock_reopens_a_store_left_without_env)
{
	ck_assert_int_eq(in_child(make_mail), 0);
	remove_region_files();
	ck_assert_int_eq(in_child(reopen_after_failed_open), 0);
	assert_index_kept(2);
}
END_TEST

START_TEST(test_rebuild_only_when_corrupt_with_room)
{
	const uint64_t room = IDX_REBUILD_ROOM;
	static const int temporary[] = {
		ENOSPC, EDQUOT, EIO, EAGAIN, EFBIG, ENOMEM, EMFILE, EACCES,
		EROFS, DB_LOCK_DEADLOCK, DB_LOCK_NOTGRANTED, DB_TIMEOUT,
		DB_REP_UNAVAIL,
	};
	static const int corrupt[] = {
		DB_RUNRECOVERY, DB_VERIFY_BAD, DB_PAGE_NOTFOUND,
		DB_VERSION_MISMATCH, DB_OLD_VERSION, EINVAL,
	};

	for (size_t i = 0; i < sizeof(temporary) / sizeof(temporary[0]); i++)
		ck_assert_msg(!idx_open_rebuild_ok(temporary[i], 0, room),
			      "%s must not rebuild", db_strerror(temporary[i]));
	for (size_t i = 0; i < sizeof(corrupt) / sizeof(corrupt[0]); i++) {
		ck_assert_msg(idx_open_rebuild_ok(corrupt[i], 0, room),
			      "%s must rebuild", db_strerror(corrupt[i]));
		/* not on a full disk: the new index would not fit */
		ck_assert(!idx_open_rebuild_ok(corrupt[i], 0, room - 1));
		/* nor when the library said a write failed meanwhile
		 * (recovery that ran out of space ends in DB_RUNRECOVERY) */
		ck_assert(!idx_open_rebuild_ok(corrupt[i], ENOSPC, room));
		ck_assert(!idx_open_rebuild_ok(corrupt[i], EIO, room));
	}
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("maildir-space");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_region_and_log_files_allocated_at_open);
	tcase_add_test(tc, test_env_create_fails_without_signal_and_keeps_index);
	tcase_add_test(tc, test_unwritable_index_opens_read_only);
	tcase_add_test(tc, test_lock_reopens_a_store_left_without_env);
	tcase_add_test(tc, test_rebuild_only_when_corrupt_with_room);
	suite_add_tcase(s, tc);
	return s;
}
