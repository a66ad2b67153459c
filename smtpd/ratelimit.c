/* Sending limits per authenticated user (smtpd/ratelimit.h).  A short
 * list searched in order: a classroom or a household has few users, and
 * entries whose hour is over are reused. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/xalloc.h"
#include "smtpd/ratelimit.h"
#include "smtpd/session.h"

struct rate_entry {
	char *user;
	time_t start;		/* the window opened; 0: a free slot */
	unsigned int messages;
	size_t rcpts;
};

static struct rate_entry *entries;
static size_t n_entries;

void rate_reset(void)
{
	for (size_t i = 0; i < n_entries; i++)
		free(entries[i].user);
	free(entries);
	entries = NULL;
	n_entries = 0;
}

/* The user's entry in its current window, or NULL (no message yet). */
static struct rate_entry *find(const char *user, time_t now)
{
	for (size_t i = 0; i < n_entries; i++) {
		struct rate_entry *e = &entries[i];

		if (e->start == 0 || strcmp(e->user, user) != 0)
			continue;
		if (now - e->start >= RATE_WINDOW) {
			e->start = 0;	/* its hour is over */
			return NULL;
		}
		return e;
	}
	return NULL;
}

bool rate_allows_message(const char *user, unsigned int limit, time_t now)
{
	const struct rate_entry *e = find(user, now);

	return limit == 0 || e == NULL || e->messages < limit;
}

bool rate_allows_rcpts(const char *user, unsigned int limit, size_t more,
		       time_t now)
{
	const struct rate_entry *e = find(user, now);
	size_t sent = e != NULL ? e->rcpts : 0;

	return limit == 0 || (more <= limit && sent <= limit - more);
}

void rate_record(const char *user, size_t n_rcpts, time_t now)
{
	struct rate_entry *e = find(user, now);

	for (size_t i = 0; e == NULL && i < n_entries; i++)
		if (entries[i].start == 0 || now - entries[i].start >= RATE_WINDOW)
			e = &entries[i];
	if (e == NULL) {
		if (n_entries == RATE_MAX_USERS)
			return;
		entries = xreallocarray(entries, n_entries + 1, sizeof(*entries));
		e = &entries[n_entries++];
		e->user = NULL;
		e->start = 0;
	}
	if (e->start == 0 || strcmp(e->user, user) != 0) {
		free(e->user);
		e->user = xstrdup(user);
		e->start = now;
		e->messages = 0;
		e->rcpts = 0;
	}
	e->messages++;
	e->rcpts += n_rcpts;
	rate_store_put(e->user, e->start, e->messages, e->rcpts);
}

void rate_restore(const char *user, time_t start, unsigned int messages,
		  size_t rcpts, time_t now)
{
	struct rate_entry *e;

	if (find(user, now) != NULL || start > now || now - start >= RATE_WINDOW ||
	    n_entries == RATE_MAX_USERS)
		return;
	entries = xreallocarray(entries, n_entries + 1, sizeof(*entries));
	e = &entries[n_entries++];
	e->user = xstrdup(user);
	e->start = start;
	e->messages = messages;
	e->rcpts = rcpts;
}

/* --- the session's side --- */

bool smtp_rate_refuse_mail(struct smtp_session *s)
{
	unsigned int limit = s->io->cfg->rate_messages_per_hour;

	if (s->user == NULL || rate_allows_message(s->user, limit, time(NULL)))
		return false;
	/* RFC 3463 3.8: 4.7.1, not allowed now; it passes with the hour */
	smtp_reply(s, 450, "4.7.1",
		   "User %s has sent %u messages this hour, the limit; try again later",
		   s->user, limit);
	return true;
}

bool smtp_rate_refuse_rcpt(struct smtp_session *s)
{
	unsigned int limit = s->io->cfg->rate_recipients_per_hour;

	if (s->user == NULL ||
	    rate_allows_rcpts(s->user, limit, s->txn->n_rcpts + 1, time(NULL)))
		return false;
	/* RFC 5321 4.5.3.1.10: 452, the client sends the rest later */
	smtp_reply(s, 452, "4.5.3",
		   "User %s has reached %u recipients this hour; try the rest later",
		   s->user, limit);
	return true;
}

void smtp_rate_record(struct smtp_session *s)
{
	if (s->user != NULL)
		rate_record(s->user, s->txn->n_rcpts, time(NULL));
}
