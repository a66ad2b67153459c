"""The store stays a standard Maildir (issue 3): what SMTP delivers and IMAP
changes is readable by other Maildir software — here Python's own
mailbox.Maildir — with the standard names and flag letters."""
import imaplib
import mailbox
import os
import smtplib
import unittest

from fixture import Instance


class StandardMaildir(unittest.TestCase):
    def setUp(self):
        self.inst = Instance.start()

    def tearDown(self):
        self.inst.stop()

    def send(self, subject, body):
        msg = ("From: bob@lab.test\r\nTo: alice@lab.test\r\nSubject: %s\r\n"
               "\r\n%s\r\n" % (subject, body))
        with smtplib.SMTP("127.0.0.1", self.inst.port("smtp"), timeout=10) as s:
            s.sendmail("bob@lab.test", ["alice@lab.test"], msg)

    def test_other_software_reads_mail_flags_and_folders(self):
        self.send("first", "one")
        self.send("second", "two")
        imap = imaplib.IMAP4("127.0.0.1", self.inst.port("imap"))
        imap.login("alice", self.inst.password("alice"))
        self.assertEqual(imap.create("Work/2026")[0], "OK")
        imap.select("INBOX")
        typ, data = imap.search(None, "SUBJECT", "first")
        num = data[0].split()[0]
        self.assertEqual(imap.store(num, "+FLAGS", r"(\Seen \Flagged)")[0], "OK")
        self.assertEqual(imap.copy(num, "Work/2026")[0], "OK")
        imap.logout()

        md = mailbox.Maildir(self.inst.maildir("alice"), create=False)
        subjects = {}
        for key, msg in md.items():
            subjects[msg["Subject"]] = msg
            path = os.path.join(md._path, md._lookup(key))
            name = os.path.basename(path)
            # time.M<usec>P<pid>Q<n>.host,S=<size>[:2,flags]
            self.assertRegex(name, r"^\d+\.M\d+P\d+Q\d+\.[^,:/]+,S=\d+")
            size = int(name.split(",S=")[1].split(":")[0].split(",")[0])
            self.assertEqual(size, os.path.getsize(path))
        self.assertEqual(set(subjects), {"first", "second"})
        self.assertEqual(set(subjects["first"].get_flags()), {"S", "F"})
        self.assertEqual(subjects["second"].get_flags(), "")
        self.assertEqual(subjects["first"].get_payload().strip(), "one")
        # Maildir++ folder for the IMAP name Work/2026, with the copy in it.
        self.assertIn("Work.2026", md.list_folders())
        sub = md.get_folder("Work.2026")
        copied = list(sub)
        self.assertEqual(len(copied), 1)
        self.assertEqual(copied[0]["Subject"], "first")
        for std in ("Sent", "Drafts", "Trash", "Junk"):
            self.assertIn(std, md.list_folders())


if __name__ == "__main__":
    unittest.main()
