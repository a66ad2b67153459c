"""IMAP4rev2 (RFC 9051) against a live `maillab serve`, driven by Python's
imaplib: one IMAP4rev1 session and one that sent ENABLE IMAP4rev2, side by
side (RECENT, SEARCH/ESEARCH, SELECT's LIST, UTF-8 mailbox names, UID in
unsolicited FETCH, STATUS), the bad inputs (ENABLE twice, unknown names,
the syntax of one version in a session of the other), and two imapd fixes:
COPY into the selected mailbox reports EXISTS at once, FETCH 1:* of an
empty mailbox answers BAD as Dovecot does."""
import imaplib
import unittest

from fixture import Instance

MSG = (b"From: Alice <alice@lab.test>\r\n"
       b"To: alice@lab.test\r\n"
       b"Subject: rev2 test\r\n"
       b"\r\n"
       b"body\r\n")

UBER = "\u00dcbersicht".encode()        # "Übersicht" in UTF-8
UBER_MUTF7 = b"&ANw-bersicht"


class Rev2Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()

    def tearDown(self):
        self.inst.assert_alive()
        m = self.login()
        self.assertEqual(m.select("INBOX")[0], "OK")
        self.assertEqual(m.noop()[0], "OK")
        m.logout()

    def login(self, rev2=False):
        m = imaplib.IMAP4(self.inst.host, self.inst.port("imap"))
        m.login("alice", self.inst.password("alice"))
        # imaplib reads the capabilities only at connect time
        m.capabilities = tuple(m.capability()[1][0].decode().upper().split())
        if rev2:
            typ, data = m.enable("IMAP4rev2")
            self.assertEqual(typ, "OK")
            self.assertEqual(m.untagged_responses.pop("ENABLED"),
                             [b"IMAP4rev2"])
        return m

    def fresh_folder(self, m, name):
        m.delete(name)
        self.assertEqual(m.create(name)[0], "OK")

    def test_capability_and_enable(self):
        m = self.login()
        self.assertIn("IMAP4REV1", m.capabilities)
        self.assertIn("IMAP4REV2", m.capabilities)
        self.assertEqual(m.enable("IMAP4rev2")[0], "OK")
        self.assertEqual(m.untagged_responses.pop("ENABLED"), [b"IMAP4rev2"])
        # again, and an unknown name: nothing more is enabled
        self.assertEqual(m.enable("IMAP4rev2")[0], "OK")
        self.assertEqual(m.untagged_responses.pop("ENABLED"), [b""])
        self.assertEqual(m.enable("X-NOSUCH")[0], "OK")
        self.assertEqual(m.untagged_responses.pop("ENABLED"), [b""])
        m.logout()

    def test_select_and_search(self):
        w = self.login()
        self.fresh_folder(w, "r2search")
        for _ in range(2):
            self.assertEqual(w.append("r2search", None, None, MSG)[0], "OK")
        w.logout()
        rev1, rev2 = self.login(), self.login(rev2=True)
        self.assertEqual(rev1.select("r2search", readonly=True)[0], "OK")
        self.assertEqual(rev1.untagged_responses.get("RECENT"), [b"2"])
        self.assertEqual(rev1.search(None, "ALL")[1], [b"1 2"])
        self.assertEqual(rev2.select("r2search")[0], "OK")
        self.assertNotIn("RECENT", rev2.untagged_responses)
        self.assertEqual(rev2.untagged_responses.get("LIST"),
                         [b'(\\HasNoChildren) "/" r2search'])
        # RFC 9051 6.4.4: the answer is ESEARCH; imaplib's search() only
        # knows SEARCH, so the result is read from the untagged ESEARCH
        self.assertEqual(rev2.search(None, "ALL")[0], "OK")
        typ, data = rev2.response("ESEARCH")
        self.assertRegex(data[0].decode(), r'^\(TAG "\w+"\) ALL 1:2$')
        self.assertEqual(rev2.uid("SEARCH", "ALL")[0], "OK")
        typ, data = rev2.response("ESEARCH")
        self.assertRegex(data[0].decode(), r'^\(TAG "\w+"\) UID ALL 1:2$')
        # \Recent is not shown to IMAP4rev2
        typ, data = rev2.fetch("1:2", "(FLAGS)")
        self.assertNotIn(b"\\Recent", b" ".join(data))
        rev1.logout()
        rev2.logout()

    def test_unsolicited_fetch_has_uid(self):
        rev1, rev2 = self.login(), self.login(rev2=True)
        self.fresh_folder(rev1, "r2flags")
        self.assertEqual(rev1.append("r2flags", None, None, MSG)[0], "OK")
        self.assertEqual(rev1.select("r2flags")[0], "OK")
        self.assertEqual(rev2.select("r2flags")[0], "OK")
        self.assertEqual(rev1.store("1", "+FLAGS", "(\\Flagged)")[0], "OK")
        rev2.untagged_responses.pop("FETCH", None)
        self.assertEqual(rev2.noop()[0], "OK")
        self.assertEqual(rev2.untagged_responses.get("FETCH"),
                         [b"1 (UID 1 FLAGS (\\Flagged))"])
        self.assertEqual(rev2.store("1", "+FLAGS", "(\\Seen)")[0], "OK")
        rev1.untagged_responses.pop("FETCH", None)
        self.assertEqual(rev1.noop()[0], "OK")
        self.assertEqual(rev1.untagged_responses.get("FETCH"),
                         [b"1 (FLAGS (\\Seen \\Flagged \\Recent))"])
        rev1.logout()
        rev2.logout()

    def test_utf8_mailbox_names(self):
        rev1, rev2 = self.login(), self.login(rev2=True)
        rev2.delete(b'"' + UBER + b'"')
        # UTF-8 is IMAP4rev2 syntax: refused to IMAP4rev1 (RFC 3501 5.1.3)
        typ, data = rev1.create(b'"' + UBER + b'"')
        self.assertEqual(typ, "NO")
        self.assertIn(b"modified UTF-7", data[0])
        self.assertEqual(rev2.create(b'"' + UBER + b'"')[0], "OK")
        typ, data = rev1.list('""', "*bersicht")
        self.assertEqual(data, [b'(\\HasNoChildren) "/" ' + UBER_MUTF7])
        typ, data = rev2.list(b'""', b'"' + UBER[:3] + b'*"')
        self.assertEqual(data, [b'(\\HasNoChildren) "/" "' + UBER + b'"'])
        self.assertEqual(rev2.append(b'"' + UBER + b'"', None, None, MSG)[0],
                         "OK")
        typ, data = rev2.status(b'"' + UBER + b'"', "(MESSAGES DELETED SIZE)")
        self.assertEqual(typ, "OK")
        self.assertTrue(data[0].startswith(b'"' + UBER + b'" (MESSAGES 1 '
                                           b'DELETED 0 SIZE '), data)
        typ, data = rev1.status(UBER_MUTF7, "(MESSAGES)")
        self.assertEqual(data, [UBER_MUTF7 + b" (MESSAGES 1)"])
        # bytes that are not UTF-8
        self.assertEqual(rev2.create(b'"bad\xff"')[0], "NO")
        rev1.logout()
        rev2.logout()

    def test_rev1_syntax_in_rev2_session(self):
        rev2 = self.login(rev2=True)
        with self.assertRaises(imaplib.IMAP4.error):
            rev2.status("INBOX", "(MESSAGES RECENT)")
        self.assertEqual(rev2.status("INBOX", "(MESSAGES)")[0], "OK")
        rev2.logout()

    def test_copy_into_selected_reports_exists(self):
        m = self.login()
        self.fresh_folder(m, "r2copy")
        self.assertEqual(m.append("r2copy", None, None, MSG)[0], "OK")
        self.assertEqual(m.select("r2copy")[0], "OK")
        m.untagged_responses.pop("EXISTS", None)
        typ, data = m.copy("1", "r2copy")
        self.assertEqual(typ, "OK")
        self.assertIn(b"COPYUID", data[0])
        self.assertEqual(m.untagged_responses.get("EXISTS"), [b"2"])
        m.logout()

    def test_fetch_in_empty_mailbox(self):
        m = self.login()
        self.fresh_folder(m, "r2empty")
        self.assertEqual(m.select("r2empty")[0], "OK")
        # RFC 3501 9 (seq-number) and Dovecot 2.3: BAD
        with self.assertRaises(imaplib.IMAP4.error):
            m.fetch("1:*", "(FLAGS)")
        self.assertEqual(m.uid("FETCH", "1:*", "(FLAGS)"), ("OK", [None]))
        self.assertEqual(m.search(None, "1:*"), ("OK", [b""]))
        self.assertEqual(m.noop()[0], "OK")
        m.logout()


if __name__ == "__main__":
    unittest.main()
