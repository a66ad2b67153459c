/* The walkers' shared parts: table look-up, the pending-command queue, and
 * the events common/ writes into every trace (common/trace.h). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/explain.h"
#include "common/strict.h"

const struct explain_entry *explain_find(const struct explainer *ex,
					 const char *key)
{
	for (size_t i = 0; i < ex->n_entries; i++)
		if (strcasecmp(ex->entries[i].key, key) == 0)
			return &ex->entries[i];
	return NULL;
}

static void add_row(struct explain_line *out, const struct explain_entry *e)
{
	if (e != NULL && out->n_rows < EXPLAIN_MAX_ROWS)
		out->rows[out->n_rows++] = e;
}

bool explain_add(const struct explainer *ex, struct explain_line *out,
		 const char *key)
{
	const struct explain_entry *e = explain_find(ex, key);

	add_row(out, e);
	return e != NULL;
}

void explain_feed(struct explain_session *es, enum explain_who who,
		  const char *line, struct explain_line *out)
{
	memset(out, 0, sizeof(*out));
	if (who == EXPLAIN_SERVER && es->fault_next) {
		out->fault = true;
		es->fault_next = false;
	}
	if (who == EXPLAIN_EVENT && explain_strict_event(es, line, out))
		return;
	if (who == EXPLAIN_EVENT && explain_common_event(es, line, out))
		return;
	es->ex->feed(es, who, line, out);
}

bool explain_strict_event(struct explain_session *es, const char *line,
			  struct explain_line *out)
{
	size_t n = strlen(STRICT_PREFIX), len;
	char rule[64];

	if (strncmp(line, STRICT_PREFIX, n) != 0)
		return false;
	line += n;
	len = strcspn(line, ":");
	out->broken_rule = true;
	if (len < sizeof(rule)) {
		memcpy(rule, line, len);
		rule[len] = '\0';
		explain_add(es->ex, out, rule);
	}
	return true;
}

void explain_push(struct explain_session *es, const char *cmd)
{
	if (es->n_pending == EXPLAIN_MAX_PENDING) {
		/* A client that pipelines more than this: forget the oldest. */
		memmove(es->pending[0], es->pending[1],
			sizeof(es->pending[0]) * (EXPLAIN_MAX_PENDING - 1));
		es->n_pending--;
	}
	snprintf(es->pending[es->n_pending++], sizeof(es->pending[0]), "%s", cmd);
}

void explain_pop(struct explain_session *es)
{
	es->last_cmd[0] = '\0';
	if (es->n_pending == 0)
		return;
	snprintf(es->last_cmd, sizeof(es->last_cmd), "%s", es->pending[0]);
	memmove(es->pending[0], es->pending[1],
		sizeof(es->pending[0]) * (es->n_pending - 1));
	es->n_pending--;
}

bool explain_take(struct explain_session *es, const char *tag)
{
	size_t n = strlen(tag);

	es->last_cmd[0] = '\0';
	for (size_t i = 0; i < es->n_pending; i++) {
		if (strncmp(es->pending[i], tag, n) != 0 || es->pending[i][n] != ' ')
			continue;
		snprintf(es->last_cmd, sizeof(es->last_cmd), "%s", es->pending[i]);
		memmove(es->pending[i], es->pending[i + 1],
			sizeof(es->pending[0]) * (es->n_pending - i - 1));
		es->n_pending--;
		return true;
	}
	return false;
}

size_t explain_raw_len(const char *line)
{
	size_t n = 0;

	while (*line != '\0') {
		if (line[0] == '\\' && line[1] == 'x' && line[2] != '\0' &&
		    line[3] != '\0')
			line += 4;
		else if (line[0] == '\\' && (line[1] == '\\' || line[1] == 'r' ||
					       line[1] == 'n'))
			line += 2;
		else
			line++;
		n++;
	}
	return n;
}

const char *explain_word(const char *line, char *word, size_t len)
{
	size_t n = 0;

	while (*line != '\0' && *line != ' ') {
		if (n + 1 < len) {
			char c = *line;

			word[n++] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
		}
		line++;
	}
	if (len > 0)
		word[n] = '\0';
	while (*line == ' ')
		line++;
	return line;
}

/* Events written by common/conn.c, common/auth.c and common/trace.c. */
static const struct explain_entry events[] = {
	{ "trace started",
	  "The server started recording this session; the times are UTC.",
	  "" },
	{ "connection from",
	  "A client opened a TCP connection to the server's port; the server "
	  "speaks first.", "" },
	{ "TLS handshake",
	  "Client and server now negotiate TLS: keys are agreed and the server "
	  "proves its identity with its certificate. Nothing sent before is "
	  "kept.", "RFC 8446 2" },
	{ "TLS established",
	  "The connection is encrypted from here on (the protocol version and "
	  "cipher suite are shown); an eavesdropper sees only ciphertext.",
	  "RFC 8446 2" },
	{ "TLS error",
	  "The TLS handshake or record layer failed; the connection is "
	  "closed.", "RFC 8446 6" },
	{ "auth ok",
	  "The server checked the user name and password: the client is now "
	  "logged in as this user.", "" },
	{ "auth failed",
	  "The user name or password was wrong (or the exchange was "
	  "malformed); the server waits a little before answering, to slow "
	  "down guessing.", "" },
	{ "auth tempfail",
	  "The server could not check the password (its user database failed); "
	  "the client may try again later.", "" },
	{ "discarded",
	  "Bytes the client sent before the TLS handshake were thrown away, "
	  "so that nobody can inject commands into the encrypted session.",
	  "RFC 3207 5" },
	{ "client line longer",
	  "The client sent a line longer than the server's limit; it was "
	  "skipped and answered with an error.", "" },
	{ "idle timeout",
	  "The client said nothing for too long; the server ends the "
	  "session.", "" },
	{ "client closed its side",
	  "The client closed the connection (if it did not say QUIT or LOGOUT "
	  "first, it just went away).", "" },
	{ "connection closed",
	  "The TCP connection is gone.", "" },
	{ "fault injected",
	  "NOT A REAL PROBLEM: the lab setting fault_injection made the server "
	  "misbehave here on purpose (a refusal, a delay, a cut connection), "
	  "to show how the client copes. Nothing stored was harmed.",
	  "labs/faults.md" },
	{ "fault requested by name",
	  "The name the client used ends in +fault. and asks for faults in "
	  "this session; the server removed that suffix before using the "
	  "name.", "labs/faults.md" },
	{ "fault not injected",
	  "The name has a +fault. suffix the server could not read, so it "
	  "was taken as a plain name.", "labs/faults.md" },
	{ "session ended",
	  "The server has forgotten the session; this is the end of the "
	  "trace.", "" },
};

/* Data the trace counts instead of showing ("C: <message body, 28
 * bytes>"): the walker hears of them too, since they end a DATA phase or
 * continue a command. */
static const struct explain_entry data_events[] = {
	{ "message body",
	  "The message itself (headers, blank line, body) as the client sent "
	  "it; the trace keeps only its size.", "RFC 5322 2.1" },
	{ "literal data",
	  "The bytes of a literal the client announced with {N}; the trace "
	  "keeps only their number.", "RFC 3501 4.3" },
	{ "more bytes from the server",
	  "A long reply (usually message text) continues; the trace keeps only "
	  "its size.", "" },
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

bool explain_common_event(struct explain_session *es, const char *line,
			  struct explain_line *out)
{
	for (size_t i = 0; i < N_OF(data_events); i++) {
		if (strstr(line, data_events[i].key) != NULL) {
			add_row(out, &data_events[i]);
			return false;
		}
	}
	for (size_t i = 0; i < N_OF(events); i++) {
		const char *key = events[i].key;

		if (strncmp(line, key, strlen(key)) != 0)
			continue;
		add_row(out, &events[i]);
		if (strncmp(key, "TLS", 3) == 0) {
			out->tls = true;
			if (strcmp(key, "TLS established") == 0)
				es->tls = true;
		}
		if (strncmp(key, "fault ", 6) == 0) {
			out->fault = true;
			es->fault_next = strcmp(key, "fault injected") == 0;
		}
		if (strncmp(key, "auth ", 5) == 0) {
			const char *u = strstr(line, "user=");

			out->auth = true;
			if (strcmp(key, "auth ok") == 0 && u != NULL)
				snprintf(es->user, sizeof(es->user), "%s", u + 5);
		}
		return true;
	}
	return false;
}
