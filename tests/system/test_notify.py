"""NOTIFY (RFC 5465) against a live `maillab serve`, driven by Python's
imaplib: a second session's APPEND, flag change, expunge and CREATE, and an
SMTP delivery, reach a NOTIFY-enabled session as untagged data while it
sends no command (and in IDLE); bad NOTIFY commands, each followed by a
normal command and a normal client."""
import imaplib
import re
import smtplib
import socket
import unittest

from fixture import Instance, recv_until

MSG = (b"From: Alice <alice@lab.test>\r\n"
       b"To: alice@lab.test\r\n"
       b"Subject: notify test\r\n"
       b"\r\n"
       b"body\r\n")

# imaplib does not know the command; it is valid once logged in
imaplib.Commands.setdefault("NOTIFY", ("AUTH", "SELECTED"))


def tagged(sock, tag):
    """Reads until the whole tagged reply line of `tag` has arrived."""
    data = b""
    while not re.search(rb"(^|\n)" + re.escape(tag) + rb" [^\n]*\n", data):
        chunk = recv_until(sock, b"\n")
        if not chunk:
            raise AssertionError("connection closed; got %r" % data)
        data += chunk
    return data


class NotifyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance.start()
        cls.pw = cls.inst.password("alice")

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()

    def tearDown(self):
        self.inst.assert_alive()
        m = self.login()
        self.assertEqual(m.select("INBOX")[0], "OK")
        self.assertEqual(m.noop()[0], "OK")
        m.logout()

    def login(self):
        m = imaplib.IMAP4(self.inst.host, self.inst.port("imap"))
        m.login("alice", self.pw)
        m.sock.settimeout(15)
        return m

    def notify(self, m, *groups):
        return m._simple_command("NOTIFY", *groups)

    def wait_for(self, m, pattern, seen=None):
        """Reads what the server sends unasked (no command is running)
        until a line matches; returns it (and every line in `seen`)."""
        seen = [] if seen is None else seen
        while True:
            try:
                line = m.readline()
            except socket.timeout:
                self.fail("no %r; got %r" % (pattern, seen))
            self.assertTrue(line, "connection closed; got %r" % seen)
            seen.append(line)
            if re.search(pattern, line):
                return line

    def fresh_folder(self, m, name):
        m.delete(name)
        self.assertEqual(m.create(name)[0], "OK")

    def test_events_between_commands(self):
        a = self.login()
        b = self.login()
        self.fresh_folder(a, "Watched")
        a.delete("Made")
        self.assertEqual(a.select("INBOX")[0], "OK")
        typ, _ = self.notify(
            a, "SET", "STATUS",
            "(SELECTED (MessageNew MessageExpunge FlagChange))",
            "(PERSONAL (MessageNew MessageExpunge FlagChange MailboxName "
            "SubscriptionChange))")
        self.assertEqual(typ, "OK")
        # STATUS before the OK for the other mailboxes, not INBOX
        statuses = a.untagged_responses.pop("STATUS", [])
        self.assertTrue(any(s.startswith(b"Watched (MESSAGES 0 UIDNEXT 1 "
                                         b"UIDVALIDITY ") for s in statuses),
                        statuses)
        self.assertFalse(any(s.startswith(b"INBOX") for s in statuses))

        # another session's APPEND to another mailbox (RFC 5465 5.2)
        b.append("Watched", None, None, MSG)
        self.wait_for(a, rb"^\* STATUS Watched \(MESSAGES 1 UIDNEXT 2\b")
        # its flag change (5.1)
        b.select("Watched")
        b.store("1", "+FLAGS", "\\Flagged")
        self.wait_for(a, rb"^\* STATUS Watched \(.*HIGHESTMODSEQ \d+")
        # its expunge (5.3)
        b.store("1", "+FLAGS", "\\Deleted")
        b.expunge()
        self.wait_for(a, rb"^\* STATUS Watched \(MESSAGES 0 UIDNEXT 2\b")
        # CREATE (5.4)
        b.create("Made")
        self.wait_for(a, rb'^\* LIST \(.*\) "/" Made\r\n')
        # SUBSCRIBE (5.5)
        b.subscribe("Made")
        self.wait_for(a, rb'^\* LIST \(.*\\Subscribed.*\) "/" Made\r\n')
        b.delete("Made")
        self.wait_for(a, rb'^\* LIST \(\\NonExistent\) "/" Made\r\n')
        # the selected mailbox: EXISTS, FETCH, EXPUNGE
        n = int(b.select("INBOX")[1][0])
        b.append("INBOX", None, None, MSG)
        self.wait_for(a, rb"^\* %d EXISTS\r\n" % (n + 1))
        b.noop()
        b.store(str(n + 1), "+FLAGS", "\\Answered")
        self.wait_for(a, rb"^\* %d FETCH \(.*\\Answered" % (n + 1))
        b.store(str(n + 1), "+FLAGS", "\\Deleted")
        b.expunge()
        self.wait_for(a, rb"^\* %d EXPUNGE\r\n" % (n + 1))
        # an SMTP delivery into a folder (user+folder)
        with smtplib.SMTP(self.inst.host, self.inst.port("smtp")) as s:
            s.sendmail("bob@example.com", ["alice+Watched@lab.test"], MSG)
        self.wait_for(a, rb"^\* STATUS Watched \(MESSAGES 1 UIDNEXT 3\b")
        # still a normal session
        self.assertEqual(a.noop()[0], "OK")
        a.logout()
        b.logout()

    def test_rename_and_own_changes(self):
        """RFC 5465 5.4: a rename is a LIST of the new name with OLDNAME;
        RFC 5465 5: the client's own changes are not told back."""
        a = self.login()
        b = self.login()
        for name in ('"Old Name"', '"New Name"', "Own", "Theirs"):
            a.delete(name)
        self.assertEqual(b.create('"Old Name"')[0], "OK")
        typ, _ = self.notify(a, "SET", "(PERSONAL (MessageNew MessageExpunge "
                             "MailboxName SubscriptionChange))")
        self.assertEqual(typ, "OK")
        self.assertEqual(b.rename('"Old Name"', '"New Name"')[0], "OK")
        seen = []
        self.wait_for(a, rb'^\* LIST \(\\HasNoChildren\) "/" "New Name" '
                      rb'\("OLDNAME" \("Old Name"\)\)\r\n', seen)
        self.assertFalse([x for x in seen if b"NonExistent" in x], seen)
        # its own CREATE and APPEND: nothing; another's CREATE: a LIST
        self.assertEqual(a.create("Own")[0], "OK")
        a.append("Own", None, None, MSG)
        b.create("Theirs")
        seen = []
        self.wait_for(a, rb'^\* LIST \(.*\) "/" Theirs\r\n', seen)
        a.send(b"n NOOP\r\n")
        self.wait_for(a, rb"^n OK", seen)
        self.assertFalse([x for x in seen if b"Own" in x], seen)
        a.logout()
        b.logout()

    def test_selected_delayed(self):
        """RFC 5465 6.1.2: new messages at once, expunges only with a
        command that may send them, so message numbers stay valid."""
        a = self.login()
        b = self.login()
        self.fresh_folder(a, "Delayed")
        for _ in range(2):
            a.append("Delayed", None, None, MSG)
        self.assertEqual(a.select("Delayed")[0], "OK")
        typ, _ = self.notify(a, "SET", "(SELECTED-DELAYED (MessageNew "
                             "MessageExpunge))")
        self.assertEqual(typ, "OK")
        b.select("Delayed")
        b.store("1", "+FLAGS", "\\Deleted")
        b.expunge()
        b.append("Delayed", None, None, MSG)
        seen = []
        self.wait_for(a, rb"^\* 3 EXISTS\r\n", seen)
        self.assertFalse([x for x in seen if b"EXPUNGE" in x], seen)
        # message 1 is still the one expunged: FETCH may not renumber
        typ, data = a.fetch("1", "(UID)")
        self.assertEqual(typ, "OK")
        self.assertIn(b"UID 1)", data[0])
        self.assertNotIn("EXPUNGE", a.untagged_responses)
        self.assertEqual(a.noop()[0], "OK")
        self.assertEqual(a.untagged_responses.pop("EXPUNGE", None), [b"1"])
        typ, data = a.uid("FETCH", "1:*", "(UID)")
        self.assertEqual([re.search(rb"UID (\d+)", x).group(1) for x in data],
                         [b"2", b"3"])
        a.logout()
        b.logout()

    def test_idle_and_none(self):
        a = self.login()
        b = self.login()
        self.fresh_folder(a, "Idled")
        typ, _ = self.notify(a, "SET", "(MAILBOXES Idled (MessageNew "
                             "MessageExpunge))")
        self.assertEqual(typ, "OK")
        a.send(b"i IDLE\r\n")
        self.wait_for(a, rb"^\+ ")
        b.append("Idled", None, None, MSG)
        self.wait_for(a, rb"^\* STATUS Idled \(MESSAGES 1 UIDNEXT 2\)")
        a.send(b"DONE\r\n")
        self.wait_for(a, rb"^i OK IDLE")
        self.assertEqual(self.notify(a, "NONE")[0], "OK")
        b.append("Idled", None, None, MSG)
        # nothing comes now: the next line is NOOP's own
        a.send(b"n NOOP\r\n")
        self.assertEqual(self.wait_for(a, rb"^n "), b"n OK NOOP completed\r\n")
        a.logout()
        b.logout()

    def test_bad_notify(self):
        s = socket.create_connection((self.inst.host, self.inst.port("imap")))
        recv_until(s, b"\r\n")
        s.sendall(b"l LOGIN alice %s\r\n" % self.pw.encode())
        self.assertIn(b"l OK", recv_until(s, b"l "))
        cases = [
            (b"NOTIFY SET (NOWHERE (MessageNew MessageExpunge))", b"BAD"),
            (b"NOTIFY SET (PERSONAL (Teleport))", b"NO [BADEVENT ("),
            (b"NOTIFY SET (SELECTED (MessageNew))", b"BAD"),
            (b"NOTIFY SET (SELECTED (FlagChange))", b"BAD"),
            (b"NOTIFY SET STATUS (MAILBOXES NoSuchBox (MessageNew "
             b"MessageExpunge))", b"OK"),
            (b"NOTIFY \x01garbage(((", b"BAD"),
            (b"NOTIFY", b"BAD"),
        ]
        for i, (cmd, want) in enumerate(cases):
            tag = b"t%d" % i
            s.sendall(tag + b" " + cmd + b"\r\n")
            reply = tagged(s, tag)
            self.assertIn(tag + b" " + want, reply, cmd)
            self.assertNotIn(b"NoSuchBox", reply.split(tag)[0])
            s.sendall(b"n%d NOOP\r\n" % i)
            self.assertIn(b"n%d OK" % i, tagged(s, b"n%d" % i))
        s.close()


if __name__ == "__main__":
    unittest.main()
