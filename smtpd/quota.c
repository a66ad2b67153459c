/* Quotas at delivery: see quota.h. */
#include <string.h>

#include "common/log.h"
#include "common/quota.h"
#include "common/users.h"
#include "maildir/mailbox.h"
#include "maildir/quota.h"
#include "smtpd/quota.h"
#include "smtpd/session.h"

static bool has_limits(const struct user_quota *q)
{
	return q->storage != 0 || q->messages != 0;
}

bool smtp_quota_limited(struct smtp_session *s, const struct smtp_dest *dests,
			size_t n)
{
	struct user_quota q;

	if (s->io->users == NULL)
		return false;
	for (size_t i = 0; i < n; i++)
		/* a read error counts as limited: the check reports it */
		if (userdb_quota(s->io->users, dests[i].user, &q) != 1 ||
		    has_limits(&q))
			return true;
	return false;
}

/* Whether one user's mail of `size` more bytes would pass the limits: 1
 * yes, 0 no, -1 error (logged). */
static int user_full(struct smtp_session *s, const char *user, uint64_t size)
{
	struct maildir_store *store;
	struct maildir_usage u;
	struct user_quota q;
	char err[256];
	int r = userdb_quota(s->io->users, user, &q);

	if (r < 0) {
		log_msg(service_name(s->io->service), s->io->id,
			"quota of %s: cannot read users.db", user);
		return -1;
	}
	if (r == 0 || !has_limits(&q))
		return 0;
	if (maildir_store_open(smtp_mail_root(s), user, &store, err,
			       sizeof(err)) < 0) {
		log_msg(service_name(s->io->service), s->io->id,
			"quota of %s: %s", user, err);
		return -1;
	}
	r = maildir_usage(store, &u, err, sizeof(err));
	maildir_store_close(&store);
	if (r < 0) {
		log_msg(service_name(s->io->service), s->io->id,
			"quota of %s: %s", user, err);
		return -1;
	}
	return quota_exceeded(&q, u.bytes, u.messages, size, 1);
}

int smtp_quota_full(struct smtp_session *s, const struct smtp_dest *dests,
		    size_t n, uint64_t size, bool *full_r)
{
	for (size_t i = 0; i < n; i++) {
		int r = s->io->users != NULL ?
			user_full(s, dests[i].user, size) : 0;

		if (r < 0)
			return -1;
		full_r[i] = r == 1;
	}
	return 0;
}
