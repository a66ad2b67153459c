/* Fault injection rules, per-session fault sets, delays and the greylist
 * table (common/fault.h; what the faults look like: labs/faults.md). */
#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/fault.h"
#include "common/log.h"
#include "common/trace.h"

/* The marker that starts a fault suffix in a name. */
#define NAME_MARKER "+fault."
#define NAME_MARKER_LEN (sizeof(NAME_MARKER) - 1)
/* What ends a suffix: the domain of an address, or the closing quote of
 * a quoted local part ("bob+fault.rcpt.451"@lab.test). */
#define SUFFIX_END "@\""

static const char *const proto_names[FAULT_N_PROTO] = {
	[FAULT_SMTP] = "smtp", [FAULT_POP3] = "pop3", [FAULT_IMAP] = "imap",
};

/* The replies a FAULT_REPLY may give (RFC 5321 4.2.2, 4.2.3: the codes a
 * server sends to a command it does not carry out). */
static const unsigned int reply_codes[] = {
	421, 450, 451, 452, 550, 551, 552, 553, 554,
};

const char *fault_proto_name(enum fault_proto p)
{
	return (unsigned int)p < FAULT_N_PROTO ? proto_names[p] : "?";
}

enum fault_proto fault_proto_of(enum service_id svc)
{
	switch (svc) {
	case SVC_POP3:
	case SVC_POP3S:
		return FAULT_POP3;
	case SVC_IMAP:
	case SVC_IMAPS:
		return FAULT_IMAP;
	default:
		return FAULT_SMTP;
	}
}

/* "delay500" -> 500 within [min, max]; 0 or -1. */
static int number_after(const char *s, const char *word, unsigned int min,
			unsigned int max, unsigned int *out)
{
	size_t wl = strlen(word);
	unsigned long v = 0;

	if (strncasecmp(s, word, wl) != 0)
		return -1;
	s += wl;
	if (*s == '\0' || strlen(s) > 6)
		return -1;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

static int parse_action(const char *a, struct fault *f)
{
	if (strlen(a) == 3 && isdigit((unsigned char)a[0]) &&
	    isdigit((unsigned char)a[1]) && isdigit((unsigned char)a[2])) {
		unsigned int code = (unsigned int)atoi(a);

		for (size_t i = 0; i < sizeof(reply_codes) / sizeof(reply_codes[0]); i++)
			if (reply_codes[i] == code) {
				f->kind = FAULT_REPLY;
				f->arg = code;
				return 0;
			}
		return -1;
	}
	if (strcasecmp(a, "greylist") == 0) {
		f->kind = FAULT_GREYLIST;
		f->arg = 1;
		return 0;
	}
	if (number_after(a, "greylist", 1, FAULT_MAX_GREYLIST, &f->arg) == 0) {
		f->kind = FAULT_GREYLIST;
		return 0;
	}
	if (number_after(a, "delay", 1, FAULT_MAX_DELAY_MS, &f->arg) == 0) {
		f->kind = FAULT_DELAY;
		return 0;
	}
	f->arg = 0;
	if (strcasecmp(a, "drop") == 0)
		f->kind = FAULT_DROP;
	else if (strcasecmp(a, "bye") == 0)
		f->kind = FAULT_BYE;
	else if (strcasecmp(a, "in-use") == 0)
		f->kind = FAULT_IN_USE;
	else if (strcasecmp(a, "unavailable") == 0)
		f->kind = FAULT_UNAVAILABLE;
	else
		return -1;
	return 0;
}

/* A command name: letters, then letters or '-' (DATA-END), or "*"/"any". */
static int parse_cmd(const char *c, char *out)
{
	size_t len = strlen(c);

	if (strcmp(c, "*") == 0 || strcasecmp(c, "any") == 0) {
		snprintf(out, FAULT_CMD_MAX, "%s", FAULT_ANY);
		return 0;
	}
	if (len == 0 || len >= FAULT_CMD_MAX || !isalpha((unsigned char)c[0]))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!isalpha((unsigned char)c[i]) && c[i] != '-')
			return -1;
		out[i] = (char)toupper((unsigned char)c[i]);
	}
	out[len] = '\0';
	return 0;
}

/* What a greeting may be instead of itself: RFC 5321 3.1, 3.8: SMTP's
 * 554 (no service here) or 421 (closing); a POP3 -ERR or an IMAP BYE
 * (RFC 3501 7.1.5) and the close, for any reply code. */
static bool greeting_action(const struct fault *f)
{
	switch (f->kind) {
	case FAULT_DELAY:
	case FAULT_DROP:
	case FAULT_BYE:
		return true;
	case FAULT_REPLY:
		return f->proto != FAULT_SMTP || f->arg == 421 || f->arg == 554;
	case FAULT_UNAVAILABLE:
		return f->proto == FAULT_IMAP;
	default:
		return false;
	}
}

int fault_parse(const char *proto, const char *cmd, const char *action,
		struct fault *out, char *err_r, size_t errlen)
{
	struct fault f;
	int p;

	memset(&f, 0, sizeof(f));
	for (p = 0; p < FAULT_N_PROTO; p++)
		if (strcasecmp(proto, proto_names[p]) == 0)
			break;
	if (p == FAULT_N_PROTO) {
		snprintf(err_r, errlen, "fault: '%s' is not smtp, pop3 or imap", proto);
		return -1;
	}
	f.proto = (enum fault_proto)p;
	if (parse_cmd(cmd, f.cmd) < 0) {
		snprintf(err_r, errlen, "fault %s: '%s' is not a command name (or *)",
			 proto, cmd);
		return -1;
	}
	if (parse_action(action, &f) < 0) {
		snprintf(err_r, errlen, "fault %s %s: '%s' is not an action (421, 450, "
			 "451, 452, 550-554, greylistN, delayN, drop, bye, in-use, "
			 "unavailable)", proto, cmd, action);
		return -1;
	}
	if (strcmp(f.cmd, FAULT_GREETING) == 0 && !greeting_action(&f)) {
		snprintf(err_r, errlen, "fault %s %s: %s cannot answer a greeting "
			 "(delayN, drop, bye, %s)", proto, cmd, action,
			 f.proto == FAULT_SMTP ? "421, 554" :
			 f.proto == FAULT_POP3 ? "a 4xx or 5xx code" :
			 "a 4xx or 5xx code, unavailable");
		return -1;
	}
	if ((f.kind == FAULT_GREYLIST &&
	     (f.proto != FAULT_SMTP || strcmp(f.cmd, "RCPT") != 0)) ||
	    (f.kind == FAULT_IN_USE && f.proto != FAULT_POP3) ||
	    (f.kind == FAULT_UNAVAILABLE && f.proto != FAULT_IMAP)) {
		snprintf(err_r, errlen, "fault %s %s: %s applies only to %s", proto,
			 cmd, action, f.kind == FAULT_GREYLIST ? "smtp RCPT" :
			 f.kind == FAULT_IN_USE ? "pop3" : "imap");
		return -1;
	}
	*out = f;
	return 0;
}

void fault_describe(const struct fault *f, struct buf *out)
{
	buf_printf(out, "%s %s ", fault_proto_name(f->proto), f->cmd);
	switch (f->kind) {
	case FAULT_REPLY:
		buf_printf(out, "%u", f->arg);
		break;
	case FAULT_GREYLIST:
		buf_printf(out, "greylist%u", f->arg);
		break;
	case FAULT_DELAY:
		buf_printf(out, "delay%u", f->arg);
		break;
	case FAULT_DROP:
		buf_puts(out, "drop");
		break;
	case FAULT_BYE:
		buf_puts(out, "bye");
		break;
	case FAULT_IN_USE:
		buf_puts(out, "in-use");
		break;
	case FAULT_UNAVAILABLE:
		buf_puts(out, "unavailable");
		break;
	}
}

/* --- the faults of a session --- */

void fault_session_init(struct fault_session *fs, const struct proto_io *io)
{
	const struct config *cfg = io->cfg;
	char err[256];

	memset(fs, 0, sizeof(*fs));
	buf_init(&fs->held, BUF_UNLIMITED);
	fs->proto = fault_proto_of(io->service);
	fs->on = cfg->fault_injection;
	if (!fs->on)
		return;
	for (size_t i = 0; i < cfg->n_faults; i++) {
		char words[3][64];
		struct fault f;

		/* config-fault.c stored "PROTO CMD ACTION", each checked */
		if (sscanf(cfg->faults[i], "%63s %63s %63s", words[0], words[1],
			   words[2]) != 3 ||
		    fault_parse(words[0], words[1], words[2], &f, err,
				sizeof(err)) < 0 || f.proto != fs->proto)
			continue;
		fs->rules[fs->n_rules++] = f;
	}
}

void fault_session_free(struct fault_session *fs)
{
	if (fs->held.data != NULL)
		explicit_bzero(fs->held.data, fs->held.len);
	buf_free(&fs->held);
}

void fault_forget_named(struct fault_session *fs)
{
	fs->n_named = fs->n_kept;
}

void fault_keep_named(struct fault_session *fs)
{
	fs->n_kept = fs->n_named;
}

static bool matches(const struct fault *f, const char *cmd, unsigned int kinds)
{
	if (!(kinds & FAULT_KIND_BIT(f->kind)))
		return false;
	/* the greeting is no command: "*" is for every command */
	if (strcmp(f->cmd, FAULT_ANY) == 0)
		return strcmp(cmd, FAULT_GREETING) != 0;
	return strcasecmp(f->cmd, cmd) == 0;
}

const struct fault *fault_find(const struct fault_session *fs, const char *cmd,
			       unsigned int kinds, size_t first_named,
			       bool named_only)
{
	if (!fs->on)
		return NULL;
	for (size_t i = first_named; i < fs->n_named; i++)
		if (matches(&fs->named[i], cmd, kinds))
			return &fs->named[i];
	if (named_only)
		return NULL;
	for (size_t i = 0; i < fs->n_rules; i++)
		if (matches(&fs->rules[i], cmd, kinds))
			return &fs->rules[i];
	return NULL;
}

/* Where the marker starts in name (before any '@'), or NULL. */
static char *find_marker(char *name)
{
	size_t end = strcspn(name, "@");

	for (size_t i = 0; i + NAME_MARKER_LEN <= end; i++)
		if (strncasecmp(name + i, NAME_MARKER, NAME_MARKER_LEN) == 0)
			return name + i;
	return NULL;
}

/* Parses "cmd.action[.cmd.action...]" (len bytes) into rules: how many,
 * or -1 with err_r. */
static int parse_suffix(enum fault_proto proto, const char *s, size_t len,
			struct fault *rules, size_t max, char *err_r,
			size_t errlen)
{
	char copy[128], *save = NULL, *cmd, *action;
	int n = 0;

	if (len >= sizeof(copy)) {
		snprintf(err_r, errlen, "fault suffix too long");
		return -1;
	}
	memcpy(copy, s, len);
	copy[len] = '\0';
	for (cmd = strtok_r(copy, ".", &save); cmd != NULL;
	     cmd = strtok_r(NULL, ".", &save)) {
		action = strtok_r(NULL, ".", &save);
		if (action == NULL) {
			snprintf(err_r, errlen, "fault suffix: '%s' has no action", cmd);
			return -1;
		}
		if ((size_t)n == max) {
			snprintf(err_r, errlen, "fault suffix: more than %zu faults", max);
			return -1;
		}
		if (fault_parse(proto_names[proto], cmd, action, &rules[n], err_r,
				errlen) < 0)
			return -1;
		if (strcmp(rules[n].cmd, FAULT_GREETING) == 0) {
			snprintf(err_r, errlen, "fault suffix: the greeting comes before "
				 "any name (a GREETING fault only from maillab.conf)");
			return -1;
		}
		n++;
	}
	if (n == 0)
		snprintf(err_r, errlen, "fault suffix without a fault");
	return n > 0 ? n : -1;
}

void fault_strip_name(char *name)
{
	char *marker = find_marker(name);

	if (marker != NULL) {
		char *end = marker + strcspn(marker, SUFFIX_END);

		memmove(marker, end, strlen(end) + 1);
	}
}

int fault_take_name(struct fault_session *fs, struct proto_io *io, char *name)
{
	struct buf desc = BUF_INIT(BUF_UNLIMITED);
	struct fault rules[FAULT_MAX_NAMED];
	char err[256], *marker, *end;
	int n;

	if (!fs->on || (marker = find_marker(name)) == NULL)
		return 0;
	end = marker + strcspn(marker, SUFFIX_END);
	n = parse_suffix(fs->proto, marker + NAME_MARKER_LEN,
			 (size_t)(end - marker) - NAME_MARKER_LEN, rules,
			 FAULT_MAX_NAMED - fs->n_named, err, sizeof(err));
	if (n < 0) {
		trace_note(io->trace, "fault not injected: %s", err);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		fs->named[fs->n_named++] = rules[i];
		buf_puts(&desc, i > 0 ? ", " : "");
		fault_describe(&rules[i], &desc);
	}
	memmove(marker, end, strlen(end) + 1);
	trace_note(io->trace, "fault requested by name %s: %s", name,
		   buf_cstr(&desc));
	buf_free(&desc);
	return n;
}

void fault_note(struct proto_io *io, const struct fault *f, const char *cmd,
		const char *what)
{
	struct buf desc = BUF_INIT(BUF_UNLIMITED);

	fault_describe(f, &desc);
	trace_note(io->trace, "fault injected: %s (at %s): %s", buf_cstr(&desc),
		   cmd, what);
	log_msg(service_name(io->service), io->id, "fault injected: %s (at %s): %s",
		buf_cstr(&desc), cmd, what);
	buf_free(&desc);
}

/* --- delays --- */

static void delay_over(void *arg)
{
	struct fault_session *fs = arg;

	fs->replaying = true;
	fs->again(fs->again_arg);
	fs->replaying = false;
}

bool fault_delay(struct fault_session *fs, struct proto_io *io,
		 const char *cmd, void (*again)(void *arg), void *arg)
{
	const struct fault *f;
	char what[64];

	if (fs->replaying || io->after == NULL)
		return false;
	f = fault_find(fs, cmd, FAULT_KIND_BIT(FAULT_DELAY), 0, false);
	if (f == NULL)
		return false;
	snprintf(what, sizeof(what), "reply delayed by %u ms", f->arg);
	fault_note(io, f, cmd, what);
	fs->again = again;
	fs->again_arg = arg;
	io->after(io, f->arg, delay_over, fs);
	return true;
}

static void replay_line(void *arg)
{
	struct fault_session *fs = arg;

	fs->again_line(fs->line_sess, buf_cstr(&fs->held), fs->held.len,
		       fs->held_flags);
	if (fs->held.data != NULL)
		explicit_bzero(fs->held.data, fs->held.len);
	buf_clear(&fs->held);
}

bool fault_delay_line(struct fault_session *fs, struct proto_io *io,
		      const char *cmd, const char *line, size_t len,
		      unsigned flags,
		      void (*line_fn)(void *sess, const char *line, size_t len,
				      unsigned flags),
		      void *sess)
{
	if (fs->replaying || fault_find(fs, cmd, FAULT_KIND_BIT(FAULT_DELAY), 0,
					false) == NULL)
		return false;
	buf_clear(&fs->held);
	buf_append(&fs->held, line, len);
	fs->held_flags = flags;
	fs->again_line = line_fn;
	fs->line_sess = sess;
	return fault_delay(fs, io, cmd, replay_line, fs);
}

/* --- greylisting --- */

/* Triples remembered; a full table forgets the one seen longest ago. */
#define GREYLIST_SIZE 4096

struct grey {
	uint64_t key;		/* FNV-1a of the triple */
	unsigned int attempts;
	time_t last;
};

static struct grey greylist[GREYLIST_SIZE];
static size_t n_grey;
static pthread_mutex_t grey_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t fnv1a(uint64_t h, const char *s)
{
	/* the NUL too, so that ("ab","c") and ("a","bc") differ */
	do {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	} while (*s++ != '\0');
	return h;
}

static struct grey *grey_slot(uint64_t key)
{
	size_t oldest = 0;

	for (size_t i = 0; i < n_grey; i++) {
		if (greylist[i].key == key)
			return &greylist[i];
		if (greylist[i].last < greylist[oldest].last)
			oldest = i;
	}
	if (n_grey < GREYLIST_SIZE)
		oldest = n_grey++;
	greylist[oldest] = (struct grey){ .key = key };
	return &greylist[oldest];
}

unsigned int fault_greylist(const char *client, const char *sender,
			    const char *rcpt, unsigned int limit)
{
	uint64_t key = fnv1a(fnv1a(fnv1a(14695981039346656037ULL, client),
				   sender), rcpt);
	unsigned int ret = 0;
	struct grey *g;

	pthread_mutex_lock(&grey_lock);
	g = grey_slot(key);
	g->last = time(NULL);
	if (g->attempts < limit)
		ret = ++g->attempts;
	pthread_mutex_unlock(&grey_lock);
	return ret;
}

void fault_greylist_reset(void)
{
	pthread_mutex_lock(&grey_lock);
	n_grey = 0;
	pthread_mutex_unlock(&grey_lock);
}
