#ifndef COMMON_AUTH_H
#define COMMON_AUTH_H
#include <stdbool.h>
#include <stddef.h>

#include "common/proto.h"

/* The authentication policy of all three servers, in one place: when a
 * password may be sent at all, checking it off the loop thread, the growing
 * delay after each failure, and the disconnect after too many
 * (DESIGN.md "Plaintext AUTH...", "Bad input").
 *
 * A protocol uses it like this (SMTP AUTH shown; POP3 AUTH/USER+PASS and
 * IMAP AUTHENTICATE/LOGIN alike):
 *
 *	if (!auth_plaintext_allowed(io))	-> 538 5.7.11, no exchange
 *	sasl_start / sasl_step (common/sasl.h) until SASL_VERIFY, then
 *	auth_check(io, &s->auth, sasl_user(), sasl_password(), done, s);
 *	sasl_reset(&s->sasl);			(the password is copied)
 *	... no input arrives until done(s, result, user) runs:
 *	AUTH_OK            235, the session is now `user`
 *	AUTH_FAILED        535 5.7.8, carry on
 *	AUTH_FAILED_CLOSE  535 5.7.8 (or 421), then io->close
 *	AUTH_TEMPFAIL      454 4.7.0
 * and for SASL_FAILED, auth_reject(), which counts and delays the same way.
 *
 * The session must stay alive until `done` has run (conn.c keeps a session
 * with deferred work open). */

enum auth_result {
	AUTH_OK,		/* authenticated as the `user` given to done */
	AUTH_FAILED,		/* wrong user or password; may try again */
	AUTH_FAILED_CLOSE,	/* failed, and cfg->auth_max_failures is
				   reached: reply, then disconnect */
	AUTH_TEMPFAIL,		/* the user database failed: a temporary
				   error, not counted as a failure */
};

/* Called on the loop thread once the check (and any failure delay) is
 * over.  `user` is the normalised user name (see auth_check), valid during
 * the call only; on failure it is the name that was tried. */
typedef void auth_done_fn(void *sess, enum auth_result result,
			  const char *user);

/* Per session; zero it at the start of the session. */
struct auth_state {
	unsigned int failures;	/* failed attempts so far */
	bool busy;		/* a check or failure delay is running */
};

/* Longest failure delay, whatever the doubling says. */
#define AUTH_DELAY_MAX_MS 30000

/* Whether a password may be sent on this connection: it is encrypted, the
 * peer is on loopback, or the lab setting allow_plaintext_auth is on. */
bool auth_plaintext_allowed(const struct proto_io *io);

/* Checks user/password against io->users with userdb_verify on a worker
 * thread (io->defer), then calls done(sess, result, user) on the loop
 * thread.  After a failure it first waits (io->after)
 * cfg->auth_fail_delay_ms, doubled for each earlier failure in this session
 * (capped at AUTH_DELAY_MAX_MS); when the failures reach
 * cfg->auth_max_failures (0: no limit) the result is AUTH_FAILED_CLOSE.
 *
 * The user name is normalised first: ASCII letters folded to lower case and
 * "@domain" removed when domain is one of cfg->domains, so that clients
 * that log in with the full address (alice@lab.test) work.  user and
 * password are copied; the copy of the password is wiped after hashing.
 * The log gets one line per attempt with the user name (escaped), never the
 * password.  st->busy is true until done is called.  When
 * auth_plaintext_allowed(io) is false the password is not checked at all:
 * a failed attempt, as if it were wrong (the protocol should have refused
 * earlier with its "encryption required" reply). */
void auth_check(struct proto_io *io, struct auth_state *st, const char *user,
		const char *password, auth_done_fn *done, void *sess);

/* A failed attempt that never reached the database (malformed SASL
 * credentials): counted, logged with `reason` and delayed like a wrong
 * password, then done(sess, AUTH_FAILED or AUTH_FAILED_CLOSE, ""). */
void auth_reject(struct proto_io *io, struct auth_state *st,
		 const char *reason, auth_done_fn *done, void *sess);

/* Notes the result of an attempt in the session's trace (io->trace):
 * `auth ok user=NAME`, `auth failed user=NAME` or `auth tempfail user=NAME`
 * (`maillab trace` shows who logged in from it).  auth_check and auth_reject
 * call it; a protocol that checks a secret itself (APOP) calls it too. */
void auth_trace_result(struct proto_io *io, enum auth_result result,
		       const char *user);

/* The delay before reporting failure number n (1-based) with the
 * configured base delay: base * 2^(n-1), capped. */
unsigned int auth_fail_delay(unsigned int base_ms, unsigned int n);

/* For ops->trace_visible: how many bytes of `line` to show when the first
 * `words` space-separated words are public and the rest is a secret
 * ("AUTH PLAIN <secret>": 2, "a1 LOGIN alice <secret>": 3, "PASS <secret>":
 * 1).  All of the line when it has no more than that. */
size_t auth_trace_visible(const char *line, size_t len, unsigned int words);

/* The user name as authentication uses it: "Alice@Lab.Test" -> "alice"
 * when lab.test is a local domain (ASCII letters lower-cased, at most
 * SASL_NAME_MAX bytes).  The caller frees it. */
char *auth_normalise_user(const struct config *cfg, const char *user);

#endif
