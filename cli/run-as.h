#ifndef CLI_RUN_AS_H
#define CLI_RUN_AS_H
#include <stddef.h>

#include "common/config.h"

/* Who an instance belongs to when root starts maillab (DESIGN.md
 * "Listeners": bind as root, then drop).  The server itself drops in
 * common/server.c; this is the part only the top floor may do: create the
 * dedicated account and hand the instance's files over to it.
 *
 * run_as (maillab.conf) names the user; its default is RUN_AS_ACCOUNT, a
 * system account (no login, no home) created with useradd when missing.
 * Another user must already exist.  An empty run_as means the owner of the
 * instance directory.  root is never accepted. */
#define RUN_AS_ACCOUNT "maillab"

/* For a process running as root: resolves the run_as user (creating
 * RUN_AS_ACCOUNT when it is the one named and missing), makes every file,
 * directory and symlink under cfg->dir, and cfg->dir itself, belong to that
 * user and its primary group (modes unchanged, symlinks not followed), and
 * stores the resolved name in cfg->run_as so that the server drops to the
 * same user.  A file with several hard links that belongs to someone else
 * is refused, not handed over (it could be a link to a file outside the
 * instance).  An instance that belongs to another unprivileged user is
 * refused too: that user could have edited maillab.conf to name someone
 * else.  0, or -1 with one line in err_r.  Not root: does nothing. */
int run_as_hand_over(struct config *cfg, char *err_r, size_t errlen);

/* For the subcommands that change an instance (user, alias): when running
 * as root and DIR belongs to another user, becomes that user, so that the
 * files they create (database logs, Maildirs) stay usable by the server.
 * 0, or -1 with one line in err_r. */
int run_as_instance_owner(const char *dir, char *err_r, size_t errlen);

#endif
