#ifndef TESTS_UNIT_MIME_CORPUS_H
#define TESTS_UNIT_MIME_CORPUS_H
/* Helpers and the real-world-shaped corpus shared by test-mime.c and
 * test-mime-robust.c.  Messages are written with LF for reading and go
 * through crlf(), since the store keeps wire CRLF. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/xalloc.h"
#include "maildir/message.h"
#include "tests/unit/unit.h"

/* ---- helpers ---- */

static inline char *crlf(const char *s, size_t *len_r)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);

	for (; *s != '\0'; s++) {
		if (*s == '\n')
			buf_putc(&b, '\r');
		buf_putc(&b, *s);
	}
	*len_r = b.len;
	return buf_steal(&b);
}

struct msg {
	char *data;
	size_t size;
	struct msg_parse *p;
};

static inline void msg_load(struct msg *m, const char *lf_text)
{
	m->data = crlf(lf_text, &m->size);
	m->p = msg_parse(m->data, m->size);
	ck_assert(msg_parse_valid(m->p, m->size));
}

static inline void msg_done(struct msg *m)
{
	msg_parse_free(&m->p);
	free(m->data);
}

static inline const char *S(const struct msg_parse *p, msg_str_t s)
{
	const char *v = msg_str(p, s);

	return v == NULL ? "NIL" : v;
}

static inline void dump_params(const struct msg_parse *p, uint32_t first,
			       uint32_t n, const char *sep, struct buf *b)
{
	for (uint32_t i = 0; i < n; i++)
		buf_printf(b, "%s%s=%s", i == 0 ? sep : ";",
			   S(p, p->params[first + i].name),
			   S(p, p->params[first + i].value));
}

/* The tree as text: type/subtype params encoding [fields] lines {kids}. */
static inline void dump_part(const struct msg_parse *p, uint32_t i,
			     struct buf *b)
{
	const struct msg_part *pt = &p->parts[i];

	buf_printf(b, "(%s/%s", S(p, pt->type), S(p, pt->subtype));
	dump_params(p, pt->params, pt->nparams, " ", b);
	buf_printf(b, " %s", S(p, pt->encoding));
	if (pt->id)
		buf_printf(b, " id=%s", S(p, pt->id));
	if (pt->description)
		buf_printf(b, " desc=%s", S(p, pt->description));
	if (pt->disposition) {
		buf_printf(b, " disp=%s", S(p, pt->disposition));
		dump_params(p, pt->disp_params, pt->ndisp_params, ";", b);
	}
	if (pt->nlangs)
		dump_params(p, pt->langs, pt->nlangs, " lang:", b);
	if (pt->location)
		buf_printf(b, " loc=%s", S(p, pt->location));
	if (pt->md5)
		buf_printf(b, " md5=%s", S(p, pt->md5));
	buf_printf(b, " L%llu", (unsigned long long)pt->body_lines);
	for (uint32_t c = pt->first_child; c != MSG_NONE; c = p->parts[c].next) {
		buf_putc(b, ' ');
		dump_part(p, c, b);
	}
	buf_putc(b, ')');
}

static inline char *dump(const struct msg_parse *p)
{
	struct buf b = BUF_INIT(BUF_UNLIMITED);

	dump_part(p, 0, &b);
	return buf_steal(&b);
}

static inline void assert_tree(const struct msg_parse *p,
			       const char *want)
{
	char *got = dump(p);

	ck_assert_str_eq(got, want);
	free(got);
}

/* Part idx's body is exactly the text `body`, found after `after`. */
static inline void assert_body(const struct msg *m, uint32_t idx,
			       const char *after, const char *body)
{
	const char *from = strstr(m->data, after);
	const char *at;
	size_t len;
	char *b = crlf(body, &len);

	ck_assert_ptr_nonnull(from);
	at = strstr(from, b);
	ck_assert_ptr_nonnull(at);
	ck_assert_uint_eq(m->p->parts[idx].body_off, at - m->data);
	ck_assert_uint_eq(m->p->parts[idx].body_size, len);
	ck_assert_uint_eq(m->p->parts[idx].body_wire, len);
	free(b);
}

static inline size_t offset_of(const struct msg *m, const char *s)
{
	const char *at = strstr(m->data, s);

	ck_assert_ptr_nonnull(at);
	return at - m->data;
}

/* The section's bytes, as IMAP would send them. */
static inline char *section(const struct msg *m, const char *spec,
			    const char *const *fields, size_t nfields)
{
	struct msg_section s;
	struct msg_range r;
	struct buf built = BUF_INIT(BUF_UNLIMITED);
	struct buf out = BUF_INIT(BUF_UNLIMITED);
	uint32_t nums[16];

	if (msg_section_parse(spec, strlen(spec), &s, nums, 16) < 0)
		return NULL;
	s.fields = fields;
	s.nfields = nfields;
	if (msg_section_find(m->p, m->data, &s, &r, &built) < 0) {
		buf_free(&built);
		return NULL;
	}
	if (r.built)
		buf_append(&out, built.data + r.off, r.len);
	else
		msg_wire_append(m->data, r.off, r.len, 0, (size_t)-1, &out);
	ck_assert_uint_eq(out.len, r.wire_len);
	buf_free(&built);
	return buf_steal(&out);
}

static inline void assert_section(const struct msg *m, const char *spec,
				  const char *want_lf)
{
	char *got = section(m, spec, NULL, 0);
	size_t len;
	char *want;

	if (want_lf == NULL) {
		ck_assert_msg(got == NULL, "section %s exists", spec);
		return;
	}
	ck_assert_msg(got != NULL, "section %s missing", spec);
	want = crlf(want_lf, &len);
	ck_assert_str_eq(got, want);
	free(want);
	free(got);
}

static inline void assert_addr(const struct msg_parse *p,
			       struct msg_addr_list l, uint32_t i,
			       const char *name, const char *adl,
			       const char *mailbox, const char *host)
{
	const struct msg_addr *a;

	ck_assert_uint_lt(i, l.count);
	a = &p->addrs[l.first + i];
	ck_assert_str_eq(S(p, a->name), name);
	ck_assert_str_eq(S(p, a->adl), adl);
	ck_assert_str_eq(S(p, a->mailbox), mailbox);
	ck_assert_str_eq(S(p, a->host), host);
}

/* ---- the corpus ---- */

static const char plain_msg[] =
	"From: \"Alice Example\" <alice@example.org>\n"
	"To: Bob <bob@example.net>, carol@example.com (Carol C.)\n"
	"Subject: Lunch on Friday?\n"
	"Date: Fri, 21 Nov 2025 12:30:00 +0100\n"
	"Message-ID: <lunch.1@example.org>\n"
	"\n"
	"Hi Bob,\n"
	"are we still on for Friday?\n";

static const char alt_msg[] =
	"From: alice@example.org\n"
	"To: bob@example.net\n"
	"Subject: Newsletter\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/alternative; boundary=\"=_alt_42\"\n"
	"\n"
	"This is a multi-part message in MIME format.\n"
	"\n"
	"--=_alt_42\n"
	"Content-Type: text/plain; charset=utf-8\n"
	"Content-Transfer-Encoding: quoted-printable\n"
	"\n"
	"Caf=C3=A9 news\n"
	"--=_alt_42\n"
	"Content-Type: text/html; charset=\"utf-8\"\n"
	"Content-Transfer-Encoding: quoted-printable\n"
	"\n"
	"<p>Caf=C3=A9 news</p>\n"
	"\n"
	"--=_alt_42--\n"
	"epilogue text\n";

static const char attach_msg[] =
	"From: alice@example.org\n"
	"To: bob@example.net\n"
	"Subject: Report\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/mixed;\n"
	" boundary=\"mixed-b\"\n"
	"\n"
	"--mixed-b\n"
	"Content-Type: text/plain; charset=iso-8859-1\n"
	"Content-Transfer-Encoding: 8bit\n"
	"\n"
	"See attached. Gr\xfc\xdf" "e\n"
	"--mixed-b\n"
	"Content-Type: application/pdf; name=\"report.pdf\"\n"
	"Content-Transfer-Encoding: base64\n"
	"Content-Disposition: attachment; filename=\"report.pdf\"; size=12\n"
	"Content-ID: <part2@example.org>\n"
	"Content-Description: Quarterly report\n"
	"Content-Language: en, de\n"
	"Content-Location: http://example.org/report.pdf\n"
	"Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\n"
	"\n"
	"JVBERi0xLjQK\n"
	"JSVFT0YK\n"
	"--mixed-b--\n";

static const char nested_msg[] =
	"From: alice@example.org\n"
	"To: bob@example.net\n"
	"Subject: Fwd: Lunch\n"
	"Content-Type: multipart/mixed; boundary=outer\n"
	"\n"
	"--outer\n"
	"Content-Type: text/plain\n"
	"\n"
	"See below.\n"
	"--outer\n"
	"Content-Type: message/rfc822\n"
	"Content-Description: forwarded\n"
	"\n"
	"From: Carol <carol@example.com>\n"
	"To: alice@example.org\n"
	"Subject: Lunch\n"
	"Date: Thu, 20 Nov 2025 09:00:00 -0500\n"
	"In-Reply-To: <x@y>\n"
	"Content-Type: multipart/alternative; boundary=inner\n"
	"\n"
	"--inner\n"
	"Content-Type: text/plain\n"
	"\n"
	"Lunch?\n"
	"--inner\n"
	"Content-Type: text/html\n"
	"\n"
	"<b>Lunch?</b>\n"
	"--inner--\n"
	"--outer--\n";

#endif
