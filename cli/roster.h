#ifndef CLI_ROSTER_H
#define CLI_ROSTER_H
/* The students file of `maillab user add --from-file FILE`: one user name
 * a line; '#' starts a comment that runs to the end of the line; blanks
 * around a name and blank lines are skipped; CRLF or LF line ends, the
 * last line with or without one.  Every name must be valid for
 * user_name_valid (common/users.h) and appear once. */
#include <stddef.h>

#include "common/buf.h"

#define ROSTER_MAX_BYTES (1024 * 1024)	/* larger files are refused */
#define ROSTER_MAX_NAMES 5000		/* more names: each is an error */

struct roster_entry {
	char *name;
	unsigned line;		/* 1-based */
};

struct roster {
	struct roster_entry *v;	/* the valid names, in file order */
	size_t n;
	struct buf errors;	/* one "FILE:LINE: reason\n" per bad line */
	size_t n_errors;
};

/* Parses len bytes of text (NUL bytes allowed: they make a line bad).
 * `file` names the file in the error lines.  Returns r->n_errors; r must
 * be freed with roster_free either way. */
size_t roster_parse(const char *text, size_t len, const char *file,
		    struct roster *r);
void roster_free(struct roster *r);

#endif
