/* A driver for strict-mode tests (common/strict.h), for any of the three
 * protocols: what common/conn.c does with a byte stream (line reader with
 * LINE_MORE_QUEUED, literals and BDAT chunks, DATA bodies) on an io from
 * io_init_test, with the session's trace in a file.  A scenario is run
 * twice, strict off and on; the tests check that the replies are the same
 * and that the strict trace names the rule.  Included by the
 * tests/unit/test-strict-*.c suites. */
#ifndef TEST_STRICT_DRV_H
#define TEST_STRICT_DRV_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/config.h"
#include "common/datareader.h"
#include "common/linereader.h"
#include "common/log.h"
#include "common/proto.h"
#include "common/trace.h"
#include "common/users.h"
#include "common/xalloc.h"
#include "maildir/deliver.h"
#include "maildir/user.h"
#include "tests/unit/unit.h"

#define SD_PASSWORD "alice-pw-1"

/* The instance every scenario runs in: user alice with one message. */
struct sd_instance {
	char *dir;
	char mail_root[4096];
	char trace_dir[2048];
	struct config cfg;
	struct userdb *users;
	unsigned int runs;
};

/* One session being driven. */
struct sd_session {
	const struct protocol *proto;
	struct proto_io io;
	void *s;
	struct line_reader lr;
	struct buf bytes;	/* an INPUT_BYTES unit collected */
	char trace_path[4096];
	bool open;
};

static inline void sd_deliver(struct sd_instance *in, const char *text)
{
	char err[512];
	struct maildir_delivery *d = maildir_delivery_begin(in->mail_root, err,
							    sizeof(err));
	struct maildir_rcpt r = { "alice", NULL };

	ck_assert_msg(d != NULL, "%s", err);
	ck_assert_int_eq(maildir_delivery_write(d, text, strlen(text)), 0);
	ck_assert_msg(maildir_delivery_commit(d, &r, 1, err, sizeof(err)) == 0,
		      "%s", err);
	maildir_delivery_free(&d);
}

static inline void sd_setup(struct sd_instance *in)
{
	char err[512];

	memset(in, 0, sizeof(*in));
	log_open(NULL, false);
	in->dir = unit_tmpdir();
	config_defaults(&in->cfg, in->dir);
	free(in->cfg.hostname);
	in->cfg.hostname = xstrdup("mx.lab.test");
	in->cfg.auth_fail_delay_ms = 0;
	in->users = userdb_open(in->dir, err, sizeof(err));
	ck_assert_msg(in->users != NULL, "%s", err);
	ck_assert_int_eq(userdb_add(in->users, "alice", SD_PASSWORD, err,
				    sizeof(err)), 0);
	snprintf(in->mail_root, sizeof(in->mail_root), "%s/mail", in->dir);
	ck_assert_msg(maildir_user_create(in->mail_root, "alice", err,
					  sizeof(err)) == 0, "%s", err);
	snprintf(in->trace_dir, sizeof(in->trace_dir), "%s/trace", in->dir);
	ck_assert_int_eq(mkdir(in->trace_dir, 0700), 0);
	sd_deliver(in, "From: a@b.example\r\nSubject: one\r\n\r\nbody\r\n");
}

static inline void sd_teardown(struct sd_instance *in)
{
	userdb_close(&in->users);
	config_free(&in->cfg);
	unit_rmtree(in->dir);
	free(in->dir);
}

/* Opens a session with strict mode `strict`; early: the client talked
 * before the greeting. */
static inline void sd_open(struct sd_instance *in, struct sd_session *ss,
			   const struct protocol *proto, enum service_id svc,
			   bool strict, bool early)
{
	char id[32];

	memset(ss, 0, sizeof(*ss));
	in->cfg.strict = strict;
	ss->proto = proto;
	io_init_test(&ss->io, &in->cfg, svc);
	ss->io.users = in->users;
	ss->io.early_input = early;
	snprintf(id, sizeof(id), "run%u", ++in->runs);
	ss->io.trace = trace_open(in->trace_dir, proto->name, id);
	ck_assert_ptr_nonnull(ss->io.trace);
	snprintf(ss->trace_path, sizeof(ss->trace_path), "%s/%s-%s.log",
		 in->trace_dir, proto->name, id);
	ss->s = proto->open(&ss->io);
	lr_init(&ss->lr, ss->io.max_line, ss->io.bare_lf_ends_line);
	buf_init(&ss->bytes, BUF_UNLIMITED);
	ss->open = true;
}

/* One unit of input from p[0..n), as conn.c's feed_chunk; `more`: bytes
 * follow in this send.  Returns the bytes used. */
static inline size_t sd_chunk(struct sd_session *ss, const char *p, size_t n)
{
	struct proto_io *io = &ss->io;
	size_t used = 0, want;

	switch (io->mode) {
	case INPUT_LINE:
		if (ss->lr.max != io->max_line ||
		    ss->lr.bare_lf_ends_line != io->bare_lf_ends_line) {
			lr_free(&ss->lr);
			lr_init(&ss->lr, io->max_line, io->bare_lf_ends_line);
		}
		switch (lr_feed(&ss->lr, p, n, &used)) {
		case LR_LINE:
			if (used < n)
				ss->lr.flags |= LINE_MORE_QUEUED;
			trace_client(io->trace, buf_cstr(&ss->lr.line),
				     ss->lr.line.len, ss->lr.line.len);
			ss->proto->line(ss->s, buf_cstr(&ss->lr.line),
					ss->lr.line.len, ss->lr.flags);
			break;
		case LR_OVERLONG:
			ss->proto->overlong(ss->s);
			break;
		case LR_MORE:
			break;
		}
		break;
	case INPUT_BYTES:
		want = io->bytes_wanted - ss->bytes.len;
		used = n < want ? n : want;
		if (io->bytes_sink != NULL)
			io->bytes_sink(io->bytes_sink_arg, p, used);
		buf_append(&ss->bytes, p, used);
		if (ss->bytes.len == io->bytes_wanted) {
			io->mode = INPUT_LINE;
			ss->proto->bytes(ss->s, buf_cstr(&ss->bytes),
					 ss->bytes.len);
			buf_clear(&ss->bytes);
		}
		break;
	case INPUT_DATA:
		if (dr_feed(io->data, p, n, &used)) {
			io->mode = INPUT_LINE;
			ss->proto->data_end(ss->s);
		}
		break;
	}
	return used;
}

/* Sends text as one piece of input (as if it arrived in one read) and
 * appends the replies to out. */
static inline void sd_send(struct sd_session *ss, const char *text,
			   struct buf *out)
{
	const char *p = text;
	size_t n = strlen(text);

	while ((n > 0 || (ss->io.mode == INPUT_BYTES &&
			  ss->io.bytes_wanted == 0)) && !ss->io.close) {
		size_t used;

		if (ss->io.mode == INPUT_BYTES && ss->io.bytes_wanted == 0) {
			ss->io.mode = INPUT_LINE;
			ss->proto->bytes(ss->s, "", 0);
			continue;
		}
		used = sd_chunk(ss, p, n);
		p += used;
		n -= used;
	}
	trace_server(ss->io.trace, ss->io.out.data, ss->io.out.len);
	buf_append(out, ss->io.out.data, ss->io.out.len);
	buf_clear(&ss->io.out);
}

/* Ends the session as the I/O layer does when the client is gone; returns
 * the trace's text (free it). */
static inline char *sd_close(struct sd_session *ss)
{
	struct buf text = BUF_INIT(BUF_UNLIMITED);
	char chunk[4096];
	size_t n;
	FILE *f;

	ss->proto->close(ss->s);
	trace_close(&ss->io.trace);
	io_free(&ss->io);
	lr_free(&ss->lr);
	buf_free(&ss->bytes);
	ss->open = false;
	f = fopen(ss->trace_path, "r");
	ck_assert_ptr_nonnull(f);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&text, chunk, n);
	fclose(f);
	return buf_steal(&text);
}

/* A scenario: the pieces of input, each sent at once. */
struct sd_scenario {
	const struct protocol *proto;
	enum service_id svc;
	bool early;		/* before the greeting */
	const char *input[12];	/* NULL-ended */
};

/* Runs sc with strict off or on; the replies, greeting included, into
 * replies; returns the trace (free it). */
static inline char *sd_run(struct sd_instance *in, const struct sd_scenario *sc,
			   bool strict, struct buf *replies)
{
	struct sd_session ss;

	sd_open(in, &ss, sc->proto, sc->svc, strict, sc->early);
	buf_append(replies, ss.io.out.data, ss.io.out.len);
	trace_server(ss.io.trace, ss.io.out.data, ss.io.out.len);
	buf_clear(&ss.io.out);
	for (size_t i = 0; sc->input[i] != NULL; i++)
		sd_send(&ss, sc->input[i], replies);
	return sd_close(&ss);
}

/* The replies without what must differ between two sessions in a row:
 * IMAP's "* N RECENT" (RFC 3501 2.3.2: only the first session sees a
 * message as recent).  Returns a new string (free it). */
static inline char *sd_comparable(const struct buf *replies)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);
	const char *p = buf_cstr(replies);

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t n = nl != NULL ? (size_t)(nl + 1 - p) : strlen(p);
		bool untagged = strncmp(p, "* ", 2) == 0;
		size_t digits = untagged ? strspn(p + 2, "0123456789") : 0;

		if (!(digits > 0 &&
		      strncmp(p + 2 + digits, " RECENT\r\n", 9) == 0))
			buf_append(&b, p, n);
		p += n;
	}
	return b.data != NULL ? buf_steal(&b) : xstrdup("");
}

/* Runs sc with strict off, then on: the replies are the same, and only
 * the strict trace names `rule`, with its RFC section. */
static inline void sd_expect_rule(struct sd_instance *in,
				  const struct sd_scenario *sc,
				  const char *rule)
{
	struct buf off = BUF_INIT(BUF_UNLIMITED), on = BUF_INIT(BUF_UNLIMITED);
	char *trace_off = sd_run(in, sc, false, &off);
	char *trace_on = sd_run(in, sc, true, &on);
	char *cmp_off = sd_comparable(&off), *cmp_on = sd_comparable(&on);
	char want[128];

	ck_assert_msg(strcmp(cmp_off, cmp_on) == 0,
		      "strict mode changed the replies:\n--- off\n%s--- on\n%s",
		      cmp_off, cmp_on);
	free(cmp_off);
	free(cmp_on);
	ck_assert_msg(strstr(trace_off, "strict:") == NULL,
		      "strict off wrote a strict line:\n%s", trace_off);
	snprintf(want, sizeof(want), "*: strict: %s: ", rule);
	ck_assert_msg(strstr(trace_on, want) != NULL,
		      "no \"%s\" in the trace:\n%s", want, trace_on);
	/* the line carries the rule's RFC section */
	ck_assert_msg(strstr(strstr(trace_on, want), "(RFC ") != NULL,
		      "no RFC section after \"%s\":\n%s", want, trace_on);
	free(trace_off);
	free(trace_on);
	buf_free(&off);
	buf_free(&on);
}

/* A client that breaks no rule gets no strict line. */
static inline void sd_expect_clean(struct sd_instance *in,
				   const struct sd_scenario *sc)
{
	struct buf on = BUF_INIT(BUF_UNLIMITED);
	char *trace_on = sd_run(in, sc, true, &on);

	ck_assert_msg(strstr(trace_on, "strict:") == NULL,
		      "a correct client got a strict line:\n%s", trace_on);
	free(trace_on);
	buf_free(&on);
}

/* The replies of a scenario with strict on contain `part`. */
static inline void sd_expect_reply(struct sd_instance *in,
				   const struct sd_scenario *sc,
				   const char *part)
{
	struct buf on = BUF_INIT(BUF_UNLIMITED);
	char *trace_on = sd_run(in, sc, true, &on);

	ck_assert_msg(strstr(buf_cstr(&on), part) != NULL,
		      "no \"%s\" in the replies:\n%s", part, buf_cstr(&on));
	free(trace_on);
	buf_free(&on);
}

#endif
