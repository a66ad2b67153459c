/* IDLE (RFC 2177): the session waits for DONE while changes made by any
 * other session or process to the selected folder are pushed as they
 * happen.  The folder is watched through the process's shared change
 * notification (maildir/notify.h): a change wakes the session, which syncs
 * on a worker and sends EXISTS, EXPUNGE and FETCH FLAGS. */
#include <strings.h>

#include "common/log.h"
#include "imapd/imap-int.h"
#include "maildir/notify.h"

/* The loop tells the store's notification to dispatch. */
static void notify_ready(void *arg)
{
	(void)arg;
	maildir_notify_dispatch();
}

static void update_work(void *arg)
{
	struct imap_session *s = arg;

	s->out = &s->work_out;
	imap_send_updates(s, false);
	s->out = &s->io->out;
}

static void update_start(struct imap_session *s);

static void update_done(void *arg)
{
	struct imap_session *s = arg;

	s->idle_syncing = false;
	imap_work_done(s);
	/* a change that came while the sync ran may have been missed by it */
	if (s->idling && s->idle_dirty)
		update_start(s);
}

static void update_start(struct imap_session *s)
{
	s->idle_dirty = false;
	s->idle_syncing = true;
	s->io->defer(s->io, update_work, update_done, s);
}

/* A change in the selected folder (called from maildir_notify_dispatch
 * on the loop thread). */
static void idle_wake(void *arg)
{
	struct imap_session *s = arg;

	s->idle_dirty = true;
	if (s->idling && !s->idle_syncing && !s->io->close)
		update_start(s);
}

/* IDLE */
void cmd_idle(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	int fd;

	if (imap_cmd_end(cmd) < 0)
		return;
	/* RFC 5465 4: after NOTIFY, IDLE sends what NOTIFY asked for, and
	 * NOTIFY delivers it (notify-deliver.c) */
	if (imap_notify_handles_idle(s)) {
		cmd->async = true;
		s->idling = true;
		buf_puts(s->out, "+ idling\r\n");
		return;
	}
	if (s->box != NULL) {
		fd = maildir_notify_fd();
		s->idle_watch = fd < 0 ? NULL :
			maildir_watch_box(s->box, idle_wake, s);
		if (s->idle_watch == NULL) {
			log_msg("imap", s->io->id, "IDLE: cannot watch %s: %m",
				s->box_name);
			imap_cmd_no(cmd, "[UNAVAILABLE] Cannot watch the mailbox "
				    "for changes; poll with NOOP");
			return;
		}
		if (s->io->watch_fd != NULL)
			s->io->watch_fd(s->io, fd, notify_ready, NULL);
	}
	cmd->async = true;
	s->idling = true;
	buf_puts(s->out, "+ idling\r\n");
	/* what changed before the watch began goes out now */
	if (s->box != NULL)
		update_start(s);
}

static void finish_work(void *arg)
{
	struct imap_session *s = arg;

	s->out = &s->work_out;
	/* IDLE runs inline, so imap_cmd_finish would not sync */
	imap_send_updates(s, false);
	imap_cmd_finish(&s->cmd);
	s->out = &s->io->out;
}

/* The line that ends IDLE: "DONE" in any case, or anything else, which
 * ends it too with BAD, as Dovecot does.  The final updates and the
 * tagged reply come from a worker (they sync the folder). */
void imap_idle_line(struct imap_session *s, const char *line, size_t len,
		    bool valid)
{
	struct imap_cmd *cmd = &s->cmd;

	s->idling = false;
	maildir_watch_free(&s->idle_watch);
	if (valid && len == 4 && strncasecmp(line, "DONE", 4) == 0)
		imap_cmd_ok(cmd, "IDLE terminated");
	else
		imap_cmd_bad(cmd, "Expected DONE");
	if (s->state == IMAP_SELECTED && s->io->defer != NULL) {
		s->io->defer(s->io, finish_work, imap_work_done, s);
		return;
	}
	imap_cmd_finish(cmd);
	imap_work_done(s);
}

void imap_idle_free(struct imap_session *s)
{
	s->idling = false;
	maildir_watch_free(&s->idle_watch);
}
