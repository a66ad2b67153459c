"""Issue 10, the "Low" protocol items, against a live `maillab serve` with
Python's imaplib, poplib and smtplib: mailbox names that decode to control
characters, symlinked folders and messages, the submission From: check,
SEARCH and BODYSTRUCTURE beyond the MIME caps."""
import imaplib
import os
import unittest

from fixture import Instance

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


if __name__ == "__main__":
    unittest.main()
