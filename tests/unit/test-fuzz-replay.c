/* Replays every fuzz corpus, tests/fuzz/corpus-NAME/ (seeds and past
 * crashers), through its target tests/fuzz/fuzz-NAME.c, one test case per
 * target, so `make check` runs every input a fuzzer ever found interesting
 * without needing clang.  The Makefile compiles each target a second time
 * for this binary, with -DFUZZ_REPLAY and its entry point renamed
 * fuzz_replay_NAME.  Paths are relative to the working directory: `make
 * check` runs from the repository root. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "tests/unit/unit.h"

typedef int fuzz_entry(const uint8_t *data, size_t size);

fuzz_entry fuzz_replay_compress, fuzz_replay_config, fuzz_replay_config_dns,
	fuzz_replay_datareader, fuzz_replay_dns_answer, fuzz_replay_fault,
	fuzz_replay_header,
	fuzz_replay_imap_notify, fuzz_replay_imap_parser, fuzz_replay_imap_session,
	fuzz_replay_linereader, fuzz_replay_maildir_name, fuzz_replay_mime,
	fuzz_replay_pop3_session,
	fuzz_replay_queue_env, fuzz_replay_roster, fuzz_replay_sasl,
	fuzz_replay_smtp_address, fuzz_replay_smtp_session, fuzz_replay_sort,
	fuzz_replay_sort_record, fuzz_replay_trace;

static const struct target {
	const char *name;
	fuzz_entry *run;
} targets[] = {
	{ "compress", fuzz_replay_compress },
	{ "config", fuzz_replay_config },
	{ "config-dns", fuzz_replay_config_dns },
	{ "datareader", fuzz_replay_datareader },
	{ "dns-answer", fuzz_replay_dns_answer },
	{ "fault", fuzz_replay_fault },
	{ "header", fuzz_replay_header },
	{ "imap-notify", fuzz_replay_imap_notify },
	{ "imap-parser", fuzz_replay_imap_parser },
	{ "imap-session", fuzz_replay_imap_session },
	{ "linereader", fuzz_replay_linereader },
	{ "maildir-name", fuzz_replay_maildir_name },
	{ "mime", fuzz_replay_mime },
	{ "pop3-session", fuzz_replay_pop3_session },
	{ "queue-env", fuzz_replay_queue_env },
	{ "roster", fuzz_replay_roster },
	{ "sasl", fuzz_replay_sasl },
	{ "smtp-address", fuzz_replay_smtp_address },
	{ "smtp-session", fuzz_replay_smtp_session },
	{ "sort", fuzz_replay_sort },
	{ "sort-record", fuzz_replay_sort_record },
	{ "trace", fuzz_replay_trace },
};
#define N_TARGETS (sizeof(targets) / sizeof(*targets))

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
	const struct target *t = &targets[_i];
	char dirname[256], path[4096];
	struct dirent *de;
	size_t len;
	int count = 0;
	DIR *dir;

	snprintf(dirname, sizeof(dirname), "tests/fuzz/corpus-%s", t->name);
	dir = opendir(dirname);
	ck_assert_msg(dir != NULL, "%s: %s (run from the repository root)",
		      dirname, strerror(errno));
	while ((de = readdir(dir)) != NULL) {
		uint8_t *data;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dirname, de->d_name);
		data = read_exact(path, &len);
		/* a crash or an abort() here names no file: say it first */
		if (getenv("FUZZ_REPLAY_VERBOSE") != NULL)
			fprintf(stderr, "%s\n", path);
		ck_assert_int_eq(t->run(data, len), 0);
		free(data);
		count++;
	}
	closedir(dir);
	/* an empty corpus would make this test pass vacuously */
	ck_assert_msg(count >= 5, "%s: only %d inputs", dirname, count);
}
END_TEST

/* Every tests/fuzz/fuzz-NAME.c is in the table above. */
START_TEST(test_every_target_replayed)
{
	DIR *dir = opendir("tests/fuzz");
	struct dirent *de;
	int found = 0;

	ck_assert_ptr_nonnull(dir);
	while ((de = readdir(dir)) != NULL) {
		size_t n = strlen(de->d_name), i;

		if (strncmp(de->d_name, "fuzz-", 5) != 0 || n < 8 ||
		    strcmp(de->d_name + n - 2, ".c") != 0)
			continue;
		for (i = 0; i < N_TARGETS; i++)
			if (strlen(targets[i].name) == n - 7 &&
			    strncmp(de->d_name + 5, targets[i].name, n - 7) == 0)
				break;
		ck_assert_msg(i < N_TARGETS, "%s has no entry in "
			      "tests/unit/test-fuzz-replay.c", de->d_name);
		found++;
	}
	closedir(dir);
	ck_assert_int_eq(found, (int)N_TARGETS);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("fuzz-replay");
	TCase *tc = tcase_create("targets");

	tcase_add_test(tc, test_every_target_replayed);
	suite_add_tcase(s, tc);
	for (size_t i = 0; i < N_TARGETS; i++) {
		tc = tcase_create(targets[i].name);
		tcase_add_loop_test(tc, test_replay_corpus, (int)i, (int)i + 1);
		tcase_set_timeout(tc, 300);
		suite_add_tcase(s, tc);
	}
	return s;
}
