/* The IMAP URLs of CATENATE (RFC 4469 5): a message or a section of one in
 * the user's own mailboxes, in the relative form of RFC 5092 7
 *   "/" enc-mailbox [";UIDVALIDITY=" nz-number] "/;UID=" nz-number
 *   ["/;SECTION=" enc-section] ["/;PARTIAL=" number ["." nz-number]]
 * (keys in any case).  Absolute URLs (imap://host/...) are refused: this
 * server does not know its own name as clients write it. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imapd/imap-int.h"
#include "maildir/mailbox.h"
#include "maildir/message.h"

struct imap_url {
	struct buf mailbox;	/* decoded */
	uint32_t uidvalidity;	/* 0: not given */
	uint32_t uid;
	struct buf section;	/* decoded; empty: the whole message */
	bool partial;
	uint32_t offset, length;	/* length 0: to the end */
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* %XX decoding of s[0..len) (RFC 3986 2.1). */
static int url_decode(const char *s, size_t len, struct buf *out)
{
	buf_clear(out);
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '%') {
			buf_putc(out, s[i]);
			continue;
		}
		if (i + 2 >= len || hexval(s[i + 1]) < 0 ||
		    hexval(s[i + 2]) < 0)
			return -1;
		buf_putc(out, (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2])));
		i += 2;
	}
	return memchr(out->data, '\0', out->len) == NULL ? 0 : -1;
}

static bool number(const char *s, size_t len, bool nz, uint32_t *n_r)
{
	uint64_t v = 0;

	if (len == 0 || len > 10)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT32_MAX || (nz && v == 0))
		return false;
	*n_r = (uint32_t)v;
	return true;
}

/* "KEY=" at s (any case): its length, else 0. */
static size_t key_is(const char *s, size_t len, const char *key)
{
	size_t n = strlen(key);

	return len >= n && strncasecmp(s, key, n) == 0 ? n : 0;
}

static int parse_partial(const char *s, size_t len, struct imap_url *u)
{
	const char *dot = memchr(s, '.', len);
	size_t first = dot != NULL ? (size_t)(dot - s) : len;

	u->partial = true;
	if (!number(s, first, false, &u->offset))
		return -1;
	if (dot != NULL && !number(dot + 1, len - first - 1, true, &u->length))
		return -1;
	return 0;
}

static int parse_url(const char *url, struct imap_url *u)
{
	const char *p = url, *end = url + strlen(url), *cut;
	size_t k;

	if (*p++ != '/')
		return -1;
	/* the mailbox ends at ";UIDVALIDITY=" or "/;UID=" */
	for (cut = p; cut < end; cut++)
		if (key_is(cut, (size_t)(end - cut), ";UIDVALIDITY=") ||
		    key_is(cut, (size_t)(end - cut), "/;UID="))
			break;
	if (cut == p || url_decode(p, (size_t)(cut - p), &u->mailbox) < 0)
		return -1;
	p = cut;
	if ((k = key_is(p, (size_t)(end - p), ";UIDVALIDITY=")) > 0) {
		p += k;
		cut = strchr(p, '/');
		if (cut == NULL ||
		    !number(p, (size_t)(cut - p), true, &u->uidvalidity))
			return -1;
		p = cut;
	}
	if ((k = key_is(p, (size_t)(end - p), "/;UID=")) == 0)
		return -1;
	p += k;
	cut = strchr(p, '/');
	if (cut == NULL)
		cut = end;
	if (!number(p, (size_t)(cut - p), true, &u->uid))
		return -1;
	p = cut;
	if ((k = key_is(p, (size_t)(end - p), "/;SECTION=")) > 0) {
		p += k;
		cut = strchr(p, '/');
		if (cut == NULL)
			cut = end;
		if (url_decode(p, (size_t)(cut - p), &u->section) < 0 ||
		    u->section.len == 0)
			return -1;
		p = cut;
	}
	if ((k = key_is(p, (size_t)(end - p), "/;PARTIAL=")) > 0) {
		p += k;
		if (parse_partial(p, (size_t)(end - p), u) < 0)
			return -1;
		p = end;
	}
	return p == end ? 0 : -1;
}

/* The message file, whole. */
static int read_message(struct maildir_box *box, uint32_t uid,
			struct buf *data)
{
	char err[256];
	struct stat st;
	size_t got = 0;
	int fd = maildir_box_open_msg(box, uid, err, sizeof(err));

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || buf_reserve(data, (size_t)st.st_size) < 0) {
		close(fd);
		return -1;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, data->data + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	data->len = got;
	return got == (size_t)st.st_size ? 0 : -1;
}

/* Appends the wire bytes the URL names (after its partial) to out. */
static int section_bytes(const struct imap_url *u, const struct buf *data,
			 struct buf *out)
{
	uint32_t parts[IMAP_MAX_SECTION_PARTS];
	struct msg_section sect;
	struct msg_range r;
	struct msg_parse *p;
	struct buf built = BUF_INIT(BUF_UNLIMITED);
	size_t skip = u->partial ? u->offset : 0;
	size_t max = u->partial && u->length > 0 ? u->length : SIZE_MAX;
	int ret = -1;

	if (msg_section_parse(u->section.data != NULL ? u->section.data : "",
			      u->section.len, &sect, parts,
			      IMAP_MAX_SECTION_PARTS) < 0 ||
	    sect.kind == MSG_SECT_FIELDS || sect.kind == MSG_SECT_FIELDS_NOT)
		return -1;
	p = msg_parse(data->data, data->len);
	if (msg_section_find(p, data->data, &sect, &r, &built) == 0)
		ret = msg_wire_append(data->data, r.off, r.len, skip, max, out);
	msg_parse_free(&p);
	buf_free(&built);
	return ret;
}

int imap_url_fetch(struct imap_session *s, const char *url, struct buf *out)
{
	struct imap_url u;
	struct maildir_box *box = NULL;
	struct maildir_box_info info;
	struct buf data = BUF_INIT(BUF_UNLIMITED);
	char err[256];
	int ret = -1;

	memset(&u, 0, sizeof(u));
	buf_init(&u.mailbox, BUF_UNLIMITED);
	buf_init(&u.section, BUF_UNLIMITED);
	if (parse_url(url, &u) < 0 ||
	    maildir_box_open(s->store, buf_cstr(&u.mailbox),
			     MAILDIR_BOX_READONLY, &box, err, sizeof(err)) < 0)
		goto out;
	maildir_box_info(box, &info);
	if ((u.uidvalidity != 0 && u.uidvalidity != info.uidvalidity) ||
	    maildir_box_find(box, u.uid) < 0 ||
	    read_message(box, u.uid, &data) < 0)
		goto out;
	ret = section_bytes(&u, &data, out);
out:
	maildir_box_close(&box);
	buf_free(&data);
	buf_free(&u.mailbox);
	buf_free(&u.section);
	return ret;
}
