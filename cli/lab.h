#ifndef CLI_LAB_H
#define CLI_LAB_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cli/trace.h"

/* `maillab lab list|start|check`: the labs whose guides are labs/NN-*.md.
 *
 *   cli/lab.c           the subcommand, the table of labs, `list`
 *   cli/lab-start.c     making a lab directory (instances, users, settings,
 *                       seeded mail) and serving it
 *   cli/lab-evidence.c  what a check reads: the traces (through
 *                       cli/trace-read.c) and the Maildirs
 *   cli/lab-steps-*.c   the steps of each lab's check
 *
 * A lab directory is one instance (DIR/maillab.conf), or for a lab with
 * several instances one sub-directory per instance (DIR/north, DIR/south). */

/* One instance a lab needs. */
struct lab_instance {
	const char *name;	/* sub-directory, or NULL: the lab directory */
	const char *domain;	/* its mail domain */
	int port_shift;		/* added to the default ports (and --port-offset) */
	const char *settings;	/* lines appended to maillab.conf */
};

/* A message delivered to bob when the lab directory is made. */
struct lab_seed {
	const char *subject;
	const char *body;
};

struct lab_check;

struct lab {
	int number;
	const char *title;
	const char *guide;		/* file under labs/ */
	const char *teaches;		/* one line for `lab list` */
	int minutes;			/* how long it takes in class */
	struct lab_instance instances[2];
	size_t n_instances;
	const struct lab_seed *seeds;	/* into the first instance's bob */
	size_t n_seeds;
	void (*check)(struct lab_check *c);
};

/* The lab numbered n, or NULL. */
const struct lab *lab_find(int n);

/* `maillab lab start` (cli/lab-start.c): exit status. */
int lab_start(const struct lab *lab, const char *dir, int port_offset);

/* ---- checking (cli/lab-evidence.c) ---- */

struct lab_check {
	const char *dir;	/* the lab directory */
	/* --user NAME: the student graded on a shared instance (one user
	 * per student), whose sessions alone are read; NULL: every session */
	const char *student;
	/* the mailbox the lab's steps look at: "bob", or the student */
	const char *bob;
	int step;		/* steps reported so far */
	int failed;
};

/* Reports the next step: "PASS  step N: ..." or "FAIL  step N: ...". */
void lab_pass(struct lab_check *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void lab_fail(struct lab_check *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* lab_pass or lab_fail, after `ok`, with the same text for both. */
void lab_step(struct lab_check *c, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The sessions of an instance's traces, oldest first. */
struct lab_sessions {
	struct trace_session *all;
	size_t n;
};

/* Loads INSTANCE/log/trace (INSTANCE: the lab directory, or sub-directory
 * `name` of it).  A missing trace directory gives no sessions.  With
 * c->student set, only the student's sessions (lab_session_of). */
void lab_sessions_load(const struct lab_check *c, const char *name,
		       struct lab_sessions *out);
void lab_sessions_free(struct lab_sessions *s);
/* Keeps the sessions of student `name` on a shared instance: those logged
 * in as name, those whose envelope (MAIL FROM, RCPT TO) has the local part
 * name (a "+detail" ignored), and those that name no user at all but came
 * from an address one of the former came from (a student's own machine;
 * a client that fails before MAIL names nobody). */
void lab_sessions_of(struct lab_sessions *s, const char *name);

/* The protocol of a session: "smtp" (smtp, submission, submissions),
 * "pop3", "imap", "smtp-out" (the queue's outbound sessions). */
const char *lab_protocol(const struct trace_session *ts);

/* The first line at index >= from written by `who` ('C', 'S' or '*')
 * whose text begins with `prefix` (ASCII case-insensitive), or -1. */
ssize_t lab_line(const struct trace_session *ts, size_t from, char who,
		 const char *prefix);
/* Like lab_line for a client command: the C: line whose command (IMAP:
 * after its tag) is `verb` with its arguments beginning with `args`
 * (NULL: any), or -1. */
ssize_t lab_command(const struct trace_session *ts, size_t from,
		    const char *verb, const char *args);
/* The reply to the client line (or message body event) at index i: SMTP
 * its final reply line (replies are matched to commands in order, so
 * pipelined commands are paired right), POP3 the next "+OK"/"-ERR"/"+ "
 * line, IMAP the tagged result (or "+" continuation) for its tag.  The
 * index of that S: line, or -1 when none came. */
ssize_t lab_reply(const struct trace_session *ts, size_t i);
/* True when the reply to line i begins with `prefix`. */
bool lab_reply_is(const struct trace_session *ts, size_t i,
		  const char *prefix);
/* Index of the "*: TLS established" event, or -1. */
ssize_t lab_tls_at(const struct trace_session *ts);
/* A session's start as milliseconds since its day began, plus whole days
 * (to compare sessions of the same lab). */
long long lab_start_ms(const struct trace_session *ts);
long long lab_end_ms(const struct trace_session *ts);

/* A command and its reply found in the sessions. */
struct lab_hit {
	const struct trace_session *ts;	/* NULL: the command was never sent */
	ssize_t line, reply;		/* reply -1: none came */
};

/* Looks through the sessions of protocol `proto` ("smtp", "pop3",
 * "imap") logged in as `user` (NULL: any), newest first, for the command
 * `verb` with arguments beginning with `args` (NULL: any).  1 when one got
 * a reply beginning with `good` (*hit is it); 0 when it was sent but never
 * got one (*hit is the newest try); -1 when it was never sent. */
int lab_find_exchange(const struct lab_sessions *s, const char *proto,
		      const char *user, const char *verb, const char *args,
		      const char *good, struct lab_hit *hit);
/* One step from lab_find_exchange: PASS "`what` (session ID)", or FAIL
 * with the reply the newest try got, or `never` when it was not sent. */
void lab_step_exchange(struct lab_check *c, const struct lab_sessions *s,
		       const char *proto, const char *user, const char *verb,
		       const char *args, const char *good, const char *what,
		       const char *never);

/* The index of the message body event ("*: C: <message body...") of an
 * SMTP session that the server accepted with 250, or -1. */
ssize_t lab_smtp_accepted(const struct trace_session *ts);
/* The newest SMTP session (service `service`, NULL: any SMTP service) in
 * which a message was accepted, or NULL. */
const struct trace_session *lab_smtp_sent(const struct lab_sessions *s,
					  const char *service);

/* ---- the store ---- */

struct lab_msg {
	char path[4096];	/* the message file */
	bool in_cur;		/* moved from new/ to cur/ by a reader */
	char flags[16];		/* the letters after ":2," */
};

/* Looks through a user's folder (NULL: INBOX) of instance `name` for a
 * message whose header field `field` contains `value` (ASCII
 * case-insensitive).  1 with *out set, 0 when there is none. */
int lab_find_msg(const struct lab_check *c, const char *name,
		 const char *user, const char *folder, const char *field,
		 const char *value, struct lab_msg *out);
/* Messages in the folder (new/ and cur/). */
size_t lab_count_msgs(const struct lab_check *c, const char *name,
		      const char *user, const char *folder);
/* True when a line of the message's body begins with `prefix`. */
bool lab_body_has_line(const struct lab_msg *m, const char *prefix);
/* True when the folder exists (FOLDER/cur is a directory). */
bool lab_folder_exists(const struct lab_check *c, const char *name,
		       const char *user, const char *folder);

/* The checks of each lab (cli/lab-steps-*.c). */
void lab1_check(struct lab_check *c);
void lab2_check(struct lab_check *c);
void lab3_check(struct lab_check *c);
void lab4_check(struct lab_check *c);
void lab5_check(struct lab_check *c);
void lab6_check(struct lab_check *c);
void lab7_check(struct lab_check *c);
void lab8_check(struct lab_check *c);

#endif
