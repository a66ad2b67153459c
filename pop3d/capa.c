/* CAPA (RFC 2449 5): what this server offers, in the current state. */
#include "common/auth.h"
#include "common/config.h"
#include "common/sasl.h"
#include "pop3d/pop3-int.h"

void pop3_cmd_capa(struct pop3_session *s, char *args)
{
	struct proto_io *io = s->io;
	bool authz = s->state == POP3_AUTHORIZATION;

	if (*args != '\0') {
		pop3_bad(s, "syntax: CAPA");
		return;
	}
	pop3_ok(s, "capability list follows");
	io_printf(io, "TOP\r\nUIDL\r\n");	/* RFC 2449 6.1; RFC 1939 7 */
	/* RFC 2449 6.2, 6.3: ways to log in, offered only where a password
	 * may be sent (common/auth.h) and only before login. */
	if (authz && auth_plaintext_allowed(io))
		io_printf(io, "USER\r\nSASL %s\r\n", SASL_MECHANISMS);
	/* RFC 2449 6.5: the same minimum for every user, so the same value
	 * before and after login (no "USER" argument). */
	if (io->cfg->pop3_login_delay > 0)
		io_printf(io, "LOGIN-DELAY %u\r\n", io->cfg->pop3_login_delay);
	/* RFC 2449 6.4, RFC 3206 (SYS/TEMP, SYS/PERM, AUTH), RFC 5034 6. */
	io_printf(io, "RESP-CODES\r\nAUTH-RESP-CODE\r\n");
	/* RFC 2449 6.6: commands may be sent without waiting for replies;
	 * the I/O layer reads them one at a time in order. */
	io_printf(io, "PIPELINING\r\n");
	/* RFC 2595 4: only before TLS, on the port that has STLS. */
	if (authz && io->service == SVC_POP3 && io->tls_available && !io->tls)
		io_printf(io, "STLS\r\n");
	/* RFC 2449 6.7: the server deletes nothing by itself. */
	io_printf(io, "EXPIRE NEVER\r\n");
	io_printf(io, "IMPLEMENTATION maillab\r\n.\r\n");
}
