/* The command table (RFC 3501 section 6): name, handler, the states it is
 * valid in, and what it does to sequence numbers. */
#include <strings.h>

#include "imapd/imap-int.h"

#define INLINE IMAP_CMD_INLINE
#define SEQS IMAP_CMD_SEQS
#define UID_OK IMAP_CMD_UID_OK

static const struct imap_command commands[] = {
	/* 6.1 any state */
	{ "CAPABILITY",	cmd_capability,	IMAP_ANY, INLINE },
	{ "NOOP",	cmd_noop,	IMAP_ANY, 0 },
	{ "LOGOUT",	cmd_logout,	IMAP_ANY, INLINE },
	{ "ID",		cmd_id,		IMAP_ANY, INLINE },	/* RFC 2971 */
	/* 6.2 not authenticated */
	{ "STARTTLS",	cmd_starttls,	IMAP_NOT_AUTH, INLINE },
	{ "AUTHENTICATE", cmd_authenticate, IMAP_NOT_AUTH, INLINE },
	{ "LOGIN",	cmd_login,	IMAP_NOT_AUTH, INLINE },
	/* 6.3 authenticated */
	{ "SELECT",	cmd_select,	IMAP_AUTHED, 0 },
	{ "EXAMINE",	cmd_examine,	IMAP_AUTHED, 0 },
	{ "CREATE",	cmd_create,	IMAP_AUTHED, 0 },
	{ "DELETE",	cmd_delete,	IMAP_AUTHED, 0 },
	{ "RENAME",	cmd_rename,	IMAP_AUTHED, 0 },
	{ "SUBSCRIBE",	cmd_subscribe,	IMAP_AUTHED, 0 },
	{ "UNSUBSCRIBE", cmd_unsubscribe, IMAP_AUTHED, 0 },
	{ "LIST",	cmd_list,	IMAP_AUTHED, 0 },
	{ "LSUB",	cmd_lsub,	IMAP_AUTHED, 0 },
	{ "STATUS",	cmd_status,	IMAP_AUTHED, 0 },
	{ "APPEND",	cmd_append,	IMAP_AUTHED, 0 },
	{ "ENABLE",	cmd_enable,	IMAP_AUTHED, INLINE },	/* RFC 5161 */
	{ "NAMESPACE",	cmd_namespace,	IMAP_AUTHED, INLINE },	/* RFC 2342 */
	/* RFC 9208 4.1 */
	{ "GETQUOTA",	cmd_getquota,	IMAP_AUTHED, 0 },
	{ "GETQUOTAROOT", cmd_getquotaroot, IMAP_AUTHED, 0 },
	{ "SETQUOTA",	cmd_setquota,	IMAP_AUTHED, INLINE },
	/* RFC 2177: on the loop, which owns the change notification */
	{ "IDLE",	cmd_idle,	IMAP_AUTHED, INLINE },
	/* RFC 5465: reads the folders on a worker; watching is the loop's */
	{ "NOTIFY",	cmd_notify,	IMAP_AUTHED, 0 },
	/* RFC 4978: the switch happens in the I/O layer after the OK */
	{ "COMPRESS",	cmd_compress,	IMAP_AUTHED, INLINE },
	/* 6.4 selected */
	{ "CHECK",	cmd_check,	IMAP_SELECTED, 0 },
	{ "CLOSE",	cmd_close,	IMAP_SELECTED, 0 },
	{ "UNSELECT",	cmd_unselect,	IMAP_SELECTED, 0 },	/* RFC 3691 */
	{ "EXPUNGE",	cmd_expunge,	IMAP_SELECTED, UID_OK },	/* RFC 4315 */
	{ "SEARCH",	cmd_search,	IMAP_SELECTED, SEQS | UID_OK },
	{ "FETCH",	cmd_fetch,	IMAP_SELECTED, SEQS | UID_OK },
	{ "STORE",	cmd_store,	IMAP_SELECTED, SEQS | UID_OK },
	{ "COPY",	cmd_copy,	IMAP_SELECTED, SEQS | UID_OK },
	/* RFC 6851: expunges, so the updates at its end may too */
	{ "MOVE",	cmd_move,	IMAP_SELECTED, UID_OK },
	{ "UID",	cmd_uid,	IMAP_SELECTED, 0 },
	/* RFC 5256 */
	{ "SORT",	cmd_sort,	IMAP_SELECTED, SEQS | UID_OK },
	{ "THREAD",	cmd_thread,	IMAP_SELECTED, SEQS | UID_OK },
	{ "CANCELUPDATE", cmd_cancelupdate, IMAP_SELECTED, 0 },	/* RFC 5267 */
};

const struct imap_command *imap_command_find(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcasecmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}
