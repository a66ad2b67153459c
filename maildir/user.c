#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "maildir/fsutil.h"
#include "maildir/user.h"

/* The folders every new user gets; their directory names are their IMAP
 * names (ASCII, so the modified UTF-7 form is the same). */
static const char *const default_folders[] = { "Sent", "Drafts", "Trash", "Junk" };

bool maildir_user_default_folder(const char *name)
{
	for (size_t i = 0; i < sizeof(default_folders) / sizeof(default_folders[0]); i++)
		if (strcmp(name, default_folders[i]) == 0)
			return true;
	return false;
}

int maildir_user_name_valid(const char *user, char *err_r, size_t errlen)
{
	size_t i, len = strlen(user);

	if (len == 0 || len > 64) {
		snprintf(err_r, errlen, "user name must be 1 to 64 characters");
		return 0;
	}
	if (user[0] == '.' || user[0] == '-') {
		snprintf(err_r, errlen, "user name must not start with '%c'", user[0]);
		return 0;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)user[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '+' || c == '-')
			continue;
		snprintf(err_r, errlen,
			 "user name may hold only letters, digits and . _ + -");
		return 0;
	}
	return 1;
}

static int write_subscriptions(const char *userdir)
{
	struct buf path = BUF_INIT(BUF_UNLIMITED);
	struct buf text = BUF_INIT(BUF_UNLIMITED);
	struct stat st;
	size_t i;
	int fd, ret = -1;

	buf_printf(&path, "%s/subscriptions", userdir);
	if (stat(path.data, &st) == 0) {
		ret = 0;
		goto out;
	}
	for (i = 0; i < sizeof(default_folders) / sizeof(default_folders[0]); i++)
		buf_printf(&text, "%s\n", default_folders[i]);
	fd = open(path.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		goto out;
	if (fs_write_all(fd, text.data, text.len) < 0) {
		close(fd);
		goto out;
	}
	ret = close(fd);
out:
	buf_free(&path);
	buf_free(&text);
	return ret;
}

int maildir_user_create(const char *mail_root, const char *user,
			char *err_r, size_t errlen)
{
	struct buf dir = BUF_INIT(BUF_UNLIMITED);
	struct buf sub = BUF_INIT(BUF_UNLIMITED);
	const char *failed = NULL;
	size_t i;
	int ret = -1;

	if (!maildir_user_name_valid(user, err_r, errlen))
		return -1;
	buf_printf(&dir, "%s/%s", mail_root, user);
	if (fs_mkdir_p(mail_root) < 0) {
		failed = mail_root;
		goto out;
	}
	if (fs_mkmaildir(dir.data, 0) < 0) {
		failed = dir.data;
		goto out;
	}
	for (i = 0; i < sizeof(default_folders) / sizeof(default_folders[0]); i++) {
		buf_clear(&sub);
		buf_printf(&sub, "%s/.%s", dir.data, default_folders[i]);
		if (fs_mkmaildir(sub.data, 1) < 0) {
			failed = sub.data;
			goto out;
		}
	}
	if (write_subscriptions(dir.data) < 0) {
		failed = "subscriptions";
		goto out;
	}
	if (fs_fsync_dir(dir.data) < 0 || fs_fsync_dir(mail_root) < 0) {
		failed = "fsync";
		goto out;
	}
	ret = 0;
out:
	if (failed != NULL)
		snprintf(err_r, errlen, "creating mailbox of %s: %s: %s", user,
			 failed, strerror(errno));
	buf_free(&dir);
	buf_free(&sub);
	return ret;
}

int maildir_user_remove(const char *mail_root, const char *user,
			char *err_r, size_t errlen)
{
	struct buf dir = BUF_INIT(BUF_UNLIMITED);
	struct stat st;
	int ret = -1;

	if (!maildir_user_name_valid(user, err_r, errlen))
		return -1;
	buf_printf(&dir, "%s/%s", mail_root, user);
	if (lstat(dir.data, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err_r, errlen, "no such user mailbox: %s", dir.data);
		goto out;
	}
	if (fs_rmtree(dir.data) < 0) {
		snprintf(err_r, errlen, "removing %s: %s", dir.data,
			 strerror(errno));
		goto out;
	}
	ret = 0;
out:
	buf_free(&dir);
	return ret;
}
