#ifndef IMAPD_ESEARCH_H
#define IMAPD_ESEARCH_H
#include <stddef.h>
#include <stdint.h>

#include "imapd/imap-int.h"

/* RETURN options of SEARCH (ESEARCH, RFC 4731), of SORT (ESORT, RFC 5267
 * section 3) and SAVE (SEARCHRES, RFC 5182). */
enum {
	IMAP_RET_GIVEN = 1 << 0,	/* RETURN (...) was there */
	IMAP_RET_MIN = 1 << 1,
	IMAP_RET_MAX = 1 << 2,
	IMAP_RET_ALL = 1 << 3,
	IMAP_RET_COUNT = 1 << 4,
	IMAP_RET_SAVE = 1 << 5,
	IMAP_RET_UPDATE = 1 << 6,	/* CONTEXT=SEARCH/SORT, RFC 5267 4.1 */
	IMAP_RET_PARTIAL = 1 << 7,	/* RFC 5267 4.4 */
};
#define IMAP_RET_DATA (IMAP_RET_MIN | IMAP_RET_MAX | IMAP_RET_ALL | \
		       IMAP_RET_COUNT | IMAP_RET_PARTIAL | IMAP_RET_UPDATE)

/* ["RETURN" SP "(" [option *(SP option)] ")" SP] (RFC 4466 2.6): *ret_r
 * gets IMAP_RET_* bits as they are read (0: no RETURN); "()" means ALL.
 * PARTIAL's range (RFC 5267 4.4, "lo:hi", nz-numbers, either order) goes
 * to partial_r[0] <= partial_r[1].  0, or -1 with the parser's error. */
int imap_parse_return(struct imap_parser *p, unsigned *ret_r,
		      uint32_t partial_r[2]);

/* numbers[0..n) as a sequence-set in their order: a range only where
 * they ascend one by one (RFC 5267 3.2): "2,4:7,9", "5,3:4". */
void imap_write_number_set(struct buf *out, const uint32_t *numbers,
			   size_t n);

/* Answers the command's RETURN options for numbers[0..n) (sequence
 * numbers, or UIDs for a UID command), in the order they are to be
 * reported (ascending for SEARCH, the sort order for SORT: MIN and MAX
 * are the first and last, RFC 5267 3.1): "* ESEARCH (TAG "t") [UID]
 * [MIN n] [MAX n] [ALL set] [COUNT n] [MODSEQ n]", nothing when only SAVE
 * was asked.  With SAVE, uids[0..n) become "$" (only those MIN, MAX and
 * PARTIAL returned when they were asked: RFC 5182 2.1, RFC 9394 3.1).
 * modseqs[0..n), or NULL when the search had no MODSEQ criterion (RFC 7162
 * 3.1.5: then no MODSEQ result).  PARTIAL's range is cmd->partial. */
void imap_return_results(struct imap_cmd *cmd, unsigned ret,
			 const uint32_t *numbers, const uint32_t *uids,
			 const uint64_t *modseqs, size_t n);

#endif
