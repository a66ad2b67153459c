#ifndef COMMON_STRICT_H
#define COMMON_STRICT_H
#include <stdbool.h>

#include "common/explain.h"
#include "common/proto.h"

/* Strict mode (`strict = on`, issue 13): a protocol session that sees its
 * client break a rule still answers as always, and names the rule in the
 * session's trace as a `*:` line
 *
 *     strict: RULE-ID: WHAT WAS WRONG (RFC SECTION)
 *
 * The rule ids are rows of the protocol's explain table (smtpd/explain.c,
 * pop3d/explain.c, imapd/explain.c: "smtp-bare-lf", "pop3-no-quit",
 * "imap-no-tag"...), whose text and RFC section the line carries, so the
 * teaching text stays in one table per protocol; `trace show --explain`
 * and the HTML diagram mark these lines as broken rules.  The list for
 * students is labs/strict-rules.md. */

#define STRICT_PREFIX "strict: "

/* Whether strict mode is on for this session (and the trace records it). */
bool strict_on(const struct proto_io *io);
/* Writes the trace line for `rule` (a key of ex's table) when strict mode
 * is on; nothing otherwise. */
void strict_note(struct proto_io *io, const struct explainer *ex,
		 const char *rule);
/* Whether explainer row e is a strict-mode rule: its key is the
 * protocol's name, '-' and more ("smtp-bare-lf"). */
bool strict_is_rule(const struct explainer *ex, const struct explain_entry *e);

#endif
