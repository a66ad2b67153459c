/* Not-authenticated state (RFC 3501 6.2): STARTTLS, AUTHENTICATE, LOGIN.
 * Passwords go through common/sasl.h and common/auth.h: the policy (TLS or
 * loopback, delays, disconnect after failures) lives there. */
#include <string.h>

#include "imapd/imap-int.h"

/* STARTTLS */
void cmd_starttls(struct imap_cmd *cmd)
{
	struct proto_io *io = cmd->s->io;

	if (imap_cmd_end(cmd) < 0)
		return;
	if (io->tls) {
		imap_cmd_bad(cmd, "TLS is already active");
		return;
	}
	if (!io->tls_available) {
		imap_cmd_no(cmd, "TLS is not available");
		return;
	}
	imap_cmd_ok(cmd, "Begin TLS negotiation now");
	io->starttls = true;
}

/* AUTHENTICATE <mechanism> [SP <initial response>] (RFC 4959) */
void cmd_authenticate(struct imap_cmd *cmd)
{
	struct buf mech = BUF_INIT(64);
	struct buf initial = BUF_INIT(BUF_UNLIMITED);
	bool has_initial = false;

	if (imap_parse_sp(&cmd->p) < 0 || imap_parse_atom(&cmd->p, &mech) < 0)
		goto syntax;
	if (imap_parse_skip(&cmd->p, ' ')) {
		/* base64 or "=": atom characters */
		if (imap_parse_atom(&cmd->p, &initial) < 0)
			goto syntax;
		has_initial = true;
	}
	if (imap_parse_end(&cmd->p) < 0)
		goto syntax;
	if (!auth_plaintext_allowed(cmd->s->io))
		imap_cmd_no(cmd, "[PRIVACYREQUIRED] Authentication disabled "
			    "without TLS (use STARTTLS)");
	else
		imap_sasl_start(cmd, buf_cstr(&mech),
				has_initial ? buf_cstr(&initial) : NULL);
	goto out;
syntax:
	imap_cmd_parse_error(cmd);
out:
	if (initial.data != NULL)
		memset(initial.data, 0, initial.len);
	buf_free(&initial);
	buf_free(&mech);
}

/* LOGIN <user> <password> */
void cmd_login(struct imap_cmd *cmd)
{
	struct buf user = BUF_INIT(BUF_UNLIMITED);
	struct buf password = BUF_INIT(BUF_UNLIMITED);

	if (imap_parse_sp(&cmd->p) < 0 || imap_parse_astring(&cmd->p, &user) < 0 ||
	    imap_parse_sp(&cmd->p) < 0 ||
	    imap_parse_astring(&cmd->p, &password) < 0 ||
	    imap_parse_end(&cmd->p) < 0) {
		imap_cmd_parse_error(cmd);
	} else if (!auth_plaintext_allowed(cmd->s->io)) {
		/* RFC 3501 6.2.3: LOGINDISABLED */
		imap_cmd_no(cmd, "[PRIVACYREQUIRED] LOGIN disabled without TLS "
			    "(use STARTTLS)");
	} else if (memchr(user.data ? user.data : "", '\0', user.len) != NULL ||
		   memchr(password.data ? password.data : "", '\0',
			  password.len) != NULL) {
		imap_cmd_bad(cmd, "NUL in user name or password");
	} else if (imap_fault_login(cmd, user.data)) {
		;	/* an injected fault answered */
	} else {
		imap_login_check(cmd, buf_cstr(&user), buf_cstr(&password));
	}
	if (password.data != NULL)
		memset(password.data, 0, password.len);
	buf_free(&password);
	buf_free(&user);
}
