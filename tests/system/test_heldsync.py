"""The updates at the end of FETCH, STORE and SEARCH by sequence number,
against a live `maillab serve` driven by Python's imaplib: a second
session's new message and flag change reach the first with its FETCH,
STORE or SEARCH (EXISTS, FETCH FLAGS), its expunge waits for NOOP (RFC 3501
7.4.1: no EXPUNGE during FETCH, STORE, SEARCH), and UID FETCH reports it."""
import imaplib
import unittest

from fixture import Instance

MSG = (b"From: Alice <alice@lab.test>\r\n"
       b"To: alice@lab.test\r\n"
       b"Subject: held sync\r\n"
       b"\r\n"
       b"body\r\n")


class HeldSyncTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance.start()
        cls.pw = cls.inst.password("alice")

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()

    def login(self):
        m = imaplib.IMAP4(self.inst.host, self.inst.port("imap"))
        m.login("alice", self.pw)
        m.sock.settimeout(15)
        return m

    def setUp(self):
        self.inst.assert_alive()
        self.a = self.login()
        self.b = self.login()
        # a folder of its own with three messages
        self.box = "Held-" + self._testMethodName.replace("_", "-")
        self.assertEqual(self.a.create(self.box)[0], "OK")
        for _ in range(3):
            self.assertEqual(self.a.append(self.box, None, None, MSG)[0],
                             "OK")
        self.assertEqual(self.a.select(self.box), ("OK", [b"3"]))
        self.assertEqual(self.b.select(self.box)[0], "OK")

    def tearDown(self):
        self.a.logout()
        self.b.logout()

    def others_change(self):
        """b flags message 2, expunges message 1, and delivers one."""
        b = self.b
        self.assertEqual(b.store("2", "+FLAGS", "\\Flagged")[0], "OK")
        self.assertEqual(b.store("1", "+FLAGS", "\\Deleted")[0], "OK")
        self.assertEqual(b.expunge()[0], "OK")
        self.assertEqual(b.append(self.box, None, None, MSG)[0], "OK")
        self.a.untagged_responses.clear()

    def assert_told_not_expunged(self, data):
        a = self.a
        self.assertEqual(a.untagged_responses.get("EXISTS"), [b"4"])
        self.assertNotIn("EXPUNGE", a.untagged_responses)
        self.assertTrue(any(isinstance(d, bytes) and d.startswith(b"2 (FLAGS")
                            and b"\\Flagged" in d for d in data), data)

    def assert_noop_expunges(self):
        a = self.a
        a.untagged_responses.clear()
        self.assertEqual(a.noop()[0], "OK")
        self.assertEqual(a.untagged_responses.get("EXPUNGE"), [b"1"])
        self.assertEqual(a.untagged_responses.get("EXISTS"), [b"3"])

    def test_fetch(self):
        self.others_change()
        typ, data = self.a.fetch("1", "(UID)")
        self.assertEqual(typ, "OK")
        self.assertIn(b"1 (UID 1)", data)
        self.assert_told_not_expunged(data)
        # the numbers still hold: 4 is the new message
        typ, data = self.a.fetch("4", "(UID)")
        self.assertEqual(data, [b"4 (UID 4)"])
        self.assert_noop_expunges()

    def test_uid_fetch(self):
        self.others_change()
        typ, data = self.a.uid("FETCH", "1:*", "(FLAGS)")
        self.assertEqual(typ, "OK")
        self.assertEqual(self.a.untagged_responses.get("EXPUNGE"), [b"1"])
        self.assertIn(b"3 (UID 4 FLAGS ())", data)

    def test_store(self):
        self.others_change()
        typ, data = self.a.store("3", "+FLAGS", "\\Seen")
        self.assertEqual(typ, "OK")
        self.assert_told_not_expunged(data)
        self.assert_noop_expunges()

    def test_search(self):
        self.others_change()
        typ, data = self.a.search(None, "FLAGGED")
        self.assertEqual(typ, "OK")
        self.assertEqual(data[0], b"")
        self.assert_told_not_expunged(self.a.untagged_responses["FETCH"])
        self.assertEqual(self.a.search(None, "FLAGGED")[1], [b"2"])
        self.assert_noop_expunges()


if __name__ == "__main__":
    unittest.main()
