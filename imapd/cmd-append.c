/* APPEND <mailbox> [<flags>] [<date-time>] <literal> (RFC 3501 6.3.11),
 * with MULTIAPPEND (RFC 3502): more [<flags>] [<date-time>] <literal>
 * after the first, all appended or none.
 *
 * The message literals never sit in memory: when a line ends in the
 * announcement of a message literal, the session streams its bytes into
 * a delivery file (maildir/deliver.h) through io->bytes_sink, and the
 * command, once complete, places those files in the folder. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/xalloc.h"
#include "imapd/imap-int.h"
#include "imapd/notify.h"
#include "imapd/writer.h"
#include "maildir/deliver.h"
#include "maildir/folder.h"
#include "maildir/mailbox.h"
#include "maildir/message.h"
#include "maildir/name.h"

/* Bounds on one MULTIAPPEND: the messages wait in tmp/ until the last
 * one has arrived. */
#define APPEND_MAX_MESSAGES 256
#define APPEND_MAX_TOTAL_FACTOR 4	/* times max_message_size */

/* A CATENATE part (RFC 4469 5): TEXT bytes, or a URL to copy from. */
struct cat_part {
	bool is_url;
	struct buf data;
};

/* One message of the command. */
struct append_msg {
	struct imap_flags flags;
	int64_t idate;
	bool literal8;		/* sent as "~{n}" (RFC 3516 4.4) */
	struct cat_part *cat;	/* CATENATE: its parts; NULL: a literal,
				   streamed into s->appends[streamed] */
	size_t ncat;
	size_t streamed;
};

static void append_msg_free(struct append_msg *m)
{
	imap_flags_free(&m->flags);
	for (size_t i = 0; i < m->ncat; i++)
		buf_free(&m->cat[i].data);
	free(m->cat);
	memset(m, 0, sizeof(*m));
}

/* A message literal streamed into a delivery. */
struct imap_append_literal {
	struct maildir_delivery *dl;
	bool has_nul;
	bool literal8;		/* "~{n}": its bytes are also kept in copy,
				   to be converted should they hold a NUL */
	struct buf copy;
};

/* tag SP "APPEND" SP mailbox SP */
static int parse_head(struct imap_parser *p, struct buf *name)
{
	struct buf tmp = BUF_INIT(BUF_UNLIMITED);
	int ret = -1;

	if (imap_parse_tag(p, &tmp) == 0 && imap_parse_sp(p) == 0 &&
	    imap_parse_keyword(p, "APPEND") && imap_parse_sp(p) == 0 &&
	    imap_parse_mailbox(p, name) == 0 && imap_parse_sp(p) == 0)
		ret = 0;
	buf_free(&tmp);
	return ret;
}

/* [flag-list SP] [date-time SP]; the parser is left at the literal. */
static int parse_msg_opts(struct imap_parser *p, struct append_msg *m)
{
	m->idate = -1;
	if (imap_parse_peek(p) == '(' &&
	    (imap_parse_flag_list(p, &m->flags) < 0 || imap_parse_sp(p) < 0))
		return -1;
	if (imap_parse_peek(p) == '"' &&
	    (imap_parse_datetime(p, &m->idate) < 0 || imap_parse_sp(p) < 0))
		return -1;
	if (imap_parse_peek(p) == '{' || imap_parse_peek(p) == '~' ||
	    (p->len - p->pos > 9 &&
	     strncasecmp(p->data + p->pos, "CATENATE ", 9) == 0))
		return 0;
	return imap_parse_fail(p, "Missing message");
}

/* SP "(" cat-part *(SP cat-part) ")", cat-part = "TEXT" SP literal /
 * "URL" SP astring (RFC 4469 5).  TEXT literals are read as usual (not
 * streamed): they are bounded by max_literal_size together. */
static int parse_catenate(struct imap_parser *p, struct append_msg *m)
{
	if (imap_parse_sp(p) < 0 || imap_parse_char(p, '(') < 0)
		return -1;
	do {
		struct cat_part *c;
		bool text = imap_parse_keyword(p, "TEXT");

		if (!text && !imap_parse_keyword(p, "URL"))
			return imap_parse_fail(p, "Unknown CATENATE part");
		m->cat = xreallocarray(m->cat, m->ncat + 1, sizeof(*m->cat));
		c = &m->cat[m->ncat++];
		c->is_url = !text;
		buf_init(&c->data, BUF_UNLIMITED);
		if (imap_parse_sp(p) < 0)
			return -1;
		if (text) {
			imap_parse_skip(p, '~');
			if (imap_parse_peek(p) != '{')
				return imap_parse_fail(p, "TEXT needs a literal");
			if (imap_parse_string(p, &c->data, NULL) < 0)
				return -1;
		} else if (imap_parse_astring(p, &c->data) < 0) {
			return -1;
		}
	} while (imap_parse_skip(p, ' '));
	return imap_parse_char(p, ')');
}

/* A streamed message literal or a CATENATE, then SP and the next message
 * or the end: 1 another message follows, 0 the end, -1 a syntax error. */
static int parse_message(struct imap_parser *p, struct append_msg *m,
			 struct buf *tmp)
{
	bool streamed = false;

	if (imap_parse_keyword(p, "CATENATE")) {
		if (parse_catenate(p, m) < 0)
			return -1;
	} else {
		m->literal8 = imap_parse_skip(p, '~');
		if (imap_parse_string(p, tmp, &streamed) < 0)
			return -1;
		if (!streamed)
			return imap_parse_fail(p, "Invalid message literal");
	}
	if (imap_parse_at_end(p))
		return 0;
	return imap_parse_sp(p) < 0 ? -1 : 1;
}

bool imap_append_literal_is_message(const struct imap_cmdbuf *cb)
{
	struct imap_parser p;
	struct buf name = BUF_INIT(BUF_UNLIMITED);
	struct buf tmp = BUF_INIT(BUF_UNLIMITED);
	struct append_msg m;
	size_t off;
	uint64_t size;
	bool nonsync, ok = false;

	if (cb->text.len < 2 ||
	    !imap_literal_at_end(cb->text.data, cb->text.len - 2, &off, &size,
				 &nonsync))
		return false;
	imap_parser_init_cmd(&p, cb);
	if (parse_head(&p, &name) < 0) {
		/* a UTF-8 name (RFC 9051 5.1, IMAP4rev2 enabled): the
		 * command checks it against the session when it runs */
		imap_parser_init_cmd(&p, cb);
		p.rev2 = true;
		if (parse_head(&p, &name) < 0)
			goto out;
	}
	memset(&m, 0, sizeof(m));
	for (;;) {
		append_msg_free(&m);
		if (parse_msg_opts(&p, &m) < 0)
			break;
		if (p.pos == off || (p.data[p.pos] == '~' && p.pos + 1 == off)) {
			ok = true;
			break;
		}
		/* a TEXT literal of CATENATE is not a message literal: the
		 * parse of the CATENATE stops at it */
		if (parse_message(&p, &m, &tmp) != 1)
			break;
	}
	append_msg_free(&m);
out:
	buf_free(&tmp);
	buf_free(&name);
	return ok;
}

void imap_append_free(struct imap_session *s)
{
	for (size_t i = 0; i < s->nappends; i++) {
		maildir_delivery_free(&s->appends[i]->dl);
		buf_free(&s->appends[i]->copy);
		free(s->appends[i]);
	}
	free(s->appends);
	s->appends = NULL;
	s->nappends = 0;
	s->append_bytes = 0;
}

/* The message bytes go to the delivery; a NUL among them is noted. */
static int append_sink(void *arg, const char *p, size_t n)
{
	struct imap_append_literal *lit = arg;

	if (memchr(p, '\0', n) != NULL)
		lit->has_nul = true;
	/* the size was checked against max_message_size before */
	if (lit->literal8 && buf_append(&lit->copy, p, n) < 0)
		return -1;
	return maildir_delivery_write(lit->dl, p, n);
}

/* Whether the literal announced last (at the end of the command so far)
 * is a literal8, "~{n}". */
static bool announced_literal8(const struct imap_cmdbuf *cb)
{
	size_t off;
	uint64_t size;
	bool nonsync;

	return cb->text.len >= 2 &&
		imap_literal_at_end(cb->text.data, cb->text.len - 2, &off,
				    &size, &nonsync) &&
		off > 0 && cb->text.data[off - 1] == '~';
}

int imap_append_stream_begin(struct imap_session *s, uint64_t size,
			     const char **reply_r)
{
	uint64_t max = s->io->cfg->max_message_size, total;
	struct imap_append_literal *lit;
	struct maildir_delivery *dl;
	char err[256];

	if (size == 0) {
		*reply_r = "NO Cannot append an empty message";
		return -1;
	}
	if (size > max) {
		*reply_r = "NO [TOOBIG] Message too big";
		return -1;
	}
	total = max > UINT64_MAX / APPEND_MAX_TOTAL_FACTOR ? UINT64_MAX :
		max * APPEND_MAX_TOTAL_FACTOR;
	if (s->nappends >= APPEND_MAX_MESSAGES ||
	    size > total - s->append_bytes) {
		*reply_r = "NO [LIMIT] Too many messages in one APPEND";
		return -1;
	}
	dl = maildir_delivery_begin(s->mail_root, err, sizeof(err));
	if (dl == NULL) {
		*reply_r = "NO [UNAVAILABLE] Cannot store the message now";
		return -1;
	}
	lit = xcalloc(1, sizeof(*lit));
	lit->dl = dl;
	lit->literal8 = announced_literal8(&s->input);
	buf_init(&lit->copy, (size_t)size);
	s->appends = xreallocarray(s->appends, s->nappends + 1,
				   sizeof(*s->appends));
	s->appends[s->nappends++] = lit;
	s->append_bytes += size;
	s->io->bytes_sink = append_sink;
	s->io->bytes_sink_arg = lit;
	return 0;
}

/* A literal8 message with NUL bytes, which BODY[] could not send (RFC
 * 3501 4.3), gets its binary parts in base64 (RFC 3516 4.4, as Dovecot
 * does): a new delivery replaces the streamed one.  0, -1 when that cannot
 * be done. */
static int convert_binary(struct imap_session *s,
			  struct imap_append_literal *lit)
{
	struct buf conv = BUF_INIT(BUF_UNLIMITED);
	struct maildir_delivery *dl = NULL;
	char err[256];
	int ret = -1;

	if (msg_binary_to_base64(lit->copy.data, lit->copy.len, &conv) < 0 ||
	    memchr(conv.data, '\0', conv.len) != NULL)
		goto out;
	dl = maildir_delivery_begin(s->mail_root, err, sizeof(err));
	if (dl == NULL || maildir_delivery_write(dl, conv.data, conv.len) < 0)
		goto out;
	maildir_delivery_free(&lit->dl);
	lit->dl = dl;
	dl = NULL;
	ret = 0;
out:
	maildir_delivery_free(&dl);
	buf_free(&conv);
	return ret;
}

/* Whether a literal that is not a literal8 held a NUL, which RFC 3501 9
 * does not allow in one (CHAR8). */
static bool nul_in_literal(const struct imap_session *s,
			   const struct append_msg *msgs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (msgs[i].cat == NULL && !msgs[i].literal8 &&
		    s->appends[msgs[i].streamed]->has_nul)
			return true;
	return false;
}

/* Converts the binary messages; false when one cannot be stored. */
static bool binary_stored(struct imap_session *s,
			  const struct append_msg *msgs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct imap_append_literal *lit;

		if (msgs[i].cat != NULL || !msgs[i].literal8)
			continue;
		lit = s->appends[msgs[i].streamed];
		if (lit->has_nul && convert_binary(s, lit) < 0)
			return false;
	}
	return true;
}

/* "NO [BADURL url]" when the URL can go in a response code. */
static void bad_url(struct imap_cmd *cmd, const char *url)
{
	for (const char *c = url; *c != '\0'; c++)
		if (*c < 0x21 || *c > 0x7e || *c == ']') {
			imap_cmd_no(cmd, "Bad CATENATE URL");
			return;
		}
	imap_cmd_no(cmd, "[BADURL %s] Bad CATENATE URL", url);
}

/* The message a CATENATE makes (RFC 4469 5), as a delivery: NULL with the
 * reply set when a URL does not resolve or the message is empty or too
 * big. */
static struct maildir_delivery *catenate(struct imap_cmd *cmd,
					 const struct append_msg *m)
{
	struct imap_session *s = cmd->s;
	struct buf msg = BUF_INIT(BUF_UNLIMITED);
	struct maildir_delivery *dl = NULL;
	char err[256];

	for (size_t i = 0; i < m->ncat; i++) {
		const struct cat_part *c = &m->cat[i];

		if (c->is_url ? imap_url_fetch(s, buf_cstr(&c->data), &msg) < 0 :
		    buf_append(&msg, c->data.data, c->data.len) < 0) {
			bad_url(cmd, buf_cstr(&c->data));
			goto out;
		}
		if (msg.len > s->io->cfg->max_message_size) {
			imap_cmd_no(cmd, "[TOOBIG] Message too big");
			goto out;
		}
	}
	if (msg.len == 0) {
		imap_cmd_no(cmd, "Cannot append an empty message");
		goto out;
	}
	/* a TEXT literal8 may have brought NUL bytes: as for APPEND */
	if (memchr(msg.data, '\0', msg.len) != NULL) {
		struct buf conv = BUF_INIT(BUF_UNLIMITED);

		if (msg_binary_to_base64(msg.data, msg.len, &conv) < 0 ||
		    memchr(conv.data, '\0', conv.len) != NULL) {
			buf_free(&conv);
			imap_cmd_no(cmd, "[UNKNOWN-CTE] Binary content (NUL) "
				    "that cannot be stored");
			goto out;
		}
		buf_free(&msg);
		msg = conv;
	}
	dl = maildir_delivery_begin(s->mail_root, err, sizeof(err));
	if (dl == NULL || maildir_delivery_write(dl, msg.data, msg.len) < 0) {
		maildir_delivery_free(&dl);
		imap_cmd_no(cmd, "[UNAVAILABLE] Cannot store the message now");
	}
out:
	buf_free(&msg);
	return dl;
}

/* Checks the target and builds what the messages need: 0, or -1 with the
 * reply set.  cat_dls[i] gets the delivery of a CATENATE message i. */
static int prepare(struct imap_cmd *cmd, const char *name,
		   const struct append_msg *msgs, size_t n,
		   struct maildir_delivery **cat_dls)
{
	struct maildir_box_info info;
	bool any_cat = false;
	char err[256];

	for (size_t i = 0; i < n; i++)
		any_cat |= msgs[i].cat != NULL;
	/* RFC 4469 5: a missing target is [TRYCREATE] whatever the URLs */
	if ((!maildir_folder_is_inbox(name) &&
	     !maildir_folder_name_valid(name, err, sizeof(err))) ||
	    (any_cat && maildir_folder_status(cmd->s->store, name, &info, err,
					      sizeof(err)) < 0)) {
		imap_cmd_no(cmd, "[TRYCREATE] No such mailbox");
		return -1;
	}
	if (nul_in_literal(cmd->s, msgs, n)) {
		imap_cmd_bad(cmd, "NUL in a message literal (a literal8 "
			     "~{n} may hold one, RFC 3516)");
		return -1;
	}
	if (!binary_stored(cmd->s, msgs, n)) {
		imap_cmd_no(cmd, "[UNKNOWN-CTE] Binary content (NUL) that "
			    "cannot be stored");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (msgs[i].cat != NULL &&
		    (cat_dls[i] = catenate(cmd, &msgs[i])) == NULL)
			return -1;
	return 0;
}

/* The user's quota against all the messages at once (RFC 9208 4.3.1:
 * nothing is stored when they do not fit): as imap_quota_check. */
static int quota_check(struct imap_cmd *cmd,
		       const struct maildir_append_msg *am, size_t n)
{
	uint64_t bytes = 0;

	for (size_t i = 0; i < n; i++)
		bytes += maildir_delivery_size(am[i].dl);
	return imap_quota_check(cmd, bytes, n);
}

static void append_commit(struct imap_cmd *cmd, const char *name,
			  const struct append_msg *msgs, size_t n)
{
	struct imap_session *s = cmd->s;
	struct maildir_append_msg *am = xcalloc(n, sizeof(*am));
	struct maildir_delivery **cat_dls = xcalloc(n, sizeof(*cat_dls));
	uint32_t *uids = xcalloc(n, sizeof(*uids));
	uint32_t uidvalidity;
	char err[256];

	if (prepare(cmd, name, msgs, n, cat_dls) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		am[i].dl = msgs[i].cat != NULL ? cat_dls[i] :
			s->appends[msgs[i].streamed]->dl;
		am[i].flags = msgs[i].flags.system;
		am[i].keywords = (const char *const *)msgs[i].flags.keywords;
		am[i].nkeywords = msgs[i].flags.nkeywords;
		am[i].idate = msgs[i].idate;
	}
	if (quota_check(cmd, am, n) != 0)
		goto out;
	if (maildir_append_many(s->store, name, am, n, &uidvalidity,
				       uids, err, sizeof(err)) < 0) {
		if (strstr(err, "no such mailbox") != NULL)
			imap_cmd_no(cmd, "[TRYCREATE] No such mailbox");
		else
			imap_cmd_store_error(cmd, "APPEND failed", err);
	} else {
		imap_notify_own(s, name, NULL, false);
		/* RFC 4315 3: the UIDs in the order of the messages */
		buf_clear(&cmd->tmp);
		imap_write_uid_list(&cmd->tmp, uids, n);
		imap_cmd_ok(cmd, "[APPENDUID %u %s] APPEND completed",
			    uidvalidity, buf_cstr(&cmd->tmp));
	}
out:
	for (size_t i = 0; i < n; i++)
		maildir_delivery_free(&cat_dls[i]);
	free(cat_dls);
	free(am);
	free(uids);
}

/* Parses the messages after the mailbox into *msgs_r (*n_r of them). */
static int parse_messages(struct imap_cmd *cmd, struct append_msg **msgs_r,
			  size_t *n_r, size_t *nstreamed_r)
{
	struct append_msg *msgs = NULL;
	size_t n = 0;
	int more;

	size_t streamed = 0;

	do {
		struct append_msg *m;

		msgs = xreallocarray(msgs, n + 1, sizeof(*msgs));
		m = &msgs[n++];
		memset(m, 0, sizeof(*m));
		if (parse_msg_opts(&cmd->p, m) < 0)
			more = -1;
		else
			more = parse_message(&cmd->p, m, &cmd->tmp);
		if (m->cat == NULL)
			m->streamed = streamed++;
	} while (more == 1);
	*msgs_r = msgs;
	*n_r = n;
	*nstreamed_r = streamed;
	return more < 0 ? -1 : 0;
}

void cmd_append(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	struct buf name = BUF_INIT(BUF_UNLIMITED);
	struct append_msg *msgs = NULL;
	size_t n = 0, nstreamed = 0;

	/* the session's parser is past the command name: start over */
	cmd->p.pos = 0;
	if (parse_head(&cmd->p, &name) < 0 ||
	    parse_messages(cmd, &msgs, &n, &nstreamed) < 0 ||
	    imap_parse_end(&cmd->p) < 0)
		imap_cmd_parse_error(cmd);
	else if (nstreamed != s->nappends)
		imap_cmd_bad(cmd, "Invalid message literal");
	else
		append_commit(cmd, buf_cstr(&name), msgs, n);
	imap_append_free(s);
	for (size_t i = 0; i < n; i++)
		append_msg_free(&msgs[i]);
	free(msgs);
	buf_free(&name);
}
