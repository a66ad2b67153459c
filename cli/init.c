/* maillab init DIR [--domain D] [--hostname H] [--demo]
 * Run as root, it hands the new instance to the run_as user
 * (cli/run-as.h), creating the maillab account when needed. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/instance.h"
#include "cli/run-as.h"
#include "common/config.h"
#include "common/users.h"

static const char init_usage[] =
	"usage: maillab init DIR [--domain D] [--hostname H] [--demo]\n"
	"  Creates the instance directory DIR: maillab.conf (every key\n"
	"  documented), a self-signed certificate, the user database, mail,\n"
	"  queue and log directories.\n"
	"  --domain D    local mail domain(s), comma-separated (default lab.test)\n"
	"  --hostname H  server name for greetings and the certificate\n"
	"                (default: this machine's name)\n"
	"  --demo        add users alice and bob with random passwords, saved\n"
	"                in DIR/credentials.txt (mode 0600)\n";

struct init_args {
	const char *dir;
	const char *domain;
	const char *hostname;
	bool demo;
};

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "maillab init: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%s", init_usage);
	return 2;
}

/* Takes "--opt VALUE" or "--opt=VALUE" at argv[*i]; 1 matched, 0 not this
 * option, -1 usage error. */
static int take_value(int argc, char **argv, int *i, const char *opt,
		      const char **value)
{
	size_t len = strlen(opt);
	const char *a = argv[*i];

	if (strncmp(a, opt, len) != 0 || (a[len] != '\0' && a[len] != '='))
		return 0;
	if (*value != NULL)
		return -1;
	if (a[len] == '=') {
		*value = a + len + 1;
	} else {
		if (*i + 1 >= argc)
			return -1;
		*value = argv[++*i];
	}
	return **value == '\0' ? -1 : 1;
}

/* -1 when init should go ahead with `args`; otherwise the exit status
 * (0 after --help, 2 after a usage error). */
static int parse_args(int argc, char **argv, struct init_args *args)
{
	*args = (struct init_args){ 0 };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int r;

		if ((r = take_value(argc, argv, &i, "--domain", &args->domain)) ||
		    (r = take_value(argc, argv, &i, "--hostname",
				    &args->hostname))) {
			if (r < 0)
				return usage_error("%s needs one non-empty value", a);
			continue;
		}
		if (strcmp(a, "--demo") == 0) {
			args->demo = true;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(init_usage, stdout);
			return 0;
		} else if (a[0] == '-' && a[1] != '\0') {
			return usage_error("unknown option '%s'", a);
		} else if (args->dir != NULL) {
			return usage_error("unexpected argument '%s'", a);
		} else {
			args->dir = a;
		}
	}
	if (args->dir == NULL)
		return usage_error("%smissing DIR", "");
	return -1;
}

int maillab_init(int argc, char **argv)
{
	struct init_args args;
	struct userdb *users;
	struct config cfg;
	char err[1024];
	int ret;

	ret = parse_args(argc, argv, &args);
	if (ret >= 0)
		return ret;
	if (instance_init(args.dir, args.domain, args.hostname, args.demo,
			  stdout, err, sizeof(err)) < 0) {
		fprintf(stderr, "maillab init: %s\n", err);
		return 1;
	}
	if (config_load(&cfg, args.dir, err, sizeof(err)) < 0 ||
	    (users = userdb_open(args.dir, err, sizeof(err))) == NULL) {
		fprintf(stderr, "maillab init: %s\n", err);
		config_free(&cfg);
		return 1;
	}
	printf("\n");
	instance_print_info(&cfg, users, stdout);
	userdb_close(&users);
	/* Last, so that the database files opened above are handed over too. */
	if (run_as_hand_over(&cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "maillab init: %s\n", err);
		config_free(&cfg);
		return 1;
	}
	printf("\nStart it with: maillab serve -d %s\n", args.dir);
	config_free(&cfg);
	return 0;
}
