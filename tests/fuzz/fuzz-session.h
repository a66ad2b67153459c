/* The session driver shared by fuzz-smtp-session.c, fuzz-pop3-session.c and
 * fuzz-imap-session.c: a protocol state machine on an io from
 * io_init_test(), fed a client's byte stream the way common/conn.c feeds it
 * (the line reader, exact byte counts for literals and BDAT, the DATA
 * reader, input discarded at STARTTLS, more_output drained), in chunks whose
 * sizes the fuzz input decides.  One temporary instance per process (users
 * alice and bob, password "secret"), whose mail is put back to three
 * known messages before every input, so that a crash replays alone.
 *
 * Input: byte 0 options (bits 0-1 the service variant, bits 2-3 what ends
 * the session: close, timeout, shutdown, bit 4 loopback, bit 5 strict mode
 * with a trace, bit 6 bytes sent before the greeting), bytes 1-2 the chunk
 * seed, the rest the client's bytes. */
#ifndef TESTS_FUZZ_FUZZ_SESSION_H
#define TESTS_FUZZ_FUZZ_SESSION_H
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/config.h"
#include "common/datareader.h"
#include "common/linereader.h"
#include "common/log.h"
#include "common/proto.h"
#include "common/trace.h"
#include "common/users.h"
#include "common/xalloc.h"
#include "maildir/deliver.h"
#include "maildir/fsutil.h"
#include "maildir/user.h"
#include "tests/fuzz/fuzz.h"

#define FUZZ_PASSWORD "secret"

#ifndef FUZZ_REPLAY
/* yescrypt costs ~15 ms a login, which would make the fuzzer spend its time
 * hashing: the fuzz binaries link this cheap stand-in for libxcrypt's
 * crypt_rn instead (same "$y$params$salt$hash" shape, same answers for
 * equal passwords).  The replay in `make check` keeps the real one. */
#include <crypt.h>
char *crypt_rn(const char *phrase, const char *setting, void *data, int size)
{
	struct crypt_data *cd = data;
	size_t n = 0, dollars = 0;
	uint64_t h = 1469598103934665603ull;

	if (size < (int)sizeof(*cd) || strncmp(setting, "$y$", 3) != 0)
		return NULL;
	while (setting[n] != '\0' && !(setting[n] == '$' && ++dollars == 4))
		n++;
	if (n > 100)
		return NULL;
	for (const char *p = phrase; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)setting[i]) * 1099511628211ull;
	snprintf(cd->output, sizeof(cd->output), "%.*s$%016llx", (int)n,
		 setting, (unsigned long long)h);
	return cd->output;
}
#endif

struct fuzz_instance {
	char dir[256];
	char mail_root[300];
	struct config cfg;
	struct userdb *users;
};

static struct fuzz_instance fuzz_inst;

static void fuzz_instance_remove(void)
{
	userdb_close(&fuzz_inst.users);
	config_free(&fuzz_inst.cfg);
	fs_rmtree(fuzz_inst.dir);
}

/* The instance, once per process: on /dev/shm when there is one (the
 * deliveries fsync), removed at exit. */
static void fuzz_instance_init(const char *conf)
{
	char err[512];

	if (fuzz_inst.users != NULL)
		return;
	log_open(NULL, false);
	snprintf(fuzz_inst.dir, sizeof(fuzz_inst.dir), "%s/maillab-fuzz-XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	FUZZ_CHECK(mkdtemp(fuzz_inst.dir) != NULL);
	snprintf(fuzz_inst.mail_root, sizeof(fuzz_inst.mail_root), "%s/mail",
		 fuzz_inst.dir);
	config_defaults(&fuzz_inst.cfg, fuzz_inst.dir);
	if (config_parse(&fuzz_inst.cfg, "fuzz", conf, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	fuzz_inst.users = userdb_open(fuzz_inst.dir, err, sizeof(err));
	FUZZ_CHECK(fuzz_inst.users != NULL);
	FUZZ_CHECK(userdb_add(fuzz_inst.users, "alice", FUZZ_PASSWORD, err,
			      sizeof(err)) == 0);
	FUZZ_CHECK(userdb_add(fuzz_inst.users, "bob", FUZZ_PASSWORD, err,
			      sizeof(err)) == 0);
	FUZZ_CHECK(maildir_user_create(fuzz_inst.mail_root, "bob", err,
				       sizeof(err)) == 0);
	atexit(fuzz_instance_remove);
}

static void fuzz_deliver(const char *user, const char *msg)
{
	struct maildir_rcpt rcpt = { user, NULL };
	struct maildir_delivery *d;
	char err[512];

	d = maildir_delivery_begin(fuzz_inst.mail_root, err, sizeof(err));
	FUZZ_CHECK(d != NULL);
	FUZZ_CHECK(maildir_delivery_write(d, msg, strlen(msg)) == 0);
	FUZZ_CHECK(maildir_delivery_commit(d, &rcpt, 1, err, sizeof(err)) == 0);
	maildir_delivery_free(&d);
}

/* alice's mail as it was: three messages in her inbox, empty folders. */
static void fuzz_instance_reset(void)
{
	char err[512];

	(void)maildir_user_remove(fuzz_inst.mail_root, "alice", err,
				  sizeof(err));
	FUZZ_CHECK(maildir_user_create(fuzz_inst.mail_root, "alice", err,
				       sizeof(err)) == 0);
	fuzz_deliver("alice", "From: Bob <bob@lab.test>\r\nTo: alice@lab.test\r\n"
		     "Subject: hello\r\nDate: Sat, 5 Dec 2026 10:00:00 +0000\r\n"
		     "Message-ID: <1@lab.test>\r\n\r\nHi Alice.\r\n.dot\r\n");
	fuzz_deliver("alice", "From: carol@example.org\r\nTo: alice@lab.test, "
		     "Undisclosed:;\r\nSubject: =?UTF-8?Q?caf=C3=A9?=\r\n"
		     "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; "
		     "boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; "
		     "charset=utf-8\r\n\r\npart one\r\n--b\r\nContent-Type: "
		     "message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body\r\n"
		     "--b--\r\n");
	fuzz_deliver("alice", "Subject: no body\r\n\r\n");
}

struct fuzz_sess {
	const struct protocol *P;
	struct proto_io io;
	void *s;
	struct line_reader lr;
	struct buf bytes;	/* INPUT_BYTES without a sink */
	size_t bytes_got;
	size_t max_reply_line;	/* 0: no limit to check */
};

/* What conn.c checks of the output after each unit: whole lines only
 * (CRLF-terminated, an LF never without its CR), none over the limit. */
static void fuzz_check_output(struct fuzz_sess *f)
{
	const char *o = f->io.out.data;
	size_t n = f->io.out.len, start = 0;

	if (n == 0)
		return;
	if (getenv("FUZZ_SHOW") != NULL)	/* to read a reproducer's dialogue */
		fwrite(o, 1, n, stderr);
	FUZZ_CHECK(n >= 2 && o[n - 2] == '\r' && o[n - 1] == '\n');
	for (size_t i = 0; i < n; i++) {
		if (o[i] != '\n')
			continue;
		FUZZ_CHECK(i > 0 && o[i - 1] == '\r');
		if (f->max_reply_line > 0)
			FUZZ_CHECK(i + 1 - start <= f->max_reply_line);
		start = i + 1;
	}
	buf_clear(&f->io.out);
}

/* conn.c's after_unit: replies out, more output asked for until done. */
static void fuzz_after_unit(struct fuzz_sess *f)
{
	fuzz_check_output(f);
	while (f->io.more_output && !f->io.close) {
		f->io.more_output = false;
		FUZZ_CHECK(f->P->resume_output != NULL);
		f->P->resume_output(f->s);
		fuzz_check_output(f);
	}
}

/* conn.c's feed_chunk. */
static size_t fuzz_feed_chunk(struct fuzz_sess *f, const char *p, size_t n)
{
	size_t used = 0, want;

	switch (f->io.mode) {
	case INPUT_LINE:
		if (f->lr.max != f->io.max_line ||
		    f->lr.bare_lf_ends_line != f->io.bare_lf_ends_line) {
			lr_free(&f->lr);
			lr_init(&f->lr, f->io.max_line, f->io.bare_lf_ends_line);
		}
		switch (lr_feed(&f->lr, p, n, &used)) {
		case LR_LINE:
			/* conn.c: bytes of this read left behind the line */
			if (used < n)
				f->lr.flags |= LINE_MORE_QUEUED;
			if (f->P->trace_visible != NULL)
				FUZZ_CHECK(f->P->trace_visible(f->s,
					buf_cstr(&f->lr.line), f->lr.line.len) <=
					f->lr.line.len);
			f->P->line(f->s, buf_cstr(&f->lr.line), f->lr.line.len,
				   f->lr.flags);
			break;
		case LR_OVERLONG:
			f->P->overlong(f->s);
			break;
		case LR_MORE:
			break;
		}
		break;
	case INPUT_BYTES:
		want = f->io.bytes_wanted - f->bytes_got;
		used = n < want ? n : want;
		if (f->io.bytes_sink != NULL)
			f->io.bytes_sink(f->io.bytes_sink_arg, p, used);
		else
			buf_append(&f->bytes, p, used);
		f->bytes_got += used;
		if (f->bytes_got == f->io.bytes_wanted) {
			f->bytes_got = 0;
			f->io.mode = INPUT_LINE;
			f->P->bytes(f->s, buf_cstr(&f->bytes), f->bytes.len);
			buf_free(&f->bytes);
			buf_init(&f->bytes, BUF_UNLIMITED);
		}
		break;
	case INPUT_DATA:
		FUZZ_CHECK(f->io.data != NULL);
		if (dr_feed(f->io.data, p, n, &used)) {
			f->io.mode = INPUT_LINE;
			f->P->data_end(f->s);
		}
		break;
	}
	FUZZ_CHECK(used <= n);
	return used;
}

/* conn.c's STARTTLS: what was buffered is dropped, the handshake succeeds
 * (when the service has a certificate), the session is told. */
static void fuzz_tls(struct fuzz_sess *f)
{
	f->io.starttls = false;
	lr_reset(&f->lr);
	f->io.tls = true;
	f->io.tls_version = "TLSv1.3";
	f->io.tls_cipher = "TLS_AES_256_GCM_SHA384";
	f->P->tls_done(f->s);
	fuzz_after_unit(f);
}

/* One session over data[0..size) as described at the top. */
static void fuzz_session_run(const struct protocol *P,
			     const enum service_id svc[4], size_t max_reply_line,
			     const uint8_t *data, size_t size)
{
	struct fuzz_sess f;
	struct fuzz_chunks ch;
	const char *s = (const char *)data + 3;
	size_t len, pos = 0;
	unsigned opts;

	if (size < 3)
		return;
	opts = data[0];
	len = size - 3;
	fuzz_chunks_init(&ch, (uint32_t)data[1] << 8 | data[2]);
	memset(&f, 0, sizeof(f));
	f.P = P;
	f.max_reply_line = max_reply_line;
	buf_init(&f.bytes, BUF_UNLIMITED);
	fuzz_inst.cfg.strict = opts & 0x20;
	io_init_test(&f.io, &fuzz_inst.cfg, svc[opts & 3]);
	f.io.users = fuzz_inst.users;
	f.io.loopback = opts & 0x10;
	f.io.early_input = opts & 0x40;
	/* strict mode writes its lines to the trace (common/strict.h) */
	if (fuzz_inst.cfg.strict) {
		f.io.trace = trace_open(fuzz_inst.dir, P->name, "fuzz");
		FUZZ_CHECK(f.io.trace != NULL);
	}
	if (svc[opts & 3] == SVC_SUBMISSIONS || svc[opts & 3] == SVC_POP3S ||
	    svc[opts & 3] == SVC_IMAPS) {
		f.io.tls = true;
		f.io.tls_version = "TLSv1.3";
		f.io.tls_cipher = "TLS_AES_256_GCM_SHA384";
	}
	f.s = P->open(&f.io);
	FUZZ_CHECK(f.s != NULL);
	lr_init(&f.lr, f.io.max_line, f.io.bare_lf_ends_line);
	fuzz_after_unit(&f);
	while (!f.io.close && (pos < len ||
	       (f.io.mode == INPUT_BYTES && f.io.bytes_wanted == 0))) {
		size_t n, used, done = 0;

		if (f.io.mode == INPUT_BYTES && f.io.bytes_wanted == 0) {
			/* a zero-length literal completes at once */
			f.io.mode = INPUT_LINE;
			P->bytes(f.s, "", 0);
			fuzz_after_unit(&f);
			continue;
		}
		/* one read's worth, taken unit by unit as conn.c does */
		n = fuzz_chunk(&ch, len - pos);
		while (done < n && !f.io.close && !f.io.starttls) {
			if (f.io.mode == INPUT_BYTES && f.io.bytes_wanted == 0)
				break;
			used = fuzz_feed_chunk(&f, s + pos + done, n - done);
			done += used;
			fuzz_after_unit(&f);
		}
		if (f.io.starttls) {
			done = n;	/* the rest of that read is dropped */
			fuzz_tls(&f);
		}
		pos += done;
	}
	switch ((opts >> 2) & 3) {
	case 1:
		if (!f.io.close) {
			P->timeout(f.s);
			fuzz_after_unit(&f);
		}
		break;
	case 2:
		if (!f.io.close) {
			P->shutdown(f.s);
			fuzz_after_unit(&f);
		}
		break;
	default:
		break;
	}
	P->close(f.s);
	if (f.io.trace != NULL) {
		char path[512];

		trace_close(&f.io.trace);
		snprintf(path, sizeof(path), "%s/%s-fuzz.log", fuzz_inst.dir,
			 P->name);
		unlink(path);
	}
	lr_free(&f.lr);
	buf_free(&f.bytes);
	io_free(&f.io);
}

#endif
