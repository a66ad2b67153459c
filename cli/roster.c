#include <stdlib.h>
#include <string.h>

#include "cli/roster.h"
#include "common/log.h"
#include "common/users.h"
#include "common/xalloc.h"

static void report(struct roster *r, const char *file, unsigned line,
		   const char *why, const char *name, size_t len)
{
	buf_printf(&r->errors, "%s:%u: %s", file, line, why);
	if (name != NULL) {
		buf_puts(&r->errors, " '");
		log_escape(&r->errors, name, len, 80);
		buf_puts(&r->errors, "'");
	}
	buf_putc(&r->errors, '\n');
	r->n_errors++;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Why a name of len bytes (no blanks at its ends) is bad, or NULL. */
static const char *name_problem(const char *name, size_t len)
{
	char copy[USER_NAME_MAX + 1];

	for (size_t i = 0; i < len; i++)
		if (blank(name[i]))
			return "more than one name on the line:";
	if (len > USER_NAME_MAX)
		return "name longer than 64 characters:";
	if (memchr(name, '\0', len) != NULL)
		return "invalid name (a NUL byte):";
	memcpy(copy, name, len);
	copy[len] = '\0';
	if (!user_name_valid(copy))
		return "invalid name (1-64 of a-z 0-9 . _ -, not starting "
			"with . or -):";
	return NULL;
}

static const struct roster_entry *find(const struct roster *r,
				       const char *name, size_t len)
{
	for (size_t i = 0; i < r->n; i++)
		if (strlen(r->v[i].name) == len &&
		    memcmp(r->v[i].name, name, len) == 0)
			return &r->v[i];
	return NULL;
}

static void take_line(struct roster *r, const char *file, unsigned line,
		      const char *p, size_t len)
{
	const struct roster_entry *dup;
	const char *hash = memchr(p, '#', len), *why;
	char msg[64];

	if (hash != NULL)
		len = (size_t)(hash - p);
	while (len > 0 && blank(*p)) {
		p++;
		len--;
	}
	while (len > 0 && blank(p[len - 1]))
		len--;
	if (len == 0)
		return;
	if ((why = name_problem(p, len)) != NULL) {
		report(r, file, line, why, p, len);
		return;
	}
	if ((dup = find(r, p, len)) != NULL) {
		snprintf(msg, sizeof(msg), "duplicate of line %u:", dup->line);
		report(r, file, line, msg, p, len);
		return;
	}
	if (r->n >= ROSTER_MAX_NAMES) {
		report(r, file, line, "more than 5000 names:", p, len);
		return;
	}
	r->v = xreallocarray(r->v, r->n + 1, sizeof(*r->v));
	r->v[r->n].name = xstrndup(p, len);
	r->v[r->n].line = line;
	r->n++;
}

size_t roster_parse(const char *text, size_t len, const char *file,
		    struct roster *r)
{
	size_t start = 0, end;
	unsigned line = 0;

	memset(r, 0, sizeof(*r));
	buf_init(&r->errors, BUF_UNLIMITED);
	while (start < len) {
		const char *nl = memchr(text + start, '\n', len - start);

		end = nl != NULL ? (size_t)(nl - text) : len;
		line++;
		/* a CR before the LF belongs to the line end */
		take_line(r, file, line, text + start,
			  end - start - (end > start && text[end - 1] == '\r'));
		start = end + 1;
	}
	return r->n_errors;
}

void roster_free(struct roster *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].name);
	free(r->v);
	buf_free(&r->errors);
	memset(r, 0, sizeof(*r));
}
