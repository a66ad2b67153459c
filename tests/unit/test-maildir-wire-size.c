/* Message sizes and internal dates taken from Maildir file names at the
 * first index of a folder, and made exact when asked (wire-size.c,
 * maildir_box_msg_exact). */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maildir/box-int.h"
#include "maildir/folder.h"
#include "maildir/mailbox.h"
#include "tests/unit/maildir-helpers.h"

static char mail[1024];
static char *root;
static char err[256];

/* 32 bytes with 4 bare LFs, the last line without a line end: 36 on the
 * wire (RFC822.SIZE counts no line end the file lacks). */
#define LF_TEXT "Subject: lf\n\nline one\nline 2\nend"
#define LF_SIZE 32
#define LF_WIRE 36
#define CRLF_TEXT "Subject: crlf\r\n\r\nbody\r\n"

static void setup(void)
{
	root = mk_root(mail, sizeof(mail));
}

static void teardown(void)
{
	unit_rmtree(root);
	free(root);
}

/* Writes alice's cur/NAME with `text` and mtime `mtime`. */
static void put_file(const char *name, const char *text, time_t mtime)
{
	struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };
	char path[2048];

	snprintf(path, sizeof(path), "%s/alice/cur/%s", mail, name);
	write_file(path, text);
	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

START_TEST(test_from_name)
{
	struct mrec m;
	struct stat st;

	ck_assert_uint_eq(strlen(LF_TEXT), LF_SIZE);
	memset(&m, 0, sizeof(m));
	/* S= and W=: both sizes, the date from the name, EOL unknown */
	ck_assert(mrec_name_suffices("cur/1700000001.M1P2Q3.h,S=30,W=34:2,S"));
	mrec_from_name(&m, "cur/1700000001.M1P2Q3.h,S=30,W=34:2,S", NULL);
	ck_assert_uint_eq(m.size, 34);
	ck_assert(m.needs_crlf);
	ck_assert_int_eq(m.idate, 1700000001);
	ck_assert_uint_eq(m.unverified, MAILDIR_MSG_EOL_UNKNOWN |
			  MAILDIR_MSG_IDATE_UNKNOWN);
	/* W= equal to S=: no bare LF */
	mrec_from_name(&m, "1700000001.M1P2Q3.h,S=30,W=30", NULL);
	ck_assert_uint_eq(m.size, 30);
	ck_assert(!m.needs_crlf);
	/* only S=: a lower bound, the wire size unknown */
	mrec_from_name(&m, "cur/1700000002.M1P2Q4.h,S=30:2,", NULL);
	ck_assert_uint_eq(m.size, 30);
	ck_assert(!m.needs_crlf);
	ck_assert_uint_eq(m.unverified, MAILDIR_MSG_SIZES_UNKNOWN |
			  MAILDIR_MSG_IDATE_UNKNOWN);
	/* W= below S= cannot be right */
	mrec_from_name(&m, "1700000002.M1P2Q4.h,S=30,W=20", NULL);
	ck_assert_uint_eq(m.size, 30);
	ck_assert(m.unverified & MAILDIR_MSG_WIRE_UNKNOWN);
	/* neither, or no delivery time: the name does not suffice */
	ck_assert(!mrec_name_suffices("cur/1700000003.M1P2Q5.h:2,"));
	ck_assert(!mrec_name_suffices("cur/msg,S=30:2,"));
	/* with a stat: a W= whose S= is not the file's size is ignored */
	memset(&st, 0, sizeof(st));
	st.st_size = 40;
	st.st_mtim.tv_sec = 1600000000;
	mrec_from_name(&m, "1700000001.M1P2Q3.h,S=30,W=34", &st);
	ck_assert_uint_eq(m.size, 40);
	ck_assert_int_eq(m.idate, 1600000000);
	ck_assert_uint_eq(m.unverified, MAILDIR_MSG_SIZES_UNKNOWN);
	st.st_size = 30;
	mrec_from_name(&m, "1700000001.M1P2Q3.h,S=30,W=34", &st);
	ck_assert_uint_eq(m.size, 34);
	ck_assert_uint_eq(m.unverified, MAILDIR_MSG_EOL_UNKNOWN);
}
END_TEST

/* A folder of files from other software, never indexed: names with S=
 * and W=, with only S=, with neither, with a wrong S=.  SELECT takes the
 * first two and the last from their names; the exact values come when
 * asked, and are kept in the index. */
START_TEST(test_lazy_sizes)
{
	static const char *const names[] = {
		"1700000001.M1P1Q1.other,S=32,W=36:2,S",
		"1700000002.M1P1Q2.other,S=32:2,",
		"1700000003.M1P1Q3.other:2,",
		"1700000004.M1P1Q4.other,S=5:2,",
		"1700000005.M1P1Q5.other,S=23:2,",
	};
	static const time_t mtimes[] = {
		1500000001, 1500000002, 1500000003, 1500000004, 1500000005,
	};
	struct maildir_store *s = NULL;
	struct maildir_box *box;
	struct maildir_box_info info;
	const struct maildir_msg *m;
	size_t i;

	for (i = 0; i < 4; i++)
		put_file(names[i], LF_TEXT, mtimes[i]);
	put_file(names[4], CRLF_TEXT, mtimes[4]);
	ck_assert_int_eq(maildir_store_open(mail, "alice", &s, err,
					    sizeof(err)), 0);
	ck_assert_int_eq(maildir_box_open(s, "INBOX", 0, &box, err,
					  sizeof(err)), 0);
	ck_assert_uint_eq(maildir_box_count(box), 5);
	/* as indexed: W= trusted, S= a lower bound, the third read */
	ck_assert_uint_eq(maildir_box_msg(box, 0)->size, LF_WIRE);
	ck_assert(maildir_box_msg(box, 0)->needs_crlf);
	ck_assert_uint_eq(maildir_box_msg(box, 1)->size, LF_SIZE);
	ck_assert(maildir_box_msg(box, 1)->unverified &
		  MAILDIR_MSG_WIRE_UNKNOWN);
	ck_assert_uint_eq(maildir_box_msg(box, 2)->size, LF_WIRE);
	ck_assert_uint_eq(maildir_box_msg(box, 2)->unverified, 0);
	ck_assert_int_eq(maildir_box_msg(box, 2)->idate, mtimes[2]);
	ck_assert(maildir_box_msg(box, 2)->no_final_eol);
	ck_assert_uint_eq(maildir_box_msg(box, 3)->size, 5);
	ck_assert_int_eq(maildir_box_msg(box, 3)->idate, 1700000004);
	/* exact on demand: every one is the file's wire size and mtime */
	for (i = 0; i < 4; i++) {
		m = maildir_box_msg_exact(box, i, MAILDIR_MSG_SIZES_UNKNOWN |
					  MAILDIR_MSG_IDATE_UNKNOWN);
		ck_assert_msg(m->size == LF_WIRE, "message %zu: %llu", i,
			      (unsigned long long)m->size);
		ck_assert(m->needs_crlf);
		ck_assert(m->no_final_eol);
		ck_assert_int_eq(m->idate, mtimes[i]);
		ck_assert_uint_eq(m->unverified, 0);
	}
	/* only what is asked for is read */
	m = maildir_box_msg_exact(box, 4, MAILDIR_MSG_IDATE_UNKNOWN);
	ck_assert_int_eq(m->idate, mtimes[4]);
	ck_assert_uint_eq(m->unverified, MAILDIR_MSG_SIZES_UNKNOWN);
	m = maildir_box_msg_exact(box, 4, MAILDIR_MSG_WIRE_UNKNOWN);
	ck_assert_uint_eq(m->size, strlen(CRLF_TEXT));
	ck_assert(!m->needs_crlf && !m->no_final_eol);
	ck_assert_uint_eq(m->unverified, 0);
	maildir_box_close(&box);
	/* written back at close: a new snapshot has them exact, and the
	 * folder's byte count follows (STATUS SIZE, quota) */
	ck_assert_int_eq(maildir_box_open(s, "INBOX", 0, &box, err,
					  sizeof(err)), 0);
	for (i = 0; i < 5; i++) {
		m = maildir_box_msg(box, i);
		ck_assert_uint_eq(m->unverified, 0);
		ck_assert_int_eq(m->idate, mtimes[i]);
		ck_assert_uint_eq(m->size, i < 4 ? LF_WIRE : strlen(CRLF_TEXT));
	}
	ck_assert_uint_eq(box->f.bytes, 4 * LF_WIRE + strlen(CRLF_TEXT));
	maildir_box_close(&box);
	ck_assert_int_eq(maildir_folder_status_size(s, "INBOX", &info, err,
						    sizeof(err)), 0);
	ck_assert_uint_eq(info.size, 4 * LF_WIRE + strlen(CRLF_TEXT));
	maildir_store_close(&s);
}
END_TEST

/* STATUS SIZE reads the files the index has only from their names. */
START_TEST(test_status_size_reads)
{
	struct maildir_store *s = NULL;
	struct maildir_box *box;
	struct maildir_box_info info;

	put_file("1700000001.M1P1Q1.other,S=32:2,", LF_TEXT, 1500000000);
	put_file("1700000002.M1P1Q2.other,S=5:2,", LF_TEXT, 1500000000);
	ck_assert_int_eq(maildir_store_open(mail, "alice", &s, err,
					    sizeof(err)), 0);
	ck_assert_int_eq(maildir_box_open(s, "INBOX", 0, &box, err,
					  sizeof(err)), 0);
	ck_assert_uint_eq(box->f.bytes, LF_SIZE + 5);
	ck_assert_int_eq(maildir_folder_status_size(s, "INBOX", &info, err,
						    sizeof(err)), 0);
	ck_assert_uint_eq(info.size, 2 * LF_WIRE);
	maildir_box_close(&box);
	maildir_store_close(&s);
}
END_TEST

/* A message indexed from its name whose file went away: the provisional
 * values stay, and the box goes on serving the others. */
START_TEST(test_exact_of_gone_file)
{
	struct maildir_store *s = NULL;
	struct maildir_box *box;
	const struct maildir_msg *m;
	char path[2048];

	put_file("1700000001.M1P1Q1.other,S=32:2,", LF_TEXT, 1500000000);
	put_file("1700000002.M1P1Q2.other,S=32:2,", LF_TEXT, 1500000001);
	ck_assert_int_eq(maildir_store_open(mail, "alice", &s, err,
					    sizeof(err)), 0);
	ck_assert_int_eq(maildir_box_open(s, "INBOX", 0, &box, err,
					  sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/alice/cur/"
		 "1700000001.M1P1Q1.other,S=32:2,", mail);
	ck_assert_int_eq(unlink(path), 0);
	m = maildir_box_msg_exact(box, 0, MAILDIR_MSG_WIRE_UNKNOWN);
	ck_assert_uint_eq(m->size, LF_SIZE);
	ck_assert(m->unverified & MAILDIR_MSG_WIRE_UNKNOWN);
	m = maildir_box_msg_exact(box, 1, MAILDIR_MSG_WIRE_UNKNOWN);
	ck_assert_uint_eq(m->size, LF_WIRE);
	ck_assert_ptr_null(maildir_box_msg_exact(box, 2, 0));
	maildir_box_close(&box);
	maildir_store_close(&s);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("maildir-wire-size");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_from_name);
	tcase_add_test(tc, test_lazy_sizes);
	tcase_add_test(tc, test_status_size_reads);
	tcase_add_test(tc, test_exact_of_gone_file);
	suite_add_tcase(s, tc);
	return s;
}
