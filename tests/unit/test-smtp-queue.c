/* The outbound queue: the envelope file's text form (round trips, every
 * malformed line refused), the queue files (store, save, load, scan,
 * remove, recover), and a submission session that queues its remote
 * recipients before the 250 while local ones are delivered at once. */
#include "maildir/fsutil.h"
#include "smtpd/aliases.h"
#include "smtpd/queue.h"
#include "smtpd/runner-int.h"
#include "tests/unit/test-smtp-drv.h"

static struct drv D;
static char err[512];

static void setup(void)
{
	drv_setup(&D);
	maildir_fault_set(NULL);
}

static void teardown(void)
{
	maildir_fault_set(NULL);
	drv_teardown(&D);
}

static void sample_env(struct queue_env *e)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->id, sizeof(e->id), "0123456789ABCDEF");
	e->created = 1733400000;
	e->sender = xstrdup("alice@a.test");
	e->size = 1234;
	e->body_8bit = true;
	e->ret = xstrdup("HDRS");
	e->envid = xstrdup("QQ+2B-1");
	queue_env_add_rcpt(e, "bob@b.test", NULL, NULL);
	/* a quoted local part with a space and a percent sign */
	queue_env_add_rcpt(e, "\"x y%\"@c.test", "SUCCESS,FAILURE",
			   "rfc822;x@c.test");
	e->rcpts[1].state = QR_PENDING;
	e->rcpts[1].attempts = 3;
	e->rcpts[1].next_try = 1733400500;
	queue_rcpt_set_error(&e->rcpts[1], "c.test said: 451 4.3.0 try\r\nlater");
	queue_env_add_rcpt(e, "-", NULL, NULL);
	e->rcpts[2].state = QR_SENT;
}

START_TEST(test_env_round_trip)
{
	struct queue_env e, back;
	struct buf text = BUF_INIT(BUF_UNLIMITED), again = BUF_INIT(BUF_UNLIMITED);

	sample_env(&e);
	queue_env_format(&e, &text);
	ck_assert_msg(strstr(text.data, "rcpt pending 3 1733400500 \"x%20y%25\"@c.test "
			     "SUCCESS,FAILURE rfc822;x@c.test c.test said: 451 4.3.0 "
			     "try%0D%0Alater\n") != NULL, "%s", text.data);
	ck_assert_int_eq(queue_env_parse(text.data, text.len, &back, err,
					 sizeof(err)), 0);
	ck_assert_int_eq(back.created, 1733400000);
	ck_assert_str_eq(back.sender, "alice@a.test");
	ck_assert_uint_eq(back.size, 1234);
	ck_assert(back.body_8bit);
	ck_assert(!back.smtputf8);
	ck_assert_str_eq(back.ret, "HDRS");
	ck_assert_str_eq(back.envid, "QQ+2B-1");
	ck_assert_uint_eq(back.n_rcpts, 3);
	ck_assert_str_eq(back.rcpts[0].addr, "bob@b.test");
	ck_assert_ptr_null(back.rcpts[0].notify);
	ck_assert_ptr_null(back.rcpts[0].last_error);
	ck_assert_str_eq(back.rcpts[1].addr, "\"x y%\"@c.test");
	ck_assert_str_eq(back.rcpts[1].notify, "SUCCESS,FAILURE");
	ck_assert_str_eq(back.rcpts[1].orcpt, "rfc822;x@c.test");
	ck_assert_uint_eq(back.rcpts[1].attempts, 3);
	ck_assert_int_eq(back.rcpts[1].next_try, 1733400500);
	ck_assert_str_eq(back.rcpts[1].last_error, "c.test said: 451 4.3.0 try\r\nlater");
	ck_assert_str_eq(back.rcpts[2].addr, "-");
	ck_assert_int_eq(back.rcpts[2].state, QR_SENT);
	snprintf(back.id, sizeof(back.id), "%s", e.id);
	queue_env_format(&back, &again);
	ck_assert_str_eq(again.data, text.data);
	ck_assert(!queue_env_finished(&back));
	ck_assert_int_eq(queue_env_next_try(&back), 0);
	queue_env_free(&back);
	queue_env_free(&e);
	buf_free(&text);
	buf_free(&again);

	/* the null reverse-path of a bounce */
	memset(&e, 0, sizeof(e));
	e.sender = xstrdup("");
	queue_env_add_rcpt(&e, "a@b.test", NULL, NULL);
	e.rcpts[0].state = QR_REPORTED;
	buf_init(&text, BUF_UNLIMITED);
	queue_env_format(&e, &text);
	ck_assert(strstr(text.data, "sender <>\n") != NULL);
	ck_assert_int_eq(queue_env_parse(text.data, text.len, &back, err,
					 sizeof(err)), 0);
	ck_assert_str_eq(back.sender, "");
	ck_assert(queue_env_finished(&back));
	ck_assert_int_eq(queue_env_next_try(&back), -1);
	queue_env_free(&back);
	queue_env_free(&e);
	buf_free(&text);
}
END_TEST

START_TEST(test_env_malformed)
{
	static const char *const bad[] = {
		"",
		"maillab-queue 2\nsender <>\nrcpt pending 0 0 a@b - -\n",
		"maillab-queue 1\nrcpt pending 0 0 a@b - -\n",		/* no sender */
		"maillab-queue 1\nsender <>\n",				/* no rcpt */
		"maillab-queue 1\nsender <>\nrcpt pending 0 0 a@b - -",	/* no LF */
		"maillab-queue 1\nsender <>\nrcpt waiting 0 0 a@b - -\n",
		"maillab-queue 1\nsender <>\nrcpt pending x 0 a@b - -\n",
		"maillab-queue 1\nsender <>\nrcpt pending 0 -1 a@b - -\n",
		"maillab-queue 1\nsender <>\nrcpt pending 0 0 - - -\n",
		"maillab-queue 1\nsender <>\nrcpt pending 0 0 a@b -\n",
		"maillab-queue 1\nsender <>\nrcpt pending 0 0 a%0@b - -\n",
		"maillab-queue 1\nsender <>\nrcpt pending 0 0 a%00b - -\n",
		"maillab-queue 1\nsender <>\nrcpt pending 0 0  a@b - -\n",
		"maillab-queue 1\nsender <>\nsender <>\nrcpt pending 0 0 a@b - -\n",
		"maillab-queue 1\nsender x\nrcpt pending 0 0 a@b - -\n",
		"maillab-queue 1\nsender <>\nbody 9bit\nrcpt pending 0 0 a@b - -\n",
		"maillab-queue 1\nsender <>\nsize 99999999999999999999\nrcpt pending 0 0 a@b - -\n",
		"maillab-queue 1\nsender <>\nret -\nrcpt pending 0 0 a@b - -\n",
		"maillab-queue 1\nsender <>\nfrobnicate 1\nrcpt pending 0 0 a@b - -\n",
		"maillab-queue 1\nsender <>\nrcpt pending 0 0 a@b - -\n\n",
		"maillab-queue 1\nsender <>\nreport 0123456789abcdef f 1\nrcpt pending 0 0 a@b - -\n",
		"maillab-queue 1\nsender <>\nreport 0123456789ABCDEF x 1\nrcpt pending 0 0 a@b - -\n",
		"maillab-queue 1\nsender <>\nreport 0123456789ABCDEF f\nrcpt pending 0 0 a@b - -\n",
		"maillab-queue 1\nsender <>\nreport 0123456789ABCDEF f 1 2\nrcpt pending 0 0 a@b - -\n",
		"maillab-queue 1\nsender <>\nreport 0123456789ABCDEF d 0\n"
		"report 0123456789ABCDEF d 0\nrcpt pending 0 0 a@b - -\n",
	};
	struct queue_env e;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(queue_env_parse(bad[i], strlen(bad[i]), &e, err,
					      sizeof(err)) == -1, "accepted %zu", i);
		ck_assert_uint_eq(e.n_rcpts, 0);
		ck_assert_ptr_null(e.sender);
	}
	/* a NUL inside a line */
	ck_assert_int_eq(queue_env_parse("maillab-queue 1\nsender <>\nrcpt pending 0 0 a\0b - -\n",
					 45, &e, err, sizeof(err)), -1);
}
END_TEST

static void count_id(const char *id, void *arg)
{
	(void)id;
	(*(int *)arg)++;
}

static char *qdir(void)
{
	return queue_dir(D.dir);
}

START_TEST(test_queue_files)
{
	char *q = qdir(), *path;
	struct maildir_delivery *d;
	struct queue_env e, back;
	struct buf msg = BUF_INIT(BUF_UNLIMITED), p = BUF_INIT(BUF_UNLIMITED);
	char mail_root[4096];
	int n = 0, fd;

	snprintf(mail_root, sizeof(mail_root), "%s/mail", D.dir);
	d = maildir_delivery_begin(mail_root, err, sizeof(err));
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(maildir_delivery_write(d, "Subject: x\r\n\r\nhi\r\n", 18), 0);
	sample_env(&e);
	ck_assert_int_eq(queue_store(q, d, false, &e, err, sizeof(err)), 0);
	ck_assert(queue_id_valid(e.id));
	ck_assert_uint_eq(e.size, 18);
	maildir_delivery_free(&d);	/* the tmp name goes, the queued one stays */
	ck_assert_int_eq(queue_msg_read(q, e.id, &msg, err, sizeof(err)), 0);
	ck_assert_uint_eq(msg.len, 18);
	ck_assert_int_eq(queue_env_load(q, e.id, &back, err, sizeof(err)), 0);
	ck_assert_str_eq(back.id, e.id);
	ck_assert_str_eq(back.rcpts[1].addr, "\"x y%\"@c.test");
	back.rcpts[0].state = QR_SENT;
	ck_assert_int_eq(queue_env_save(q, &back, err, sizeof(err)), 0);
	queue_env_free(&back);
	ck_assert_int_eq(queue_env_load(q, e.id, &back, err, sizeof(err)), 0);
	ck_assert_int_eq(back.rcpts[0].state, QR_SENT);
	queue_env_free(&back);
	ck_assert_int_eq(queue_scan(q, count_id, &n, err, sizeof(err)), 0);
	ck_assert_int_eq(n, 1);

	/* what a crash leaves: a .msg with no .env, a tmp envelope, and
	 * after a power loss an .env with no .msg */
	buf_printf(&p, "%s/FFFFFFFF00000000.msg", q);
	fd = open(p.data, O_WRONLY | O_CREAT, 0600);
	close(fd);
	buf_clear(&p);
	buf_printf(&p, "%s/FFFFFFFF00000001.env", q);
	fd = open(p.data, O_WRONLY | O_CREAT, 0600);
	close(fd);
	buf_clear(&p);
	buf_printf(&p, "%s/tmp/%s.env", q, e.id);
	fd = open(p.data, O_WRONLY | O_CREAT, 0600);
	close(fd);
	ck_assert_int_eq(queue_recover(q, err, sizeof(err)), 3);
	ck_assert_int_eq(queue_env_load(q, e.id, &back, err, sizeof(err)), 0);
	queue_env_free(&back);

	ck_assert_int_eq(queue_remove(q, e.id, err, sizeof(err)), 0);
	ck_assert_int_eq(queue_remove(q, e.id, err, sizeof(err)), 1);
	ck_assert_int_eq(queue_env_load(q, e.id, &back, err, sizeof(err)), 1);
	/* a save after `queue del` does not bring it back */
	ck_assert_int_eq(queue_env_save(q, &e, err, sizeof(err)), 1);
	n = 0;
	ck_assert_int_eq(queue_scan(q, count_id, &n, err, sizeof(err)), 0);
	ck_assert_int_eq(n, 0);
	path = xstrdup(p.data);
	ck_assert_int_ne(access(path, F_OK), 0);
	free(path);

	ck_assert(!queue_id_valid("0123456789abcdef"));
	ck_assert(!queue_id_valid("0123456789ABCDE"));
	ck_assert(!queue_id_valid("../../etc/passwd"));
	queue_env_free(&e);
	buf_free(&msg);
	buf_free(&p);
	free(q);
}
END_TEST

/* Files left in DIR/mail/.tmp (deliveries not committed or freed). */
static int tmp_files(void)
{
	char path[4096];
	struct dirent *de;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "%s/mail/.tmp", D.dir);
	if ((dir = opendir(path)) == NULL)
		return 0;
	while ((de = readdir(dir)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

/* A message with no local recipient: its file is moved into the queue,
 * not linked, and the move never replaces a queued message's file. */
START_TEST(test_queue_store_moves)
{
	char *q = qdir();
	struct maildir_delivery *d, *d2;
	struct queue_env e;
	struct buf msg = BUF_INIT(BUF_UNLIMITED), p = BUF_INIT(BUF_UNLIMITED);
	char mail_root[4096];

	snprintf(mail_root, sizeof(mail_root), "%s/mail", D.dir);
	d = maildir_delivery_begin(mail_root, err, sizeof(err));
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(maildir_delivery_write(d, "Subject: m\r\n\r\nhi\r\n", 18), 0);
	ck_assert_int_eq(tmp_files(), 1);
	sample_env(&e);
	ck_assert_int_eq(queue_store(q, d, true, &e, err, sizeof(err)), 0);
	ck_assert_int_eq(tmp_files(), 0);
	maildir_delivery_free(&d);
	ck_assert_int_eq(queue_msg_read(q, e.id, &msg, err, sizeof(err)), 0);
	ck_assert_uint_eq(msg.len, 18);
	ck_assert_int_eq(memcmp(msg.data, "Subject: m\r\n", 12), 0);

	d2 = maildir_delivery_begin(mail_root, err, sizeof(err));
	ck_assert_ptr_nonnull(d2);
	ck_assert_int_eq(maildir_delivery_write(d2, "other\r\n", 7), 0);
	queue_path(&p, q, e.id, "msg");
	ck_assert_int_eq(maildir_delivery_link(d2, p.data, true, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, EEXIST);
	maildir_delivery_free(&d2);
	ck_assert_int_eq(tmp_files(), 0);
	buf_clear(&msg);
	ck_assert_int_eq(queue_msg_read(q, e.id, &msg, err, sizeof(err)), 0);
	ck_assert_uint_eq(msg.len, 18);

	ck_assert_int_eq(queue_remove(q, e.id, err, sizeof(err)), 0);
	queue_env_free(&e);
	buf_free(&msg);
	buf_free(&p);
	free(q);
}
END_TEST

/* A SIGKILL between queueing a bounce and recording that it is queued:
 * the same bounce id is made again and found, and at start the envelope
 * is brought up to date instead of a second report being queued. */
START_TEST(test_bounce_once_across_a_crash)
{
	char *q = qdir();
	char id1[QUEUE_ID_LEN + 1], id2[QUEUE_ID_LEN + 1];
	struct queue_env orig, dsn, back;
	const char *text = "Subject: report\r\n\r\nfailed\r\n";

	sample_env(&orig);
	orig.rcpts[1].state = QR_FAILED;
	ck_assert_int_eq(queue_store_buf(q, "Subject: x\r\n\r\n", 15, &orig,
					 err, sizeof(err)), 0);
	queue_bounce_id(orig.id, 1, id1);
	queue_bounce_id(orig.id, 1, id2);
	ck_assert(queue_id_valid(id1));
	ck_assert_str_eq(id1, id2);
	ck_assert_str_ne(id1, orig.id);
	ck_assert_int_eq(strncmp(id1, orig.id, 8), 0);	/* sorts beside it */
	queue_bounce_id(orig.id, 2, id2);
	ck_assert_str_ne(id1, id2);

	/* no bounce queued yet: settling changes nothing */
	runner_settle_bounce(q, orig.id, 0);
	ck_assert_int_eq(queue_env_load(q, orig.id, &back, err, sizeof(err)), 0);
	ck_assert_int_eq(back.rcpts[1].state, QR_FAILED);
	queue_env_free(&back);

	memset(&dsn, 0, sizeof(dsn));
	memcpy(dsn.id, id1, sizeof(id1));
	dsn.sender = xstrdup("");
	queue_env_add_rcpt(&dsn, "alice@a.test", NULL, NULL);
	ck_assert_int_eq(queue_store_buf(q, text, strlen(text), &dsn, err,
					 sizeof(err)), 0);
	ck_assert_str_eq(dsn.id, id1);
	ck_assert(queue_exists(q, id1));
	/* the second time (after a restart): already there, not written */
	ck_assert_int_eq(queue_store_buf(q, text, strlen(text), &dsn, err,
					 sizeof(err)), 1);

	runner_settle_bounce(q, orig.id, 0);
	ck_assert_int_eq(queue_env_load(q, orig.id, &back, err, sizeof(err)), 0);
	ck_assert_int_eq(back.rcpts[1].state, QR_REPORTED);
	ck_assert_int_eq(back.rcpts[0].state, QR_PENDING);
	queue_env_free(&back);
	/* a bounce is never settled as an original */
	runner_settle_bounce(q, id1, 0);
	ck_assert_int_eq(queue_env_load(q, id1, &back, err, sizeof(err)), 0);
	ck_assert_int_eq(back.rcpts[0].state, QR_PENDING);
	queue_env_free(&back);
	queue_env_free(&dsn);
	queue_env_free(&orig);
	free(q);
}
END_TEST

/* A queue_store_buf under an id whose .msg is another message's (being
 * queued: its .msg is named before its .env) fails without touching it,
 * whether the link or the O_EXCL open of the tmp/ file finds the id taken. */
START_TEST(test_store_buf_leaves_a_taken_id_alone)
{
	char *q = qdir();
	struct queue_env e = { 0 };
	struct buf msg = BUF_INIT(BUF_UNLIMITED), p = BUF_INIT(BUF_UNLIMITED);
	const char *id = "0123456789ABCDEF";
	int fd;

	ck_assert_int_eq(fs_mkdir(q), 0);
	buf_printf(&p, "%s/tmp", q);
	ck_assert_int_eq(fs_mkdir(p.data), 0);
	queue_path(&p, q, id, "msg");
	fd = open(p.data, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "foreign\r\n", 9), 9);
	close(fd);

	snprintf(e.id, sizeof(e.id), "%s", id);
	e.sender = xstrdup("");
	queue_env_add_rcpt(&e, "alice@a.test", NULL, NULL);
	/* link() finds ID.msg */
	ck_assert_int_eq(queue_store_buf(q, "report\r\n", 8, &e, err,
					 sizeof(err)), -1);
	ck_assert_int_eq(queue_msg_read(q, id, &msg, err, sizeof(err)), 0);
	ck_assert_uint_eq(msg.len, 9);
	ck_assert_int_eq(memcmp(msg.data, "foreign\r\n", 9), 0);
	ck_assert(!queue_exists(q, id));

	/* open(tmp/ID.msg, O_EXCL) finds another writer's file */
	buf_clear(&p);
	buf_printf(&p, "%s/tmp/%s.msg", q, id);
	fd = open(p.data, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(queue_store_buf(q, "report\r\n", 8, &e, err,
					 sizeof(err)), -1);
	buf_clear(&msg);
	ck_assert_int_eq(queue_msg_read(q, id, &msg, err, sizeof(err)), 0);
	ck_assert_uint_eq(msg.len, 9);
	ck_assert_int_eq(access(p.data, F_OK), 0);	/* nor the other's tmp file */

	queue_env_free(&e);
	buf_free(&msg);
	buf_free(&p);
	free(q);
}
END_TEST

/* A report queued under one of its candidate ids. */
static int store_report(const char *q, const struct queue_report_ref *ref,
			const char *text, char id_r[QUEUE_ID_LEN + 1])
{
	struct queue_env dsn = { 0 };
	int ret;

	dsn.sender = xstrdup("");
	dsn.report = *ref;
	queue_env_add_rcpt(&dsn, "alice@a.test", NULL, NULL);
	ret = queue_store_buf(q, text, strlen(text), &dsn, err, sizeof(err));
	memcpy(id_r, dsn.id, QUEUE_ID_LEN + 1);
	queue_env_free(&dsn);
	return ret;
}

/* A report's first candidate id is another message's (here another
 * report to the same sender, queued in the same second): the report goes
 * to the second candidate, the other message is left as it was, and
 * after a crash the same probes find the report there: never a second. */
START_TEST(test_report_id_taken)
{
	char *q = qdir();
	char c0[QUEUE_ID_LEN + 1], c1[QUEUE_ID_LEN + 1], id[QUEUE_ID_LEN + 1];
	struct queue_report_ref ref = { .kind = 'f', .first = 1 }, other;
	struct queue_env orig, foreign = { 0 }, back;
	struct buf msg = BUF_INIT(BUF_UNLIMITED), p = BUF_INIT(BUF_UNLIMITED);
	int n = 0, fd;

	sample_env(&orig);
	orig.rcpts[1].state = QR_FAILED;
	orig.id[0] = '\0';
	ck_assert_int_eq(queue_store_buf(q, "Subject: x\r\n\r\n", 15, &orig,
					 err, sizeof(err)), 0);
	memcpy(ref.orig, orig.id, sizeof(ref.orig));
	queue_report_candidate(&ref, 0, c0);
	queue_report_candidate(&ref, 1, c1);
	queue_bounce_id(orig.id, 1, id);
	ck_assert_str_eq(c0, id);	/* candidate 0: the id made before */
	ck_assert_str_ne(c0, c1);
	ck_assert_int_eq(strncmp(c1, orig.id, 8), 0);

	other = ref;
	other.orig[15] = other.orig[15] == '0' ? '1' : '0';
	memcpy(foreign.id, c0, sizeof(c0));
	foreign.sender = xstrdup("");
	foreign.report = other;
	queue_env_add_rcpt(&foreign, "alice@a.test", NULL, NULL);
	ck_assert_int_eq(queue_store_buf(q, "foreign\r\n", 9, &foreign, err,
					 sizeof(err)), 0);

	ck_assert_int_eq(store_report(q, &ref, "report\r\n", id), 0);
	ck_assert_str_eq(id, c1);
	ck_assert_int_eq(queue_msg_read(q, c0, &msg, err, sizeof(err)), 0);
	ck_assert_uint_eq(msg.len, 9);
	ck_assert_int_eq(memcmp(msg.data, "foreign\r\n", 9), 0);
	ck_assert_int_eq(queue_env_load(q, c0, &back, err, sizeof(err)), 0);
	ck_assert_str_eq(back.report.orig, other.orig);
	queue_env_free(&back);
	ck_assert_int_eq(queue_env_load(q, c1, &back, err, sizeof(err)), 0);
	ck_assert_str_eq(back.sender, "");
	ck_assert_str_eq(back.report.orig, orig.id);
	ck_assert_int_eq(back.report.kind, 'f');
	ck_assert_uint_eq(back.report.first, 1);
	queue_env_free(&back);

	/* the replay after a crash: found at c1, nothing written */
	ck_assert_int_eq(store_report(q, &ref, "report again\r\n", id), 1);
	ck_assert_str_eq(id, c1);
	ck_assert_int_eq(queue_scan(q, count_id, &n, err, sizeof(err)), 0);
	ck_assert_int_eq(n, 3);
	runner_settle_bounce(q, orig.id, 0);
	ck_assert_int_eq(queue_env_load(q, orig.id, &back, err, sizeof(err)), 0);
	ck_assert_int_eq(back.rcpts[1].state, QR_REPORTED);
	queue_env_free(&back);
	buf_clear(&msg);
	ck_assert_int_eq(queue_msg_read(q, c0, &msg, err, sizeof(err)), 0);
	ck_assert_uint_eq(msg.len, 9);

	/* a message being queued under the first candidate (its .msg alone)
	 * is skipped too; when it is gone after the crash, the report is
	 * still found at the second, not queued again at the first */
	ref.first = 2;
	queue_report_candidate(&ref, 0, c0);
	queue_report_candidate(&ref, 1, c1);
	queue_path(&p, q, c0, "msg");
	fd = open(p.data, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(store_report(q, &ref, "report\r\n", id), 0);
	ck_assert_str_eq(id, c1);
	ck_assert_int_eq(access(p.data, F_OK), 0);
	ck_assert_int_eq(unlink(p.data), 0);
	ck_assert_int_eq(store_report(q, &ref, "report\r\n", id), 1);
	ck_assert_str_eq(id, c1);
	ck_assert(!queue_exists(q, c0));

	queue_env_free(&foreign);
	queue_env_free(&orig);
	buf_free(&msg);
	buf_free(&p);
	free(q);
}
END_TEST

static size_t n_cleared;

static void count_cleared(struct qmsg *m)
{
	n_cleared++;
	free(m);
}

/* The runner's messages by id: found after the table grew, gone once
 * removed, each visited once, each handed back when cleared. */
START_TEST(test_runner_table)
{
	struct qmsg_table t = { 0 };
	struct qmsg *ms[5000], probe;
	size_t n = sizeof(ms) / sizeof(ms[0]), seen = 0;

	ck_assert_ptr_null(qmsg_table_find(&t, "0123456789ABCDEF"));
	ck_assert_ptr_null(qmsg_table_next(&t, NULL));
	for (size_t i = 0; i < n; i++) {
		ms[i] = xcalloc(1, sizeof(*ms[i]));
		snprintf(ms[i]->id, sizeof(ms[i]->id), "6B14D7CF%08zX", i * 7919);
		qmsg_table_add(&t, ms[i]);
	}
	ck_assert_uint_eq(t.n, n);
	for (size_t i = 0; i < n; i++)
		ck_assert_ptr_eq(qmsg_table_find(&t, ms[i]->id), ms[i]);
	for (size_t i = 0; i < n; i += 2) {
		qmsg_table_remove(&t, ms[i]);
		free(ms[i]);
		ms[i] = NULL;
	}
	snprintf(probe.id, sizeof(probe.id), "6B14D7CF%08zX", (size_t)0);
	qmsg_table_remove(&t, &probe);		/* not there: nothing happens */
	ck_assert_uint_eq(t.n, n / 2);
	for (size_t i = 0; i < n; i++) {
		char id[QUEUE_ID_LEN + 1];

		snprintf(id, sizeof(id), "6B14D7CF%08zX", i * 7919);
		ck_assert_ptr_eq(qmsg_table_find(&t, id), ms[i]);
	}
	for (struct qmsg *m = qmsg_table_next(&t, NULL); m != NULL;
	     m = qmsg_table_next(&t, m))
		seen++;
	ck_assert_uint_eq(seen, n / 2);
	n_cleared = 0;
	qmsg_table_clear(&t, count_cleared);
	ck_assert_uint_eq(n_cleared, n / 2);
	ck_assert_uint_eq(t.n, 0);
	ck_assert_ptr_null(qmsg_table_find(&t, "6B14D7CF00001EEF"));
}
END_TEST

/* An authenticated submission session with EHLO said. */
static void submission(void)
{
	drv_open(&D, SVC_SUBMISSIONS);
	D.io.tls = true;
	drv_output(&D);
	drv_send(&D, "EHLO x\r\n");
	ck_reply(drv_send(&D, "AUTH PLAIN AGFsaWNlAGFsaWNlLXNlY3JldC0x\r\n"), "235 2.7.0");
}

struct found {
	char id[QUEUE_ID_LEN + 1];
	int n;
};

static void remember_id(const char *id, void *arg)
{
	struct found *f = arg;

	snprintf(f->id, sizeof(f->id), "%s", id);
	f->n++;
}

static struct found queued(void)
{
	struct found f = { "", 0 };
	char *q = qdir();

	ck_assert_int_eq(queue_scan(q, remember_id, &f, err, sizeof(err)), 0);
	free(q);
	return f;
}

#define BODY "Subject: relay\r\nFrom: alice@lab.test\r\n\r\nHello.\r\n"

START_TEST(test_session_queues_remote)
{
	struct queue_env e;
	struct buf msg = BUF_INIT(BUF_UNLIMITED);
	struct found f;
	char *q = qdir();

	submission();
	ck_reply(drv_send(&D, "MAIL FROM:<alice@lab.test> BODY=8BITMIME RET=HDRS ENVID=e1\r\n"),
		 "250 2.1.0");
	ck_reply(drv_send(&D, "RCPT TO:<bob@b.test> NOTIFY=FAILURE\r\n"), "250 2.1.5");
	ck_reply(drv_send(&D, "RCPT TO:<bob@lab.test>\r\n"), "250 2.1.5");
	ck_reply(drv_send(&D, "RCPT TO:<carol@c.test>\r\n"), "250 2.1.5");
	ck_reply(drv_send(&D, "DATA\r\n"), "354 ");
	ck_reply(drv_send(&D, BODY ".\r\n"), "250 2.0.0");
	/* the local recipient at once, the remote ones in the queue */
	ck_assert_int_eq(drv_count(&D, "bob", "new"), 1);
	f = queued();
	ck_assert_int_eq(f.n, 1);
	ck_assert_int_eq(queue_env_load(q, f.id, &e, err, sizeof(err)), 0);
	ck_assert_str_eq(e.sender, "alice@lab.test");
	ck_assert(e.body_8bit);
	ck_assert_str_eq(e.ret, "HDRS");
	ck_assert_str_eq(e.envid, "e1");
	ck_assert_uint_eq(e.n_rcpts, 2);
	ck_assert_str_eq(e.rcpts[0].addr, "bob@b.test");
	ck_assert_str_eq(e.rcpts[0].notify, "FAILURE");
	ck_assert_str_eq(e.rcpts[1].addr, "carol@c.test");
	ck_assert_int_eq(e.rcpts[0].state, QR_PENDING);
	ck_assert_int_eq(queue_msg_read(q, f.id, &msg, err, sizeof(err)), 0);
	ck_assert_uint_eq(msg.len, e.size);
	ck_assert(msg.len > strlen(BODY));
	ck_assert(memcmp(msg.data + msg.len - strlen(BODY), BODY, strlen(BODY)) == 0);
	queue_env_free(&e);
	buf_free(&msg);

	/* remote only: nothing delivered locally, a second queue entry */
	ck_reply(drv_send(&D, "MAIL FROM:<alice@lab.test>\r\n"), "250 2.1.0");
	ck_reply(drv_send(&D, "RCPT TO:<dave@d.test>\r\n"), "250 2.1.5");
	ck_reply(drv_send(&D, "DATA\r\n"), "354 ");
	ck_reply(drv_send(&D, BODY ".\r\n"), "250 2.0.0");
	ck_assert_int_eq(queued().n, 2);
	ck_assert_int_eq(drv_count(&D, "bob", "new"), 1);
	free(q);
}
END_TEST

static void data_to_bob_both(void)
{
	ck_reply(drv_send(&D, "MAIL FROM:<alice@lab.test>\r\n"), "250 2.1.0");
	ck_reply(drv_send(&D, "RCPT TO:<bob@b.test>\r\n"), "250 2.1.5");
	ck_reply(drv_send(&D, "RCPT TO:<bob@lab.test>\r\n"), "250 2.1.5");
	ck_reply(drv_send(&D, "DATA\r\n"), "354 ");
}

START_TEST(test_session_local_failure_takes_queue_back)
{
	char a[4096], b[4096];

	submission();
	/* the queue takes it, the local delivery fails (bob's new/ is
	 * gone): 451, and the queued copy is taken back, since the client
	 * will send the message again */
	snprintf(a, sizeof(a), "%s/mail/bob/new", D.dir);
	snprintf(b, sizeof(b), "%s/mail/bob/new.away", D.dir);
	ck_assert_int_eq(rename(a, b), 0);
	data_to_bob_both();
	ck_reply(drv_send(&D, BODY ".\r\n"), "451 4.3.0");
	ck_assert_int_eq(rename(b, a), 0);
	ck_assert_int_eq(queued().n, 0);
	ck_assert_int_eq(drv_count(&D, "bob", "new"), 0);
	/* a queue that cannot be written (DIR/queue is a file): 451, and
	 * nothing delivered locally either */
	snprintf(a, sizeof(a), "%s/queue", D.dir);
	unit_rmtree(a);
	close(open(a, O_WRONLY | O_CREAT, 0600));
	data_to_bob_both();
	ck_reply(drv_send(&D, BODY ".\r\n"), "451 4.3.0");
	ck_assert_int_eq(drv_count(&D, "bob", "new"), 0);
	ck_assert_int_eq(unlink(a), 0);
	/* and the session goes on: the same message now passes */
	data_to_bob_both();
	ck_reply(drv_send(&D, BODY ".\r\n"), "250 2.0.0");
	ck_assert_int_eq(queued().n, 1);
	ck_assert_int_eq(drv_count(&D, "bob", "new"), 1);
}
END_TEST

/* An alias that forwards outside (issue 12, safety): refused unless
 * alias_remote_targets is on; then its remote targets are queued with
 * ORCPT naming the alias, and its local ones delivered at once. */
START_TEST(test_alias_forwarding_only_when_configured)
{
	struct queue_env e;
	struct found f;
	char *q = qdir();
	struct alias_db *a = alias_db_open(userdb_env(D.users), err, sizeof(err));

	ck_assert_msg(a != NULL, "%s", err);
	ck_assert_int_eq(alias_put(a, "fwd", "bob,someone@other.test", err,
				   sizeof(err)), 0);
	alias_db_close(&a);
	drv_open(&D, SVC_SMTP);
	drv_output(&D);
	drv_send(&D, "EHLO x\r\n");
	ck_reply(drv_send(&D, "MAIL FROM:<a@example.com>\r\n"), "250 2.1.0");
	ck_assert_str_eq(drv_send(&D, "RCPT TO:<fwd@lab.test>\r\n"),
			 "451 4.3.2 <fwd@lab.test>: Alias leads to remote addresses "
			 "and relay is not configured\r\n");
	ck_assert_str_eq(drv_send(&D, "RCPT TO:<someone@other.test>\r\n"),
			 "554 5.7.1 <someone@other.test>: Relay access denied\r\n");
	ck_reply(drv_send(&D, "RSET\r\n"), "250 2.0.0");
	ck_assert_int_eq(queued().n, 0);

	D.set.alias_remote = true;
	ck_reply(drv_send(&D, "MAIL FROM:<a@example.com>\r\n"), "250 2.1.0");
	ck_reply(drv_send(&D, "RCPT TO:<fwd@lab.test> NOTIFY=FAILURE,DELAY\r\n"),
		 "250 2.1.5");
	/* the alias forwards; the MX port still relays nothing else */
	ck_reply(drv_send(&D, "RCPT TO:<someone@other.test>\r\n"), "554 5.7.1");
	ck_reply(drv_send(&D, "DATA\r\n"), "354 ");
	ck_reply(drv_send(&D, BODY ".\r\n"), "250 2.0.0");
	ck_assert_int_eq(drv_count(&D, "bob", "new"), 1);
	f = queued();
	ck_assert_int_eq(f.n, 1);
	ck_assert_int_eq(queue_env_load(q, f.id, &e, err, sizeof(err)), 0);
	ck_assert_str_eq(e.sender, "a@example.com");
	ck_assert_uint_eq(e.n_rcpts, 1);
	ck_assert_str_eq(e.rcpts[0].addr, "someone@other.test");
	ck_assert_str_eq(e.rcpts[0].notify, "FAILURE,DELAY");
	ck_assert_str_eq(e.rcpts[0].orcpt, "rfc822;fwd@lab.test");
	queue_env_free(&e);
	free(q);
}
END_TEST

START_TEST(test_mx_port_never_relays)
{
	drv_open(&D, SVC_SMTP);
	drv_output(&D);
	drv_send(&D, "EHLO x\r\n");
	ck_reply(drv_send(&D, "MAIL FROM:<a@example.com>\r\n"), "250 2.1.0");
	ck_assert_str_eq(drv_send(&D, "RCPT TO:<bob@b.test>\r\n"),
			 "554 5.7.1 <bob@b.test>: Relay access denied\r\n");
	ck_reply(drv_send(&D, "RCPT TO:<bob@lab.test>\r\n"), "250 2.1.5");
	ck_reply(drv_send(&D, "DATA\r\n"), "354 ");
	ck_reply(drv_send(&D, BODY ".\r\n"), "250 2.0.0");
	ck_assert_int_eq(queued().n, 0);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("smtp-queue");
	TCase *tc = tcase_create("queue");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_env_round_trip);
	tcase_add_test(tc, test_env_malformed);
	tcase_add_test(tc, test_queue_files);
	tcase_add_test(tc, test_queue_store_moves);
	tcase_add_test(tc, test_bounce_once_across_a_crash);
	tcase_add_test(tc, test_store_buf_leaves_a_taken_id_alone);
	tcase_add_test(tc, test_report_id_taken);
	tcase_add_test(tc, test_runner_table);
	tcase_add_test(tc, test_session_queues_remote);
	tcase_add_test(tc, test_session_local_failure_takes_queue_back);
	tcase_add_test(tc, test_mx_port_never_relays);
	tcase_add_test(tc, test_alias_forwarding_only_when_configured);
	suite_add_tcase(s, tc);
	return s;
}
