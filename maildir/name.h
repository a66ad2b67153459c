#ifndef MAILDIR_NAME_H
#define MAILDIR_NAME_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/buf.h"

/* Maildir file names, flag letters and Maildir++ folder names.
 *
 * File names are `time.M<usec>P<pid>Q<n>.host,S=<size>:2,<flags>`
 * (https://cr.yp.to/proto/maildir.html and the Courier/Dovecot extensions).
 * The part before ':' is the message's base name, which never changes; the
 * flag letters after ":2," are sorted by ASCII value. */

/* System flags (RFC 3501 section 2.3.2) and their Maildir letters. */
enum {
	MAILDIR_FLAG_DRAFT	= 1 << 0,	/* D */
	MAILDIR_FLAG_FLAGGED	= 1 << 1,	/* F */
	MAILDIR_FLAG_ANSWERED	= 1 << 2,	/* R (replied) */
	MAILDIR_FLAG_SEEN	= 1 << 3,	/* S */
	MAILDIR_FLAG_DELETED	= 1 << 4,	/* T (trashed) */
	MAILDIR_FLAGS_ALL	= 0x1f,
};

/* Writes the letters of `flags` ("DFRST" order) plus NUL into out, which
 * must hold at least 6 bytes.  Returns the number of letters. */
size_t maildir_flags_to_letters(unsigned flags, char *out);

/* The system flags named by the letters after ":2," in a file name (0 when
 * the name has no ":2," part).  Unknown letters are ignored. */
unsigned maildir_flags_from_name(const char *fname);

/* Length of the base name: the bytes before ':' (the whole name without). */
size_t maildir_base_len(const char *fname);

/* Builds base + ":2," + letters of flags into out (cleared first).  Letters
 * in the old name that maillab does not manage (lowercase keyword letters of
 * other software) are kept, and everything stays sorted. */
void maildir_name_with_flags(const char *fname, unsigned flags, struct buf *out);

/* A new unique base name for a message of `size` bytes:
 * "<sec>.M<usec>P<pid>Q<n>.<host>,S=<size>".  Thread-safe (Q is an atomic
 * per-process counter).  0, or -1 when out is too small. */
int maildir_name_unique(char *out, size_t outlen, uint64_t size);
/* The same with the wire size (size with CRLF line ends, RFC822.SIZE)
 * after it, as Dovecot writes it: "...,S=<size>,W=<wire>", so that a
 * first sync and RFC822.SIZE need not read the file (wire-size.c). */
int maildir_name_unique_wire(char *out, size_t outlen, uint64_t size,
			     uint64_t wire);

/* What a file name tells: the delivery time (for UID order) and sizes. */
struct maildir_name_info {
	int64_t sec;		/* leading decimal seconds; 0 if none */
	int64_t usec;		/* M<usec> or 0 */
	int has_size;		/* ",S=" present */
	uint64_t size;		/* S= value: file size */
	int has_wire;		/* ",W=" present (Dovecot) */
	uint64_t wire;		/* W= value: size with CRLF line ends */
};
void maildir_name_parse(const char *fname, struct maildir_name_info *info);

/* Orders two names by delivery time (sec, usec), then by name. */
int maildir_name_cmp_delivery(const char *a, const char *b);

/* Folder names.  The API names folders as IMAP does on the wire: modified
 * UTF-7 (RFC 3501 section 5.1.3), '/' as the hierarchy delimiter, "INBOX"
 * (any case) for the root Maildir.  On disk "Work/2026" is ".Work.2026" and the
 * mUTF-7 text is kept as is (as Dovecot does), so any Unicode name
 * round-trips; mutf7.h converts to and from UTF-8 for display. */
#define MAILDIR_FOLDER_MAX 200	/* bytes of the whole name */

/* 1 when name is INBOX (case-insensitive). */
int maildir_folder_is_inbox(const char *name);

/* 1 when name may be created: 1..MAILDIR_FOLDER_MAX bytes, valid mUTF-7,
 * no control characters, no leading or trailing '/', no empty component,
 * no '.' in a component (it separates levels on disk, and refuses "..")
 * and no IMAP wildcard ('%', '*') or '\\'.  0 with the reason in err_r. */
int maildir_folder_name_valid(const char *name, char *err_r, size_t errlen);

/* maildir_folder_name_valid, and the name decodes to no character that
 * RFC 9051 section 5.1 forbids (controls, DEL, U+2028, U+2029): the test
 * for a name being made (CREATE, RENAME's new name).  Existing folders
 * with such names stay usable, so they can be renamed or deleted. */
int maildir_folder_name_creatable(const char *name, char *err_r,
				  size_t errlen);

/* The directory (relative to the user's Maildir) of a valid folder name:
 * "" for INBOX, ".Work.2026" for "Work/2026".  0, or -1 (invalid name, with
 * the reason in err_r). */
int maildir_folder_dir(const char *name, struct buf *out,
		       char *err_r, size_t errlen);

/* The folder name of a Maildir++ directory entry (".Work.2026" ->
 * "Work/2026").  -1 when the entry is not a folder directory name (no
 * leading '.', "..", empty components, invalid mUTF-7). */
int maildir_folder_from_dir(const char *dirent, struct buf *out);

#endif
