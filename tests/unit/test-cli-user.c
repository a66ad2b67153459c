/* The quota and classroom forms of `maillab user` (cli/user.c,
 * cli/user-quota.c, cli/user-class.c): which arguments each action takes,
 * limits set and shown, --from-file, reset.  Each run is a child process,
 * as in test-users.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/instance.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/quota.h"
#include "common/users.h"
#include "tests/unit/cli-user-run.h"
#include "tests/unit/maildir-helpers.h"
#include "tests/unit/unit.h"

static char *dir;
static char err[512];

static char *inst;

static void cli_setup(void)
{
	char path[4096];

	log_open(NULL, false);
	dir = unit_tmpdir();
	snprintf(path, sizeof(path), "%s/inst", dir);
	inst = strdup(path);
	ck_assert_int_eq(instance_init(inst, NULL, NULL, false, NULL, err,
				       sizeof(err)), 0);
}

static void cli_teardown(void)
{
	unit_rmtree(dir);
	free(dir);
	free(inst);
}

#define OUT_HAS(s) ck_assert_msg(strstr(buf_cstr(&out), s) != NULL, \
				  "no \"%s\" in:\n%s", s, buf_cstr(&out))

static struct user_quota limits_of(const char *name)
{
	struct userdb *u = userdb_open(inst, err, sizeof(err));
	struct user_quota q;

	ck_assert_msg(u != NULL, "%s", err);
	ck_assert_int_eq(userdb_quota(u, name, &q), 1);
	userdb_close(&u);
	return q;
}

/* Each action takes only its own options. */
START_TEST(test_arguments)
{
	static const char *const bad[][6] = {
		{ "quota", NULL },				/* no name */
		{ "quota", "a", "1M", "2M", NULL },		/* two sizes */
		{ "quota", "a", "--quota", "1M", NULL },	/* the size is positional */
		{ "quota", "a", "--yes", NULL },
		{ "quota", "a", "--messages", NULL },		/* no value */
		{ "passwd", "a", "--quota", "1M", NULL },
		{ "del", "a", "--messages", "3", NULL },
		{ "del", "a", "1M", NULL },
		{ "add", "a", "--quota", "1M", "--quota", NULL },
		{ "add", "a", "--from-file", "f", NULL },	/* both */
		{ "add", "--from-file", "f", "--password-stdin", NULL },
		{ "add", "--from-file", "f", "--yes", NULL },
		{ "add", "a", "--all", NULL },
		{ "list", "--quota", "1M", NULL },
		{ "reset", NULL },
		{ "reset", "a", "--all", NULL },
		{ "reset", "--all", "--password-stdin", NULL },
		{ "reset", "a", "--quota", "1M", NULL },
		{ "del", "--all", NULL },
	};
	struct buf out = BUF_INIT(BUF_UNLIMITED);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *const *v = bad[i];
		int n = 0;

		while (v[n] != NULL)
			n++;
		ck_assert_msg(run_user_cmd(NULL, &out, "-d", inst, v[0],
					   n > 1 ? v[1] : NULL, n > 2 ? v[2] : NULL,
					   n > 3 ? v[3] : NULL, n > 4 ? v[4] : NULL,
					   NULL) == 2, "case %zu: %s", i, buf_cstr(&out));
		OUT_HAS("usage: maillab user");
	}
	/* bad sizes are usage errors too, with the reason */
	ck_assert_int_eq(run_user_cmd("pw\n", &out, "add", "-d", inst, "a",
				      "--password-stdin", "--quota", "-1K",
				      NULL), 2);
	OUT_HAS("quota: '-1K' is negative");
	ck_assert_int_eq(run_user_cmd(NULL, &out, "quota", "-d", inst, "a",
				      "none", "--messages", "1e3", NULL), 2);
	OUT_HAS("messages: '1e3' is not a number");
	buf_free(&out);
}
END_TEST

START_TEST(test_quota_set_and_show)
{
	struct buf out = BUF_INIT(BUF_UNLIMITED);
	struct user_quota q;
	char mail[4096];

	ck_assert_int_eq(run_user_cmd("pw\n", &out, "add", "-d", inst, "carol",
				      "--password-stdin", "--quota", "2M",
				      "--messages", "50", NULL), 0);
	OUT_HAS("quota of carol: storage 2M, messages 50");
	q = limits_of("carol");
	ck_assert_uint_eq(q.storage, 2 << 20);
	ck_assert_uint_eq(q.messages, 50);
	snprintf(mail, sizeof(mail), "%s/mail", inst);
	ck_assert_int_eq(deliver_text(mail, "carol", NULL, MSG_A), 0);
	ck_assert_int_eq(run_user_cmd(NULL, &out, "quota", "-d", inst, "carol",
				      NULL), 0);
	OUT_HAS("storage   1 KiB used of 2048 KiB (2M), 0%");
	OUT_HAS("messages  1 used of 50, 2%");
	/* only the messages: the storage limit stays */
	ck_assert_int_eq(run_user_cmd(NULL, &out, "quota", "-d", inst, "carol",
				      "--messages", "none", NULL), 0);
	q = limits_of("carol");
	ck_assert_uint_eq(q.storage, 2 << 20);
	ck_assert_uint_eq(q.messages, 0);
	ck_assert_int_eq(run_user_cmd(NULL, &out, "quota", "-d", inst, "carol",
				      "none", NULL), 0);
	OUT_HAS("quota of carol: storage none, messages none");
	ck_assert_int_eq(run_user_cmd(NULL, &out, "quota", "-d", inst, "nobody",
				      NULL), 1);
	OUT_HAS("no such user: nobody");
	buf_free(&out);
}
END_TEST

START_TEST(test_from_file_and_reset)
{
	struct buf out = BUF_INIT(BUF_UNLIMITED);
	char path[4096], mail[4096];
	struct stat st;
	FILE *f;

	snprintf(path, sizeof(path), "%s/students.txt", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("# group A\r\nann\r\n\r\nben # late\nann2", f);
	fclose(f);
	ck_assert_int_eq(run_user_cmd(NULL, &out, "add", "-d", inst,
				      "--from-file", path, "--quota", "1M",
				      NULL), 0);
	OUT_HAS("3 users added, 0 existing left alone");
	ck_assert_uint_eq(limits_of("ben").storage, 1 << 20);
	snprintf(path, sizeof(path), "%s/credentials.txt", inst);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);

	snprintf(mail, sizeof(mail), "%s/mail", inst);
	ck_assert_int_eq(deliver_text(mail, "ann", NULL, MSG_A), 0);
	ck_assert_int_eq(deliver_text(mail, "ann", "Trash", MSG_B), 0);
	/* no terminal, no answer: nothing removed */
	ck_assert_int_eq(run_user_cmd(NULL, &out, "reset", "-d", inst, "ann",
				      NULL), 0);
	OUT_HAS("nothing removed");
	ck_assert_int_eq(count_sub(mail, "ann/new"), 1);
	ck_assert_int_eq(run_user_cmd("yes\n", &out, "reset", "-d", inst,
				      "ann", NULL), 0);
	OUT_HAS("mailbox of ann emptied: 2 messages");
	ck_assert_int_eq(count_sub(mail, "ann/new") + count_sub(mail, "ann/cur"),
			 0);
	ck_assert_int_eq(count_sub(mail, "ann/.Trash/cur"), 0);
	ck_assert_int_eq(run_user_cmd(NULL, &out, "reset", "-d", inst, "--all",
				      "-y", NULL), 0);
	OUT_HAS("mailbox of ben emptied: 0 messages");
	buf_free(&out);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("cli-user");
	TCase *tc = tcase_create("cli");

	tcase_add_checked_fixture(tc, cli_setup, cli_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_arguments);
	tcase_add_test(tc, test_quota_set_and_show);
	tcase_add_test(tc, test_from_file_and_reset);
	suite_add_tcase(s, tc);
	return s;
}
