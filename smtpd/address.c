/* RFC 5321 4.1.2 path grammar, with the RFC 6531 3.3 UTF-8 extensions. */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "smtpd/address.h"

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hexdig(unsigned char c)
{
	return is_digit(c) || (c >= 'A' && c <= 'F');
}

/* RFC 5322 3.2.3 atext */
static bool is_atext(unsigned char c)
{
	return is_alpha(c) || is_digit(c) ||
		(c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

size_t smtp_utf8_seq_len(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];
	size_t n, i;
	unsigned int cp;

	if (c < 0x80)
		return len > 0 ? 1 : 0;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* sub-domain = Let-dig [Ldh-str]; U-label octets count as letters. */
static bool label_valid(const unsigned char *s, size_t len, bool allow_utf8)
{
	size_t i = 0, n;

	if (len == 0 || len > 63)
		return false;
	if (s[0] == '-' || s[len - 1] == '-')
		return false;
	while (i < len) {
		if (s[i] >= 0x80) {
			if (!allow_utf8 || (n = smtp_utf8_seq_len(s + i, len - i)) == 0)
				return false;
			i += n;
			continue;
		}
		if (!is_alpha(s[i]) && !is_digit(s[i]) && s[i] != '-')
			return false;
		i++;
	}
	return true;
}

bool smtp_domain_valid(const char *s, size_t len, bool allow_utf8)
{
	size_t start = 0, i;

	if (len == 0 || len > SMTP_DOMAIN_MAX)
		return false;
	for (i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (!label_valid((const unsigned char *)s + start,
					 i - start, allow_utf8))
				return false;
			start = i + 1;
		}
	}
	return true;
}

/* Snum "." Snum "." Snum "." Snum, Snum = 1*3DIGIT of value 0-255 */
static bool ipv4_literal_valid(const char *s, size_t len)
{
	size_t i = 0;
	int part;

	for (part = 0; part < 4; part++) {
		unsigned int v = 0;
		size_t digits = 0;

		while (i < len && is_digit((unsigned char)s[i]) && digits < 4) {
			v = v * 10 + (unsigned)(s[i] - '0');
			i++;
			digits++;
		}
		if (digits == 0 || digits > 3 || v > 255)
			return false;
		if (part < 3) {
			if (i >= len || s[i] != '.')
				return false;
			i++;
		}
	}
	return i == len;
}

bool smtp_address_literal_valid(const char *s, size_t len)
{
	struct in6_addr a6;
	char tmp[64];
	size_t i, colon;

	if (len < 3 || s[0] != '[' || s[len - 1] != ']')
		return false;
	s++;
	len -= 2;
	if (ipv4_literal_valid(s, len))
		return true;
	if (len > 5 && strncasecmp(s, "IPv6:", 5) == 0) {
		/* inet_pton would stop at a NUL and take what precedes it */
		if (len - 5 >= sizeof(tmp) || memchr(s + 5, '\0', len - 5))
			return false;
		memcpy(tmp, s + 5, len - 5);
		tmp[len - 5] = '\0';
		return inet_pton(AF_INET6, tmp, &a6) == 1;
	}
	/* General-address-literal = Standardized-tag ":" 1*dcontent */
	for (colon = 0; colon < len && s[colon] != ':'; colon++)
		;
	if (colon == 0 || colon >= len - 1 ||
	    !label_valid((const unsigned char *)s, colon, false))
		return false;
	for (i = colon + 1; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 33 || c > 126 || c == '[' || c == '\\' || c == ']')
			return false;
	}
	return true;
}

const char *smtp_path_strerror(enum smtp_path_err err)
{
	switch (err) {
	case PATH_OK:
		return "ok";
	case PATH_SYNTAX:
		break;
	case PATH_NULL_NOT_ALLOWED:
		return "null path not allowed here";
	case PATH_LOCAL_TOO_LONG:
		return "local part longer than 64 octets";
	case PATH_DOMAIN_TOO_LONG:
		return "domain longer than 255 octets";
	case PATH_TOO_LONG:
		return "path longer than 256 octets";
	case PATH_UTF8:
		return "non-ASCII address without SMTPUTF8";
	}
	return "syntax error in address";
}

struct cursor {
	const unsigned char *s;
	size_t len, pos;
	bool allow_utf8;
	bool saw_utf8;
};

static int peek(const struct cursor *c)
{
	return c->pos < c->len ? c->s[c->pos] : -1;
}

/* One UTF8-non-ascii character at the cursor: 0 ok (consumed), else the
 * error. */
static enum smtp_path_err take_utf8(struct cursor *c)
{
	size_t n;

	if (!c->allow_utf8)
		return PATH_UTF8;
	n = smtp_utf8_seq_len(c->s + c->pos, c->len - c->pos);
	if (n == 0)
		return PATH_SYNTAX;
	c->pos += n;
	c->saw_utf8 = true;
	return PATH_OK;
}

/* Domain (or, when literal_ok, address-literal) at the cursor, up to the
 * first octet that cannot belong to it. */
static enum smtp_path_err take_domain(struct cursor *c, bool literal_ok,
				      bool *literal_r)
{
	size_t start = c->pos;
	enum smtp_path_err err;
	int ch;

	*literal_r = false;
	if (peek(c) == '[') {
		if (!literal_ok)
			return PATH_SYNTAX;
		while ((ch = peek(c)) != -1 && ch != ']')
			c->pos++;
		if (ch != ']')
			return PATH_SYNTAX;
		c->pos++;
		*literal_r = true;
		if (c->pos - start > SMTP_DOMAIN_MAX)
			return PATH_DOMAIN_TOO_LONG;
		return smtp_address_literal_valid((const char *)c->s + start,
						  c->pos - start) ?
			PATH_OK : PATH_SYNTAX;
	}
	while ((ch = peek(c)) != -1) {
		if (ch >= 0x80) {
			if ((err = take_utf8(c)) != PATH_OK)
				return err;
			continue;
		}
		if (!is_alpha((unsigned char)ch) && !is_digit((unsigned char)ch) &&
		    ch != '-' && ch != '.')
			break;
		c->pos++;
	}
	if (c->pos - start > SMTP_DOMAIN_MAX)
		return PATH_DOMAIN_TOO_LONG;
	return smtp_domain_valid((const char *)c->s + start, c->pos - start,
				 c->allow_utf8) ? PATH_OK : PATH_SYNTAX;
}

/* A-d-l = At-domain *( "," At-domain ), then ":" (RFC 5321 4.1.2). */
static enum smtp_path_err skip_source_route(struct cursor *c)
{
	enum smtp_path_err err;
	bool literal;

	for (;;) {
		if (peek(c) != '@')
			return PATH_SYNTAX;
		c->pos++;
		if ((err = take_domain(c, false, &literal)) != PATH_OK)
			return err;
		if (peek(c) == ':') {
			c->pos++;
			return PATH_OK;
		}
		if (peek(c) != ',')
			return PATH_SYNTAX;
		c->pos++;
	}
}

/* Quoted-string = DQUOTE *QcontentSMTP DQUOTE; the content goes to out. */
static enum smtp_path_err take_quoted(struct cursor *c, char *out,
				      size_t *outlen)
{
	size_t start = c->pos, n = 0, before;
	enum smtp_path_err err;
	int ch;

	c->pos++;	/* the opening DQUOTE */
	for (;;) {
		if (c->pos - start > SMTP_LOCAL_MAX)
			return PATH_LOCAL_TOO_LONG;
		ch = peek(c);
		if (ch == -1)
			return PATH_SYNTAX;
		if (ch == '"') {
			c->pos++;
			break;
		}
		if (ch == '\\') {
			/* quoted-pairSMTP = %d92 %d32-126 */
			c->pos++;
			ch = peek(c);
			if (ch < 32 || ch > 126)
				return PATH_SYNTAX;
			out[n++] = (char)ch;
			c->pos++;
			continue;
		}
		if (ch >= 0x80) {
			before = c->pos;
			if ((err = take_utf8(c)) != PATH_OK)
				return err;
			if (c->pos - start > SMTP_LOCAL_MAX)
				return PATH_LOCAL_TOO_LONG;
			memcpy(out + n, c->s + before, c->pos - before);
			n += c->pos - before;
			continue;
		}
		/* qtextSMTP = %d32-33 / %d35-91 / %d93-126 */
		if (ch < 32 || ch > 126)
			return PATH_SYNTAX;
		out[n++] = (char)ch;
		c->pos++;
	}
	if (c->pos - start > SMTP_LOCAL_MAX)
		return PATH_LOCAL_TOO_LONG;
	*outlen = n;
	return PATH_OK;
}

/* Dot-string = Atom *("."  Atom) */
static enum smtp_path_err take_dot_string(struct cursor *c, char *out,
					  size_t *outlen)
{
	size_t start = c->pos;
	enum smtp_path_err err;
	bool atom_empty = true;
	int ch;

	while ((ch = peek(c)) != -1) {
		if (c->pos - start >= SMTP_LOCAL_MAX + 1)
			return PATH_LOCAL_TOO_LONG;
		if (ch == '.') {
			if (atom_empty)
				return PATH_SYNTAX;
			atom_empty = true;
			c->pos++;
		} else if (ch >= 0x80) {
			if ((err = take_utf8(c)) != PATH_OK)
				return err;
			atom_empty = false;
		} else if (is_atext((unsigned char)ch)) {
			atom_empty = false;
			c->pos++;
		} else {
			break;
		}
	}
	if (atom_empty)
		return PATH_SYNTAX;
	if (c->pos - start > SMTP_LOCAL_MAX)
		return PATH_LOCAL_TOO_LONG;
	memcpy(out, c->s + start, c->pos - start);
	*outlen = c->pos - start;
	return PATH_OK;
}

static enum smtp_path_err parse_mailbox(struct cursor *c, bool allow_postmaster,
					struct smtp_path *p)
{
	size_t local_start = c->pos, local_len = 0, mailbox_start;
	enum smtp_path_err err;

	mailbox_start = c->pos;
	if (peek(c) == '"') {
		p->quoted = true;
		err = take_quoted(c, p->local, &local_len);
	} else {
		err = take_dot_string(c, p->local, &local_len);
	}
	if (err != PATH_OK)
		return err;
	p->local[local_len] = '\0';
	if (peek(c) == '>' && allow_postmaster && !p->quoted &&
	    strcasecmp(p->local, "postmaster") == 0 &&
	    c->pos - local_start == local_len) {
		/* RFC 5321 4.1.1.3: "<Postmaster>" with no domain */
		p->postmaster = true;
	} else {
		size_t dom_start;

		if (peek(c) != '@')
			return PATH_SYNTAX;
		c->pos++;
		dom_start = c->pos;
		if ((err = take_domain(c, true, &p->literal)) != PATH_OK)
			return err;
		if (c->pos - dom_start >= sizeof(p->domain))
			return PATH_DOMAIN_TOO_LONG;
		memcpy(p->domain, c->s + dom_start, c->pos - dom_start);
		p->domain[c->pos - dom_start] = '\0';
	}
	/* RFC 5321 4.5.3.1.3: a local part and a domain each within their
	 * limits can still add up to more than a path may hold. */
	if (c->pos - mailbox_start >= sizeof(p->mailbox))
		return PATH_TOO_LONG;
	memcpy(p->mailbox, c->s + mailbox_start, c->pos - mailbox_start);
	p->mailbox[c->pos - mailbox_start] = '\0';
	return PATH_OK;
}

enum smtp_path_err smtp_path_parse(const char *s, size_t len, bool allow_null,
				   bool allow_postmaster, bool allow_utf8,
				   struct smtp_path *p, size_t *used_r)
{
	struct cursor c = { (const unsigned char *)s, len, 0, allow_utf8, false };
	struct smtp_path tmp;
	enum smtp_path_err err;

	memset(&tmp, 0, sizeof(tmp));
	*used_r = 0;
	if (peek(&c) != '<')
		return PATH_SYNTAX;
	c.pos++;
	if (peek(&c) == '>') {
		if (!allow_null)
			return PATH_NULL_NOT_ALLOWED;
		tmp.null = true;
		*p = tmp;
		*used_r = 2;
		return PATH_OK;
	}
	if (peek(&c) == '@' && (err = skip_source_route(&c)) != PATH_OK)
		return err;
	if ((err = parse_mailbox(&c, allow_postmaster, &tmp)) != PATH_OK)
		return err;
	if (peek(&c) != '>')
		return PATH_SYNTAX;
	c.pos++;
	if (c.pos > SMTP_PATH_MAX)
		return PATH_TOO_LONG;
	tmp.utf8 = c.saw_utf8;
	*p = tmp;
	*used_r = c.pos;
	return PATH_OK;
}

/* esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
static bool keyword_valid(const char *k)
{
	size_t i;

	if (!is_alpha((unsigned char)k[0]) && !is_digit((unsigned char)k[0]))
		return false;
	for (i = 1; k[i] != '\0'; i++) {
		if (!is_alpha((unsigned char)k[i]) &&
		    !is_digit((unsigned char)k[i]) && k[i] != '-')
			return false;
	}
	return true;
}

/* esmtp-value = 1*(%d33-60 / %d62-126), RFC 6531 3.3 adds UTF8-non-ascii */
static bool value_valid(const char *v, bool allow_utf8)
{
	const unsigned char *s = (const unsigned char *)v;
	size_t len = strlen(v), i = 0, n;

	if (len == 0)
		return false;
	while (i < len) {
		if (s[i] >= 0x80) {
			if (!allow_utf8 || (n = smtp_utf8_seq_len(s + i, len - i)) == 0)
				return false;
			i += n;
			continue;
		}
		if (s[i] < 33 || s[i] > 126 || s[i] == '=')
			return false;
		i++;
	}
	return true;
}

int smtp_params_parse(char *s, bool allow_utf8, struct smtp_param *params,
		      size_t max)
{
	size_t n = 0;
	char *p = s, *end, *eq;

	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			return (int)n;
		if (n == max)
			return -1;
		end = strchr(p, ' ');
		if (end != NULL)
			*end = '\0';
		eq = strchr(p, '=');
		if (eq != NULL)
			*eq = '\0';
		if (!keyword_valid(p) ||
		    (eq != NULL && !value_valid(eq + 1, allow_utf8)))
			return -1;
		params[n].keyword = p;
		params[n].value = eq != NULL ? eq + 1 : NULL;
		n++;
		if (end == NULL)
			return (int)n;
		p = end + 1;
	}
}

bool smtp_xtext_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p != '\0'; p++) {
		if (*p == '+') {
			if (!is_hexdig(p[1]) || !is_hexdig(p[2]))
				return false;
			p += 2;
		} else if (*p < 33 || *p > 126 || *p == '=') {
			return false;
		}
	}
	return true;
}
