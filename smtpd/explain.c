/* SMTP explained, line by line: the teaching text for `maillab trace show
 * --explain` and the HTML diagram.  Keys: a command verb; a reply as
 * "CODE ENHANCED-CODE" (or "CODE" for the replies without one: the
 * greeting, EHLO/HELO, 354, 334); "EHLO KEYWORD" for a capability line.
 * tests/unit/test-explain.c fails when a reply in the smtpd/ sources has no row. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "smtpd/explain.h"

static const struct explain_entry smtp_entries[] = {
	/* --- commands (RFC 5321 4.1.1 and extensions) --- */
	{ "EHLO", "The client says hello and gives its name; with EHLO (not HELO) "
	  "it also asks which extensions the server supports.", "RFC 5321 4.1.1.1" },
	{ "HELO", "The old, plain greeting: the client gives its name; no "
	  "extensions are listed.", "RFC 5321 4.1.1.1" },
	{ "MAIL", "Starts a new message: FROM:<address> is the envelope sender, "
	  "where bounces go (may differ from the From: header).", "RFC 5321 4.1.1.2" },
	{ "RCPT", "Names one recipient of the message (one RCPT per recipient); "
	  "the envelope decides delivery, not the To: header.", "RFC 5321 4.1.1.3" },
	{ "DATA", "Asks to send the message itself; it will end with a line "
	  "holding a single dot.", "RFC 5321 4.1.1.4" },
	{ "BDAT", "Sends a chunk of the message of exactly the given size, no dot "
	  "needed; LAST marks the final chunk.", "RFC 3030 2" },
	{ "AUTH", "Starts logging in with a SASL mechanism (PLAIN, LOGIN); the "
	  "credentials that follow are base64, not encrypted.", "RFC 4954 4" },
	{ "STARTTLS", "Asks to switch this connection to TLS; everything after "
	  "the handshake is encrypted.", "RFC 3207 4" },
	{ "RSET", "Aborts the message being built (sender and recipients are "
	  "forgotten); the connection stays open.", "RFC 5321 4.1.1.5" },
	{ "NOOP", "Does nothing; the server just answers OK (keeps the "
	  "connection alive, checks it still works).", "RFC 5321 4.1.1.9" },
	{ "QUIT", "The client says goodbye; the server answers and closes the "
	  "connection.", "RFC 5321 4.1.1.10" },
	{ "VRFY", "Asks whether an address is a real mailbox here. Servers often "
	  "refuse to say, to keep address harvesters out.", "RFC 5321 4.1.1.6" },
	{ "EXPN", "Asks for the members of a mailing list.", "RFC 5321 4.1.1.7" },
	{ "HELP", "Asks the server for help text about its commands.",
	  "RFC 5321 4.1.1.8" },
	{ "SEND", "An old command to show a message on a user's terminal "
	  "instead of mailing it; obsolete, so not implemented.",
	  "RFC 5321 4.2.4, F.3" },
	{ "SOML", "Old: \"send or mail\" to a terminal; obsolete, not "
	  "implemented.", "RFC 5321 F.4" },
	{ "SAML", "Old: \"send and mail\" to a terminal; obsolete, not "
	  "implemented.", "RFC 5321 F.5" },
	{ "TURN", "Old: asks the two ends to swap roles; unsafe without "
	  "authentication, so obsolete and not implemented.", "RFC 5321 F.1" },
	{ "ETRN", "Asks a relay to start delivering mail queued for a domain; "
	  "not implemented here.", "RFC 1985 3" },
	{ "ATRN", "Asks an authenticated relay to turn the connection round and "
	  "deliver queued mail; not implemented here.", "RFC 2645 4" },
	{ "unknown command", "The server does not know this command.",
	  "RFC 5321 4.2.4" },
	{ "SASL response", "The client's answer to the server's challenge, in "
	  "base64; it carries the credentials, so the trace hides it.",
	  "RFC 4954 4" },

	/* --- replies: the first digit says how it went (2 done, 3 go on, 4
	 * try later, 5 failed), the second what about (0 syntax, 1 info, 2
	 * connection, 5 mail system), RFC 5321 4.2.1; the enhanced code
	 * class.subject.detail is RFC 3463. --- */
	{ "220", "The greeting: 2yz says the server is ready and 220 names the "
	  "service; the client may now send EHLO.", "RFC 5321 4.2, 4.3.1" },
	{ "220 2.0.0", "Ready to start TLS: the client starts the TLS handshake "
	  "at once, then must send EHLO again.", "RFC 3207 4" },
	{ "221 2.0.0", "Goodbye: 221 means the server closes the channel now.",
	  "RFC 5321 4.1.1.10" },
	{ "235 2.7.0", "Login accepted: the client is now authenticated (2.7.0: "
	  "security status, all fine).", "RFC 4954 6" },
	{ "250", "Hello accepted. In an EHLO reply each further line names an "
	  "extension the server offers.", "RFC 5321 4.1.1.1" },
	{ "250 2.0.0", "Done (2.0.0: success, nothing more to say). After the "
	  "message: it is now stored safely and this server is responsible "
	  "for it.", "RFC 5321 4.2.2; RFC 3463 3.1" },
	{ "250 2.1.0", "Sender accepted (2.1.0: the address is fine).",
	  "RFC 5321 4.1.1.2; RFC 3463 3.2" },
	{ "250 2.1.5", "Recipient accepted (2.1.5: destination address valid).",
	  "RFC 5321 4.1.1.3; RFC 3463 3.2" },
	{ "252 2.1.5", "The server will not confirm this address but will take "
	  "mail for it (252: cannot verify).", "RFC 5321 3.5.3" },
	{ "252 2.5.0", "The server does not verify users, but would accept a "
	  "message and try to deliver it.", "RFC 5321 3.5.3" },
	{ "214 2.0.0", "Help text for a person reading the session (214: help "
	  "message).", "RFC 5321 4.1.1.8" },
	{ "334", "A challenge in the AUTH exchange (base64): the client answers "
	  "with its base64 response.", "RFC 4954 4" },
	{ "354", "Go ahead: send the message, ending it with <CRLF>.<CRLF>. "
	  "3yz means the command is accepted but needs more input.",
	  "RFC 5321 4.1.1.4" },
	{ "421", "The server is closing the connection (421: service not "
	  "available); the client should try again later.", "RFC 5321 3.8" },
	{ "554", "Instead of the 220 greeting: there is no SMTP service here "
	  "for this client. The server waits for QUIT and answers every other "
	  "command with 503.", "RFC 5321 3.1, 4.3.2" },
	{ "421 4.3.2", "The server is shutting down (4.3.2: system not accepting "
	  "network messages); try again later.", "RFC 5321 3.8; RFC 3463 3.4" },
	{ "421 4.4.1", "The next server could not be reached (4.4.1: no answer "
	  "from host); the message stays queued and is tried again later.",
	  "RFC 5321 4.5.4.1; RFC 3463 3.5" },
	{ "421 4.4.2", "The client was silent too long; the server closes the "
	  "connection (4.4.2: bad connection).", "RFC 5321 4.5.3.2; RFC 3463 3.5" },
	{ "421 4.5.0", "The server cannot tell where the BDAT chunk ends, so it "
	  "cannot go on and closes (4.5.0: protocol error).", "RFC 3030 2" },
	{ "421 4.7.0", "Too many errors, failed logins or connections: the "
	  "server closes the connection (4.7.0: security policy).",
	  "RFC 5321 3.8; RFC 3463 3.8" },
	{ "450 4.7.1", "This user has sent as many messages as the server "
	  "allows in an hour (rate_messages_per_hour), which limits the harm a "
	  "stolen password can do; the client may try again later (4.7.1: not "
	  "authorized now).", "RFC 5321 4.2.5; RFC 3463 3.8" },
	{ "421 4.7.5", "(Relay client, in the queue's last error) The next hop's "
	  "TLS certificate did not verify against relay_ca_file or did not "
	  "name the host, on a route that requires TLS: nothing was sent, the "
	  "message waits (4.7.5: cryptographic failure).", "RFC 3463 3.8; RFC 6125" },
	{ "451 4.3.0", "A temporary problem on the server (4.3.0: mail system "
	  "trouble): nothing was lost, the client should retry later.",
	  "RFC 5321 4.2.5; RFC 3463 3.4" },
	{ "451 4.7.1", "Greylisted: the server refuses the first attempts "
	  "from an unknown (client, sender, recipient) and takes the message "
	  "when the client tries again later, as real mail servers do and "
	  "spam robots often do not (4.7.1: delivery not authorized).",
	  "RFC 6647 2.1" },
	{ "421 4.3.0", "The server is not available and closes the connection "
	  "(4.3.0: mail system status, other); try again later.",
	  "RFC 5321 3.8, RFC 3463 3.4" },
	{ "450 4.3.0", "Temporary failure: the action was not taken, try "
	  "again later (4.3.0: mail system status, other).",
	  "RFC 5321 4.2.2, RFC 3463 3.4" },
	{ "452 4.3.0", "Temporary failure for lack of resources on the "
	  "server; try again later (4.3.0: mail system status, other).",
	  "RFC 5321 4.2.2, RFC 3463 3.4" },
	{ "550 5.3.0", "Permanent failure: the action was not taken and "
	  "retrying will not help (5.3.0: mail system status, other).",
	  "RFC 5321 4.2.2, RFC 3463 3.4" },
	{ "551 5.3.0", "Permanent failure: the user is not local here "
	  "(5.3.0: mail system status, other).", "RFC 5321 4.2.2, RFC 3463 3.4" },
	{ "552 5.3.0", "Permanent failure: storage allocation exceeded "
	  "(5.3.0: mail system status, other).", "RFC 5321 4.2.2, RFC 3463 3.4" },
	{ "553 5.3.0", "Permanent failure: the mailbox name is not allowed "
	  "(5.3.0: mail system status, other).", "RFC 5321 4.2.2, RFC 3463 3.4" },
	{ "554 5.3.0", "Permanent failure: the transaction failed (5.3.0: mail "
	  "system status, other); do not retry as it is.",
	  "RFC 5321 4.2.2, RFC 3463 3.4" },
	{ "451 4.3.2", "This recipient needs relaying to another server, which "
	  "is not configured; retry later.", "RFC 5321 4.2.5; RFC 3463 3.4" },
	{ "452 4.2.2", "The recipient's mailbox is full (its quota is used "
	  "up, 4.2.2: mailbox full): after RCPT only this recipient is "
	  "refused; after the message nothing was stored.  The client "
	  "tries again later.", "RFC 5321 4.2.2, 4.2.5; RFC 3463 3.3" },
	{ "452 4.5.3", "Too many recipients: for one message (send the rest in "
	  "another transaction), or for this user in an hour "
	  "(rate_recipients_per_hour; send the rest later).", "RFC 5321 4.5.3.1.10" },
	{ "454 4.7.10", "(Relay client, in the queue's last error) The route "
	  "requires TLS and the next hop did not offer or start STARTTLS: "
	  "nothing was sent, the message waits (4.7.10: encryption needed).",
	  "RFC 3207 4; RFC 5248" },
	{ "454 4.7.0", "A temporary security problem (TLS or the password "
	  "check is not available right now); try again later.",
	  "RFC 3207 4; RFC 4954 6" },
	{ "500 5.5.2", "Syntax error: the line could not be understood (too "
	  "long, a NUL byte, or garbage).", "RFC 5321 4.2.2, 4.5.3.1.4" },
	{ "500 5.5.6", "A line of the AUTH exchange is longer than allowed.",
	  "RFC 4954 6" },
	{ "501", "Syntax error in the arguments: HELO/EHLO need a host name.",
	  "RFC 5321 4.1.1.1" },
	{ "501 5.1.3", "The recipient address is not valid syntax (5.1.3: bad "
	  "destination address syntax).", "RFC 5321 4.1.2; RFC 3463 3.2" },
	{ "501 5.1.7", "The sender address is not valid syntax (5.1.7: bad "
	  "sender address syntax).", "RFC 5321 4.1.2; RFC 3463 3.2" },
	{ "501 5.5.2", "The AUTH response is not valid base64.", "RFC 4954 4" },
	{ "501 5.5.4", "Syntax error in the arguments (5.5.4: invalid command "
	  "arguments): the usage is given in the text.", "RFC 5321 4.1.1" },
	{ "501 5.7.0", "The client cancelled the AUTH exchange with \"*\".",
	  "RFC 4954 4" },
	{ "502 5.5.1", "This server does not implement that command.",
	  "RFC 5321 4.2.4" },
	{ "502 5.5.2", "Unknown command: not an SMTP command this server knows.",
	  "RFC 5321 4.2.4" },
	{ "503 5.5.1", "Bad sequence of commands: the command is valid, but not "
	  "now (the text says what must come first).", "RFC 5321 4.1.4" },
	{ "504 5.5.1", "There is no help for that topic.", "RFC 5321 4.1.1.8" },
	{ "504 5.5.4", "The server does not support that AUTH mechanism.",
	  "RFC 4954 4" },
	{ "530 5.7.0", "Log in first: this service (submission) takes mail only "
	  "from authenticated users.", "RFC 4954 6; RFC 6409 4.3" },
	{ "535 5.7.8", "Wrong user name or password (5.7.8: authentication "
	  "credentials invalid).", "RFC 4954 6" },
	{ "538 5.7.11", "A password may not be sent on an unencrypted "
	  "connection: use STARTTLS first.", "RFC 4954 6" },
	{ "550 5.1.1", "No such mailbox here (5.1.1: bad destination mailbox "
	  "address); the recipient is refused for good.", "RFC 5321 3.3; RFC 3463 3.2" },
	{ "550 5.4.6", "The address leads back to itself through aliases (5.4.6: "
	  "routing loop).", "RFC 3463 3.5" },
	{ "550 5.7.1", "The message is refused: its From: field is not an "
	  "address of the logged-in user, or there is not exactly one From: "
	  "(5.7.1: not authorized).", "RFC 6409 8; RFC 5322 3.6.2" },
	{ "552 5.3.4", "The message is bigger than the server takes (its SIZE "
	  "limit, advertised in EHLO).", "RFC 1870 6; RFC 3463 3.4" },
	{ "553 5.1.3", "The recipient has no domain, so there is no server to "
	  "send it to (5.1.3: bad destination mailbox address syntax).",
	  "RFC 5321 4.1.2; RFC 3463 3.2" },
	{ "553 5.6.7", "A non-ASCII address needs the SMTPUTF8 parameter on "
	  "MAIL FROM.", "RFC 6531 3.7.4" },
	{ "553 5.7.1", "The logged-in user may not send with this sender "
	  "address (5.7.1: not authorized).", "RFC 6409 4.1; RFC 3463 3.8" },
	{ "554 5.5.1", "No recipient was accepted, so there is nothing to send "
	  "the message to.", "RFC 5321 3.3" },
	{ "554 5.6.0", "The message is refused: it contains NUL bytes or lines "
	  "not ending in CRLF (bare CR or LF).", "RFC 5321 2.3.8" },
	{ "554 5.4.6", "The message has passed through too many servers (too "
	  "many Received: fields): a mail loop, so it is returned (5.4.6: "
	  "routing loop detected).", "RFC 5321 6.3; RFC 3463 3.5" },
	{ "554 5.6.3", "The next server does not take 8-bit data (no 8BITMIME) "
	  "and the message cannot be sent as it is (5.6.3: conversion "
	  "required but not supported).", "RFC 6152 3; RFC 3463 3.7" },
	{ "554 5.7.1", "Relay access denied: this server takes mail only for "
	  "its own domains here.", "RFC 5321 3.6.2, 7.1" },
	{ "555 5.5.4", "A MAIL FROM or RCPT TO parameter the server does not "
	  "know.", "RFC 5321 4.1.1.11" },

	/* --- strict mode: a rule the client broke (common/strict.h; the
	 * list for students is labs/strict-rules.md).  The text goes into the
	 * trace line as it is: lower case, no final stop. --- */
	{ "smtp-early-talker", "the client sent a command before the server's "
	  "220 greeting; a client waits for the greeting, then for each reply",
	  "RFC 5321 4.3.1" },
	{ "smtp-pipelining-not-offered", "the client sent more before this "
	  "command's reply came; without EHLO and its PIPELINING keyword a "
	  "client waits for every reply", "RFC 5321 4.3.1; RFC 2920 3" },
	{ "smtp-pipelining-group-end", "the client sent more before this "
	  "command's reply came; even with PIPELINING, EHLO, VRFY, EXPN, "
	  "NOOP and QUIT must be the last command of a group",
	  "RFC 2920 3.1" },
	{ "smtp-data-before-354", "the client sent the message right after "
	  "DATA without waiting for the 354 reply; DATA must end a group and "
	  "the text may follow only after 354", "RFC 2920 3.1; RFC 5321 4.1.1.4" },
	{ "smtp-bare-lf", "the line ended in a bare LF; SMTP lines end in CRLF",
	  "RFC 5321 2.3.8" },
	{ "smtp-bare-cr", "the line held a CR not followed by LF; CR and LF "
	  "travel only together, as CRLF, the end of a line", "RFC 5321 2.3.8" },
	{ "smtp-command-too-long", "the command line was longer than 512 "
	  "octets (CRLF included), the most a server must accept",
	  "RFC 5321 4.5.3.1.4" },
	{ "smtp-text-line-too-long", "a line of the message was longer than "
	  "1000 octets (CRLF included), the most a server must accept",
	  "RFC 5321 4.5.3.1.6" },
	{ "smtp-unknown-command", "this is not an SMTP command; commands are "
	  "four-letter verbs such as EHLO, MAIL, RCPT, DATA, QUIT",
	  "RFC 5321 4.1.1, 4.2.4" },
	{ "smtp-helo-no-domain", "EHLO or HELO came without the client's name; "
	  "the client says EHLO followed by its domain name", "RFC 5321 4.1.1.1" },
	{ "smtp-helo-not-domain", "the name after EHLO or HELO is neither a "
	  "domain name (client.example.org) nor an address literal "
	  "([192.0.2.1])", "RFC 5321 4.1.1.1, 4.1.3" },
	{ "smtp-mail-before-helo", "MAIL came before EHLO or HELO; a client "
	  "greets the server first", "RFC 5321 4.1.4" },
	{ "smtp-rcpt-before-mail", "RCPT came before a MAIL FROM was accepted; "
	  "the order is MAIL, then RCPT for each recipient, then DATA",
	  "RFC 5321 4.1.4, 3.3" },
	{ "smtp-data-before-rcpt", "DATA came before any RCPT TO was accepted; "
	  "a message needs at least one recipient first", "RFC 5321 3.3, 4.1.4" },
	{ "smtp-space-after-colon", "a space followed \"FROM:\" or \"TO:\"; the "
	  "grammar puts the < right after the colon (MAIL FROM:<a@b.example>)",
	  "RFC 5321 4.1.1.2, 4.1.1.3" },
	{ "smtp-path-no-brackets", "the address was not enclosed in < and >; a "
	  "path is written <user@domain> (or <> for no sender)",
	  "RFC 5321 4.1.2" },
	{ "smtp-data-end-not-crlf", "a line holding only \".\" ended in (or "
	  "followed) a bare LF; only CRLF . CRLF ends the message, so the "
	  "server kept reading it as text", "RFC 5321 4.1.1.4" },
	{ "smtp-data-bare-lf", "the message text held a bare LF; every line "
	  "of a message ends in CRLF", "RFC 5321 2.3.8" },
	{ "smtp-no-date", "the message has no Date: header field; every "
	  "message must have one", "RFC 5322 3.6" },
	{ "smtp-no-from", "the message has no From: header field; every "
	  "message must have one", "RFC 5322 3.6" },
	{ "smtp-no-quit", "the client closed the connection without QUIT; a "
	  "client ends the session with QUIT and waits for the 221 reply",
	  "RFC 5321 4.1.1.10" },

	/* --- EHLO keywords: the extensions on offer --- */
	{ "EHLO PIPELINING", "The client may send several commands without "
	  "waiting for each reply.", "RFC 2920" },
	{ "EHLO SIZE", "The largest message the server accepts, in octets.",
	  "RFC 1870" },
	{ "EHLO 8BITMIME", "Message bodies may contain 8-bit bytes.", "RFC 6152" },
	{ "EHLO SMTPUTF8", "Addresses and headers may be UTF-8.", "RFC 6531" },
	{ "EHLO ENHANCEDSTATUSCODES", "Replies carry a class.subject.detail "
	  "code after the three digits.", "RFC 2034" },
	{ "EHLO STARTTLS", "The connection can be switched to TLS.", "RFC 3207" },
	{ "EHLO AUTH", "Logging in is possible, with the SASL mechanisms "
	  "listed.", "RFC 4954" },
	{ "EHLO CHUNKING", "BDAT may be used instead of DATA.", "RFC 3030" },
	{ "EHLO DSN", "Delivery status notifications can be requested.",
	  "RFC 3461" },
	{ "EHLO HELP", "The HELP command is available.", "RFC 5321 4.1.1.8" },
};

enum smtp_x_state { X_INIT, X_READY, X_MAIL, X_RCPT, X_DATA, X_CLOSING };

static const char *const state_names[] = {
	[X_INIT] = "INIT", [X_READY] = "READY", [X_MAIL] = "MAIL",
	[X_RCPT] = "RCPT", [X_DATA] = "DATA", [X_CLOSING] = "CLOSING",
};

static const char *smtp_state_name(const struct explain_session *es)
{
	return state_names[es->state];
}

/* Multi-line reply in progress (the last line had "NNN-"). */
#define MULTILINE 1

static void client_line(struct explain_session *es, const char *line,
			struct explain_line *out)
{
	char verb[16];

	if (es->in_exchange) {
		explain_add(&smtp_explainer, out, "SASL response");
		out->auth = true;
		return;
	}
	const char *args = explain_word(line, verb, sizeof(verb));

	/* The reply to the last chunk ends the transaction. */
	explain_push(es, strcmp(verb, "BDAT") == 0 && strcasestr(args, "LAST") ?
		     "BDAT LAST" : verb);
	if (!explain_add(&smtp_explainer, out, verb))
		explain_add(&smtp_explainer, out, "unknown command");
	out->auth = strcmp(verb, "AUTH") == 0;
	out->tls = strcmp(verb, "STARTTLS") == 0;
}

/* The state after a complete reply `code` to es->last_cmd. */
static void reply_done(struct explain_session *es, int code,
		       struct explain_line *out)
{
	const char *cmd = es->last_cmd;
	bool ok = code / 100 == 2;

	if (code == 421 || (ok && strcmp(cmd, "QUIT") == 0))
		es->state = X_CLOSING;
	else if (ok && (strcmp(cmd, "EHLO") == 0 || strcmp(cmd, "HELO") == 0 ||
			(strcmp(cmd, "RSET") == 0 && es->state != X_INIT)))
		es->state = X_READY;
	else if (code == 220 && strcmp(cmd, "STARTTLS") == 0) {
		es->state = X_INIT;	/* RFC 3207 4.2: EHLO again */
		out->tls = true;
	} else if (ok && strcmp(cmd, "MAIL") == 0)
		es->state = X_MAIL;
	else if (ok && strcmp(cmd, "RCPT") == 0)
		es->state = X_RCPT;
	else if (code == 354)
		es->state = X_DATA;
	else if (strcmp(cmd, "<body>") == 0 || strcmp(cmd, "BDAT LAST") == 0 ||
		 (strcmp(cmd, "BDAT") == 0 && !ok))
		es->state = X_READY;
	if (strcmp(cmd, "AUTH") == 0)
		out->auth = true;
}

static void server_line(struct explain_session *es, const char *line,
			struct explain_line *out)
{
	char key[32];
	int code;
	bool last;

	if (strlen(line) < 3 || !isdigit((unsigned char)line[0]) ||
	    !isdigit((unsigned char)line[1]) || !isdigit((unsigned char)line[2]))
		return;
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	last = line[3] != '-';
	if (es->data_mode == MULTILINE) {
		/* A continuation line: only EHLO's name something. */
		if (strcmp(es->last_cmd, "EHLO") == 0) {
			char kw[24];

			explain_word(line[3] != '\0' ? line + 4 : line + 3, kw,
				     sizeof(kw));
			snprintf(key, sizeof(key), "EHLO %s", kw);
			explain_add(&smtp_explainer, out, key);
		}
	} else {
		const char *esc = line[3] != '\0' ? line + 4 : "";
		size_t n = strspn(esc, "0123456789.");

		if (code != 334)
			explain_pop(es);
		/* "2.1.5" and the like: class.subject.detail (RFC 3463 2) */
		if (n >= 5 && n < 12 && esc[1] == '.' && (esc[n] == ' ' || esc[n] == '\0'))
			snprintf(key, sizeof(key), "%d %.*s", code, (int)n, esc);
		else
			snprintf(key, sizeof(key), "%d", code);
		if (!explain_add(&smtp_explainer, out, key)) {
			snprintf(key, sizeof(key), "%d", code);
			explain_add(&smtp_explainer, out, key);
		}
		es->in_exchange = code == 334;
		if (code == 334)
			out->auth = true;
	}
	es->data_mode = last ? 0 : MULTILINE;
	if (last && code != 334)
		reply_done(es, code, out);
}

static void smtp_feed(struct explain_session *es, enum explain_who who,
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
		/* The DATA body (or a BDAT chunk) awaits its own reply. */
		if (strstr(line, "message body") != NULL)
			explain_push(es, "<body>");
		break;
	}
}

const struct explainer smtp_explainer = {
	.protocol = "smtp",
	.entries = smtp_entries,
	.n_entries = sizeof(smtp_entries) / sizeof(smtp_entries[0]),
	.feed = smtp_feed,
	.state_name = smtp_state_name,
};
