#ifndef TESTS_UNIT_IMAP_CLIENT_H
#define TESTS_UNIT_IMAP_CLIENT_H
/* A test IMAP session on a temporary instance (header-only: each suite
 * is its own binary): user alice, password "secret", logged in, and the
 * helpers to talk to it with no socket (io_init_test). */
#include "tests/unit/imap-harness.h"

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

static inline void instance_stop(struct instance *in, struct client *c)
{
	client_close(c);
	instance_free(in);
}

#endif
