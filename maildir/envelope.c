/* The RFC 3501 7.4.2 ENVELOPE: a few header fields as they are, and the
 * address fields parsed per RFC 5322 3.4 (with the obsolete forms of 4.4
 * and whatever garbage real mail carries, tolerated). */
#include <string.h>
#include <strings.h>

#include "maildir/message-int.h"

#define IS_WSP(c) ((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n')

struct addr_parser {
	struct msg_parse *p;
	struct lex l;
	uint32_t count;		/* addresses emitted */
	bool in_group;
	struct buf name;	/* display phrase: words joined by one space */
	struct buf local;	/* the same words as a local part: no spaces */
	struct buf comment;	/* the last comment seen */
	struct buf tmp;
};

/* RFC 5322 3.2.3: atext is anything printable but specials; 8-bit passes */
static bool is_atext(char c)
{
	return (unsigned char)c > ' ' && c != 0x7f &&
	       strchr("()<>[]:;@\\,.\"", c) == NULL;
}

static void emit(struct addr_parser *ap, msg_str_t name, msg_str_t adl,
		 msg_str_t mailbox, msg_str_t host)
{
	msg_add_addr(ap->p, name, adl, mailbox, host);
	ap->count++;
}

static msg_str_t str_or_nil(struct addr_parser *ap, const struct buf *b)
{
	return b->len == 0 ? 0 : msg_strn(ap->p, b->data, b->len);
}

/* Reads words (atoms, quoted strings, dots) into ap->name and ap->local. */
static void read_phrase(struct addr_parser *ap)
{
	struct lex *l = &ap->l;
	const char *s;
	bool space;

	buf_clear(&ap->name);
	buf_clear(&ap->local);
	for (;;) {
		s = l->p;
		lex_cfws(l, &ap->comment);
		/* words are joined by one space where the input had CFWS */
		space = l->p != s && ap->name.len > 0;
		if (l->p >= l->end)
			return;
		if (*l->p == '"') {
			buf_clear(&ap->tmp);
			lex_quoted(l, &ap->tmp);
			if (space || (ap->name.len > 0 &&
				      ap->name.data[ap->name.len - 1] != '.'))
				buf_putc(&ap->name, ' ');
			buf_append(&ap->name, ap->tmp.data, ap->tmp.len);
			buf_append(&ap->local, ap->tmp.data, ap->tmp.len);
		} else if (*l->p == '.') {
			/* obs-phrase allows dots: "John Q. Public" */
			if (space)
				buf_putc(&ap->name, ' ');
			buf_putc(&ap->name, '.');
			buf_putc(&ap->local, '.');
			l->p++;
		} else if (is_atext(*l->p)) {
			s = l->p;
			while (l->p < l->end && is_atext(*l->p))
				l->p++;
			if (space || (ap->name.len > 0 &&
				      ap->name.data[ap->name.len - 1] != '.'))
				buf_putc(&ap->name, ' ');
			buf_append(&ap->name, s, l->p - s);
			buf_append(&ap->local, s, l->p - s);
		} else {
			return;
		}
	}
}

/* domain = dot-atom / domain-literal (RFC 5322 3.4.1), into out. */
static void read_domain(struct addr_parser *ap, struct buf *out)
{
	struct lex *l = &ap->l;

	buf_clear(out);
	buf_clear(&ap->comment);
	for (;;) {
		lex_cfws(l, &ap->comment);
		if (l->p >= l->end)
			return;
		if (*l->p == '[') {
			while (l->p < l->end && *l->p != ']') {
				if (!IS_WSP(*l->p))
					buf_putc(out, *l->p);
				l->p++;
			}
			if (l->p < l->end)
				buf_putc(out, *l->p++);
		} else if (*l->p == '.' || is_atext(*l->p)) {
			buf_putc(out, *l->p++);
		} else {
			return;
		}
	}
}

static void emit_mailbox(struct addr_parser *ap, msg_str_t name,
			 msg_str_t adl, const struct buf *local,
			 const struct buf *domain)
{
	struct msg_parse *p = ap->p;
	msg_str_t mbox, host;

	if (local->len == 0 && domain->len == 0) {
		/* "<>": a null address, not a group */
		mbox = msg_strz(p, "");
		host = msg_strz(p, "");
	} else {
		/* a host of NIL would mean a group (RFC 3501 7.4.2), so a
		 * missing part gets the placeholder Dovecot uses */
		mbox = local->len > 0 ? msg_strn(p, local->data, local->len) :
					msg_strz(p, "MISSING_MAILBOX");
		host = domain->len > 0 ?
			       msg_strn(p, domain->data, domain->len) :
			       msg_strz(p, "MISSING_DOMAIN");
	}
	emit(ap, name, adl, mbox, host);
}

/* angle-addr = "<" [obs-route] addr-spec ">", after the '<'. */
static void read_angle(struct addr_parser *ap, msg_str_t name)
{
	struct lex *l = &ap->l;
	struct buf route = BUF_INIT(BUF_UNLIMITED);
	struct buf domain = BUF_INIT(BUF_UNLIMITED);
	msg_str_t adl = 0;

	lex_cfws(l, NULL);
	if (l->p < l->end && *l->p == '@') {
		/* obs-route: "@a,@b:" */
		while (l->p < l->end && *l->p != ':' && *l->p != '>') {
			if (!IS_WSP(*l->p))
				buf_putc(&route, *l->p);
			l->p++;
		}
		if (l->p < l->end && *l->p == ':') {
			l->p++;
			adl = str_or_nil(ap, &route);
		}
	}
	read_phrase(ap);
	if (l->p < l->end && *l->p == '@') {
		l->p++;
		read_domain(ap, &domain);
	}
	emit_mailbox(ap, name, adl, &ap->local, &domain);
	while (l->p < l->end && *l->p != '>' && *l->p != ',' && *l->p != ';')
		l->p++;	/* garbage inside the brackets */
	if (l->p < l->end && *l->p == '>')
		l->p++;
	buf_free(&route);
	buf_free(&domain);
}

static void read_address(struct addr_parser *ap)
{
	struct lex *l = &ap->l;
	struct buf domain = BUF_INIT(BUF_UNLIMITED);
	msg_str_t name;

	buf_clear(&ap->comment);
	read_phrase(ap);
	if (l->p < l->end && *l->p == ':' && !ap->in_group) {
		/* group start: RFC 3501 puts the phrase in mailbox */
		emit(ap, 0, 0, msg_strn(ap->p, ap->name.data == NULL ? "" :
						ap->name.data, ap->name.len), 0);
		ap->in_group = true;
		l->p++;
	} else if (l->p < l->end && *l->p == '<') {
		l->p++;
		read_angle(ap, str_or_nil(ap, &ap->name));
	} else if (l->p < l->end && *l->p == '@') {
		l->p++;
		/* "user@host (Name)": the comment becomes the name */
		read_domain(ap, &domain);
		name = str_or_nil(ap, &ap->comment);
		emit_mailbox(ap, name, 0, &ap->local, &domain);
	} else if (ap->local.len > 0) {
		/* a bare word such as "undisclosed-recipients" */
		emit_mailbox(ap, 0, 0, &ap->local, &domain);
	} else if (l->p < l->end && *l->p != ',' && *l->p != ';') {
		l->p++;	/* garbage: a stray '>', ']' or ':' */
	}
	buf_free(&domain);
}

static struct msg_addr_list parse_addresses(struct msg_parse *p,
					    const char *v, size_t n)
{
	struct addr_parser ap = {
		.p = p, .l = { v, v + n },
		.name = BUF_INIT(BUF_UNLIMITED),
		.local = BUF_INIT(BUF_UNLIMITED),
		.comment = BUF_INIT(BUF_UNLIMITED),
		.tmp = BUF_INIT(BUF_UNLIMITED),
	};
	struct msg_addr_list list = { p->naddrs, 0 };
	const char *before;

	while (ap.l.p < ap.l.end && ap.count < MSG_MAX_ADDRS) {
		lex_cfws(&ap.l, NULL);
		if (ap.l.p >= ap.l.end)
			break;
		if (*ap.l.p == ',') {
			ap.l.p++;
		} else if (*ap.l.p == ';') {
			if (ap.in_group)
				emit(&ap, 0, 0, 0, 0);
			ap.in_group = false;
			ap.l.p++;
		} else {
			before = ap.l.p;
			read_address(&ap);
			if (ap.l.p == before)
				ap.l.p++;	/* never loop without progress */
		}
	}
	if (ap.in_group)
		emit(&ap, 0, 0, 0, 0);	/* an unclosed group is closed */
	list.count = ap.count;
	if (list.count == 0)
		list.first = MSG_NONE;
	buf_free(&ap.name);
	buf_free(&ap.local);
	buf_free(&ap.comment);
	buf_free(&ap.tmp);
	return list;
}

enum env_field {
	F_DATE, F_SUBJECT, F_FROM, F_SENDER, F_REPLY_TO, F_TO, F_CC, F_BCC,
	F_IN_REPLY_TO, F_MESSAGE_ID, F_COUNT
};

static const char *const env_names[F_COUNT] = {
	"date", "subject", "from", "sender", "reply-to", "to", "cc", "bcc",
	"in-reply-to", "message-id",
};

uint32_t msg_envelope_parse(struct msg_parse *p, const char *data,
			    size_t off, size_t len)
{
	struct hdr_field found[F_COUNT];
	bool have[F_COUNT] = { false };
	struct buf v = BUF_INIT(BUF_UNLIMITED);
	struct msg_addr_list lists[F_COUNT];
	msg_str_t strs[F_COUNT];
	struct hdr_iter it;
	struct hdr_field f;
	struct msg_envelope *env;
	uint32_t idx;
	int i;

	hdr_iter_init(&it, data, off, len);
	while (hdr_iter_next(&it, &f)) {
		for (i = 0; i < F_COUNT; i++) {
			if (!have[i] && hdr_name_is(data, &f, env_names[i])) {
				found[i] = f;
				have[i] = true;
				break;
			}
		}
	}
	for (i = 0; i < F_COUNT; i++) {
		strs[i] = 0;
		lists[i].first = MSG_NONE;
		lists[i].count = 0;
		if (!have[i])
			continue;
		buf_clear(&v);
		hdr_unfold(data, &found[i], &v);
		if (i >= F_FROM && i <= F_BCC)
			lists[i] = parse_addresses(p, buf_cstr(&v), v.len);
		else
			strs[i] = msg_strn(p, buf_cstr(&v), v.len);
	}
	buf_free(&v);
	/* RFC 3501 7.4.2: sender and reply-to default to from */
	if (lists[F_SENDER].count == 0)
		lists[F_SENDER] = lists[F_FROM];
	if (lists[F_REPLY_TO].count == 0)
		lists[F_REPLY_TO] = lists[F_FROM];
	idx = msg_add_env(p);
	env = &p->envs[idx];
	env->date = strs[F_DATE];
	env->subject = strs[F_SUBJECT];
	env->in_reply_to = strs[F_IN_REPLY_TO];
	env->message_id = strs[F_MESSAGE_ID];
	env->from = lists[F_FROM];
	env->sender = lists[F_SENDER];
	env->reply_to = lists[F_REPLY_TO];
	env->to = lists[F_TO];
	env->cc = lists[F_CC];
	env->bcc = lists[F_BCC];
	return idx;
}

/* ---- Date: (RFC 5322 3.3, obsolete forms of 4.3) ---- */

static bool date_number(struct lex *l, int maxdigits, int *v, int *ndigits)
{
	int n = 0;

	lex_cfws(l, NULL);
	*v = 0;
	while (l->p < l->end && *l->p >= '0' && *l->p <= '9' && n < maxdigits) {
		*v = *v * 10 + (*l->p++ - '0');
		n++;
	}
	if (ndigits != NULL)
		*ndigits = n;
	return n > 0;
}

static int date_month(struct lex *l)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	int i;

	lex_cfws(l, NULL);
	if (l->end - l->p < 3)
		return -1;
	for (i = 0; i < 12; i++)
		if (strncasecmp(l->p, months + 3 * i, 3) == 0)
			break;
	if (i == 12)
		return -1;
	while (l->p < l->end && ((*l->p | 0x20) >= 'a' && (*l->p | 0x20) <= 'z'))
		l->p++;
	return i;
}

/* +hhmm / -hhmm, or the obsolete names (RFC 5322 4.3); unknown: 0. */
static int date_zone(struct lex *l)
{
	static const struct {
		const char *name;
		int minutes;
	} zones[] = {
		{ "UT", 0 }, { "UTC", 0 }, { "GMT", 0 }, { "Z", 0 },
		{ "EDT", -240 }, { "EST", -300 }, { "CDT", -300 },
		{ "CST", -360 }, { "MDT", -360 }, { "MST", -420 },
		{ "PDT", -420 }, { "PST", -480 },
	};
	const char *s;
	size_t i, n;
	int sign, v;

	lex_cfws(l, NULL);
	if (l->p < l->end && (*l->p == '+' || *l->p == '-')) {
		sign = *l->p++ == '-' ? -1 : 1;
		if (l->end - l->p < 4)
			return 0;
		for (i = 0, v = 0; i < 4; i++) {
			if (l->p[i] < '0' || l->p[i] > '9')
				return 0;
			v = v * 10 + (l->p[i] - '0');
		}
		if (v % 100 >= 60 || v / 100 > 99)
			return 0;
		return sign * (v / 100 * 60 + v % 100);
	}
	s = l->p;
	while (l->p < l->end && ((*l->p | 0x20) >= 'a' && (*l->p | 0x20) <= 'z'))
		l->p++;
	n = l->p - s;
	for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
		if (strlen(zones[i].name) == n &&
		    strncasecmp(zones[i].name, s, n) == 0)
			return zones[i].minutes;
	return 0;
}

static bool date_dash(struct lex *l)
{
	if (l->p < l->end && *l->p == '-')
		l->p++;
	return true;
}

int msg_parse_date(const char *s, size_t len, time_t *t_r, int *tz_r)
{
	struct lex l = { s, s + len };
	struct tm tm;
	int day, mon, year, ydigits, hour, min, sec = 0, tz;
	const char *comma;
	time_t t;

	/* [ day-of-week "," ], the comma sometimes missing */
	comma = memchr(s, ',', len < 20 ? len : 20);
	if (comma != NULL)
		l.p = comma + 1;
	lex_cfws(&l, NULL);
	while (l.p < l.end && ((*l.p | 0x20) >= 'a' && (*l.p | 0x20) <= 'z'))
		l.p++;
	/* "21-Nov-2025" is seen too */
	if (!date_number(&l, 2, &day, NULL) || !date_dash(&l) ||
	    (mon = date_month(&l)) < 0 || !date_dash(&l) ||
	    !date_number(&l, 4, &year, &ydigits) ||
	    !date_number(&l, 2, &hour, NULL))
		return -1;
	lex_cfws(&l, NULL);
	if (l.p >= l.end || *l.p++ != ':' || !date_number(&l, 2, &min, NULL))
		return -1;
	lex_cfws(&l, NULL);
	if (l.p < l.end && *l.p == ':') {
		l.p++;
		if (!date_number(&l, 2, &sec, NULL))
			return -1;
	}
	tz = date_zone(&l);
	/* RFC 5322 4.3: two-digit years, three-digit years */
	if (ydigits == 2)
		year += year < 50 ? 2000 : 1900;
	else if (ydigits == 3)
		year += 1900;
	if (day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60 ||
	    year < 1900)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = mon;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*t_r = t - (time_t)tz * 60;
	*tz_r = tz;
	return 0;
}
