/* POP3 explained, line by line: the teaching text for `maillab trace show
 * --explain` and the HTML diagram.  Keys: a command verb; "+OK" and "-ERR";
 * "VERB +OK" for what a positive reply to that command carries; "[CODE]"
 * for a response code (RFC 2449 8); "CAPA KEYWORD" for a capability line;
 * "." for the end of a multi-line response.  tests/unit/test-explain.c
 * fails when a reply in the pop3d/ sources has no row. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "pop3d/explain.h"

static const struct explain_entry pop3_entries[] = {
	/* --- commands (RFC 1939 9 and extensions) --- */
	{ "USER", "Gives the user name; the password follows with PASS.",
	  "RFC 1939 7" },
	{ "PASS", "Gives the password, in plain text: only safe on an encrypted "
	  "connection (STLS or port 995).", "RFC 1939 7" },
	{ "APOP", "Logs in with the user name and an MD5 digest of the "
	  "greeting's timestamp and the password, so the password itself is "
	  "not sent.", "RFC 1939 7" },
	{ "AUTH", "Logs in with a SASL mechanism (PLAIN, LOGIN); without "
	  "arguments it lists the mechanisms.", "RFC 5034 4" },
	{ "STLS", "Asks to switch this connection to TLS before logging in.",
	  "RFC 2595 4" },
	{ "CAPA", "Asks which capabilities (extensions) the server has.",
	  "RFC 2449 5" },
	{ "QUIT", "Ends the session. After a login this is when messages "
	  "marked with DELE are really removed (the UPDATE state).",
	  "RFC 1939 6" },
	{ "STAT", "Asks how many messages the mailbox holds and their total "
	  "size.", "RFC 1939 5" },
	{ "LIST", "Lists each message's number and size (or one message's, with "
	  "a number).", "RFC 1939 5" },
	{ "RETR", "Downloads the whole message with this number.", "RFC 1939 5" },
	{ "DELE", "Marks the message for deletion; it goes away only at QUIT.",
	  "RFC 1939 5" },
	{ "NOOP", "Does nothing; the server just answers +OK.", "RFC 1939 5" },
	{ "RSET", "Unmarks every message marked with DELE in this session.",
	  "RFC 1939 5" },
	{ "TOP", "Downloads the headers and the first N lines of the body of a "
	  "message.", "RFC 1939 7" },
	{ "UIDL", "Lists a unique id per message that stays the same across "
	  "sessions (how \"leave mail on server\" clients know what is new).",
	  "RFC 1939 7" },
	{ "unknown command", "The server does not know this command.",
	  "RFC 1939 3" },
	{ "SASL response", "The client's answer to the server's challenge, in "
	  "base64; it carries the credentials, so the trace hides it.",
	  "RFC 5034 4" },

	/* --- replies: a status indicator, then an optional [CODE] --- */
	{ "greeting", "The greeting: +OK means the server is ready; the "
	  "session is in the AUTHORIZATION state until the client logs in.",
	  "RFC 1939 4" },
	{ "+OK", "+OK: the command succeeded.", "RFC 1939 3" },
	{ "-ERR", "-ERR: the command failed; the text says why (for a person, "
	  "not for a program).", "RFC 1939 3" },
	{ "+", "A challenge in the AUTH exchange (base64): the client answers "
	  "with its base64 response.", "RFC 5034 4" },
	{ ".", "A line with only a dot ends a multi-line response (a data line "
	  "starting with a dot gets a second one).", "RFC 1939 3" },
	{ "USER +OK", "The name is noted; now send PASS.", "RFC 1939 7" },
	{ "PASS +OK", "Logged in: the mailbox is locked for this session and "
	  "the TRANSACTION state begins.", "RFC 1939 7" },
	{ "APOP +OK", "Logged in: the mailbox is locked for this session and "
	  "the TRANSACTION state begins.", "RFC 1939 7" },
	{ "AUTH +OK", "Logged in (or, with no mechanism given, the list of "
	  "mechanisms follows).", "RFC 5034 4" },
	{ "STLS +OK", "Start the TLS handshake now; after it, CAPA again.",
	  "RFC 2595 4" },
	{ "CAPA +OK", "The capabilities follow, one per line, ending with a "
	  "dot.", "RFC 2449 5" },
	{ "QUIT +OK", "Goodbye: marked messages are removed now and the "
	  "connection closes.", "RFC 1939 6" },
	{ "STAT +OK", "The number of messages and their total size in octets "
	  "(\"drop listing\").", "RFC 1939 5" },
	{ "LIST +OK", "Message number and size in octets, one per line (or for "
	  "the one message asked for).", "RFC 1939 5" },
	{ "RETR +OK", "The message follows, byte-stuffed, ending with a line "
	  "holding only a dot.", "RFC 1939 5" },
	{ "DELE +OK", "The message is marked; QUIT removes it.", "RFC 1939 5" },
	{ "NOOP +OK", "Still here.", "RFC 1939 5" },
	{ "RSET +OK", "Every deletion mark is undone.", "RFC 1939 5" },
	{ "TOP +OK", "The headers and the first lines of the body follow.",
	  "RFC 1939 7" },
	{ "UIDL +OK", "Message number and unique id, one per line (or for the "
	  "one message asked for).", "RFC 1939 7" },
	{ "[AUTH]", "[AUTH]: the login failed because of the credentials "
	  "(wrong name or password, or not allowed here): retrying later "
	  "will not help.", "RFC 3206 4" },
	{ "[IN-USE]", "[IN-USE]: another session has this mailbox open; POP3 "
	  "allows one at a time.", "RFC 2449 8.1.2" },
	{ "[LOGIN-DELAY]", "[LOGIN-DELAY]: this user logged in too recently; "
	  "wait the time given.", "RFC 2449 8.1.1" },
	{ "[SYS/TEMP]", "[SYS/TEMP]: a temporary problem on the server; try "
	  "again later.", "RFC 3206 4" },
	{ "[SYS/PERM]", "[SYS/PERM]: a lasting problem on the server; retrying "
	  "will not help.", "RFC 3206 4" },

	/* --- strict mode: a rule the client broke (common/strict.h; the
	 * list for students is labs/strict-rules.md).  The text goes into the
	 * trace line as it is: lower case, no final stop. --- */
	{ "pop3-not-logged-in", "this command works only after a login (the "
	  "TRANSACTION state); before it, only USER, PASS, APOP, AUTH, STLS, "
	  "CAPA and QUIT are valid", "RFC 1939 3" },
	{ "pop3-already-logged-in", "this command belongs to the "
	  "AUTHORIZATION state; the client is already logged in",
	  "RFC 1939 3" },
	{ "pop3-pass-without-user", "PASS came without a USER command before "
	  "it; the order is USER name, then PASS password", "RFC 1939 7" },
	{ "pop3-unknown-command", "this is not a POP3 command; commands are "
	  "keywords such as USER, PASS, STAT, LIST, RETR, DELE, QUIT",
	  "RFC 1939 3" },
	{ "pop3-bare-lf", "the line ended in a bare LF; POP3 commands end in "
	  "CRLF", "RFC 1939 3" },
	{ "pop3-line-too-long", "the command line was longer than 255 octets "
	  "(CRLF included), the most a POP3 command line may be",
	  "RFC 2449 4" },
	{ "pop3-no-such-message", "there is no message with this number; "
	  "numbers go from 1 to the count STAT gives", "RFC 1939 5" },
	{ "pop3-message-deleted", "this message is marked as deleted in this "
	  "session; a command may not refer to it (RSET unmarks it)",
	  "RFC 1939 5" },
	{ "pop3-no-quit", "the client closed the connection without QUIT; a "
	  "client ends the session with QUIT and waits for +OK",
	  "RFC 1939 6" },
	{ "pop3-no-quit-dele-lost", "the client closed the connection without "
	  "QUIT, so the session never entered the UPDATE state: the messages "
	  "it marked with DELE were NOT deleted and are still in the mailbox",
	  "RFC 1939 6" },

	/* --- CAPA lines --- */
	{ "CAPA TOP", "TOP is available.", "RFC 2449 6.1" },
	{ "CAPA UIDL", "UIDL is available.", "RFC 2449 6.7" },
	{ "CAPA USER", "USER/PASS logins are accepted.", "RFC 2449 6.8" },
	{ "CAPA SASL", "AUTH is available with these SASL mechanisms.",
	  "RFC 2449 6.3" },
	{ "CAPA LOGIN-DELAY", "The minimum number of seconds between logins.",
	  "RFC 2449 6.5" },
	{ "CAPA RESP-CODES", "-ERR replies may carry a [CODE].", "RFC 2449 6.4" },
	{ "CAPA AUTH-RESP-CODE", "A failed login says [AUTH] when the "
	  "credentials were the problem.", "RFC 3206 5" },
	{ "CAPA PIPELINING", "Several commands may be sent without waiting.",
	  "RFC 2449 6.6" },
	{ "CAPA STLS", "STLS is available.", "RFC 2595 4" },
	{ "CAPA EXPIRE", "How long the server keeps messages (NEVER: until "
	  "deleted).", "RFC 2449 6.7" },
	{ "CAPA IMPLEMENTATION", "The server software's name.", "RFC 2449 6.9" },
};

enum pop3_x_state { X_AUTHORIZATION, X_TRANSACTION, X_UPDATE };

static const char *const state_names[] = {
	[X_AUTHORIZATION] = "AUTHORIZATION",
	[X_TRANSACTION] = "TRANSACTION",
	[X_UPDATE] = "UPDATE",
};

static const char *pop3_state_name(const struct explain_session *es)
{
	return state_names[es->state];
}

/* es->data_mode: what the lines of a multi-line response are. */
enum { DATA_NONE, DATA_LISTING, DATA_CAPA, DATA_MESSAGE };

static void client_line(struct explain_session *es, const char *line,
			struct explain_line *out)
{
	char verb[16];
	const char *args;

	if (es->in_exchange) {
		explain_add(&pop3_explainer, out, "SASL response");
		out->auth = true;
		return;
	}
	args = explain_word(line, verb, sizeof(verb));
	/* Remember whether a multi-line answer is coming (RFC 1939 5: LIST
	 * and UIDL with an argument answer in one line). */
	if ((strcmp(verb, "LIST") == 0 || strcmp(verb, "UIDL") == 0 ||
	     strcmp(verb, "AUTH") == 0) && *args == '\0')
		snprintf(verb + strlen(verb), sizeof(verb) - strlen(verb), "*");
	explain_push(es, verb);
	if (verb[0] != '\0' && verb[strlen(verb) - 1] == '*')
		verb[strlen(verb) - 1] = '\0';
	if (!explain_add(&pop3_explainer, out, verb))
		explain_add(&pop3_explainer, out, "unknown command");
	out->auth = strcmp(verb, "USER") == 0 || strcmp(verb, "PASS") == 0 ||
		    strcmp(verb, "APOP") == 0 || strcmp(verb, "AUTH") == 0;
	out->tls = strcmp(verb, "STLS") == 0;
}

static int multiline_kind(const char *cmd)
{
	if (strcmp(cmd, "RETR") == 0 || strcmp(cmd, "TOP") == 0)
		return DATA_MESSAGE;
	if (strcmp(cmd, "CAPA") == 0)
		return DATA_CAPA;
	if (strcmp(cmd, "LIST*") == 0 || strcmp(cmd, "UIDL*") == 0 ||
	    strcmp(cmd, "AUTH*") == 0)
		return DATA_LISTING;
	return DATA_NONE;
}

static void data_line(struct explain_session *es, const char *line,
		      struct explain_line *out)
{
	char key[40], kw[24];

	if (strcmp(line, ".") == 0) {
		explain_add(&pop3_explainer, out, ".");
		es->data_mode = DATA_NONE;
		return;
	}
	if (es->data_mode == DATA_MESSAGE) {
		out->body = true;
	} else if (es->data_mode == DATA_CAPA) {
		explain_word(line, kw, sizeof(kw));
		snprintf(key, sizeof(key), "CAPA %s", kw);
		explain_add(&pop3_explainer, out, key);
	}
}

static void status_line(struct explain_session *es, const char *line,
			struct explain_line *out)
{
	bool ok = strncmp(line, "+OK", 3) == 0;
	char cmd[sizeof(es->last_cmd)], key[sizeof(cmd) + 8];

	if (es->n_pending == 0 && ok && es->last_cmd[0] == '\0') {
		explain_add(&pop3_explainer, out, "greeting");
		snprintf(es->last_cmd, sizeof(es->last_cmd), "greeting");
		return;
	}
	explain_pop(es);
	snprintf(cmd, sizeof(cmd), "%s", es->last_cmd);
	if (cmd[0] != '\0' && cmd[strlen(cmd) - 1] == '*')
		cmd[strlen(cmd) - 1] = '\0';
	es->in_exchange = false;
	if (ok) {
		snprintf(key, sizeof(key), "%s +OK", cmd);
		if (!explain_add(&pop3_explainer, out, key))
			explain_add(&pop3_explainer, out, "+OK");
		es->data_mode = multiline_kind(es->last_cmd);
		if (strcmp(cmd, "PASS") == 0 || strcmp(cmd, "APOP") == 0 ||
		    (strcmp(cmd, "AUTH") == 0 && es->data_mode == DATA_NONE))
			es->state = X_TRANSACTION;
		else if (strcmp(cmd, "QUIT") == 0 && es->state == X_TRANSACTION)
			es->state = X_UPDATE;
	} else {
		const char *code = line + 4;
		size_t n = strcspn(code, "]");

		explain_add(&pop3_explainer, out, "-ERR");
		if (*code == '[' && code[n] == ']') {
			snprintf(key, sizeof(key), "%.*s", (int)n + 1, code);
			explain_add(&pop3_explainer, out, key);
		}
	}
	out->auth = strcmp(cmd, "USER") == 0 || strcmp(cmd, "PASS") == 0 ||
		    strcmp(cmd, "APOP") == 0 || strcmp(cmd, "AUTH") == 0;
	out->tls = ok && strcmp(cmd, "STLS") == 0;
}

static void server_line(struct explain_session *es, const char *line,
			struct explain_line *out)
{
	if (es->data_mode != DATA_NONE) {
		data_line(es, line, out);
	} else if (strncmp(line, "+OK", 3) == 0 || strncmp(line, "-ERR", 4) == 0) {
		status_line(es, line, out);
	} else if (line[0] == '+' && (line[1] == ' ' || line[1] == '\0')) {
		explain_add(&pop3_explainer, out, "+");
		es->in_exchange = true;
		out->auth = true;
	}
}

static void pop3_feed(struct explain_session *es, enum explain_who who,
		      const char *line, struct explain_line *out)
{
	switch (who) {
	case EXPLAIN_CLIENT:
		client_line(es, line, out);
		break;
	case EXPLAIN_SERVER:
		server_line(es, line, out);
		break;
	case EXPLAIN_EVENT:
		/* The rest of a long response was not recorded. */
		if (strstr(line, "more bytes from the server") != NULL)
			es->data_mode = DATA_NONE;
		break;
	}
}

const struct explainer pop3_explainer = {
	.protocol = "pop3",
	.entries = pop3_entries,
	.n_entries = sizeof(pop3_entries) / sizeof(pop3_entries[0]),
	.feed = pop3_feed,
	.state_name = pop3_state_name,
};
