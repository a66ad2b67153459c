#ifndef COMMON_VERIFY_CACHE_H
#define COMMON_VERIFY_CACHE_H
#include <stdbool.h>

/* Passwords verified lately (common/users.c): a client that logs in again
 * within VERIFY_CACHE_TTL seconds with the password that matched skips
 * the yescrypt computation (tens of milliseconds of CPU each; a
 * submission client opens a connection, and logs in, per batch of mail),
 * as Dovecot's auth cache does.
 *
 * Only successes are kept: a wrong password, or an unknown user, always
 * costs a full hash, so the cache tells a guesser nothing it did not
 * know.  An entry is an HMAC-SHA256, under a key drawn at random for this
 * process, of the stored hash and the password: the password itself is
 * not kept, and a changed password (a new stored hash) or a deleted user
 * (no stored hash) no longer matches.  Bounded (VERIFY_CACHE_SLOTS users,
 * a newer entry replaces an older one in its slot); thread-safe. */

#define VERIFY_CACHE_TTL 300	/* seconds */
#define VERIFY_CACHE_SLOTS 128

struct verify_cache;

/* NULL when the kernel gives no random key (then nothing is cached). */
struct verify_cache *verify_cache_new(void);
/* Wipes and frees; sets *cp to NULL.  Safe on NULL. */
void verify_cache_free(struct verify_cache **cp);
/* Whether `password` matched `stored`, the hash stored for `name`, less
 * than VERIFY_CACHE_TTL seconds ago.  False on a NULL cache. */
bool verify_cache_hit(struct verify_cache *c, const char *name,
		      const char *stored, const char *password);
/* Records that `password` matched `stored` for `name` just now. */
void verify_cache_add(struct verify_cache *c, const char *name,
		      const char *stored, const char *password);

#endif
