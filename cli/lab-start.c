/* maillab lab start N: makes the lab directory when it is not there yet
 * (each instance with maillab init's demo users alice and bob, the lab's
 * ports and settings, and the lab's first messages in bob's INBOX), prints
 * what a student needs, and serves until interrupted.  A lab with several
 * instances runs each in a child process and writes its pid to
 * DIR/NAME.pid, so that one can be taken down on its own. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/instance.h"
#include "cli/lab.h"
#include "common/buf.h"
#include "common/config.h"
#include "maildir/deliver.h"

static void instance_path(const char *dir, const struct lab_instance *li,
			  struct buf *out)
{
	buf_puts(out, dir);
	if (li->name != NULL)
		buf_printf(out, "/%s", li->name);
}

/* The port of service svc for an instance: the default plus the shifts. */
static int lab_port(const struct config *defaults, enum service_id svc,
		    const struct lab_instance *li, int offset)
{
	return defaults->port[svc] + li->port_shift + offset;
}

static int append_settings(const char *path, const struct lab *lab,
			   const struct lab_instance *li, int offset,
			   char *err, size_t errlen)
{
	struct buf conf = BUF_INIT(BUF_UNLIMITED), text = BUF_INIT(BUF_UNLIMITED);
	struct config defaults;
	FILE *f;
	int ret = 0;

	config_defaults(&defaults, path);
	buf_printf(&text, "\n# --- maillab lab %d ---\n", lab->number);
	for (int svc = 0; svc < SVC_COUNT; svc++)
		buf_printf(&text, "port_%s = %d\n", service_name(svc),
			   lab_port(&defaults, svc, li, offset));
	buf_puts(&text, "trace = on\n");
	/* Several instances: each sends the others' domains to their MX. */
	for (size_t i = 0; i < lab->n_instances; i++) {
		const struct lab_instance *other = &lab->instances[i];

		if (other != li)
			buf_printf(&text, "route %s = 127.0.0.1:%d\n", other->domain,
				   lab_port(&defaults, SVC_SMTP, other, offset));
	}
	buf_puts(&text, li->settings);
	buf_printf(&conf, "%s/maillab.conf", path);
	f = fopen(buf_cstr(&conf), "a");
	if (f == NULL || fwrite(text.data, 1, text.len, f) != text.len ||
	    fflush(f) != 0 || fsync(fileno(f)) != 0) {
		snprintf(err, errlen, "%s: %s", buf_cstr(&conf), strerror(errno));
		ret = -1;
	}
	if (f != NULL && fclose(f) != 0 && ret == 0) {
		snprintf(err, errlen, "%s: %s", buf_cstr(&conf), strerror(errno));
		ret = -1;
	}
	config_free(&defaults);
	buf_free(&conf);
	buf_free(&text);
	return ret;
}

/* Delivers one of the lab's first messages to bob, as SMTP would. */
static int seed(const char *path, const struct lab_instance *li, size_t n,
		const struct lab_seed *s, char *err, size_t errlen)
{
	struct buf root = BUF_INIT(BUF_UNLIMITED), msg = BUF_INIT(BUF_UNLIMITED);
	struct maildir_rcpt rcpt = { "bob", NULL };
	struct maildir_delivery *d;
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	int ret = -1;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	buf_printf(&msg, "From: Lab Instructor <instructor@%s>\r\n"
		   "To: Bob <bob@%s>\r\nSubject: %s\r\nDate: %s\r\n"
		   "Message-ID: <lab-seed-%zu.%lld@%s>\r\n\r\n%s",
		   li->domain, li->domain, s->subject, date, n, (long long)now,
		   li->domain, s->body);
	buf_printf(&root, "%s/mail", path);
	d = maildir_delivery_begin(buf_cstr(&root), err, errlen);
	if (d != NULL) {
		if (maildir_delivery_write(d, msg.data, msg.len) < 0)
			snprintf(err, errlen, "%s: %s", buf_cstr(&root), strerror(errno));
		else if (maildir_delivery_commit(d, &rcpt, 1, err, errlen) == 0)
			ret = 0;
	}
	maildir_delivery_free(&d);
	buf_free(&root);
	buf_free(&msg);
	return ret;
}

static int make_instance(const char *path, const struct lab *lab,
			 const struct lab_instance *li, bool first, int offset)
{
	const char *hostname = li->name != NULL ? NULL : "localhost";
	struct buf host = BUF_INIT(BUF_UNLIMITED);
	char err[1024];
	int ret = 0;

	if (hostname == NULL) {
		buf_printf(&host, "mx.%s", li->domain);
		hostname = buf_cstr(&host);
	}
	if (instance_init(path, li->domain, hostname, true, NULL, err,
			  sizeof(err)) < 0 ||
	    append_settings(path, lab, li, offset, err, sizeof(err)) < 0)
		ret = -1;
	for (size_t i = 0; first && ret == 0 && i < lab->n_seeds; i++)
		ret = seed(path, li, i, &lab->seeds[i], err, sizeof(err));
	if (ret < 0)
		fprintf(stderr, "maillab lab: %s\n", err);
	buf_free(&host);
	return ret;
}

static void print_credentials(const char *path, const struct lab_instance *li)
{
	struct buf file = BUF_INIT(BUF_UNLIMITED);
	char line[256];
	FILE *f;

	buf_printf(&file, "%s/credentials.txt", path);
	f = fopen(buf_cstr(&file), "r");
	printf("  %s (domain %s):\n", path, li->domain);
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		char user[64], pw[128];

		if (line[0] != '#' && sscanf(line, "%63s %127s", user, pw) == 2)
			printf("    %-6s %-18s %s@%s\n", user, pw, user, li->domain);
	}
	if (f != NULL)
		fclose(f);
	buf_free(&file);
}

static int serve(const char *path)
{
	char *argv[] = { "serve", "-d", (char *)path, NULL };

	return maillab_serve(3, argv);
}

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

/* Writes DIR/NAME.pid for the instance served by child `pid`. */
static void write_pid(const char *dir, const char *name, pid_t pid)
{
	struct buf path = BUF_INIT(BUF_UNLIMITED);
	FILE *f;

	buf_printf(&path, "%s/%s.pid", dir, name);
	f = fopen(buf_cstr(&path), "w");
	if (f != NULL) {
		fprintf(f, "%ld\n", (long)pid);
		fclose(f);
	}
	buf_free(&path);
}

/* Runs each instance in a child; SIGINT (Ctrl-C reaches the children
 * too) and SIGTERM are passed on.  Returns when every child has ended. */
static int serve_children(const char *dir, const struct lab *lab)
{
	pid_t pids[2] = { 0, 0 };
	struct sigaction sa;
	size_t live = 0;
	int ret = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	fflush(NULL);
	for (size_t i = 0; i < lab->n_instances; i++) {
		struct buf path = BUF_INIT(BUF_UNLIMITED);

		instance_path(dir, &lab->instances[i], &path);
		pids[i] = fork();
		if (pids[i] == 0) {
			signal(SIGINT, SIG_DFL);
			signal(SIGTERM, SIG_DFL);
			_exit(serve(buf_cstr(&path)));
		}
		if (pids[i] > 0) {
			live++;
			write_pid(dir, lab->instances[i].name, pids[i]);
			printf("%s: pid %ld (take it down: kill %ld; bring it back: maillab serve -d %s)\n",
			       lab->instances[i].name, (long)pids[i], (long)pids[i],
			       buf_cstr(&path));
		} else {
			fprintf(stderr, "maillab lab: fork: %s\n", strerror(errno));
			ret = 1;
		}
		/* before the next fork, or that child prints it again */
		fflush(stdout);
		buf_free(&path);
	}
	while (live > 0) {
		int status;
		pid_t pid = waitpid(-1, &status, 0);

		if (pid < 0 && errno == EINTR) {
			for (size_t i = 0; i < lab->n_instances; i++)
				if (pids[i] > 0 && stop_signal != 0)
					kill(pids[i], stop_signal);
			stop_signal = 0;
			continue;
		}
		if (pid < 0)
			break;
		for (size_t i = 0; i < lab->n_instances; i++)
			if (pids[i] == pid)
				pids[i] = 0;
		live--;
	}
	return ret;
}

int lab_start(const struct lab *lab, const char *dir, int offset)
{
	bool several = lab->n_instances > 1;

	if (several && mkdir(dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "maillab lab: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	printf("Lab %d: %s.  Guide: labs/%s\n", lab->number, lab->title,
	       lab->guide);
	for (size_t i = 0; i < lab->n_instances; i++) {
		struct buf path = BUF_INIT(BUF_UNLIMITED);
		int ret = 0;

		instance_path(dir, &lab->instances[i], &path);
		if (!instance_exists(buf_cstr(&path))) {
			ret = make_instance(buf_cstr(&path), lab, &lab->instances[i],
					    i == 0, offset);
			if (ret == 0)
				printf("Created %s\n", buf_cstr(&path));
		}
		buf_free(&path);
		if (ret < 0)
			return 1;
	}
	printf("Users (user, password, address):\n");
	for (size_t i = 0; i < lab->n_instances; i++) {
		struct buf path = BUF_INIT(BUF_UNLIMITED);

		instance_path(dir, &lab->instances[i], &path);
		print_credentials(buf_cstr(&path), &lab->instances[i]);
		buf_free(&path);
	}
	printf("Check your work with: maillab lab check %d -d %s\n"
	       "Serving until Ctrl-C.\n\n", lab->number, dir);
	fflush(stdout);
	if (several)
		return serve_children(dir, lab);
	return serve(dir);
}
