/* The repeatable `fault PROTO COMMAND = ACTION` key of maillab.conf: a
 * fault every session of that protocol gets while fault_injection is on
 * (common/fault.h). */
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/config-int.h"
#include "common/fault.h"

int config_fault_add(char **items, size_t *n, const char *arg,
		     const char *value, char *err_r, size_t errlen)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);
	char proto[16], cmd[32], extra[2];
	struct fault f;

	if (sscanf(arg, "%15s %31s %1s", proto, cmd, extra) != 2) {
		snprintf(err_r, errlen, "fault: '%s' is not PROTOCOL COMMAND "
			 "(fault smtp RCPT = 451)", arg);
		return -1;
	}
	if (strpbrk(value, " \t") != NULL) {
		snprintf(err_r, errlen, "fault %s: one action per line, not '%s'",
			 arg, value);
		return -1;
	}
	if (fault_parse(proto, cmd, value, &f, err_r, errlen) < 0)
		return -1;
	if (*n == CONFIG_MAX_LIST) {
		snprintf(err_r, errlen, "fault: more than %d faults", CONFIG_MAX_LIST);
		return -1;
	}
	fault_describe(&f, &b);
	items[(*n)++] = buf_steal(&b);
	return 0;
}
