/* maillab user add|del|passwd|list|quota|reset [-d DIR] [NAME] ...
 *   (the usage text below; quota in cli/user-quota.c, add --from-file and
 *   reset in cli/user-class.c)
 *
 * Works on the instance's user database while `maillab serve` may be
 * running: the Berkeley DB environment is shared (common/dbenv.h), so a new
 * user or password takes effect at the next login. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/instance.h"
#include "cli/run-as.h"
#include "cli/user-int.h"
#include "common/buf.h"
#include "common/config.h"
#include "common/users.h"
#include "maildir/user.h"

#define USAGE "usage: maillab user add|del|passwd|list [-d DIR] [NAME] " \
	"[--password-stdin] [--yes]\n" \
	"       maillab user add [-d DIR] NAME|--from-file FILE " \
	"[--quota SIZE] [--messages N]\n" \
	"       maillab user quota [-d DIR] NAME [SIZE|none] " \
	"[--messages N|none]\n" \
	"       maillab user reset [-d DIR] NAME|--all [--yes]\n" \
	"SIZE: a number of bytes with an optional unit K, M, G or T " \
	"(e.g. 50M)\n"

/* --- reading a password --- */

/* The terminal state to restore if a signal arrives while echo is off. */
static int tty_fd = -1;
static struct termios tty_saved;

static void restore_tty(int sig)
{
	tcsetattr(tty_fd, TCSAFLUSH, &tty_saved);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Reads one line from fd into b (no newline), byte by byte so nothing past
 * the line is consumed.  0, or -1 on EOF before any byte / read error /
 * over USER_PASSWORD_MAX. */
static int read_line(int fd, struct buf *b)
{
	char c;
	ssize_t n;

	for (;;) {
		n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return b->len > 0 ? 0 : -1;
		if (c == '\n')
			break;
		if (buf_putc(b, c) < 0)
			return -1;
	}
	if (b->len > 0 && b->data[b->len - 1] == '\r')
		buf_truncate(b, b->len - 1);
	return 0;
}

static void wipe_buf(struct buf *b)
{
	if (b->data != NULL)
		explicit_bzero(b->data, b->cap);
	buf_free(b);
}

/* Prompts on fd with echo off and reads one line. */
static int prompt_hidden(int fd, const char *prompt, struct buf *out)
{
	struct termios quiet;
	int ret;

	if (tcgetattr(fd, &tty_saved) < 0)
		return -1;
	quiet = tty_saved;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	tty_fd = fd;
	signal(SIGINT, restore_tty);
	signal(SIGTERM, restore_tty);
	signal(SIGHUP, restore_tty);
	if (write(fd, prompt, strlen(prompt)) < 0 ||
	    tcsetattr(fd, TCSAFLUSH, &quiet) < 0) {
		ret = -1;
	} else {
		ret = read_line(fd, out);
		tcsetattr(fd, TCSAFLUSH, &tty_saved);
	}
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	tty_fd = -1;
	return ret;
}

/* The new password for `name`, into pw: one line of stdin, or typed twice
 * on /dev/tty.  0, or -1 after printing the reason. */
static int get_password(const struct user_args *a, struct buf *pw)
{
	struct buf again = BUF_INIT(USER_PASSWORD_MAX);
	char prompt[128];
	int fd, ret = -1;

	if (a->password_stdin) {
		if (read_line(STDIN_FILENO, pw) < 0) {
			fprintf(stderr, "maillab: stdin: no password line "
				"(at most %d bytes)\n", USER_PASSWORD_MAX);
			return -1;
		}
		return 0;
	}
	fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "maillab: /dev/tty: %s (use --password-stdin)\n",
			strerror(errno));
		return -1;
	}
	snprintf(prompt, sizeof(prompt), "New password for %s: ", a->name);
	if (prompt_hidden(fd, prompt, pw) < 0 ||
	    prompt_hidden(fd, "Retype the password: ", &again) < 0)
		fprintf(stderr, "maillab: /dev/tty: no password read\n");
	else if (pw->len != again.len ||
		 memcmp(buf_cstr(pw), buf_cstr(&again), pw->len) != 0)
		fprintf(stderr, "maillab: the passwords do not match\n");
	else
		ret = 0;
	wipe_buf(&again);
	close(fd);
	return ret;
}

/* --- the actions --- */

char *user_mail_root(const char *dir)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);

	buf_printf(&b, "%s/mail", dir);
	return buf_steal(&b);
}

/* Before asking for a password: does the user exist as the action needs?
 * 0, or 1 after printing why not. */
static int precheck(struct userdb *db, const struct user_args *a)
{
	bool adding = strcmp(a->action, "add") == 0;
	int exists = userdb_exists(db, a->name);

	if (exists < 0) {
		fprintf(stderr, "maillab: %s/db/users.db: cannot read\n",
			a->dir);
		return 1;
	}
	if (adding && exists) {
		fprintf(stderr, "maillab: %s/db/users.db: user %s exists\n",
			a->dir, a->name);
		return 1;
	}
	if (!adding && !exists) {
		fprintf(stderr, "maillab: %s/db/users.db: no such user: %s\n",
			a->dir, a->name);
		return 1;
	}
	return 0;
}

static int user_add(struct userdb *db, const struct user_args *a,
		    const char *password)
{
	char err[512], err2[512];
	char *root = user_mail_root(a->dir);
	int ret = 1;

	if (userdb_add(db, a->name, password, err, sizeof(err)) < 0) {
		fprintf(stderr, "maillab: %s/db/users.db: %s\n", a->dir, err);
		goto out;
	}
	if (maildir_user_create(root, a->name, err, sizeof(err)) < 0) {
		fprintf(stderr, "maillab: %s/%s: %s\n", root, a->name, err);
		/* no user without a mailbox */
		if (userdb_del(db, a->name, err2, sizeof(err2)) < 0)
			fprintf(stderr, "maillab: %s/db/users.db: %s\n",
				a->dir, err2);
		goto out;
	}
	printf("user %s added, mail in %s/%s\n", a->name, root, a->name);
	ret = user_add_limits(db, a, a->name);
out:
	free(root);
	return ret;
}

static int user_passwd(struct userdb *db, const struct user_args *a,
		       const char *password)
{
	char err[512];

	if (userdb_passwd(db, a->name, password, err, sizeof(err)) < 0) {
		fprintf(stderr, "maillab: %s/db/users.db: %s\n", a->dir, err);
		return 1;
	}
	printf("password of %s changed\n", a->name);
	return 0;
}

/* With pop3_apop on, the password is also stored in a reversible form for
 * POP3 APOP (common/users.h says what that costs).  The config is read
 * here rather than trusted from the caller, so that turning pop3_apop on
 * takes effect at the next add/passwd.  0, or 1 after printing why. */
int user_store_apop_secret(struct userdb *db, const char *dir,
			   const char *name, const char *password)
{
	struct config cfg;
	char err[512];
	int ret = 0;

	if (config_load(&cfg, dir, err, sizeof(err)) < 0) {
		fprintf(stderr, "maillab: %s\n", err);
		config_free(&cfg);
		return 1;
	}
	if (cfg.pop3_apop) {
		if (userdb_set_apop_secret(db, name, password, err,
					   sizeof(err)) < 0) {
			fprintf(stderr, "maillab: %s/db/users.db: %s\n",
				dir, err);
			ret = 1;
		} else {
			printf("pop3_apop is on: the password of %s is also "
			       "stored in a reversible form for APOP\n",
			       name);
		}
	}
	config_free(&cfg);
	return ret;
}

bool user_confirm(const char *question)
{
	struct buf answer = BUF_INIT(64);
	bool yes;

	printf("%s [y/N] ", question);
	fflush(stdout);
	yes = read_line(STDIN_FILENO, &answer) == 0 &&
		(strcasecmp(buf_cstr(&answer), "y") == 0 ||
		 strcasecmp(buf_cstr(&answer), "yes") == 0);
	buf_free(&answer);
	return yes;
}

static int user_del(struct userdb *db, const struct user_args *a)
{
	char err[512], question[128], *root = user_mail_root(a->dir), *home;
	struct buf path = BUF_INIT(BUF_UNLIMITED);
	struct stat st;
	bool has_mail;
	int ret = 1;

	buf_printf(&path, "%s/%s", root, a->name);
	home = path.data;
	has_mail = lstat(home, &st) == 0;
	if (userdb_del(db, a->name, err, sizeof(err)) == 0) {
		printf("user %s deleted\n", a->name);
	} else if (has_mail && userdb_exists(db, a->name) == 0) {
		/* the mail kept by an earlier `del`: offer to remove it */
		printf("no user %s, but mail is left in %s\n", a->name, home);
	} else {
		fprintf(stderr, "maillab: %s/db/users.db: %s\n", a->dir, err);
		goto out;
	}
	ret = 0;
	if (!has_mail)
		goto out;
	snprintf(question, sizeof(question), "remove mail of %s?", a->name);
	if (!a->yes && !user_confirm(question)) {
		printf("mail kept in %s\n", home);
		goto out;
	}
	if (maildir_user_remove(root, a->name, err, sizeof(err)) < 0) {
		fprintf(stderr, "maillab: %s: %s\n", home, err);
		ret = 1;
		goto out;
	}
	printf("mail of %s removed\n", a->name);
out:
	buf_free(&path);
	free(root);
	return ret;
}

static void print_name(const char *name, void *arg)
{
	(void)arg;
	printf("%s\n", name);
}

static int user_list(struct userdb *db, const struct user_args *a)
{
	if (userdb_list(db, print_name, NULL) < 0) {
		fprintf(stderr, "maillab: %s/db/users.db: cannot read\n",
			a->dir);
		return 1;
	}
	return 0;
}

/* --- arguments --- */

/* The value after option argv[*i]: NULL when missing. */
static const char *option_value(int argc, char **argv, int *i)
{
	return *i + 1 < argc ? argv[++*i] : NULL;
}

/* Options and positionals into a; -1 on anything unknown. */
static int scan_args(int argc, char **argv, struct user_args *a)
{
	const char **slot;

	for (int i = 2; i < argc; i++) {
		const char *o = argv[i];

		if (strcmp(o, "--password-stdin") == 0)
			a->password_stdin = true;
		else if (strcmp(o, "--yes") == 0 || strcmp(o, "-y") == 0)
			a->yes = true;
		else if (strcmp(o, "--all") == 0)
			a->all = true;
		else if ((slot = strcmp(o, "--from-file") == 0 ? &a->from_file :
			  strcmp(o, "--quota") == 0 ? &a->quota :
			  strcmp(o, "--messages") == 0 ? &a->messages :
			  NULL) != NULL) {
			if (*slot != NULL ||
			    (*slot = option_value(argc, argv, &i)) == NULL)
				return -1;
		} else if (o[0] == '-' && !(a->name != NULL && a->value == NULL &&
					    o[1] >= '0' && o[1] <= '9')) {
			return -1;	/* "-5" passes on, to be refused as
					 * negative with its reason */
		} else if (a->name == NULL) {
			a->name = o;
		} else if (a->value == NULL) {
			a->value = o;	/* quota's SIZE */
		} else {
			return -1;
		}
	}
	return 0;
}

/* Which options each action takes: 0, or -1 (usage). */
static int check_args(const struct user_args *a)
{
	const char *act = a->action;
	bool limits = a->quota != NULL || a->messages != NULL;
	bool named = a->name != NULL;

	if (a->value != NULL && strcmp(act, "quota") != 0)
		return -1;
	if (strcmp(act, "list") == 0)
		return !named && !a->password_stdin && !a->yes && !a->all &&
			!limits && a->from_file == NULL ? 0 : -1;
	if (a->all && strcmp(act, "reset") != 0)
		return -1;
	if (a->from_file != NULL && strcmp(act, "add") != 0)
		return -1;
	if (strcmp(act, "add") == 0)
		return named != (a->from_file != NULL) && !a->yes &&
			!(a->from_file != NULL && a->password_stdin) ? 0 : -1;
	if (strcmp(act, "reset") == 0)
		return named != a->all && !a->password_stdin && !limits ? 0 : -1;
	if (!named || a->all)
		return -1;
	if (strcmp(act, "del") == 0)
		return !a->password_stdin && !limits ? 0 : -1;
	if (strcmp(act, "passwd") == 0)
		return !a->yes && !limits ? 0 : -1;
	if (strcmp(act, "quota") == 0)
		return !a->yes && !a->password_stdin && a->quota == NULL ? 0 : -1;
	return -1;
}

static int parse_args(int argc, char **argv, struct user_args *a)
{
	memset(a, 0, sizeof(*a));
	a->dir = cli_take_dir(&argc, argv);
	if (argc < 2)
		return -1;
	a->action = argv[1];
	if (scan_args(argc, argv, a) < 0)
		return -1;
	return check_args(a);
}

/* The actions that need no password: with the database open. */
static int run_without_password(struct userdb *db, const struct user_args *a)
{
	if (strcmp(a->action, "del") == 0)
		return user_del(db, a);
	if (strcmp(a->action, "quota") == 0)
		return user_quota(db, a);
	if (strcmp(a->action, "reset") == 0)
		return user_reset(db, a);
	return user_list(db, a);
}

int maillab_user(int argc, char **argv)
{
	struct buf pw = BUF_INIT(USER_PASSWORD_MAX);
	struct buf file_text = BUF_INIT(BUF_UNLIMITED);
	struct user_args a;
	struct userdb *db;
	bool with_password;
	char err[512];
	int ret;

	if (parse_args(argc, argv, &a) < 0) {
		fprintf(stderr, USAGE);
		return 2;
	}
	with_password = (strcmp(a.action, "add") == 0 &&
			 a.from_file == NULL) || strcmp(a.action, "passwd") == 0;
	if (a.quota != NULL || a.messages != NULL || a.value != NULL) {
		struct user_quota q;

		/* bad sizes are usage errors, found before anything is done */
		if (user_quota_args(&a, NULL, &q) != 0)
			return 2;
	}
	if (a.name != NULL && !user_name_valid(a.name)) {
		fprintf(stderr, "maillab: invalid user name '%s': 1-%d of "
			"a-z 0-9 . _ -, not starting with . or -\n",
			a.name, USER_NAME_MAX);
		return 2;
	}
	if (!instance_exists(a.dir)) {
		fprintf(stderr, "maillab: %s/maillab.conf: no instance here "
			"(create one with: maillab init %s)\n", a.dir, a.dir);
		return 1;
	}
	if (a.from_file != NULL && user_read_from_file(&a, &file_text) != 0)
		return 1;
	if (run_as_instance_owner(a.dir, err, sizeof(err)) < 0 ||
	    (db = userdb_open(a.dir, err, sizeof(err))) == NULL) {
		fprintf(stderr, "maillab: %s\n", err);
		buf_free(&file_text);
		return 1;
	}
	if (a.from_file != NULL) {
		ret = user_add_from_file(db, &a);
		userdb_close(&db);
		buf_free(&file_text);
		return ret;
	}
	if (!with_password) {
		ret = run_without_password(db, &a);
		userdb_close(&db);
		return ret;
	}
	/* The database is not kept open while someone types a password. */
	ret = precheck(db, &a);
	userdb_close(&db);
	if (ret != 0)
		return ret;
	if (get_password(&a, &pw) < 0) {
		wipe_buf(&pw);
		return 1;
	}
	if ((db = userdb_open(a.dir, err, sizeof(err))) == NULL) {
		fprintf(stderr, "maillab: %s\n", err);
		ret = 1;
	} else if (strcmp(a.action, "add") == 0) {
		ret = user_add(db, &a, buf_cstr(&pw));
	} else {
		ret = user_passwd(db, &a, buf_cstr(&pw));
	}
	if (db != NULL && ret == 0)
		ret = user_store_apop_secret(db, a.dir, a.name, buf_cstr(&pw));
	userdb_close(&db);
	wipe_buf(&pw);
	return ret;
}
