/* RFC 6154 special-use attributes of folders: by name for the folders the
 * store creates (Sent, Drafts, Trash, Junk; Archive when there is one),
 * or as set by CREATE ... (USE (...)), kept in the folder's Maildir as
 * SPECIAL_USE_FILE so that RENAME carries it and DELETE removes it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "maildir/folder.h"
#include "maildir/fsutil.h"
#include "maildir/index-int.h"
#include "maildir/name.h"

#define SPECIAL_USE_FILE "maillab-special-use"
#define SPECIAL_USE_MAX 256	/* bytes of the file read */

static const struct {
	const char *attr;
	unsigned bit;
} uses[] = {
	{ "\\Archive", MAILDIR_FOLDER_ARCHIVE },
	{ "\\Drafts", MAILDIR_FOLDER_DRAFTS },
	{ "\\Junk", MAILDIR_FOLDER_JUNK },
	{ "\\Sent", MAILDIR_FOLDER_SENT },
	{ "\\Trash", MAILDIR_FOLDER_TRASH },
};

unsigned maildir_special_use_bit(const char *attr)
{
	for (size_t i = 0; i < sizeof(uses) / sizeof(uses[0]); i++)
		if (strcasecmp(uses[i].attr, attr) == 0)
			return uses[i].bit;
	return 0;
}

const char *maildir_special_use_name(unsigned bit)
{
	for (size_t i = 0; i < sizeof(uses) / sizeof(uses[0]); i++)
		if (uses[i].bit == bit)
			return uses[i].attr;
	return NULL;
}

static int special_use_path(struct maildir_store *s, const char *name,
			    struct buf *path)
{
	struct buf dir = BUF_INIT(BUF_UNLIMITED);
	char err[128];
	int ret = maildir_folder_dir(name, &dir, err, sizeof(err));

	if (ret == 0) {
		folder_path(s, dir.data, path);
		buf_puts(path, "/" SPECIAL_USE_FILE);
	}
	buf_free(&dir);
	return ret;
}

/* The bits in the folder's file; -1 when it has none. */
static int read_uses(struct maildir_store *s, const char *name)
{
	struct buf path = BUF_INIT(BUF_UNLIMITED);
	char text[SPECIAL_USE_MAX + 1], *word, *save;
	unsigned bits = 0;
	ssize_t n;
	int fd = -1;

	if (special_use_path(s, name, &path) == 0)
		fd = open(path.data, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	buf_free(&path);
	if (fd < 0)
		return -1;
	n = read(fd, text, SPECIAL_USE_MAX);
	close(fd);
	if (n < 0)
		return -1;
	text[n] = '\0';
	for (word = strtok_r(text, " \r\n", &save); word != NULL;
	     word = strtok_r(NULL, " \r\n", &save))
		bits |= maildir_special_use_bit(word);
	return (int)bits;
}

void maildir_folder_apply_special_use(struct maildir_store *s,
				      struct maildir_folder *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int bits;

		/* a name that is only a parent is no mailbox to use */
		if (list[i].attrs & MAILDIR_FOLDER_NOSELECT) {
			list[i].attrs &= ~(unsigned)MAILDIR_FOLDER_SPECIAL;
			continue;
		}
		bits = read_uses(s, list[i].name);
		if (bits >= 0)
			list[i].attrs = (list[i].attrs & ~MAILDIR_FOLDER_SPECIAL) |
				(unsigned)bits;
	}
}

int maildir_folder_set_special_use(struct maildir_store *s, const char *name,
				   unsigned bits, char *err_r, size_t errlen)
{
	struct buf path = BUF_INIT(BUF_UNLIMITED), tmp = BUF_INIT(BUF_UNLIMITED);
	struct buf text = BUF_INIT(BUF_UNLIMITED);
	int fd = -1, ret = -1;

	if (special_use_path(s, name, &path) < 0) {
		snprintf(err_r, errlen, "invalid mailbox name");
		goto out;
	}
	for (size_t i = 0; i < sizeof(uses) / sizeof(uses[0]); i++)
		if (bits & uses[i].bit)
			buf_printf(&text, "%s%s", text.len > 0 ? " " : "",
				   uses[i].attr);
	buf_putc(&text, '\n');
	/* written aside and renamed over: never half a file */
	buf_printf(&tmp, "%s.tmp", path.data);
	fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
		  O_NOFOLLOW, 0600);
	if (fd < 0 || fs_write_all(fd, text.data, text.len) < 0 ||
	    fsync(fd) < 0 || rename(tmp.data, path.data) < 0) {
		snprintf(err_r, errlen, "writing %s: %s", path.data,
			 strerror(errno));
		if (fd >= 0)
			unlink(tmp.data);
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	buf_free(&path);
	buf_free(&tmp);
	buf_free(&text);
	return ret;
}
