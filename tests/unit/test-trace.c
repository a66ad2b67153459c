#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/trace.h"
#include "tests/unit/unit.h"

/* The trace file's lines with their timestamps cut off. */
static char *read_trace(const char *dir)
{
	struct buf out = BUF_INIT(BUF_UNLIMITED);
	char path[4096], line[8192];
	FILE *f;

	snprintf(path, sizeof(path), "%s/smtp-abc.log", dir);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p = strchr(line, ' ');

		buf_puts(&out, p != NULL ? p + 1 : line);
	}
	fclose(f);
	return buf_steal(&out);
}

START_TEST(test_dialogue_and_redaction)
{
	char *dir = unit_tmpdir(), *text;
	struct trace *t = trace_open(dir, "smtp", "abc");

	ck_assert_ptr_nonnull(t);
	trace_server(t, "220 hello\r\n", 11);
	trace_client(t, "EHLO x", 6, 6);
	trace_server(t, "250-a\r\n250 ", 11);	/* a reply split across writes */
	trace_server(t, "b\r\n", 3);
	trace_client(t, "AUTH PLAIN c2VjcmV0", 19, 11);
	trace_client(t, "bad\x01\r", 5, 5);
	trace_note(t, "TLS %s", "up");
	trace_close(&t);
	ck_assert_ptr_null(t);
	text = read_trace(dir);
	/* The first line gives the date of the times; the last marks the
	 * end (`maillab trace list` tells finished sessions by it). */
	ck_assert_ptr_eq(strstr(text, "*: trace started 20"), text);
	ck_assert_ptr_nonnull(strstr(text, " smtp abc\n"));
	ck_assert_str_eq(strchr(text, '\n') + 1,
		"S: 220 hello\n"
		"C: EHLO x\n"
		"S: 250-a\n"
		"S: 250 b\n"
		"C: AUTH PLAIN <redacted>\n"
		"C: bad\\x01\\r\n"
		"*: TLS up\n"
		"*: session ended\n");
	ck_assert_ptr_null(strstr(text, "c2VjcmV0"));
	free(text);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_long_reply_is_summarised)
{
	char *dir = unit_tmpdir(), *text;
	struct trace *t = trace_open(dir, "smtp", "abc");
	size_t shown = 0;

	trace_client(t, "RETR 1", 6, 6);
	for (int i = 0; i < 1000; i++)
		trace_server(t, "line of body\r\n", 14);
	trace_client(t, "QUIT", 4, 4);
	trace_close(&t);
	text = read_trace(dir);
	for (const char *p = text; (p = strstr(p, "S: line of body")) != NULL; p++)
		shown++;
	ck_assert_uint_eq(shown, 40);
	ck_assert_ptr_nonnull(strstr(text, "*: ... 13440 more bytes from the server not shown\nC: QUIT\n"));
	free(text);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("trace");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_dialogue_and_redaction);
	tcase_add_test(tc, test_long_reply_is_summarised);
	suite_add_tcase(s, tc);
	return s;
}
