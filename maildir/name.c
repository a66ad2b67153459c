#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>

#include "maildir/mutf7.h"
#include "maildir/name.h"

static const struct {
	unsigned flag;
	char letter;
} flag_letters[] = {
	{ MAILDIR_FLAG_DRAFT, 'D' },
	{ MAILDIR_FLAG_FLAGGED, 'F' },
	{ MAILDIR_FLAG_ANSWERED, 'R' },
	{ MAILDIR_FLAG_SEEN, 'S' },
	{ MAILDIR_FLAG_DELETED, 'T' },
};
#define NFLAGS (sizeof(flag_letters) / sizeof(flag_letters[0]))

size_t maildir_flags_to_letters(unsigned flags, char *out)
{
	size_t i, n = 0;

	for (i = 0; i < NFLAGS; i++)
		if (flags & flag_letters[i].flag)
			out[n++] = flag_letters[i].letter;
	out[n] = '\0';
	return n;
}

static unsigned letter_flag(char c)
{
	size_t i;

	for (i = 0; i < NFLAGS; i++)
		if (flag_letters[i].letter == c)
			return flag_letters[i].flag;
	return 0;
}

unsigned maildir_flags_from_name(const char *fname)
{
	const char *p = strstr(fname, ":2,");
	unsigned flags = 0;

	if (p == NULL)
		return 0;
	for (p += 3; *p != '\0'; p++)
		flags |= letter_flag(*p);
	return flags;
}

size_t maildir_base_len(const char *fname)
{
	const char *colon = strchr(fname, ':');

	return colon != NULL ? (size_t)(colon - fname) : strlen(fname);
}

void maildir_name_with_flags(const char *fname, unsigned flags, struct buf *out)
{
	const char *old = strstr(fname, ":2,");
	char keep[128];
	size_t nkeep = 0, i, j;
	char letters[8];

	if (old != NULL) {
		for (old += 3; *old != '\0' && nkeep < sizeof(keep) - 8; old++) {
			if (letter_flag(*old) != 0 || *old == ',' ||
			    memchr(keep, *old, nkeep) != NULL)
				continue;
			keep[nkeep++] = *old;
		}
	}
	maildir_flags_to_letters(flags, letters);
	for (i = 0; letters[i] != '\0'; i++)
		keep[nkeep++] = letters[i];
	/* Insertion sort: a handful of letters. */
	for (i = 1; i < nkeep; i++) {
		char c = keep[i];

		for (j = i; j > 0 && keep[j - 1] > c; j--)
			keep[j] = keep[j - 1];
		keep[j] = c;
	}
	buf_clear(out);
	buf_append(out, fname, maildir_base_len(fname));
	buf_puts(out, ":2,");
	buf_append(out, keep, nkeep);
}

static char host_buf[256];
static pthread_once_t host_once = PTHREAD_ONCE_INIT;

static void host_init(void)
{
	char raw[128];
	size_t i, n = 0;

	if (gethostname(raw, sizeof(raw)) < 0 || raw[0] == '\0')
		snprintf(raw, sizeof(raw), "localhost");
	raw[sizeof(raw) - 1] = '\0';
	for (i = 0; raw[i] != '\0' && n + 5 < sizeof(host_buf); i++) {
		if (raw[i] == '/')
			n += (size_t)snprintf(host_buf + n, 5, "\\057");
		else if (raw[i] == ':')
			n += (size_t)snprintf(host_buf + n, 5, "\\072");
		else if (raw[i] == ',')
			n += (size_t)snprintf(host_buf + n, 5, "\\054");
		else
			host_buf[n++] = raw[i];
	}
	host_buf[n] = '\0';
}

/* The host part, with '/' ':' ',' escaped as the Maildir spec asks. */
static const char *host_part(void)
{
	pthread_once(&host_once, host_init);
	return host_buf;
}

static atomic_uint_fast64_t unique_counter;

int maildir_name_unique(char *out, size_t outlen, uint64_t size)
{
	struct timeval tv;
	uint64_t q = atomic_fetch_add(&unique_counter, 1);
	int n;

	gettimeofday(&tv, NULL);
	n = snprintf(out, outlen, "%lld.M%06ldP%ldQ%llu.%s,S=%llu",
		     (long long)tv.tv_sec, (long)tv.tv_usec, (long)getpid(),
		     (unsigned long long)q, host_part(),
		     (unsigned long long)size);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int maildir_name_unique_wire(char *out, size_t outlen, uint64_t size,
			     uint64_t wire)
{
	size_t len;
	int n;

	if (maildir_name_unique(out, outlen, size) < 0)
		return -1;
	len = strlen(out);
	n = snprintf(out + len, outlen - len, ",W=%llu",
		     (unsigned long long)wire);
	return n < 0 || (size_t)n >= outlen - len ? -1 : 0;
}

#define NAME_TIME_MAX UINT64_C(253402300799)	/* 9999-12-31T23:59:59Z */

static uint64_t parse_u64(const char *p)
{
	uint64_t v = 0;

	while (*p >= '0' && *p <= '9' && v < UINT64_MAX / 10)
		v = v * 10 + (uint64_t)(*p++ - '0');
	return v;
}

void maildir_name_parse(const char *fname, struct maildir_name_info *info)
{
	size_t base = maildir_base_len(fname);
	const char *p, *comma;

	uint64_t sec, usec;

	memset(info, 0, sizeof(*info));
	/* A time past 9999-12-31 (or an overflowing number) is no delivery
	 * time: the file's mtime is used, and no date formats out of range. */
	sec = parse_u64(fname);
	info->sec = sec <= NAME_TIME_MAX ? (int64_t)sec : 0;
	p = strchr(fname, '.');
	if (p != NULL && (size_t)(p - fname) < base && p[1] == 'M') {
		usec = parse_u64(p + 2);
		info->usec = usec < 1000000 ? (int64_t)usec : 0;
	}
	/* ",S=" and ",W=" follow the host part, before ':'. */
	for (comma = memchr(fname, ',', base); comma != NULL;
	     comma = memchr(comma + 1, ',', base - (size_t)(comma + 1 - fname))) {
		if (comma[1] == 'S' && comma[2] == '=') {
			info->has_size = 1;
			info->size = parse_u64(comma + 3);
		} else if (comma[1] == 'W' && comma[2] == '=') {
			info->has_wire = 1;
			info->wire = parse_u64(comma + 3);
		}
	}
}

int maildir_name_cmp_delivery(const char *a, const char *b)
{
	struct maildir_name_info ia, ib;

	maildir_name_parse(a, &ia);
	maildir_name_parse(b, &ib);
	if (ia.sec != ib.sec)
		return ia.sec < ib.sec ? -1 : 1;
	if (ia.usec != ib.usec)
		return ia.usec < ib.usec ? -1 : 1;
	return strcmp(a, b);
}

int maildir_folder_is_inbox(const char *name)
{
	return strcasecmp(name, "INBOX") == 0;
}

int maildir_folder_name_valid(const char *name, char *err_r, size_t errlen)
{
	size_t len = strlen(name), i, comp = 0;

	if (len == 0) {
		snprintf(err_r, errlen, "empty mailbox name");
		return 0;
	}
	if (len > MAILDIR_FOLDER_MAX) {
		snprintf(err_r, errlen, "mailbox name longer than %d bytes",
			 MAILDIR_FOLDER_MAX);
		return 0;
	}
	if (name[0] == '/') {
		snprintf(err_r, errlen, "mailbox name must not start with '/'");
		return 0;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || c == 0x7f) {
			snprintf(err_r, errlen, "control character in mailbox name");
			return 0;
		}
		if (c >= 0x80) {
			snprintf(err_r, errlen,
				 "8-bit mailbox name (use modified UTF-7)");
			return 0;
		}
		if (c == '.') {
			snprintf(err_r, errlen, "'.' is not allowed in a mailbox name");
			return 0;
		}
		if (c == '%' || c == '*' || c == '\\') {
			snprintf(err_r, errlen, "'%c' is not allowed in a mailbox name", c);
			return 0;
		}
		if (c == '/') {
			if (comp == 0) {
				snprintf(err_r, errlen, "empty level in mailbox name");
				return 0;
			}
			comp = 0;
		} else {
			comp++;
		}
	}
	if (comp == 0) {
		snprintf(err_r, errlen, "mailbox name must not end with '/'");
		return 0;
	}
	if (!mutf7_valid(name)) {
		snprintf(err_r, errlen, "mailbox name is not valid modified UTF-7");
		return 0;
	}
	return 1;
}

int maildir_folder_name_creatable(const char *name, char *err_r,
				  size_t errlen)
{
	if (!maildir_folder_name_valid(name, err_r, errlen))
		return 0;
	if (mutf7_has_control(name)) {
		snprintf(err_r, errlen,
			 "Control characters not allowed in new mailbox names");
		return 0;
	}
	return 1;
}

int maildir_folder_dir(const char *name, struct buf *out,
		       char *err_r, size_t errlen)
{
	const char *p;

	buf_clear(out);
	if (maildir_folder_is_inbox(name)) {
		buf_puts(out, "");
		return 0;
	}
	if (!maildir_folder_name_valid(name, err_r, errlen))
		return -1;
	buf_putc(out, '.');
	for (p = name; *p != '\0'; p++)
		buf_putc(out, *p == '/' ? '.' : *p);
	return 0;
}

int maildir_folder_from_dir(const char *dirent, struct buf *out)
{
	char err[128];
	const char *p;

	if (dirent[0] != '.' || dirent[1] == '\0' || dirent[1] == '.')
		return -1;
	buf_clear(out);
	for (p = dirent + 1; *p != '\0'; p++)
		buf_putc(out, *p == '.' ? '/' : *p);
	if (!maildir_folder_name_valid(out->data, err, sizeof(err)) ||
	    maildir_folder_is_inbox(out->data))
		return -1;
	return 0;
}
