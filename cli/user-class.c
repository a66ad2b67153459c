/* Classroom mode: maillab user add --from-file FILE (one user per name in
 * the file, random passwords handed out as a table and appended to
 * DIR/credentials.txt, mode 0600) and maillab user reset NAME|--all
 * (empty the mailboxes, keep the accounts). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli/instance.h"
#include "cli/roster.h"
#include "cli/user-int.h"
#include "common/xalloc.h"
#include "maildir/mailbox.h"
#include "maildir/quota.h"
#include "maildir/user.h"

struct added {
	char name[USER_NAME_MAX + 1];
	char password[INSTANCE_PASSWORD_LEN + 1];
};

/* One new user with a random password.  0, or 1 after printing why. */
static int add_one(struct userdb *db, const struct user_args *a,
		   const char *root, const struct user_quota *q,
		   struct added *out)
{
	char err[512], err2[512];

	snprintf(out->name, sizeof(out->name), "%s", a->name);
	if (instance_random_password(out->password, err, sizeof(err)) < 0 ||
	    userdb_add(db, a->name, out->password, err, sizeof(err)) < 0) {
		fprintf(stderr, "maillab: %s/db/users.db: %s: %s\n", a->dir,
			a->name, err);
		return 1;
	}
	if (maildir_user_create(root, a->name, err, sizeof(err)) < 0) {
		fprintf(stderr, "maillab: %s/%s: %s\n", root, a->name, err);
		if (userdb_del(db, a->name, err2, sizeof(err2)) < 0)
			fprintf(stderr, "maillab: %s/db/users.db: %s\n",
				a->dir, err2);
		return 1;
	}
	if ((q->storage != 0 || q->messages != 0) &&
	    userdb_set_quota(db, a->name, q, err, sizeof(err)) < 0) {
		fprintf(stderr, "maillab: %s/db/users.db: %s\n", a->dir, err);
		return 1;
	}
	return user_store_apop_secret(db, a->dir, a->name, out->password);
}

/* Appends "name password" lines to DIR/credentials.txt (made 0600 if it
 * was not), fsync'd.  0, or 1 after printing why. */
static int save_credentials(const char *dir, const struct added *v, size_t n)
{
	struct buf path = BUF_INIT(BUF_UNLIMITED), text = BUF_INIT(BUF_UNLIMITED);
	int fd, ret = 1;

	buf_printf(&path, "%s/credentials.txt", dir);
	for (size_t i = 0; i < n; i++)
		buf_printf(&text, "%s %s\n", v[i].name, v[i].password);
	fd = open(path.data, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
		  O_CLOEXEC, 0600);
	if (fd < 0 || fchmod(fd, 0600) < 0 ||
	    write(fd, text.data, text.len) != (ssize_t)text.len ||
	    fsync(fd) < 0)
		fprintf(stderr, "maillab: %s: %s\n", path.data, strerror(errno));
	else
		ret = 0;
	if (fd >= 0 && close(fd) < 0 && ret == 0) {
		fprintf(stderr, "maillab: %s: %s\n", path.data, strerror(errno));
		ret = 1;
	}
	OPENSSL_cleanse(text.data, text.len);
	buf_free(&text);
	buf_free(&path);
	return ret;
}

static void print_table(const struct added *v, size_t n)
{
	printf("%-24s %s\n", "user", "password");
	for (size_t i = 0; i < n; i++)
		printf("%-24s %s\n", v[i].name, v[i].password);
}

int user_add_from_file(struct userdb *db, const struct user_args *a)
{
	struct user_args one = *a;
	struct roster r;
	struct user_quota q;
	struct added *added;
	size_t n_added = 0, n_skipped = 0;
	char *root;
	int ret = 0;

	if (roster_parse(a->from_text, a->from_len, a->from_file, &r) > 0) {
		fputs(buf_cstr(&r.errors), stderr);
		fprintf(stderr, "maillab: %s: %zu bad line%s; no user added\n",
			a->from_file, r.n_errors, r.n_errors == 1 ? "" : "s");
		roster_free(&r);
		return 1;
	}
	user_quota_args(a, NULL, &q);	/* checked before */
	root = user_mail_root(a->dir);
	added = xcalloc(r.n + 1, sizeof(*added));
	for (size_t i = 0; i < r.n && ret == 0; i++) {
		int exists = userdb_exists(db, r.v[i].name);

		one.name = r.v[i].name;
		if (exists < 0) {
			fprintf(stderr, "maillab: %s/db/users.db: cannot read\n",
				a->dir);
			ret = 1;
		} else if (exists) {
			printf("%s:%u: user %s exists: left as it is\n",
			       a->from_file, r.v[i].line, r.v[i].name);
			n_skipped++;
		} else if ((ret = add_one(db, &one, root, &q,
					  &added[n_added])) == 0) {
			n_added++;
		}
	}
	if (n_added > 0) {
		if (save_credentials(a->dir, added, n_added) != 0)
			ret = 1;
		print_table(added, n_added);
	}
	printf("%zu user%s added, %zu existing left alone%s%s%s\n", n_added,
	       n_added == 1 ? "" : "s", n_skipped,
	       n_added > 0 ? "; passwords also in " : "",
	       n_added > 0 ? a->dir : "",
	       n_added > 0 ? "/credentials.txt (mode 0600)" : "");
	OPENSSL_cleanse(added, (r.n + 1) * sizeof(*added));
	free(added);
	free(root);
	roster_free(&r);
	return ret;
}

/* --- reset --- */

static void collect(const char *name, void *arg)
{
	struct roster *names = arg;

	names->v = xreallocarray(names->v, names->n + 1, sizeof(*names->v));
	names->v[names->n].name = xstrdup(name);
	names->v[names->n].line = 0;
	names->n++;
}

static int reset_one(const char *root, const char *name)
{
	struct maildir_store *store = NULL;
	struct maildir_usage u = { 0, 0 };
	char err[512];
	int ret = 1;

	/* a missing mailbox (or standard folder) is made first */
	if (maildir_user_create(root, name, err, sizeof(err)) < 0 ||
	    maildir_store_open(root, name, &store, err, sizeof(err)) < 0 ||
	    maildir_usage(store, &u, err, sizeof(err)) < 0 ||
	    maildir_user_reset(store, err, sizeof(err)) < 0) {
		fprintf(stderr, "maillab: %s/%s: %s\n", root, name, err);
	} else {
		printf("mailbox of %s emptied: %" PRIu64 " message%s, %" PRIu64
		       " KiB removed\n", name, u.messages,
		       u.messages == 1 ? "" : "s", quota_kib(u.bytes));
		ret = 0;
	}
	maildir_store_close(&store);
	return ret;
}

int user_reset(struct userdb *db, const struct user_args *a)
{
	struct roster names;
	char question[160], *root;
	int ret = 0;

	memset(&names, 0, sizeof(names));
	buf_init(&names.errors, BUF_UNLIMITED);
	if (a->all ? userdb_list(db, collect, &names) < 0 :
	    userdb_exists(db, a->name) < 0) {
		fprintf(stderr, "maillab: %s/db/users.db: cannot read\n", a->dir);
		roster_free(&names);
		return 1;
	}
	if (!a->all) {
		if (userdb_exists(db, a->name) == 0) {
			fprintf(stderr, "maillab: %s/db/users.db: no such user: "
				"%s\n", a->dir, a->name);
			roster_free(&names);
			return 1;
		}
		collect(a->name, &names);
	}
	if (a->all)
		snprintf(question, sizeof(question), "remove every message and "
			 "folder of all %zu users (accounts are kept)?", names.n);
	else
		snprintf(question, sizeof(question), "remove every message and "
			 "folder of %s (the account is kept)?", a->name);
	if (names.n > 0 && !a->yes && !user_confirm(question)) {
		printf("nothing removed\n");
		roster_free(&names);
		return 0;
	}
	root = user_mail_root(a->dir);
	for (size_t i = 0; i < names.n; i++)
		if (reset_one(root, names.v[i].name) != 0)
			ret = 1;
	free(root);
	roster_free(&names);
	return ret;
}

int user_read_from_file(struct user_args *a, struct buf *text)
{
	char chunk[8192];
	ssize_t n;
	int fd = open(a->from_file, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "maillab: %s: %s\n", a->from_file,
			strerror(errno));
		return 1;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || text->len + (size_t)n > ROSTER_MAX_BYTES) {
			fprintf(stderr, "maillab: %s: %s\n", a->from_file,
				n < 0 ? strerror(errno) :
				"larger than 1 MiB: not a list of names");
			close(fd);
			return 1;
		}
		buf_append(text, chunk, (size_t)n);
	}
	close(fd);
	a->from_text = text->data != NULL ? text->data : "";
	a->from_len = text->len;
	return 0;
}
