/* maillab queue list|show|flush|del [-d DIR] [ID]
 *
 *   list        every queued message: id, age, size, sender, and each
 *               recipient with its state, attempts, next try, last error
 *   show ID     the envelope and the message header
 *   flush [ID]  retry now (every message, or one)
 *   del ID [--silent]  removes a message from the queue; its sender gets
 *               a delivery status notification for the recipients not yet
 *               delivered, unless --silent
 *
 * Works while `maillab serve` runs: list and show read the files the
 * runner replaces atomically; flush leaves DIR/queue/flush or
 * DIR/queue/flush-ID (and then DIR/queue/flush-ids, the sign to look for
 * those), which the runner takes within a second; del removes
 * the envelope first, and the runner drops a message whose files are
 * gone. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/instance.h"
#include "cli/run-as.h"
#include "common/buf.h"
#include "common/config.h"
#include "common/xalloc.h"
#include "smtpd/dsn.h"
#include "smtpd/queue.h"

#define USAGE "usage: maillab queue list|show|flush|del [-d DIR] [ID] [--silent]\n"

struct id_list {
	char **ids;
	size_t n;
};

static void collect(const char *id, void *arg)
{
	struct id_list *l = arg;

	l->ids = xreallocarray(l->ids, l->n + 1, sizeof(*l->ids));
	l->ids[l->n++] = xstrdup(id);
}

static int cmp_ids(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "45s", "3m 20s", "2h 5m", "4d 3h" */
static void duration(struct buf *out, int64_t s)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		buf_printf(out, "%llds", (long long)s);
	else if (s < 3600)
		buf_printf(out, "%lldm %llds", (long long)(s / 60), (long long)(s % 60));
	else if (s < 86400)
		buf_printf(out, "%lldh %lldm", (long long)(s / 3600),
			   (long long)(s % 3600 / 60));
	else
		buf_printf(out, "%lldd %lldh", (long long)(s / 86400),
			   (long long)(s % 86400 / 3600));
}

static void print_rcpt(const struct queue_rcpt *r, int64_t now)
{
	struct buf line = BUF_INIT(BUF_UNLIMITED);

	buf_printf(&line, "    <%s> %s, %u attempt%s", r->addr,
		   queue_rcpt_state_name(r->state), r->attempts,
		   r->attempts == 1 ? "" : "s");
	if (r->state == QR_PENDING) {
		buf_puts(&line, ", next try ");
		if (r->next_try <= now) {
			buf_puts(&line, "now");
		} else {
			buf_puts(&line, "in ");
			duration(&line, r->next_try - now);
		}
	}
	printf("%s\n", line.data);
	if (r->last_error != NULL)
		printf("      last error: %s\n", r->last_error);
	buf_free(&line);
}

static void print_summary(const struct queue_env *e, int64_t now)
{
	struct buf age = BUF_INIT(BUF_UNLIMITED);

	duration(&age, now - e->created);
	printf("%s  age %s  %llu bytes  from <%s>\n", e->id, age.data,
	       (unsigned long long)e->size, e->sender);
	for (size_t i = 0; i < e->n_rcpts; i++)
		print_rcpt(&e->rcpts[i], now);
	buf_free(&age);
}

static int cmd_list(const char *qdir)
{
	struct id_list l = { NULL, 0 };
	int64_t now = (int64_t)time(NULL);
	char err[512];
	size_t shown = 0;

	if (queue_scan(qdir, collect, &l, err, sizeof(err)) < 0) {
		fprintf(stderr, "maillab: %s\n", err);
		return 1;
	}
	if (l.n > 0)
		qsort(l.ids, l.n, sizeof(*l.ids), cmp_ids);
	for (size_t i = 0; i < l.n; i++) {
		struct queue_env e;
		int ret = queue_env_load(qdir, l.ids[i], &e, err, sizeof(err));

		if (ret < 0)
			fprintf(stderr, "maillab: %s\n", err);
		if (ret == 0) {
			print_summary(&e, now);
			queue_env_free(&e);
			shown++;
		}
		free(l.ids[i]);
	}
	free(l.ids);
	if (shown == 0)
		printf("The queue is empty.\n");
	else
		printf("%zu message%s in the queue.\n", shown, shown == 1 ? "" : "s");
	return 0;
}

/* The header of the message (up to its empty line). */
static void print_header(const char *text, size_t len)
{
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t n = nl != NULL ? (size_t)(nl - (text + i)) : len - i;

		if (n == 0 || (n == 1 && text[i] == '\r'))
			break;
		printf("%.*s\n", (int)(n > 0 && text[i + n - 1] == '\r' ? n - 1 : n),
		       text + i);
		i += n + 1;
	}
}

static int cmd_show(const char *qdir, const char *id)
{
	struct queue_env e;
	struct buf text = BUF_INIT(BUF_UNLIMITED);
	char err[512];
	int ret = queue_env_load(qdir, id, &e, err, sizeof(err));

	if (ret != 0) {
		fprintf(stderr, "maillab: %s\n", ret == 1 ? "no such message in the queue" : err);
		return 1;
	}
	print_summary(&e, (int64_t)time(NULL));
	printf("  body: %s%s%s%s%s%s\n", e.body_8bit ? "8BITMIME" : "7BIT",
	       e.smtputf8 ? ", SMTPUTF8" : "", e.ret != NULL ? ", RET=" : "",
	       e.ret != NULL ? e.ret : "", e.envid != NULL ? ", ENVID=" : "",
	       e.envid != NULL ? e.envid : "");
	if (e.report.kind != '\0')
		printf("  report on: %s (%s)\n", e.report.orig,
		       e.report.kind == 'f' ? "failed recipients" :
		       e.report.kind == 's' ? "relayed recipients" : "delay warning");
	if (queue_msg_read(qdir, id, &text, err, sizeof(err)) < 0) {
		fprintf(stderr, "maillab: %s\n", err);
		ret = 1;
	} else {
		printf("\n");
		print_header(text.data != NULL ? text.data : "", text.len);
	}
	queue_env_free(&e);
	buf_free(&text);
	return ret;
}

static int flush_request(const char *qdir, const char *id, bool quiet)
{
	struct buf path = BUF_INIT(BUF_UNLIMITED);
	int fd;

	if (id != NULL) {
		buf_printf(&path, "%s/%s.env", qdir, id);
		if (access(path.data, F_OK) < 0) {
			fprintf(stderr, "maillab: no such message in the queue: %s\n", id);
			buf_free(&path);
			return 1;
		}
		buf_clear(&path);
		buf_printf(&path, "%s/flush-%s", qdir, id);
	} else {
		buf_printf(&path, "%s/flush", qdir);
	}
	fd = open(path.data, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "maillab: cannot create %s: %m\n", path.data);
		buf_free(&path);
		return 1;
	}
	close(fd);
	if (id != NULL) {
		/* then the mark that makes the server look for flush-ID files */
		buf_clear(&path);
		buf_printf(&path, "%s/%s", qdir, QUEUE_FLUSH_MARK);
		fd = open(path.data, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0) {
			fprintf(stderr, "maillab: cannot create %s: %m\n", path.data);
			buf_free(&path);
			return 1;
		}
		close(fd);
	}
	if (!quiet)
		printf("Flush requested: the running server retries %s within a second.\n",
		       id != NULL ? id : "every message");
	buf_free(&path);
	return 0;
}

/* Queues the bounce for the recipients of message id not yet delivered
 * (RFC 3464, as the runner would), and asks the server to send it.  0, 1
 * when none is due (a bounce itself, or NOTIFY said no), -1. */
static int bounce_deleted(const char *qdir, const char *id, const char *host,
			  struct buf *dsn_id)
{
	struct queue_env e, dsn = { 0 };
	struct buf text = BUF_INIT(BUF_UNLIMITED), msg = BUF_INIT(BUF_UNLIMITED);
	char err[512];
	size_t off = 0;
	int ret = queue_env_load(qdir, id, &e, err, sizeof(err));

	if (ret == 1)
		snprintf(err, sizeof(err), "no such message in the queue: %s", id);
	if (ret != 0 || queue_msg_read(qdir, id, &msg, err, sizeof(err)) < 0) {
		fprintf(stderr, "maillab: %s\n", err);
		queue_env_free(&e);
		buf_free(&msg);
		return -1;
	}
	ret = -1;
	for (size_t i = 0; i < e.n_rcpts; i++)
		if (e.rcpts[i].state == QR_PENDING) {
			e.rcpts[i].state = QR_FAILED;
			queue_rcpt_set_error(&e.rcpts[i],
				"5.0.0 Removed from the queue by the administrator");
		}
	/* the Return-Path line the session wrote is not part of the message */
	if (msg.len > 12 && strncmp(msg.data, "Return-Path:", 12) == 0) {
		const char *nl = memchr(msg.data, '\n', msg.len);

		off = nl != NULL ? (size_t)(nl - msg.data) + 1 : 0;
	}
	if (e.sender[0] == '\0' ||
	    dsn_build(&e, host, msg.data + off, msg.len - off, (int64_t)time(NULL),
		      &text) == 0) {
		ret = 1;
		goto out;
	}
	dsn.created = (int64_t)time(NULL);
	dsn.sender = xstrdup("");
	dsn.body_8bit = e.body_8bit;
	queue_env_add_rcpt(&dsn, e.sender, NULL, NULL);
	if (queue_store_buf(qdir, text.data, text.len, &dsn, err, sizeof(err)) < 0) {
		fprintf(stderr, "maillab: %s\n", err);
		goto out;
	}
	buf_puts(dsn_id, dsn.id);
	ret = 0;
out:
	queue_env_free(&e);
	queue_env_free(&dsn);
	buf_free(&text);
	buf_free(&msg);
	return ret;
}

static int cmd_flush(const char *qdir, const char *id)
{
	return flush_request(qdir, id, false);
}

static int cmd_del(const char *qdir, const char *id, bool silent,
		   const char *host)
{
	struct buf dsn_id = BUF_INIT(BUF_UNLIMITED);
	char err[512];
	int ret, bounced = 1;

	if (!silent) {
		bounced = bounce_deleted(qdir, id, host, &dsn_id);
		if (bounced < 0) {
			buf_free(&dsn_id);
			return 1;
		}
	}
	ret = queue_remove(qdir, id, err, sizeof(err));

	if (ret < 0) {
		fprintf(stderr, "maillab: %s\n", err);
		return 1;
	}
	if (ret == 1) {
		fprintf(stderr, "maillab: no such message in the queue: %s\n", id);
		return 1;
	}
	if (bounced == 0) {
		/* the running server takes the bounce on at once */
		flush_request(qdir, buf_cstr(&dsn_id), true);
		printf("Deleted %s; its sender is told in bounce %s.\n", id,
		       buf_cstr(&dsn_id));
	} else {
		printf("Deleted %s (no bounce was sent).\n", id);
	}
	buf_free(&dsn_id);
	return 0;
}

/* Removes a "--silent" argument; true when there was one. */
static bool take_silent(int *argc, char **argv)
{
	for (int i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--silent") != 0)
			continue;
		memmove(&argv[i], &argv[i + 1], (size_t)(*argc - i) * sizeof(*argv));
		(*argc)--;
		return true;
	}
	return false;
}

int maillab_queue(int argc, char **argv)
{
	const char *dir = cli_take_dir(&argc, argv);
	bool silent = take_silent(&argc, argv);
	const char *verb = argc >= 2 ? argv[1] : "", *id = argc >= 3 ? argv[2] : NULL;
	bool needs_id = strcmp(verb, "show") == 0 || strcmp(verb, "del") == 0;
	bool may_id = needs_id || strcmp(verb, "flush") == 0;
	struct config cfg;
	char *qdir, err[512];
	int ret;

	if (argc < 2 || argc > 3 || (argc == 3 && !may_id) ||
	    (needs_id && id == NULL) ||
	    (!may_id && strcmp(verb, "list") != 0) ||
	    (silent && strcmp(verb, "del") != 0)) {
		fprintf(stderr, USAGE);
		return 2;
	}
	if (id != NULL && !queue_id_valid(id)) {
		fprintf(stderr, "maillab: '%s' is not a queue id (16 hex digits)\n", id);
		return 2;
	}
	if (!instance_exists(dir)) {
		fprintf(stderr, "maillab: no instance in %s\n", dir);
		return 1;
	}
	/* The files it creates (a bounce, a flush request) must stay usable
	 * by the server. */
	if (run_as_instance_owner(dir, err, sizeof(err)) < 0) {
		fprintf(stderr, "maillab: %s\n", err);
		return 1;
	}
	qdir = queue_dir(dir);
	if (strcmp(verb, "list") == 0)
		ret = cmd_list(qdir);
	else if (strcmp(verb, "show") == 0)
		ret = cmd_show(qdir, id);
	else if (strcmp(verb, "flush") == 0)
		ret = cmd_flush(qdir, id);
	else if (config_load(&cfg, dir, err, sizeof(err)) < 0) {
		fprintf(stderr, "maillab: %s\n", err);
		ret = 1;
	} else {
		ret = cmd_del(qdir, id, silent, cfg.hostname);
	}
	if (strcmp(verb, "del") == 0)
		config_free(&cfg);
	free(qdir);
	return ret;
}
