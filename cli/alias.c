/* maillab alias add|del|list [-d DIR] ...
 *
 *   add  NAME TARGET...     adds targets to alias NAME (creating it)
 *   del  NAME [TARGET...]   removes the targets, or the whole alias
 *   list [NAME]             "name: target, target" per alias
 *
 * A target is a user, another alias, or an address.  Works while `maillab
 * serve` runs (the Berkeley DB environment is shared): a change applies to
 * the next RCPT. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/instance.h"
#include "cli/run-as.h"
#include "common/buf.h"
#include "common/config.h"
#include "common/users.h"
#include "smtpd/address.h"
#include "smtpd/aliases.h"

#define USAGE "usage: maillab alias add|del|list [-d DIR] [NAME [TARGET...]]\n"

struct alias_cli {
	const char *dir;
	struct config cfg;
	struct userdb *users;
	struct alias_db *aliases;
};

static int cli_user_exists(void *arg, const char *name)
{
	struct alias_cli *c = arg;

	return userdb_exists(c->users, name);
}

static bool cli_is_local(void *arg, const char *domain)
{
	struct alias_cli *c = arg;

	return config_is_local_domain(&c->cfg, domain);
}

/* A target as stored: a lowercase name, or an address checked against
 * RFC 5321 4.1.2.  0, or -1 with a message on stderr. */
static int check_target(struct alias_cli *c, const char *target,
			struct buf *norm)
{
	struct smtp_path p;
	struct buf path = BUF_INIT(BUF_UNLIMITED);
	char *t, *old = NULL;
	size_t used, i;
	int ret = 0;

	buf_clear(norm);
	if (strchr(target, '@') != NULL) {
		buf_printf(&path, "<%s>", target);
		if (smtp_path_parse(path.data, path.len, false, false, true, &p,
				    &used) != PATH_OK || used != path.len ||
		    strchr(target, ',') != NULL) {
			fprintf(stderr, "maillab: invalid address '%s'\n", target);
			ret = -1;
		} else if (!c->cfg.alias_remote_targets &&
			   !config_is_local_domain(&c->cfg, strrchr(p.mailbox, '@') + 1)) {
			/* forwarding out would relay mail that anyone can
			 * send to the alias */
			fprintf(stderr, "maillab: %s is outside the local domains; "
				"set alias_remote_targets = yes in maillab.conf to let "
				"aliases forward there\n", target);
			ret = -1;
		} else {
			buf_puts(norm, target);
		}
		buf_free(&path);
		return ret;
	}
	buf_puts(norm, target);
	for (i = 0, t = norm->data; t[i] != '\0'; i++)
		if (t[i] >= 'A' && t[i] <= 'Z')
			t[i] = (char)(t[i] - 'A' + 'a');
	if (!alias_name_valid(t)) {
		fprintf(stderr, "maillab: invalid target name '%s'\n", target);
		return -1;
	}
	if (userdb_exists(c->users, t) == 1)
		return 0;
	if (alias_get(c->aliases, t, &old) == 1) {
		free(old);
		return 0;
	}
	fprintf(stderr, "maillab: '%s' is neither a user nor an alias\n", target);
	return -1;
}

/* Whether comma-separated `list` holds `item`. */
static bool list_has(const char *list, const char *item)
{
	size_t n = strlen(item);
	const char *p = list;

	while (*p != '\0') {
		size_t len = strcspn(p, ",");

		if (len == n && strncmp(p, item, n) == 0)
			return true;
		p += len;
		if (*p == ',')
			p++;
	}
	return false;
}

/* After a change: the alias must not lead back to itself. */
static int check_loops(struct alias_cli *c, const char *name)
{
	struct alias_resolver res = { cli_user_exists, cli_is_local, c };
	struct alias_expansion exp;
	int ret;

	ret = alias_expand(c->aliases, &res, name, &exp);
	if (ret < 0) {
		fprintf(stderr, "maillab: %s/db/aliases.db: read failed\n", c->dir);
		return -1;
	}
	ret = exp.loop || exp.too_many ? -1 : 0;
	if (exp.loop)
		fprintf(stderr, "maillab: alias %s would lead back to itself\n", name);
	else if (exp.too_many)
		fprintf(stderr, "maillab: alias %s would nest deeper than %d or "
			"reach more than %d users\n", name, ALIAS_MAX_DEPTH,
			ALIAS_MAX_USERS);
	alias_expansion_free(&exp);
	return ret;
}

/* Stores `targets` for name, or restores `old` when it makes a loop. */
static int store(struct alias_cli *c, const char *name, const char *targets,
		 const char *old)
{
	char err[256];

	if (alias_put(c->aliases, name, targets, err, sizeof(err)) < 0) {
		fprintf(stderr, "maillab: %s\n", err);
		return 1;
	}
	if (check_loops(c, name) < 0) {
		if (old != NULL)
			alias_put(c->aliases, name, old, err, sizeof(err));
		else
			alias_del(c->aliases, name, err, sizeof(err));
		return 1;
	}
	return 0;
}

static int alias_add(struct alias_cli *c, const char *name, int n,
		     char **targets)
{
	struct buf list = BUF_INIT(ALIAS_RECORD_MAX);
	struct buf norm = BUF_INIT(BUF_UNLIMITED);
	char *old = NULL;
	int i, ret = 1;

	if (userdb_exists(c->users, name) == 1) {
		fprintf(stderr, "maillab: a user named %s exists; an alias would "
			"hide that mailbox\n", name);
		return 1;
	}
	if (alias_get(c->aliases, name, &old) < 0) {
		fprintf(stderr, "maillab: %s/db/aliases.db: read failed\n", c->dir);
		return 1;
	}
	if (old != NULL)
		buf_puts(&list, old);
	for (i = 0; i < n; i++) {
		if (check_target(c, targets[i], &norm) < 0)
			goto out;
		if (list_has(buf_cstr(&list), norm.data))
			continue;
		if ((list.len > 0 && buf_putc(&list, ',') < 0) ||
		    buf_puts(&list, norm.data) < 0) {
			fprintf(stderr, "maillab: alias %s: more than %d bytes of "
				"targets\n", name, ALIAS_RECORD_MAX);
			goto out;
		}
	}
	ret = store(c, name, buf_cstr(&list), old);
out:
	free(old);
	buf_free(&list);
	buf_free(&norm);
	return ret;
}

static int alias_remove(struct alias_cli *c, const char *name, int n,
			char **targets)
{
	struct buf list = BUF_INIT(BUF_UNLIMITED);
	char err[256], *old = NULL, *p, *comma;
	int i, ret;

	if (n == 0) {
		if (alias_del(c->aliases, name, err, sizeof(err)) < 0) {
			fprintf(stderr, "maillab: %s\n", err);
			return 1;
		}
		return 0;
	}
	ret = alias_get(c->aliases, name, &old);
	if (ret <= 0) {
		fprintf(stderr, "maillab: no such alias: %s\n", name);
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (!list_has(old, targets[i])) {
			fprintf(stderr, "maillab: %s is not a target of %s\n",
				targets[i], name);
			free(old);
			return 1;
		}
	}
	for (p = old; p != NULL; p = comma != NULL ? comma + 1 : NULL) {
		bool drop = false;

		comma = strchr(p, ',');
		if (comma != NULL)
			*comma = '\0';
		for (i = 0; i < n && !drop; i++)
			drop = strcmp(p, targets[i]) == 0;
		if (!drop && *p != '\0') {
			if (list.len > 0)
				buf_putc(&list, ',');
			buf_puts(&list, p);
		}
	}
	free(old);
	if (list.len == 0)
		ret = alias_del(c->aliases, name, err, sizeof(err));
	else
		ret = alias_put(c->aliases, name, list.data, err, sizeof(err));
	buf_free(&list);
	if (ret < 0) {
		fprintf(stderr, "maillab: %s\n", err);
		return 1;
	}
	return 0;
}

struct list_ctx {
	const char *only;
	int found;
};

static void print_alias(const char *name, const char *targets, void *arg)
{
	struct list_ctx *ctx = arg;
	const char *p;

	if (ctx->only != NULL && strcmp(ctx->only, name) != 0)
		return;
	ctx->found++;
	printf("%s: ", name);
	for (p = targets; *p != '\0'; p++) {
		if (*p == ',')
			fputs(", ", stdout);
		else
			putchar(*p);
	}
	putchar('\n');
}

static int alias_print(struct alias_cli *c, const char *only)
{
	struct list_ctx ctx = { only, 0 };

	if (alias_list(c->aliases, print_alias, &ctx) < 0) {
		fprintf(stderr, "maillab: %s/db/aliases.db: read failed\n", c->dir);
		return 1;
	}
	if (only != NULL && ctx.found == 0) {
		fprintf(stderr, "maillab: no such alias: %s\n", only);
		return 1;
	}
	return 0;
}

static int open_instance(struct alias_cli *c)
{
	char err[512];

	if (!instance_exists(c->dir)) {
		fprintf(stderr, "maillab: %s/maillab.conf: no instance here "
			"(create one with: maillab init %s)\n", c->dir, c->dir);
		return -1;
	}
	if (run_as_instance_owner(c->dir, err, sizeof(err)) < 0 ||
	    config_load(&c->cfg, c->dir, err, sizeof(err)) < 0) {
		fprintf(stderr, "maillab: %s\n", err);
		return -1;
	}
	if ((c->users = userdb_open(c->dir, err, sizeof(err))) == NULL) {
		fprintf(stderr, "maillab: %s\n", err);
		return -1;
	}
	c->aliases = alias_db_open(userdb_env(c->users), err, sizeof(err));
	if (c->aliases == NULL) {
		fprintf(stderr, "maillab: %s\n", err);
		return -1;
	}
	return 0;
}

int maillab_alias(int argc, char **argv)
{
	struct alias_cli c;
	const char *action, *name;
	char lower[65];
	size_t i;
	int ret = 1;

	memset(&c, 0, sizeof(c));
	c.dir = cli_take_dir(&argc, argv);
	if (argc < 2)
		goto usage;
	action = argv[1];
	name = argc > 2 ? argv[2] : NULL;
	if (!((strcmp(action, "add") == 0 && argc >= 4) ||
	      (strcmp(action, "del") == 0 && argc >= 3) ||
	      (strcmp(action, "list") == 0 && argc <= 3)))
		goto usage;
	if (name != NULL) {
		for (i = 0; name[i] != '\0' && i < sizeof(lower) - 1; i++)
			lower[i] = name[i] >= 'A' && name[i] <= 'Z' ?
				(char)(name[i] - 'A' + 'a') : name[i];
		lower[i] = '\0';
		if (name[i] != '\0' || !alias_name_valid(lower)) {
			fprintf(stderr, "maillab: invalid alias name '%s': 1-64 of "
				"a-z 0-9 . _ + -, not starting with . or -\n", name);
			return 2;
		}
		name = lower;
	}
	if (open_instance(&c) == 0) {
		if (action[0] == 'a')
			ret = alias_add(&c, name, argc - 3, argv + 3);
		else if (action[0] == 'd')
			ret = alias_remove(&c, name, argc - 3, argv + 3);
		else
			ret = alias_print(&c, name);
	}
	alias_db_close(&c.aliases);
	userdb_close(&c.users);
	config_free(&c.cfg);
	return ret;
usage:
	fprintf(stderr, USAGE);
	return 2;
}
