/* ENVELOPE, BODY and BODYSTRUCTURE (RFC 3501 7.4.2) from a parse of
 * maildir/message.h. */
#include <string.h>
#include <strings.h>

#include "imapd/bodystruct.h"
#include "imapd/writer.h"

static void nstr(struct buf *out, const struct msg_parse *p, msg_str_t s)
{
	imap_write_ncstring(out, msg_str(p, s));
}

static void write_addrs(struct buf *out, const struct msg_parse *p,
			const struct msg_addr_list *l)
{
	if (l->count == 0) {
		buf_puts(out, "NIL");
		return;
	}
	buf_putc(out, '(');
	for (uint32_t i = 0; i < l->count && l->first + i < p->naddrs; i++) {
		const struct msg_addr *a = &p->addrs[l->first + i];

		buf_putc(out, '(');
		nstr(out, p, a->name);
		buf_putc(out, ' ');
		nstr(out, p, a->adl);
		buf_putc(out, ' ');
		nstr(out, p, a->mailbox);
		buf_putc(out, ' ');
		nstr(out, p, a->host);
		buf_putc(out, ')');
	}
	buf_putc(out, ')');
}

void imap_write_envelope(struct buf *out, const struct msg_parse *p,
			 uint32_t env)
{
	const struct msg_envelope *e;

	if (env >= p->nenvs) {
		buf_puts(out, "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
		return;
	}
	e = &p->envs[env];
	buf_putc(out, '(');
	nstr(out, p, e->date);
	buf_putc(out, ' ');
	nstr(out, p, e->subject);
	buf_putc(out, ' ');
	write_addrs(out, p, &e->from);
	buf_putc(out, ' ');
	write_addrs(out, p, &e->sender);
	buf_putc(out, ' ');
	write_addrs(out, p, &e->reply_to);
	buf_putc(out, ' ');
	write_addrs(out, p, &e->to);
	buf_putc(out, ' ');
	write_addrs(out, p, &e->cc);
	buf_putc(out, ' ');
	write_addrs(out, p, &e->bcc);
	buf_putc(out, ' ');
	nstr(out, p, e->in_reply_to);
	buf_putc(out, ' ');
	nstr(out, p, e->message_id);
	buf_putc(out, ')');
}

/* body-fld-param: ("name" "value" ...) or NIL.  With `text` (a text part
 * of any subtype) a missing charset parameter is added at the end as
 * "us-ascii": RFC 2045 5.2 makes it the default also when a Content-Type
 * names no charset, and Dovecot reports it so (its params_write()). */
static void write_params(struct buf *out, const struct msg_parse *p,
			 uint32_t first, uint32_t n, bool text)
{
	bool charset = false;
	uint32_t i;

	if (n == 0 && !text) {
		buf_puts(out, "NIL");
		return;
	}
	buf_putc(out, '(');
	for (i = 0; i < n && first + i < p->nparams; i++) {
		const struct msg_param *pm = &p->params[first + i];
		const char *name = msg_str(p, pm->name);
		const char *value = msg_str(p, pm->value);

		if (i > 0)
			buf_putc(out, ' ');
		if (name != NULL && strcasecmp(name, "charset") == 0)
			charset = true;
		imap_write_cstring(out, name != NULL ? name : "");
		buf_putc(out, ' ');
		imap_write_cstring(out, value != NULL ? value : "");
	}
	if (text && !charset) {
		if (i > 0)
			buf_putc(out, ' ');
		buf_puts(out, "\"charset\" \"us-ascii\"");
	}
	buf_putc(out, ')');
}

/* body-fld-dsp SP body-fld-lang SP body-fld-loc */
static void write_dsp_lang_loc(struct buf *out, const struct msg_parse *p,
			       const struct msg_part *pt)
{
	if (pt->disposition == 0) {
		buf_puts(out, "NIL");
	} else {
		buf_putc(out, '(');
		nstr(out, p, pt->disposition);
		buf_putc(out, ' ');
		write_params(out, p, pt->disp_params, pt->ndisp_params, false);
		buf_putc(out, ')');
	}
	buf_putc(out, ' ');
	if (pt->nlangs == 0) {
		buf_puts(out, "NIL");
	} else if (pt->nlangs == 1 && pt->langs < p->nparams) {
		nstr(out, p, p->params[pt->langs].name);
	} else {
		buf_putc(out, '(');
		for (uint32_t i = 0; i < pt->nlangs && pt->langs + i < p->nparams;
		     i++) {
			if (i > 0)
				buf_putc(out, ' ');
			nstr(out, p, p->params[pt->langs + i].name);
		}
		buf_putc(out, ')');
	}
	buf_putc(out, ' ');
	nstr(out, p, pt->location);
}

static const char *str_or(const struct msg_parse *p, msg_str_t s,
			  const char *dflt)
{
	const char *v = msg_str(p, s);

	return v != NULL ? v : dflt;
}

static void write_part(struct buf *out, const struct msg_parse *p,
		       uint32_t idx, bool extended, unsigned int depth);

static void write_multipart(struct buf *out, const struct msg_parse *p,
			    const struct msg_part *pt, bool extended,
			    unsigned int depth)
{
	buf_putc(out, '(');
	if (pt->nchildren == 0 || pt->first_child == MSG_NONE) {
		/* no delimiter found: one empty text/plain part, as Dovecot */
		buf_puts(out, "(\"text\" \"plain\" (\"charset\" \"us-ascii\") "
			 "NIL NIL \"7bit\" 0 0)");
	}
	for (uint32_t c = pt->first_child; c != MSG_NONE && c < p->nparts;
	     c = p->parts[c].next)
		write_part(out, p, c, extended, depth + 1);
	buf_putc(out, ' ');
	imap_write_cstring(out, str_or(p, pt->subtype, "mixed"));
	if (extended) {
		buf_putc(out, ' ');
		write_params(out, p, pt->params, pt->nparams, false);
		buf_putc(out, ' ');
		write_dsp_lang_loc(out, p, pt);
	}
	buf_putc(out, ')');
}

/* A multipart or message/rfc822 part whose body a parse cap left unparsed
 * (maildir/message.h): written as an opaque application/octet-stream leaf,
 * as Dovecot does past its limits, since RFC 3501 7.4.2 has no form for
 * a multipart without parts or a message/rfc822 without envelope. */
static bool is_opaque(const struct msg_part *pt)
{
	return (pt->flags & MSG_PART_TRUNCATED) &&
	       !(pt->flags & (MSG_PART_MULTIPART | MSG_PART_MESSAGE));
}

static void write_part(struct buf *out, const struct msg_parse *p,
		       uint32_t idx, bool extended, unsigned int depth)
{
	const struct msg_part *pt = &p->parts[idx];
	bool opaque = is_opaque(pt);
	const char *type = opaque ? "application" : str_or(p, pt->type, "text");
	bool text;

	if ((pt->flags & MSG_PART_MULTIPART) && depth < MSG_MAX_DEPTH + 2) {
		write_multipart(out, p, pt, extended, depth);
		return;
	}
	buf_putc(out, '(');
	imap_write_cstring(out, type);
	buf_putc(out, ' ');
	imap_write_cstring(out, opaque ? "octet-stream" :
			   str_or(p, pt->subtype, "plain"));
	buf_putc(out, ' ');
	text = strcasecmp(type, "text") == 0 && !(pt->flags & MSG_PART_MESSAGE);
	if (opaque)
		buf_puts(out, "NIL");
	else
		write_params(out, p, pt->params, pt->nparams, text);
	buf_putc(out, ' ');
	nstr(out, p, pt->id);
	buf_putc(out, ' ');
	nstr(out, p, pt->description);
	buf_putc(out, ' ');
	imap_write_cstring(out, str_or(p, pt->encoding, "7bit"));
	buf_printf(out, " %llu", (unsigned long long)pt->body_wire);
	if ((pt->flags & MSG_PART_MESSAGE) && pt->first_child != MSG_NONE &&
	    pt->first_child < p->nparts && depth < MSG_MAX_DEPTH + 2) {
		/* message/rfc822: envelope, body structure, lines */
		const struct msg_part *child = &p->parts[pt->first_child];

		buf_putc(out, ' ');
		imap_write_envelope(out, p, child->envelope);
		buf_putc(out, ' ');
		write_part(out, p, pt->first_child, extended, depth + 1);
		buf_printf(out, " %llu", (unsigned long long)pt->body_lines);
	} else if (strcasecmp(type, "text") == 0) {
		buf_printf(out, " %llu", (unsigned long long)pt->body_lines);
	}
	if (extended) {
		buf_putc(out, ' ');
		nstr(out, p, pt->md5);
		buf_putc(out, ' ');
		write_dsp_lang_loc(out, p, pt);
	}
	buf_putc(out, ')');
}

void imap_write_bodystructure(struct buf *out, const struct msg_parse *p,
			      bool extended)
{
	if (p->nparts == 0) {
		buf_puts(out, "(\"text\" \"plain\" NIL NIL NIL \"7bit\" 0 0)");
		return;
	}
	write_part(out, p, 0, extended, 0);
}
