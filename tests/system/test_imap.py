"""IMAP against a live `maillab serve` (issue 6): Python's imaplib (plain,
STARTTLS, IMAPS), curl, SMTP/POP3 -> IMAP updates, and bad inputs over a
real socket."""
import imaplib
import os
import poplib
import shutil
import smtplib
import socket
import subprocess
import time
import unittest

from fixture import Instance

MSG = (b"From: Alice <alice@lab.test>\r\n"
       b"To: bob@lab.test\r\n"
       b"Subject: hello imap\r\n"
       b"Date: Mon, 2 Feb 2026 10:00:00 +0000\r\n"
       b"Message-ID: <sys1@lab.test>\r\n"
       b"\r\n"
       b"a body with the word pineapple\r\n")


def recv_until(sock, marker, timeout=10):
    """Reads until `marker` has arrived (or EOF); linear in the size."""
    sock.settimeout(timeout)
    data = bytearray()
    while True:
        chunk = sock.recv(1 << 20)
        if not chunk:
            break
        start = max(0, len(data) - len(marker))
        data += chunk
        if data.find(marker, start) >= 0:
            break
    return bytes(data)


class ImapTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance.start()
        cls.pw = cls.inst.password("alice")

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()

    def tearDown(self):
        self.inst.assert_alive()

    def login(self):
        m = imaplib.IMAP4(self.inst.host, self.inst.port("imap"))
        m.login("alice", self.pw)
        return m

    def test_capability_and_login(self):
        m = imaplib.IMAP4(self.inst.host, self.inst.port("imap"))
        self.assertIn("IMAP4REV1", m.capabilities)
        self.assertIn("STARTTLS", m.capabilities)
        self.assertIn("AUTH=PLAIN", m.capabilities)
        with self.assertRaises(imaplib.IMAP4.error):
            m.login("alice", "wrong")
        typ, _ = m.login("alice@lab.test", self.pw)
        self.assertEqual(typ, "OK")
        self.assertEqual(m.logout()[0], "BYE")
        # a password sent as a literal and through SASL never reaches a trace
        m = imaplib.IMAP4(self.inst.host, self.inst.port("imap"))
        m.literal = self.pw.encode()
        self.assertEqual(m._simple_command("LOGIN", "alice")[0], "OK")
        m.logout()
        m = imaplib.IMAP4(self.inst.host, self.inst.port("imap"))
        answers = iter([b"alice", self.pw.encode()])
        self.assertEqual(m.authenticate("LOGIN",
                                        lambda challenge: next(answers))[0], "OK")
        m.logout()
        traces = self.inst.traces()
        self.assertTrue(any(n.startswith("imap") for n in traces), traces.keys())
        for name, text in traces.items():
            self.assertNotIn(self.pw, text, name)

    def test_starttls_and_imaps(self):
        m = imaplib.IMAP4(self.inst.host, self.inst.port("imap"))
        m.starttls(ssl_context=self.inst.tls_context())
        typ, caps = m.capability()
        self.assertNotIn(b"STARTTLS", caps[0])
        m.authenticate("PLAIN", lambda _: b"\0alice\0" + self.pw.encode())
        self.assertEqual(m.select("INBOX")[0], "OK")
        m.logout()
        s = imaplib.IMAP4_SSL(self.inst.host, self.inst.port("imaps"),
                              ssl_context=self.inst.tls_context())
        s.login("alice", self.pw)
        self.assertEqual(s.list()[0], "OK")
        s.logout()

    def test_append_fetch_store_search_expunge(self):
        m = self.login()
        m.create("Sys")
        typ, data = m.append("Sys", r"(\Flagged)", None, MSG)
        self.assertEqual(typ, "OK")
        typ, data = m.select("Sys")
        self.assertEqual(data, [b"1"])
        typ, data = m.fetch("1", "(RFC822.SIZE FLAGS BODY.PEEK[])")
        self.assertEqual(data[0][1], MSG)
        self.assertIn(b"RFC822.SIZE %d" % len(MSG), data[0][0])
        self.assertIn(b"\\Flagged", data[0][0])
        typ, data = m.fetch("1", "(ENVELOPE BODYSTRUCTURE)")
        self.assertIn(b'"hello imap"', data[0])
        self.assertIn(b'("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" %d 1 '
                      % (len(MSG) - MSG.index(b"\r\n\r\n") - 4), data[0])
        typ, data = m.uid("FETCH", "1:*", "(BODY[HEADER.FIELDS (Subject)])")
        self.assertEqual(data[0][1], b"Subject: hello imap\r\n\r\n")
        typ, data = m.fetch("1", "FLAGS")
        self.assertIn(b"\\Seen", data[0])
        self.assertEqual(m.search(None, "BODY", "pineapple")[1], [b"1"])
        self.assertEqual(m.search(None, "SUBJECT", "nothing")[1], [b""])
        self.assertEqual(m.uid("SEARCH", "FROM", "alice")[1], [b"1"])
        m.store("1", "+FLAGS", r"(\Deleted)")
        typ, data = m.expunge()
        self.assertEqual(data, [b"1"])
        m.close()
        m.delete("Sys")
        m.logout()

    def test_folders(self):
        m = self.login()
        self.assertEqual(m.create("A/B/C")[0], "OK")
        typ, data = m.list('""', "A/*")
        self.assertIn(b'(\\HasChildren) "/" A/B', data)
        self.assertEqual(m.rename("A", "Z")[0], "OK")
        self.assertEqual(m.subscribe("Z/B")[0], "OK")
        typ, data = m.lsub('""', "Z/*")
        self.assertIn(b'() "/" Z/B', data)
        typ, data = m.status("Z/B/C", "(MESSAGES UIDNEXT)")
        self.assertIn(b"MESSAGES 0", data[0])
        self.assertEqual(m.create("x..y")[0], "NO")
        self.assertEqual(m.delete("Z/B/C")[0], "OK")
        m.logout()

    def test_copy_and_trycreate(self):
        m = self.login()
        m.create("Src")
        m.append("Src", None, None, MSG)
        m.select("Src")
        self.assertEqual(m.copy("1", "Trash")[0], "OK")
        typ, data = m.copy("1", "NoSuchFolder")
        self.assertEqual(typ, "NO")
        self.assertIn(b"TRYCREATE", data[0])
        m.close()
        m.logout()

    def test_smtp_delivery_shows_as_exists(self):
        m = self.login()
        typ, data = m.select("INBOX")
        before = int(data[0])
        with smtplib.SMTP(self.inst.host, self.inst.port("smtp")) as s:
            s.sendmail("x@example.org", ["alice@lab.test"], MSG)
        deadline = time.time() + 10
        exists = None
        while time.time() < deadline:
            m.noop()
            exists = m.response("EXISTS")[1][-1]
            if exists is not None:
                break
            time.sleep(0.2)
        self.assertEqual(exists, b"%d" % (before + 1))
        m.logout()

    def test_pop3_dele_shows_as_expunge(self):
        m = self.login()
        m.create("Pop")
        m.append("INBOX", None, None, MSG)
        m.select("INBOX")
        n = int(m.response("EXISTS")[1][-1] or b"0")
        p = poplib.POP3(self.inst.host, self.inst.port("pop3"))
        p.user("alice")
        p.pass_(self.pw)
        count = p.stat()[0]
        p.dele(count)
        p.quit()
        typ, data = m.noop()
        self.assertEqual(m.response("EXPUNGE")[1][-1], b"%d" % n)
        m.logout()

    def test_flags_between_sessions(self):
        a, b = self.login(), self.login()
        a.append("INBOX", None, None, MSG)
        a.select("INBOX")
        b.select("INBOX")
        n = a.response("EXISTS")[1][-1].decode()
        a.store(n, "+FLAGS", r"(\Answered)")
        b.noop()
        data = b.response("FETCH")[1]
        self.assertTrue(any(b"FLAGS (\\Answered" in d for d in data if d),
                        data)
        a.logout()
        b.logout()

    def test_bad_input(self):
        m = self.login()
        m.create("Bad")
        m.append("Bad", None, None, MSG)
        m.logout()
        s = socket.create_connection((self.inst.host, self.inst.port("imap")))
        recv_until(s, b"\r\n")
        s.sendall(b"a" * 70000 + b"\r\nb NOOP\r\n")
        out = recv_until(s, b"b OK")
        self.assertIn(b"* BAD", out)
        s.sendall(b"c LOGIN alice {99999999}\r\n")
        self.assertIn(b"c NO [TOOBIG]", recv_until(s, b"c "))
        s.sendall(b"d SELECT INBOX\r\n")
        self.assertIn(b"d BAD", recv_until(s, b"d "))
        s.sendall(b"e LOGIN \"alice\r\n")
        self.assertIn(b"e BAD", recv_until(s, b"e "))
        s.sendall(b"".join(b"p%d NOOP\r\n" % i for i in range(10000)))
        out = recv_until(s, b"p9999 OK", timeout=30)
        self.assertEqual(out.count(b" OK NOOP completed"), 10000)
        s.sendall(b"f LOGIN alice " + self.pw.encode() + b"\r\n")
        recv_until(s, b"f OK")
        s.sendall(b"g SELECT Bad\r\ng2 FETCH 0 FLAGS\r\ng3 FETCH 4294967296 FLAGS\r\n"
                  b"g4 FETCH 1:* BODY[99.99]\r\ng5 FETCH 1 BODY[]<4294967295.10>\r\n")
        out = recv_until(s, b"g5 ")
        self.assertIn(b"g2 BAD", out)
        self.assertIn(b"g3 BAD", out)
        self.assertIn(b"g4 OK", out)
        s.sendall(b"h LOGOUT\r\n")
        self.assertIn(b"h OK", recv_until(s, b"h OK"))
        s.close()

    def rss_anon_kib(self):
        with open("/proc/%d/status" % self.inst.proc.pid) as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])
        return 0

    def test_client_stops_reading_big_fetch(self):
        big = b"Subject: big\r\n\r\n" + (b"x" * 78 + b"\r\n") * (300 * 1024)
        m = self.login()
        m.create("Big")
        m.append("Big", None, None, big)
        m.logout()
        s = socket.create_connection((self.inst.host, self.inst.port("imap")))
        recv_until(s, b"\r\n")
        s.sendall(b"a LOGIN alice " + self.pw.encode() + b"\r\nb SELECT Big\r\n")
        recv_until(s, b"b OK")
        before = self.rss_anon_kib()
        # the client stops reading: the server must hold only a bounded
        # amount of the 24 MiB message (back-pressure)
        s.sendall(b"c FETCH 1 BODY.PEEK[]\r\n")
        time.sleep(1.5)
        self.inst.assert_alive()
        grown = self.rss_anon_kib() - before
        self.assertLess(grown, 8 * 1024, "server grew by %d KiB" % grown)
        # a second client is served meanwhile
        m = self.login()
        self.assertEqual(m.noop()[0], "OK")
        m.logout()
        got = recv_until(s, b"c OK", timeout=30)
        self.assertIn(b"{%d}\r\n" % len(big), got)
        self.assertIn(big, got)
        s.close()

    @unittest.skipUnless(shutil.which("curl"), "curl not installed")
    def test_curl(self):
        m = self.login()
        m.create("Curl")
        m.append("Curl", None, None, MSG)
        m.logout()
        url = "imap://%s:%d/" % (self.inst.host, self.inst.port("imap"))
        user = "alice:" + self.pw
        out = subprocess.run(["curl", "-s", "-u", user, url],
                             capture_output=True, timeout=30)
        self.assertIn(b"Curl", out.stdout)
        out = subprocess.run(["curl", "-s", "-u", user, url + "Curl;UID=1"],
                             capture_output=True, timeout=30)
        self.assertEqual(out.stdout, MSG)
        out = subprocess.run(["curl", "-s", "-u", user, url + "Curl?BODY%20pineapple"],
                             capture_output=True, timeout=30)
        self.assertIn(b"SEARCH 1", out.stdout)


if __name__ == "__main__":
    unittest.main()
