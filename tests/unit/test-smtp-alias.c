/* The alias table (smtpd/aliases.c) and `maillab alias` (cli/alias.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "cli/instance.h"
#include "common/users.h"
#include "common/xalloc.h"
#include "smtpd/aliases.h"
#include "smtpd/smtp.h"
#include "tests/unit/unit.h"

static char *root, *dir;

static void setup(void)
{
	char err[256];
	struct userdb *u;

	root = unit_tmpdir();
	dir = xmalloc(strlen(root) + 8);
	snprintf(dir, strlen(root) + 8, "%s/inst", root);
	ck_assert_msg(instance_init(dir, "lab.test", "mx.lab.test", false, NULL,
				    err, sizeof(err)) == 0, "%s", err);
	u = userdb_open(dir, err, sizeof(err));
	ck_assert_ptr_nonnull(u);
	ck_assert(userdb_add(u, "alice", "pw-alice-1", err, sizeof(err)) == 0);
	ck_assert(userdb_add(u, "bob", "pw-bob-12", err, sizeof(err)) == 0);
	userdb_close(&u);
}

static void teardown(void)
{
	unit_rmtree(root);
	free(root);
	free(dir);
}

/* Runs `maillab alias ARGS... -d DIR`. */
static int run(const char *a1, const char *a2, const char *a3, const char *a4)
{
	char *argv[8];
	int argc = 0;

	argv[argc++] = (char *)"alias";
	argv[argc++] = (char *)a1;
	if (a2 != NULL)
		argv[argc++] = (char *)a2;
	if (a3 != NULL)
		argv[argc++] = (char *)a3;
	if (a4 != NULL)
		argv[argc++] = (char *)a4;
	argv[argc++] = (char *)"-d";
	argv[argc++] = dir;
	argv[argc] = NULL;
	return maillab_alias(argc, argv);
}

/* The stored targets of `name`, or NULL. */
static char *targets(const char *name)
{
	char err[256], *t = NULL;
	struct userdb *u = userdb_open(dir, err, sizeof(err));
	struct alias_db *a = alias_db_open(userdb_env(u), err, sizeof(err));

	ck_assert_ptr_nonnull(a);
	ck_assert_int_ge(alias_get(a, name, &t), 0);
	alias_db_close(&a);
	userdb_close(&u);
	return t;
}

#define ck_targets(name, want) do { \
	char *t_ = targets(name); \
	if ((want) == NULL) \
		ck_assert_ptr_null(t_); \
	else \
		ck_assert_str_eq(t_ != NULL ? t_ : "(none)", (want)); \
	free(t_); \
} while (0)

/* alias_remote_targets = yes in the instance's maillab.conf */
static void allow_remote_targets(void)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/maillab.conf", dir);
	f = fopen(path, "a");
	ck_assert_ptr_nonnull(f);
	fputs("alias_remote_targets = yes\n", f);
	fclose(f);
}

START_TEST(test_add_del_list)
{
	ck_assert_int_eq(run("add", "Team", "alice", "BOB"), 0);
	ck_targets("team", "alice,bob");
	/* a target outside the local domains only with alias_remote_targets
	 * (issue 12: no relaying through aliases unless configured) */
	ck_assert_int_eq(run("add", "team", "bob", "x@example.org"), 1);
	ck_targets("team", "alice,bob");
	allow_remote_targets();
	/* adding again keeps each target once */
	ck_assert_int_eq(run("add", "team", "bob", "x@example.org"), 0);
	ck_targets("team", "alice,bob,x@example.org");
	ck_assert_int_eq(run("list", NULL, NULL, NULL), 0);
	ck_assert_int_eq(run("list", "team", NULL, NULL), 0);
	ck_assert_int_eq(run("list", "nosuch", NULL, NULL), 1);
	ck_assert_int_eq(run("del", "team", "bob", NULL), 0);
	ck_targets("team", "alice,x@example.org");
	ck_assert_int_eq(run("del", "team", "carol", NULL), 1);
	ck_assert_int_eq(run("del", "team", NULL, NULL), 0);
	ck_targets("team", NULL);
	ck_assert_int_eq(run("del", "team", NULL, NULL), 1);
}
END_TEST

START_TEST(test_refusals)
{
	/* usage errors: 2 */
	ck_assert_int_eq(run("add", "team", NULL, NULL), 2);
	ck_assert_int_eq(run("frob", "team", NULL, NULL), 2);
	ck_assert_int_eq(run("add", "-bad", "alice", NULL), 2);
	/* run-time refusals: 1 */
	ck_assert_int_eq(run("add", "team", "carol", NULL), 1);
	ck_assert_int_eq(run("add", "team", "a b@c", NULL), 1);
	ck_assert_int_eq(run("add", "alice", "bob", NULL), 1);
	ck_targets("team", NULL);
	ck_targets("alice", NULL);
	/* loops are refused and the old value kept */
	ck_assert_int_eq(run("add", "l1", "alice", NULL), 0);
	ck_assert_int_eq(run("add", "l2", "l1", NULL), 0);
	ck_assert_int_eq(run("add", "l1", "l2@lab.test", NULL), 1);
	ck_targets("l1", "alice");
	ck_assert_int_eq(run("add", "l3", "l3@LAB.TEST", NULL) , 1);
	ck_targets("l3", NULL);
}
END_TEST

static int user_is(void *arg, const char *name)
{
	(void)arg;
	return strcmp(name, "alice") == 0 || strcmp(name, "bob") == 0;
}

static bool local_is(void *arg, const char *domain)
{
	(void)arg;
	return strcasecmp(domain, "lab.test") == 0;
}

START_TEST(test_expand)
{
	struct alias_resolver res = { user_is, local_is, NULL };
	struct alias_expansion exp;
	char err[256];
	struct userdb *u = userdb_open(dir, err, sizeof(err));
	struct alias_db *a = alias_db_open(userdb_env(u), err, sizeof(err));

	ck_assert(alias_put(a, "all", "team,ops,carol", err, sizeof(err)) == 0);
	ck_assert(alias_put(a, "team", "alice,bob@lab.test", err, sizeof(err)) == 0);
	ck_assert(alias_put(a, "ops", "bob,out@example.org", err, sizeof(err)) == 0);
	ck_assert(alias_put(a, "ring", "ring2", err, sizeof(err)) == 0);
	ck_assert(alias_put(a, "ring2", "alice,ring", err, sizeof(err)) == 0);
	ck_assert_int_eq(alias_expand(a, &res, "ALL", &exp), 1);
	/* a diamond is not a loop; each user once */
	ck_assert(!exp.loop);
	ck_assert_uint_eq(exp.n_users, 2);
	ck_assert_str_eq(exp.users[0], "alice");
	ck_assert_str_eq(exp.users[1], "bob");
	ck_assert_uint_eq(exp.n_remote, 1);
	ck_assert_str_eq(exp.remote[0], "out@example.org");
	ck_assert_uint_eq(exp.n_missing, 1);
	alias_expansion_free(&exp);
	ck_assert_int_eq(alias_expand(a, &res, "ring", &exp), 1);
	ck_assert(exp.loop);
	alias_expansion_free(&exp);
	ck_assert_int_eq(alias_expand(a, &res, "alice", &exp), 0);
	alias_db_close(&a);
	userdb_close(&u);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("smtp-alias");
	TCase *tc = tcase_create("aliases");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_add_del_list);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_expand);
	suite_add_tcase(s, tc);
	return s;
}
