#include <string.h>

#include "common/strict.h"
#include "common/trace.h"

bool strict_on(const struct proto_io *io)
{
	return io->cfg != NULL && io->cfg->strict && io->trace != NULL;
}

void strict_note(struct proto_io *io, const struct explainer *ex,
		 const char *rule)
{
	const struct explain_entry *e;

	if (!strict_on(io))
		return;
	e = explain_find(ex, rule);
	if (e == NULL || e->rfc[0] == '\0')
		trace_note(io->trace, STRICT_PREFIX "%s: %s", rule,
			   e != NULL ? e->text : "a protocol rule was broken");
	else
		trace_note(io->trace, STRICT_PREFIX "%s: %s (%s)", rule, e->text,
			   e->rfc);
}

bool strict_is_rule(const struct explainer *ex, const struct explain_entry *e)
{
	size_t n = strlen(ex->protocol);

	return strncmp(e->key, ex->protocol, n) == 0 && e->key[n] == '-' &&
		e->key[n + 1] != '\0';
}
