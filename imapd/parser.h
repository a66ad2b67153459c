#ifndef IMAPD_PARSER_H
#define IMAPD_PARSER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "imapd/seqset.h"

/* The IMAP4rev1 command grammar (RFC 3501 section 9), in two layers.
 *
 * 1. struct imap_cmdbuf collects one command from the units the I/O layer
 *    delivers: a line, and when it ends in a literal announcement "{n}" or
 *    "{n+}" (RFC 3501 4.3, RFC 7888), the n bytes of the literal, then the
 *    next line, and so on.  The result is the command exactly as on the
 *    wire ("a LOGIN {5}\r\nalice pw"), so the grammar below applies as is.
 *
 * 2. struct imap_parser walks a complete command with one function per
 *    grammar rule.  Each returns 0, or -1 with p->error set (a static
 *    English text for the BAD reply; p->error_no when the input is
 *    well-formed but refused, to be answered NO).  Strings are copied,
 *    unescaped, into a caller's struct buf, so they are NUL-terminated
 *    (check the length: a literal may hold a NUL). */

/* ---- collecting a command ---- */

enum imap_feed {
	IMAP_FEED_DONE,		/* the command is complete in cb->text */
	IMAP_FEED_LITERAL,	/* read cb->literal_size bytes next (a "+ "
				   first when !cb->literal_nonsync) */
	IMAP_FEED_TOO_LONG,	/* the command text passed the line limit */
	IMAP_FEED_TOO_BIG,	/* the literal announced passes the literal
				   limit (cb->literal_size tells it) */
};

struct imap_cmdbuf {
	struct buf text;	/* the command so far, literals inline */
	size_t max_text;	/* limit on the bytes outside literals */
	size_t max_literal;	/* limit on one literal and on all of them */
	size_t text_bytes;	/* bytes outside literals so far */
	size_t literal_bytes;	/* literal bytes held in text */
	uint64_t literal_size;	/* after IMAP_FEED_LITERAL / _TOO_BIG */
	bool literal_nonsync;	/* the announcement was "{n+}" */
	size_t streamed_off;	/* offset in text where a literal's bytes were
				   streamed elsewhere (APPEND); SIZE_MAX none */
	uint64_t streamed_size;
	size_t *streamed_earlier;	/* the offsets of the streamed literals
					   before that one (MULTIAPPEND,
					   RFC 3502), malloc'd */
	size_t nstreamed_earlier;
};

void imap_cmdbuf_init(struct imap_cmdbuf *cb, size_t max_text,
		      size_t max_literal);
void imap_cmdbuf_free(struct imap_cmdbuf *cb);
/* Forgets the command (after it ran or failed). */
void imap_cmdbuf_reset(struct imap_cmdbuf *cb);
/* True while a command is partly collected. */
bool imap_cmdbuf_pending(const struct imap_cmdbuf *cb);
/* Adds one line (without CRLF). */
enum imap_feed imap_cmdbuf_line(struct imap_cmdbuf *cb, const char *line,
				size_t len);
/* Adds the bytes of the literal announced by the last line. */
void imap_cmdbuf_literal(struct imap_cmdbuf *cb, const char *data, size_t len);
/* Records that the literal announced by the last line went to a sink
 * instead (the parser then yields it as a streamed string). */
void imap_cmdbuf_literal_streamed(struct imap_cmdbuf *cb);
/* "{n}" or "{n+}" at the end of line[0..len): its offset, the size and
 * the kind.  false when the line does not end in one.  Sizes above
 * UINT32_MAX are not a number (RFC 3501 9, number) and give false. */
bool imap_literal_at_end(const char *line, size_t len, size_t *off_r,
			 uint64_t *size_r, bool *nonsync_r);

/* ---- the grammar ---- */

struct imap_parser {
	const char *data;
	size_t len, pos;
	size_t streamed_off;	/* see imap_cmdbuf; SIZE_MAX none */
	uint64_t streamed_size;	/* of the streamed literal parsed last */
	const size_t *streamed_earlier;	/* the cmdbuf's */
	size_t nstreamed_earlier;
	const char *error;	/* the first error, static text */
	bool error_no;		/* refuse with NO rather than BAD */
	unsigned int depth;	/* list / search nesting */
	bool rev2;		/* IMAP4rev2 enabled: mailbox names are
				   UTF-8 (RFC 9051 5.1), no STATUS RECENT */
};

#define IMAP_MAX_DEPTH 64	/* nested lists and search keys */

void imap_parser_init(struct imap_parser *p, const char *data, size_t len);
/* Starts a parser on a collected command. */
void imap_parser_init_cmd(struct imap_parser *p, const struct imap_cmdbuf *cb);

/* Sets p->error (keeping the first one) and returns -1. */
int imap_parse_fail(struct imap_parser *p, const char *error);
int imap_parse_refuse(struct imap_parser *p, const char *error);

bool imap_parse_at_end(const struct imap_parser *p);
/* The next byte, or -1 at the end. */
int imap_parse_peek(const struct imap_parser *p);
int imap_parse_end(struct imap_parser *p);		/* nothing left */
int imap_parse_sp(struct imap_parser *p);		/* exactly one SP */
int imap_parse_char(struct imap_parser *p, char c);
/* Consumes c when it is next: true if it was. */
bool imap_parse_skip(struct imap_parser *p, char c);

/* tag = 1*<any ASTRING-CHAR except "+"> */
int imap_parse_tag(struct imap_parser *p, struct buf *out);
/* atom = 1*ATOM-CHAR */
int imap_parse_atom(struct imap_parser *p, struct buf *out);
/* Consumes `word` (case-insensitive) when the next atom is exactly it. */
bool imap_parse_keyword(struct imap_parser *p, const char *word);
/* string = quoted / literal.  *streamed_r (may be NULL, then a streamed
 * literal is an error) is set when the literal's bytes went to a sink; out
 * is then empty and p->streamed_size holds the size. */
int imap_parse_string(struct imap_parser *p, struct buf *out,
		      bool *streamed_r);
/* astring = 1*ASTRING-CHAR / string */
int imap_parse_astring(struct imap_parser *p, struct buf *out);
/* nstring = string / "NIL": *nil_r tells which. */
int imap_parse_nstring(struct imap_parser *p, struct buf *out, bool *nil_r);
/* number (32-bit), nz-number */
int imap_parse_number(struct imap_parser *p, uint32_t *n_r);
int imap_parse_nz_number(struct imap_parser *p, uint32_t *n_r);
/* mailbox = "INBOX" / astring: INBOX in any case becomes "INBOX"; the name
 * must be valid modified UTF-7 (RFC 3501 5.1.3), else a NO error.  With
 * p->rev2 it must be valid UTF-8 (RFC 9051 5.1) and is returned in
 * the modified UTF-7 form the store uses. */
int imap_parse_mailbox(struct imap_parser *p, struct buf *out);
/* list-mailbox = 1*list-char / string (LIST/LSUB patterns, '%' and '*');
 * with p->rev2 it must be valid UTF-8 (kept so: see imap_list_match). */
int imap_parse_list_mailbox(struct imap_parser *p, struct buf *out);
/* sequence-set; numbers 1..4294967295 or '*'.  Adds to set.  "$" alone
 * (RFC 5182 seq-last-command) sets set->saved instead. */
int imap_parse_seqset(struct imap_parser *p, struct imap_seqset *set);

/* date = date-text / DQUOTE date-text DQUOTE, as midnight UTC of that
 * day in seconds since the epoch. */
int imap_parse_date(struct imap_parser *p, int64_t *t_r);
/* date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time
 * SP zone DQUOTE, as seconds since the epoch (UTC). */
int imap_parse_datetime(struct imap_parser *p, int64_t *t_r);
/* Days since the epoch of a civil date (proleptic Gregorian). */
int64_t imap_days_from_civil(int64_t y, unsigned m, unsigned d);

/* ---- flags ---- */

/* System flags, the bits of MAILDIR_FLAG_* (maildir/name.h). */
#define IMAP_FLAG_DRAFT		0x01
#define IMAP_FLAG_FLAGGED	0x02
#define IMAP_FLAG_ANSWERED	0x04
#define IMAP_FLAG_SEEN		0x08
#define IMAP_FLAG_DELETED	0x10

#define IMAP_MAX_KEYWORDS_PER_CMD 64

struct imap_flags {
	unsigned system;		/* IMAP_FLAG_* */
	char *keywords[IMAP_MAX_KEYWORDS_PER_CMD];	/* xstrdup'd */
	size_t nkeywords;
};

void imap_flags_free(struct imap_flags *f);
/* The bit of a system flag name ("\Seen", any case), or 0 when the name is
 * not one of the five (\Recent is not storable, RFC 3501 2.3.2). */
unsigned imap_system_flag(const char *name);
/* flag-list = "(" [flag *(SP flag)] ")".  Keywords are atoms; "\Recent",
 * "\*" and unknown "\Word" flags are refused (BAD). */
int imap_parse_flag_list(struct imap_parser *p, struct imap_flags *f);
/* The same without the parentheses required: STORE accepts a bare flag or
 * a space-separated sequence (RFC 3501 9, store-att-flags). */
int imap_parse_store_flags(struct imap_parser *p, struct imap_flags *f);

/* ---- FETCH (fetch.c) ---- */

enum {
	IMAP_FETCH_FLAGS	= 1 << 0,
	IMAP_FETCH_UID		= 1 << 1,
	IMAP_FETCH_INTERNALDATE	= 1 << 2,
	IMAP_FETCH_SIZE		= 1 << 3,	/* RFC822.SIZE */
	IMAP_FETCH_ENVELOPE	= 1 << 4,
	IMAP_FETCH_BODY		= 1 << 5,	/* BODY: structure, no extensions */
	IMAP_FETCH_BODYSTRUCTURE = 1 << 6,
	IMAP_FETCH_MODSEQ	= 1 << 7,	/* RFC 7162 3.1.4 */
};
/* RFC822, RFC822.HEADER and RFC822.TEXT are kept as bodies: BODY[],
 * BODY.PEEK[HEADER] and BODY[TEXT] under their own response names. */

enum imap_section_kind {
	IMAP_SECT_ALL,		/* [] or [1.2]: the part */
	IMAP_SECT_HEADER,
	IMAP_SECT_TEXT,
	IMAP_SECT_MIME,
	IMAP_SECT_FIELDS,
	IMAP_SECT_FIELDS_NOT,
};

#define IMAP_MAX_SECTION_PARTS 32

/* BINARY (RFC 3516 4.2): a part's content decoded from its
 * Content-Transfer-Encoding, or only the decoded size. */
enum imap_binary {
	IMAP_BINARY_NO,		/* BODY[...] */
	IMAP_BINARY_DATA,	/* BINARY[...], BINARY.PEEK[...] */
	IMAP_BINARY_SIZE,	/* BINARY.SIZE[...] */
};

/* One BODY[section]<partial> (or BINARY[section-part]<partial>). */
struct imap_fetch_body {
	bool peek;
	enum imap_binary binary;
	uint32_t parts[IMAP_MAX_SECTION_PARTS];
	size_t nparts;
	enum imap_section_kind kind;
	char **fields;		/* HEADER.FIELDS names, xstrdup'd */
	size_t nfields;
	bool partial;
	uint32_t offset, count;	/* <offset.count> */
	char *name;		/* the response item name with the section as
				   the reply echoes it: "BODY[1.HEADER.FIELDS
				   (FROM TO)]" plus "<offset>" when partial */
};

struct imap_fetch {
	unsigned items;		/* IMAP_FETCH_* */
	struct imap_fetch_body *bodies;
	size_t nbodies;
};

void imap_fetch_free(struct imap_fetch *f);
/* fetch-att list: "ALL" / "FULL" / "FAST" / fetch-att / "(" fetch-att
 * *(SP fetch-att) ")". */
int imap_parse_fetch(struct imap_parser *p, struct imap_fetch *f);
/* Whether the fetch sets \Seen (a non-PEEK body, RFC822, RFC822.TEXT). */
bool imap_fetch_sets_seen(const struct imap_fetch *f);

/* ---- SEARCH (search.c) ---- */

enum imap_search_kind {
	IMAP_SK_AND,		/* list: all children */
	IMAP_SK_OR,		/* two children */
	IMAP_SK_NOT,		/* one child */
	IMAP_SK_ALL,
	IMAP_SK_SEQSET,		/* set */
	IMAP_SK_UID,		/* set */
	IMAP_SK_FLAG,		/* flag set: number = IMAP_FLAG_* */
	IMAP_SK_UNFLAG,		/* flag clear: number */
	IMAP_SK_KEYWORD,	/* str */
	IMAP_SK_UNKEYWORD,	/* str */
	IMAP_SK_NEW,		/* recent and unseen */
	IMAP_SK_OLD,		/* not recent */
	IMAP_SK_RECENT,
	IMAP_SK_LARGER,		/* number */
	IMAP_SK_SMALLER,
	IMAP_SK_BEFORE,		/* date: internal date */
	IMAP_SK_ON,
	IMAP_SK_SINCE,
	IMAP_SK_SENTBEFORE,	/* date: Date: header */
	IMAP_SK_SENTON,
	IMAP_SK_SENTSINCE,
	IMAP_SK_HEADER,		/* str = field name, str2 = substring */
	IMAP_SK_ADDRESS,	/* FROM/TO/CC/BCC: str = field name, str2 =
				   substring of its parsed addresses */
	IMAP_SK_BODY,		/* str */
	IMAP_SK_TEXT,		/* str: header and body */
	IMAP_SK_MODSEQ,		/* number: modseq at least (RFC 7162 3.1.5) */
};

struct imap_search {
	enum imap_search_kind kind;
	struct imap_search *child;	/* AND, OR, NOT */
	struct imap_search *next;	/* the next sibling */
	char *str, *str2;		/* xstrdup'd; HEADER names are "From"... */
	uint64_t number;
	int64_t date;			/* midnight UTC of the day */
	struct imap_seqset set;
};

/* Parses search criteria (everything after "SEARCH " incl. an optional
 * "CHARSET x"): *charset_r is set to an xstrdup'd name or NULL.  The result
 * is an AND node; free with imap_search_free. */
int imap_parse_search(struct imap_parser *p, char **charset_r,
		      struct imap_search **search_r);
void imap_search_free(struct imap_search **sp);
/* Whether the criteria use MODSEQ (the SEARCH reply then ends with
 * "(MODSEQ n)", RFC 7162 3.1.5). */
bool imap_search_has_modseq(const struct imap_search *search);

/* ---- CONDSTORE and QRESYNC (RFC 7162 7; parse-modseq.c) ---- */

/* mod-sequence-value (1 .. 2^63-1), or with zero_ok mod-sequence-valzer
 * (0 .. 2^63-1). */
int imap_parse_modseq(struct imap_parser *p, bool zero_ok, uint64_t *r);

/* select-params of SELECT/EXAMINE: "(CONDSTORE)", "(QRESYNC (...))". */
struct imap_select_params {
	bool condstore;
	bool qresync;
	uint32_t uidvalidity;		/* QRESYNC: the client's */
	uint64_t modseq;		/* and its last known modseq */
	bool have_known;
	struct imap_seqset known_uids;	/* no '*' */
	bool have_match;		/* seq-match-data, same sizes */
	struct imap_seqset match_seqs, match_uids;
};
void imap_select_params_init(struct imap_select_params *sp);
void imap_select_params_free(struct imap_select_params *sp);
/* After the mailbox name: nothing, or SP "(" select-param *(SP
 * select-param) ")" and the end of the command. */
int imap_parse_select_params(struct imap_parser *p,
			     struct imap_select_params *sp);
/* After the fetch attributes: nothing, or SP "(" modifiers ")" and the
 * end: CHANGEDSINCE n (0 when absent), VANISHED (RFC 7162 3.1.4.1,
 * 3.2.6; VANISHED without CHANGEDSINCE is an error). */
int imap_parse_fetch_modifiers(struct imap_parser *p, uint64_t *changedsince,
			       bool *vanished);
/* Before the STORE item: "(UNCHANGEDSINCE n) " or nothing (then
 * *unchangedsince is UINT64_MAX). */
int imap_parse_store_modifiers(struct imap_parser *p,
			       uint64_t *unchangedsince);

#endif
