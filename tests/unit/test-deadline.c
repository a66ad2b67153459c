/* The deadline of a unit of input (common/deadline.c) and the command
 * deadline per service (config_command_deadline). */
#include "common/config.h"
#include "common/deadline.h"
#include "tests/unit/unit.h"

START_TEST(test_line_deadline)
{
	struct input_deadline d;
	uint64_t at;

	deadline_begin(&d, false, 5000);
	ck_assert(d.active);
	d.bytes = 1000000;		/* bytes buy a line no time */
	ck_assert(deadline_at(&d, 60, 500, &at));
	ck_assert_uint_eq(at, 65000);
}
END_TEST

START_TEST(test_bulk_deadline_grows_with_data)
{
	struct input_deadline d;
	uint64_t at;

	deadline_begin(&d, true, 1000);
	ck_assert(deadline_at(&d, 2, 100, &at));
	ck_assert_uint_eq(at, 3000);
	d.bytes = 250;			/* 2.5 s more at 100 bytes/s */
	ck_assert(deadline_at(&d, 2, 100, &at));
	ck_assert_uint_eq(at, 5500);
	d.bytes = (uint64_t)4 << 30;	/* a 4 GiB body: no overflow */
	ck_assert(deadline_at(&d, 2, 1, &at));
	ck_assert_uint_eq(at, 3000 + ((uint64_t)4 << 30) * 1000);
	/* rate 0: no deadline for bodies */
	ck_assert(!deadline_at(&d, 2, 0, &at));
}
END_TEST

START_TEST(test_command_deadline_per_service)
{
	struct config cfg;

	config_defaults(&cfg, "/nonexistent");
	ck_assert_uint_eq(cfg.command_deadline_smtp, 60);
	ck_assert_uint_eq(cfg.command_deadline_imap, 120);
	ck_assert_uint_eq(cfg.min_data_rate, 500);
	cfg.command_deadline_smtp = 1;
	cfg.command_deadline_pop3 = 2;
	cfg.command_deadline_imap = 3;
	ck_assert_uint_eq(config_command_deadline(&cfg, SVC_SMTP), 1);
	ck_assert_uint_eq(config_command_deadline(&cfg, SVC_SUBMISSION), 1);
	ck_assert_uint_eq(config_command_deadline(&cfg, SVC_SUBMISSIONS), 1);
	ck_assert_uint_eq(config_command_deadline(&cfg, SVC_POP3), 2);
	ck_assert_uint_eq(config_command_deadline(&cfg, SVC_POP3S), 2);
	ck_assert_uint_eq(config_command_deadline(&cfg, SVC_IMAP), 3);
	ck_assert_uint_eq(config_command_deadline(&cfg, SVC_IMAPS), 3);
	config_free(&cfg);
}
END_TEST

START_TEST(test_clock_moves_forward)
{
	uint64_t a = deadline_now_ms(), b = deadline_now_ms();

	ck_assert_uint_ge(b, a);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("deadline");
	TCase *tc = tcase_create("deadline");

	tcase_add_test(tc, test_line_deadline);
	tcase_add_test(tc, test_bulk_deadline_grows_with_data);
	tcase_add_test(tc, test_command_deadline_per_service);
	tcase_add_test(tc, test_clock_moves_forward);
	suite_add_tcase(s, tc);
	return s;
}
