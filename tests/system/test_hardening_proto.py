"""Issue 10, the "Low" protocol items, against a live `maillab serve` with
Python's imaplib, poplib and smtplib: mailbox names that decode to control
characters, symlinked folders and messages, the submission From: check,
SEARCH and BODYSTRUCTURE beyond the MIME caps."""
import email
import imaplib
import os
import poplib
import smtplib
import unittest

from fixture import Instance, run_cli

# RFC 9051 section 5.1: C0 and C1 controls, DEL, U+2028 and U+2029.
CONTROL_NAMES = ["&AAA-", "&AA0ACg-", "&ABs-", "&AH8-", "&AIA-", "&AJ8-",
                 "x&AIU-y", "Work/&AAk-", "&ICg-"]


class MailboxNameTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()

    def tearDown(self):
        self.inst.assert_alive()

    def login(self):
        m = imaplib.IMAP4(self.inst.host, self.inst.port("imap"))
        m.login("alice", self.inst.password("alice"))
        return m

    def folders_on_disk(self):
        return sorted(e for e in os.listdir(self.inst.maildir("alice"))
                      if e.startswith(".") and e not in (".", ".."))

    def test_create_refuses_controls(self):
        m = self.login()
        before = self.folders_on_disk()
        for name in CONTROL_NAMES:
            typ, data = m.create(name)
            self.assertEqual(typ, "NO", name)
            self.assertIn(b"[CANNOT]", data[0], name)
            self.assertIn(b"Control characters", data[0], name)
        self.assertEqual(self.folders_on_disk(), before)
        typ, data = m.list()
        self.assertEqual(typ, "OK")
        for name in CONTROL_NAMES:
            self.assertFalse(any(name.encode() in l for l in data), data)
        # The session goes on: a good name is still created and usable.
        self.assertEqual(m.create("Caf&AOk-")[0], "OK")
        self.assertEqual(m.select("Caf&AOk-")[0], "OK")
        self.assertEqual(m.noop()[0], "OK")
        m.logout()

    def test_rename_refuses_controls(self):
        m = self.login()
        self.assertEqual(m.create("Plain")[0], "OK")
        for name in CONTROL_NAMES:
            typ, data = m.rename("Plain", name)
            self.assertEqual(typ, "NO", name)
            self.assertIn(b"[CANNOT]", data[0], name)
        self.assertIn(".Plain", self.folders_on_disk())
        self.assertEqual(m.rename("Plain", "Plain2")[0], "OK")
        self.assertEqual(m.select("Plain2")[0], "OK")
        m.logout()


class SymlinkTest(unittest.TestCase):
    """Folder directories and message files that are symlinks are not
    followed: `.Evil -> ../bob` must not let alice read bob's INBOX."""

    SECRET = b"bob's secret pineapple"

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance.start()
        with smtplib.SMTP(cls.inst.host, cls.inst.port("smtp")) as c:
            c.sendmail("x@example.com", ["bob@lab.test"],
                       b"Subject: secret\r\n\r\n" + cls.SECRET + b"\r\n")
            c.sendmail("x@example.com", ["alice@lab.test"],
                       b"Subject: mine\r\n\r\nalice's own\r\n")
        cls.alice = cls.inst.maildir("alice")
        cls.bob = cls.inst.maildir("bob")

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()

    def tearDown(self):
        self.inst.assert_alive()

    def login(self):
        m = imaplib.IMAP4(self.inst.host, self.inst.port("imap"))
        m.login("alice", self.inst.password("alice"))
        return m

    def bob_message(self):
        for sub in ("new", "cur"):
            d = os.path.join(self.bob, sub)
            for n in os.listdir(d):
                return os.path.join(d, n)
        raise AssertionError("bob has no message")

    def listed(self, m):
        typ, data = m.list()
        self.assertEqual(typ, "OK")
        return [l.decode().rsplit(" ", 1)[-1].strip('"') for l in data]

    def test_symlinked_folder_not_listed_nor_selectable(self):
        os.symlink("../bob", os.path.join(self.alice, ".Evil"))
        os.makedirs(os.path.join(self.alice, ".Half"))
        os.symlink("../../bob/cur", os.path.join(self.alice, ".Half", "cur"))
        os.symlink("../../bob/new", os.path.join(self.alice, ".Half", "new"))
        os.makedirs(os.path.join(self.alice, ".Half", "tmp"))
        m = self.login()
        try:
            names = self.listed(m)
            self.assertNotIn("Evil", names)
            self.assertNotIn("Half", names)
            for name in ("Evil", "Half"):
                typ, data = m.select(name)
                self.assertEqual(typ, "NO", (name, data))
                typ, data = m.status(name, "(MESSAGES)")
                self.assertEqual(typ, "NO", (name, data))
                typ, data = m.append(name, None, None, b"Subject: x\r\n\r\ny\r\n")
                self.assertEqual(typ, "NO", (name, data))
            self.assertEqual(len(os.listdir(os.path.join(self.bob, "cur"))) +
                             len(os.listdir(os.path.join(self.bob, "new"))), 1)
            # mail for alice+Evil@ stays alice's (her INBOX)
            alice_new = len(os.listdir(os.path.join(self.alice, "new")))
            with smtplib.SMTP(self.inst.host, self.inst.port("smtp")) as c:
                c.sendmail("x@example.com", ["alice+Evil@lab.test"],
                           b"Subject: sub\r\n\r\nsubaddress\r\n")
            self.assertEqual(len(os.listdir(os.path.join(self.alice, "new"))),
                             alice_new + 1)
            self.assertEqual(len(os.listdir(os.path.join(self.bob, "cur"))) +
                             len(os.listdir(os.path.join(self.bob, "new"))), 1)
            # a normal folder still works
            self.assertEqual(m.create("Real")[0], "OK")
            self.assertIn("Real", self.listed(m))
            self.assertEqual(m.append("Real", None, None,
                                      b"Subject: r\r\n\r\nreal\r\n")[0], "OK")
            typ, data = m.select("Real")
            self.assertEqual((typ, data), ("OK", [b"1"]))
            typ, data = m.fetch("1", "(BODY[TEXT])")
            self.assertEqual(data[0][1], b"real\r\n")
        finally:
            m.logout()
            os.unlink(os.path.join(self.alice, ".Evil"))

    @property
    def saved(self):
        return os.path.join(self.inst.root, "saved-message")

    def swap_for_symlink(self, m):
        """Replaces alice's indexed message file by a symlink to bob's."""
        cur = os.path.join(self.alice, "cur")
        [path] = [os.path.join(cur, n) for n in os.listdir(cur)
                  if b"alice's own" in open(os.path.join(cur, n), "rb").read()]
        os.rename(path, self.saved)
        os.symlink(self.bob_message(), path)
        return path

    def test_symlinked_message_not_read(self):
        m = self.login()
        self.assertEqual(m.select("INBOX")[0], "OK")
        typ, data = m.fetch("1", "(BODY.PEEK[TEXT])")
        self.assertEqual(data[0][1], b"alice's own\r\n")
        m.logout()
        path = self.swap_for_symlink(m)
        try:
            m = self.login()
            self.assertEqual(m.select("INBOX")[0], "OK")
            typ, data = m.fetch("1:*", "(BODY.PEEK[] RFC822.SIZE)")
            self.assertNotIn(self.SECRET, repr(data).encode())
            typ, data = m.uid("SEARCH", "BODY", "pineapple")
            self.assertEqual((typ, data), ("OK", [b""]))
            self.assertEqual(m.noop()[0], "OK")
            m.logout()
            p = poplib.POP3(self.inst.host, self.inst.port("pop3"))
            p.user("alice")
            p.pass_(self.inst.password("alice"))
            count = p.stat()[0]
            for i in range(1, count + 1):
                try:
                    lines = p.retr(i)[1]
                except poplib.error_proto as e:
                    self.assertTrue(str(e).startswith("b'-ERR"), e)
                    continue
                self.assertNotIn(self.SECRET, b"\r\n".join(lines))
            self.assertEqual(p.noop()[:3], b"+OK")
            p.quit()
        finally:
            os.unlink(path)
            os.rename(self.saved, path)
        # the real file back: readable again
        m = self.login()
        m.select("INBOX")
        typ, data = m.fetch("1", "(BODY.PEEK[TEXT])")
        self.assertEqual(data[0][1], b"alice's own\r\n")
        m.logout()


def tokens(data):
    """The tokens of an IMAP response: '(' ')' and scalars (str)."""
    out, i = [], 0
    while i < len(data):
        ch = data[i]
        if ch in "() ":
            if ch != " ":
                out.append(ch)
            i += 1
        elif ch == '"':
            j, val = i + 1, ""
            while data[j] != '"':
                if data[j] == "\\":
                    j += 1
                val += data[j]
                j += 1
            out.append(("s", val))
            i = j + 1
        else:
            j = i
            while j < len(data) and data[j] not in "() ":
                j += 1
            out.append(("a", data[i:j]))
            i = j
    return out


class BodyChecker:
    """RFC 3501 section 9 `body`, strictly enough to refuse a multipart
    leaf or a message/rfc822 without envelope and body."""

    def __init__(self, toks):
        self.t, self.i = toks, 0

    def next(self):
        tok = self.t[self.i]
        self.i += 1
        return tok

    def scalar(self):
        tok = self.next()
        assert isinstance(tok, tuple), "expected a string, got %r" % (tok,)
        return tok[1].lower()

    def number(self):
        tok = self.next()
        assert isinstance(tok, tuple) and tok[0] == "a" and tok[1].isdigit(), tok
        return int(tok[1])

    def any(self):
        if self.t[self.i] == "(":
            self.i += 1
            while self.t[self.i] != ")":
                self.any()
            self.i += 1
        else:
            self.scalar()

    def body(self):
        assert self.next() == "("
        if self.t[self.i] == "(":
            n = 0
            while self.t[self.i] == "(":
                self.body()
                n += 1
            self.scalar()                   # media-subtype
        else:
            typ, sub = self.scalar(), self.scalar()
            assert typ != "multipart", "a multipart leaf"
            self.any()                      # params
            self.scalar(), self.scalar(), self.scalar()
            self.number()
            if (typ, sub) == ("message", "rfc822"):
                assert self.t[self.i] == "(", "message/rfc822 without envelope"
                self.any()
                self.body()
                self.number()
            elif typ == "text":
                self.number()
        while self.t[self.i] != ")":
            self.any()
        self.i += 1

    def check(self):
        self.body()
        assert self.i == len(self.t), "trailing tokens"


def bodystructure_of(fetch_line):
    text = fetch_line.decode()
    start = text.index("BODYSTRUCTURE ") + len("BODYSTRUCTURE ")
    depth = 0
    for end in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[end], 0)
        if depth == 0:
            return text[start:end + 1]
    raise AssertionError("unbalanced parentheses: " + text[start:start + 200])


def nested(levels, needle):
    """`levels` nested multiparts (no boundary a prefix of another)."""
    head = "".join('Content-Type: multipart/mixed; boundary="=_%d_="\r\n\r\n'
                   "--=_%d_=\r\n" % (i, i) for i in range(levels))
    tail = "".join("--=_%d_=--\r\n" % i for i in reversed(range(levels)))
    return ("Subject: deep\r\nMIME-Version: 1.0\r\n" + head +
            "Content-Type: text/plain\r\n\r\nthe %s\r\n" % needle + tail).encode()


def wide(parts, at, needle):
    body = "".join("--w\r\nContent-Type: text/plain\r\n\r\npart %d %s\r\n"
                   % (i, needle if i == at else "filler")
                   for i in range(1, parts + 1))
    return ("Subject: wide\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="w"\r\n\r\n' +
            body + "--w--\r\n").encode()


class MimeCapsTest(unittest.TestCase):
    """Past the MIME parser's caps (32 levels, 1000 parts) SEARCH still
    finds the text and BODYSTRUCTURE stays valid."""

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()

    def tearDown(self):
        self.inst.assert_alive()

    def test_checker_refuses_bad_structures(self):
        for bad in ('("multipart" "mixed" NIL NIL NIL "7bit" 3)',
                    '("message" "rfc822" NIL NIL NIL "7bit" 3)',
                    '("text" "plain" NIL NIL NIL "7bit" 3 1))'):
            with self.assertRaises((AssertionError, IndexError)):
                BodyChecker(tokens(bad)).check()
        BodyChecker(tokens('(("text" "plain" NIL NIL NIL "7bit" 3 1) "mixed")')).check()

    def test_append_search_fetch(self):
        m = imaplib.IMAP4(self.inst.host, self.inst.port("imap"))
        m.login("bob", self.inst.password("bob"))
        self.assertEqual(m.create("Caps")[0], "OK")
        msgs = [nested(40, "DeepNeedle"), wide(1500, 1201, "LateNeedle"),
                nested(10, "ShallowNeedle")]
        for msg in msgs:
            self.assertEqual(m.append("Caps", None, None, msg)[0], "OK")
        self.assertEqual(m.select("Caps")[0], "OK")
        for needle, want in (("deepneedle", b"1"), ("LateNeedle", b"2"),
                             ("shallowneedle", b"3"), ("nowhere", b"")):
            for key in ("BODY", "TEXT"):
                typ, data = m.search(None, key, needle)
                self.assertEqual((typ, data), ("OK", [want]), (key, needle))
        typ, data = m.fetch("1:3", "(BODYSTRUCTURE)")
        self.assertEqual(typ, "OK")
        lines = [d for d in data if isinstance(d, bytes) and b"BODYSTRUCTURE" in d]
        self.assertEqual(len(lines), 3)
        for line in lines:
            bs = bodystructure_of(line)
            BodyChecker(tokens(bs)).check()
        self.assertIn('("application" "octet-stream" NIL', bodystructure_of(lines[0]))
        self.assertEqual(m.noop()[0], "OK")
        m.logout()


def message(from_, subject="t"):
    return ("From: %s\r\nTo: bob@lab.test\r\nSubject: %s\r\n\r\nbody\r\n"
            % (from_, subject)).encode()


class SubmissionFromTest(unittest.TestCase):
    """smtp_from_must_match (on by default): every address in From: must be
    one the user may give in MAIL FROM (own address, sub-address, alias
    reaching the user).  A From: with several authors needs all of them to
    be the user's.  Received names the user only with
    smtp_received_auth_user."""

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance.start()
        run_cli("alias", "add", "-d", cls.inst.dir, "sales", "alice")

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()

    def tearDown(self):
        self.inst.assert_alive()

    def submit(self):
        c = smtplib.SMTP(self.inst.host, self.inst.port("submission"))
        c.starttls(context=self.inst.tls_context())
        c.login("alice", self.inst.password("alice"))
        return c

    def bob_new(self):
        return set(os.listdir(os.path.join(self.inst.maildir("bob"), "new")))

    def send(self, c, from_):
        """(code, text) of the reply to the end of the message."""
        self.assertEqual(c.mail("alice@lab.test")[0], 250)
        self.assertEqual(c.rcpt("bob@lab.test")[0], 250)
        return c.data(message(from_))

    def test_foreign_from_refused_then_next_accepted(self):
        before = self.bob_new()
        with self.submit() as c:
            for from_ in ("bob@lab.test", "Alice <ceo@example.com>",
                          "alice@lab.test, bob@lab.test",
                          '"alice@lab.test" <bob@lab.test>'):
                code, text = self.send(c, from_)
                self.assertEqual(code, 550, from_)
                self.assertTrue(text.startswith(b"5.7.1 From: address <"), text)
                self.assertIn(b"not owned by user alice", text)
            self.assertEqual(self.bob_new(), before)
            # the same session goes on
            code, text = self.send(c, "Alice <alice@lab.test>")
            self.assertEqual(code, 250, text)
        self.assertEqual(len(self.bob_new() - before), 1)

    def test_own_addresses_accepted(self):
        before = self.bob_new()
        good = ["alice@lab.test", "Alice Example <alice@lab.test>",
                '"Example, Alice" <Alice@Lab.Test>',
                "alice+lists@lab.test", "Sales <sales@lab.test>",
                "alice@lab.test, Alice at home <alice+home@lab.test>"]
        with self.submit() as c:
            for from_ in good:
                code, text = self.send(c, from_)
                self.assertEqual(code, 250, (from_, text))
            # send_message takes From: as the envelope sender too
            code = c.send_message(
                email.message_from_bytes(
                    message("Alice <alice@lab.test>")))
            self.assertEqual(code, {})
        self.assertEqual(len(self.bob_new() - before), len(good) + 1)

    def test_received_without_then_with_user(self):
        def last_received():
            new = os.path.join(self.inst.maildir("bob"), "new")
            name = max(os.listdir(new),
                       key=lambda n: os.stat(os.path.join(new, n)).st_mtime_ns)
            with open(os.path.join(new, name), "rb") as f:
                return f.read().split(b"\r\nTo: ")[0]
        with self.submit() as c:
            self.assertEqual(self.send(c, "alice@lab.test")[0], 250)
        self.assertNotIn(b"Authenticated sender", last_received())
        inst = Instance.start(config={"smtp_received_auth_user": "yes"})
        try:
            with smtplib.SMTP_SSL(inst.host, inst.port("submissions"),
                                  context=inst.tls_context()) as c:
                c.login("alice", inst.password("alice"))
                c.sendmail("alice@lab.test", ["alice@lab.test"],
                           message("alice@lab.test"))
            new = os.path.join(inst.maildir("alice"), "new")
            [name] = os.listdir(new)
            with open(os.path.join(new, name), "rb") as f:
                self.assertIn(b"\r\n\t(Authenticated sender: alice)\r\n", f.read())
        finally:
            inst.stop()

    def test_check_can_be_turned_off(self):
        inst = Instance.start(config={"smtp_from_must_match": "no"})
        try:
            with smtplib.SMTP_SSL(inst.host, inst.port("submissions"),
                                  context=inst.tls_context()) as c:
                c.login("alice", inst.password("alice"))
                self.assertEqual(c.sendmail("alice@lab.test", ["bob@lab.test"],
                                            message("bob@lab.test")), {})
        finally:
            inst.stop()


if __name__ == "__main__":
    unittest.main()
