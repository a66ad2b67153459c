/* The NOTIFY command's arguments (RFC 5465 8):
 *   notify = "NOTIFY" SP (notify-set / notify-none)
 *   notify-set = "SET" [SP "STATUS"] SP event-group *(SP event-group)
 *   event-group = "(" filter-mailboxes SP events ")"
 *   events = "(" event *(SP event) ")" / "NONE"
 * and the rules on them that RFC 5465 5 and 6.1 answer with BAD. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/xalloc.h"
#include "imapd/notify.h"
#include "maildir/folder.h"

static const struct {
	const char *name;
	unsigned bit;
} event_names[] = {
	{ "MessageNew", NOTIFY_MESSAGE_NEW },
	{ "MessageExpunge", NOTIFY_MESSAGE_EXPUNGE },
	{ "FlagChange", NOTIFY_FLAG_CHANGE },
	{ "AnnotationChange", NOTIFY_ANNOTATION_CHANGE },
	{ "MailboxName", NOTIFY_MAILBOX_NAME },
	{ "SubscriptionChange", NOTIFY_SUBSCRIPTION_CHANGE },
	{ "MailboxMetadataChange", NOTIFY_MAILBOX_METADATA_CHANGE },
	{ "ServerMetadataChange", NOTIFY_SERVER_METADATA_CHANGE },
};

static const struct {
	const char *name;
	enum notify_filter filter;
} filter_names[] = {
	{ "SELECTED", NOTIFY_SELECTED },
	{ "SELECTED-DELAYED", NOTIFY_SELECTED_DELAYED },
	{ "INBOXES", NOTIFY_INBOXES },
	{ "PERSONAL", NOTIFY_PERSONAL },
	{ "SUBSCRIBED", NOTIFY_SUBSCRIBED },
	{ "SUBTREE", NOTIFY_SUBTREE },
	{ "MAILBOXES", NOTIFY_MAILBOXES },
};

void notify_spec_free(struct notify_spec *spec)
{
	for (size_t i = 0; i < spec->ngroups; i++) {
		for (size_t j = 0; j < spec->groups[i].nnames; j++)
			free(spec->groups[i].names[j]);
		free(spec->groups[i].names);
	}
	free(spec->groups);
	imap_fetch_free(&spec->fetch);
	free(spec->fetch_text);
	memset(spec, 0, sizeof(*spec));
}

static unsigned event_bit(const char *name)
{
	for (size_t i = 0; i < sizeof(event_names) / sizeof(event_names[0]); i++)
		if (strcasecmp(event_names[i].name, name) == 0)
			return event_names[i].bit;
	return NOTIFY_EVENT_UNKNOWN;
}

static int parse_filter(struct imap_parser *p, enum notify_filter *f_r,
			struct buf *word)
{
	if (imap_parse_atom(p, word) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(filter_names) / sizeof(filter_names[0]); i++)
		if (strcasecmp(filter_names[i].name, buf_cstr(word)) == 0) {
			*f_r = filter_names[i].filter;
			return 0;
		}
	return imap_parse_fail(p, "Unknown NOTIFY mailbox filter");
}

static int add_name(struct imap_parser *p, struct notify_spec *spec,
		    struct notify_group *g, struct buf *word)
{
	if (imap_parse_mailbox(p, word) < 0)
		return -1;
	g->names = xreallocarray(g->names, g->nnames + 1, sizeof(*g->names));
	g->names[g->nnames++] = xstrdup(buf_cstr(word));
	spec->nnames++;
	return 0;
}

/* one-or-more-mailbox = mailbox / "(" mailbox *(SP mailbox) ")" */
static int parse_names(struct imap_parser *p, struct notify_spec *spec,
		       struct notify_group *g, struct buf *word)
{
	if (!imap_parse_skip(p, '('))
		return add_name(p, spec, g, word);
	do {
		if (add_name(p, spec, g, word) < 0)
			return -1;
	} while (imap_parse_skip(p, ' '));
	return imap_parse_char(p, ')');
}

/* MessageNew's "(" fetch-att *(SP fetch-att) ")": for the selected
 * mailbox only, the FETCH sent after its EXISTS (RFC 5465 5.2). */
static int parse_fetch_atts(struct imap_parser *p, struct notify_spec *spec,
			    const struct notify_group *g)
{
	size_t start = p->pos;

	if (g->filter != NOTIFY_SELECTED && g->filter != NOTIFY_SELECTED_DELAYED)
		return imap_parse_fail(p, "MessageNew fetch attributes are "
				       "for the selected mailbox only");
	if (spec->has_fetch)
		return imap_parse_fail(p, "Duplicate MessageNew fetch attributes");
	if (imap_parse_fetch(p, &spec->fetch) < 0)
		return -1;
	spec->has_fetch = true;
	spec->fetch_text = xstrndup(p->data + start, p->pos - start);
	/* RFC 5465 5.2: the client SHOULD NOT ask for what sets \Seen; a
	 * notification never changes the mailbox */
	if (imap_fetch_sets_seen(&spec->fetch))
		return imap_parse_fail(p, "MessageNew fetch attributes must not "
				       "set \\Seen (use BODY.PEEK)");
	return 0;
}

/* events = "(" event *(SP event) ")" / "NONE" */
static int parse_events(struct imap_parser *p, struct notify_spec *spec,
			struct notify_group *g, struct buf *word)
{
	if (imap_parse_keyword(p, "NONE"))
		return 0;
	if (imap_parse_char(p, '(') < 0)
		return -1;
	do {
		unsigned bit;

		if (imap_parse_atom(p, word) < 0)
			return -1;
		bit = event_bit(buf_cstr(word));
		g->events |= bit;
		if (bit == NOTIFY_MESSAGE_NEW && imap_parse_peek(p) == ' ' &&
		    p->pos + 1 < p->len && p->data[p->pos + 1] == '(') {
			imap_parse_sp(p);
			if (parse_fetch_atts(p, spec, g) < 0)
				return -1;
		}
	} while (imap_parse_skip(p, ' '));
	return imap_parse_char(p, ')');
}

/* RFC 5465 5 and 6.1: the combinations a client must not ask for. */
static int check_group(struct imap_parser *p, struct notify_spec *spec,
		       const struct notify_group *g)
{
	const unsigned new_exp = NOTIFY_MESSAGE_NEW | NOTIFY_MESSAGE_EXPUNGE;
	bool selected = g->filter == NOTIFY_SELECTED ||
		g->filter == NOTIFY_SELECTED_DELAYED;

	if (!selected)
		return 0;
	if (spec->has_selected)
		return imap_parse_fail(p, "Only one SELECTED or SELECTED-DELAYED "
				       "group is allowed");
	spec->has_selected = true;
	spec->selected_delayed = g->filter == NOTIFY_SELECTED_DELAYED;
	spec->selected_events = g->events;
	if (g->events & ~(NOTIFY_MESSAGE_EVENTS | NOTIFY_EVENT_UNKNOWN))
		return imap_parse_fail(p, "Only message events are allowed for "
				       "the selected mailbox");
	/* Both rules of RFC 5465 5, applied where they matter: to the
	 * selected mailbox, whose sequence numbers they keep in step.
	 * Elsewhere the events only bring STATUS, and a lone MessageNew
	 * or FlagChange is accepted there, as Dovecot does (imaptest's
	 * "notify" script relies on it). */
	if ((g->events & new_exp) != 0 && (g->events & new_exp) != new_exp)
		return imap_parse_fail(p, "MessageNew and MessageExpunge must "
				       "be given together");
	if ((g->events & (NOTIFY_FLAG_CHANGE | NOTIFY_ANNOTATION_CHANGE)) &&
	    (g->events & new_exp) != new_exp)
		return imap_parse_fail(p, "FlagChange needs MessageNew and "
				       "MessageExpunge");
	return 0;
}

static int parse_group(struct imap_parser *p, struct notify_spec *spec,
		       struct buf *word)
{
	struct notify_group *g;

	if (imap_parse_char(p, '(') < 0)
		return -1;
	spec->groups = xreallocarray(spec->groups, spec->ngroups + 1,
				     sizeof(*spec->groups));
	g = &spec->groups[spec->ngroups++];
	memset(g, 0, sizeof(*g));
	if (parse_filter(p, &g->filter, word) < 0 || imap_parse_sp(p) < 0)
		return -1;
	if ((g->filter == NOTIFY_SUBTREE || g->filter == NOTIFY_MAILBOXES) &&
	    (parse_names(p, spec, g, word) < 0 || imap_parse_sp(p) < 0))
		return -1;
	if (parse_events(p, spec, g, word) < 0 || imap_parse_char(p, ')') < 0)
		return -1;
	spec->used |= g->events;
	return check_group(p, spec, g);
}

int imap_notify_parse(struct imap_parser *p, struct notify_spec *spec)
{
	struct buf word = BUF_INIT(1024);
	int ret = -1;

	memset(spec, 0, sizeof(*spec));
	if (imap_parse_sp(p) < 0)
		goto out;
	if (imap_parse_keyword(p, "NONE")) {
		spec->none = true;
		ret = imap_parse_end(p);
		goto out;
	}
	if (!imap_parse_keyword(p, "SET")) {
		imap_parse_fail(p, "Expected NOTIFY SET or NOTIFY NONE");
		goto out;
	}
	if (imap_parse_sp(p) < 0)
		goto out;
	if (imap_parse_keyword(p, "STATUS")) {
		spec->status = true;
		if (imap_parse_sp(p) < 0)
			goto out;
	}
	do {
		if (parse_group(p, spec, &word) < 0)
			goto out;
	} while (imap_parse_skip(p, ' '));
	ret = imap_parse_end(p);
out:
	buf_free(&word);
	return ret;
}

static bool in_subtree(const char *top, const char *name)
{
	size_t n = strlen(top);

	if (strcasecmp(top, "INBOX") == 0 && strncasecmp(name, "INBOX", 5) == 0)
		return name[5] == '\0' || name[5] == MAILDIR_DELIMITER;
	return strncmp(top, name, n) == 0 &&
		(name[n] == '\0' || name[n] == MAILDIR_DELIMITER);
}

static bool group_has(const struct notify_group *g, const char *name,
		      bool subscribed)
{
	switch (g->filter) {
	case NOTIFY_SELECTED:
	case NOTIFY_SELECTED_DELAYED:
		return false;
	case NOTIFY_INBOXES:
		/* RFC 5465 6.3: every folder may receive mail here (a
		 * user+folder address delivers into it), so INBOXES is
		 * PERSONAL */
	case NOTIFY_PERSONAL:
		return true;	/* RFC 5465 6.2: one namespace, the user's */
	case NOTIFY_SUBSCRIBED:
		return subscribed;	/* RFC 5465 6.4 */
	case NOTIFY_SUBTREE:	/* RFC 5465 6.5 */
		for (size_t i = 0; i < g->nnames; i++)
			if (in_subtree(g->names[i], name))
				return true;
		return false;
	case NOTIFY_MAILBOXES:	/* RFC 5465 6.6: no wildcards */
		for (size_t i = 0; i < g->nnames; i++)
			if (strcmp(g->names[i], name) == 0)
				return true;
		return false;
	}
	return false;
}

unsigned notify_spec_events(const struct notify_spec *spec, const char *name,
			    bool subscribed)
{
	unsigned events = 0;

	for (size_t i = 0; i < spec->ngroups; i++)
		if (group_has(&spec->groups[i], name, subscribed))
			events |= spec->groups[i].events;
	return events & NOTIFY_SUPPORTED;
}

bool notify_spec_watches_list(const struct notify_spec *spec)
{
	for (size_t i = 0; i < spec->ngroups; i++)
		if (spec->groups[i].filter != NOTIFY_SELECTED &&
		    spec->groups[i].filter != NOTIFY_SELECTED_DELAYED &&
		    (spec->groups[i].events & NOTIFY_SUPPORTED))
			return true;
	return false;
}
