/* RETURN options and the ESEARCH response (RFC 4731, RFC 5267 3, RFC
 * 5182). */
#include "imapd/esearch.h"

static const struct {
	const char *name;
	unsigned bit;
} return_opts[] = {
	{ "MIN", IMAP_RET_MIN }, { "MAX", IMAP_RET_MAX },
	{ "ALL", IMAP_RET_ALL }, { "COUNT", IMAP_RET_COUNT },
	{ "SAVE", IMAP_RET_SAVE }, { "UPDATE", IMAP_RET_UPDATE },
	{ "PARTIAL", IMAP_RET_PARTIAL },
};

/* RFC 5267 4.4: partial-range = nz-number ":" nz-number, no "*" */
static int parse_partial(struct imap_parser *p, uint32_t partial_r[2])
{
	uint32_t a, b;

	if (imap_parse_sp(p) < 0 || imap_parse_nz_number(p, &a) < 0 ||
	    imap_parse_char(p, ':') < 0 || imap_parse_nz_number(p, &b) < 0)
		return imap_parse_fail(p, "Invalid PARTIAL range");
	partial_r[0] = a < b ? a : b;
	partial_r[1] = a < b ? b : a;
	return 0;
}

int imap_parse_return(struct imap_parser *p, unsigned *ret_r,
		      uint32_t partial_r[2])
{
	size_t i;

	*ret_r = 0;
	if (!imap_parse_keyword(p, "RETURN"))
		return 0;
	*ret_r = IMAP_RET_GIVEN;
	if (imap_parse_sp(p) < 0 || imap_parse_char(p, '(') < 0)
		return -1;
	while (!imap_parse_skip(p, ')')) {
		if (*ret_r != IMAP_RET_GIVEN && imap_parse_sp(p) < 0)
			return -1;
		for (i = 0; i < sizeof(return_opts) / sizeof(*return_opts); i++)
			if (imap_parse_keyword(p, return_opts[i].name))
				break;
		if (i == sizeof(return_opts) / sizeof(*return_opts))
			return imap_parse_fail(p, "Unknown RETURN option");
		*ret_r |= return_opts[i].bit;
		if (return_opts[i].bit == IMAP_RET_PARTIAL &&
		    parse_partial(p, partial_r) < 0)
			return -1;
	}
	/* RFC 4731 3.1, RFC 5267 3.3: RETURN () means RETURN (ALL); RFC
	 * 5267 4.4: PARTIAL instead of ALL, not both */
	if ((*ret_r & IMAP_RET_PARTIAL) && (*ret_r & IMAP_RET_ALL))
		return imap_parse_fail(p, "PARTIAL and ALL together");
	if (*ret_r == IMAP_RET_GIVEN)
		*ret_r |= IMAP_RET_ALL;
	return imap_parse_sp(p);
}

void imap_write_number_set(struct buf *out, const uint32_t *numbers,
			   size_t n)
{
	for (size_t i = 0; i < n; ) {
		size_t j = i;

		while (j + 1 < n && numbers[j] != UINT32_MAX &&
		       numbers[j + 1] == numbers[j] + 1)
			j++;
		buf_printf(out, i > 0 ? ",%u" : "%u", numbers[i]);
		if (j > i)
			buf_printf(out, ":%u", numbers[j]);
		i = j + 1;
	}
}

/* RFC 7162 3.1.5: the highest modseq of the messages returned: all that
 * matched for ALL or COUNT, else those MIN and MAX name; 0 when none. */
static uint64_t returned_modseq(unsigned ret, const uint64_t *modseqs,
				size_t n)
{
	uint64_t max = 0;

	if (modseqs == NULL || n == 0)
		return 0;
	if (ret & (IMAP_RET_ALL | IMAP_RET_COUNT)) {
		for (size_t i = 0; i < n; i++)
			if (modseqs[i] > max)
				max = modseqs[i];
		return max;
	}
	if (ret & IMAP_RET_MIN)
		max = modseqs[0];
	if ((ret & IMAP_RET_MAX) && modseqs[n - 1] > max)
		max = modseqs[n - 1];
	return max;
}

/* RFC 4731 3.1: no MIN, MAX or ALL when nothing matched. */
static void write_esearch(struct imap_cmd *cmd, unsigned ret,
			  const uint32_t *numbers, const uint64_t *modseqs,
			  size_t n)
{
	uint64_t modseq = returned_modseq(ret, modseqs, n);
	const uint32_t *partial = cmd->partial;
	struct buf *out = cmd->s->out;

	/* a tag holds no '"' or '\' (RFC 3501 9, tag) */
	buf_printf(out, "* ESEARCH (TAG \"%s\")", cmd->tag);
	if (cmd->uid)
		buf_puts(out, " UID");
	if ((ret & IMAP_RET_MIN) && n > 0)
		buf_printf(out, " MIN %u", numbers[0]);
	if ((ret & IMAP_RET_MAX) && n > 0)
		buf_printf(out, " MAX %u", numbers[n - 1]);
	if ((ret & IMAP_RET_ALL) && n > 0) {
		buf_puts(out, " ALL ");
		imap_write_number_set(out, numbers, n);
	}
	if (ret & IMAP_RET_COUNT)
		buf_printf(out, " COUNT %zu", n);
	if (ret & IMAP_RET_PARTIAL) {
		/* RFC 5267 4.4: positions lo..hi (1-based) of the result,
		 * NIL when none of them exists */
		buf_printf(out, " PARTIAL (%u:%u ", partial[0], partial[1]);
		if (partial[0] > n) {
			buf_puts(out, "NIL");
		} else {
			size_t hi = partial[1] < n ? partial[1] : n;

			imap_write_number_set(out, numbers + partial[0] - 1,
					      hi - partial[0] + 1);
		}
		buf_puts(out, ")");
	}
	if (modseq > 0)
		buf_printf(out, " MODSEQ %llu", (unsigned long long)modseq);
	buf_puts(out, "\r\n");
}

static void save_uid(struct imap_seqset *saved, uint32_t uid)
{
	if (saved->n > 0 && saved->r[saved->n - 1].hi != UINT32_MAX &&
	    saved->r[saved->n - 1].hi + 1 == uid)
		saved->r[saved->n - 1].hi = uid;
	else
		imap_seqset_add(saved, uid, uid);
}

/* What "$" holds (UIDs, so that expunges take messages out of it).  RFC
 * 5182 2.1: the messages the result options returned when only MIN and/or
 * MAX were asked for, otherwise every one found.  RFC 9394 3.1 carries the
 * first rule over to PARTIAL: the messages of the requested range (with
 * MIN/MAX when asked too), not every one found, even with COUNT; so
 * "SEARCH RETURN (SAVE PARTIAL 1:100)" then "FETCH $" pages through a
 * result. */
static void save_result(struct imap_session *s, unsigned ret,
			const uint32_t partial[2], const uint32_t *uids,
			size_t n)
{
	size_t lo = 0, hi = 0;	/* PARTIAL's indexes [lo, hi) */
	bool some = (ret & (IMAP_RET_MIN | IMAP_RET_MAX | IMAP_RET_PARTIAL)) &&
		(!(ret & (IMAP_RET_ALL | IMAP_RET_COUNT)) ||
		 (ret & IMAP_RET_PARTIAL));

	imap_seqset_free(&s->search_saved);
	if (n == 0)
		return;
	if (!some) {
		for (size_t i = 0; i < n; i++)
			save_uid(&s->search_saved, uids[i]);
		return;
	}
	if ((ret & IMAP_RET_PARTIAL) && partial[0] <= n) {
		lo = partial[0] - 1;
		hi = partial[1] < n ? partial[1] : n;
	}
	/* once each: MIN, the range, MAX (n - 1 may be 0, MIN's) */
	if ((ret & IMAP_RET_MIN) && !(lo == 0 && hi > 0))
		save_uid(&s->search_saved, uids[0]);
	for (size_t i = lo; i < hi; i++)
		save_uid(&s->search_saved, uids[i]);
	if ((ret & IMAP_RET_MAX) && !(hi == n && hi > lo) &&
	    (n > 1 || !(ret & IMAP_RET_MIN)))
		save_uid(&s->search_saved, uids[n - 1]);
}

void imap_return_results(struct imap_cmd *cmd, unsigned ret,
			 const uint32_t *numbers, const uint32_t *uids,
			 const uint64_t *modseqs, size_t n)
{
	if (ret & IMAP_RET_SAVE)
		save_result(cmd->s, ret, cmd->partial, uids, n);
	if (ret & IMAP_RET_DATA)
		write_esearch(cmd, ret, numbers, modseqs, n);
}
