/* The MIME parser on broken and hostile input: unclosed and missing
 * boundaries, parts without headers, empty and NUL-laden messages, the
 * nesting and part caps, a worst case for time, every truncation. */
#include "tests/unit/mime-corpus.h"

START_TEST(test_unclosed_boundary)
{
	struct msg m;

	msg_load(&m, "Content-Type: multipart/mixed; boundary=b1\n\n"
		 "--b1\nContent-Type: text/plain\n\none\n"
		 "--b1\nContent-Type: text/plain\n\ntwo\n");
	assert_tree(m.p, "(multipart/mixed boundary=b1 7bit L8 "
		    "(text/plain 7bit L0) (text/plain 7bit L1))");
	ck_assert_uint_eq(m.p->parts[0].flags,
			  MSG_PART_MULTIPART | MSG_PART_UNCLOSED);
	assert_body(&m, 1, "", "one");
	/* at the end of the data nothing belongs to a delimiter */
	assert_body(&m, 2, "", "two\n");
	msg_done(&m);
}
END_TEST

START_TEST(test_missing_boundary)
{
	struct msg m;

	msg_load(&m, "Content-Type: multipart/mixed\n\n"
		 "--b1\nContent-Type: text/plain\n\none\n--b1--\n");
	assert_tree(m.p, "(multipart/mixed 7bit L5)");
	ck_assert_uint_eq(m.p->parts[0].flags, 0);
	ck_assert_uint_eq(m.p->nparts, 1);
	msg_done(&m);

	/* a boundary that never appears: a multipart without parts */
	msg_load(&m, "Content-Type: multipart/mixed; boundary=zz\n\nhello\n");
	ck_assert_uint_eq(m.p->nparts, 1);
	ck_assert_uint_eq(m.p->parts[0].nchildren, 0);
	ck_assert_uint_eq(m.p->parts[0].flags,
			  MSG_PART_MULTIPART | MSG_PART_UNCLOSED);
	assert_section(&m, "1", NULL);
	msg_done(&m);
}
END_TEST

START_TEST(test_inner_unclosed)
{
	struct msg m;

	msg_load(&m, "Content-Type: multipart/mixed; boundary=out\n\n"
		 "--out\nContent-Type: multipart/alternative; boundary=in\n\n"
		 "--in\nContent-Type: text/plain\n\ninner one\n"
		 "--out\nContent-Type: text/plain\n\nafter\n--out--\n");
	assert_tree(m.p, "(multipart/mixed boundary=out 7bit L12 "
		    "(multipart/alternative boundary=in 7bit L3 "
		    "(text/plain 7bit L0)) (text/plain 7bit L0))");
	ck_assert_uint_eq(m.p->parts[1].flags,
			  MSG_PART_MULTIPART | MSG_PART_UNCLOSED);
	ck_assert_uint_eq(m.p->parts[0].flags, MSG_PART_MULTIPART);
	assert_body(&m, 2, "", "inner one");
	assert_body(&m, 3, "", "after");
	assert_section(&m, "1.1", "inner one");
	assert_section(&m, "2", "after");
	msg_done(&m);
}
END_TEST

/* An inner boundary that is a prefix of the outer one (RFC 2046 5.1.1
 * forbids it; mailers do it): the longest match wins. */
START_TEST(test_prefix_boundaries)
{
	struct msg m;

	msg_load(&m, "Content-Type: multipart/mixed; boundary=b10\n\n"
		 "--b10\nContent-Type: multipart/alternative; boundary=b1\n\n"
		 "--b1\n\ninner\n--b10\n\nouter two\n--b10--\n");
	assert_tree(m.p, "(multipart/mixed boundary=b10 7bit L10 "
		    "(multipart/alternative boundary=b1 7bit L2 "
		    "(text/plain charset=us-ascii 7bit L0)) "
		    "(text/plain charset=us-ascii 7bit L0))");
	assert_section(&m, "1.1", "inner");
	assert_section(&m, "2", "outer two");
	msg_done(&m);
}
END_TEST

START_TEST(test_sloppy_parts)
{
	struct msg m;

	/* junk after a delimiter, a part without header, one without the
	 * empty line, and an empty part */
	msg_load(&m, "Content-Type: multipart/mixed; boundary=b\n\n"
		 "--b   junk\nhello\n"
		 "--b\n\nno header\n"
		 "--b\nContent-Type: text/html\n--b\n"
		 "--b--");
	assert_tree(m.p, "(multipart/mixed boundary=b 7bit L8 "
		    "(text/plain charset=us-ascii 7bit L0) "
		    "(text/plain charset=us-ascii 7bit L0) "
		    "(text/html 7bit L0) (text/plain charset=us-ascii 7bit L0))");
	ck_assert_uint_eq(m.p->parts[1].hdr_size, 0);
	ck_assert(m.p->parts[1].flags & MSG_PART_NO_BLANK);
	ck_assert_uint_eq(m.p->parts[4].hdr_size, 0);
	ck_assert_uint_eq(m.p->parts[4].body_size, 0);
	/* an empty part sits before the line end its delimiter owns */
	ck_assert_uint_eq(m.p->parts[4].hdr_off, m.size - 7);
	assert_body(&m, 1, "", "hello");
	ck_assert_uint_eq(m.p->parts[2].hdr_size, 2);
	assert_body(&m, 2, "", "no header");
	/* the line end before a delimiter is the delimiter's */
	ck_assert_uint_eq(m.p->parts[3].hdr_size,
			  strlen("Content-Type: text/html"));
	ck_assert_uint_eq(m.p->parts[3].hdr_wire,
			  strlen("Content-Type: text/html"));
	ck_assert_uint_eq(m.p->parts[3].body_size, 0);
	ck_assert(m.p->parts[3].flags & MSG_PART_NO_BLANK);
	msg_done(&m);
}
END_TEST

START_TEST(test_degenerate)
{
	struct msg_parse *p;
	const char nul[] = "Subject: a\0b\r\n\r\nbo\0dy";

	p = msg_parse("", 0);
	ck_assert(msg_parse_valid(p, 0));
	ck_assert_uint_eq(p->nparts, 1);
	ck_assert_uint_eq(p->parts[0].hdr_size, 0);
	ck_assert_uint_eq(p->parts[0].body_size, 0);
	ck_assert_uint_eq(p->parts[0].body_lines, 0);
	ck_assert_str_eq(S(p, p->parts[0].type), "text");
	ck_assert_str_eq(S(p, p->envs[0].subject), "NIL");
	msg_parse_free(&p);

	/* header only, no empty line, no final line end */
	p = msg_parse("Subject: x", 10);
	ck_assert_uint_eq(p->parts[0].hdr_size, 10);
	ck_assert_uint_eq(p->parts[0].body_off, 10);
	ck_assert_uint_eq(p->parts[0].body_size, 0);
	ck_assert(p->parts[0].flags & MSG_PART_NO_BLANK);
	ck_assert_str_eq(S(p, p->envs[0].subject), "x");
	msg_parse_free(&p);

	/* no header at all: the first line is not a field */
	p = msg_parse("hello world\r\nbye\r\n", 18);
	ck_assert_uint_eq(p->parts[0].hdr_size, 0);
	ck_assert_uint_eq(p->parts[0].body_size, 18);
	ck_assert_uint_eq(p->parts[0].body_lines, 2);
	msg_parse_free(&p);

	/* header ends at a line that is not a field */
	p = msg_parse("Subject: y\r\nnot a field\r\nmore\r\n", 31);
	ck_assert_uint_eq(p->parts[0].hdr_size, 12);
	ck_assert_uint_eq(p->parts[0].body_lines, 2);
	msg_parse_free(&p);

	/* NUL bytes: kept in offsets, dropped from strings */
	p = msg_parse(nul, sizeof(nul) - 1);
	ck_assert(msg_parse_valid(p, sizeof(nul) - 1));
	ck_assert_str_eq(S(p, p->envs[0].subject), "ab");
	ck_assert_uint_eq(p->parts[0].body_size, 5);
	ck_assert_uint_eq(p->parts[0].body_lines, 0);
	msg_parse_free(&p);

	/* bare CR is data; lines count LF only, an unterminated last line
	 * not (as Dovecot counts) */
	p = msg_parse("\r\na\rb\r\nc", 8);
	ck_assert_uint_eq(p->parts[0].hdr_size, 2);
	ck_assert_uint_eq(p->parts[0].body_lines, 1);
	ck_assert_uint_eq(p->wire_size, 8);
	msg_parse_free(&p);
}
END_TEST

static char *deep_multipart(int levels)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);
	int i;

	for (i = 0; i < levels; i++)
		buf_printf(&b, "Content-Type: multipart/mixed; boundary=b%02d\n"
			   "\n--b%02d\n", i, i);
	buf_puts(&b, "Content-Type: text/plain\n\ndeep\n");
	for (i = levels - 1; i >= 0; i--)
		buf_printf(&b, "--b%02d--\n", i);
	return buf_steal(&b);
}

START_TEST(test_depth_cap)
{
	char *lf = deep_multipart(40);
	struct msg m;
	uint32_t i, maxdepth = 0, truncated = 0;

	msg_load(&m, lf);
	for (i = 0; i < m.p->nparts; i++) {
		if (m.p->parts[i].depth > maxdepth)
			maxdepth = m.p->parts[i].depth;
		if (m.p->parts[i].flags & MSG_PART_TRUNCATED)
			truncated = i;
	}
	ck_assert_uint_eq(maxdepth, MSG_MAX_DEPTH - 1);
	ck_assert_uint_eq(m.p->nparts, MSG_MAX_DEPTH);
	ck_assert_uint_eq(truncated, MSG_MAX_DEPTH - 1);
	/* the capped part keeps the rest as its body, up to its delimiter */
	ck_assert_uint_eq(m.p->parts[truncated].body_off +
			  m.p->parts[truncated].body_size,
			  offset_of(&m, "--b30--") - 2);
	msg_done(&m);
	free(lf);

	/* message/rfc822 nested the same way */
	struct buf b = BUF_INIT(BUF_UNLIMITED);
	for (i = 0; i < 100; i++)
		buf_puts(&b, "Content-Type: message/rfc822\n\n");
	buf_puts(&b, "Subject: deepest\n\nx\n");
	msg_load(&m, buf_cstr(&b));
	ck_assert_uint_eq(m.p->nparts, MSG_MAX_DEPTH);
	ck_assert(m.p->parts[MSG_MAX_DEPTH - 1].flags & MSG_PART_TRUNCATED);
	msg_done(&m);
	buf_free(&b);
}
END_TEST

START_TEST(test_part_cap)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);
	struct msg m;
	int i;

	buf_puts(&b, "Content-Type: multipart/mixed; boundary=x\n\n");
	for (i = 0; i < 1500; i++)
		buf_printf(&b, "--x\n\npart %d\n", i);
	buf_puts(&b, "--x--\n");
	msg_load(&m, buf_cstr(&b));
	ck_assert_uint_eq(m.p->nparts, MSG_MAX_PARTS);
	ck_assert_uint_eq(m.p->parts[0].nchildren, MSG_MAX_PARTS - 1);
	ck_assert(m.p->parts[0].flags & MSG_PART_TRUNCATED);
	ck_assert_uint_eq(m.p->parts[0].body_off + m.p->parts[0].body_size,
			  m.size);
	assert_section(&m, "999", "part 998");
	assert_section(&m, "1000", NULL);
	msg_done(&m);
	buf_free(&b);
}
END_TEST

/* Many near-miss delimiter lines under 30 open boundaries: a parser that
 * rescans would take minutes; this one is linear (Check's timeout guards
 * against a hang, no timing is asserted). */
START_TEST(test_linear_worst_case)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);
	struct msg_parse *p;
	int i;

	for (i = 0; i < 30; i++)
		buf_printf(&b, "Content-Type: multipart/mixed; "
			   "boundary=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa%02d"
			   "\n\n--aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa%02d\n",
			   i, i);
	for (i = 0; i < 100000; i++)
		buf_puts(&b, "--aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n");
	for (i = 0; i < 100000; i++)
		buf_puts(&b, "=?utf-8?q?aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	p = msg_parse(b.data, b.len);
	ck_assert(msg_parse_valid(p, b.len));
	ck_assert_uint_eq(p->nparts, 31);
	msg_parse_free(&p);
	buf_free(&b);
}
END_TEST

/* Every prefix of every corpus message parses to a consistent tree. */
START_TEST(test_every_prefix)
{
	const char *corpus[] = { plain_msg, alt_msg, attach_msg, nested_msg };
	size_t i, n, len;
	char *data;

	for (i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
		data = crlf(corpus[i], &len);
		for (n = 0; n <= len; n++) {
			char *copy = xmalloc(n + 1);	/* ASan sees overreads */
			struct msg_parse *p;

			memcpy(copy, data, n);
			p = msg_parse(copy, n);
			ck_assert(msg_parse_valid(p, n));
			msg_parse_free(&p);
			free(copy);
		}
		free(data);
	}
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("mime-robust");
	TCase *tc = tcase_create("robust");

	tcase_add_test(tc, test_unclosed_boundary);
	tcase_add_test(tc, test_missing_boundary);
	tcase_add_test(tc, test_inner_unclosed);
	tcase_add_test(tc, test_sloppy_parts);
	tcase_add_test(tc, test_prefix_boundaries);
	tcase_add_test(tc, test_degenerate);
	tcase_add_test(tc, test_depth_cap);
	tcase_add_test(tc, test_part_cap);
	tcase_add_test(tc, test_linear_worst_case);
	tcase_add_test(tc, test_every_prefix);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}
