#ifndef TESTS_UNIT_IMAP_PAIR_H
#define TESTS_UNIT_IMAP_PAIR_H
/* What the suites that watch one session's changes from another share
 * (test-imap-heldsync, -condstore, -notify, -sort-context): a temporary
 * instance, sessions a and b of alice on it, a small message, and the
 * check that a session still serves.  Header-only: each suite is its own
 * binary. */
#include <stdbool.h>
#include <string.h>

#include "tests/unit/imap-client.h"

static struct instance inst;
static struct client a, b;

static const char msg1[] =
	"From: Alice <alice@lab.test>\r\n"
	"Subject: one\r\n"
	"\r\n"
	"first\r\n";

/* A fresh instance with a logged in, and b too when login_b (else b is
 * closed, b.sess NULL, for a test to open later with client_login). */
static inline void pair_start(bool login_b)
{
	instance_start(&inst, &a);
	memset(&b, 0, sizeof(b));
	if (login_b)
		client_login(&b, &inst);
}

/* Closes b when open, then a and the instance. */
static inline void pair_stop(void)
{
	if (b.sess != NULL)
		client_close(&b);
	instance_stop(&inst, &a);
}

/* The session still answers a command after what came before. */
static inline void still_serves(struct client *c)
{
	say(c, "z NOOP\r\n");
	ASSERT_HAS(c, "z OK NOOP completed");
}

#endif
