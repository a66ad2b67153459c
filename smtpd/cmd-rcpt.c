/* RCPT TO:<forward-path> [SP Rcpt-parameters]  (RFC 5321 4.1.1.3)
 *
 * Parameters: NOTIFY and ORCPT (RFC 3461 4.1, 4.2), stored for the relay.
 * Unknown local users are refused here, not bounced later, and so are
 * mailboxes that are full (smtpd/quota.h): that check runs on a worker. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "smtpd/quota.h"
#include "smtpd/resolve.h"
#include "smtpd/ratelimit.h"
#include "smtpd/session.h"

/* RFC 3461 4.1: "NEVER" alone, or a list of SUCCESS, FAILURE, DELAY. */
static bool notify_valid(const char *v)
{
	static const char *const words[] = { "SUCCESS", "FAILURE", "DELAY" };
	const char *p = v;
	size_t len, i;

	if (strcasecmp(v, "NEVER") == 0)
		return true;
	for (;;) {
		len = strcspn(p, ",");
		for (i = 0; i < 3; i++)
			if (len == strlen(words[i]) &&
			    strncasecmp(p, words[i], len) == 0)
				break;
		if (i == 3)
			return false;
		if (p[len] == '\0')
			return true;
		p += len + 1;
	}
}

/* RFC 3461 4.2: ORCPT=addr-type ";" xtext (RFC 6533 adds utf-8-addr). */
static bool orcpt_valid(const char *v)
{
	const char *semi = strchr(v, ';');

	return semi != NULL && semi != v && semi[1] != '\0' &&
		strlen(v) <= 500 && smtp_xtext_valid(semi + 1);
}

/* The parameters into rcpt: 0, or -1 after the error reply. */
static int take_params(struct smtp_session *s, char *rest,
		       struct smtp_rcpt *rcpt)
{
	struct smtp_param params[SMTP_MAX_PARAMS];
	int n, i;

	n = smtp_params_parse(rest, s->txn->smtputf8, params, SMTP_MAX_PARAMS);
	if (n < 0) {
		smtp_reply(s, 501, "5.5.4", "Syntax error in parameters");
		return -1;
	}
	for (i = 0; i < n; i++) {
		const char *k = params[i].keyword, *v = params[i].value;
		char **slot;
		bool ok;

		if (strcasecmp(k, "NOTIFY") == 0) {
			slot = &rcpt->notify;
			ok = v != NULL && notify_valid(v);
		} else if (strcasecmp(k, "ORCPT") == 0) {
			slot = &rcpt->orcpt;
			ok = v != NULL && orcpt_valid(v);
		} else {
			smtp_reply(s, 555, "5.5.4", "Unsupported parameter %s", k);
			return -1;
		}
		if (!ok || *slot != NULL) {
			smtp_reply(s, 501, "5.5.4", "Invalid %s parameter", k);
			return -1;
		}
		*slot = xstrdup(v);
	}
	return 0;
}

static void add_dests(struct smtp_txn *t, struct resolved *r)
{
	for (size_t i = 0; i < r->n; i++) {
		struct smtp_dest *d = &r->dests[i];
		bool dup = false;

		for (size_t j = 0; j < t->n_dests && !dup; j++)
			dup = strcmp(t->dests[j].user, d->user) == 0 &&
				(t->dests[j].folder == NULL) == (d->folder == NULL) &&
				(d->folder == NULL ||
				 strcmp(t->dests[j].folder, d->folder) == 0);
		if (dup)
			continue;
		if (t->n_dests == t->cap_dests) {
			t->cap_dests = t->cap_dests ? t->cap_dests * 2 : 4;
			t->dests = xreallocarray(t->dests, t->cap_dests,
						 sizeof(*t->dests));
		}
		t->dests[t->n_dests++] = *d;
		d->user = d->folder = NULL;	/* moved */
	}
}

static void push_rcpt(struct smtp_txn *t, const struct smtp_rcpt *rcpt)
{
	if (t->n_rcpts == t->cap_rcpts) {
		t->cap_rcpts = t->cap_rcpts ? t->cap_rcpts * 2 : 4;
		t->rcpts = xreallocarray(t->rcpts, t->cap_rcpts, sizeof(*t->rcpts));
	}
	t->rcpts[t->n_rcpts++] = *rcpt;
}

/* The remote targets of a forwarding alias (alias_remote_targets) go to
 * the queue as recipients of their own, with the DSN parameters of the
 * RCPT and, unless it had one, ORCPT naming the alias (RFC 3461 4.2). */
static void add_forwards(struct smtp_txn *t, const struct resolved *r,
			 const struct smtp_rcpt *rcpt, const char *alias)
{
	for (size_t i = 0; i < r->n_remote; i++) {
		struct smtp_rcpt fwd = { NULL, NULL, NULL, true };
		struct buf orcpt = BUF_INIT(BUF_UNLIMITED);

		fwd.addr = xstrdup(r->remote[i]);
		fwd.notify = rcpt->notify != NULL ? xstrdup(rcpt->notify) : NULL;
		if (rcpt->orcpt != NULL)
			buf_puts(&orcpt, rcpt->orcpt);
		else
			buf_printf(&orcpt, "rfc822;%s", alias);
		fwd.orcpt = buf_steal(&orcpt);
		push_rcpt(t, &fwd);
	}
}

/* The reply for a recipient that is not accepted; false if accepted. */
static bool refuse(struct smtp_session *s, enum resolve_result res,
		   const char *addr)
{
	switch (res) {
	case RESOLVE_LOCAL:
		return false;
	case RESOLVE_UNKNOWN:
		smtp_reply(s, 550, "5.1.1", "<%s>: User unknown", addr);
		break;
	case RESOLVE_REMOTE:
		/* Only an authenticated client may relay (RFC 6409 4.3). */
		if (s->user != NULL)
			return false;
		smtp_reply(s, 554, "5.7.1", "<%s>: Relay access denied", addr);
		break;
	case RESOLVE_ALIAS_REMOTE:
		smtp_reply(s, 451, "4.3.2",
			   "<%s>: Alias leads to remote addresses and relay is not configured",
			   addr);
		break;
	case RESOLVE_LOOP:
		smtp_reply(s, 550, "5.4.6", "<%s>: Alias loop detected", addr);
		break;
	case RESOLVE_TOO_MANY:
		smtp_reply(s, 452, "4.5.3", "<%s>: Alias expands to too many recipients",
			   addr);
		break;
	case RESOLVE_TEMPFAIL:
		smtp_reply(s, 451, "4.3.0",
			   "<%s>: Temporary lookup failure, try again later", addr);
		break;
	}
	return true;
}

/* Takes the recipient into the transaction (rcpt and r are moved). */
static void accept_rcpt(struct smtp_session *s, struct smtp_rcpt *rcpt,
			struct resolved *r)
{
	struct smtp_txn *t = s->txn;

	add_dests(t, r);
	add_forwards(t, r, rcpt, rcpt->addr);
	smtp_resolved_free(r);
	push_rcpt(t, rcpt);
	smtp_enter_state(s, SMTP_RCPT);
	smtp_reply(s, 250, "2.1.5", "Recipient <%s> OK", rcpt->addr);
}

static void rcpt_free(struct smtp_rcpt *rcpt)
{
	free(rcpt->addr);
	free(rcpt->notify);
	free(rcpt->orcpt);
}

/* --- the quota check --- */

struct smtp_rcpt_check {
	struct smtp_rcpt rcpt;
	struct resolved r;
	uint64_t size;		/* SIZE= declared, else 1: room for anything */
	int result;		/* 0 room, 1 every mailbox full, -1 error */
};

static void check_work(void *arg)
{
	struct smtp_session *s = arg;
	struct smtp_rcpt_check *c = s->rcpt_check;
	bool *full = xcalloc(c->r.n, sizeof(*full));

	c->result = smtp_quota_full(s, c->r.dests, c->r.n, c->size, full);
	if (c->result == 0) {
		c->result = 1;	/* refused only when no mailbox has room */
		for (size_t i = 0; i < c->r.n; i++)
			if (!full[i])
				c->result = 0;
	}
	free(full);
}

static void check_done(void *arg)
{
	struct smtp_session *s = arg;
	struct smtp_rcpt_check *c = s->rcpt_check;

	s->rcpt_check = NULL;
	smtp_enter_state(s, s->txn->n_rcpts > 0 ? SMTP_RCPT : SMTP_MAIL);
	if (c->result == 0) {
		accept_rcpt(s, &c->rcpt, &c->r);
	} else {
		if (c->result > 0)
			/* RFC 5321 4.5.3.1.10, RFC 3463 X.2.2: try later */
			smtp_reply(s, 452, "4.2.2", "<%s>: Mailbox full, try "
				   "again later", c->rcpt.addr);
		else
			smtp_reply(s, 451, "4.3.0", "<%s>: Temporary lookup "
				   "failure, try again later", c->rcpt.addr);
		rcpt_free(&c->rcpt);
		smtp_resolved_free(&c->r);
	}
	free(c);
}

/* Checks the recipient's mailboxes on a worker, then accepts it or not
 * (rcpt and r are moved). */
static void check_quota(struct smtp_session *s, struct smtp_rcpt *rcpt,
			struct resolved *r)
{
	struct smtp_rcpt_check *c = xcalloc(1, sizeof(*c));

	c->rcpt = *rcpt;
	c->r = *r;
	c->size = s->txn->declared_size > 0 ? s->txn->declared_size : 1;
	s->rcpt_check = c;
	/* done may run at once (unit tests): be BUSY first */
	smtp_enter_state(s, SMTP_BUSY);
	s->io->defer(s->io, check_work, check_done, s);
}

void smtp_cmd_rcpt(struct smtp_session *s, char *args)
{
	struct smtp_txn *t = s->txn;
	struct smtp_rcpt rcpt = { NULL, NULL, NULL, false };
	struct smtp_path path;
	enum smtp_path_err err;
	struct resolved r;
	enum resolve_result res;
	char *p, *rest;
	size_t used = 0;

	if ((p = smtp_skip_keyword(args, "TO:")) == NULL) {
		smtp_reply(s, 501, "5.5.4", "Syntax: RCPT TO:<address>");
		return;
	}
	err = smtp_path_parse(p, strlen(p), false, true, true, &path, &used);
	rest = p + used;
	if (err == PATH_OK && *rest != '\0' && *rest != ' ')
		err = PATH_SYNTAX;
	if (err != PATH_OK) {
		smtp_reply(s, 501, "5.1.3", "Bad recipient address syntax: %s",
			   smtp_path_strerror(err));
		return;
	}
	if (path.utf8 && !t->smtputf8) {
		/* RFC 6531 3.5 */
		smtp_reply(s, 553, "5.6.7",
			   "Non-ASCII recipient address needs SMTPUTF8 on MAIL");
		return;
	}
	if (smtp_fault_address(s, &path, "RCPT") ||
	    smtp_fault_greylist(s, path.mailbox))
		return;
	/* RFC 5321 4.5.3.1.10: 452, the client tries the rest later. */
	if (t->n_rcpts >= s->io->cfg->max_recipients) {
		smtp_reply(s, 452, "4.5.3", "Too many recipients");
		return;
	}
	if (smtp_rate_refuse_rcpt(s))
		return;
	if (take_params(s, rest, &rcpt) < 0)
		goto out;
	res = smtp_resolve(s, &path, &r);
	if (refuse(s, res, path.mailbox)) {
		smtp_resolved_free(&r);
		goto out;
	}
	rcpt.addr = xstrdup(path.mailbox);
	rcpt.remote = res == RESOLVE_REMOTE;
	if (r.n > 0 && smtp_quota_limited(s, r.dests, r.n))
		check_quota(s, &rcpt, &r);
	else
		accept_rcpt(s, &rcpt, &r);
	return;
out:
	free(rcpt.notify);
	free(rcpt.orcpt);
}
