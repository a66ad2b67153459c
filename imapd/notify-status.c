/* NOTIFY's view of the folders other than the selected one (worker
 * thread): which ones the session watches, their counts, and the STATUS
 * and LIST responses their changes bring (RFC 5465 5.1-5.5). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "imapd/imap-int.h"
#include "imapd/notify.h"
#include "imapd/writer.h"
#include "maildir/folder.h"
#include "maildir/name.h"
#include "maildir/notify.h"

enum {
	ST_MESSAGES = 1 << 0,
	ST_UIDNEXT = 1 << 1,
	ST_UIDVALIDITY = 1 << 2,
	ST_HIGHESTMODSEQ = 1 << 3,
};

void notify_folders_free(struct notify_folder *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i].name);
	free(list);
}

/* The identity of a folder's directory (notify_folder.ino). */
static void folder_id(struct imap_session *s, struct notify_folder *f)
{
	struct buf dir = BUF_INIT(BUF_UNLIMITED);
	struct buf path = BUF_INIT(BUF_UNLIMITED);
	char err[256];
	struct statx st;

	if ((f->attrs & MAILDIR_FOLDER_NOSELECT) == 0 &&
	    maildir_folder_dir(f->name, &dir, err, sizeof(err)) == 0) {
		buf_printf(&path, "%s/%s", maildir_store_path(s->store),
			   buf_cstr(&dir));
		if (statx(AT_FDCWD, buf_cstr(&path), 0,
			  STATX_INO | STATX_BTIME, &st) == 0) {
			f->dev = makedev(st.stx_dev_major, st.stx_dev_minor);
			f->ino = st.stx_ino;
			if (st.stx_mask & STATX_BTIME) {
				f->btime_sec = st.stx_btime.tv_sec;
				f->btime_nsec = st.stx_btime.tv_nsec;
			}
		}
	}
	buf_free(&dir);
	buf_free(&path);
}

int notify_read_folders(struct imap_session *s, struct imap_notify *n,
			struct notify_folder **list_r, size_t *n_r)
{
	struct maildir_folder *list;
	size_t count;
	char err[256];

	(void)n;
	if (maildir_folder_list(s->store, &list, &count, err, sizeof(err)) < 0) {
		log_msg("imap", s->io->id, "NOTIFY: %s", err);
		return -1;
	}
	*list_r = xcalloc(count > 0 ? count : 1, sizeof(**list_r));
	for (size_t i = 0; i < count; i++) {
		(*list_r)[i].name = xstrdup(list[i].name);
		(*list_r)[i].attrs = list[i].attrs;
		folder_id(s, &(*list_r)[i]);
	}
	*n_r = count;
	maildir_folder_list_free(list, count);
	return 0;
}

void notify_box_free(struct notify_box *b)
{
	if (b == NULL)
		return;
	maildir_watch_free(&b->watch);
	free(b->name);
	free(b);
}

static bool is_selected(const struct imap_session *s, const char *name)
{
	return s->box_name != NULL && strcmp(s->box_name, name) == 0;
}

static struct notify_box *find_box(const struct imap_notify *n,
				   const char *name)
{
	for (size_t i = 0; i < n->nboxes; i++)
		if (strcmp(n->boxes[i]->name, name) == 0)
			return n->boxes[i];
	return NULL;
}

int notify_match_boxes(struct imap_session *s, struct imap_notify *n,
		       const struct notify_folder *list, size_t nlist,
		       struct notify_box ***boxes_r, size_t *n_r)
{
	struct notify_box **boxes = NULL;
	size_t count = 0;
	char err[256];

	for (size_t i = 0; i < nlist; i++) {
		unsigned events = notify_spec_events(&n->spec, list[i].name,
			list[i].attrs & MAILDIR_FOLDER_SUBSCRIBED) &
			NOTIFY_MESSAGE_EVENTS;
		struct notify_box *b;

		if (events == 0 || (list[i].attrs & MAILDIR_FOLDER_NOSELECT))
			continue;
		if (count >= NOTIFY_MAX_WATCHED) {
			for (size_t j = 0; j < count; j++)
				if (find_box(n, boxes[j]->name) != boxes[j])
					notify_box_free(boxes[j]);
			free(boxes);
			return -1;
		}
		boxes = xreallocarray(boxes, count + 1, sizeof(*boxes));
		b = find_box(n, list[i].name);
		if (b != NULL) {
			/* only workers read events; the loop puts the new
			 * array in place when the job is done */
			b->events = events;
			boxes[count++] = b;
			continue;
		}
		b = xcalloc(1, sizeof(*b));
		b->s = s;
		b->name = xstrdup(list[i].name);
		b->events = events;
		b->have_info = !is_selected(s, b->name) &&
			maildir_folder_status(s->store, b->name, &b->info, err,
					      sizeof(err)) == 0;
		boxes[count++] = b;
	}
	*boxes_r = boxes;
	*n_r = count;
	return 0;
}

static void write_status(struct imap_session *s, const char *name,
			 const struct maildir_box_info *info, unsigned items)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{ ST_MESSAGES, "MESSAGES" }, { ST_UIDNEXT, "UIDNEXT" },
		{ ST_UIDVALIDITY, "UIDVALIDITY" },
		{ ST_HIGHESTMODSEQ, "HIGHESTMODSEQ" },
	};
	bool first = true;

	buf_puts(s->out, "* STATUS ");
	imap_write_box_name(s, s->out, name);
	buf_puts(s->out, " (");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		uint64_t v = 0;

		if (!(items & names[i].bit))
			continue;
		switch (names[i].bit) {
		case ST_MESSAGES: v = info->messages; break;
		case ST_UIDNEXT: v = info->uidnext; break;
		case ST_UIDVALIDITY: v = info->uidvalidity; break;
		case ST_HIGHESTMODSEQ: v = info->highestmodseq; break;
		}
		if (!first)
			buf_putc(s->out, ' ');
		first = false;
		buf_printf(s->out, "%s ", names[i].name);
		imap_write_number(s->out, v);
	}
	buf_puts(s->out, ")\r\n");
}

void notify_send_initial_status(struct imap_session *s,
				const struct notify_box *b)
{
	unsigned items = 0;

	if (!b->have_info)
		return;
	/* RFC 5465 3.1: MESSAGES, UIDNEXT and UIDVALIDITY for MessageNew;
	 * MESSAGES for MessageExpunge; UIDVALIDITY and HIGHESTMODSEQ for
	 * FlagChange */
	if (b->events & NOTIFY_MESSAGE_NEW)
		items |= ST_MESSAGES | ST_UIDNEXT | ST_UIDVALIDITY;
	if (b->events & NOTIFY_MESSAGE_EXPUNGE)
		items |= ST_MESSAGES;
	if (b->events & NOTIFY_FLAG_CHANGE)
		items |= ST_UIDVALIDITY | ST_HIGHESTMODSEQ;
	if (items != 0)
		write_status(s, b->name, &b->info, items);
}

void notify_box_changed(struct imap_session *s, struct notify_box *b)
{
	struct maildir_box_info now, *was = &b->info;
	unsigned items = 0;
	char err[256];
	bool counts;

	if (maildir_folder_status(s->store, b->name, &now, err,
				  sizeof(err)) < 0)
		return;		/* gone: MailboxName tells, if asked */
	if (is_selected(s, b->name)) {
		/* its events are the SELECTED group's; the counts follow,
		 * so that after it is left only later changes are told */
		b->info = now;
		b->have_info = true;
		return;
	}
	if (!b->have_info) {
		b->info = now;
		b->have_info = true;
		return;
	}
	counts = now.messages != was->messages || now.uidnext != was->uidnext;
	/* RFC 5465 5.2, 5.3: STATUS (UIDNEXT MESSAGES), with HIGHESTMODSEQ
	 * once CONDSTORE or QRESYNC is on */
	if (counts && (b->events & (NOTIFY_MESSAGE_NEW | NOTIFY_MESSAGE_EXPUNGE))) {
		items |= ST_MESSAGES | ST_UIDNEXT;
		if (s->condstore)
			items |= ST_HIGHESTMODSEQ;
	}
	/* RFC 5465 5.1: at least UIDVALIDITY and HIGHESTMODSEQ */
	if (now.highestmodseq != was->highestmodseq &&
	    (b->events & NOTIFY_FLAG_CHANGE))
		items |= ST_UIDVALIDITY | ST_HIGHESTMODSEQ;
	if (now.uidvalidity != was->uidvalidity)
		items |= ST_UIDVALIDITY | ST_MESSAGES | ST_UIDNEXT;
	if (items != 0)
		write_status(s, b->name, &now, items);
	b->info = now;
}

static const struct notify_folder *find_folder(const struct notify_folder *v,
					       size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	return NULL;
}

static bool wants(const struct notify_spec *spec, const char *name,
		  unsigned attrs, unsigned event)
{
	return notify_spec_events(spec, name,
				  attrs & MAILDIR_FOLDER_SUBSCRIBED) & event;
}

/* The folder of `cur` that `gone` became by a rename: one new in cur
 * with the same directory. */
static const struct notify_folder *
renamed_to(const struct notify_folder *gone, const struct notify_folder *old,
	   size_t nold, const struct notify_folder *cur, size_t ncur)
{
	if (gone->ino == 0 || strcasecmp(gone->name, "INBOX") == 0)
		return NULL;	/* RENAME INBOX moves its messages (RFC 3501
				 * 6.3.5): INBOX stays, the new one is new */
	for (size_t i = 0; i < ncur; i++)
		if (cur[i].ino == gone->ino && cur[i].dev == gone->dev &&
		    cur[i].btime_sec == gone->btime_sec &&
		    cur[i].btime_nsec == gone->btime_nsec &&
		    find_folder(old, nold, cur[i].name) == NULL)
			return &cur[i];
	return NULL;
}

/* RFC 5465 5.4: LIST for a new folder; \NonExistent for one that went;
 * for a renamed one, LIST of the new name with the OLDNAME extended data
 * item (RFC 5258 3.3), once, when the old or the new name is watched.
 * 5.5: LIST with or without \Subscribed. */
void notify_send_list_changes(struct imap_session *s,
			      const struct notify_spec *spec,
			      const struct notify_folder *old, size_t nold,
			      const struct notify_folder *cur, size_t ncur)
{
	bool *renamed = xcalloc(ncur > 0 ? ncur : 1, sizeof(*renamed));

	for (size_t i = 0; i < nold; i++) {
		const struct notify_folder *to;

		if (find_folder(cur, ncur, old[i].name) != NULL ||
		    (old[i].attrs & MAILDIR_FOLDER_NOSELECT))
			continue;
		to = renamed_to(&old[i], old, nold, cur, ncur);
		if (to != NULL) {
			renamed[to - cur] = true;
			if (wants(spec, old[i].name, old[i].attrs,
				  NOTIFY_MAILBOX_NAME) ||
			    wants(spec, to->name, to->attrs,
				  NOTIFY_MAILBOX_NAME))
				imap_write_list_oldname(s, to->attrs, to->name,
							old[i].name);
			continue;
		}
		if (wants(spec, old[i].name, old[i].attrs, NOTIFY_MAILBOX_NAME))
			imap_write_list(s, "LIST", IMAP_LIST_NONEXISTENT,
					old[i].name, NULL);
	}
	for (size_t i = 0; i < ncur; i++) {
		const struct notify_folder *was = find_folder(old, nold,
							      cur[i].name);
		unsigned sub = MAILDIR_FOLDER_SUBSCRIBED;

		if ((cur[i].attrs & MAILDIR_FOLDER_NOSELECT) || renamed[i])
			continue;
		if (was == NULL || (was->attrs & MAILDIR_FOLDER_NOSELECT)) {
			if (wants(spec, cur[i].name, cur[i].attrs,
				  NOTIFY_MAILBOX_NAME))
				imap_write_list(s, "LIST", cur[i].attrs,
						cur[i].name, NULL);
			continue;
		}
		if ((was->attrs & sub) != (cur[i].attrs & sub) &&
		    (wants(spec, cur[i].name, cur[i].attrs,
			   NOTIFY_SUBSCRIPTION_CHANGE) ||
		     wants(spec, was->name, was->attrs,
			   NOTIFY_SUBSCRIPTION_CHANGE)))
			imap_write_list(s, "LIST", cur[i].attrs, cur[i].name,
					NULL);
	}
	free(renamed);
}

/* ---- changes the session made itself (RFC 5465 5) ---- */

/* Whether folder `name` is `own`, above it or below it: what CREATE,
 * DELETE, RENAME or SUBSCRIBE of `own` may have changed. */
static bool related(const char *name, const char *own)
{
	size_t n = strlen(name), o = strlen(own);

	if (n == o)
		return strcmp(name, own) == 0;
	if (n < o)
		return strncmp(own, name, n) == 0 && own[n] == MAILDIR_DELIMITER;
	return strncmp(name, own, o) == 0 && name[o] == MAILDIR_DELIMITER;
}

static bool related2(const char *name, const char *own, const char *own2)
{
	return related(name, own) || (own2 != NULL && related(name, own2));
}

static void copy_folder(struct notify_folder *to,
			const struct notify_folder *from)
{
	*to = *from;
	to->name = xstrdup(from->name);
}

/* The list the session last saw, with the folders related to own/own2
 * as they are now and every other one as it was: what others changed
 * meanwhile is still told. */
static void own_list(struct imap_session *s, struct imap_notify *n,
		     const char *own, const char *own2)
{
	struct notify_folder *cur, *next;
	size_t ncur, k = 0;

	if (n->folders == NULL || notify_read_folders(s, n, &cur, &ncur) < 0)
		return;
	next = xcalloc(ncur + n->nfolders + 1, sizeof(*next));
	for (size_t i = 0; i < ncur; i++) {
		const struct notify_folder *was;

		if (related2(cur[i].name, own, own2)) {
			copy_folder(&next[k++], &cur[i]);
			continue;
		}
		was = find_folder(n->folders, n->nfolders, cur[i].name);
		if (was != NULL)
			copy_folder(&next[k++], was);
	}
	for (size_t i = 0; i < n->nfolders; i++)
		if (!related2(n->folders[i].name, own, own2) &&
		    find_folder(cur, ncur, n->folders[i].name) == NULL)
			copy_folder(&next[k++], &n->folders[i]);
	notify_folders_free(cur, ncur);
	notify_folders_free(n->folders, n->nfolders);
	n->folders = next;
	n->nfolders = k;
}

/* The counts of the box the session changed, as they are now. */
static void own_box(struct imap_session *s, struct imap_notify *n,
		    const char *own)
{
	struct notify_box *b = find_box(n, own);
	struct maildir_box_info now;
	char err[256];

	if (b != NULL && b->have_info &&
	    maildir_folder_status(s->store, own, &now, err, sizeof(err)) == 0)
		b->info = now;
}

void imap_notify_own(struct imap_session *s, const char *own,
		     const char *own2, bool list)
{
	struct imap_notify *states[] = { s->notify, s->notify_next };

	for (size_t i = 0; i < 2; i++) {
		if (states[i] == NULL)
			continue;
		if (list)
			own_list(s, states[i], own, own2);
		else
			own_box(s, states[i], own);
	}
}
