/* CONDSTORE and QRESYNC (RFC 7162) in the session: enabling, the
 * HIGHESTMODSEQ of SELECT, VANISHED (EARLIER) and the resync at SELECT. */
#include <stdlib.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "imapd/imap-int.h"
#include "imapd/writer.h"
#include "maildir/mailbox.h"

/* seq-match-data is walked pair by pair: at most this many pairs */
#define SEQ_MATCH_BUDGET 1000000

void imap_condstore_enable(struct imap_session *s)
{
	if (s->condstore)
		return;
	s->condstore = true;
	/* RFC 7162 3.1: the first CONDSTORE-enabling command with a
	 * mailbox selected tells its HIGHESTMODSEQ */
	if (s->box != NULL)
		imap_untagged(s, "OK [HIGHESTMODSEQ %llu] Highest",
			      (unsigned long long)imap_highestmodseq(s));
}

void imap_qresync_enable(struct imap_session *s)
{
	imap_condstore_enable(s);
	s->qresync = true;
}

void imap_modseq_sent(struct imap_session *s, uint64_t modseq)
{
	if (modseq > s->modseq_sent)
		s->modseq_sent = modseq;
}

void imap_write_msg_modseq(struct imap_session *s, size_t idx, bool always,
			   struct buf *out)
{
	uint64_t modseq;

	if (!always && !s->condstore)
		return;
	modseq = maildir_box_msg(s->box, idx)->modseq;
	imap_modseq_sent(s, modseq);
	buf_puts(out, " MODSEQ (");
	imap_write_number(out, modseq);
	buf_putc(out, ')');
}

static int cmp_range(const void *a, const void *b)
{
	const struct imap_seq_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* A UID set as sorted, merged ranges with lo <= hi; '*' is UINT32_MAX,
 * so that "1:*" also covers the UIDs above the highest one left. */
static void normalize(const struct imap_seqset *in, struct imap_seqset *out)
{
	size_t n = 0;

	for (size_t i = 0; i < in->n; i++) {
		uint32_t lo = in->r[i].lo, hi = in->r[i].hi;

		lo = lo == IMAP_SEQ_STAR ? UINT32_MAX : lo;
		hi = hi == IMAP_SEQ_STAR ? UINT32_MAX : hi;
		imap_seqset_add(out, lo < hi ? lo : hi, lo < hi ? hi : lo);
	}
	if (out->n > 1)
		qsort(out->r, out->n, sizeof(*out->r), cmp_range);
	for (size_t i = 0; i < out->n; i++) {
		if (n > 0 && (uint64_t)out->r[i].lo <= (uint64_t)out->r[n - 1].hi + 1) {
			if (out->r[i].hi > out->r[n - 1].hi)
				out->r[n - 1].hi = out->r[i].hi;
			continue;
		}
		out->r[n++] = out->r[i];
	}
	out->n = n;
}

/* Ranges "3:5,9" (RFC 3501 9, sequence-set). */
static void write_ranges(struct buf *out, const struct imap_seqset *set)
{
	for (size_t i = 0; i < set->n; i++) {
		if (i > 0)
			buf_putc(out, ',');
		imap_write_number(out, set->r[i].lo);
		if (set->r[i].hi != set->r[i].lo) {
			buf_putc(out, ':');
			imap_write_number(out, set->r[i].hi);
		}
	}
}

/* Adds [lo, hi] intersected with `within` (normalized; NULL: all) to
 * out; *j is where to start looking in within (the calls come in UID
 * order). */
static void add_within(struct imap_seqset *out, uint32_t lo, uint32_t hi,
		       const struct imap_seqset *within, size_t *j)
{
	if (within == NULL) {
		imap_seqset_add(out, lo, hi);
		return;
	}
	while (*j < within->n && within->r[*j].hi < lo)
		(*j)++;
	for (size_t k = *j; k < within->n && within->r[k].lo <= hi; k++)
		imap_seqset_add(out, within->r[k].lo > lo ? within->r[k].lo : lo,
				within->r[k].hi < hi ? within->r[k].hi : hi);
}

/* RFC 7162 3.2.5.2: the highest UID the client holds at the sequence
 * number this session shows it at.  Nothing below it can have been
 * expunged since: no UID below it is new, and as many are left. */
static uint32_t seq_match_floor(struct maildir_box *box,
				const struct imap_seqset *seqs,
				const struct imap_seqset *uids)
{
	size_t count = maildir_box_count(box), i = 0, j = 0;
	uint64_t so = 0, uo = 0, budget = SEQ_MATCH_BUDGET;
	uint32_t best = 0;

	while (i < seqs->n && j < uids->n && budget > 0) {
		const struct imap_seq_range *sr = &seqs->r[i], *ur = &uids->r[j];
		uint64_t slo = sr->lo < sr->hi ? sr->lo : sr->hi;
		uint64_t slen = (sr->lo < sr->hi ? sr->hi - sr->lo :
				 sr->lo - sr->hi) + 1ULL;
		uint64_t ulo = ur->lo < ur->hi ? ur->lo : ur->hi;
		uint64_t ulen = (ur->lo < ur->hi ? ur->hi - ur->lo :
				 ur->lo - ur->hi) + 1ULL;
		uint64_t step = slen - so < ulen - uo ? slen - so : ulen - uo;
		uint64_t seq0 = slo + so, uid0 = ulo + uo;

		for (uint64_t k = 0; k < step && seq0 + k <= count && budget > 0;
		     k++, budget--)
			if (maildir_box_msg(box, (size_t)(seq0 + k - 1))->uid ==
			    uid0 + k && uid0 + k > best)
				best = (uint32_t)(uid0 + k);
		so += step;
		uo += step;
		if (so == slen) {
			i++;
			so = 0;
		}
		if (uo == ulen) {
			j++;
			uo = 0;
		}
	}
	return best;
}

/* When the log does not reach back: every UID below UIDNEXT above
 * `floor` that the session does not show. */
static void gaps(struct maildir_box *box, uint32_t floor,
		 const struct imap_seqset *within, struct imap_seqset *out)
{
	struct maildir_box_info info;
	size_t count = maildir_box_count(box), j = 0;
	uint32_t prev = floor;

	maildir_box_info(box, &info);
	for (size_t i = 0; i < count; i++) {
		uint32_t uid = maildir_box_msg(box, i)->uid;

		if (uid <= prev)
			continue;
		if (uid > prev + 1)
			add_within(out, prev + 1, uid - 1, within, &j);
		prev = uid;
	}
	if (info.uidnext > 1 && info.uidnext - 1 > prev)
		add_within(out, prev + 1, info.uidnext - 1, within, &j);
}

int imap_send_vanished_earlier(struct imap_session *s, uint64_t since,
			       const struct imap_seqset *within,
			       const struct imap_seqset *match_seqs,
			       const struct imap_seqset *match_uids)
{
	struct imap_seqset norm, out;
	uint32_t *uids;
	size_t n, j = 0;
	bool complete;

	if (maildir_box_vanished(s->box, since, &uids, &n, &complete) < 0) {
		log_msg("imap", s->io->id, "expunge log of %s: read failed",
			s->box_name);
		return -1;
	}
	imap_seqset_init(&norm);
	imap_seqset_init(&out);
	if (within != NULL)
		normalize(within, &norm);
	if (complete) {
		for (size_t i = 0; i < n; i++)
			add_within(&out, uids[i], uids[i],
				   within != NULL ? &norm : NULL, &j);
	} else {
		uint32_t floor = match_seqs != NULL && match_uids != NULL ?
			seq_match_floor(s->box, match_seqs, match_uids) : 0;

		gaps(s->box, floor, within != NULL ? &norm : NULL, &out);
	}
	if (out.n > 0) {
		struct imap_seqset merged;

		imap_seqset_init(&merged);
		normalize(&out, &merged);
		buf_puts(s->out, "* VANISHED (EARLIER) ");
		write_ranges(s->out, &merged);
		buf_puts(s->out, "\r\n");
		imap_seqset_free(&merged);
	}
	imap_seqset_free(&norm);
	imap_seqset_free(&out);
	free(uids);
	return 0;
}

/* "* n FETCH (UID u FLAGS (...) MODSEQ (m))" */
static void write_changed(struct imap_session *s, size_t idx)
{
	buf_puts(s->out, "* ");
	imap_write_number(s->out, idx + 1);
	buf_puts(s->out, " FETCH (UID ");
	imap_write_number(s->out, maildir_box_msg(s->box, idx)->uid);
	buf_puts(s->out, " FLAGS ");
	imap_write_msg_flags(s, idx, s->out);
	imap_write_msg_modseq(s, idx, true, s->out);
	buf_puts(s->out, ")\r\n");
}

void imap_select_modseq(struct imap_cmd *cmd,
			const struct imap_select_params *sp)
{
	struct imap_session *s = cmd->s;
	struct maildir_box_info info;
	struct imap_seqset known;
	size_t count, j = 0;

	maildir_box_info(s->box, &info);
	s->modseq_sent = 0;
	s->modseq_full = imap_highestmodseq(s);
	if (s->condstore)
		imap_untagged(s, "OK [HIGHESTMODSEQ %llu] Highest",
			      (unsigned long long)s->modseq_full);
	/* RFC 7162 3.2.5: another UIDVALIDITY: a plain SELECT */
	if (!sp->qresync || sp->uidvalidity != info.uidvalidity)
		return;
	imap_send_vanished_earlier(s, sp->modseq,
				   sp->have_known ? &sp->known_uids : NULL,
				   sp->have_match ? &sp->match_seqs : NULL,
				   sp->have_match ? &sp->match_uids : NULL);
	imap_seqset_init(&known);
	normalize(&sp->known_uids, &known);
	count = maildir_box_count(s->box);
	for (size_t i = 0; i < count; i++) {
		const struct maildir_msg *m = maildir_box_msg(s->box, i);

		if (m->modseq <= sp->modseq)
			continue;
		if (sp->have_known) {
			while (j < known.n && known.r[j].hi < m->uid)
				j++;
			if (j == known.n || known.r[j].lo > m->uid)
				continue;
		}
		write_changed(s, i);
	}
	imap_seqset_free(&known);
}
