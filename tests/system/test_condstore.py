"""CONDSTORE and QRESYNC (RFC 7162, issue 11) against a live `maillab
serve`, with Python's imaplib: one session changes flags and expunges, the
other comes back with SELECT ... (QRESYNC (...)) and gets exactly those
changes; POP3 and an external rename bump modseqs too; bad modseq input is
refused and the server keeps serving."""
import imaplib
import os
import poplib
import re
import smtplib
import unittest

from fixture import Instance

MSG = (b"From: Alice <alice@lab.test>\r\n"
       b"To: alice@lab.test\r\n"
       b"Subject: condstore %d\r\n"
       b"\r\n"
       b"body %d\r\n")


def ok_codes(m, code):
    """The values of untagged "* OK [CODE value]" seen so far."""
    out = []
    for item in m.untagged_responses.get("OK", []):
        g = re.match(rb"\[%s (\d+)\]" % code.encode(), item)
        if g:
            out.append(int(g.group(1)))
    return out


def fetches(m, data=None):
    """{uid: (flags, modseq)} of the untagged FETCH responses so far (or
    of `data`, what imaplib returned for a FETCH)."""
    out = {}
    if data is None:
        data = m.untagged_responses.pop("FETCH", [])
    for item in data:
        if item is None:
            continue
        if isinstance(item, tuple):
            item = item[0]
        uid = re.search(rb"UID (\d+)", item)
        flags = re.search(rb"FLAGS \(([^)]*)\)", item)
        modseq = re.search(rb"MODSEQ \((\d+)\)", item)
        if uid:
            out[int(uid.group(1))] = (
                set(flags.group(1).split()) if flags else None,
                int(modseq.group(1)) if modseq else None)
    return out


class CondstoreTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()

    def tearDown(self):
        self.inst.assert_alive()
        self.assert_normal_client()

    def login(self):
        m = imaplib.IMAP4(self.inst.host, self.inst.port("imap"))
        m.login("alice", self.inst.password("alice"))
        # imaplib reads the capabilities only at connect time
        m.capabilities = tuple(m.capability()[1][0].decode().upper().split())
        return m

    def assert_normal_client(self):
        m = self.login()
        self.assertEqual(m.select("INBOX")[0], "OK")
        self.assertEqual(m.noop()[0], "OK")
        m.logout()

    def select_params(self, m, box, params):
        """SELECT with select-params (imaplib has no way to send them)."""
        m.untagged_responses.clear()
        typ, data = m._simple_command("SELECT", box, params)
        if typ == "OK":
            m.state = "SELECTED"
        return typ, data

    def fill(self, box, n):
        m = self.login()
        m.create(box)
        for i in range(1, n + 1):
            self.assertEqual(m.append(box, None, None, MSG % (i, i))[0], "OK")
        m.logout()

    def test_qresync_gets_exactly_the_changes(self):
        self.fill("Sync", 6)
        # the "phone": remembers UIDVALIDITY and HIGHESTMODSEQ
        a = self.login()
        self.assertIn("QRESYNC", a.capabilities)
        self.assertEqual(a.enable("QRESYNC")[0], "OK")
        self.assertEqual(a.untagged_responses.pop("ENABLED"), [b"QRESYNC"])
        self.assertEqual(self.select_params(a, "Sync", "(CONDSTORE)")[0], "OK")
        uidvalidity = int(a.untagged_responses["UIDVALIDITY"][0])
        seen = ok_codes(a, "HIGHESTMODSEQ")
        self.assertEqual(len(seen), 1)
        hms = seen[0]
        a.logout()

        # the "desktop" changes flags and expunges meanwhile
        b = self.login()
        b.select("Sync")
        b.uid("STORE", "2", "+FLAGS", r"(\Flagged)")
        b.uid("STORE", "4", "+FLAGS", "($Work)")
        b.uid("STORE", "3,5", "+FLAGS.SILENT", r"(\Deleted)")
        self.assertEqual(b.expunge()[0], "OK")
        b.append("Sync", r"(\Seen)", None, MSG % (7, 7))
        b.logout()

        a = self.login()
        a.enable("QRESYNC")
        typ, _ = self.select_params(
            a, "Sync", "(QRESYNC (%d %d))" % (uidvalidity, hms))
        self.assertEqual(typ, "OK")
        self.assertEqual(a.untagged_responses.pop("VANISHED"),
                         [b"(EARLIER) 3,5"])
        got = fetches(a)
        self.assertEqual(sorted(got), [2, 4, 7])
        self.assertIn(b"\\Flagged", got[2][0])
        self.assertIn(b"$Work", got[4][0])
        self.assertIn(b"\\Seen", got[7][0])
        new_hms = ok_codes(a, "HIGHESTMODSEQ")[0]
        self.assertGreater(new_hms, hms)
        for uid, (_, modseq) in got.items():
            self.assertGreater(modseq, hms)
            self.assertLessEqual(modseq, new_hms)
        # known UIDs narrow both the VANISHED and the FETCH answers
        typ, _ = self.select_params(
            a, "Sync", "(QRESYNC (%d %d 1:3))" % (uidvalidity, hms))
        self.assertEqual(a.untagged_responses.pop("VANISHED"),
                         [b"(EARLIER) 3"])
        self.assertEqual(sorted(fetches(a)), [2])
        self.assertTrue(any(b"[CLOSED]" in r
                            for r in a.untagged_responses.get("OK", [])))
        # the same through UID FETCH ... (CHANGEDSINCE ... VANISHED)
        a.untagged_responses.clear()
        typ, data = a.uid("FETCH", "1:*",
                          "(FLAGS) (CHANGEDSINCE %d VANISHED)" % hms)
        self.assertEqual(typ, "OK")
        self.assertEqual(a.untagged_responses.pop("VANISHED"),
                         [b"(EARLIER) 3,5"])
        self.assertEqual(sorted(fetches(a, data)), [2, 4, 7])
        # nothing changed since the new HIGHESTMODSEQ
        a.untagged_responses.clear()
        typ, data = a.uid("FETCH", "1:*",
                          "(FLAGS) (CHANGEDSINCE %d VANISHED)" % new_hms)
        self.assertEqual(typ, "OK")
        self.assertNotIn("VANISHED", a.untagged_responses)
        self.assertEqual(fetches(a, data), {})

        # while selected: VANISHED instead of EXPUNGE, MODSEQ in FETCH
        b = self.login()
        b.select("Sync")
        b.uid("STORE", "1", "+FLAGS.SILENT", r"(\Deleted)")
        b.expunge()
        b.uid("STORE", "6", "+FLAGS.SILENT", r"(\Answered)")
        b.logout()
        a.untagged_responses.clear()
        a.noop()
        self.assertEqual(a.untagged_responses.pop("VANISHED"), [b"1"])
        self.assertNotIn("EXPUNGE", a.untagged_responses)
        got = fetches(a)
        self.assertEqual(list(got), [6])
        self.assertIsNotNone(got[6][1])
        a.logout()

    def test_unchangedsince_and_search(self):
        self.fill("Cond", 3)
        a = self.login()
        self.select_params(a, "Cond", "(CONDSTORE)")
        hms = ok_codes(a, "HIGHESTMODSEQ")[0]
        b = self.login()
        b.select("Cond")
        b.store("1", "+FLAGS", r"(\Seen)")
        b.logout()
        # message 1 changed after hms: left alone, reported in [MODIFIED]
        typ, data = a.store("1:3", "(UNCHANGEDSINCE %d) +FLAGS" % hms,
                            r"(\Flagged)")
        self.assertEqual(typ, "OK")
        # imaplib files the tagged OK's response code under its name
        self.assertEqual(a.untagged_responses.pop("MODIFIED"), [b"1"])
        # 2 and 3 stored; 1 is b's change, told at the STORE's end (RFC
        # 3501 7.4.1 keeps only EXPUNGE from it), not flagged
        self.assertEqual(sorted(int(d.split()[0]) for d in data), [1, 2, 3])
        one = [d for d in data if d.startswith(b"1 ")][0]
        self.assertIn(rb"\Seen", one)
        self.assertNotIn(rb"\Flagged", one)
        a.noop()
        typ, data = a.search(None, "MODSEQ", str(hms + 1))
        self.assertEqual(typ, "OK")
        self.assertTrue(re.match(rb"^1 2 3 \(MODSEQ \d+\)$", data[0]),
                        data[0])
        typ, data = a.status("Cond", "(HIGHESTMODSEQ)")
        self.assertTrue(re.search(rb"HIGHESTMODSEQ (\d+)", data[0]))
        a.logout()

    def test_pop3_and_external_changes_bump_modseq(self):
        # INBOX over POP3: RETR sets \Seen, DELE expunges at QUIT
        with smtplib.SMTP(self.inst.host, self.inst.port("smtp")) as c:
            for i in range(2):
                c.sendmail("bob@example.org", ["alice@lab.test"],
                           MSG % (i, i))
        a = self.login()
        a.enable("QRESYNC")
        self.select_params(a, "INBOX", "(CONDSTORE)")
        uidvalidity = int(a.untagged_responses["UIDVALIDITY"][0])
        hms = ok_codes(a, "HIGHESTMODSEQ")[0]
        typ, data = a.uid("SEARCH", "ALL")
        uids = [int(u) for u in data[0].split()]
        a.logout()
        p = poplib.POP3(self.inst.host, self.inst.port("pop3"))
        p.user("alice")
        p.pass_(self.inst.password("alice"))
        count = len(p.list()[1])
        p.retr(count - 1)
        p.dele(count)
        p.quit()
        # another program renames a file: a flag letter added
        cur = os.path.join(self.inst.maildir("alice"), "cur")
        first = sorted(f for f in os.listdir(cur))[0]
        os.rename(os.path.join(cur, first), os.path.join(cur, first + "F"))
        a = self.login()
        a.enable("QRESYNC")
        self.select_params(a, "INBOX",
                           "(QRESYNC (%d %d))" % (uidvalidity, hms))
        self.assertEqual(a.untagged_responses.pop("VANISHED"),
                         [b"(EARLIER) %d" % uids[-1]])
        got = fetches(a)
        self.assertIn(uids[-2], got)
        self.assertIn(b"\\Seen", got[uids[-2]][0])
        flagged = [u for u, (f, _) in got.items() if b"\\Flagged" in f]
        self.assertEqual(len(flagged), 1)
        a.logout()

    def test_bad_input(self):
        self.fill("Bad", 2)
        a = self.login()
        # QRESYNC without ENABLE QRESYNC: BAD
        with self.assertRaises(imaplib.IMAP4.error):
            self.select_params(a, "Bad", "(QRESYNC (1 1))")
        a.select("Bad")
        uidvalidity = int(a.untagged_responses["UIDVALIDITY"][0])
        for cmd in ("FETCH 1 (FLAGS) (CHANGEDSINCE 0)",
                    "FETCH 1 (FLAGS) (CHANGEDSINCE 9223372036854775808)",
                    "FETCH 1 (FLAGS) (CHANGEDSINCE 18446744073709551617)",
                    "STORE 1 (UNCHANGEDSINCE 9223372036854775808) "
                    "+FLAGS (\\Seen)",
                    "SEARCH MODSEQ 99999999999999999999"):
            name, args = cmd.split(" ", 1)
            with self.assertRaises(imaplib.IMAP4.error, msg=cmd):
                a._simple_command(name, args)
            self.assertEqual(a.noop()[0], "OK")
        typ, _ = a._simple_command(
            "FETCH", "1 (FLAGS) (CHANGEDSINCE 9223372036854775807)")
        self.assertEqual(typ, "OK")
        a.unselect()  # imaplib sends ENABLE only when nothing is selected
        a.enable("QRESYNC")
        # a wrong UIDVALIDITY: a normal SELECT, no VANISHED, no FETCH
        typ, _ = self.select_params(
            a, "Bad", "(QRESYNC (%d 1 1:10))" % (uidvalidity + 1))
        self.assertEqual(typ, "OK")
        self.assertNotIn("VANISHED", a.untagged_responses)
        self.assertNotIn("FETCH", a.untagged_responses)
        for params in ("(QRESYNC (%d 1 1:*))", "(QRESYNC (%d 0))",
                       "(QRESYNC (%d 1 1:2 (1:2 1)))", "(QRESYNC (%d))",
                       "(QRESYNC (%d 1 1:2 (1:2 1:2))"):
            with self.assertRaises(imaplib.IMAP4.error, msg=params):
                self.select_params(a, "Bad", params % uidvalidity)
            self.assertEqual(a.noop()[0], "OK")
        a.logout()


if __name__ == "__main__":
    unittest.main()
