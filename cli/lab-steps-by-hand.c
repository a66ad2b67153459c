/* The checks of labs 1-4 (labs/01-04): the three protocols typed by hand,
 * then POP3 and IMAP on one mailbox. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cli/lab.h"

/* ---- lab 1: SMTP by hand ---- */

#define LAB1_SUBJECT "Hello from the lab"

/* Step: some SMTP session began with EHLO. */
static void first_command_ehlo(struct lab_check *c, const struct lab_sessions *s)
{
	const struct trace_session *helo = NULL;

	for (size_t k = s->n; k-- > 0;) {
		const struct trace_session *ts = &s->all[k];
		ssize_t first = lab_line(ts, 0, 'C', "");

		if (strcmp(ts->service, "smtp") != 0 || first < 0)
			continue;
		if (lab_command(ts, (size_t)first, "EHLO", NULL) == first &&
		    lab_reply_is(ts, (size_t)first, "250")) {
			lab_pass(c, "an SMTP session to the smtp port began with EHLO (session %s)",
				 ts->id);
			return;
		}
		if (helo == NULL)
			helo = ts;
	}
	if (helo != NULL)
		lab_fail(c, "session %s began with '%s', not an accepted EHLO: greet with EHLO first (RFC 5321 4.1.1.1)",
			 helo->id, helo->lines[lab_line(helo, 0, 'C', "")].text);
	else
		lab_fail(c, "no session on the smtp port yet: connect with nc -C 127.0.0.1 PORT (the guide gives PORT)");
}

void lab1_check(struct lab_check *c)
{
	const struct trace_session *sent;
	struct lab_sessions s;
	struct lab_hit hit;
	struct lab_msg m;
	char to[96], what[128], never[128];

	lab_sessions_load(c, NULL, &s);
	first_command_ehlo(c, &s);
	lab_step_exchange(c, &s, "smtp", NULL, "MAIL", "FROM:", "250",
			  "the server accepted a MAIL FROM",
			  "no MAIL FROM:<address> was sent yet");
	snprintf(to, sizeof(to), "TO:<%s@", c->bob);
	snprintf(what, sizeof(what), "the server accepted RCPT %s...>", to);
	snprintf(never, sizeof(never), "no RCPT %s...> was sent yet", to);
	lab_step_exchange(c, &s, "smtp", NULL, "RCPT", to, "250", what, never);
	sent = lab_smtp_sent(&s, NULL);
	if (sent != NULL)
		lab_pass(c, "DATA: the message ended with a lone '.' and was accepted (session %s)",
			 sent->id);
	else if (lab_find_exchange(&s, "smtp", NULL, "DATA", NULL, "354", &hit) > 0)
		lab_fail(c, "DATA got 354 in session %s but no message was ended and accepted: end it with a line holding only '.'",
			 hit.ts->id);
	else
		lab_fail(c, "no DATA was answered 354 yet (send it after MAIL and RCPT were accepted)");
	if (lab_find_msg(c, NULL, c->bob, NULL, "Subject", LAB1_SUBJECT, &m) == 1)
		lab_pass(c, "%s has the message with Subject '%s'", c->bob, LAB1_SUBJECT);
	else
		lab_fail(c, "%s has no message with Subject '%s' (type the header line 'Subject: %s' after DATA)",
			 c->bob, LAB1_SUBJECT, LAB1_SUBJECT);
	if (m.path[0] != '\0' && lab_body_has_line(&m, "."))
		lab_pass(c, "dot-stuffing: the body of %s's message has a line that begins with '.'",
			 c->bob);
	else
		lab_fail(c, "%s's message '%s' has no body line that begins with '.': type one as '..text' (RFC 5321 4.5.2: the server removes the first dot)",
			 c->bob, LAB1_SUBJECT);
	lab_step_exchange(c, &s, "smtp", NULL, "QUIT", NULL, "221",
			  "a session ended with QUIT and 221",
			  "no session ended with QUIT yet");
	lab_sessions_free(&s);
}

/* ---- lab 2: POP3 by hand ---- */

void lab2_check(struct lab_check *c)
{
	static const char *const verbs[] = { "STAT", "LIST", "UIDL", "RETR", "DELE" };
	struct lab_sessions s;
	struct lab_hit dele;
	struct lab_msg m;
	bool gone;
	char what[128], never[192];

	lab_sessions_load(c, NULL, &s);
	snprintf(what, sizeof(what), "%s logged in over POP3 (USER, PASS)", c->bob);
	snprintf(never, sizeof(never), "no POP3 session logged in as %s yet: USER %s, then PASS and %s's password",
		 c->bob, c->bob, c->bob);
	lab_step_exchange(c, &s, "pop3", c->bob, "PASS", NULL, "+OK", what, never);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		snprintf(what, sizeof(what), "%s answered +OK", verbs[i]);
		snprintf(never, sizeof(never), "%s's POP3 sessions never sent %s",
			 c->bob, verbs[i]);
		lab_step_exchange(c, &s, "pop3", c->bob, verbs[i], NULL, "+OK", what,
				  never);
	}
	gone = lab_find_msg(c, NULL, c->bob, NULL, "Subject", "Lab 2: delete me", &m) == 0;
	if (gone)
		lab_pass(c, "'Lab 2: delete me' is gone from %s's Maildir", c->bob);
	else if (lab_find_exchange(&s, "pop3", c->bob, "DELE", NULL, "+OK", &dele) > 0 &&
		 lab_command(dele.ts, (size_t)dele.line, "QUIT", NULL) < 0)
		lab_fail(c, "'Lab 2: delete me' is still in %s: session %s sent DELE but no QUIT, and POP3 deletes only at QUIT (RFC 1939 6)",
			 m.path, dele.ts->id);
	else
		lab_fail(c, "'Lab 2: delete me' is still in %s: DELE it (its number is in LIST), then QUIT",
			 m.path);
	if (lab_find_msg(c, NULL, c->bob, NULL, "Subject", "Lab 2: keep me", &m) == 1)
		lab_pass(c, "'Lab 2: keep me' is still on the server");
	else
		lab_fail(c, "'Lab 2: keep me' was deleted too: only 'Lab 2: delete me' should go (restart from a new lab directory)");
	lab_sessions_free(&s);
}

/* ---- lab 3: IMAP by hand ---- */

/* Step: an IDLE that announced a new message before DONE. */
static void idle_saw_mail(struct lab_check *c, const struct lab_sessions *s)
{
	bool idled = false;

	for (size_t k = s->n; k-- > 0;) {
		const struct trace_session *ts = &s->all[k];

		if (strcmp(lab_protocol(ts), "imap") != 0 || strcmp(ts->user, c->bob) != 0)
			continue;
		for (ssize_t i = lab_command(ts, 0, "IDLE", NULL); i >= 0;
		     i = lab_command(ts, (size_t)i + 1, "IDLE", NULL)) {
			ssize_t done = lab_line(ts, (size_t)i + 1, 'C', "DONE");
			size_t end = done >= 0 ? (size_t)done : ts->n_lines;

			idled = true;
			for (size_t j = (size_t)i + 1; j < end; j++) {
				const char *t = ts->lines[j].text;

				if (ts->lines[j].who == 'S' && strncmp(t, "* ", 2) == 0 &&
				    strstr(t, " EXISTS") != NULL) {
					lab_pass(c, "during IDLE the server announced new mail: '%s' (session %s)",
						 t, ts->id);
					return;
				}
			}
		}
	}
	if (idled)
		lab_fail(c, "%s's IDLE never announced new mail: while IDLE waits, send %s a message from another terminal, then type DONE",
			 c->bob, c->bob);
	else
		lab_fail(c, "%s's IMAP sessions never sent IDLE (a4 IDLE, wait, then DONE)",
			 c->bob);
}

void lab3_check(struct lab_check *c)
{
	static const struct {
		const char *verb, *what, *never;
	} cmds[] = {
		{ "LIST", "LIST answered OK", "LIST (a2 LIST \"\" \"*\")" },
		{ "SELECT", "SELECT answered OK", "SELECT INBOX" },
		{ "FETCH", "FETCH answered OK", "FETCH" },
		{ "STORE", "STORE answered OK", "STORE" },
		{ "CREATE", "CREATE answered OK", "CREATE Lab3" },
		{ "COPY", "COPY answered OK", "COPY" },
		{ "SEARCH", "SEARCH answered OK", "SEARCH" },
	};
	struct lab_sessions s;
	struct lab_msg m;
	char what[128], never[192];

	lab_sessions_load(c, NULL, &s);
	snprintf(what, sizeof(what), "%s logged in over IMAP", c->bob);
	snprintf(never, sizeof(never), "no IMAP session logged in as %s yet: a1 LOGIN %s PASSWORD",
		 c->bob, c->bob);
	lab_step_exchange(c, &s, "imap", c->bob, "LOGIN", NULL, "OK", what, never);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		snprintf(never, sizeof(never), "%s's IMAP sessions never sent %s",
			 c->bob, cmds[i].never);
		lab_step_exchange(c, &s, "imap", c->bob, cmds[i].verb, NULL, "OK",
				  cmds[i].what, never);
	}
	if (lab_find_msg(c, NULL, c->bob, NULL, "Subject", "Lab 3: first message", &m) == 1 &&
	    strchr(m.flags, 'S') != NULL)
		lab_pass(c, "'Lab 3: first message' is \\Seen: its file name ends in :2,%s",
			 m.flags);
	else
		lab_fail(c, "'Lab 3: first message' is not \\Seen in the Maildir: STORE 1 +FLAGS (\\Seen)");
	if (lab_find_msg(c, NULL, c->bob, "Lab3", "Subject", "Lab 3: second message", &m) == 1)
		lab_pass(c, "folder Lab3 holds a copy of 'Lab 3: second message'");
	else if (!lab_folder_exists(c, NULL, c->bob, "Lab3"))
		lab_fail(c, "%s has no folder Lab3: CREATE Lab3", c->bob);
	else
		lab_fail(c, "folder Lab3 has no copy of 'Lab 3: second message': COPY 2 Lab3");
	idle_saw_mail(c, &s);
	lab_sessions_free(&s);
}

/* ---- lab 4: POP3 and IMAP on one mailbox ---- */

/* Step: a POP3 and an IMAP session of the lab's user open at the same
 * time. */
static void overlapping(struct lab_check *c, const struct lab_sessions *s)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct trace_session *p = &s->all[i];

		if (strcmp(lab_protocol(p), "pop3") != 0 || strcmp(p->user, c->bob) != 0)
			continue;
		for (size_t j = 0; j < s->n; j++) {
			const struct trace_session *m = &s->all[j];

			if (strcmp(lab_protocol(m), "imap") != 0 ||
			    strcmp(m->user, c->bob) != 0)
				continue;
			if (lab_start_ms(p) < lab_end_ms(m) &&
			    lab_start_ms(m) < lab_end_ms(p)) {
				lab_pass(c, "%s had POP3 session %s and IMAP session %s open at the same time",
					 c->bob, p->id, m->id);
				return;
			}
		}
	}
	lab_fail(c, "%s never had a POP3 and an IMAP session open at the same time: keep both terminals logged in",
		 c->bob);
}

void lab4_check(struct lab_check *c)
{
	struct lab_sessions s;
	struct lab_msg m;
	bool expunge_seen = false;

	lab_sessions_load(c, NULL, &s);
	overlapping(c, &s);
	if (lab_find_msg(c, NULL, c->bob, NULL, "Subject", "Lab 4: read me over IMAP", &m) == 0)
		lab_fail(c, "'Lab 4: read me over IMAP' is gone: it should stay, marked \\Seen");
	else if (!m.in_cur || strchr(m.flags, 'S') == NULL)
		lab_fail(c, "'Lab 4: read me over IMAP' is %s without the S flag: over IMAP, STORE its number +FLAGS (\\Seen)",
			 m.in_cur ? "in cur/" : "still in new/");
	else
		lab_pass(c, "'Lab 4: read me over IMAP' moved from new/ to cur/ and its name ends in :2,%s",
			 m.flags);
	if (lab_find_msg(c, NULL, c->bob, NULL, "Subject", "Lab 4: delete me over POP3", &m) == 1)
		lab_fail(c, "'Lab 4: delete me over POP3' is still in %s: DELE it over POP3, then QUIT",
			 m.path);
	else
		lab_pass(c, "'Lab 4: delete me over POP3' is gone from the Maildir");
	for (size_t k = 0; k < s.n && !expunge_seen; k++) {
		const struct trace_session *ts = &s.all[k];

		if (strcmp(lab_protocol(ts), "imap") != 0 || strcmp(ts->user, c->bob) != 0)
			continue;
		for (size_t i = 0; i < ts->n_lines && !expunge_seen; i++)
			expunge_seen = ts->lines[i].who == 'S' &&
				       strncmp(ts->lines[i].text, "* ", 2) == 0 &&
				       strstr(ts->lines[i].text, " EXPUNGE") != NULL;
		if (expunge_seen)
			lab_pass(c, "IMAP session %s was told of the POP3 deletion (* EXPUNGE)",
				 ts->id);
	}
	if (!expunge_seen)
		lab_fail(c, "no IMAP session of %s was told of the deletion: keep IMAP open while POP3 QUITs, then send NOOP over IMAP",
			 c->bob);
	lab_sessions_free(&s);
}
