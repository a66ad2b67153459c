#ifndef IMAPD_THREAD_H
#define IMAPD_THREAD_H
#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "imapd/sort.h"

/* THREAD (RFC 5256 sections 3 and 4), without I/O. */

enum imap_thread_alg {
	IMAP_THREAD_ORDEREDSUBJECT,
	IMAP_THREAD_REFERENCES,
};

/* The IMAP_KEYS_* bits an algorithm needs. */
unsigned imap_thread_keys_needed(enum imap_thread_alg alg);

/* Threads msgs[0..n) (in sequence order, keys parsed with the bits
 * above) and appends the threads as the THREAD response writes them
 * (RFC 5256 section 5, thread-list: "(3 6 (4 23)(44 7 96))((1)(2))"),
 * numbered by UID when `uid`, else by sequence number.  msgs is
 * reordered. */
void imap_thread(struct imap_msg_keys **msgs, size_t n,
		 enum imap_thread_alg alg, bool uid, struct buf *out);

#endif
