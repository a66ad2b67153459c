/* Authentication failures across connections (common/penalty.h). */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/penalty.h"
#include "common/xalloc.h"

#define PENALTY_BUCKETS 1024
/* How often idle keys whose window has passed are looked for. */
#define SWEEP_INTERVAL 60

struct entry {
	struct entry *next;
	unsigned int failures;	/* in the window that began at window_start */
	unsigned int pending;	/* checks admitted and not yet done */
	time_t window_start;
	time_t locked_until;	/* 0: not locked */
	char key[];		/* "a:ADDRESS" or "u:USER" */
};

struct penalty {
	struct entry *buckets[PENALTY_BUCKETS];
	unsigned int n_keys;
	time_t last_sweep;
	bool full_logged;
};

struct penalty *penalty_new(void)
{
	return xcalloc(1, sizeof(struct penalty));
}

void penalty_free(struct penalty **pp)
{
	struct penalty *p = *pp;

	*pp = NULL;
	if (p == NULL)
		return;
	for (size_t i = 0; i < PENALTY_BUCKETS; i++) {
		struct entry *e, *next;

		for (e = p->buckets[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(p);
}

time_t penalty_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

unsigned int penalty_keys(const struct penalty *p)
{
	return p->n_keys;
}

static unsigned int key_hash(char kind, const char *name)
{
	unsigned int h = 2166136261u;

	h = (h ^ (unsigned char)kind) * 16777619u;
	for (; *name != '\0'; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	return h % PENALTY_BUCKETS;
}

static bool key_is(const struct entry *e, char kind, const char *name)
{
	return e->key[0] == kind && strcmp(e->key + 2, name) == 0;
}

/* A window that has passed, or a lock that has ended, starts over. */
static void expire(struct entry *e, unsigned int window, time_t now)
{
	if (e->locked_until != 0) {
		if (now >= e->locked_until) {
			e->locked_until = 0;
			e->failures = 0;
		}
	} else if (e->failures > 0 && now - e->window_start >= (time_t)window) {
		e->failures = 0;
	}
}

static bool idle(const struct entry *e)
{
	return e->failures == 0 && e->pending == 0 && e->locked_until == 0;
}

static void sweep(struct penalty *p, unsigned int window, time_t now)
{
	p->last_sweep = now;
	for (size_t i = 0; i < PENALTY_BUCKETS; i++) {
		struct entry **ep = &p->buckets[i];

		while (*ep != NULL) {
			struct entry *e = *ep;

			expire(e, window, now);
			if (idle(e)) {
				*ep = e->next;
				free(e);
				p->n_keys--;
			} else {
				ep = &e->next;
			}
		}
	}
}

/* The entry for kind/name, made when `create`; NULL when there is none
 * (or the table is full). */
static struct entry *lookup(struct penalty *p, char kind, const char *name,
			    bool create, unsigned int window, time_t now)
{
	struct entry **ep = &p->buckets[key_hash(kind, name)], *e;
	size_t len = strlen(name);

	for (e = *ep; e != NULL; e = e->next)
		if (key_is(e, kind, name)) {
			expire(e, window, now);
			return e;
		}
	if (!create)
		return NULL;
	if (p->n_keys >= PENALTY_MAX_KEYS)
		sweep(p, window, now);
	if (p->n_keys >= PENALTY_MAX_KEYS) {
		if (!p->full_logged)
			log_msg("auth", NULL, "failure table full (%u keys): "
				"new addresses and users are not counted",
				p->n_keys);
		p->full_logged = true;
		return NULL;
	}
	p->full_logged = false;
	e = xcalloc(1, sizeof(*e) + len + 3);
	e->key[0] = kind;
	e->key[1] = ':';
	memcpy(e->key + 2, name, len + 1);
	e->next = *ep;
	*ep = e;
	p->n_keys++;
	return e;
}

static void forget_if_idle(struct penalty *p, struct entry *e)
{
	struct entry **ep;

	if (e == NULL || !idle(e))
		return;
	for (ep = &p->buckets[key_hash(e->key[0], e->key + 2)]; *ep != e;
	     ep = &(*ep)->next)
		;
	*ep = e->next;
	free(e);
	p->n_keys--;
}

static bool refused(const struct entry *e, unsigned int limit, time_t now)
{
	return e != NULL && (e->locked_until > now || e->failures >= limit);
}

/* Every slot of the window is counted or reserved by a check under way. */
static bool saturated(const struct entry *e, unsigned int limit)
{
	return e != NULL && e->failures + e->pending >= limit;
}

enum penalty_verdict penalty_admit(struct penalty *p,
				   const struct penalty_limits *lim,
				   const char *ip, const char *user,
				   time_t now, unsigned int *recent_r)
{
	struct entry *by_ip = NULL, *by_user = NULL;

	*recent_r = 0;
	if (now - p->last_sweep >= SWEEP_INTERVAL)
		sweep(p, lim->window, now);
	if (lim->per_ip != 0)
		by_ip = lookup(p, 'a', ip, true, lim->window, now);
	if (lim->per_user != 0 && *user != '\0')
		by_user = lookup(p, 'u', user, true, lim->window, now);
	if (refused(by_ip, lim->per_ip, now) ||
	    refused(by_user, lim->per_user, now)) {
		forget_if_idle(p, by_ip);
		forget_if_idle(p, by_user);
		return PENALTY_REFUSE;
	}
	if (saturated(by_ip, lim->per_ip) ||
	    saturated(by_user, lim->per_user)) {
		forget_if_idle(p, by_ip);
		forget_if_idle(p, by_user);
		return PENALTY_WAIT;
	}
	if (by_ip != NULL) {
		by_ip->pending++;
		*recent_r = by_ip->failures;
	}
	if (by_user != NULL)
		by_user->pending++;
	return PENALTY_ADMIT;
}

bool penalty_refuses(struct penalty *p, const struct penalty_limits *lim,
		     const char *ip, const char *user, time_t now)
{
	return (lim->per_ip != 0 &&
		refused(lookup(p, 'a', ip, false, lim->window, now),
			lim->per_ip, now)) ||
	       (lim->per_user != 0 && *user != '\0' &&
		refused(lookup(p, 'u', user, false, lim->window, now),
			lim->per_user, now));
}

/* Releases one key's slot and counts a failure; true when it locked. */
static bool done_key(struct penalty *p, char kind, const char *name,
		     unsigned int limit, unsigned int window, bool failed,
		     time_t now)
{
	struct entry *e = lookup(p, kind, name, failed, window, now);
	bool locked = false;

	if (e == NULL)
		return false;
	if (e->pending > 0)
		e->pending--;
	if (failed && e->locked_until == 0) {
		if (e->failures == 0)
			e->window_start = now;
		e->failures++;
		if (e->failures >= limit) {
			e->locked_until = now + (time_t)window;
			locked = true;
		}
	}
	forget_if_idle(p, e);
	return locked;
}

unsigned int penalty_done(struct penalty *p, const struct penalty_limits *lim,
			  const char *ip, const char *user, bool failed,
			  time_t now)
{
	unsigned int flags = 0;

	if (lim->per_ip != 0 &&
	    done_key(p, 'a', ip, lim->per_ip, lim->window, failed, now))
		flags |= PENALTY_LOCKED_IP;
	if (lim->per_user != 0 && *user != '\0' &&
	    done_key(p, 'u', user, lim->per_user, lim->window, failed, now))
		flags |= PENALTY_LOCKED_USER;
	return flags;
}
