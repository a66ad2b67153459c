#ifndef COMMON_SASL_H
#define COMMON_SASL_H
#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"

/* The one SASL server of SMTP AUTH (RFC 4954), POP3 AUTH (RFC 5034) and IMAP
 * AUTHENTICATE (RFC 3501 6.2.2, with SASL-IR, RFC 4959), for the mechanisms
 * PLAIN (RFC 4616) and LOGIN (draft-murchison-sasl-login).
 *
 * Pure: no I/O, no database.  The protocol feeds the optional initial
 * response and then each client line, and acts on the result:
 *
 *   SASL_CHALLENGE    send sasl_challenge() after its own prefix ("334 ",
 *                     "+ ") and feed the next client line to sasl_step
 *   SASL_VERIFY       check sasl_user() / sasl_password() (common/auth.h),
 *                     then sasl_reset
 *   SASL_BAD_BASE64   not base64: SMTP 501 5.5.2, POP3 -ERR, IMAP BAD
 *   SASL_CANCELLED    the client sent "*" (RFC 4954 4, RFC 3501 6.2.2):
 *                     SMTP 501, POP3 -ERR, IMAP BAD
 *   SASL_FAILED       well-formed base64, but not acceptable credentials
 *                     (missing NULs, empty user, authzid not the user, too
 *                     long): a failed authentication (auth_reject)
 *   SASL_NO_MECH      unknown mechanism: SMTP 504 5.5.4, POP3 -ERR, IMAP NO
 *
 * Secrets: the decoded password lives in struct sasl only until sasl_reset,
 * which overwrites it; temporary buffers are wiped before being freed. */

/* RFC 4616 2: servers must take at least 255 octets of authcid and passwd. */
#define SASL_NAME_MAX		255
#define SASL_PASSWORD_MAX	511
/* Decoded size of one client response: authzid NUL authcid NUL passwd. */
#define SASL_RESPONSE_MAX	(2 * SASL_NAME_MAX + SASL_PASSWORD_MAX + 2)

/* What the server advertises (EHLO AUTH, CAPA SASL, CAPABILITY AUTH=). */
#define SASL_MECHANISMS		"PLAIN LOGIN"

enum sasl_result {
	SASL_CHALLENGE,
	SASL_VERIFY,
	SASL_BAD_BASE64,
	SASL_CANCELLED,
	SASL_FAILED,
	SASL_NO_MECH,
};

enum sasl_step {
	SASL_IDLE,		/* no exchange in progress */
	SASL_PLAIN_RESPONSE,	/* PLAIN sent its empty challenge */
	SASL_LOGIN_USER,	/* LOGIN asked "Username:" */
	SASL_LOGIN_PASSWORD,	/* LOGIN asked "Password:" */
	SASL_DONE,		/* user and password are ready */
};

struct sasl {
	enum sasl_step step;
	struct buf challenge;			/* base64, no prefix, no CRLF */
	char user[SASL_NAME_MAX + 1];
	char password[SASL_PASSWORD_MAX + 1];
	const char *reason;			/* why SASL_FAILED, for the log */
};

/* A struct sasl starts zeroed or from sasl_init; sasl_reset ends every use
 * (also when the session closes mid-exchange). */
void sasl_init(struct sasl *s);
void sasl_reset(struct sasl *s);

/* Whether `mech` (case-insensitive, RFC 4422 3.1) is supported. */
bool sasl_mech_supported(const char *mech);

/* Starts an exchange.  `initial` is the initial response as the client sent
 * it (base64, "=" meaning empty per RFC 4954 4 / RFC 4959), or NULL when
 * there was none.  Restarts any exchange in progress. */
enum sasl_result sasl_start(struct sasl *s, const char *mech,
			    const char *initial);
/* Feeds one client line (without CRLF) after SASL_CHALLENGE. */
enum sasl_result sasl_step(struct sasl *s, const char *line, size_t len);

/* True between SASL_CHALLENGE and the next sasl_step: the next client line
 * belongs to SASL (and is a secret in traces). */
bool sasl_in_progress(const struct sasl *s);
/* The challenge to send after SASL_CHALLENGE: base64, possibly "".  Valid
 * until the next call on s. */
const char *sasl_challenge(const struct sasl *s);
/* After SASL_VERIFY: the authentication identity and password, valid until
 * sasl_reset. */
const char *sasl_user(const struct sasl *s);
const char *sasl_password(const struct sasl *s);
/* After SASL_FAILED: a short reason with no secret in it ("missing NUL",
 * "empty user"...). */
const char *sasl_failure(const struct sasl *s);

#endif
