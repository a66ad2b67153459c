/* FETCH <set> <items> (RFC 3501 6.4.5) and UID FETCH (6.4.8).
 *
 * The command runs in two steps.  On a worker: parse, evaluate the set,
 * set \Seen for non-PEEK body fetches.  Then on the loop thread the
 * responses are produced as the client reads them (ops->resume_output):
 * at most FETCH_BUDGET bytes are queued at a time, and a big body literal
 * is copied from the mapped file piece by piece, so a client that stops
 * reading never makes the server hold a whole 25 MiB message. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "imapd/bodystruct.h"
#include "imapd/imap-int.h"
#include "imapd/writer.h"
#include "maildir/mailbox.h"
#include "maildir/message.h"

#define FETCH_BUDGET (256 * 1024)
#define SMALL_FILE (256 * 1024)	/* read whole rather than mapped */

struct imap_fetch_job {
	struct imap_fetch att;
	struct imap_seqset set;		/* evaluated: sequence numbers */
	struct imap_seqset seen_now;	/* got \Seen from this FETCH */
	size_t range;			/* position: set.r[range], seq */
	uint32_t seq;
	bool in_msg;			/* "* n FETCH (" written */
	size_t body;			/* next of att.bodies */
	bool need_file;
	struct msg_map map;
	struct msg_parse *parse;
	bool needs_crlf;
	bool structure_only;		/* no body section: the cached parse
					   may do without the file */
	bool header_only;		/* only [HEADER...] of the message:
					   the cached header may do */
	bool no_parse;			/* only [], [HEADER...] and [TEXT]
					   of the message itself: no MIME
					   parse needed */
	bool mapped;			/* map is an mmap (big file), else
					   it points into `file` */
	struct buf file;		/* a small file, read whole */
	/* a literal being copied: from lit (raw bytes or lit_buf), or
	 * converted to CRLF through wire when `converting` */
	const char *lit;
	size_t lit_len, lit_pos;
	bool converting;
	struct msg_wire_cursor wire;
	struct buf lit_buf;		/* built header fields */
	struct buf cache;		/* serialised parse */
	bool vanished;			/* a message's file was gone */
	bool gone;			/* this message's: NIL for its data */
	bool unsolicited;		/* NOTIFY's: no command, no reply */
	bool unknown_cte;		/* BINARY met an unknown encoding */
	/* cache records read ahead for a range (maildir_box_cache_range):
	 * UIDs pre_from..pre_to were looked for, those found are in ents */
	struct buf pre;
	struct pre_ent *ents;
	size_t nents, ents_cap, ent_pos;
	uint32_t pre_from, pre_to, pre_stop;
};

struct pre_ent {
	uint32_t uid;
	size_t off, len;
};

void imap_fetch_job_free(struct imap_fetch_job **jobp)
{
	struct imap_fetch_job *job = *jobp;

	if (job == NULL)
		return;
	imap_fetch_free(&job->att);
	imap_seqset_free(&job->set);
	imap_seqset_free(&job->seen_now);
	msg_parse_free(&job->parse);
	if (job->mapped)
		msg_unmap(&job->map);
	buf_free(&job->file);
	buf_free(&job->lit_buf);
	buf_free(&job->cache);
	buf_free(&job->pre);
	free(job->ents);
	free(job);
	*jobp = NULL;
}

/* Sets \Seen on the unseen messages of the set (RFC 3501 6.4.5). */
static int mark_seen(struct imap_cmd *cmd, struct imap_fetch_job *job)
{
	struct maildir_box *box = cmd->s->box;
	uint32_t *uids = NULL;
	size_t n = 0, cap = 0;
	char err[256];
	int ret = 0;

	for (size_t r = 0; r < job->set.n; r++)
		for (uint32_t seq = job->set.r[r].lo; seq <= job->set.r[r].hi &&
		     seq != 0; seq++) {
			const struct maildir_msg *m = maildir_box_msg(box, seq - 1);

			if (!(m->flags & MAILDIR_FLAG_SEEN)) {
				if (n == cap) {
					cap = cap ? cap * 2 : 64;
					uids = xreallocarray(uids, cap, sizeof(*uids));
				}
				uids[n++] = m->uid;
				imap_seqset_add(&job->seen_now, seq, seq);
			}
			if (seq == UINT32_MAX)
				break;
		}
	if (n > 0 && maildir_box_store(box, uids, n, MAILDIR_STORE_ADD,
				       MAILDIR_FLAG_SEEN, 0, err,
				       sizeof(err)) < 0) {
		imap_cmd_store_error(cmd, "Cannot set \\Seen", err);
		ret = -1;
	}
	free(uids);
	return ret;
}

/* What each message needs: its file, a MIME parse, or only the cache. */
static void plan(struct imap_fetch_job *job)
{
	const unsigned structure = IMAP_FETCH_ENVELOPE | IMAP_FETCH_BODY |
		IMAP_FETCH_BODYSTRUCTURE;

	job->need_file = job->att.nbodies > 0 || (job->att.items & structure);
	job->structure_only = job->att.nbodies == 0;
	job->no_parse = job->att.nbodies > 0 && !(job->att.items & structure);
	job->header_only = job->no_parse;
	for (size_t i = 0; i < job->att.nbodies; i++) {
		const struct imap_fetch_body *b = &job->att.bodies[i];

		if (b->nparts > 0 || b->kind == IMAP_SECT_MIME)
			job->no_parse = job->header_only = false;
		if (b->kind != IMAP_SECT_HEADER && b->kind != IMAP_SECT_FIELDS &&
		    b->kind != IMAP_SECT_FIELDS_NOT)
			job->header_only = false;
	}
}

/* CHANGEDSINCE (RFC 7162 3.1.4.1): only the messages whose modseq is
 * above it. */
static void keep_changed(struct imap_session *s, struct imap_seqset *set,
			 uint64_t changedsince)
{
	struct imap_seqset kept;

	imap_seqset_init(&kept);
	for (size_t r = 0; r < set->n; r++)
		for (uint64_t seq = set->r[r].lo; seq <= set->r[r].hi; seq++)
			if (maildir_box_msg(s->box, (size_t)seq - 1)->modseq >
			    changedsince)
				imap_seqset_add(&kept, (uint32_t)seq,
						(uint32_t)seq);
	imap_seqset_free(set);
	*set = kept;
}

static struct imap_fetch_job *job_new(void)
{
	struct imap_fetch_job *job = xcalloc(1, sizeof(*job));

	buf_init(&job->lit_buf, BUF_UNLIMITED);
	buf_init(&job->file, BUF_UNLIMITED);
	buf_init(&job->cache, MAILDIR_CACHE_MAX);
	buf_init(&job->pre, BUF_UNLIMITED);
	return job;
}

/* FETCH <set> <items> [(CHANGEDSINCE n [VANISHED])] */
void cmd_fetch(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	struct imap_fetch_job *job = job_new();
	struct imap_seqset set;
	uint64_t changedsince;
	bool vanished;

	imap_seqset_init(&set);
	if (imap_parse_sp(&cmd->p) < 0 || imap_parse_seqset(&cmd->p, &set) < 0 ||
	    imap_parse_sp(&cmd->p) < 0 ||
	    imap_parse_fetch(&cmd->p, &job->att) < 0 ||
	    imap_parse_fetch_modifiers(&cmd->p, &changedsince, &vanished) < 0) {
		imap_cmd_parse_error(cmd);
		goto fail;
	}
	/* RFC 7162 3.2.6: VANISHED is for UID FETCH once QRESYNC is on */
	if (vanished && (!cmd->uid || !s->qresync)) {
		imap_cmd_bad(cmd, cmd->uid ? "QRESYNC is not enabled" :
			     "VANISHED needs UID FETCH");
		goto fail;
	}
	if (changedsince != 0)
		job->att.items |= IMAP_FETCH_MODSEQ;
	if (job->att.items & IMAP_FETCH_MODSEQ)
		imap_condstore_enable(s);
	/* The updates go before the data, so that the set is evaluated
	 * against what the client will know: UID FETCH may report expunges,
	 * FETCH not (RFC 3501 7.4.1), only new messages and flag changes
	 * (held sync).  Not at the end as Dovecot: the data is written on
	 * the loop thread, which must not wait for the store. */
	imap_send_updates(s, !cmd->uid);
	if (cmd->uid)
		job->att.items |= IMAP_FETCH_UID;
	cmd->updates_done = true;
	if (vanished && imap_send_vanished_earlier(s, changedsince, &set, NULL,
						   NULL) < 0) {
		imap_cmd_no(cmd, "[UNAVAILABLE] Cannot read the expunge log");
		goto fail;
	}
	if (imap_cmd_eval_set(cmd, &set, &job->set) < 0)
		goto fail;
	if (changedsince != 0)
		keep_changed(s, &job->set, changedsince);
	/* a FETCH that fault injection cuts must not look read */
	if (imap_fetch_sets_seen(&job->att) && !s->readonly &&
	    s->fault_cut == NULL && mark_seen(cmd, job) < 0)
		goto fail;
	plan(job);
	job->seq = job->set.n > 0 ? job->set.r[0].lo : 0;
	imap_seqset_free(&set);
	s->fetch = job;
	cmd->async = true;
	return;
fail:
	imap_seqset_free(&set);
	imap_fetch_job_free(&job);
}

/* A small file is read into one reused buffer (cheaper than mapping it);
 * a big one is mapped and sent piece by piece. */
static int load_file(struct imap_fetch_job *job, int fd, size_t size)
{
	char err[256];
	size_t got = 0;

	if (size > SMALL_FILE) {
		job->mapped = true;
		return msg_map_fd(fd, size, &job->map, err, sizeof(err));
	}
	buf_clear(&job->file);
	if (buf_reserve(&job->file, size) < 0)
		return -1;
	while (got < size) {
		ssize_t n = pread(fd, job->file.data + got, size - got,
				  (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	job->file.len = size;
	job->file.data[size] = '\0';
	job->mapped = false;
	job->map.data = job->file.data;
	job->map.size = size;
	return 0;
}

/* The index keeps one cache record per message (maildir_box_cache_*):
 * "IMH1", the header block's length (4 bytes, big-endian), the header
 * block (CRLF files only), then msg_parse_serialize() bytes (may be
 * empty).  Header fetches and structure fetches are then answered without
 * opening the file. */
#define CACHE_MAGIC "IMH1"
#define CACHE_HEADER_MAX (64 * 1024)

struct cached {
	const char *header;	/* NULL: none cached */
	size_t header_len;
	const char *parse;
	size_t parse_len;
};

/* Splits a cache record (layout above). */
static bool cache_split(const char *data, size_t len, struct cached *c)
{
	const unsigned char *p;
	size_t hlen;

	memset(c, 0, sizeof(*c));
	if (len < 8 || memcmp(data, CACHE_MAGIC, 4) != 0)
		return false;
	p = (const unsigned char *)data + 4;
	hlen = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
	if (hlen > len - 8)
		return false;
	if (hlen > 0) {
		c->header = data + 8;
		c->header_len = hlen;
	}
	c->parse = data + 8 + hlen;
	c->parse_len = len - 8 - hlen;
	return true;
}

/* ---- reading the cache ahead for a range of messages ---- */

#define PREFETCH_MSGS 512
#define PREFETCH_BYTES (512 * 1024)

static int pre_add(void *arg, uint32_t uid, const void *data, size_t len)
{
	struct imap_fetch_job *job = arg;
	struct pre_ent *e;

	if (job->pre.len >= PREFETCH_BYTES) {
		job->pre_stop = uid;
		return 1;
	}
	if (job->nents == job->ents_cap) {
		job->ents_cap = job->ents_cap ? job->ents_cap * 2 : 64;
		job->ents = xreallocarray(job->ents, job->ents_cap,
					  sizeof(*job->ents));
	}
	e = &job->ents[job->nents++];
	e->uid = uid;
	e->off = job->pre.len;
	e->len = len;
	return buf_append(&job->pre, data, len) < 0;
}

/* Reads the records of `uid` and the UIDs of the next messages of the
 * current range in one cursor walk (one DB get per message was a fifth
 * of FETCH 1:* BODY.PEEK[HEADER.FIELDS (...)]). */
static void prefetch(struct imap_session *s, struct imap_fetch_job *job,
		     uint32_t uid)
{
	uint32_t last = job->set.r[job->range].hi, to_uid;
	int r;

	if (last - job->seq >= PREFETCH_MSGS)
		last = job->seq + PREFETCH_MSGS - 1;
	to_uid = maildir_box_msg(s->box, last - 1)->uid;
	buf_clear(&job->pre);
	job->nents = job->ent_pos = 0;
	job->pre_stop = 0;
	job->pre_from = uid;
	r = maildir_box_cache_range(s->box, uid, to_uid, pre_add, job);
	if (r < 0)
		job->pre_to = 0;
	else if (job->pre_stop != 0)
		job->pre_to = job->pre_stop - 1;
	else if (r == 1)	/* the next record is too big */
		job->pre_to = job->nents > 0 ?
			job->ents[job->nents - 1].uid : uid - 1;
	else
		job->pre_to = to_uid;
}

/* The cache record of uid: true with *c set when there is one. */
static bool cache_read(struct imap_session *s, struct imap_fetch_job *job,
		       uint32_t uid, struct cached *c)
{
	const struct pre_ent *e;

	memset(c, 0, sizeof(*c));
	if (job->seq < job->set.r[job->range].hi &&
	    (uid < job->pre_from || uid > job->pre_to || job->pre_to == 0))
		prefetch(s, job, uid);
	if (job->pre_to != 0 && uid >= job->pre_from && uid <= job->pre_to) {
		while (job->ent_pos < job->nents &&
		       job->ents[job->ent_pos].uid < uid)
			job->ent_pos++;
		if (job->ent_pos == job->nents ||
		    job->ents[job->ent_pos].uid != uid)
			return false;
		e = &job->ents[job->ent_pos];
		return cache_split(job->pre.data + e->off, e->len, c);
	}
	buf_clear(&job->cache);
	if (maildir_box_cache_get(s->box, uid, &job->cache) != 0)
		return false;
	return cache_split(job->cache.data, job->cache.len, c);
}

/* Stores the header block (CRLF files) and the parse (when there is one)
 * of the message just read. */
static void cache_write(struct imap_session *s, struct imap_fetch_job *job,
			const struct maildir_msg *m)
{
	size_t hlen = 0;
	unsigned char len[4];

	if (!m->needs_crlf)
		hlen = hdr_block_end(job->map.data, 0, job->map.size);
	if (hlen > CACHE_HEADER_MAX)
		hlen = 0;
	if (job->parse == NULL && hlen == 0)
		return;
	len[0] = (unsigned char)(hlen >> 24);
	len[1] = (unsigned char)(hlen >> 16);
	len[2] = (unsigned char)(hlen >> 8);
	len[3] = (unsigned char)hlen;
	buf_clear(&job->cache);
	if (buf_puts(&job->cache, CACHE_MAGIC) < 0 ||
	    buf_append(&job->cache, len, 4) < 0 ||
	    buf_append(&job->cache, job->map.data, hlen) < 0 ||
	    (job->parse != NULL &&
	     msg_parse_serialize(job->parse, &job->cache) < 0))
		return;
	maildir_box_cache_put(s->box, m->uid, job->cache.data, job->cache.len);
}

/* Answers from the cache when the file is not needed: a structure fetch
 * from the cached parse, a header-only fetch (CRLF files) from the cached
 * header block, which then stands in for the file. */
static bool from_cache(struct imap_session *s, struct imap_fetch_job *job,
		       const struct maildir_msg *m)
{
	struct cached c;

	if ((!job->structure_only && !job->header_only) || m->needs_crlf ||
	    !cache_read(s, job, m->uid, &c))
		return false;
	if (job->header_only) {
		if (c.header == NULL)
			return false;
		job->mapped = false;
		job->map.data = c.header;
		job->map.size = c.header_len;
		job->needs_crlf = false;
		return true;
	}
	if (c.parse_len == 0)
		return false;
	job->parse = msg_parse_deserialize(c.parse, c.parse_len, m->size);
	return job->parse != NULL;
}

/* Maps and parses the message's file.  -1 when it is gone. */
static int open_message(struct imap_session *s, struct imap_fetch_job *job,
			const struct maildir_msg *m)
{
	char err[256];
	struct stat st;
	int fd;

	if (from_cache(s, job, m))
		return 0;
	fd = maildir_box_open_msg(s->box, m->uid, err, sizeof(err));
	if (fd < 0) {
		if (errno != ENOENT)
			log_msg("imap", s->io->id, "fetch uid %u: %s", m->uid, err);
		return -1;
	}
	/* with CRLF line ends the file is RFC822.SIZE long; a small one is
	 * read (a short read fails safely), a big one mapped after fstat
	 * (mapping past the end of a damaged file would fault) */
	if (!m->needs_crlf && m->size <= SMALL_FILE)
		st.st_size = (off_t)m->size;
	else if (fstat(fd, &st) < 0)
		st.st_size = -1;
	if (st.st_size < 0 || load_file(job, fd, (size_t)st.st_size) < 0) {
		log_msg("imap", s->io->id, "fetch uid %u: read failed", m->uid);
		close(fd);
		return -1;
	}
	close(fd);
	job->needs_crlf = m->needs_crlf;
	if (!job->no_parse)
		job->parse = msg_parse(job->map.data, job->map.size);
	if (!job->no_parse || job->header_only)
		cache_write(s, job, m);
	return 0;
}

static void close_message(struct imap_fetch_job *job)
{
	msg_parse_free(&job->parse);
	if (job->mapped)
		msg_unmap(&job->map);
	job->mapped = false;
	job->map.data = NULL;
	job->map.size = 0;
}

static void sep(struct buf *out, bool *first)
{
	if (!*first)
		buf_putc(out, ' ');
	*first = false;
}

/* The data of a message whose file another session expunged (and that the
 * cache cannot answer): what Dovecot sends in its place (imap-fetch.c, the
 * handlers' nil_reply), valid syntax that says nothing: an empty envelope,
 * an empty text/plain part, NIL for a section, 0 for BINARY.SIZE. */
#define ENVELOPE_NIL "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"
#define BODY_NIL "\"text\" \"plain\" NIL NIL NIL \"7bit\" 0 0"

/* Everything but the body sections, in one go. */
static void write_simple_items(struct imap_session *s,
			       struct imap_fetch_job *job,
			       const struct maildir_msg *m, bool *first)
{
	struct buf *out = &s->io->out;
	unsigned items = job->att.items;

	if (items & IMAP_FETCH_UID) {
		sep(out, first);
		buf_puts(out, "UID ");
		imap_write_number(out, m->uid);
	}
	if ((items & IMAP_FETCH_FLAGS) ||
	    imap_seqset_contains(&job->seen_now, job->seq)) {
		sep(out, first);
		buf_puts(out, "FLAGS ");
		imap_write_msg_flags(s, job->seq - 1, out);
		/* RFC 7162 3.1.4: FLAGS come with MODSEQ once it is on */
		if (!(items & IMAP_FETCH_MODSEQ))
			imap_write_msg_modseq(s, job->seq - 1, false, out);
	}
	if (items & IMAP_FETCH_MODSEQ) {
		sep(out, first);
		buf_puts(out, "MODSEQ (");
		imap_write_number(out, m->modseq);
		imap_modseq_sent(s, m->modseq);
		buf_putc(out, ')');
	}
	if (items & IMAP_FETCH_INTERNALDATE) {
		sep(out, first);
		buf_puts(out, "INTERNALDATE ");
		imap_write_datetime(out, m->idate);
	}
	if (items & IMAP_FETCH_SIZE) {
		sep(out, first);
		buf_puts(out, "RFC822.SIZE ");
		imap_write_number(out, m->size);
	}
	if (items & IMAP_FETCH_ENVELOPE) {
		sep(out, first);
		buf_puts(out, "ENVELOPE ");
		if (job->gone)
			buf_puts(out, ENVELOPE_NIL);
		else
			imap_write_envelope(out, job->parse, 0);
	}
	if (items & IMAP_FETCH_BODY) {
		sep(out, first);
		buf_puts(out, "BODY ");
		if (job->gone)
			buf_puts(out, "(" BODY_NIL ")");
		else
			imap_write_bodystructure(out, job->parse, false);
	}
	if (items & IMAP_FETCH_BODYSTRUCTURE) {
		sep(out, first);
		buf_puts(out, "BODYSTRUCTURE ");
		if (job->gone)
			buf_puts(out, "(" BODY_NIL " NIL NIL NIL NIL)");
		else
			imap_write_bodystructure(out, job->parse, true);
	}
}

static enum msg_section_kind section_kind(enum imap_section_kind k)
{
	switch (k) {
	case IMAP_SECT_HEADER: return MSG_SECT_HEADER;
	case IMAP_SECT_TEXT: return MSG_SECT_TEXT;
	case IMAP_SECT_MIME: return MSG_SECT_MIME;
	case IMAP_SECT_FIELDS: return MSG_SECT_FIELDS;
	case IMAP_SECT_FIELDS_NOT: return MSG_SECT_FIELDS_NOT;
	case IMAP_SECT_ALL: break;
	}
	return MSG_SECT_BODY;
}

/* [], [HEADER], [HEADER.FIELDS[.NOT] (...)] and [TEXT] of the message
 * itself without a MIME parse: the usual "list the folder" and "read the
 * message" fetches. */
static void raw_range(struct imap_fetch_job *job,
		      const struct imap_fetch_body *b, struct msg_range *r)
{
	const char *data = job->map.data;
	size_t size = job->map.size;
	size_t end = hdr_block_end(data, 0, size);

	memset(r, 0, sizeof(*r));
	switch (b->kind) {
	case IMAP_SECT_FIELDS:
	case IMAP_SECT_FIELDS_NOT:
		msg_header_fields(data, 0, end, (const char *const *)b->fields,
				  b->nfields, b->kind == IMAP_SECT_FIELDS_NOT,
				  &job->lit_buf);
		r->built = true;
		r->wire_len = job->lit_buf.len;
		return;
	case IMAP_SECT_HEADER:
		r->len = end;
		break;
	case IMAP_SECT_TEXT:
		r->off = end;
		r->len = size - end;
		break;
	case IMAP_SECT_ALL:
	case IMAP_SECT_MIME:
		r->len = size;
		break;
	}
	r->wire_len = job->needs_crlf ?
		(size_t)msg_wire_size(data + r->off, r->len) : r->len;
}

/* The bytes of a section: 0 with *r set, or -1 when it does not exist.
 * A BINARY part is decoded into lit_buf (RFC 3516 4.2); BINARY[] is the
 * message as BODY[] gives it. */
static int section_range(struct imap_fetch_job *job,
			 const struct imap_fetch_body *b, struct msg_range *r)
{
	struct msg_section sect = {
		.parts = b->parts, .nparts = b->nparts,
		.kind = section_kind(b->kind),
		.fields = (const char *const *)b->fields, .nfields = b->nfields,
	};
	int ret;

	if (b->binary != IMAP_BINARY_NO && b->nparts > 0) {
		ret = job->parse == NULL ? -1 :
			imap_binary_content(job->parse, job->map.data,
					    b->parts, b->nparts, &job->lit_buf);
		if (ret == -2)
			job->unknown_cte = true;
		if (ret < 0)
			return -1;
		memset(r, 0, sizeof(*r));
		r->len = r->wire_len = job->lit_buf.len;
		r->built = true;
		return 0;
	}
	if (job->no_parse) {
		raw_range(job, b, r);
		return 0;
	}
	return msg_section_find(job->parse, job->map.data, &sect, r,
				&job->lit_buf);
}

/* Writes "NAME " and the literal's announcement, and sets up job->lit for
 * its bytes (or writes NIL for a section that does not exist). */
static void start_body(struct imap_session *s, struct imap_fetch_job *job,
		       const struct imap_fetch_body *b)
{
	struct buf *out = &s->io->out;
	struct msg_range r;
	size_t start, len;

	buf_puts(out, b->name);
	buf_putc(out, ' ');
	buf_clear(&job->lit_buf);
	if (job->gone) {
		buf_puts(out, b->binary == IMAP_BINARY_SIZE ? "0" : "NIL");
		return;
	}
	if (section_range(job, b, &r) < 0) {
		buf_puts(out, "NIL");
		return;
	}
	if (b->binary == IMAP_BINARY_SIZE) {
		imap_write_number(out, r.wire_len);
		return;
	}
	start = b->partial ? (b->offset < r.wire_len ? b->offset : r.wire_len) : 0;
	len = r.wire_len - start;
	if (b->partial && len > b->count)
		len = b->count;
	job->lit_len = len;
	job->lit_pos = 0;
	job->converting = false;
	if (len == 0) {
		job->lit = NULL;
	} else if (r.built) {
		job->lit = job->lit_buf.data + r.off + start;
	} else if (job->needs_crlf) {
		/* bare LF in the file: converted piece by piece */
		msg_wire_seek(&job->wire, job->map.data, r.off, r.len, start);
		job->converting = true;
		job->lit = job->map.data;
	} else {
		job->lit = job->map.data + r.off + start;
	}
	/* RFC 3516 4.2: content with NUL goes as a literal8 */
	if (b->binary == IMAP_BINARY_DATA && job->lit != NULL &&
	    !job->converting && memchr(job->lit, '\0', len) != NULL)
		buf_putc(out, '~');
	buf_putc(out, '{');
	imap_write_number(out, len);
	buf_puts(out, "}\r\n");
}

/* Copies up to `room` more bytes of the literal. */
static void copy_literal(struct imap_fetch_job *job, struct buf *out,
			 size_t room)
{
	size_t n = job->lit_len - job->lit_pos;

	if (n > room)
		n = room;
	if (job->converting) {
		size_t got = msg_wire_read(&job->wire, job->map.data, n, out);

		/* the size announced came from the same wire count; should
		 * the file end early, pad rather than break the protocol */
		while (got < n) {
			buf_putc(out, ' ');
			got++;
		}
	} else {
		buf_append(out, job->lit + job->lit_pos, n);
	}
	job->lit_pos += n;
	if (job->lit_pos == job->lit_len)
		job->lit = NULL;
}

/* Moves to the next sequence number of the set; false at the end. */
static bool next_seq(struct imap_fetch_job *job)
{
	if (job->seq < job->set.r[job->range].hi) {
		job->seq++;
		return true;
	}
	if (++job->range >= job->set.n)
		return false;
	job->seq = job->set.r[job->range].lo;
	return true;
}

/* Starts the response of job->seq.  A message whose file is gone (another
 * session expunged it; this one is not told before the command ends, RFC
 * 3501 7.4.1) still gets its response, as from Dovecot: UID, FLAGS, MODSEQ,
 * RFC822.SIZE and INTERNALDATE from the snapshot, ENVELOPE and the
 * structures from the index's cache when it still has them, NIL for the
 * rest; the command then ends OK [EXPUNGEISSUED] (finish). */
static void start_message(struct imap_session *s, struct imap_fetch_job *job)
{
	/* RFC822.SIZE and reading the file (needs_crlf) need the exact
	 * wire size of a message indexed from its file name, INTERNALDATE
	 * its mtime */
	unsigned need = (job->need_file || (job->att.items & IMAP_FETCH_SIZE) ?
			 MAILDIR_MSG_WIRE_UNKNOWN : 0) |
		(job->att.items & IMAP_FETCH_INTERNALDATE ?
		 MAILDIR_MSG_IDATE_UNKNOWN : 0);
	const struct maildir_msg *m =
		maildir_box_msg_exact(s->box, job->seq - 1, need);
	bool first = true;

	job->gone = job->need_file && open_message(s, job, m) < 0;
	if (job->gone)
		job->vanished = true;
	buf_puts(&s->io->out, "* ");
	imap_write_number(&s->io->out, job->seq);
	buf_puts(&s->io->out, " FETCH (");
	write_simple_items(s, job, m, &first);
	if (job->att.nbodies > 0 && !first)
		buf_putc(&s->io->out, ' ');
	job->in_msg = true;
	job->body = 0;
}

static void finish(struct imap_session *s)
{
	struct imap_cmd *cmd = &s->cmd;
	bool vanished = s->fetch->vanished;
	bool unknown_cte = s->fetch->unknown_cte;
	bool unsolicited = s->fetch->unsolicited;

	imap_fetch_job_free(&s->fetch);
	if (unsolicited)
		return;
	if (s->fault_cut != NULL) {
		imap_fault_cut(s, 0, 0);
		return;
	}
	/* after the data's MODSEQs, while an expunge is held back */
	imap_send_held_modseq(s);
	/* RFC 3516 4.2: an encoding BINARY cannot undo fails the command */
	if (unknown_cte) {
		imap_cmd_no(cmd, "[UNKNOWN-CTE] Unknown Content-Transfer-Encoding");
		imap_cmd_finish(cmd);
		return;
	}
	/* RFC 2180 4.1: of the choices it allows, Dovecot's: the messages
	 * another session expunged are answered with what is left of them
	 * (start_message) and the command succeeds with RFC 5530's
	 * EXPUNGEISSUED, so a client does not take it for a failed FETCH */
	if (vanished)
		imap_cmd_ok(cmd, "[EXPUNGEISSUED] Some messages were already expunged");
	else
		imap_cmd_ok(cmd, "FETCH completed");
	imap_cmd_finish(cmd);
}

/* At most FETCH_BUDGET bytes more per call, counted from what `out` held
 * when it began: a call with FETCH_BUDGET bytes already queued (imap_line
 * completing a FETCH before the next command) still makes progress, where a
 * bound on out->len itself had it return at once, forever. */
void imap_fetch_continue(struct imap_session *s)
{
	struct imap_fetch_job *job = s->fetch;
	struct buf *out = &s->io->out;
	size_t start = out->len;

	while (out->len - start < FETCH_BUDGET) {
		if (job->lit != NULL && s->fault_cut != NULL) {
			size_t left = job->lit_len - job->lit_pos;

			copy_literal(job, out, left / 2);
			imap_fault_cut(s, left / 2, left);
			imap_fetch_job_free(&s->fetch);
			return;
		}
		if (job->lit != NULL) {
			copy_literal(job, out, FETCH_BUDGET - (out->len - start));
			continue;
		}
		if (!job->in_msg) {
			if (job->set.n == 0 || job->range >= job->set.n) {
				finish(s);
				return;
			}
			start_message(s, job);
		}
		if (job->body < job->att.nbodies) {
			if (job->body > 0)
				buf_putc(out, ' ');
			start_body(s, job, &job->att.bodies[job->body++]);
			continue;
		}
		buf_puts(out, ")\r\n");
		close_message(job);
		job->in_msg = false;
		if (!next_seq(job))
			job->range = job->set.n;
	}
	s->io->more_output = true;
}

int imap_fetch_unsolicited(struct imap_session *s, const char *atts,
			   uint32_t above_uid)
{
	struct imap_fetch_job *job;
	struct imap_parser p;
	size_t count, first;

	if (s->box == NULL || s->fetch != NULL)
		return -1;
	count = maildir_box_count(s->box);
	for (first = count; first > 0 &&
	     maildir_box_msg(s->box, first - 1)->uid > above_uid; first--)
		;
	if (first == count)
		return 0;
	job = job_new();
	imap_seqset_init(&job->set);
	imap_parser_init(&p, atts, strlen(atts));
	if (imap_parse_fetch(&p, &job->att) < 0 || imap_fetch_sets_seen(&job->att)) {
		imap_fetch_job_free(&job);
		return -1;
	}
	/* RFC 7162 3.2.4: with QRESYNC an unsolicited FETCH has the UID;
	 * IMAP4rev2 always (RFC 9051 Appendix E item 21) */
	if (s->qresync || s->rev2)
		job->att.items |= IMAP_FETCH_UID;
	imap_seqset_add(&job->set, (uint32_t)first + 1, (uint32_t)count);
	job->unsolicited = true;
	plan(job);
	job->seq = (uint32_t)first + 1;
	s->fetch = job;
	return 0;
}
