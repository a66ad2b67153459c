#ifndef SMTPD_RESOLVE_H
#define SMTPD_RESOLVE_H
#include <stddef.h>

#include "smtpd/address.h"

struct smtp_session;
struct smtp_dest;

/* Where a forward-path goes (RFC 5321 4.5.1: postmaster is always ours). */
enum resolve_result {
	RESOLVE_LOCAL,		/* dests filled: deliver to them */
	RESOLVE_UNKNOWN,	/* no such user or alias: 550 5.1.1 */
	RESOLVE_REMOTE,		/* not a local domain: relay */
	RESOLVE_ALIAS_REMOTE,	/* an alias leads to remote addresses */
	RESOLVE_LOOP,		/* an alias loop: 550 5.4.6 */
	RESOLVE_TOO_MANY,	/* an alias expands too far: 452 4.5.3 */
	RESOLVE_TEMPFAIL,	/* database trouble: 451 4.3.0 */
};

struct resolved {
	struct smtp_dest *dests;	/* owned; free with smtp_resolved_free */
	size_t n;
	/* RESOLVE_LOCAL through an alias with alias_remote_targets on: the
	 * addresses outside the local domains it forwards to (owned) */
	char **remote;
	size_t n_remote;
};

/* Resolves path p for session s: aliases first, then users, then
 * sub-addresses (user+tag, into folder tag when it exists and the setting
 * is on), then postmaster/abuse to the configured user. */
enum resolve_result smtp_resolve(struct smtp_session *s,
				 const struct smtp_path *p,
				 struct resolved *out);
void smtp_resolved_free(struct resolved *r);

/* Whether the authenticated user s->user may send as p (RFC 6409 4.1: the
 * MSA may check the sender): the null path, one of the user's addresses, a
 * sub-address of it, or an alias that reaches the user (also one that
 * reaches others too).  1 yes, 0 no, -1 database trouble. */
int smtp_user_owns(struct smtp_session *s, const struct smtp_path *p);

/* The members of alias `name` for EXPN: 1 and the comma-separated target
 * list in *targets_r (malloc'd), 0 not an alias, -1 database error. */
int smtp_alias_targets(struct smtp_session *s, const char *name,
		       char **targets_r);

#endif
