/* SEARCH evaluation (RFC 3501 6.4.4) against the selected mailbox.
 *
 * Keys on flags, sizes, dates and numbers use the snapshot only; HEADER,
 * BODY, TEXT and the SENT* keys map and parse the message's file, once per
 * message.  FROM/TO/CC/BCC match the parsed addresses (as Dovecot does).
 * Strings match as case-insensitive substrings (simple
 * folding: ASCII, Latin, Greek, Cyrillic) of the text decoded to UTF-8:
 * RFC 2047 words in header fields, transfer encodings and charsets in text
 * parts. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imapd/search.h"
#include "maildir/message.h"
#include "maildir/name.h"

struct msg_ctx {
	struct maildir_box *box;
	size_t idx;
	uint32_t count, max_uid;
	const struct maildir_msg *m;
	bool loaded, failed;
	struct msg_map map;
	struct msg_parse *parse;
	struct buf text;	/* decoding scratch */
};

/* RFC822.SIZE (LARGER, SMALLER) and INTERNALDATE (BEFORE, ON, SINCE:
 * RFC 3501 6.4.4), exact also for a message indexed from its file name. */
static uint64_t wire_size(struct msg_ctx *c)
{
	return maildir_box_msg_exact(c->box, c->idx,
				     MAILDIR_MSG_WIRE_UNKNOWN)->size;
}

static int64_t idate(struct msg_ctx *c)
{
	return maildir_box_msg_exact(c->box, c->idx,
				     MAILDIR_MSG_IDATE_UNKNOWN)->idate;
}

/* Simple case folding of UTF-8 text in place, for the mappings that keep
 * the encoded length: ASCII, Latin-1, Latin Extended-A, Greek and
 * Cyrillic capitals to their small letters. */
static uint32_t fold_cp(uint32_t cp)
{
	if ((cp >= 0xc0 && cp <= 0xde && cp != 0xd7) ||
	    (cp >= 0x391 && cp <= 0x3a9 && cp != 0x3a2) ||
	    (cp >= 0x410 && cp <= 0x42f))
		return cp + 0x20;
	if (cp >= 0x400 && cp <= 0x40f)
		return cp + 0x50;
	if (((cp >= 0x100 && cp <= 0x137) || (cp >= 0x14a && cp <= 0x177)) &&
	    cp % 2 == 0)
		return cp + 1;
	if (((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17e)) &&
	    cp % 2 == 1)
		return cp + 1;
	return cp;
}

void imap_fold_utf8(char *text, size_t n)
{
	unsigned char *p = (unsigned char *)text;

	for (size_t i = 0; i < n; i++) {
		if (p[i] >= 'A' && p[i] <= 'Z') {
			p[i] = (unsigned char)(p[i] - 'A' + 'a');
		} else if ((p[i] & 0xe0) == 0xc0 && i + 1 < n &&
			   (p[i + 1] & 0xc0) == 0x80) {
			uint32_t cp = ((uint32_t)(p[i] & 0x1f) << 6) |
				(p[i + 1] & 0x3f);

			cp = fold_cp(cp);
			p[i] = (unsigned char)(0xc0 | (cp >> 6));
			p[i + 1] = (unsigned char)(0x80 | (cp & 0x3f));
			i++;
		}
	}
}

/* Case-insensitive substring: `hay` is folded in place, `needle` was
 * folded by the caller. */
static bool contains(char *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	if (k == 0)
		return true;
	if (hay == NULL)
		return false;
	imap_fold_utf8(hay, n);
	return memmem(hay, n, needle, k) != NULL;
}

bool imap_charset_ok(const char *charset)
{
	return strcasecmp(charset, "UTF-8") == 0 ||
	       strcasecmp(charset, "US-ASCII") == 0;
}

void imap_search_use_saved(struct imap_search *k,
			   const struct imap_seqset *saved)
{
	for (; k != NULL; k = k->next) {
		if ((k->kind == IMAP_SK_SEQSET || k->kind == IMAP_SK_UID) &&
		    k->set.saved) {
			k->kind = IMAP_SK_UID;
			imap_seqset_clear(&k->set);
			for (size_t i = 0; i < saved->n; i++)
				imap_seqset_add(&k->set, saved->r[i].lo,
						saved->r[i].hi);
		}
		imap_search_use_saved(k->child, saved);
	}
}

void imap_search_prepare(struct imap_search *k)
{
	for (; k != NULL; k = k->next) {
		if ((k->kind == IMAP_SK_HEADER ||
		     k->kind == IMAP_SK_ADDRESS) && k->str2 != NULL)
			imap_fold_utf8(k->str2, strlen(k->str2));
		if ((k->kind == IMAP_SK_BODY || k->kind == IMAP_SK_TEXT) &&
		    k->str != NULL)
			imap_fold_utf8(k->str, strlen(k->str));
		imap_search_prepare(k->child);
	}
}

static bool load(struct msg_ctx *c)
{
	char err[256];
	struct stat st;
	int fd;

	if (c->loaded)
		return !c->failed;
	c->loaded = true;
	fd = maildir_box_open_msg(c->box, c->m->uid, err, sizeof(err));
	if (fd < 0) {
		c->failed = true;
		return false;
	}
	if (fstat(fd, &st) < 0 ||
	    msg_map_fd(fd, (size_t)st.st_size, &c->map, err, sizeof(err)) < 0) {
		close(fd);
		c->failed = true;
		return false;
	}
	close(fd);
	c->parse = msg_parse(c->map.data, c->map.size);
	return true;
}

/* A header field of part `idx` (0: the message) named `name` (NULL: any)
 * whose decoded value contains `needle`. */
static bool header_match(struct msg_ctx *c, uint32_t idx, const char *name,
			 const char *needle)
{
	const struct msg_part *pt = &c->parse->parts[idx];
	struct hdr_iter it;
	struct hdr_field f;
	struct buf raw = BUF_INIT(BUF_UNLIMITED);
	bool found = false;

	hdr_iter_init(&it, c->map.data, pt->hdr_off, pt->hdr_size);
	while (!found && hdr_iter_next(&it, &f)) {
		if (name != NULL && !hdr_name_is(c->map.data, &f, name))
			continue;
		buf_clear(&raw);
		hdr_unfold(c->map.data, &f, &raw);
		buf_clear(&c->text);
		if (name == NULL) {
			buf_append(&c->text, c->map.data + f.name_off, f.name_len);
			buf_puts(&c->text, ": ");
		}
		mime_decode_header(raw.data != NULL ? raw.data : "", raw.len,
				   &c->text);
		found = contains(c->text.data, c->text.len, needle);
	}
	buf_free(&raw);
	return found;
}

/* The parsed address list of field `name` in the message's ENVELOPE. */
static const struct msg_addr_list *envelope_list(const struct msg_parse *p,
						 const char *name)
{
	const struct msg_envelope *e;

	if (p->nparts == 0 || p->parts[0].envelope >= p->nenvs)
		return NULL;
	e = &p->envs[p->parts[0].envelope];
	if (strcasecmp(name, "From") == 0)
		return &e->from;
	if (strcasecmp(name, "To") == 0)
		return &e->to;
	if (strcasecmp(name, "Cc") == 0)
		return &e->cc;
	if (strcasecmp(name, "Bcc") == 0)
		return &e->bcc;
	return NULL;
}

/* One address as Dovecot writes it back for matching: "Name <box@host>"
 * or "box@host", a group as "name:" ... ";" (RFC 5322 3.4), the display
 * name with its RFC 2047 words decoded. */
static void address_text(const struct msg_parse *p, const struct msg_addr *a,
			 struct buf *out)
{
	const char *name = msg_str(p, a->name);
	const char *mbox = msg_str(p, a->mailbox);
	const char *host = msg_str(p, a->host);

	if (host == NULL) {
		buf_puts(out, mbox != NULL ? mbox : "");
		buf_puts(out, mbox != NULL ? ":" : ";");
		return;
	}
	if (name != NULL) {
		mime_decode_header(name, strlen(name), out);
		buf_puts(out, " <");
	}
	buf_puts(out, mbox != NULL ? mbox : "");
	buf_putc(out, '@');
	buf_puts(out, host);
	if (name != NULL)
		buf_putc(out, '>');
}

/* FROM/TO/CC/BCC (RFC 3501 6.4.4): a substring of the field's addresses
 * as parsed, so that comments and folding inside an address do not hide
 * it; an empty string asks only that the field exists.  A field of which
 * no address could be parsed is matched as text. */
static bool address_match(struct msg_ctx *c, const char *name,
			  const char *needle)
{
	const struct msg_addr_list *l = envelope_list(c->parse, name);

	if (needle[0] == '\0' || l == NULL || l->count == 0)
		return header_match(c, 0, name, needle);
	buf_clear(&c->text);
	for (uint32_t i = l->first; i < l->first + l->count; i++) {
		if (i > l->first)
			buf_puts(&c->text, ", ");
		address_text(c->parse, &c->parse->addrs[i], &c->text);
	}
	return contains(c->text.data, c->text.len, needle);
}

static bool is_text_leaf(const struct msg_parse *p, const struct msg_part *pt)
{
	const char *type = msg_str(p, pt->type);

	if (pt->flags & (MSG_PART_MULTIPART | MSG_PART_MESSAGE))
		return false;
	return type == NULL || strcasecmp(type, "text") == 0;
}

/* Where a parse cap stopped inside part pt (maildir/message.h), the bytes
 * left unparsed, after its last parsed child, are searched as they are:
 * text past the caps is still found, if not decoded. */
static bool unparsed_match(struct msg_ctx *c, const struct msg_part *pt,
			   const char *needle)
{
	const struct msg_parse *p = c->parse;
	uint64_t from = pt->body_off, end = pt->body_off + pt->body_size;

	for (uint32_t k = pt->first_child; k != MSG_NONE && k < p->nparts;
	     k = p->parts[k].next) {
		uint64_t child_end = p->parts[k].body_off + p->parts[k].body_size;

		if (child_end > from && child_end <= end)
			from = child_end;
	}
	buf_clear(&c->text);
	buf_append(&c->text, c->map.data + from, (size_t)(end - from));
	return contains(c->text.data, c->text.len, needle);
}

/* The decoded text parts of the message (embedded messages included). */
static bool body_match(struct msg_ctx *c, const char *needle)
{
	const struct msg_parse *p = c->parse;

	for (uint32_t i = 0; i < p->nparts; i++) {
		const struct msg_part *pt = &p->parts[i];
		uint32_t idx = i;

		if ((pt->flags & MSG_PART_TRUNCATED) &&
		    unparsed_match(c, pt, needle))
			return true;
		if (!is_text_leaf(p, pt))
			continue;
		buf_clear(&c->text);
		mime_decode_body(c->map.data + pt->body_off, pt->body_size,
				 mime_encoding_of(msg_str(p, pt->encoding)),
				 msg_part_param(p, idx, "charset"), &c->text);
		if (contains(c->text.data, c->text.len, needle))
			return true;
	}
	return false;
}

/* The day of the Date: header in its own zone, or -1. */
static int64_t sent_day(struct msg_ctx *c)
{
	struct hdr_field f;
	struct buf raw = BUF_INIT(BUF_UNLIMITED);
	time_t t;
	int tz;
	int64_t day = -1;

	if (!load(c))
		return -1;
	if (hdr_find(c->map.data, c->parse->parts[0].hdr_off,
		     c->parse->parts[0].hdr_size, "Date", &f)) {
		hdr_unfold(c->map.data, &f, &raw);
		if (msg_parse_date(raw.data != NULL ? raw.data : "", raw.len,
				   &t, &tz) == 0) {
			int64_t local = (int64_t)t + (int64_t)tz * 60;

			day = (local >= 0 ? local : local - 86399) / 86400;
		}
	}
	buf_free(&raw);
	return day;
}

static int64_t day_of(int64_t t)
{
	return (t >= 0 ? t : t - 86399) / 86400;
}

static bool in_ranges(const struct imap_seqset *set, uint32_t n, uint32_t star)
{
	for (size_t i = 0; i < set->n; i++) {
		uint32_t lo = set->r[i].lo, hi = set->r[i].hi, t;

		if (lo == IMAP_SEQ_STAR)
			lo = star;
		if (hi == IMAP_SEQ_STAR)
			hi = star;
		if (lo > hi) {
			t = lo;
			lo = hi;
			hi = t;
		}
		if (n >= lo && n <= hi)
			return true;
	}
	return false;
}

static bool match(struct msg_ctx *c, const struct imap_search *k);

static bool match_all(struct msg_ctx *c, const struct imap_search *k)
{
	for (; k != NULL; k = k->next)
		if (!match(c, k))
			return false;
	return true;
}

static bool keyword_set(struct msg_ctx *c, const char *name)
{
	int i = maildir_box_keyword(c->box, name, false);

	return i >= 0 && i < 64 && (c->m->keywords & ((uint64_t)1 << i));
}

static bool match(struct msg_ctx *c, const struct imap_search *k)
{
	const struct maildir_msg *m = c->m;
	int64_t day;

	switch (k->kind) {
	case IMAP_SK_AND: return match_all(c, k->child);
	case IMAP_SK_OR:
		return match(c, k->child) ||
			(k->child->next != NULL && match(c, k->child->next));
	case IMAP_SK_NOT: return !match(c, k->child);
	case IMAP_SK_ALL: return true;
	case IMAP_SK_SEQSET:
		return in_ranges(&k->set, (uint32_t)c->idx + 1, c->count);
	case IMAP_SK_UID: return in_ranges(&k->set, m->uid, c->max_uid);
	case IMAP_SK_FLAG: return (m->flags & k->number) != 0;
	case IMAP_SK_UNFLAG: return (m->flags & k->number) == 0;
	case IMAP_SK_KEYWORD: return keyword_set(c, k->str);
	case IMAP_SK_UNKEYWORD: return !keyword_set(c, k->str);
	case IMAP_SK_NEW:
		return m->recent && !(m->flags & MAILDIR_FLAG_SEEN);
	case IMAP_SK_OLD: return !m->recent;
	case IMAP_SK_RECENT: return m->recent;
	case IMAP_SK_MODSEQ: return m->modseq >= k->number;
	case IMAP_SK_LARGER: return wire_size(c) > k->number;
	case IMAP_SK_SMALLER: return wire_size(c) < k->number;
	case IMAP_SK_BEFORE: return day_of(idate(c)) < day_of(k->date);
	case IMAP_SK_ON: return day_of(idate(c)) == day_of(k->date);
	case IMAP_SK_SINCE: return day_of(idate(c)) >= day_of(k->date);
	case IMAP_SK_SENTBEFORE:
		day = sent_day(c);
		return day >= 0 && day < day_of(k->date);
	case IMAP_SK_SENTON:
		day = sent_day(c);
		return day >= 0 && day == day_of(k->date);
	case IMAP_SK_SENTSINCE:
		day = sent_day(c);
		return day >= 0 && day >= day_of(k->date);
	case IMAP_SK_HEADER:
		return load(c) && header_match(c, 0, k->str, k->str2);
	case IMAP_SK_ADDRESS:
		return load(c) && address_match(c, k->str, k->str2);
	case IMAP_SK_BODY:
		return load(c) && body_match(c, k->str);
	case IMAP_SK_TEXT:
		return load(c) && (header_match(c, 0, NULL, k->str) ||
				   body_match(c, k->str));
	}
	return false;
}

bool imap_search_match(const struct imap_search *search,
		       struct maildir_box *box, size_t idx)
{
	struct msg_ctx c;
	size_t count = maildir_box_count(box);
	bool ok;

	memset(&c, 0, sizeof(c));
	c.box = box;
	c.idx = idx;
	c.count = (uint32_t)count;
	c.max_uid = count > 0 ? maildir_box_msg(box, count - 1)->uid : 0;
	c.m = maildir_box_msg(box, idx);
	buf_init(&c.text, BUF_UNLIMITED);
	ok = match(&c, search);
	msg_parse_free(&c.parse);
	msg_unmap(&c.map);
	buf_free(&c.text);
	return ok;
}
