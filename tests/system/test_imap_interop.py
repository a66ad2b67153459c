"""IMAP behaviour that Dovecot's imaptest checks (tests/interop/), driven by
Python's imaplib and raw sockets: FETCH of messages another session expunged
(RFC 2180 4.1), LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819),
STATUS=SIZE (RFC 8438), MULTIAPPEND (RFC 3502), and bad input to them."""
import imaplib
import socket
import unittest

from fixture import Instance, recv_until

MSG = (b"From: Alice <alice@lab.test>\r\n"
       b"To: bob@lab.test\r\n"
       b"Subject: interop %d\r\n"
       b"\r\n"
       b"body %d\r\n")


class ImapInteropTest(unittest.TestCase):
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

    def cmd(self, s, tag, text):
        """Sends one command; returns everything up to its tagged reply."""
        s.sendall(b"%s %s\r\n" % (tag, text))
        s.settimeout(10)
        data = b""
        while True:
            if (data.startswith(tag + b" ") or b"\r\n" + tag + b" " in data) and data.endswith(b"\r\n"):
                return data
            chunk = s.recv(65536)
            if not chunk:
                return data
            data += chunk

    def fresh_folder(self, m, name, count):
        m.delete(name)
        self.assertEqual(m.create(name)[0], "OK")
        for i in range(1, count + 1):
            self.assertEqual(m.append(name, None, None, MSG % (i, i))[0], "OK")

    def test_fetch_of_message_expunged_elsewhere(self):
        a = self.raw()
        b = self.login()
        self.fresh_folder(b, "Gone", 2)
        self.assertIn(b"x OK", self.cmd(a, b"x", b"SELECT Gone"))
        b.select("Gone")
        b.store("1", "+FLAGS", "\\Deleted")
        self.assertEqual(b.expunge()[0], "OK")
        # RFC 2180 4.1, as Dovecot: the expunged message is answered with
        # what the server still knows and NIL for its text, the FETCH
        # succeeds, and no EXPUNGE may come during a FETCH (7.4.1)
        got = self.cmd(a, b"f", b"FETCH 1:2 (UID BODY.PEEK[TEXT])")
        self.assertIn(b"* 1 FETCH (UID 1 BODY[TEXT] NIL)\r\n", got)
        self.assertNotIn(b" EXPUNGE\r\n", got)
        self.assertIn(b"* 2 FETCH (UID 2 BODY[TEXT] {8}\r\nbody 2\r\n)", got)
        self.assertIn(b"f OK [EXPUNGEISSUED]", got)
        got = self.cmd(a, b"n", b"NOOP")
        self.assertIn(b"* 1 EXPUNGE", got)
        self.assertIn(b"n OK", got)
        got = self.cmd(a, b"g", b"FETCH 1 (UID)")
        self.assertIn(b"* 1 FETCH (UID 2)", got)
        a.close()
        b.logout()

    def test_list_extended_status_size(self):
        m = self.login()
        caps = m.capability()[1][0].decode().upper().split()
        for cap in ("LIST-EXTENDED", "LIST-STATUS", "STATUS=SIZE"):
            self.assertIn(cap, caps)
        self.fresh_folder(m, "Sized", 2)
        size = len(MSG % (1, 1)) + len(MSG % (2, 2))
        typ, data = m.status("Sized", "(SIZE MESSAGES)")
        self.assertEqual(typ, "OK")
        self.assertEqual(data[0], b"Sized (SIZE %d MESSAGES 2)" % size)
        m.subscribe("Sized")
        typ, data = m._simple_command(
            "LIST", "(SUBSCRIBED)", '""', "(Sized Nothing*)", "RETURN",
            "(STATUS (MESSAGES UNSEEN SIZE))")
        self.assertEqual(typ, "OK")
        self.assertEqual(m.untagged_responses.pop("LIST"),
                         [b'(\\HasNoChildren \\Subscribed) "/" Sized'])
        self.assertEqual(m.untagged_responses.pop("STATUS"),
                         [b"Sized (MESSAGES 2 UNSEEN 2 SIZE %d)" % size])
        # bad input: BAD, and the session goes on
        s = self.raw()
        got = self.cmd(s, b"b", b"LIST (RECURSIVEMATCH) \"\" *")
        self.assertIn(b"b BAD", got)
        got = self.cmd(s, b"c", b"LIST \"\" (Sized")
        self.assertIn(b"c BAD", got)
        got = self.cmd(s, b"d", b"LIST \"\" Sized RETURN (STATUS (BOGUS))")
        self.assertIn(b"d BAD", got)
        self.assertIn(b"e OK", self.cmd(s, b"e", b"NOOP"))
        s.close()
        m.logout()

    def test_multiappend(self):
        m = self.login()
        m.delete("Multi")
        m.create("Multi")
        s = self.raw()
        one, two = MSG % (1, 1), MSG % (2, 2)
        s.sendall(b"a APPEND Multi (\\Seen) {%d}\r\n" % len(one))
        self.assertTrue(s.recv(100).startswith(b"+ "))
        s.sendall(one + b" {%d}\r\n" % len(two))
        self.assertTrue(s.recv(100).startswith(b"+ "))
        s.sendall(two + b"\r\n")
        got = self.cmd(s, b"n", b"NOOP")
        self.assertRegex(got, rb"a OK \[APPENDUID \d+ 1:2\] ")
        # all or nothing: a bad second message appends neither
        got = self.cmd(s, b"b", b"APPEND Multi {3+}\r\nabc (\\Recent) {3+}\r\ndef")
        self.assertIn(b"b BAD", got)
        m.select("Multi")
        typ, data = m.fetch("1:*", "(FLAGS BODY.PEEK[TEXT])")
        bodies = [d[1] for d in data if isinstance(d, tuple)]
        self.assertEqual(bodies, [b"body 1\r\n", b"body 2\r\n"])
        self.assertIn(b"\\Seen", data[0][0])
        s.close()
        m.logout()


if __name__ == "__main__":
    unittest.main()
