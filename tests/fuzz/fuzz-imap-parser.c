/* libFuzzer target for the IMAP command grammar (imapd/parser.h,
 * parse-fetch.c, parse-search.c, parse-modseq.c, seqset.c, the RETURN
 * options of esearch.c).  The first byte holds options
 * (the text and literal limits, streaming the last literal as APPEND
 * does, the mailbox size seqsets are evaluated against); the rest is
 * client input, CRLF lines and literals, collected into commands by
 * struct imap_cmdbuf as the session does.  Every command is run through
 * the rules its name calls for, and then, from the start of its
 * arguments, through every rule on its own.  Checks: a rule that fails
 * names an error, the position stays inside the command, collected text
 * stays within the limits, evaluated seqsets are sorted, merged and in
 * range.  tests/unit/test-fuzz-replay.c replays tests/fuzz/corpus-imap-parser/. */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "imapd/esearch.h"
#include "imapd/parser.h"
#include "imapd/seqset.h"
#include "tests/fuzz/fuzz.h"

static void check_parser(const struct imap_parser *p, int ret)
{
	FUZZ_CHECK(p->pos <= p->len);
	FUZZ_CHECK(ret == 0 || ret == -1);
	FUZZ_CHECK(ret == 0 || p->error != NULL);
	FUZZ_CHECK(!p->error_no || p->error != NULL);
}

static void check_evaluated(const struct imap_seqset *out, uint32_t count)
{
	for (size_t i = 0; i < out->n; i++) {
		FUZZ_CHECK(out->r[i].lo >= 1 && out->r[i].lo <= out->r[i].hi);
		FUZZ_CHECK(out->r[i].hi <= count);
		/* merged: a gap of at least one number between ranges */
		FUZZ_CHECK(i == 0 || out->r[i].lo > out->r[i - 1].hi + 1);
		FUZZ_CHECK(imap_seqset_contains(out, out->r[i].lo));
		FUZZ_CHECK(imap_seqset_contains(out, out->r[i].hi));
		if (out->r[i].lo > 1)
			FUZZ_CHECK(!imap_seqset_contains(out,
							 out->r[i].lo - 1));
	}
	FUZZ_CHECK(imap_seqset_count(out) <= count);
}

/* The set against a mailbox of `count` messages, by number and by UID
 * (the UIDs 3, 6, 9...). */
static void eval_seqset(const struct imap_seqset *set, uint32_t count)
{
	struct imap_seqset out;
	uint32_t uids[64];

	FUZZ_CHECK(count <= 64);
	for (uint32_t i = 0; i < count; i++)
		uids[i] = 3 * (i + 1);
	imap_seqset_init(&out);
	if (imap_seqset_eval_seq(set, count, &out) == 0) {
		check_evaluated(&out, count);
		FUZZ_CHECK(count > 0);
	}
	imap_seqset_clear(&out);
	imap_seqset_eval_uid(set, uids, count, &out);
	check_evaluated(&out, count);
	imap_seqset_free(&out);
}

static int rule_seqset(struct imap_parser *p, uint32_t count)
{
	struct imap_seqset set;
	int ret;

	imap_seqset_init(&set);
	ret = imap_parse_seqset(p, &set);
	if (ret == 0 && set.saved) {
		/* "$" (RFC 5182): resolved by the session, never ranges */
		FUZZ_CHECK(set.n == 0);
	} else if (ret == 0) {
		FUZZ_CHECK(set.n > 0);
		for (size_t i = 0; i < set.n; i++)
			FUZZ_CHECK(set.r[i].lo != IMAP_SEQ_STAR ||
				   imap_seqset_has_star(&set));
		eval_seqset(&set, count);
	}
	imap_seqset_free(&set);
	return ret;
}

static int rule_fetch(struct imap_parser *p)
{
	struct imap_fetch f;
	int ret;

	memset(&f, 0, sizeof(f));
	ret = imap_parse_fetch(p, &f);
	if (ret == 0) {
		FUZZ_CHECK(f.items != 0 || f.nbodies > 0);
		for (size_t i = 0; i < f.nbodies; i++) {
			const struct imap_fetch_body *b = &f.bodies[i];

			FUZZ_CHECK(b->name != NULL);
			FUZZ_CHECK(b->nparts <= IMAP_MAX_SECTION_PARTS);
			for (size_t k = 0; k < b->nparts; k++)
				FUZZ_CHECK(b->parts[k] >= 1);
			for (size_t k = 0; k < b->nfields; k++)
				FUZZ_CHECK(b->fields[k] != NULL);
		}
		(void)imap_fetch_sets_seen(&f);
	}
	imap_fetch_free(&f);
	return ret;
}

static void walk_search(const struct imap_search *s, unsigned depth)
{
	FUZZ_CHECK(depth <= IMAP_MAX_DEPTH + 2);
	for (; s != NULL; s = s->next) {
		switch (s->kind) {
		case IMAP_SK_OR:
			FUZZ_CHECK(s->child != NULL && s->child->next != NULL &&
				   s->child->next->next == NULL);
			break;
		case IMAP_SK_NOT:
			FUZZ_CHECK(s->child != NULL && s->child->next == NULL);
			break;
		case IMAP_SK_HEADER:
		case IMAP_SK_ADDRESS:
			FUZZ_CHECK(s->str != NULL && s->str2 != NULL);
			break;
		case IMAP_SK_KEYWORD:
		case IMAP_SK_UNKEYWORD:
		case IMAP_SK_BODY:
		case IMAP_SK_TEXT:
			FUZZ_CHECK(s->str != NULL);
			break;
		case IMAP_SK_SEQSET:
		case IMAP_SK_UID:
			FUZZ_CHECK(s->set.n > 0 || s->set.saved);
			break;
		default:
			break;
		}
		walk_search(s->child, depth + 1);
	}
}

static int rule_search(struct imap_parser *p)
{
	struct imap_search *s = NULL;
	char *charset = NULL;
	int ret = imap_parse_search(p, &charset, &s);

	if (ret == 0) {
		FUZZ_CHECK(s != NULL && s->kind == IMAP_SK_AND);
		walk_search(s, 0);
	}
	imap_search_free(&s);
	FUZZ_CHECK(s == NULL);
	free(charset);
	return ret;
}

static int rule_flags(struct imap_parser *p, bool store)
{
	struct imap_flags f;
	int ret;

	memset(&f, 0, sizeof(f));
	ret = store ? imap_parse_store_flags(p, &f) :
		      imap_parse_flag_list(p, &f);
	if (ret == 0) {
		FUZZ_CHECK(f.nkeywords <= IMAP_MAX_KEYWORDS_PER_CMD);
		FUZZ_CHECK((f.system & ~0x1Fu) == 0);
	}
	imap_flags_free(&f);
	return ret;
}

/* SELECT/EXAMINE parameters (RFC 7162 3.1.2, 3.2.5). */
static int rule_select_params(struct imap_parser *p)
{
	struct imap_select_params sp;
	int ret;

	imap_select_params_init(&sp);
	ret = imap_parse_select_params(p, &sp);
	if (ret == 0 && sp.qresync) {
		FUZZ_CHECK(sp.uidvalidity > 0);
		FUZZ_CHECK(sp.modseq >= 1 && sp.modseq <= (uint64_t)INT64_MAX);
		FUZZ_CHECK(!imap_seqset_has_star(&sp.known_uids));
		FUZZ_CHECK(!sp.have_match || (sp.match_seqs.n > 0 &&
					      sp.match_uids.n > 0));
	}
	imap_select_params_free(&sp);
	return ret;
}

static int rule_modifiers(struct imap_parser *p, int which)
{
	uint64_t v;
	bool vanished;
	int ret;

	switch (which) {
	case 0:
		ret = imap_parse_fetch_modifiers(p, &v, &vanished);
		FUZZ_CHECK(ret < 0 || v <= (uint64_t)INT64_MAX);
		FUZZ_CHECK(ret < 0 || !vanished || v > 0);
		return ret;
	case 1:
		ret = imap_parse_store_modifiers(p, &v);
		FUZZ_CHECK(ret < 0 || v <= (uint64_t)INT64_MAX || v == UINT64_MAX);
		return ret;
	default:
		ret = imap_parse_modseq(p, false, &v);
		FUZZ_CHECK(ret < 0 || (v >= 1 && v <= (uint64_t)INT64_MAX));
		return ret;
	}
}

/* SEARCH/SORT RETURN options (RFC 4731, RFC 5267 3 and 4.4): PARTIAL's
 * range is 1 <= lo <= hi whichever order it came in, and never comes
 * with ALL; "()" means ALL. */
static int rule_return(struct imap_parser *p)
{
	uint32_t partial[2] = { 0, 0 };
	unsigned ret;
	int r = imap_parse_return(p, &ret, partial);

	if (r < 0 || ret == 0)
		return r;
	FUZZ_CHECK(ret & IMAP_RET_GIVEN);
	FUZZ_CHECK(ret != IMAP_RET_GIVEN);
	FUZZ_CHECK(!(ret & IMAP_RET_PARTIAL) || !(ret & IMAP_RET_ALL));
	FUZZ_CHECK(!(ret & IMAP_RET_PARTIAL) ||
		   (partial[0] >= 1 && partial[0] <= partial[1]));
	return r;
}

/* One grammar rule by number, from the parser's position. */
enum { N_RULES = 23 };
static int rule(struct imap_parser *p, int which, uint32_t count,
		struct buf *b)
{
	uint32_t n;
	int64_t t;
	bool nil, streamed;
	int ret;

	switch (which) {
	case 0: return imap_parse_tag(p, b);
	case 1: return imap_parse_atom(p, b);
	case 2:
		ret = imap_parse_string(p, b, &streamed);
		FUZZ_CHECK(ret < 0 || !streamed || b->len == 0);
		return ret;
	case 3: return imap_parse_astring(p, b);
	case 4: return imap_parse_nstring(p, b, &nil);
	case 5: return imap_parse_number(p, &n);
	case 6:
		ret = imap_parse_nz_number(p, &n);
		FUZZ_CHECK(ret < 0 || n > 0);
		return ret;
	case 7: return imap_parse_mailbox(p, b);
	case 8: return imap_parse_list_mailbox(p, b);
	case 9: return rule_seqset(p, count);
	case 10: return imap_parse_date(p, &t);
	case 11: return imap_parse_datetime(p, &t);
	case 12: return rule_flags(p, false);
	case 13: return rule_flags(p, true);
	case 14: return rule_fetch(p);
	case 15: return rule_search(p);
	case 16: return imap_parse_sp(p);
	case 18: return rule_select_params(p);
	case 19: return rule_modifiers(p, 0);
	case 20: return rule_modifiers(p, 1);
	case 21: return rule_modifiers(p, 2);
	case 22: return rule_return(p);
	default: return imap_parse_end(p);
	}
}

/* The rules a command's arguments follow (RFC 3501 9), roughly. */
static const struct {
	const char *name;
	signed char rules[8];
} grammar[] = {
	{ "LOGIN", { 3, 16, 3, 17, -1 } },
	{ "SELECT", { 7, 18, -1 } },
	{ "EXAMINE", { 7, 18, -1 } },
	{ "CREATE", { 7, 17, -1 } },
	{ "DELETE", { 7, 17, -1 } },
	{ "RENAME", { 7, 16, 7, 17, -1 } },
	{ "LIST", { 7, 16, 8, 17, -1 } },
	{ "LSUB", { 7, 16, 8, 17, -1 } },
	{ "APPEND", { 7, 16, 12, 16, 11, -1 } },
	{ "FETCH", { 9, 16, 14, 19, -1 } },
	{ "STORE", { 9, 16, 20, 1, 16, 13, 17, -1 } },
	{ "COPY", { 9, 16, 7, 17, -1 } },
	{ "SEARCH", { 22, 15, 17, -1 } },
	{ "SORT", { 22, -1 } },
	{ "AUTHENTICATE", { 1, 16, 3, 17, -1 } },
};

static void run_command(const struct imap_cmdbuf *cb, uint32_t count)
{
	struct imap_parser p;
	struct buf b = BUF_INIT(BUF_UNLIMITED);
	size_t args = 0;
	int ret;

	imap_parser_init_cmd(&p, cb);
	if ((ret = imap_parse_tag(&p, &b)) == 0)
		FUZZ_CHECK(b.len > 0 && memchr(b.data, '+', b.len) == NULL);
	check_parser(&p, ret);
	if (ret == 0 && imap_parse_sp(&p) == 0 &&
	    imap_parse_atom(&p, &b) == 0) {
		char name[32];

		if (strcasecmp(buf_cstr(&b), "UID") == 0 &&
		    (imap_parse_sp(&p) < 0 || imap_parse_atom(&p, &b) < 0))
			goto out;
		/* the rules below reuse b */
		snprintf(name, sizeof(name), "%s", buf_cstr(&b));
		if (imap_parse_sp(&p) < 0)
			goto out;
		args = p.pos;
		for (size_t g = 0; g < sizeof(grammar) / sizeof(*grammar); g++) {
			if (strcasecmp(name, grammar[g].name) != 0)
				continue;
			for (size_t r = 0; r < 8 && grammar[g].rules[r] >= 0;
			     r++) {
				/* APPEND's flags and date are optional */
				if (grammar[g].rules[r] == 12 &&
				    imap_parse_peek(&p) != '(')
					r += 2;
				ret = rule(&p, grammar[g].rules[r], count, &b);
				check_parser(&p, ret);
				if (ret < 0)
					break;
			}
		}
	}
	/* every rule on its own from where the arguments start */
	for (int r = 0; r < N_RULES && args > 0; r++) {
		struct imap_parser q;

		imap_parser_init_cmd(&q, cb);
		q.pos = args;
		ret = rule(&q, r, count, &b);
		check_parser(&q, ret);
	}
out:
	check_parser(&p, p.error != NULL ? -1 : 0);
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_cmdbuf cb;
	const char *s = (const char *)data + 1;
	size_t len, pos = 0, max_text, max_literal;
	uint32_t count;
	bool stream_last;

	if (size < 1)
		return 0;
	len = size - 1;
	max_text = data[0] & 1 ? 64 : 8192;
	max_literal = data[0] & 2 ? 16 : 65536;
	stream_last = data[0] & 4;
	count = (data[0] >> 3) % 12;
	imap_cmdbuf_init(&cb, max_text, max_literal);
	while (pos < len) {
		const char *crlf = memmem(s + pos, len - pos, "\r\n", 2);
		size_t n = crlf != NULL ? (size_t)(crlf - (s + pos)) : len - pos;
		enum imap_feed r = imap_cmdbuf_line(&cb, s + pos, n);

		pos += n + (crlf != NULL ? 2 : 0);
		FUZZ_CHECK(cb.text_bytes <= max_text);
		if (r == IMAP_FEED_LITERAL) {
			size_t want = (size_t)cb.literal_size;
			bool last = len - pos <= want + 2 ||
				    memmem(s + pos + want, len - pos - want,
					   "\r\n", 2) == NULL;

			FUZZ_CHECK(cb.literal_size <= max_literal);
			if (stream_last && last) {
				imap_cmdbuf_literal_streamed(&cb);
				FUZZ_CHECK(cb.streamed_off < cb.text.len);
				pos += want < len - pos ? want : len - pos;
				continue;
			}
			if (want > len - pos)
				break;	/* the client never sent it */
			imap_cmdbuf_literal(&cb, s + pos, want);
			FUZZ_CHECK(cb.literal_bytes <= max_literal);
			pos += want;
			continue;
		}
		if (r == IMAP_FEED_DONE)
			run_command(&cb, count);
		imap_cmdbuf_reset(&cb);
		FUZZ_CHECK(!imap_cmdbuf_pending(&cb));
	}
	imap_cmdbuf_free(&cb);
	return 0;
}
