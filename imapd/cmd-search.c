/* SEARCH [RETURN (options)] [CHARSET <name>] <criteria> and UID SEARCH
 * (RFC 3501 6.4.4; RETURN: ESEARCH, RFC 4731; SAVE and "$": SEARCHRES,
 * RFC 5182). */
#include <stdlib.h>
#include <strings.h>

#include "common/xalloc.h"
#include "imapd/imap-int.h"
#include "imapd/search.h"
#include "maildir/mailbox.h"

enum {
	RET_GIVEN = 1 << 0,	/* RETURN (...) was there: answer ESEARCH */
	RET_MIN = 1 << 1,
	RET_MAX = 1 << 2,
	RET_ALL = 1 << 3,
	RET_COUNT = 1 << 4,
	RET_SAVE = 1 << 5,
};

static const struct {
	const char *name;
	unsigned bit;
} return_opts[] = {
	{ "MIN", RET_MIN }, { "MAX", RET_MAX }, { "ALL", RET_ALL },
	{ "COUNT", RET_COUNT }, { "SAVE", RET_SAVE },
};

/* ["RETURN" SP "(" [search-return-opt *(SP search-return-opt)] ")" SP]
 * (RFC 4731 4); *ret_r gets RET_* bits as they are read. */
static int parse_return(struct imap_parser *p, unsigned *ret_r)
{
	size_t i;

	if (!imap_parse_keyword(p, "RETURN"))
		return 0;
	*ret_r = RET_GIVEN;
	if (imap_parse_sp(p) < 0 || imap_parse_char(p, '(') < 0)
		return -1;
	while (!imap_parse_skip(p, ')')) {
		if (*ret_r != RET_GIVEN && imap_parse_sp(p) < 0)
			return -1;
		for (i = 0; i < sizeof(return_opts) / sizeof(*return_opts); i++)
			if (imap_parse_keyword(p, return_opts[i].name))
				break;
		if (i == sizeof(return_opts) / sizeof(*return_opts))
			return imap_parse_fail(p, "Unknown RETURN option");
		*ret_r |= return_opts[i].bit;
	}
	/* RFC 4731 3.1: RETURN () means RETURN (ALL) */
	if (*ret_r == RET_GIVEN)
		*ret_r |= RET_ALL;
	return imap_parse_sp(p);
}

/* numbers[0..n) ascending as a sequence-set: "2,4:7,9". */
static void write_set(struct buf *out, const uint32_t *numbers, size_t n)
{
	for (size_t i = 0; i < n; ) {
		size_t j = i;

		while (j + 1 < n && numbers[j + 1] == numbers[j] + 1)
			j++;
		buf_printf(out, i > 0 ? ",%u" : "%u", numbers[i]);
		if (j > i)
			buf_printf(out, ":%u", numbers[j]);
		i = j + 1;
	}
}

/* RFC 4731 3.1: * ESEARCH (TAG "x") [UID] [MIN n] [MAX n] [ALL set]
 * [COUNT n]; no MIN, MAX or ALL when nothing matched. */
static void write_esearch(struct imap_cmd *cmd, unsigned ret,
			  const uint32_t *numbers, size_t n)
{
	struct buf *out = cmd->s->out;

	/* a tag holds no '"' or '\' (RFC 3501 9, tag) */
	buf_printf(out, "* ESEARCH (TAG \"%s\")", cmd->tag);
	if (cmd->uid)
		buf_puts(out, " UID");
	if ((ret & RET_MIN) && n > 0)
		buf_printf(out, " MIN %u", numbers[0]);
	if ((ret & RET_MAX) && n > 0)
		buf_printf(out, " MAX %u", numbers[n - 1]);
	if ((ret & RET_ALL) && n > 0) {
		buf_puts(out, " ALL ");
		write_set(out, numbers, n);
	}
	if (ret & RET_COUNT)
		buf_printf(out, " COUNT %zu", n);
	buf_puts(out, "\r\n");
}

/* RFC 5182 2.1: with only MIN and/or MAX asked for, "$" holds just
 * those messages; otherwise every one found.  UIDs, so that expunges
 * take messages out of it. */
static void save_result(struct imap_session *s, unsigned ret,
			const uint32_t *uids, size_t n)
{
	imap_seqset_free(&s->search_saved);
	if (n == 0)
		return;
	if ((ret & (RET_MIN | RET_MAX)) && !(ret & (RET_ALL | RET_COUNT))) {
		if (ret & RET_MIN)
			imap_seqset_add(&s->search_saved, uids[0], uids[0]);
		if ((ret & RET_MAX) && (n > 1 || !(ret & RET_MIN)))
			imap_seqset_add(&s->search_saved, uids[n - 1],
					uids[n - 1]);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct imap_seqset *saved = &s->search_saved;

		if (saved->n > 0 && saved->r[saved->n - 1].hi + 1 == uids[i])
			saved->r[saved->n - 1].hi = uids[i];
		else
			imap_seqset_add(saved, uids[i], uids[i]);
	}
}

static void search_run(struct imap_cmd *cmd, struct imap_search *search,
		       unsigned ret)
{
	struct imap_session *s = cmd->s;
	size_t count = maildir_box_count(s->box), n = 0;
	uint32_t *numbers = xreallocarray(NULL, count + 1, sizeof(*numbers));
	uint32_t *uids = xreallocarray(NULL, count + 1, sizeof(*uids));

	imap_search_use_saved(search, &s->search_saved);
	imap_search_prepare(search);
	for (size_t i = 0; i < count; i++) {
		if (!imap_search_match(search, s->box, i))
			continue;
		uids[n] = maildir_box_msg(s->box, i)->uid;
		numbers[n] = cmd->uid ? uids[n] : (uint32_t)(i + 1);
		n++;
	}
	if (ret & RET_SAVE)
		save_result(s, ret, uids, n);
	if (ret & (RET_MIN | RET_MAX | RET_ALL | RET_COUNT)) {
		write_esearch(cmd, ret, numbers, n);
	} else if (!(ret & RET_GIVEN)) {
		buf_puts(s->out, "* SEARCH");
		for (size_t i = 0; i < n; i++)
			buf_printf(s->out, " %u", numbers[i]);
		buf_puts(s->out, "\r\n");
	}
	free(numbers);
	free(uids);
}

void cmd_search(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	struct imap_search *search = NULL;
	char *charset = NULL;
	unsigned ret = 0;

	if (imap_parse_sp(&cmd->p) < 0 || parse_return(&cmd->p, &ret) < 0 ||
	    imap_parse_search(&cmd->p, &charset, &search) < 0) {
		imap_cmd_parse_error(cmd);
	} else if (charset != NULL && !imap_charset_ok(charset)) {
		imap_cmd_no(cmd, "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
	} else {
		if (cmd->uid) {
			/* a UID command may see expunges first (RFC 3501
			 * 7.4.1) */
			imap_send_updates(s, false);
			cmd->updates_done = true;
		}
		search_run(cmd, search, ret);
		imap_cmd_ok(cmd, "SEARCH completed");
		ret &= ~RET_SAVE;
	}
	/* RFC 5182 2.1: a SEARCH with SAVE that fails empties "$" */
	if (ret & RET_SAVE)
		imap_seqset_free(&s->search_saved);
	free(charset);
	imap_search_free(&search);
}
