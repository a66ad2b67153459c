/* The `maillab` command: subcommand dispatch only. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
};

static int subcommand_version(int argc, char **argv);
static int subcommand_help(int argc, char **argv);

static const struct subcommand subcommands[] = {
	{ "init", maillab_init,
	  "maillab init DIR [--domain D] [--hostname H] [--demo]" },
	{ "serve", maillab_serve, "maillab serve [-d DIR]" },
	{ "user", maillab_user,
	  "maillab user add|del|passwd|list [-d DIR] [NAME] [--password-stdin] [--yes]\n"
	  "  maillab user add [-d DIR] NAME|--from-file FILE [--quota SIZE] [--messages N]\n"
	  "  maillab user quota [-d DIR] NAME [SIZE|none] [--messages N|none]\n"
	  "  maillab user reset [-d DIR] NAME|--all [--yes]" },
	{ "alias", maillab_alias,
	  "maillab alias add|del|list [-d DIR] [NAME [TARGET...]]" },
	{ "trace", maillab_trace,
	  "maillab trace list|follow|show [-d DIR] [ID] [--explain] [--html]" },
	{ "queue", maillab_queue, "maillab queue list|show|flush|del [-d DIR] [ID] [--silent]" },
	{ "lab", maillab_lab,
	  "maillab lab list | start N [-d DIR] [--port-offset K] | check N [-d DIR]" },
	{ "version", subcommand_version, "maillab version" },
	{ "help", subcommand_help, "maillab help [COMMAND]" },
};
#define N_SUBCOMMANDS (sizeof(subcommands) / sizeof(subcommands[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage:\n");
	for (size_t i = 0; i < N_SUBCOMMANDS; i++)
		fprintf(f, "  %s\n", subcommands[i].usage);
}

static int subcommand_version(int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		usage(stderr);
		return 2;
	}
	printf("maillab %s\n", MAILLAB_VERSION);
	return 0;
}

static int subcommand_help(int argc, char **argv)
{
	if (argc == 1) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < N_SUBCOMMANDS; i++) {
		if (argc == 2 && strcmp(argv[1], subcommands[i].name) == 0) {
			printf("usage: %s\n", subcommands[i].usage);
			return 0;
		}
	}
	usage(stderr);
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	for (size_t i = 0; i < N_SUBCOMMANDS; i++) {
		if (strcmp(argv[1], subcommands[i].name) == 0)
			return subcommands[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "maillab: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
