#ifndef SMTPD_SESSION_H
#define SMTPD_SESSION_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/auth.h"
#include "common/datareader.h"
#include "common/fault.h"
#include "common/proto.h"
#include "common/sasl.h"
#include "maildir/deliver.h"
#include "smtpd/address.h"
#include "smtpd/body.h"
#include "smtpd/settings.h"

/* The SMTP session: state, transaction, reply helper and the command
 * handlers' prototypes.  Internal to smtpd/. */

enum smtp_state {
	SMTP_INIT,	/* greeting sent, no EHLO/HELO yet */
	SMTP_READY,	/* after EHLO/HELO, no transaction */
	SMTP_MAIL,	/* MAIL accepted, no recipient accepted yet */
	SMTP_RCPT,	/* at least one recipient accepted */
	SMTP_BDAT,	/* BDAT chunks under way (RFC 3030) */
	SMTP_DATA,	/* reading a DATA body */
	SMTP_AUTH,	/* an AUTH exchange waits for a client line */
	SMTP_BUSY,	/* deferred work (commit, password check) running */
	SMTP_TLS,	/* STARTTLS accepted, handshake pending */
	SMTP_CLOSED,	/* a final reply queued, io->close set */
	SMTP_N_STATES
};
#define ST(s) (1u << (s))
#define ST_TXN (ST(SMTP_MAIL) | ST(SMTP_RCPT))

/* RFC 4954 4: AUTH command lines may be up to 12288 octets. */
#define SMTP_AUTH_LINE_MAX 12288

/* One accepted recipient. */
struct smtp_rcpt {
	char *addr;		/* the forward-path mailbox as written */
	char *notify;		/* DSN NOTIFY= (RFC 3461 4.1) or NULL */
	char *orcpt;		/* DSN ORCPT= (RFC 3461 4.2) or NULL */
	bool remote;		/* not ours: relayed through the queue */
};

/* One mailbox a message goes to (a user's inbox or folder). */
struct smtp_dest {
	char *user;
	char *folder;		/* NULL: the inbox */
};

/* The mail transaction: created at MAIL, freed at RSET, EHLO, the end of
 * the message or the end of the session (RFC 5321 3.3, 4.1.1.5). */
struct smtp_txn {
	struct smtp_path from;
	bool smtputf8;		/* SMTPUTF8 given (RFC 6531 3.4) */
	bool body_8bit;		/* BODY=8BITMIME (RFC 6152) */
	uint64_t declared_size;	/* SIZE= (RFC 1870), 0 if absent */
	char *ret;		/* DSN RET= (RFC 3461 4.3) or NULL */
	char *envid;		/* DSN ENVID= (RFC 3461 4.4) or NULL */
	char *auth;		/* AUTH= (RFC 4954 5) or NULL */

	struct smtp_rcpt *rcpts;
	size_t n_rcpts, cap_rcpts;
	struct smtp_dest *dests;	/* unique mailboxes of all recipients */
	size_t n_dests, cap_dests;

	struct maildir_delivery *delivery;	/* from DATA/first BDAT on */
	struct smtp_body body;			/* the sink in front of it */
	bool chunking;		/* BDAT used (then DATA is refused) */
	bool bdat_failed;	/* a chunk was refused: the rest are dropped */
	uint64_t bdat_size;	/* BDAT bytes so far */

	/* the commit, on a worker thread */
	int commit_ret;
	char commit_err[256];
	char queue_id[24];	/* set when remote recipients were queued */
	/* its envelope as queued, for the runner's first attempt (which
	 * then reads nothing back); NULL once taken */
	struct queue_env *queued_env;
	char report_id[24];	/* a "delivered" report queued (NOTIFY=SUCCESS) */
	unsigned int seq;	/* message number in the session */
	char id[40];		/* SESSION.SEQ: in logs, Received, Message-ID */
};

struct smtp_rcpt_check;

struct smtp_session {
	struct proto_io *io;
	const struct smtp_settings *set;	/* points at settings */
	struct smtp_settings settings;
	enum smtp_state state;
	char *helo;		/* the EHLO/HELO argument */
	bool esmtp;		/* EHLO rather than HELO */
	char *user;		/* authenticated user, or NULL */
	unsigned int errors;	/* protocol errors so far */
	unsigned int messages;	/* messages accepted or tried */
	struct smtp_txn *txn;
	struct data_reader dr;
	struct sasl sasl;
	struct auth_state auth;
	struct alias_db *aliases;	/* opened at first use */
	bool aliases_failed;
	struct buf line;	/* the current command, writable */
	char *mail_root;	/* DIR/mail */
	/* the BDAT chunk being read */
	uint64_t bdat_size;
	bool bdat_last;
	int bdat_refusal;	/* its error reply, 0 when it is stored */
	struct fault_session fault;	/* fault injection (fault.c) */
	/* strict mode: the last line had input queued behind it; the line
	 * before it did (this one was sent before that reply came) */
	bool strict_more, strict_blind;
	/* a RCPT waiting for its quota check (cmd-rcpt.c, smtpd/quota.h) */
	struct smtp_rcpt_check *rcpt_check;
};

/* --- session.c --- */

/* Queues "code esc text" (RFC 3463 enhanced code; NULL for none, as for
 * the greeting and the replies to EHLO/HELO, RFC 2034 3).  A 5yz reply
 * counts as an error; at cfg->max_errors the session also says 421 and
 * closes. */
void smtp_reply(struct smtp_session *s, int code, const char *esc,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Moves to `st` (the only place the state changes), setting the idle
 * timeout that goes with it. */
void smtp_enter_state(struct smtp_session *s, enum smtp_state st);
/* Queues a 421 with `esc` and `why`, and closes. */
void smtp_close(struct smtp_session *s, const char *esc, const char *why);
/* Ends the transaction, if any (frees it and the unfinished delivery). */
void smtp_txn_end(struct smtp_session *s);
/* Queues the greeting (or what a GREETING fault puts in its place). */
void smtp_greet(struct smtp_session *s);
/* Forgets everything learned from the client: the transaction, the
 * EHLO name and the authentication (STARTTLS, RFC 3207 4.2). */
void smtp_session_reset(struct smtp_session *s);
/* The root of the users' Maildirs: DIR/mail. */
const char *smtp_mail_root(const struct smtp_session *s);
/* Whether the client may authenticate now: AUTH offered. */
bool smtp_auth_offered(const struct smtp_session *s);
/* Whether a message is being received by submission (RFC 6409). */
bool smtp_is_submission(const struct smtp_session *s);

/* cmd-mail.c: after keyword `kw` ("FROM:", "TO:", any case) and any
 * spaces: the path; NULL when args does not start with kw. */
char *smtp_skip_keyword(char *args, const char *kw);

/* --- fault.c: fault injection hooks; each returns true when a fault
 * took the command over (its reply, if any, is queued) --- */

/* Before a command runs: a delay (the line comes back to line_fn), or a
 * reply, drop or bye for it. */
bool smtp_fault_command(struct smtp_session *s, const char *cmd,
			const char *line, size_t len,
			void (*line_fn)(void *sess, const char *line, size_t len,
					unsigned flags));
/* MAIL or RCPT (`cmd`) with a parsed path: a fault suffix in its local
 * part is removed and its rules added to the transaction; true when one
 * of them answers this command. */
bool smtp_fault_address(struct smtp_session *s, struct smtp_path *path,
			const char *cmd);
/* RCPT of `rcpt`: greylisting refuses it (451 4.7.1). */
bool smtp_fault_greylist(struct smtp_session *s, const char *rcpt);
/* The end of DATA, or of BDAT's LAST chunk, before the message is
 * checked and committed. */
bool smtp_fault_data_end(struct smtp_session *s);
/* The greeting: a GREETING fault from maillab.conf delays it (smtp_greet
 * runs again later), or says 421 or 554 instead, or drops the connection. */
bool smtp_fault_greeting(struct smtp_session *s);
/* After a 554 greeting (RFC 5321 3.1): command `cmd` (NULL: unknown) gets
 * 503, but QUIT. */
bool smtp_fault_refused(struct smtp_session *s, const char *cmd);
/* AUTH's SASL user name `user` (modified: a fault suffix is removed): its
 * rules last for the session; true when one of them answers AUTH. */
bool smtp_fault_auth(struct smtp_session *s, char *user);

/* --- command handlers: args is the rest of the line after the verb and
 * its space ("" when none), writable --- */
void smtp_cmd_ehlo(struct smtp_session *s, char *args);
void smtp_cmd_helo(struct smtp_session *s, char *args);
void smtp_cmd_mail(struct smtp_session *s, char *args);
void smtp_cmd_rcpt(struct smtp_session *s, char *args);
void smtp_cmd_data(struct smtp_session *s, char *args);
void smtp_cmd_bdat(struct smtp_session *s, char *args);
/* cmd-data.c: BDAT's LAST chunk is in: the message is complete. */
void smtp_bdat_last(struct smtp_session *s);
void smtp_cmd_auth(struct smtp_session *s, char *args);
void smtp_cmd_rset(struct smtp_session *s, char *args);
void smtp_cmd_noop(struct smtp_session *s, char *args);
void smtp_cmd_quit(struct smtp_session *s, char *args);
void smtp_cmd_vrfy(struct smtp_session *s, char *args);
void smtp_cmd_expn(struct smtp_session *s, char *args);
void smtp_cmd_help(struct smtp_session *s, char *args);
void smtp_cmd_starttls(struct smtp_session *s, char *args);
void smtp_cmd_not_implemented(struct smtp_session *s, char *args);

/* cmd-auth.c: a client line during an AUTH exchange. */
void smtp_auth_line(struct smtp_session *s, const char *line, size_t len);
/* cmd-auth.c: the exchange is abandoned (overlong line, bad octets). */
void smtp_auth_abort(struct smtp_session *s);

/* relay.c: whether the transaction has recipients for the queue. */
bool smtp_txn_has_remote(const struct smtp_txn *t);
/* relay.c, worker thread: queues the message for the remote recipients
 * (t->queue_id set).  0, or -1 with err_r. */
int smtp_relay_queue(struct smtp_session *s, char *err_r, size_t errlen);
/* relay.c, worker thread: takes the queued message back (the local
 * delivery failed, so the client will send it again). */
void smtp_relay_unqueue(struct smtp_session *s);
/* relay.c, worker thread, after the local delivery: queues a "delivered"
 * report (RFC 3464) to the sender for the local recipients that asked
 * for NOTIFY=SUCCESS (t->report_id set).  A failure is logged only: the
 * message itself is delivered. */
void smtp_relay_success_report(struct smtp_session *s);

/* cmd-data.c: the DATA body ended (ops->data_end), BDAT chunk read
 * (ops->bytes). */
void smtp_data_end(struct smtp_session *s);
void smtp_bdat_chunk_done(struct smtp_session *s);

/* strict.c: strict mode (common/strict.h), the rules a client broke,
 * as trace lines; none of these changes a reply or the state.  At the
 * greeting; on a command line's octets (flags: LINE_*); on a command
 * before it runs (name NULL when unknown, line its whole text, long_ok
 * for AUTH's longer lines); on a line past the reader's limit; at the end
 * of a message (dr NULL for BDAT); when the session is freed. */
void smtp_strict_open(struct smtp_session *s);
void smtp_strict_line(struct smtp_session *s, unsigned flags);
void smtp_strict_command(struct smtp_session *s, const char *name,
			 const char *line, size_t len, bool long_ok,
			 unsigned flags);
void smtp_strict_overlong(struct smtp_session *s);
void smtp_strict_message(struct smtp_session *s, const struct data_reader *dr,
			 const struct smtp_body *b);
void smtp_strict_close(struct smtp_session *s);

#endif
