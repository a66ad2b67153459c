/* AUTH mechanism [initial-response]  (RFC 4954 4), PLAIN and LOGIN through
 * the shared SASL server (common/sasl.h) and policy (common/auth.h). */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "smtpd/session.h"

static void auth_done(void *sess, enum auth_result result, const char *user)
{
	struct smtp_session *s = sess;

	smtp_enter_state(s, SMTP_READY);
	switch (result) {
	case AUTH_OK:
		free(s->user);
		s->user = xstrdup(user);
		smtp_reply(s, 235, "2.7.0", "Authentication successful");
		break;
	case AUTH_FAILED:
		smtp_reply(s, 535, "5.7.8", "Authentication credentials invalid");
		break;
	case AUTH_FAILED_CLOSE:
		smtp_close(s, "4.7.0", "Too many failed authentications, closing connection");
		break;
	case AUTH_TEMPFAIL:
		smtp_reply(s, 454, "4.7.0", "Temporary authentication failure");
		break;
	case AUTH_LOCKED:
		smtp_reply(s, 454, "4.7.0",
			   "Too many failed authentications, try again later");
		break;
	}
}

/* The SASL exchange gave a user and a password: check them, unless a
 * fault the user name asks for answers first (smtpd/fault.c). */
static void verify(struct smtp_session *s)
{
	const char *name = sasl_user(&s->sasl);
	char user[512];

	if (strlen(name) < sizeof(user)) {
		memcpy(user, name, strlen(name) + 1);
		if (smtp_fault_auth(s, user))
			return;
		name = user;
	}
	auth_check(s->io, &s->auth, name, sasl_password(&s->sasl), auth_done, s);
}

/* Acts on what SASL said. */
static void sasl_result(struct smtp_session *s, enum sasl_result r)
{
	switch (r) {
	case SASL_CHALLENGE:
		smtp_enter_state(s, SMTP_AUTH);
		/* RFC 4954 4: "334" SP [base64] */
		io_printf(s->io, "334 %s\r\n", sasl_challenge(&s->sasl));
		return;
	case SASL_VERIFY:
		/* done may run at once (unit tests): be BUSY first. */
		smtp_enter_state(s, SMTP_BUSY);
		verify(s);
		sasl_reset(&s->sasl);
		return;
	case SASL_FAILED:
		smtp_enter_state(s, SMTP_BUSY);
		auth_reject(s->io, &s->auth, sasl_failure(&s->sasl), auth_done, s);
		sasl_reset(&s->sasl);
		return;
	case SASL_BAD_BASE64:
		smtp_enter_state(s, SMTP_READY);
		smtp_reply(s, 501, "5.5.2", "Invalid base64 data");
		break;
	case SASL_CANCELLED:
		smtp_enter_state(s, SMTP_READY);
		smtp_reply(s, 501, "5.7.0", "Authentication cancelled");
		break;
	case SASL_NO_MECH:
		smtp_enter_state(s, SMTP_READY);
		smtp_reply(s, 504, "5.5.4", "Unrecognized authentication type");
		break;
	}
	sasl_reset(&s->sasl);
}

void smtp_cmd_auth(struct smtp_session *s, char *args)
{
	char *mech = args, *initial;

	if (s->user != NULL) {
		/* RFC 4954 4: once only */
		smtp_reply(s, 503, "5.5.1", "Already authenticated");
		return;
	}
	if (!smtp_auth_offered(s)) {
		if (!s->io->tls && s->io->tls_available)
			/* RFC 4954 6 */
			smtp_reply(s, 538, "5.7.11",
				   "Encryption required for requested authentication mechanism");
		else
			smtp_reply(s, 503, "5.5.1", "AUTH not available");
		return;
	}
	if (!s->esmtp) {
		smtp_reply(s, 503, "5.5.1", "Bad sequence of commands: send EHLO first");
		return;
	}
	initial = strchr(mech, ' ');
	if (initial != NULL) {
		*initial++ = '\0';
		if (strchr(initial, ' ') != NULL) {
			smtp_reply(s, 501, "5.5.4", "Syntax: AUTH mechanism [initial-response]");
			return;
		}
	}
	if (*mech == '\0') {
		smtp_reply(s, 501, "5.5.4", "Syntax: AUTH mechanism [initial-response]");
		return;
	}
	sasl_result(s, sasl_start(&s->sasl, mech, initial));
}

void smtp_auth_line(struct smtp_session *s, const char *line, size_t len)
{
	sasl_result(s, sasl_step(&s->sasl, line, len));
}

void smtp_auth_abort(struct smtp_session *s)
{
	sasl_reset(&s->sasl);
	smtp_enter_state(s, SMTP_READY);
}
