#ifndef TESTS_UNIT_IMAP_CLIENT_H
#define TESTS_UNIT_IMAP_CLIENT_H
/* A test IMAP session on a temporary instance (header-only: each suite
 * is its own binary): user alice, password "secret", logged in, and the
 * helpers to talk to it with no socket (io_init_test). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/users.h"
#include "imapd/imap.h"
#include "maildir/user.h"
#include "tests/unit/unit.h"

struct client {
	struct proto_io io;
	void *sess;
	char *got;		/* everything the last say() produced */
};

struct instance {
	char *dir;
	char mail[4200];
	struct config cfg;
	struct userdb *db;
};

static inline void client_open(struct client *c, struct instance *in)
{
	io_init_test(&c->io, &in->cfg, SVC_IMAP);
	c->io.users = in->db;
	c->sess = imap_protocol.open(&c->io);
	c->got = NULL;
}

static inline void client_close(struct client *c)
{
	if (c->sess != NULL)
		imap_protocol.close(c->sess);
	c->sess = NULL;
	free(c->got);
	c->got = NULL;
	io_free(&c->io);
}

/* Feeds client bytes: lines and the literals they announce. */
static inline void client_feed(struct client *c, const char *data, size_t len)
{
	size_t pos = 0;

	while (!c->io.close) {
		if (c->io.mode == INPUT_BYTES) {
			size_t want = c->io.bytes_wanted;
			bool sink = c->io.bytes_sink != NULL;

			if (want > len - pos)
				break;
			if (sink)
				c->io.bytes_sink(c->io.bytes_sink_arg, data + pos, want);
			c->io.mode = INPUT_LINE;
			imap_protocol.bytes(c->sess, sink ? "" : data + pos,
					    sink ? 0 : want);
			pos += want;
		} else {
			const char *nl = memmem(data + pos, len - pos, "\r\n", 2);
			size_t n;
			char *line;

			if (nl == NULL)
				break;
			n = (size_t)(nl - (data + pos));
			line = strndup(data + pos, n);
			imap_protocol.line(c->sess, line, n, 0);
			free(line);
			pos += n + 2;
		}
		while (c->io.more_output && !c->io.close) {
			c->io.more_output = false;
			imap_protocol.resume_output(c->sess);
		}
	}
}

static inline const char *say(struct client *c, const char *wire)
{
	free(c->got);
	buf_clear(&c->io.out);
	client_feed(c, wire, strlen(wire));
	c->got = strdup(buf_cstr(&c->io.out));
	buf_clear(&c->io.out);
	return c->got;
}

#define ASSERT_HAS(c, s) ck_assert_msg(strstr((c)->got, s) != NULL, \
				       "no \"%s\" in:\n%s", s, (c)->got)
#define ASSERT_NOT(c, s) ck_assert_msg(strstr((c)->got, s) == NULL, \
				       "\"%s\" in:\n%s", s, (c)->got)
#define ASSERT_IS(c, s) ck_assert_str_eq((c)->got, s)

/* APPENDs msg to box with `extra` ("(\\Seen) " or a date, may be ""). */
static inline void append(struct client *c, const char *box,
			  const char *extra, const char *msg)
{
	char line[512];

	snprintf(line, sizeof(line), "ap APPEND %s %s{%zu}\r\n", box, extra,
		 strlen(msg));
	say(c, line);
	ASSERT_HAS(c, "+ Ready for literal data");
	say(c, msg);
	say(c, "\r\n");
	ASSERT_HAS(c, "ap OK [APPENDUID ");
}

/* A fresh instance with user alice (password "secret") and her Maildir,
 * default config; no client yet. */
static inline void instance_create(struct instance *in)
{
	char err[512];

	log_open(NULL, false);
	in->dir = unit_tmpdir();
	config_defaults(&in->cfg, in->dir);
	in->db = userdb_open(in->dir, err, sizeof(err));
	ck_assert_msg(in->db != NULL, "%s", err);
	ck_assert_int_eq(userdb_add(in->db, "alice", "secret", err,
				    sizeof(err)), 0);
	snprintf(in->mail, sizeof(in->mail), "%s/mail", in->dir);
	ck_assert_int_eq(maildir_user_create(in->mail, "alice", err,
					     sizeof(err)), 0);
}

/* Opens c on in and logs it in as alice. */
static inline void client_login(struct client *c, struct instance *in)
{
	client_open(c, in);
	say(c, "1 LOGIN alice secret\r\n");
	ASSERT_HAS(c, "1 OK");
}

/* A fresh instance with alice, literals up to 100000 bytes, and c logged
 * in as her. */
static inline void instance_start(struct instance *in, struct client *c)
{
	instance_create(in);
	in->cfg.max_literal_size = 100000;
	client_login(c, in);
}

/* Removes what instance_create() made; clients must be closed first. */
static inline void instance_free(struct instance *in)
{
	userdb_close(&in->db);
	config_free(&in->cfg);
	unit_rmtree(in->dir);
	free(in->dir);
}

static inline void instance_stop(struct instance *in, struct client *c)
{
	client_close(c);
	instance_free(in);
}

#endif
