/* The checks of labs 5-8 (labs/05-08): encryption, the student's own
 * SMTP client, store and forward between two instances, real clients. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cli/lab.h"
#include "common/strict.h"

static void store_step(struct lab_check *c, const char *name, const char *user,
		       const char *where, const char *subject, const char *hint)
{
	struct lab_msg m;

	if (lab_find_msg(c, name, user, NULL, "Subject", subject, &m) == 1)
		lab_pass(c, "%s has the message with Subject '%s'", where, subject);
	else
		lab_fail(c, "%s has no message with Subject '%s'%s", where, subject,
			 hint);
}

/* ---- lab 5: encryption ---- */

/* Step: no SMTP session sent AUTH before TLS, and one sent it after. */
static void auth_after_tls(struct lab_check *c, const struct lab_sessions *s)
{
	const struct trace_session *good = NULL;

	for (size_t k = 0; k < s->n; k++) {
		const struct trace_session *ts = &s->all[k];
		ssize_t tls = lab_tls_at(ts), auth = lab_command(ts, 0, "AUTH", NULL);
		bool implicit = strcmp(ts->service, "submissions") == 0;

		if (strcmp(lab_protocol(ts), "smtp") != 0 || auth < 0)
			continue;
		if (!implicit && (tls < 0 || auth < tls)) {
			lab_fail(c, "session %s sent AUTH before STARTTLS (at %s): anyone capturing read the base64 of the password",
				 ts->id, ts->lines[auth].time);
			return;
		}
		if (lab_line(ts, (size_t)auth, '*', "auth ok") >= 0)
			good = ts;
	}
	if (good != NULL)
		lab_pass(c, "AUTH only after STARTTLS; session %s logged in under TLS",
			 good->id);
	else
		lab_fail(c, "no SMTP session logged in after STARTTLS: on the submission port send STARTTLS, EHLO again, then AUTH PLAIN");
}

void lab5_check(struct lab_check *c)
{
	const struct trace_session *clear = NULL, *tls = NULL;
	struct lab_sessions s;

	lab_sessions_load(c, NULL, &s);
	for (size_t k = 0; k < s.n; k++) {
		const struct trace_session *ts = &s.all[k];
		ssize_t at = lab_smtp_accepted(ts), t = lab_tls_at(ts);

		if (at >= 0 && t < 0 && strcmp(ts->service, "smtp") == 0)
			clear = ts;
		if (at >= 0 && t >= 0 && at > t &&
		    lab_command(ts, 0, "STARTTLS", NULL) >= 0)
			tls = ts;
	}
	if (clear != NULL)
		lab_pass(c, "a plaintext session delivered a message (session %s)", clear->id);
	else
		lab_fail(c, "no plaintext session on the smtp port delivered a message: send one with nc -C while tcpdump records");
	if (tls != NULL)
		lab_pass(c, "a STARTTLS session delivered a message (session %s)", tls->id);
	else
		lab_fail(c, "no session delivered a message after STARTTLS: use the submission port and STARTTLS (swaks --tls)");
	auth_after_tls(c, &s);
	store_step(c, NULL, c->bob, c->bob, "Lab 5: in the clear",
		   " (the plaintext session's message)");
	store_step(c, NULL, c->bob, c->bob, "Lab 5: under TLS",
		   " (the STARTTLS session's message)");
	lab_sessions_free(&s);
}

/* ---- lab 6: your own SMTP client ---- */

#define LAB6_SUBJECT "Sent by my own client"

/* What the server's error reply `r` to the client's line `cmd` says about
 * the client, as a hint. */
static void error_hint(struct lab_check *c, const struct trace_session *ts,
		       const char *cmd, const char *r)
{
	const char *before = strstr(r, "send EHLO or HELO first") ? "before EHLO" :
			     strstr(r, "send MAIL and RCPT first") ? "before MAIL and RCPT" :
			     strstr(r, "send MAIL first") ? "before MAIL" : "out of order";
	char verb[16];

	snprintf(verb, sizeof(verb), "%.*s", (int)strcspn(cmd, " :"), cmd);
	if (strstr(r, "Bare LF") != NULL || strstr(r, "Bare CR") != NULL)
		lab_fail(c, "your client ended a line with a bare %s ('%s'): SMTP lines end with CRLF, \\r\\n (RFC 5321 2.3.8): see the %.3s in session %s",
			 strstr(r, "Bare LF") ? "LF" : "CR", cmd, r, ts->id);
	else if (strncmp(r, "503", 3) == 0)
		lab_fail(c, "your client sent %s %s: see the 503 in session %s",
			 verb, before, ts->id);
	else if (strncmp(r, "501", 3) == 0)
		lab_fail(c, "your client's '%s' has a syntax error ('%s'): see the 501 in session %s",
			 cmd, r, ts->id);
	else if (strncmp(r, "500", 3) == 0 || strncmp(r, "502", 3) == 0)
		lab_fail(c, "the server did not understand '%s' ('%s'): see the %.3s in session %s",
			 cmd, r, r, ts->id);
	else
		lab_fail(c, "the server answered '%s' to '%s' in session %s", r, cmd,
			 ts->id);
}

/* Step: no error reply in the session. */
static void no_errors(struct lab_check *c, const struct trace_session *ts)
{
	for (size_t i = 0; i < ts->n_lines; i++) {
		const struct trace_line *l = &ts->lines[i];
		ssize_t r;

		if (l->who != 'C' && !(l->who == '*' && strncmp(l->text, "C: <", 4) == 0))
			continue;
		r = lab_reply(ts, i);
		if (r >= 0 && (ts->lines[r].text[0] == '4' || ts->lines[r].text[0] == '5')) {
			error_hint(c, ts, l->text, ts->lines[r].text);
			return;
		}
	}
	if (ts->timeout)
		lab_fail(c, "session %s ended in a timeout: did your client wait for a reply that it had already read, or never end DATA with CRLF.CRLF?",
			 ts->id);
	else
		lab_pass(c, "no error replies in session %s", ts->id);
}

/* The student's latest run: the newest session on the smtp port in which
 * the client said something. */
static const struct trace_session *latest_run(const struct lab_sessions *s)
{
	for (size_t k = s->n; k-- > 0;)
		if (strcmp(s->all[k].service, "smtp") == 0 &&
		    lab_line(&s->all[k], 0, 'C', "") >= 0)
			return &s->all[k];
	return NULL;
}

static void lab6_run_steps(struct lab_check *c, const struct trace_session *ts)
{
	ssize_t first = lab_line(ts, 0, 'C', ""), i;
	struct lab_sessions one = { (struct trace_session *)ts, 1 };
	char to[96], what[128], never[128];

	lab_step(c, (lab_command(ts, 0, "EHLO", NULL) == first ||
		     lab_command(ts, 0, "HELO", NULL) == first) &&
		 lab_reply_is(ts, (size_t)first, "250"),
		 "your client greeted with EHLO (or HELO) first and got 250 (session %s)",
		 ts->id);
	lab_step_exchange(c, &one, "smtp", NULL, "MAIL", "FROM:<", "250",
			  "MAIL FROM:<...> was accepted",
			  "your client sent no MAIL FROM:<address> (the address in <>)");
	snprintf(to, sizeof(to), "TO:<%s@", c->bob);
	snprintf(what, sizeof(what), "RCPT %s...> was accepted", to);
	snprintf(never, sizeof(never), "your client sent no RCPT %s...>", to);
	lab_step_exchange(c, &one, "smtp", NULL, "RCPT", to, "250", what, never);
	i = lab_command(ts, 0, "DATA", NULL);
	if (lab_smtp_accepted(ts) >= 0)
		lab_pass(c, "DATA: the message was ended with CRLF.CRLF and accepted");
	else if (i >= 0 && lab_reply_is(ts, (size_t)i, "354"))
		lab_fail(c, "DATA got 354 but the message was never accepted: end it with \\r\\n.\\r\\n and read the 250 (session %s)",
			 ts->id);
	else
		lab_fail(c, "your client's DATA was not answered 354 (session %s)", ts->id);
	lab_step_exchange(c, &one, "smtp", NULL, "QUIT", NULL, "221",
			  "QUIT was answered 221",
			  "your client did not end with QUIT");
	no_errors(c, ts);
}

/* Steps: the rules strict mode (common/strict.h, `strict = on` in lab 6)
 * saw the client break in session ts, one FAIL a rule with the text and
 * RFC section of its row in the protocol's explain table; one PASS when
 * there were none. */
static void strict_steps(struct lab_check *c, const struct trace_session *ts)
{
	const struct explainer *ex = trace_explainer(ts->service);
	const size_t plen = strlen(STRICT_PREFIX);
	char seen[16][48];
	size_t n_seen = 0;

	for (ssize_t i = lab_line(ts, 0, '*', STRICT_PREFIX); i >= 0;
	     i = lab_line(ts, (size_t)i + 1, '*', STRICT_PREFIX)) {
		const char *rule = ts->lines[i].text + plen;
		const struct explain_entry *e;
		bool again = false;
		char id[48];

		snprintf(id, sizeof(id), "%.*s", (int)strcspn(rule, ":"), rule);
		for (size_t k = 0; k < n_seen && !again; k++)
			again = strcmp(seen[k], id) == 0;
		if (again || n_seen == sizeof(seen) / sizeof(seen[0]))
			continue;
		memcpy(seen[n_seen++], id, sizeof(id));
		e = ex != NULL ? explain_find(ex, id) : NULL;
		lab_fail(c, "strict mode: your client broke %s: %s: %s, session %s (read it with: maillab trace show -d %s %s --explain)",
			 id, e != NULL ? e->text : "a protocol rule",
			 e != NULL ? e->rfc : "see labs/strict-rules.md", ts->id,
			 c->dir, ts->id);
	}
	if (n_seen == 0)
		lab_pass(c, "strict mode: your client broke no protocol rule in session %s",
			 ts->id);
}

void lab6_check(struct lab_check *c)
{
	const struct trace_session *ts;
	struct lab_sessions s;
	struct lab_msg m;

	lab_sessions_load(c, NULL, &s);
	ts = latest_run(&s);
	if (ts == NULL)
		lab_fail(c, "no client has talked to the smtp port yet: run your client");
	else
		lab6_run_steps(c, ts);
	store_step(c, NULL, c->bob, c->bob, LAB6_SUBJECT,
		   " (your client's Subject: header line)");
	if (lab_find_msg(c, NULL, c->bob, NULL, "Subject", LAB6_SUBJECT, &m) == 1 &&
	    lab_body_has_line(&m, ".signature"))
		lab_pass(c, "dot-stuffing: the line '.signature' arrived with its dot");
	else
		lab_fail(c, "%s has no message '%s' with the body line '.signature': your client must send it as '..signature' (RFC 5321 4.5.2)",
			 c->bob, LAB6_SUBJECT);
	if (ts != NULL)
		strict_steps(c, ts);
	else
		lab_fail(c, "strict mode: no session of your client to check yet");
	lab_sessions_free(&s);
}

/* ---- lab 7: store and forward ---- */

static bool connected(const struct trace_session *ts)
{
	return lab_line(ts, 0, '*', "connected to") >= 0;
}

static bool relayed(const struct trace_session *ts)
{
	ssize_t body = lab_line(ts, 0, '*', "C: <message");

	return body >= 0 && lab_line(ts, (size_t)body, 'S', "250") >= 0;
}

void lab7_check(struct lab_check *c)
{
	const struct trace_session *down = NULL, *retry = NULL;
	struct lab_sessions north;
	struct lab_msg m;

	lab_sessions_load(c, "north", &north);
	store_step(c, "south", "bob", "bob@south.test", "Lab 7: hello south",
		   ": send it as alice@north.test through north's submission port");
	for (size_t k = 0; k < north.n; k++) {
		const struct trace_session *ts = &north.all[k];

		if (strcmp(ts->service, "smtp-out") != 0)
			continue;
		if (!connected(ts) && down == NULL)
			down = ts;
		else if (down != NULL && retry == NULL && relayed(ts))
			retry = ts;
	}
	if (down != NULL)
		lab_pass(c, "north found south down (outbound session %s: %s)", down->id,
			 down->n_lines > 2 ? down->lines[2].text : "no connection");
	else
		lab_fail(c, "north never found south down: take south down (kill its pid), then send 'Lab 7: while you were down'");
	if (retry != NULL)
		lab_pass(c, "a later retry relayed the queued message (outbound session %s)",
			 retry->id);
	else
		lab_fail(c, "no retry relayed a message after south was down: bring south back (maillab serve -d DIR/south) and watch maillab queue list");
	store_step(c, "south", "bob", "bob@south.test", "Lab 7: while you were down",
		   ": send it while south is down, then bring south back");
	if (lab_find_msg(c, "north", "alice", NULL, "From", "MAILER-DAEMON", &m) == 1)
		lab_pass(c, "alice@north.test got a bounce from MAILER-DAEMON");
	else
		lab_fail(c, "alice@north.test has no bounce: send a message to nobody@south.test, which south refuses with 550");
	lab_sessions_free(&north);
}

/* ---- lab 8: real clients ---- */

static bool read_a_message(const struct trace_session *ts)
{
	if (strcmp(lab_protocol(ts), "pop3") == 0) {
		ssize_t i = lab_command(ts, 0, "RETR", NULL);

		return i >= 0 && lab_reply_is(ts, (size_t)i, "+OK");
	}
	if (strcmp(lab_protocol(ts), "imap") != 0)
		return false;
	for (size_t i = 0; i < ts->n_lines; i++) {
		const char *t = ts->lines[i].text;

		if (ts->lines[i].who == 'S' && strncmp(t, "* ", 2) == 0 &&
		    strstr(t, " FETCH (") != NULL &&
		    (strstr(t, "BODY[") != NULL || strstr(t, "RFC822 ") != NULL ||
		     strstr(t, "RFC822.TEXT") != NULL))
			return true;
	}
	return false;
}

static bool encrypted(const struct trace_session *ts)
{
	size_t n = strlen(ts->service);

	return lab_tls_at(ts) >= 0 || (n > 0 && ts->service[n - 1] == 's' &&
				       strcmp(ts->service, "submission") != 0);
}

void lab8_check(struct lab_check *c)
{
	const struct trace_session *sent = NULL, *read = NULL;
	struct lab_sessions s;

	lab_sessions_load(c, NULL, &s);
	for (size_t k = 0; k < s.n; k++) {
		const struct trace_session *ts = &s.all[k];

		if (ts->user[0] != '\0' && lab_smtp_accepted(ts) >= 0)
			sent = ts;
		if (ts->user[0] != '\0' && read_a_message(ts))
			read = ts;
	}
	if (sent == NULL)
		lab_fail(c, "no client logged in and sent a message: set the client's SMTP server to the submission port with STARTTLS and a login");
	else if (!encrypted(sent))
		lab_fail(c, "session %s sent mail without TLS: set the client's SMTP security to STARTTLS", sent->id);
	else
		lab_pass(c, "your client sent a message over TLS as %s (session %s, %s)",
			 sent->user, sent->id, sent->service);
	store_step(c, NULL, c->bob, c->bob, "Lab 8: from a real client",
		   " (send one from alice's account in your client)");
	if (read == NULL)
		lab_fail(c, "no client logged in and downloaded a message over IMAP or POP3: open %s's INBOX in your client",
			 c->bob);
	else if (!encrypted(read))
		lab_fail(c, "session %s read mail without TLS: set the client's IMAP security to SSL/TLS (port imaps) or STARTTLS", read->id);
	else
		lab_pass(c, "your client read a message over TLS as %s (session %s, %s)",
			 read->user, read->id, read->service);
	lab_sessions_free(&s);
}
