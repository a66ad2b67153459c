/* The queue's envelope file, ID.env, in text:
 *
 *   maillab-queue 1
 *   created 1733400000
 *   sender <alice@a.test>              (<> for a bounce)
 *   size 1234
 *   body 8bitmime | 7bit
 *   smtputf8 yes | no
 *   ret FULL | HDRS                    (optional, RFC 3461 4.3)
 *   envid XTEXT                        (optional, RFC 3461 4.4)
 *   warned yes                         (optional: the delay warning went)
 *   report ORIG_ID f|s|d FIRST         (optional: a report on ORIG_ID,
 *                                       smtpd/queue.h queue_report_ref)
 *   rcpt STATE ATTEMPTS NEXT_TRY ADDR NOTIFY ORCPT [LAST ERROR...]
 *
 * Fields are separated by one space; an address, NOTIFY and ORCPT have
 * every byte outside 0x21..0x7e and '%' written as %XX, "-" for none; the
 * last error is the rest of the line with controls as %XX.  Pure code. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "smtpd/queue.h"

#define ENV_MAGIC "maillab-queue 1"
#define ENV_MAX_RCPTS 100000
#define ENV_MAX_FIELD 2048

static const char *const state_names[] = {
	[QR_PENDING] = "pending",
	[QR_SENT] = "sent",
	[QR_FAILED] = "failed",
	[QR_REPORTED] = "reported",
	[QR_SUCCEEDED] = "succeeded",
};
#define N_STATES (sizeof(state_names) / sizeof(state_names[0]))

const char *queue_rcpt_state_name(enum queue_rcpt_state st)
{
	return (unsigned int)st < N_STATES ? state_names[st] : "unknown";
}

void queue_env_free(struct queue_env *e)
{
	for (size_t i = 0; i < e->n_rcpts; i++) {
		free(e->rcpts[i].addr);
		free(e->rcpts[i].notify);
		free(e->rcpts[i].orcpt);
		free(e->rcpts[i].last_error);
	}
	free(e->rcpts);
	free(e->sender);
	free(e->ret);
	free(e->envid);
	memset(e, 0, sizeof(*e));
}

void queue_env_add_rcpt(struct queue_env *e, const char *addr,
			const char *notify, const char *orcpt)
{
	struct queue_rcpt *r;

	e->rcpts = xreallocarray(e->rcpts, e->n_rcpts + 1, sizeof(*e->rcpts));
	r = &e->rcpts[e->n_rcpts++];
	memset(r, 0, sizeof(*r));
	r->addr = xstrdup(addr);
	r->notify = notify != NULL ? xstrdup(notify) : NULL;
	r->orcpt = orcpt != NULL ? xstrdup(orcpt) : NULL;
}

void queue_rcpt_set_error(struct queue_rcpt *r, const char *text)
{
	size_t len = strlen(text);

	free(r->last_error);
	r->last_error = xstrndup(text, len > QUEUE_ERROR_MAX ? QUEUE_ERROR_MAX : len);
}

bool queue_env_finished(const struct queue_env *e)
{
	for (size_t i = 0; i < e->n_rcpts; i++)
		if (e->rcpts[i].state == QR_PENDING || e->rcpts[i].state == QR_FAILED ||
		    e->rcpts[i].state == QR_SUCCEEDED)
			return false;
	return true;
}

int64_t queue_env_next_try(const struct queue_env *e)
{
	int64_t next = -1;

	for (size_t i = 0; i < e->n_rcpts; i++)
		if (e->rcpts[i].state == QR_PENDING &&
		    (next < 0 || e->rcpts[i].next_try < next))
			next = e->rcpts[i].next_try;
	return next;
}

/* --- writing --- */

static void put_escaped(struct buf *out, const char *s, bool keep_space)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p > 0x20 || (keep_space && *p == ' ')) && *p < 0x7f &&
		    *p != '%')
			buf_putc(out, (char)*p);
		else
			buf_printf(out, "%%%02X", *p);
	}
}

static void put_field(struct buf *out, const char *s)
{
	buf_putc(out, ' ');
	if (s == NULL || *s == '\0')
		buf_putc(out, '-');
	else if (strcmp(s, "-") == 0)
		buf_puts(out, "%2D");
	else
		put_escaped(out, s, false);
}

void queue_env_format(const struct queue_env *e, struct buf *out)
{
	buf_printf(out, ENV_MAGIC "\ncreated %" PRId64 "\nsender <", e->created);
	put_escaped(out, e->sender != NULL ? e->sender : "", false);
	buf_printf(out, ">\nsize %" PRIu64 "\nbody %s\nsmtputf8 %s\n", e->size,
		   e->body_8bit ? "8bitmime" : "7bit", e->smtputf8 ? "yes" : "no");
	if (e->ret != NULL) {
		buf_puts(out, "ret");
		put_field(out, e->ret);
		buf_putc(out, '\n');
	}
	if (e->envid != NULL) {
		buf_puts(out, "envid");
		put_field(out, e->envid);
		buf_putc(out, '\n');
	}
	if (e->warned)
		buf_puts(out, "warned yes\n");
	if (e->report.kind != '\0')
		buf_printf(out, "report %s %c %" PRIu32 "\n", e->report.orig,
			   e->report.kind, e->report.first);
	for (size_t i = 0; i < e->n_rcpts; i++) {
		const struct queue_rcpt *r = &e->rcpts[i];

		buf_printf(out, "rcpt %s %u %" PRId64, queue_rcpt_state_name(r->state),
			   r->attempts, r->next_try);
		put_field(out, r->addr);
		put_field(out, r->notify);
		put_field(out, r->orcpt);
		if (r->last_error != NULL) {
			buf_putc(out, ' ');
			put_escaped(out, r->last_error, true);
		}
		buf_putc(out, '\n');
	}
}

/* --- reading --- */

/* Decodes %XX escapes of s[0..len) into a new string; NULL when malformed
 * or when it would hold a NUL. */
static char *unescape(const char *s, size_t len)
{
	struct buf b = BUF_INIT(ENV_MAX_FIELD);
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned int v;
		char hex[3];

		if (s[i] != '%') {
			if (buf_putc(&b, s[i]) < 0)
				goto bad;
			continue;
		}
		if (i + 2 >= len || !isxdigit((unsigned char)s[i + 1]) ||
		    !isxdigit((unsigned char)s[i + 2]))
			goto bad;
		hex[0] = s[i + 1];
		hex[1] = s[i + 2];
		hex[2] = '\0';
		v = (unsigned int)strtoul(hex, NULL, 16);
		if (v == 0 || buf_putc(&b, (char)v) < 0)
			goto bad;
		i += 2;
	}
	return buf_steal(&b);
bad:
	buf_free(&b);
	return NULL;
}

/* The next space-separated field of *p (advanced past it): its start and
 * length; false at the end of the line. */
static bool next_field(const char **p, const char *end, const char **f,
		       size_t *flen)
{
	const char *s = *p, *sp;

	if (s >= end)
		return false;
	sp = memchr(s, ' ', (size_t)(end - s));
	*f = s;
	*flen = sp != NULL ? (size_t)(sp - s) : (size_t)(end - s);
	*p = sp != NULL ? sp + 1 : end;
	return *flen > 0;
}

/* A field that may be "-" (none): 0 with *out (NULL for none), or -1. */
static int opt_field(const char *f, size_t len, char **out)
{
	*out = NULL;
	if (len == 1 && f[0] == '-')
		return 0;
	*out = unescape(f, len);
	return *out != NULL && **out != '\0' ? 0 : -1;
}

static int parse_int64(const char *f, size_t len, int64_t *out)
{
	int64_t n = 0;

	if (len == 0 || len > 18)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (f[i] < '0' || f[i] > '9')
			return -1;
		n = n * 10 + (f[i] - '0');
	}
	*out = n;
	return 0;
}

static int parse_state(const char *f, size_t len, enum queue_rcpt_state *st)
{
	for (unsigned int i = 0; i < N_STATES; i++) {
		if (strlen(state_names[i]) == len &&
		    memcmp(state_names[i], f, len) == 0) {
			*st = (enum queue_rcpt_state)i;
			return 0;
		}
	}
	return -1;
}

static int parse_rcpt(struct queue_env *e, const char *p, const char *end)
{
	struct queue_rcpt r = { 0 };
	const char *f;
	size_t len;
	int64_t n;

	if (e->n_rcpts >= ENV_MAX_RCPTS)
		return -1;
	if (!next_field(&p, end, &f, &len) || parse_state(f, len, &r.state) < 0)
		return -1;
	if (!next_field(&p, end, &f, &len) || parse_int64(f, len, &n) < 0 ||
	    n > 1000000)
		return -1;
	r.attempts = (unsigned int)n;
	if (!next_field(&p, end, &f, &len) || parse_int64(f, len, &r.next_try) < 0)
		return -1;
	if (!next_field(&p, end, &f, &len) || opt_field(f, len, &r.addr) < 0 ||
	    r.addr == NULL)
		goto bad;
	if (!next_field(&p, end, &f, &len) || opt_field(f, len, &r.notify) < 0)
		goto bad;
	if (!next_field(&p, end, &f, &len) || opt_field(f, len, &r.orcpt) < 0)
		goto bad;
	if (p < end && (r.last_error = unescape(p, (size_t)(end - p))) == NULL)
		goto bad;
	e->rcpts = xreallocarray(e->rcpts, e->n_rcpts + 1, sizeof(*e->rcpts));
	e->rcpts[e->n_rcpts++] = r;
	return 0;
bad:
	free(r.addr);
	free(r.notify);
	free(r.orcpt);
	free(r.last_error);
	return -1;
}

/* "sender <...>" */
static int parse_sender(struct queue_env *e, const char *p, const char *end)
{
	if (e->sender != NULL || end - p < 2 || p[0] != '<' || end[-1] != '>')
		return -1;
	if (end - p == 2) {
		e->sender = xstrdup("");
		return 0;
	}
	e->sender = unescape(p + 1, (size_t)(end - p - 2));
	return e->sender != NULL ? 0 : -1;
}

/* "report ORIG_ID KIND FIRST" */
static int parse_report(struct queue_env *e, const char *p, const char *end)
{
	struct queue_report_ref *ref = &e->report;
	const char *f;
	size_t len;
	int64_t n;

	if (ref->kind != '\0' || !next_field(&p, end, &f, &len) ||
	    len != QUEUE_ID_LEN)
		return -1;
	memcpy(ref->orig, f, len);
	ref->orig[len] = '\0';
	if (!queue_id_valid(ref->orig) || !next_field(&p, end, &f, &len) ||
	    len != 1 || strchr("fsd", f[0]) == NULL)
		return -1;
	ref->kind = f[0];
	if (!next_field(&p, end, &f, &len) || p != end ||
	    parse_int64(f, len, &n) < 0 || n >= ENV_MAX_RCPTS) {
		memset(ref, 0, sizeof(*ref));
		return -1;
	}
	ref->first = (uint32_t)n;
	return 0;
}

static int parse_line(struct queue_env *e, const char *key, size_t klen,
		      const char *p, const char *end)
{
	int64_t n;

#define IS(k) (klen == strlen(k) && memcmp(key, k, klen) == 0)
	if (IS("rcpt"))
		return parse_rcpt(e, p, end);
	if (IS("report"))
		return parse_report(e, p, end);
	if (IS("sender"))
		return parse_sender(e, p, end);
	if (IS("created"))
		return parse_int64(p, (size_t)(end - p), &e->created);
	if (IS("size")) {
		if (parse_int64(p, (size_t)(end - p), &n) < 0)
			return -1;
		e->size = (uint64_t)n;
		return 0;
	}
	if (IS("body") || IS("smtputf8")) {
		bool *flag = IS("body") ? &e->body_8bit : &e->smtputf8;
		const char *yes = IS("body") ? "8bitmime" : "yes";
		const char *no = IS("body") ? "7bit" : "no";
		size_t len = (size_t)(end - p);

		*flag = len == strlen(yes) && memcmp(p, yes, len) == 0;
		return *flag || (len == strlen(no) && memcmp(p, no, len) == 0) ?
			0 : -1;
	}
	if (IS("warned")) {
		if (e->warned || end - p != 3 || memcmp(p, "yes", 3) != 0)
			return -1;
		e->warned = true;
		return 0;
	}
	if (IS("ret") || IS("envid")) {
		char **slot = IS("ret") ? &e->ret : &e->envid;

		if (*slot != NULL)
			return -1;
		return opt_field(p, (size_t)(end - p), slot) < 0 || *slot == NULL ?
			-1 : 0;
	}
#undef IS
	return -1;
}

int queue_env_parse(const char *text, size_t len, struct queue_env *e,
		    char *err_r, size_t errlen)
{
	const char *p = text, *end = text + len;
	unsigned int lineno = 0;

	memset(e, 0, sizeof(*e));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl != NULL ? nl : end, *sp;

		lineno++;
		if (nl == NULL || memchr(p, '\0', (size_t)(eol - p)) != NULL)
			goto bad;
		if (lineno == 1) {
			if ((size_t)(eol - p) != strlen(ENV_MAGIC) ||
			    memcmp(p, ENV_MAGIC, strlen(ENV_MAGIC)) != 0)
				goto bad;
		} else {
			sp = memchr(p, ' ', (size_t)(eol - p));
			if (sp == NULL || parse_line(e, p, (size_t)(sp - p), sp + 1,
						     eol) < 0)
				goto bad;
		}
		p = nl + 1;
	}
	if (lineno == 0 || e->sender == NULL || e->n_rcpts == 0) {
		snprintf(err_r, errlen, "incomplete envelope (%s)",
			 lineno == 0 ? "empty" : e->sender == NULL ? "no sender" :
			 "no recipient");
		queue_env_free(e);
		return -1;
	}
	return 0;
bad:
	snprintf(err_r, errlen, "malformed envelope at line %u", lineno);
	queue_env_free(e);
	return -1;
}
