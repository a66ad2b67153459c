/* NOTIFY's events reach the client as they happen, between commands and
 * during IDLE (RFC 5465 1, 4), not only when a command ends.  The store's
 * change notification (maildir/notify.h) wakes the session on the loop
 * thread; when the session is quiet (no command running, nothing half
 * read, no other job out) one job on a worker reads what changed and
 * writes the untagged responses.  Changes that come while the session is
 * busy wait for the end of what it is doing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "imapd/imap-int.h"
#include "imapd/notify.h"
#include "maildir/folder.h"
#include "maildir/name.h"
#include "maildir/notify.h"

static void notify_ready(void *arg)
{
	(void)arg;
	maildir_notify_dispatch();
}

/* ---- wake-ups (loop thread, from maildir_notify_dispatch) ---- */

static void box_wake(void *arg)
{
	struct notify_box *b = arg;

	b->dirty = true;
	imap_notify_poke(b->s);
}

static void root_wake(void *arg)
{
	struct imap_session *s = arg;

	s->notify->list_dirty = true;
	imap_notify_poke(s);
}

static void sel_wake(void *arg)
{
	struct imap_session *s = arg;

	s->notify->sel_dirty = true;
	imap_notify_poke(s);
}

/* ---- state ---- */

static bool in_boxes(struct notify_box *const *v, size_t n,
		     const struct notify_box *b)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == b)
			return true;
	return false;
}

void imap_notify_state_free(struct imap_notify *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->nnext_boxes; i++)
		if (!in_boxes(n->boxes, n->nboxes, n->next_boxes[i]))
			notify_box_free(n->next_boxes[i]);
	free(n->next_boxes);
	for (size_t i = 0; i < n->nboxes; i++)
		notify_box_free(n->boxes[i]);
	free(n->boxes);
	notify_folders_free(n->folders, n->nfolders);
	maildir_watch_free(&n->root_watch);
	maildir_watch_free(&n->sel_watch);
	free(n->sel_name);
	notify_spec_free(&n->spec);
	free(n);
}

void imap_notify_free(struct imap_session *s)
{
	imap_notify_state_free(s->notify);
	s->notify = NULL;
	imap_notify_state_free(s->notify_next);
	s->notify_next = NULL;
}

static int watch_box(struct imap_session *s, struct notify_box *b)
{
	struct buf dir = BUF_INIT(BUF_UNLIMITED);
	struct buf path = BUF_INIT(BUF_UNLIMITED);
	char err[256];

	if (b->watch != NULL)
		return 0;
	if (maildir_folder_dir(b->name, &dir, err, sizeof(err)) == 0) {
		buf_printf(&path, "%s/%s", maildir_store_path(s->store),
			   buf_cstr(&dir));
		b->watch = maildir_watch_path(buf_cstr(&path), box_wake, b);
	}
	buf_free(&dir);
	buf_free(&path);
	return b->watch != NULL ? 0 : -1;
}

/* RFC 5465 5.8: what cannot be watched is not reported; say so, and
 * behave as after NOTIFY NONE. */
static void overflow(struct imap_session *s)
{
	log_msg("imap", s->io->id, "NOTIFY: cannot watch the mailboxes: %m");
	imap_notify_state_free(s->notify);
	s->notify = NULL;
	imap_untagged(s, "OK [NOTIFICATIONOVERFLOW] Too many notifications: "
		      "NOTIFY is off");
}

void imap_notify_install(struct imap_session *s, struct imap_notify *n)
{
	int fd;

	imap_notify_state_free(s->notify);
	s->notify = n;
	if (n == NULL)
		return;
	fd = maildir_notify_fd();
	if (fd < 0) {
		overflow(s);
		return;
	}
	if (s->io->watch_fd != NULL)
		s->io->watch_fd(s->io, fd, notify_ready, NULL);
	if (notify_spec_watches_list(&n->spec)) {
		n->root_watch = maildir_watch_dir(maildir_store_path(s->store),
						  root_wake, s);
		if (n->root_watch == NULL) {
			overflow(s);
			return;
		}
	}
	for (size_t i = 0; i < n->nboxes; i++)
		if (watch_box(s, n->boxes[i]) < 0) {
			overflow(s);
			return;
		}
}

/* The selected folder is watched while SELECTED asks for its events. */
static void track_selected(struct imap_session *s, struct imap_notify *n)
{
	bool want = s->box != NULL && n->spec.has_selected &&
		(n->spec.selected_events & NOTIFY_SUPPORTED) != 0;

	if (want && n->sel_name != NULL && strcmp(n->sel_name, s->box_name) == 0)
		return;
	maildir_watch_free(&n->sel_watch);
	free(n->sel_name);
	n->sel_name = NULL;
	if (!want)
		return;
	n->sel_watch = maildir_watch_box(s->box, sel_wake, s);
	if (n->sel_watch == NULL) {
		overflow(s);
		return;
	}
	n->sel_name = xstrdup(s->box_name);
}

/* ---- the job ---- */

/* The folder list changed: LIST responses, and the boxes to watch now. */
static void list_work(struct imap_session *s, struct imap_notify *n)
{
	struct notify_folder *cur;
	size_t ncur;

	if (notify_read_folders(s, n, &cur, &ncur) < 0)
		return;
	notify_send_list_changes(s, &n->spec, n->folders, n->nfolders, cur,
				 ncur);
	notify_folders_free(n->folders, n->nfolders);
	n->folders = cur;
	n->nfolders = ncur;
	if (notify_match_boxes(s, n, cur, ncur, &n->next_boxes,
			       &n->nnext_boxes) < 0)
		n->overflow = true;
	else
		n->have_next_boxes = true;
}

static void notify_work(void *arg)
{
	struct imap_session *s = arg;
	struct imap_notify *n = s->notify;

	s->out = &s->work_out;
	if (n->sel_pending) {
		size_t count = maildir_box_count(s->box);

		n->sel_last_uid = count > 0 ?
			maildir_box_msg(s->box, count - 1)->uid : 0;
		/* RFC 5465 6.1.2: with SELECTED-DELAYED an expunge waits for
		 * a command that may report it (RFC 3501 7.4.1), such as
		 * NOOP or IDLE; new messages and flag changes do not, as in
		 * Dovecot (MAILBOX_SYNC_FLAG_NO_EXPUNGES) */
		if (n->spec.selected_delayed && !s->idling)
			imap_send_updates_held(s);
		else
			imap_send_updates(s, false);
		count = maildir_box_count(s->box);
		n->sel_new = s->box != NULL && count > 0 &&
			maildir_box_msg(s->box, count - 1)->uid > n->sel_last_uid;
	}
	if (n->list_pending)
		list_work(s, n);
	for (size_t i = 0; i < n->nboxes; i++)
		if (n->boxes[i]->pending)
			notify_box_changed(s, n->boxes[i]);
	s->out = &s->io->out;
}

/* Puts the boxes list_work chose in place: watches for the new ones,
 * the dropped ones freed. */
static void replace_boxes(struct imap_session *s, struct imap_notify *n)
{
	for (size_t i = 0; i < n->nboxes; i++)
		if (!in_boxes(n->next_boxes, n->nnext_boxes, n->boxes[i]))
			notify_box_free(n->boxes[i]);
	free(n->boxes);
	n->boxes = n->next_boxes;
	n->nboxes = n->nnext_boxes;
	n->next_boxes = NULL;
	n->nnext_boxes = 0;
	n->have_next_boxes = false;
	for (size_t i = 0; i < n->nboxes; i++)
		if (watch_box(s, n->boxes[i]) < 0) {
			overflow(s);
			return;
		}
}

static void notify_done(void *arg)
{
	struct imap_session *s = arg;
	struct imap_notify *n = s->notify;

	n->job_out = false;
	n->sel_pending = n->list_pending = false;
	for (size_t i = 0; i < n->nboxes; i++)
		n->boxes[i]->pending = false;
	if (n->overflow) {
		errno = EMFILE;
		overflow(s);
	} else if (n->have_next_boxes) {
		replace_boxes(s, n);
	}
	/* RFC 5465 5.2: the FETCH asked for follows the EXISTS (which
	 * imap_work_done puts out first) */
	if (s->notify != NULL && n->sel_new && n->spec.has_fetch &&
	    imap_fetch_unsolicited(s, n->spec.fetch_text, n->sel_last_uid) < 0)
		log_msg("imap", s->io->id, "NOTIFY: no FETCH for new messages");
	if (s->notify != NULL)
		n->sel_new = false;
	imap_work_done(s);
}

/* Nothing else is going on: output now cannot split another response,
 * and no command's sequence numbers can move under it (RFC 3501 7.4.1;
 * in IDLE a command is in progress, RFC 2177). */
static bool quiet(const struct imap_session *s)
{
	/* io->compress: output from now on must wait for the switch
	 * (RFC 4978 3) */
	if (s->notify->job_out || s->io->close || s->close_after ||
	    s->io->compress || s->io->starttls ||
	    s->fetch != NULL || s->box_loading || s->box_load_out ||
	    s->in_sasl || s->discarding || s->idle_syncing ||
	    s->io->defer == NULL)
		return false;
	if (s->idling)
		return true;	/* its command text stays until DONE */
	return !s->running && !imap_cmdbuf_pending(&s->input);
}

void imap_notify_poke(struct imap_session *s)
{
	struct imap_notify *n;
	bool sel, boxes = false;

	/* a worker may be using the session: its done callback pokes */
	if (s->io->jobs_out > 0)
		return;
	if (s->notify_set && !s->running) {
		s->notify_set = false;
		imap_notify_install(s, s->notify_next);
		s->notify_next = NULL;
	}
	n = s->notify;
	if (n == NULL)
		return;
	track_selected(s, n);
	if (s->notify == NULL || !quiet(s))
		return;
	n = s->notify;
	/* SELECTED-DELAYED (RFC 5465 6.1.2): notify_work holds the
	 * expunges back; IDLE may report those held so far */
	if (s->idling && n->spec.selected_delayed && s->box != NULL &&
	    maildir_box_held(s->box) > 0)
		n->sel_dirty = true;
	sel = n->sel_dirty && n->sel_watch != NULL;
	for (size_t i = 0; i < n->nboxes; i++)
		boxes |= n->boxes[i]->dirty;
	if (!sel && !n->list_dirty && !boxes)
		return;
	n->sel_pending = sel;
	if (sel)
		n->sel_dirty = false;
	n->list_pending = n->list_dirty;
	n->list_dirty = false;
	for (size_t i = 0; i < n->nboxes; i++) {
		n->boxes[i]->pending = n->boxes[i]->dirty;
		n->boxes[i]->dirty = false;
	}
	n->job_out = true;
	s->io->defer(s->io, notify_work, notify_done, s);
}

bool imap_notify_handles_idle(const struct imap_session *s)
{
	return s->notify != NULL || s->notify_set;
}
