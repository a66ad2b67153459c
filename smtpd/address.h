#ifndef SMTPD_ADDRESS_H
#define SMTPD_ADDRESS_H
#include <stdbool.h>
#include <stddef.h>

/* RFC 5321 4.1.2 paths and 4.1.1.11 ESMTP parameters, as they appear in
 * MAIL FROM:<...> and RCPT TO:<...>.  Pure parsing: no lookups. */

/* RFC 5321 4.5.3.1.1-3: octets in a local part, a domain, a whole path
 * (the angle brackets included). */
#define SMTP_LOCAL_MAX	64
#define SMTP_DOMAIN_MAX	255
#define SMTP_PATH_MAX	256

enum smtp_path_err {
	PATH_OK,
	PATH_SYNTAX,		/* not Path / "<>" per RFC 5321 4.1.2 */
	PATH_NULL_NOT_ALLOWED,	/* "<>" as a forward-path */
	PATH_LOCAL_TOO_LONG,	/* 4.5.3.1.1 */
	PATH_DOMAIN_TOO_LONG,	/* 4.5.3.1.2 */
	PATH_TOO_LONG,		/* 4.5.3.1.3 */
	PATH_UTF8,		/* non-ASCII without SMTPUTF8 (RFC 6531 3.2) */
};

struct smtp_path {
	bool null;		/* the null reverse-path "<>" */
	bool postmaster;	/* "<Postmaster>" with no domain (4.1.1.3) */
	bool quoted;		/* the local part was a Quoted-string */
	bool utf8;		/* non-ASCII octets in the mailbox */
	bool literal;		/* the domain is an address-literal */
	/* The local part with quoting undone (the content of a Quoted-string,
	 * quoted-pairs resolved): what "the same mailbox" compares (RFC 5321
	 * 4.1.2 says "a"@x and a@x are one mailbox). */
	char local[SMTP_LOCAL_MAX + 1];
	/* Domain or address-literal (with its brackets) as written. */
	char domain[SMTP_DOMAIN_MAX + 1];
	/* The mailbox as written, source route dropped (4.1.1.3): what
	 * Return-Path and the Received "for" clause show.  "" for "<>". */
	char mailbox[SMTP_PATH_MAX + 1];
};

/* Parses a path at s[0..len): "<" [A-d-l ":"] Mailbox ">" (source routes
 * accepted and ignored, RFC 5321 4.1.1.3 and C.), "<>" when allow_null,
 * "<Postmaster>" (any case) when allow_postmaster.  UTF-8 in the local part
 * and domain only when allow_utf8 (RFC 6531 3.3), and then it must be
 * valid UTF-8.  On success returns PATH_OK and *used_r is the length of the
 * path (up to and including '>').  p is filled in only on success. */
enum smtp_path_err smtp_path_parse(const char *s, size_t len, bool allow_null,
				   bool allow_postmaster, bool allow_utf8,
				   struct smtp_path *p, size_t *used_r);
/* A short English description of err ("path too long"...). */
const char *smtp_path_strerror(enum smtp_path_err err);

/* True when s is a syntactically valid Domain (RFC 5321 4.1.2), with
 * U-labels allowed when allow_utf8. */
bool smtp_domain_valid(const char *s, size_t len, bool allow_utf8);
/* True when s is an address-literal ("[192.0.2.1]", "[IPv6:...]",
 * "[tag:content]"), RFC 5321 4.1.3. */
bool smtp_address_literal_valid(const char *s, size_t len);

/* Length of the valid UTF-8 sequence starting at s[0] (1-4), 0 if invalid
 * or truncated (RFC 3629 4: no overlongs, no surrogates). */
size_t smtp_utf8_seq_len(const unsigned char *s, size_t len);

/* ESMTP parameters after a path (RFC 5321 4.1.2 Mail-parameters):
 * SP esmtp-param *(SP esmtp-param), esmtp-param = keyword ["=" value]. */
#define SMTP_MAX_PARAMS 16

struct smtp_param {
	const char *keyword;	/* NUL-terminated, in the caller's buffer */
	const char *value;	/* NULL when there was no "=" */
};

/* Parses params in place: `s` (NUL-terminated, writable) is split, keywords
 * and values point into it.  Values may carry UTF-8 when allow_utf8 (RFC
 * 6531 3.3).  Returns the number of parameters, or -1 on a syntax error
 * or more than max parameters. */
int smtp_params_parse(char *s, bool allow_utf8, struct smtp_param *params,
		      size_t max);

/* True when s is xtext (RFC 3461 4): printable ASCII except '+' and '=',
 * and "+" followed by two uppercase hex digits. */
bool smtp_xtext_valid(const char *s);

#endif
