/* IMAP4rev2 (RFC 9051) beside IMAP4rev1: what changes once a client sent
 * ENABLE IMAP4rev2 (Appendix A), apart from the switches in the handlers
 * (SELECT, STATUS, SEARCH, the updates), which test s->rev2 themselves. */
#include <string.h>

#include "imapd/imap-int.h"
#include "imapd/writer.h"
#include "maildir/folder.h"
#include "maildir/mutf7.h"

void imap_write_box_name(struct imap_session *s, struct buf *out,
			 const char *name)
{
	/* RFC 9051 5.1 and Appendix A: UTF-8 only after ENABLE IMAP4rev2;
	 * modified UTF-7 (A.1) for IMAP4rev1 clients */
	if (s->rev2)
		imap_write_mailbox_utf8(out, name);
	else
		imap_write_mailbox(out, name);
}

unsigned imap_rev2_list_attrs(const struct imap_session *s, unsigned attrs)
{
	/* RFC 9051 7.3.1 (LIST-EXTENDED, RFC 5258 3, folded in): a name that
	 * is only a level of the hierarchy is \NonExistent, which implies
	 * \Noselect; IMAP4rev1 clients keep \Noselect (RFC 3501 6.3.8) */
	if (s->rev2 && (attrs & MAILDIR_FOLDER_NOSELECT))
		attrs = (attrs & ~MAILDIR_FOLDER_NOSELECT) |
			IMAP_LIST_NONEXISTENT;
	return attrs;
}

int imap_rev2_select_list(struct imap_session *s, const char *name,
			  char *err_r, size_t errlen)
{
	struct maildir_folder *folders;
	size_t n;
	unsigned attrs = 0;

	/* RFC 9051 6.3.2: the LIST response with accurate attributes */
	if (maildir_folder_list(s->store, &folders, &n, err_r, errlen) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (strcmp(folders[i].name, name) == 0)
			attrs = folders[i].attrs;
	maildir_folder_list_free(folders, n);
	/* \Subscribed only when asked (RFC 9051 6.3.9.2) */
	imap_write_list(s, "LIST", attrs & ~MAILDIR_FOLDER_SUBSCRIBED, name,
			NULL);
	return 0;
}

void imap_client_name(const struct imap_session *s, const char *name,
		      struct buf *out)
{
	buf_clear(out);
	if (s->rev2 && mutf7_decode(name, out) == 0)
		return;
	buf_clear(out);
	buf_puts(out, name);
}

bool imap_list_match(const struct imap_session *s, const char *pattern,
		     const char *name)
{
	struct buf client = BUF_INIT(BUF_UNLIMITED);
	bool match;

	/* an IMAP4rev2 pattern is UTF-8 (RFC 9051 5.1): matched against the
	 * UTF-8 name, since a prefix of a name is no prefix of its modified
	 * UTF-7 form */
	if (!s->rev2)
		return maildir_folder_match(pattern, name);
	imap_client_name(s, name, &client);
	match = maildir_folder_match(pattern, buf_cstr(&client));
	buf_free(&client);
	return match;
}
