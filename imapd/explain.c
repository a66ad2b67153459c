/* IMAP explained, line by line: the teaching text for `maillab trace show
 * --explain` and the HTML diagram.  Keys: a command name; "OK", "NO",
 * "BAD" for a tagged result; "* OK", "* BYE"... for an untagged status;
 * "* EXISTS", "* FETCH"... for untagged data; "[CODE]" for a response code
 * (RFC 3501 7.1, RFC 5530); "+" for a continuation request.
 * tests/unit/test-explain.c fails when a command, untagged reply or
 * response code in the imapd/ sources has no row. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imapd/explain.h"

static const struct explain_entry imap_entries[] = {
	/* --- commands: "TAG COMMAND args"; the tag comes back on the
	 * result (RFC 3501 2.2.1) --- */
	{ "CAPABILITY", "Asks what this server supports (extensions, login "
	  "methods).", "RFC 3501 6.1.1" },
	{ "NOOP", "Does nothing, but gives the server a chance to report news "
	  "(new messages, flag changes).", "RFC 3501 6.1.2" },
	{ "LOGOUT", "Ends the session: the server says BYE, then OK, and "
	  "closes.", "RFC 3501 6.1.3" },
	{ "STARTTLS", "Asks to switch this connection to TLS before logging "
	  "in.", "RFC 3501 6.2.1" },
	{ "AUTHENTICATE", "Logs in with a SASL mechanism (PLAIN, LOGIN); "
	  "challenges and base64 responses follow.", "RFC 3501 6.2.2" },
	{ "LOGIN", "Logs in with a user name and password, in plain text: only "
	  "safe over TLS.", "RFC 3501 6.2.3" },
	{ "SELECT", "Opens a mailbox for reading and changing; the server "
	  "reports its size, flags and UIDVALIDITY.", "RFC 3501 6.3.1" },
	{ "EXAMINE", "Opens a mailbox read-only (nothing, not even \\Seen, "
	  "changes).", "RFC 3501 6.3.2" },
	{ "CREATE", "Creates a new mailbox (folder) on the server.",
	  "RFC 3501 6.3.3" },
	{ "DELETE", "Deletes a mailbox and the messages in it.",
	  "RFC 3501 6.3.4" },
	{ "RENAME", "Renames a mailbox.", "RFC 3501 6.3.5" },
	{ "SUBSCRIBE", "Adds a mailbox to the list the client shows (LSUB).",
	  "RFC 3501 6.3.6" },
	{ "UNSUBSCRIBE", "Removes a mailbox from the subscribed list.",
	  "RFC 3501 6.3.7" },
	{ "LIST", "Lists mailbox names matching a pattern (* any, % one "
	  "level).  Extended forms: options before the reference select "
	  "(SUBSCRIBED, RECURSIVEMATCH, SPECIAL-USE), several patterns go in "
	  "parentheses, and RETURN (...) asks for more (SUBSCRIBED, CHILDREN, "
	  "STATUS (...) for the counts of each mailbox).",
	  "RFC 3501 6.3.8, RFC 5258 3, RFC 5819" },
	{ "LSUB", "Lists the subscribed mailboxes matching a pattern.",
	  "RFC 3501 6.3.9" },
	{ "STATUS", "Asks for counts (MESSAGES, UNSEEN, UIDNEXT...; SIZE: "
	  "the total size of its messages in bytes) of a mailbox without "
	  "opening it.", "RFC 3501 6.3.10, RFC 8438" },
	{ "APPEND", "Uploads a message into a mailbox (it is sent as a literal "
	  "{size}); with MULTIAPPEND several follow one another in one "
	  "command, and either all are stored or none; CATENATE (TEXT {n} "
	  "URL \"/box/;UID=n/;SECTION=..\") builds one from pieces, some "
	  "copied from messages already on the server.",
	  "RFC 3501 6.3.11, RFC 3502, RFC 4469" },
	{ "GETQUOTAROOT", "Asks which quota roots (sets of limits) a mailbox "
	  "counts against, and their usage and limits.", "RFC 9208 4.1.2" },
	{ "GETQUOTA", "Asks for the usage and limits of one quota root.",
	  "RFC 9208 4.1.1" },
	{ "SETQUOTA", "Asks to change the limits of a quota root; this server "
	  "lets only the administrator do that (maillab user quota).",
	  "RFC 9208 4.1.4" },
	{ "CHECK", "Asks the server to save its state for the mailbox.",
	  "RFC 3501 6.4.1" },
	{ "CLOSE", "Closes the mailbox, removing messages flagged \\Deleted, "
	  "and goes back to the authenticated state.", "RFC 3501 6.4.2" },
	{ "EXPUNGE", "Removes the messages flagged \\Deleted for good; each one "
	  "removed is reported with * n EXPUNGE.", "RFC 3501 6.4.3" },
	{ "SEARCH", "Asks which messages match criteria (UNSEEN, FROM, SINCE...); "
	  "the answer is a list of numbers.", "RFC 3501 6.4.4" },
	{ "FETCH", "Asks for data about messages (FLAGS, ENVELOPE, BODY[]...); "
	  "BODY[] also sets \\Seen, BODY.PEEK[] does not.  BINARY[1] gives a "
	  "part decoded from base64 or quoted-printable (as ~{n} when it holds "
	  "a NUL byte), BINARY.SIZE[1] its decoded size.",
	  "RFC 3501 6.4.5, RFC 3516 4.2" },
	{ "STORE", "Changes flags: FLAGS replaces, +FLAGS adds, -FLAGS removes "
	  "(.SILENT: no report back).", "RFC 3501 6.4.6" },
	{ "COPY", "Copies messages into another mailbox.", "RFC 3501 6.4.7" },
	{ "UID", "The command that follows uses UIDs (stable ids) instead of "
	  "message sequence numbers (positions).", "RFC 3501 6.4.8" },
	{ "IDLE", "Waits for the server to push news (new mail) until the "
	  "client sends DONE.", "RFC 2177 3" },
	{ "DONE", "Ends IDLE.", "RFC 2177 3" },
	{ "NOTIFY", "Says which changes the server should push without being "
	  "asked, at any time (not only in IDLE): SET lists groups of "
	  "mailboxes (SELECTED, PERSONAL, SUBSCRIBED, SUBTREE x, MAILBOXES "
	  "x...) each with events (MessageNew, MessageExpunge, FlagChange, "
	  "MailboxName, SubscriptionChange); other mailboxes' changes come "
	  "as STATUS, new and deleted mailboxes as LIST.  SET STATUS first "
	  "sends the counts of each mailbox; NONE stops it all.",
	  "RFC 5465 3.1, 5, 6" },
	{ "MOVE", "Moves messages into another mailbox.", "RFC 6851 3.1" },
	{ "SORT", "Asks for the messages matching criteria in an order (by "
	  "DATE, SUBJECT, FROM, SIZE..., REVERSE to turn one key around); "
	  "ties go by message number.  SORT RETURN (...) answers with "
	  "ESEARCH: PARTIAL lo:hi for the lo-th to hi-th in that order, "
	  "UPDATE to keep the sorted result up to date.",
	  "RFC 5256 3, RFC 5267 3, 4" },
	{ "THREAD", "Asks for the matching messages grouped into "
	  "conversations: ORDEREDSUBJECT by subject alone, REFERENCES by the "
	  "Message-ID each reply names.", "RFC 5256 3" },
	{ "CANCELUPDATE", "Stops the updates of a SEARCH or SORT RETURN "
	  "(UPDATE) started under the tag given; an unknown tag is BAD.",
	  "RFC 5267 4.2" },
	{ "UNSELECT", "Closes the mailbox without removing \\Deleted messages.",
	  "RFC 3691 2" },
	{ "ENABLE", "Turns on extensions that change how the server answers. "
	  "ENABLE IMAP4rev2 switches to the newer protocol version: no "
	  "\\Recent or RECENT, SEARCH answered with ESEARCH, a LIST line "
	  "in the SELECT reply, mailbox names in UTF-8 instead of modified "
	  "UTF-7.", "RFC 5161 3.1, RFC 9051 Appendix A and E" },
	{ "COMPRESS", "Asks to compress everything both ways with DEFLATE "
	  "from the server's OK on; later bytes are raw deflate data, not "
	  "text.", "RFC 4978 3" },
	{ "NAMESPACE", "Asks where personal and shared mailboxes live and the "
	  "hierarchy separator.", "RFC 2342 5" },
	{ "ID", "Client and server tell each other their software name and "
	  "version.", "RFC 2971 3.1" },
	{ "unknown command", "The server does not know this command.",
	  "RFC 3501 7.1.5" },

	/* --- strict mode: a rule the client broke (common/strict.h; the
	 * list for students is labs/strict-rules.md).  The text goes into the
	 * trace line as it is: lower case, no final stop. --- */
	{ "imap-no-tag", "the command has no tag; every IMAP command starts "
	  "with a tag the client chooses (a1 LOGIN ...), which comes back on "
	  "the result", "RFC 3501 2.2.1, 9" },
	{ "imap-bad-tag", "the tag holds a character a tag may not have "
	  "(space, control, ( ) { % * \" \\ or +); tags are letters and "
	  "digits such as a1", "RFC 3501 2.2.1, 9" },
	{ "imap-unknown-command", "after the tag comes no IMAP command this "
	  "server knows (CAPABILITY, LOGIN, SELECT, FETCH, LOGOUT...)",
	  "RFC 3501 6" },
	{ "imap-literal-no-wait", "the client sent the data of a literal {N} "
	  "without waiting for the server's + continuation; only a "
	  "non-synchronising literal {N+} (LITERAL+) may be sent at once",
	  "RFC 3501 7.5, 4.3" },
	{ "imap-bare-lf", "the line ended in or held a bare LF; IMAP lines "
	  "end in CRLF", "RFC 3501 2.2" },
	{ "imap-not-authenticated", "this command needs a login first (the "
	  "Authenticated state); before it only CAPABILITY, NOOP, LOGOUT, "
	  "STARTTLS, AUTHENTICATE and LOGIN are valid", "RFC 3501 3, 6" },
	{ "imap-not-selected", "this command works on a selected mailbox: "
	  "SELECT or EXAMINE one first (the Selected state)",
	  "RFC 3501 3, 6.4" },
	{ "imap-already-authenticated", "the client is already logged in; "
	  "LOGIN, AUTHENTICATE and STARTTLS belong to the Not Authenticated "
	  "state", "RFC 3501 3, 6.2" },
	{ "imap-done-outside-idle", "DONE ends an IDLE command, but no IDLE "
	  "was running, so it was read as a command with tag DONE",
	  "RFC 2177 3" },
	{ "imap-no-logout", "the client closed the connection without LOGOUT; "
	  "a client ends the session with LOGOUT and waits for its OK",
	  "RFC 3501 6.1.3" },
	{ "literal continued", "The rest of the command, after the literal.",
	  "RFC 3501 4.3" },
	{ "SASL response", "The client's answer to the server's challenge, in "
	  "base64; it carries the credentials, so the trace hides it.",
	  "RFC 3501 6.2.2" },

	/* --- results: TAG OK / NO / BAD; "*" lines are untagged --- */
	{ "OK", "Tagged OK: the command with this tag is done and "
	  "succeeded.", "RFC 3501 7.1.1" },
	{ "NO", "Tagged NO: the command was understood but failed (the text "
	  "says why).", "RFC 3501 7.1.2" },
	{ "BAD", "Tagged BAD: the command was not understood (a syntax error, "
	  "or not valid in this state).", "RFC 3501 7.1.3" },
	{ "greeting", "The greeting: the server is ready and the session is in "
	  "the NOT AUTHENTICATED state until the client logs in.",
	  "RFC 3501 7.1.1" },
	{ "* OK", "Untagged OK: information for the client, not the end of a "
	  "command.", "RFC 3501 7.1.1" },
	{ "* NO", "Untagged NO: a warning from the server.", "RFC 3501 7.1.2" },
	{ "* BAD", "Untagged BAD: the server could not even find the tag of "
	  "the line it got.", "RFC 3501 7.1.3" },
	{ "* BYE", "The server is closing the connection (after LOGOUT, or "
	  "because of an error or shutdown).", "RFC 3501 7.1.5" },
	{ "* PREAUTH", "The greeting of a server that already knows who the "
	  "client is: no login needed.", "RFC 3501 7.1.4" },
	{ "+", "Continuation request: the server waits for more from the "
	  "client (a literal's bytes or a SASL response).", "RFC 3501 7.5" },

	/* --- untagged data --- */
	{ "* CAPABILITY", "The list of what this server supports.",
	  "RFC 3501 7.2.1" },
	{ "* LIST", "One mailbox: its attributes, the hierarchy separator and "
	  "its name.  \\Subscribed: it is subscribed; \\NonExistent: only "
	  "its name is (a subscription or a level above one; for IMAP4rev2 "
	  "also a level with no mailbox of its own); a trailing "
	  "(\"CHILDINFO\" (\"SUBSCRIBED\")): a mailbox below it matched.",
	  "RFC 3501 7.2.2, RFC 5258 3.4-3.5" },
	{ "* LSUB", "One subscribed mailbox.", "RFC 3501 7.2.3" },
	{ "* STATUS", "The counts asked for with STATUS (or with LIST ... "
	  "RETURN (STATUS (...)), right after that mailbox's LIST line).",
	  "RFC 3501 7.2.4, RFC 5819" },
	{ "* SEARCH", "The numbers (or UIDs) of the messages that matched.",
	  "RFC 3501 7.2.5" },
	{ "* ESEARCH", "The answer to SEARCH RETURN (...), and to every "
	  "SEARCH once IMAP4rev2 is enabled: only what was asked "
	  "for (MIN, MAX, COUNT, ALL as ranges like 2:5,9, PARTIAL (lo:hi "
	  "set) for the lo-th to hi-th match), tagged with the command's tag. "
	  "After SEARCH or SORT RETURN (UPDATE) it also comes unasked: ADDTO "
	  "(pos set) names messages that now match, REMOVEFROM (pos set) "
	  "those that no longer do; after SORT each pos is a place in the "
	  "sort order, and the pairs apply one after the other.",
	  "RFC 4731 3.1, RFC 5267 4.3-4.4, RFC 9051 6.4.4" },
	{ "* SORT", "The numbers (or UIDs) of the matching messages, in the "
	  "order asked for.  When the criteria had a MODSEQ key, (MODSEQ n) "
	  "at the end gives the highest modification sequence of the "
	  "messages listed.", "RFC 5256 4, RFC 7162 3.1.5" },
	{ "* THREAD", "The conversations: each (...) is one thread, a number "
	  "followed by its reply, several replies each in their own (...).",
	  "RFC 5256 4" },
	{ "* FLAGS", "The flags that can be used in this mailbox.",
	  "RFC 3501 7.2.6" },
	{ "* EXISTS", "How many messages the mailbox holds now.",
	  "RFC 3501 7.3.1" },
	{ "* RECENT", "How many messages are new since the last session "
	  "looked (never sent once IMAP4rev2 is enabled).",
	  "RFC 3501 7.3.2, RFC 9051 Appendix E" },
	{ "* EXPUNGE", "The message with this number was removed; the ones "
	  "after it move down by one.", "RFC 3501 7.4.1" },
	{ "* FETCH", "Data about one message (by sequence number): flags, "
	  "size, envelope or content.", "RFC 3501 7.4.2" },
	{ "* QUOTAROOT", "The quota roots of the mailbox named first (none: "
	  "no limit applies to it).", "RFC 9208 4.1.2" },
	{ "* QUOTA", "Usage and limit of each resource of a quota root: "
	  "STORAGE in KiB, MESSAGE in messages.", "RFC 9208 4.1.1, 5" },
	{ "* ENABLED", "The extensions ENABLE turned on.", "RFC 5161 3.2" },
	{ "* NAMESPACE", "Personal, other users' and shared namespaces.",
	  "RFC 2342 5" },
	{ "* ID", "The server's name and version.", "RFC 2971 3.2" },
	{ "* VANISHED", "The UIDs of messages removed from the mailbox: sent "
	  "in place of EXPUNGE once QRESYNC is enabled; with (EARLIER), "
	  "those removed while the client was away.", "RFC 7162 3.2.10" },

	/* --- response codes, in brackets (RFC 3501 7.1, RFC 5530) --- */
	{ "[CAPABILITY]", "[CAPABILITY]: the capability list, sent along so "
	  "the client need not ask.", "RFC 3501 7.1" },
	{ "[PERMANENTFLAGS]", "[PERMANENTFLAGS]: the flags the client can "
	  "change for good (\\* : new keywords too).", "RFC 3501 7.1" },
	{ "[UIDVALIDITY]", "[UIDVALIDITY]: if this number changes, every UID "
	  "the client remembers is void.", "RFC 3501 2.3.1.1" },
	{ "[UIDNEXT]", "[UIDNEXT]: the UID the next new message will get.",
	  "RFC 3501 2.3.1.1" },
	{ "[UNSEEN]", "[UNSEEN]: the number of the first message without "
	  "\\Seen.", "RFC 3501 7.1" },
	{ "[READ-WRITE]", "[READ-WRITE]: the mailbox is open for changes.",
	  "RFC 3501 7.1" },
	{ "[READ-ONLY]", "[READ-ONLY]: the mailbox is open, but nothing in it "
	  "can change.", "RFC 3501 7.1" },
	{ "[TRYCREATE]", "[TRYCREATE]: the target mailbox does not exist; "
	  "CREATE it first.", "RFC 3501 7.1" },
	{ "[APPENDUID]", "[APPENDUID]: the UIDVALIDITY and the UID the "
	  "appended message got.", "RFC 4315 3" },
	{ "[COPYUID]", "[COPYUID]: the UIDs the copies got in the target "
	  "mailbox.", "RFC 4315 3" },
	{ "[ALERT]", "[ALERT]: the client must show this text to the user.",
	  "RFC 3501 7.1" },
	{ "[PARSE]", "[PARSE]: a message could not be parsed.", "RFC 3501 7.1" },
	{ "[ALREADYEXISTS]", "[ALREADYEXISTS]: a mailbox with that name "
	  "exists.", "RFC 5530 3" },
	{ "[AUTHENTICATIONFAILED]", "[AUTHENTICATIONFAILED]: wrong user name "
	  "or password.", "RFC 5530 3" },
	{ "[BADCHARSET]", "[BADCHARSET]: SEARCH does not know that charset; "
	  "the ones it knows are listed.", "RFC 3501 7.1" },
	{ "[CANNOT]", "[CANNOT]: the server will never do this (an invalid "
	  "name, INBOX, a mailbox with children).", "RFC 5530 3" },
	{ "[BADURL]", "[BADURL url]: an IMAP URL in APPEND ... CATENATE names "
	  "no message or section the user can read; nothing was appended.",
	  "RFC 4469 6" },
	{ "[UNKNOWN-CTE]", "[UNKNOWN-CTE]: the part is encoded in a way the "
	  "server cannot decode for BINARY, or (APPEND) NUL bytes where "
	  "base64 cannot hold them (in a header).", "RFC 3516 4.2, 4.4" },
	{ "[EXPUNGEISSUED]", "[EXPUNGEISSUED]: some of the messages were "
	  "removed meanwhile by another session; after FETCH (OK) their "
	  "answers carry what the server still knew (UID, FLAGS, sizes) and "
	  "NIL for the contents.  A NOOP brings the EXPUNGE.",
	  "RFC 5530 3, RFC 2180 4.1" },
	{ "[INUSE]", "[INUSE]: the mailbox is in use (selected), so this "
	  "cannot be done now.", "RFC 5530 3" },
	{ "[LIMIT]", "[LIMIT]: a server limit was reached.", "RFC 5530 3" },
	{ "[NOUPDATE]", "[NOUPDATE \"tag\"]: the SEARCH or SORT with that "
	  "tag asked for RETURN (UPDATE), but the server keeps no more "
	  "contexts (or the tag has one): the result still comes, without "
	  "later ADDTO/REMOVEFROM updates.", "RFC 5267 4.2" },
	{ "[NONEXISTENT]", "[NONEXISTENT]: there is no mailbox with that "
	  "name.", "RFC 5530 3" },
	{ "[PRIVACYREQUIRED]", "[PRIVACYREQUIRED]: passwords are not accepted "
	  "without TLS: STARTTLS first.", "RFC 5530 3" },
	{ "[USEATTR]", "[USEATTR]: the special-use attribute asked for (CREATE "
	  "... USE) is not one this server can give a mailbox.", "RFC 6154 5.3" },
	{ "[UNAVAILABLE]", "[UNAVAILABLE]: a temporary problem on the server; "
	  "try again later.", "RFC 5530 3" },
	{ "[TOOBIG]", "[TOOBIG]: the message or literal is larger than the "
	  "server takes.", "RFC 4469 7" },
	{ "[CLIENTBUG]", "[CLIENTBUG]: the server thinks the client did "
	  "something wrong, though it carried on.", "RFC 5530 3" },
	{ "[SERVERBUG]", "[SERVERBUG]: the server hit a bug of its own.",
	  "RFC 5530 3" },
	{ "[NOPERM]", "[NOPERM]: the user may not do that.", "RFC 5530 3" },
	{ "[COMPRESSIONACTIVE]", "[COMPRESSIONACTIVE]: compression is "
	  "already on for this connection; COMPRESS works once.",
	  "RFC 4978 4" },
	{ "[OVERQUOTA]", "[OVERQUOTA]: the user's storage quota is full.",
	  "RFC 5530 3" },
	{ "[CLOSED]", "[CLOSED]: the mailbox that was selected is now "
	  "closed.", "RFC 7162 3.2.11" },
	{ "[HIGHESTMODSEQ]", "[HIGHESTMODSEQ]: the highest modification "
	  "sequence in the mailbox; every flag change raises it, so a "
	  "client that remembers it can later ask only for what changed "
	  "since (CHANGEDSINCE, QRESYNC).", "RFC 7162 3.1.2.1" },
	{ "[NOMODSEQ]", "[NOMODSEQ]: this mailbox keeps no modification "
	  "sequences (maillab keeps them for every mailbox).",
	  "RFC 7162 3.1.2.2" },
	{ "[BADEVENT]", "[BADEVENT (...)]: NOTIFY asked for an event this "
	  "server cannot report (AnnotationChange, the METADATA events, or "
	  "one it does not know); the list names those it can.",
	  "RFC 5465 3.1" },
	{ "[NOTIFICATIONOVERFLOW]", "[NOTIFICATIONOVERFLOW]: the server will "
	  "not (or no longer) send the notifications NOTIFY asked for: too "
	  "many mailboxes, or they cannot be watched; untagged, it means "
	  "NOTIFY is now off, as after NOTIFY NONE.", "RFC 5465 3.1, 5.8" },
	{ "[MODIFIED]", "[MODIFIED]: these messages were changed by someone "
	  "else after the modification sequence given with UNCHANGEDSINCE, "
	  "so this STORE left them alone.", "RFC 7162 3.1.3" },
};

enum imap_x_state { X_NOT_AUTH, X_AUTH, X_SELECTED, X_LOGOUT };

static const char *const state_names[] = {
	[X_NOT_AUTH] = "NOT AUTHENTICATED", [X_AUTH] = "AUTHENTICATED",
	[X_SELECTED] = "SELECTED", [X_LOGOUT] = "LOGOUT",
};

static const char *imap_state_name(const struct explain_session *es)
{
	return state_names[es->state];
}

/* The literal announced at the end of a line ("{42}" or "{42+}"), or -1. */
static long trailing_literal(const char *line)
{
	size_t n = strlen(line);
	const char *open;

	if (n < 3 || line[n - 1] != '}' || (open = strrchr(line, '{')) == NULL)
		return -1;
	return strtol(open + 1, NULL, 10);
}

static void add_key(struct explain_line *out, const char *key)
{
	explain_add(&imap_explainer, out, key);
}

static void client_line(struct explain_session *es, const char *line,
			struct explain_line *out)
{
	char tag[24], verb[24], sub[24], entry[sizeof(tag) + sizeof(verb)];
	const char *args;
	bool cont = es->client_cont;

	es->client_cont = trailing_literal(line) >= 0;
	if (cont) {
		add_key(out, "literal continued");
		return;
	}
	if (es->in_exchange) {
		explain_word(line, verb, sizeof(verb));
		add_key(out, strcmp(verb, "DONE") == 0 ? "DONE" : "SASL response");
		out->auth = strcmp(verb, "DONE") != 0;
		es->in_exchange = false;
		return;
	}
	args = explain_word(explain_word(line, tag, sizeof(tag)), verb, sizeof(verb));
	if (strcmp(verb, "UID") == 0) {
		explain_word(args, sub, sizeof(sub));
		add_key(out, "UID");
		add_key(out, sub);
	} else if (!explain_add(&imap_explainer, out, verb)) {
		add_key(out, "unknown command");
	}
	snprintf(entry, sizeof(entry), "%s %s", tag, verb);
	explain_push(es, entry);
	out->auth = strcmp(verb, "LOGIN") == 0 || strcmp(verb, "AUTHENTICATE") == 0;
	out->tls = strcmp(verb, "STARTTLS") == 0;
}

/* Adds the row for a "[CODE ...]" at p, if any. */
static void response_code(const char *p, struct explain_line *out)
{
	char key[40];
	size_t n;

	if (*p != '[')
		return;
	n = strcspn(p + 1, " ]");
	snprintf(key, sizeof(key), "[%.*s]", (int)(n < 30 ? n : 30), p + 1);
	add_key(out, key);
}

static void untagged(struct explain_session *es, const char *rest,
		     struct explain_line *out)
{
	char word[24], key[40];
	const char *after = explain_word(rest, word, sizeof(word));

	/* "* 3 EXISTS": a number, then the data's name */
	if (isdigit((unsigned char)word[0]))
		explain_word(after, word, sizeof(word));
	snprintf(key, sizeof(key), "* %s", word);
	if (strcmp(word, "OK") == 0 && !es->greeted)
		add_key(out, "greeting");
	else
		add_key(out, key);
	es->greeted = true;
	if (strcmp(word, "OK") == 0 || strcmp(word, "NO") == 0 ||
	    strcmp(word, "BAD") == 0 || strcmp(word, "BYE") == 0 ||
	    strcmp(word, "PREAUTH") == 0)
		response_code(after, out);
	if (strcmp(word, "BYE") == 0)
		es->state = X_LOGOUT;
	else if (strcmp(word, "PREAUTH") == 0)
		es->state = X_AUTH;
}

static void tagged(struct explain_session *es, const char *tag,
		   const char *rest, struct explain_line *out)
{
	char status[8];
	const char *after = explain_word(rest, status, sizeof(status));
	const char *cmd;
	bool ok = strcmp(status, "OK") == 0;

	add_key(out, status);
	response_code(after, out);
	explain_take(es, tag);
	cmd = strchr(es->last_cmd, ' ') != NULL ? strchr(es->last_cmd, ' ') + 1 : "";
	es->in_exchange = false;
	es->client_cont = false;
	out->auth = strcmp(cmd, "LOGIN") == 0 || strcmp(cmd, "AUTHENTICATE") == 0;
	out->tls = ok && strcmp(cmd, "STARTTLS") == 0;
	if (ok && out->auth)
		es->state = X_AUTH;
	else if (strcmp(cmd, "SELECT") == 0 || strcmp(cmd, "EXAMINE") == 0)
		es->state = ok ? X_SELECTED : X_AUTH;	/* 6.3.1: a failed
							   SELECT deselects */
	else if (ok && (strcmp(cmd, "CLOSE") == 0 || strcmp(cmd, "UNSELECT") == 0))
		es->state = X_AUTH;
	else if (strcmp(cmd, "LOGOUT") == 0)
		es->state = X_LOGOUT;
}

static void server_line(struct explain_session *es, const char *line,
			struct explain_line *out)
{
	char tag[24];
	const char *rest;
	long lit;

	if (es->literal_left > 0) {
		size_t n = explain_raw_len(line) + 2;

		out->body = true;
		es->literal_left = n < es->literal_left ? es->literal_left - n : 0;
		return;
	}
	rest = explain_word(line, tag, sizeof(tag));
	if (strcmp(tag, "*") == 0)
		untagged(es, rest, out);
	else if (strcmp(tag, "+") == 0) {
		const char *p = es->n_pending > 0 ?
			strchr(es->pending[es->n_pending - 1], ' ') : NULL;

		add_key(out, "+");
		/* A challenge, or IDLE waiting for DONE; else a literal's go. */
		if (p != NULL && (strcmp(p + 1, "AUTHENTICATE") == 0 ||
				  strcmp(p + 1, "IDLE") == 0)) {
			es->in_exchange = true;
			out->auth = strcmp(p + 1, "AUTHENTICATE") == 0;
		}
	} else if (tag[0] != '\0')
		tagged(es, tag, rest, out);
	lit = trailing_literal(line);
	if (lit > 0)
		es->literal_left = (size_t)lit;
}

static void imap_feed(struct explain_session *es, enum explain_who who,
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
			es->literal_left = 0;
		break;
	}
}

const struct explainer imap_explainer = {
	.protocol = "imap",
	.entries = imap_entries,
	.n_entries = sizeof(imap_entries) / sizeof(imap_entries[0]),
	.feed = imap_feed,
	.state_name = imap_state_name,
};
