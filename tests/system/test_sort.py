"""SORT, THREAD (RFC 5256), SORT=DISPLAY (RFC 5957), ESEARCH (RFC 4731),
SEARCHRES (RFC 5182), ESORT (RFC 5267 3) and SEARCH on parsed addresses
against a live `maillab serve`, driven by Python's imaplib and a raw socket,
with bad input to each (the session keeps serving)."""
import imaplib
import socket
import unittest

from fixture import Instance, recv_until

# (internal date, message): a conversation, a reply to a lost message,
# an unrelated one with an address hidden by comments
MESSAGES = [
    ('"22-Feb-2008 10:00:00 +0000"',
     b"Message-ID: <1@lab.test>\r\nFrom: Zed <zed@lab.test>\r\n"
     b"To: bob@lab.test\r\nSubject: Lunch\r\n"
     b"Date: Fri, 22 Feb 2008 10:00:00 +0000\r\n\r\nNoon?\r\n"),
    ('"22-Feb-2008 12:00:00 +0000"',
     b"Message-ID: <2@lab.test>\r\nReferences: <1@lab.test>\r\n"
     b"From: adam@lab.test\r\nTo: zed@lab.test\r\n"
     b"Subject: Re: [team] lunch\r\n"
     b"Date: Fri, 22 Feb 2008 11:00:00 +0000\r\n\r\nYes.\r\n"),
    ('"22-Feb-2008 09:00:00 +0000"',
     b"Message-ID: <3@lab.test>\r\nIn-Reply-To: <2@lab.test>\r\n"
     b"From: =?utf-8?q?=C3=89mile?= <emile@lab.test>\r\n"
     b"Subject: Fwd: Re: lunch (fwd)\r\n\r\nMe too, a longer body.\r\n"),
    ('"22-Feb-2008 08:00:00 +0000"',
     b"Message-ID: <4@lab.test>\r\nReferences: <lost@lab.test>\r\n"
     b"From: <user-from (comment)@ (comment) domain.org>\r\n"
     b"Subject: Re: budget\r\n\r\nx\r\n"),
]


class SortTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance.start()
        cls.pw = cls.inst.password("alice")
        m = cls.login_as()
        m.create("Sort")
        for date, msg in MESSAGES:
            typ, _ = m.append("Sort", None, date, msg)
            assert typ == "OK"
        m.logout()

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()

    @classmethod
    def login_as(cls):
        m = imaplib.IMAP4(cls.inst.host, cls.inst.port("imap"))
        m.login("alice", cls.pw)
        return m

    def setUp(self):
        self.m = self.login_as()
        self.assertEqual(self.m.select("Sort")[0], "OK")

    def tearDown(self):
        self.m.logout()
        self.inst.assert_alive()

    def assert_still_serving(self):
        self.assertEqual(self.m.noop()[0], "OK")
        self.assertEqual(self.m.sort("(ARRIVAL)", "UTF-8", "ALL")[1],
                         [b"4 3 1 2"])

    def esearch(self, *args):
        typ, data = self.m._simple_command(*args)
        self.assertEqual(typ, "OK")
        return self.m._untagged_response(typ, data, "ESEARCH")[1]

    def test_capabilities(self):
        caps = self.m.capability()[1][0].decode().upper().split()
        for cap in ("SORT", "SORT=DISPLAY", "THREAD=ORDEREDSUBJECT",
                    "THREAD=REFERENCES", "ESEARCH", "SEARCHRES", "ESORT"):
            self.assertIn(cap, caps)
        self.assertIn("CONTEXT=SEARCH", caps)
        self.assertIn("CONTEXT=SORT", caps)

    def test_sort(self):
        m = self.m
        # base subjects: BUDGET, LUNCH x3 (by number among equals); 3 has
        # no Date:, so its arrival (09:00) is its date
        self.assertEqual(m.sort("(SUBJECT)", "UTF-8", "ALL")[1], [b"4 1 2 3"])
        self.assertEqual(m.sort("(SUBJECT REVERSE DATE)", "UTF-8", "ALL")[1],
                         [b"4 2 1 3"])
        self.assertEqual(m.sort("(REVERSE ARRIVAL)", "US-ASCII", "ALL")[1],
                         [b"2 1 3 4"])
        # DATE: 3 and 4 have no Date:, their arrival stands in
        self.assertEqual(m.sort("(DATE)", "UTF-8", "ALL")[1], [b"4 3 1 2"])
        sizes = {}
        for line in m.fetch("1:*", "(RFC822.SIZE)")[1]:
            seq, _, size = line.decode().strip(")").split()
            sizes[int(seq)] = int(size)
        by_size = sorted(sizes, key=lambda n: (sizes[n], n))
        self.assertEqual(m.sort("(SIZE)", "UTF-8", "ALL")[1],
                         [" ".join(map(str, by_size)).encode()])
        self.assertEqual(m.sort("(FROM)", "UTF-8", "ALL")[1], [b"2 3 4 1"])
        self.assertEqual(m.sort("(DISPLAYFROM)", "UTF-8", "ALL")[1],
                         [b"2 4 1 3"])
        self.assertEqual(m.sort("(TO)", "UTF-8", "NOT TO bob")[1], [b"3 4 2"])
        self.assertEqual(m.uid("SORT", "(SUBJECT)", "UTF-8", "1:*")[1],
                         [b"4 1 2 3"])
        self.assertEqual(m.sort("(SUBJECT)", "UTF-8", "DELETED")[1], [b""])

    def test_thread(self):
        m = self.m
        self.assertEqual(m.thread("REFERENCES", "UTF-8", "ALL")[1],
                         [b"(4)(1 2 3)"])
        self.assertEqual(m.thread("ORDEREDSUBJECT", "UTF-8", "ALL")[1],
                         [b"(4)(3 (1)(2))"])
        uids = m.uid("SEARCH", "ALL")[1][0].split()
        want = "(%s)(%s %s %s)" % (uids[3].decode(), uids[0].decode(),
                                   uids[1].decode(), uids[2].decode())
        self.assertEqual(m.uid("THREAD", "REFERENCES", "UTF-8", "ALL")[1],
                         [want.encode()])

    def test_search_addresses(self):
        m = self.m
        # the comments inside the address no longer hide it
        self.assertEqual(m.search(None, "FROM", "user-from@domain.org")[1],
                         [b"4"])
        # the display name, decoded, and substrings of the address
        m.literal = "\xc9mile <emile@".encode("utf-8")
        self.assertEqual(m.search("UTF-8", "FROM")[1], [b"3"])
        self.assertEqual(m.search(None, "FROM", "zed")[1], [b"1"])
        self.assertEqual(m.search(None, "FROM", "comment")[1], [b""])

    def esearch(self, command):
        """The ESEARCH data of a command, without its (TAG "...")."""
        typ, data = self.m._simple_command(*command.split(" ", 1))
        self.assertEqual(typ, "OK", data)
        lines = self.m.untagged_responses.pop("ESEARCH", [])
        self.assertEqual(len(lines), 1, lines)
        tag, _, rest = lines[0].partition(b")")
        self.assertTrue(tag.startswith(b'(TAG "'), lines)
        return rest.strip()

    def test_esearch(self):
        self.assertEqual(self.esearch("SEARCH RETURN (MIN MAX COUNT) "
                                      "SUBJECT lunch"), b"MIN 1 MAX 3 COUNT 3")
        self.assertEqual(self.esearch("SEARCH RETURN () NOT FROM adam"),
                         b"ALL 1,3:4")
        uids = [int(u) for u in self.m.uid("SEARCH", "ALL")[1][0].split()]
        self.assertEqual(self.esearch("UID SEARCH RETURN (COUNT) ALL"),
                         b"UID COUNT 4")
        self.assertEqual(self.esearch("UID SEARCH RETURN (MAX) ALL"),
                         b"UID MAX %d" % uids[-1])
        self.assertEqual(self.esearch("SEARCH RETURN (MIN MAX) DELETED"), b"")

    def test_esort(self):
        self.assertEqual(self.esearch("SORT RETURN (ALL COUNT) (SUBJECT) "
                                      "UTF-8 ALL"), b"ALL 4,1:3 COUNT 4")
        self.assertEqual(self.esearch("SORT RETURN (MIN MAX) (REVERSE ARRIVAL)"
                                      " UTF-8 ALL"), b"MIN 2 MAX 4")

    def test_searchres(self):
        m = self.m
        # "$" before any SAVE is empty
        typ, data = m.fetch("$", "(UID)")
        self.assertEqual((typ, data), ("OK", [None]))
        typ, data = m._simple_command("SEARCH", "RETURN (SAVE) SUBJECT lunch")
        self.assertEqual(typ, "OK")
        self.assertNotIn("ESEARCH", m.untagged_responses)
        typ, data = m.fetch("$", "(FLAGS)")
        self.assertEqual(len(data), 3)
        self.assertEqual(m.store("$", "+FLAGS", "(\\Flagged)")[0], "OK")
        self.assertEqual(m.search(None, "FLAGGED")[1], [b"1 2 3"])
        uids = m.uid("SEARCH", "ALL")[1][0].split()
        self.assertEqual(m.uid("SEARCH", "$", "FROM", "adam")[1], [uids[1]])
        self.assertEqual(m.sort("(REVERSE ARRIVAL)", "UTF-8", "$")[1],
                         [b"2 1 3"])
        self.assertEqual(m.store("1:*", "-FLAGS", "(\\Flagged)")[0], "OK")
        # a failed SEARCH with SAVE empties it (RFC 5182 2.1)
        typ, data = m._simple_command("SEARCH",
                                      "RETURN (SAVE) CHARSET KOI8-R ALL")
        self.assertEqual(typ, "NO")
        self.assertIn(b"[BADCHARSET", data[-1])
        self.assertEqual(m.search(None, "$")[1], [b""])

    def test_bad_input(self):
        m = self.m
        for args in (("(NAME)", "UTF-8", "ALL"), ("(SUBJECT)", "ALL"),
                     ("(REVERSE)", "UTF-8", "ALL")):
            with self.assertRaises(imaplib.IMAP4.error):
                m.sort(*args)
            self.assert_still_serving()
        typ, data = m.sort("(SUBJECT)", "KOI8-R", "ALL")
        self.assertEqual(typ, "NO")
        self.assertIn(b"[BADCHARSET (UTF-8 US-ASCII)]", data[-1])
        self.assert_still_serving()
        with self.assertRaises(imaplib.IMAP4.error):
            m.thread("JWZ", "UTF-8", "ALL")
        self.assert_still_serving()
        for cmd in ("RETURN (MIN ALL", "RETURN (BOGUS) ALL", "RETURN MIN ALL",
                    "$,1"):
            with self.assertRaises(imaplib.IMAP4.error):
                m._simple_command("SEARCH", cmd)
            self.assert_still_serving()


if __name__ == "__main__":
    unittest.main()
