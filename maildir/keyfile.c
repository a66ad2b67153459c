/* The per-folder key side file (keyfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "maildir/box-int.h"
#include "maildir/fsutil.h"
#include "maildir/keyfile.h"

#define MAGIC "MLK1"
#define HEAD_LEN 8
#define FILE_MAX ((off_t)1 << 30)	/* a bigger file is not read */

static void file_path(const char *store_path, uint32_t uidvalidity,
		      struct buf *out)
{
	buf_clear(out);
	buf_printf(out, "%s/" INDEX_DIR "/sortkeys.%u", store_path,
		   uidvalidity);
}

static uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* The whole file (at most FILE_MAX): 0 with *data_r malloc'd, 1 when
 * there is none (or it is too big), -1 on error. */
static int read_file(const char *path, unsigned char **data_r, size_t *len_r)
{
	struct stat st;
	unsigned char *data;
	size_t got = 0;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return errno == ENOENT ? 1 : -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > FILE_MAX) {
		close(fd);
		return 1;
	}
	data = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		r = read(fd, data + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	*data_r = data;
	*len_r = got;
	return 0;
}

int maildir_box_keys_read(struct maildir_box *box, maildir_cache_fn *fn,
			  void *arg)
{
	struct buf path = BUF_INIT(BUF_UNLIMITED);
	unsigned char *data = NULL;
	size_t len = 0, pos = HEAD_LEN, rlen;
	int r;

	file_path(box->s->path, box->f.uidvalidity, &path);
	r = read_file(path.data, &data, &len);
	buf_free(&path);
	if (r != 0)
		return r < 0 ? -1 : 0;
	/* a damaged header: nothing in it can be trusted */
	if (len < HEAD_LEN || memcmp(data, MAGIC, 4) != 0 ||
	    get_be32(data + 4) != box->f.uidvalidity)
		pos = len;
	while (len - pos >= 8) {
		rlen = get_be32(data + pos + 4);
		if (rlen > MAILDIR_KEYREC_MAX || rlen > len - pos - 8)
			break;
		if (fn(arg, get_be32(data + pos), data + pos + 8, rlen) != 0)
			break;
		pos += 8 + rlen;
	}
	free(data);
	return 0;
}

/* The records framed, after the file header when `head`. */
static void frame(const struct maildir_box *box,
		  const struct maildir_keyrec *v, size_t n, bool head,
		  struct buf *out)
{
	unsigned char h[8];

	if (head) {
		memcpy(h, MAGIC, 4);
		put_be32(h + 4, box->f.uidvalidity);
		buf_append(out, h, 8);
	}
	for (size_t i = 0; i < n; i++) {
		if (v[i].len > MAILDIR_KEYREC_MAX)
			continue;
		put_be32(h, v[i].uid);
		put_be32(h + 4, (uint32_t)v[i].len);
		buf_append(out, h, 8);
		buf_append(out, v[i].data, v[i].len);
	}
}

int maildir_box_keys_append(struct maildir_box *box,
			    const struct maildir_keyrec *v, size_t n)
{
	struct buf path = BUF_INIT(BUF_UNLIMITED);
	struct buf out = BUF_INIT(BUF_UNLIMITED);
	struct stat st;
	int fd, ret = -1;

	file_path(box->s->path, box->f.uidvalidity, &path);
	fd = open(path.data, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
		  O_NOFOLLOW, 0600);
	if (fd >= 0 && fstat(fd, &st) == 0) {
		/* a new file (or one cut inside its header) starts over */
		if (st.st_size < HEAD_LEN && ftruncate(fd, 0) < 0)
			goto out;
		frame(box, v, n, st.st_size < HEAD_LEN, &out);
		ret = fs_write_all(fd, out.data, out.len);
	}
out:
	if (fd >= 0)
		close(fd);
	buf_free(&out);
	buf_free(&path);
	return ret;
}

static unsigned rewrites;

int maildir_box_keys_rewrite(struct maildir_box *box,
			     const struct maildir_keyrec *v, size_t n)
{
	struct buf path = BUF_INIT(BUF_UNLIMITED);
	struct buf tmp = BUF_INIT(BUF_UNLIMITED);
	struct buf out = BUF_INIT(BUF_UNLIMITED);
	int fd, ret = -1;

	file_path(box->s->path, box->f.uidvalidity, &path);
	/* unique per process and thread */
	buf_printf(&tmp, "%s.%ld.%u.tmp", path.data, (long)getpid(),
		   __atomic_fetch_add(&rewrites, 1, __ATOMIC_RELAXED));
	fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
		  O_NOFOLLOW, 0600);
	if (fd >= 0) {
		frame(box, v, n, true, &out);
		ret = fs_write_all(fd, out.data, out.len);
		if (close(fd) < 0)
			ret = -1;
		if (ret == 0)
			ret = rename(tmp.data, path.data);
		if (ret < 0)
			unlink(tmp.data);
	}
	buf_free(&out);
	buf_free(&tmp);
	buf_free(&path);
	return ret;
}

void maildir_keys_remove(const struct maildir_store *store,
			 uint32_t uidvalidity)
{
	struct buf path = BUF_INIT(BUF_UNLIMITED);

	file_path(store->path, uidvalidity, &path);
	unlink(path.data);
	buf_free(&path);
}

int maildir_box_keys_id(struct maildir_box *box, uint64_t *id_r)
{
	struct buf path = BUF_INIT(BUF_UNLIMITED);
	struct stat st;
	int r;

	file_path(box->s->path, box->f.uidvalidity, &path);
	r = lstat(path.data, &st);
	buf_free(&path);
	if (r < 0)
		return -1;
	*id_r = (uint64_t)st.st_ino ^ ((uint64_t)st.st_dev << 40);
	return 0;
}
