/* Defaults of the SMTP settings that are not maillab.conf keys yet. */
#include "smtpd/settings.h"

static const struct smtp_settings defaults = {
	.postmaster_user = "",
	.vrfy = false,
	.expn = false,
	.subaddress_folders = true,
	.subaddress_separator = '+',
	.sender_must_match = true,
	.reject_bare_lf = false,
};

const struct smtp_settings *smtp_settings(const struct config *cfg)
{
	(void)cfg;
	return &defaults;
}
