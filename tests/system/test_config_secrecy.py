"""A maillab.conf holding a password (`route ... auth=USER:PASSWORD`) must
be its owner's alone: `maillab serve` refuses to start, and SIGHUP refuses
to reload, while group or others may read or write it, and say to run
chmod 600.  Without a password the file may stay 0644 (`make run`)."""
import os
import signal
import smtplib
import subprocess
import tempfile
import time
import unittest

from fixture import Instance, binary

ROUTE = {"route *": "127.0.0.1:9 tls=require auth=bob:sesame-4711"}


class PasswordInConfig(unittest.TestCase):
    def setUp(self):
        self.a = Instance(tempfile.mkdtemp(prefix="maillab-sys-"))
        os.chmod(self.a.root, 0o711)
        self.a.create(ROUTE)
        self.conf = os.path.join(self.a.dir, "maillab.conf")
        self.addCleanup(self.a.stop)

    def serve_refused(self):
        p = subprocess.run([binary(), "serve", "-d", self.a.dir],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("holds a password", p.stderr)
        self.assertIn("chmod 600 " + self.conf, p.stderr)
        self.assertNotIn("sesame-4711", p.stderr + p.stdout)

    def test_refused_until_chmod_600(self):
        self.assertEqual(os.stat(self.conf).st_mode & 0o777, 0o600)
        for mode in (0o644, 0o640, 0o604, 0o620):
            os.chmod(self.conf, mode)
            self.serve_refused()
        os.chmod(self.conf, 0o600)
        self.a.launch()
        with smtplib.SMTP(self.a.host, self.a.port("smtp")) as c:
            self.assertEqual(c.noop()[0], 250)
        # opened up while running: the reload is refused, the server
        # keeps its configuration and serves on
        os.chmod(self.conf, 0o644)
        self.a.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while "reload failed" not in self.a.log() and time.time() < deadline:
            time.sleep(0.05)
        log = self.a.log()
        self.assertIn("reload failed, keeping the old configuration", log)
        self.assertIn("chmod 600", log)
        self.assertNotIn("sesame-4711", log)
        with smtplib.SMTP(self.a.host, self.a.port("smtp")) as c:
            self.assertEqual(c.noop()[0], 250)
        self.a.assert_alive()


class NoPassword(unittest.TestCase):
    def test_open_file_without_password_starts(self):
        a = Instance.start()
        self.addCleanup(a.stop)
        conf = os.path.join(a.dir, "maillab.conf")
        self.assertEqual(os.stat(conf).st_mode & 0o777, 0o644)
        with smtplib.SMTP(a.host, a.port("smtp")) as c:
            self.assertEqual(c.noop()[0], 250)


if __name__ == "__main__":
    unittest.main()
