"""mutt against the IMAP server (issue 6): a real mail reader, driven
non-interactively.  mutt needs a terminal, so it runs under script(1) with
its keys pushed by -e 'push ...': it flags the first message, saves the
second to a new folder (COPY, then \\Deleted and EXPUNGE since delete=yes),
syncs and quits.  The result is checked over IMAP with imaplib and in the
Maildir.  Skipped when mutt or script is not installed."""
import imaplib
import os
import shutil
import subprocess
import tempfile
import unittest

from fixture import Instance

MUTT = shutil.which("mutt")
SCRIPT = shutil.which("script")


def message(n, subject):
    return ("From: Bob <bob@lab.test>\r\n"
            "To: alice@lab.test\r\n"
            "Subject: %s\r\n"
            "Date: Mon, %d Feb 2026 10:00:00 +0000\r\n"
            "Message-ID: <mutt%d@lab.test>\r\n"
            "\r\n"
            "body %d\r\n" % (subject, n + 2, n, n)).encode()


@unittest.skipUnless(MUTT and SCRIPT, "mutt or script(1) not installed")
class MuttTest(unittest.TestCase):
    def setUp(self):
        self.inst = Instance.start()
        self.port = self.inst.port("imap")
        self.pw = self.inst.password("alice")
        self.tmp = tempfile.mkdtemp(prefix="maillab-mutt-")

    def tearDown(self):
        self.inst.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def imap(self):
        c = imaplib.IMAP4(self.inst.host, self.port)
        c.login("alice", self.pw)
        return c

    def run_mutt(self, keys):
        rc = os.path.join(self.tmp, "muttrc")
        with open(rc, "w") as f:
            f.write("set imap_user=alice\n"
                    "set imap_pass=\"%s\"\n"
                    "set folder=imap://%s:%d/\n"
                    "set spoolfile=+INBOX\n"
                    # plain IMAP on loopback: no certificate prompt
                    "set ssl_starttls=no\n"
                    "set ssl_force_tls=no\n"
                    "set header_cache=\n"
                    "set message_cachedir=\n"
                    "set move=no\n"
                    "set confirmappend=no\n"
                    "set confirmcreate=no\n"
                    "set delete=yes\n"
                    "set quit=yes\n"
                    "set sort=date\n"
                    "set wait_key=no\n"
                    "set mail_check=600\n"
                    "set timeout=600\n"
                    % (self.pw, self.inst.host, self.port))
        cmd = "mutt -n -F %s -f imap://%s:%d/INBOX -e 'push \"%s\"'" % (
            rc, self.inst.host, self.port, keys)
        env = dict(os.environ, TERM="vt100", HOME=self.tmp)
        p = subprocess.run([SCRIPT, "-qfec", cmd, "/dev/null"], env=env,
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=60)
        out = p.stdout.decode("latin-1")
        self.assertEqual(p.returncode, 0, out[-2000:])
        return out

    def test_flag_save_expunge(self):
        c = self.imap()
        for n, subject in enumerate(["first mutt", "second mutt"]):
            typ, _ = c.append("INBOX", None, None, message(n, subject))
            self.assertEqual(typ, "OK")
        c.logout()

        out = self.run_mutt("<flag-message><next-entry>"
                            "<save-message>=Saved<enter>"
                            "<sync-mailbox><quit>")
        self.assertIn("first mutt", out)

        c = self.imap()
        typ, data = c.select("INBOX")
        self.assertEqual((typ, data), ("OK", [b"1"]), out[-2000:])
        typ, data = c.fetch("1", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertEqual(typ, "OK")
        self.assertIn(b"\\Flagged", data[0][0])
        self.assertEqual(data[0][1], b"Subject: first mutt\r\n\r\n")
        typ, data = c.select("Saved")
        self.assertEqual((typ, data), ("OK", [b"1"]))
        typ, data = c.fetch("1", "(BODY.PEEK[])")
        self.assertEqual(typ, "OK")
        self.assertEqual(data[0][1], message(1, "second mutt"))
        c.logout()
        # the flag is in the file name, where other Maildir readers see it
        cur = os.listdir(os.path.join(self.inst.maildir("alice"), "cur"))
        self.assertEqual(len(cur), 1)
        self.assertTrue(cur[0].endswith(":2,F"), cur)
        self.inst.assert_alive()


if __name__ == "__main__":
    unittest.main()
