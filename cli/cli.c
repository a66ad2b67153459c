/* Helpers shared by the `maillab` subcommands. */
#include <string.h>

#include "cli/cli.h"

/* Removes argv[i .. i+n-1], keeping argv[argc] == NULL. */
static void remove_args(int *argc, char **argv, int i, int n)
{
	memmove(&argv[i], &argv[i + n],
		(size_t)(*argc - i - n + 1) * sizeof(argv[0]));
	*argc -= n;
}

const char *cli_take_dir(int *argc, char **argv)
{
	const char *dir = DEFAULT_INSTANCE_DIR;
	int i = 1;

	while (i < *argc) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0)
			break;
		if ((strcmp(a, "-d") == 0 || strcmp(a, "--dir") == 0) &&
		    i + 1 < *argc) {
			dir = argv[i + 1];
			remove_args(argc, argv, i, 2);
		} else if (strncmp(a, "--dir=", 6) == 0 && a[6] != '\0') {
			dir = a + 6;
			remove_args(argc, argv, i, 1);
		} else if (strncmp(a, "-d", 2) == 0 && a[2] != '\0') {
			dir = a + 2;
			remove_args(argc, argv, i, 1);
		} else {
			/* A "-d" with nothing after it stays, so the command
			 * reports it as a usage error. */
			i++;
		}
	}
	return dir;
}
