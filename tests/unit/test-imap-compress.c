/* IMAP COMPRESS (RFC 4978), the session side: the command asks the I/O
 * layer to switch (io->compress) only after its OK, answers a second
 * COMPRESS with NO [COMPRESSIONACTIVE], an unknown algorithm with BAD, is
 * refused before login, and is advertised only after login.  The deflate
 * streams themselves are tested in test-compress.c and
 * tests/system/test_compress.py. */
#include "tests/unit/imap-client.h"

static struct instance in;
static struct client a;

static void setup(void)
{
	instance_start(&in, &a);
}

static void teardown(void)
{
	instance_stop(&in, &a);
}

/* What conn.c does once the OK has left. */
static void io_layer_switches(struct client *c)
{
	ck_assert(c->io.compress);
	c->io.compress = false;
	c->io.compressed = true;
}

START_TEST(test_compress_once)
{
	say(&a, "c CAPABILITY\r\n");
	ASSERT_HAS(&a, " COMPRESS=DEFLATE");
	say(&a, "z COMPRESS DEFLATE\r\n");
	ASSERT_IS(&a, "z OK DEFLATE active\r\n");
	io_layer_switches(&a);
	say(&a, "y COMPRESS deflate\r\n");
	ASSERT_IS(&a, "y NO [COMPRESSIONACTIVE] DEFLATE is already active\r\n");
	ck_assert(!a.io.compress);
	/* the session goes on */
	say(&a, "s SELECT INBOX\r\n");
	ASSERT_HAS(&a, "s OK [READ-WRITE]");
	say(&a, "x COMPRESS DEFLATE\r\n");
	ASSERT_HAS(&a, "x NO [COMPRESSIONACTIVE]");
	say(&a, "n NOOP\r\n");
	ASSERT_HAS(&a, "n OK NOOP completed");
}
END_TEST

START_TEST(test_compress_selected)
{
	say(&a, "s SELECT INBOX\r\n");
	ASSERT_HAS(&a, "s OK");
	say(&a, "z COMPRESS DEFLATE\r\n");
	ASSERT_IS(&a, "z OK DEFLATE active\r\n");
	ck_assert(a.io.compress);
}
END_TEST

START_TEST(test_compress_bad)
{
	say(&a, "z COMPRESS LZW\r\n");
	ASSERT_IS(&a, "z BAD Unknown compression algorithm\r\n");
	say(&a, "z COMPRESS\r\n");
	ASSERT_HAS(&a, "z BAD");
	say(&a, "z COMPRESS DEFLATE extra\r\n");
	ASSERT_HAS(&a, "z BAD");
	say(&a, "z COMPRESS \"DEFLATE\"\r\n");
	ASSERT_HAS(&a, "z BAD");
	ck_assert(!a.io.compress);
	ck_assert(!a.io.compressed);
	/* still a working session, and compression can still start */
	say(&a, "n NOOP\r\n");
	ASSERT_HAS(&a, "n OK NOOP completed");
	say(&a, "z COMPRESS DEFLATE\r\n");
	ASSERT_IS(&a, "z OK DEFLATE active\r\n");
}
END_TEST

START_TEST(test_compress_before_login)
{
	client_close(&a);
	client_open(&a, &in);
	say(&a, "c CAPABILITY\r\n");
	ASSERT_NOT(&a, "COMPRESS");
	say(&a, "z COMPRESS DEFLATE\r\n");
	ASSERT_HAS(&a, "z BAD");
	ck_assert(!a.io.compress);
	say(&a, "l LOGIN alice secret\r\n");
	ASSERT_HAS(&a, "l OK");
	say(&a, "z COMPRESS DEFLATE\r\n");
	ASSERT_IS(&a, "z OK DEFLATE active\r\n");
}
END_TEST

Suite *unit_suite(void)
{
	Suite *suite = suite_create("imap-compress");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_compress_once);
	tcase_add_test(tc, test_compress_selected);
	tcase_add_test(tc, test_compress_bad);
	tcase_add_test(tc, test_compress_before_login);
	suite_add_tcase(suite, tc);
	return suite;
}
