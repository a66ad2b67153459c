#ifndef TESTS_UNIT_IMAP_HARNESS_H
#define TESTS_UNIT_IMAP_HARNESS_H
/* The session harness under imap-client.h (header-only: each suite is its
 * own binary): a temporary instance with user alice (password "secret"),
 * IMAP sessions on it with no socket (io_init_test), and the byte feeder.
 * Files with their own reply helpers include this; the rest include
 * imap-client.h. */
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

/* Feeds client bytes to sess as conn.c would: lines in INPUT_LINE mode,
 * exactly io->bytes_wanted bytes (to io->bytes_sink when set) in
 * INPUT_BYTES; stops at an incomplete line or literal, which the test
 * sends later. */
static inline void imap_test_feed(struct proto_io *io, void *sess,
				  const char *data, size_t len)
{
	size_t pos = 0;

	while (!io->close) {
		if (io->mode == INPUT_BYTES) {
			size_t want = io->bytes_wanted;
			bool sink = io->bytes_sink != NULL;

			if (want > len - pos)
				break;
			if (sink)
				io->bytes_sink(io->bytes_sink_arg, data + pos, want);
			io->mode = INPUT_LINE;
			imap_protocol.bytes(sess, sink ? "" : data + pos,
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
			imap_protocol.line(sess, line, n, 0);
			free(line);
			pos += n + 2;
		}
		while (io->more_output && !io->close) {
			io->more_output = false;
			imap_protocol.resume_output(sess);
		}
	}
}

static inline void client_feed(struct client *c, const char *data, size_t len)
{
	imap_test_feed(&c->io, c->sess, data, len);
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

/* Removes what instance_create() made; clients must be closed first. */
static inline void instance_free(struct instance *in)
{
	userdb_close(&in->db);
	config_free(&in->cfg);
	unit_rmtree(in->dir);
	free(in->dir);
}

#endif
