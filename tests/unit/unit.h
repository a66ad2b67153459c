#ifndef TESTS_UNIT_H
#define TESTS_UNIT_H
#include <check.h>

/* Each tests/unit/test-NAME.c defines this; unit.c runs it. */
Suite *unit_suite(void);

/* A fresh empty directory under $TMPDIR for one test; removed by the caller
 * with unit_rmtree (or left for inspection when the test fails). */
char *unit_tmpdir(void);
void unit_rmtree(const char *path);

#endif
