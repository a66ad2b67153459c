/* Search contexts and their updates (CONTEXT=SEARCH, RFC 5267 4). */
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "imapd/esearch.h"
#include "imapd/search-context.h"
#include "imapd/search.h"

struct imap_search_context {
	char *tag;
	bool uid;			/* UID SEARCH: UIDs in updates */
	struct imap_search *search;
	uint32_t *uids;			/* the result the client holds */
	size_t n;
	/* ADDTO computed with the REMOVEFROM, sent after EXISTS */
	uint32_t *added;
	size_t nadded, added_pos;
};

static struct imap_search_context *find(struct imap_session *s,
					const char *tag, size_t *idx_r)
{
	for (size_t i = 0; i < s->ncontexts; i++)
		if (strcmp(s->contexts[i]->tag, tag) == 0) {
			*idx_r = i;
			return s->contexts[i];
		}
	return NULL;
}

int imap_context_add(struct imap_cmd *cmd, struct imap_search **search,
		     const uint32_t *uids, size_t n)
{
	struct imap_session *s = cmd->s;
	struct imap_search_context *c;
	size_t idx;

	if (s->ncontexts >= IMAP_MAX_CONTEXTS ||
	    find(s, cmd->tag, &idx) != NULL)
		return -1;
	c = xcalloc(1, sizeof(*c));
	c->tag = xstrdup(cmd->tag);
	c->uid = cmd->uid;
	c->search = *search;
	*search = NULL;
	c->uids = xreallocarray(NULL, n + 1, sizeof(*c->uids));
	if (n > 0)
		memcpy(c->uids, uids, n * sizeof(*uids));
	c->n = n;
	s->contexts[s->ncontexts++] = c;
	return 0;
}

static void context_free(struct imap_search_context **cp)
{
	struct imap_search_context *c = *cp;

	free(c->tag);
	free(c->uids);
	free(c->added);
	imap_search_free(&c->search);
	free(c);
	*cp = NULL;
}

int imap_context_cancel(struct imap_session *s, const char *tag)
{
	size_t idx;

	if (find(s, tag, &idx) == NULL)
		return -1;
	context_free(&s->contexts[idx]);
	s->contexts[idx] = s->contexts[--s->ncontexts];
	return 0;
}

void imap_context_free_all(struct imap_session *s)
{
	while (s->ncontexts > 0)
		context_free(&s->contexts[--s->ncontexts]);
}

/* The sequence number the client knows for `uid` before the EXPUNGE
 * lines of ch: from the expunge list (ascending UIDs, descending
 * sequence numbers), or its place in the snapshot (in UID order) moved
 * up by the expunged messages before it. */
static uint32_t client_seq(struct imap_session *s,
			   const struct maildir_changes *ch, uint32_t uid)
{
	size_t count = maildir_box_count(s->box), before = 0;

	for (size_t i = 0; ch != NULL && i < ch->n_expunged; i++) {
		if (ch->expunged_uids[i] == uid)
			return ch->expunged_seqs[ch->n_expunged - 1 - i];
		if (ch->expunged_uids[i] < uid)
			before++;
	}
	for (size_t i = 0; i < count; i++)
		if (maildir_box_msg(s->box, i)->uid == uid)
			return (uint32_t)(i + 1 + before);
	return 0;
}

static void write_change(struct imap_session *s,
			 const struct imap_search_context *c, const char *what,
			 size_t pos, const uint32_t *numbers, size_t n)
{
	if (n == 0)
		return;
	buf_printf(s->out, "* ESEARCH (TAG \"%s\")%s %s (%zu ", c->tag,
		   c->uid ? " UID" : "", what, pos);
	imap_write_number_set(s->out, numbers, n);
	buf_puts(s->out, ")\r\n");
}

/* RFC 5267 4.3: the position is that of the first message in the
 * result (1-based); a search result is in ascending order, so one pair
 * with every message of the change is enough. */
static void context_update(struct imap_session *s,
			   struct imap_search_context *c,
			   const struct maildir_changes *ch)
{
	size_t count = maildir_box_count(s->box), n = 0, i = 0, j = 0;
	size_t nadd = 0, nrem = 0, add_pos = 0, rem_pos = 0;
	uint32_t *now = xreallocarray(NULL, count + 1, sizeof(*now));
	uint32_t *now_seq = xreallocarray(NULL, count + 1, sizeof(*now_seq));
	uint32_t *add = xreallocarray(NULL, count + 1, sizeof(*add));
	uint32_t *rem = xreallocarray(NULL, c->n + 1, sizeof(*rem));

	for (size_t k = 0; k < count; k++)
		if (imap_search_match(c->search, s->box, k)) {
			now_seq[n] = (uint32_t)(k + 1);
			now[n++] = maildir_box_msg(s->box, k)->uid;
		}
	while (i < c->n || j < n) {
		if (j == n || (i < c->n && c->uids[i] < now[j])) {
			if (nrem == 0)
				rem_pos = i + 1;
			rem[nrem++] = c->uid ? c->uids[i] :
				      client_seq(s, ch, c->uids[i]);
			i++;
		} else if (i == c->n || now[j] < c->uids[i]) {
			if (nadd == 0)
				add_pos = j + 1;
			add[nadd++] = c->uid ? now[j] : now_seq[j];
			j++;
		} else {
			i++;
			j++;
		}
	}
	write_change(s, c, "REMOVEFROM", rem_pos, rem, nrem);
	free(c->uids);
	c->uids = now;
	c->n = n;
	free(c->added);
	c->added = add;
	c->nadded = nadd;
	c->added_pos = add_pos;
	free(now_seq);
	free(rem);
}

void imap_context_removed(struct imap_session *s,
			  const struct maildir_changes *ch)
{
	if (s->box == NULL)
		return;
	for (size_t i = 0; i < s->ncontexts; i++)
		context_update(s, s->contexts[i], ch);
}

void imap_context_added(struct imap_session *s)
{
	for (size_t i = 0; i < s->ncontexts; i++) {
		struct imap_search_context *c = s->contexts[i];

		write_change(s, c, "ADDTO", c->added_pos, c->added, c->nadded);
		free(c->added);
		c->added = NULL;
		c->nadded = 0;
	}
}
