#ifndef IMAPD_SORT_H
#define IMAPD_SORT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* SORT (RFC 5256 section 2.2, RFC 5957 DISPLAYFROM/DISPLAYTO) and what it
 * shares with THREAD: the keys of one message, computed from its header
 * block (and kept by sort-cache.h), and the ordering.  No I/O here. */

enum imap_sort_key {
	IMAP_SORT_ARRIVAL,	/* INTERNALDATE */
	IMAP_SORT_CC,		/* addr-mailbox of the first Cc address */
	IMAP_SORT_DATE,		/* sent date (Date: in UTC; INTERNALDATE when
				   it cannot be parsed) */
	IMAP_SORT_FROM,
	IMAP_SORT_SIZE,		/* RFC822.SIZE */
	IMAP_SORT_SUBJECT,	/* base subject (RFC 5256 2.1) */
	IMAP_SORT_TO,
	IMAP_SORT_DISPLAYFROM,	/* RFC 5957: display name, else addr-spec */
	IMAP_SORT_DISPLAYTO,
};
#define IMAP_SORT_NKEYS (IMAP_SORT_DISPLAYTO + 1)

struct imap_sort_crit {
	enum imap_sort_key key;
	bool reverse;
};

#define IMAP_SORT_MAX_CRIT 16

/* What to compute (IMAP_KEYS_* bits of imap_msg_keys_parse). */
enum {
	IMAP_KEYS_SUBJECT = 1 << 0,
	IMAP_KEYS_DATE = 1 << 1,
	IMAP_KEYS_ADDRS = 1 << 2,	/* from, to, cc */
	IMAP_KEYS_DISPLAY = 1 << 3,	/* display_from, display_to */
	IMAP_KEYS_IDS = 1 << 4,		/* message_id, refs (THREAD) */
	IMAP_KEYS_ALL = (1 << 5) - 1,
};

/* One message.  Strings are xstrdup'd (never NULL once parsed: "" when
 * the field is absent) and compare with strcmp. */
struct imap_msg_keys {
	uint32_t seq, uid;
	uint64_t size;
	int64_t arrival;
	int64_t date;
	bool date_valid;	/* the Date: field gave `date` */
	char *subject;		/* base subject, ASCII uppercased */
	bool subject_reply;	/* re:/fwd: and the like were removed */
	char *from, *to, *cc;	/* addr-mailbox, ASCII uppercased */
	char *display_from, *display_to;	/* folded (imap_fold_utf8) */
	char *message_id;	/* the first valid msg-id without <>, or "" */
	char **refs;		/* References (or In-Reply-To), in order */
	size_t nrefs;
	/* imap_sort_ranked: the place of this message among all the
	 * folder's by each key (equal keys, equal ranks; sort-cache.h) */
	uint32_t rank[IMAP_SORT_NKEYS];
};

/* The keys wanted of the header block hdr[0..len).  seq, uid, size and
 * arrival are the caller's; date falls back to arrival, so set it first. */
void imap_msg_keys_parse(struct imap_msg_keys *k, const char *hdr,
			 size_t len, unsigned want);
void imap_msg_keys_free(struct imap_msg_keys *k);
/* The IMAP_KEYS_* bits a sort program needs. */
unsigned imap_sort_keys_needed(const struct imap_sort_crit *crit,
			       size_t ncrit);

/* Orders v[0..n) by the criteria, ties by sequence number (RFC 5256 2.2). */
void imap_sort(struct imap_msg_keys **v, size_t n,
	       const struct imap_sort_crit *crit, size_t ncrit);
/* The same over ranks alone (a radix sort, no string compared): rank[i * ncrit + c] is message i's rank by
 * crit[c] (messages in sequence order); order[0..n) gets the messages'
 * indexes in sort order. */
void imap_sort_ranks(const uint32_t *rank, size_t n,
		     const struct imap_sort_crit *crit, size_t ncrit,
		     uint32_t *order);
/* <0, 0, >0 as a orders before, with or after b by `key` alone. */
int imap_sort_cmp_key(const struct imap_msg_keys *a,
		      const struct imap_msg_keys *b, enum imap_sort_key key);

/* The next valid msg-id ("<" id-left "@" id-right ">", RFC 5322 3.6.4)
 * in text[*pos..len), CFWS and junk between ids skipped: true with the id
 * (no brackets, whitespace and comments inside removed) in out. */
bool imap_msgid_next(const char *text, size_t len, size_t *pos,
		     struct buf *out);

#endif
