/* What a message file's name tells (sizes, internal date), what reading
 * it tells (the wire size: RFC822.SIZE, CRLF line ends), and making the
 * former exact on demand for a snapshot (maildir_box_msg_exact,
 * mailbox.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "maildir/box-int.h"
#include "maildir/lock.h"

/* Sizes read by maildir_box_msg_exact are written to the index after
 * this many (besides at the next sync and at close). */
#define EXACT_FLUSH 4096

int file_wire_size(int fd, uint64_t *size_r, uint64_t *wire_r,
		   bool *no_final_eol_r)
{
	char chunk[65536];
	uint64_t size = 0, bare = 0;
	char prev = '\0';
	ssize_t n, i;

	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (i = 0; i < n; i++) {
			if (chunk[i] == '\n' && prev != '\r')
				bare++;
			prev = chunk[i];
		}
		size += (uint64_t)n;
	}
	*size_r = size;
	*wire_r = size + bare;
	*no_final_eol_r = size > 0 && prev != '\n';
	return 0;
}

static void parse_base(const char *fname, struct maildir_name_info *info)
{
	const char *slash = strrchr(fname, '/');

	maildir_name_parse(slash != NULL ? slash + 1 : fname, info);
}

bool mrec_name_suffices(const char *fname)
{
	struct maildir_name_info info;

	parse_base(fname, &info);
	return mrec_info_suffices(&info);
}

bool mrec_info_suffices(const struct maildir_name_info *info)
{
	return info->has_size && info->sec > 0;
}

void mrec_from_name(struct mrec *m, const char *fname, const struct stat *st)
{
	struct maildir_name_info info;

	parse_base(fname, &info);
	mrec_from_info(m, &info, st);
}

void mrec_from_info(struct mrec *m, const struct maildir_name_info *ip,
		    const struct stat *st)
{
	struct maildir_name_info info = *ip;
	uint64_t file_size;

	m->no_final_eol = 0;
	m->unverified = MAILDIR_MSG_EOL_UNKNOWN;
	if (st != NULL) {
		m->idate = st->st_mtim.tv_sec;
		file_size = (uint64_t)st->st_size;
	} else {
		/* Maildir names begin with the delivery time: the mtime
		 * unless an APPEND set another (RFC 3501 6.3.11) */
		m->idate = info.sec;
		m->unverified |= MAILDIR_MSG_IDATE_UNKNOWN;
		file_size = info.size;
	}
	if (info.has_size && info.has_wire && info.size == file_size &&
	    info.wire >= info.size) {
		m->size = info.wire;
		m->needs_crlf = info.wire != info.size;
		return;
	}
	/* No W=, or a name that does not tell the truth about the file:
	 * what the file holds is known only once it is read. */
	m->size = file_size;
	m->needs_crlf = 0;
	m->unverified |= MAILDIR_MSG_WIRE_UNKNOWN;
}

int mrec_sizes_from_file(struct mrec *m, int fd)
{
	uint64_t size, wire;
	bool no_eol;

	if (file_wire_size(fd, &size, &wire, &no_eol) < 0)
		return -1;
	m->size = wire;
	m->needs_crlf = wire != size;
	m->no_final_eol = no_eol;
	m->unverified &= (uint8_t)~MAILDIR_MSG_SIZES_UNKNOWN;
	return 0;
}

/* Makes the fields `need` names of m exact from its open file: a stat
 * for the internal date, a read for the sizes.  0, or -1. */
static int mrec_exact(struct mrec *m, int fd, unsigned need)
{
	struct stat st;

	if (need & m->unverified & MAILDIR_MSG_IDATE_UNKNOWN) {
		if (fstat(fd, &st) < 0)
			return -1;
		m->idate = st.st_mtim.tv_sec;
		m->unverified &= (uint8_t)~MAILDIR_MSG_IDATE_UNKNOWN;
	}
	if ((need & m->unverified & MAILDIR_MSG_SIZES_UNKNOWN) &&
	    mrec_sizes_from_file(m, fd) < 0)
		return -1;
	return 0;
}

static void note_exact(struct maildir_box *box, const struct maildir_msg *msg,
		       unsigned resolved)
{
	struct box_exact *e;

	if ((box->nexact & (box->nexact - 1)) == 0)
		box->exact = xreallocarray(box->exact,
					   box->nexact ? box->nexact * 2 : 64,
					   sizeof(*box->exact));
	e = &box->exact[box->nexact++];
	e->uid = msg->uid;
	e->resolved = (uint8_t)resolved;
	e->size = msg->size;
	e->needs_crlf = msg->needs_crlf;
	e->no_final_eol = msg->no_final_eol;
	e->idate = msg->idate;
}

const struct maildir_msg *maildir_box_msg_exact(struct maildir_box *box,
						size_t i, unsigned need)
{
	struct maildir_msg *msg;
	struct mrec m;
	char err[256];
	int fd;

	if (i >= box->n)
		return NULL;
	msg = &box->msgs[i];
	if ((msg->unverified & need) == 0)
		return msg;
	/* reading the file anyway: every size at once */
	if (need & MAILDIR_MSG_SIZES_UNKNOWN)
		need |= MAILDIR_MSG_SIZES_UNKNOWN;
	fd = maildir_box_open_msg(box, msg->uid, err, sizeof(err));
	if (fd < 0)
		return msg;	/* gone: its reader finds out */
	memset(&m, 0, sizeof(m));
	m.size = msg->size;
	m.needs_crlf = msg->needs_crlf;
	m.no_final_eol = msg->no_final_eol;
	m.idate = msg->idate;
	m.unverified = msg->unverified;
	if (mrec_exact(&m, fd, need) == 0) {
		msg->size = m.size;
		msg->needs_crlf = m.needs_crlf != 0;
		msg->no_final_eol = m.no_final_eol != 0;
		msg->idate = m.idate;
		note_exact(box, msg, msg->unverified & ~m.unverified);
		msg->unverified = m.unverified;
	}
	close(fd);
	if (box->nexact >= EXACT_FLUSH && box->pending_lock < 0)
		box_sizes_flush_locked(box);
	return msg;
}

/* One message's exact sizes into its record, when it still needs them. */
static int flush_one(struct maildir_box *box, DB_TXN *txn, struct frec *f,
		     const struct box_exact *e)
{
	struct mrec m;
	char *fname = NULL;
	int r, ret = 0;

	r = idx_msg_get(box->s, txn, f->id, e->uid, &m, &fname);
	if (r != 0)
		return r < 0 ? -1 : 0;	/* expunged meanwhile */
	if (m.unverified & e->resolved) {
		frec_count(f, m.flags, m.size, -1);
		if (e->resolved & MAILDIR_MSG_SIZES_UNKNOWN) {
			m.size = e->size;
			m.needs_crlf = e->needs_crlf;
			m.no_final_eol = e->no_final_eol;
		}
		if (e->resolved & MAILDIR_MSG_IDATE_UNKNOWN)
			m.idate = e->idate;
		m.unverified &= (uint8_t)~e->resolved;
		frec_count(f, m.flags, m.size, 1);
		ret = idx_msg_put(box->s, txn, f->id, e->uid, &m, fname);
	}
	free(fname);
	return ret;
}

void box_sizes_flush(struct maildir_box *box, struct frec *f)
{
	struct frec before = *f;
	DB_TXN *txn = NULL;
	size_t i;
	int ret = 0;

	if (box->nexact == 0)
		return;
	if (f->uidvalidity != box->f.uidvalidity)
		goto out;	/* other messages now: nothing to write */
	/* derived data, read again if lost: no log flush of its own */
	if (box->s->env->txn_begin(box->s->env, NULL, &txn, DB_TXN_NOSYNC) != 0)
		goto fail;
	for (i = 0; i < box->nexact && ret == 0; i++)
		ret = flush_one(box, txn, f, &box->exact[i]);
	if (ret < 0 || idx_folder_put(box->s, txn, box->dir, f) < 0) {
		idx_abort(txn);
		goto fail;
	}
	if (idx_commit(txn) < 0)
		goto fail;
	goto out;
fail:
	*f = before;
	log_msg("maildir", NULL, "index of %s/%s: message sizes not "
		"recorded: %s", box->s->user, box->name, strerror(errno));
out:
	box->nexact = 0;
}

void box_sizes_flush_locked(struct maildir_box *box)
{
	char err[256];
	struct frec f;
	int fd;

	if (box->nexact == 0)
		return;
	fd = store_lock(box->s, err, sizeof(err));
	if (fd < 0) {
		log_msg("maildir", NULL, "%s", err);
		box->nexact = 0;
		return;
	}
	if (idx_folder_get(box->s, NULL, box->dir, &f) == 0) {
		box_sizes_flush(box, &f);
		if (f.uidvalidity == box->f.uidvalidity)
			box->f.bytes = f.bytes;
	}
	box->nexact = 0;
	lock_index_release(fd);
}
