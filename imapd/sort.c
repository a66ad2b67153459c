/* SORT keys and ordering (RFC 5256 section 2.2, RFC 5957). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/xalloc.h"
#include "imapd/base-subject.h"
#include "imapd/search.h"
#include "imapd/sort.h"
#include "maildir/message.h"

/* The ENVELOPE parser puts this where a domain is missing ("From: d");
 * RFC 5957's addr-spec of such an address is the mailbox alone. */
#define MISSING_DOMAIN "MISSING_DOMAIN"

static char *upper_dup(const char *s)
{
	char *d = xstrdup(s != NULL ? s : "");

	for (char *p = d; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	return d;
}

static const struct msg_addr *first_addr(const struct msg_parse *p,
					 struct msg_addr_list l)
{
	return l.count > 0 && l.first < p->naddrs ? &p->addrs[l.first] : NULL;
}

/* RFC 5256 2.2: the addr-mailbox of the first address (i;ascii-casemap). */
static char *addr_mailbox(const struct msg_parse *p, struct msg_addr_list l)
{
	const struct msg_addr *a = first_addr(p, l);

	return upper_dup(a != NULL ? msg_str(p, a->mailbox) : "");
}

/* RFC 5957: the decoded display name of the first address, else its
 * addr-spec; folded for i;unicode-casemap. */
static char *addr_display(const struct msg_parse *p, struct msg_addr_list l)
{
	const struct msg_addr *a = first_addr(p, l);
	struct buf b = BUF_INIT(BUF_UNLIMITED);
	const char *name, *mbox, *host;

	if (a != NULL) {
		name = msg_str(p, a->name);
		mbox = msg_str(p, a->mailbox);
		host = msg_str(p, a->host);
		if (name != NULL && name[0] != '\0') {
			mime_decode_header(name, strlen(name), &b);
		} else {
			buf_puts(&b, mbox != NULL ? mbox : "");
			if (host != NULL && strcmp(host, MISSING_DOMAIN) != 0) {
				buf_putc(&b, '@');
				buf_puts(&b, host);
			}
		}
	}
	{
		size_t n = b.len;
		char *d = buf_steal(&b);

		imap_fold_utf8(d, n);
		return d;
	}
}

static void parse_addresses(struct imap_msg_keys *k, const char *hdr,
			    size_t len, unsigned want)
{
	struct msg_parse *p = msg_parse(hdr, len);
	const struct msg_envelope *e = NULL;
	struct msg_envelope none;

	if (p->nparts > 0 && p->parts[0].envelope < p->nenvs) {
		e = &p->envs[p->parts[0].envelope];
	} else {
		memset(&none, 0, sizeof(none));
		e = &none;
	}
	if (want & IMAP_KEYS_ADDRS) {
		k->from = addr_mailbox(p, e->from);
		k->to = addr_mailbox(p, e->to);
		k->cc = addr_mailbox(p, e->cc);
	}
	if (want & IMAP_KEYS_DISPLAY) {
		k->display_from = addr_display(p, e->from);
		k->display_to = addr_display(p, e->to);
	}
	msg_parse_free(&p);
}

/* The unfolded value of the first field `name` (false: absent). */
static bool field(const char *hdr, size_t len, const char *name,
		  struct buf *out)
{
	struct hdr_field f;

	buf_clear(out);
	if (!hdr_find(hdr, 0, len, name, &f))
		return false;
	hdr_unfold(hdr, &f, out);
	return true;
}

static void parse_ids(struct imap_msg_keys *k, const char *hdr, size_t len)
{
	struct buf v = BUF_INIT(BUF_UNLIMITED);
	struct buf id = BUF_INIT(BUF_UNLIMITED);
	size_t pos = 0, cap = 0;

	k->message_id = NULL;
	if (field(hdr, len, "Message-ID", &v) &&
	    imap_msgid_next(buf_cstr(&v), v.len, &pos, &id))
		k->message_id = xstrdup(buf_cstr(&id));
	if (k->message_id == NULL)
		k->message_id = xstrdup("");
	/* RFC 5256 4 (1)(A): References, else the first valid id of
	 * In-Reply-To */
	pos = 0;
	if (field(hdr, len, "References", &v)) {
		while (imap_msgid_next(buf_cstr(&v), v.len, &pos, &id)) {
			if (k->nrefs == cap) {
				cap = cap == 0 ? 8 : cap * 2;
				k->refs = xreallocarray(k->refs, cap,
							sizeof(*k->refs));
			}
			k->refs[k->nrefs++] = xstrdup(buf_cstr(&id));
		}
	}
	pos = 0;
	if (k->nrefs == 0 && field(hdr, len, "In-Reply-To", &v) &&
	    imap_msgid_next(buf_cstr(&v), v.len, &pos, &id)) {
		k->refs = xmalloc(sizeof(*k->refs));
		k->refs[k->nrefs++] = xstrdup(buf_cstr(&id));
	}
	buf_free(&v);
	buf_free(&id);
}

void imap_msg_keys_parse(struct imap_msg_keys *k, const char *hdr,
			 size_t len, unsigned want)
{
	struct buf v = BUF_INIT(BUF_UNLIMITED);
	struct buf b = BUF_INIT(BUF_UNLIMITED);
	time_t t;
	int tz;

	if (want & IMAP_KEYS_SUBJECT) {
		field(hdr, len, "Subject", &v);
		k->subject_reply = imap_base_subject(buf_cstr(&v), v.len, &b);
		k->subject = buf_steal(&b);
	}
	if (want & IMAP_KEYS_DATE) {
		k->date = k->arrival;
		k->date_valid = false;
		if (field(hdr, len, "Date", &v) &&
		    msg_parse_date(buf_cstr(&v), v.len, &t, &tz) == 0) {
			k->date = (int64_t)t;
			k->date_valid = true;
		}
	}
	if (want & (IMAP_KEYS_ADDRS | IMAP_KEYS_DISPLAY))
		parse_addresses(k, hdr, len, want);
	if (want & IMAP_KEYS_IDS)
		parse_ids(k, hdr, len);
	buf_free(&v);
	buf_free(&b);
}

void imap_msg_keys_free(struct imap_msg_keys *k)
{
	free(k->subject);
	free(k->from);
	free(k->to);
	free(k->cc);
	free(k->display_from);
	free(k->display_to);
	free(k->message_id);
	for (size_t i = 0; i < k->nrefs; i++)
		free(k->refs[i]);
	free(k->refs);
	memset(k, 0, sizeof(*k));
}

unsigned imap_sort_keys_needed(const struct imap_sort_crit *crit,
			       size_t ncrit)
{
	unsigned want = 0;

	for (size_t i = 0; i < ncrit; i++) {
		switch (crit[i].key) {
		case IMAP_SORT_ARRIVAL:
		case IMAP_SORT_SIZE:
			break;
		case IMAP_SORT_DATE:
			want |= IMAP_KEYS_DATE;
			break;
		case IMAP_SORT_SUBJECT:
			want |= IMAP_KEYS_SUBJECT;
			break;
		case IMAP_SORT_CC:
		case IMAP_SORT_FROM:
		case IMAP_SORT_TO:
			want |= IMAP_KEYS_ADDRS;
			break;
		case IMAP_SORT_DISPLAYFROM:
		case IMAP_SORT_DISPLAYTO:
			want |= IMAP_KEYS_DISPLAY;
			break;
		}
	}
	return want;
}

static int cmp_num(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

int imap_sort_cmp_key(const struct imap_msg_keys *a,
		      const struct imap_msg_keys *b, enum imap_sort_key key)
{
	switch (key) {
	case IMAP_SORT_ARRIVAL: return cmp_num(a->arrival, b->arrival);
	case IMAP_SORT_CC: return strcmp(a->cc, b->cc);
	case IMAP_SORT_DATE: return cmp_num(a->date, b->date);
	case IMAP_SORT_FROM: return strcmp(a->from, b->from);
	case IMAP_SORT_SIZE: return a->size < b->size ? -1 : a->size > b->size;
	case IMAP_SORT_SUBJECT: return strcmp(a->subject, b->subject);
	case IMAP_SORT_TO: return strcmp(a->to, b->to);
	case IMAP_SORT_DISPLAYFROM:
		return strcmp(a->display_from, b->display_from);
	case IMAP_SORT_DISPLAYTO:
		return strcmp(a->display_to, b->display_to);
	}
	return 0;
}

struct program {
	const struct imap_sort_crit *crit;
	size_t ncrit;
};

static int cmp_msgs(const void *x, const void *y, void *arg)
{
	const struct imap_msg_keys *a = *(struct imap_msg_keys *const *)x;
	const struct imap_msg_keys *b = *(struct imap_msg_keys *const *)y;
	const struct program *prog = arg;
	int r;

	for (size_t i = 0; i < prog->ncrit; i++) {
		r = imap_sort_cmp_key(a, b, prog->crit[i].key);
		if (r != 0)
			return prog->crit[i].reverse ? -r : r;
	}
	/* RFC 5256 2.2: exact matches in sequence number order */
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void imap_sort(struct imap_msg_keys **v, size_t n,
	       const struct imap_sort_crit *crit, size_t ncrit)
{
	struct program prog = { crit, ncrit };

	if (n > 1)
		qsort_r(v, n, sizeof(*v), cmp_msgs, &prog);
}

/* One stable counting pass over 16 bits of criterion c's ranks. */
static void rank_pass(const uint32_t *rank, size_t ncrit, size_t c,
		      bool reverse, const uint32_t *src, uint32_t *dst,
		      size_t n, unsigned shift, size_t *count)
{
	size_t sum = 0;

	memset(count, 0, 65536 * sizeof(*count));
	for (size_t i = 0; i < n; i++) {
		uint32_t r = rank[src[i] * ncrit + c];

		count[((reverse ? ~r : r) >> shift) & 0xffff]++;
	}
	for (size_t k = 0; k < 65536; k++) {
		size_t c0 = count[k];

		count[k] = sum;
		sum += c0;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t r = rank[src[i] * ncrit + c];

		dst[count[((reverse ? ~r : r) >> shift) & 0xffff]++] = src[i];
	}
}

void imap_sort_ranks(const uint32_t *rank, size_t n,
		     const struct imap_sort_crit *crit, size_t ncrit,
		     uint32_t *order)
{
	uint32_t *tmp = xreallocarray(NULL, n + 1, sizeof(*tmp));
	size_t *count = xreallocarray(NULL, 65536, sizeof(*count));

	for (size_t i = 0; i < n; i++)
		order[i] = (uint32_t)i;
	/* least significant criterion first, each pass stable: ties end
	 * in sequence order (RFC 5256 2.2) */
	for (size_t c = ncrit; n > 1 && c-- > 0; ) {
		rank_pass(rank, ncrit, c, crit[c].reverse, order, tmp, n, 0,
			  count);
		rank_pass(rank, ncrit, c, crit[c].reverse, tmp, order, n, 16,
			  count);
	}
	free(count);
	free(tmp);
}

/* ---- msg-id (RFC 5322 3.6.4) ---- */

static void skip_comment(const char *t, size_t len, size_t *pos)
{
	unsigned depth = 0;

	for (; *pos < len; (*pos)++) {
		if (t[*pos] == '\\' && *pos + 1 < len)
			(*pos)++;
		else if (t[*pos] == '(')
			depth++;
		else if (t[*pos] == ')' && --depth == 0)
			break;
	}
	if (*pos < len)
		(*pos)++;
}

/* The id between '<' (at *pos) and '>': false when it is not id-left
 * "@" id-right (CFWS inside dropped, as Dovecot does). */
static bool read_id(const char *t, size_t len, size_t *pos, struct buf *out)
{
	size_t at = 0;

	buf_clear(out);
	for ((*pos)++; *pos < len && t[*pos] != '>'; ) {
		char c = t[*pos];

		if (c == '<')
			return false;	/* a new id starts here */
		if (c == '(') {
			skip_comment(t, len, pos);
			continue;
		}
		(*pos)++;
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
		    c == '"')
			continue;
		if (c == '@')
			at = out->len + 1;
		buf_putc(out, c);
	}
	if (*pos >= len)
		return false;
	(*pos)++;	/* '>' */
	return at > 1 && at < out->len;
}

bool imap_msgid_next(const char *text, size_t len, size_t *pos,
		     struct buf *out)
{
	while (*pos < len) {
		if (text[*pos] == '(') {
			skip_comment(text, len, pos);
		} else if (text[*pos] == '<') {
			if (read_id(text, len, pos, out))
				return true;
		} else {
			(*pos)++;
		}
	}
	return false;
}
