#ifndef COMMON_PENALTY_H
#define COMMON_PENALTY_H
#include <stdbool.h>
#include <time.h>

/* Authentication failures counted across connections, by client address
 * and by user name, in memory (as Dovecot's auth penalty and Postfix's
 * anvil do).  One table per server, used on the loop thread only; common/
 * auth.c is its only user.
 *
 * Each key (an address, a user name) counts the failures of a window that
 * opens with its first failure and lasts `window` seconds.  When a key
 * reaches its limit it is locked for `window` seconds from then: every
 * attempt under it is refused before any password is checked.  Checks
 * under way are reserved against the limit, so that parallel connections
 * cannot all pass it at once: at most `limit` guesses are verified per
 * key and window.  An attempt that finds every slot reserved by checks
 * still under way (not by failures) waits for one to end: many correct
 * logins at once from one address (a classroom behind NAT) are slowed,
 * never refused.  Keys without failures are forgotten. */

struct penalty;

struct penalty_limits {
	unsigned int per_ip;	/* failures per address; 0: no limit */
	unsigned int per_user;	/* failures per user name; 0: no limit */
	unsigned int window;	/* seconds */
};

/* What penalty_admit decided. */
enum penalty_verdict {
	PENALTY_ADMIT,		/* check it (a slot is reserved) */
	PENALTY_WAIT,		/* every slot is held by a check under way:
				 * ask again when one may have ended */
	PENALTY_REFUSE,		/* locked: refuse */
};

/* Keys at most; beyond it new keys are not counted (logged once). */
#define PENALTY_MAX_KEYS 65536

struct penalty *penalty_new(void);
void penalty_free(struct penalty **pp);

/* Before a check of `user` ("" when unknown) from `ip` at time `now`
 * (seconds, monotonic).  PENALTY_ADMIT reserves a slot under both keys
 * that penalty_done must release, and sets *recent_r to the failures from
 * this address in its window (for the delay before the check). */
enum penalty_verdict penalty_admit(struct penalty *p,
				   const struct penalty_limits *lim,
				   const char *ip, const char *user,
				   time_t now, unsigned int *recent_r);

/* Whether penalty_admit would refuse now (no slot is reserved). */
bool penalty_refuses(struct penalty *p, const struct penalty_limits *lim,
		     const char *ip, const char *user, time_t now);

/* Flags penalty_done returns: a lock began with this failure. */
#define PENALTY_LOCKED_IP	0x01
#define PENALTY_LOCKED_USER	0x02

/* The check admitted with the same ip and user is over: releases its
 * slot and, when it `failed`, counts the failure.  Returns the
 * PENALTY_LOCKED_* flags of locks this failure began (each is to be
 * logged: it happens once per key and window). */
unsigned int penalty_done(struct penalty *p, const struct penalty_limits *lim,
			  const char *ip, const char *user, bool failed,
			  time_t now);

/* Keys now held (for tests). */
unsigned int penalty_keys(const struct penalty *p);

/* Now, for `now` above: CLOCK_MONOTONIC seconds. */
time_t penalty_clock(void);

#endif
