/* SEARCH criteria (RFC 3501 6.4.4 and section 9, search-key). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/xalloc.h"
#include "imapd/parser.h"

void imap_search_free(struct imap_search **sp)
{
	struct imap_search *s = *sp, *next;

	while (s != NULL) {
		next = s->next;
		imap_search_free(&s->child);
		free(s->str);
		free(s->str2);
		imap_seqset_free(&s->set);
		free(s);
		s = next;
	}
	*sp = NULL;
}

static struct imap_search *node(enum imap_search_kind kind)
{
	struct imap_search *s = xcalloc(1, sizeof(*s));

	s->kind = kind;
	imap_seqset_init(&s->set);
	return s;
}

enum arg { ARG_NONE, ARG_STRING, ARG_DATE, ARG_NUMBER, ARG_ATOM,
	   ARG_HEADER, ARG_SET };

/* The keys that take a fixed argument. */
static const struct {
	const char *name;
	enum imap_search_kind kind;
	unsigned number;		/* flag bit for FLAG/UNFLAG */
	enum arg arg;
} keys[] = {
	{ "ALL", IMAP_SK_ALL, 0, ARG_NONE },
	{ "ANSWERED", IMAP_SK_FLAG, IMAP_FLAG_ANSWERED, ARG_NONE },
	{ "DELETED", IMAP_SK_FLAG, IMAP_FLAG_DELETED, ARG_NONE },
	{ "DRAFT", IMAP_SK_FLAG, IMAP_FLAG_DRAFT, ARG_NONE },
	{ "FLAGGED", IMAP_SK_FLAG, IMAP_FLAG_FLAGGED, ARG_NONE },
	{ "SEEN", IMAP_SK_FLAG, IMAP_FLAG_SEEN, ARG_NONE },
	{ "UNANSWERED", IMAP_SK_UNFLAG, IMAP_FLAG_ANSWERED, ARG_NONE },
	{ "UNDELETED", IMAP_SK_UNFLAG, IMAP_FLAG_DELETED, ARG_NONE },
	{ "UNDRAFT", IMAP_SK_UNFLAG, IMAP_FLAG_DRAFT, ARG_NONE },
	{ "UNFLAGGED", IMAP_SK_UNFLAG, IMAP_FLAG_FLAGGED, ARG_NONE },
	{ "UNSEEN", IMAP_SK_UNFLAG, IMAP_FLAG_SEEN, ARG_NONE },
	{ "NEW", IMAP_SK_NEW, 0, ARG_NONE },
	{ "OLD", IMAP_SK_OLD, 0, ARG_NONE },
	{ "RECENT", IMAP_SK_RECENT, 0, ARG_NONE },
	{ "KEYWORD", IMAP_SK_KEYWORD, 0, ARG_ATOM },
	{ "UNKEYWORD", IMAP_SK_UNKEYWORD, 0, ARG_ATOM },
	{ "LARGER", IMAP_SK_LARGER, 0, ARG_NUMBER },
	{ "SMALLER", IMAP_SK_SMALLER, 0, ARG_NUMBER },
	{ "BEFORE", IMAP_SK_BEFORE, 0, ARG_DATE },
	{ "ON", IMAP_SK_ON, 0, ARG_DATE },
	{ "SINCE", IMAP_SK_SINCE, 0, ARG_DATE },
	{ "SENTBEFORE", IMAP_SK_SENTBEFORE, 0, ARG_DATE },
	{ "SENTON", IMAP_SK_SENTON, 0, ARG_DATE },
	{ "SENTSINCE", IMAP_SK_SENTSINCE, 0, ARG_DATE },
	{ "BODY", IMAP_SK_BODY, 0, ARG_STRING },
	{ "TEXT", IMAP_SK_TEXT, 0, ARG_STRING },
	{ "HEADER", IMAP_SK_HEADER, 0, ARG_HEADER },
	{ "UID", IMAP_SK_UID, 0, ARG_SET },
};

/* Keys on one header field: SUBJECT is HEADER Subject <string>; the
 * address keys match the parsed addresses (search.c). */
static const struct {
	const char *key, *field;
	enum imap_search_kind kind;
} header_keys[] = {
	{ "BCC", "Bcc", IMAP_SK_ADDRESS }, { "CC", "Cc", IMAP_SK_ADDRESS },
	{ "FROM", "From", IMAP_SK_ADDRESS },
	{ "SUBJECT", "Subject", IMAP_SK_HEADER },
	{ "TO", "To", IMAP_SK_ADDRESS },
};

static int parse_key(struct imap_parser *p, struct imap_search **out);

static char *take_astring(struct imap_parser *p, struct buf *tmp)
{
	if (imap_parse_sp(p) < 0 || imap_parse_astring(p, tmp) < 0)
		return NULL;
	if (memchr(tmp->data != NULL ? tmp->data : "", '\0', tmp->len) != NULL) {
		imap_parse_fail(p, "NUL in search string");
		return NULL;
	}
	return xstrdup(buf_cstr(tmp));
}

static int parse_arg(struct imap_parser *p, struct imap_search *s,
		     enum arg arg)
{
	struct buf tmp = BUF_INIT(BUF_UNLIMITED);
	uint32_t n = 0;
	int ret = 0;

	switch (arg) {
	case ARG_NONE:
		break;
	case ARG_STRING:
		if ((s->str = take_astring(p, &tmp)) == NULL)
			ret = -1;
		break;
	case ARG_HEADER:
		if ((s->str = take_astring(p, &tmp)) == NULL ||
		    (s->str2 = take_astring(p, &tmp)) == NULL)
			ret = -1;
		break;
	case ARG_ATOM:
		if (imap_parse_sp(p) < 0 || imap_parse_atom(p, &tmp) < 0)
			ret = -1;
		else
			s->str = xstrdup(buf_cstr(&tmp));
		break;
	case ARG_NUMBER:
		ret = imap_parse_sp(p) < 0 || imap_parse_number(p, &n) < 0 ?
			-1 : 0;
		s->number = n;
		break;
	case ARG_DATE:
		ret = imap_parse_sp(p) < 0 || imap_parse_date(p, &s->date) < 0 ?
			-1 : 0;
		break;
	case ARG_SET:
		ret = imap_parse_sp(p) < 0 ||
			imap_parse_seqset(p, &s->set) < 0 ? -1 : 0;
		break;
	}
	buf_free(&tmp);
	return ret;
}

/* "(" search-key *(SP search-key) ")" as one AND node */
static int parse_list(struct imap_parser *p, struct imap_search **out)
{
	struct imap_search *and = node(IMAP_SK_AND), **tail = &and->child;

	*out = and;
	p->pos++;	/* '(' */
	for (;;) {
		if (parse_key(p, tail) < 0)
			return -1;
		tail = &(*tail)->next;
		if (imap_parse_skip(p, ')'))
			return 0;
		if (imap_parse_at_end(p))
			return imap_parse_fail(p, "Missing ')'");
		if (imap_parse_sp(p) < 0)
			return -1;
	}
}

/* MODSEQ [SP entry-name SP entry-type-req] SP mod-sequence-valzer
 * (RFC 7162 3.1.5).  Modseqs are kept per message, not per flag, so the
 * entry is checked and then ignored, as 3.1.5 allows. */
static int parse_modseq_key(struct imap_parser *p, struct imap_search **out)
{
	struct imap_search *s = node(IMAP_SK_MODSEQ);
	struct buf tmp = BUF_INIT(BUF_UNLIMITED);
	int ret = -1;

	*out = s;
	if (imap_parse_sp(p) < 0)
		goto out;
	if (imap_parse_peek(p) == '"' || imap_parse_peek(p) == '{') {
		if (imap_parse_string(p, &tmp, NULL) < 0 || imap_parse_sp(p) < 0)
			goto out;
		if (!imap_parse_keyword(p, "priv") &&
		    !imap_parse_keyword(p, "shared") &&
		    !imap_parse_keyword(p, "all")) {
			imap_parse_fail(p, "Invalid MODSEQ entry type");
			goto out;
		}
		if (imap_parse_sp(p) < 0)
			goto out;
	}
	ret = imap_parse_modseq(p, true, &s->number);
out:
	buf_free(&tmp);
	return ret;
}

bool imap_search_has_modseq(const struct imap_search *search)
{
	for (; search != NULL; search = search->next)
		if (search->kind == IMAP_SK_MODSEQ ||
		    imap_search_has_modseq(search->child))
			return true;
	return false;
}

static int parse_named(struct imap_parser *p, struct imap_search **out)
{
	struct imap_search *s;

	if (imap_parse_keyword(p, "MODSEQ"))
		return parse_modseq_key(p, out);
	if (imap_parse_keyword(p, "NOT")) {
		*out = s = node(IMAP_SK_NOT);
		return imap_parse_sp(p) < 0 ? -1 : parse_key(p, &s->child);
	}
	if (imap_parse_keyword(p, "OR")) {
		*out = s = node(IMAP_SK_OR);
		if (imap_parse_sp(p) < 0 || parse_key(p, &s->child) < 0 ||
		    imap_parse_sp(p) < 0)
			return -1;
		return parse_key(p, &s->child->next);
	}
	for (size_t i = 0; i < sizeof(header_keys) / sizeof(header_keys[0]); i++) {
		if (imap_parse_keyword(p, header_keys[i].key)) {
			struct buf tmp = BUF_INIT(BUF_UNLIMITED);

			*out = s = node(header_keys[i].kind);
			s->str = xstrdup(header_keys[i].field);
			s->str2 = take_astring(p, &tmp);
			buf_free(&tmp);
			return s->str2 == NULL ? -1 : 0;
		}
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (imap_parse_keyword(p, keys[i].name)) {
			*out = s = node(keys[i].kind);
			s->number = keys[i].number;
			return parse_arg(p, s, keys[i].arg);
		}
	}
	return imap_parse_fail(p, "Unknown search key");
}

static int parse_key(struct imap_parser *p, struct imap_search **out)
{
	int c = imap_parse_peek(p), ret;

	*out = NULL;
	if (p->depth >= IMAP_MAX_DEPTH)
		return imap_parse_fail(p, "Search criteria nested too deep");
	p->depth++;
	if (c == '(') {
		ret = parse_list(p, out);
	} else if (c == '*' || c == '$' || (c >= '1' && c <= '9')) {
		*out = node(IMAP_SK_SEQSET);
		ret = imap_parse_seqset(p, &(*out)->set);
	} else if (c == '0') {
		ret = imap_parse_fail(p, "Invalid sequence set");
	} else {
		ret = parse_named(p, out);
	}
	p->depth--;
	return ret;
}

int imap_parse_search(struct imap_parser *p, char **charset_r,
		      struct imap_search **search_r)
{
	struct imap_search *and = node(IMAP_SK_AND), **tail = &and->child;
	struct buf tmp = BUF_INIT(BUF_UNLIMITED);

	*charset_r = NULL;
	*search_r = and;
	if (imap_parse_keyword(p, "CHARSET")) {
		if (imap_parse_sp(p) < 0 || imap_parse_astring(p, &tmp) < 0 ||
		    imap_parse_sp(p) < 0) {
			buf_free(&tmp);
			return -1;
		}
		*charset_r = xstrdup(buf_cstr(&tmp));
	}
	buf_free(&tmp);
	for (;;) {
		if (parse_key(p, tail) < 0)
			return -1;
		tail = &(*tail)->next;
		if (imap_parse_at_end(p))
			return 0;
		if (imap_parse_sp(p) < 0)
			return -1;
	}
}
