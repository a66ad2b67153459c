#ifndef COMMON_EXPLAIN_H
#define COMMON_EXPLAIN_H
#include <stdbool.h>
#include <stddef.h>

/* The teaching text behind `maillab trace show --explain` (DESIGN.md
 * "Teaching"): each protocol keeps one table of explanations in its
 * explain.c (smtpd/, pop3d/, imapd/), reviewable as a whole, and a small
 * walker that reads a session's trace line by line, says which rows of the
 * table explain each line and keeps track of the state the session is in.
 * cli/trace*.c prints and draws what the walker says; tests/unit/
 * test-explain.c checks that every command and every reply the servers'
 * source can send has a row. */

/* One row: what `key` means, in one or two plain sentences, and the RFC
 * section the rule comes from.  Key forms are the protocol's own (see its
 * explain.c): a command verb ("MAIL"), a reply ("250 2.1.0", "-ERR",
 * "[IN-USE]", "* EXISTS"), a capability ("EHLO SIZE"). */
struct explain_entry {
	const char *key;
	const char *text;
	const char *rfc;
};

#define EXPLAIN_MAX_ROWS 3	/* rows explaining one line */
#define EXPLAIN_MAX_PENDING 32	/* pipelined commands awaiting a reply */

/* What a walker says about one line. */
struct explain_line {
	const struct explain_entry *rows[EXPLAIN_MAX_ROWS];
	size_t n_rows;
	/* The line is message data (a RETR body, a FETCH literal): show its
	 * size, not its text. */
	bool body;
	/* The line is one of the events a diagram marks. */
	bool tls;		/* STARTTLS accepted / TLS established */
	bool auth;		/* an authentication exchange or its result */
	/* A fault injected on purpose (common/fault.h): the `*: fault ...`
	 * note, or the server line that came right after one. */
	bool fault;
	/* A `*: strict: RULE: ...` line (common/strict.h): the client broke
	 * the rule in rows[0] (when the table has it). */
	bool broken_rule;
};

/* A session being walked.  Zero it, set `ex`, then feed every line in
 * order with explain_feed(). */
struct explain_session {
	const struct explainer *ex;
	int state;			/* the protocol's own numbering */
	bool tls;			/* TLS is established */
	char user[64];			/* authenticated user, or "" */
	/* Commands sent and not yet answered (pipelining, RFC 2920 / 2449);
	 * IMAP keeps "TAG VERB". */
	char pending[EXPLAIN_MAX_PENDING][56];
	size_t n_pending;
	char last_cmd[56];		/* the command the last reply answered */
	bool in_exchange;		/* SASL or literal continuation */
	bool client_cont;		/* the next client line continues a
					   command (after an IMAP literal) */
	int data_mode;			/* the protocol's: multi-line reply */
	bool greeted;			/* the greeting has been seen */
	size_t literal_left;		/* IMAP: server literal bytes to come */
	bool fault_next;		/* the next server line is a fault's */
};

enum explain_who {
	EXPLAIN_CLIENT,		/* a C: line */
	EXPLAIN_SERVER,		/* an S: line */
	EXPLAIN_EVENT,		/* a *: line */
};

struct explainer {
	const char *protocol;		/* "smtp", "pop3", "imap" */
	const struct explain_entry *entries;
	size_t n_entries;
	/* Explains one line (its text after "C: " / "S: " / "*: ") and moves
	 * the state on. */
	void (*feed)(struct explain_session *es, enum explain_who who,
		     const char *line, struct explain_line *out);
	/* The state's name, as the RFC calls it ("TRANSACTION"). */
	const char *(*state_name)(const struct explain_session *es);
};

/* The row for `key` (ASCII case-insensitive), or NULL. */
const struct explain_entry *explain_find(const struct explainer *ex,
					 const char *key);
/* Adds the row for `key` to out, if there is one and room.  Returns
 * whether it was found. */
bool explain_add(const struct explainer *ex, struct explain_line *out,
		 const char *key);
/* Walks one line. */
void explain_feed(struct explain_session *es, enum explain_who who,
		  const char *line, struct explain_line *out);

/* Pending-command queue helpers for the walkers. */
void explain_push(struct explain_session *es, const char *cmd);
/* Removes the oldest pending command into es->last_cmd ("" if none). */
void explain_pop(struct explain_session *es);
/* Removes the first pending command that starts with "TAG " into
 * es->last_cmd (IMAP answers by tag, in any order).  Returns whether there
 * was one; es->last_cmd is "" if not. */
bool explain_take(struct explain_session *es, const char *tag);
/* How many bytes a trace line stood for: log_escape (common/log.h) wrote
 * a control byte as \xHH, \r or \n and a backslash as two. */
size_t explain_raw_len(const char *line);
/* The first word of `line` upper-cased into word (at most len-1 bytes);
 * returns a pointer after it and its spaces. */
const char *explain_word(const char *line, char *word, size_t len);

/* A strict-mode line (`strict: RULE: ...`, common/strict.h): marks out
 * as a broken rule with RULE's row of es->ex's table.  False for any other
 * line. */
bool explain_strict_event(struct explain_session *es, const char *line,
			  struct explain_line *out);

/* The rows explaining events every protocol's trace has (the `*:` lines
 * written by common/: TLS, authentication, message bodies, the end). */
bool explain_common_event(struct explain_session *es, const char *line,
			  struct explain_line *out);

#endif
