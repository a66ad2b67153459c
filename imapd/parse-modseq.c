/* The CONDSTORE and QRESYNC grammar (RFC 7162 section 7): mod-sequence
 * values, the SELECT/EXAMINE parameters, the FETCH and STORE modifiers. */
#include <string.h>

#include "imapd/parser.h"

#define MODSEQ_MAX ((uint64_t)INT64_MAX)	/* 2^63 - 1 */

int imap_parse_modseq(struct imap_parser *p, bool zero_ok, uint64_t *r)
{
	uint64_t v = 0;
	size_t start = p->pos;

	while (p->pos < p->len && p->data[p->pos] >= '0' &&
	       p->data[p->pos] <= '9') {
		unsigned d = (unsigned)(p->data[p->pos] - '0');

		/* RFC 7162 7: mod-sequence-value is 1 .. 2^63-1 */
		if (v > (MODSEQ_MAX - d) / 10)
			return imap_parse_fail(p, "Mod-sequence value above "
					       "2^63-1");
		v = v * 10 + d;
		p->pos++;
	}
	if (p->pos == start)
		return imap_parse_fail(p, "Mod-sequence value expected");
	if (v == 0 && !zero_ok)
		return imap_parse_fail(p, "Mod-sequence value must be "
				       "at least 1");
	*r = v;
	return 0;
}

void imap_select_params_init(struct imap_select_params *sp)
{
	memset(sp, 0, sizeof(*sp));
	imap_seqset_init(&sp->known_uids);
	imap_seqset_init(&sp->match_seqs);
	imap_seqset_init(&sp->match_uids);
}

void imap_select_params_free(struct imap_select_params *sp)
{
	imap_seqset_free(&sp->known_uids);
	imap_seqset_free(&sp->match_seqs);
	imap_seqset_free(&sp->match_uids);
}

/* A set of numbers the client holds: '*' means nothing there
 * (RFC 7162 3.2.5: known-uids and seq-match-data list real numbers). */
static int parse_known_set(struct imap_parser *p, struct imap_seqset *set)
{
	if (imap_parse_seqset(p, set) < 0)
		return -1;
	if (imap_seqset_has_star(set))
		return imap_parse_fail(p, "'*' is not allowed in QRESYNC sets");
	return 0;
}

static uint64_t set_size(const struct imap_seqset *set)
{
	uint64_t n = 0;

	for (size_t i = 0; i < set->n; i++)
		n += set->r[i].lo <= set->r[i].hi ?
			(uint64_t)set->r[i].hi - set->r[i].lo + 1 :
			(uint64_t)set->r[i].lo - set->r[i].hi + 1;
	return n;
}

/* "(" uidvalidity SP mod-sequence-value [SP known-uids]
 * [SP seq-match-data] ")", seq-match-data = "(" known-sequence-set SP
 * known-uid-set ")" */
static int parse_qresync(struct imap_parser *p, struct imap_select_params *sp)
{
	if (imap_parse_sp(p) < 0 || imap_parse_char(p, '(') < 0 ||
	    imap_parse_nz_number(p, &sp->uidvalidity) < 0 ||
	    imap_parse_sp(p) < 0 || imap_parse_modseq(p, false, &sp->modseq) < 0)
		return -1;
	if (imap_parse_skip(p, ')'))
		return 0;
	if (imap_parse_sp(p) < 0)
		return -1;
	if (imap_parse_peek(p) != '(') {
		if (parse_known_set(p, &sp->known_uids) < 0)
			return -1;
		sp->have_known = true;
		if (imap_parse_skip(p, ')'))
			return 0;
		if (imap_parse_sp(p) < 0)
			return -1;
	}
	if (imap_parse_char(p, '(') < 0 ||
	    parse_known_set(p, &sp->match_seqs) < 0 || imap_parse_sp(p) < 0 ||
	    parse_known_set(p, &sp->match_uids) < 0 ||
	    imap_parse_char(p, ')') < 0)
		return -1;
	/* RFC 7162 3.2.5.2: both sets name the same messages */
	if (set_size(&sp->match_seqs) != set_size(&sp->match_uids))
		return imap_parse_fail(p, "QRESYNC sequence match sets differ "
				       "in size");
	sp->have_match = true;
	return imap_parse_char(p, ')');
}

int imap_parse_select_params(struct imap_parser *p,
			     struct imap_select_params *sp)
{
	if (imap_parse_at_end(p))
		return 0;
	if (imap_parse_sp(p) < 0 || imap_parse_char(p, '(') < 0)
		return -1;
	do {
		if (imap_parse_keyword(p, "CONDSTORE")) {
			sp->condstore = true;
		} else if (imap_parse_keyword(p, "QRESYNC")) {
			if (sp->qresync)
				return imap_parse_fail(p, "QRESYNC given twice");
			sp->qresync = true;
			if (parse_qresync(p, sp) < 0)
				return -1;
		} else {
			return imap_parse_fail(p, "Unknown SELECT parameter");
		}
	} while (imap_parse_skip(p, ' '));
	if (imap_parse_char(p, ')') < 0)
		return -1;
	return imap_parse_end(p);
}

int imap_parse_fetch_modifiers(struct imap_parser *p, uint64_t *changedsince,
			       bool *vanished)
{
	*changedsince = 0;
	*vanished = false;
	if (imap_parse_at_end(p))
		return 0;
	if (imap_parse_sp(p) < 0 || imap_parse_char(p, '(') < 0)
		return -1;
	do {
		if (imap_parse_keyword(p, "CHANGEDSINCE")) {
			if (*changedsince != 0)
				return imap_parse_fail(p, "CHANGEDSINCE given twice");
			/* RFC 7162 3.1.4.1: mod-sequence-value, not 0 */
			if (imap_parse_sp(p) < 0 ||
			    imap_parse_modseq(p, false, changedsince) < 0)
				return -1;
		} else if (imap_parse_keyword(p, "VANISHED")) {
			*vanished = true;
		} else {
			return imap_parse_fail(p, "Unknown FETCH modifier");
		}
	} while (imap_parse_skip(p, ' '));
	if (imap_parse_char(p, ')') < 0)
		return -1;
	/* RFC 7162 3.2.6: VANISHED only along with CHANGEDSINCE */
	if (*vanished && *changedsince == 0)
		return imap_parse_fail(p, "VANISHED needs CHANGEDSINCE");
	return imap_parse_end(p);
}

int imap_parse_store_modifiers(struct imap_parser *p, uint64_t *unchangedsince)
{
	*unchangedsince = UINT64_MAX;
	if (!imap_parse_skip(p, '('))
		return 0;
	/* RFC 7162 3.1.3: UNCHANGEDSINCE mod-sequence-valzer */
	if (!imap_parse_keyword(p, "UNCHANGEDSINCE"))
		return imap_parse_fail(p, "Unknown STORE modifier");
	if (imap_parse_sp(p) < 0 || imap_parse_modseq(p, true, unchangedsince) < 0 ||
	    imap_parse_char(p, ')') < 0 || imap_parse_sp(p) < 0)
		return -1;
	return 0;
}
