#ifndef COMMON_QUOTA_H
#define COMMON_QUOTA_H
/* Per-user limits (RFC 9208 QUOTA): how `maillab user` reads them and
 * how they are shown.  The limits themselves live in the user's record in
 * users.db (common/users.h, userdb_quota); the usage in the user's Maildir
 * index (maildir/quota.h). */
#include <stddef.h>
#include <stdint.h>

/* A user's limits; 0 means no limit. */
struct user_quota {
	uint64_t storage;	/* bytes: RFC 9208 STORAGE (shown in KiB) */
	uint64_t messages;	/* RFC 9208 MESSAGE: messages in all folders */
};

/* A size as maillab.conf writes them: decimal digits and an optional unit
 * K, M, G or T (powers of 1024, either case), e.g. "500K", "20M"; a bare
 * number is bytes.  At least 1K: no limit is "none", not 0.  0 with
 * *bytes_r set, or -1 with the reason in err_r (empty, negative, junk after
 * the number, overflow, too small). */
int quota_parse_size(const char *text, uint64_t *bytes_r, char *err_r,
		     size_t errlen);

/* A message count: decimal digits, 1 or more.  0, or -1 with err_r. */
int quota_parse_count(const char *text, uint64_t *n_r, char *err_r,
		      size_t errlen);

/* bytes as the shortest exact text quota_parse_size reads back ("20M",
 * "1536K", "1000"); "none" for 0.  out holds at least 24 bytes. */
void quota_format_size(uint64_t bytes, char *out, size_t outlen);

/* RFC 9208 5.1: storage in units of 1024 octets, rounded up. */
static inline uint64_t quota_kib(uint64_t bytes)
{
	return bytes / 1024 + (bytes % 1024 != 0);
}

/* Whether adding `bytes` and `messages` to usage (used_bytes,
 * used_messages) would pass limit q.  No overflow. */
int quota_exceeded(const struct user_quota *q, uint64_t used_bytes,
		   uint64_t used_messages, uint64_t bytes, uint64_t messages);

#endif
