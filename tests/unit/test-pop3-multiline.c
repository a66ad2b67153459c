/* The POP3 multi-line writer (RFC 1939 3): byte-stuffing, LF -> CRLF,
 * TOP line counts, and the same output whatever the chunk size. */
#include <stdlib.h>
#include <string.h>

#include "common/dotstuff.h"
#include "tests/unit/unit.h"

/* Runs the writer to the end with the given chunk size. */
static char *render(const char *msg, bool convert, int64_t top, size_t chunk)
{
	struct dot_writer ml;
	struct buf out = BUF_INIT(BUF_UNLIMITED);
	int calls = 0;

	dot_writer_init(&ml, msg, strlen(msg), convert, top);
	while (!dot_writer_write(&ml, &out, chunk))
		ck_assert_int_lt(++calls, 1000000);
	return buf_steal(&out);
}

/* What a client keeps after removing the stuffing and the terminator. */
static char *unstuff(const char *wire)
{
	struct buf out = BUF_INIT(BUF_UNLIMITED);
	const char *p = wire;

	for (;;) {
		const char *eol = strstr(p, "\r\n");

		ck_assert_ptr_nonnull(eol);
		if (eol - p == 1 && *p == '.') {
			ck_assert_str_eq(eol + 2, "");
			break;
		}
		if (*p == '.')
			p++;
		buf_append(&out, p, (size_t)(eol - p) + 2);
		p = eol + 2;
	}
	return buf_steal(&out);
}

static void check_all_chunks(const char *msg, bool convert, int64_t top,
			     const char *want)
{
	static const size_t chunks[] = { 1, 2, 3, 7, 64, 1 << 20 };

	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		char *got = render(msg, convert, top, chunks[i]);

		ck_assert_msg(strcmp(got, want) == 0,
			      "chunk %zu: got [%s] want [%s]", chunks[i], got,
			      want);
		free(got);
	}
}

START_TEST(test_plain_message)
{
	check_all_chunks("Subject: a\r\n\r\nhello\r\n", false, -1,
			 "Subject: a\r\n\r\nhello\r\n.\r\n");
}
END_TEST

START_TEST(test_dot_lines_are_stuffed)
{
	const char *msg = ".starts\r\n\r\n.\r\nmid.dle\r\n..two\r\n.";
	const char *want = "..starts\r\n\r\n..\r\nmid.dle\r\n...two\r\n..\r\n.\r\n";
	char *wire = render(msg, false, -1, 1 << 20), *back;

	check_all_chunks(msg, false, -1, want);
	/* the client gets back the message, with the missing CRLF added */
	back = unstuff(wire);
	ck_assert_str_eq(back, ".starts\r\n\r\n.\r\nmid.dle\r\n..two\r\n.\r\n");
	free(back);
	free(wire);
}
END_TEST

START_TEST(test_empty_message)
{
	check_all_chunks("", false, -1, ".\r\n");
	check_all_chunks("", true, 3, ".\r\n");
}
END_TEST

START_TEST(test_missing_final_line_end)
{
	check_all_chunks("a\r\nb", false, -1, "a\r\nb\r\n.\r\n");
	check_all_chunks("a\nb", true, -1, "a\r\nb\r\n.\r\n");
}
END_TEST

START_TEST(test_bare_lf_converted)
{
	/* bare LF only: CRLF already there stays CRLF */
	check_all_chunks("A: 1\n\n.x\r\ny\n", true, -1,
			 "A: 1\r\n\r\n..x\r\ny\r\n.\r\n");
	/* without conversion the bytes are sent as they are */
	check_all_chunks("A: 1\n.x\n", false, -1, "A: 1\n..x\n.\r\n");
}
END_TEST

START_TEST(test_top_counts_body_lines)
{
	const char *msg = "A: 1\r\nB: 2\r\n\r\nl1\r\n.l2\r\nl3\r\n";

	check_all_chunks(msg, false, 0, "A: 1\r\nB: 2\r\n\r\n.\r\n");
	check_all_chunks(msg, false, 2, "A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\n.\r\n");
	check_all_chunks(msg, false, 3, "A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\nl3\r\n.\r\n");
	check_all_chunks(msg, false, INT64_MAX,
			 "A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\nl3\r\n.\r\n");
	/* bare LF message: the empty line is found too */
	check_all_chunks("A: 1\n\nx\ny\n", true, 1, "A: 1\r\n\r\nx\r\n.\r\n");
	/* no empty line: the whole header, nothing else */
	check_all_chunks("A: 1\r\nB: 2\r\n", false, 0, "A: 1\r\nB: 2\r\n.\r\n");
	/* long lines split across chunks still count as one line */
	check_all_chunks("A: 1\r\n\r\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n\r\nz\r\n",
			 false, 2, "A: 1\r\n\r\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n\r\n.\r\n");
	check_all_chunks("A: 1\n\nyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\r\n\nz\n",
			 true, 1, "A: 1\r\n\r\nyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\r\n.\r\n");
}
END_TEST

START_TEST(test_chunk_bounds_output)
{
	/* 1 MiB of text: no single call produces much more than the chunk */
	size_t size = 1 << 20;
	char *msg = malloc(size + 1);
	struct dot_writer ml;
	struct buf out = BUF_INIT(BUF_UNLIMITED);
	size_t calls = 0;

	for (size_t i = 0; i < size; i++)
		msg[i] = (i % 80 == 78) ? '\r' : (i % 80 == 79) ? '\n' :
			 (i % 80 == 0) ? '.' : 'x';
	msg[size] = '\0';
	dot_writer_init(&ml, msg, size, false, -1);
	for (;;) {
		size_t before = out.len;
		bool done = dot_writer_write(&ml, &out, 4096);

		ck_assert_uint_le(out.len - before, 4096 + 200);
		calls++;
		if (done)
			break;
	}
	ck_assert_uint_gt(calls, 200);
	/* every line starts with '.', so each got one more; the last line
	 * has no line end, so CRLF comes before the terminator */
	ck_assert_uint_eq(out.len, size + (size + 79) / 80 + 2 + 3);
	buf_free(&out);
	free(msg);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("pop3-multiline");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_plain_message);
	tcase_add_test(tc, test_dot_lines_are_stuffed);
	tcase_add_test(tc, test_empty_message);
	tcase_add_test(tc, test_missing_final_line_end);
	tcase_add_test(tc, test_bare_lf_converted);
	tcase_add_test(tc, test_top_counts_body_lines);
	tcase_add_test(tc, test_chunk_bounds_output);
	suite_add_tcase(s, tc);
	return s;
}
