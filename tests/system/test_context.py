"""CONTEXT=SEARCH (RFC 5267 4) against a live `maillab serve`: one imaplib
session keeps SEARCH RETURN (UPDATE) contexts, another changes flags,
appends and expunges, and the first gets the ADDTO/REMOVEFROM updates;
PARTIAL; bad input (the session keeps serving)."""
import imaplib
import unittest

from fixture import Instance

imaplib.Commands.setdefault("CANCELUPDATE", ("SELECTED",))


class ContextTest(unittest.TestCase):
    def setUp(self):
        self.inst = Instance.start()
        pw = self.inst.password("alice")
        self.obs = imaplib.IMAP4(self.inst.host, self.inst.port("imap"))
        self.obs.login("alice", pw)
        self.chg = imaplib.IMAP4(self.inst.host, self.inst.port("imap"))
        self.chg.login("alice", pw)
        self.chg.create("Ctx")
        for i in range(3):
            self.chg.append("Ctx", None, None,
                            b"Subject: m%d\r\n\r\nbody\r\n" % i)
        self.assertEqual(self.obs.select("Ctx")[0], "OK")
        self.assertEqual(self.chg.select("Ctx")[0], "OK")

    def tearDown(self):
        self.obs.logout()
        self.chg.logout()
        self.inst.assert_alive()
        self.inst.stop()

    def updates(self):
        """The ESEARCH lines the observer gets at its next NOOP."""
        self.obs.untagged_responses.pop("ESEARCH", None)
        self.assertEqual(self.obs.noop()[0], "OK")
        return self.obs.untagged_responses.pop("ESEARCH", [])

    def test_updates_from_another_session(self):
        self.assertIn(b"CONTEXT=SEARCH",
                      self.obs.capability()[1][0].split())
        typ, _ = self.obs._simple_command("UID", "SEARCH", "RETURN",
                                          "(UPDATE ALL)", "SEEN")
        self.assertEqual(typ, "OK")
        first = self.obs.untagged_responses.pop("ESEARCH")
        self.assertEqual(len(first), 1)
        tag = first[0].split(b'"')[1].decode()
        self.assertTrue(first[0].endswith(b" UID"), first)

        self.chg.store("1,3", "+FLAGS", "(\\Seen)")
        self.assertEqual(self.updates(),
                         [b'(TAG "%s") UID ADDTO (1 1,3)' % tag.encode()])
        self.chg.store("1", "-FLAGS", "(\\Seen)")
        self.assertEqual(self.updates(),
                         [b'(TAG "%s") UID REMOVEFROM (1 1)' % tag.encode()])
        self.chg.append("Ctx", "(\\Seen)", None, b"Subject: new\r\n\r\nx\r\n")
        self.assertEqual(self.updates(),
                         [b'(TAG "%s") UID ADDTO (2 4)' % tag.encode()])
        self.chg.store("3", "+FLAGS", "(\\Deleted)")
        self.chg.expunge()
        self.assertEqual(self.updates(),
                         [b'(TAG "%s") UID REMOVEFROM (1 3)' % tag.encode()])

        # CANCELUPDATE: no more updates; unknown now
        self.assertEqual(self.obs._simple_command(
            "CANCELUPDATE", '"%s"' % tag)[0], "OK")
        self.chg.store("1", "+FLAGS", "(\\Seen)")
        self.assertEqual(self.updates(), [])
        with self.assertRaises(imaplib.IMAP4.error):
            self.obs._simple_command("CANCELUPDATE", '"%s"' % tag)
        self.assertEqual(self.obs.noop()[0], "OK")

    def test_partial(self):
        typ, _ = self.obs._simple_command("SEARCH", "RETURN",
                                          "(PARTIAL 3:2)", "ALL")
        self.assertEqual(typ, "OK")
        got = self.obs.untagged_responses.pop("ESEARCH")
        self.assertTrue(got[0].endswith(b" PARTIAL (2:3 2:3)"), got)
        # SEARCHRES: with PARTIAL, "$" is the page (RFC 9394 3.1)
        typ, _ = self.obs._simple_command("UID", "SEARCH", "RETURN",
                                          "(SAVE PARTIAL 1:2)", "ALL")
        self.assertEqual(typ, "OK")
        self.obs.untagged_responses.pop("ESEARCH", None)
        typ, data = self.obs.fetch("$", "(UID)")
        self.assertEqual(typ, "OK")
        self.assertEqual(data, [b"1 (UID 1)", b"2 (UID 2)"])

    def test_noupdate_over_the_limit(self):
        """A fifth context: RFC 5267 4.2's untagged NO [NOUPDATE "tag"],
        the result all the same, tagged OK; no updates come for it."""
        for i in range(4):
            typ, _ = self.obs._simple_command("SEARCH", "RETURN",
                                              "(UPDATE ALL)", "ALL")
            self.assertEqual(typ, "OK")
        self.obs.untagged_responses.clear()
        typ, _ = self.obs._simple_command("SEARCH", "RETURN",
                                          "(UPDATE ALL)", "ALL")
        self.assertEqual(typ, "OK")
        no = self.obs.untagged_responses.pop("NO")
        self.assertEqual(len(no), 1)
        self.assertTrue(no[0].startswith(b'[NOUPDATE "'), no)
        tag = no[0].split(b'"')[1]
        got = self.obs.untagged_responses.pop("ESEARCH")
        self.assertEqual(got, [b'(TAG "%s") ALL 1:3' % tag])
        self.chg.store("1", "+FLAGS", "(\\Seen)")
        self.chg.append("Ctx", None, None, b"Subject: new\r\n\r\nx\r\n")
        self.assertNotIn(b'"%s"' % tag, b" ".join(self.updates()))
        with self.assertRaises(imaplib.IMAP4.error):
            self.obs._simple_command("CANCELUPDATE", '"%s"' % tag.decode())
        self.assertEqual(self.obs.noop()[0], "OK")

    def test_bad_input(self):
        for args in (("SEARCH", "RETURN", "(PARTIAL 1)", "ALL"),
                     ("SEARCH", "RETURN", "(PARTIAL 1:*)", "ALL"),
                     ("SEARCH", "RETURN", "(PARTIAL 0:1)", "ALL"),
                     ("CANCELUPDATE", '"nosuchtag"')):
            with self.assertRaises(imaplib.IMAP4.error):
                self.obs._simple_command(*args)
            self.assertEqual(self.obs.noop()[0], "OK")
        # no mailbox selected; imaplib would refuse to send it itself
        self.obs.close()
        self.obs.state = "SELECTED"
        with self.assertRaisesRegex(imaplib.IMAP4.error, "BAD"):
            self.obs._simple_command("SEARCH", "RETURN", "(UPDATE)", "ALL")
        with self.assertRaisesRegex(imaplib.IMAP4.error, "BAD"):
            self.obs._simple_command("CANCELUPDATE", '"x"')
        self.obs.state = "AUTH"
        self.assertEqual(self.obs.select("Ctx")[0], "OK")
        self.assertEqual(self.obs.search(None, "ALL")[1], [b"1 2 3"])


if __name__ == "__main__":
    unittest.main()
