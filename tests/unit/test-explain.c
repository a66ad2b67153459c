/* The explanation tables cover every command and reply the servers can
 * send: the replies are pulled out of the protocol sources themselves
 * (smtp_reply calls and "NNN X.Y.Z" literals, POP3 response codes, IMAP
 * response codes, untagged data and results, the command tables), so a
 * reply added later fails here until its explanation is written.  Then the
 * walkers: states, pipelining, elided message data. */
#include <glob.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/explain.h"
#include "imapd/explain.h"
#include "pop3d/explain.h"
#include "smtpd/explain.h"
#include "tests/unit/unit.h"

/* --- reading the sources --- */

/* The file with comments blanked out (string literals kept). */
static char *read_code(const char *path)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);
	char chunk[8192];
	size_t n;
	FILE *f = fopen(path, "r");

	ck_assert_msg(f != NULL, "cannot read %s (run from the source tree)", path);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	for (char *p = b.data, *end = b.data + b.len; p < end; p++) {
		if (*p == '"' || *p == '\'') {
			char q = *p;

			for (p++; p < end && *p != q; p++)
				if (*p == '\\')
					p++;
		} else if (p[0] == '/' && p + 1 < end && p[1] == '*') {
			for (; p + 1 < end && !(p[0] == '*' && p[1] == '/'); p++)
				*p = ' ';
			p[0] = ' ';
			if (p + 1 < end)
				p[1] = ' ';
		} else if (p[0] == '/' && p + 1 < end && p[1] == '/') {
			for (; p < end && *p != '\n'; p++)
				*p = ' ';
		}
	}
	return buf_steal(&b);
}

/* Each string literal of code, NUL-separated, ending with an empty one. */
static char *literals_of(const char *code)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);

	for (const char *p = code; *p != '\0'; p++) {
		if (*p == '\'') {
			for (p++; *p != '\0' && *p != '\''; p++)
				if (*p == '\\')
					p++;
		} else if (*p == '"') {
			for (p++; *p != '\0' && *p != '"'; p++) {
				if (*p == '\\')
					buf_putc(&b, *p++);
				buf_putc(&b, *p);
			}
			buf_putc(&b, '\0');
		}
	}
	buf_append(&b, "\0", 1);
	return buf_steal(&b);
}

struct keys {
	char *v[512];
	size_t n;
};

static void add_key(struct keys *k, const char *key)
{
	for (size_t i = 0; i < k->n; i++)
		if (strcmp(k->v[i], key) == 0)
			return;
	ck_assert_uint_lt(k->n, 512);
	k->v[k->n++] = strdup(key);
}

/* Applies `re` to text; for each match the key is printf(fmt, group a,
 * group b) (a missing group is ""), trailing spaces cut. */
static void match_all(const char *text, const char *re, const char *fmt,
		      int a, int b, struct keys *k)
{
	regex_t rx;
	regmatch_t m[4];
	const char *p = text;

	ck_assert_int_eq(regcomp(&rx, re, REG_EXTENDED), 0);
	while (regexec(&rx, p, 4, m, p == text ? 0 : REG_NOTBOL) == 0) {
		char ga[64] = "", gb[64] = "", key[160];
		size_t n;

		if (m[a].rm_so >= 0)
			snprintf(ga, sizeof(ga), "%.*s", (int)(m[a].rm_eo - m[a].rm_so),
				 p + m[a].rm_so);
		if (b > 0 && m[b].rm_so >= 0)
			snprintf(gb, sizeof(gb), "%.*s", (int)(m[b].rm_eo - m[b].rm_so),
				 p + m[b].rm_so);
		snprintf(key, sizeof(key), fmt, ga, gb);
		n = strlen(key);
		while (n > 0 && key[n - 1] == ' ')
			key[--n] = '\0';
		add_key(k, key);
		p += m[0].rm_eo > 0 ? m[0].rm_eo : 1;
	}
	regfree(&rx);
}

struct rule {
	const char *re;
	const char *fmt;
	int a, b;
	bool in_literals;	/* applied to each string literal on its own */
};

/* Collects the keys of `rules` from every file matching pattern but the
 * explain table itself. */
static void collect(const char *pattern, const struct rule *rules,
		    size_t n_rules, struct keys *k)
{
	glob_t g;

	ck_assert_int_eq(glob(pattern, 0, NULL, &g), 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		char *code, *lits;

		if (strstr(g.gl_pathv[i], "explain.c") != NULL)
			continue;
		code = read_code(g.gl_pathv[i]);
		lits = literals_of(code);
		for (size_t r = 0; r < n_rules; r++) {
			if (!rules[r].in_literals) {
				match_all(code, rules[r].re, rules[r].fmt, rules[r].a,
					  rules[r].b, k);
				continue;
			}
			for (const char *l = lits; *l != '\0'; l += strlen(l) + 1)
				match_all(l, rules[r].re, rules[r].fmt, rules[r].a,
					  rules[r].b, k);
		}
		free(lits);
		free(code);
	}
	globfree(&g);
}

static void check_covered(const struct explainer *ex, struct keys *k,
			  size_t at_least)
{
	struct buf missing = BUF_INIT(BUF_UNLIMITED);

	ck_assert_msg(k->n >= at_least, "%s: only %zu replies found in the "
		      "sources: has the code moved?", ex->protocol, k->n);
	for (size_t i = 0; i < k->n; i++) {
		if (explain_find(ex, k->v[i]) == NULL)
			buf_printf(&missing, " \"%s\"", k->v[i]);
		free(k->v[i]);
	}
	ck_assert_msg(missing.len == 0, "%sd/explain.c has no row for:%s",
		      ex->protocol, buf_cstr(&missing));
	buf_free(&missing);
}

#define ESC "([0-9]\\.[0-9]{1,3}\\.[0-9]{1,3})"

START_TEST(test_every_smtp_reply_is_explained)
{
	static const struct rule rules[] = {
		{ "smtp_reply\\([^,]+,[ \t\n]*([0-9]{3}),[ \t\n]*(\"" ESC "\"|NULL)",
		  "%s %s", 1, 3, false },
		{ "^([2-5][0-9]{2})([ -]|%c|$)" ESC "?", "%s %s", 1, 3, true },
		{ "smtp_close\\([^,]+,[ \t\n]*\"" ESC "\"", "421 %s", 1, 0, false },
		{ "\\{[ \t]*\"([A-Z]+)\",[ \t]*smtp_cmd_", "%s", 1, 0, false },
	};
	/* the extensions EHLO lists, one a line */
	static const struct rule ehlo[] = {
		{ "^250[- ]([A-Z][A-Z0-9-]*)", "EHLO %s", 1, 0, true },
	};
	struct keys k = { .n = 0 };

	collect("smtpd/*.c", rules, sizeof(rules) / sizeof(rules[0]), &k);
	collect("smtpd/cmd-ehlo.c", ehlo, 1, &k);
	check_covered(&smtp_explainer, &k, 50);
}
END_TEST

START_TEST(test_every_pop3_reply_is_explained)
{
	static const struct rule rules[] = {
		{ "pop3_err\\([^,]+,[ \t\n]*\"([A-Z/-]+)\"", "[%s]", 1, 0, false },
		{ "^\\[([A-Z][A-Z/-]*)\\]", "[%s]", 1, 0, true },
		{ "(pop3_ok)\\(", "+OK", 1, 0, false },
		{ "(pop3_err|pop3_bad)\\(", "-ERR", 1, 0, false },
		{ "^(\\+OK|-ERR|\\+)( |$)", "%s", 1, 0, true },
		{ "\\{[ \t]*\"([A-Z]+)\",[ \t]*pop3_cmd_", "%s", 1, 0, false },
	};
	/* the CAPA list: "TOP\r\nUIDL\r\n" */
	static const struct rule capa[] = {
		{ "(^|\\\\n)([A-Z][A-Z-]+)( |\\\\r)", "CAPA %s", 2, 0, true },
	};
	struct keys k = { .n = 0 };

	collect("pop3d/*.c", rules, sizeof(rules) / sizeof(rules[0]), &k);
	collect("pop3d/capa.c", capa, 1, &k);
	check_covered(&pop3_explainer, &k, 25);
}
END_TEST

START_TEST(test_every_imap_reply_is_explained)
{
	static const struct rule rules[] = {
		/* response codes, wherever a literal holds one */
		{ "(^| )\\[([A-Z][A-Z0-9-]+)[] ]", "[%s]", 2, 0, true },
		{ "code = \"([A-Z][A-Z0-9-]+)\"", "[%s]", 1, 0, false },
		/* untagged data and status */
		{ "imap_untagged\\([^,]+,[ \t\n]*\"(%[a-z]+ )?([A-Z]+)", "* %s", 2, 0, false },
		{ "^\\* (%[a-z]+ )?([A-Z]+)", "* %s", 2, 0, true },
		{ "write_list\\([^,]+,[ \t\n]*\"([A-Z]+)\"", "* %s", 1, 0, false },
		/* tagged results and continuation requests */
		{ "imap_cmd_(ok|no|bad)\\(", "%s", 1, 0, false },
		{ "^(OK|NO|BAD) ", "%s", 1, 0, true },
		{ "^(\\+) ", "%s", 1, 0, true },
		{ "\\{[ \t]*\"([A-Z]+)\",[ \t]*cmd_", "%s", 1, 0, false },
	};
	struct keys k = { .n = 0 };

	collect("imapd/*.c", rules, sizeof(rules) / sizeof(rules[0]), &k);
	check_covered(&imap_explainer, &k, 50);
}
END_TEST

/* --- the walkers --- */

struct step {
	enum explain_who who;
	const char *line;
	const char *state_after;	/* NULL: not checked */
	const char *first_row;		/* key of the first row, NULL: none */
	bool body;
};

static void walk(const struct explainer *ex, const struct step *steps,
		 size_t n)
{
	struct explain_session es;

	memset(&es, 0, sizeof(es));
	es.ex = ex;
	for (size_t i = 0; i < n; i++) {
		struct explain_line out;

		explain_feed(&es, steps[i].who, steps[i].line, &out);
		if (steps[i].first_row == NULL)
			ck_assert_msg(out.n_rows == 0, "%s: rows for %s", ex->protocol,
				      steps[i].line);
		else
			ck_assert_msg(out.n_rows > 0 &&
				      strcmp(out.rows[0]->key, steps[i].first_row) == 0,
				      "%s: %s explained by %s, not %s", ex->protocol,
				      steps[i].line, out.n_rows ? out.rows[0]->key : "nothing",
				      steps[i].first_row);
		ck_assert_msg(out.body == steps[i].body, "%s: body flag of %s",
			      ex->protocol, steps[i].line);
		if (steps[i].state_after != NULL)
			ck_assert_str_eq(ex->state_name(&es), steps[i].state_after);
	}
}

#define C EXPLAIN_CLIENT
#define S EXPLAIN_SERVER
#define E EXPLAIN_EVENT

START_TEST(test_smtp_walk)
{
	static const struct step steps[] = {
		{ S, "220 mx ESMTP maillab", "INIT", "220", false },
		{ C, "EHLO client", NULL, "EHLO", false },
		{ S, "250-mx Hello", "INIT", "250", false },
		{ S, "250-SIZE 1000", "INIT", "EHLO SIZE", false },
		{ S, "250 HELP", "READY", "EHLO HELP", false },
		/* pipelined (RFC 2920): replies in order */
		{ C, "MAIL FROM:<a@b>", NULL, "MAIL", false },
		{ C, "RCPT TO:<c@d>", NULL, "RCPT", false },
		{ C, "DATA", NULL, "DATA", false },
		{ S, "250 2.1.0 Sender OK", "MAIL", "250 2.1.0", false },
		{ S, "250 2.1.5 Recipient OK", "RCPT", "250 2.1.5", false },
		{ S, "354 End data with <CR><LF>.<CR><LF>", "DATA", "354", false },
		{ E, "C: <message body, 28 bytes>", "DATA", "message body", false },
		{ S, "250 2.0.0 Message accepted", "READY", "250 2.0.0", false },
		{ C, "RCPT TO:<x@y>", NULL, "RCPT", false },
		{ S, "503 5.5.1 Bad sequence of commands", "READY", "503 5.5.1", false },
		{ C, "AUTH LOGIN", NULL, "AUTH", false },
		{ S, "334 VXNlcm5hbWU6", "READY", "334", false },
		{ C, "<redacted>", NULL, "SASL response", false },
		{ S, "535 5.7.8 Authentication credentials invalid", "READY",
		  "535 5.7.8", false },
		{ C, "FOO", NULL, "unknown command", false },
		{ S, "502 5.5.2 Command unrecognized", "READY", "502 5.5.2", false },
		{ C, "QUIT", NULL, "QUIT", false },
		{ S, "221 2.0.0 Bye", "CLOSING", "221 2.0.0", false },
	};

	walk(&smtp_explainer, steps, sizeof(steps) / sizeof(steps[0]));
}
END_TEST

START_TEST(test_pop3_walk)
{
	static const struct step steps[] = {
		{ S, "+OK ready", "AUTHORIZATION", "greeting", false },
		{ C, "USER bob", NULL, "USER", false },
		{ S, "+OK send your password", "AUTHORIZATION", "USER +OK", false },
		{ C, "PASS <redacted>", NULL, "PASS", false },
		{ E, "auth ok user=bob", NULL, "auth ok", false },
		{ S, "-ERR [IN-USE] maildrop is locked", "AUTHORIZATION", "-ERR", false },
		{ C, "PASS <redacted>", NULL, "PASS", false },
		{ S, "+OK bob has 1 messages", "TRANSACTION", "PASS +OK", false },
		{ C, "LIST", NULL, "LIST", false },
		{ S, "+OK 1 messages", NULL, "LIST +OK", false },
		{ S, "1 120", NULL, NULL, false },
		{ S, ".", NULL, ".", false },
		{ C, "LIST 1", NULL, "LIST", false },
		{ S, "+OK 1 120", NULL, "LIST +OK", false },
		{ C, "RETR 1", NULL, "RETR", false },
		{ S, "+OK 120 octets", NULL, "RETR +OK", false },
		{ S, "Subject: hi", NULL, NULL, true },
		{ S, "", NULL, NULL, true },
		{ S, "..dot", NULL, NULL, true },
		{ S, ".", "TRANSACTION", ".", false },
		{ C, "QUIT", NULL, "QUIT", false },
		{ S, "+OK bye", "UPDATE", "QUIT +OK", false },
	};

	walk(&pop3_explainer, steps, sizeof(steps) / sizeof(steps[0]));
}
END_TEST

START_TEST(test_imap_walk)
{
	static const struct step steps[] = {
		{ S, "* OK [CAPABILITY IMAP4rev1] ready", "NOT AUTHENTICATED",
		  "greeting", false },
		{ C, "a1 LOGIN bob <redacted>", NULL, "LOGIN", false },
		{ S, "a1 OK [CAPABILITY IMAP4rev1] Logged in", "AUTHENTICATED", "OK",
		  false },
		{ C, "a2 SELECT INBOX", NULL, "SELECT", false },
		{ S, "* 2 EXISTS", NULL, "* EXISTS", false },
		{ S, "* OK [UIDVALIDITY 7] UIDs valid", NULL, "* OK", false },
		{ S, "a2 OK [READ-WRITE] SELECT completed", "SELECTED", "OK", false },
		{ C, "a3 UID FETCH 1 BODY[]", NULL, "UID", false },
		/* "Hi\r\n\\x\r\n" is 8 octets: the trace's "\\\\x" stands
		 * for 2 */
		{ S, "* 1 FETCH (UID 1 BODY[] {8}", NULL, "* FETCH", false },
		{ S, "Hi", NULL, NULL, true },
		{ S, "\\\\x", NULL, NULL, true },
		{ S, ")", NULL, NULL, false },
		{ S, "a3 OK FETCH completed", "SELECTED", "OK", false },
		{ C, "a4 APPEND Sent {5}", NULL, "APPEND", false },
		{ S, "+ Ready for literal data", NULL, "+", false },
		{ E, "C: <5 bytes of literal data>", NULL, "literal data", false },
		{ C, "", NULL, "literal continued", false },
		{ S, "a4 OK [APPENDUID 7 3] APPEND completed", NULL, "OK", false },
		{ C, "a5 SELECT Nope", NULL, "SELECT", false },
		{ S, "a5 NO [NONEXISTENT] no such mailbox", "AUTHENTICATED", "NO", false },
		{ C, "a6 LOGOUT", NULL, "LOGOUT", false },
		{ S, "* BYE Logging out", "LOGOUT", "* BYE", false },
		{ S, "a6 OK LOGOUT completed", "LOGOUT", "OK", false },
	};

	walk(&imap_explainer, steps, sizeof(steps) / sizeof(steps[0]));
}
END_TEST

START_TEST(test_raw_len)
{
	ck_assert_uint_eq(explain_raw_len("abc"), 3);
	ck_assert_uint_eq(explain_raw_len("\\x09by"), 3);
	ck_assert_uint_eq(explain_raw_len("\\\\Seen"), 5);
	ck_assert_uint_eq(explain_raw_len("a\\r"), 2);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("explain");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_every_smtp_reply_is_explained);
	tcase_add_test(tc, test_every_pop3_reply_is_explained);
	tcase_add_test(tc, test_every_imap_reply_is_explained);
	tcase_add_test(tc, test_smtp_walk);
	tcase_add_test(tc, test_pop3_walk);
	tcase_add_test(tc, test_imap_walk);
	tcase_add_test(tc, test_raw_len);
	suite_add_tcase(s, tc);
	return s;
}
