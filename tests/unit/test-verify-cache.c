/* The cache of passwords verified lately (common/verify-cache.h): a hit
 * only for the same user, stored hash and password; slots shared by
 * several users never answer for the wrong one. */
#include <stdio.h>
#include <stdlib.h>

#include "common/verify-cache.h"
#include "tests/unit/unit.h"

#define HASH1 "$y$j9T$salt1$hash1"
#define HASH2 "$y$j9T$salt2$hash2"

START_TEST(test_hit_only_for_what_matched)
{
	struct verify_cache *c = verify_cache_new();

	ck_assert_ptr_nonnull(c);
	ck_assert(!verify_cache_hit(c, "alice", HASH1, "pw"));
	verify_cache_add(c, "alice", HASH1, "pw");
	ck_assert(verify_cache_hit(c, "alice", HASH1, "pw"));
	ck_assert(!verify_cache_hit(c, "alice", HASH1, "pw "));
	ck_assert(!verify_cache_hit(c, "alice", HASH1, ""));
	ck_assert(!verify_cache_hit(c, "bob", HASH1, "pw"));
	/* a new password means a new stored hash */
	ck_assert(!verify_cache_hit(c, "alice", HASH2, "pw"));
	/* the parts do not run together: ("alic", "e...") is another list */
	ck_assert(!verify_cache_hit(c, "alic", "e" HASH1, "pw"));
	verify_cache_free(&c);
	ck_assert_ptr_null(c);
	/* no cache: never a hit, adding is harmless */
	verify_cache_add(NULL, "alice", HASH1, "pw");
	ck_assert(!verify_cache_hit(NULL, "alice", HASH1, "pw"));
	verify_cache_free(&c);
}
END_TEST

START_TEST(test_many_users_share_slots)
{
	struct verify_cache *c = verify_cache_new();
	char name[32], pw[32];
	int hits = 0;

	for (int i = 0; i < 4 * VERIFY_CACHE_SLOTS; i++) {
		snprintf(name, sizeof(name), "user%d", i);
		snprintf(pw, sizeof(pw), "pw%d", i);
		verify_cache_add(c, name, HASH1, pw);
	}
	for (int i = 0; i < 4 * VERIFY_CACHE_SLOTS; i++) {
		snprintf(name, sizeof(name), "user%d", i);
		snprintf(pw, sizeof(pw), "pw%d", i);
		hits += verify_cache_hit(c, name, HASH1, pw);
		/* another user's password never passes */
		snprintf(pw, sizeof(pw), "pw%d", i + 1);
		ck_assert(!verify_cache_hit(c, name, HASH1, pw));
	}
	ck_assert_int_gt(hits, 0);
	ck_assert_int_le(hits, VERIFY_CACHE_SLOTS);
	verify_cache_free(&c);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("verify-cache");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_hit_only_for_what_matched);
	tcase_add_test(tc, test_many_users_share_slots);
	suite_add_tcase(s, tc);
	return s;
}
