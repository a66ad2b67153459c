/* The POP3 maildrop: the user's INBOX in the Maildir store (maildir/),
 * seen through one snapshot for the whole session.
 *
 * RFC 1939 covers one maildrop per user, so folders other than INBOX are
 * not shown.  The snapshot is taken at login and synced only at QUIT, so
 * message numbers stay fixed (RFC 1939 5) and messages delivered meanwhile
 * wait for the next session, where they come after the others (UID order).
 *
 * UIDL (RFC 1939 7): we use the store's maildir_box_uid_string(),
 * UIDVALIDITY and UID as 16 hex digits, rather than the Maildir base name,
 * because it is what IMAP sees for the same message (the same mailbox read
 * over both protocols names a message the same way), it is short, it is
 * printable by construction, and it never repeats within a UIDVALIDITY
 * (DESIGN.md "Durability and integrity" 5).  A base name from other
 * software may hold characters outside RFC 1939's 0x21..0x7E and exceed
 * 70 octets.  The price: when the index is lost and rebuilt the
 * UIDVALIDITY changes, so a "leave on server" client sees every UIDL as new
 * and downloads the messages once more; it duplicates, it never loses or
 * deletes the wrong message.
 *
 * This is also what makes "leave mail on the server" work without any
 * server-side retention: the client remembers the UIDLs it has fetched,
 * fetches only unknown ones, and may DELE a message after it has held it for
 * as long as it likes; the server advertises EXPIRE NEVER (RFC 2449 6.7). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "maildir/lock.h"
#include "maildir/mailbox.h"
#include "pop3d/pop3-int.h"

struct pop3_maildrop {
	int lock_fd;			/* maildir_pop3_lock */
	struct maildir_store *store;
	struct maildir_box *box;	/* INBOX, synced only at QUIT */
	uint32_t *seen_uids, *del_uids;	/* UPDATE: what to change */
	size_t n_seen, n_del;
};

int maildrop_open(const char *mail_root, const char *user,
		  struct pop3_maildrop **drop_r, bool *in_use_r,
		  char *err_r, size_t errlen)
{
	struct pop3_maildrop *drop;
	int fd;

	*drop_r = NULL;
	*in_use_r = false;
	/* RFC 1939 8: exclusive access while in TRANSACTION; IMAP sessions
	 * and deliveries are not excluded by this lock. */
	fd = maildir_pop3_lock(mail_root, user, err_r, errlen);
	if (fd < 0) {
		*in_use_r = errno == EWOULDBLOCK || errno == EAGAIN;
		return -1;
	}
	drop = xcalloc(1, sizeof(*drop));
	drop->lock_fd = fd;
	if (maildir_store_open(mail_root, user, &drop->store, err_r,
			       errlen) < 0 ||
	    maildir_box_open(drop->store, "INBOX", 0, &drop->box, err_r,
			     errlen) < 0) {
		maildrop_close(&drop);
		return -1;
	}
	*drop_r = drop;
	return 0;
}

void maildrop_close(struct pop3_maildrop **dropp)
{
	struct pop3_maildrop *drop = *dropp;

	if (drop == NULL)
		return;
	if (drop->box != NULL)
		maildir_box_close(&drop->box);
	if (drop->store != NULL)
		maildir_store_close(&drop->store);
	maildir_pop3_unlock(&drop->lock_fd);
	free(drop->seen_uids);
	free(drop->del_uids);
	free(drop);
	*dropp = NULL;
}

size_t maildrop_count(const struct pop3_maildrop *drop)
{
	return maildir_box_count(drop->box);
}

/* RFC 1939 5, 11: LIST and STAT give the exact octets RETR sends.  A file
 * written by other software (or an IMAP APPEND without a final CRLF) may
 * end without a line end; RETR then adds CRLF so that the terminating "."
 * stands on a line of its own (multiline.c), and the client keeps that
 * CRLF as part of the message.  The store's size is the IMAP size, without
 * it, and the store records which files lack the line end when it indexes
 * them (maildir/mailbox.h no_final_eol), so this costs nothing per
 * session.  A folder indexed before the store recorded it reads "has a
 * line end" until it is re-indexed. */
uint64_t maildrop_size(const struct pop3_maildrop *drop, size_t i)
{
	const struct maildir_msg *msg =
		maildir_box_msg_exact(drop->box, i, MAILDIR_MSG_SIZES_UNKNOWN);

	return msg->size + (msg->no_final_eol ? 2 : 0);
}

void maildrop_uidl(const struct pop3_maildrop *drop, size_t i, char *out)
{
	maildir_box_uid_string(drop->box, maildir_box_msg(drop->box, i), out);
}

/* Reads the whole file into b. */
static int read_all(int fd, size_t size, struct buf *b, const char *name,
		    char *err_r, size_t errlen)
{
	buf_clear(b);
	if (buf_reserve(b, size) < 0) {
		snprintf(err_r, errlen, "%s: too large", name);
		return -1;
	}
	while (b->len < size) {
		ssize_t n = read(fd, b->data + b->len, size - b->len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err_r, errlen, "read(%s) failed: %s", name,
				 n < 0 ? strerror(errno) : "file shrank");
			return -1;
		}
		b->len += (size_t)n;
	}
	b->data[b->len] = '\0';
	return 0;
}

/* The common case of RETR: a small file with CRLF line ends, whose size
 * the index knows (without bare LF the file size is msg->size).  One read
 * of one byte more than that: getting exactly msg->size bytes means the
 * whole file, since a regular file reads short only at its end, and the
 * fstat is saved (RETR of many small messages is a few system calls each).
 * Returns 0 with the text in b, or -1 when the file is not what the index
 * says (the caller rewinds and takes the general path). */
static int read_known_size(int fd, const struct maildir_msg *msg,
			   struct buf *b)
{
	size_t want = (size_t)msg->size;
	ssize_t n;

	buf_clear(b);
	if (buf_reserve(b, want + 1) < 0)
		return -1;
	do
		n = read(fd, b->data, want + 1);
	while (n < 0 && errno == EINTR);
	if (n < 0 || (size_t)n != want)
		return -1;
	b->len = want;
	b->data[want] = '\0';
	return 0;
}

int maildrop_text(struct pop3_maildrop *drop, size_t i, struct buf *small,
		  struct maildrop_text *t, bool *convert_lf_r,
		  char *err_r, size_t errlen)
{
	const struct maildir_msg *msg =
		maildir_box_msg_exact(drop->box, i, MAILDIR_MSG_SIZES_UNKNOWN);
	struct stat st;
	int fd, ret, saved;

	memset(t, 0, sizeof(*t));
	fd = maildir_box_open_msg(drop->box, msg->uid, err_r, errlen);
	if (fd < 0)
		return -1;
	*convert_lf_r = msg->needs_crlf;
	if (!msg->needs_crlf && msg->size < MAILDROP_READ_MAX) {
		if (read_known_size(fd, msg, small) == 0) {
			close(fd);
			t->data = small->data;
			t->size = small->len;
			return 0;
		}
		buf_clear(small);
		if (lseek(fd, 0, SEEK_SET) < 0) {
			saved = errno;
			snprintf(err_r, errlen, "lseek(%s) failed: %s",
				 msg->fname, strerror(errno));
			close(fd);
			errno = saved;
			return -1;
		}
	}
	if (fstat(fd, &st) < 0) {
		saved = errno;
		snprintf(err_r, errlen, "fstat(%s) failed: %s", msg->fname,
			 strerror(errno));
		close(fd);
		errno = saved;
		return -1;
	}
	if ((uint64_t)st.st_size <= MAILDROP_READ_MAX) {
		ret = read_all(fd, (size_t)st.st_size, small, msg->fname,
			       err_r, errlen);
		t->data = small->data != NULL ? small->data : "";
		t->size = small->len;
	} else {
		ret = msg_map_fd(fd, (size_t)st.st_size, &t->map, err_r,
				 errlen);
		t->mapped = ret == 0;
		t->data = t->map.data;
		t->size = t->map.size;
	}
	saved = errno;
	close(fd);
	errno = saved;
	return ret;
}

void maildrop_text_free(struct maildrop_text *t)
{
	if (t->mapped)
		msg_unmap(&t->map);
	memset(t, 0, sizeof(*t));
}

/* UIDs of the messages whose marks match `want` under `mask` and whose
 * flags do not already have `skip_flags`.  Returns how many (uids has room
 * for all). */
static size_t collect(const struct pop3_maildrop *drop, const uint8_t *marks,
		      uint8_t mask, uint8_t want, unsigned skip_flags,
		      uint32_t *uids)
{
	size_t n = 0, count = maildir_box_count(drop->box);

	for (size_t i = 0; i < count; i++) {
		const struct maildir_msg *msg = maildir_box_msg(drop->box, i);

		if ((marks[i] & mask) == want && !(msg->flags & skip_flags))
			uids[n++] = msg->uid;
	}
	return n;
}

int maildrop_prepare_update(struct pop3_maildrop *drop, const uint8_t *marks,
			    char *err_r, size_t errlen)
{
	size_t count = maildir_box_count(drop->box);
	struct maildir_changes ch;
	bool rebuilt;

	drop->seen_uids = xreallocarray(NULL, count + 1, sizeof(uint32_t));
	drop->del_uids = xreallocarray(NULL, count + 1, sizeof(uint32_t));
	drop->n_seen = collect(drop, marks,
			       POP3_MARK_RETRIEVED | POP3_MARK_DELETED,
			       POP3_MARK_RETRIEVED, MAILDIR_FLAG_SEEN,
			       drop->seen_uids);
	drop->n_del = collect(drop, marks, POP3_MARK_DELETED,
			      POP3_MARK_DELETED, 0, drop->del_uids);
	if (drop->n_seen == 0 && drop->n_del == 0)
		return 0;
	/* UIDs name the same messages only within one UIDVALIDITY: if the
	 * index was rebuilt since the snapshot, changing messages by UID
	 * could hit the wrong ones, so nothing is changed. */
	memset(&ch, 0, sizeof(ch));
	if (maildir_box_sync(drop->box, &ch, err_r, errlen) < 0)
		return -1;
	rebuilt = ch.uidvalidity_changed;
	maildir_changes_free(&ch);
	if (rebuilt) {
		snprintf(err_r, errlen, "INBOX was re-indexed during the session");
		drop->n_seen = drop->n_del = 0;
		return -1;
	}
	return 0;
}

int maildrop_mark_seen(struct pop3_maildrop *drop, char *err_r,
		       size_t errlen)
{
	if (drop->n_seen == 0)
		return 0;
	return maildir_box_store(drop->box, drop->seen_uids, drop->n_seen,
				 MAILDIR_STORE_ADD, MAILDIR_FLAG_SEEN, 0,
				 err_r, errlen);
}

int maildrop_expunge(struct pop3_maildrop *drop, char *err_r, size_t errlen)
{
	if (drop->n_del == 0)
		return 0;
	return maildir_box_expunge(drop->box, drop->del_uids, drop->n_del,
				   err_r, errlen);
}
