/* The hostname default (common/hostname.h): found in hosts(5) alone, and
 * config_defaults asks no resolver (no DNS query off loopback from a
 * machine whose name is not in /etc/hosts). */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/hostname.h"
#include "tests/unit/unit.h"

/* The resolver entry points glibc would reach the DNS through: this
 * binary's own definitions win over libc's, so a call is counted. */
static int resolver_calls;

int getaddrinfo(const char *node, const char *service,
		const struct addrinfo *hints, struct addrinfo **res)
{
	(void)node;
	(void)service;
	(void)hints;
	*res = NULL;
	resolver_calls++;
	return EAI_FAIL;
}

struct hostent *gethostbyname(const char *name)
{
	(void)name;
	resolver_calls++;
	return NULL;
}

static char *write_hosts(const char *dir, const char *text)
{
	char *path;
	FILE *f;

	if (asprintf(&path, "%s/hosts", dir) < 0)
		abort();
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return path;
}

START_TEST(test_hosts_lookup)
{
	char *dir = unit_tmpdir();
	char *path = write_hosts(dir,
		"# a comment naming box\n"
		"127.0.0.1\tlocalhost\n"
		"127.0.1.1 box.example.org box   # the machine\n"
		"::1 other.example.org box\n"
		"192.0.2.9 toolong." "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa x9\n"
		"10.0.0.1\n");
	char out[64];

	ck_assert(hostname_from_hosts(path, "box", out, sizeof(out)));
	ck_assert_str_eq(out, "box.example.org");	/* the first line wins */
	ck_assert(hostname_from_hosts(path, "BOX", out, sizeof(out)));
	ck_assert_str_eq(out, "box.example.org");
	ck_assert(hostname_from_hosts(path, "box.example.org", out, sizeof(out)));
	ck_assert_str_eq(out, "box.example.org");
	ck_assert(hostname_from_hosts(path, "localhost", out, sizeof(out)));
	ck_assert_str_eq(out, "localhost");
	ck_assert(!hostname_from_hosts(path, "naming", out, sizeof(out)));
	ck_assert(!hostname_from_hosts(path, "machine", out, sizeof(out)));
	ck_assert(!hostname_from_hosts(path, "nobody", out, sizeof(out)));
	ck_assert(!hostname_from_hosts(path, "x9", out, 16));	/* does not fit */
	ck_assert(!hostname_from_hosts("/nonexistent/hosts", "box", out,
				       sizeof(out)));
	unit_rmtree(dir);
	free(path);
	free(dir);
}
END_TEST

/* Whatever this machine is called: its short name, or the FQDN hosts(5)
 * gives it, never an answer from the resolver. */
START_TEST(test_defaults_ask_no_resolver)
{
	struct config cfg;
	char name[256], canon[256];

	resolver_calls = 0;
	config_defaults(&cfg, "/nonexistent");
	ck_assert_int_eq(resolver_calls, 0);
	ck_assert_int_eq(gethostname(name, sizeof(name)), 0);
	if (strchr(name, '.') == NULL &&
	    hostname_from_hosts("/etc/hosts", name, canon, sizeof(canon)) &&
	    strchr(canon, '.') != NULL)
		ck_assert_str_eq(cfg.hostname, canon);
	else
		ck_assert_str_eq(cfg.hostname, name);
	config_free(&cfg);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("hostname");
	TCase *tc = tcase_create("hosts");

	tcase_add_test(tc, test_hosts_lookup);
	tcase_add_test(tc, test_defaults_ask_no_resolver);
	suite_add_tcase(s, tc);
	return s;
}
