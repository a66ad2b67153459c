"""Runs mutt or neomutt against a test Instance, for test_mutt.py and
test_neomutt.py.  Both need a terminal, so they run under script(1) with
their keys pushed by -e 'push ...'; the rc file points them at the
instance's IMAP port with plain IMAP and no caches."""
import imaplib
import os
import shutil
import subprocess
import tempfile

from fixture import Instance

SCRIPT = shutil.which("script")


def reader_message(reader, n, subject):
    """Message n with its subject; Message-ID names the reader."""
    return ("From: Bob <bob@lab.test>\r\n"
            "To: alice@lab.test\r\n"
            "Subject: %s\r\n"
            "Date: Mon, %d Feb 2026 10:00:00 +0000\r\n"
            "Message-ID: <%s%d@lab.test>\r\n"
            "\r\n"
            "body %d\r\n" % (subject, n + 2, reader, n, n)).encode()


class ReaderSession:
    """Mixin for a unittest.TestCase; `reader` is the program's name."""
    reader = None

    def setUp(self):
        self.inst = Instance.start()
        self.port = self.inst.port("imap")
        self.pw = self.inst.password("alice")
        self.tmp = tempfile.mkdtemp(prefix="maillab-%s-" % self.reader)

    def tearDown(self):
        self.inst.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def imap(self):
        c = imaplib.IMAP4(self.inst.host, self.port)
        c.login("alice", self.pw)
        return c

    def run_reader(self, keys):
        rc = os.path.join(self.tmp, "%src" % self.reader)
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
        cmd = "%s -n -F %s -f imap://%s:%d/INBOX -e 'push \"%s\"'" % (
            self.reader, rc, self.inst.host, self.port, keys)
        env = dict(os.environ, TERM="vt100", HOME=self.tmp)
        p = subprocess.run([SCRIPT, "-qfec", cmd, "/dev/null"], env=env,
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=60)
        out = p.stdout.decode("latin-1")
        self.assertEqual(p.returncode, 0, out[-2000:])
        return out
