/* Submission: the From: field of a message must name the authenticated
 * user (RFC 6409 4.1 lets the MSA check; RFC 5322 3.6.2: From: is the
 * author).  Each address in it passes the same test as MAIL FROM
 * (smtp_user_owns).  A From: with several authors is refused when any of
 * them is not the user's: otherwise anyone could write in another's name
 * by adding their own address after it. */
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "maildir/message.h"
#include "smtpd/from-check.h"
#include "smtpd/resolve.h"
#include "smtpd/session.h"

/* Number of From: fields in the header block. */
static int count_from_fields(const struct buf *header)
{
	struct hdr_iter it;
	struct hdr_field f;
	int n = 0;

	hdr_iter_init(&it, header->data, 0, header->len);
	while (hdr_iter_next(&it, &f))
		if (hdr_name_is(header->data, &f, "from"))
			n++;
	return n;
}

/* Whether the user owns mailbox@host: 1, 0, or -1 (database trouble). */
static int addr_owned(struct smtp_session *s, const char *mailbox,
		      const char *host)
{
	struct buf path = BUF_INIT(SMTP_PATH_MAX + 2);
	struct smtp_path p;
	size_t used;
	int owned = 0;

	if (mailbox[0] != '\0' && host[0] != '\0' &&
	    buf_printf(&path, "<%s@%s>", mailbox, host) == 0 &&
	    smtp_path_parse(path.data, path.len, false, false, true, &p,
			    &used) == PATH_OK && used == path.len)
		owned = smtp_user_owns(s, &p);
	buf_free(&path);
	return owned;
}

/* The verdict on the addresses of the first From: field; the first one
 * not owned goes into bad. */
static enum from_verdict check_addresses(struct smtp_session *s,
					 const struct buf *header,
					 struct buf *bad)
{
	struct msg_parse *p = msg_parse(header->data, header->len);
	enum from_verdict v = FROM_OK;
	const struct msg_envelope *env;
	uint32_t i;
	int owned;

	if (p->nparts == 0 || p->parts[0].envelope == MSG_NONE) {
		msg_parse_free(&p);
		return FROM_OK;
	}
	env = &p->envs[p->parts[0].envelope];
	for (i = 0; v == FROM_OK && i < env->from.count; i++) {
		const struct msg_addr *a = &p->addrs[env->from.first + i];
		const char *mailbox = msg_str(p, a->mailbox);
		const char *host = msg_str(p, a->host);

		if (host == NULL)	/* group start or end: no address */
			continue;
		owned = addr_owned(s, mailbox != NULL ? mailbox : "", host);
		if (owned < 0) {
			v = FROM_TEMPFAIL;
		} else if (owned == 0) {
			v = FROM_FOREIGN;
			buf_printf(bad, "%s@%s", mailbox != NULL ? mailbox : "",
				   host);
		}
	}
	msg_parse_free(&p);
	return v;
}

enum from_verdict smtp_from_check(struct smtp_session *s,
				  const struct smtp_body *b, struct buf *bad)
{
	int fields;

	if (b->header_too_big)
		return FROM_UNCHECKABLE;
	fields = count_from_fields(&b->header);
	if (fields == 0)
		return FROM_OK;		/* no author claimed */
	if (fields > 1)
		return FROM_SEVERAL;	/* RFC 5322 3.6: exactly one */
	return check_addresses(s, &b->header, bad);
}

bool smtp_from_refused(struct smtp_session *s)
{
	struct buf bad = BUF_INIT(SMTP_PATH_MAX + 1);
	bool refused = true;

	if (!smtp_is_submission(s) || !s->set->from_must_match ||
	    s->user == NULL || s->txn == NULL)
		return false;
	switch (smtp_from_check(s, &s->txn->body, &bad)) {
	case FROM_OK:
		refused = false;
		break;
	case FROM_FOREIGN:
		smtp_reply(s, 550, "5.7.1",
			   "From: address <%s> not owned by user %s",
			   buf_cstr(&bad), s->user);
		break;
	case FROM_SEVERAL:
		smtp_reply(s, 550, "5.7.1",
			   "More than one From: field (RFC 5322 3.6)");
		break;
	case FROM_UNCHECKABLE:
		smtp_reply(s, 550, "5.7.1",
			   "Header too large to check the From: field");
		break;
	case FROM_TEMPFAIL:
		smtp_reply(s, 451, "4.3.0",
			   "Temporary failure checking the From: field, try again later");
		break;
	}
	buf_free(&bad);
	return refused;
}
