/* Messages beyond the MIME parser's caps (MSG_MAX_DEPTH nesting,
 * MSG_MAX_PARTS parts; issue 10): SEARCH BODY/TEXT still finds the text
 * left unparsed, and BODYSTRUCTURE stays a valid RFC 3501 7.4.2 body
 * (the capped part an opaque application/octet-stream leaf). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "imapd/bodystruct.h"
#include "imapd/search.h"
#include "maildir/mailbox.h"
#include "maildir/message.h"
#include "tests/unit/maildir-helpers.h"

/* ---- a checker for the body grammar of RFC 3501 section 9 ---- */

struct lexer {
	const char *p;
	bool bad;
};

static void skip_sp(struct lexer *l)
{
	if (*l->p == ' ')
		l->p++;
}

/* string / NIL / number: true and past it; false when not one */
static bool scalar(struct lexer *l, char *word, size_t wlen)
{
	size_t n = 0;

	skip_sp(l);
	if (*l->p == '"') {
		for (l->p++; *l->p != '"'; l->p++) {
			if (*l->p == '\0' || *l->p == '\r' || *l->p == '\n')
				return l->bad = true, false;
			if (*l->p == '\\')
				l->p++;
			if (n + 1 < wlen)
				word[n++] = (char)tolower((unsigned char)*l->p);
		}
		l->p++;
	} else if (isalnum((unsigned char)*l->p)) {
		while (isalnum((unsigned char)*l->p)) {
			if (n + 1 < wlen)
				word[n++] = (char)tolower((unsigned char)*l->p);
			l->p++;
		}
	} else {
		return false;
	}
	if (wlen > 0)
		word[n] = '\0';
	return true;
}

static bool is_number(const char *w)
{
	if (*w == '\0')
		return false;
	for (; *w != '\0'; w++)
		if (!isdigit((unsigned char)*w))
			return false;
	return true;
}

/* any parenthesized list or scalar (extension data, params, envelope) */
static bool any(struct lexer *l)
{
	char w[8];

	skip_sp(l);
	if (*l->p != '(')
		return scalar(l, w, sizeof(w));
	l->p++;
	while (*l->p != ')' && !l->bad) {
		if (!any(l))
			return l->bad = true, false;
	}
	l->p++;
	return true;
}

static bool body(struct lexer *l);

/* body-type-1part after its '(' */
static bool one_part(struct lexer *l)
{
	char type[32], sub[32], w[32];

	if (!scalar(l, type, sizeof(type)) || !scalar(l, sub, sizeof(sub)))
		return false;
	if (strcmp(type, "multipart") == 0 || strcmp(type, "nil") == 0)
		return false;	/* a multipart must be a list of bodies */
	/* params, id, description, encoding, size */
	if (!any(l) || !scalar(l, w, sizeof(w)) || !scalar(l, w, sizeof(w)) ||
	    !scalar(l, w, sizeof(w)) || !scalar(l, w, sizeof(w)) ||
	    !is_number(w))
		return false;
	if (strcmp(type, "message") == 0 && strcmp(sub, "rfc822") == 0) {
		skip_sp(l);
		if (*l->p != '(' || !any(l) || !body(l) ||
		    !scalar(l, w, sizeof(w)) || !is_number(w))
			return false;
	} else if (strcmp(type, "text") == 0) {
		if (!scalar(l, w, sizeof(w)) || !is_number(w))
			return false;
	}
	while (*l->p == ' ')
		if (!any(l))
			return false;
	return *l->p == ')';
}

static bool body(struct lexer *l)
{
	char w[32];
	int n = 0;

	skip_sp(l);
	if (*l->p != '(')
		return false;
	l->p++;
	if (*l->p != '(') {
		if (!one_part(l))
			return false;
		l->p++;
		return true;
	}
	while (*l->p == '(') {
		if (!body(l))
			return false;
		n++;
	}
	if (n == 0 || !scalar(l, w, sizeof(w)))	/* media-subtype */
		return false;
	while (*l->p == ' ')
		if (!any(l))
			return false;
	if (*l->p != ')')
		return false;
	l->p++;
	return true;
}

static bool valid_body(const char *s)
{
	struct lexer l = { s, false };

	return body(&l) && !l.bad && *l.p == '\0';
}

/* ---- messages past the caps ---- */

/* `levels` nested multiparts, or message/rfc822 parts with `rfc822`; the
 * innermost text says `needle`.  No boundary is a prefix of another (a
 * delimiter line is recognised by prefix). */
static char *deep_message(int levels, bool rfc822, const char *needle)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);
	int i;

	buf_puts(&b, "Subject: deep\r\nMIME-Version: 1.0\r\n");
	for (i = 0; i < levels; i++) {
		if (rfc822)
			buf_printf(&b, "Content-Type: message/rfc822\r\n\r\n"
				   "Subject: level %d\r\n", i);
		else
			buf_printf(&b, "Content-Type: multipart/mixed; "
				   "boundary=\"=_%d_=\"\r\n\r\n--=_%d_=\r\n",
				   i, i);
	}
	buf_printf(&b, "Content-Type: text/plain\r\n\r\nthe %s is here\r\n",
		   needle);
	for (i = levels - 1; !rfc822 && i >= 0; i--)
		buf_printf(&b, "--=_%d_=--\r\n", i);
	return buf_steal(&b);
}

/* One multipart of `n` text parts; part `at` (1-based) says `needle`. */
static char *wide_message(int n, int at, const char *needle)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);

	buf_puts(&b, "Subject: wide\r\nMIME-Version: 1.0\r\n"
		 "Content-Type: multipart/mixed; boundary=\"w\"\r\n\r\n");
	for (int i = 1; i <= n; i++)
		buf_printf(&b, "--w\r\nContent-Type: text/plain\r\n\r\n"
			   "part %d %s\r\n", i, i == at ? needle : "filler");
	buf_puts(&b, "--w--\r\n");
	return buf_steal(&b);
}

static const char *bodystructure(const char *text, bool extended)
{
	static struct buf out = BUF_INIT(BUF_UNLIMITED);
	struct msg_parse *p = msg_parse(text, strlen(text));

	buf_clear(&out);
	imap_write_bodystructure(&out, p, extended);
	msg_parse_free(&p);
	return buf_cstr(&out);
}

START_TEST(test_checker)
{
	/* the checker itself refuses what is not a body */
	ck_assert(valid_body("(\"text\" \"plain\" NIL NIL NIL \"7bit\" 3 1)"));
	ck_assert(valid_body("((\"text\" \"plain\" NIL NIL NIL \"7bit\" 3 1) \"mixed\")"));
	ck_assert(!valid_body("(\"multipart\" \"mixed\" NIL NIL NIL \"7bit\" 3)"));
	ck_assert(!valid_body("(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 3)"));
	ck_assert(!valid_body("(\"text\" \"plain\" NIL NIL NIL \"7bit\" 3"));
	ck_assert(!valid_body("(\"text\" \"plain\" NIL NIL NIL \"7bit\" 3))"));
}
END_TEST

START_TEST(test_bodystructure_past_depth)
{
	for (int rfc822 = 0; rfc822 < 2; rfc822++) {
		char *m = deep_message(MSG_MAX_DEPTH + 8, rfc822, "x");

		for (int ext = 0; ext < 2; ext++) {
			const char *bs = bodystructure(m, ext);

			ck_assert_msg(valid_body(bs), "%s", bs);
			ck_assert_ptr_nonnull(strstr(bs,
				"(\"application\" \"octet-stream\" NIL NIL NIL \"7bit\" "));
		}
		free(m);
		/* below the cap nothing is opaque */
		m = deep_message(MSG_MAX_DEPTH - 4, rfc822, "x");
		ck_assert(valid_body(bodystructure(m, true)));
		ck_assert_ptr_null(strstr(bodystructure(m, true), "octet-stream"));
		free(m);
	}
}
END_TEST

START_TEST(test_bodystructure_past_parts)
{
	char *m = wide_message(MSG_MAX_PARTS + 200, 1, "x");
	const char *bs = bodystructure(m, true);

	ck_assert_msg(valid_body(bs), "%.300s", bs);
	free(m);
}
END_TEST

/* ---- SEARCH through a real mailbox ---- */

static char mail[1024];
static char *root;
static struct maildir_store *store;
static struct maildir_box *box;

static void setup(void)
{
	root = mk_root(mail, sizeof(mail));
}

static void teardown(void)
{
	maildir_box_close(&box);
	maildir_store_close(&store);
	unit_rmtree(root);
	free(root);
}

static void open_inbox(void)
{
	char err[256];

	ck_assert_msg(maildir_store_open(mail, "alice", &store, err,
					 sizeof(err)) == 0, "%s", err);
	ck_assert_msg(maildir_box_open(store, "INBOX", 0, &box, err,
				       sizeof(err)) == 0, "%s", err);
}

/* The messages (1-based, as a bit mask) where `kind` matches `needle`. */
static unsigned search(enum imap_search_kind kind, const char *needle)
{
	struct imap_search *k = xcalloc(1, sizeof(*k));
	unsigned hits = 0;

	k->kind = kind;
	k->str = xstrdup(needle);
	imap_search_prepare(k);
	for (size_t i = 0; i < maildir_box_count(box); i++)
		if (imap_search_match(k, box, i))
			hits |= 1u << (i + 1);
	imap_search_free(&k);
	return hits;
}

START_TEST(test_search_past_caps)
{
	char *deep = deep_message(MSG_MAX_DEPTH + 8, false, "DeepNeedle");
	char *deep822 = deep_message(MSG_MAX_DEPTH + 8, true, "RfcNeedle");
	char *wide = wide_message(MSG_MAX_PARTS + 500, MSG_MAX_PARTS + 201,
				  "LateNeedle");
	char *early = wide_message(20, 3, "EarlyNeedle");

	ck_assert_int_eq(deliver_text(mail, "alice", NULL, deep), 0);
	ck_assert_int_eq(deliver_text(mail, "alice", NULL, deep822), 0);
	ck_assert_int_eq(deliver_text(mail, "alice", NULL, wide), 0);
	ck_assert_int_eq(deliver_text(mail, "alice", NULL, early), 0);
	open_inbox();
	ck_assert_uint_eq(maildir_box_count(box), 4);
	ck_assert_uint_eq(search(IMAP_SK_BODY, "deepneedle"), 1u << 1);
	ck_assert_uint_eq(search(IMAP_SK_TEXT, "DEEPNEEDLE"), 1u << 1);
	ck_assert_uint_eq(search(IMAP_SK_BODY, "rfcneedle"), 1u << 2);
	ck_assert_uint_eq(search(IMAP_SK_BODY, "LateNeedle"), 1u << 3);
	ck_assert_uint_eq(search(IMAP_SK_TEXT, "lateneedle"), 1u << 3);
	ck_assert_uint_eq(search(IMAP_SK_BODY, "earlyneedle"), 1u << 4);
	ck_assert_uint_eq(search(IMAP_SK_BODY, "nowhere"), 0);
	free(deep);
	free(deep822);
	free(wide);
	free(early);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("imap-caps");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_checker);
	tcase_add_test(tc, test_bodystructure_past_depth);
	tcase_add_test(tc, test_bodystructure_past_parts);
	tcase_add_test(tc, test_search_past_caps);
	suite_add_tcase(s, tc);
	return s;
}
