/* Creating an instance directory, and telling people how to use it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "cli/instance.h"
#include "common/buf.h"
#include "common/certgen.h"
#include "common/config.h"
#include "common/users.h"
#include "common/xalloc.h"
#include "maildir/user.h"

/* Subdirectories made by init, in creation order. */
static const char *const instance_subdirs[] = {
	"tls", "db", "mail", "queue", "log", "log/trace",
};
#define N_SUBDIRS (sizeof(instance_subdirs) / sizeof(instance_subdirs[0]))

static const char *const demo_users[] = INSTANCE_DEMO_USERS;
#define N_DEMO_USERS (sizeof(demo_users) / sizeof(demo_users[0]))

struct demo_user {
	const char *name;
	char password[INSTANCE_PASSWORD_LEN + 1];
};

static char *path_in(const char *dir, const char *name)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);

	buf_printf(&b, "%s/%s", dir, name);
	return buf_steal(&b);
}

bool instance_exists(const char *dir)
{
	char *conf = path_in(dir, "maillab.conf");
	struct stat st;
	bool ret = stat(conf, &st) == 0;

	free(conf);
	return ret;
}

/* 1 empty, 0 not empty, -1 error (errno). */
static int dir_is_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int ret = 1;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			ret = 0;
			break;
		}
	}
	closedir(d);
	return ret;
}

/* mkdir -p for the parents of `dir` (mode 0755), not `dir` itself. */
static int make_parents(const char *dir, char *err_r, size_t errlen)
{
	char *path = xstrdup(dir);
	int ret = 0;

	for (char *p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		if (p[strspn(p, "/")] == '\0')
			break;		/* trailing slashes end `dir` itself */
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			snprintf(err_r, errlen, "%s: %s", path, strerror(errno));
			ret = -1;
			break;
		}
		*p = '/';
	}
	free(path);
	return ret;
}

/* Makes DIR, or accepts it when it is an empty directory.  *created tells
 * whether it was made here (and so may be removed on failure). */
static int make_instance_dir(const char *dir, bool *created, char *err_r,
			     size_t errlen)
{
	struct stat st;
	int empty;

	*created = false;
	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			snprintf(err_r, errlen, "%s: exists and is not a directory", dir);
			return -1;
		}
		if (instance_exists(dir)) {
			snprintf(err_r, errlen,
				 "%s: an instance already exists here (maillab.conf); not overwriting it",
				 dir);
			return -1;
		}
		empty = dir_is_empty(dir);
		if (empty <= 0) {
			snprintf(err_r, errlen, "%s: %s", dir, empty < 0 ?
				 strerror(errno) :
				 "directory is not empty; init needs a new or empty directory");
			return -1;
		}
		return 0;
	}
	if (errno != ENOENT) {
		snprintf(err_r, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (make_parents(dir, err_r, errlen) < 0)
		return -1;
	if (mkdir(dir, 0700) < 0) {
		snprintf(err_r, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	*created = true;
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int type,
		    struct FTW *ftw)
{
	(void)st;
	(void)type;
	/* Level 0 is DIR itself, removed (or kept) by the caller. */
	if (ftw->level > 0)
		remove(path);
	return 0;
}

/* Undoes a failed init: DIR was empty or new, so all it holds is ours. */
static void remove_partial(const char *dir, bool created)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (created)
		rmdir(dir);
}

static int make_subdirs(const char *dir, char *err_r, size_t errlen)
{
	for (size_t i = 0; i < N_SUBDIRS; i++) {
		char *path = path_in(dir, instance_subdirs[i]);

		if (mkdir(path, 0700) < 0) {
			snprintf(err_r, errlen, "%s: %s", path, strerror(errno));
			free(path);
			return -1;
		}
		free(path);
	}
	return 0;
}

/* INSTANCE_PASSWORD_LEN characters from a 64-letter URL-safe alphabet; one
 * random byte per character, masked to 6 bits, so every letter is equally
 * likely (96 bits in all).  No '-': a password starting with one is taken
 * for an option by command-line clients (swaks --auth-password -x...). */
int instance_random_password(char *out, char *err_r, size_t errlen)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";
	unsigned char bytes[INSTANCE_PASSWORD_LEN];

	if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
		snprintf(err_r, errlen, "RAND_bytes failed: no randomness for passwords");
		return -1;
	}
	for (size_t i = 0; i < sizeof(bytes); i++)
		out[i] = alphabet[bytes[i] & 63];
	out[INSTANCE_PASSWORD_LEN] = '\0';
	OPENSSL_cleanse(bytes, sizeof(bytes));
	return 0;
}

static int write_credentials(const char *dir, const struct demo_user *users,
			     char *err_r, size_t errlen)
{
	char *path = path_in(dir, "credentials.txt");
	struct buf text = BUF_INIT(BUF_UNLIMITED);
	int fd, ret = 0;

	for (size_t i = 0; i < N_DEMO_USERS; i++)
		buf_printf(&text, "%s %s\n", users[i].name, users[i].password);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err_r, errlen, "%s: %s", path, strerror(errno));
		ret = -1;
	} else {
		size_t off = 0;

		while (off < text.len && ret == 0) {
			ssize_t n = write(fd, text.data + off, text.len - off);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				ret = -1;
			else
				off += (size_t)n;
		}
		if (ret == 0 && fsync(fd) < 0)
			ret = -1;
		if (ret < 0)
			snprintf(err_r, errlen, "%s: %s", path, strerror(errno));
		if (close(fd) < 0 && ret == 0) {
			snprintf(err_r, errlen, "%s: %s", path, strerror(errno));
			ret = -1;
		}
	}
	OPENSSL_cleanse(text.data, text.len);
	buf_free(&text);
	free(path);
	return ret;
}

static int add_demo_users(const char *dir, struct demo_user *users,
			  char *err_r, size_t errlen)
{
	char *mail_root = path_in(dir, "mail");
	char *db_path = path_in(dir, "db");
	char msg[512];
	struct userdb *db;
	int ret = 0;

	db = userdb_open(dir, msg, sizeof(msg));
	if (db == NULL) {
		snprintf(err_r, errlen, "%s", msg);
		ret = -1;
	}
	for (size_t i = 0; i < N_DEMO_USERS && ret == 0; i++) {
		users[i].name = demo_users[i];
		ret = instance_random_password(users[i].password, err_r, errlen);
		if (ret == 0 &&
		    userdb_add(db, users[i].name, users[i].password, msg,
			       sizeof(msg)) < 0) {
			snprintf(err_r, errlen, "%s: adding user %s: %s",
				 db_path, users[i].name, msg);
			ret = -1;
		}
		if (ret == 0 &&
		    maildir_user_create(mail_root, users[i].name, msg,
					sizeof(msg)) < 0) {
			snprintf(err_r, errlen, "%s/%s: %s", mail_root,
				 users[i].name, msg);
			ret = -1;
		}
	}
	userdb_close(&db);
	if (ret == 0)
		ret = write_credentials(dir, users, err_r, errlen);
	free(mail_root);
	free(db_path);
	return ret;
}

/* Written under a temporary name and renamed, so that maillab.conf (what
 * instance_exists looks for) appears only complete, and only last. */
static int write_config(const char *dir, const char *hostname,
			const char *domain, char *err_r, size_t errlen)
{
	char *tmp = path_in(dir, ".maillab.conf.tmp");
	char *conf = path_in(dir, "maillab.conf");
	int ret = 0, fd;

	if (config_write_template(tmp, hostname, domain) < 0) {
		snprintf(err_r, errlen, "%s: %s", tmp, strerror(errno));
		ret = -1;
	} else if (rename(tmp, conf) < 0) {
		snprintf(err_r, errlen, "%s: %s", conf, strerror(errno));
		unlink(tmp);
		ret = -1;
	} else if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(fd);
		close(fd);
	}
	free(tmp);
	free(conf);
	return ret;
}

/* A value that goes into a config line must stay one line and contain no
 * comment; the parser then judges the rest. */
static bool fits_one_line(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s < 0x20 || *s == 0x7f || *s == '#')
			return false;
	}
	return true;
}

/* Checks --domain and --hostname with the configuration parser itself, so
 * init accepts exactly what maillab.conf accepts. */
static int check_arg(struct config *cfg, const char *option, const char *key,
		     const char *value, char *err_r, size_t errlen)
{
	struct buf line = BUF_INIT(BUF_UNLIMITED);
	char msg[512];
	const char *reason;
	int ret = 0;

	if (!fits_one_line(value)) {
		snprintf(err_r, errlen, "%s '%s': control characters and '#' are not allowed",
			 option, value);
		return -1;
	}
	buf_printf(&line, "%s = %s", key, value);
	if (config_parse(cfg, option, buf_cstr(&line), msg, sizeof(msg)) < 0) {
		/* msg is "OPTION:1: key: reason"; drop the line number. */
		size_t skip = strlen(option) + strlen(":1: ");

		reason = strncmp(msg, option, strlen(option)) == 0 &&
			 strlen(msg) > skip ? msg + skip : msg;
		snprintf(err_r, errlen, "%s: %s", option, reason);
		ret = -1;
	}
	buf_free(&line);
	return ret;
}

static void report_created(FILE *report, const char *dir, bool demo,
			   const struct demo_user *users)
{
	if (report == NULL)
		return;
	fprintf(report, "maillab: created instance %s\n", dir);
	if (!demo)
		return;
	fprintf(report,
		"Demo users (passwords shown only now; kept in %s/credentials.txt, mode 0600):\n",
		dir);
	for (size_t i = 0; i < N_DEMO_USERS; i++)
		fprintf(report, "  %-8s %s\n", users[i].name, users[i].password);
}

int instance_init(const char *dir, const char *domain, const char *hostname,
		  bool demo, FILE *report, char *err_r, size_t errlen)
{
	struct demo_user users[N_DEMO_USERS];
	struct config cfg;
	bool created;
	int ret = -1;

	memset(users, 0, sizeof(users));
	if (domain == NULL)
		domain = "lab.test";
	if (*dir == '\0') {
		snprintf(err_r, errlen, "instance directory name is empty");
		return -1;
	}
	config_defaults(&cfg, dir);
	if (check_arg(&cfg, "--domain", "domains", domain, err_r, errlen) < 0 ||
	    (hostname != NULL &&
	     check_arg(&cfg, "--hostname", "hostname", hostname, err_r,
		       errlen) < 0)) {
		config_free(&cfg);
		return -1;
	}
	if (make_instance_dir(dir, &created, err_r, errlen) < 0) {
		config_free(&cfg);
		return -1;
	}
	if (make_subdirs(dir, err_r, errlen) < 0 ||
	    certgen_write(cfg.tls_cert, cfg.tls_key, cfg.hostname, err_r,
			  errlen) < 0 ||
	    (demo && add_demo_users(dir, users, err_r, errlen) < 0) ||
	    write_config(dir, cfg.hostname, domain, err_r, errlen) < 0)
		remove_partial(dir, created);
	else
		ret = 0;
	if (ret == 0)
		report_created(report, dir, demo, users);
	OPENSSL_cleanse(users, sizeof(users));
	config_free(&cfg);
	return ret;
}

/* What each service is, in one phrase for the info listing. */
static const char *const service_role[SVC_COUNT] = {
	[SVC_SMTP] = "incoming mail for local domains (STARTTLS offered)",
	[SVC_SUBMISSION] = "sending mail: STARTTLS, then AUTH",
	[SVC_SUBMISSIONS] = "sending mail over implicit TLS (RFC 8314), AUTH",
	[SVC_POP3] = "POP3: STLS, then USER/PASS or AUTH",
	[SVC_POP3S] = "POP3 over implicit TLS",
	[SVC_IMAP] = "IMAP: STARTTLS, then LOGIN or AUTHENTICATE",
	[SVC_IMAPS] = "IMAP over implicit TLS",
};

/* A wildcard listen address is reached through loopback. */
static const char *connect_addr(const char *addr)
{
	if (strcmp(addr, "0.0.0.0") == 0)
		return "127.0.0.1";
	if (strcmp(addr, "::") == 0)
		return "::1";
	return addr;
}

/* "addr:port", IPv6 in brackets. */
static void host_port(struct buf *b, const char *addr, int port)
{
	addr = connect_addr(addr);
	if (strchr(addr, ':') != NULL)
		buf_printf(b, "[%s]:%d", addr, port);
	else
		buf_printf(b, "%s:%d", addr, port);
}

/* The first user named in credentials.txt, for the examples. */
static char *example_user(const char *credentials)
{
	char line[256];
	FILE *f = fopen(credentials, "r");
	char *user = NULL;

	if (f == NULL)
		return NULL;
	if (fgets(line, sizeof(line), f) != NULL) {
		size_t n = strcspn(line, " \t\r\n");

		if (n > 0)
			user = xstrndup(line, n);
	}
	fclose(f);
	return user;
}

static void print_services(const struct config *cfg, FILE *f)
{
	struct buf hp = BUF_INIT(BUF_UNLIMITED);

	fprintf(f, "\nServices:\n");
	for (int svc = 0; svc < SVC_COUNT; svc++) {
		if (cfg->port[svc] == 0) {
			fprintf(f, "  %-12s disabled (port_%s = 0)\n",
				service_name(svc), service_name(svc));
			continue;
		}
		for (size_t i = 0; i < cfg->n_listen; i++) {
			buf_clear(&hp);
			host_port(&hp, cfg->listen[i], cfg->port[svc]);
			fprintf(f, "  %-12s %-22s %s\n", i == 0 ?
				service_name(svc) : "", buf_cstr(&hp),
				service_role[svc]);
		}
	}
	buf_free(&hp);
}

/* One example line: the command, then what it shows. */
static void example(FILE *f, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void example(FILE *f, const char *what, const char *fmt, ...)
{
	va_list ap;

	fprintf(f, "  # %s\n  ", what);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
}

static void print_examples(const struct config *cfg, const char *user, FILE *f)
{
	const char *addr = cfg->n_listen > 0 ? cfg->listen[0] : "127.0.0.1";
	const char *domain = cfg->n_domains > 0 ? cfg->domains[0] : "lab.test";
	const int *port = cfg->port;
	struct buf hp[SVC_COUNT];
	char what[128];

	for (int svc = 0; svc < SVC_COUNT; svc++) {
		buf_init(&hp[svc], BUF_UNLIMITED);
		host_port(&hp[svc], addr, port[svc]);
	}
	fprintf(f, "\nTry it (the certificate is self-signed, hence -k for curl;"
		" PASSWORD is in the credentials file):\n");
	if (port[SVC_SMTP] != 0)
		example(f, "talk SMTP by hand (-C sends CRLF line ends)",
			"nc -C %s %d", connect_addr(addr), port[SVC_SMTP]);
	if (port[SVC_SUBMISSION] != 0)
		example(f, "see the STARTTLS upgrade on submission",
			"openssl s_client -starttls smtp -connect %s -crlf",
			buf_cstr(&hp[SVC_SUBMISSION]));
	snprintf(what, sizeof(what),
		 "IMAP over TLS by hand (then: a1 LOGIN %s PASSWORD)", user);
	if (port[SVC_IMAPS] != 0)
		example(f, what, "openssl s_client -connect %s -crlf -quiet",
			buf_cstr(&hp[SVC_IMAPS]));
	if (port[SVC_POP3S] != 0)
		example(f, "POP3 over TLS by hand (then: USER, PASS, LIST)",
			"openssl s_client -connect %s -crlf -quiet",
			buf_cstr(&hp[SVC_POP3S]));
	if (port[SVC_SUBMISSIONS] != 0 || port[SVC_SUBMISSION] != 0) {
		bool implicit = port[SVC_SUBMISSIONS] != 0;

		example(f, "send a message (message.txt holds headers, blank line, body)",
			"curl -k %s://%s -u %s:PASSWORD --mail-from %s@%s "
			"--mail-rcpt %s@%s -T message.txt",
			implicit ? "smtps" : "--ssl-reqd smtp",
			buf_cstr(&hp[implicit ? SVC_SUBMISSIONS : SVC_SUBMISSION]),
			user, user, domain, user, domain);
	}
	if (port[SVC_IMAPS] != 0)
		example(f, "list the INBOX over IMAP, then fetch message UID 1",
			"curl -k imaps://%s/INBOX -u %s:PASSWORD\n"
			"  curl -k 'imaps://%s/INBOX;UID=1' -u %s:PASSWORD",
			buf_cstr(&hp[SVC_IMAPS]), user,
			buf_cstr(&hp[SVC_IMAPS]), user);
	if (port[SVC_POP3S] != 0)
		example(f, "list messages over POP3, then retrieve message 1",
			"curl -k pop3s://%s/ -u %s:PASSWORD\n"
			"  curl -k pop3s://%s/1 -u %s:PASSWORD",
			buf_cstr(&hp[SVC_POP3S]), user,
			buf_cstr(&hp[SVC_POP3S]), user);
	for (int svc = 0; svc < SVC_COUNT; svc++)
		buf_free(&hp[svc]);
}

/* The first few user names, as `maillab user list` reads them. */
struct user_names {
	struct buf text;
	size_t count;
};

#define USERS_SHOWN 5

static void add_user_name(const char *name, void *arg)
{
	struct user_names *names = arg;

	if (names->count < USERS_SHOWN)
		buf_printf(&names->text, "%s%s", names->count == 0 ? "" : ", ", name);
	names->count++;
}

static void print_users(const struct config *cfg, struct userdb *users, FILE *f)
{
	struct user_names names = { .text = BUF_INIT(BUF_UNLIMITED) };

	if (users == NULL || userdb_list(users, add_user_name, &names) < 0)
		fprintf(f, "  %-14s cannot read the user database; try: "
			"maillab user list -d %s\n", "users", cfg->dir);
	else if (names.count == 0)
		fprintf(f, "  %-14s none; add one with: maillab user add -d %s NAME\n",
			"users", cfg->dir);
	else
		fprintf(f, "  %-14s %zu: %s%s\n", "users", names.count,
			buf_cstr(&names.text), names.count > USERS_SHOWN ?
			", ... (maillab user list shows all)" : "");
	buf_free(&names.text);
}

void instance_print_info(const struct config *cfg, struct userdb *users, FILE *f)
{
	char *credentials = path_in(cfg->dir, "credentials.txt");
	char *user = example_user(credentials);
	struct stat st;

	fprintf(f, "maillab instance %s\n", cfg->dir);
	fprintf(f, "  %-14s %s/maillab.conf\n", "configuration", cfg->dir);
	fprintf(f, "  %-14s %s\n", "hostname", cfg->hostname);
	fprintf(f, "  %-14s", "domains");
	for (size_t i = 0; i < cfg->n_domains; i++)
		fprintf(f, "%s%s", i == 0 ? " " : ", ", cfg->domains[i]);
	fprintf(f, "\n  %-14s %s\n", "certificate", cfg->tls_cert);
	fprintf(f, "  %-14s %s\n", "private key", cfg->tls_key);
	print_users(cfg, users, f);
	if (stat(credentials, &st) == 0)
		fprintf(f, "  %-14s %s (user password; mode 0600)\n",
			"credentials", credentials);
	fprintf(f, "  %-14s %s/mail/USER/ (Maildir++)\n", "mail", cfg->dir);
	fprintf(f, "  %-14s %s\n", "log", cfg->log_file);
	if (cfg->trace)
		fprintf(f, "  %-14s %s/log/trace/ (every session's dialogue)\n",
			"traces", cfg->dir);
	print_services(cfg, f);
	print_examples(cfg, user != NULL ? user : "USER", f);
	free(user);
	free(credentials);
}
