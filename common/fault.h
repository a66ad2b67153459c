#ifndef COMMON_FAULT_H
#define COMMON_FAULT_H
#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/proto.h"

/* Fault injection, a lab setting (labs/faults.md): with
 * `fault_injection = on` the servers misbehave on purpose so that students
 * see how clients cope.  A fault is a rule "PROTOCOL COMMAND ACTION":
 *
 *   - from maillab.conf, for every session:  fault smtp RCPT = 451
 *   - from a name the client uses, for one session (SMTP: until the end of
 *     the mail transaction): a user name or address local part ending in
 *     "+fault." then COMMAND.ACTION pairs, e.g. USER bob+fault.pass.in-use,
 *     RCPT TO:<bob+fault.rcpt.greylist2@lab.test>.  The suffix is removed
 *     before the name is used.
 *
 * With fault_injection off (the default) no rule is loaded and no suffix is
 * recognised, so nothing here can change a reply.  Every fault applied
 * writes `*: fault injected: ...` to the session's trace.  The protocols
 * decide what each action means for them (smtpd/fault.c, pop3d/fault.c,
 * imapd/fault.c); this module holds the rules, the delays and the
 * greylist. */

enum fault_proto { FAULT_SMTP, FAULT_POP3, FAULT_IMAP, FAULT_N_PROTO };

enum fault_kind {
	FAULT_REPLY,		/* a 4xx/5xx reply; arg: the SMTP code (POP3
				   and IMAP map its class) */
	FAULT_GREYLIST,		/* SMTP RCPT: 451 4.7.1 to the first `arg`
				   attempts of (client, sender, recipient) */
	FAULT_DELAY,		/* `arg` ms before the command runs */
	FAULT_DROP,		/* close without a reply; RETR and FETCH:
				   part of the message, then close */
	FAULT_BYE,		/* the server ends the session: 421, -ERR,
				   * BYE */
	FAULT_IN_USE,		/* POP3: -ERR [IN-USE] */
	FAULT_UNAVAILABLE,	/* IMAP: NO [UNAVAILABLE] */
};
#define FAULT_KIND_BIT(k) (1u << (k))

#define FAULT_CMD_MAX 16	/* longest command name + 1 */
#define FAULT_ANY "*"		/* the command of a rule for every command */
/* The "command" of a rule for the greeting, before any command: only from
 * maillab.conf (no name has been sent yet), never matched by FAULT_ANY. */
#define FAULT_GREETING "GREETING"
#define FAULT_MAX_NAMED 8	/* rules a session may add by names */
#define FAULT_MAX_DELAY_MS 60000
#define FAULT_MAX_GREYLIST 100

struct fault {
	enum fault_proto proto;
	char cmd[FAULT_CMD_MAX];	/* upper case, or FAULT_ANY */
	enum fault_kind kind;
	unsigned int arg;		/* code, ms, or attempts */
};

/* Parses one rule (the words of `fault PROTO COMMAND = ACTION`; in a name
 * the command may be `any`).  0, or -1 with a message in err_r. */
int fault_parse(const char *proto, const char *cmd, const char *action,
		struct fault *out, char *err_r, size_t errlen);
/* "smtp RCPT greylist2": the rule written back in the words it was read
 * from (for traces and maillab.conf). */
void fault_describe(const struct fault *f, struct buf *out);
const char *fault_proto_name(enum fault_proto p);
/* The protocol a service speaks. */
enum fault_proto fault_proto_of(enum service_id svc);

/* The faults of one session. */
struct fault_session {
	bool on;			/* cfg->fault_injection */
	enum fault_proto proto;
	struct fault rules[CONFIG_MAX_LIST];	/* from maillab.conf */
	size_t n_rules;
	struct fault named[FAULT_MAX_NAMED];	/* from names the client used */
	size_t n_named;
	size_t n_kept;		/* named[0..n_kept): for the whole session */
	/* SMTP: the greeting was 554; commands get 503 until QUIT */
	bool greeting_refused;
	/* a command held back by a delay */
	bool replaying;			/* it runs now: no second delay */
	void (*again)(void *arg);
	void *again_arg;
	struct buf held;		/* the held line (fault_delay_line) */
	unsigned int held_flags;
	void (*again_line)(void *sess, const char *line, size_t len,
			   unsigned flags);
	void *line_sess;
};

/* Loads the configured rules for io's service (none when off). */
void fault_session_init(struct fault_session *fs, const struct proto_io *io);
void fault_session_free(struct fault_session *fs);
/* Forgets the rules added by names (SMTP: at the end of a transaction),
 * but those fault_keep_named kept. */
void fault_forget_named(struct fault_session *fs);
/* The rules added by names so far last for the session (SMTP: named at
 * AUTH, by the user who logs in). */
void fault_keep_named(struct fault_session *fs);

/* `name` (a user name, or an address local part, which may go on with
 * "@domain") carries a fault suffix: when fault injection is on, removes
 * it from name (in place) and adds its rules to the session.  Returns how
 * many rules it added (0: no suffix, or injection off), or -1 when the
 * suffix does not parse (name unchanged; the trace says why). */
int fault_take_name(struct fault_session *fs, struct proto_io *io, char *name);

/* Removes a fault suffix from name (after fault_take_name accepted the
 * same suffix in another spelling of the name). */
void fault_strip_name(char *name);

/* The rule for command `cmd` (case-insensitive) whose kind is in `kinds`
 * (FAULT_KIND_BIT()s): the named rules first (from index `first_named`
 * on), then, unless named_only, the configured ones.  NULL when none (and
 * always when injection is off). */
const struct fault *fault_find(const struct fault_session *fs, const char *cmd,
			       unsigned int kinds, size_t first_named,
			       bool named_only);

/* Writes `*: fault injected: RULE: what` to the trace and the log. */
void fault_note(struct proto_io *io, const struct fault *f, const char *cmd,
		const char *what);

/* A delay rule for `cmd`: holds the command back with io->after and
 * returns true; again(arg) runs it later, once, without a second delay.
 * False when there is no delay (or this is the held command running). */
bool fault_delay(struct fault_session *fs, struct proto_io *io,
		 const char *cmd, void (*again)(void *arg), void *arg);
/* The same for a command line: the line is kept and given back to
 * line_fn (the protocol's ops->line). */
bool fault_delay_line(struct fault_session *fs, struct proto_io *io,
		      const char *cmd, const char *line, size_t len,
		      unsigned flags,
		      void (*line_fn)(void *sess, const char *line, size_t len,
				      unsigned flags),
		      void *sess);

/* Greylisting (RFC 6647): counts an attempt of (client, sender,
 * recipient) and returns its number while it is one of the first `limit`
 * (the caller refuses it), 0 once the triple has passed.  The table is the
 * process's, bounded (the oldest entries make room). */
unsigned int fault_greylist(const char *client, const char *sender,
			    const char *rcpt, unsigned int limit);
/* Empties the greylist table (tests). */
void fault_greylist_reset(void);

#endif
