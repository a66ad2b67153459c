/* Replays tests/fuzz/corpus-queue-env/ through the queue envelope fuzz
 * target (tests/fuzz/fuzz-queue-env.c), as test-fuzz-replay.c does for the
 * MIME corpus.  Run from the repository root. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "tests/unit/unit.h"

#include "tests/fuzz/fuzz-queue-env.c"

#define CORPUS "tests/fuzz/corpus-queue-env"

START_TEST(test_replay_queue_env)
{
	DIR *dir = opendir(CORPUS);
	struct dirent *de;
	char path[4096];
	int count = 0;

	ck_assert_msg(dir != NULL, "%s: %s (run from the repository root)",
		      CORPUS, strerror(errno));
	while ((de = readdir(dir)) != NULL) {
		struct stat st;
		uint8_t *data;
		int fd;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", CORPUS, de->d_name);
		fd = open(path, O_RDONLY);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(fstat(fd, &st), 0);
		/* exactly its size, so that ASan sees a read past the end */
		data = xmalloc(st.st_size > 0 ? (size_t)st.st_size : 1);
		ck_assert_int_eq(read(fd, data, (size_t)st.st_size), st.st_size);
		close(fd);
		ck_assert_int_eq(LLVMFuzzerTestOneInput(data, (size_t)st.st_size), 0);
		free(data);
		count++;
	}
	closedir(dir);
	ck_assert_int_ge(count, 10);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("fuzz-queue-env");
	TCase *tc = tcase_create("replay");

	tcase_add_test(tc, test_replay_queue_env);
	suite_add_tcase(s, tc);
	return s;
}
