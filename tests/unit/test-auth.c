#include <stdlib.h>
#include <string.h>

#include "common/auth.h"
#include "common/log.h"
#include "common/users.h"
#include "tests/unit/unit.h"

static char *dir;
static struct config cfg;
static struct proto_io io;
static struct userdb *db;
static struct auth_state st;

/* what the fake I/O layer saw */
static unsigned int delays[16];
static size_t n_delays;
static work_fn *pending_fn;	/* a delay that has not run yet */
static void *pending_arg;
static bool hold_delays;

/* what the protocol's done callback saw */
static int n_done;
static enum auth_result last_result;
static char last_user[128];

static void record_after(struct proto_io *pio, unsigned int ms, work_fn *done,
			 void *arg)
{
	ck_assert_ptr_eq(pio, &io);
	ck_assert_uint_lt(n_delays, sizeof(delays) / sizeof(delays[0]));
	delays[n_delays++] = ms;
	if (hold_delays) {
		pending_fn = done;
		pending_arg = arg;
		return;
	}
	done(arg);
}

static void on_done(void *sess, enum auth_result result, const char *user)
{
	ck_assert_ptr_eq(sess, &io);
	n_done++;
	last_result = result;
	snprintf(last_user, sizeof(last_user), "%s", user);
}

static void setup(void)
{
	char err[512];

	log_open(NULL, false);
	dir = unit_tmpdir();
	config_defaults(&cfg, dir);
	cfg.auth_max_failures = 3;
	cfg.auth_fail_delay_ms = 1000;
	db = userdb_open(dir, err, sizeof(err));
	ck_assert_msg(db != NULL, "%s", err);
	ck_assert_int_eq(userdb_add(db, "alice", "right", err, sizeof(err)), 0);
	io_init_test(&io, &cfg, SVC_SUBMISSION);
	io.users = db;
	io.after = record_after;
	memset(&st, 0, sizeof(st));
	n_delays = 0;
	n_done = 0;
	hold_delays = false;
	pending_fn = NULL;
	last_user[0] = '\0';
}

static void teardown(void)
{
	io_free(&io);
	userdb_close(&db);
	config_free(&cfg);
	unit_rmtree(dir);
	free(dir);
}

static enum auth_result check(const char *user, const char *password)
{
	int before = n_done;

	auth_check(&io, &st, user, password, on_done, &io);
	/* the test io runs deferred work and delays at once */
	ck_assert_int_eq(n_done, before + 1);
	ck_assert(!st.busy);
	return last_result;
}

START_TEST(test_ok)
{
	ck_assert_int_eq(check("alice", "right"), AUTH_OK);
	ck_assert_str_eq(last_user, "alice");
	ck_assert_uint_eq(st.failures, 0);
	ck_assert_uint_eq(n_delays, 0);
}
END_TEST

START_TEST(test_growing_delay_then_close)
{
	ck_assert_int_eq(check("alice", "wrong"), AUTH_FAILED);
	ck_assert_str_eq(last_user, "alice");
	ck_assert_int_eq(check("nobody", "right"), AUTH_FAILED);
	ck_assert_str_eq(last_user, "nobody");
	ck_assert_int_eq(check("alice", ""), AUTH_FAILED_CLOSE);
	ck_assert_uint_eq(st.failures, 3);
	ck_assert_uint_eq(n_delays, 3);
	ck_assert_uint_eq(delays[0], 1000);
	ck_assert_uint_eq(delays[1], 2000);
	ck_assert_uint_eq(delays[2], 4000);
}
END_TEST

START_TEST(test_success_after_failure)
{
	cfg.auth_max_failures = 2;
	ck_assert_int_eq(check("alice", "wrong"), AUTH_FAILED);
	ck_assert_int_eq(check("alice", "right"), AUTH_OK);
	ck_assert_uint_eq(n_delays, 1);
	ck_assert_uint_eq(st.failures, 1);
}
END_TEST

START_TEST(test_no_limit)
{
	int i;

	cfg.auth_max_failures = 0;
	for (i = 0; i < 8; i++)
		ck_assert_int_eq(check("alice", "wrong"), AUTH_FAILED);
	ck_assert_uint_eq(delays[7], AUTH_DELAY_MAX_MS);
}
END_TEST

START_TEST(test_delay_math)
{
	ck_assert_uint_eq(auth_fail_delay(1000, 1), 1000);
	ck_assert_uint_eq(auth_fail_delay(1000, 2), 2000);
	ck_assert_uint_eq(auth_fail_delay(1000, 5), 16000);
	ck_assert_uint_eq(auth_fail_delay(1000, 6), AUTH_DELAY_MAX_MS);
	ck_assert_uint_eq(auth_fail_delay(1000, 4000000000u), AUTH_DELAY_MAX_MS);
	ck_assert_uint_eq(auth_fail_delay(0, 7), 0);
	ck_assert_uint_eq(auth_fail_delay(4000000000u, 1), AUTH_DELAY_MAX_MS);
	ck_assert_uint_eq(auth_fail_delay(250, 0), 250);
}
END_TEST

/* Nothing is reported before the delay is over, and the session is busy
 * meanwhile. */
START_TEST(test_delay_holds_reply)
{
	hold_delays = true;
	auth_check(&io, &st, "alice", "wrong", on_done, &io);
	ck_assert_int_eq(n_done, 0);
	ck_assert(st.busy);
	ck_assert_ptr_nonnull(pending_fn);
	pending_fn(pending_arg);
	ck_assert_int_eq(n_done, 1);
	ck_assert_int_eq(last_result, AUTH_FAILED);
	ck_assert(!st.busy);
}
END_TEST

START_TEST(test_normalised_user)
{
	ck_assert_int_eq(check("alice@lab.test", "right"), AUTH_OK);
	ck_assert_str_eq(last_user, "alice");
	ck_assert_int_eq(check("Alice@LAB.TEST.", "right"), AUTH_OK);
	ck_assert_str_eq(last_user, "alice");
	ck_assert_int_eq(check("ALICE", "right"), AUTH_OK);
	/* a domain that is not ours is not stripped */
	ck_assert_int_eq(check("alice@example.com", "right"), AUTH_FAILED);
	ck_assert_str_eq(last_user, "alice@example.com");
	ck_assert_uint_eq(st.failures, 1);
}
END_TEST

START_TEST(test_database_error)
{
	io.users = NULL;
	ck_assert_int_eq(check("alice", "right"), AUTH_TEMPFAIL);
	ck_assert_uint_eq(st.failures, 0);
	ck_assert_uint_eq(n_delays, 0);
}
END_TEST

START_TEST(test_reject)
{
	auth_reject(&io, &st, "PLAIN: missing NUL", on_done, &io);
	ck_assert_int_eq(n_done, 1);
	ck_assert_int_eq(last_result, AUTH_FAILED);
	ck_assert_str_eq(last_user, "");
	ck_assert_uint_eq(delays[0], 1000);
	ck_assert_int_eq(check("alice", "wrong"), AUTH_FAILED);
	ck_assert_uint_eq(delays[1], 2000);
	auth_reject(&io, &st, "PLAIN: empty user", on_done, &io);
	ck_assert_int_eq(last_result, AUTH_FAILED_CLOSE);
}
END_TEST

START_TEST(test_plaintext_policy)
{
	io.loopback = false;
	io.tls = false;
	cfg.allow_plaintext_auth = false;
	ck_assert(!auth_plaintext_allowed(&io));
	io.tls = true;
	ck_assert(auth_plaintext_allowed(&io));
	io.tls = false;
	io.loopback = true;
	ck_assert(auth_plaintext_allowed(&io));
	io.loopback = false;
	cfg.allow_plaintext_auth = true;
	ck_assert(auth_plaintext_allowed(&io));
}
END_TEST

/* auth_check refuses by itself when the protocol forgot the policy. */
START_TEST(test_plaintext_enforced)
{
	io.loopback = false;
	io.tls = false;
	cfg.allow_plaintext_auth = false;
	ck_assert_int_eq(check("alice", "right"), AUTH_FAILED);
	ck_assert_uint_eq(st.failures, 1);
	cfg.allow_plaintext_auth = true;
	ck_assert_int_eq(check("alice", "right"), AUTH_OK);
}
END_TEST

START_TEST(test_trace_visible)
{
	const char *l;

	l = "AUTH PLAIN AGFsaWNlAHB3";
	ck_assert_uint_eq(auth_trace_visible(l, strlen(l), 2), 11);
	l = "a1 LOGIN alice secret";
	ck_assert_uint_eq(auth_trace_visible(l, strlen(l), 3), 15);
	l = "PASS secret";
	ck_assert_uint_eq(auth_trace_visible(l, strlen(l), 1), 5);
	l = "AUTH LOGIN";
	ck_assert_uint_eq(auth_trace_visible(l, strlen(l), 2), 10);
	l = "dGVzdA==";
	ck_assert_uint_eq(auth_trace_visible(l, strlen(l), 0), 0);
	ck_assert_uint_eq(auth_trace_visible("", 0, 2), 0);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("auth");
	TCase *tc = tcase_create("auth");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_ok);
	tcase_add_test(tc, test_growing_delay_then_close);
	tcase_add_test(tc, test_success_after_failure);
	tcase_add_test(tc, test_no_limit);
	tcase_add_test(tc, test_delay_math);
	tcase_add_test(tc, test_delay_holds_reply);
	tcase_add_test(tc, test_normalised_user);
	tcase_add_test(tc, test_database_error);
	tcase_add_test(tc, test_reject);
	tcase_add_test(tc, test_plaintext_policy);
	tcase_add_test(tc, test_plaintext_enforced);
	tcase_add_test(tc, test_trace_visible);
	suite_add_tcase(s, tc);
	return s;
}
