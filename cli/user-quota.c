/* maillab user quota NAME [SIZE|none] [--messages N|none], and the
 * --quota/--messages options of `user add` (RFC 9208 STORAGE and MESSAGE
 * limits, kept in the user's record in users.db: see common/quota.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/user-int.h"
#include "maildir/mailbox.h"
#include "maildir/quota.h"

/* One limit from text ("none" is 0). */
static int take_limit(const char *text, bool size, uint64_t *out)
{
	char err[256];
	int r;

	if (strcmp(text, "none") == 0) {
		*out = 0;
		return 0;
	}
	r = size ? quota_parse_size(text, out, err, sizeof(err)) :
		quota_parse_count(text, out, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "maillab: %s: %s\n", size ? "quota" : "messages",
			err);
		return 2;
	}
	return 0;
}

int user_quota_args(const struct user_args *a, const struct user_quota *old,
		    struct user_quota *q)
{
	const char *size = a->value != NULL ? a->value : a->quota;

	if (old != NULL)
		*q = *old;
	else
		memset(q, 0, sizeof(*q));
	if (size != NULL && take_limit(size, true, &q->storage) != 0)
		return 2;
	if (a->messages != NULL && take_limit(a->messages, false, &q->messages) != 0)
		return 2;
	return 0;
}

static void print_limits(const char *name, const struct user_quota *q)
{
	char size[32];

	quota_format_size(q->storage, size, sizeof(size));
	printf("quota of %s: storage %s", name, size);
	if (q->messages != 0)
		printf(", messages %" PRIu64 "\n", q->messages);
	else
		printf(", messages none\n");
}

static int set_limits(struct userdb *db, const struct user_args *a,
		      const char *name, const struct user_quota *q)
{
	char err[512];

	if (userdb_set_quota(db, name, q, err, sizeof(err)) < 0) {
		fprintf(stderr, "maillab: %s/db/users.db: %s\n", a->dir, err);
		return 1;
	}
	print_limits(name, q);
	return 0;
}

int user_add_limits(struct userdb *db, const struct user_args *a,
		    const char *name)
{
	struct user_quota q;

	if (a->quota == NULL && a->messages == NULL)
		return 0;
	if (user_quota_args(a, NULL, &q) != 0)
		return 1;	/* checked before anything was done */
	return set_limits(db, a, name, &q);
}

/* "12 KiB used of 51200 KiB (50M), 0%" */
static void print_usage_line(const char *what, uint64_t used, uint64_t limit,
			     bool size)
{
	char text[32];

	if (size)
		printf("  %-9s %" PRIu64 " KiB used", what, quota_kib(used));
	else
		printf("  %-9s %" PRIu64 " used", what, used);
	if (limit == 0) {
		printf(", no limit\n");
		return;
	}
	quota_format_size(limit, text, sizeof(text));
	if (size)
		printf(" of %" PRIu64 " KiB (%s)", quota_kib(limit), text);
	else
		printf(" of %" PRIu64, limit);
	printf(", %.0f%%\n", (double)used * 100.0 / (double)limit);
}

static int show_usage(const struct user_args *a, const struct user_quota *q)
{
	struct maildir_store *store;
	struct maildir_usage u;
	char *root = user_mail_root(a->dir), err[512];
	int ret = 1;

	if (maildir_store_open(root, a->name, &store, err, sizeof(err)) < 0) {
		fprintf(stderr, "maillab: %s/%s: %s\n", root, a->name, err);
		goto out;
	}
	if (maildir_usage(store, &u, err, sizeof(err)) < 0) {
		fprintf(stderr, "maillab: %s/%s: %s\n", root, a->name, err);
	} else {
		printf("%s\n", a->name);
		print_usage_line("storage", u.bytes, q->storage, true);
		print_usage_line("messages", u.messages, q->messages, false);
		ret = 0;
	}
	maildir_store_close(&store);
out:
	free(root);
	return ret;
}

int user_quota(struct userdb *db, const struct user_args *a)
{
	struct user_quota old, q;
	int r = userdb_quota(db, a->name, &old);

	if (r <= 0) {
		fprintf(stderr, "maillab: %s/db/users.db: %s%s\n", a->dir,
			r < 0 ? "cannot read user " : "no such user: ", a->name);
		return 1;
	}
	if (a->value == NULL && a->messages == NULL)
		return show_usage(a, &old);
	if (user_quota_args(a, &old, &q) != 0)
		return 2;
	return set_limits(db, a, a->name, &q);
}
