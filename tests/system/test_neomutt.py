"""neomutt against the IMAP server (issue 11): save-message moves a message
into a folder that does not exist yet (TRYCREATE, CREATE, retry, COPYUID).
Newer neomutt releases do the move with UID MOVE (RFC 6851) when the server
advertises MOVE; the one in Debian 12 (20220429) has no MOVE support at all
(its binary has no "UID MOVE"), so it copies, sets \Deleted and expunges,
and the test that needs MOVE is skipped for it.  Driven like test_mutt.py
(under script(1), keys pushed with -e).  The protocol trace shows which
commands it used; the result is checked with imaplib.  Skipped when
neomutt or script is not installed."""
import imaplib
import os
import shutil
import subprocess
import tempfile
import unittest

from fixture import Instance

NEOMUTT = shutil.which("neomutt")
SCRIPT = shutil.which("script")


def neomutt_knows_move():
    """Whether this neomutt build can send UID MOVE at all."""
    try:
        with open(NEOMUTT, "rb") as f:
            return b"UID MOVE" in f.read()
    except (OSError, TypeError):
        return False


def message(n, subject):
    return ("From: Bob <bob@lab.test>\r\n"
            "To: alice@lab.test\r\n"
            "Subject: %s\r\n"
            "Date: Mon, %d Feb 2026 10:00:00 +0000\r\n"
            "Message-ID: <neomutt%d@lab.test>\r\n"
            "\r\n"
            "body %d\r\n" % (subject, n + 2, n, n)).encode()


@unittest.skipUnless(NEOMUTT and SCRIPT, "neomutt or script(1) not installed")
class NeomuttTest(unittest.TestCase):
    def setUp(self):
        self.inst = Instance.start()
        self.port = self.inst.port("imap")
        self.pw = self.inst.password("alice")
        self.tmp = tempfile.mkdtemp(prefix="maillab-neomutt-")

    def tearDown(self):
        self.inst.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def imap(self):
        c = imaplib.IMAP4(self.inst.host, self.port)
        c.login("alice", self.pw)
        return c

    def run_neomutt(self, keys):
        rc = os.path.join(self.tmp, "neomuttrc")
        with open(rc, "w") as f:
            f.write("set imap_user=alice\n"
                    "set imap_pass=\"%s\"\n"
                    "set folder=imap://%s:%d/\n"
                    "set spoolfile=+INBOX\n"
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
        cmd = "neomutt -n -F %s -f imap://%s:%d/INBOX -e 'push \"%s\"'" % (
            rc, self.inst.host, self.port, keys)
        env = dict(os.environ, TERM="vt100", HOME=self.tmp)
        p = subprocess.run([SCRIPT, "-qfec", cmd, "/dev/null"], env=env,
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=60)
        out = p.stdout.decode("latin-1")
        self.assertEqual(p.returncode, 0, out[-2000:])
        return out

    def imap_trace(self):
        return "".join(t for name, t in self.inst.traces().items()
                       if name.startswith("imap"))

    def append_messages(self, subjects):
        c = self.imap()
        for n, subject in enumerate(subjects):
            self.assertEqual(c.append("INBOX", None, None,
                                      message(n, subject))[0], "OK")
        return c

    def test_save_to_new_folder(self):
        self.append_messages(["first neo", "second neo"]).logout()
        out = self.run_neomutt("<next-entry><save-message>=Moved<enter>"
                               "<quit>")
        self.assertIn("first neo", out)
        traces = self.imap_trace()
        # the target did not exist: TRYCREATE, CREATE, then the copy or move
        self.assertIn("[TRYCREATE]", traces)
        self.assertIn('CREATE "Moved"', traces)
        self.assertIn("[COPYUID ", traces)
        c = self.imap()
        typ, data = c.select("Moved")
        self.assertEqual((typ, data), ("OK", [b"1"]), out[-2000:])
        typ, data = c.fetch("1", "(BODY.PEEK[])")
        self.assertEqual(data[0][1], message(1, "second neo"))
        typ, data = c.select("INBOX")
        self.assertEqual(data, [b"1"], traces[-3000:])
        c.logout()
        self.inst.assert_alive()

    @unittest.skipUnless(neomutt_knows_move(),
                         "this neomutt has no MOVE support (Debian 12: 20220429)")
    def test_save_uses_move(self):
        c = self.append_messages(["first neo", "second neo", "third neo"])
        # a message the user marked \Deleted, which a COPY + EXPUNGE
        # fallback would take with it
        c.select("INBOX")
        c.store("3", "+FLAGS", r"(\Deleted)")
        c.create("Moved")
        c.logout()
        self.run_neomutt("<next-entry><save-message>=Moved<enter><quit>")
        traces = self.imap_trace()
        self.assertIn(" UID MOVE ", traces)
        self.assertNotIn(" UID COPY ", traces)
        c = self.imap()
        typ, data = c.select("INBOX")
        self.assertEqual(data, [b"2"], traces[-3000:])
        c.logout()


if __name__ == "__main__":
    unittest.main()
