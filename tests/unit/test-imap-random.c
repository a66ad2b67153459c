/* Random commands built from IMAP tokens (valid and broken: bad sets,
 * unbalanced parentheses, unterminated strings, literals) against a
 * logged-in session with messages: every command gets exactly one tagged
 * reply and the session keeps working.  Run under `make SAN=1` for memory
 * errors.  The generator is seeded, so a failure repeats. */
#include "tests/unit/imap-client.h"

static struct instance inst;
static struct client c;
static uint64_t rng = 88172645463325252ull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static void feed_str(const char *s)
{
	client_feed(&c, s, strlen(s));
}

static void start_session(void)
{
	if (c.sess != NULL)
		client_close(&c);
	client_open(&c, &inst);
	feed_str("l LOGIN alice secret\r\n");
	ck_assert_msg(strstr(buf_cstr(&c.io.out), "l OK") != NULL, "%s",
		      buf_cstr(&c.io.out));
	feed_str("a APPEND INBOX (\\Seen) {56}\r\nSubject: one\r\nContent-Type: "
		 "multipart/mixed; b=x\r\n\r\nbody\r\n");
	feed_str("b APPEND INBOX {27}\r\nFrom: x@y\r\n\r\nsecond body\r\n");
	feed_str("c CREATE Other\r\nd SELECT INBOX\r\n");
	buf_clear(&c.io.out);
}

static void setup(void)
{
	instance_create(&inst);
	inst.cfg.max_imap_line = 4096;
	inst.cfg.max_literal_size = 4096;
	inst.cfg.max_errors = 0;
	inst.cfg.auth_fail_delay_ms = 0;
	memset(&c, 0, sizeof(c));
	start_session();
}

static void teardown(void)
{
	instance_stop(&inst, &c);
}

static const char *const sets[] = {
	"1", "2", "1:*", "*", "*:1", "2,1", "1:3", "0", "4294967296", "1:",
	"3:*", "1,,2",
};
static const char *const boxes[] = {
	"INBOX", "inbox", "Other", "Other/Sub", "\"\"", "\"a b\"", "&Jjo-",
	"&Jjo", "New", "\"x..y\"", "{5}\r\nOther", "Trash",
};
static const char *const fetch_atts[] = {
	"FLAGS", "(UID FLAGS RFC822.SIZE)", "ALL", "FULL", "FAST", "ENVELOPE",
	"BODYSTRUCTURE", "BODY", "RFC822", "RFC822.HEADER", "RFC822.TEXT",
	"BODY[]", "BODY.PEEK[1]", "BODY[1.2.HEADER.FIELDS (From To)]<0.10>",
	"BODY[TEXT]<4294967295.10>", "BODY[99.99]", "BODY[1.MIME]",
	"BODY.PEEK[HEADER.FIELDS.NOT (X)]", "(BODY[HEADER] INTERNALDATE)",
	"BODY[HEADER.FIELDS (From", "(FLAGS", "INTERNALDATE)",
};
static const char *const search_keys[] = {
	"ALL", "SEEN", "UNSEEN", "OR SEEN NEW", "NOT DELETED", "1:*",
	"UID 1:*", "BEFORE 1-Jan-2030", "SINCE 32-Jan-2020", "SENTON 1-Jan-2026",
	"HEADER Subject one", "TEXT body", "BODY {4}\r\nbody", "LARGER 10",
	"SMALLER x", "KEYWORD $kw", "(OR (SEEN) (UNSEEN) RECENT)",
	"CHARSET UTF-8 SUBJECT one", "CHARSET KOI8-R ALL", "(SEEN", "OR SEEN",
};
static const char *const flag_lists[] = {
	"(\\Seen)", "(\\Deleted $kw)", "()", "(\\Recent)", "\\Flagged",
	"(\\Seen", "(kw1 kw2 kw3)",
};
static const char *const store_items[] = {
	"FLAGS", "+FLAGS", "-FLAGS.SILENT", "+FLAGS.SILENT", "BOGUS",
};
static const char *const junk[] = {
	"(", ")", "\"", "\\", "{", "}", "{3}\r\nabc", "{2+}\r\nab", "*", "%",
	"]", " ", "\t", "\x80", "NIL",
};

#define PICK(a) a[rnd(sizeof(a) / sizeof(a[0]))]

/* One command: a well-formed shape with random arguments, sometimes
 * mutated; literal announcements always carry their bytes. */
static void random_command(struct buf *wire, unsigned int n)
{
	struct buf cmd = BUF_INIT(BUF_UNLIMITED);

	switch (rnd(22)) {
	case 0: buf_printf(&cmd, "FETCH %s %s", PICK(sets), PICK(fetch_atts)); break;
	case 1: buf_printf(&cmd, "UID FETCH %s %s", PICK(sets), PICK(fetch_atts)); break;
	case 2: buf_printf(&cmd, "STORE %s %s %s", PICK(sets), PICK(store_items),
			   PICK(flag_lists)); break;
	case 3: buf_printf(&cmd, "UID STORE %s %s %s", PICK(sets),
			   PICK(store_items), PICK(flag_lists)); break;
	case 4: buf_printf(&cmd, "SEARCH %s", PICK(search_keys)); break;
	case 5: buf_printf(&cmd, "UID SEARCH %s %s", PICK(search_keys),
			   PICK(search_keys)); break;
	case 6: buf_printf(&cmd, "COPY %s %s", PICK(sets), PICK(boxes)); break;
	case 7: buf_printf(&cmd, "SELECT %s", PICK(boxes)); break;
	case 8: buf_printf(&cmd, "EXAMINE %s", PICK(boxes)); break;
	case 9: buf_printf(&cmd, "STATUS %s (MESSAGES UNSEEN UIDNEXT)", PICK(boxes)); break;
	case 10: buf_printf(&cmd, "LIST \"\" %s", rnd(2) ? "*" : "%"); break;
	case 11: buf_printf(&cmd, "LSUB \"\" %s", rnd(2) ? "*" : "O%"); break;
	case 12: buf_printf(&cmd, "CREATE %s", PICK(boxes)); break;
	case 13: buf_printf(&cmd, "DELETE %s", PICK(boxes)); break;
	case 14: buf_printf(&cmd, "RENAME %s %s", PICK(boxes), PICK(boxes)); break;
	case 15: buf_printf(&cmd, "SUBSCRIBE %s", PICK(boxes)); break;
	case 16: buf_printf(&cmd, "APPEND %s %s {%u}\r\nSubject: r\r\n\r\nx", PICK(boxes),
			    PICK(flag_lists), 15u); break;
	case 17: buf_puts(&cmd, "EXPUNGE"); break;
	case 18: buf_puts(&cmd, rnd(2) ? "CHECK" : "NOOP"); break;
	case 19: buf_puts(&cmd, rnd(4) ? "CAPABILITY" : "CLOSE"); break;
	case 20: buf_printf(&cmd, "UID COPY %s %s", PICK(sets), PICK(boxes)); break;
	default: buf_printf(&cmd, "%s %s", PICK(junk), PICK(junk)); break;
	}
	/* a quarter of them broken: a junk token put somewhere, or the
	 * command cut short (not inside a literal's bytes) */
	if (rnd(4) == 0 && cmd.len > 0) {
		size_t at = rnd((uint32_t)cmd.len);
		const char *j = PICK(junk);

		if (memchr(cmd.data, '{', at) == NULL) {
			if (rnd(2))
				buf_truncate(&cmd, at);
			else {
				struct buf m = BUF_INIT(BUF_UNLIMITED);

				buf_append(&m, cmd.data, at);
				buf_puts(&m, j);
				buf_append(&m, cmd.data + at, cmd.len - at);
				buf_free(&cmd);
				cmd = m;
			}
		}
	}
	buf_printf(wire, "r%u ", n);
	buf_append(wire, cmd.data, cmd.len);
	buf_puts(wire, "\r\n");
	buf_free(&cmd);
}

/* A line of out starts with tag. */
static bool tagged_reply(const char *out, const char *tag)
{
	size_t n = strlen(tag);

	if (strncmp(out, tag, n) == 0)
		return true;
	for (const char *p = strstr(out, "\r\n"); p != NULL;
	     p = strstr(p + 2, "\r\n"))
		if (strncmp(p + 2, tag, n) == 0)
			return true;
	return false;
}

START_TEST(test_random_commands)
{
	struct buf wire = BUF_INIT(BUF_UNLIMITED);
	char tag[32];

	for (unsigned int n = 0; n < 3000; n++) {
		buf_clear(&wire);
		random_command(&wire, n);
		buf_clear(&c.io.out);
		client_feed(&c, wire.data, wire.len);
		if (c.io.mode == INPUT_BYTES ||
		    imap_protocol.trace_visible(c.sess, "x", 1) == 0) {
			/* left waiting for a literal or a SASL response:
			 * end the command ("*" cancels a SASL exchange) */
			feed_str(c.io.mode == INPUT_BYTES ? "\r\n\r\n" : "*\r\n");
		}
		/* the command ends with exactly one tagged reply (or the
		 * session ended it with BYE) */
		snprintf(tag, sizeof(tag), "r%u ", n);
		if (c.io.close) {
			ck_assert_msg(strstr(buf_cstr(&c.io.out), "* BYE") != NULL,
				      "closed without BYE: %s", wire.data);
			start_session();
			continue;
		}
		ck_assert_msg(tagged_reply(buf_cstr(&c.io.out), tag),
			      "no reply to %s\ngot: %s", wire.data,
			      buf_cstr(&c.io.out));
		ck_assert_int_eq(c.io.mode, INPUT_LINE);
	}
	/* and it still works */
	buf_clear(&c.io.out);
	feed_str("z NOOP\r\n");
	ck_assert_msg(strstr(buf_cstr(&c.io.out), "z OK") != NULL, "%s",
		      buf_cstr(&c.io.out));
	buf_free(&wire);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *suite = suite_create("imap-random");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_random_commands);
	suite_add_tcase(suite, tc);
	return suite;
}
