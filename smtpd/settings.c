/* The SMTP keys of maillab.conf, as the session uses them. */
#include "smtpd/settings.h"

void smtp_settings(const struct config *cfg, struct smtp_settings *set)
{
	set->postmaster_user = cfg->smtp_postmaster_user != NULL ?
		cfg->smtp_postmaster_user : "";
	set->vrfy = cfg->smtp_vrfy;
	set->expn = cfg->smtp_expn;
	set->subaddress_folders = cfg->smtp_subaddress_folders;
	set->subaddress_separator = cfg->smtp_subaddress_separator != NULL ?
		cfg->smtp_subaddress_separator[0] : '\0';
	set->sender_must_match = cfg->smtp_sender_must_match;
	set->from_must_match = cfg->smtp_from_must_match;
	set->received_auth_user = cfg->smtp_received_auth_user;
	set->reject_bare_lf = cfg->smtp_reject_bare_lf;
	set->alias_remote = cfg->alias_remote_targets;
}
