"""CONTEXT=SORT (RFC 5267 4) against a live `maillab serve`: an imaplib
session keeps a SORT RETURN (UPDATE) context on INBOX while mail arrives
over SMTP and another session expunges; the ADDTO/REMOVEFROM updates
carry positions in the sort order.  SORT RETURN (PARTIAL) and bad input
(the session keeps serving)."""
import imaplib
import smtplib
import unittest

from fixture import Instance

imaplib.Commands.setdefault("CANCELUPDATE", ("SELECTED",))

MSG = (b"From: Bob <bob@example.org>\r\nTo: alice@lab.test\r\n"
       b"Subject: ctx %s\r\n\r\nbody\r\n")


def number_set(numbers):
    """numbers in their order, a range only where they ascend one by one
    (RFC 5267 3.2)."""
    out, i = [], 0
    while i < len(numbers):
        j = i
        while j + 1 < len(numbers) and numbers[j + 1] == numbers[j] + 1:
            j += 1
        out.append(str(numbers[i]) if i == j
                   else "%d:%d" % (numbers[i], numbers[j]))
        i = j + 1
    return ",".join(out).encode()


class SortContextTest(unittest.TestCase):
    def setUp(self):
        self.inst = Instance.start()
        pw = self.inst.password("alice")
        self.deliver("s", "m", "c")
        self.obs = imaplib.IMAP4(self.inst.host, self.inst.port("imap"))
        self.obs.login("alice", pw)
        self.chg = imaplib.IMAP4(self.inst.host, self.inst.port("imap"))
        self.chg.login("alice", pw)
        self.assertEqual(self.obs.select("INBOX")[0], "OK")
        self.assertEqual(self.chg.select("INBOX")[0], "OK")
        self.uids = self.ctx_uids()

    def tearDown(self):
        self.obs.logout()
        self.chg.logout()
        self.inst.assert_alive()
        self.inst.stop()

    def deliver(self, *subjects):
        with smtplib.SMTP(self.inst.host, self.inst.port("smtp")) as c:
            for s in subjects:
                c.sendmail("bob@example.org", ["alice@lab.test"],
                           MSG % s.encode())

    def ctx_uids(self):
        """The UIDs of the "ctx" messages, in delivery order."""
        typ, data = self.chg.uid("SEARCH", "SUBJECT", "ctx")
        self.assertEqual(typ, "OK")
        return [int(u) for u in data[0].split()]

    def esort(self, *args):
        self.obs.untagged_responses.pop("ESEARCH", None)
        typ, _ = self.obs._simple_command(*args)
        self.assertEqual(typ, "OK")
        return self.obs.untagged_responses.pop("ESEARCH")

    def updates(self):
        """The ESEARCH lines the observer gets at its next NOOP."""
        self.obs.untagged_responses.pop("ESEARCH", None)
        self.assertEqual(self.obs.noop()[0], "OK")
        return self.obs.untagged_responses.pop("ESEARCH", [])

    def test_updates_in_sort_order(self):
        self.assertIn(b"CONTEXT=SORT", self.obs.capability()[1][0].split())
        s, m, c = self.uids
        first = self.esort("UID", "SORT", "RETURN", "(UPDATE ALL)",
                           "(SUBJECT)", "UTF-8", "SUBJECT", "ctx")
        tag = first[0].split(b'"')[1]
        self.assertEqual(first, [b'(TAG "%s") UID ALL %d,%d,%d'
                                 % (tag, c, m, s)])
        # a delivery: "a" goes first, "d" between c and m
        self.deliver("d", "a")
        d, a = self.ctx_uids()[3:]
        self.assertEqual(self.updates(),
                         [b'(TAG "%s") UID ADDTO (1 %d 3 %d)' % (tag, a, d)])
        # an expunge by the other session: c (2nd), then m (3rd once c
        # is out)
        self.chg.uid("STORE", "%d,%d" % (c, m), "+FLAGS", "(\\Deleted)")
        self.assertEqual(self.chg.expunge()[0], "OK")
        self.assertEqual(self.updates(),
                         [b'(TAG "%s") UID REMOVEFROM (2 %d 3 %d)'
                          % (tag, c, m)])
        self.assertEqual(self.obs._simple_command(
            "CANCELUPDATE", '"%s"' % tag.decode())[0], "OK")
        self.deliver("b")
        self.assertEqual(self.updates(), [])

    def test_partial(self):
        s, m, c = self.uids
        got = self.esort("UID", "SORT", "RETURN", "(PARTIAL 3:2)",
                         "(SUBJECT)", "UTF-8", "SUBJECT", "ctx")
        self.assertTrue(got[0].endswith(b" UID PARTIAL (2:3 %d,%d)"
                                        % (m, s)), got)
        got = self.esort("UID", "SORT", "RETURN", "(PARTIAL 1:9)",
                         "(REVERSE SUBJECT)", "UTF-8", "SUBJECT", "ctx")
        self.assertTrue(got[0].endswith(b" UID PARTIAL (1:9 %s)"
                                        % number_set([s, m, c])), got)
        got = self.esort("SORT", "RETURN", "(PARTIAL 1:9)", "(SUBJECT)",
                         "UTF-8", "SUBJECT", "nothing-has-this")
        self.assertTrue(got[0].endswith(b" PARTIAL (1:9 NIL)"), got)

    def test_bad_input(self):
        for ret in ("(PARTIAL 1)", "(PARTIAL 1:*)", "(PARTIAL *:1)",
                    "(PARTIAL 0:1)", "(ALL PARTIAL 1:2)", "(UPDATE SAVE)"):
            with self.assertRaisesRegex(imaplib.IMAP4.error, "BAD"):
                self.obs._simple_command("SORT", "RETURN", ret,
                                         "(SUBJECT)", "UTF-8", "ALL")
            self.assertEqual(self.obs.noop()[0], "OK")
        with self.assertRaisesRegex(imaplib.IMAP4.error, "BAD"):
            self.obs._simple_command("CANCELUPDATE", '"nosuchtag"')
        typ, data = self.obs.sort("(SUBJECT)", "UTF-8", "SUBJECT", "ctx")
        self.assertEqual(typ, "OK")
        self.assertEqual(len(data[0].split()), 3)


if __name__ == "__main__":
    unittest.main()
