/* Authentication failures across connections: the table
 * (common/penalty.c) with a fake clock, and auth_check using it. */
#include <stdlib.h>
#include <string.h>

#include "common/auth.h"
#include "common/log.h"
#include "common/penalty.h"
#include "common/users.h"
#include "tests/unit/unit.h"

static const struct penalty_limits lim = { .per_ip = 3, .per_user = 5,
					   .window = 60 };

static enum penalty_verdict admit(struct penalty *p, const char *ip,
				  const char *user, time_t now)
{
	unsigned int recent;

	return penalty_admit(p, &lim, ip, user, now, &recent);
}

/* One whole failed attempt; returns the lock flags. */
static unsigned int one_failure(struct penalty *p, const char *ip,
				const char *user, time_t now)
{
	ck_assert_int_eq(admit(p, ip, user, now), PENALTY_ADMIT);
	return penalty_done(p, &lim, ip, user, true, now);
}

START_TEST(test_address_locked_then_released)
{
	struct penalty *p = penalty_new();
	unsigned int recent;

	ck_assert_uint_eq(one_failure(p, "192.0.2.1", "alice", 100), 0);
	ck_assert_int_eq(penalty_admit(p, &lim, "192.0.2.1", "bob", 101,
				       &recent), PENALTY_ADMIT);
	ck_assert_uint_eq(recent, 1);
	penalty_done(p, &lim, "192.0.2.1", "bob", true, 101);
	/* the third failure locks the address, once */
	ck_assert_uint_eq(one_failure(p, "192.0.2.1", "carol", 102), PENALTY_LOCKED_IP);
	ck_assert_int_eq(admit(p, "192.0.2.1", "dave", 103), PENALTY_REFUSE);
	ck_assert(penalty_refuses(p, &lim, "192.0.2.1", "", 161));
	/* another address is not affected */
	ck_assert_int_eq(admit(p, "192.0.2.2", "dave", 103), PENALTY_ADMIT);
	penalty_done(p, &lim, "192.0.2.2", "dave", false, 103);
	/* the lock lasts the window from the failure that set it */
	ck_assert_int_eq(admit(p, "192.0.2.1", "dave", 162), PENALTY_ADMIT);
	ck_assert_uint_eq(penalty_done(p, &lim, "192.0.2.1", "dave", false, 162),
			  0);
	penalty_free(&p);
	ck_assert_ptr_null(p);
}
END_TEST

/* Checks under way are reserved: parallel attempts cannot pass the limit
 * together; the others wait for a slot, and are refused only once the
 * failures themselves reach the limit. */
START_TEST(test_parallel_attempts_reserved)
{
	struct penalty *p = penalty_new();
	int admitted = 0, waiting = 0;

	for (int i = 0; i < 30; i++) {
		enum penalty_verdict v = admit(p, "192.0.2.1", "alice", 100);

		admitted += v == PENALTY_ADMIT;
		waiting += v == PENALTY_WAIT;
	}
	ck_assert_int_eq(admitted, 3);
	ck_assert_int_eq(waiting, 27);
	ck_assert_uint_eq(penalty_done(p, &lim, "192.0.2.1", "alice", true, 101), 0);
	ck_assert_uint_eq(penalty_done(p, &lim, "192.0.2.1", "alice", true, 101), 0);
	ck_assert_uint_eq(penalty_done(p, &lim, "192.0.2.1", "alice", true, 101),
			  PENALTY_LOCKED_IP);
	ck_assert_int_eq(admit(p, "192.0.2.1", "alice", 101), PENALTY_REFUSE);
	penalty_free(&p);
}
END_TEST

/* Many correct logins at once from one address (a classroom behind NAT):
 * each waits for a slot, none is refused. */
START_TEST(test_parallel_successes_never_refused)
{
	struct penalty *p = penalty_new();
	int done = 0;

	for (int round = 0; round < 10; round++) {
		int admitted = 0;

		for (int i = 0; i < 30; i++) {
			enum penalty_verdict v = admit(p, "192.0.2.1", "alice",
						       100 + round);

			ck_assert_int_ne(v, PENALTY_REFUSE);
			admitted += v == PENALTY_ADMIT;
		}
		ck_assert_int_eq(admitted, 3);
		for (int i = 0; i < admitted; i++, done++)
			ck_assert_uint_eq(penalty_done(p, &lim, "192.0.2.1",
						       "alice", false,
						       100 + round), 0);
	}
	ck_assert_int_eq(done, 30);
	ck_assert_uint_eq(penalty_keys(p), 0);
	penalty_free(&p);
}
END_TEST

/* A user is locked by failures from several addresses: the lock-out of
 * the real user by a stranger, bounded by the window. */
START_TEST(test_user_locked_across_addresses)
{
	struct penalty *p = penalty_new();

	one_failure(p, "192.0.2.1", "alice", 100);
	one_failure(p, "192.0.2.1", "alice", 100);
	one_failure(p, "192.0.2.2", "alice", 100);
	one_failure(p, "192.0.2.2", "alice", 100);
	ck_assert_uint_eq(one_failure(p, "192.0.2.3", "alice", 110), PENALTY_LOCKED_USER);
	ck_assert_int_eq(admit(p, "198.51.100.7", "alice", 111), PENALTY_REFUSE);
	ck_assert_int_eq(admit(p, "198.51.100.7", "bob", 111), PENALTY_ADMIT);
	penalty_done(p, &lim, "198.51.100.7", "bob", false, 111);
	ck_assert_int_eq(admit(p, "198.51.100.7", "alice", 170), PENALTY_ADMIT);
	penalty_done(p, &lim, "198.51.100.7", "alice", false, 170);
	penalty_free(&p);
}
END_TEST

/* Failures older than the window are forgotten; so are idle keys. */
START_TEST(test_window_expires)
{
	struct penalty *p = penalty_new();

	one_failure(p, "192.0.2.1", "alice", 100);
	one_failure(p, "192.0.2.1", "alice", 110);
	ck_assert_uint_eq(one_failure(p, "192.0.2.1", "alice", 160), 0);
	ck_assert_uint_eq(penalty_keys(p), 2);
	/* a success releases its slots and counts nothing */
	ck_assert_int_eq(admit(p, "192.0.2.9", "bob", 160), PENALTY_ADMIT);
	ck_assert_uint_eq(penalty_keys(p), 4);
	penalty_done(p, &lim, "192.0.2.9", "bob", false, 160);
	ck_assert_uint_eq(penalty_keys(p), 2);
	/* a sweep a while later forgets the expired ones */
	ck_assert_int_eq(admit(p, "192.0.2.9", "bob", 400), PENALTY_ADMIT);
	penalty_done(p, &lim, "192.0.2.9", "bob", false, 400);
	ck_assert_uint_eq(penalty_keys(p), 0);
	penalty_free(&p);
}
END_TEST

START_TEST(test_no_limits)
{
	struct penalty *p = penalty_new();
	const struct penalty_limits off = { 0, 0, 60 };
	unsigned int recent;

	for (int i = 0; i < 100; i++) {
		ck_assert_int_eq(penalty_admit(p, &off, "192.0.2.1", "alice", 100,
					       &recent), PENALTY_ADMIT);
		ck_assert_uint_eq(penalty_done(p, &off, "192.0.2.1", "alice",
					       true, 100), 0);
	}
	ck_assert_uint_eq(penalty_keys(p), 0);
	penalty_free(&p);
}
END_TEST

/* ---- auth_check with a table: what the protocols see ---- */

static char *dir;
static struct config cfg;
static struct proto_io io;
static struct userdb *db;
static unsigned int delays[64];
static size_t n_delays;
static enum auth_result last_result;
static int n_done;

static void record_after(struct proto_io *pio, unsigned int ms, work_fn *done,
			 void *arg)
{
	(void)pio;
	ck_assert_uint_lt(n_delays, sizeof(delays) / sizeof(delays[0]));
	delays[n_delays++] = ms;
	done(arg);
}

static void on_done(void *sess, enum auth_result result, const char *user)
{
	(void)sess;
	(void)user;
	n_done++;
	last_result = result;
}

static void auth_setup(void)
{
	char err[512];

	log_open(NULL, false);
	dir = unit_tmpdir();
	config_defaults(&cfg, dir);
	cfg.auth_max_failures = 100;
	cfg.auth_fail_delay_ms = 1000;
	cfg.auth_max_failures_per_ip = 3;
	cfg.auth_max_failures_per_user = 5;
	cfg.auth_lockout_seconds = 60;
	db = userdb_open(dir, err, sizeof(err));
	ck_assert_msg(db != NULL, "%s", err);
	ck_assert_int_eq(userdb_add(db, "alice", "right", err, sizeof(err)), 0);
	io_init_test(&io, &cfg, SVC_IMAP);
	io.users = db;
	io.after = record_after;
	io.penalty = penalty_new();
	snprintf(io.peer, sizeof(io.peer), "192.0.2.1");
	n_delays = 0;
	n_done = 0;
}

static void auth_teardown(void)
{
	penalty_free(&io.penalty);
	io_free(&io);
	userdb_close(&db);
	config_free(&cfg);
	unit_rmtree(dir);
	free(dir);
}

/* A new session each time, as a client that reconnects. */
static enum auth_result login(const char *user, const char *password)
{
	struct auth_state st = { 0 };
	int before = n_done;

	auth_check(&io, &st, user, password, on_done, &io);
	ck_assert_int_eq(n_done, before + 1);
	return last_result;
}

START_TEST(test_auth_delay_survives_reconnect)
{
	ck_assert_int_eq(login("alice", "wrong"), AUTH_FAILED);
	ck_assert_uint_eq(n_delays, 1);		/* after the failure */
	ck_assert_uint_eq(delays[0], 1000);
	/* a new session waits before its check, even with the password */
	ck_assert_int_eq(login("alice", "right"), AUTH_OK);
	ck_assert_uint_eq(n_delays, 2);
	ck_assert_uint_eq(delays[1], 1000);
	ck_assert_int_eq(login("alice", "wrong"), AUTH_FAILED);
	ck_assert_uint_eq(delays[2], 1000);	/* before: one failure */
	ck_assert_uint_eq(delays[3], 1000);	/* after: this session's first */
	ck_assert_int_eq(login("bob", "x"), AUTH_FAILED);
	ck_assert_uint_eq(delays[4], 2000);	/* before: two failures */
}
END_TEST

START_TEST(test_auth_locked_even_with_password)
{
	struct auth_state st = { 0 };

	ck_assert_int_eq(login("alice", "wrong"), AUTH_FAILED);
	ck_assert_int_eq(login("alice", "wrong"), AUTH_FAILED);
	ck_assert_int_eq(login("alice", "wrong"), AUTH_FAILED);
	n_delays = 0;
	ck_assert_int_eq(login("alice", "right"), AUTH_LOCKED);
	ck_assert_int_eq(login("nobody", "x"), AUTH_LOCKED);
	/* at once, without a delay */
	ck_assert_uint_eq(n_delays, 0);
	auth_reject(&io, &st, "PLAIN: missing NUL", on_done, &io);
	ck_assert_int_eq(last_result, AUTH_LOCKED);
	ck_assert(auth_locked(&io, "bob"));
	/* the same user from another address still gets in */
	snprintf(io.peer, sizeof(io.peer), "192.0.2.2");
	ck_assert(!auth_locked(&io, "alice"));
	ck_assert_int_eq(login("Alice@lab.test", "right"), AUTH_OK);
}
END_TEST

START_TEST(test_auth_reject_counts_for_address)
{
	struct auth_state st = { 0 };

	auth_reject(&io, &st, "APOP digest mismatch", on_done, &io);
	auth_reject(&io, &st, "APOP digest mismatch", on_done, &io);
	ck_assert_int_eq(last_result, AUTH_FAILED);
	auth_reject(&io, &st, "APOP digest mismatch", on_done, &io);
	ck_assert_int_eq(last_result, AUTH_FAILED);
	ck_assert_int_eq(login("alice", "right"), AUTH_LOCKED);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("penalty");
	TCase *tc = tcase_create("table");
	TCase *ta = tcase_create("auth");

	tcase_add_test(tc, test_address_locked_then_released);
	tcase_add_test(tc, test_parallel_attempts_reserved);
	tcase_add_test(tc, test_parallel_successes_never_refused);
	tcase_add_test(tc, test_user_locked_across_addresses);
	tcase_add_test(tc, test_window_expires);
	tcase_add_test(tc, test_no_limits);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(ta, auth_setup, auth_teardown);
	tcase_set_timeout(ta, 60);
	tcase_add_test(ta, test_auth_delay_survives_reconnect);
	tcase_add_test(ta, test_auth_locked_even_with_password);
	tcase_add_test(ta, test_auth_reject_counts_for_address);
	suite_add_tcase(s, ta);
	return s;
}
