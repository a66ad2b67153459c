"""IMAP extensions against a live `maillab serve` (issue 11), driven by
Python's imaplib and raw sockets: ENABLE, ID, NAMESPACE, UNSELECT, CHILDREN,
LITERAL+, UIDPLUS, MOVE, IDLE (pushes from SMTP, POP3 and IMAP), and bad
input to them."""
import os
import poplib
import re
import smtplib
import sys
import time
import imaplib
import socket
import unittest

from fixture import Instance, recv_until

MSG = (b"From: Alice <alice@lab.test>\r\n"
       b"To: bob@lab.test\r\n"
       b"Subject: ext test\r\n"
       b"Message-ID: <ext1@lab.test>\r\n"
       b"\r\n"
       b"body\r\n")

AUTHED_CAPS = ["IMAP4REV1", "SASL-IR", "LITERAL+", "ID", "ENABLE", "IDLE",
               "NAMESPACE", "UNSELECT", "CHILDREN", "UIDPLUS", "MOVE"]


class ImapExtTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance.start()
        cls.pw = cls.inst.password("alice")

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()

    def tearDown(self):
        self.inst.assert_alive()
        self.assert_normal_client()

    def login(self, user="alice"):
        m = imaplib.IMAP4(self.inst.host, self.inst.port("imap"))
        m.login(user, self.inst.password(user))
        # imaplib reads the capabilities only at connect time
        m.capabilities = tuple(m.capability()[1][0].decode().upper().split())
        return m

    def assert_normal_client(self):
        """The server still serves an ordinary session."""
        m = self.login()
        self.assertEqual(m.select("INBOX")[0], "OK")
        self.assertEqual(m.noop()[0], "OK")
        m.logout()

    def raw(self):
        s = socket.create_connection((self.inst.host, self.inst.port("imap")))
        recv_until(s, b"\r\n")
        s.sendall(b"l LOGIN alice %s\r\n" % self.pw.encode())
        self.assertIn(b"l OK", recv_until(s, b"l "))
        return s

    def test_capabilities_after_login(self):
        m = imaplib.IMAP4(self.inst.host, self.inst.port("imap"))
        for cap in ("LITERAL+", "ID", "SASL-IR"):
            self.assertIn(cap, m.capabilities)
        m.login("alice", self.pw)
        typ, data = m.capability()
        caps = data[0].decode().upper().split()
        for cap in AUTHED_CAPS:
            self.assertIn(cap, caps)
        m.logout()

    def test_enable_id_namespace(self):
        m = self.login()
        typ, data = m.enable("X-UNKNOWN-EXTENSION")
        self.assertEqual(typ, "OK")
        # "* ENABLED" with nothing in it (RFC 5161 3.1)
        self.assertEqual(m.untagged_responses.pop("ENABLED"), [b""])
        typ, data = m.namespace()
        self.assertEqual(data, [b'(("" "/")) NIL NIL'])
        typ, data = m.xatom("ID", '("name" "imaplib" "version" "3")')
        self.assertEqual(typ, "OK")
        self.assertEqual(m.untagged_responses.pop("ID"), [b'("name" "maillab")'])
        m.logout()
        self.assertIn("client id: imaplib 3", self.inst.log())

    def test_unselect_keeps_deleted(self):
        m = self.login()
        m.create("Unsel")
        m.append("Unsel", r"(\Deleted)", None, MSG)
        m.select("Unsel")
        self.assertEqual(m.unselect()[0], "OK")
        self.assertEqual(m.status("Unsel", "(MESSAGES)")[1],
                         [b"Unsel (MESSAGES 1)"])
        with self.assertRaises(imaplib.IMAP4.error):
            m.fetch("1", "FLAGS")
        m.logout()

    def test_children(self):
        m = self.login()
        m.create("Par/Kid")
        typ, data = m.list('""', "Par*")
        self.assertIn(b'(\\HasChildren) "/" Par', data)
        self.assertIn(b'(\\HasNoChildren) "/" Par/Kid', data)
        m.logout()

    def test_literal_plus_and_bad_input(self):
        s = self.raw()
        # a non-synchronising literal: no "+", the command runs
        s.sendall(b"a SELECT {5+}\r\nINBOX\r\n")
        got = recv_until(s, b"a ")
        self.assertNotIn(b"+ Ready", got)
        self.assertIn(b"a OK [READ-WRITE]", recv_until(s, b"\r\n") if
                      b"a OK" not in got else got)
        # over max_literal_size: read, thrown away, NO [TOOBIG]
        big = 25 * 1024 * 1024 + 1
        s.sendall(b"b STATUS {%d+}\r\n" % big)
        chunk = b"x" * (1 << 20)
        left = big
        while left > 0:
            n = min(left, len(chunk))
            s.sendall(chunk[:n])
            left -= n
        s.sendall(b" (MESSAGES)\r\nc NOOP\r\n")
        got = recv_until(s, b"c OK")
        self.assertIn(b"b NO [TOOBIG]", got)
        self.assertIn(b"c OK", got)
        # ENABLE and ID gone wrong
        s.sendall(b"d ENABLE\r\ne ID (\"name\")\r\nf ENABLE A B C\r\n")
        got = recv_until(s, b"f OK")
        self.assertIn(b"d BAD", got)
        self.assertIn(b"e BAD", got)
        self.assertIn(b"* ENABLED\r\nf OK", got)
        s.sendall(b"z LOGOUT\r\n")
        recv_until(s, b"z OK")
        s.close()

    def fresh_folder(self, m, name, count):
        """Creates folder `name` holding `count` messages; selects it."""
        m.create(name)
        for _ in range(count):
            typ, data = m.append(name, None, None, MSG)
            self.assertEqual(typ, "OK")
            self.assertIn(b"[APPENDUID ", data[0])
        m.select(name)

    def files(self, folder):
        return len(os.listdir(os.path.join(self.inst.maildir("alice"),
                                           "." + folder, "cur")))

    def test_uidplus(self):
        m = self.login()
        self.fresh_folder(m, "Plus", 4)
        m.create("PlusDst")
        typ, data = m._simple_command("UID", "COPY", "2:3", "PlusDst")
        self.assertEqual(typ, "OK")
        self.assertRegex(data[0], rb"^\[COPYUID \d+ 2:3 1:2\]")
        # UID EXPUNGE of UIDs that are not \Deleted: nothing goes
        typ, data = m.uid("EXPUNGE", "1:4")
        self.assertEqual(typ, "OK")
        self.assertEqual(self.files("Plus"), 4)
        # only the \Deleted ones of the set go
        m.uid("STORE", "1,2,4", "+FLAGS.SILENT", r"(\Deleted)")
        typ, data = m.uid("EXPUNGE", "2:4")
        self.assertEqual(typ, "OK")
        self.assertEqual(m.untagged_responses.get("EXPUNGE"), [b"4", b"2"])
        self.assertEqual(self.files("Plus"), 2)
        self.assertEqual(m.uid("SEARCH", "DELETED")[1], [b"1"])
        m.logout()

    def test_move(self):
        m = self.login()
        self.fresh_folder(m, "Mv", 3)
        m.create("MvDst")
        other = self.login()
        other.select("Mv")
        typ, data = m._simple_command("MOVE", "1:2", "MvDst")
        self.assertEqual(typ, "OK")
        ok = m.untagged_responses.pop("OK")
        self.assertTrue(any(re.match(rb"\[COPYUID \d+ 1:2 1:2\]", x)
                            for x in ok), ok)
        self.assertEqual(m.untagged_responses.pop("EXPUNGE"), [b"2", b"1"])
        self.assertEqual(self.files("Mv"), 1)
        self.assertEqual(self.files("MvDst"), 2)
        other.noop()
        self.assertEqual(other.untagged_responses.pop("EXPUNGE"), [b"2", b"1"])
        self.assertEqual(other.status("MvDst", "(MESSAGES)")[1],
                         [b"MvDst (MESSAGES 2)"])
        typ, data = m.uid("MOVE", "3", "MvDst")
        self.assertEqual(typ, "OK")
        # a missing target: TRYCREATE and nothing moved
        m.select("MvDst")
        typ, data = m._simple_command("MOVE", "1:*", "NoSuchFolder")
        self.assertEqual(typ, "NO")
        self.assertIn(b"[TRYCREATE]", data[0])
        self.assertEqual(self.files("MvDst"), 3)
        self.assertEqual(m.search(None, "ALL")[1], [b"1 2 3"])
        m.logout()
        other.logout()


def read_lines(sock, count, timeout, start=None):
    """Reads until `count` CRLF-ended lines have arrived (or the timeout);
    returns them and the seconds since `start` (default: now)."""
    start = time.monotonic() if start is None else start
    data = b""
    sock.settimeout(timeout)
    try:
        while data.count(b"\r\n") < count:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        pass
    return data, time.monotonic() - start


class ImapIdleTest(unittest.TestCase):
    """A raw IDLE session sees what SMTP, POP3 and IMAP clients do."""

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance.start(config={"timeout_imap_idle": "3"})
        cls.pw = cls.inst.password("bob")

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()

    def tearDown(self):
        self.inst.assert_alive()
        m = imaplib.IMAP4(self.inst.host, self.inst.port("imap"))
        m.login("bob", self.pw)
        self.assertEqual(m.select("INBOX")[0], "OK")
        m.logout()

    def idle_session(self):
        s = socket.create_connection((self.inst.host, self.inst.port("imap")))
        recv_until(s, b"\r\n")
        s.sendall(b"l LOGIN bob %s\r\ns SELECT INBOX\r\n" % self.pw.encode())
        recv_until(s, b"s OK")
        s.sendall(b"i IDLE\r\n")
        self.assertEqual(recv_until(s, b"\r\n"), b"+ idling\r\n")
        return s

    def deliver(self, subject):
        with smtplib.SMTP(self.inst.host, self.inst.port("smtp")) as c:
            c.sendmail("alice@example.org", ["bob@lab.test"],
                       b"Subject: %s\r\n\r\nhello\r\n" % subject)

    def note(self, what, secs):
        """Latency for the report (never asserted: timing is make bench's)."""
        sys.stderr.write("[idle push after %s: %.3f s] " % (what, secs))

    def test_push_smtp_pop3_imap(self):
        s = self.idle_session()
        t0 = time.monotonic()
        self.deliver(b"one")
        got, secs = read_lines(s, 2, 10, t0)
        self.note("SMTP delivery", secs)
        self.assertIn(b"* 1 EXISTS\r\n", got)
        self.deliver(b"two")
        got, secs = read_lines(s, 2, 10)
        self.assertIn(b"* 2 EXISTS\r\n", got)
        # an IMAP flag change by another session
        m = imaplib.IMAP4(self.inst.host, self.inst.port("imap"))
        m.login("bob", self.pw)
        m.select("INBOX")
        t0 = time.monotonic()
        m.store("2", "+FLAGS", r"(\Flagged)")
        got, secs = read_lines(s, 1, 10, t0)
        self.note("IMAP STORE", secs)
        self.assertRegex(got, rb"\* 2 FETCH \(FLAGS \([^)]*\\Flagged")
        m.logout()
        # POP3 DELE + QUIT
        p = poplib.POP3(self.inst.host, self.inst.port("pop3"))
        p.user("bob")
        p.pass_(self.pw)
        p.dele(1)
        t0 = time.monotonic()
        p.quit()
        got, secs = read_lines(s, 1, 10, t0)
        self.note("POP3 DELE+QUIT", secs)
        self.assertIn(b"* 1 EXPUNGE\r\n", got)
        s.sendall(b"DONE\r\n")
        self.assertIn(b"i OK IDLE terminated", recv_until(s, b"i OK"))
        s.sendall(b"n FETCH 1 (FLAGS)\r\n")
        got = recv_until(s, b"n OK")
        self.assertIn(b"\\Flagged", got)
        s.sendall(b"z LOGOUT\r\n")
        recv_until(s, b"z OK")
        s.close()
        traces = "".join(self.inst.traces().values())
        self.assertIn("S: + idling", traces)
        self.assertIn("C: DONE", traces)

    def test_idle_bad_input(self):
        s = self.idle_session()
        # garbage during IDLE ends it with BAD (as Dovecot does)
        s.sendall(b"x NOOP\r\n")
        self.assertIn(b"i BAD Expected DONE", recv_until(s, b"i BAD"))
        # DONE outside IDLE
        s.sendall(b"DONE\r\n")
        self.assertIn(b"BAD", recv_until(s, b"\r\n"))
        s.sendall(b"y NOOP\r\n")
        self.assertIn(b"y OK", recv_until(s, b"y OK"))
        s.close()

    def test_idle_without_done_times_out(self):
        # timeout_imap_idle = 3 here: BYE, then the server closes
        s = self.idle_session()
        got = recv_until(s, b"* BYE", timeout=30)
        self.assertIn(b"* BYE", got)
        s.settimeout(10)
        self.assertEqual(s.recv(100), b"")
        s.close()


if __name__ == "__main__":
    unittest.main()
