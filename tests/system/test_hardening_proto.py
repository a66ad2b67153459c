"""Issue 10, the "Low" protocol items, against a live `maillab serve` with
Python's imaplib, poplib and smtplib: mailbox names that decode to control
characters, symlinked folders and messages, the submission From: check,
SEARCH and BODYSTRUCTURE beyond the MIME caps."""
import email
import imaplib
import os
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
