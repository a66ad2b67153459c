/* Replays tests/fuzz/corpus-mime/ (seeds and past crashers) through the
 * fuzz target itself, so `make check` runs every input the fuzzer ever
 * found interesting without needing clang.  Paths are relative to the
 * working directory: `make check` runs from the repository root. */
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

#include "tests/fuzz/fuzz-mime.c"

#define CORPUS "tests/fuzz/corpus-mime"

/* The whole file in an allocation of exactly its size, so that ASan sees
 * any read past the end. */
static uint8_t *read_exact(const char *path, size_t *len_r)
{
	struct stat st;
	uint8_t *data;
	ssize_t n;
	int fd = open(path, O_RDONLY);

	ck_assert_msg(fd >= 0, "open(%s): %s", path, strerror(errno));
	ck_assert_int_eq(fstat(fd, &st), 0);
	data = xmalloc(st.st_size > 0 ? (size_t)st.st_size : 1);
	n = read(fd, data, st.st_size);
	ck_assert_int_eq(n, st.st_size);
	close(fd);
	*len_r = (size_t)st.st_size;
	return data;
}

START_TEST(test_replay_corpus)
{
	DIR *dir = opendir(CORPUS);
	struct dirent *de;
	char path[4096];
	size_t len;
	int count = 0;

	ck_assert_msg(dir != NULL, "%s: %s (run from the repository root)",
		      CORPUS, strerror(errno));
	while ((de = readdir(dir)) != NULL) {
		uint8_t *data;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", CORPUS, de->d_name);
		data = read_exact(path, &len);
		ck_assert_int_eq(LLVMFuzzerTestOneInput(data, len), 0);
		free(data);
		count++;
	}
	closedir(dir);
	/* an empty corpus would make this test pass vacuously */
	ck_assert_int_ge(count, 10);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("fuzz-replay");
	TCase *tc = tcase_create("mime");

	tcase_add_test(tc, test_replay_corpus);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}
