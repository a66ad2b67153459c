#ifndef IMAPD_SEQSET_H
#define IMAPD_SEQSET_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sequence sets (RFC 3501 section 9, sequence-set): "2,4:7,9", "1:*",
 * "*:4".  The parser fills a set with the ranges as written, '*' kept as
 * IMAP_SEQ_STAR; evaluation against a mailbox turns it into sorted,
 * merged ranges of message sequence numbers (1-based). */

#define IMAP_SEQ_STAR 0		/* '*': never a valid number (nz-number) */

struct imap_seq_range {
	uint32_t lo, hi;	/* as written: lo may be above hi ("*:4") */
};

struct imap_seqset {
	struct imap_seq_range *r;
	size_t n, cap;
	bool saved;		/* "$" (RFC 5182): the result SEARCH saved,
				   no ranges; imap_cmd_eval_set resolves it */
};

void imap_seqset_init(struct imap_seqset *set);
void imap_seqset_free(struct imap_seqset *set);
void imap_seqset_clear(struct imap_seqset *set);
void imap_seqset_add(struct imap_seqset *set, uint32_t lo, uint32_t hi);
/* Whether the set mentions '*'. */
bool imap_seqset_has_star(const struct imap_seqset *set);

/* Message sequence numbers (RFC 3501 6.4.x): '*' is `count`.  out gets the
 * numbers as sorted, merged, non-overlapping ranges with lo <= hi.  Returns
 * 0, or -1 when a number (or '*') lies outside 1..count, which covers any
 * set on an empty mailbox: the command answers BAD. */
int imap_seqset_eval_seq(const struct imap_seqset *set, uint32_t count,
			 struct imap_seqset *out);

/* UIDs (RFC 3501 6.4.8): `uids` are the mailbox's UIDs, ascending; '*' is
 * the largest of them (RFC 3501 9, seq-number; on an empty mailbox the set
 * matches nothing).  UIDs not in the mailbox are ignored (a range matches
 * the UIDs that exist inside it).  out gets the matching messages as sorted,
 * merged ranges of sequence numbers.  Never fails. */
void imap_seqset_eval_uid(const struct imap_seqset *set, const uint32_t *uids,
			  size_t count, struct imap_seqset *out);

/* The same, with the UIDs fetched through a callback (uid_at(arg, i) is the
 * UID of sequence number i + 1), so a caller need not build an array. */
void imap_seqset_eval_uid_fn(const struct imap_seqset *set,
			     uint32_t (*uid_at)(const void *arg, size_t i),
			     const void *arg, size_t count,
			     struct imap_seqset *out);

/* Whether sequence number `seq` is in an evaluated set (binary search). */
bool imap_seqset_contains(const struct imap_seqset *evaluated, uint32_t seq);
/* Numbers in an evaluated set. */
uint64_t imap_seqset_count(const struct imap_seqset *evaluated);

#endif
