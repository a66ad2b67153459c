#ifndef IMAPD_NOTIFY_H
#define IMAPD_NOTIFY_H
/* NOTIFY (RFC 5465), internal to imapd/: what a client asked for
 * (notify-parse.c), the command (cmd-notify.c) and the delivery of the
 * events between commands and during IDLE (notify-deliver.c,
 * notify-status.c), on the store's shared change notification
 * (maildir/notify.h): one inotify watch per folder however many sessions
 * wait on it, no polling. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "imapd/parser.h"
#include "maildir/mailbox.h"

struct imap_session;
struct maildir_watch;

/* RFC 5465 5: the events, as bits. */
enum {
	NOTIFY_MESSAGE_NEW = 1 << 0,
	NOTIFY_MESSAGE_EXPUNGE = 1 << 1,
	NOTIFY_FLAG_CHANGE = 1 << 2,
	NOTIFY_ANNOTATION_CHANGE = 1 << 3,
	NOTIFY_MAILBOX_NAME = 1 << 4,
	NOTIFY_SUBSCRIPTION_CHANGE = 1 << 5,
	NOTIFY_MAILBOX_METADATA_CHANGE = 1 << 6,
	NOTIFY_SERVER_METADATA_CHANGE = 1 << 7,
	NOTIFY_EVENT_UNKNOWN = 1 << 8,	/* an event-ext this server lacks */
};
/* message-event (RFC 5465 8) */
#define NOTIFY_MESSAGE_EVENTS (NOTIFY_MESSAGE_NEW | NOTIFY_MESSAGE_EXPUNGE | \
			       NOTIFY_FLAG_CHANGE | NOTIFY_ANNOTATION_CHANGE)
/* What this server can report: no ANNOTATE, no METADATA (RFC 5465 5.1,
 * 5.6, 5.7 make those optional without the extensions). */
#define NOTIFY_SUPPORTED (NOTIFY_MESSAGE_NEW | NOTIFY_MESSAGE_EXPUNGE | \
			  NOTIFY_FLAG_CHANGE | NOTIFY_MAILBOX_NAME | \
			  NOTIFY_SUBSCRIPTION_CHANGE)
/* The BADEVENT list: the supported events (RFC 5465 3.1). */
#define NOTIFY_SUPPORTED_NAMES "MessageNew MessageExpunge FlagChange " \
	"MailboxName SubscriptionChange"

/* RFC 5465 6: filter-mailboxes. */
enum notify_filter {
	NOTIFY_SELECTED,
	NOTIFY_SELECTED_DELAYED,
	NOTIFY_INBOXES,
	NOTIFY_PERSONAL,
	NOTIFY_SUBSCRIBED,
	NOTIFY_SUBTREE,
	NOTIFY_MAILBOXES,
};

/* At most this many mailbox names in one NOTIFY, and this many mailboxes
 * watched for one session: beyond, NO [NOTIFICATIONOVERFLOW] (RFC 5465
 * 3.1 allows refusing what is too expensive). */
#define NOTIFY_MAX_NAMES 100
#define NOTIFY_MAX_WATCHED 1000

struct notify_group {
	enum notify_filter filter;
	unsigned events;	/* NOTIFY_* bits; 0: NONE */
	char **names;		/* SUBTREE, MAILBOXES */
	size_t nnames;
};

/* A parsed NOTIFY command. */
struct notify_spec {
	bool none;		/* NOTIFY NONE */
	bool status;		/* the STATUS indicator */
	struct notify_group *groups;
	size_t ngroups;
	/* the SELECTED / SELECTED-DELAYED group, if any */
	bool has_selected;
	bool selected_delayed;
	unsigned selected_events;
	/* MessageNew's fetch-att list for the selected mailbox (RFC 5465
	 * 5.2), when given */
	bool has_fetch;
	struct imap_fetch fetch;
	char *fetch_text;	/* as the client wrote it, parsed again for
				   each FETCH (imap_fetch_unsolicited) */
	size_t nnames;		/* mailbox names given, all groups */
	unsigned used;		/* every event named */
};

/* Parses what follows "NOTIFY" (p at the SP).  0; or -1 with p->error
 * set (BAD: syntax, or the rules of RFC 5465 5 and 6.1).  Unknown and
 * unsupported events parse: spec->used says which were asked. */
int imap_notify_parse(struct imap_parser *p, struct notify_spec *spec);
void notify_spec_free(struct notify_spec *spec);
/* The events the non-selected groups ask for folder `name` (subscribed:
 * whether it is).  The selected mailbox is the caller's to leave out. */
unsigned notify_spec_events(const struct notify_spec *spec, const char *name,
			    bool subscribed);
/* Whether some group names folders that may not exist yet or depends on
 * the folder list (every non-selected group does). */
bool notify_spec_watches_list(const struct notify_spec *spec);

/* A non-selected folder the session watches. */
struct notify_box {
	struct imap_session *s;
	char *name;
	unsigned events;
	struct maildir_watch *watch;
	bool dirty;		/* a change came (loop thread) */
	bool pending;		/* the running job looks at it */
	bool have_info;		/* info holds its last counts */
	struct maildir_box_info info;	/* worker-owned */
};

/* A folder as the session last saw it (MailboxName, SubscriptionChange). */
struct notify_folder {
	char *name;
	unsigned attrs;		/* MAILDIR_FOLDER_* */
	/* its directory, which rename(2) keeps: a folder that went and one
	 * that came with the same are a rename (RFC 5465 5.4), as Dovecot
	 * matches its mailbox GUIDs.  The birth time tells a directory
	 * made in a freed inode from the old one (0 where the file system
	 * has none); ino 0 for an implicit parent. */
	dev_t dev;
	ino_t ino;
	int64_t btime_sec;
	uint32_t btime_nsec;
};

/* A session's NOTIFY state (s->notify). */
struct imap_notify {
	struct notify_spec spec;
	struct notify_box **boxes;	/* sorted by name */
	size_t nboxes;
	struct notify_folder *folders;	/* worker-owned */
	size_t nfolders;
	struct maildir_watch *root_watch;	/* the user's Maildir */
	struct maildir_watch *sel_watch;	/* the selected folder */
	char *sel_name;			/* what sel_watch watches */
	bool installed;		/* watches set up (loop thread) */
	bool list_dirty, sel_dirty;	/* changes came (loop thread) */
	bool job_out;		/* a delivery runs on a worker */
	/* a job's result for the loop: the boxes watched from now on (old
	 * ones reused, by name), when the folder list changed */
	struct notify_box **next_boxes;
	size_t nnext_boxes;
	bool have_next_boxes;
	bool list_pending, sel_pending;
	uint32_t sel_last_uid;	/* MessageNew fetch: UIDs above it */
	bool sel_new;		/* the job found new messages */
	bool overflow;		/* watching failed: NOTIFICATIONOVERFLOW */
};

/* notify-status.c (worker thread): the folder list and the boxes. */
/* Reads the folder list (with \Subscribed) into n->folders. */
int notify_read_folders(struct imap_session *s, struct imap_notify *n,
			struct notify_folder **list_r, size_t *n_r);
void notify_folders_free(struct notify_folder *list, size_t n);
/* The boxes the spec watches in that list: those n->boxes has already
 * are reused (their events updated), new ones get their counts read now.
 * -1 when there are too many (NOTIFY_MAX_WATCHED). */
int notify_match_boxes(struct imap_session *s, struct imap_notify *n,
		       const struct notify_folder *list, size_t nlist,
		       struct notify_box ***boxes_r, size_t *n_r);
void notify_box_free(struct notify_box *b);
/* "* STATUS" with the items RFC 5465 3.1 names for its events. */
void notify_send_initial_status(struct imap_session *s,
				const struct notify_box *b);
/* Reads b's counts again and sends what changed (RFC 5465 5.1-5.3). */
void notify_box_changed(struct imap_session *s, struct notify_box *b);
/* LIST for folders made, deleted or (un)subscribed since `old` (RFC 5465
 * 5.4, 5.5). */
void notify_send_list_changes(struct imap_session *s,
			      const struct notify_spec *spec,
			      const struct notify_folder *old, size_t nold,
			      const struct notify_folder *cur, size_t ncur);

/* The session itself changed folder `own` (and `own2`, RENAME's new
 * name): RFC 5465 5 says the server SHOULD NOT tell the client what it
 * caused.  list: the folder list (CREATE, DELETE, RENAME, SUBSCRIBE),
 * else the messages of `own` (APPEND, COPY, MOVE, leaving a selected
 * mailbox).  What the session last saw is brought up to date for those
 * folders only.  Called on the thread running the command. */
void imap_notify_own(struct imap_session *s, const char *own,
		     const char *own2, bool list);

/* notify-deliver.c (loop thread). */
/* Installs a new state (NULL: NOTIFY NONE), freeing the old one. */
void imap_notify_install(struct imap_session *s, struct imap_notify *n);
void imap_notify_state_free(struct imap_notify *n);

#endif
