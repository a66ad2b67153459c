/* The SORT/THREAD key cache (imapd/sort-cache.h): a repeated SORT reads
 * no message file, the keys survive in the folder's key file, expunges
 * and new mail are followed, and a damaged key file is ignored. */
#include <dirent.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imapd/sort-cache.h"
#include "tests/unit/imap-client.h"
#include "tests/unit/unit.h"

static const char *msg(const char *subject, char *buf, size_t len)
{
	snprintf(buf, len, "From: a@b\r\nSubject: %s\r\n"
		 "Message-ID: <%s@t>\r\n\r\nbody\r\n", subject, subject);
	return buf;
}

static void append_subject(struct client *c, const char *subject)
{
	char m[256];

	append(c, "INBOX", "", msg(subject, m, sizeof(m)));
}

/* The path of the key file of alice's INBOX (there must be one). */
static void key_file(struct instance *in, char *out, size_t len)
{
	char pat[4400];
	glob_t g;

	snprintf(pat, sizeof(pat), "%s/alice/maillab-index/sortkeys.*",
		 in->mail);
	ck_assert_int_eq(glob(pat, 0, NULL, &g), 0);
	ck_assert_uint_eq(g.gl_pathc, 1);
	snprintf(out, len, "%s", g.gl_pathv[0]);
	globfree(&g);
}

/* Rewrites, behind the server's back, the file of the message whose
 * Subject is `from` so that it says `to`. */
static void change_file(struct instance *in, const char *from, const char *to)
{
	char dir[4300], path[4600], m[256], old[256];
	struct dirent *de;
	DIR *d;
	FILE *f;
	bool done = false;

	snprintf(dir, sizeof(dir), "%s/alice/cur", in->mail);
	msg(from, old, sizeof(old));
	d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL && !done) {
		char got[256] = "";
		size_t n;

		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (de->d_name[0] == '.' || (f = fopen(path, "r")) == NULL)
			continue;
		n = fread(got, 1, sizeof(got) - 1, f);
		fclose(f);
		if (n != strlen(old) || memcmp(got, old, n) != 0)
			continue;
		f = fopen(path, "w");
		ck_assert_ptr_nonnull(f);
		fputs(msg(to, m, sizeof(m)), f);
		fclose(f);
		done = true;
	}
	closedir(d);
	ck_assert_msg(done, "no message \"%s\"", from);
}

START_TEST(test_repeat_reads_cache)
{
	struct instance in;
	struct client c;
	char path[4600];

	instance_start(&in, &c);
	append_subject(&c, "b");
	append_subject(&c, "c");
	append_subject(&c, "a");
	say(&c, "2 SELECT INBOX\r\n");
	say(&c, "3 SORT (SUBJECT) UTF-8 ALL\r\n");
	ASSERT_HAS(&c, "* SORT 3 1 2\r\n3 OK");
	key_file(&in, path, sizeof(path));
	/* the keys come from memory, then from the key file: the changed
	 * file is not read again */
	change_file(&in, "a", "zzz");
	say(&c, "4 SORT (SUBJECT) UTF-8 ALL\r\n");
	ASSERT_HAS(&c, "* SORT 3 1 2\r\n4 OK");
	imap_keycache_flush();
	say(&c, "5 SORT (SUBJECT) UTF-8 ALL\r\n");
	ASSERT_HAS(&c, "* SORT 3 1 2\r\n5 OK");
	/* without the key file (a new store) the keys are computed anew */
	ck_assert_int_eq(unlink(path), 0);
	say(&c, "6 SORT (SUBJECT) UTF-8 ALL\r\n");
	ASSERT_HAS(&c, "* SORT 1 2 3\r\n6 OK");
	say(&c, "7 THREAD ORDEREDSUBJECT UTF-8 ALL\r\n");
	ASSERT_HAS(&c, "* THREAD (1)(2)(3)\r\n7 OK");
	instance_stop(&in, &c);
}
END_TEST

START_TEST(test_expunge_and_new_mail)
{
	struct instance in;
	struct client c;

	instance_start(&in, &c);
	append_subject(&c, "b");
	append_subject(&c, "c");
	append_subject(&c, "a");
	say(&c, "2 SELECT INBOX\r\n");
	say(&c, "3 UID SORT (REVERSE SUBJECT) UTF-8 ALL\r\n");
	ASSERT_HAS(&c, "* SORT 2 1 3\r\n3 OK");
	say(&c, "4 STORE 2 +FLAGS (\\Deleted)\r\n");
	say(&c, "5 EXPUNGE\r\n");
	ASSERT_HAS(&c, "* 2 EXPUNGE");
	append_subject(&c, "0");
	append_subject(&c, "Re: c");
	say(&c, "6 UID SORT (SUBJECT) UTF-8 ALL\r\n");
	ASSERT_HAS(&c, "* SORT 4 3 1 5\r\n6 OK");
	say(&c, "7 SORT (SUBJECT REVERSE DATE) UTF-8 ALL\r\n");
	ASSERT_HAS(&c, "* SORT 3 2 1 4\r\n7 OK");
	say(&c, "8 UID THREAD ORDEREDSUBJECT UTF-8 ALL\r\n");
	ASSERT_HAS(&c, "* THREAD (1)(3)(4)(5)\r\n8 OK");
	imap_keycache_flush();
	say(&c, "9 UID SORT (SUBJECT) UTF-8 UID 2:*\r\n");
	ASSERT_HAS(&c, "* SORT 4 3 5\r\n9 OK");
	instance_stop(&in, &c);
}
END_TEST

START_TEST(test_damaged_key_file)
{
	static const char *junk[] = {
		"MLK1",
		"MLK1\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x40zz",
		"XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
	};
	struct instance in;
	struct client c;
	char path[4600];

	instance_start(&in, &c);
	append_subject(&c, "b");
	append_subject(&c, "a");
	say(&c, "2 SELECT INBOX\r\n");
	say(&c, "3 SORT (SUBJECT) UTF-8 ALL\r\n");
	ASSERT_HAS(&c, "* SORT 2 1\r\n3 OK");
	key_file(&in, path, sizeof(path));
	for (size_t i = 0; i < sizeof(junk) / sizeof(*junk); i++) {
		FILE *f = fopen(path, "w");

		ck_assert_ptr_nonnull(f);
		fwrite(junk[i], 1, strlen(junk[i]) + (i == 1 ? 6 : 0), f);
		fclose(f);
		imap_keycache_flush();
		say(&c, "4 SORT (SUBJECT) UTF-8 ALL\r\n");
		ASSERT_HAS(&c, "* SORT 2 1\r\n4 OK");
		say(&c, "5 NOOP\r\n");
		ASSERT_HAS(&c, "5 OK");
	}
	instance_stop(&in, &c);
}
END_TEST

/* RFC 7162 3.1.5: SORT with a MODSEQ search key answers the highest
 * modseq of the messages it returns. */
START_TEST(test_sort_modseq)
{
	struct instance in;
	struct client c;
	char want[128];
	const char *p;
	unsigned long long top;

	instance_start(&in, &c);
	append_subject(&c, "b");
	append_subject(&c, "a");
	append_subject(&c, "c");
	say(&c, "2 SELECT INBOX (CONDSTORE)\r\n");
	say(&c, "3 STORE 2 +FLAGS.SILENT (\\Flagged)\r\n");
	say(&c, "4 FETCH 2 (MODSEQ)\r\n");
	p = strstr(c.got, "MODSEQ (");
	ck_assert_ptr_nonnull(p);
	top = strtoull(p + 8, NULL, 10);
	say(&c, "5 SORT (SUBJECT) UTF-8 MODSEQ 1\r\n");
	snprintf(want, sizeof(want), "* SORT 2 1 3 (MODSEQ %llu)\r\n5 OK", top);
	ASSERT_HAS(&c, want);
	say(&c, "6a UID SORT (SUBJECT) UTF-8 MODSEQ x\r\n");
	ASSERT_HAS(&c, "6a BAD");
	snprintf(want, sizeof(want), "6 UID SORT (SUBJECT) UTF-8 MODSEQ %llu\r\n",
		 top);
	say(&c, want);
	snprintf(want, sizeof(want), "* SORT 2 (MODSEQ %llu)\r\n6 OK", top);
	ASSERT_HAS(&c, want);
	/* no key, no modseq; nothing returned, none either */
	say(&c, "7 SORT (SUBJECT) UTF-8 ALL\r\n");
	ASSERT_HAS(&c, "* SORT 2 1 3\r\n7 OK");
	say(&c, "8 SORT (SUBJECT) UTF-8 MODSEQ 999999\r\n");
	ASSERT_HAS(&c, "* SORT\r\n8 OK");
	/* ESORT: MODSEQ in the ESEARCH response (RFC 7162 3.1.5) */
	say(&c, "9 SORT RETURN (ALL) (REVERSE SUBJECT) UTF-8 MODSEQ 1\r\n");
	snprintf(want, sizeof(want), "* ESEARCH (TAG \"9\") ALL 3,1:2 "
		 "MODSEQ %llu\r\n9 OK", top);
	ASSERT_HAS(&c, want);
	say(&c, "10 NOOP\r\n");
	ASSERT_HAS(&c, "10 OK");
	instance_stop(&in, &c);
}
END_TEST

START_TEST(test_record_round_trip)
{
	char *refs[] = { "a@b", "c@d" };
	struct imap_msg_keys k = {
		.date = -5, .date_valid = true, .arrival = 1700000000,
		.size = 12345, .subject = "S", .subject_reply = true,
		.from = "F", .to = "", .cc = "C", .display_from = "D",
		.display_to = "E", .message_id = "m@x", .refs = refs,
		.nrefs = 2,
	};
	struct imap_msg_keys d;
	struct buf b = BUF_INIT(BUF_UNLIMITED);

	imap_keys_encode(&k, &b);
	ck_assert_int_eq(imap_keys_decode(b.data, b.len, &d), 0);
	ck_assert(d.date == -5 && d.date_valid && d.subject_reply);
	ck_assert(d.arrival == 1700000000 && d.size == 12345);
	ck_assert_str_eq(d.subject, "S");
	ck_assert_str_eq(d.to, "");
	ck_assert_str_eq(d.display_to, "E");
	ck_assert_str_eq(d.message_id, "m@x");
	ck_assert_uint_eq(d.nrefs, 2);
	ck_assert_str_eq(d.refs[1], "c@d");
	imap_msg_keys_free(&d);
	/* every cut, and a byte too many, is refused */
	for (size_t n = 0; n < b.len; n++)
		ck_assert_int_eq(imap_keys_decode(b.data, n, &d), -1);
	buf_putc(&b, 'x');
	ck_assert_int_eq(imap_keys_decode(b.data, b.len, &d), -1);
	buf_free(&b);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("imap-sort-cache");
	TCase *tc = tcase_create("cache");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_repeat_reads_cache);
	tcase_add_test(tc, test_expunge_and_new_mail);
	tcase_add_test(tc, test_damaged_key_file);
	tcase_add_test(tc, test_sort_modseq);
	tcase_add_test(tc, test_record_round_trip);
	suite_add_tcase(s, tc);
	return s;
}
