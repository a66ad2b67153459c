#ifndef CLI_CLI_H
#define CLI_CLI_H
#include <stdio.h>

/* The `maillab` subcommands: the top floor, the only code that calls every
 * layer (common/, maildir/ and the three protocols).  Each returns the
 * process exit status: 0 success, 1 run-time failure (one clear line on stderr), 2 bad arguments
 * (usage on stderr). */
int maillab_init(int argc, char **argv);	/* cli/init.c */
int maillab_serve(int argc, char **argv);	/* cli/serve.c */
int maillab_user(int argc, char **argv);	/* cli/user.c */
int maillab_alias(int argc, char **argv);	/* cli/alias.c */
int maillab_trace(int argc, char **argv);	/* cli/trace.c */
int maillab_queue(int argc, char **argv);	/* cli/queue.c */
int maillab_lab(int argc, char **argv);		/* cli/lab.c */

/* Default instance directory when -d is not given. */
#define DEFAULT_INSTANCE_DIR "./maillab-data"
#define MAILLAB_VERSION "0.1.0"

/* Parses a leading "-d DIR" / "--dir DIR" anywhere in argv, removing it.
 * Returns the directory (argv storage or the default). */
const char *cli_take_dir(int *argc, char **argv);

#endif
