#ifndef TESTS_UNIT_CLI_USER_RUN_H
#define TESTS_UNIT_CLI_USER_RUN_H
/* Runs `maillab user` (cli/user.c) in a child process for the unit tests
 * (header-only: each suite is its own binary). */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/buf.h"
#include "tests/unit/unit.h"

/* Runs `maillab user ARGS...` with `input` on stdin; returns its exit
 * status.  Its output goes to `out` (stdout and stderr together). */
static inline int run_user_cmd(const char *input, struct buf *out, ...)
{
	char *argv[16];
	int argc = 0, in[2], outp[2], status;
	char chunk[512];
	ssize_t n;
	va_list ap;
	pid_t pid;

	argv[argc++] = "user";
	va_start(ap, out);
	while (argc < 15 && (argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	ck_assert_int_eq(pipe(in), 0);
	ck_assert_int_eq(pipe(outp), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(outp[1], STDOUT_FILENO);
		dup2(outp[1], STDERR_FILENO);
		close(in[1]);
		close(outp[0]);
		/* no terminal: the prompt path must fail cleanly */
		setsid();
		status = maillab_user(argc, argv);
		fflush(stdout);
		_exit(status);
	}
	close(in[0]);
	close(outp[1]);
	if (input != NULL) {
		/* a usage error exits before reading its input: EPIPE then,
		 * not a SIGPIPE that kills the test */
		void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
		ssize_t w = write(in[1], input, strlen(input));

		ck_assert_msg(w == (ssize_t)strlen(input) ||
			      (w == -1 && errno == EPIPE), "write: %zd", w);
		signal(SIGPIPE, old_pipe);
	}
	close(in[1]);
	buf_clear(out);
	while ((n = read(outp[0], chunk, sizeof(chunk))) > 0)
		buf_append(out, chunk, (size_t)n);
	close(outp[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

#endif
