#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "maildir/crlf.h"
#include "maildir/folder.h"
#include "maildir/fsutil.h"
#include "maildir/index-int.h"
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

static struct maildir_box *open_box(struct maildir_store **s, const char *name,
				    unsigned flags)
{
	struct maildir_box *box;

	if (*s == NULL)
		ck_assert_msg(maildir_store_open(mail, "alice", s, err,
						 sizeof(err)) == 0, "%s", err);
	ck_assert_msg(maildir_box_open(*s, name, flags, &box, err,
				       sizeof(err)) == 0, "%s", err);
	return box;
}

START_TEST(test_uids_across_reopen)
{
	struct maildir_store *s = NULL;
	struct maildir_box *box;
	struct maildir_box_info info;
	uint32_t uidvalidity;

	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_B), 0);
	box = open_box(&s, "INBOX", 0);
	ck_assert_uint_eq(maildir_box_count(box), 2);
	ck_assert_uint_eq(maildir_box_msg(box, 0)->uid, 1);
	ck_assert_uint_eq(maildir_box_msg(box, 1)->uid, 2);
	ck_assert_uint_eq(maildir_box_msg(box, 0)->size, strlen(MSG_A));
	ck_assert(!maildir_box_msg(box, 0)->needs_crlf);
	/* Moved from new/ to cur/ with ":2,". */
	ck_assert_int_eq(count_sub(mail, "alice/new"), 0);
	ck_assert_int_eq(count_sub(mail, "alice/cur"), 2);
	ck_assert_ptr_nonnull(strstr(maildir_box_msg(box, 0)->fname, ":2,"));
	maildir_box_info(box, &info);
	uidvalidity = info.uidvalidity;
	ck_assert_uint_eq(info.uidnext, 3);
	ck_assert(!info.rebuilt);
	maildir_box_close(&box);
	maildir_store_close(&s);

	/* A new process would reopen the environment: close and reopen. */
	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	box = open_box(&s, "inbox", 0);
	ck_assert_uint_eq(maildir_box_count(box), 3);
	ck_assert_uint_eq(maildir_box_msg(box, 2)->uid, 3);
	maildir_box_info(box, &info);
	ck_assert_uint_eq(info.uidvalidity, uidvalidity);
	ck_assert_uint_eq(info.uidnext, 4);
	/* Expunge the last, deliver again: UID 3 is not reused. */
	{
		uint32_t u = 3;
		struct maildir_changes ch;

		ck_assert_int_eq(maildir_box_expunge(box, &u, 1, err, sizeof(err)), 0);
		ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_B), 0);
		ck_assert_int_eq(maildir_box_sync(box, &ch, err, sizeof(err)), 0);
		ck_assert_uint_eq(ch.n_expunged, 1);
		ck_assert_uint_eq(ch.expunged_seqs[0], 3);
		ck_assert_uint_eq(ch.expunged_uids[0], 3);
		ck_assert_uint_eq(ch.n_new, 1);
		ck_assert_uint_eq(maildir_box_msg(box, 2)->uid, 4);
		maildir_changes_free(&ch);
	}
	maildir_box_close(&box);
	maildir_store_close(&s);
}
END_TEST

START_TEST(test_rebuild_after_index_deleted)
{
	struct maildir_store *s = NULL;
	struct maildir_box *box;
	struct maildir_box_info info;
	uint32_t uidvalidity, u = 1;
	char p[4096];

	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_B), 0);
	box = open_box(&s, "INBOX", 0);
	ck_assert_int_eq(maildir_box_store(box, &u, 1, MAILDIR_STORE_ADD,
					   MAILDIR_FLAG_FLAGGED, 0, err, sizeof(err)), 0);
	maildir_box_info(box, &info);
	uidvalidity = info.uidvalidity;
	maildir_box_close(&box);
	maildir_store_close(&s);

	snprintf(p, sizeof(p), "%s/alice/maillab-index", mail);
	ck_assert_int_eq(fs_rmtree(p), 0);
	box = open_box(&s, "INBOX", 0);
	maildir_box_info(box, &info);
	ck_assert(info.rebuilt);
	ck_assert_uint_ne(info.uidvalidity, uidvalidity);
	ck_assert_uint_gt(info.uidvalidity, uidvalidity);
	ck_assert_uint_eq(maildir_box_count(box), 2);
	/* Flags come back from the file names. */
	ck_assert_uint_eq(maildir_box_msg(box, 0)->flags, MAILDIR_FLAG_FLAGGED);
	ck_assert_uint_eq(maildir_box_msg(box, 1)->uid, 2);
	maildir_box_close(&box);
	maildir_store_close(&s);

	/* A corrupt index file is also rebuilt. */
	snprintf(p, sizeof(p), "%s/alice/maillab-index/index.db", mail);
	write_file(p, "this is not a berkeley db file at all, just junk....");
	box = open_box(&s, "INBOX", 0);
	ck_assert_uint_eq(maildir_box_count(box), 2);
	maildir_box_info(box, &info);
	ck_assert(info.rebuilt);
	maildir_box_close(&box);
	maildir_store_close(&s);
}
END_TEST

START_TEST(test_foreign_lf_files)
{
	static const char lf[] = "From: x@y\nSubject: lf\n\nline\n";
	struct maildir_store *s = NULL;
	struct maildir_box *box;
	char p[4096], buf[256];
	const struct maildir_msg *m;
	ssize_t n;
	int fd;

	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	sleep(1);	/* a later delivery time */
	snprintf(p, sizeof(p), "%s/alice/new/%ld.M1P1Q1.otherhost", mail,
		 (long)time(NULL));
	write_file(p, lf);
	snprintf(p, sizeof(p), "%s/alice/cur/%ld.M2P1Q1.otherhost:2,S", mail,
		 (long)time(NULL) + 1);
	write_file(p, lf);
	box = open_box(&s, "INBOX", 0);
	ck_assert_uint_eq(maildir_box_count(box), 3);
	m = maildir_box_msg(box, 0);
	ck_assert(!m->needs_crlf);
	m = maildir_box_msg(box, 1);
	ck_assert_uint_eq(m->uid, 2);
	ck_assert(m->needs_crlf);
	ck_assert_uint_eq(m->size, strlen(lf) + 4);	/* 4 bare LFs */
	ck_assert_uint_eq(m->flags, 0);
	m = maildir_box_msg(box, 2);
	ck_assert(m->needs_crlf);
	ck_assert_uint_eq(m->flags, MAILDIR_FLAG_SEEN);
	fd = maildir_box_open_msg(box, 2, err, sizeof(err));
	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, sizeof(buf));
	ck_assert_int_eq(n, (ssize_t)strlen(lf));
	close(fd);
	{
		struct maildir_crlf st = { 0 };
		struct buf out = BUF_INIT(BUF_UNLIMITED);

		ck_assert_int_eq(maildir_crlf_append(&st, buf, (size_t)n, &out), 0);
		ck_assert_uint_eq(out.len, m->size);
		buf_free(&out);
	}
	maildir_box_close(&box);
	maildir_store_close(&s);
}
END_TEST

START_TEST(test_recent_once)
{
	struct maildir_store *s = NULL;
	struct maildir_box *a, *b, *pop;
	struct maildir_box_info info;
	struct maildir_changes ch;

	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	pop = open_box(&s, "INBOX", 0);		/* POP3 claims nothing */
	a = open_box(&s, "INBOX", MAILDIR_BOX_RECENT);
	b = open_box(&s, "INBOX", MAILDIR_BOX_RECENT);
	ck_assert(maildir_box_msg(a, 0)->recent);
	ck_assert(!maildir_box_msg(b, 0)->recent);
	ck_assert(!maildir_box_msg(pop, 0)->recent);
	maildir_box_info(a, &info);
	ck_assert_uint_eq(info.recent, 1);
	/* A new delivery is recent for the first session to sync. */
	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_B), 0);
	ck_assert_int_eq(maildir_box_sync(b, &ch, err, sizeof(err)), 0);
	ck_assert_uint_eq(ch.n_new, 1);
	ck_assert(maildir_box_msg(b, 1)->recent);
	maildir_changes_free(&ch);
	ck_assert_int_eq(maildir_box_sync(a, &ch, err, sizeof(err)), 0);
	ck_assert_uint_eq(ch.n_new, 1);
	ck_assert(!maildir_box_msg(a, 1)->recent);
	ck_assert(maildir_box_msg(a, 0)->recent);
	maildir_changes_free(&ch);
	ck_assert_int_eq(maildir_folder_status(s, "INBOX", &info, err, sizeof(err)), 0);
	ck_assert_uint_eq(info.recent, 0);
	ck_assert_uint_eq(info.messages, 2);
	ck_assert_uint_eq(info.unseen, 2);
	maildir_box_close(&a);
	maildir_box_close(&b);
	maildir_box_close(&pop);
	maildir_store_close(&s);
}
END_TEST

START_TEST(test_store_flags_and_sync)
{
	struct maildir_store *s = NULL;
	struct maildir_box *a, *b;
	struct maildir_changes ch;
	struct maildir_box_info info;
	uint32_t uids[2] = { 1, 2 };
	uint64_t modseq;
	int kw;

	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_B), 0);
	a = open_box(&s, "INBOX", MAILDIR_BOX_RECENT);
	b = open_box(&s, "INBOX", MAILDIR_BOX_RECENT);
	modseq = maildir_box_msg(a, 0)->modseq;
	ck_assert_int_eq(maildir_box_store(a, uids, 2, MAILDIR_STORE_ADD,
		MAILDIR_FLAG_SEEN | MAILDIR_FLAG_ANSWERED, 0, err, sizeof(err)), 0);
	ck_assert_uint_eq(maildir_box_msg(a, 0)->flags,
			  MAILDIR_FLAG_SEEN | MAILDIR_FLAG_ANSWERED);
	ck_assert_uint_gt(maildir_box_msg(a, 0)->modseq, modseq);
	ck_assert_ptr_nonnull(strstr(maildir_box_msg(a, 0)->fname, ":2,RS"));
	ck_assert_int_eq(count_sub(mail, "alice/cur"), 2);
	/* The other session learns it. */
	ck_assert_int_eq(maildir_box_sync(b, &ch, err, sizeof(err)), 0);
	ck_assert_uint_eq(ch.n_changed, 2);
	ck_assert_uint_eq(ch.changed_seqs[0], 1);
	ck_assert_uint_eq(maildir_box_msg(b, 1)->flags,
			  MAILDIR_FLAG_SEEN | MAILDIR_FLAG_ANSWERED);
	maildir_changes_free(&ch);
	/* Its own changes are not reported back to a. */
	ck_assert_int_eq(maildir_box_sync(a, &ch, err, sizeof(err)), 0);
	ck_assert_uint_eq(ch.n_changed, 0);
	maildir_changes_free(&ch);
	/* Remove and set; keywords. */
	ck_assert_int_eq(maildir_box_store(b, uids, 1, MAILDIR_STORE_REMOVE,
		MAILDIR_FLAG_SEEN, 0, err, sizeof(err)), 0);
	ck_assert_uint_eq(maildir_box_msg(b, 0)->flags, MAILDIR_FLAG_ANSWERED);
	kw = maildir_box_keyword(b, "$Important", true);
	ck_assert_int_eq(kw, 0);
	ck_assert_int_eq(maildir_box_keyword(b, "$important", false), 0);
	ck_assert_int_eq(maildir_box_store(b, uids + 1, 1, MAILDIR_STORE_SET,
		MAILDIR_FLAG_FLAGGED, 1ULL << kw, err, sizeof(err)), 0);
	ck_assert_uint_eq(maildir_box_msg(b, 1)->flags, MAILDIR_FLAG_FLAGGED);
	ck_assert_uint_eq(maildir_box_msg(b, 1)->keywords, 1);
	ck_assert_int_eq(maildir_box_sync(a, &ch, err, sizeof(err)), 0);
	ck_assert_uint_eq(ch.n_changed, 2);
	ck_assert_uint_eq(maildir_box_keyword_count(a), 1);
	ck_assert_str_eq(maildir_box_keyword_name(a, 0), "$Important");
	ck_assert_uint_eq(maildir_box_msg(a, 1)->keywords, 1);
	maildir_changes_free(&ch);
	maildir_box_info(a, &info);
	ck_assert_uint_eq(info.unseen, 2);	/* SET cleared \Seen of 2 */
	ck_assert_uint_eq(info.first_unseen, 1);
	/* CONDSTORE: a message changed since the given modseq is left. */
	{
		uint64_t ms0 = maildir_box_msg(a, 0)->modseq;
		uint32_t modified[2];
		size_t nmod;

		ck_assert_int_eq(maildir_box_store_cond(a, uids, 2,
			MAILDIR_STORE_ADD, MAILDIR_FLAG_DRAFT, 0, ms0, modified,
			&nmod, err, sizeof(err)), 0);
		ck_assert_uint_eq(nmod, 1);
		ck_assert_uint_eq(modified[0], 2);
		ck_assert(maildir_box_msg(a, 0)->flags & MAILDIR_FLAG_DRAFT);
		ck_assert(!(maildir_box_msg(a, 1)->flags & MAILDIR_FLAG_DRAFT));
	}
	/* A read-only box refuses. */
	maildir_box_close(&b);
	b = open_box(&s, "INBOX", MAILDIR_BOX_READONLY);
	ck_assert_int_eq(maildir_box_store(b, uids, 1, MAILDIR_STORE_ADD,
		MAILDIR_FLAG_SEEN, 0, err, sizeof(err)), -1);
	maildir_box_close(&a);
	maildir_box_close(&b);
	maildir_store_close(&s);
}
END_TEST

START_TEST(test_expunge_deleted_and_uid_string)
{
	struct maildir_store *s = NULL;
	struct maildir_box *box, *other;
	struct maildir_changes ch;
	uint32_t u = 2;
	char id1[17], id2[17];
	int i;

	for (i = 0; i < 4; i++)
		ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	box = open_box(&s, "INBOX", 0);
	other = open_box(&s, "INBOX", 0);
	maildir_box_uid_string(box, maildir_box_msg(box, 0), id1);
	maildir_box_uid_string(other, maildir_box_msg(other, 0), id2);
	ck_assert_str_eq(id1, id2);
	ck_assert_uint_eq(strlen(id1), 16);
	ck_assert_int_eq(maildir_box_store(box, &u, 1, MAILDIR_STORE_ADD,
		MAILDIR_FLAG_DELETED, 0, err, sizeof(err)), 0);
	u = 4;
	ck_assert_int_eq(maildir_box_store(box, &u, 1, MAILDIR_STORE_ADD,
		MAILDIR_FLAG_DELETED, 0, err, sizeof(err)), 0);
	/* UID EXPUNGE 1:3 removes only 2, the \Deleted one in the set. */
	{
		uint32_t set[3] = { 1, 2, 3 };

		ck_assert_int_eq(maildir_box_expunge_deleted(box, set, 3, err,
							     sizeof(err)), 0);
		ck_assert_int_eq(count_sub(mail, "alice/cur"), 3);
	}
	ck_assert_int_eq(maildir_box_expunge(box, NULL, 0, err, sizeof(err)), 0);
	ck_assert_int_eq(count_sub(mail, "alice/cur"), 2);
	ck_assert_int_eq(maildir_box_sync(box, &ch, err, sizeof(err)), 0);
	ck_assert_uint_eq(ch.n_expunged, 2);
	ck_assert_uint_eq(ch.expunged_seqs[0], 4);	/* descending */
	ck_assert_uint_eq(ch.expunged_seqs[1], 2);
	ck_assert_uint_eq(maildir_box_count(box), 2);
	ck_assert_uint_eq(maildir_box_msg(box, 1)->uid, 3);
	maildir_changes_free(&ch);
	/* The other session still reads its snapshot until it syncs. */
	ck_assert_uint_eq(maildir_box_count(other), 4);
	ck_assert_int_eq(maildir_box_open_msg(other, 2, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(maildir_box_sync(other, &ch, err, sizeof(err)), 0);
	ck_assert_uint_eq(ch.n_expunged, 2);
	maildir_changes_free(&ch);
	/* A file removed by another program is expunged at sync. */
	{
		struct buf p = BUF_INIT(BUF_UNLIMITED);

		maildir_box_path(box, maildir_box_msg(box, 0), &p);
		ck_assert_int_eq(unlink(p.data), 0);
		buf_free(&p);
		sleep(1);	/* let cur/'s mtime differ at 1 s granularity */
		ck_assert_int_eq(maildir_box_sync(box, &ch, err, sizeof(err)), 0);
		ck_assert_uint_eq(ch.n_expunged, 1);
		ck_assert_uint_eq(ch.expunged_uids[0], 1);
		maildir_changes_free(&ch);
	}
	maildir_box_close(&box);
	maildir_box_close(&other);
	maildir_store_close(&s);
}
END_TEST

START_TEST(test_copy_and_append)
{
	struct maildir_store *s = NULL;
	struct maildir_box *box, *sent;
	struct maildir_delivery *d;
	struct maildir_box_info info;
	uint32_t uids[2] = { 1, 2 }, dst[2], uv, uid;
	const char *kws[] = { "Work" };
	size_t n;
	struct stat st;
	struct buf p = BUF_INIT(BUF_UNLIMITED);

	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_B), 0);
	box = open_box(&s, "INBOX", 0);
	ck_assert_int_eq(maildir_box_store(box, uids, 1, MAILDIR_STORE_ADD,
		MAILDIR_FLAG_SEEN, 0, err, sizeof(err)), 0);
	ck_assert_int_eq(maildir_box_copy(box, uids, 2, "Trash", &uv, dst, &n,
					  err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(dst[0], 1);
	ck_assert_uint_eq(dst[1], 2);
	ck_assert_int_eq(count_sub(mail, "alice/.Trash/cur"), 2);
	ck_assert_int_eq(maildir_box_copy(box, uids, 2, "Nope", &uv, dst, &n,
					  err, sizeof(err)), -1);

	d = maildir_delivery_begin(mail, err, sizeof(err));
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(maildir_delivery_write(d, MSG_B, strlen(MSG_B)), 0);
	ck_assert_int_eq(maildir_append(s, "Sent", d, MAILDIR_FLAG_SEEN, kws, 1,
					1000000000, &uv, &uid, err, sizeof(err)), 0);
	maildir_delivery_free(&d);
	ck_assert_uint_eq(uid, 1);
	sent = open_box(&s, "Sent", 0);
	ck_assert_uint_eq(maildir_box_count(sent), 1);
	ck_assert_uint_eq(maildir_box_msg(sent, 0)->idate, 1000000000);
	ck_assert_uint_eq(maildir_box_msg(sent, 0)->flags, MAILDIR_FLAG_SEEN);
	ck_assert_uint_eq(maildir_box_msg(sent, 0)->keywords, 1);
	ck_assert_str_eq(maildir_box_keyword_name(sent, 0), "Work");
	maildir_box_path(sent, maildir_box_msg(sent, 0), &p);
	ck_assert_int_eq(stat(p.data, &st), 0);
	ck_assert_int_eq(st.st_mtime, 1000000000);
	ck_assert_ptr_nonnull(strstr(p.data, "/cur/"));
	ck_assert_ptr_nonnull(strstr(p.data, ":2,S"));
	maildir_box_info(sent, &info);
	ck_assert_uint_eq(info.uidvalidity, uv);
	ck_assert_uint_eq(info.uidnext, 2);
	/* The tmp file of the delivery is gone. */
	ck_assert_int_eq(count_sub(mail, ".tmp"), 0);
	buf_free(&p);
	maildir_box_close(&sent);
	maildir_box_close(&box);
	maildir_store_close(&s);
}
END_TEST

START_TEST(test_notify_fd)
{
	struct maildir_store *s = NULL;
	struct maildir_box *box;
	struct maildir_changes ch;
	char b[1];
	int fd;

	box = open_box(&s, "INBOX", 0);
	fd = maildir_box_notify_fd(box);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, b, 0) <= 0, 1);
	{
		char ev[4096];

		ck_assert_int_eq(read(fd, ev, sizeof(ev)), -1);
		ck_assert_int_eq(errno, EAGAIN);
		ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
		ck_assert_int_gt(read(fd, ev, sizeof(ev)), 0);
	}
	maildir_box_notify_drain(box);
	ck_assert_int_eq(maildir_box_sync(box, &ch, err, sizeof(err)), 0);
	ck_assert_uint_eq(ch.n_new, 1);
	maildir_changes_free(&ch);
	maildir_box_close(&box);
	maildir_store_close(&s);
}
END_TEST

START_TEST(test_sync_nothing_changed)
{
	struct maildir_store *s = NULL;
	struct maildir_box *box;
	struct maildir_changes ch;
	int i;

	for (i = 0; i < 3; i++)
		ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	box = open_box(&s, "INBOX", 0);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(maildir_box_sync(box, &ch, err, sizeof(err)), 0);
		ck_assert_uint_eq(ch.n_new + ch.n_expunged + ch.n_changed, 0);
		ck_assert(!ch.uidvalidity_changed);
		maildir_changes_free(&ch);
	}
	maildir_box_close(&box);
	maildir_store_close(&s);
}
END_TEST

START_TEST(test_message_cache)
{
	struct maildir_store *s = NULL;
	struct maildir_box *box;
	struct buf out = BUF_INIT(BUF_UNLIMITED);
	uint32_t u = 1;

	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	box = open_box(&s, "INBOX", 0);
	ck_assert_int_eq(maildir_box_cache_get(box, 1, &out), 1);
	ck_assert_int_eq(maildir_box_cache_put(box, 1, "parse\0bytes", 11), 0);
	ck_assert_int_eq(maildir_box_cache_put(box, 9, "x", 1), -1);
	ck_assert_int_eq(maildir_box_cache_get(box, 1, &out), 0);
	ck_assert_uint_eq(out.len, 11);
	ck_assert_int_eq(memcmp(out.data, "parse\0bytes", 11), 0);
	maildir_box_close(&box);
	maildir_store_close(&s);
	/* Survives a reopen; goes with the message. */
	box = open_box(&s, "INBOX", 0);
	buf_clear(&out);
	ck_assert_int_eq(maildir_box_cache_get(box, 1, &out), 0);
	ck_assert_uint_eq(out.len, 11);
	ck_assert_int_eq(maildir_box_expunge(box, &u, 1, err, sizeof(err)), 0);
	ck_assert_int_eq(maildir_box_cache_get(box, 1, &out), 1);
	buf_free(&out);
	maildir_box_close(&box);
	maildir_store_close(&s);
}
END_TEST

/* A snapshot taken before the folder was deleted and recreated (new
 * UIDVALIDITY): its UIDs name other messages now, so STORE and EXPUNGE by
 * UID are refused and touch nothing. */
START_TEST(test_stale_uidvalidity_refused)
{
	struct maildir_store *s = NULL;
	struct maildir_box *old, *fresh;
	struct maildir_changes ch;
	uint32_t u = 1;

	ck_assert_int_eq(maildir_store_open(mail, "alice", &s, err, sizeof(err)), 0);
	ck_assert_int_eq(maildir_folder_create(s, "Work", err, sizeof(err)), 0);
	ck_assert_int_eq(deliver_text(mail, "alice", "Work", MSG_A), 0);
	old = open_box(&s, "Work", 0);
	ck_assert_uint_eq(maildir_box_count(old), 1);
	ck_assert_int_eq(maildir_folder_delete(s, "Work", err, sizeof(err)), 0);
	ck_assert_int_eq(maildir_folder_create(s, "Work", err, sizeof(err)), 0);
	ck_assert_int_eq(deliver_text(mail, "alice", "Work", MSG_B), 0);
	fresh = open_box(&s, "Work", 0);
	ck_assert_uint_eq(maildir_box_count(fresh), 1);
	ck_assert_uint_eq(maildir_box_msg(fresh, 0)->uid, 1);

	errno = 0;
	ck_assert_int_eq(maildir_box_store(old, &u, 1, MAILDIR_STORE_ADD,
					   MAILDIR_FLAG_DELETED, 0, err,
					   sizeof(err)), -1);
	ck_assert_int_eq(errno, ESTALE);
	ck_assert_ptr_nonnull(strstr(err, "UIDVALIDITY"));
	errno = 0;
	ck_assert_int_eq(maildir_box_expunge(old, &u, 1, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, ESTALE);
	ck_assert_int_eq(maildir_box_expunge(old, NULL, 0, err, sizeof(err)), -1);
	ck_assert_int_eq(maildir_box_expunge_deleted(old, &u, 1, err,
						     sizeof(err)), -1);
	/* the new folder's message 1 is untouched */
	ck_assert_int_eq(maildir_box_sync(fresh, &ch, err, sizeof(err)), 0);
	ck_assert_uint_eq(ch.n_changed, 0);
	ck_assert_uint_eq(ch.n_expunged, 0);
	maildir_changes_free(&ch);
	ck_assert_uint_eq(maildir_box_msg(fresh, 0)->flags, 0);
	ck_assert_int_eq(count_sub(mail, "alice/.Work/cur"), 1);
	/* the old session learns of it at its next sync */
	ck_assert_int_eq(maildir_box_sync(old, &ch, err, sizeof(err)), 0);
	ck_assert(ch.uidvalidity_changed);
	maildir_changes_free(&ch);
	maildir_box_close(&old);
	maildir_box_close(&fresh);
	maildir_store_close(&s);
}
END_TEST

/* MAILDIR_BOX_DEFER_LOAD: the counts SELECT reports before the snapshot is
 * loaded are the ones of the loaded snapshot. */
START_TEST(test_deferred_load)
{
	struct maildir_store *s = NULL;
	struct maildir_box *box, *eager;
	struct maildir_box_info before, after, want;
	uint32_t u[2] = { 1, 2 };
	int i;

	for (i = 0; i < 5; i++)
		ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	box = open_box(&s, "INBOX", 0);
	ck_assert_int_eq(maildir_box_store(box, u, 2, MAILDIR_STORE_ADD,
					   MAILDIR_FLAG_SEEN, 0, err,
					   sizeof(err)), 0);
	maildir_box_close(&box);
	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_B), 0);

	box = open_box(&s, "INBOX", MAILDIR_BOX_RECENT | MAILDIR_BOX_DEFER_LOAD);
	maildir_box_info(box, &before);
	ck_assert_uint_eq(maildir_box_count(box), 0);	/* not loaded yet */
	ck_assert_int_eq(maildir_box_load(box, err, sizeof(err)), 0);
	ck_assert_int_eq(maildir_box_load(box, err, sizeof(err)), 0);
	maildir_box_info(box, &after);
	ck_assert_uint_eq(maildir_box_count(box), 6);
	ck_assert_uint_eq(before.messages, 6);
	ck_assert_uint_eq(before.recent, 6);	/* no SELECT claimed them */
	ck_assert_uint_eq(before.unseen, 4);
	ck_assert_uint_eq(before.first_unseen, 3);
	ck_assert_uint_eq(after.messages, before.messages);
	ck_assert_uint_eq(after.recent, before.recent);
	ck_assert_uint_eq(after.unseen, before.unseen);
	ck_assert_uint_eq(after.first_unseen, before.first_unseen);
	ck_assert_uint_eq(after.uidnext, before.uidnext);
	/* the lock is released: another session opens, and sees no \Recent */
	eager = open_box(&s, "INBOX", MAILDIR_BOX_RECENT);
	maildir_box_info(eager, &want);
	ck_assert_uint_eq(want.recent, 0);
	ck_assert_uint_eq(want.first_unseen, 3);
	maildir_box_close(&eager);
	maildir_box_close(&box);
	/* closed without loading: the lock goes too */
	box = open_box(&s, "INBOX", MAILDIR_BOX_READONLY | MAILDIR_BOX_DEFER_LOAD);
	maildir_box_info(box, &before);
	ck_assert_uint_eq(before.recent, 0);
	maildir_box_close(&box);
	eager = open_box(&s, "INBOX", 0);
	maildir_box_close(&eager);
	maildir_store_close(&s);
}
END_TEST

/* MAILDIR_BOX_LOAD_SMALL: a small folder is loaded by the open itself,
 * and the index lock is not kept (another session opens at once). */
START_TEST(test_small_folder_not_deferred)
{
	struct maildir_store *s = NULL;
	struct maildir_box *box, *other;
	struct maildir_box_info info;

	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	box = open_box(&s, "INBOX", MAILDIR_BOX_RECENT |
		       MAILDIR_BOX_DEFER_LOAD | MAILDIR_BOX_LOAD_SMALL);
	ck_assert(!maildir_box_load_pending(box));
	ck_assert_uint_eq(maildir_box_count(box), 3);
	maildir_box_info(box, &info);
	ck_assert_uint_eq(info.messages, 3);
	ck_assert_uint_eq(info.recent, 3);
	other = open_box(&s, "INBOX", MAILDIR_BOX_RECENT);
	ck_assert_uint_eq(maildir_box_count(other), 3);
	maildir_box_close(&other);
	ck_assert_int_eq(maildir_box_load(box, err, sizeof(err)), 0);
	ck_assert_uint_eq(maildir_box_count(box), 3);
	maildir_box_close(&box);
	maildir_store_close(&s);
}
END_TEST

struct range_seen {
	uint32_t uids[16];
	size_t lens[16];
	size_t n, stop_after;
};

static int range_one(void *arg, uint32_t uid, const void *data, size_t len)
{
	struct range_seen *r = arg;

	ck_assert_uint_lt(r->n, 16);
	ck_assert_int_eq(((const char *)data)[0], (char)('a' + uid));
	r->uids[r->n] = uid;
	r->lens[r->n++] = len;
	return r->stop_after != 0 && r->n == r->stop_after;
}

/* maildir_box_cache_range: the records of a UID range in order, only
 * those there are, none of another folder; a big one ends the walk. */
START_TEST(test_cache_range)
{
	struct maildir_store *s = NULL;
	struct maildir_box *box, *work;
	struct range_seen r;
	char rec[8], *big;
	uint32_t u;
	int i;

	for (i = 0; i < 6; i++)
		ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	ck_assert_int_eq(maildir_store_open(mail, "alice", &s, err, sizeof(err)), 0);
	ck_assert_int_eq(maildir_folder_create(s, "Work", err, sizeof(err)), 0);
	ck_assert_int_eq(deliver_text(mail, "alice", "Work", MSG_A), 0);
	box = open_box(&s, "INBOX", 0);
	work = open_box(&s, "Work", 0);
	ck_assert_int_eq(maildir_box_cache_put(work, 1, "b", 1), 0);
	for (u = 1; u <= 6; u++) {
		if (u == 3)
			continue;	/* no record */
		memset(rec, 'a' + (int)u, sizeof(rec));
		ck_assert_int_eq(maildir_box_cache_put(box, u, rec, u), 0);
	}
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(maildir_box_cache_range(box, 2, 5, range_one, &r), 0);
	ck_assert_uint_eq(r.n, 3);
	ck_assert_uint_eq(r.uids[0], 2);
	ck_assert_uint_eq(r.uids[1], 4);
	ck_assert_uint_eq(r.uids[2], 5);
	ck_assert_uint_eq(r.lens[2], 5);
	/* the callback stops it */
	memset(&r, 0, sizeof(r));
	r.stop_after = 2;
	ck_assert_int_eq(maildir_box_cache_range(box, 1, 6, range_one, &r), 0);
	ck_assert_uint_eq(r.n, 2);
	/* the last folder's records end at its last UID */
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(maildir_box_cache_range(work, 1, 100, range_one, &r), 0);
	ck_assert_uint_eq(r.n, 1);
	/* a record over the bulk buffer ends the walk with 1 */
	big = xmalloc(300 * 1024);
	memset(big, 'a' + 5, 300 * 1024);
	ck_assert_int_eq(maildir_box_cache_put(box, 5, big, 300 * 1024), 0);
	free(big);
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(maildir_box_cache_range(box, 5, 6, range_one, &r), 1);
	ck_assert_uint_eq(r.n, 0);
	maildir_box_close(&work);
	maildir_box_close(&box);
	maildir_store_close(&s);
}
END_TEST

/* A store whose last user closed it stays open for the next session; it is
 * not reused once its index was replaced (the user removed and created
 * again meanwhile). */
START_TEST(test_idle_store_reuse)
{
	struct maildir_store *s = NULL;
	struct maildir_box *box;
	struct maildir_box_info info;
	uint32_t uidvalidity;
	char p[1100];

	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	box = open_box(&s, "INBOX", 0);
	maildir_box_info(box, &info);
	uidvalidity = info.uidvalidity;
	maildir_box_close(&box);
	maildir_store_close(&s);
	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_B), 0);
	box = open_box(&s, "INBOX", 0);
	ck_assert_uint_eq(maildir_box_count(box), 2);
	maildir_box_info(box, &info);
	ck_assert_uint_eq(info.uidvalidity, uidvalidity);
	maildir_box_close(&box);
	maildir_store_close(&s);

	snprintf(p, sizeof(p), "%s/alice", mail);
	ck_assert_int_eq(fs_rmtree(p), 0);
	ck_assert_msg(maildir_user_create(mail, "alice", err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_B), 0);
	box = open_box(&s, "INBOX", 0);
	ck_assert_uint_eq(maildir_box_count(box), 1);
	maildir_box_close(&box);
	maildir_store_close(&s);
}
END_TEST

/* The next folder id, as an index from before "Ifolder-id" kept it. */
static void make_old_layout(struct maildir_store *s)
{
	static const char new_key[] = "Ifolder-id", old_key[] = "Nfolder-id";
	DB_TXN *txn;
	DBT key, val;
	uint32_t id;

	ck_assert_int_eq(s->env->txn_begin(s->env, NULL, &txn, 0), 0);
	memset(&key, 0, sizeof(key));
	memset(&val, 0, sizeof(val));
	key.data = (void *)new_key;
	key.size = sizeof(new_key) - 1;
	val.data = &id;
	val.ulen = sizeof(id);
	val.flags = DB_DBT_USERMEM;
	ck_assert_int_eq(s->db->get(s->db, txn, &key, &val, 0), 0);
	ck_assert_uint_eq(val.size, sizeof(id));
	ck_assert_int_eq(s->db->del(s->db, txn, &key, 0), 0);
	key.data = (void *)old_key;
	key.size = sizeof(old_key) - 1;
	val.size = sizeof(id);
	ck_assert_int_eq(s->db->put(s->db, txn, &key, &val, 0), 0);
	ck_assert_int_eq(txn->commit(txn, 0), 0);
}

/* 0 found (value in *id_r), 1 not found. */
static int get_id_key(struct maildir_store *s, const char *k, uint32_t *id_r)
{
	DBT key, val;
	int r;

	memset(&key, 0, sizeof(key));
	memset(&val, 0, sizeof(val));
	key.data = (void *)k;
	key.size = (u_int32_t)strlen(k);
	val.data = id_r;
	val.ulen = sizeof(*id_r);
	val.flags = DB_DBT_USERMEM;
	r = s->db->get(s->db, NULL, &key, &val, 0);
	ck_assert(r == 0 || r == DB_NOTFOUND);
	return r == 0 ? 0 : 1;
}

static void box_state(struct maildir_store **s, const char *name,
		      struct maildir_box_info *info, unsigned *flags_r)
{
	struct maildir_box *box = open_box(s, name, 0);

	maildir_box_info(box, info);
	for (size_t i = 0; i < maildir_box_count(box); i++)
		flags_r[i] = maildir_box_msg(box, i)->flags;
	maildir_box_close(&box);
}

/* An index written before the next folder id moved to "Ifolder-id" (so
 * that message keys are appended at the btree's right edge) opens with
 * every folder as it was, and a folder created afterwards gets a fresh
 * id, not one of an old folder (whose messages it would then show). */
START_TEST(test_old_next_id_key)
{
	struct maildir_store *s = NULL;
	struct maildir_box *box;
	struct maildir_box_info before[2], after[2];
	unsigned fl_before[2][4], fl_after[2][4];
	static const char *const names[] = { "INBOX", "Work" };
	uint32_t u = 2, id_old, id_new;

	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_A), 0);
	ck_assert_int_eq(deliver_text(mail, "alice", NULL, MSG_B), 0);
	box = open_box(&s, "INBOX", 0);
	ck_assert_msg(maildir_folder_create(s, "Work", err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert_int_eq(maildir_box_store(box, &u, 1, MAILDIR_STORE_ADD,
					   MAILDIR_FLAG_FLAGGED |
					   MAILDIR_FLAG_SEEN, 0, err,
					   sizeof(err)), 0);
	maildir_box_close(&box);
	ck_assert_int_eq(deliver_text(mail, "alice", "Work", MSG_A), 0);
	for (int i = 0; i < 2; i++)
		box_state(&s, names[i], &before[i], fl_before[i]);
	ck_assert_uint_eq(before[0].messages, 2);
	ck_assert_uint_eq(before[1].messages, 1);
	ck_assert_uint_eq(fl_before[0][1],
			  MAILDIR_FLAG_FLAGGED | MAILDIR_FLAG_SEEN);
	make_old_layout(s);
	maildir_store_close(&s);

	for (int i = 0; i < 2; i++) {
		box_state(&s, names[i], &after[i], fl_after[i]);
		ck_assert_uint_eq(after[i].uidvalidity, before[i].uidvalidity);
		ck_assert_uint_eq(after[i].uidnext, before[i].uidnext);
		ck_assert_uint_eq(after[i].highestmodseq,
				  before[i].highestmodseq);
		ck_assert_uint_eq(after[i].messages, before[i].messages);
		ck_assert_uint_eq(after[i].unseen, before[i].unseen);
		for (uint32_t j = 0; j < after[i].messages; j++)
			ck_assert_uint_eq(fl_after[i][j], fl_before[i][j]);
	}
	ck_assert_int_eq(get_id_key(s, "Nfolder-id", &id_old), 0);
	ck_assert_int_eq(get_id_key(s, "Ifolder-id", &id_new), 1);

	/* The first new folder replaces the old key in its transaction. */
	ck_assert_msg(maildir_folder_create(s, "New", err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert_int_eq(deliver_text(mail, "alice", "New", MSG_B), 0);
	box = open_box(&s, "New", 0);
	ck_assert_uint_eq(maildir_box_count(box), 1);
	ck_assert_uint_eq(maildir_box_msg(box, 0)->uid, 1);
	ck_assert_uint_eq(maildir_box_msg(box, 0)->flags, 0);
	maildir_box_close(&box);
	ck_assert_int_eq(get_id_key(s, "Nfolder-id", &id_new), 1);
	ck_assert_int_eq(get_id_key(s, "Ifolder-id", &id_new), 0);
	ck_assert_uint_eq(id_new, id_old + 1);
	box = open_box(&s, "INBOX", 0);
	ck_assert_uint_eq(maildir_box_count(box), 2);
	maildir_box_close(&box);
	maildir_store_close(&s);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("maildir-index");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_uids_across_reopen);
	tcase_add_test(tc, test_rebuild_after_index_deleted);
	tcase_add_test(tc, test_foreign_lf_files);
	tcase_add_test(tc, test_recent_once);
	tcase_add_test(tc, test_store_flags_and_sync);
	tcase_add_test(tc, test_expunge_deleted_and_uid_string);
	tcase_add_test(tc, test_copy_and_append);
	tcase_add_test(tc, test_notify_fd);
	tcase_add_test(tc, test_sync_nothing_changed);
	tcase_add_test(tc, test_message_cache);
	tcase_add_test(tc, test_stale_uidvalidity_refused);
	tcase_add_test(tc, test_deferred_load);
	tcase_add_test(tc, test_small_folder_not_deferred);
	tcase_add_test(tc, test_cache_range);
	tcase_add_test(tc, test_idle_store_reuse);
	tcase_add_test(tc, test_old_next_id_key);
	suite_add_tcase(s, tc);
	return s;
}
