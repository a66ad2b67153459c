/* RFC 5256: base subject extraction (2.1), SORT ordering (2.2, RFC 5957)
 * and THREAD (3, 4) on hand-built messages, without a mailbox. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "imapd/base-subject.h"
#include "imapd/sort.h"
#include "imapd/thread.h"
#include "tests/unit/unit.h"

START_TEST(test_base_subject)
{
	static const struct {
		const char *in, *base;
		bool reply;
	} cases[] = {
		{ "hello", "HELLO", false },
		{ "Re: [list] Fwd: Re[2]: x (fwd)", "X", true },
		/* imaptest's sort-subject messages (as Dovecot extracts) */
		{ "[foo] Fwd: [bar] Re: fw: b (fWd)  (fwd)", "B", true },
		{ "Re: [FWD: c]", "C", true },
		{ "[xyz]", "[XYZ]", false },
		{ "=?iso-8859-1?q?_?=", "", false },
		{ "=?iso-8859-1?q?RE:_C?=", "C", true },
		{ "=?us-ascii?b?UmU6IGM=?=", "C", true },
		{ "Ad: Re: Ad: Re: Ad: x", "AD: RE: AD: RE: AD: X", false },
		{ "re: [fwd: [fwd: re: [fwd: babylon]]]", "BABYLON", true },
		{ "b (a)", "B (A)", false },
		/* step 1: folds, tabs and runs of spaces */
		{ "Re:\r\n\tmany   \t spaces ", "MANY SPACES", true },
		/* step 4: leading blobs go while text is left */
		{ "[PATCH] [list] x", "X", false },
		{ "[PATCH 1/2]", "[PATCH 1/2]", false },
		{ "[a] [b]", "[B]", false },
		/* not a leader: "re" must be followed by ":" */
		{ "Re[2]x: y", "RE[2]X: Y", false },
		{ "Reply: x", "REPLY: X", false },
		{ "Re : x", "X", true },
		{ "fwd:fw:re:x", "X", true },
		{ "Re: (fwd)", "", true },
		{ "(fwd)", "", true },
		{ "[fwd: x", "[FWD: X", false },
		{ "[fwd: x] y", "Y", false },
		{ "   ", "", false },
		{ "", "", false },
		/* only ASCII letters are case-mapped; words decoded to UTF-8 */
		{ "R\xc3\xa9sum\xc3\xa9", "R\xc3\xa9SUM\xc3\xa9", false },
		{ "=?utf-8?b?UmU6IGjDqQ==?=", "H\xc3\xa9", true },
		{ "=?iso-8859-1?q?Re:_caf=E9?=", "CAF\xc3\xa9", true },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct buf out = BUF_INIT(BUF_UNLIMITED);
		bool reply = imap_base_subject(cases[i].in, strlen(cases[i].in),
					       &out);

		ck_assert_msg(strcmp(buf_cstr(&out), cases[i].base) == 0,
			      "\"%s\" gave \"%s\", not \"%s\"", cases[i].in,
			      buf_cstr(&out), cases[i].base);
		ck_assert_msg(reply == cases[i].reply, "\"%s\": reply %d",
			      cases[i].in, reply);
		buf_free(&out);
	}
}
END_TEST

START_TEST(test_msgid)
{
	static const struct {
		const char *in;
		const char *ids[4];
	} cases[] = {
		{ "<a@b>", { "a@b" } },
		{ " <a@b> (c) <c@d>\t<e@f>", { "a@b", "c@d", "e@f" } },
		/* CFWS inside an id is dropped; ids without '@' are invalid */
		{ "<a (x) @ b>", { "a@b" } },
		{ "<nope> <@b> <a@> <x@y>", { "x@y" } },
		{ "<\"q\"@b>", { "q@b" } },
		/* an unclosed id, then a good one */
		{ "<a@b <c@d>", { "c@d" } },
		{ "(<a@b>) <c@d", { NULL } },
		{ "", { NULL } },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct buf id = BUF_INIT(BUF_UNLIMITED);
		const char *in = cases[i].in;
		size_t pos = 0, k = 0;

		while (imap_msgid_next(in, strlen(in), &pos, &id)) {
			ck_assert_msg(k < 4 && cases[i].ids[k] != NULL &&
				      strcmp(buf_cstr(&id), cases[i].ids[k]) == 0,
				      "\"%s\": id %zu is \"%s\"", in, k,
				      buf_cstr(&id));
			k++;
		}
		ck_assert_msg(k == 4 || cases[i].ids[k] == NULL,
			      "\"%s\": only %zu ids", in, k);
		buf_free(&id);
	}
}
END_TEST

/* ---- hand-built mailboxes ---- */

struct box {
	struct imap_msg_keys **v;
	size_t n;
};

/* Message n+1: its header, size, arrival time; UIDs are 100 + seq. */
static void add(struct box *b, const char *hdr, uint64_t size,
		int64_t arrival, unsigned want)
{
	struct imap_msg_keys *k = xcalloc(1, sizeof(*k));

	k->seq = (uint32_t)b->n + 1;
	k->uid = 100 + k->seq;
	k->size = size;
	k->arrival = arrival;
	imap_msg_keys_parse(k, hdr, strlen(hdr), want);
	b->v = xreallocarray(b->v, b->n + 1, sizeof(*b->v));
	b->v[b->n++] = k;
}

static void box_free(struct box *b)
{
	for (size_t i = 0; i < b->n; i++) {
		imap_msg_keys_free(b->v[i]);
		free(b->v[i]);
	}
	free(b->v);
	b->v = NULL;
	b->n = 0;
}

/* The sequence numbers after sorting, as "3 1 2". */
static char *sorted(struct box *b, const struct imap_sort_crit *crit,
		    size_t ncrit)
{
	struct imap_msg_keys **v = xreallocarray(NULL, b->n, sizeof(*v));
	struct buf out = BUF_INIT(BUF_UNLIMITED);

	memcpy(v, b->v, b->n * sizeof(*v));
	imap_sort(v, b->n, crit, ncrit);
	for (size_t i = 0; i < b->n; i++)
		buf_printf(&out, "%s%u", i > 0 ? " " : "", v[i]->seq);
	free(v);
	return buf_steal(&out);
}

#define SORT_IS(b, want, ...) do { \
	const struct imap_sort_crit c_[] = { __VA_ARGS__ }; \
	char *got_ = sorted(b, c_, sizeof(c_) / sizeof(*c_)); \
	ck_assert_str_eq(got_, want); \
	free(got_); \
} while (0)

START_TEST(test_sort)
{
	struct box b = { NULL, 0 };
	unsigned all = IMAP_KEYS_SUBJECT | IMAP_KEYS_DATE | IMAP_KEYS_ADDRS |
		       IMAP_KEYS_DISPLAY;

	add(&b, "From: Zed <zed@x.org>\r\nTo: b@x\r\nCc: c2@x\r\n"
	    "Subject: Re: beta\r\nDate: Fri, 22 Feb 2008 00:00:00 +0200\r\n",
	    300, 1000, all);
	add(&b, "From: =?utf-8?q?=C3=89mile?= <emile@x.org>\r\nTo: a@x\r\n"
	    "Subject: alpha\r\nDate: Fri, 22 Feb 2008 00:00:00 +0000\r\n",
	    100, 3000, all);
	/* no Date: the arrival time stands in (RFC 5256 2.2) */
	add(&b, "From: adam@x.org\r\nCc: C1@x\r\nSubject: [list] Beta\r\n",
	    200, 1203649200 + 60, all);
	add(&b, "From: <bob (the builder)@x.org>\r\nTo: group: c@x;\r\n"
	    "Subject: Fwd: alpha (fwd)\r\nDate: garbage\r\n", 200, 500, all);

	SORT_IS(&b, "4 1 2 3", { IMAP_SORT_ARRIVAL, false });
	SORT_IS(&b, "3 2 1 4", { IMAP_SORT_ARRIVAL, true });
	/* 1 is 2008-02-21 22:00 UTC, 2 2008-02-22 00:00, 3 arrived at
	 * 00:01, 4's date is its arrival (500) */
	SORT_IS(&b, "4 1 2 3", { IMAP_SORT_DATE, false });
	SORT_IS(&b, "2 4 1 3", { IMAP_SORT_SUBJECT, false });
	SORT_IS(&b, "2 4 3 1", { IMAP_SORT_SUBJECT, false },
		{ IMAP_SORT_ARRIVAL, true });
	SORT_IS(&b, "1 3 2 4", { IMAP_SORT_SUBJECT, true });
	SORT_IS(&b, "2 3 4 1", { IMAP_SORT_SIZE, false });
	SORT_IS(&b, "1 3 4 2", { IMAP_SORT_SIZE, true });
	SORT_IS(&b, "1 4 3 2", { IMAP_SORT_SIZE, true },
		{ IMAP_SORT_DATE, false });
	/* addr-mailbox, case-mapped: ADAM BOB EMILE ZED */
	SORT_IS(&b, "3 4 2 1", { IMAP_SORT_FROM, false });
	/* "" (3) < A < B < GROUP */
	SORT_IS(&b, "3 2 1 4", { IMAP_SORT_TO, false });
	/* "" (2, 4) < C1 < C2 */
	SORT_IS(&b, "2 4 3 1", { IMAP_SORT_CC, false });
	/* display names, decoded and folded: adam@x.org, bob@x.org, émile,
	 * zed ("é" sorts after ASCII) */
	SORT_IS(&b, "3 4 1 2", { IMAP_SORT_DISPLAYFROM, false });
	SORT_IS(&b, "2 1 4 3", { IMAP_SORT_DISPLAYFROM, true });
	SORT_IS(&b, "3 2 1 4", { IMAP_SORT_DISPLAYTO, false });
	box_free(&b);
}
END_TEST

/* THREAD's answer for the box, by sequence number (or UID). */
static char *threads(struct box *b, enum imap_thread_alg alg, bool uid)
{
	struct imap_msg_keys **v = xreallocarray(NULL, b->n + 1, sizeof(*v));
	struct buf out = BUF_INIT(BUF_UNLIMITED);

	if (b->n > 0)
		memcpy(v, b->v, b->n * sizeof(*v));
	imap_thread(v, b->n, alg, uid, &out);
	free(v);
	return buf_steal(&out);
}

#define THREAD_IS(b, alg, uid, want) do { \
	char *got_ = threads(b, alg, uid); \
	ck_assert_str_eq(got_, want); \
	free(got_); \
} while (0)

static void add_t(struct box *b, const char *hdr, int64_t date)
{
	add(b, hdr, 10, date, IMAP_KEYS_SUBJECT | IMAP_KEYS_DATE |
	    IMAP_KEYS_IDS);
}

/* A conversation, a reply whose parent is missing, two replies to a
 * missing message (a dummy with two children stays at the top). */
static void conversation(struct box *b)
{
	add_t(b, "Message-ID: <1@x>\r\nSubject: hello\r\n", 1);
	add_t(b, "Message-ID: <2@x>\r\nReferences: <1@x>\r\n"
	      "Subject: Re: hello\r\n", 2);
	add_t(b, "Message-ID: <3@x>\r\nReferences: <1@x> <2@x>\r\n"
	      "Subject: Re: hello\r\n", 3);
	add_t(b, "Message-ID: <4@x>\r\nIn-Reply-To: <1@x>\r\n"
	      "Subject: Re: hello\r\n", 4);
	add_t(b, "Message-ID: <5@x>\r\nSubject: other\r\n", 5);
	add_t(b, "Message-ID: <6@x>\r\nReferences: <missing@x>\r\n"
	      "Subject: Re: other\r\n", 6);
	add_t(b, "Message-ID: <7@x>\r\nReferences: <gone@x>\r\n"
	      "Subject: lost\r\n", 7);
	add_t(b, "Message-ID: <8@x>\r\nReferences: <gone@x>\r\n"
	      "Subject: lost2\r\n", 8);
}

START_TEST(test_thread_references)
{
	struct box b = { NULL, 0 };

	conversation(&b);
	/* 6's dummy parent has one child: 6 goes up, then joins 5 by
	 * subject as a reply (step 6) */
	THREAD_IS(&b, IMAP_THREAD_REFERENCES, false,
		  "(1 (2 3)(4))(5 6)((7)(8))");
	THREAD_IS(&b, IMAP_THREAD_REFERENCES, true,
		  "(101 (102 103)(104))(105 106)((107)(108))");
	/* a second "hello" that is not a reply: both under a new dummy */
	add_t(&b, "Message-ID: <9@x>\r\nSubject: hello\r\n", 9);
	THREAD_IS(&b, IMAP_THREAD_REFERENCES, false,
		  "((1 (2 3)(4))(9))(5 6)((7)(8))");
	box_free(&b);
}
END_TEST

START_TEST(test_thread_references_order)
{
	struct box b = { NULL, 0 };

	/* siblings and threads by sent date, then by number */
	add_t(&b, "Message-ID: <p@x>\r\nSubject: a\r\n", 50);
	add_t(&b, "Message-ID: <q@x>\r\nIn-Reply-To: <p@x>\r\nSubject: b\r\n",
	      70);
	add_t(&b, "Message-ID: <r@x>\r\nIn-Reply-To: <p@x>\r\nSubject: c\r\n",
	      60);
	add_t(&b, "Message-ID: <s@x>\r\nSubject: d\r\n", 10);
	add_t(&b, "Message-ID: <t@x>\r\nSubject: e\r\n", 10);
	THREAD_IS(&b, IMAP_THREAD_REFERENCES, false, "(4)(5)(1 (3)(2))");
	box_free(&b);
}
END_TEST

/* imaptest's thread and thread7 cases (Dovecot's answers) */
START_TEST(test_thread_references_links)
{
	struct box b = { NULL, 0 };

	/* a loop: c's own References would make it its own ancestor, so
	 * only its old link to a goes */
	add_t(&b, "Message-ID: <a@b>\r\n", 17);
	add_t(&b, "Message-Id: <b@b>\r\nReferences: <a@b> <c@b>\r\n", 15);
	add_t(&b, "Message-Id: <c@b>\r\nReferences: <b@b>\r\n", 16);
	THREAD_IS(&b, IMAP_THREAD_REFERENCES, false, "(3 2)(1)");
	box_free(&b);
	/* a duplicate Message-ID gets a unique one */
	add_t(&b, "Message-Id: <a@b>\r\n", 1);
	add_t(&b, "Message-Id: <b@b>\r\nReferences: <a@b>\r\n", 1);
	add_t(&b, "Message-Id: <c@b>\r\nReferences: <b@b>\r\n", 1);
	add_t(&b, "Message-Id: <b@b>\r\nReferences: <a@b>\r\n", 1);
	THREAD_IS(&b, IMAP_THREAD_REFERENCES, false, "(1 (2 3)(4))");
	box_free(&b);
	/* no Message-ID at all, both replies to one missing message */
	add_t(&b, "References: <a@b>\r\n", 1);
	add_t(&b, "References: <a@b>\r\n", 2);
	THREAD_IS(&b, IMAP_THREAD_REFERENCES, false, "((1)(2))");
	box_free(&b);
	/* mutual references: no loop, no message lost (y, processed
	 * second, cannot become x's child, x being its child already) */
	add_t(&b, "Message-Id: <x@b>\r\nReferences: <y@b>\r\n", 1);
	add_t(&b, "Message-Id: <y@b>\r\nReferences: <x@b>\r\n", 2);
	add_t(&b, "Message-Id: <z@b>\r\nReferences: <z@b>\r\n", 3);
	THREAD_IS(&b, IMAP_THREAD_REFERENCES, false, "(2 1)(3)");
	box_free(&b);
	THREAD_IS(&b, IMAP_THREAD_REFERENCES, false, "");
}
END_TEST

START_TEST(test_thread_orderedsubject)
{
	struct box b = { NULL, 0 };

	conversation(&b);
	THREAD_IS(&b, IMAP_THREAD_ORDEREDSUBJECT, false,
		  "(1 (2)(3)(4))(5 6)(7)(8)");
	box_free(&b);
	/* imaptest's thread-orderedsubject2: by date inside a subject, and
	 * threads by their first message's date */
	add_t(&b, "Subject: a\r\n", 10);
	add_t(&b, "Subject: b\r\n", 9);
	add_t(&b, "Subject: a\r\n", 8);
	add_t(&b, "Subject: b\r\n", 7);
	add_t(&b, "Subject: a\r\n", 30);
	add_t(&b, "Subject: b\r\n", 29);
	add_t(&b, "Subject: a\r\n", 28);
	add_t(&b, "Subject: b\r\n", 27);
	THREAD_IS(&b, IMAP_THREAD_ORDEREDSUBJECT, false,
		  "(4 (2)(8)(6))(3 (1)(7)(5))");
	THREAD_IS(&b, IMAP_THREAD_ORDEREDSUBJECT, true,
		  "(104 (102)(108)(106))(103 (101)(107)(105))");
	box_free(&b);
}
END_TEST

/* A chain of 50,000 replies: every walk is iterative. */
START_TEST(test_thread_deep_chain)
{
	struct box b = { NULL, 0 };
	char hdr[128];
	char *got;
	size_t opens = 0;

	for (int i = 1; i <= 50000; i++) {
		if (i == 1)
			snprintf(hdr, sizeof(hdr), "Message-ID: <1@x>\r\n");
		else
			snprintf(hdr, sizeof(hdr), "Message-ID: <%d@x>\r\n"
				 "In-Reply-To: <%d@x>\r\n", i, i - 1);
		add_t(&b, hdr, i);
	}
	got = threads(&b, IMAP_THREAD_REFERENCES, false);
	ck_assert(strncmp(got, "(1 2 3 4 ", 9) == 0);
	ck_assert(strcmp(got + strlen(got) - 13, " 49999 50000)") == 0);
	for (const char *p = got; *p != '\0'; p++)
		opens += *p == '(';
	ck_assert_uint_eq(opens, 1);
	free(got);
	box_free(&b);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *suite = suite_create("imap-sort");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_base_subject);
	tcase_add_test(tc, test_msgid);
	tcase_add_test(tc, test_sort);
	tcase_add_test(tc, test_thread_references);
	tcase_add_test(tc, test_thread_references_order);
	tcase_add_test(tc, test_thread_references_links);
	tcase_add_test(tc, test_thread_orderedsubject);
	tcase_add_test(tc, test_thread_deep_chain);
	suite_add_tcase(suite, tc);
	return suite;
}
