/* Small extensions: ENABLE (RFC 5161), ID (RFC 2971), NAMESPACE
 * (RFC 2342), UNSELECT (RFC 3691). */
#include <strings.h>

#include "common/log.h"
#include "imapd/imap-int.h"

/* RFC 2971 3.3: field names up to 30 octets, values up to 1024, at most
 * 30 pairs. */
#define ID_MAX_FIELD 30
#define ID_MAX_VALUE 1024
#define ID_MAX_PAIRS 30

/* ENABLE SP capability *(SP capability)
 * CONDSTORE and QRESYNC (RFC 7162 3.1, 3.2.3) and IMAP4rev2 (RFC 9051
 * 6.3.1, Appendix E) change how the server answers; other names are
 * ignored (RFC 5161 3.1).  "* ENABLED" lists those this command turned
 * on: one already on is not listed again (RFC 5161 3.2). */
void cmd_enable(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->s;
	struct imap_parser *p = &cmd->p;
	bool condstore = false, qresync = false, rev2 = false;

	if (imap_parse_at_end(p)) {
		imap_cmd_bad(cmd, "ENABLE needs a capability");
		return;
	}
	while (!imap_parse_at_end(p)) {
		if (imap_parse_sp(p) < 0 || imap_parse_atom(p, &cmd->tmp) < 0) {
			imap_cmd_parse_error(cmd);
			return;
		}
		if (strcasecmp(buf_cstr(&cmd->tmp), "CONDSTORE") == 0)
			condstore = true;
		else if (strcasecmp(buf_cstr(&cmd->tmp), "QRESYNC") == 0)
			qresync = true;
		else if (strcasecmp(buf_cstr(&cmd->tmp), "IMAP4rev2") == 0)
			rev2 = true;
	}
	buf_clear(&cmd->tmp);
	if (rev2 && !s->rev2)
		buf_puts(&cmd->tmp, " IMAP4rev2");
	s->rev2 = s->rev2 || rev2;
	if (condstore && !s->condstore)
		buf_puts(&cmd->tmp, " CONDSTORE");
	if (qresync && !s->qresync)
		buf_puts(&cmd->tmp, " QRESYNC");
	if (qresync)
		imap_qresync_enable(s);
	else if (condstore)
		imap_condstore_enable(s);
	imap_untagged(s, "ENABLED%s", buf_cstr(&cmd->tmp));
	imap_cmd_ok(cmd, "ENABLE completed");
}

/* id-params-list = "(" string SP nstring *(SP string SP nstring) ")" / nil
 * (an empty list is taken as nil). */
static int parse_id_params(struct imap_parser *p, struct buf *client)
{
	struct buf field = BUF_INIT(BUF_UNLIMITED);
	struct buf value = BUF_INIT(BUF_UNLIMITED);
	unsigned pairs = 0;
	bool nil;
	int ret = -1;

	if (imap_parse_sp(p) < 0)
		goto out;
	if (imap_parse_keyword(p, "NIL")) {
		ret = 0;
		goto out;
	}
	if (imap_parse_char(p, '(') < 0)
		goto out;
	while (!imap_parse_skip(p, ')')) {
		if ((pairs > 0 && imap_parse_sp(p) < 0) ||
		    imap_parse_string(p, &field, NULL) < 0 ||
		    imap_parse_sp(p) < 0 ||
		    imap_parse_nstring(p, &value, &nil) < 0)
			goto out;
		if (++pairs > ID_MAX_PAIRS || field.len > ID_MAX_FIELD ||
		    value.len > ID_MAX_VALUE) {
			imap_parse_fail(p, "ID parameters over the RFC 2971 limits");
			goto out;
		}
		if (!nil && (strcasecmp(buf_cstr(&field), "name") == 0 ||
			     strcasecmp(buf_cstr(&field), "version") == 0)) {
			if (client->len > 0)
				buf_putc(client, ' ');
			log_escape(client, value.data, value.len, 64);
		}
	}
	ret = 0;
out:
	buf_free(&field);
	buf_free(&value);
	return ret;
}

/* ID SP id-params-list: the client's name goes to the log; ours back. */
void cmd_id(struct imap_cmd *cmd)
{
	struct buf client = BUF_INIT(BUF_UNLIMITED);

	if (parse_id_params(&cmd->p, &client) < 0 ||
	    imap_parse_end(&cmd->p) < 0) {
		imap_cmd_parse_error(cmd);
		goto out;
	}
	if (client.len > 0)
		log_msg("imap", cmd->s->io->id, "client id: %s", buf_cstr(&client));
	imap_untagged(cmd->s, "ID (\"name\" \"maillab\")");
	imap_cmd_ok(cmd, "ID completed");
out:
	buf_free(&client);
}

/* NAMESPACE: one personal namespace, the root, '/' as delimiter; no
 * other users' or shared folders (RFC 2342 5). */
void cmd_namespace(struct imap_cmd *cmd)
{
	if (imap_cmd_end(cmd) < 0)
		return;
	imap_untagged(cmd->s, "NAMESPACE ((\"\" \"/\")) NIL NIL");
	imap_cmd_ok(cmd, "NAMESPACE completed");
}

/* UNSELECT: CLOSE without the expunge (RFC 3691 2). */
void cmd_unselect(struct imap_cmd *cmd)
{
	if (imap_cmd_end(cmd) < 0)
		return;
	imap_unselect(cmd->s);
	imap_cmd_ok(cmd, "UNSELECT completed");
}
