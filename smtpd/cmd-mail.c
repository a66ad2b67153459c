/* MAIL FROM:<reverse-path> [SP Mail-parameters]  (RFC 5321 4.1.1.2)
 *
 * Parameters: SIZE (RFC 1870), BODY (RFC 6152), SMTPUTF8 (RFC 6531), AUTH
 * (RFC 4954 5), RET and ENVID (RFC 3461 4.3, 4.4). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "smtpd/resolve.h"
#include "smtpd/ratelimit.h"
#include "smtpd/session.h"

/* RFC 3461 4.4: ENVID is at most 100 characters. */
#define ENVID_MAX 100

/* "FROM:" / "TO:" and the spaces some clients put after the colon: the
 * start of the path, or NULL. */
char *smtp_skip_keyword(char *args, const char *kw)
{
	size_t n = strlen(kw);

	if (strncasecmp(args, kw, n) != 0)
		return NULL;
	args += n;
	while (*args == ' ')
		args++;
	return args;
}

/* RFC 1870 4: size-value = 1*20DIGIT */
static int parse_size(const char *v, uint64_t *size_r)
{
	uint64_t n = 0;
	size_t i;

	if (v == NULL || v[0] == '\0' || strlen(v) > 20)
		return -1;
	for (i = 0; v[i] != '\0'; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		if (n > (UINT64_MAX - 9) / 10) {
			n = UINT64_MAX;	/* too large to be accepted anyway */
			continue;
		}
		n = n * 10 + (uint64_t)(v[i] - '0');
	}
	*size_r = n;
	return 0;
}

/* One parameter into txn: 0, or -1 after queueing the error reply. */
static int take_param(struct smtp_session *s, struct smtp_txn *t,
		      const struct smtp_param *p, unsigned int *seen)
{
	static const char *const names[] = {
		"SIZE", "BODY", "SMTPUTF8", "AUTH", "RET", "ENVID" };
	const char *v = p->value;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(p->keyword, names[i]) == 0)
			break;
	if (i == sizeof(names) / sizeof(names[0])) {
		/* RFC 5321 4.1.1.11 */
		smtp_reply(s, 555, "5.5.4", "Unsupported parameter %s", p->keyword);
		return -1;
	}
	if (*seen & (1u << i)) {
		smtp_reply(s, 501, "5.5.4", "Parameter %s given twice", names[i]);
		return -1;
	}
	*seen |= 1u << i;
	if (i == 0 && parse_size(v, &t->declared_size) == 0)
		return 0;
	if (i == 1 && v != NULL && (strcasecmp(v, "7BIT") == 0 ||
				    strcasecmp(v, "8BITMIME") == 0)) {
		t->body_8bit = strcasecmp(v, "8BITMIME") == 0;
		return 0;
	}
	if (i == 2 && v == NULL) {
		t->smtputf8 = true;
		return 0;
	}
	/* RFC 4954 5: AUTH=<> or AUTH=xtext; kept, acted on by relay. */
	if (i == 3 && v != NULL && (strcmp(v, "<>") == 0 || smtp_xtext_valid(v))) {
		t->auth = xstrdup(v);
		return 0;
	}
	if (i == 4 && v != NULL && (strcasecmp(v, "FULL") == 0 ||
				    strcasecmp(v, "HDRS") == 0)) {
		t->ret = xstrdup(v);
		return 0;
	}
	if (i == 5 && v != NULL && strlen(v) <= ENVID_MAX && smtp_xtext_valid(v)) {
		t->envid = xstrdup(v);
		return 0;
	}
	smtp_reply(s, 501, "5.5.4", "Invalid value for %s", names[i]);
	return -1;
}

static void txn_discard(struct smtp_txn *t)
{
	free(t->auth);
	free(t->ret);
	free(t->envid);
	free(t);
}

/* Path and parameters into a new transaction: NULL after an error reply. */
static struct smtp_txn *parse_mail(struct smtp_session *s, char *args)
{
	struct smtp_param params[SMTP_MAX_PARAMS];
	struct smtp_txn *t;
	enum smtp_path_err err;
	unsigned int seen = 0;
	char *path, *rest;
	size_t used = 0;
	int n, i;

	if ((path = smtp_skip_keyword(args, "FROM:")) == NULL) {
		smtp_reply(s, 501, "5.5.4", "Syntax: MAIL FROM:<address>");
		return NULL;
	}
	t = xcalloc(1, sizeof(*t));
	err = smtp_path_parse(path, strlen(path), true, false, true, &t->from,
			      &used);
	rest = path + used;
	if (err == PATH_OK && *rest != '\0' && *rest != ' ')
		err = PATH_SYNTAX;
	if (err != PATH_OK) {
		smtp_reply(s, 501, "5.1.7", "Bad sender address syntax: %s",
			   smtp_path_strerror(err));
		free(t);
		return NULL;
	}
	n = smtp_params_parse(rest, true, params, SMTP_MAX_PARAMS);
	if (n < 0) {
		smtp_reply(s, 501, "5.5.4", "Syntax error in parameters");
		txn_discard(t);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (take_param(s, t, &params[i], &seen) < 0) {
			txn_discard(t);
			return NULL;
		}
	}
	return t;
}

void smtp_cmd_mail(struct smtp_session *s, char *args)
{
	const struct config *cfg = s->io->cfg;
	struct smtp_txn *t;
	int owned;

	/* RFC 5321 3.8: a stopping server lets a transaction under way finish
	 * but begins no new one; 421 tells the client to try again later. */
	if (s->io->stopping) {
		smtp_close(s, "4.3.2", "Service shutting down, closing connection");
		return;
	}
	/* RFC 4954 6 and RFC 6409 4.3: submission needs authentication. */
	if (smtp_is_submission(s) && s->user == NULL) {
		smtp_reply(s, 530, "5.7.0", "Authentication required");
		return;
	}
	if ((t = parse_mail(s, args)) == NULL)
		return;
	/* faults named by a sender last as long as its transaction */
	fault_forget_named(&s->fault);
	if (smtp_fault_address(s, &t->from, "MAIL")) {
		txn_discard(t);
		return;
	}
	if (t->from.utf8 && !t->smtputf8) {
		/* RFC 6531 3.5 */
		smtp_reply(s, 553, "5.6.7",
			   "Non-ASCII sender address needs the SMTPUTF8 parameter");
		txn_discard(t);
		return;
	}
	if (t->declared_size > cfg->max_message_size) {
		/* RFC 1870 6.2 */
		smtp_reply(s, 552, "5.3.4",
			   "Message size exceeds fixed maximum message size (%zu)",
			   cfg->max_message_size);
		txn_discard(t);
		return;
	}
	if (smtp_is_submission(s) && s->set->sender_must_match) {
		owned = smtp_user_owns(s, &t->from);
		if (owned <= 0) {
			if (owned < 0)
				smtp_reply(s, 451, "4.3.0",
					   "Temporary failure checking the sender, try again later");
			else
				smtp_reply(s, 553, "5.7.1",
					   "Sender address <%s> not owned by user %s",
					   t->from.mailbox, s->user);
			txn_discard(t);
			return;
		}
	}
	if (smtp_rate_refuse_mail(s)) {
		txn_discard(t);
		return;
	}
	t->seq = ++s->messages;
	snprintf(t->id, sizeof(t->id), "%s.%u", s->io->id, t->seq);
	s->txn = t;
	smtp_enter_state(s, SMTP_MAIL);
	smtp_reply(s, 250, "2.1.0", "Sender <%s> OK", t->from.mailbox);
}
