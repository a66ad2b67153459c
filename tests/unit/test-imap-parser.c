/* The IMAP command grammar (imapd/parser.h): collecting a command from
 * lines and literals, and every rule, valid and invalid. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imapd/parser.h"
#include "tests/unit/unit.h"

static struct imap_cmdbuf cb;
static struct imap_parser p;
static struct buf s = BUF_INIT(BUF_UNLIMITED);

static void setup(void)
{
	imap_cmdbuf_init(&cb, 1000, 100);
}

static void teardown(void)
{
	imap_cmdbuf_free(&cb);
	buf_free(&s);
}

/* Feeds `wire` as the I/O layer would: a line up to CRLF, then the bytes
 * of a literal it announces, and so on.  Returns the last result; *units_r
 * counts the units fed.  Before the last unit the command is pending. */
static enum imap_feed feed_wire(const char *wire, int *units_r)
{
	size_t len = strlen(wire), pos = 0;
	enum imap_feed r = IMAP_FEED_DONE;
	int units = 0;

	imap_cmdbuf_reset(&cb);
	while (pos <= len) {
		const char *crlf = strstr(wire + pos, "\r\n");
		size_t n = crlf != NULL ? (size_t)(crlf - wire - pos) : len - pos;

		r = imap_cmdbuf_line(&cb, wire + pos, n);
		units++;
		pos += n + 2;
		if (r != IMAP_FEED_LITERAL)
			break;
		ck_assert(imap_cmdbuf_pending(&cb));
		ck_assert_uint_le(cb.literal_size, len - pos);
		imap_cmdbuf_literal(&cb, wire + pos, (size_t)cb.literal_size);
		units++;
		pos += (size_t)cb.literal_size;
	}
	if (units_r != NULL)
		*units_r = units;
	imap_parser_init_cmd(&p, &cb);
	return r;
}

static void parse_str(const char *text)
{
	imap_parser_init(&p, text, strlen(text));
}

START_TEST(test_literal_announcement)
{
	size_t off;
	uint64_t n;
	bool nonsync;

	ck_assert(imap_literal_at_end("a LOGIN {5}", 11, &off, &n, &nonsync));
	ck_assert_uint_eq(off, 8);
	ck_assert_uint_eq(n, 5);
	ck_assert(!nonsync);
	ck_assert(imap_literal_at_end("x {0+}", 6, &off, &n, &nonsync));
	ck_assert_uint_eq(n, 0);
	ck_assert(nonsync);
	ck_assert(imap_literal_at_end("{4294967295}", 12, &off, &n, &nonsync));
	ck_assert_uint_eq(n, 4294967295u);
	ck_assert(!imap_literal_at_end("{4294967296}", 12, &off, &n, &nonsync));
	ck_assert(!imap_literal_at_end("a {}", 4, &off, &n, &nonsync));
	ck_assert(!imap_literal_at_end("a {x}", 5, &off, &n, &nonsync));
	ck_assert(!imap_literal_at_end("a 5}", 4, &off, &n, &nonsync));
	ck_assert(!imap_literal_at_end("a {5} ", 6, &off, &n, &nonsync));
	ck_assert(!imap_literal_at_end("a {+}", 5, &off, &n, &nonsync));
}
END_TEST

START_TEST(test_collect_literals_piecewise)
{
	int units;

	/* line, literal, line, literal, line: five units */
	ck_assert_int_eq(feed_wire("a1 LOGIN {5}\r\nal\"ce {3+}\r\np w", &units),
			 IMAP_FEED_DONE);
	ck_assert_int_eq(units, 5);
	ck_assert(imap_parse_tag(&p, &s) == 0);
	ck_assert_str_eq(buf_cstr(&s), "a1");
	ck_assert(imap_parse_sp(&p) == 0 && imap_parse_atom(&p, &s) == 0);
	ck_assert_str_eq(buf_cstr(&s), "LOGIN");
	ck_assert(imap_parse_sp(&p) == 0 && imap_parse_astring(&p, &s) == 0);
	ck_assert_str_eq(buf_cstr(&s), "al\"ce");
	ck_assert(imap_parse_sp(&p) == 0 && imap_parse_astring(&p, &s) == 0);
	ck_assert_str_eq(buf_cstr(&s), "p w");
	ck_assert_int_eq(imap_parse_end(&p), 0);

	/* a literal may hold CRLF, NUL and 8-bit bytes */
	imap_cmdbuf_reset(&cb);
	ck_assert_int_eq(imap_cmdbuf_line(&cb, "t SELECT {4}", 12),
			 IMAP_FEED_LITERAL);
	ck_assert(!cb.literal_nonsync);
	imap_cmdbuf_literal(&cb, "a\r\0\xe9", 4);
	ck_assert_int_eq(imap_cmdbuf_line(&cb, "", 0), IMAP_FEED_DONE);
	imap_parser_init_cmd(&p, &cb);
	ck_assert(imap_parse_tag(&p, &s) == 0 && imap_parse_sp(&p) == 0);
	ck_assert(imap_parse_atom(&p, &s) == 0 && imap_parse_sp(&p) == 0);
	ck_assert_int_eq(imap_parse_string(&p, &s, NULL), 0);
	ck_assert_uint_eq(s.len, 4);
	ck_assert_mem_eq(s.data, "a\r\0\xe9", 4);
	ck_assert_int_eq(imap_parse_end(&p), 0);
}
END_TEST

START_TEST(test_collect_limits)
{
	char line[1200];

	memset(line, 'x', sizeof(line));
	ck_assert_int_eq(imap_cmdbuf_line(&cb, line, 1001), IMAP_FEED_TOO_LONG);
	imap_cmdbuf_reset(&cb);
	/* the limit is on the whole command, across literals */
	ck_assert_int_eq(imap_cmdbuf_line(&cb, "a X {1}", 7), IMAP_FEED_LITERAL);
	imap_cmdbuf_literal(&cb, "y", 1);
	ck_assert_int_eq(imap_cmdbuf_line(&cb, line, 994), IMAP_FEED_TOO_LONG);
	imap_cmdbuf_reset(&cb);
	/* one literal over the limit, and several that add up over it */
	ck_assert_int_eq(imap_cmdbuf_line(&cb, "a X {101}", 9), IMAP_FEED_TOO_BIG);
	ck_assert_uint_eq(cb.literal_size, 101);
	imap_cmdbuf_reset(&cb);
	ck_assert_int_eq(imap_cmdbuf_line(&cb, "a X {60}", 8), IMAP_FEED_LITERAL);
	imap_cmdbuf_literal(&cb, line, 60);
	ck_assert_int_eq(imap_cmdbuf_line(&cb, " {41+}", 6), IMAP_FEED_TOO_BIG);
	ck_assert(cb.literal_nonsync);
	imap_cmdbuf_reset(&cb);
	ck_assert(!imap_cmdbuf_pending(&cb));
}
END_TEST

START_TEST(test_tag_atom)
{
	parse_str("A.1] NOOP");
	ck_assert_int_eq(imap_parse_tag(&p, &s), 0);
	ck_assert_str_eq(buf_cstr(&s), "A.1]");
	parse_str("+a NOOP");
	ck_assert_int_eq(imap_parse_tag(&p, &s), -1);
	parse_str("(a NOOP");
	ck_assert_int_eq(imap_parse_tag(&p, &s), -1);
	ck_assert_str_eq(p.error, "Invalid tag");
	parse_str("a*b");
	ck_assert_int_eq(imap_parse_atom(&p, &s), 0);
	ck_assert_str_eq(buf_cstr(&s), "a");
	parse_str("NILx");
	ck_assert(!imap_parse_keyword(&p, "NIL"));
	ck_assert(imap_parse_keyword(&p, "nilx"));
}
END_TEST

START_TEST(test_quoted)
{
	parse_str("\"a \\\"b\\\\ c\"");
	ck_assert_int_eq(imap_parse_astring(&p, &s), 0);
	ck_assert_str_eq(buf_cstr(&s), "a \"b\\ c");
	ck_assert(imap_parse_at_end(&p));
	parse_str("\"\"");
	ck_assert_int_eq(imap_parse_string(&p, &s, NULL), 0);
	ck_assert_uint_eq(s.len, 0);

	parse_str("\"unterminated");
	ck_assert_int_eq(imap_parse_astring(&p, &s), -1);
	ck_assert_str_eq(p.error, "Unterminated quoted string");
	parse_str("\"ends in escape\\");
	ck_assert_int_eq(imap_parse_astring(&p, &s), -1);
	ck_assert_str_eq(p.error, "Unterminated quoted string");
	parse_str("\"bad \\n escape\"");
	ck_assert_int_eq(imap_parse_astring(&p, &s), -1);
	ck_assert_str_eq(p.error, "Invalid escape in quoted string");
	imap_parser_init(&p, "\"a\0b\"", 5);
	ck_assert_int_eq(imap_parse_astring(&p, &s), -1);
	parse_str("\"a\rb\"");
	ck_assert_int_eq(imap_parse_astring(&p, &s), -1);
}
END_TEST

START_TEST(test_literal_in_parser)
{
	imap_parser_init(&p, "{3}\r\nabcdef", 11);
	ck_assert_int_eq(imap_parse_string(&p, &s, NULL), 0);
	ck_assert_str_eq(buf_cstr(&s), "abc");
	ck_assert_int_eq(imap_parse_peek(&p), 'd');
	imap_parser_init(&p, "{3+}\r\nabc", 9);
	ck_assert_int_eq(imap_parse_astring(&p, &s), 0);
	ck_assert_str_eq(buf_cstr(&s), "abc");
	imap_parser_init(&p, "{5}\r\nabc", 8);
	ck_assert_int_eq(imap_parse_string(&p, &s, NULL), -1);
	parse_str("{3}abc");
	ck_assert_int_eq(imap_parse_string(&p, &s, NULL), -1);
	parse_str("{99999999999}\r\n");
	ck_assert_int_eq(imap_parse_string(&p, &s, NULL), -1);
	ck_assert_str_eq(p.error, "Invalid literal size");
}
END_TEST

START_TEST(test_streamed_literal)
{
	bool streamed;

	ck_assert_int_eq(imap_cmdbuf_line(&cb, "a APPEND INBOX {50}", 19),
			 IMAP_FEED_LITERAL);
	imap_cmdbuf_literal_streamed(&cb);
	ck_assert_uint_eq(cb.streamed_off, 15);
	ck_assert_int_eq(imap_cmdbuf_line(&cb, "", 0), IMAP_FEED_DONE);
	imap_parser_init_cmd(&p, &cb);
	p.pos = 15;
	ck_assert_int_eq(imap_parse_string(&p, &s, &streamed), 0);
	ck_assert(streamed);
	ck_assert_uint_eq(p.streamed_size, 50);
	ck_assert_int_eq(imap_parse_end(&p), 0);
	/* a parser that does not expect one refuses it */
	imap_parser_init_cmd(&p, &cb);
	p.pos = 15;
	ck_assert_int_eq(imap_parse_astring(&p, &s), -1);
}
END_TEST

/* MULTIAPPEND (RFC 3502): each message literal streamed, an inline one
 * between them still read as usual */
START_TEST(test_streamed_literals)
{
	bool streamed = false;

	ck_assert_int_eq(imap_cmdbuf_line(&cb, "a APPEND INBOX {50}", 19),
			 IMAP_FEED_LITERAL);
	imap_cmdbuf_literal_streamed(&cb);
	ck_assert_int_eq(imap_cmdbuf_line(&cb, " {2}", 4), IMAP_FEED_LITERAL);
	imap_cmdbuf_literal(&cb, "xy", 2);
	ck_assert_int_eq(imap_cmdbuf_line(&cb, " {7}", 4), IMAP_FEED_LITERAL);
	imap_cmdbuf_literal_streamed(&cb);
	ck_assert_int_eq(imap_cmdbuf_line(&cb, "", 0), IMAP_FEED_DONE);
	ck_assert_uint_eq(cb.nstreamed_earlier, 1);
	imap_parser_init_cmd(&p, &cb);
	p.pos = 15;
	ck_assert_int_eq(imap_parse_string(&p, &s, &streamed), 0);
	ck_assert(streamed);
	ck_assert_uint_eq(p.streamed_size, 50);
	streamed = false;
	ck_assert_int_eq(imap_parse_sp(&p), 0);
	ck_assert_int_eq(imap_parse_string(&p, &s, &streamed), 0);
	ck_assert(!streamed);
	ck_assert_str_eq(buf_cstr(&s), "xy");
	ck_assert_int_eq(imap_parse_sp(&p), 0);
	ck_assert_int_eq(imap_parse_string(&p, &s, &streamed), 0);
	ck_assert(streamed);
	ck_assert_uint_eq(p.streamed_size, 7);
	ck_assert_int_eq(imap_parse_end(&p), 0);
	imap_cmdbuf_reset(&cb);
	ck_assert_uint_eq(cb.nstreamed_earlier, 0);
}
END_TEST

START_TEST(test_numbers)
{
	uint32_t n;

	parse_str("4294967295");
	ck_assert_int_eq(imap_parse_number(&p, &n), 0);
	ck_assert_uint_eq(n, 4294967295u);
	parse_str("4294967296");
	ck_assert_int_eq(imap_parse_number(&p, &n), -1);
	parse_str("0");
	ck_assert_int_eq(imap_parse_number(&p, &n), 0);
	parse_str("0");
	ck_assert_int_eq(imap_parse_nz_number(&p, &n), -1);
	parse_str("x");
	ck_assert_int_eq(imap_parse_number(&p, &n), -1);
}
END_TEST

static int seqset_of(const char *text, struct imap_seqset *set)
{
	imap_seqset_clear(set);
	parse_str(text);
	if (imap_parse_seqset(&p, set) < 0)
		return -1;
	return imap_parse_at_end(&p) ? 0 : 1;
}

START_TEST(test_seqset)
{
	struct imap_seqset set;

	imap_seqset_init(&set);
	ck_assert_int_eq(seqset_of("1:*", &set), 0);
	ck_assert_uint_eq(set.n, 1);
	ck_assert_uint_eq(set.r[0].lo, 1);
	ck_assert_uint_eq(set.r[0].hi, IMAP_SEQ_STAR);
	ck_assert_int_eq(seqset_of("*:4", &set), 0);
	ck_assert_uint_eq(set.r[0].lo, IMAP_SEQ_STAR);
	ck_assert_uint_eq(set.r[0].hi, 4);
	ck_assert_int_eq(seqset_of("2,4:7,9", &set), 0);
	ck_assert_uint_eq(set.n, 3);
	ck_assert_uint_eq(set.r[1].lo, 4);
	ck_assert_uint_eq(set.r[1].hi, 7);
	ck_assert_uint_eq(set.r[2].lo, 9);
	ck_assert_int_eq(seqset_of("4294967295", &set), 0);
	ck_assert_int_eq(seqset_of("*", &set), 0);
	ck_assert(imap_seqset_has_star(&set));
	/* followed by SP and more: the parser stops at the SP */
	ck_assert_int_eq(seqset_of("1:3 FLAGS", &set), 1);

	ck_assert_int_eq(seqset_of("0", &set), -1);
	ck_assert_str_eq(p.error, "Invalid sequence set");
	ck_assert_int_eq(seqset_of("1:0", &set), -1);
	ck_assert_int_eq(seqset_of("4294967296", &set), -1);
	ck_assert_str_eq(p.error, "Invalid sequence set");
	ck_assert_int_eq(seqset_of("1:", &set), -1);
	ck_assert_int_eq(seqset_of("1,", &set), -1);
	ck_assert_int_eq(seqset_of(",1", &set), -1);
	ck_assert_int_eq(seqset_of("1:2:3", &set), -1);
	ck_assert_int_eq(seqset_of("1x", &set), -1);
	ck_assert_int_eq(seqset_of("01", &set), -1);
	ck_assert_int_eq(seqset_of("", &set), -1);
	imap_seqset_free(&set);
}
END_TEST

START_TEST(test_mailbox)
{
	parse_str("inBox");
	ck_assert_int_eq(imap_parse_mailbox(&p, &s), 0);
	ck_assert_str_eq(buf_cstr(&s), "INBOX");
	parse_str("\"Work/Caf&AOk-\"");
	ck_assert_int_eq(imap_parse_mailbox(&p, &s), 0);
	ck_assert_str_eq(buf_cstr(&s), "Work/Caf&AOk-");
	parse_str("INBOX.sub");
	ck_assert_int_eq(imap_parse_mailbox(&p, &s), 0);
	ck_assert_str_eq(buf_cstr(&s), "INBOX.sub");
	/* invalid modified UTF-7: refused with NO, not a syntax error */
	parse_str("&Jjo");
	ck_assert_int_eq(imap_parse_mailbox(&p, &s), -1);
	ck_assert(p.error_no);
	parse_str("\"caf\xc3\xa9\"");
	ck_assert_int_eq(imap_parse_mailbox(&p, &s), -1);
	ck_assert(p.error_no);
	/* wildcards are not astring characters */
	parse_str("a*");
	ck_assert_int_eq(imap_parse_mailbox(&p, &s), 0);
	ck_assert_str_eq(buf_cstr(&s), "a");
	ck_assert(!imap_parse_at_end(&p));

	parse_str("Work/%");
	ck_assert_int_eq(imap_parse_list_mailbox(&p, &s), 0);
	ck_assert_str_eq(buf_cstr(&s), "Work/%");
	parse_str("*");
	ck_assert_int_eq(imap_parse_list_mailbox(&p, &s), 0);
	parse_str("\"\"");
	ck_assert_int_eq(imap_parse_list_mailbox(&p, &s), 0);
	ck_assert_str_eq(buf_cstr(&s), "");
	parse_str("(x)");
	ck_assert_int_eq(imap_parse_list_mailbox(&p, &s), -1);
}
END_TEST

START_TEST(test_dates)
{
	int64_t t;

	parse_str("1-Feb-2024");
	ck_assert_int_eq(imap_parse_date(&p, &t), 0);
	ck_assert_int_eq(t, 1706745600);
	parse_str("\"01-feb-2024\"");
	ck_assert_int_eq(imap_parse_date(&p, &t), 0);
	ck_assert_int_eq(t, 1706745600);
	parse_str("29-Feb-2024");
	ck_assert_int_eq(imap_parse_date(&p, &t), 0);
	parse_str("29-Feb-2023");
	ck_assert_int_eq(imap_parse_date(&p, &t), -1);
	parse_str("0-Jan-2024");
	ck_assert_int_eq(imap_parse_date(&p, &t), -1);
	parse_str("1-Foo-2024");
	ck_assert_int_eq(imap_parse_date(&p, &t), -1);
	parse_str("1-Jan-24");
	ck_assert_int_eq(imap_parse_date(&p, &t), -1);
	parse_str("\"1-Jan-2024");
	ck_assert_int_eq(imap_parse_date(&p, &t), -1);

	parse_str("\"17-Jul-1996 02:44:25 -0700\"");
	ck_assert_int_eq(imap_parse_datetime(&p, &t), 0);
	ck_assert_int_eq(t, 837596665);
	parse_str("\" 7-Jul-1996 02:44:25 +0000\"");
	ck_assert_int_eq(imap_parse_datetime(&p, &t), 0);
	ck_assert_int_eq(t, 836707465);
	parse_str("\"17-Jul-1996 24:00:00 +0000\"");
	ck_assert_int_eq(imap_parse_datetime(&p, &t), -1);
	parse_str("\"17-Jul-1996 02:44:25\"");
	ck_assert_int_eq(imap_parse_datetime(&p, &t), -1);
	parse_str("17-Jul-1996 02:44:25 +0000");
	ck_assert_int_eq(imap_parse_datetime(&p, &t), -1);
	parse_str("\"17-Jul-1996 02:44:25 +0060\"");
	ck_assert_int_eq(imap_parse_datetime(&p, &t), -1);
}
END_TEST

START_TEST(test_flags)
{
	struct imap_flags f = { 0 };

	parse_str("(\\Seen \\answered $Label Work \\Seen)");
	ck_assert_int_eq(imap_parse_flag_list(&p, &f), 0);
	ck_assert_uint_eq(f.system, IMAP_FLAG_SEEN | IMAP_FLAG_ANSWERED);
	ck_assert_uint_eq(f.nkeywords, 2);
	ck_assert_str_eq(f.keywords[0], "$Label");
	ck_assert_str_eq(f.keywords[1], "Work");
	imap_flags_free(&f);
	parse_str("()");
	ck_assert_int_eq(imap_parse_flag_list(&p, &f), 0);
	ck_assert_uint_eq(f.system, 0);
	parse_str("\\Deleted \\Draft");
	ck_assert_int_eq(imap_parse_store_flags(&p, &f), 0);
	ck_assert_uint_eq(f.system, IMAP_FLAG_DELETED | IMAP_FLAG_DRAFT);
	ck_assert(imap_parse_at_end(&p));
	imap_flags_free(&f);

	parse_str("(\\Recent)");
	ck_assert_int_eq(imap_parse_flag_list(&p, &f), -1);
	imap_flags_free(&f);
	parse_str("(\\Foo)");
	ck_assert_int_eq(imap_parse_flag_list(&p, &f), -1);
	imap_flags_free(&f);
	parse_str("(\\Seen");
	ck_assert_int_eq(imap_parse_flag_list(&p, &f), -1);
	imap_flags_free(&f);
	parse_str("(\\Seen )");
	ck_assert_int_eq(imap_parse_flag_list(&p, &f), -1);
	imap_flags_free(&f);
	parse_str("\\Seen");
	ck_assert_int_eq(imap_parse_flag_list(&p, &f), -1);
	imap_flags_free(&f);
	ck_assert_uint_eq(imap_system_flag("\\FLAGGED"), IMAP_FLAG_FLAGGED);
	ck_assert_uint_eq(imap_system_flag("\\Recent"), 0);
}
END_TEST

START_TEST(test_fetch_section)
{
	struct imap_fetch f;
	const struct imap_fetch_body *b;

	parse_str("BODY[1.2.HEADER.FIELDS (From \"To\")]<0.1024>");
	ck_assert_int_eq(imap_parse_fetch(&p, &f), 0);
	ck_assert(imap_parse_at_end(&p));
	ck_assert_uint_eq(f.nbodies, 1);
	b = &f.bodies[0];
	ck_assert(!b->peek);
	ck_assert_uint_eq(b->nparts, 2);
	ck_assert_uint_eq(b->parts[0], 1);
	ck_assert_uint_eq(b->parts[1], 2);
	ck_assert_int_eq(b->kind, IMAP_SECT_FIELDS);
	ck_assert_uint_eq(b->nfields, 2);
	ck_assert_str_eq(b->fields[0], "FROM");
	ck_assert_str_eq(b->fields[1], "TO");
	ck_assert(b->partial);
	ck_assert_uint_eq(b->offset, 0);
	ck_assert_uint_eq(b->count, 1024);
	ck_assert_str_eq(b->name, "BODY[1.2.HEADER.FIELDS (FROM TO)]<0>");
	ck_assert(imap_fetch_sets_seen(&f));
	imap_fetch_free(&f);

	parse_str("(FLAGS body.peek[header.fields.not (X-A)] UID BODY[3.MIME] "
		  "BODY[] BODY[TEXT] RFC822.SIZE BODY[]<4294967295.10>)");
	ck_assert_int_eq(imap_parse_fetch(&p, &f), 0);
	ck_assert_uint_eq(f.items, IMAP_FETCH_FLAGS | IMAP_FETCH_UID |
			  IMAP_FETCH_SIZE);
	ck_assert_uint_eq(f.nbodies, 5);
	ck_assert(f.bodies[0].peek);
	ck_assert_int_eq(f.bodies[0].kind, IMAP_SECT_FIELDS_NOT);
	ck_assert_str_eq(f.bodies[0].name, "BODY[HEADER.FIELDS.NOT (X-A)]");
	ck_assert_int_eq(f.bodies[1].kind, IMAP_SECT_MIME);
	ck_assert_str_eq(f.bodies[1].name, "BODY[3.MIME]");
	ck_assert_int_eq(f.bodies[2].kind, IMAP_SECT_ALL);
	ck_assert_str_eq(f.bodies[2].name, "BODY[]");
	ck_assert_int_eq(f.bodies[3].kind, IMAP_SECT_TEXT);
	ck_assert_uint_eq(f.bodies[4].offset, 4294967295u);
	ck_assert_str_eq(f.bodies[4].name, "BODY[]<4294967295>");
	imap_fetch_free(&f);

	parse_str("(RFC822.HEADER RFC822.TEXT RFC822 BODY BODYSTRUCTURE "
		  "ENVELOPE INTERNALDATE)");
	ck_assert_int_eq(imap_parse_fetch(&p, &f), 0);
	ck_assert_uint_eq(f.nbodies, 3);
	ck_assert_str_eq(f.bodies[0].name, "RFC822.HEADER");
	ck_assert(f.bodies[0].peek);
	ck_assert_int_eq(f.bodies[0].kind, IMAP_SECT_HEADER);
	ck_assert_str_eq(f.bodies[1].name, "RFC822.TEXT");
	ck_assert(!f.bodies[1].peek);
	ck_assert_str_eq(f.bodies[2].name, "RFC822");
	ck_assert_uint_eq(f.items, IMAP_FETCH_BODY | IMAP_FETCH_BODYSTRUCTURE |
			  IMAP_FETCH_ENVELOPE | IMAP_FETCH_INTERNALDATE);
	imap_fetch_free(&f);

	parse_str("BODY.PEEK[1.2.3]");
	ck_assert_int_eq(imap_parse_fetch(&p, &f), 0);
	ck_assert(!imap_fetch_sets_seen(&f));
	ck_assert_str_eq(f.bodies[0].name, "BODY[1.2.3]");
	imap_fetch_free(&f);
}
END_TEST

START_TEST(test_fetch_macros)
{
	struct imap_fetch f;

	parse_str("ALL");
	ck_assert_int_eq(imap_parse_fetch(&p, &f), 0);
	ck_assert_uint_eq(f.items, IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE |
			  IMAP_FETCH_SIZE | IMAP_FETCH_ENVELOPE);
	imap_fetch_free(&f);
	parse_str("fast");
	ck_assert_int_eq(imap_parse_fetch(&p, &f), 0);
	ck_assert_uint_eq(f.items, IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE |
			  IMAP_FETCH_SIZE);
	imap_fetch_free(&f);
	parse_str("FULL");
	ck_assert_int_eq(imap_parse_fetch(&p, &f), 0);
	ck_assert(f.items & IMAP_FETCH_BODY);
	imap_fetch_free(&f);
	/* macros are not allowed inside a list */
	parse_str("(ALL)");
	ck_assert_int_eq(imap_parse_fetch(&p, &f), -1);
	imap_fetch_free(&f);
}
END_TEST

START_TEST(test_fetch_invalid)
{
	static const char *const bad[] = {
		"(FLAGS UID", "(FLAGS UID))x", "()", "FOO", "BODY[",
		"BODY[1.2.HEADER.FIELDS (From To)", "BODY[HEADER.FIELDS ()]",
		"BODY[HEADER.FIELDS]", "BODY[0]", "BODY[1.0]", "BODY[MIME]",
		"BODY[1.]", "BODY[TEXT.1]", "BODY[]<1.0>", "BODY[]<1>",
		"BODY[]<4294967296.1>", "BODY[]<1.2", "BODY.PEEK", "BODY[X]",
		"BODY[HEADER.FIELDS (A:B)]", "(FLAGS  UID)",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct imap_fetch f;
		int r;

		parse_str(bad[i]);
		r = imap_parse_fetch(&p, &f);
		if (r == 0)
			r = imap_parse_end(&p);
		ck_assert_msg(r == -1, "accepted %s", bad[i]);
		ck_assert(p.error != NULL);
		imap_fetch_free(&f);
	}
}
END_TEST

static struct imap_search *search_of(const char *text, char **charset)
{
	struct imap_search *sr;

	parse_str(text);
	if (imap_parse_search(&p, charset, &sr) < 0) {
		imap_search_free(&sr);
		return NULL;
	}
	return sr;
}

START_TEST(test_search_tree)
{
	char *charset;
	struct imap_search *sr, *k;

	sr = search_of("CHARSET UTF-8 OR (FROM alice SUBJECT \"x y\") NOT SEEN "
		       "1:3,*", &charset);
	ck_assert_ptr_nonnull(sr);
	ck_assert_str_eq(charset, "UTF-8");
	free(charset);
	ck_assert_int_eq(sr->kind, IMAP_SK_AND);
	k = sr->child;
	ck_assert_int_eq(k->kind, IMAP_SK_OR);
	ck_assert_int_eq(k->child->kind, IMAP_SK_AND);
	ck_assert_int_eq(k->child->child->kind, IMAP_SK_ADDRESS);
	ck_assert_str_eq(k->child->child->str, "From");
	ck_assert_str_eq(k->child->child->str2, "alice");
	ck_assert_str_eq(k->child->child->next->str, "Subject");
	ck_assert_str_eq(k->child->child->next->str2, "x y");
	ck_assert_int_eq(k->child->next->kind, IMAP_SK_NOT);
	ck_assert_int_eq(k->child->next->child->kind, IMAP_SK_FLAG);
	ck_assert_uint_eq(k->child->next->child->number, IMAP_FLAG_SEEN);
	k = k->next;
	ck_assert_int_eq(k->kind, IMAP_SK_SEQSET);
	ck_assert_uint_eq(k->set.n, 2);
	ck_assert_ptr_null(k->next);
	imap_search_free(&sr);
	ck_assert_ptr_null(sr);
}
END_TEST

/* Every key of RFC 3501 6.4.4 with its argument. */
START_TEST(test_search_every_key)
{
	static const struct {
		const char *text;
		enum imap_search_kind kind;
	} ok[] = {
		{ "ALL", IMAP_SK_ALL }, { "ANSWERED", IMAP_SK_FLAG },
		{ "BCC x", IMAP_SK_ADDRESS }, { "BEFORE 1-Jan-2020", IMAP_SK_BEFORE },
		{ "BODY word", IMAP_SK_BODY }, { "CC {2}\r\nab", IMAP_SK_ADDRESS },
		{ "DELETED", IMAP_SK_FLAG }, { "DRAFT", IMAP_SK_FLAG },
		{ "FLAGGED", IMAP_SK_FLAG }, { "FROM x", IMAP_SK_ADDRESS },
		{ "HEADER X-Spam yes", IMAP_SK_HEADER },
		{ "KEYWORD $Junk", IMAP_SK_KEYWORD }, { "LARGER 10", IMAP_SK_LARGER },
		{ "NEW", IMAP_SK_NEW }, { "NOT ALL", IMAP_SK_NOT },
		{ "OLD", IMAP_SK_OLD }, { "ON \"2-Mar-2021\"", IMAP_SK_ON },
		{ "OR SEEN NEW", IMAP_SK_OR }, { "RECENT", IMAP_SK_RECENT },
		{ "SEEN", IMAP_SK_FLAG }, { "SENTBEFORE 1-Jan-2020", IMAP_SK_SENTBEFORE },
		{ "SENTON 1-Jan-2020", IMAP_SK_SENTON },
		{ "SENTSINCE 1-Jan-2020", IMAP_SK_SENTSINCE },
		{ "SINCE 1-Jan-2020", IMAP_SK_SINCE }, { "SMALLER 5", IMAP_SK_SMALLER },
		{ "SUBJECT \"\"", IMAP_SK_HEADER }, { "TEXT t", IMAP_SK_TEXT },
		{ "TO x", IMAP_SK_ADDRESS }, { "UID 1:*", IMAP_SK_UID },
		{ "UNANSWERED", IMAP_SK_UNFLAG }, { "UNDELETED", IMAP_SK_UNFLAG },
		{ "UNDRAFT", IMAP_SK_UNFLAG }, { "UNFLAGGED", IMAP_SK_UNFLAG },
		{ "UNKEYWORD k", IMAP_SK_UNKEYWORD }, { "UNSEEN", IMAP_SK_UNFLAG },
		{ "5:*", IMAP_SK_SEQSET }, { "(ALL)", IMAP_SK_AND },
		{ "unseen", IMAP_SK_UNFLAG },
	};
	char *charset;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct imap_search *sr = search_of(ok[i].text, &charset);

		ck_assert_msg(sr != NULL, "refused %s: %s", ok[i].text, p.error);
		ck_assert_ptr_null(charset);
		ck_assert_msg(sr->child->kind == ok[i].kind, "kind of %s",
			      ok[i].text);
		ck_assert_ptr_null(sr->child->next);
		imap_search_free(&sr);
	}
}
END_TEST

START_TEST(test_search_invalid)
{
	static const char *const bad[] = {
		"", "FOO", "(SEEN", "(SEEN))", "OR SEEN", "NOT", "LARGER x",
		"LARGER", "BEFORE 32-Jan-2020", "SINCE yesterday", "UID 0",
		"0", "1:0", "HEADER From", "KEYWORD", "KEYWORD \"a b\"",
		"SEEN  NEW", "SEEN ", "CHARSET", "CHARSET UTF-8", "()",
		"SUBJECT \"unterminated", "UNSEENX", "4294967296",
	};
	char *charset;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct imap_search *sr = search_of(bad[i], &charset);

		ck_assert_msg(sr == NULL, "accepted %s", bad[i]);
		ck_assert(p.error != NULL);
		free(charset);
	}
}
END_TEST

START_TEST(test_search_depth)
{
	struct buf deep = BUF_INIT(BUF_UNLIMITED);
	struct imap_search *sr;
	char *charset;

	for (int i = 0; i < 70; i++)
		buf_puts(&deep, "NOT ");
	buf_puts(&deep, "ALL");
	sr = search_of(buf_cstr(&deep), &charset);
	ck_assert_ptr_null(sr);
	ck_assert_str_eq(p.error, "Search criteria nested too deep");
	buf_clear(&deep);
	for (int i = 0; i < 10000; i++)
		buf_putc(&deep, '(');
	sr = search_of(buf_cstr(&deep), &charset);
	ck_assert_ptr_null(sr);
	buf_clear(&deep);
	for (int i = 0; i < 30; i++)
		buf_puts(&deep, "(NOT ");
	buf_puts(&deep, "ALL");
	for (int i = 0; i < 30; i++)
		buf_putc(&deep, ')');
	sr = search_of(buf_cstr(&deep), &charset);
	ck_assert_ptr_nonnull(sr);
	imap_search_free(&sr);
	buf_free(&deep);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *suite = suite_create("imap-parser");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_literal_announcement);
	tcase_add_test(tc, test_collect_literals_piecewise);
	tcase_add_test(tc, test_collect_limits);
	tcase_add_test(tc, test_tag_atom);
	tcase_add_test(tc, test_quoted);
	tcase_add_test(tc, test_literal_in_parser);
	tcase_add_test(tc, test_streamed_literal);
	tcase_add_test(tc, test_streamed_literals);
	tcase_add_test(tc, test_numbers);
	tcase_add_test(tc, test_seqset);
	tcase_add_test(tc, test_mailbox);
	tcase_add_test(tc, test_dates);
	tcase_add_test(tc, test_flags);
	tcase_add_test(tc, test_fetch_section);
	tcase_add_test(tc, test_fetch_macros);
	tcase_add_test(tc, test_fetch_invalid);
	tcase_add_test(tc, test_search_tree);
	tcase_add_test(tc, test_search_every_key);
	tcase_add_test(tc, test_search_invalid);
	tcase_add_test(tc, test_search_depth);
	suite_add_tcase(suite, tc);
	return suite;
}
