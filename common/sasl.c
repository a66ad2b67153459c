#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/base64.h"
#include "common/sasl.h"

/* base64 of "Username:" and "Password:", the de facto LOGIN challenges */
#define LOGIN_USER_CHALLENGE	"VXNlcm5hbWU6"
#define LOGIN_PASS_CHALLENGE	"UGFzc3dvcmQ6"

static void wipe(void *p, size_t n)
{
	if (p != NULL)
		explicit_bzero(p, n);
}

/* buf_free that first overwrites what the buffer held */
static void buf_wipe_free(struct buf *b)
{
	wipe(b->data, b->cap);
	buf_free(b);
}

void sasl_init(struct sasl *s)
{
	memset(s, 0, sizeof(*s));
	buf_init(&s->challenge, 64);
	s->step = SASL_IDLE;
}

void sasl_reset(struct sasl *s)
{
	buf_free(&s->challenge);
	wipe(s->user, sizeof(s->user));
	wipe(s->password, sizeof(s->password));
	sasl_init(s);
}

bool sasl_mech_supported(const char *mech)
{
	return strcasecmp(mech, "PLAIN") == 0 || strcasecmp(mech, "LOGIN") == 0;
}

static enum sasl_result fail(struct sasl *s, const char *reason)
{
	buf_clear(&s->challenge);
	wipe(s->user, sizeof(s->user));
	wipe(s->password, sizeof(s->password));
	s->step = SASL_IDLE;
	s->reason = reason;
	return SASL_FAILED;
}

static enum sasl_result challenge(struct sasl *s, enum sasl_step next,
				  const char *text)
{
	buf_clear(&s->challenge);
	buf_puts(&s->challenge, text);
	s->step = next;
	return SASL_CHALLENGE;
}

static enum sasl_result verify(struct sasl *s)
{
	buf_clear(&s->challenge);
	s->step = SASL_DONE;
	return SASL_VERIFY;
}

/* Copies a decoded field into dst (size max + 1): -1 when it is too long
 * or holds a NUL. */
static int take_field(char *dst, size_t max, const char *p, size_t n)
{
	if (n > max || memchr(p, '\0', n) != NULL)
		return -1;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return 0;
}

/* RFC 4616 2: message = [authzid] UTF8NUL authcid UTF8NUL passwd */
static enum sasl_result plain_message(struct sasl *s, const char *msg,
				      size_t len)
{
	const char *nul1, *nul2, *authcid, *passwd;
	size_t zlen, clen, plen;

	nul1 = memchr(msg, '\0', len);
	if (nul1 == NULL)
		return fail(s, "PLAIN: missing NUL");
	authcid = nul1 + 1;
	nul2 = memchr(authcid, '\0', len - (size_t)(authcid - msg));
	if (nul2 == NULL)
		return fail(s, "PLAIN: missing NUL");
	passwd = nul2 + 1;
	zlen = (size_t)(nul1 - msg);
	clen = (size_t)(nul2 - authcid);
	plen = len - (size_t)(passwd - msg);
	if (clen == 0)
		return fail(s, "PLAIN: empty user");
	if (plen == 0)
		return fail(s, "PLAIN: empty password");
	if (zlen > SASL_NAME_MAX || clen > SASL_NAME_MAX)
		return fail(s, "PLAIN: user too long");
	/* We act only as ourselves: an authzid must name the authcid. */
	if (zlen != 0 && (zlen != clen || memcmp(msg, authcid, clen) != 0))
		return fail(s, "PLAIN: authorization identity differs");
	if (take_field(s->user, SASL_NAME_MAX, authcid, clen) < 0)
		return fail(s, "PLAIN: bad user");
	if (take_field(s->password, SASL_PASSWORD_MAX, passwd, plen) < 0)
		return fail(s, "PLAIN: password too long or has a NUL");
	return verify(s);
}

static enum sasl_result login_user(struct sasl *s, const char *p, size_t n)
{
	if (n == 0)
		return fail(s, "LOGIN: empty user");
	if (take_field(s->user, SASL_NAME_MAX, p, n) < 0)
		return fail(s, "LOGIN: user too long or has a NUL");
	return challenge(s, SASL_LOGIN_PASSWORD, LOGIN_PASS_CHALLENGE);
}

static enum sasl_result login_password(struct sasl *s, const char *p,
				       size_t n)
{
	if (n == 0)
		return fail(s, "LOGIN: empty password");
	if (take_field(s->password, SASL_PASSWORD_MAX, p, n) < 0)
		return fail(s, "LOGIN: password too long or has a NUL");
	return verify(s);
}

/* Decodes one client response and hands it to the current step. */
static enum sasl_result respond(struct sasl *s, const char *b64, size_t len)
{
	/* the protocol's line limit already bounds len */
	struct buf msg = BUF_INIT(BUF_UNLIMITED);
	enum sasl_result r;

	if (base64_decode(&msg, b64, len) < 0) {
		buf_wipe_free(&msg);
		sasl_reset(s);
		return SASL_BAD_BASE64;
	}
	if (msg.len > SASL_RESPONSE_MAX) {
		buf_wipe_free(&msg);
		return fail(s, "response too long");
	}
	switch (s->step) {
	case SASL_PLAIN_RESPONSE:
		r = plain_message(s, msg.data, msg.len);
		break;
	case SASL_LOGIN_USER:
		r = login_user(s, msg.data, msg.len);
		break;
	case SASL_LOGIN_PASSWORD:
		r = login_password(s, msg.data, msg.len);
		break;
	default:
		r = fail(s, "no exchange in progress");
		break;
	}
	buf_wipe_free(&msg);
	return r;
}

enum sasl_result sasl_start(struct sasl *s, const char *mech,
			    const char *initial)
{
	enum sasl_step first;

	sasl_reset(s);
	if (strcasecmp(mech, "PLAIN") == 0)
		first = SASL_PLAIN_RESPONSE;
	else if (strcasecmp(mech, "LOGIN") == 0)
		first = SASL_LOGIN_USER;
	else
		return SASL_NO_MECH;
	if (initial == NULL) {
		/* RFC 4616 2: PLAIN's first challenge is empty */
		return challenge(s, first, first == SASL_PLAIN_RESPONSE ? "" :
				 LOGIN_USER_CHALLENGE);
	}
	s->step = first;
	/* RFC 4954 4, RFC 4959: "=" is a zero-length initial response */
	if (strcmp(initial, "=") == 0)
		return respond(s, "", 0);
	return respond(s, initial, strlen(initial));
}

enum sasl_result sasl_step(struct sasl *s, const char *line, size_t len)
{
	if (!sasl_in_progress(s))
		return fail(s, "no exchange in progress");
	/* RFC 4954 4, RFC 5034 4, RFC 3501 6.2.2: "*" cancels */
	if (len == 1 && line[0] == '*') {
		sasl_reset(s);
		return SASL_CANCELLED;
	}
	return respond(s, line, len);
}

bool sasl_in_progress(const struct sasl *s)
{
	return s->step == SASL_PLAIN_RESPONSE || s->step == SASL_LOGIN_USER ||
	       s->step == SASL_LOGIN_PASSWORD;
}

const char *sasl_challenge(const struct sasl *s)
{
	return buf_cstr(&s->challenge);
}

const char *sasl_user(const struct sasl *s)
{
	return s->user;
}

const char *sasl_password(const struct sasl *s)
{
	return s->password;
}

const char *sasl_failure(const struct sasl *s)
{
	return s->reason != NULL ? s->reason : "";
}
