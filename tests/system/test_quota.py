"""Quotas (RFC 9208) against a live `maillab serve`: limits set with
`maillab user quota` while the server runs, filled over IMAP (imaplib) and
SMTP (smtplib) until [OVERQUOTA] and 452 4.2.2, freed by deleting (IMAP
EXPUNGE, POP3 DELE), then used again; bad sizes on the command line."""
import imaplib
import os
import poplib
import re
import smtplib
import unittest

from fixture import Instance, run_cli


def message(n, sender="bob@lab.test"):
    """A message of n bytes (CRLF line ends)."""
    head = ("From: %s\r\nTo: alice@lab.test\r\nSubject: fill\r\n\r\n"
            % sender).encode()
    body = b""
    while len(head) + len(body) < n - 42:
        body += b"0123456789012345678901234567890123456789\r\n"
    body += b"x" * (n - len(head) - len(body) - 2) + b"\r\n"
    return head + body


class QuotaTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # relayed mail goes to a port where nothing listens
        cls.inst = Instance.start(config={"route example.net": "127.0.0.1:9"})

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()

    def setUp(self):
        self.quota("alice", "none", "--messages", "none")
        self.empty("alice")

    def tearDown(self):
        self.inst.assert_alive()
        self.assert_normal_client()

    def quota(self, user, *args):
        return run_cli("user", "quota", "-d", self.inst.dir, user, *args)

    def imap(self, user="alice"):
        m = imaplib.IMAP4(self.inst.host, self.inst.port("imap"))
        m.login(user, self.inst.password(user))
        return m

    def empty(self, user):
        run_cli("user", "reset", "-d", self.inst.dir, user, "--yes")

    def assert_normal_client(self):
        m = self.imap("bob")
        self.assertEqual(m.select("INBOX")[0], "OK")
        self.assertEqual(m.noop()[0], "OK")
        m.logout()

    def assert_overquota(self, result):
        typ, data = result
        self.assertEqual(typ, "NO")
        self.assertIn(b"[OVERQUOTA]", data[0])

    def append(self, m, size, box="INBOX"):
        return m.append(box, None, None, message(size))

    def test_imap_fill_delete_append(self):
        self.quota("alice", "8K")
        m = self.imap()
        self.assertIn(b"QUOTA=RES-STORAGE", m.capability()[1][0])
        typ, data = m.getquotaroot("INBOX")
        self.assertEqual(typ, "OK")
        self.assertEqual(data[0], [b'INBOX ""'])
        self.assertEqual(data[1], [b'"" (STORAGE 0 8)'])
        self.assertEqual(self.append(m, 3000)[0], "OK")
        self.assertEqual(self.append(m, 3000)[0], "OK")
        typ, data = m.getquota('""')
        self.assertEqual(data, [b'"" (STORAGE 6 8)'])
        # the third does not fit: NO [OVERQUOTA], nothing stored
        self.assert_overquota(self.append(m, 3000))
        self.assertEqual(m.status("INBOX", "(MESSAGES)")[1],
                         [b"INBOX (MESSAGES 2)"])
        # COPY over quota too; SETQUOTA is refused
        m.select("INBOX")
        typ, data = m.copy("1", "Trash")
        self.assertEqual(typ, "NO")
        self.assertIn(b"[OVERQUOTA]", data[0])
        typ, data = m.setquota('""', "(STORAGE 100000)")
        self.assertEqual(typ, "NO")
        self.assertIn(b"[NOPERM]", data[0])
        # delete one: room again
        m.store("1", "+FLAGS", r"(\Deleted)")
        self.assertEqual(m.status("INBOX", "(DELETED DELETED-STORAGE)")[1],
                         [b"INBOX (DELETED 1 DELETED-STORAGE 3)"])
        m.expunge()
        self.assertEqual(self.append(m, 3000)[0], "OK")
        # the CLI reports what IMAP counts
        out = self.quota("alice").stdout
        self.assertIn("6 KiB used of 8 KiB (8K)", out)
        m.logout()

    def test_smtp_452_and_pop3_delete(self):
        self.quota("alice", "4K")
        s = smtplib.SMTP(self.inst.host, self.inst.port("smtp"))
        self.assertEqual(s.sendmail("bob@lab.test", ["alice@lab.test"],
                                    message(3000)), {})
        # full now for anything of 2000 bytes (SIZE is declared)
        refused = s.sendmail("bob@lab.test", ["alice@lab.test", "bob@lab.test"],
                             message(2000))
        self.assertEqual(list(refused), ["alice@lab.test"])
        self.assertEqual(refused["alice@lab.test"][0], 452)
        self.assertIn(b"4.2.2", refused["alice@lab.test"][1])
        with self.assertRaises(smtplib.SMTPRecipientsRefused) as cm:
            s.sendmail("bob@lab.test", ["alice@lab.test"], message(2000))
        self.assertEqual(cm.exception.recipients["alice@lab.test"][0], 452)
        # without SIZE the RCPT passes, the end of DATA refuses
        s.ehlo()
        self.assertEqual(s.mail("bob@lab.test")[0], 250)
        self.assertEqual(s.rcpt("alice@lab.test")[0], 250)
        code, text = s.data(message(2000))
        self.assertEqual(code, 452)
        self.assertTrue(text.startswith(b"4.2.2"))
        s.quit()
        # POP3 deletes lower the usage
        p = poplib.POP3(self.inst.host, self.inst.port("pop3"))
        p.user("alice")
        p.pass_(self.inst.password("alice"))
        self.assertEqual(p.stat()[0], 1)
        p.dele(1)
        p.quit()
        s = smtplib.SMTP(self.inst.host, self.inst.port("smtp"))
        self.assertEqual(s.sendmail("bob@lab.test", ["alice@lab.test"],
                                    message(2000)), {})
        s.quit()

    def test_relayed_mail_not_counted(self):
        """A user over quota still sends mail out through the queue."""
        self.quota("alice", "1K")
        m = self.imap()
        self.assert_overquota(self.append(m, 2000))
        m.logout()
        s = smtplib.SMTP(self.inst.host, self.inst.port("submission"))
        s.starttls(context=self.inst.tls_context())
        s.login("alice", self.inst.password("alice"))
        self.assertEqual(s.sendmail("alice@lab.test", ["someone@example.net"],
                                    message(2000, "alice@lab.test")), {})
        s.quit()

    def test_message_limit(self):
        self.quota("alice", "none", "--messages", "1")
        m = self.imap()
        self.assertEqual(self.append(m, 500)[0], "OK")
        self.assertEqual(m.getquotaroot("INBOX")[1][1], [b'"" (MESSAGE 1 1)'])
        self.assert_overquota(self.append(m, 500))
        m.logout()

    def test_bad_sizes(self):
        """Each bad size is refused with its reason; nothing changes."""
        self.quota("alice", "10K")
        for size, reason in [("-5", "negative"), ("10X", "unit"),
                             ("10KB", "unit"), ("1.5M", "unit"),
                             ("99999999999999999999", "too large"),
                             ("17179869184G", "too large"), ("0", "1K"),
                             ("", "empty")]:
            p = run_cli("user", "quota", "-d", self.inst.dir, "alice", size,
                        check=False)
            self.assertEqual(p.returncode, 2, size)
            self.assertIn(reason, p.stderr, size)
        for n in ["-1", "1K", "0", "18446744073709551616"]:
            p = run_cli("user", "quota", "-d", self.inst.dir, "alice", "none",
                        "--messages", n, check=False)
            self.assertEqual(p.returncode, 2, n)
        p = run_cli("user", "add", "-d", self.inst.dir, "carol", "--quota",
                    "5Q", "--password-stdin", stdin="pw\n", check=False)
        self.assertEqual(p.returncode, 2)
        self.assertNotIn("carol", run_cli("user", "list", "-d",
                                          self.inst.dir).stdout.split())
        self.assertIn("of 10 KiB (10K)", self.quota("alice").stdout)
        p = run_cli("user", "quota", "-d", self.inst.dir, "nobody", "1M",
                    check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("no such user", p.stderr)


if __name__ == "__main__":
    unittest.main()
