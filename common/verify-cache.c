/* Passwords verified lately (common/verify-cache.h). */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "common/verify-cache.h"
#include "common/xalloc.h"

#define MAC_LEN 32	/* SHA-256 */

struct verified {
	bool used;
	unsigned char name_mac[MAC_LEN];	/* of the user name alone */
	unsigned char mac[MAC_LEN];		/* of name, stored hash, password */
	time_t until;
};

struct verify_cache {
	pthread_mutex_t lock;
	unsigned char key[32];
	struct verified slots[VERIFY_CACHE_SLOTS];
};

struct verify_cache *verify_cache_new(void)
{
	struct verify_cache *c = xcalloc(1, sizeof(*c));

	if (getrandom(c->key, sizeof(c->key), 0) != (ssize_t)sizeof(c->key)) {
		free(c);
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	return c;
}

void verify_cache_free(struct verify_cache **cp)
{
	struct verify_cache *c = *cp;

	if (c == NULL)
		return;
	*cp = NULL;
	pthread_mutex_destroy(&c->lock);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

/* HMAC-SHA256 under the cache's key of the strings (each with its NUL, so
 * that no two lists run together alike), n of them. */
static bool mac_of(const struct verify_cache *c, const char *const *parts,
		   size_t n, unsigned char out[MAC_LEN])
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	size_t len = 0;
	bool ok = ctx != NULL &&
		EVP_MAC_init(ctx, c->key, sizeof(c->key), params) == 1;

	for (size_t i = 0; ok && i < n; i++)
		ok = EVP_MAC_update(ctx, (const unsigned char *)parts[i],
				    strlen(parts[i]) + 1) == 1;
	ok = ok && EVP_MAC_final(ctx, out, &len, MAC_LEN) == 1 && len == MAC_LEN;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ok;
}

/* The slot of a user: from the keyed MAC of the name, so that nobody can
 * pick names that push another user's entry out. */
static size_t slot_of(const unsigned char name_mac[MAC_LEN])
{
	uint32_t h;

	memcpy(&h, name_mac, sizeof(h));
	return h % VERIFY_CACHE_SLOTS;
}

bool verify_cache_hit(struct verify_cache *c, const char *name,
		      const char *stored, const char *password)
{
	const char *parts[] = { name, stored, password };
	unsigned char name_mac[MAC_LEN], mac[MAC_LEN];
	struct verified *v;
	bool hit;

	if (c == NULL || !mac_of(c, parts, 1, name_mac) ||
	    !mac_of(c, parts, 3, mac))
		return false;
	pthread_mutex_lock(&c->lock);
	v = &c->slots[slot_of(name_mac)];
	hit = v->used && time(NULL) < v->until &&
		CRYPTO_memcmp(v->name_mac, name_mac, MAC_LEN) == 0 &&
		CRYPTO_memcmp(v->mac, mac, MAC_LEN) == 0;
	pthread_mutex_unlock(&c->lock);
	OPENSSL_cleanse(mac, sizeof(mac));
	return hit;
}

void verify_cache_add(struct verify_cache *c, const char *name,
		      const char *stored, const char *password)
{
	const char *parts[] = { name, stored, password };
	unsigned char name_mac[MAC_LEN], mac[MAC_LEN];
	struct verified *v;

	if (c == NULL || !mac_of(c, parts, 1, name_mac) ||
	    !mac_of(c, parts, 3, mac))
		return;
	pthread_mutex_lock(&c->lock);
	v = &c->slots[slot_of(name_mac)];
	v->used = true;
	memcpy(v->name_mac, name_mac, MAC_LEN);
	memcpy(v->mac, mac, MAC_LEN);
	v->until = time(NULL) + VERIFY_CACHE_TTL;
	pthread_mutex_unlock(&c->lock);
	OPENSSL_cleanse(mac, sizeof(mac));
}
