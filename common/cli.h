#ifndef COMMON_CLI_H
#define COMMON_CLI_H
#include <stdio.h>

/* The `maillab` subcommands.  Each returns the process exit status:
 * 0 success, 1 run-time failure (one clear line on stderr), 2 bad arguments
 * (usage on stderr). */
int cmd_init(int argc, char **argv);	/* common/cmd-init.c */
int cmd_serve(int argc, char **argv);	/* common/cmd-serve.c */
int cmd_user(int argc, char **argv);	/* common/cmd-user.c */

/* The protocol of each service, wired up in main.c (NULL: no server yet). */
struct protocol;
extern const struct protocol *const maillab_protocols[];

/* Default instance directory when -d is not given. */
#define DEFAULT_INSTANCE_DIR "./maillab-data"
#define MAILLAB_VERSION "0.1.0"

/* Parses a leading "-d DIR" / "--dir DIR" anywhere in argv, removing it.
 * Returns the directory (argv storage or the default). */
const char *cli_take_dir(int *argc, char **argv);

#endif
