/* IMAP extensions (RFC 5161 ENABLE, 2971 ID, 2342 NAMESPACE, 3691
 * UNSELECT, 3348 CHILDREN, 7888 LITERAL+, 4315 UIDPLUS, 6851 MOVE, 2177
 * IDLE) through test sessions on a temporary instance. */
#include <dirent.h>
#include <unistd.h>
#include "tests/unit/imap-client.h"

#include "maildir/deliver.h"
#include "maildir/mailbox.h"
#include "maildir/notify.h"
#include "tests/unit/maildir-helpers.h"

static struct instance inst;
static struct client a, b;

static const char msg1[] =
	"From: Alice <alice@lab.test>\r\n"
	"Subject: one\r\n"
	"\r\n"
	"first\r\n";

static void setup(void)
{
	instance_start(&inst, &a);
	memset(&b, 0, sizeof(b));
}

static void teardown(void)
{
	if (b.sess != NULL)
		client_close(&b);
	instance_stop(&inst, &a);
}

START_TEST(test_capabilities)
{
	say(&a, "c CAPABILITY\r\n");
	ASSERT_HAS(&a, "* CAPABILITY IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID ENABLE "
		   "IDLE NAMESPACE UNSELECT CHILDREN UIDPLUS MOVE SPECIAL-USE "
		   "CREATE-SPECIAL-USE LIST-EXTENDED LIST-STATUS STATUS=SIZE "
		   "MULTIAPPEND BINARY CATENATE CONDSTORE QRESYNC QUOTA "
		   "QUOTA=RES-STORAGE QUOTA=RES-MESSAGE COMPRESS=DEFLATE NOTIFY SORT "
		   "SORT=DISPLAY "
		   "THREAD=ORDEREDSUBJECT THREAD=REFERENCES ESEARCH SEARCHRES "
		   "ESORT CONTEXT=SEARCH CONTEXT=SORT\r\n");
	ASSERT_HAS(&a, "c OK");
}
END_TEST

START_TEST(test_enable)
{
	/* RFC 5161 3.1: unknown names are ignored, ENABLED lists what
	 * this command turned on */
	say(&a, "e ENABLE FOO-BAR CONDSTORE X-NONE\r\n");
	ck_assert_str_eq(a.got, "* ENABLED CONDSTORE\r\n"
			 "e OK ENABLE completed\r\n");
	say(&a, "e2 ENABLE X-NONE CONDSTORE\r\n");
	ck_assert_str_eq(a.got, "* ENABLED\r\ne2 OK ENABLE completed\r\n");
	say(&a, "f ENABLE\r\n");
	ASSERT_HAS(&a, "f BAD");
	say(&a, "g ENABLE (X)\r\n");
	ASSERT_HAS(&a, "g BAD");
	say(&a, "h ENABLE A  B\r\n");
	ASSERT_HAS(&a, "h BAD");
	say(&a, "n NOOP\r\n");
	ck_assert_str_eq(a.got, "n OK NOOP completed\r\n");
	/* before login it is refused */
	client_open(&b, &inst);
	say(&b, "x ENABLE IDLE\r\n");
	ASSERT_HAS(&b, "x BAD Command not valid before login");
}
END_TEST

START_TEST(test_id)
{
	say(&a, "i ID (\"name\" \"imaplib\" \"version\" NIL)\r\n");
	ck_assert_str_eq(a.got, "* ID (\"name\" \"maillab\")\r\n"
			 "i OK ID completed\r\n");
	say(&a, "j ID NIL\r\n");
	ASSERT_HAS(&a, "j OK");
	say(&a, "k id ()\r\n");
	ASSERT_HAS(&a, "k OK");
	/* a literal value */
	say(&a, "l ID (\"name\" {3+}\r\nabc)\r\n");
	ASSERT_HAS(&a, "l OK");
	/* bad: odd count, no parenthesis, a field over 30 octets */
	say(&a, "m ID (\"name\")\r\n");
	ASSERT_HAS(&a, "m BAD");
	say(&a, "n ID \"name\" \"x\"\r\n");
	ASSERT_HAS(&a, "n BAD");
	say(&a, "o ID (\"0123456789012345678901234567890\" \"x\")\r\n");
	ASSERT_HAS(&a, "o BAD");
	say(&a, "p ID (\"a\" \"b\"\r\n");
	ASSERT_HAS(&a, "p BAD");
	say(&a, "q NOOP\r\n");
	ck_assert_str_eq(a.got, "q OK NOOP completed\r\n");
	/* valid before login too */
	client_open(&b, &inst);
	say(&b, "r ID NIL\r\n");
	ASSERT_HAS(&b, "* ID (\"name\" \"maillab\")");
	ASSERT_HAS(&b, "r OK");
}
END_TEST

START_TEST(test_namespace_unselect)
{
	say(&a, "n NAMESPACE\r\n");
	ck_assert_str_eq(a.got, "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n"
			 "n OK NAMESPACE completed\r\n");
	say(&a, "u UNSELECT\r\n");
	ASSERT_HAS(&a, "u BAD Command not valid in this state");
	append(&a, "INBOX", "(\\Deleted) ", msg1);
	say(&a, "s SELECT INBOX\r\n");
	ASSERT_HAS(&a, "* 1 EXISTS");
	/* UNSELECT leaves the selected state without expunging */
	say(&a, "v UNSELECT\r\n");
	ck_assert_str_eq(a.got, "v OK UNSELECT completed\r\n");
	say(&a, "w FETCH 1 FLAGS\r\n");
	ASSERT_HAS(&a, "w BAD Command not valid in this state");
	say(&a, "x STATUS INBOX (MESSAGES)\r\n");
	ASSERT_HAS(&a, "* STATUS INBOX (MESSAGES 1)");
	/* CLOSE does expunge */
	say(&a, "y SELECT INBOX\r\n");
	say(&a, "z CLOSE\r\n");
	say(&a, "z2 STATUS INBOX (MESSAGES)\r\n");
	ASSERT_HAS(&a, "* STATUS INBOX (MESSAGES 0)");
}
END_TEST

START_TEST(test_children)
{
	say(&a, "c1 CREATE Work/2026\r\n");
	ASSERT_HAS(&a, "c1 OK");
	say(&a, "c2 CREATE Solo\r\n");
	say(&a, "l LIST \"\" *\r\n");
	ASSERT_HAS(&a, "* LIST (\\HasChildren) \"/\" Work\r\n");
	ASSERT_HAS(&a, "* LIST (\\HasNoChildren) \"/\" Work/2026\r\n");
	ASSERT_HAS(&a, "* LIST (\\HasNoChildren) \"/\" Solo\r\n");
	ASSERT_HAS(&a, "* LIST (\\HasNoChildren) \"/\" INBOX\r\n");
	say(&a, "d DELETE Work/2026\r\n");
	say(&a, "m LIST \"\" Work\r\n");
	ASSERT_HAS(&a, "* LIST (\\HasNoChildren) \"/\" Work\r\n");
}
END_TEST

START_TEST(test_literal_plus)
{
	/* RFC 7888: no "+" continuation for {n+} */
	say(&a, "s SELECT {5+}\r\nINBOX\r\n");
	ASSERT_NOT(&a, "+ Ready");
	ASSERT_HAS(&a, "s OK [READ-WRITE]");
	/* the size limit still applies: read, thrown away, NO [TOOBIG] */
	{
		size_t big = inst.cfg.max_literal_size + 1, n;
		char *wire = malloc(big + 100);

		n = (size_t)snprintf(wire, 100, "t STATUS {%zu+}\r\n", big);
		memset(wire + n, 'x', big);
		n += big;
		n += (size_t)snprintf(wire + n, 100, " (MESSAGES)\r\nu NOOP\r\n");
		buf_clear(&a.io.out);
		client_feed(&a, wire, n);
		ck_assert_str_eq(buf_cstr(&a.io.out), "t NO [TOOBIG] Literal too big\r\n"
				 "u OK NOOP completed\r\n");
		free(wire);
	}
	say(&a, "v STATUS {5+}\r\nINBOX (MESSAGES)\r\n");
	ASSERT_HAS(&a, "* STATUS INBOX (MESSAGES 0)");
}
END_TEST

/* Files in alice's folder DIR ("cur", ".Trash/cur"). */
static int count_files(const char *sub)
{
	char path[4800];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "%s/alice/%s", inst.mail, sub);
	d = opendir(path);
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void append_n(struct client *c, const char *box, int n)
{
	for (int i = 0; i < n; i++)
		append(c, box, "", msg1);
}

START_TEST(test_uidplus)
{
	append_n(&a, "INBOX", 5);
	say(&a, "c CREATE Trash\r\n");
	say(&a, "s SELECT INBOX\r\n");
	/* COPYUID: source UIDs as the set, destination UIDs in step */
	say(&a, "k COPY 2:4 Trash\r\n");
	ck_assert_msg(strstr(a.got, "k OK [COPYUID ") != NULL, "%s", a.got);
	{
		unsigned uv;
		char src[32], dst[32];

		ck_assert_int_eq(sscanf(a.got, "k OK [COPYUID %u %31s %31[^]]]",
					&uv, src, dst), 3);
		ck_assert_str_eq(src, "2:4");
		ck_assert_str_eq(dst, "1:3");
	}
	say(&a, "k2 UID COPY 1,5 Trash\r\n");
	ASSERT_HAS(&a, " 1,5 4:5] COPY completed");
	/* nothing to copy: no COPYUID */
	say(&a, "k3 UID COPY 99 Trash\r\n");
	ck_assert_str_eq(a.got, "k3 OK COPY completed\r\n");
	/* UID EXPUNGE of UIDs not \Deleted: nothing goes */
	say(&a, "e UID EXPUNGE 1:5\r\n");
	ck_assert_str_eq(a.got, "e OK UID EXPUNGE completed\r\n");
	ck_assert_int_eq(count_files("cur"), 5);
	/* only the \Deleted ones of the set go; 5 stays \Deleted */
	say(&a, "f STORE 2,3,5 +FLAGS.SILENT (\\Deleted)\r\n");
	say(&a, "g UID EXPUNGE 1:3\r\n");
	ASSERT_HAS(&a, "* 3 EXPUNGE\r\n* 2 EXPUNGE\r\n");
	ASSERT_HAS(&a, "g OK UID EXPUNGE completed\r\n");
	ck_assert_int_eq(count_files("cur"), 3);
	say(&a, "h UID SEARCH DELETED\r\n");
	ASSERT_HAS(&a, "* SEARCH 5\r\n");
	/* bad forms */
	say(&a, "i UID EXPUNGE\r\n");
	ASSERT_HAS(&a, "i BAD");
	say(&a, "j UID EXPUNGE x\r\n");
	ASSERT_HAS(&a, "j BAD");
	say(&a, "j2 EXPUNGE 1\r\n");
	ASSERT_HAS(&a, "j2 BAD");
	/* read-only */
	say(&a, "x EXAMINE INBOX\r\n");
	say(&a, "y UID EXPUNGE 5\r\n");
	ASSERT_HAS(&a, "y NO [READ-ONLY]");
	ck_assert_int_eq(count_files("cur"), 3);
	say(&a, "z NOOP\r\n");
	ck_assert_str_eq(a.got, "z OK NOOP completed\r\n");
}
END_TEST

START_TEST(test_move)
{
	append_n(&a, "INBOX", 4);
	say(&a, "c CREATE Archive\r\n");
	say(&a, "s SELECT INBOX\r\n");
	say(&a, "f STORE 2 +FLAGS.SILENT (\\Seen $Work)\r\n");
	client_open(&b, &inst);
	say(&b, "1 LOGIN alice secret\r\n");
	say(&b, "s SELECT INBOX\r\n");
	/* RFC 6851 4.3: COPYUID in an untagged OK, then the expunges */
	say(&a, "m MOVE 2:3 Archive\r\n");
	{
		const char *ok = strstr(a.got, "* OK [COPYUID ");
		const char *ex = strstr(a.got, "* 3 EXPUNGE\r\n* 2 EXPUNGE\r\n");

		ck_assert_msg(ok != NULL && ex != NULL && ok < ex, "%s", a.got);
		ASSERT_HAS(&a, " 2:3 1:2] Moved\r\n");
		ASSERT_HAS(&a, "m OK MOVE completed\r\n");
	}
	ck_assert_int_eq(count_files("cur"), 2);
	ck_assert_int_eq(count_files(".Archive/cur"), 2);
	/* the other session sees both folders change at once */
	say(&b, "n NOOP\r\n");
	ASSERT_HAS(&b, "* 3 EXPUNGE\r\n* 2 EXPUNGE\r\n");
	say(&b, "t STATUS Archive (MESSAGES UNSEEN UIDNEXT)\r\n");
	ASSERT_HAS(&b, "* STATUS Archive (MESSAGES 2 UNSEEN 1 UIDNEXT 3)");
	/* flags and keywords travel with the message */
	say(&b, "u SELECT Archive\r\n");
	say(&b, "v FETCH 1:* (UID FLAGS)\r\n");
	ASSERT_HAS(&b, "* 1 FETCH (UID 1 FLAGS (\\Seen \\Recent $Work))");
	ASSERT_HAS(&b, "* 2 FETCH (UID 2 FLAGS (\\Recent))");
	say(&b, "w FETCH 1 BODY[TEXT]\r\n");
	ASSERT_HAS(&b, "first\r\n");
	/* UID MOVE; a UID that is not there is skipped */
	say(&a, "x UID MOVE 4,77 Archive\r\n");
	ASSERT_HAS(&a, "* OK [COPYUID ");
	ASSERT_HAS(&a, " 4 3] Moved\r\n");
	ASSERT_HAS(&a, "* 2 EXPUNGE\r\n");
	ASSERT_HAS(&a, "x OK MOVE completed");
	/* within one folder: new UIDs, nothing lost */
	say(&b, "y MOVE 1 Archive\r\n");
	ASSERT_HAS(&b, " 1 4] Moved\r\n");
	ASSERT_HAS(&b, "* 1 EXPUNGE\r\n");
	ASSERT_HAS(&b, "* 3 EXISTS\r\n");
	ck_assert_int_eq(count_files(".Archive/cur"), 3);
	say(&b, "y2 UID FETCH 4 FLAGS\r\n");
	ASSERT_HAS(&b, "(\\Seen");
	ASSERT_HAS(&b, "$Work");
}
END_TEST

/* The name of file number `nth` (0-based, in readdir order) of
 * alice's DIR; "" when there is none. */
static void nth_file(const char *sub, int nth, char *out, size_t len)
{
	char path[4800];
	struct dirent *de;
	DIR *d;
	int i = 0;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/alice/%s", inst.mail, sub);
	d = opendir(path);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && i++ == nth)
			snprintf(out, len, "%s", de->d_name);
	closedir(d);
}

START_TEST(test_move_rolls_back)
{
	char name[1024], path[6000];
	FILE *f;

	append_n(&a, "INBOX", 3);
	say(&a, "c CREATE Dst\r\n");
	say(&a, "s SELECT INBOX\r\n");
	/* a file already in the target under the name one of the moved
	 * messages has: that rename fails, the ones done are undone */
	nth_file("cur", 1, name, sizeof(name));
	ck_assert(name[0] != '\0');
	snprintf(path, sizeof(path), "%s/alice/.Dst/cur/%s", inst.mail, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("Subject: squatter\r\n\r\nx\r\n", f);
	fclose(f);
	say(&a, "m MOVE 1:3 Dst\r\n");
	ASSERT_HAS(&a, "m NO [UNAVAILABLE]");
	ASSERT_NOT(&a, "EXPUNGE");
	ASSERT_NOT(&a, "COPYUID");
	ck_assert_int_eq(count_files("cur"), 3);
	ck_assert_int_eq(count_files(".Dst/cur"), 1);
	say(&a, "n NOOP\r\n");
	ck_assert_str_eq(a.got, "n OK NOOP completed\r\n");
	say(&a, "o FETCH 1:* UID\r\n");
	ASSERT_HAS(&a, "* 3 FETCH (UID 3)");
	/* the squatter is the only message there */
	say(&a, "p STATUS Dst (MESSAGES)\r\n");
	ASSERT_HAS(&a, "* STATUS Dst (MESSAGES 1)");
	/* without it, the move goes through */
	ck_assert_int_eq(unlink(path), 0);
	say(&a, "q MOVE 1:3 Dst\r\n");
	ASSERT_HAS(&a, "q OK MOVE completed");
	ck_assert_int_eq(count_files("cur"), 0);
}
END_TEST

START_TEST(test_move_bad)
{
	append_n(&a, "INBOX", 2);
	say(&a, "s SELECT INBOX\r\n");
	/* a missing target: TRYCREATE, nothing moved */
	say(&a, "m MOVE 1:2 Nowhere\r\n");
	ck_assert_str_eq(a.got, "m NO [TRYCREATE] No such mailbox\r\n");
	ck_assert_int_eq(count_files("cur"), 2);
	say(&a, "n FETCH 1:* UID\r\n");
	ASSERT_HAS(&a, "* 2 FETCH (UID 2)");
	say(&a, "o UID MOVE 1 Nowhere\r\n");
	ASSERT_HAS(&a, "o NO [TRYCREATE]");
	/* bad syntax and sequence numbers */
	say(&a, "p MOVE 1:2\r\n");
	ASSERT_HAS(&a, "p BAD");
	say(&a, "q MOVE 9 INBOX\r\n");
	ASSERT_HAS(&a, "q BAD");
	say(&a, "r MOVE\r\n");
	ASSERT_HAS(&a, "r BAD");
	/* not in the authenticated state, not read-only */
	say(&a, "e EXAMINE INBOX\r\n");
	say(&a, "t MOVE 1 INBOX\r\n");
	ASSERT_HAS(&a, "t NO [READ-ONLY]");
	say(&a, "u UNSELECT\r\n");
	say(&a, "v MOVE 1 INBOX\r\n");
	ASSERT_HAS(&a, "v BAD Command not valid in this state");
	ck_assert_int_eq(count_files("cur"), 2);
	say(&a, "w SELECT INBOX\r\n");
	ASSERT_HAS(&a, "* 2 EXISTS");
}
END_TEST

/* What the session pushed after the store's notification was dispatched
 * (conn.c does this when the inotify descriptor is readable). */
static const char *pushed(struct client *c)
{
	maildir_notify_dispatch();
	free(c->got);
	c->got = strdup(buf_cstr(&c->io.out));
	buf_clear(&c->io.out);
	return c->got;
}

static void open_b(void)
{
	client_open(&b, &inst);
	say(&b, "1 LOGIN alice secret\r\n");
	ASSERT_HAS(&b, "1 OK");
}

START_TEST(test_idle_push)
{
	append_n(&a, "INBOX", 1);
	say(&a, "s SELECT INBOX\r\n");
	open_b();
	say(&b, "s SELECT INBOX\r\n");
	/* a change made before IDLE goes out as it starts */
	append(&b, "INBOX", "", msg1);
	say(&a, "i IDLE\r\n");
	ck_assert_str_eq(a.got, "+ idling\r\n* 2 EXISTS\r\n* 1 RECENT\r\n");
	ck_assert_uint_eq(a.io.idle_timeout, inst.cfg.timeout_imap_idle);
	/* another IMAP session's APPEND */
	append(&b, "INBOX", "", msg1);
	pushed(&a);
	ASSERT_HAS(&a, "* 3 EXISTS\r\n");
	/* a delivery (SMTP) */
	ck_assert_int_eq(deliver_text(inst.mail, "alice", NULL, msg1), 0);
	pushed(&a);
	ASSERT_HAS(&a, "* 4 EXISTS\r\n");
	/* a flag change, a keyword change */
	say(&b, "n NOOP\r\n");
	say(&b, "f STORE 1 +FLAGS (\\Flagged)\r\n");
	pushed(&a);
	ASSERT_HAS(&a, "* 1 FETCH (FLAGS (\\Flagged");
	say(&b, "g STORE 2 +FLAGS ($Later)\r\n");
	pushed(&a);
	ASSERT_HAS(&a, "* FLAGS (");
	ASSERT_HAS(&a, "* 2 FETCH (FLAGS (");
	ASSERT_HAS(&a, "$Later)");
	/* an expunge */
	say(&b, "h STORE 3 +FLAGS.SILENT (\\Deleted)\r\n");
	pushed(&a);
	say(&b, "e EXPUNGE\r\n");
	pushed(&a);
	ASSERT_HAS(&a, "* 3 EXPUNGE\r\n");
	/* nothing changed: nothing pushed */
	ck_assert_str_eq(pushed(&a), "");
	say(&a, "DONE\r\n");
	ck_assert_str_eq(a.got, "i OK IDLE terminated\r\n");
	ck_assert_uint_eq(a.io.idle_timeout, inst.cfg.timeout_imap);
	/* after DONE no more pushes */
	append(&b, "INBOX", "", msg1);
	ck_assert_str_eq(pushed(&a), "");
	say(&a, "n NOOP\r\n");
	ASSERT_HAS(&a, "* 4 EXISTS");
	ASSERT_HAS(&a, "n OK NOOP completed");
	/* IDLE again, "done" in any case ends it */
	say(&a, "j IDLE\r\n");
	ck_assert_str_eq(a.got, "+ idling\r\n");
	say(&a, "done\r\n");
	ck_assert_str_eq(a.got, "j OK IDLE terminated\r\n");
}
END_TEST

START_TEST(test_idle_bad)
{
	/* DONE outside IDLE: a command line without a command */
	say(&a, "DONE\r\n");
	ck_assert_str_eq(a.got, "DONE BAD Missing command\r\n");
	say(&a, "i IDLE now\r\n");
	ASSERT_HAS(&a, "i BAD");
	/* IDLE in the authenticated state: nothing to watch, DONE ends it */
	say(&a, "j IDLE\r\n");
	ck_assert_str_eq(a.got, "+ idling\r\n");
	say(&a, "DONE\r\n");
	ck_assert_str_eq(a.got, "j OK IDLE terminated\r\n");
	/* garbage during IDLE ends it with BAD, as Dovecot does */
	say(&a, "s SELECT INBOX\r\n");
	say(&a, "k IDLE\r\n");
	say(&a, "l NOOP\r\n");
	ck_assert_str_eq(a.got, "k BAD Expected DONE\r\n");
	say(&a, "m NOOP\r\n");
	ck_assert_str_eq(a.got, "m OK NOOP completed\r\n");
	/* a NUL, and an overlong line, during IDLE */
	say(&a, "n IDLE\r\n");
	buf_clear(&a.io.out);
	imap_protocol.line(a.sess, "DO\0NE", 5, LINE_HAS_NUL);
	ck_assert_str_eq(buf_cstr(&a.io.out), "n BAD Expected DONE\r\n");
	say(&a, "o IDLE\r\n");
	buf_clear(&a.io.out);
	imap_protocol.overlong(a.sess);
	ck_assert_str_eq(buf_cstr(&a.io.out), "o BAD Expected DONE\r\n");
	/* DONE with something after it */
	say(&a, "p IDLE\r\n");
	say(&a, "DONE x\r\n");
	ck_assert_str_eq(a.got, "p BAD Expected DONE\r\n");
	say(&a, "q NOOP\r\n");
	ck_assert_str_eq(a.got, "q OK NOOP completed\r\n");
	/* before login */
	client_open(&b, &inst);
	say(&b, "r IDLE\r\n");
	ASSERT_HAS(&b, "r BAD Command not valid before login");
}
END_TEST

START_TEST(test_idle_timeout)
{
	say(&a, "s SELECT INBOX\r\n");
	say(&a, "i IDLE\r\n");
	ck_assert_uint_eq(a.io.idle_timeout, inst.cfg.timeout_imap_idle);
	ck_assert_uint_ge(inst.cfg.timeout_imap_idle, 29 * 60);
	/* the I/O layer's timer fired: BYE and close, watch released */
	buf_clear(&a.io.out);
	imap_protocol.timeout(a.sess);
	ck_assert_str_eq(buf_cstr(&a.io.out),
			 "* BYE Autologout; idle for too long\r\n");
	ck_assert(a.io.close);
	client_close(&a);
	/* the folder is watched no more: a change calls nobody */
	ck_assert_int_eq(deliver_text(inst.mail, "alice", NULL, msg1), 0);
	ck_assert_int_eq(maildir_notify_dispatch(), 0);
	/* a new session works */
	client_open(&a, &inst);
	say(&a, "1 LOGIN alice secret\r\n");
	say(&a, "s SELECT INBOX\r\n");
	ASSERT_HAS(&a, "* 1 EXISTS");
}
END_TEST

static void count_call(void *arg)
{
	(*(int *)arg)++;
}

START_TEST(test_notify_shared)
{
	struct maildir_store *s = NULL;
	struct maildir_box *box1, *box2, *trash;
	struct maildir_watch *w1, *w2, *w3;
	int n1 = 0, n2 = 0, n3 = 0;
	char err[256];

	say(&a, "c CREATE Trash\r\n");
	ck_assert_int_eq(maildir_store_open(inst.mail, "alice", &s, err,
					    sizeof(err)), 0);
	ck_assert_int_eq(maildir_box_open(s, "INBOX", 0, &box1, err, sizeof(err)), 0);
	ck_assert_int_eq(maildir_box_open(s, "INBOX", 0, &box2, err, sizeof(err)), 0);
	ck_assert_int_eq(maildir_box_open(s, "Trash", 0, &trash, err, sizeof(err)), 0);
	ck_assert_int_ge(maildir_notify_fd(), 0);
	w1 = maildir_watch_box(box1, count_call, &n1);
	w2 = maildir_watch_box(box2, count_call, &n2);
	w3 = maildir_watch_box(trash, count_call, &n3);
	ck_assert(w1 != NULL && w2 != NULL && w3 != NULL);
	/* one delivery wakes each watcher of INBOX once, not Trash's */
	ck_assert_int_eq(deliver_text(inst.mail, "alice", NULL, msg1), 0);
	ck_assert_int_eq(maildir_notify_dispatch(), 2);
	ck_assert_int_eq(n1, 1);
	ck_assert_int_eq(n2, 1);
	ck_assert_int_eq(n3, 0);
	/* with one watcher gone the folder is still watched */
	maildir_watch_free(&w1);
	ck_assert_ptr_null(w1);
	ck_assert_int_eq(deliver_text(inst.mail, "alice", NULL, msg1), 0);
	ck_assert_int_eq(maildir_notify_dispatch(), 1);
	ck_assert_int_eq(n2, 2);
	ck_assert_int_eq(deliver_text(inst.mail, "alice", "Trash", msg1), 0);
	ck_assert_int_eq(maildir_notify_dispatch(), 1);
	ck_assert_int_eq(n3, 1);
	maildir_watch_free(&w2);
	/* Trash deleted and created again: the kernel dropped the old
	 * directories' watches, a new watcher gets new ones */
	maildir_box_close(&trash);
	say(&a, "d DELETE Trash\r\n");
	ASSERT_HAS(&a, "d OK");
	maildir_notify_dispatch();
	say(&a, "e CREATE Trash\r\n");
	ASSERT_HAS(&a, "e OK");
	ck_assert_int_eq(maildir_box_open(s, "Trash", 0, &trash, err, sizeof(err)), 0);
	w1 = maildir_watch_box(trash, count_call, &n1);
	ck_assert_ptr_nonnull(w1);
	n1 = n3 = 0;
	ck_assert_int_eq(deliver_text(inst.mail, "alice", "Trash", msg1), 0);
	ck_assert_int_eq(maildir_notify_dispatch(), 2);
	ck_assert_int_eq(n1, 1);
	ck_assert_int_eq(n3, 1);
	maildir_watch_free(&w1);
	maildir_watch_free(&w3);
	maildir_watch_free(&w3);
	ck_assert_int_eq(deliver_text(inst.mail, "alice", NULL, msg1), 0);
	ck_assert_int_eq(maildir_notify_dispatch(), 0);
	maildir_box_close(&box1);
	maildir_box_close(&box2);
	maildir_box_close(&trash);
	maildir_store_close(&s);
}
END_TEST

START_TEST(test_special_use)
{
	/* the folders maildir_user_create makes, by name */
	say(&a, "l LIST \"\" *\r\n");
	ASSERT_HAS(&a, "* LIST (\\HasNoChildren \\Sent) \"/\" Sent\r\n");
	ASSERT_HAS(&a, "* LIST (\\HasNoChildren \\Drafts) \"/\" Drafts\r\n");
	ASSERT_HAS(&a, "* LIST (\\HasNoChildren \\Trash) \"/\" Trash\r\n");
	ASSERT_HAS(&a, "* LIST (\\HasNoChildren \\Junk) \"/\" Junk\r\n");
	ASSERT_HAS(&a, "* LIST (\\HasNoChildren) \"/\" INBOX\r\n");
	/* \Archive once an Archive folder exists */
	say(&a, "c CREATE Archive\r\n");
	say(&a, "c2 CREATE Work\r\n");
	/* the selection option lists only special-use folders */
	say(&a, "m LIST (SPECIAL-USE) \"\" *\r\n");
	ASSERT_HAS(&a, "* LIST (\\HasNoChildren \\Archive) \"/\" Archive\r\n");
	ASSERT_HAS(&a, "\\Sent) \"/\" Sent\r\n");
	ASSERT_NOT(&a, "INBOX");
	ASSERT_NOT(&a, "Work");
	ASSERT_HAS(&a, "m OK LIST completed");
	say(&a, "n LIST \"\" \"%\" RETURN (SPECIAL-USE)\r\n");
	ASSERT_HAS(&a, "\\Junk) \"/\" Junk\r\n");
	ASSERT_HAS(&a, "* LIST (\\HasNoChildren) \"/\" Work\r\n");
	say(&a, "o LIST () \"\" Work RETURN (CHILDREN SPECIAL-USE)\r\n");
	ck_assert_str_eq(a.got, "* LIST (\\HasNoChildren) \"/\" Work\r\n"
			 "o OK LIST completed\r\n");
	/* CREATE ... (USE (...)) */
	say(&a, "p CREATE Keep (USE (\\Archive \\Junk))\r\n");
	ck_assert_str_eq(a.got, "p OK CREATE completed\r\n");
	say(&a, "q LIST \"\" Keep\r\n");
	ASSERT_HAS(&a, "* LIST (\\HasNoChildren \\Junk \\Archive) \"/\" Keep\r\n");
	/* it follows the folder through RENAME */
	say(&a, "r RENAME Keep Kept\r\n");
	say(&a, "s LIST \"\" Kept\r\n");
	ASSERT_HAS(&a, "\\Junk \\Archive) \"/\" Kept\r\n");
	/* uses this server cannot give: NO [USEATTR], nothing created */
	say(&a, "t CREATE Everything (USE (\\All))\r\n");
	ck_assert_str_eq(a.got, "t NO [USEATTR] Unsupported special-use "
			 "attribute\r\n");
	say(&a, "u CREATE Odd (USE (\\Sent \\X-Unknown))\r\n");
	ASSERT_HAS(&a, "u NO [USEATTR]");
	say(&a, "v LIST \"\" Everything\r\nw LIST \"\" Odd\r\n");
	ASSERT_NOT(&a, "* LIST");
	/* bad syntax */
	say(&a, "x CREATE Y (USE ())\r\n");
	ASSERT_HAS(&a, "x BAD");
	say(&a, "x2 CREATE Y (FOO (\\Sent))\r\n");
	ASSERT_HAS(&a, "x2 BAD");
	say(&a, "x3 CREATE Y (USE (Sent))\r\n");
	ASSERT_HAS(&a, "x3 BAD");
	say(&a, "x4 CREATE Y (USE (\\Sent)\r\n");
	ASSERT_HAS(&a, "x4 BAD");
	/* unknown options (SUBSCRIBED is known since LIST-EXTENDED) */
	say(&a, "y LIST (NOSUCHOPTION) \"\" *\r\n");
	ASSERT_HAS(&a, "y BAD");
	say(&a, "y2 LIST \"\" * RETURN (STATUS)\r\n");
	ASSERT_HAS(&a, "y2 BAD");
	say(&a, "y3 LIST \"\" * RETURN\r\n");
	ASSERT_HAS(&a, "y3 BAD");
	say(&a, "y4 LIST (SPECIAL-USE \"\" *\r\n");
	ASSERT_HAS(&a, "y4 BAD");
	say(&a, "v2 LIST \"\" Y\r\n");
	ASSERT_NOT(&a, "* LIST");
	say(&a, "z NOOP\r\n");
	ck_assert_str_eq(a.got, "z OK NOOP completed\r\n");
}
END_TEST

START_TEST(test_examine_recent)
{
	append_n(&a, "INBOX", 2);
	/* EXAMINE reports what SELECT would (RFC 3501 6.3.2)... */
	say(&a, "e EXAMINE INBOX\r\n");
	ASSERT_HAS(&a, "* 2 EXISTS\r\n* 2 RECENT\r\n");
	say(&a, "f FETCH 1:* FLAGS\r\n");
	ASSERT_HAS(&a, "* 1 FETCH (FLAGS (\\Recent))");
	say(&a, "g SEARCH RECENT\r\n");
	ASSERT_HAS(&a, "* SEARCH 1 2\r\n");
	/* ...without taking \Recent away */
	say(&a, "h STATUS INBOX (RECENT)\r\n");
	ASSERT_HAS(&a, "* STATUS INBOX (RECENT 2)");
	say(&a, "i EXAMINE INBOX\r\n");
	ASSERT_HAS(&a, "* 2 RECENT\r\n");
	/* a message arriving while examined is recent there too */
	open_b();
	append(&b, "INBOX", "", msg1);
	say(&a, "j NOOP\r\n");
	ASSERT_HAS(&a, "* 3 EXISTS\r\n* 3 RECENT\r\n");
	say(&b, "s SELECT INBOX\r\n");
	ASSERT_HAS(&b, "* 3 RECENT\r\n");
	/* claimed by that SELECT: gone for the next EXAMINE */
	say(&a, "k EXAMINE INBOX\r\n");
	ASSERT_HAS(&a, "* 3 EXISTS\r\n* 0 RECENT\r\n");
}
END_TEST

Suite *unit_suite(void)
{
	Suite *suite = suite_create("imap-ext");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_capabilities);
	tcase_add_test(tc, test_enable);
	tcase_add_test(tc, test_id);
	tcase_add_test(tc, test_namespace_unselect);
	tcase_add_test(tc, test_children);
	tcase_add_test(tc, test_literal_plus);
	tcase_add_test(tc, test_uidplus);
	tcase_add_test(tc, test_move);
	tcase_add_test(tc, test_move_bad);
	tcase_add_test(tc, test_move_rolls_back);
	tcase_add_test(tc, test_idle_push);
	tcase_add_test(tc, test_idle_bad);
	tcase_add_test(tc, test_idle_timeout);
	tcase_add_test(tc, test_notify_shared);
	tcase_add_test(tc, test_special_use);
	tcase_add_test(tc, test_examine_recent);
	suite_add_tcase(suite, tc);
	return suite;
}
