"""Classroom mode against a live `maillab serve` (issue 13): `maillab user
add --from-file` makes users who log in over IMAP and POP3 with the
passwords it prints, kept in a 0600 file; bad students files are refused
line by line; `maillab user reset` empties a mailbox while sessions of
other users (and of the user) go on."""
import imaplib
import os
import poplib
import re
import smtplib
import stat
import unittest

from fixture import Instance, run_cli

MSG = (b"From: bob@lab.test\r\nTo: s1@lab.test\r\nSubject: homework\r\n\r\n"
       b"week 1\r\n")


class ClassroomTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()

    def tearDown(self):
        self.inst.assert_alive()
        m = self.imap("bob")
        self.assertEqual(m.select("INBOX")[0], "OK")
        m.logout()

    def students(self, name, data):
        path = os.path.join(self.inst.root, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def add_from(self, path, *extra, check=True):
        return run_cli("user", "add", "-d", self.inst.dir, "--from-file", path,
                       *extra, check=check)

    def users(self):
        return run_cli("user", "list", "-d", self.inst.dir).stdout.split()

    def imap(self, user):
        m = imaplib.IMAP4(self.inst.host, self.inst.port("imap"))
        m.login(user, self.inst.password(user))
        return m

    def table(self, out):
        """The name -> password table the command printed."""
        rows = re.findall(r"^([a-z0-9._-]+) +([A-Za-z0-9._]{16})$", out, re.M)
        return dict(rows)

    def test_from_file_users_log_in(self):
        path = self.students("class1.txt",
                             b"# class of 2026\n"
                             b"s1\n"
                             b"\n"
                             b"  s2   # back row\r\n"
                             b"s3\r\n"
                             b"alice\n"          # exists: left alone
                             b"s4")              # no newline at the end
        p = self.add_from(path, "--quota", "1M")
        table = self.table(p.stdout)
        self.assertEqual(sorted(table), ["s1", "s2", "s3", "s4"])
        self.assertIn("user alice exists: left as it is", p.stdout)
        self.inst.passwords.update(table)
        cred = os.path.join(self.inst.dir, "credentials.txt")
        self.assertEqual(stat.S_IMODE(os.stat(cred).st_mode), 0o600)
        with open(cred) as f:
            saved = f.read()
        for name, pw in table.items():
            self.assertIn("%s %s\n" % (name, pw), saved)
            m = self.imap(name)
            self.assertEqual(m.getquotaroot("INBOX")[1][1],
                             [b'"" (STORAGE 0 1024)'])
            m.logout()
            pop = poplib.POP3(self.inst.host, self.inst.port("pop3"))
            pop.user(name)
            self.assertTrue(pop.pass_(pw).startswith(b"+OK"))
            pop.quit()
        # alice's password was not changed
        self.imap("alice").logout()
        # a second run adds nobody and changes nothing
        p = self.add_from(path)
        self.assertEqual(self.table(p.stdout), {})
        self.assertIn("0 users added, 5 existing left alone", p.stdout)
        self.imap("s2").logout()

    def test_bad_files(self):
        """Every bad line is reported with its number; nobody is added."""
        before = self.users()
        cases = [
            (b"t1\nt2\nt1\n", ["3: duplicate of line 1"]),
            (b"t1\n" + b"x" * 65 + b"\n", ["2: name longer than 64"]),
            (b"T1\nt-2\nt 3\nt/4\n\xc3\xa9t\xc3\xa9\n-t6\nt\x007\n",
             ["1: invalid name", "3: more than one name", "4: invalid name",
              "5: invalid name", "6: invalid name", "7: invalid name"]),
            (b"t1\r\nt2\r\r\n", ["2: invalid name"]),
        ]
        for i, (data, expected) in enumerate(cases):
            path = self.students("bad%d.txt" % i, data)
            p = self.add_from(path, check=False)
            self.assertEqual(p.returncode, 1, data)
            for e in expected:
                self.assertIn("bad%d.txt:%s" % (i, e), p.stderr)
            self.assertIn("no user added", p.stderr)
        self.assertEqual(self.users(), before)
        p = self.add_from(os.path.join(self.inst.root, "missing.txt"),
                          check=False)
        self.assertEqual(p.returncode, 1)
        # --from-file with a name, or with --password-stdin: usage
        for args in (["t9", "--from-file", "x"],
                     ["--from-file", "x", "--password-stdin"],
                     ["--from-file"]):
            p = run_cli("user", "add", "-d", self.inst.dir, *args, check=False)
            self.assertEqual(p.returncode, 2, args)

    def test_reset_while_others_work(self):
        p = self.add_from(self.students("class2.txt", b"r1\nr2\n"))
        self.inst.passwords.update(self.table(p.stdout))
        s = smtplib.SMTP(self.inst.host, self.inst.port("smtp"))
        for _ in range(3):
            s.sendmail("bob@lab.test", ["r1@lab.test", "bob@lab.test",
                                        "r2@lab.test"], MSG)
        s.quit()
        # r1 has a folder of their own and a selected session
        own = self.imap("r1")
        self.assertEqual(own.create("Homework")[0], "OK")
        own.select("INBOX")
        self.assertEqual(own.copy("1:2", "Homework")[0], "OK")
        # bob, in IMAP and POP3 meanwhile
        bob = self.imap("bob")
        bob.select("INBOX")
        n_bob = int(bob.status("INBOX", "(MESSAGES)")[1][0].split()[-1][:-1])
        pop = poplib.POP3(self.inst.host, self.inst.port("pop3"))
        pop.user("r2")
        pop.pass_(self.inst.password("r2"))
        self.assertEqual(pop.stat()[0], 3)

        # without --yes it asks, and "n" keeps everything
        p = run_cli("user", "reset", "-d", self.inst.dir, "r1", stdin="n\n")
        self.assertIn("nothing removed", p.stdout)
        self.assertEqual(own.status("INBOX", "(MESSAGES)")[1],
                         [b"INBOX (MESSAGES 3)"])
        p = run_cli("user", "reset", "-d", self.inst.dir, "r1", "--yes")
        self.assertIn("mailbox of r1 emptied: 5 messages", p.stdout)

        # r1's own session is told the messages are gone
        typ, data = own.noop()
        self.assertEqual(typ, "OK")
        self.assertEqual(sorted(own.response("EXPUNGE")[1]), [b"1", b"2", b"3"])
        self.assertEqual(own.status("INBOX", "(MESSAGES)")[1],
                         [b"INBOX (MESSAGES 0)"])
        own.logout()
        # the account, password and standard folders stay; Homework goes
        m = self.imap("r1")
        names = [l.decode().split(' "/" ')[-1] for l in m.list()[1]]
        self.assertEqual(sorted(names), ["Drafts", "INBOX", "Junk", "Sent",
                                         "Trash"])
        self.assertEqual(m.getquotaroot("INBOX")[1][0], [b"INBOX"])
        m.logout()
        # the other users' sessions go on as if nothing happened
        self.assertEqual(bob.noop()[0], "OK")
        typ, data = bob.fetch(str(n_bob), "(BODY[HEADER.FIELDS (SUBJECT)])")
        self.assertIn(b"homework", data[0][1])
        bob.logout()
        self.assertIn(b"week 1", pop.retr(3)[1])
        pop.dele(1)
        self.assertTrue(pop.quit().startswith(b"+OK"))
        self.assertEqual(len(os.listdir(os.path.join(self.inst.maildir("r2"),
                                                     "cur"))), 2)
        # new mail for r1 arrives as usual, with a new UID
        s = smtplib.SMTP(self.inst.host, self.inst.port("smtp"))
        s.sendmail("bob@lab.test", ["r1@lab.test"], MSG)
        s.quit()
        m = self.imap("r1")
        m.select("INBOX")
        self.assertEqual(m.uid("SEARCH", "ALL")[1], [b"4"])
        m.logout()

    def test_reset_all_and_unknown(self):
        p = run_cli("user", "reset", "-d", self.inst.dir, "nobody", "--yes",
                    check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("no such user", p.stderr)
        for args in (["--all", "bob"], [], ["--all", "--password-stdin"]):
            p = run_cli("user", "reset", "-d", self.inst.dir, *args,
                        check=False)
            self.assertEqual(p.returncode, 2, args)
        s = smtplib.SMTP(self.inst.host, self.inst.port("smtp"))
        s.sendmail("alice@lab.test", ["alice@lab.test", "bob@lab.test"], MSG)
        s.quit()
        p = run_cli("user", "reset", "-d", self.inst.dir, "--all", "--yes")
        for user in self.users():
            self.assertIn("mailbox of %s emptied" % user, p.stdout)
        m = self.imap("alice")
        self.assertEqual(m.status("INBOX", "(MESSAGES)")[1],
                         [b"INBOX (MESSAGES 0)"])
        m.logout()


if __name__ == "__main__":
    unittest.main()
