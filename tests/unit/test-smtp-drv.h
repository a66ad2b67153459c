/* A test driver for the SMTP state machine: what common/conn.c does with a
 * byte stream (line reader, DATA reader, BDAT byte counts, discarding input
 * after STARTTLS), on an io from io_init_test, in a temporary instance with
 * users alice and bob.  Included by the tests/unit/test-smtp-*.c suites. */
#ifndef TEST_SMTP_DRV_H
#define TEST_SMTP_DRV_H
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "common/datareader.h"
#include "common/linereader.h"
#include "common/proto.h"
#include "common/users.h"
#include "common/xalloc.h"
#include "maildir/user.h"
#include "smtpd/session.h"
#include "smtpd/smtp.h"
#include "tests/unit/unit.h"

#define ALICE_PW "alice-secret-1"
#define BOB_PW "bob-secret-2"

struct drv {
	char *dir;
	struct config cfg;
	struct smtp_settings set;
	struct userdb *users;
	struct proto_io io;
	struct smtp_session *s;
	struct line_reader lr;
	size_t bytes_got;
	size_t out_seen;	/* io.out bytes already returned */
	struct buf reply;	/* the last drv_send's output */
	bool opened;
};

/* The instance and users; call drv_open for the session. */
static inline void drv_setup(struct drv *d)
{
	char err[256], root[4096];

	memset(d, 0, sizeof(*d));
	d->dir = unit_tmpdir();
	config_defaults(&d->cfg, d->dir);
	free(d->cfg.hostname);
	d->cfg.hostname = xstrdup("mx.lab.test");
	d->users = userdb_open(d->dir, err, sizeof(err));
	ck_assert_msg(d->users != NULL, "%s", err);
	ck_assert_msg(userdb_add(d->users, "alice", ALICE_PW, err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert_msg(userdb_add(d->users, "bob", BOB_PW, err, sizeof(err)) == 0,
		      "%s", err);
	snprintf(root, sizeof(root), "%s/mail", d->dir);
	ck_assert(maildir_user_create(root, "alice", err, sizeof(err)) == 0);
	ck_assert(maildir_user_create(root, "bob", err, sizeof(err)) == 0);
	buf_init(&d->reply, BUF_UNLIMITED);
}

/* A session on service svc, with the greeting read. */
static inline void drv_open(struct drv *d, enum service_id svc)
{
	io_init_test(&d->io, &d->cfg, svc);
	d->io.users = d->users;
	d->io.loopback = false;
	d->s = smtp_protocol.open(&d->io);
	d->set = *d->s->set;
	d->s->set = &d->set;
	lr_init(&d->lr, d->io.max_line, d->io.bare_lf_ends_line);
	d->opened = true;
	d->out_seen = 0;
}

static inline void drv_close(struct drv *d)
{
	if (d->opened) {
		smtp_protocol.close(d->s);
		io_free(&d->io);
		lr_free(&d->lr);
		d->opened = false;
	}
}

static inline void drv_teardown(struct drv *d)
{
	drv_close(d);
	userdb_close(&d->users);
	config_free(&d->cfg);
	buf_free(&d->reply);
	unit_rmtree(d->dir);
	free(d->dir);
}

/* Feeds one chunk to the reader of the current mode, as conn.c does;
 * returns bytes consumed. */
static inline size_t drv_chunk(struct drv *d, const char *p, size_t n)
{
	size_t used = 0, want;

	switch (d->io.mode) {
	case INPUT_LINE:
		if (d->lr.max != d->io.max_line ||
		    d->lr.bare_lf_ends_line != d->io.bare_lf_ends_line) {
			lr_free(&d->lr);
			lr_init(&d->lr, d->io.max_line, d->io.bare_lf_ends_line);
		}
		switch (lr_feed(&d->lr, p, n, &used)) {
		case LR_LINE:
			smtp_protocol.line(d->s, buf_cstr(&d->lr.line),
					   d->lr.line.len, d->lr.flags);
			break;
		case LR_OVERLONG:
			smtp_protocol.overlong(d->s);
			break;
		case LR_MORE:
			break;
		}
		break;
	case INPUT_BYTES:
		want = d->io.bytes_wanted - d->bytes_got;
		used = n < want ? n : want;
		ck_assert_ptr_nonnull(d->io.bytes_sink);
		d->io.bytes_sink(d->io.bytes_sink_arg, p, used);
		d->bytes_got += used;
		if (d->bytes_got == d->io.bytes_wanted) {
			d->bytes_got = 0;
			d->io.mode = INPUT_LINE;
			smtp_protocol.bytes(d->s, "", 0);
		}
		break;
	case INPUT_DATA:
		if (dr_feed(d->io.data, p, n, &used)) {
			d->io.mode = INPUT_LINE;
			smtp_protocol.data_end(d->s);
		}
		break;
	}
	return used;
}

/* Feeds bytes in pieces of `step` (0: all at once); input after a close
 * or STARTTLS request is dropped, as conn.c does. */
static inline void drv_feed_step(struct drv *d, const char *p, size_t n, size_t step)
{
	while (n > 0 && !d->io.close && !d->io.starttls) {
		size_t piece = step == 0 || step > n ? n : step;
		size_t used = drv_chunk(d, p, piece);

		p += used;
		n -= used;
	}
}

/* The output queued since the last call. */
static inline const char *drv_output(struct drv *d)
{
	buf_clear(&d->reply);
	buf_append(&d->reply, d->io.out.data + d->out_seen,
		   d->io.out.len - d->out_seen);
	d->out_seen = d->io.out.len;
	return buf_cstr(&d->reply);
}

/* Sends `text` (all at once) and returns the replies it produced. */
static inline const char *drv_sendn(struct drv *d, const char *text, size_t n)
{
	drv_feed_step(d, text, n, 0);
	return drv_output(d);
}

static inline const char *drv_send(struct drv *d, const char *text)
{
	return drv_sendn(d, text, strlen(text));
}

/* Completes a STARTTLS handshake as conn.c does. */
static inline void drv_tls(struct drv *d)
{
	ck_assert(d->io.starttls);
	d->io.starttls = false;
	d->io.tls = true;
	d->io.tls_version = "TLSv1.3";
	d->io.tls_cipher = "TLS_AES_256_GCM_SHA384";
	lr_reset(&d->lr);
	smtp_protocol.tls_done(d->s);
}

/* Asserts the reply starts with `prefix`. */
#define ck_reply(got, prefix) \
	ck_assert_msg(strncmp((got), (prefix), strlen(prefix)) == 0, \
		      "expected reply \"%s...\", got \"%s\"", (prefix), (got))

/* Number of files in DIR/mail/USER/SUB (new, tmp, .Folder/new...). */
static inline int drv_count(struct drv *d, const char *user, const char *sub)
{
	char path[4096];
	struct dirent *e;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "%s/mail/%s/%s", d->dir, user, sub);
	if ((dir = opendir(path)) == NULL)
		return -1;
	while ((e = readdir(dir)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

/* The content of the only message in DIR/mail/USER/SUB (malloc'd, NUL-
 * terminated, length in *len_r). */
static inline char *drv_message(struct drv *d, const char *user, const char *sub,
			 size_t *len_r)
{
	char path[4096];
	struct dirent *e;
	struct buf b = BUF_INIT(BUF_UNLIMITED);
	char chunk[4096];
	ssize_t got;
	DIR *dir;
	int fd, n = 0;

	snprintf(path, sizeof(path), "%s/mail/%s/%s", d->dir, user, sub);
	dir = opendir(path);
	ck_assert_ptr_nonnull(dir);
	while ((e = readdir(dir)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		n++;
		snprintf(path, sizeof(path), "%s/mail/%s/%s/%s", d->dir, user,
			 sub, e->d_name);
	}
	closedir(dir);
	ck_assert_int_eq(n, 1);
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	while ((got = read(fd, chunk, sizeof(chunk))) > 0)
		buf_append(&b, chunk, (size_t)got);
	close(fd);
	*len_r = b.len;
	return b.data != NULL ? buf_steal(&b) : xstrdup("");
}

/* Skips the trace fields (Return-Path, Received with its continuation
 * lines) checking their form; returns where the client's message starts.
 * `for_rcpt`: the Received "for" address, or NULL when none must appear. */
static inline const char *drv_skip_trace(const char *msg, const char *return_path,
				  const char *with, const char *for_rcpt)
{
	char want[512];
	const char *p = msg, *end;

	snprintf(want, sizeof(want), "Return-Path: <%s>\r\nReceived: from ",
		 return_path);
	ck_assert_msg(strncmp(p, want, strlen(want)) == 0, "trace: %.200s", p);
	p += strlen(want);
	/* the Received field runs to the first line not starting with TAB */
	end = p;
	for (;;) {
		end = strstr(end, "\r\n");
		ck_assert_ptr_nonnull(end);
		end += 2;
		if (*end != '\t')
			break;
	}
	snprintf(want, sizeof(want), " (maillab) with %s id ", with);
	ck_assert_msg(memmem(p, (size_t)(end - p), want, strlen(want)) != NULL,
		      "Received: %.*s", (int)(end - p), p);
	if (for_rcpt != NULL) {
		snprintf(want, sizeof(want), "\tfor <%s>;", for_rcpt);
		ck_assert_msg(memmem(p, (size_t)(end - p), want, strlen(want)) != NULL,
			      "Received: %.*s", (int)(end - p), p);
	} else {
		ck_assert(memmem(p, (size_t)(end - p), "for <", 5) == NULL);
	}
	ck_assert(memmem(p, (size_t)(end - p), " +0000\r\n", 8) != NULL);
	return end;
}

#endif
