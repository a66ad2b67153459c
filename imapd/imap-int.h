#ifndef IMAPD_IMAP_INT_H
#define IMAPD_IMAP_INT_H
/* The IMAP session and its command handlers (internal to imapd/). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/auth.h"
#include "common/buf.h"
#include "common/fault.h"
#include "common/proto.h"
#include "common/sasl.h"
#include "imapd/parser.h"
#include "imapd/seqset.h"

struct maildir_store;
struct maildir_box;
struct maildir_delivery;
struct imap_fetch_job;
struct imap_append_literal;

/* RFC 3501 3: the states, as bits so a command lists where it is allowed. */
enum imap_state {
	IMAP_NOT_AUTH = 1 << 0,
	IMAP_AUTH = 1 << 1,
	IMAP_SELECTED = 1 << 2,
	IMAP_LOGOUT = 1 << 3,
};
#define IMAP_ANY (IMAP_NOT_AUTH | IMAP_AUTH | IMAP_SELECTED)
#define IMAP_AUTHED (IMAP_AUTH | IMAP_SELECTED)

/* Command flags. */
enum {
	/* Runs on the loop thread: never touches the store (or defers its
	 * own work, as authentication does).  Others run on a worker. */
	IMAP_CMD_INLINE = 1 << 0,
	/* Uses message sequence numbers: no EXPUNGE may be sent while it
	 * runs or when it completes (RFC 3501 7.4.1); as a UID command it
	 * may. */
	IMAP_CMD_SEQS = 1 << 1,
	/* Has a UID form (COPY, FETCH, SEARCH, STORE: RFC 3501 6.4.8). */
	IMAP_CMD_UID_OK = 1 << 2,
};

struct imap_cmd;
typedef void imap_cmd_fn(struct imap_cmd *cmd);

struct imap_command {
	const char *name;
	imap_cmd_fn *run;
	unsigned states;	/* enum imap_state bits */
	unsigned flags;		/* IMAP_CMD_* */
};

/* The command table (commands.c); NULL when unknown. */
const struct imap_command *imap_command_find(const char *name);

/* The command being run.  A handler parses its arguments from `p` (which
 * is positioned after the command name: at the SP before the first
 * argument, or at the end), does its work, writes untagged replies to
 * s->out and sets the tagged result with imap_cmd_ok/no/bad.  A handler
 * that completes later sets `async` and calls imap_cmd_finish itself. */
struct imap_cmd {
	struct imap_session *s;
	const struct imap_command *def;
	char *tag;
	bool uid;		/* the UID form */
	bool async;		/* the tagged reply comes later */
	bool finished;		/* imap_cmd_finish ran */
	bool updates_done;	/* untagged updates already sent */
	uint32_t partial[2];	/* RETURN (PARTIAL lo:hi), RFC 5267 4.4 */
	struct imap_parser p;
	struct buf result;	/* "OK [READ-WRITE] SELECT completed" */
	struct buf tmp;		/* scratch for handlers */
};

struct imap_session {
	struct proto_io *io;
	enum imap_state state;
	struct buf *out;	/* replies go here: io->out, or work_out while
				   a handler runs on a worker thread */
	struct buf work_out;
	struct imap_cmdbuf input;
	bool discarding;	/* skipping the rest of a refused command */
	char *discard_reply;	/* the tagged reply after it */
	bool running;		/* a command has not finished */
	struct imap_cmd cmd;
	unsigned int errors;	/* BAD replies in a row */

	/* authentication */
	struct sasl sasl;
	bool in_sasl;
	struct auth_state auth;
	char *user;
	char *pending_user;	/* authenticated, store being opened */
	char *mail_root;	/* DIR/mail */
	struct maildir_store *store;

	/* the selected mailbox */
	struct maildir_box *box;
	bool readonly;
	char *box_name;
	/* SELECT replied from the folder's counts; its snapshot is loaded
	 * (maildir_box_load) right after the reply is sent, before the next
	 * command is read */
	bool box_loading;
	bool box_load_failed;

	/* APPEND streaming its message literals into deliveries, one per
	 * message (several: MULTIAPPEND, RFC 3502) */
	struct imap_append_literal **appends;	/* cmd-append.c */
	size_t nappends;
	uint64_t append_bytes;	/* announced by those literals */
	bool streaming;		/* the literal being read goes to `append` */
	/* FETCH output produced as the client reads */
	struct imap_fetch_job *fetch;
	bool close_after;	/* set by a worker; acted on in the loop */

	/* RFC 7162 (modseq.c): CONDSTORE enabled (MODSEQ in FETCH
	 * responses that carry FLAGS), QRESYNC enabled (VANISHED for
	 * EXPUNGE, UID in unsolicited FETCH, [CLOSED]) */
	bool condstore;
	bool qresync;
	/* While an expunge is held back (maildir_box_sync_held), a client
	 * that takes the highest MODSEQ it saw as its HIGHESTMODSEQ would
	 * lose that expunge: the HIGHESTMODSEQ of the last update with
	 * nothing held, and the highest MODSEQ sent in a FETCH since
	 * (RFC 5162 erratum 1810; RFC 7162 replaced RFC 5162) */
	uint64_t modseq_full;
	uint64_t modseq_sent;
	/* ENABLE IMAP4rev2 (RFC 9051 Appendix E, rev2.c): no \Recent or
	 * RECENT, ESEARCH for SEARCH, UTF-8 mailbox names, \NonExistent,
	 * UID in unsolicited FETCH */
	bool rev2;

	/* IDLE (cmd-idle.c) */
	bool idling;		/* between "+ idling" and the line ending it */
	bool idle_syncing;	/* an update job is out */
	bool idle_dirty;	/* a change came that no sync has seen yet */
	struct maildir_watch *idle_watch;

	/* NOTIFY (RFC 5465; notify-deliver.c): the state in force, and the
	 * one a NOTIFY command (on a worker) left for the loop to install */
	struct imap_notify *notify;
	struct imap_notify *notify_next;
	bool notify_set;
	bool box_load_out;	/* the deferred SELECT load is under way */

	struct fault_session fault;	/* fault injection (fault.c) */
	const struct fault *fault_cut;	/* cut this FETCH's output */
	/* strict mode: the last line had input queued behind it; the line
	 * before it did (this one was sent before that reply came) */
	bool strict_more, strict_blind;
	/* SEARCHRES (RFC 5182): the UIDs saved by SEARCH RETURN (SAVE), as
	 * ranges; "$" in a later command.  Emptied when a mailbox is
	 * (un)selected. */
	struct imap_seqset search_saved;
	/* CONTEXT=SEARCH and CONTEXT=SORT (search-context.c): SEARCH and
	 * SORT RETURN (UPDATE) contexts, at most IMAP_MAX_CONTEXTS; dropped
	 * with the mailbox */
	struct imap_search_context *contexts[4];
	size_t ncontexts;
};

/* Tagged results.  The text is a format; `code` is a response code without
 * brackets (NULL: none). */
void imap_cmd_ok(struct imap_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void imap_cmd_no(struct imap_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void imap_cmd_bad(struct imap_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* BAD (or NO for p->error_no) with the parser's error. */
void imap_cmd_parse_error(struct imap_cmd *cmd);
/* Parses the end of the command; on junk, replies BAD and returns -1. */
int imap_cmd_end(struct imap_cmd *cmd);
/* Completes an async command: untagged updates, tagged reply, ready for
 * the next command.  Runs on the loop thread. */
void imap_cmd_finish(struct imap_cmd *cmd);

/* An untagged reply (printf-style, CRLF added). */
void imap_untagged(struct imap_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The CAPABILITY list for the current state (no "* CAPABILITY"). */
void imap_capabilities(struct imap_session *s, struct buf *out);

/* Untagged updates for the selected mailbox (RFC 3501 5.2, 7.3, 7.4):
 * syncs it and writes EXPUNGE, EXISTS, RECENT and FETCH FLAGS for
 * changes made elsewhere.  With no_expunge (after FETCH, STORE, SEARCH
 * by sequence number, RFC 3501 7.4.1) it is imap_send_updates_held. */
void imap_send_updates(struct imap_session *s, bool no_expunge);
/* The same with expunges held back (maildir_box_sync_held): EXISTS and
 * FETCH FLAGS go out, the sequence numbers stay valid, and the next
 * imap_send_updates without no_expunge reports the expunges (RFC 5465
 * 6.1.2, SELECTED-DELAYED between commands). */
void imap_send_updates_held(struct imap_session *s);
/* The HIGHESTMODSEQ the client may be told now: the folder's, or while
 * an expunge is held back the one from before it (modseq_full). */
uint64_t imap_highestmodseq(struct imap_session *s);
/* While an expunge is held back: after MODSEQs above it were sent, "OK
 * [HIGHESTMODSEQ]" with the value from before it.  Needs no store (FETCH
 * ends on the loop thread). */
void imap_send_held_modseq(struct imap_session *s);
/* FLAGS and PERMANENTFLAGS of the selected mailbox (at SELECT, and when
 * a STORE defines a new keyword, RFC 3501 7.2.6). */
void imap_send_flags(struct imap_session *s);
/* Leaves the selected state (CLOSE, SELECT of another mailbox). */
void imap_unselect(struct imap_session *s);
/* The session becomes `user` (LOGIN/AUTHENTICATE succeeded): opens the
 * store.  0, or -1 (replied NO [UNAVAILABLE]). */
int imap_login(struct imap_cmd *cmd, const char *user);

/* AUTHENTICATE: starts the SASL exchange (initial: the SASL-IR response
 * or NULL); LOGIN: checks the password.  Both make the command async; the
 * reply comes when the check is over. */
void imap_sasl_start(struct imap_cmd *cmd, const char *mech,
		     const char *initial);
void imap_login_check(struct imap_cmd *cmd, const char *user,
		      const char *password);

/* Store error text to a tagged NO with the right response code. */
void imap_cmd_store_error(struct imap_cmd *cmd, const char *what,
			  const char *err);

/* STATUS items in the order asked (cmd-folder.c), also for LIST-STATUS
 * (RFC 5819). */
#define IMAP_STATUS_MAX_ITEMS 16
struct imap_status_items {
	int item[IMAP_STATUS_MAX_ITEMS];
	size_t n;
};
/* "(" status-att *(SP status-att) ")" */
int imap_parse_status_items(struct imap_parser *p,
			    struct imap_status_items *it);
/* Reads the counts of folder `name` and writes "* STATUS name (...)".
 * 0, or -1 with err_r (nothing written). */
int imap_send_status(struct imap_session *s, const char *name,
		     const struct imap_status_items *it, char *err_r,
		     size_t errlen);

/* A LIST or LSUB reply line (cmd-list.c): attrs are MAILDIR_FOLDER_* bits
 * (MAILDIR_FOLDER_SUBSCRIBED gives \Subscribed) and IMAP_LIST_NONEXISTENT;
 * childinfo, when not NULL, the CHILDINFO extended data item's list
 * contents (RFC 5258 3.5), e.g. "\"SUBSCRIBED\"". */
#define IMAP_LIST_NONEXISTENT (1u << 30)
void imap_write_list(struct imap_session *s, const char *what,
		     unsigned attrs, const char *name, const char *childinfo);
/* A LIST reply for a renamed mailbox with the OLDNAME extended data item
 * (RFC 5258 3.3 / RFC 5465 5.4). */
void imap_write_list_oldname(struct imap_session *s, unsigned attrs,
			     const char *name, const char *oldname);

/* IMAP4rev2 (rev2.c, RFC 9051).  A mailbox name for this client: UTF-8
 * after ENABLE IMAP4rev2, else modified UTF-7 (as stored). */
void imap_write_box_name(struct imap_session *s, struct buf *out,
			 const char *name);
/* LIST attributes for this client: an implicit level of the hierarchy
 * (MAILDIR_FOLDER_NOSELECT) is IMAP_LIST_NONEXISTENT for IMAP4rev2. */
unsigned imap_rev2_list_attrs(const struct imap_session *s, unsigned attrs);
/* A stored name (modified UTF-7) as this client writes it: UTF-8 for
 * IMAP4rev2 (out is cleared first). */
void imap_client_name(const struct imap_session *s, const char *name,
		      struct buf *out);
/* LIST/LSUB: whether the client's pattern (joined with its reference, in
 * the client's form) matches stored name `name`. */
bool imap_list_match(const struct imap_session *s, const char *pattern,
		     const char *name);
/* SELECT/EXAMINE for IMAP4rev2: "* LIST (attrs) "/" name" (RFC 9051
 * 6.3.2).  0, or -1 with err_r (nothing written). */
int imap_rev2_select_list(struct imap_session *s, const char *name,
			  char *err_r, size_t errlen);

/* Message data of the selected mailbox for handlers. */
void imap_write_msg_flags(struct imap_session *s, size_t idx, struct buf *out);
/* Evaluates a parsed set as sequence numbers or (uid) UIDs, "$" as the
 * saved search result: 0, or -1 with BAD sent for a sequence number
 * outside the mailbox. */
int imap_cmd_eval_set(struct imap_cmd *cmd, const struct imap_seqset *set,
		      struct imap_seqset *out);

/* The UIDs of a set evaluated by imap_cmd_eval_set (sequence numbers of
 * the snapshot); *n_r how many.  Free the result. */
uint32_t *imap_set_uids(struct maildir_box *box, const struct imap_seqset *set,
		       size_t *n_r);

/* The APPEND message literal: whether the command collected so far is an
 * APPEND whose next literal is the message (then it is streamed). */
bool imap_append_literal_is_message(const struct imap_cmdbuf *cb);
/* Prepares streaming: 0 with io->bytes_sink set, or -1 with the reason in
 * *reply_r (a static "NO ..." text). */
int imap_append_stream_begin(struct imap_session *s, uint64_t size,
			     const char **reply_r);
/* Drops the deliveries of an APPEND that did not complete. */
void imap_append_free(struct imap_session *s);

/* After work on a worker thread (or at once): moves s->work_out to the
 * connection's output and acts on the session's requests (close, idle
 * timeout, the deferred SELECT load).  Loop thread. */
void imap_work_done(void *arg);

/* IDLE (cmd-idle.c): the line the client sent while idling (valid: no NUL
 * or bare CR/LF in it, not overlong), which ends it; and the end of a
 * session in IDLE. */
void imap_idle_line(struct imap_session *s, const char *line, size_t len,
		    bool valid);
void imap_idle_free(struct imap_session *s);

/* NOTIFY (notify-deliver.c, loop thread): delivers the events that came
 * when the session is quiet (called after every command and by the
 * change notification); frees the session's NOTIFY state; whether
 * NOTIFY is set, so that IDLE sends what it asks for and nothing else
 * (RFC 5465 4). */
void imap_notify_poke(struct imap_session *s);
void imap_notify_free(struct imap_session *s);
bool imap_notify_handles_idle(const struct imap_session *s);

/* BINARY (fetch-binary.c, RFC 3516 4.2): appends to out the content of
 * the part that `parts` name, decoded from its Content-Transfer-Encoding
 * (the whole part in memory: at most max_message_size).  0, -1 when there
 * is no such part, -2 when the encoding is unknown. */
struct msg_parse;
int imap_binary_content(const struct msg_parse *p, const char *data,
			const uint32_t *parts, size_t nparts, struct buf *out);

/* CATENATE (catenate-url.c, RFC 4469 5): appends the bytes the IMAP URL
 * names (a message or section in the user's mailboxes, RFC 5092 relative
 * form) to out.  0, or -1 when it names nothing. */
int imap_url_fetch(struct imap_session *s, const char *url, struct buf *out);

/* FETCH output on demand (cmd-fetch.c). */
void imap_fetch_continue(struct imap_session *s);
/* NOTIFY's MessageNew fetch-att (RFC 5465 5.2): the FETCH responses of
 * `atts` (a fetch-att list that does not set \Seen) for the selected
 * messages with UIDs above `above_uid`, produced the same way, with no
 * tagged reply.  Loop thread, no FETCH running.  0, or -1. */
int imap_fetch_unsolicited(struct imap_session *s, const char *atts,
			   uint32_t above_uid);
void imap_fetch_job_free(struct imap_fetch_job **jobp);

/* Fault injection (fault.c).  Before command `def` runs: true when a
 * fault took it over (a delay runs again(s) later; a tagged NO is sent, or
 * the session ends).  A drop at FETCH lets it run with s->fault_cut set. */
bool imap_fault_command(struct imap_session *s, const struct imap_command *def,
			void (*again)(void *arg));
/* LOGIN or AUTHENTICATE with `user` (modified: a fault suffix is
 * removed): true when a fault it named (for LOGIN or AUTHENTICATE) answers
 * the command (cmd->result set, or cmd->async when the session ends). */
bool imap_fault_login(struct imap_cmd *cmd, char *user);
/* The greeting: a GREETING fault from maillab.conf delays it (imap_greet
 * runs again later), or says BYE and closes (RFC 3501 7.1.5), or drops the
 * connection. */
bool imap_fault_greeting(struct imap_session *s);
/* session.c: queues the greeting (or what a GREETING fault puts in its
 * place). */
void imap_greet(struct imap_session *s);
/* cmd-fetch.c cut the FETCH output after `sent` of a literal's `size`
 * octets: notes it and closes the connection. */
void imap_fault_cut(struct imap_session *s, size_t sent, size_t size);

/* Notes a MODSEQ written in a FETCH response (modseq_full). */
void imap_modseq_sent(struct imap_session *s, uint64_t modseq);

/* CONDSTORE and QRESYNC (RFC 7162; modseq.c). */
/* A CONDSTORE-enabling command ran (RFC 7162 3.1): CONDSTORE is on, and
 * when it was not and a mailbox is selected, "* OK [HIGHESTMODSEQ n]". */
void imap_condstore_enable(struct imap_session *s);
/* ENABLE QRESYNC (RFC 7162 3.2.3): both on. */
void imap_qresync_enable(struct imap_session *s);
/* " MODSEQ (n)" of message idx when CONDSTORE is on or `always`. */
void imap_write_msg_modseq(struct imap_session *s, size_t idx, bool always,
			   struct buf *out);
/* "* VANISHED (EARLIER) uids" for the UIDs in `within` (a parsed UID set,
 * '*' the highest UID; NULL: any) expunged after `since` that the session
 * no longer shows; seq-match data from SELECT ... QRESYNC narrows the
 * answer when the expunge log does not reach back that far (RFC 7162
 * 3.2.5.2; NULLs: none).  Nothing when there are none.  0, or -1. */
int imap_send_vanished_earlier(struct imap_session *s, uint64_t since,
			       const struct imap_seqset *within,
			       const struct imap_seqset *match_seqs,
			       const struct imap_seqset *match_uids);
/* The end of a SELECT/EXAMINE reply: [HIGHESTMODSEQ] when CONDSTORE is
 * on, and for QRESYNC with the right UIDVALIDITY the VANISHED (EARLIER)
 * and FETCH of what changed (RFC 7162 3.2.5).  The box is loaded. */
void imap_select_modseq(struct imap_cmd *cmd,
			const struct imap_select_params *sp);

/* Handlers. */
imap_cmd_fn cmd_capability, cmd_noop, cmd_logout;
imap_cmd_fn cmd_starttls, cmd_login, cmd_authenticate;
imap_cmd_fn cmd_select, cmd_examine, cmd_create, cmd_delete, cmd_rename;
imap_cmd_fn cmd_subscribe, cmd_unsubscribe, cmd_list, cmd_lsub, cmd_status;
imap_cmd_fn cmd_append, cmd_check, cmd_close, cmd_expunge, cmd_search;
imap_cmd_fn cmd_fetch, cmd_store, cmd_copy, cmd_uid;
imap_cmd_fn cmd_enable, cmd_id, cmd_namespace, cmd_unselect, cmd_move;
imap_cmd_fn cmd_idle;
imap_cmd_fn cmd_notify;		/* RFC 5465 */
imap_cmd_fn cmd_compress;	/* RFC 4978 */
imap_cmd_fn cmd_sort, cmd_thread;	/* RFC 5256 */
imap_cmd_fn cmd_cancelupdate;	/* RFC 5267 4.2 */

/* strict.c: strict mode (common/strict.h), the rules a client broke, as
 * trace lines; none of these changes a reply or the state.  A command
 * line's LINE_* flags; a literal announced (s->input says which kind);
 * a command refused before it ran (def: the command, when the refusal was
 * for the state, else NULL; s->input still holds its text); the session
 * freed. */
void imap_strict_line(struct imap_session *s, unsigned flags);
void imap_strict_literal(struct imap_session *s, unsigned flags);
void imap_strict_refused(struct imap_session *s,
			 const struct imap_command *def);
void imap_strict_close(struct imap_session *s);
imap_cmd_fn cmd_getquota, cmd_getquotaroot, cmd_setquota;	/* cmd-quota.c */

/* QUOTA (cmd-quota.c): whether storing `bytes` in `messages` more
 * messages keeps the session's user within their limits (RFC 9208).
 * 0 yes; 1 no, replied NO [OVERQUOTA]; -1 the limits or usage could not
 * be read, replied NO [UNAVAILABLE].  Worker thread. */
int imap_quota_check(struct imap_cmd *cmd, uint64_t bytes, uint64_t messages);

#endif
