#ifndef TESTS_MAILDIR_HELPERS_H
#define TESTS_MAILDIR_HELPERS_H
/* Shared by the test-maildir-*.c suites (header-only: each suite is its own
 * binary). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "maildir/deliver.h"
#include "maildir/user.h"
#include "tests/unit/unit.h"

/* A fresh instance: ROOT/mail/alice exists.  Returns ROOT (free it). */
static inline char *mk_root(char *mail_r, size_t len)
{
	char *root = unit_tmpdir();
	char err[256];

	snprintf(mail_r, len, "%s/mail", root);
	ck_assert_msg(maildir_user_create(mail_r, "alice", err, sizeof(err)) == 0,
		      "%s", err);
	return root;
}

/* Delivers `text` to alice (folder may be NULL).  Returns 0/-1. */
static inline int deliver_text(const char *mail, const char *user,
			       const char *folder, const char *text)
{
	struct maildir_rcpt r = { user, folder };
	struct maildir_delivery *d;
	char err[256];
	int ret;

	d = maildir_delivery_begin(mail, err, sizeof(err));
	if (d == NULL)
		return -1;
	ret = maildir_delivery_write(d, text, strlen(text));
	if (ret == 0)
		ret = maildir_delivery_commit(d, &r, 1, err, sizeof(err));
	maildir_delivery_free(&d);
	return ret;
}

/* Number of entries (not dot files) in DIR. */
static inline int count_dir(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static inline int count_sub(const char *mail, const char *rel)
{
	struct buf p = BUF_INIT(BUF_UNLIMITED);
	int n;

	buf_printf(&p, "%s/%s", mail, rel);
	n = count_dir(p.data);
	buf_free(&p);
	return n;
}

/* Writes a file with the given content. */
static inline void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

#define MSG_A "From: a@example.org\r\nSubject: one\r\n\r\nbody one\r\n"
#define MSG_B "From: b@example.org\r\nSubject: two\r\n\r\nbody two\r\n"

#endif
