#ifndef POP3D_POP3_INT_H
#define POP3D_POP3_INT_H
/* Inside pop3d: the session, the command handlers, the multi-line writer
 * and the maildrop.  Nothing outside pop3d/ includes this. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/auth.h"
#include "common/dotstuff.h"
#include "common/fault.h"
#include "common/log.h"
#include "common/proto.h"
#include "common/sasl.h"
#include "maildir/message.h"

/* RFC 1939 3: the three states of a session. */
enum pop3_state {
	POP3_AUTHORIZATION,
	POP3_TRANSACTION,
	POP3_UPDATE,		/* after QUIT in TRANSACTION: no more input */
};

#define POP3_IN(st)	(1u << (st))

/* Per-message marks of the session (RFC 1939 5: numbers never change during
 * a session, deleted messages keep theirs). */
#define POP3_MARK_DELETED	0x01	/* DELE; undone by RSET */
#define POP3_MARK_RETRIEVED	0x02	/* RETR: \Seen at QUIT */

/* ---- the maildrop (maildrop.c): the user's INBOX snapshot ---- */

struct pop3_maildrop;

/* Takes the user's POP3 lock (RFC 1939 8) and opens INBOX as a snapshot in
 * UID order.  Blocking (worker thread).  0; -1 with *in_use_r set when
 * another POP3 session holds the lock; -1 with a message in err_r for any
 * other failure. */
int maildrop_open(const char *mail_root, const char *user,
		  struct pop3_maildrop **drop_r, bool *in_use_r,
		  char *err_r, size_t errlen);
/* Releases everything and the lock; sets *dropp to NULL.  NULL is fine. */
void maildrop_close(struct pop3_maildrop **dropp);
size_t maildrop_count(const struct pop3_maildrop *drop);
/* Size of message i (0-based) as RETR sends it (CRLF line ends). */
uint64_t maildrop_size(const struct pop3_maildrop *drop, size_t i);
/* The UIDL of message i: at most 70 characters (RFC 1939 7), NUL-ended
 * into out[MAILDROP_UIDL_MAX + 1]. */
#define MAILDROP_UIDL_MAX 70
void maildrop_uidl(const struct pop3_maildrop *drop, size_t i, char *out);
/* The bytes of one message while it is sent. */
struct maildrop_text {
	const char *data;
	size_t size;
	struct msg_map map;	/* large files: mapped */
	bool mapped;
};
/* Files up to this size are read into the caller's buffer (reused from
 * one RETR to the next); mapping and unmapping costs more than copying
 * them.  Larger ones are mapped. */
#define MAILDROP_READ_MAX (256 * 1024)
/* Opens message i for sending: 0 with *t and *convert_lf_r set, or -1 with
 * err_r (errno ENOENT: another session expunged it meanwhile).  t->data
 * points into `small` or into a mapping; valid until maildrop_text_free
 * or the next change to `small`. */
int maildrop_text(struct pop3_maildrop *drop, size_t i, struct buf *small,
		  struct maildrop_text *t, bool *convert_lf_r,
		  char *err_r, size_t errlen);
void maildrop_text_free(struct maildrop_text *t);
/* RFC 1939 6, the UPDATE state (blocking, worker thread), in three steps:
 * prepare takes the UIDs to change from the snapshot and the marks and
 * checks that the folder was not re-indexed meanwhile (-1 then, with
 * nothing to change); mark_seen gives the retrieved messages that are not
 * deleted \Seen, so that IMAP shows them read; expunge removes the deleted
 * ones in one index transaction, which an IMAP session sees as EXPUNGE.
 * Each returns 0, or -1 with err_r. */
int maildrop_prepare_update(struct pop3_maildrop *drop, const uint8_t *marks,
			    char *err_r, size_t errlen);
int maildrop_mark_seen(struct pop3_maildrop *drop, char *err_r,
		       size_t errlen);
int maildrop_expunge(struct pop3_maildrop *drop, char *err_r, size_t errlen);

/* ---- the session (session.c) ---- */

/* Multi-line responses that may be long are produced a chunk at a time, so
 * a client that does not read holds up little server memory. */
enum pop3_stream {
	POP3_STREAM_NONE,
	POP3_STREAM_MESSAGE,	/* RETR, TOP: s->ml over s->text */
	POP3_STREAM_LIST,	/* LIST without argument */
	POP3_STREAM_UIDL,	/* UIDL without argument */
};

struct pop3_session {
	struct proto_io *io;
	enum pop3_state state;
	struct auth_state auth;
	struct sasl sasl;
	bool in_sasl;		/* the next line is a SASL response */
	bool tls_pending;	/* STLS answered: ignore input until tls_done */
	bool job_pending;	/* deferred work not yet done */
	bool closed;		/* io->close set: ignore further input */
	unsigned int errors;	/* protocol errors so far */
	char *user;		/* after USER: the name given; after login:
				 * the normalised user */
	char *mail_root;	/* DIR/mail */
	char *apop_ts;		/* the greeting's "<...>" (pop3_apop), or NULL */

	/* TRANSACTION */
	struct pop3_maildrop *drop;
	size_t count;		/* messages in the snapshot */
	uint8_t *marks;		/* POP3_MARK_*, one per message */

	/* a multi-line response in progress (resume_output) */
	enum pop3_stream streaming;
	size_t list_next;	/* LIST/UIDL: next message index */
	struct maildrop_text text;	/* RETR/TOP */
	struct buf readbuf;	/* small messages, reused */
	struct dot_writer ml;

	struct fault_session fault;	/* fault injection (fault.c) */
	const struct fault *fault_cut;	/* cut the message being sent */
	/* strict mode: the last line had input queued behind it; the line
	 * before it did (this one was sent before that reply came) */
	bool strict_more, strict_blind;
};

/* One line in the event log, tagged with the service and session id. */
#define pop3_log(s, ...) \
	log_msg(service_name((s)->io->service), (s)->io->id, __VA_ARGS__)

/* Every state change goes through here (logged "old -> new"). */
void pop3_enter_state(struct pop3_session *s, enum pop3_state state);

/* Replies: one line each, the CRLF added.  `code` is an RFC 2449 8 /
 * RFC 3206 response code without brackets ("IN-USE", "SYS/TEMP") or
 * NULL. */
void pop3_ok(struct pop3_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void pop3_err(struct pop3_session *s, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A -ERR for a client mistake (syntax, state, unknown command): counted,
 * and after cfg->max_errors the session is closed. */
void pop3_bad(struct pop3_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Closes the connection once the replies queued so far are sent; no
 * further input is read. */
void pop3_close(struct pop3_session *s);
/* Queues the greeting (or what a GREETING fault puts in its place). */
void pop3_greet(struct pop3_session *s);

/* Splits args at single spaces into argv (at most max words).  Returns the
 * number of words, or -1 when there are more than max, or an empty word
 * (two spaces in a row, a trailing space). */
int pop3_split_args(char *args, char **argv, int max);

/* ---- fault injection (fault.c) ---- */

/* Before command `cmd` (its line) runs: true when a fault took it over
 * (a delay gives the line back to line_fn later; a reply or a close is
 * queued).  A drop at RETR or TOP lets it run and sets s->fault_cut. */
bool pop3_fault_command(struct pop3_session *s, const char *cmd,
			const char *line, size_t len,
			void (*line_fn)(void *sess, const char *line, size_t len,
					unsigned flags));
/* AUTH (`cmd`) with SASL user name `user` (modified: a fault suffix is
 * removed): true when a fault it named for PASS, APOP or AUTH answered. */
bool pop3_fault_login(struct pop3_session *s, char *user, const char *cmd);
/* USER `user` (modified: a fault suffix is removed): true when a fault it
 * named answers USER itself. */
bool pop3_fault_user(struct pop3_session *s, char *user);
/* The greeting: a GREETING fault from maillab.conf delays it (pop3_greet
 * runs again later), or answers -ERR and closes, or drops the connection. */
bool pop3_fault_greeting(struct pop3_session *s);
/* Sends part of the message being streamed, then closes. */
void pop3_fault_cut(struct pop3_session *s);

/* ---- commands: args is the text after "CMD " ("" when none) ---- */

typedef void pop3_cmd_fn(struct pop3_session *s, char *args);

/* cmd-auth.c, capa.c */
pop3_cmd_fn pop3_cmd_user, pop3_cmd_pass, pop3_cmd_apop, pop3_cmd_auth;
pop3_cmd_fn pop3_cmd_stls, pop3_cmd_capa;
/* cmd-mail.c */
pop3_cmd_fn pop3_cmd_stat, pop3_cmd_list, pop3_cmd_retr, pop3_cmd_dele;
pop3_cmd_fn pop3_cmd_top, pop3_cmd_uidl, pop3_cmd_rset, pop3_cmd_noop;
pop3_cmd_fn pop3_cmd_quit;

/* A line that continues the SASL exchange started by AUTH (cmd-auth.c). */
void pop3_auth_continue(struct pop3_session *s, const char *line, size_t len);
/* Ends a SASL exchange after an overlong response (cmd-auth.c). */
void pop3_auth_abort(struct pop3_session *s, const char *why);
/* A multi-line response in progress: queue its next part (and set
 * io->more_output while more is left), or stop it early, releasing the
 * message (cmd-mail.c). */
void pop3_stream_more(struct pop3_session *s);
void pop3_stream_stop(struct pop3_session *s);

/* ---- strict mode (strict.c, common/strict.h): the rules a client broke,
 * as trace lines; none of these changes a reply or the state ---- */

/* A command line (its length without CRLF and LINE_* flags). */
void pop3_strict_line(struct pop3_session *s, size_t len, unsigned flags);
/* A line past the reader's limit. */
void pop3_strict_overlong(struct pop3_session *s);
/* A command before it runs: name NULL when unknown, state_ok whether the
 * state allows it. */
void pop3_strict_command(struct pop3_session *s, const char *name,
			 bool state_ok);
/* A message number that names no message, or a deleted one. */
void pop3_strict_message(struct pop3_session *s, bool deleted);
/* The session is freed. */
void pop3_strict_close(struct pop3_session *s);

#endif
