#ifndef SMTPD_SETTINGS_H
#define SMTPD_SETTINGS_H
#include <stdbool.h>

#include "common/config.h"

/* The SMTP settings of maillab.conf (the key names in the comments), in the
 * form the session uses. */
struct smtp_settings {
	/* smtp_postmaster_user: the user that receives postmaster@ and abuse@
	 * (RFC 5321 4.5.1, RFC 2142) unless an alias of that name exists.
	 * "": the first user in name order. */
	const char *postmaster_user;
	/* smtp_vrfy: VRFY says whether a mailbox exists (250/550); off: 252
	 * for every well-formed argument (RFC 5321 3.5.3, 7.3). */
	bool vrfy;
	/* smtp_expn: EXPN lists an alias's members; off: 502. */
	bool expn;
	/* smtp_subaddress_folders: user+tag@domain goes into folder "tag"
	 * when the user has it (else into the inbox). */
	bool subaddress_folders;
	/* smtp_subaddress_separator: the character between user and tag;
	 * '\0' turns sub-addressing off. */
	char subaddress_separator;
	/* smtp_sender_must_match: on submission, MAIL FROM must be an address
	 * of the authenticated user (RFC 6409 4.1). */
	bool sender_must_match;
	/* smtp_from_must_match: on submission, every address of the From:
	 * field must pass the same test as MAIL FROM (smtp_user_owns). */
	bool from_must_match;
	/* smtp_received_auth_user: the Received field names the
	 * authenticated user (off by default: it tells every recipient the
	 * login name). */
	bool received_auth_user;
	/* smtp_reject_bare_lf: a message with a bare LF gets 554 5.6.0; off:
	 * each bare LF is stored as CRLF (as Postfix's default does), so no
	 * bare LF can be smuggled on when the message is relayed.  Either way
	 * only CRLF "." CRLF ends DATA (RFC 5321 4.1.1.4), and a bare CR is
	 * always refused (RFC 5321 2.3.8). */
	bool reject_bare_lf;
	/* alias_remote_targets: an alias may forward outside the local
	 * domains (through the queue); off: such an alias gets 451 4.3.2. */
	bool alias_remote;
};

/* Fills *set from cfg; strings point into cfg. */
void smtp_settings(const struct config *cfg, struct smtp_settings *set);

#endif
