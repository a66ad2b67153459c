/* What `maillab lab check` reads: the sessions' traces (loaded by
 * cli/trace-read.c, never parsed here a second way) and the users'
 * Maildirs. */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/lab.h"
#include "common/buf.h"
#include "maildir/message.h"

#define DAY_MS (24LL * 3600 * 1000)

static void report(struct lab_check *c, bool ok, const char *fmt, va_list ap)
{
	c->step++;
	if (!ok)
		c->failed++;
	printf("%s  step %d: ", ok ? "PASS" : "FAIL", c->step);
	vprintf(fmt, ap);
	putchar('\n');
}

void lab_pass(struct lab_check *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(c, true, fmt, ap);
	va_end(ap);
}

void lab_fail(struct lab_check *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(c, false, fmt, ap);
	va_end(ap);
}

void lab_step(struct lab_check *c, bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(c, ok, fmt, ap);
	va_end(ap);
}

/* DIR, or DIR/name. */
static void instance_dir(const struct lab_check *c, const char *name,
			 struct buf *out)
{
	buf_puts(out, c->dir);
	if (name != NULL)
		buf_printf(out, "/%s", name);
}

void lab_sessions_load(const struct lab_check *c, const char *name,
		       struct lab_sessions *out)
{
	struct buf path = BUF_INIT(BUF_UNLIMITED);

	instance_dir(c, name, &path);
	buf_puts(&path, "/log/trace");
	if (trace_sessions_load_all(buf_cstr(&path), &out->all, &out->n) < 0) {
		out->all = NULL;
		out->n = 0;
	}
	if (c->student != NULL)
		lab_sessions_of(out, c->student);
	buf_free(&path);
}

/* The user a client line names: the local part of a MAIL FROM or RCPT TO
 * path (up to a "+detail"), the name of POP3 USER or IMAP LOGIN.  False
 * when the line names none. */
static bool line_names(const struct trace_session *ts, const char *text,
		       char *name, size_t len)
{
	const char *proto = lab_protocol(ts), *p = text;
	char w[16];
	size_t n;

	if (strcmp(proto, "imap") == 0)		/* after the tag */
		p = explain_word(p, w, sizeof(w));
	p = explain_word(p, w, sizeof(w));
	if (strcmp(proto, "smtp") == 0) {
		if (strcmp(w, "MAIL") != 0 && strcmp(w, "RCPT") != 0)
			return false;
		p = strchr(p, ':');
		if (p == NULL)
			return false;
		p++;
		p += strspn(p, " ");
		p += *p == '<';
		n = strcspn(p, "@+> ");
	} else if (strcmp(w, "USER") == 0 || strcmp(w, "LOGIN") == 0) {
		p += *p == '"';
		n = strcspn(p, "\" +");
	} else {
		return false;
	}
	if (n == 0 || n >= len)
		return false;
	memcpy(name, p, n);
	name[n] = '\0';
	return true;
}

/* 1: session ts is student `name`'s, -1: it names someone else only, 0:
 * it names nobody. */
static int session_owner(const struct trace_session *ts, const char *name)
{
	int owner = ts->user[0] == '\0' ? 0 :
		    strcasecmp(ts->user, name) == 0 ? 1 : -1;

	for (size_t i = 0; i < ts->n_lines && owner <= 0; i++) {
		char who[64];

		if (ts->lines[i].who == 'C' &&
		    line_names(ts, ts->lines[i].text, who, sizeof(who)))
			owner = strcasecmp(who, name) == 0 ? 1 : -1;
	}
	return owner;
}

void lab_sessions_of(struct lab_sessions *s, const char *name)
{
	int *owner = calloc(s->n > 0 ? s->n : 1, sizeof(*owner));
	size_t kept = 0;

	if (owner == NULL)
		return;
	for (size_t k = 0; k < s->n; k++)
		owner[k] = session_owner(&s->all[k], name);
	/* the sessions that name nobody, from the student's addresses */
	for (size_t k = 0; k < s->n; k++)
		for (size_t j = 0; j < s->n && owner[k] == 0; j++)
			if (owner[j] == 1 && s->all[k].peer[0] != '\0' &&
			    strcmp(s->all[j].peer, s->all[k].peer) == 0)
				owner[k] = 2;
	for (size_t k = 0; k < s->n; k++) {
		if (owner[k] <= 0) {
			trace_session_free(&s->all[k]);
			continue;
		}
		if (kept != k)
			s->all[kept] = s->all[k];
		kept++;
	}
	s->n = kept;
	free(owner);
}

void lab_sessions_free(struct lab_sessions *s)
{
	trace_sessions_free(&s->all, s->n);
	s->n = 0;
}

const char *lab_protocol(const struct trace_session *ts)
{
	const struct explainer *ex = trace_explainer(ts->service);

	if (ex != NULL)
		return ex->protocol;
	return ts->service;
}

static bool starts_nocase(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

ssize_t lab_line(const struct trace_session *ts, size_t from, char who,
		 const char *prefix)
{
	for (size_t i = from; i < ts->n_lines; i++)
		if (ts->lines[i].who == who &&
		    starts_nocase(ts->lines[i].text, prefix))
			return (ssize_t)i;
	return -1;
}

ssize_t lab_command(const struct trace_session *ts, size_t from,
		    const char *verb, const char *args)
{
	bool tagged = strcmp(lab_protocol(ts), "imap") == 0;
	size_t vlen = strlen(verb);

	for (size_t i = from; i < ts->n_lines; i++) {
		const char *t = ts->lines[i].text;

		if (ts->lines[i].who != 'C')
			continue;
		if (tagged) {
			const char *sp = strchr(t, ' ');

			if (sp == NULL)
				continue;
			t = sp + 1;
		}
		if (strncasecmp(t, verb, vlen) != 0 ||
		    (t[vlen] != ' ' && t[vlen] != '\0'))
			continue;
		if (args == NULL ||
		    (t[vlen] == ' ' && starts_nocase(t + vlen + 1, args)))
			return (ssize_t)i;
	}
	return -1;
}

static bool smtp_input(const struct trace_line *l)
{
	return l->who == 'C' ||
	       (l->who == '*' && strncmp(l->text, "C: <", 4) == 0);
}

static bool smtp_final_reply(const struct trace_line *l)
{
	const char *t = l->text;

	return l->who == 'S' && strlen(t) >= 3 && t[0] >= '0' && t[0] <= '9' &&
	       t[1] >= '0' && t[1] <= '9' && t[2] >= '0' && t[2] <= '9' &&
	       (t[3] == '\0' || t[3] == ' ');
}

/* RFC 5321 4.2: every command gets exactly one reply, in order, after the
 * greeting (reply 0), so the k-th input gets reply k + 1. */
static ssize_t smtp_reply_to(const struct trace_session *ts, size_t i)
{
	size_t k = 0, replies = 0;

	for (size_t j = 0; j < i; j++)
		k += smtp_input(&ts->lines[j]);
	for (size_t j = 0; j < ts->n_lines; j++) {
		if (!smtp_final_reply(&ts->lines[j]))
			continue;
		if (replies++ == k + 1)
			return (ssize_t)j;
	}
	return -1;
}

ssize_t lab_reply(const struct trace_session *ts, size_t i)
{
	const char *proto = lab_protocol(ts);

	if (i >= ts->n_lines)
		return -1;
	if (strcmp(proto, "smtp") == 0)
		return smtp_reply_to(ts, i);
	if (strcmp(proto, "pop3") == 0) {
		for (size_t j = i + 1; j < ts->n_lines; j++) {
			const char *t = ts->lines[j].text;

			if (ts->lines[j].who == 'S' &&
			    (strncmp(t, "+OK", 3) == 0 ||
			     strncmp(t, "-ERR", 4) == 0 || strncmp(t, "+ ", 2) == 0))
				return (ssize_t)j;
		}
		return -1;
	}
	if (strcmp(proto, "imap") == 0) {
		const char *t = ts->lines[i].text;
		size_t tag = strcspn(t, " ");

		for (size_t j = i + 1; j < ts->n_lines; j++)
			if (ts->lines[j].who == 'S' &&
			    strncmp(ts->lines[j].text, t, tag) == 0 &&
			    ts->lines[j].text[tag] == ' ')
				return (ssize_t)j;
	}
	return -1;
}

bool lab_reply_is(const struct trace_session *ts, size_t i,
		  const char *prefix)
{
	ssize_t r = lab_reply(ts, i);
	const char *t;

	if (r < 0)
		return false;
	t = ts->lines[r].text;
	if (strcmp(lab_protocol(ts), "imap") == 0)
		t += strcspn(t, " ") + (t[strcspn(t, " ")] == ' ');
	return starts_nocase(t, prefix);
}

ssize_t lab_tls_at(const struct trace_session *ts)
{
	return lab_line(ts, 0, '*', "TLS established");
}

static long long day_number(const char *day)
{
	int y, m, d;

	if (sscanf(day, "%d-%d-%d", &y, &m, &d) != 3)
		return 0;
	/* days since 0000-03-01, enough to order days */
	if (m <= 2) {
		y--;
		m += 12;
	}
	return 365LL * y + y / 4 - y / 100 + y / 400 + (153 * (m - 3) + 2) / 5 + d;
}

long long lab_start_ms(const struct trace_session *ts)
{
	if (ts->n_lines == 0)
		return 0;
	return day_number(ts->day) * DAY_MS + ts->lines[0].ms;
}

long long lab_end_ms(const struct trace_session *ts)
{
	return lab_start_ms(ts) + trace_session_duration(ts);
}

ssize_t lab_smtp_accepted(const struct trace_session *ts)
{
	if (strcmp(lab_protocol(ts), "smtp") != 0)
		return -1;
	for (ssize_t i = lab_line(ts, 0, '*', "C: <message"); i >= 0;
	     i = lab_line(ts, (size_t)i + 1, '*', "C: <message"))
		if (lab_reply_is(ts, (size_t)i, "250"))
			return i;
	return -1;
}

const struct trace_session *lab_smtp_sent(const struct lab_sessions *s,
					  const char *service)
{
	for (size_t k = s->n; k-- > 0;)
		if ((service == NULL || strcmp(s->all[k].service, service) == 0) &&
		    lab_smtp_accepted(&s->all[k]) >= 0)
			return &s->all[k];
	return NULL;
}

int lab_find_exchange(const struct lab_sessions *s, const char *proto,
		      const char *user, const char *verb, const char *args,
		      const char *good, struct lab_hit *hit)
{
	int found = -1;

	memset(hit, 0, sizeof(*hit));
	for (size_t k = s->n; k-- > 0;) {
		const struct trace_session *ts = &s->all[k];

		if (strcmp(lab_protocol(ts), proto) != 0 ||
		    (user != NULL && strcmp(ts->user, user) != 0))
			continue;
		for (ssize_t i = lab_command(ts, 0, verb, args); i >= 0;
		     i = lab_command(ts, (size_t)i + 1, verb, args)) {
			if (lab_reply_is(ts, (size_t)i, good)) {
				hit->ts = ts;
				hit->line = i;
				hit->reply = lab_reply(ts, (size_t)i);
				return 1;
			}
			if (found < 0) {
				found = 0;
				hit->ts = ts;
				hit->line = i;
				hit->reply = lab_reply(ts, (size_t)i);
			}
		}
	}
	return found;
}

void lab_step_exchange(struct lab_check *c, const struct lab_sessions *s,
		       const char *proto, const char *user, const char *verb,
		       const char *args, const char *good, const char *what,
		       const char *never)
{
	struct lab_hit hit;
	int r = lab_find_exchange(s, proto, user, verb, args, good, &hit);

	if (r > 0)
		lab_pass(c, "%s (session %s)", what, hit.ts->id);
	else if (r == 0 && hit.reply >= 0)
		lab_fail(c, "%s: your '%s' got '%s' in session %s", what,
			 hit.ts->lines[hit.line].text, hit.ts->lines[hit.reply].text,
			 hit.ts->id);
	else if (r == 0)
		lab_fail(c, "%s: your '%s' got no answer in session %s", what,
			 hit.ts->lines[hit.line].text, hit.ts->id);
	else
		lab_fail(c, "%s", never);
}

/* ---- the store ---- */

static void folder_dir(const struct lab_check *c, const char *name,
		       const char *user, const char *folder, struct buf *out)
{
	instance_dir(c, name, out);
	buf_printf(out, "/mail/%s", user);
	/* Maildir++: a folder is a directory ".Name" beside cur/ new/ tmp/ */
	if (folder != NULL && strcasecmp(folder, "INBOX") != 0)
		buf_printf(out, "/.%s", folder);
}

/* Calls each(path, file name, in_cur, arg) for every message of the
 * folder until it returns true; true when one did. */
static bool each_msg(const struct lab_check *c, const char *name,
		     const char *user, const char *folder,
		     bool (*each)(const char *path, const char *fname,
				  bool in_cur, void *arg), void *arg)
{
	static const char *const subs[] = { "new", "cur" };
	struct buf base = BUF_INIT(BUF_UNLIMITED);
	bool done = false;

	folder_dir(c, name, user, folder, &base);
	for (size_t s = 0; s < 2 && !done; s++) {
		struct buf path = BUF_INIT(BUF_UNLIMITED);
		struct dirent *de;
		DIR *d;

		buf_printf(&path, "%s/%s", buf_cstr(&base), subs[s]);
		d = opendir(buf_cstr(&path));
		while (d != NULL && !done && (de = readdir(d)) != NULL) {
			struct buf file = BUF_INIT(BUF_UNLIMITED);

			if (de->d_name[0] != '.') {
				buf_printf(&file, "%s/%s", buf_cstr(&path), de->d_name);
				done = each(buf_cstr(&file), de->d_name, s == 1, arg);
			}
			buf_free(&file);
		}
		if (d != NULL)
			closedir(d);
		buf_free(&path);
	}
	buf_free(&base);
	return done;
}

/* Maps a message file: 0, or -1. */
static int map_file(const char *path, struct msg_map *m)
{
	char err[256];
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = -1;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		ret = msg_map_fd(fd, (size_t)st.st_size, m, err, sizeof(err));
	close(fd);
	return ret;
}

struct find_arg {
	const char *field, *value;
	struct lab_msg *out;
};

static bool header_matches(const char *path, const char *field,
			   const char *value)
{
	struct buf v = BUF_INIT(BUF_UNLIMITED);
	struct msg_map m = { 0 };
	struct hdr_field f;
	bool found = false;

	if (map_file(path, &m) < 0)
		return false;
	if (hdr_find(m.data, 0, m.size, field, &f) && hdr_unfold(m.data, &f, &v) == 0)
		found = strcasestr(buf_cstr(&v), value) != NULL;
	buf_free(&v);
	msg_unmap(&m);
	return found;
}

static bool find_one(const char *path, const char *fname, bool in_cur,
		     void *arg)
{
	struct find_arg *a = arg;
	const char *flags = strstr(fname, ":2,");

	if (!header_matches(path, a->field, a->value))
		return false;
	snprintf(a->out->path, sizeof(a->out->path), "%s", path);
	snprintf(a->out->flags, sizeof(a->out->flags), "%s",
		 flags != NULL ? flags + 3 : "");
	a->out->in_cur = in_cur;
	return true;
}

int lab_find_msg(const struct lab_check *c, const char *name,
		 const char *user, const char *folder, const char *field,
		 const char *value, struct lab_msg *out)
{
	struct find_arg a = { field, value, out };

	memset(out, 0, sizeof(*out));
	return each_msg(c, name, user, folder, find_one, &a) ? 1 : 0;
}

static bool count_one(const char *path, const char *fname, bool in_cur,
		      void *arg)
{
	(void)path;
	(void)fname;
	(void)in_cur;
	++*(size_t *)arg;
	return false;
}

size_t lab_count_msgs(const struct lab_check *c, const char *name,
		      const char *user, const char *folder)
{
	size_t n = 0;

	each_msg(c, name, user, folder, count_one, &n);
	return n;
}

bool lab_body_has_line(const struct lab_msg *msg, const char *prefix)
{
	struct msg_map m = { 0 };
	size_t plen = strlen(prefix), pos;
	bool found = false;

	if (map_file(msg->path, &m) < 0)
		return false;
	pos = hdr_block_end(m.data, 0, m.size);
	while (pos < m.size && !found) {
		const char *nl = memchr(m.data + pos, '\n', m.size - pos);
		size_t len = nl != NULL ? (size_t)(nl - (m.data + pos)) : m.size - pos;

		found = len >= plen && memcmp(m.data + pos, prefix, plen) == 0;
		pos += len + 1;
	}
	msg_unmap(&m);
	return found;
}

bool lab_folder_exists(const struct lab_check *c, const char *name,
		       const char *user, const char *folder)
{
	struct buf path = BUF_INIT(BUF_UNLIMITED);
	struct stat st;
	bool ok;

	folder_dir(c, name, user, folder, &path);
	buf_puts(&path, "/cur");
	ok = stat(buf_cstr(&path), &st) == 0 && S_ISDIR(st.st_mode);
	buf_free(&path);
	return ok;
}
